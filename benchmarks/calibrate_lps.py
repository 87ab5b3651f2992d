"""Calibrate the LPS core of the reference network to human 2 ng/kg endotoxemia and predict held-out protocols.

Reproduces the calibration recorded in ``src/cytonet/model/data/reference_network.yaml`` (the
``calibration`` blocks of the fitted parameters) and the figures and prediction table of
``docs/validation.md``:

1. ``cytonet fit data/lps_human/calibration/problem.yaml --profile``: multistart least squares and
   profile likelihoods (95 % intervals) of the parameters the 2 ng/kg data identify;
2. the joint 95 % confidence region of those parameters (objective within chi2(0.95, n)/2 of the
   best fit, Latin-hypercube points in the box of the profile intervals) as a parameter ensemble;
3. every protocol of ``PROTOCOLS`` simulated for every ensemble member: the best-fit value and the
   ensemble's range are the prediction and its 95 % band, written to
   ``data/lps_human/calibration/predictions.tsv`` and plotted in ``docs/validation_*.png``.

``--write`` stores the estimates and intervals in the network YAML (value and ``calibration``) and
the estimates in the problem's parameter table. Run from the repository root:

    .venv/bin/python benchmarks/calibrate_lps.py --starts 3 --write     # about 15 min on 2 busy cores
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT / "data/lps_human/calibration/problem.yaml"
NETWORK = ROOT / "src/cytonet/model/data/reference_network.yaml"
PREDICTIONS = ROOT / "data/lps_human/calibration/predictions.tsv"
DOCS = ROOT / "docs"


def run_fit(starts: int, seed: int, out: Path) -> list[dict[str, str]]:
    """The fitted parameter table (estimate, ci95Lower/Upper, identifiable) of ``cytonet fit --profile``."""
    cmd = [sys.executable, "-m", "cytonet", "fit", str(PROBLEM), "--starts", str(starts), "--seed", str(seed),
           "--profile", "--workers", "1", "--out", str(out)]
    subprocess.run(cmd, check=True)
    return read_fit(out)


def read_fit(out: Path) -> list[dict[str, str]]:
    """The estimated rows of the parameter table a ``cytonet fit --profile`` run wrote into ``out``."""
    with open(out / "parameters.tsv", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["estimate"] == "1"]


#: parameters not fitted, profiled together with the fitted ones by ``--identifiability``
#: (parameterId, lower, upper, nominal): the TLR4 half-effect, the endothelial IL-6 rate and macrophage IL-10
#: (identifiable, but fixed: see its assumption in the network YAML)
CANDIDATES = [("K_LPS", 0.3, 3000.0, 30.0), ("k_IL6_Endo", 20.0, 200000.0, 2000.0), ("k_IL10_Ma", 2.5, 25000.0, 250.0)]


def identifiability(starts: int, seed: int) -> list[dict[str, str]]:
    """Profile the fitted parameters together with ``CANDIDATES`` on the same data: open intervals = not identifiable."""
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "calibration"
        shutil.copytree(PROBLEM.parent, work)
        (work / "problem.yaml").write_text(PROBLEM.read_text().replace("../../../src", str(ROOT / "src")).replace(
            "../", str(PROBLEM.parent.parent) + "/"))
        with open(work / "parameters.tsv", "a") as fh:
            for pid, lo, hi, nom in CANDIDATES:
                fh.write(f"{pid}\t{pid}\tlog10\t{lo}\t{hi}\t{nom}\t1\n")
        cmd = [sys.executable, "-m", "cytonet", "fit", str(work / "problem.yaml"), "--starts", str(starts), "--seed",
               str(seed), "--profile", "--workers", "1", "--out", str(Path(tmp) / "out")]
        subprocess.run(cmd, check=True)
        with open(Path(tmp) / "out" / "parameters.tsv", newline="") as fh:
            return [r for r in csv.DictReader(fh, delimiter="\t") if r["estimate"] == "1"]


def _datasets() -> list[str]:
    with open(PROBLEM.parent / "measurements.tsv", newline="") as fh:
        return sorted({r["datasetId"] for r in csv.DictReader(fh, delimiter="\t")})


def _bound(v: str) -> str:
    """A CI bound as YAML: the number, or null where the profile stays below the threshold up to the bound."""
    return f"{float(v):.4g}" if v.strip() else "null"


def with_calibration(text: str, pid: str, est: float, ci95: tuple[str, str], problem: str, datasets: str) -> str:
    """The network YAML ``text`` with value and ``calibration`` of ``pid`` set, keeping the file's layout."""
    m = re.search(rf"^- id: {re.escape(pid)}\n((?:  .*\n)+)", text, re.M)
    if m is None:
        raise SystemExit(f"parameter {pid} not found in {NETWORK}")
    body = re.sub(r"^  value: .*$", f"  value: {est:.4g}", m.group(1), count=1, flags=re.M)
    body = re.sub(r"^  calibration:\n(?:    .*\n)+", "", body, flags=re.M)
    body += (f"  calibration:\n    estimate: {est:.4g}\n    ci95: [{ci95[0]}, {ci95[1]}]\n"
             f"    problem: {problem}\n    datasets: [{datasets}]\n")
    return text[:m.start(1)] + body + text[m.end(1):]


def write_network(fitted: list[dict[str, str]]) -> None:
    """Set value and ``calibration`` of each fitted parameter in the network YAML and the problem's parameter table."""
    text = NETWORK.read_text()
    problem = PROBLEM.relative_to(ROOT).as_posix()
    data = ", ".join(_datasets())
    for r in fitted:
        ci95 = (_bound(r["ci95Lower"]), _bound(r["ci95Upper"]))
        text = with_calibration(text, r["parameterId"], float(r["nominalValue"]), ci95, problem, data)
    NETWORK.write_text(text)
    table = PROBLEM.parent / "parameters.tsv"
    with open(table, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    est = {r["parameterId"]: f'{float(r["nominalValue"]):.4g}' for r in fitted}
    for row in rows:
        row["nominalValue"] = est.get(row["parameterId"], row["nominalValue"])
    with open(table, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def ensemble(fitted: list[dict[str, str]], samples: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Parameter vectors (linear scale) inside the joint 95 % likelihood region, the best fit first.

    ``samples`` Latin-hypercube points (log scale) in the box of the profile intervals padded by 15 % (a bound of the
    problem where a profile is open); those whose objective lies within chi2(0.95, n)/2 of the best fit are kept. A grid
    would need grid**n objective evaluations, too many for five parameters.
    """
    from scipy.stats import chi2, qmc

    from cytonet.fit.objective import Objective
    from cytonet.fit.problem import load_problem

    obj = Objective(load_problem(PROBLEM))
    ids = obj.ids
    by_id = {r["parameterId"]: r for r in fitted}
    best = np.array([np.log10(float(by_id[p]["nominalValue"])) for p in ids])
    f_best = obj(best)
    lows, highs = [], []
    lb, ub = obj.bounds
    for j, p in enumerate(ids):
        r = by_id[p]
        lo = np.log10(float(r["ci95Lower"])) if r["ci95Lower"] else lb[j]
        hi = np.log10(float(r["ci95Upper"])) if r["ci95Upper"] else ub[j]
        pad = 0.15 * (hi - lo)
        lows.append(max(lo - pad, lb[j]))
        highs.append(min(hi + pad, ub[j]))
    X = qmc.scale(qmc.LatinHypercube(d=len(ids), seed=seed).random(samples), lows, highs)
    limit = chi2.ppf(0.95, len(ids)) / 2
    keep = [x for x in X if obj(x) - f_best <= limit]
    print(f"ensemble: {len(keep)} of {len(X)} sampled points inside the joint 95 % region (limit {limit:.2f})")
    return ids, 10.0 ** np.array([best, *keep])


def _series(ds, name: str) -> np.ndarray:  # noqa: ANN001 - xarray.Dataset
    return ds[name].values if name in ds else ds["state"].sel(species=name).values


def _at(ds, name: str, t: float) -> float:  # noqa: ANN001
    return float(np.interp(t, ds.time.values, _series(ds, name)))


def _bolus(doses: list[tuple[float, float]], hours: float) -> Callable[[dict[str, float]], object]:
    from cytonet.scenarios import load_scenario, lps_protocol, simulate_scenario, with_lps

    sc = with_lps(load_scenario("lps-endotoxemia"), lps_protocol(doses))
    return lambda p: simulate_scenario(sc, hours=hours, parameters=p, points_per_hour=12)


def _treated(doses: list[tuple[float, float]], hours: float, drug: str, regimen: dict) -> Callable[[dict[str, float]], object]:
    """An LPS protocol with a drug given by ``regimen`` (keyword arguments of ``cytonet.therapy.Regimen``)."""
    import warnings

    from cytonet import simulate
    from cytonet.scenarios import load_scenario, lps_protocol, scenario_model, with_lps
    from cytonet.therapy import Regimen, treat

    sc = with_lps(load_scenario("lps-endotoxemia"), lps_protocol(doses))

    def run(p: dict[str, float]) -> object:
        spec, rest = scenario_model(sc, p)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Van Zee's 798 mg iv IL-1Ra is above anakinra's labelled iv range
            spec = treat(spec, drug, Regimen(**regimen))
        return simulate(spec, hours, n_points=int(hours * 12) + 1, initial=rest)
    return run


def _rise(ds, name: str, t0: float = 0.0) -> float:  # noqa: ANN001
    """Peak above the value at ``t0`` (the moment of the LPS bolus)."""
    return _peak(ds, name, t0) - _at(ds, name, t0)


def _peak(ds, name: str, t0: float = 0.0, t1: float = 1e9) -> float:  # noqa: ANN001
    t = ds.time.values
    return float(np.max(_series(ds, name)[(t >= t0) & (t <= t1)]))


def _attenuation(ds, name: str) -> float:  # noqa: ANN001
    """1 - (day-5 peak above rest) / (day-1 peak above rest), as in tests/scenarios/test_endotoxin_tolerance.py."""
    rest = float(_series(ds, name)[0])
    return 1.0 - (_peak(ds, name, 96, 120) - rest) / (_peak(ds, name, 0, 24) - rest)


def _mean_rise_pct(ds, name: str, t1: float) -> float:  # noqa: ANN001
    t, x = ds.time.values, _series(ds, name)
    w = t <= t1
    return float(100.0 * (np.trapezoid(x[w], t[w]) / t1 / x[0] - 1.0))


#: (id, protocol, quantity, unit, what is compared, function of the simulated Dataset(s))
PROTOCOLS: list[tuple[str, str, str, str, Callable]] = [
    ("il10_2h_2ngkg", "lps_2ngkg", "IL-10 at 2 h", "pg/mL", lambda r: _at(r["2"], "IL10", 2.0)),
    ("il6_2h_2ngkg", "lps_2ngkg", "total IL-6 at 2 h", "pg/mL", lambda r: _at(r["2"], "IL6_total", 2.0)),
    ("il6_6h_over_peak_2ngkg", "lps_2ngkg", "total IL-6 at 6 h / its peak", "1",
     lambda r: _at(r["2"], "IL6_total", 6.0) / _peak(r["2"], "IL6_total")),
    ("temp_rise_2ngkg", "lps_2ngkg", "peak temperature rise", "degC", lambda r: _peak(r["2"], "TEMP") - _at(r["2"], "TEMP", 0.0)),
    ("tnf_rise_2ngkg", "lps_2ngkg", "TNF peak above rest", "pg/mL", lambda r: _rise(r["2"], "TNF")),
    ("crp_rise_2ngkg", "lps_2ngkg", "CRP peak above rest", "mg/L", lambda r: _rise(r["2"], "CRP")),
    ("map_fall_2ngkg", "lps_2ngkg", "fall of mean arterial pressure", "mmHg",
     lambda r: _at(r["2"], "MAP", 0.0) - float(np.min(_series(r["2"], "MAP")))),
    ("crp_peak_1ngkg", "lps_1ngkg", "CRP peak", "mg/L", lambda r: _peak(r["1"], "CRP")),
    ("il10_3h_4ngkg", "lps_4ngkg", "IL-10 at 3 h", "pg/mL", lambda r: _at(r["4"], "IL10", 3.0)),
    ("tnf_2h_4ngkg", "lps_4ngkg", "TNF at 2 h", "pg/mL", lambda r: _at(r["4"], "TNF", 2.0)),
    ("tnf_mean_rise_0_6h_0.5ngkg", "lps_0.5ngkg", "mean TNF over 0-6 h above rest", "%", lambda r: _mean_rise_pct(r["0.5"], "TNF", 6.0)),
    ("il6_mean_rise_0_6h_0.5ngkg", "lps_0.5ngkg", "mean total IL-6 over 0-6 h above rest", "%",
     lambda r: _mean_rise_pct(r["0.5"], "IL6_total", 6.0)),
    ("tnf_peak_4_over_0.5ngkg", "lps_0.5ngkg,lps_4ngkg", "TNF peak 4 ng/kg / 0.5 ng/kg", "1",
     lambda r: _peak(r["4"], "TNF") / _peak(r["0.5"], "TNF")),
    ("tnf_attenuation_day5", "lps_2ngkg_daily_x5", "TNF response day 5 vs day 1, attenuation", "1",
     lambda r: _attenuation(r["x5"], "TNF")),
    ("il6_attenuation_day5", "lps_2ngkg_daily_x5", "total IL-6 response day 5 vs day 1, attenuation", "1",
     lambda r: _attenuation(r["x5"], "IL6_total")),
    ("il10_attenuation_day5", "lps_2ngkg_daily_x5", "IL-10 response day 5 vs day 1, attenuation", "1",
     lambda r: _attenuation(r["x5"], "IL10")),
    ("temp_peak_day5", "lps_2ngkg_daily_x5", "peak temperature on day 5", "degC", lambda r: _peak(r["x5"], "TEMP", 96, 120)),
    ("cort_peak_2ngkg", "lps_2ngkg", "peak plasma cortisol", "ng/mL", lambda r: _peak(r["2"], "CORT")),
    ("cort_peak_time_2ngkg", "lps_2ngkg", "time of the cortisol peak", "h",
     lambda r: float(r["2"].time.values[int(np.argmax(_series(r["2"], "CORT")))])),
    ("il1rn_over_il1b_peak_2ngkg", "lps_2ngkg", "IL-1Ra peak / IL-1beta peak", "1",
     lambda r: _peak(r["2"], "IL1RN") / _peak(r["2"], "IL1B")),
    ("stnfr1_peak_over_rest_2ngkg", "lps_2ngkg", "sTNFR1 peak / rest", "1",
     lambda r: _peak(r["2"], "sTNFR1") / _at(r["2"], "sTNFR1", 0.0)),
    ("il10_peak_hc0h", "lps_2ngkg+hydrocortisone_0h", "IL-10 peak, hydrocortisone 6 h immediately before LPS", "pg/mL",
     lambda r: _peak(r["hc0"], "IL10", 6.0)),
    ("il10_peak_ratio_hc6h", "lps_2ngkg+hydrocortisone_6h", "IL-10 peak, hydrocortisone ending 6 h before LPS / LPS alone", "1",
     lambda r: _peak(r["hc6"], "IL10", 12.0) / _peak(r["2"], "IL10")),
    ("tnf_rise_ratio_hc0h", "lps_2ngkg+hydrocortisone_0h", "TNF rise with / without hydrocortisone", "1",
     lambda r: _rise(r["hc0"], "TNF", 6.0) / _rise(r["2"], "TNF")),
    ("il6_peak_ratio_hc0h", "lps_2ngkg+hydrocortisone_0h", "total IL-6 peak with / without hydrocortisone", "1",
     lambda r: _peak(r["hc0"], "IL6_total", 6.0) / _peak(r["2"], "IL6_total")),
    ("temp_rise_hc0h", "lps_2ngkg+hydrocortisone_0h", "peak temperature rise with hydrocortisone", "degC",
     lambda r: _rise(r["hc0"], "TEMP", 6.0)),
    ("anakinra_6h_vanzee", "lps_2ngkg+IL1RA_133mg_h", "IL-1Ra drug in plasma at the end of the 6 h infusion", "ug/mL",
     lambda r: _at(r["ana"], "anakinra_central", 6.0)),
    ("tnf_peak_ratio_il1ra", "lps_2ngkg+IL1RA_133mg_h", "TNF peak with / without IL-1 blockade", "1",
     lambda r: _peak(r["ana"], "TNF") / _peak(r["2"], "TNF")),
    ("il6_peak_ratio_il1ra", "lps_2ngkg+IL1RA_133mg_h", "total IL-6 peak with / without IL-1 blockade", "1",
     lambda r: _peak(r["ana"], "IL6_total") / _peak(r["2"], "IL6_total")),
    ("temp_rise_ratio_il1ra", "lps_2ngkg+IL1RA_133mg_h", "temperature rise with / without IL-1 blockade", "1",
     lambda r: _rise(r["ana"], "TEMP") / _rise(r["2"], "TEMP")),
]

RUNS = {"0.5": ([(0.5, 0.0)], 24.0), "1": ([(1.0, 0.0)], 24.0), "2": ([(2.0, 0.0)], 24.0), "4": ([(4.0, 0.0)], 24.0),
        "x5": ([(2.0, 24.0 * d) for d in range(5)], 120.0)}

#: the held-out intervention studies (data/lps_human/interventions.tsv): hydrocortisone 3 ug/kg/min (70 kg) for
#: 6 h ending at LPS or 6 h before it (Barber et al. 1993, van der Poll et al. 1996); IL-1Ra 133 mg/h for 6 h from
#: the endotoxin (Van Zee et al. 1995)
TREATED = {"hc0": ([(2.0, 6.0)], 30.0, "hydrocortisone", {"dose": "75.6 mg", "route": "iv", "infusion_h": 6.0}),
           "hc6": ([(2.0, 12.0)], 36.0, "hydrocortisone", {"dose": "75.6 mg", "route": "iv", "infusion_h": 6.0}),
           "ana": ([(2.0, 0.0)], 24.0, "anakinra", {"dose": "798 mg", "route": "iv", "infusion_h": 6.0})}


def predict(ids: list[str], members: np.ndarray) -> tuple[list[dict], dict]:
    """Best-fit value and 95 % band of every protocol quantity, and the time courses for the plots."""
    sims = {**{k: _bolus(*v) for k, v in RUNS.items()}, **{k: _treated(*v) for k, v in TREATED.items()}}
    values = np.empty((len(members), len(PROTOCOLS)))
    courses: dict[str, list] = {k: [] for k in sims}
    for i, m in enumerate(members):
        p = dict(zip(ids, map(float, m)))
        r = {k: f(p) for k, f in sims.items()}
        values[i] = [fn(r) for *_, fn in PROTOCOLS]
        for k, ds in r.items():
            courses[k].append(ds)
    rows = [{"predictionId": pid, "protocol": proto, "quantity": q, "unit": u, "best": f"{values[0, j]:.4g}",
             "band95Lower": f"{values[:, j].min():.4g}", "band95Upper": f"{values[:, j].max():.4g}"}
            for j, (pid, proto, q, u, _) in enumerate(PROTOCOLS)]
    return rows, courses


def write_predictions(rows: list[dict]) -> None:
    with open(PREDICTIONS, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _measured() -> list[dict[str, str]]:
    with open(ROOT / "data/lps_human/measurements.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def plot(courses: dict) -> list[Path]:
    """Time courses with the ensemble band and the measurements: the fitted dose, the held-out doses, the 5-day protocol."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meas = _measured()
    out = []
    #: (species, axis label, observable, what the observable adds to the species: TEMP_rise is TEMP - 37)
    panels = [("IL6_total", "total IL-6 (pg/mL)", "obs_IL6", 0.0), ("IL10", "IL-10 (pg/mL)", "obs_IL10", 0.0),
              ("TNF", "TNF (pg/mL)", "obs_TNF", 0.0), ("TEMP", "temperature (°C)", "obs_TEMP_rise", 37.0),
              ("CRP", "CRP (mg/L)", "obs_CRP", 0.0)]
    fig, axs = plt.subplots(1, 5, figsize=(20, 3.8))
    colours = {"0.5": "tab:green", "2": "tab:blue", "4": "tab:red"}
    for ax, (name, label, obs, offset) in zip(axs, panels):
        for dose, c in colours.items():
            runs = courses[dose]
            t = runs[0].time.values
            Y = np.array([_series(ds, name) for ds in runs])
            ax.fill_between(t, Y.min(0), Y.max(0), color=c, alpha=0.25, lw=0)
            ax.plot(t, Y[0], color=c, label=f"{dose} ng/kg" + (" (fitted)" if dose == "2" else " (predicted)"))
            for m in meas:
                if obs and m["observableId"] == obs and m["simulationConditionId"] == f"lps_{dose}ngkg":
                    ax.errorbar(float(m["time"]), float(m["measurement"]) + offset, yerr=float(m["noiseParameters"]),
                                fmt="o", color=c, mfc="white" if dose != "2" else c, capsize=3)
        ax.set_xlim(0, 24 if name == "CRP" else 12)
        ax.set_xlabel("hours after LPS")
        ax.set_ylabel(label)
    axs[0].legend(fontsize=8)
    fig.suptitle("LPS dose series: best fit and 95 % band (joint confidence region); filled markers fitted, open held out")
    fig.tight_layout()
    out.append(DOCS / "validation_dose_series.png")
    fig.savefig(out[-1], dpi=90)
    plt.close(fig)

    fig, axs = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (name, label) in zip(axs, [("TNF", "TNF (pg/mL)"), ("IL6_total", "total IL-6 (pg/mL)"), ("TEMP", "temperature (°C)")]):
        runs = courses["x5"]
        t = runs[0].time.values
        Y = np.array([_series(ds, name) for ds in runs])
        ax.fill_between(t, Y.min(0), Y.max(0), color="tab:blue", alpha=0.25, lw=0)
        ax.plot(t, Y[0], color="tab:blue")
        ax.set_xlabel("hours (2 ng/kg LPS at 0, 24, 48, 72, 96 h)")
        ax.set_ylabel(label)
    fig.suptitle("Repeated challenge (predicted): five daily 2 ng/kg doses")
    fig.tight_layout()
    out.append(DOCS / "validation_repeated_challenge.png")
    fig.savefig(out[-1], dpi=90)
    plt.close(fig)

    # held-out interventions, on the clock of the LPS bolus (hydrocortisone runs are shifted by their 6 or 12 h lead)
    fig, axs = plt.subplots(1, 4, figsize=(16, 3.8))
    arms = [("2", 0.0, "tab:blue", "LPS 2 ng/kg"), ("hc0", 6.0, "tab:orange", "+ hydrocortisone ending at LPS"),
            ("hc6", 12.0, "tab:olive", "+ hydrocortisone ending 6 h before"), ("ana", 0.0, "tab:purple", "+ IL-1Ra 133 mg/h x 6 h")]
    panels = [("IL10", "IL-10 (pg/mL)"), ("TNF", "TNF (pg/mL)"), ("CORT", "cortisol (ng/mL)"), ("IL1RN", "IL-1Ra (pg/mL, log)")]
    for ax, (name, label) in zip(axs, panels):
        for key, lead, c, arm in arms:
            if name == "IL1RN" and key == "ana":
                continue  # the drug is its own species (anakinra_central), not endogenous IL-1Ra
            runs = courses[key]
            t = runs[0].time.values - lead
            Y = np.array([_series(ds, name) for ds in runs])
            ax.fill_between(t, Y.min(0), Y.max(0), color=c, alpha=0.25, lw=0)
            ax.plot(t, Y[0], color=c, label=arm)
        ax.set_xlim(-1, 12)
        ax.set_xlabel("hours after LPS")
        ax.set_ylabel(label)
    axs[0].errorbar(2.0, 162, yerr=27, fmt="o", color="tab:blue", capsize=3)
    axs[0].axhline(1784, color="tab:orange", ls=":", lw=1)
    axs[0].axhspan(1784 - 331, 1784 + 331, color="tab:orange", alpha=0.1, lw=0)
    axs[2].axhline(296, color="k", ls=":", lw=1)
    axs[3].set_yscale("log")
    axs[0].legend(fontsize=7)
    fig.suptitle("Counter-regulation (predicted, not fitted): hydrocortisone pretreatment (van der Poll 1996 IL-10 peak, "
                 "dotted band), endotoxin cortisol (Barber 1993, dotted), IL-1 blockade (Van Zee 1995)")
    fig.tight_layout()
    out.append(DOCS / "validation_counter_regulation.png")
    fig.savefig(out[-1], dpi=90)
    plt.close(fig)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--samples", type=int, default=600, help="Latin-hypercube points tried for the joint 95 %% region")
    ap.add_argument("--from-fit", type=Path, help="the output folder of a finished `cytonet fit --profile` of the problem: "
                    "use its estimates and intervals instead of fitting again")
    ap.add_argument("--write", action="store_true", help="store estimates and intervals in the network YAML")
    ap.add_argument("--identifiability", action="store_true",
                    help="only profile the fitted parameters together with the candidates the data cannot identify")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.identifiability:
        for r in identifiability(args.starts, args.seed):
            print(f'{r["parameterId"]}: {float(r["nominalValue"]):.4g} (95 % CI {_bound(r["ci95Lower"])} to '
                  f'{_bound(r["ci95Upper"])}, identifiable {r["identifiable"]})')
        return
    if args.from_fit:
        fitted = read_fit(args.from_fit)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            fitted = run_fit(args.starts, args.seed, Path(tmp))
    for r in fitted:
        print(f'{r["parameterId"]}: {float(r["nominalValue"]):.4g} (95 % CI {_bound(r["ci95Lower"])} to '
              f'{_bound(r["ci95Upper"])}, identifiable {r["identifiable"]})')
    if args.write:
        write_network(fitted)
    ids, members = ensemble(fitted, args.samples, args.seed)
    rows, courses = predict(ids, members)
    write_predictions(rows)
    for r in rows:
        print(f'{r["predictionId"]:32s} {r["best"]:>9s}  [{r["band95Lower"]}, {r["band95Upper"]}] {r["unit"]}')
    for p in plot(courses):
        print("wrote", p.relative_to(ROOT))
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
