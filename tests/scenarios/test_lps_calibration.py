"""The calibrated LPS core: provenance of the fitted values, and predictions of held-out protocols against human data.

Fitted (data/lps_human/calibration, 2 ng/kg): total IL-6 at 2 h (Copeland et al. 2005), IL-10 at 2 h
(van der Poll et al. 1996), TNF at 90 min, the temperature rise and CRP of the same cohort (Barber et al. 1993) and the
temperature rise of Dillingh et al. 2014 set k_IL6_Mr, k_IL10_Mr (the delayed TLR-induced monocyte IL-10), k_TNF_Mr,
k_fever_IL6 and k_CRP_syn; the cohort means of van Eijk 2007 and Coyle 2006 (tests/population) are held out; k_TOL_on is
fitted to the day-5 TNF attenuation by benchmarks/calibrate_tolerance.py. Held out: the 4 ng/kg rows of data/lps_human/measurements.tsv (Fijen et al. 2000),
the dose series (Dillingh et al. 2014, Suffredini et al. 1999) and the resolution after 2 ng/kg (Copeland 2005).
The calibration itself runs in benchmarks/calibrate_lps.py; these tests check its recorded result quickly.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from cytonet.model.build import reference_network
from cytonet.scenarios import load_scenario, lps_protocol, simulate_scenario, with_lps

from clinical_data import summary
from peak_time import peak_time

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data/lps_human"
CALIBRATION = DATA / "calibration"
MAP_CALIBRATION = DATA / "calibration_map"


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def measured(observable: str, condition: str) -> tuple[float, float, float]:
    """(time, mean, spread) of the one measurement of ``observable`` under ``condition``."""
    (m,) = [r for r in rows(DATA / "measurements.tsv")
            if r["observableId"] == observable and r["simulationConditionId"] == condition]
    return float(m["time"]), float(m["measurement"]), float(m["noiseParameters"])


def predicted(prediction_id: str) -> tuple[float, float, float]:
    """(best, band low, band high) recorded by the calibration."""
    (r,) = [r for r in rows(CALIBRATION / "predictions.tsv") if r["predictionId"] == prediction_id]
    return float(r["best"]), float(r["band95Lower"]), float(r["band95Upper"])


@lru_cache(maxsize=None)
def bolus(dose: float, hours: float = 24.0):  # noqa: ANN201 - xarray.Dataset
    sc = with_lps(load_scenario("lps-endotoxemia"), lps_protocol([(dose, 0.0)]))
    return simulate_scenario(sc, hours=hours, points_per_hour=12)


def series(ds, name: str) -> np.ndarray:  # noqa: ANN001
    return ds[name].values if name in ds else ds["state"].sel(species=name).values


def at(ds, name: str, t: float) -> float:  # noqa: ANN001
    return float(np.interp(t, ds.time.values, series(ds, name)))


def test_the_calibration_fits_only_the_2ngkg_rows_of_the_human_data() -> None:
    fitted = rows(CALIBRATION / "measurements.tsv")
    assert fitted == [r for r in rows(DATA / "measurements.tsv") if r["simulationConditionId"] == "lps_2ngkg"]
    assert {r["simulationConditionId"] for r in rows(DATA / "measurements.tsv")} - {"lps_2ngkg"}, "nothing held out"


def test_every_fitted_parameter_carries_its_estimate_interval_and_data() -> None:
    net = {p.id: p for p in reference_network().parameters}
    datasets = {r["datasetId"] for r in rows(CALIBRATION / "measurements.tsv")}
    table = [r for r in rows(CALIBRATION / "parameters.tsv") if r["estimate"] == "1"]
    assert table
    for r in table:
        p = net[r["parameterId"]]
        assert p.calibration is not None, p.id
        c = p.calibration
        assert p.value == pytest.approx(c.estimate) == pytest.approx(float(r["nominalValue"]), rel=1e-3)
        bounds = [b for b in c.ci95 if b is not None]
        assert bounds and all(float(r["lowerBound"]) < b < float(r["upperBound"]) for b in bounds), "bounded on one side at least"
        assert (c.ci95[0] is None or c.ci95[0] < c.estimate) and (c.ci95[1] is None or c.estimate < c.ci95[1])
        assert (ROOT / c.problem).is_file() and set(c.datasets) <= datasets
    fitted_elsewhere = [p.id for p in net.values() if p.calibration and p.id not in {r["parameterId"] for r in table}]
    # the repeated challenge (a day-5 / day-1 ratio, profiled by its own script) and the MAP readout's vasodilation gain
    assert sorted(fitted_elsewhere) == ["k_TOL_on", "k_VASO_TNF"]
    vaso = net["k_VASO_TNF"]
    (row,) = [r for r in rows(MAP_CALIBRATION / "parameters.tsv") if r["estimate"] == "1"]
    assert row["parameterId"] == "k_VASO_TNF" and vaso.value == pytest.approx(float(row["nominalValue"]), rel=1e-3)
    assert vaso.calibration.problem == "data/lps_human/calibration_map/problem.yaml"
    assert set(vaso.calibration.datasets) == {r["datasetId"] for r in rows(MAP_CALIBRATION / "measurements.tsv")}
    assert vaso.calibration.ci95[0] < vaso.value < vaso.calibration.ci95[1]
    c = net["k_TOL_on"].calibration
    assert c.problem == "benchmarks/calibrate_tolerance.py" and (ROOT / c.problem).is_file()
    assert c.ci95[0] < net["k_TOL_on"].value < c.ci95[1]


def test_the_recorded_predictions_are_those_of_the_network() -> None:
    """predictions.tsv was written by benchmarks/calibrate_lps.py for the network as it is now."""
    assert at(bolus(2.0), "IL10", 2.0) == pytest.approx(predicted("il10_2h_2ngkg")[0], rel=1e-3)
    assert at(bolus(4.0), "IL10", 3.0) == pytest.approx(predicted("il10_3h_4ngkg")[0], rel=1e-3)


def test_the_fitted_2ngkg_il6_lies_within_the_measured_spread() -> None:
    t, mean, spread = measured("obs_IL6", "lps_2ngkg")
    assert abs(at(bolus(2.0), "IL6_total", t) - mean) <= spread


def test_the_fitted_2ngkg_map_fall_lies_within_the_measured_spread_at_the_simulated_nadir() -> None:
    """Fitted (k_VASO_TNF): Coyle et al. 2006, maximum MAP fall 13.0 +/- 1.3 mmHg (SEM) in 48 men; the abstract gives no
    time, so the fit compares it at a stated time, which must be where the simulated nadir lies (within 15 min)."""
    (m,) = rows(MAP_CALIBRATION / "measurements.tsv")
    ds = bolus(2.0)
    pressure = series(ds, "MAP")
    t_nadir = float(ds.time.values[np.argmin(pressure)])
    assert abs(t_nadir - float(m["time"])) <= 0.25, t_nadir
    fall = pressure[0] - at(ds, "MAP", float(m["time"]))
    assert abs(fall - float(m["measurement"])) <= float(m["noiseParameters"]), fall


def test_the_2ngkg_il10_lies_within_the_measured_spread() -> None:
    """Fitted (k_IL10_Mr, the delayed TLR-induced monocyte IL-10): van der Poll et al. 1996, 162 +/- 27 pg/mL at 2 h."""
    t, mean, spread = measured("obs_IL10", "lps_2ngkg")
    assert abs(at(bolus(2.0), "IL10", t) - mean) <= spread


def test_held_out_4ngkg_il10_is_predicted_inside_the_published_spread() -> None:
    """Fijen et al. 2000 (4 ng/kg, n = 6): IL-10 peak 427 +/- 348 pg/mL at 3 h; not used in the fit."""
    t, mean, sd = measured("obs_IL10", "lps_4ngkg")
    best, lo, hi = predicted("il10_3h_4ngkg")
    assert mean - sd <= at(bolus(4.0), "IL10", t) <= mean + sd
    assert lo <= best <= hi and lo < mean + sd and hi > mean - sd


@pytest.mark.xfail(strict=True, reason="known deviation (docs/validation.md): TNF at 4 ng/kg is 5665 +/- 1910 pg/mL in "
                   "Fijen et al. 2000; the network, whose TNF scale is fitted to another laboratory's 2 ng/kg peak "
                   "(155 +/- 4 pg/mL at 90 min, Barber et al. 1993), predicts 156 pg/mL at 2 h (z = -2.9): reported TNF "
                   "peaks differ several-fold between laboratories and assays")
def test_held_out_4ngkg_tnf_is_predicted_inside_the_published_spread() -> None:
    t, mean, sd = measured("obs_TNF", "lps_4ngkg")
    assert mean - sd <= at(bolus(4.0), "TNF", t) <= mean + sd


def test_the_response_grows_with_the_dose() -> None:
    """Dose-dependent responses from 0.5 ng/kg on (Dillingh 2014), graded over 1-4 ng/kg (Suffredini 1999)."""
    doses = (0.5, 1.0, 2.0, 4.0)
    for name in ("TNF", "IL6_total", "IL10", "TEMP", "CRP"):
        peaks = [float(series(bolus(d), name).max()) for d in doses]
        assert all(a < b for a, b in zip(peaks, peaks[1:])), (name, peaks)
    tnf = [float(series(bolus(d), "TNF").max()) for d in (0.5, 4.0)]
    assert tnf[1] / tnf[0] > 3.0  # was 1.07 with TLR4 saturated at every clinical dose


def test_il6_peaks_1_5_to_3_h_after_a_2ngkg_bolus() -> None:
    """Total serum IL-6 peaks at about 2 h (Copeland 2005: ~1,000 pg/mL at 2 h, peak 2 h), read on a one-second grid."""
    assert 1.5 <= peak_time("lps-endotoxemia", "IL6_total") <= 3.0


def test_il6_resolves_within_hours_of_a_2ngkg_bolus() -> None:
    """TNF and IL-6 peak at about 2 h and are back at baseline by 4-6 h (Copeland 2005). The network gets part of the
    way: IL-6 at 6 h is 15 % of its peak (95 % band 11-27 %; it was 66 % while endothelial activation outlasted the
    stimulus by hours), back near rest by 12 h; the remaining gap is listed in docs/validation.md."""
    ds = bolus(2.0)
    il6 = series(ds, "IL6_total")
    assert at(ds, "IL6_total", 6.0) / il6.max() < 0.3
    assert at(ds, "IL6_total", 12.0) < 5 * il6[0]


def test_hepatocyte_stat3_no_longer_caps_crp() -> None:
    """CRP grows with the dose (Suffredini 1999), and in the sepsis storm it passes the former 149 mg/L cap and falls in the
    published spread of septic patients (data/inflammatory_syndromes/summaries.tsv): its peak lies within one SD of the mean
    ICU day-1 CRP of non-survivors of community-acquired sepsis (Povoa et al., SACiUCI study, 20.7 +/- 12.8 mg/dL, n = 891), and so does
    its level 48-72 h after the inoculum (network 198-226 mg/L; medians 48-72 h after ICU admission 158.5 and 172.4 mg/L in
    survivors and non-survivors, Weidhase et al. 2019). The former threshold, a peak above 200 mg/L, had no source; the peak
    is 242 mg/L at day 5 (228 before the counter-regulators, 178 with them before resting IL-10 was balanced and k_TOL_on
    fitted)."""
    crp = [float(series(bolus(d), "CRP").max()) for d in (2.0, 4.0)]
    assert crp[0] < crp[1]
    storm = simulate_scenario("sepsis-storm", points_per_hour=1)
    day1 = summary("CRP", "sepsis_nonsurvivors_icu_day1")
    low, high = day1.value - day1.sd, day1.value + day1.sd
    y, t = series(storm, "CRP"), storm.time.values
    assert 149.0 < y.max() <= high and y.max() >= low, y.max()
    late = y[(t >= 48) & (t <= 72)]
    assert low <= late.min() and late.max() <= high, (late.min(), late.max())
