"""What carries IL-10 in the untreated sepsis storm, and what IL-10 autoregulation would change (docs/model.md).

The reference network's TLR/NF-κB-induced monocyte IL-10 (``IL10_from_Mr_NFKB``, ``k_IL10_Mr`` fitted to IL-10 at 2 h
after 2 ng/kg LPS) gives the human 2 h IL-10 after a bolus and a first-day sepsis IL-10 peak 4.9x the septic-shock
median. This script measures, from the solver's own reaction fluxes, which source makes the IL-10 and how the storm's
monocyte NF-κB activity compares with the bolus's, on the shipped network and on variants with IL-10 braking its own
induction (de Waal Malefyt et al. 1991, doi:10.1084/jem.174.5.1209: IL-10 inhibits IL-10 synthesis by LPS-activated
human monocytes), the brake being the network's ``K_IL10_inh`` Hill term that already brakes the other macrophage
NF-κB outputs. The variants are built in memory; the network YAML is not changed. For each variant ``k_IL10_Mr`` is
refitted to the same datum (IL-10 162 pg/mL at 2 h, van der Poll 1996) by a one-dimensional root find with
``k_IL6_Mr`` held (``cytonet fit`` on ``data/lps_human/calibration/problem.yaml`` refits both; for the ``induced``
variant it gave k_IL10_Mr 1165 (95 % CI 630-1755) and k_IL6_Mr 3925, against 1166 here). Run from the repository root:

    .venv/bin/python benchmarks/septic_il10.py                 # all variants, about 2 min on 2 cores
    .venv/bin/python benchmarks/septic_il10.py --variant induced
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from cytonet.analysis.clinical import series
from scipy.optimize import brentq

ROOT = Path(__file__).resolve().parents[1]

#: the delayed release of the induced monocyte IL-10: its source is counted at the induction (``IL10_from_Mr_NFKB``)
RELEASE = "IL10_secretion_delay"
#: variant -> reactions that get the IL-10 brake (hill_inhibition, K_IL10_inh, n_hill)
VARIANTS = {"shipped": (), "induced": ("IL10_from_Mr_NFKB",), "induced+cortisol": ("IL10_from_Mr_NFKB", "IL10_from_Mr_GR"),
            "induced+macrophage": ("IL10_from_Mr_NFKB", "IL10_from_Ma")}
#: septic-shock median first-day IL-10 (J Clin Immunol 1995) from the sepsis summaries the tests use
SEPTIC_SHOCK_MEDIAN = ("IL10", "septic_shock_day1")


def _summary(species: str, key: str) -> float:
    with open(ROOT / "data/inflammatory_syndromes/summaries.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    (row,) = [r for r in rows if r["observableId"] == species and r["conditionId"] == key]
    return float(row["value"])


def _measured_il10_2h() -> float:
    with open(ROOT / "data/lps_human/measurements.tsv", newline="") as fh:
        (m,) = [r for r in csv.DictReader(fh, delimiter="\t") if r["observableId"] == "obs_IL10"
                and r["simulationConditionId"] == "lps_2ngkg"]
    return float(m["measurement"])


def braked_network(reactions: tuple[str, ...]):  # noqa: ANN201 - ModelSpec
    """The reference network with IL-10 braking each of ``reactions`` as it brakes the macrophage NF-κB outputs."""
    from cytonet.model.build import reference_network
    from cytonet.model.spec import Regulator, RegulatorKind

    spec = reference_network()
    brake = Regulator(species="IL10", kind=RegulatorKind.HILL_INHIBITION, params={"K": "K_IL10_inh", "n": "n_hill"})
    out = [r.model_copy(update={"regulators": [*r.regulators, brake]}) if r.id in reactions else r for r in spec.reactions]
    missing = set(reactions) - {r.id for r in spec.reactions}
    if missing:
        raise SystemExit(f"no such reactions in the network: {sorted(missing)}")
    return spec.model_copy(update={"reactions": out})


def _lps(base, p: dict[str, float], doses: list[tuple[float, float]], hours: float, drug: tuple | None = None):  # noqa: ANN001, ANN202
    from cytonet import simulate
    from cytonet.scenarios import load_scenario, lps_protocol, scenario_model, with_lps
    from cytonet.therapy import Regimen, treat

    sc = with_lps(load_scenario("lps-endotoxemia"), lps_protocol(doses))
    spec, rest = scenario_model(sc, p, base)
    if drug is not None:
        spec = treat(spec, drug[0], Regimen(**drug[1]))
    return simulate(spec, hours, n_points=int(hours * 12) + 1, initial=rest)


def refit(base) -> float:  # noqa: ANN001
    """k_IL10_Mr that gives the measured IL-10 at 2 h after 2 ng/kg on ``base``."""
    target = _measured_il10_2h()

    def miss(log_k: float) -> float:
        ds = _lps(base, {"k_IL10_Mr": 10.0 ** log_k}, [(2.0, 0.0)], 4.0)
        return float(np.interp(2.0, ds.time.values, series(ds, "IL10"))) - target
    return float(10.0 ** brentq(miss, 2.0, 4.5, xtol=1e-4))


def _peak_time(ds, name: str) -> float:  # noqa: ANN001
    return float(ds.time.values[int(np.argmax(series(ds, name)))])


def lps_readouts(base, p: dict[str, float]) -> dict[str, float]:  # noqa: ANN001
    """The LPS-side readouts the variant could move: fitted point, timing, held-out dose, tolerance, hydrocortisone."""
    two = _lps(base, p, [(2.0, 0.0)], 24.0)
    four = _lps(base, p, [(4.0, 0.0)], 6.0)
    x5 = _lps(base, p, [(2.0, 24.0 * d) for d in range(5)], 120.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hc = _lps(base, p, [(2.0, 6.0)], 30.0, ("hydrocortisone", {"dose": "75.6 mg", "route": "iv", "infusion_h": 6.0}))
    t = two.time.values
    tx = x5.time.values

    def attenuation(name: str) -> float:
        x = series(x5, name)
        return float(1.0 - (x[(tx >= 96)].max() - x[0]) / (x[tx < 24].max() - x[0]))
    il10 = series(two, "IL10")
    return {"IL-10 at 2 h, 2 ng/kg (fitted)": float(np.interp(2.0, t, il10)),
            "IL-10 at 1 h, 2 ng/kg": float(np.interp(1.0, t, il10)),
            "TNF peak time (h; tested 1-2)": _peak_time(two, "TNF"),
            "total IL-6 peak time (h; tested 1.5-3)": _peak_time(two, "IL6_total"),
            "IL-10 at 3 h, 4 ng/kg (427 +/- 348)": float(np.interp(3.0, four.time.values, series(four, "IL10"))),
            "day-5 attenuation TNF (0.97 +/- 0.03)": attenuation("TNF"),
            "day-5 attenuation IL-10 (0.87 +/- 0.07)": attenuation("IL10"),
            "IL-10 peak, hydrocortisone ending at LPS (1784 +/- 331)": float(series(hc, "IL10")[hc.time.values >= 6.0].max()),
            "IL-10 peak, LPS alone": float(il10.max())}


def sepsis_readouts(base, p: dict[str, float]) -> dict[str, float | str]:  # noqa: ANN001
    """IL-10 by source, monocyte NF-κB, MAP, storm label and ASTCT grade of the untreated storm (first week)."""
    from cytonet.analysis.clinical import max_crs_grade
    from cytonet.analysis.fired import production
    from cytonet.analysis.storm import classify
    from cytonet.scenarios import load_scenario, scenario_model, simulate_scenario

    spec, rest = scenario_model(load_scenario("sepsis-storm"), p, base)
    ds = simulate_scenario("sepsis-storm", hours=168.0, points_per_hour=12, model=(spec, rest))
    bolus_spec, bolus_rest = scenario_model(load_scenario("lps-endotoxemia"), p, base)
    bolus = simulate_scenario("lps-endotoxemia", hours=24.0, points_per_hour=12, model=(bolus_spec, bolus_rest))
    t = ds.time.values
    admission = float(t[int(np.argmax(ds["IL6_total"].values))])
    il10 = series(ds, "IL10")
    drive = series(ds, "Mr") * series(ds, "NFKB_mac")
    bolus_drive = series(bolus, "Mr") * series(bolus, "NFKB_mac")
    made_by = production(spec, ds, ["IL10", "IL10_pre"])
    sources = {**{r: v for r, v in made_by["IL10"].items() if r != RELEASE}, **made_by["IL10_pre"]}
    k = next(q.value for q in spec.parameters if q.id == "k_IL10_Mr")
    out: dict[str, float | str] = {
        "resting IL-10": float(il10[0]),
        "Mr x NF-kB peak, sepsis / 2 ng/kg bolus": float(drive.max() / bolus_drive.max()),
        "Mr x NF-kB mean over 0-24 h, sepsis / bolus": float(drive[t <= 24].mean() / bolus_drive.mean()),
        "first-day IL-10 peak (septic-shock median 48)": float(il10[(t >= admission) & (t <= admission + 24)].max()),
        "time of the IL-10 peak (h)": float(t[int(np.argmax(il10))]),
        "IL-10 at 24 h": float(np.interp(24.0, t, il10)),
        "IL-10 at 48 h": float(np.interp(48.0, t, il10))}
    for a, b in ((0.0, 6.0), (6.0, 24.0), (24.0, 48.0)):
        w = (t >= a) & (t <= b)
        made = {s: float(np.trapezoid(v[w], t[w])) for s, v in sources.items()}
        total = sum(made.values())
        out[f"IL-10 made {a:g}-{b:g} h, shares"] = " ".join(f"{s.removeprefix('IL10_')} {v / total:.2f}" for s, v in made.items())
        unbraked = k * np.trapezoid(drive[w], t[w])
        out[f"induced IL-10 kept {a:g}-{b:g} h (1 = unbraked)"] = made["IL10_from_Mr_NFKB"] / float(unbraked)
    week = ds.sel(time=slice(0.0, 168.0))
    out.update({"MAP nadir (septic shock < 65)": float(ds["MAP"].values.min()),
                "CRP peak": float(series(ds, "CRP").max()),
                "storm label": str(classify(week).label), "ASTCT grade": float(max_crs_grade(week))})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", choices=sorted(VARIANTS), action="append",
                    help="variant(s) to measure (default: all); 'shipped' is the network as it is")
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(f"septic-shock median first-day IL-10: {_summary(*SEPTIC_SHOCK_MEDIAN):g} pg/mL")
    for name in args.variant or list(VARIANTS):
        base = braked_network(VARIANTS[name])
        p = {} if name == "shipped" else {"k_IL10_Mr": refit(base)}
        print(f"== {name}: IL-10 brakes {', '.join(VARIANTS[name]) or 'none of its inductions'}; "
              f"k_IL10_Mr {p.get('k_IL10_Mr', 'as shipped')}")
        for key, value in {**lps_readouts(base, p), **sepsis_readouts(base, p)}.items():
            print(f"  {key:58s} {value:.4g}" if isinstance(value, float) else f"  {key:58s} {value}")
        sys.stdout.flush()
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
