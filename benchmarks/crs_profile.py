"""What drives the car-t-crs hypotension, against the LPS challenge where the MAP slope was set (docs/model.md).

MAP is ``93 - 80 * LEAK`` (``src/cytonet/model/data/reference_network.yaml``); LEAK is raised by activated endothelium
(``LEAK_by_Endo``, Hill in Endo with K_Endo_leak) and Endo by TNF, IL-1β, IFN-γ and IL-6 trans-signalling. This script
measures, from the solver's own reaction fluxes (:func:`cytonet.analysis.fired.production`), which mediators activate
the endothelium in car-t-crs and in lps-endotoxemia (2 ng/kg), each mediator's level against its half-effect level,
and how long MAP stays below 65 mmHg, and the car-t-crs MAP nadir with one endothelial activation route switched off
(in memory; the network YAML is not changed). It then scans the two trial-level predictors of CRS that Hay et al. 2017
(doi:10.1182/blood-2017-06-793141) name, marrow tumour burden and CAR-T dose, as factors on the scenario's two
boluses, and prints the ASTCT grade (:func:`cytonet.analysis.clinical.max_crs_grade`) of each combination, with the
grade fractions a cohort would have at the trial's dose-level mix (Hill et al. 2018, Table 1, read from
``data/inflammatory_syndromes/summaries.tsv``). The
factors are counterfactuals that show what the network can do over a range, not a fit and not a population.
Run from the repository root:

    .venv/bin/python benchmarks/crs_profile.py            # under a minute once the kernels are built
    .venv/bin/python benchmarks/crs_profile.py --no-scan
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

from cytonet.analysis.clinical import series

ROOT = Path(__file__).resolve().parents[1]

#: mediator -> its endothelial half-effect parameter (reference network)
DRIVERS = {"TNF": "K_TNF_endo", "IL1B": "K_IL1B_endo", "IL6_sIL6R": "K_trans_endo", "IFNG": "K_IFNG_endo"}
#: factors on the car-t-crs tumour-burden bolus (0.1x to 3x the scenario's value)
TUMOUR_FACTORS = (0.1, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 3.0)
#: factors on the CAR-T bolus: the trial's three dose levels, 2x10^5 / 2x10^6 / 2x10^7 cells/kg (Hill et al. 2018,
#: doi:10.1182/blood-2017-07-793760, the cohort of Hay 2017), the scenario's dose taken as level 2 (assumption: the
#: most common level)
DOSE_FACTORS = (0.1, 1.0, 10.0)
#: a rate switched off (rate laws need a positive rate constant)
OFF = 1e-9
#: endothelial activation routes switched off one at a time in car-t-crs (counterfactuals)
ROUTES = {"TNF": "k_Endo_TNF", "IFN-g": "k_Endo_IFNG", "IL-6 trans-signalling": "k_Endo_IL6_sIL6R", "IL-1b": "k_Endo_IL1B"}
#: ASTCT grade-2 hypotension threshold used by the grading (mmHg)
HYPOTENSION = 65.0


def drivers(scenario: str) -> list[str]:
    """Leak, MAP and the endothelial activation by mediator of one shipped scenario."""
    from cytonet.analysis.fired import production
    from cytonet.scenarios import load_scenario, scenario_model, simulate_scenario

    spec, rest = scenario_model(load_scenario(scenario))
    ds = simulate_scenario(scenario, model=(spec, rest))
    t = ds.time.values
    leak, endo, map_ = series(ds, "LEAK"), series(ds, "Endo"), series(ds, "MAP")
    i, j = int(np.argmax(leak)), int(np.argmax(endo))
    below = float(np.sum(np.diff(t)[map_[1:] < HYPOTENSION]))
    lines = [f"LEAK peak {leak[i]:.3f} at {t[i]:.1f} h -> MAP nadir {map_.min():.1f} mmHg (fall {map_[0] - map_.min():.1f}); "
             f"Endo peak {endo[j]:.3f} at {t[j]:.1f} h; {below:.0f} h with MAP < {HYPOTENSION:g}"]
    made = production(spec, ds, ["Endo"])["Endo"]
    at_peak = sum(float(v[j]) for v in made.values())
    whole = {rid: float(np.trapezoid(v, t)) for rid, v in made.items()}
    total = sum(whole.values())
    lines.append("Endo activation at its peak: " + ", ".join(
        f"{rid} {float(v[j]) / at_peak:.0%}" for rid, v in sorted(made.items(), key=lambda kv: -float(kv[1][j]))))
    lines.append("Endo activation over the run: " + ", ".join(
        f"{rid} {v / total:.0%}" for rid, v in sorted(whole.items(), key=lambda kv: -kv[1])))
    values = {p.id: p.value for p in spec.parameters}
    for sid, k in DRIVERS.items():
        x = series(ds, sid)
        above = float(np.sum(np.diff(t)[x[1:] > values[k]]))
        lines.append(f"{sid:10s} peak {x.max():8.4g} at {t[np.argmax(x)]:5.0f} h; at the leak peak {x[i] / values[k]:.2g}x "
                     f"{k} ({values[k]:g}); {above:.0f} h above it")
    return lines


def routes() -> list[str]:
    """car-t-crs MAP nadir and grade with one endothelial activation route switched off."""
    from cytonet.analysis.clinical import max_crs_grade
    from cytonet.scenarios import scenario_model, simulate_scenario

    lines = []
    for name, k in ROUTES.items():
        ds = simulate_scenario("car-t-crs", model=scenario_model("car-t-crs", {k: OFF}))
        lines.append(f"without {name} ({k}): MAP nadir {series(ds, 'MAP').min():.1f} mmHg, grade {max_crs_grade(ds)}")
    return lines


def dose_levels() -> list[float]:
    """Fractions of the 133 adults at CAR-T dose levels 1, 2 and 3 (``data/inflammatory_syndromes/summaries.tsv``)."""
    with open(ROOT / "data/inflammatory_syndromes/summaries.tsv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh, delimiter="\t") if r["quantity"].startswith("CAR-T dose level"))
    return [float(f) for f in row["value"].split("/")]


def scan() -> list[str]:
    """ASTCT grade, MAP nadir, IL-6 peak and CAR-T expansion over tumour-burden x CAR-T dose factors, and per tumour
    factor the grade fractions of a cohort with the trial's dose-level mix."""
    from cytonet.analysis.clinical import max_crs_grade
    from cytonet.scenarios import load_scenario, scenario_model, simulate_scenario

    base = load_scenario("car-t-crs")
    weights = dose_levels()
    lines = ["tumour x  CAR-T x  grade  MAP nadir  peak Endo  IL-6 peak  CAR-T peak / dose"]
    for tum in TUMOUR_FACTORS:
        grades = []
        for dose in DOSE_FACTORS:
            scale = {"tumour_burden": tum, "car_t_infusion": dose}
            events = [e.model_copy(update={"amount": e.amount * scale[e.id]}) for e in base.events]
            sc = base.model_copy(update={"events": events})
            ds = simulate_scenario(sc, model=scenario_model(sc))
            cart = series(ds, "CART") + series(ds, "CARTq")
            infused = next(e.amount for e in events if e.id == "car_t_infusion")
            grades.append(max_crs_grade(ds))
            lines.append(f"{tum:8g}  {dose:7g}  {grades[-1]:5d}  {series(ds, 'MAP').min():9.1f}  "
                         f"{series(ds, 'Endo').max():9.3f}  "
                         f"{series(ds, 'IL6').max():9.4g}  {cart.max() / infused:10.3g}")
        mix = dict(zip(grades, [0.0] * len(grades)))
        for g, w in zip(grades, weights):
            mix[g] += w
        lines.append(f"  dose-level mix {weights}: any grade {sum(w for g, w in mix.items() if g >= 1):.2f}, "
                     f"grade >= 3 {sum(w for g, w in mix.items() if g >= 3):.2f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-scan", action="store_true", help="only the endothelial drivers")
    args = ap.parse_args()
    t0 = time.perf_counter()
    for scenario in ("car-t-crs", "lps-endotoxemia"):
        print(f"== {scenario}")
        for line in drivers(scenario):
            print(f"  {line}")
        sys.stdout.flush()
    print("== car-t-crs: one endothelial activation route off (counterfactual)")
    for line in routes():
        print(f"  {line}")
    if not args.no_scan:
        print("== car-t-crs: tumour burden x CAR-T dose (factors on the scenario's boluses; counterfactual)")
        for line in scan():
            print(f"  {line}")
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
