"""Counter-regulation of the LPS response: IL-1Ra, soluble TNF receptors, cortisol and the glucocorticoid receptor.

Held out (not fitted; data/lps_human/interventions.tsv): hydrocortisone 3 ug/kg/min for 6 h before 2 ng/kg LPS
(Barber et al. 1993, doi:10.4049/jimmunol.150.5.1999; van der Poll et al. 1996, doi:10.1210/jc.81.10.3604) and IL-1
blockade by IL-1Ra 133 mg/h for 6 h (Van Zee et al. 1995, pmid:7822813). Set by hand to one number each: the IL-1Ra
response (Granowitz et al. 1991), the sTNFR1 rise, the cortisol rise (Barber 1993). The drug records and the network
share one clearance and one potency for IL-1Ra and for cortisol.
"""

from __future__ import annotations

import csv
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from cytonet import simulate
from cytonet.model.build import reference_network
from cytonet.scenarios import load_scenario, lps_protocol, scenario_model, with_lps
from cytonet.therapy import Regimen, treat
from cytonet.therapy.records import get_drug

ROOT = Path(__file__).resolve().parents[2]
INTERVENTIONS = ROOT / "data/lps_human/interventions.tsv"
HYDROCORTISONE = Regimen("75.6 mg", route="iv", infusion_h=6.0)  # 3 ug/kg/min x 70 kg x 6 h
IL1RA = Regimen("798 mg", route="iv", infusion_h=6.0)  # 133 mg/h x 6 h


def reported(protocol: str, observable: str) -> tuple[str, str]:
    """(measurement, spread) of one row of the intervention table."""
    with open(INTERVENTIONS, newline="") as fh:
        (row,) = [r for r in csv.DictReader(fh, delimiter="\t")
                  if r["protocolId"] == protocol and r["observableId"] == observable]
    return row["measurement"], row["spread"]


def number(text: str) -> float:
    return float(text.replace("+/-", "").split()[0])


@lru_cache(maxsize=None)
def run(lps_at: float, hours: float, drug: str | None = None):  # noqa: ANN201 - xarray.Dataset
    sc = with_lps(load_scenario("lps-endotoxemia"), lps_protocol([(2.0, lps_at)]))
    spec, rest = scenario_model(sc)
    if drug:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 798 mg iv is above anakinra's labelled iv range
            spec = treat(spec, drug, HYDROCORTISONE if drug == "hydrocortisone" else IL1RA)
    return simulate(spec, hours, n_points=int(hours * 12) + 1, initial=rest)


def lps() -> object:
    return run(0.0, 24.0)


def series(ds, name: str) -> np.ndarray:  # noqa: ANN001
    return ds[name].values if name in ds else ds["state"].sel(species=name).values


def peak(ds, name: str, t0: float = 0.0) -> float:  # noqa: ANN001
    return float(series(ds, name)[ds.time.values >= t0].max())


def rise(ds, name: str, t0: float = 0.0) -> float:  # noqa: ANN001
    return peak(ds, name, t0) - float(np.interp(t0, ds.time.values, series(ds, name)))


def test_the_healthy_rest_holds_the_designed_counter_regulator_levels() -> None:
    rest = scenario_model("healthy")[1]
    assert rest["IL1RN"] == pytest.approx(300.0, rel=0.02)
    assert rest["sTNFR1"] == pytest.approx(1.66, rel=0.02) and rest["sTNFR2"] == pytest.approx(3.0, rel=0.02)
    assert rest["CORT"] == pytest.approx(120.0, rel=0.02)
    assert rest["GR"] == pytest.approx(120.0 / (120.0 + 400.0), rel=0.02)  # occupancy C / (C + K), K = 400 ng/mL
    assert rest["TNF_sTNFR1"] + rest["TNF_sTNFR2"] < 0.3 * rest["TNF"]  # soluble receptors buffer, not sequester


def test_drug_records_and_network_share_clearance_and_potency() -> None:
    """Anakinra is recombinant IL-1Ra and hydrocortisone is cortisol: one clearance and one potency for each pair."""
    net = {p.id: p.value for p in reference_network().parameters}
    ana, hc = get_drug("anakinra"), get_drug("hydrocortisone")
    assert net["k_IL1RN_clear"] == pytest.approx(ana.value("CL") / ana.value("V1"), rel=1e-3)
    assert net["K_IL1RN_block"] == pytest.approx(ana.value("IC50") * ana.mw_kda.value * 1e3, rel=1e-3)  # nM x kDa -> pg/mL
    assert net["k_CORT_clear"] == pytest.approx(hc.value("CL") / hc.value("V1"), rel=1e-3)
    k_total_ng_ml = hc.value("IC50") * hc.mw_kda.value / hc.value("fu")  # nM x kDa = ng/mL
    assert k_total_ng_ml == pytest.approx(net["k_GR_off"] / net["k_GR_on_CORT"], rel=1e-3)


def test_il1ra_rises_about_a_hundredfold_above_il1b() -> None:
    """Granowitz et al. 1991: peak IL-1Ra about a hundred-fold the IL-1beta peak (set by hand: k_IL1RN_Mr)."""
    ratio = peak(lps(), "IL1RN") / peak(lps(), "IL1B")
    assert 50.0 <= ratio <= 200.0


def test_soluble_tnf_receptors_rise_after_lps_and_buffer_tnf() -> None:
    """sTNFR1 peak 7300 +/- 1810 over a rest of 1656 pg/mL after endotoxin (set by hand: k_sTNFR1_Mr)."""
    mean, spread = reported("lps_2ngkg", "sTNFR1")
    ds = lps()
    ratio = peak(ds, "sTNFR1") / series(ds, "sTNFR1")[0]
    assert abs(ratio - number(mean)) <= 1810 / 1656
    assert peak(ds, "sTNFR2") > 1.5 * series(ds, "sTNFR2")[0]
    t = ds.time.values
    assert 1.0 <= t[np.argmax(series(ds, "sTNFR1"))] <= 4.0  # after the TNF peak (~1 h)
    bound = series(ds, "TNF_sTNFR1") + series(ds, "TNF_sTNFR2")
    assert 0.05 < float(bound[np.argmax(series(ds, "TNF"))] / series(ds, "TNF").max()) < 1.0


def test_cortisol_rises_hours_after_lps() -> None:
    """The cortisol rise follows the cytokines and peaks 3-4 h after LPS; Barber et al. 1993: peak 296 +/- 29
    (unit not stated, read as ng/mL). The network reaches about 250 ng/mL, 1.6 spreads low (docs/validation.md)."""
    ds = lps()
    t_peak = float(ds.time.values[np.argmax(series(ds, "CORT"))])
    assert 3.0 <= t_peak <= 4.0
    mean, spread = reported("lps_2ngkg", "CORT")
    assert abs(peak(ds, "CORT") - number(mean)) <= 2 * number(spread)


def test_hydrocortisone_before_lps_raises_the_il10_peak() -> None:
    """van der Poll et al. 1996: hydrocortisone immediately before LPS raised the IL-10 peak (11-fold; held out). The
    direction is asserted here, the size against the published spread below."""
    assert peak(run(6.0, 30.0, "hydrocortisone"), "IL10", 6.0) > peak(lps(), "IL10")


@pytest.mark.xfail(strict=True, reason="known deviation (docs/validation.md): the network's IL-10 under hydrocortisone "
                   "peaks at 206 pg/mL, 1.23x LPS alone (167, at the human 162 +/- 27), because glucocorticoid occupancy "
                   "represses the NF-kB activity that both IL-10 inductions need; human data imply an IL-10 pathway that "
                   "neither IL-10 nor glucocorticoids inhibit")
def test_hydrocortisone_before_lps_raises_the_il10_peak_into_the_published_spread() -> None:
    """van der Poll et al. 1996: IL-10 peak 1784 +/- 331 pg/mL with hydrocortisone immediately before LPS (held out)."""
    mean, spread = reported("lps_2ngkg+hydrocortisone_0h", "IL10")
    assert abs(peak(run(6.0, 30.0, "hydrocortisone"), "IL10", 6.0) - number(mean)) <= number(spread)


def test_hydrocortisone_six_hours_before_lps_leaves_il10_unchanged() -> None:
    """van der Poll et al. 1996: hypercortisolaemia 6, 12 or 144 h before LPS did not change the IL-10 peak (held out)."""
    ratio = peak(run(12.0, 36.0, "hydrocortisone"), "IL10", 12.0) / peak(lps(), "IL10")
    assert abs(ratio - 1.0) <= 2 * 27 / 162


def test_hydrocortisone_before_lps_lowers_tnf_and_fever() -> None:
    """Barber et al. 1993: TNF undetectable (LPS alone: 155 pg/mL), temperature rise 0.8 instead of 1.9 degC."""
    treated = run(6.0, 30.0, "hydrocortisone")
    assert rise(treated, "TNF", 6.0) < 0.5 * rise(lps(), "TNF")
    assert rise(treated, "TEMP", 6.0) < rise(lps(), "TEMP") - 0.2


@pytest.mark.xfail(strict=True, reason="known deviation (docs/validation.md): hydrocortisone lowers the network's TNF "
                   "rise by about three quarters, not below an assay limit (Barber 1993: undetectable, from 155 pg/mL)")
def test_hydrocortisone_before_lps_abolishes_tnf() -> None:
    assert rise(run(6.0, 30.0, "hydrocortisone"), "TNF", 6.0) < 0.1 * rise(lps(), "TNF")


def test_il1_blockade_leaves_the_lps_response_unchanged() -> None:
    """Van Zee et al. 1995: IL-1Ra 133 mg/h for 6 h changed neither cytokines nor core temperature (n = 6 per arm;
    read as peak ratios within 0.7-1.3), although IL-1 signalling is blocked (held out)."""
    blocked = run(0.0, 24.0, "anakinra")
    for name in ("TNF", "IL6_total"):
        assert 0.7 <= peak(blocked, name) / peak(lps(), name) <= 1.3, name
    assert 0.7 <= rise(blocked, "TEMP") / rise(lps(), "TEMP") <= 1.3
    assert float(series(blocked, "anakinra_inhibition").max()) > 0.99


@pytest.mark.xfail(strict=True, reason="known deviation (docs/model.md): with the anakinra record's clearance (8.22 L/h, "
                   "Yang 2003 iv) a 6 h infusion of 133 mg/h reaches 15.7 ug/mL; Van Zee 1995 measured 34 +/- 3, a "
                   "steady-state clearance of about 3.9 L/h (65 mL/min), against 137 mL/min iv (Yang 2003) and CL/F 150-170 mL/min sc "
                   "(Yang 2003; doi:10.1016/j.phrs.2004.02.002)")
def test_il1ra_infusion_reaches_the_measured_plasma_level() -> None:
    mean, spread = reported("lps_2ngkg+IL1RA_133mg_h", "anakinra_central")
    level = float(np.interp(6.0, run(0.0, 24.0, "anakinra").time.values, series(run(0.0, 24.0, "anakinra"), "anakinra_central")))
    assert abs(level - number(mean)) <= number(spread)
