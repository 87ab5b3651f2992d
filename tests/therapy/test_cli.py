"""``cytonet treat`` and ``cytonet drugs`` end to end."""

import csv

import pytest

from cytonet.cli import main


def ok(args):
    """Run the CLI; success returns or exits with status 0."""
    try:
        main(args)
    except SystemExit as exc:
        assert exc.code in (0, None)


def test_treat_writes_side_by_side_outputs(tmp_path, capsys):
    ok(["treat", "--scenario", "lps-endotoxemia", "--drug", "infliximab", "--dose", "5mg/kg", "--at", "0h",
          "--hours", "24", "--out", str(tmp_path)])
    rows = {r["measure"]: r for r in csv.DictReader(open(tmp_path / "changes.csv"))}
    il6 = rows["peak serum IL-6, free + sIL-6R-bound"]
    assert il6["unit"] == "pg/mL" and float(il6["treated"]) < float(il6["untreated"])
    assert {"storm class", "hours in cytokine storm", "max CRS grade (ASTCT)", "peak CRP", "peak temperature"} <= set(rows)
    assert rows["peak CRP"]["unit"] == "mg/L" and rows["peak temperature"]["unit"] == "degC"
    for name in ("untreated.parquet", "treated.parquet", "report.html", "drug.png", "compare_cytokines.png"):
        assert (tmp_path / name).stat().st_size > 0
    from cytonet.report import read_timecourse

    treated = read_timecourse(tmp_path / "treated.parquet")  # the same Parquet layout as `cytonet simulate`
    assert "infliximab_central" in treated["species"].values and treated.attrs["drug"] == "infliximab"
    out = capsys.readouterr().out
    assert f"{tmp_path / 'treated.parquet'}" in out.replace("\n", "") and "°C" in out


def test_drugs_list_and_show(capsys):
    ok(["drugs", "list"])
    assert "emapalumab" in capsys.readouterr().out
    ok(["drugs", "show", "Kineret"])
    out = capsys.readouterr().out
    assert "8.22" in out and "labelled sc dose: 1 to 8 mg/kg" in out  # clearance from Yang 2003, labelled range
    ok(["drugs", "show", "tocilizumab"])
    out = capsys.readouterr().out
    assert "labelled sc dose: 162 mg\n" in out and "162-162" not in out  # one labelled dose, no range
    assert "every 4 weeks, 6 doses" in out and "single dose (repeat no sooner than 8 h)" in out
    assert "µg/mL" in out and "doses 1" not in out


def test_schedule_wording() -> None:
    from cytonet.cli.drugs import dose_range_text, interval_text, schedule_text

    assert [interval_text(h) for h in (168, 336, 24, 48, 12, 8.5)] == [
        "every week", "every 2 weeks", "every day", "every 2 days", "every 12 h", "every 8.5 h"]
    assert schedule_text(None, 1) == "single dose" and schedule_text(168, 12) == "every week, 12 doses"
    assert dose_range_text(4, 12, "mg/kg") == "4 to 12 mg/kg" and dose_range_text(162, 162, "mg") == "162 mg"


def test_bad_dose_is_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["treat", "--scenario", "car-t-crs", "--drug", "tocilizumab", "--dose", "8", "--out", str(tmp_path)])
    assert exc.value.code == 1
    assert "needs a number and a unit" in capsys.readouterr().err
