"""The MAP readout fitted on one LPS dataset, and what it predicts where it was not fitted (docs/validation.md).

MAP is ``93 * (1 - E_VASO_MAP * VASO) - g_LEAK_MAP * LEAK`` (``src/cytonet/model/data/reference_network.yaml``):
``VASO`` is NO-mediated vasodilation, induced by TNF (``VASO_by_TNF``, rate ``k_VASO_TNF``) and bounded at 1, so it
can take at most the fraction ``E_VASO_MAP`` of the resting pressure; ``LEAK`` (capillary leak) adds a volume loss.
``k_VASO_TNF`` is fitted with ``cytonet fit data/lps_human/calibration_map/problem.yaml --profile`` to one dataset, the
maximum MAP fall after 2 ng/kg LPS in 48 men (Coyle 2006, 13.0 +/- 1.3 mmHg, SEM). This script prints, at the estimate
and at both ends of its profile-likelihood 95 % interval, side by side with the linear leak proxy it replaced
(``93 - 80 * LEAK``, the same network with ``E_VASO_MAP = 0`` and ``g_LEAK_MAP = 80``):

- fitted: the 2 ng/kg fall and the time of its nadir;
- held out: the falls at 1 and 4 ng/kg (no human number read for them here: printed, not scored), the untreated
  sepsis-storm MAP nadir against the 65 mmHg septic-shock threshold (Sepsis-3), the part of that fall NO carries
  against the MAP rise NO-synthase inhibitors give in septic shock (Petros 1994: 80.9 -> 100.5 mmHg; Avontuur 1998:
  65 -> 93 mmHg), the car-t-crs MAP nadir and its ASTCT grade, and tocilizumab's rise of that nadir (test: > 2 mmHg).

A sensitivity section refits ``k_VASO_TNF`` to the same datum (the fall at 3 h; one parameter, one point, so the fit is
the root) for other values of the assumed leak gain ``g_LEAK_MAP`` (0, 28 = the network's, 80 = the old slope) and
prints the same held-out row for each: how much the held-out verdicts rest on that assumption.

A variant section adds IL-6 trans-signalling as a second driver of ``VASO`` (``VASO_by_IL6_sIL6R``, the endothelial
trans-signalling programme ``STAT3_endo`` times the current complex signal, as ``Endo_by_IL6_sIL6R``; maximal rate
``r * k_VASO_TNF``), refits ``k_VASO_TNF`` to the same datum for each weight ``r`` and prints the same row: a measured
variant, not adopted (docs/validation.md, Haemodynamics).

Between patients, the vasodilation gain ``E_VASO_MAP`` varies (``reference_default.yaml``); ``--fit-spread`` refits its
CV to the one spread of a vascular readout read here, the CV of the MAP fall in Coyle's 48 men (the scan of
``benchmarks/cohort_spread.py`` on that row). ``--crs`` prints the held-out CRS grade fractions of the
``car_t_crs_hill2018`` population (n = 60, seed 1, as ``tests/scenarios/test_crs_by_grade.py``) with and without that
variation, against Hay 2017. Run from the repository root:

    .venv/bin/python benchmarks/hemodynamics.py                # about a minute
    .venv/bin/python benchmarks/hemodynamics.py --plot         # and docs/validation_hemodynamics.png
    .venv/bin/python benchmarks/hemodynamics.py --fit-spread --crs
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cytonet.model.spec import ModelSpec

ROOT = Path(__file__).resolve().parents[1]
FIGURE = ROOT / "docs/validation_hemodynamics.png"
FIT = ROOT / "data/lps_human/calibration_map"
#: the linear leak proxy before the vasodilation state (the measured variant)
LINEAR = {"E_VASO_MAP": 0.0, "g_LEAK_MAP": 80.0}
#: leak gains of the sensitivity section (mmHg per unit LEAK): none, the network's assumption, the old slope
LEAK_GAINS = (0.0, 28.0, 80.0)
#: MAP of the network at rest (mmHg), the constant of the observable
REST = 93.0
SUMMARIES = ROOT / "data/inflammatory_syndromes/summaries.tsv"
#: the summaries.tsv conditions of NO-synthase inhibition in septic shock (rise of MAP on the inhibitor)
NOS_INHIBITION = ("septic_shock_nos_inhibition", "septic_shock_nos_inhibition_lname")
#: weights r of the IL-6 trans-signalling driver of vasodilation (maximal rate r * k_VASO_TNF), the measured variant
IL6_WEIGHTS = (0.5, 1.0, 2.0)
#: the between-patient group of the vasodilation gain and the one cohort row its CV is fitted to
SPREAD_GROUP, SPREAD_ROW = "E_VASO_MAP", "MAP-fall-lps_2ngkg-n48"
SPREAD_GRID = np.round(np.arange(0.3, 1.61, 0.1), 2)
#: the CRS population of tests/scenarios/test_crs_by_grade.py
CRS_VARIATION, CRS_N, CRS_SEED = "car_t_crs_hill2018", 60, 1


def fitted() -> tuple[float, float, float]:
    """k_VASO_TNF's estimate and 95 % interval from the network YAML's calibration block."""
    from cytonet.model.build import reference_network

    p = next(p for p in reference_network().parameters if p.id == "k_VASO_TNF")
    lo, hi = p.calibration.ci95
    return p.value, lo, hi


def lps_fall(pars: dict[str, float], dose: str, base: ModelSpec | None = None) -> tuple[float, float]:
    """Maximum MAP fall (mmHg) and the time of the nadir (h) after an LPS bolus (``2ng/kg``)."""
    from cytonet.scenarios import load_scenario, simulate_scenario
    from cytonet.scenarios.lps import parse_lps, with_lps

    sc = with_lps(load_scenario("lps-endotoxemia"), parse_lps([dose]))
    ds = simulate_scenario(sc, hours=24, parameters=pars, points_per_hour=20, base=base)
    m = ds["MAP"].values
    return float(m[0] - m.min()), float(ds.time.values[m.argmin()])


def fall_at(pars: dict[str, float], hours: float, base: ModelSpec | None = None) -> float:
    """MAP fall (mmHg) below rest at ``hours`` after 2 ng/kg LPS: the fitted observable."""
    from cytonet.scenarios import load_scenario, simulate_scenario
    from cytonet.scenarios.lps import parse_lps, with_lps

    sc = with_lps(load_scenario("lps-endotoxemia"), parse_lps(["2ng/kg"]))
    ds = simulate_scenario(sc, hours=hours, parameters=pars, points_per_hour=8 / hours, base=base)
    return REST - float(ds["MAP"].values[-1])


def refit(overrides, fall: float, hours: float, base: ModelSpec | None = None) -> float:
    """``k_VASO_TNF`` giving ``fall`` mmHg at ``hours`` (the one-point fit's root); ``overrides(k)`` are the parameters."""
    from scipy.optimize import brentq

    def miss(log_k: float) -> float:
        return fall_at(overrides(10.0**log_k), hours, base) - fall

    return 10.0 ** brentq(miss, -3.0, 2.0, xtol=1e-4)


def il6_variant(weight: float) -> ModelSpec:
    """The reference network with IL-6 trans-signalling as a second driver of VASO, maximal rate ``k_VASO_IL6``
    (``weight`` times the shipped ``k_VASO_TNF``; the callers refit both together)."""
    from cytonet.model.build import reference_network
    from cytonet.model.spec import ModelSpec

    d = reference_network().model_dump()
    d["parameters"].append({"id": "k_VASO_IL6", "value": weight * default("k_VASO_TNF"), "unit": "1/h",
                            "assumption": "measured variant (benchmarks/hemodynamics.py): IL-6 trans-signalling drives "
                                          "vasodilation at weight times k_VASO_TNF"})
    d["reactions"].append({
        "id": "VASO_by_IL6_sIL6R", "rate_law": "regulated", "products": {"VASO": 1}, "params": {"k": "k_VASO_IL6"},
        "regulators": [{"species": "STAT3_endo", "kind": "linear"},
                       {"species": "IL6_sIL6R", "kind": "hill_activation", "params": {"K": "K_trans_endo", "n": "n_coop"}},
                       {"species": "VASO", "kind": "capacity", "params": {"K": "one"}}]})
    return ModelSpec.model_validate(d)


def default(pid: str) -> float:
    """A parameter's value in the shipped reference network."""
    from cytonet.model.build import reference_network

    return next(p.value for p in reference_network().parameters if p.id == pid)


def sepsis(pars: dict[str, float], base: ModelSpec | None = None) -> tuple[float, float, str]:
    """Untreated sepsis storm: MAP nadir, the MAP gain at that time were NO vasodilation removed, and the storm label."""
    from cytonet.analysis.storm import classify
    from cytonet.scenarios import simulate_scenario

    ds = simulate_scenario("sepsis-storm", parameters=pars, base=base)
    m = ds["MAP"].values
    i = int(m.argmin())
    vaso = float(ds.state.sel(species="VASO").values[i])
    return float(m[i]), REST * pars.get("E_VASO_MAP", default("E_VASO_MAP")) * vaso, classify(ds).label


def crs(pars: dict[str, float], base: ModelSpec | None = None) -> tuple[float, int, float, int]:
    """car-t-crs: MAP nadir, max ASTCT grade, tocilizumab's (8 mg/kg at 12 h) rise of the nadir after 24 h, and the max
    grade under tocilizumab."""
    from cytonet import simulate
    from cytonet.analysis.clinical import max_crs_grade
    from cytonet.scenarios import scenario_model
    from cytonet.therapy import Regimen, treat

    spec, rest = scenario_model("car-t-crs", pars, base)
    untreated = simulate(spec, 240, n_points=481, initial=rest)
    toci = simulate(treat(spec, "tocilizumab", Regimen("8 mg/kg", route="iv", start="12h")), 240, n_points=481, initial=rest)
    late = untreated.time.values >= 24
    rise = float(toci["MAP"].values[late].min() - untreated["MAP"].values[late].min())
    return float(untreated["MAP"].values.min()), int(max_crs_grade(untreated)), rise, int(max_crs_grade(toci))


def row(name: str, pars: dict[str, float], base: ModelSpec | None = None) -> list[str]:
    """One table row: the fitted LPS fall and every held-out readout under these parameter overrides."""
    f2, t2 = lps_fall(pars, "2ng/kg", base)
    f1, _ = lps_fall(pars, "1ng/kg", base)
    f4, t4 = lps_fall(pars, "4ng/kg", base)
    s_nadir, s_no, s_label = sepsis(pars, base)
    c_nadir, c_grade, c_rise, c_toci_grade = crs(pars, base)
    return [name, f"{f2:.1f}", f"{t2:.2f}", f"{f1:.1f}", f"{f4:.1f} @ {t4:.2f} h", f"{s_nadir:.1f}", f"{s_no:.1f}", s_label,
            f"{c_nadir:.1f}", str(c_grade), f"{c_rise:.2f} (grade {c_toci_grade})"]


HEADER = ["MAP readout", "2 ng/kg fall (fitted: 13.0 +/- 1.3)", "nadir h", "1 ng/kg fall", "4 ng/kg fall",
          "sepsis nadir (< 65)", "sepsis NO part (NOS inhibitors +19.6, +28)", "sepsis label", "CRS nadir",
          "CRS grade", "tocilizumab rise (> 2; grade under it)"]


def courses(pars: dict[str, float]) -> dict[str, tuple]:
    """MAP time courses (time, MAP) of 2 ng/kg LPS, the untreated sepsis storm and car-t-crs with and without tocilizumab."""
    from cytonet import simulate
    from cytonet.scenarios import load_scenario, scenario_model, simulate_scenario
    from cytonet.scenarios.lps import parse_lps, with_lps
    from cytonet.therapy import Regimen, treat

    lps = simulate_scenario(with_lps(load_scenario("lps-endotoxemia"), parse_lps(["2ng/kg"])), hours=24, parameters=pars)
    sep = simulate_scenario("sepsis-storm", parameters=pars)
    spec, rest = scenario_model("car-t-crs", pars)
    crs_base = simulate(spec, 240, n_points=481, initial=rest)
    crs_toci = simulate(treat(spec, "tocilizumab", Regimen("8 mg/kg", route="iv", start="12h")), 240, n_points=481, initial=rest)
    return {name: (ds.time.values, ds["MAP"].values) for name, ds in
            (("lps", lps), ("sepsis", sep), ("crs", crs_base), ("crs_toci", crs_toci))}


def plot(est: float, lo: float, hi: float, fall: float, sem: float, at_h: float) -> Path:
    """The MAP courses at the estimate (line) and the ends of its interval (band), and the linear proxy (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {"est": courses({"k_VASO_TNF": est}), "lo": courses({"k_VASO_TNF": lo}), "hi": courses({"k_VASO_TNF": hi}),
            "linear": courses(LINEAR)}
    panels = (("lps", "2 ng/kg LPS (fitted: Coyle 2006)"), ("sepsis", "untreated sepsis storm (held out)"),
              ("crs", "car-t-crs (held out)"), ("crs_toci", "car-t-crs, tocilizumab 8 mg/kg at 12 h (held out)"))
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    for ax, (key, title) in zip(axes, panels):
        t, m = runs["est"][key]
        ax.fill_between(t, runs["lo"][key][1], runs["hi"][key][1], color="C0", alpha=0.25, label="k_VASO_TNF 95 % CI")
        ax.plot(t, m, color="C0", label="vasodilation + leak (estimate)")
        ax.plot(*runs["linear"][key], color="C3", ls="--", label="linear leak proxy 93 - 80 LEAK")
        if key == "lps":
            ax.errorbar([at_h], [REST - fall], yerr=[sem], fmt="ko", capsize=3, label="Coyle 2006 (SEM), compared at 3 h")
        else:
            ax.axhline(65, color="0.5", lw=0.8, ls=":", label="65 mmHg (septic shock; ASTCT grade 3 cut)")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("h")
    axes[0].set_ylabel("MAP (mmHg)")
    axes[0].legend(fontsize=7, loc="lower right")
    axes[1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(FIGURE, dpi=90)
    plt.close(fig)
    return FIGURE


def fit_spread(n: int = 400, seed: int = 0) -> tuple[float, float, float]:
    """The CV of the vasodilation gain fitted to Coyle's spread of the MAP fall: estimate and 95 % interval."""
    from cytonet.population.sampling import load_variation

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from cohort_spread import fit_cv

    with tempfile.TemporaryDirectory() as tmp:
        est, low, high, _ = fit_cv(load_variation(), SPREAD_GROUP, SPREAD_ROW, SPREAD_GRID, n, seed, Path(tmp))
    return est, low, high


def crs_grades(vary_gain: bool) -> np.ndarray:
    """Max ASTCT grades of the CRS population, with the shipped variation or without the vasodilation-gain group."""
    from cytonet.population.runner import PopulationConfig, run_population
    from cytonet.population.sampling import load_variation
    from cytonet.store import runs as store

    vf = load_variation(CRS_VARIATION)
    if not vary_gain:
        vf = vf.model_copy(update={"variations": [v for v in vf.variations if v.parameters != [SPREAD_GROUP]]})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pop"
        run_population(PopulationConfig(scenario="car-t-crs", n=CRS_N, variation=vf, seed=CRS_SEED, batch_size=CRS_N),
                       out, show_progress=False, workers=1)
        g = np.asarray(store.connect(out).execute("SELECT crs_grade FROM patients ORDER BY patient").fetchnumpy()["crs_grade"])
    return g[g >= 0]


def hay_fractions() -> dict[str, float]:
    """Hay 2017's CRS grade fractions as tests/scenarios/test_crs_by_grade.py reads them: any, 1-2, >= 3, >= 4."""
    sys.path.insert(0, str(ROOT / "tests" / "scenarios"))
    from test_crs_by_grade import hay_grade_fractions

    f = hay_grade_fractions()
    return {"any": sum(f.values()), "1-2": f[1] + f[2], ">= 3": f[3] + f[4] + f[5], ">= 4": f[4] + f[5]}


def crs_table() -> None:
    """The held-out CRS grade fractions with and without the between-patient vasodilation gain, against Hay 2017."""
    from cytonet.population.summary import wilson

    hay = hay_fractions()
    print(f"\nCRS grades of {CRS_VARIATION} (n = {CRS_N}, seed {CRS_SEED}; Wilson 95 %) against Hay 2017:")
    print("| variation | patients | grades 0-4 | " + " | ".join(f"{k} (Hay {v:.3f})" for k, v in hay.items()) + " |")
    print("|" + "---|" * (3 + len(hay)))
    for vary, name in ((False, f"without {SPREAD_GROUP} variation (before)"), (True, "shipped")):
        g = crs_grades(vary)
        masks = {"any": g >= 1, "1-2": (g >= 1) & (g <= 2), ">= 3": g >= 3, ">= 4": g >= 4}
        cells = []
        for key, m in masks.items():
            ci = wilson(int(m.sum()), len(g))
            verdict = "inside" if ci.low <= hay[key] <= ci.high else "outside"
            cells.append(f"{ci.estimate:.2f} ({ci.low:.2f}-{ci.high:.2f}) {verdict}")
        print(f"| {name} | {len(g)} | {' / '.join(str(int((g == k).sum())) for k in range(5))} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plot", action="store_true", help=f"also write {FIGURE.relative_to(ROOT)}")
    ap.add_argument("--fit-spread", action="store_true", help=f"refit the between-patient CV of {SPREAD_GROUP} ({SPREAD_ROW})")
    ap.add_argument("--crs", action="store_true", help="the CRS population's grade fractions with and without that CV")
    args = ap.parse_args()
    if args.fit_spread:
        est_cv, low_cv, high_cv = fit_spread()
        print(f"CV of {SPREAD_GROUP} fitted to {SPREAD_ROW}: {est_cv:.3f} (95 % interval {low_cv:.3f}-{high_cv:.3f})")
    if args.crs:
        crs_table()
    if args.fit_spread or args.crs:
        return
    est, lo, hi = fitted()
    with open(FIT / "measurements.tsv", newline="") as fh:
        data = next(csv.DictReader(fh, delimiter="\t"))
    print(f"k_VASO_TNF = {est:.4g} 1/h (95 % profile CI {lo:.4g}-{hi:.4g}), fitted to {data['datasetId']}: "
          f"{data['measurement']} +/- {data['noiseParameters']} mmHg at {data['time']} h")
    with open(SUMMARIES, newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            if r["observableId"] == "MAP" and r["conditionId"] in NOS_INHIBITION:
                print(f"NOS inhibition in septic shock: MAP +{r['value']} mmHg ({r['spread']}; n = {r['n']}; {r['source']})")
    rows = [row(f"vasodilation + leak, k_VASO_TNF {k:.3g}", {"k_VASO_TNF": k}) for k in (est, lo, hi)]
    rows.append(row("linear leak proxy 93 - 80 LEAK (before)", LINEAR))
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print("\nSensitivity to the assumed leak gain (k_VASO_TNF refitted to the same datum for each):")
    print("| " + " | ".join(["g_LEAK_MAP (mmHg)", "refitted k_VASO_TNF", *HEADER[1:]]) + " |")
    print("|" + "---|" * (len(HEADER) + 1))
    fall, hours = float(data["measurement"]), float(data["time"])
    for gain in LEAK_GAINS:
        k = refit(lambda k, g=gain: {"k_VASO_TNF": k, "g_LEAK_MAP": g}, fall, hours)
        print("| " + " | ".join([f"{gain:g}", f"{k:.4g}", *row("", {"k_VASO_TNF": k, "g_LEAK_MAP": gain})[1:]]) + " |")
    print("\nVariant, not adopted: IL-6 trans-signalling as a second driver of VASO at r * k_VASO_TNF "
          "(k_VASO_TNF refitted to the same datum for each r):")
    print("| " + " | ".join(["r", "refitted k_VASO_TNF", *HEADER[1:]]) + " |")
    print("|" + "---|" * (len(HEADER) + 1))
    for r in IL6_WEIGHTS:
        base = il6_variant(r)
        k = refit(lambda k, w=r: {"k_VASO_TNF": k, "k_VASO_IL6": w * k}, fall, hours, base)
        print("| " + " | ".join([f"{r:g}", f"{k:.4g}", *row("", {"k_VASO_TNF": k, "k_VASO_IL6": r * k}, base)[1:]]) + " |")
    if args.plot:
        out = plot(est, lo, hi, float(data["measurement"]), float(data["noiseParameters"]), float(data["time"]))
        print("wrote", out.relative_to(ROOT))


if __name__ == "__main__":
    main()
