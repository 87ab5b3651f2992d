"""Outcome distributions of a population run and the paired treatment effect with confidence intervals.

Proportions per arm: Wilson score interval (95 %). Treatment effects (treated minus untreated on the
same patients, only patients simulated in both arms): mean paired difference with a percentile
bootstrap over patients (2,000 resamples, fixed seed, so the summary is reproducible).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

Z95 = 1.959963984540054
N_BOOT = 2000


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class ArmSummary:
    arm: str
    n: int
    ok: int  # simulated successfully
    storm: Interval  # proportion with Wilson CI
    crs_counts: tuple[int, ...]  # grades 0..4
    il6_quartiles: tuple[float, float, float]
    peak_il6: np.ndarray


@dataclass(frozen=True)
class Effect:
    name: str
    estimate: float
    low: float
    high: float
    method: str
    pairs: int


@dataclass(frozen=True)
class Summary:
    arms: tuple[ArmSummary, ...]
    effects: tuple[Effect, ...]


def wilson(k: int, n: int, z: float = Z95) -> Interval:
    """Wilson score interval of a proportion k/n (NaN for n = 0)."""
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    p = k / n
    den = 1 + z**2 / n
    mid = (p + z**2 / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return Interval(p, max(0.0, mid - half), min(1.0, mid + half))


def paired_bootstrap(d: np.ndarray, seed: int = 0, n_boot: int = N_BOOT) -> Interval:
    """Mean of paired differences ``d`` with a 95 % percentile bootstrap interval."""
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, (n_boot, d.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return Interval(float(d.mean()), float(lo), float(hi))


def summarize(run_dir: str | Path) -> Summary:
    """Per-arm outcome distributions and, when both arms exist, paired treatment effects."""
    from cytonet.store.runs import connect

    con = connect(run_dir)
    rows = con.execute("SELECT patient, arm, status, storm, crs_grade, peak_IL6 FROM patients ORDER BY arm, patient").fetchnumpy()
    arms = []
    by_arm: dict[str, dict[str, np.ndarray]] = {}
    for arm in sorted(set(rows["arm"].tolist()), key=lambda a: (a != "untreated", a)):
        sel = rows["arm"] == arm
        r = {k: np.asarray(v)[sel] for k, v in rows.items()}
        ok = r["status"] == 0
        by_arm[arm] = {k: v[ok] for k, v in r.items()}
        il6 = r["peak_IL6"][ok].astype(float)
        q = tuple(float(x) for x in np.percentile(il6, [25, 50, 75])) if il6.size else (np.nan,) * 3
        arms.append(ArmSummary(arm, int(sel.sum()), int(ok.sum()), wilson(int(r["storm"][ok].sum()), int(ok.sum())),
                               tuple(int(np.sum(r["crs_grade"][ok] == g)) for g in range(5)), q, il6))  # type: ignore[arg-type]
    effects = []
    if {"untreated", "treated"} <= by_arm.keys():
        u, t = by_arm["untreated"], by_arm["treated"]
        common, iu, it = np.intersect1d(u["patient"], t["patient"], return_indices=True)
        if common.size:
            for name, du in (("storm risk difference", lambda a, i: a["storm"][i].astype(float)),
                             ("mean CRS grade difference", lambda a, i: a["crs_grade"][i].astype(float)),
                             ("mean log10 peak IL-6 difference", lambda a, i: np.log10(a["peak_IL6"][i].astype(float)))):
                iv = paired_bootstrap(du(t, it) - du(u, iu))
                effects.append(Effect(name, iv.estimate, iv.low, iv.high, "paired bootstrap, 95%", int(common.size)))
    return Summary(tuple(arms), tuple(effects))

