"""``cytonet kb`` through typer's CliRunner (fixture data) and the installed entry point (subprocess)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cytonet.knowledge
from cytonet.cli import app, main
from cytonet.knowledge.base import KnowledgeBase

FIXTURES = Path(__file__).parents[1] / "knowledge" / "fixtures"
runner = CliRunner()


@pytest.fixture(autouse=True)
def fixture_kb(monkeypatch: pytest.MonkeyPatch) -> None:
    kb = KnowledgeBase.from_directory(FIXTURES / "good")
    monkeypatch.setattr(cytonet.knowledge, "load", lambda: kb)
    monkeypatch.setattr(cytonet.knowledge, "load_view", lambda: kb)


def test_show_card_has_fields_and_reference() -> None:
    result = runner.invoke(app, ["kb", "show", "interleukin 6"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "IL-6 · cytokine IL6" in result.output
    assert "IL6R/IL6ST" in result.output
    assert "Zhang JM, An J (2007). Cytokines, inflammation, and pain. Int Anesthesiol Clin. PMID 17426506" in result.output


def test_show_reference_card() -> None:
    result = runner.invoke(app, ["kb", "show", "17426506"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "pmid:17426506 · reference pmid:17426506" in result.output
    assert "Cytokines, inflammation, and pain" in result.output


def test_list_filters_and_wrong_filter(capsys: pytest.CaptureFixture[str]) -> None:
    result = runner.invoke(app, ["kb", "list", "cytokines", "--family", "tnf"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "1 cytokines" in result.output and "TNF" in result.output
    with pytest.raises(SystemExit) as exit_info:
        main(["kb", "list", "cells", "--role", "pro-inflammatory"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip() == (
        "error: --family and --role filter cytokines only, not cells; drop them or list cytokines"
    )


def test_unknown_name_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["kb", "show", "IL-66"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: unknown entity 'IL-66'; did you mean IL-6, IL-6 receptor or IL-16?"


def test_search_talk_export(tmp_path: Path) -> None:
    result = runner.invoke(app, ["kb", "search", "fever"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "IL6" in result.output
    result = runner.invoke(app, ["kb", "talk", "macrophage", "Th17"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "IL6R/IL6ST" in result.output and "IL12RB1/IL23R" in result.output
    out = tmp_path / "kb.json"
    result = runner.invoke(app, ["kb", "export", "--format", "json", str(out)])
    assert result.exit_code == 0
    assert len(json.loads(out.read_text())["drugs"]) == 2
    assert runner.invoke(app, ["kb", "export", "--format", "xml", str(out)]).exit_code == 2  # usage error


def test_validate_exit_codes() -> None:
    good = runner.invoke(app, ["kb", "validate", "--data", str(FIXTURES / "good")])
    assert good.exit_code == 0 and "knowledge base OK" in good.output
    bad = runner.invoke(app, ["kb", "validate", "--data", str(FIXTURES / "broken")], env={"COLUMNS": "300"})
    assert bad.exit_code == 1
    assert "unknown receptor 'CXCR9' (did you mean CXCR1?)" in bad.output and "11 problem(s) found" in bad.output


def _entry_point() -> list[str]:
    exe = shutil.which("cytonet", path=str(Path(sys.executable).parent))
    assert exe is not None, "the cytonet entry point is not installed next to this Python"
    return [exe]


def test_installed_entry_point_validate_and_error_line(tmp_path: Path) -> None:
    ok = subprocess.run([*_entry_point(), "kb", "validate", "--data", str(FIXTURES / "good")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([*_entry_point(), "kb", "validate", "--data", str(FIXTURES / "broken")], capture_output=True, text=True)
    assert bad.returncode == 1 and "c.yaml: line 2: not valid YAML" in bad.stdout
    missing = subprocess.run([*_entry_point(), "kb", "validate", "--data", str(tmp_path / "none")], capture_output=True, text=True)
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: knowledge directory") and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
