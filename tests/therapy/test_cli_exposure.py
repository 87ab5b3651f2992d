"""``cytonet drugs exposure``: the printed readouts are those of :mod:`cytonet.therapy.exposure` for the same regimen."""

import json

import pytest
from typer.testing import CliRunner

from cytonet.cli import app, main
from cytonet.therapy import Regimen
from cytonet.therapy.exposure import simulate_exposure

runner = CliRunner()


def exposure(*args: str) -> str:
    result = runner.invoke(app, ["drugs", "exposure", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_equals_the_library_for_the_same_regimen():
    out = json.loads(exposure("tocilizumab", "--dose", "8mg/kg", "--route", "iv", "--every", "4w", "--doses", "6",
                              "--half-life-window", "168h:504h", "--json"))
    e = simulate_exposure("tocilizumab", Regimen("8 mg/kg", route="iv", every=672.0, doses=6))
    expected = {n: e.readout(n) for n in ("cmax", "tmax", "cmin", "auc_tau")} | {"t_half": e.readout("t_half", (168, 504))}
    assert {n: r["value"] for n, r in out["readouts"].items()} == pytest.approx(expected, rel=1e-9)
    assert out["readouts"]["auc_tau"]["unit"] == "ug*h/mL" and out["interval_h"] == 672
    assert out["regimen"]["text"] == "tocilizumab 8 mg/kg iv, every 4 weeks, 6 doses, 70 kg"


def test_table_prints_the_library_values_of_a_labelled_regimen():
    out = exposure("Actemra", "--regimen", "rheumatoid-arthritis-sc", "--weight", "80 kg")
    e = simulate_exposure("tocilizumab", Regimen("162 mg", route="sc", every=168.0, doses=12, weight_kg=80.0))
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in out.splitlines() if line.count("│") == 4}
    assert float(rows["Cmax"]) == pytest.approx(e.readout("cmax"), rel=5e-4)
    assert float(rows["trough (Cmin, end of the interval)"]) == pytest.approx(e.readout("cmin"), rel=5e-4)
    assert float(rows["AUC over the interval"].replace(",", "")) == pytest.approx(e.readout("auc_tau"), rel=5e-4)
    words = " ".join(out.split())
    assert "every week, 12 doses, 80 kg" in words and "half-life: not computed" in words
    assert "clearance: read after a single dose" in words


def test_clearance_only_once_a_single_dose_has_fallen():
    out = json.loads(exposure("tocilizumab", "--dose", "10mg/kg", "--route", "iv", "--doses", "1", "--tail", "1680h",
                              "--json"))
    e = simulate_exposure("tocilizumab", Regimen("10 mg/kg", route="iv"), tail_h=1680)
    assert out["readouts"]["cl_per_kg"]["value"] == pytest.approx(e.readout("cl_per_kg"), rel=1e-9)
    assert out["readouts"]["cl_apparent"]["unit"] == "mL/min"
    short = json.loads(exposure("tocilizumab", "--json"))  # the CRS label: one dose, read over 8 h
    assert "cl_per_kg" not in short["readouts"] and any("longer --tail" in n for n in short["notes"])


@pytest.mark.parametrize(("args", "message"), [
    (["tocilzumab"], "did you mean tocilizumab"),
    (["tocilizumab", "--route", "oral"], "its routes: iv, sc"),
    (["tocilizumab", "--dose", "8"], "needs a number and a unit"),
    (["tocilizumab", "--every", "4 fortnights", "--doses", "2"], "dosing interval '4 fortnights'"),
    (["tocilizumab", "--weight", "150lb"], "body weight '150lb'"),
    (["tocilizumab", "--regimen", "weekly"], "labelled: car-t-crs"),
    (["tocilizumab", "--regimen", "car-t-crs", "--dose", "4mg/kg"], "drop --dose"),
    (["tocilizumab", "--half-life-window", "168h:1000h", "--doses", "6", "--every", "4w"], "end <= 672 h"),
    (["tocilizumab", "--half-life-window", "168h"], "START:END"),
    (["infliximab", "--every", "2w", "--doses", "3", "--tail", "8w"], "--tail is for a single dose"),
])
def test_bad_input_is_one_line_error(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["drugs", "exposure", *args])
    err = capsys.readouterr()
    assert exc.value.code != 0 and err.out == ""
    assert err.err.startswith("error: ") and err.err.count("\n") == 1 and message in err.err
