"""``cytonet simulate``, ``scenarios`` and ``report`` end to end into a temporary folder."""

import json
from pathlib import Path

import libsbml
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cytonet.analysis.units import readable_number
from cytonet.cli import app, main

runner = CliRunner()


def test_simulate_writes_run_folder_and_report_rebuilds(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["simulate", "--scenario", "lps-endotoxemia", "--hours", "24", "--set", "k_P_NK=0.2",
                                 "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "controlled response" in result.output and "max CRS grade" in result.output
    for name in ("timecourse.parquet", "summary.json", "model.xml", "model.yaml", "report.html", "network.png"):
        assert (out / name).is_file(), name
    table = pq.read_table(out / "timecourse.parquet")
    assert table.column_names[0] == "time_h" and table.num_rows == 24 * 4 + 1
    assert {"TNF", "IL6", "IL10", "CXCL8", "CRP", "TEMP", "MAP", "SPO2", "PRO_ANTI"} <= set(table.column_names)
    assert table.schema.field("IL6").metadata[b"unit"] == b"pg/mL"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["classification"]["label"] == "controlled response"
    assert [c["key"] for c in summary["classification"]["criteria"]] == ["cytokines", "inflammation", "organ_dysfunction"]
    assert summary["units"]["cytokines"] == "pg/mL" and summary["max_crs_grade"] >= 1
    total = summary["readouts"]["IL6_total"]["peak"]  # the summary prints total serum IL-6, as docs/model.md uses
    assert total == pytest.approx(pq.read_table(out / "timecourse.parquet").column("IL6_total").to_numpy().max())
    assert "serum IL-6 peak pg/mL (h)" in result.output and f"{readable_number(total)} (" in result.output
    assert "<sbml" in (out / "model.xml").read_text()[:400]
    sbml = libsbml.readSBML(str(out / "model.xml")).getModel()
    for sid in json.loads(table.schema.metadata[b"cytonet"])["species"]:  # model.xml starts where the run started
        x = sbml.getSpecies(sid)
        start = x.getInitialConcentration() if x is not None else sbml.getParameter(sid).getValue()
        assert start == pytest.approx(table.column(sid)[0].as_py(), rel=1e-12, abs=1e-300), sid
    assert "k_P_NK=0.2" not in (out / "model.yaml").read_text()
    (out / "report.html").unlink()
    rebuilt = runner.invoke(app, ["report", str(out)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "controlled response" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "sepsis"], "unknown scenario 'sepsis'; did you mean sepsis-storm or sepsis-treated?"),
        (["--scenario", "healthy", "--set", "r_PP=1"], "unknown parameter 'r_PP'"),
        (["--scenario", "healthy", "--set", "IL6=abc"], "--set 'IL6=abc': 'abc' is not a number"),
        (["--scenario", "healthy", "--set", "=3"], "--set '=3': expected PARAM=VALUE"),
        (["--scenario", "healthy", "--set", "r_P"], "--set 'r_P': expected PARAM=VALUE"),
        (["--scenario", "healthy", "--hours", "0"], "--hours: 0 h is out of range; give a value > 0 h and <= 100000 h"),
        (["--scenario", "healthy", "--hours", "-5"], "--hours: -5 h is out of range; give a value > 0 h"),
    ],
)
def test_bad_input_is_one_error_line(args: list[str], message: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["simulate", *args, "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not (tmp_path / "x").exists()


def test_report_of_a_folder_without_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path)])
    assert exit_info.value.code == 1
    assert "no timecourse.parquet or model.yaml here" in capsys.readouterr().err


def test_scenarios_list_and_show() -> None:
    listed = runner.invoke(app, ["scenarios", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert len(lines) == 8 and any(line.startswith("sepsis-storm") for line in lines)
    shown = runner.invoke(app, ["scenarios", "show", "hlh"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "k_P_CD8=0.01" in shown.output and "viral_trigger" in shown.output and "doi:10.1056/NEJMra2026131" in shown.output
