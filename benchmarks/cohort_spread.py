"""The spread of the lps-endotoxemia virtual population against the spreads human endotoxemia cohorts reported.

For every row of ``data/lps_human/cohort_spreads.tsv`` it prints the cohort's statistic (CV,
IQR / median or a rank-correlation bound) with its 95 % interval given n and rounding, and the same
statistic over the simulated patients (95 % bootstrap), for

- ``default``: the shipped variation (``reference_default.yaml``, every CV an assumption), and
- ``fitted``: the same variation with ONE CV, that of the half-effect levels ``K_*``, fitted to ONE
  readout, the GENE study's peak-CRP IQR / median in 193 European-ancestry adults (Ferguson et al.
  2013); every other row is held out. ``--fit`` redoes the fit (a scan of the CV on common random
  numbers; the estimate is where the simulated statistic meets the reported one, the 95 % interval
  the CVs whose simulated statistic lies inside the cohort's interval) and writes
  ``data/lps_human/calibration/population_variation.yaml``.

It writes ``docs/validation_cohort_spread.png``. Run from the repository root:

    .venv/bin/python benchmarks/cohort_spread.py --fit          # about 2 min on 2 idle cores
    .venv/bin/python benchmarks/cohort_spread.py --seeds 0 1 2  # the verdicts under other seeds
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "data/lps_human/cohort_spreads.tsv"
FITTED = ROOT / "data/lps_human/calibration/population_variation.yaml"
FIGURE = ROOT / "docs/validation_cohort_spread.png"
#: the one variation group and the one readout of the fit
FIT_GROUP, FIT_ROW = "K_*", "CRP-peak-lps_1ngkg-n193"
FIT_GRID = np.round(np.arange(0.20, 0.601, 0.05), 2)


def rows() -> list[dict[str, str]]:
    from cytonet.population.cohort import read_spread_rows

    return read_spread_rows(TABLE)


def with_group_cv(vf, group: str, cv: float, note: str | None = None):
    """``vf`` with the CV of the group whose patterns are exactly [group] replaced (and its reason, if ``note``)."""
    if not any(v.parameters == [group] for v in vf.variations):
        raise SystemExit(f"no variation group {group!r}")
    out = []
    for v in vf.variations:
        if v.parameters == [group]:
            update = {"cv": float(cv)}
            if note:
                update.update(refs=["doi:10.1186/1479-5876-11-63"], assumption=note)
            v = v.model_copy(update=update)
        out.append(v)
    return vf.model_copy(update={"variations": out})


def simulate(vf, n: int, seed: int, work: Path, doses=(1.0, 2.0)) -> dict:
    from cytonet.population.cohort import simulate_cohort

    return {d: simulate_cohort(d, n, seed, str(work / f"{seed}_{d}_{abs(hash(vf.model_dump_json()))}"), vf, n // 2)
            for d in doses}


def comparisons(sims: dict) -> dict:
    from cytonet.population.cohort import CONDITION_DOSE, compare, row_id

    return {row_id(r): (r, compare(r, sims[CONDITION_DOSE[r["conditionId"]]])) for r in rows()}


def fit_cv(vf, group: str, row_id_: str, grid, n: int, seed: int, work: Path) -> tuple[float, float, float, list]:
    """Scan the CV of ``group`` in ``vf`` against one cohort row: the estimate (where the simulated statistic meets the
    reported one), the 95 % interval (the CVs whose simulated statistic lies inside the cohort's interval) and the scan."""
    from cytonet.population.cohort import (
        CONDITION_DOSE, cohort_interval, readout_values, row_id, simulated_statistic, spread_from_row,
    )

    row = next(r for r in rows() if row_id(r) == row_id_)
    dose = CONDITION_DOSE[row["conditionId"]]
    c = spread_from_row(row)
    target = cohort_interval(c)
    scan = []
    for cv in grid:
        sim = simulate(with_group_cv(vf, group, cv), n, seed, work, doses=(dose,))[dose]
        stat = simulated_statistic(c, readout_values(row["measure"], row["observableId"], sim))
        scan.append((float(cv), stat, sim.n))
        print(f"  {group} CV {cv:.2f}: simulated {c.statistic} {stat:.3f} ({sim.n} patients)", flush=True)
    cvs, stats = np.array([s[0] for s in scan]), np.array([s[1] for s in scan])
    if not np.all(np.diff(stats) > 0):
        print("  warning: the simulated statistic is not increasing along the scan", file=sys.stderr)
    estimate = float(np.interp(target.estimate, stats, cvs))
    low, high = (float(np.interp(b, stats, cvs, left=np.nan, right=np.nan)) for b in (target.low, target.high))
    return estimate, low, high, scan


def fit(n: int, seed: int, work: Path) -> tuple[float, float, float, list]:
    """Scan the K_* CV; the estimate and the 95 % interval of the fitted CV, and the scan."""
    from cytonet.population.sampling import load_variation

    return fit_cv(load_variation(), FIT_GROUP, FIT_ROW, FIT_GRID, n, seed, work)


def write_fitted(estimate: float, low: float, high: float, n: int, seed: int) -> None:
    from cytonet.population.sampling import load_variation

    note = (f"fitted (benchmarks/cohort_spread.py --fit, {n} patients, seed {seed}): the CV of the half-effect levels "
            f"is {estimate:.2f} (95 % interval {low:.2f}-{high:.2f}, the CVs whose simulated peak-CRP IQR/median after "
            "1 ng/kg lies inside the 95 % interval of the GENE study's 17.4 (12) mg/L in 193 European-ancestry adults, "
            "Ferguson et al. 2013, abstract); was 0.2, assumed")
    vf = with_group_cv(load_variation(), FIT_GROUP, round(estimate, 2), note)
    vf = vf.model_copy(update={"description": "The shipped default variation (reference_default.yaml) with one CV, "
                               "that of K_*, fitted to one cohort spread; written by benchmarks/cohort_spread.py --fit."})
    data = vf.model_dump(mode="json", exclude_none=True)
    first = ("parameters", "unit", "exclude")  # each group opens with what it varies
    data["variations"] = [{**{k: g[k] for k in first if k in g}, **{k: v for k, v in g.items() if k not in first}}
                          for g in data["variations"]]
    text = yaml.safe_dump(data, sort_keys=False, width=110)
    tmp = FITTED.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, FITTED)
    print(f"wrote {FITTED.relative_to(ROOT)}")


def table(results: dict[str, dict]) -> str:
    names = list(results)
    head = "| readout | statistic | cohort (95 % interval) | n | " + " | ".join(f"{k} (95 % bootstrap)" for k in names) + " |"
    lines = [head, "|" + "---|" * (4 + len(names))]
    for rid, (row, c0) in next(iter(results.values())).items():
        cells = []
        for k in names:
            c = results[k][rid][1]
            verdict = "fitted" if (k == "fitted" and rid == FIT_ROW) else ("inside" if c.inside else f"**outside** ({c.gap:+.2f})")
            cells.append(f"{c.simulated.estimate:.2f} ({c.simulated.low:.2f}–{c.simulated.high:.2f}), {verdict}")
        iv = c0.cohort
        cohort = f"< {row['value']} ({iv.high:.2f})" if c0.spread.kind == "upper_bound" else f"{iv.estimate:.2f} ({iv.low:.2f}–{iv.high:.2f})"
        lines.append(f"| {row['quantity']}, {row['conditionId']} | {c0.spread.statistic} | {cohort} | {row['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(results: dict[str, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = next(iter(results.values()))
    ids = list(first)
    fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(ids) + 1.2))
    y = np.arange(len(ids))[::-1]
    for yi, rid in zip(y, ids):
        c = first[rid][1].cohort
        low = max(c.low, -0.3)
        ax.plot([low, c.high], [yi, yi], color="0.6", lw=6, solid_capstyle="butt", label="cohort 95 % interval" if yi == y[0] else None)
        if first[rid][1].spread.kind != "upper_bound":
            ax.plot(c.estimate, yi, "|", color="k", ms=12, mew=2, label="cohort as reported" if yi == y[0] else None)
    for k, (name, res) in enumerate(results.items()):
        off = 0.15 if k == 0 else -0.15
        for yi, rid in zip(y, ids):
            s = res[rid][1].simulated
            ax.errorbar(s.estimate, yi + off, xerr=[[s.estimate - s.low], [s.high - s.estimate]], fmt="o",
                        color=f"C{k}", ms=4, capsize=2, label=f"simulated, {name} variation" if yi == y[0] else None)
    ax.set_yticks(y, [f"{first[r][0]['observableId']} {first[r][0]['measure'].replace('rank_correlation_rest_peak', 'rs rest~peak')}, "
                      f"{first[r][0]['conditionId']}, n={first[r][0]['n']} ({first[r][1].spread.statistic})"
                      + (" [fit]" if r == FIT_ROW else "") for r in ids], fontsize=8)
    ax.set_xlabel("between-subject spread (CV, IQR/median or Spearman rs)")
    ax.axvline(0, color="0.85", lw=0.8)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("lps-endotoxemia population vs human endotoxemia cohorts", fontsize=10)
    fig.tight_layout()
    fig.savefig(FIGURE, dpi=90)
    print(f"wrote {FIGURE.relative_to(ROOT)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400, help="patients per population (default 400)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="population seeds (default 0; the first makes the figure)")
    ap.add_argument("--fit", action="store_true", help="refit the K_* CV and write the fitted variation file")
    args = ap.parse_args()
    from cytonet.population.sampling import load_variation

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.fit:
            print(f"fit: CV of {FIT_GROUP} to {FIT_ROW}")
            est, low, high, _ = fit(args.n, args.seeds[0], work)
            print(f"  estimate {est:.3f}, 95 % interval {low:.3f}-{high:.3f}")
            write_fitted(est, low, high, args.n, args.seeds[0])
        variations = {"default": load_variation()}
        if FITTED.exists():
            variations["fitted"] = load_variation(FITTED)
        for k, seed in enumerate(args.seeds):
            results = {name: comparisons(simulate(vf, args.n, seed, work)) for name, vf in variations.items()}
            print(f"\nseed {seed}, {args.n} patients per population\n")
            print(table(results))
            if k == 0:
                figure(results)


if __name__ == "__main__":
    main()
