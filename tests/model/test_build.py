"""The reference network is traceable to the knowledge base; build() gives consistent sub-networks."""

from __future__ import annotations

import pytest

from cytonet.errors import ModelSpecError, UnknownEntityError
from cytonet.model.build import build, kb_problems, reference_network
from cytonet.model.spec import spec_from_dict


def test_reference_network_size_units_and_provenance() -> None:
    spec = reference_network()
    kinds = [s.kind for s in spec.species]
    assert len(spec.species) >= 30
    assert kinds.count("cytokine") >= 13
    for s in spec.species:
        if s.kind == "cytokine":
            assert s.unit == "pg/mL" and s.id == s.annotation.hgnc
    assert all(p.refs or p.assumption for p in spec.parameters)
    required = {"IL1B", "IL6", "TNF", "IFNG", "IL2", "IL10", "TGFB1", "IL4", "IL17A", "IL21", "CSF2", "CXCL8", "CCL2",
                "sIL6R", "IL6_sIL6R", "CRP", "FERRITIN", "TEMP", "LEAK", "DAMAGE", "P", "LPS", "TUM", "CART", "Treg", "Th17"}
    assert required <= set(spec.species_ids)


def test_every_secretion_claim_is_a_knowledge_base_fact() -> None:
    assert kb_problems(reference_network()) == []


def test_a_claim_the_knowledge_base_lacks_is_reported() -> None:
    data = reference_network().model_dump()
    for r in data["reactions"]:
        if r["id"] == "IL17A_from_Th17":
            r["tags"] = ["secretion:IL17A", "cell:CL:0000545"]  # Th1 cells are not recorded as IL-17A producers
    problems = kb_problems(spec_from_dict(data))
    assert any("IL17A_from_Th17" in p and "Th1" in p for p in problems)
    with pytest.raises(ModelSpecError, match="contradicts the knowledge base"):
        build(cytokines=["IL-6"], base=spec_from_dict(data))


def test_subnetwork_drops_what_it_does_not_contain() -> None:
    sub = build(cells=["monocyte", "M1 macrophage", "endothelial cell", "Treg"], cytokines=["IL-6", "TNF-α", "IL-10", "IL-1β"])
    ids = set(sub.species_ids)
    assert {"IL6", "TNF", "IL10", "IL1B", "Mr", "Ma", "Endo", "Treg"} <= ids
    assert not {"IFNG", "IL17A", "Th17", "CD8", "CART"} & ids
    for r in sub.reactions:  # nothing refers to a dropped species
        names = {*r.reactants, *r.products, *r.modifiers, *(g.species for g in r.regulators)}
        assert names <= ids, r.id
    used = {v for r in sub.reactions for v in r.params.values()} | {v for r in sub.reactions for g in r.regulators for v in g.params.values()}
    assert set(sub.parameter_ids) == used


def test_subnetwork_keeps_its_brakes_only_when_present() -> None:
    sub = build(cytokines=["IL-6", "TNF", "IL-1β", "CXCL8", "CCL2", "IL-12", "IL-23", "GM-CSF"])  # no IL-10
    nfkb = [r for r in sub.reactions if r.id == "NFKB_mac_by_LPS"][0]
    assert "IL10" not in {g.species for g in nfkb.regulators}  # the IL-10 brake is gone, the reaction stays


def test_unknown_names_are_reported_with_suggestions() -> None:
    with pytest.raises(UnknownEntityError, match="IL-6"):
        build(cytokines=["IL-66"])
    with pytest.raises(UnknownEntityError, match="cell"):
        build(cells=["macrophagez"])
