"""Integrity and fact spot-checks over the knowledge data shipped with cytonet."""

import pytest

from cytonet.knowledge.base import KnowledgeBase, validate
from cytonet.knowledge.schema import Family

# Zhang & An 2007; Fajgenbaum & June 2020; Rabaan et al. 2021 (Vaccines 9:436, cytokines/IL-6 in COVID-19)
FOUNDING_REFERENCES = ["pmid:17426506", "doi:10.1056/NEJMra2026131", "doi:10.3390/vaccines9050436"]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.from_directory()


def test_shipped_data_validates() -> None:
    _data, issues = validate()
    assert issues == [], "\n".join(map(str, issues))


def test_coverage(kb: KnowledgeBase) -> None:
    assert len(kb.cytokines()) >= 80
    assert {c.family for c in kb.cytokines()} == set(Family)
    assert len(kb.cells()) >= 20
    assert len(kb.drugs()) >= 20


@pytest.mark.parametrize("ref", FOUNDING_REFERENCES)
def test_founding_references_present(kb: KnowledgeBase, ref: str) -> None:
    assert kb.reference(ref).year in (2007, 2020, 2021)


def test_il6_signals_through_il6r_il6st_jak1_stat3(kb: KnowledgeBase) -> None:
    receptors = {r.id: r for r in kb.receptors_of("IL-6")}
    classic = receptors["IL6R/IL6ST"]
    assert "JAK1" in classic.jaks and "STAT3" in classic.stats
    assert receptors["sIL6R/IL6ST"].soluble_subunits == ["IL6R"]


def test_il4_and_il13_share_il4r_via_stat6(kb: KnowledgeBase) -> None:
    il4 = {r.id: r for r in kb.receptors_of("IL-4")}
    il13 = {r.id: r for r in kb.receptors_of("IL-13")}
    shared = set(il4) & set(il13)
    assert "IL4R/IL13RA1" in shared
    assert all("IL4R" in il4[r].subunits and "STAT6" in il4[r].stats for r in shared)


def test_ifng_signals_through_stat1(kb: KnowledgeBase) -> None:
    (rec,) = [r for r in kb.receptors_of("IFN-γ") if r.id == "IFNGR1/IFNGR2"]
    assert "STAT1" in rec.stats and "JAK-STAT1" in rec.pathways


def test_tgfb1_signals_through_smad2_3(kb: KnowledgeBase) -> None:
    assert "SMAD2-3" in kb.cytokine("TGF-β1").pathways
    assert {"SMAD2", "SMAD3"} <= set(kb.pathway("SMAD2-3").components)


def test_il17a_binds_il17ra_il17rc(kb: KnowledgeBase) -> None:
    assert "IL17RA/IL17RC" in [r.id for r in kb.receptors_of("IL-17A")]


def test_tocilizumab_blocks_il6r(kb: KnowledgeBase) -> None:
    toci = kb.drug("Actemra")
    assert toci.id == "tocilizumab" and "IL6R" in toci.targets
    assert "tocilizumab" in [d.id for d in kb.drugs_targeting("IL-6R")]


def test_macrophage_to_th17_talk(kb: KnowledgeBase) -> None:
    cytokines = {t.cytokine.id for t in kb.talk("macrophage", "Th17")}
    assert cytokines & {"IL6", "IL1B", "IL23A"}
