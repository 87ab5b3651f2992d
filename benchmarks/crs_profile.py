"""What drives the car-t-crs hypotension, against the LPS challenge where the MAP slope was set (docs/model.md).

MAP is ``93 * (1 - E_VASO_MAP * VASO) - g_LEAK_MAP * LEAK`` (``src/cytonet/model/data/reference_network.yaml``): VASO is
TNF-induced NO-mediated vasodilation (fitted on the LPS MAP fall, ``benchmarks/hemodynamics.py``); LEAK is raised by activated endothelium
(``LEAK_by_Endo``, Hill in Endo with K_Endo_leak) and Endo by TNF, IL-1β, IFN-γ and IL-6 trans-signalling. This script
measures, from the solver's own reaction fluxes (:func:`cytonet.analysis.fired.production`), which mediators activate
the endothelium in car-t-crs and in lps-endotoxemia (2 ng/kg), each mediator's level against its half-effect level,
and how long MAP stays below 65 mmHg, and the car-t-crs MAP nadir with one endothelial activation route switched off
(in memory; the network YAML is not changed). A steady-state section holds the four drivers at a common factor of
their levels at the car-t-crs leak peak and solves Endo, LEAK and MAP at steady state from the network's rate laws
(checked against the simulated plateau), giving the band of driver levels that lands in each hypotension grade.
It then scans the two trial-level predictors of CRS that Hay et al. 2017
(doi:10.1182/blood-2017-06-793141) name, marrow tumour burden and CAR-T dose, as factors on the scenario's two
boluses, and prints the ASTCT grade (:func:`cytonet.analysis.clinical.max_crs_grade`) of each combination, with the
grade fractions a cohort would have at the trial's dose-level mix (Hill et al. 2018, Table 1, read from
``data/inflammatory_syndromes/summaries.tsv``). The
factors are counterfactuals that show what the network can do over a range, not a fit and not a population.
``--population N`` runs N virtual patients of the shipped ``car_t_crs_hill2018`` variation (the host variation, the
trial's dose levels as per-patient CAR-T infusion amounts, a tumour-burden spread) and of its dose levels alone, and
prints their grade fractions with Wilson 95 % intervals against Hay 2017, by dose level and by MAP nadir band.
Run from the repository root:

    .venv/bin/python benchmarks/crs_profile.py            # under a minute once the kernels are built
    .venv/bin/python benchmarks/crs_profile.py --no-scan
    .venv/bin/python benchmarks/crs_profile.py --population 200   # and the Hill 2018 dose-level population (minutes)
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


#: common factors on the four endothelial driver levels of the car-t-crs leak peak (steady-state scan)
DRIVER_FACTORS = tuple(float(f) for f in np.geomspace(0.05, 4.0, 39))


def hill(x: np.ndarray | float, k: float, n: float) -> np.ndarray:
    x = np.maximum(np.asarray(x, float), 0.0)
    return x**n / (k**n + x**n)


def steady_leak(values: dict[str, float], tnf: float, il1b: float, il1rn: float, trans: float, ifng: float) -> dict[str, float]:
    """Endothelial activation, leak and MAP at steady state with the drivers held at these levels (pg/mL).

    The rate laws of the reference network: Endo gains ``(1 - Endo) * S`` with S the sum of the four Hill-activated
    routes (IL-1β braked by IL-1RA, IL-6 trans-signalling gated by the endothelial STAT3 programme, itself at its own
    steady state) and loses ``k_Endo_off * Endo``; LEAK gains ``k_LEAK_Endo * (1 - LEAK) * Hill(Endo; K_Endo_leak)``
    and loses ``k_LEAK_off * LEAK``; VASO gains ``k_VASO_TNF * (1 - VASO) * Hill(TNF; K_TNF_VASO)`` and loses
    ``k_VASO_off * VASO``; MAP = 93 (1 - E_VASO_MAP VASO) - g_LEAK_MAP LEAK.
    """
    v, n = values, values["n_coop"]
    h_trans = hill(trans, v["K_trans_endo"], n)
    stat3 = v["k_STAT3_endo_on"] * h_trans / (v["k_STAT3_endo_on"] * h_trans + v["k_STAT3_endo_off"])
    routes = (v["k_Endo_TNF"] * hill(tnf, v["K_TNF_endo"], n),
              v["k_Endo_IL1B"] * hill(il1b, v["K_IL1B_endo"], n) * (1 - hill(il1rn, v["K_IL1RN_block"], v["n_hill"])),
              v["k_Endo_IL6_sIL6R"] * stat3 * h_trans, v["k_Endo_IFNG"] * hill(ifng, v["K_IFNG_endo"], n))
    total = float(sum(routes))
    endo = total / (total + v["k_Endo_off"])
    on = v["k_LEAK_Endo"] * float(hill(endo, v["K_Endo_leak"], n))
    leak = on / (on + v["k_LEAK_off"])
    dilate = v["k_VASO_TNF"] * float(hill(tnf, v["K_TNF_VASO"], n))
    vaso = dilate / (dilate + v["k_VASO_off"])
    pressure = 93.0 * (1 - v["E_VASO_MAP"] * vaso) - v["g_LEAK_MAP"] * leak
    return {"S": total, "Endo": endo, "LEAK": leak, "VASO": vaso, "MAP": pressure, "tau_h": 1.0 / (on + v["k_LEAK_off"])}


def steady() -> list[str]:
    """Steady-state leak and MAP of car-t-crs against a common factor on its four endothelial drivers.

    The drivers are read at the simulated leak peak; the line 'check' compares the steady state they give with the
    simulated LEAK there (the plateau is quasi-steady when they agree). Then the grade-2 window: the MAP band between
    the grading's hypotension and one-vasopressor thresholds, as a band of LEAK, of Endo and of the driver factor.
    """
    from cytonet.analysis.clinical import HYPOTENSION as NO_PRESSOR, ONE_VASOPRESSOR, MULTI_VASOPRESSOR, hypotension_grade
    from cytonet.scenarios import load_scenario, scenario_model, simulate_scenario

    spec, rest = scenario_model(load_scenario("car-t-crs"))
    ds = simulate_scenario("car-t-crs", model=(spec, rest))
    values = {p.id: float(p.value) for p in spec.parameters}
    leak = series(ds, "LEAK")
    i = int(np.argmax(leak))
    at = {sid: float(series(ds, sid)[i]) for sid in ("TNF", "IL1B", "IL1RN", "IL6_sIL6R", "IFNG")}

    def state(f: float) -> dict[str, float]:
        return steady_leak(values, at["TNF"] * f, at["IL1B"] * f, at["IL1RN"], at["IL6_sIL6R"] * f, at["IFNG"] * f)

    now = state(1.0)
    lines = [f"check at the leak peak ({ds.time.values[i]:.0f} h): steady LEAK {now['LEAK']:.3f} from the drivers there vs "
             f"simulated {leak[i]:.3f}; Endo steady {now['Endo']:.3f} vs {series(ds, 'Endo')[i]:.3f}; the leak settles "
             f"with time constant {now['tau_h']:.1f} h against {float(np.sum(np.diff(ds.time.values)[leak[1:] > 0.9 * leak[i]])):.0f} h "
             "above 90 % of its peak",
             f"ceiling (every driver saturating): S {state(1e6)['S']:.2f}/h, Endo {state(1e6)['Endo']:.3f}, "
             f"LEAK {state(1e6)['LEAK']:.3f}, MAP {state(1e6)['MAP']:.1f} mmHg; the car-t-crs plateau S {now['S']:.2f}/h "
             f"({now['S'] / state(1e6)['S']:.0%} of it)"]
    band = {}
    grid = np.geomspace(1e-3, 1e3, 6001)
    states = [state(f) for f in grid]
    pressures = np.array([st["MAP"] for st in states])
    for cut in (NO_PRESSOR, ONE_VASOPRESSOR, MULTI_VASOPRESSOR):
        below = pressures < cut.value  # MAP falls monotonically with the common driver factor
        k = int(np.argmax(below)) if below.any() else -1
        f_cut, st = (float(grid[k]), states[k]) if k >= 0 else (float("nan"), {"LEAK": float("nan"), "Endo": float("nan"), "VASO": float("nan")})
        band[cut.value] = (st["LEAK"], st["Endo"], f_cut)
        lines.append(f"MAP {cut.value:g} mmHg (grade {int(hypotension_grade(np.array([cut.value - 0.01]))[0])} below): "
                     f"LEAK {st['LEAK']:.3f}, Endo {st['Endo']:.3f}, VASO {st['VASO']:.3f}, driver factor {f_cut:.3g}")
    (l2, e2, f2), (l3, e3, f3) = band[NO_PRESSOR.value], band[ONE_VASOPRESSOR.value]
    lines.append(f"grade-2 window (MAP {ONE_VASOPRESSOR.value:g}-{NO_PRESSOR.value:g}): LEAK {l2:.3f}-{l3:.3f}, Endo {e2:.3f}-{e3:.3f} "
                 f"(x{e3 / e2:.2f}), driver factor {f2:.3g}-{f3:.3g} (x{f3 / f2:.2f}); grade 4 from factor {band[MULTI_VASOPRESSOR.value][2]:.3g}")
    lines.append("factor  S/h    Endo   LEAK   VASO   MAP   hypotension grade")
    for f in DRIVER_FACTORS[::3]:
        st = state(f)
        lines.append(f"{f:6.3g}  {st['S']:.3f}  {st['Endo']:.3f}  {st['LEAK']:.3f}  {st['VASO']:.3f}  {st['MAP']:5.1f}  "
                     f"{int(hypotension_grade(np.array([st['MAP']]))[0])}")
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


#: the shipped variation with the trial's dose levels and a tumour-burden spread (src/cytonet/population/data/)
HILL_2018 = "car_t_crs_hill2018"
#: MAP nadir bands (mmHg) of the population table: normal, mild fall, the grade-2 band, grade 3, grade 4
MAP_BANDS = ((85.0, 94.0), (70.0, 85.0), (65.0, 70.0), (55.0, 65.0), (0.0, 55.0))


def hay_grades() -> list[float]:
    """Hay et al. 2017 fractions of grade 1..5 (``data/inflammatory_syndromes/summaries.tsv``)."""
    with open(ROOT / "data/inflammatory_syndromes/summaries.tsv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh, delimiter="\t") if r["quantity"].startswith("CRS grade 1 /"))
    return [float(f) for f in row["value"].split("/")]


def population(n: int, seed: int) -> list[str]:
    """ASTCT grades of a car-t-crs population at the Hill 2018 dose levels, with and without the burden spread,
    against Hay 2017 (Wilson 95 % intervals), by dose level, and by MAP nadir band with the febrile count."""
    import tempfile

    from cytonet.population.runner import PopulationConfig, run_population
    from cytonet.population.sampling import load_variation
    from cytonet.population.summary import wilson
    from cytonet.scenarios import load_scenario
    from cytonet.store import runs as store

    hay = hay_grades()
    published = {"any grade": sum(hay), "grade 1-2": hay[0] + hay[1], "grade >= 3": sum(hay[2:])}
    full = load_variation(HILL_2018)
    variants = {"dose levels + burden spread": full,
                "dose levels only": full.model_copy(update={"events": [e for e in full.events if e.event == "car_t_infusion"]})}
    lines = []
    for name, vf in variants.items():
        cfg = PopulationConfig(scenario="car-t-crs", n=n, variation=vf, seed=seed, batch_size=max(1, n // 2))
        with tempfile.TemporaryDirectory() as tmp:
            run_population(cfg, Path(tmp) / "pop", show_progress=False)
            p = store.connect(Path(tmp) / "pop").execute("SELECT * FROM patients WHERE status = 0").fetchnumpy()
        g, dose = np.asarray(p["crs_grade"]), np.asarray(p["car_t_infusion.amount"])
        lines.append(f"{name}: {g.size} of {n} patients simulated (seed {seed}); grades 0-4: {np.bincount(g, minlength=5).tolist()}")
        for label, k in (("any grade", int((g >= 1).sum())), ("grade 1-2", int(((g >= 1) & (g <= 2)).sum())),
                         ("grade >= 3", int((g >= 3).sum()))):
            ci = wilson(k, g.size)
            lines.append(f"  {label:10s} {ci.estimate:.2f} ({ci.low:.2f}-{ci.high:.2f}) vs Hay 2017 {published[label]:.3f}")
        nominal = next(e.amount for e in load_scenario("car-t-crs").events if e.id == "car_t_infusion")
        for level in np.unique(dose):
            lines.append(f"  CAR-T {level / nominal:g}x the scenario's dose: grades 0-4 {np.bincount(g[dose == level], minlength=5).tolist()}")
        nadir, fever = np.asarray(p["nadir_MAP"]), np.asarray(p["peak_TEMP"]) >= 38.0
        for lo, hi in MAP_BANDS:
            sel = (nadir >= lo) & (nadir < hi)
            lines.append(f"  MAP nadir {lo:g}-{hi:g}: {sel.sum():3d} patients, {int(fever[sel].sum()):3d} febrile, "
                         f"grades 0-4 {np.bincount(g[sel], minlength=5).tolist()}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-scan", action="store_true", help="no tumour x dose scan")
    ap.add_argument("--population", type=int, default=0, metavar="N",
                    help=f"also run N patients of the {HILL_2018} variation (and its dose levels alone)")
    ap.add_argument("--seed", type=int, default=1, help="sampling seed of --population")
    args = ap.parse_args()
    t0 = time.perf_counter()
    for scenario in ("car-t-crs", "lps-endotoxemia"):
        print(f"== {scenario}")
        for line in drivers(scenario):
            print(f"  {line}")
        sys.stdout.flush()
    print("== car-t-crs: steady-state leak and MAP against a common factor on the endothelial drivers")
    for line in steady():
        print(f"  {line}")
    print("== car-t-crs: one endothelial activation route off (counterfactual)")
    for line in routes():
        print(f"  {line}")
    if not args.no_scan:
        print("== car-t-crs: tumour burden x CAR-T dose (factors on the scenario's boluses; counterfactual)")
        for line in scan():
            print(f"  {line}")
    if args.population:
        print(f"== car-t-crs population, {HILL_2018} (Hill 2018 dose levels) against Hay 2017")
        for line in population(args.population, args.seed):
            print(f"  {line}")
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
