"""Calibrate endotoxin-tolerance induction ``k_TOL_on`` to ONE repeated-challenge number and predict the others.

Draisma et al. 2009 (Crit Care Med, abstract; ``data/lps_human/summaries.tsv``): 14 healthy men given 2 ng/kg LPS
on 5 consecutive days; the day-5 response was attenuated by 97 +/- 3 % (SD) for TNF, 88 +/- 8 % for IL-6,
87 +/- 7 % for IL-10, 93 +/- 9 % for IL-1Ra. Only the TNF attenuation is fitted (normal likelihood, its SD as
sigma, as the LPS calibration uses the reported spreads); IL-6, IL-10, IL-1Ra and the day-5 temperature are held
out. The day-5 / day-1 ratio of two peaks is not a PEtab v1 observable of one time point, so the one-parameter
likelihood is maximised and profiled here directly on the network's simulation: the estimate is the maximum, the
95 % interval where -log L rises 1.92 (chi2(0.95, 1) / 2) above it (Raue et al. 2009), open where the attenuation
saturates within that threshold at the scan's bound. ``K_TOL_P`` (cross-tolerance to a pathogen) acts only on
pathogen-driven NF-kB and so does not enter these runs: the repeated-LPS data cannot inform it.

``--write`` stores the estimate and interval in the network YAML (value and ``calibration``). Run from the
repository root:

    .venv/bin/python benchmarks/calibrate_tolerance.py --write     # about 2 min on 2 cores
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import brentq, minimize_scalar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
NETWORK = ROOT / "src/cytonet/model/data/reference_network.yaml"
PARAMETER, LOWER, UPPER = "k_TOL_on", 1.0, 1000.0
#: (species, mean, SD) of the day-5 attenuation, Draisma et al. 2009; the first is fitted, the others held out
FITTED = ("TNF", 0.97, 0.03)
HELD_OUT = [("IL6", 0.88, 0.08), ("IL10", 0.87, 0.07), ("IL1RN", 0.93, 0.09)]
DATASET = "draisma2009_tnf_attenuation"
THRESHOLD = 1.92  # chi2(0.95, 1) / 2


def attenuations(k: float) -> dict[str, float]:
    """1 - (day-5 peak above rest) / (day-1 peak above rest) per species, and the day-5 peak temperature."""
    from cytonet.scenarios import load_scenario, lps_protocol, simulate_scenario, with_lps

    sc = with_lps(load_scenario("lps-endotoxemia"), lps_protocol([(2.0, 24.0 * d) for d in range(5)]))
    ds = simulate_scenario(sc, hours=120.0, points_per_hour=12, parameters={PARAMETER: k})
    t = ds.time.values
    out = {}
    for sid in [FITTED[0]] + [s for s, *_ in HELD_OUT]:
        x = ds.state.sel(species=sid).values
        peaks = [x[(t >= 24 * d) & (t < 24 * d + 24)].max() - x[0] for d in (0, 4)]
        out[sid] = float(1.0 - peaks[1] / peaks[0])
    out["TEMP_day5"] = float(ds.state.sel(species="TEMP").values[t >= 96].max())
    return out


def nll(log_k: float) -> float:
    _, mean, sd = FITTED
    return 0.5 * ((attenuations(10.0 ** log_k)[FITTED[0]] - mean) / sd) ** 2


def profile() -> tuple[float, float | None, float | None, float]:
    """Estimate, 95 % interval (None where open) and the minimum of -log L."""
    lo, hi = np.log10(LOWER), np.log10(UPPER)
    grid = np.linspace(lo, hi, 13)
    values = np.array([nll(x) for x in grid])
    i = int(np.argmin(values))
    res = minimize_scalar(nll, bounds=(grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]), method="bounded",
                          options={"xatol": 1e-3})
    best, fmin = float(res.x), float(res.fun)

    def excess(x: float) -> float:
        return nll(x) - fmin - THRESHOLD

    left = brentq(excess, lo, best, xtol=1e-3) if excess(lo) > 0 else None
    right = brentq(excess, best, hi, xtol=1e-3) if excess(hi) > 0 else None
    return 10.0 ** best, None if left is None else 10.0 ** left, None if right is None else 10.0 ** right, fmin


def _fmt(v: float | None) -> str:
    return "null" if v is None else f"{v:.4g}"


def write_network(est: float, lo: float | None, hi: float | None) -> None:
    """Set value and ``calibration`` of k_TOL_on in the network YAML, keeping the file's layout."""
    from calibrate_lps import with_calibration  # the same writer as the PEtab calibration's

    text = with_calibration(NETWORK.read_text(), PARAMETER, est, (_fmt(lo), _fmt(hi)), "benchmarks/calibrate_tolerance.py",
                            DATASET)
    NETWORK.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="store the estimate and interval in the network YAML")
    args = ap.parse_args()
    t0 = time.perf_counter()
    est, lo, hi, fmin = profile()
    print(f"{PARAMETER}: {est:.4g} /h (95 % profile CI {_fmt(lo)} to {_fmt(hi)}; -log L at the estimate {fmin:.3g})")
    pred = attenuations(est)
    sid, mean, sd = FITTED
    print(f"fitted    {sid:6s} attenuation {pred[sid]:.3f}  (Draisma 2009: {mean} +/- {sd})")
    for sid, mean, sd in HELD_OUT:
        band = [attenuations(k)[sid] for k in (lo, hi) if k is not None]
        verdict = "inside 2 SD" if abs(pred[sid] - mean) <= 2 * sd else "OUTSIDE 2 SD"
        print(f"predicted {sid:6s} attenuation {pred[sid]:.3f} (at the CI ends {', '.join(f'{b:.3f}' for b in band)}; "
              f"Draisma 2009: {mean} +/- {sd}: {verdict})")
    print(f"predicted day-5 peak temperature {pred['TEMP_day5']:.2f} degC (Draisma 2009: 36.2 +/- 0.5, no fever)")
    if args.write:
        write_network(est, lo, hi)
        print("wrote", NETWORK.relative_to(ROOT))
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
