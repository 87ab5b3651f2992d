"""``cytonet demo``: knowledge-base tour, sepsis beside a resolving infection, comparison report."""

import json
from pathlib import Path

from typer.testing import CliRunner

from cytonet.cli import app


def test_demo_compares_storm_with_resolving_infection(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Drugs targeting IL-6R: tocilizumab (receptor-blockade)" in result.output
    for name in ("sepsis-storm", "infection-resolving"):  # each run's class as its summary records it
        label = json.loads((tmp_path / name / "summary.json").read_text())["classification"]["label"]
        assert label in result.output, name
    assert "controlled response" in result.output  # the resolving infection; the sepsis label: tests/analysis/test_storm.py
    html = (tmp_path / "report.html").read_text()
    assert "sepsis-storm" in html and "infection-resolving" in html and 'src="compare_cytokines.png"' in html
    for name in ("sepsis-storm", "infection-resolving"):
        assert (tmp_path / name / "report.html").is_file() and (tmp_path / name / "timecourse.parquet").is_file()
