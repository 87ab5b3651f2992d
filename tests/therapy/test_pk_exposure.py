"""Simulated drug exposure after labelled regimens against published human values the records were not built from.

Each held-out row of ``data/drug_pk/exposure.tsv`` is simulated on the path ``cytonet treat`` uses (the
drug added to the healthy host by ``treat``, run by the engine) and must fall inside the published spread
(mean ± SD, or the range the row states). Rows a record's parameters were built from are not asserted.
A row naming a ``species`` reads that model species (the tocilizumab-sIL-6R complex) instead of the drug.
"""

import csv
from pathlib import Path

import numpy as np
import pytest

from cytonet.therapy.exposure import READOUT_UNITS, predict_row
from cytonet.therapy.records import drug_ids

TABLE = Path(__file__).resolve().parents[2] / "data" / "drug_pk" / "exposure.tsv"
ROWS = list(csv.DictReader(TABLE.open(encoding="utf-8"), delimiter="\t"))

#: measured misses (simulated vs published interval), kept as strict xfails; see docs/model.md
MISSES = {
    "tocilizumab_sc162_qw_sil6r_complex": "tocilizumab-sIL-6R complex plateau 213 vs 670 +/- 211 ng/mL (68 % below the "
                                          "mean): the plateau is the sIL-6R supply (0.81 ng/mL/h, basal release at the "
                                          "assumed 1.5-day half-life at 40 ng/mL plus resting shedding) over the complex's "
                                          "elimination constant CL/V1 = 0.0036/h; the mean needs 2.4 ng/mL/h at that "
                                          "constant. Distributing the complex like the antibody (Q, V2) gives 206",
    "tocilizumab_sc162_q2w_sil6r_complex": "tocilizumab-sIL-6R complex 165 vs 387 +/- 194 ng/mL at the end of the "
                                           "interval (15 % under the lower bound; 164-187 over the interval); as for "
                                           "weekly dosing (distributed like the antibody: 161)",
    "infliximab_iv5_single_cmax": "Cmax 111 vs median 118 ug/mL (dose-normalised range 118-139): 6 % below; V1 3.06 L",
    "infliximab_iv5_single_thalf": "terminal t1/2 380 h (15.8 d) vs medians 8-9.5 d: the record is the ankylosing "
                                   "spondylitis population PK (Vss 6.0 L); population analyses give t1/2 of about 14 d, "
                                   "the label's single-dose medians come from Vss 3.0-4.1 L",
    "anakinra_sc1mgkg_single_thalf": "sc t1/2 4.99 vs 3.76 +/- 1 h: 5 % above the upper bound (ka chosen for the "
                                     "label's 4-6 h)",
    "sarilumab_sc200_q2w_first_auc_tau": "AUC0-14d 2942 vs 5448 +/- 2278 ug*h/mL: 7 % below the lower bound (first-dose "
                                         "Cmax 13.0 vs 23.7 is inside, near its bottom)",
}


def _asserted():
    out = []
    for row in ROWS:
        if row["use"] != "held-out" or not row["low"]:
            continue
        marks = [pytest.mark.xfail(strict=True, reason=MISSES[row["id"]])] if row["id"] in MISSES else []
        out.append(pytest.param(row, id=row["id"], marks=marks))
    return out


def test_table_is_complete_and_sourced():
    ids = [r["id"] for r in ROWS]
    assert len(ids) == len(set(ids))
    for r in ROWS:
        assert r["drug"] in drug_ids(), r["id"]
        assert r["use"] in ("held-out", "built-from"), r["id"]
        if not r["species"]:  # a species row is read in that species' unit (checked by predict_row)
            assert READOUT_UNITS[r["readout"]] == r["unit"], r["id"]
        assert r["source"] and r["location"], r["id"]
        if r["low"]:
            assert float(r["low"]) <= float(r["value"]) <= float(r["high"]), r["id"]
        if r["spread_kind"] == "sd":
            assert float(r["high"]) == pytest.approx(float(r["value"]) + float(r["spread"]), rel=1e-6), r["id"]
    assert set(MISSES) <= set(ids)


@pytest.mark.parametrize("row", _asserted())
def test_simulated_exposure_inside_published_spread(row):
    sim = predict_row(row)
    assert float(row["low"]) <= sim <= float(row["high"]), (
        f"{row['id']}: simulated {sim:.4g} {row['unit']}, published {row['value']} ({row['low']}-{row['high']})")


def test_readouts_match_closed_forms_for_a_linear_drug():
    """anakinra iv bolus (one compartment, no binding): AUC = dose / CL, half-life ln2 V / CL, Cmax dose / V."""
    from cytonet.therapy import Regimen, get_drug
    from cytonet.therapy.exposure import simulate_exposure

    d = get_drug("anakinra")
    v, cl = d.value("V1"), d.value("CL")
    e = simulate_exposure("anakinra", Regimen("100 mg", route="iv"), tail_h=24, points_per_h=400)
    assert e.readout("cmax") == pytest.approx(100 / v, rel=1e-6)
    assert e.readout("tmax") == 0.0
    assert e.readout("t_half", (2, 8)) == pytest.approx(np.log(2) * v / cl, rel=1e-4)
    assert e.readout("cl_apparent") == pytest.approx(cl * 1000 / 60, rel=1e-3)  # the tail past 24 h is < 1e-6 of the dose
    steady = simulate_exposure("anakinra", Regimen("100 mg", route="iv", every="6h", doses=8), points_per_h=100)
    k = cl / v  # superposition at steady state: trough = dose/V e^(-k tau) / (1 - e^(-k tau))
    assert steady.readout("cmin") == pytest.approx(100 / v * np.exp(-6 * k) / (1 - np.exp(-6 * k)), rel=1e-3)
    assert steady.readout("auc_tau") == pytest.approx(100 / cl * (1 - np.exp(-48 * k)), rel=1e-3)


def test_bad_rows_are_refused():
    from cytonet.errors import TherapyError
    from cytonet.therapy import Regimen
    from cytonet.therapy.exposure import simulate_exposure

    row = dict(next(r for r in ROWS if r["id"] == "adalimumab_sc40_single_cmax"))
    with pytest.raises(TherapyError, match="not 'ng/mL'"):
        predict_row({**row, "unit": "ng/mL"})
    with pytest.raises(TherapyError, match="unknown exposure readout"):
        predict_row({**row, "readout": "cavg", "unit": "?"})
    with pytest.raises(TherapyError, match="no species"):
        predict_row({**row, "species": "IL99"})
    with pytest.raises(TherapyError, match="needs tail_h"):
        simulate_exposure("adalimumab", Regimen("40 mg", route="sc"))


def test_complex_plateau_is_the_sil6r_supply_over_the_complex_clearance():
    """Weekly 162 mg sc, week 12: sIL-6R mass balance at the plateau, complex = (supply - free losses) / (CL/V1).

    The supply is basal release plus ADAM17 shedding by activated macrophages; the losses are free sIL-6R
    clearance and the IL-6/sIL-6R complex (0.00238 ng sIL-6R per pg IL-6). This is why the complex plateau
    is set by the supply and the complex's elimination constant, whatever the antibody's peripheral volume.
    """
    from cytonet import simulate
    from cytonet.scenarios import scenario_model
    from cytonet.therapy import Regimen, treat

    spec, rest = scenario_model("healthy")
    model = treat(spec, "tocilizumab", Regimen("162 mg", route="sc", every=168, doses=12))
    ds = simulate(model, 2016.0, t_eval=np.linspace(0.0, 2016.0, 505), rtol=1e-7, atol=1e-10, initial=rest)
    end = {s: float(ds.state.sel(species=s).values[-1]) for s in ("tocilizumab_sIL6R", "sIL6R", "Ma", "IL6_sIL6R")}
    p = {q.id: q.value for q in model.parameters}
    supply = p["s_sIL6R"] + p["k_sIL6R_shed"] * end["Ma"]
    losses = p["k_sIL6R_clear"] * end["sIL6R"] + 0.00238 * p["k_IL6_sIL6R_clear"] * end["IL6_sIL6R"]
    assert p["tocilizumab_sIL6R_kclearance"] == pytest.approx(0.0125 / 3.5, rel=1e-3)  # CL / V1 of the record
    assert end["tocilizumab_sIL6R"] == pytest.approx((supply - losses) / p["tocilizumab_sIL6R_kclearance"], rel=0.02)
