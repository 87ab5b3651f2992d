"""``cytonet treat`` and ``cytonet drugs`` end to end."""

import csv

import pytest

from cytonet.cli import main


def ok(args):
    """``main`` returns on success (it exits only with a non-zero status)."""
    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code, f"exit status {exc.code}"


def test_treat_writes_side_by_side_outputs(tmp_path, capsys):
    ok(["treat", "--scenario", "lps-endotoxemia", "--drug", "infliximab", "--dose", "5mg/kg", "--at", "0h",
          "--hours", "24", "--out", str(tmp_path)])
    rows = {r["measure"]: r for r in csv.DictReader(open(tmp_path / "changes.csv"))}
    il6 = rows["peak serum IL-6, free + sIL-6R-bound (pg/mL)"]
    assert float(il6["treated"]) < float(il6["untreated"])
    assert {"storm class", "hours in cytokine storm", "max CRS grade (ASTCT)", "peak CRP (mg/L)"} <= set(rows)
    for name in ("overlay.png", "untreated.csv", "treated.csv", "drug.csv", "report.html", "compare_cytokines.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_drugs_list_and_show(capsys):
    ok(["drugs", "list"])
    assert "emapalumab" in capsys.readouterr().out
    ok(["drugs", "show", "Kineret"])
    out = capsys.readouterr().out
    assert "8.22" in out and "labelled sc dose: 1-8 mg/kg" in out  # clearance from Yang 2003, labelled range


def test_bad_dose_is_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["treat", "--scenario", "car-t-crs", "--drug", "tocilizumab", "--dose", "8", "--out", str(tmp_path)])
    assert exc.value.code == 1
    assert "needs a number and a unit" in capsys.readouterr().err
