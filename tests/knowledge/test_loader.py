"""Loader and whole-KB checks on small fixture files: every problem reported, with file, record and field."""

from pathlib import Path

import pytest

from cytonet.errors import KnowledgeDataError
from cytonet.knowledge.base import KnowledgeBase, validate

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def broken_issues() -> list[str]:
    _data, issues = validate(FIXTURES / "broken")
    return [str(i) for i in issues]


def test_good_fixture_has_no_issues_and_merges_identical_references() -> None:
    data, issues = validate(FIXTURES / "good")
    assert issues == []
    assert list(data.tables["references"]) == ["pmid:17426506"]  # listed in both files, merged
    assert len(data.tables["cytokines"]) == 4 and len(data.tables["cells"]) == 3


@pytest.mark.parametrize(
    "expected",
    [
        "a.yaml: cytokines[1] (CXCL8): receptors: unknown receptor 'CXCR9' (did you mean CXCR1?)",
        "a.yaml: cytokines[1] (CXCL8): refs: reference 'pmid:99999999' is not in any 'references' list",
        "a.yaml: cytokines[2] (IL1B): role: Input should be 'pro-inflammatory'",
        "a.yaml: cytokines[3] (IL6): id: duplicate cytokine id 'IL6'; first defined in a.yaml: cytokines[0] (IL6)",
        "a.yaml: receptors[0] (IL6R/IL6ST): colour: Extra inputs are not permitted",
        "a.yaml: receptors[1] (CXCR1): aliases: name 'IL-6' also names cytokine 'IL6'",
        "b.yaml: references[0] (pmid:17426506): id: duplicate reference with different fields",
        "b.yaml: cells[0] (CL:0000235): record: record has neither 'refs' nor an 'assumption'",
        "b.yaml: diseases[0] (Sepsis): id: disease id 'Sepsis' must be a lower-case slug",
        "b.yaml: drugs[0] (tocilizumab): targets: unknown drug target 'IL6RR'",
        "c.yaml: line 2: not valid YAML",
    ],
)
def test_broken_fixture_reports_each_problem(broken_issues: list[str], expected: str) -> None:
    assert any(i.startswith(expected) for i in broken_issues), "\n".join(broken_issues)


def test_broken_fixture_reports_all_problems_in_one_error() -> None:
    with pytest.raises(KnowledgeDataError) as err:
        KnowledgeBase.from_directory(FIXTURES / "broken")
    msg = str(err.value)
    assert msg.startswith("11 problem(s) in the knowledge data")
    assert "CXCR9" in msg and "IL6RR" in msg and "c.yaml" in msg


def test_records_of_an_invalid_record_do_not_cascade(broken_issues: list[str]) -> None:
    # receptor IL6R/IL6ST is invalid (unknown field); IL-6 naming it must not be reported as unknown too
    assert not any("unknown receptor 'IL6R/IL6ST'" in i for i in broken_issues)


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeDataError, match="does not exist"):
        validate(tmp_path / "nowhere")


def test_unknown_section_and_non_list_section(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("cytokine: []\ncells: {id: x}\n")
    _data, issues = validate(tmp_path)
    assert [str(i) for i in issues] == [
        "x.yaml: cytokine: unknown section; expected one of references, cytokines, receptors, pathways, cells, diseases, drugs",
        "x.yaml: cells: must be a list of records, got dict",
    ]
