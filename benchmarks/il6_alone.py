"""IL-6 alone: Steensberg 2003's 3 h rhIL-6 infusion in healthy volunteers, held out (docs/validation.md, "IL-6 alone").

Prints, for the protocol of ``tests/scenarios/test_il6_infusion.py`` (total plasma IL-6 at the reported 140 pg/mL at
the end of the infusion):

1. the shipped network's readouts, rest and peak over 24 h, beside the directions of the abstract;
2. the IL-6 trans-signalling vasodilation variant of ``benchmarks/hemodynamics.py`` (weights r, ``k_VASO_TNF``
   refitted to Coyle's MAP fall for each): its MAP fall at the reported level and at ten times the infusion rate;
3. a fever variant: the pyrogenic half-effect of IL-6 ``K_IL6_fever`` (an assumption, 110 pg/mL) raised, with the
   fever gain ``k_fever_IL6`` refitted for each so that the 2 ng/kg LPS temperature rise at 4 h (where the calibration
   compares Barber 1993 and Dillingh 2014) stays the shipped one; printed: the rise under IL-6 alone, the LPS fever
   peak and its time at 1, 2 and 4 ng/kg, and the default car-t-crs patient's fever onset and duration (JULIET: median
   onset 3 days, duration median 7 days, range 2-30; tests/scenarios/test_crs_by_grade.py).

Run from the repository root (about five minutes):

    .venv/bin/python benchmarks/il6_alone.py
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests" / "scenarios")]

from hemodynamics import FIT, IL6_WEIGHTS, fall_at, il6_variant, refit  # noqa: E402
from test_il6_infusion import exposure_rate, reported, run  # noqa: E402

from cytonet.scenarios import load_scenario, simulate_scenario  # noqa: E402
from cytonet.scenarios.lps import parse_lps, with_lps  # noqa: E402

READOUTS = ("IL6_total", "TNF", "IL1RN", "IL10", "CORT", "CRP", "TEMP", "MAP")
#: half-effects of IL-6's fever drive (pg/mL of free IL-6) of the fever variant; 110 is the shipped assumption
FEVER_HALF_EFFECTS = (110.0, 150.0, 200.0, 300.0)
#: the time (h) at which the calibration compares the LPS temperature rise
FEVER_AT = 4.0


def course(ds, name: str) -> np.ndarray:  # noqa: ANN001 - an xarray Dataset
    return ds[name].values if name in ds else ds.state.sel(species=name).values


def readout_table() -> None:
    ds = run(exposure_rate(), 24.0)
    t = ds.time.values
    print(f"infusion rate {exposure_rate():.1f} pg/mL/h into free IL-6 for 3 h (total IL-6 140 pg/mL at 3 h)")
    print("| readout | Steensberg 2003 | rest | peak (or nadir for MAP) | at h |")
    print("|---|---|---|---|---|")
    for name in READOUTS:
        v = course(ds, name)
        i = int(v.argmin() if name == "MAP" else v.argmax())
        print(f"| {name} | {reported(name)} | {v[0]:.4g} | {v[i]:.4g} | {t[i]:.2f} |")


def vasodilation_variant() -> None:
    with open(FIT / "measurements.tsv", newline="") as fh:  # Coyle 2006's MAP fall, the datum of k_VASO_TNF
        data = next(csv.DictReader(fh, delimiter="\t"))
    fall, hours = float(data["measurement"]), float(data["time"])
    print("\nIL-6 trans-signalling vasodilation variant: MAP fall (mmHg) over 24 h")
    for r in IL6_WEIGHTS:
        base = il6_variant(r)
        k = refit(lambda k, w=r: {"k_VASO_TNF": k, "k_VASO_IL6": w * k}, fall, hours, base)
        assert abs(fall_at({"k_VASO_TNF": k, "k_VASO_IL6": r * k}, hours, base) - fall) < 0.01
        falls = []
        for factor in (1.0, 10.0):
            m = run(factor * exposure_rate(), 24.0, {"k_VASO_TNF": k, "k_VASO_IL6": r * k}, base)["MAP"].values
            falls.append(float(m[0] - m.min()))
        print(f"  r = {r:g}: {falls[0]:.3g} at the reported level, {falls[1]:.3g} at ten times the infusion rate")


def lps_fever(pars: dict[str, float], dose: str) -> tuple[float, float, float]:
    """Temperature rise at :data:`FEVER_AT`, peak rise and its time after an LPS bolus."""
    sc = with_lps(load_scenario("lps-endotoxemia"), parse_lps([dose]))
    ds = simulate_scenario(sc, hours=24, parameters=pars, points_per_hour=20)
    temp, t = course(ds, "TEMP"), ds.time.values
    return float(np.interp(FEVER_AT, t, temp) - temp[0]), float(temp.max() - temp[0]), float(t[temp.argmax()])


def crs_fever(pars: dict[str, float]) -> tuple[float, float]:
    """The default car-t-crs patient's first febrile hour and febrile days (first to last hour >= 38 °C)."""
    ds = simulate_scenario("car-t-crs", parameters=pars)
    febrile, t = course(ds, "TEMP") >= 38.0, ds.time.values
    first, last = float(t[np.argmax(febrile)]), float(t[len(t) - 1 - np.argmax(febrile[::-1])])
    return first, (last - first) / 24


def fever_variant() -> None:
    target = lps_fever({}, "2ng/kg")[0]
    print(f"\nFever variant: K_IL6_fever raised, k_fever_IL6 refitted to the shipped 2 ng/kg rise at {FEVER_AT:g} h "
          f"({target:.3f} °C)")
    print("| K_IL6_fever (pg/mL) | k_fever_IL6 (°C/h) | rise under IL-6 alone (no effect) | 1 ng/kg peak | "
          "2 ng/kg peak @ h | 4 ng/kg peak | CRS onset (h; 72 +/- 24) | CRS febrile days (7; 2-30) |")
    print("|---|---|---|---|---|---|---|---|")
    for half in FEVER_HALF_EFFECTS:
        k = brentq(lambda k, h=half: lps_fever({"K_IL6_fever": h, "k_fever_IL6": k}, "2ng/kg")[0] - target,
                   0.05, 50.0, xtol=1e-5)
        pars = {"K_IL6_fever": half, "k_fever_IL6": k}
        temp = course(run(exposure_rate(), 24.0, pars), "TEMP")
        _, p1, _ = lps_fever(pars, "1ng/kg")
        _, p2, t2 = lps_fever(pars, "2ng/kg")
        _, p4, _ = lps_fever(pars, "4ng/kg")
        onset, days = crs_fever(pars)
        print(f"| {half:g} | {k:.4g} | {temp.max() - temp[0]:.3f} | {p1:.2f} | {p2:.2f} @ {t2:.2f} | {p4:.2f} | "
              f"{onset:.1f} | {days:.1f} |", flush=True)


def main() -> None:
    readout_table()
    vasodilation_variant()
    fever_variant()


if __name__ == "__main__":
    main()
