"""Name look-ups, suggestions and derived relations on the small fixture knowledge base."""

import pytest

from cytonet.errors import UnknownEntityError
from cytonet.knowledge.base import KnowledgeBase
from cytonet.knowledge.names import normalize


@pytest.mark.parametrize("spelling", ["IL6", "il6", "IL-6", "interleukin 6", "Interleukin-6", "BSF-2", "IFN-β2"])
def test_il6_spellings(small_kb: KnowledgeBase, spelling: str) -> None:
    assert small_kb.cytokine(spelling).id == "IL6"


@pytest.mark.parametrize("spelling", ["TNF", "TNF-α", "TNF alpha", "tnfa", "TNFα", "cachectin"])
def test_tnf_spellings(small_kb: KnowledgeBase, spelling: str) -> None:
    assert small_kb.get(spelling).id == "TNF"


@pytest.mark.parametrize(("text", "key"), [("NF-κB", "nfkb"), ("IFN-γ", "ifng"), ("TGF-β1", "tgfb1"), ("IL-1 beta", "il1b")])
def test_normalize_greek(text: str, key: str) -> None:
    assert normalize(text) == key


def test_kind_specific_and_generic_lookups(small_kb: KnowledgeBase) -> None:
    assert small_kb.cell("th17").id == "CL:0000899"
    assert small_kb.receptor("IL-6R").id == "IL6R/IL6ST"
    assert small_kb.receptor("il6r/il6st").id == "IL6R/IL6ST"
    assert small_kb.pathway("nf kappa b").id == "NFKB-canonical"
    assert small_kb.drug("Actemra").id == "tocilizumab"
    assert small_kb.disease("Sepsis").id == "sepsis"
    assert small_kb.reference("PMID:17426506").year == 2007
    assert small_kb.reference("17426506").authors == "Zhang JM, An J"
    assert small_kb.kind_of("Actemra") == "drug"


def test_unknown_cytokine_suggests_close_names(small_kb: KnowledgeBase) -> None:
    with pytest.raises(UnknownEntityError) as err:
        small_kb.cytokine("IL-66")
    assert str(err.value) == "unknown cytokine 'IL-66'; did you mean IL-6 or IL-16?"


def test_kind_specific_lookup_names_the_kind(small_kb: KnowledgeBase) -> None:
    with pytest.raises(UnknownEntityError, match="^unknown cell 'IL-6'"):
        small_kb.cell("IL-6")
    with pytest.raises(UnknownEntityError, match="^unknown entity 'zzzz'$"):
        small_kb.get("zzzz")


def test_filters(small_kb: KnowledgeBase) -> None:
    assert [c.id for c in small_kb.cytokines(family="tnf")] == ["TNF"]
    assert len(small_kb.cytokines(family="interleukin", role="Pro-inflammatory")) == 3
    with pytest.raises(UnknownEntityError, match="did you mean chemokine"):
        small_kb.cytokines(family="chemokines")


def test_derived_relations(small_kb: KnowledgeBase) -> None:
    assert [r.id for r in small_kb.receptors_of("IL-6")] == ["IL6R/IL6ST"]
    assert [(p.cell.name, p.stimulus) for p in small_kb.producers_of("TNF-alpha")] == [("macrophage", "LPS/TLR4")]
    assert [r.id for r in small_kb.receptors_on("hepatocyte")] == ["IL6R/IL6ST", "TNFRSF1A"]
    assert [d.id for d in small_kb.drugs_targeting("IL-6R")] == ["tocilizumab"]
    assert [d.id for d in small_kb.drugs_targeting("IL6R")] == ["tocilizumab"]
    assert [d.id for d in small_kb.drugs_targeting("JAK-STAT3")] == ["ruxolitinib"]  # via pathway components
    assert small_kb.drugs_targeting("TNF") == []
    with pytest.raises(UnknownEntityError, match="unknown drug target 'IL99'"):
        small_kb.drugs_targeting("IL99")


def test_talk_macrophage_to_th17(small_kb: KnowledgeBase) -> None:
    talks = small_kb.talk("macrophage", "Th17")
    assert [(t.cytokine.id, t.receptor.id, [p.id for p in t.pathways]) for t in talks] == [
        ("IL6", "IL6R/IL6ST", ["JAK-STAT3"]),
        ("IL23A", "IL12RB1/IL23R", ["JAK-STAT3"]),
    ]
    assert talks[0].stimulus == "LPS/TLR4" and talks[0].refs == ("pmid:17426506",)
    assert small_kb.talk("Th17", "macrophage") == []


def test_search(small_kb: KnowledgeBase) -> None:
    hits = small_kb.search("fever")
    assert [(h.kind, h.record.id, h.matched) for h in hits] == [("cytokine", "IL6", "fever")]
    assert "CL:0000235" in [h.record.id for h in small_kb.search("phagocyt")]
    assert [h.record.id for h in small_kb.search("tocilizumabb")] == ["tocilizumab"]  # fuzzy
