"""A virtual population's between-patient spread against the spread a human cohort reported.

A cohort reports its spread in one of three forms, each turned into a 95 % interval for the
spread *of the population it was drawn from* (so the interval is wide for a small cohort):

- ``sem``: mean ± SEM of n subjects. The statistic is the coefficient of variation CV = SD / mean
  with SD = SEM·√n.
- ``iqr_width``: median (IQR) where the IQR is given as one number, the width Q3 − Q1. The statistic
  is IQR / median.
- ``upper_bound``: a rank correlation reported only as "rs < value". The statistic is Spearman's rs;
  its interval is open below and ends at the Fisher-z 97.5 % bound given n.

For the first two the interval comes from inverting a test under a log-normal between-subject
distribution: every log-SD σ whose sampling distribution of the statistic (n subjects, 2.5–97.5 %)
contains the reported value is kept, and the kept σ are mapped back to the statistic's population
value. Rounding of the reported numbers widens the reported value to every value that rounds to it
(``value_resolution`` and ``spread_resolution``: the unit of the last printed digit of each number).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cytonet.errors import InputError, did_you_mean

if TYPE_CHECKING:
    from cytonet.population.sampling import VariationFile

#: z of the 97.5 % quantile of the standard normal
Z975 = 1.959963984540054
#: the quantile of the standard normal at the upper quartile (0.6745)
Z_Q3 = 0.6744897501960817
#: draws per log-SD value when a statistic's sampling distribution is simulated (fixed seed)
N_DRAWS = 2000
#: log-SD values scanned when an interval is inverted
SIGMA_GRID = np.linspace(0.02, 2.5, 249)


class SpreadKind(StrEnum):
    SEM = "sem"
    IQR_WIDTH = "iqr_width"
    UPPER_BOUND = "upper_bound"


@dataclass(frozen=True)
class CohortSpread:
    """One reported spread: ``value`` (mean, median or the bound) and ``spread`` (SEM or IQR width)."""

    kind: SpreadKind
    value: float
    n: int
    spread: float | None = None
    value_resolution: float = 0.0
    spread_resolution: float = 0.0

    @property
    def statistic(self) -> str:
        return {SpreadKind.SEM: "CV", SpreadKind.IQR_WIDTH: "IQR/median", SpreadKind.UPPER_BOUND: "Spearman rs"}[self.kind]

    def reported(self) -> tuple[float, float, float]:
        """The statistic as reported, and its lowest and highest values allowed by rounding."""
        if self.kind == SpreadKind.UPPER_BOUND:
            return self.value, self.value, self.value
        assert self.spread is not None
        hv, hs = self.value_resolution / 2, self.spread_resolution / 2
        factor = np.sqrt(self.n) if self.kind == SpreadKind.SEM else 1.0
        est = factor * self.spread / self.value
        return est, factor * max(self.spread - hs, 0.0) / (self.value + hv), factor * (self.spread + hs) / max(self.value - hv, 1e-300)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def __contains__(self, x: float) -> bool:
        return bool(self.low <= x <= self.high)


def population_statistic(kind: SpreadKind, sigma: np.ndarray | float) -> np.ndarray:
    """The statistic of a log-normal population with log-SD ``sigma`` (CV or IQR / median)."""
    s = np.asarray(sigma, float)
    if kind == SpreadKind.SEM:
        return np.sqrt(np.expm1(s**2))
    if kind == SpreadKind.IQR_WIDTH:
        return 2 * np.sinh(Z_Q3 * s)
    raise ValueError(f"no log-normal statistic for {kind}")


def sample_statistic(kind: SpreadKind, x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The statistic of samples ``x`` along ``axis`` (CV with ddof = 1, IQR / median with linear quantiles)."""
    if kind == SpreadKind.SEM:
        return np.std(x, axis=axis, ddof=1) / np.mean(x, axis=axis)
    if kind == SpreadKind.IQR_WIDTH:
        q1, q2, q3 = np.percentile(x, [25, 50, 75], axis=axis)
        return (q3 - q1) / q2
    raise ValueError(f"no sample statistic for {kind}; use spearman() for rank correlations")


def _lognormal_statistic(kind: SpreadKind, z: np.ndarray, sigma: float) -> np.ndarray:
    """:func:`sample_statistic` of the log-normal samples ``exp(sigma * z)``, ``z`` sorted along rows.

    exp keeps the order, so the quartiles (linear interpolation, as numpy's default) need only the
    order statistics around them.
    """
    if kind != SpreadKind.IQR_WIDTH:
        return sample_statistic(kind, np.exp(sigma * z))
    pos = np.array([0.25, 0.5, 0.75]) * (z.shape[1] - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, z.shape[1] - 1)
    x_lo, x_hi = np.exp(sigma * z[:, lo]), np.exp(sigma * z[:, hi])
    q1, q2, q3 = (x_lo + (pos - lo) * (x_hi - x_lo)).T
    return (q3 - q1) / q2


@lru_cache(maxsize=256)
def cohort_interval(c: CohortSpread, seed: int = 0, draws: int = N_DRAWS) -> Interval:
    """95 % interval of the cohort population's statistic given what was reported (see the module docstring)."""
    est, lo, hi = c.reported()
    if c.kind == SpreadKind.UPPER_BOUND:
        return Interval(est, -1.0, float(np.tanh(np.arctanh(c.value) + Z975 / np.sqrt(c.n - 3))))
    rng = np.random.default_rng(seed)
    # the same sorted normal draws for every sigma (exp keeps their order): a smooth acceptance region
    z = np.sort(rng.standard_normal((draws, c.n)), axis=1)
    stats = np.stack([_lognormal_statistic(c.kind, z, s) for s in SIGMA_GRID])
    q_lo, q_hi = np.percentile(stats, [2.5, 97.5], axis=1)
    kept = SIGMA_GRID[(q_hi >= lo) & (q_lo <= hi)]
    if kept.size == 0:
        raise InputError(f"reported {c.statistic} {est:.3g} (n = {c.n}) is outside every log-normal population with "
                         f"log-SD {SIGMA_GRID[0]}-{SIGMA_GRID[-1]}; check the value and its spread")
    pop = population_statistic(c.kind, kept)
    return Interval(float(est), float(pop.min()), float(pop.max()))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of paired samples (average ranks for ties)."""
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def simulated_statistic(c: CohortSpread, values: np.ndarray | tuple[np.ndarray, np.ndarray]) -> float:
    """The statistic of ``c`` on simulated patients: one array, or (rest, peak) for a rank correlation."""
    if c.kind == SpreadKind.UPPER_BOUND:
        x, y = values  # type: ignore[misc]
        return spearman(np.asarray(x), np.asarray(y))
    return float(sample_statistic(c.kind, np.asarray(values, float)))


def bootstrap(c: CohortSpread, values: np.ndarray | tuple[np.ndarray, np.ndarray], n_boot: int = 1000,
              seed: int = 0) -> Interval:
    """The simulated statistic with a 95 % percentile bootstrap over simulated patients."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(v, float) for v in (values if c.kind == SpreadKind.UPPER_BOUND else (values,))]
    m = arrays[0].size
    idx = rng.integers(0, m, (n_boot, m))
    if c.kind == SpreadKind.UPPER_BOUND:
        from scipy.stats import rankdata

        rx, ry = (rankdata(a[idx], axis=1) for a in arrays)  # Spearman's rs: Pearson's r of the ranks
        rx, ry = rx - rx.mean(axis=1, keepdims=True), ry - ry.mean(axis=1, keepdims=True)
        boots = np.sum(rx * ry, axis=1) / np.sqrt(np.sum(rx**2, axis=1) * np.sum(ry**2, axis=1))
    else:
        boots = sample_statistic(c.kind, arrays[0][idx], axis=1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return Interval(simulated_statistic(c, values), float(lo), float(hi))


MEASURES = ("peak", "rise", "fall", "rest", "rank_correlation_rest_peak")


def readout_values(measure: str, species: str, sim: SimulatedCohort) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Per-patient values of ``measure`` of ``species``: its peak, rise (peak − rest), fall (rest − nadir),
    rest, or (rest, peak) for a rank correlation."""
    table = {"peak": sim.peaks, "rise": sim.peaks, "fall": sim.nadirs, "rest": sim.rests, "rank_correlation_rest_peak": sim.peaks}
    if measure not in table:
        raise InputError(f"unknown measure {measure!r}{_hint(measure, MEASURES)}")
    if species not in table[measure] or species not in sim.rests:
        raise InputError(f"no {measure} of {species!r} in a simulated cohort; it keeps {', '.join(sorted(table[measure]))}")
    rest = sim.rests[species]
    return {"peak": lambda: sim.peaks[species], "rise": lambda: sim.peaks[species] - rest,
            "fall": lambda: rest - sim.nadirs[species], "rest": lambda: rest,
            "rank_correlation_rest_peak": lambda: (rest, sim.peaks[species])}[measure]()


def _hint(name: str, choices: tuple[str, ...]) -> str:
    return did_you_mean(name, choices, f"; expected one of {', '.join(choices)}")


#: the LPS dose (ng/kg) of the population a cohort-spread row is compared with, by its condition; a resting
#: ("healthy") row reads t = 0 of the 1 ng/kg run, whose start is the rest state
CONDITION_DOSE = {"lps_1ngkg": 1.0, "lps_2ngkg": 2.0, "healthy": 1.0}


def read_spread_rows(path: str | Path) -> list[dict[str, str]]:
    """The rows of a cohort-spread table (tab-separated with a header, as ``data/lps_human/cohort_spreads.tsv``)."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def row_id(row: Mapping[str, str]) -> str:
    """A cohort-spread row's id: observable, measure, condition and cohort size."""
    return f"{row['observableId']}-{row['measure']}-{row['conditionId']}-n{row['n']}"


def spread_from_row(row: Mapping[str, str]) -> CohortSpread:
    """A :class:`CohortSpread` from one row of a cohort-spread table (columns as in ``data/lps_human/cohort_spreads.tsv``)."""
    where = f"cohort-spread row {row.get('quantity', '?')!r}"
    kinds = tuple(str(k) for k in SpreadKind)
    if row.get("spread_kind") not in kinds:
        raise InputError(f"{where}: unknown spread_kind {row.get('spread_kind')!r}{_hint(str(row.get('spread_kind')), kinds)}")
    kind = SpreadKind(row["spread_kind"])
    if (kind == SpreadKind.UPPER_BOUND) != (row.get("measure") == "rank_correlation_rest_peak"):
        raise InputError(f"{where}: spread_kind upper_bound goes with measure rank_correlation_rest_peak and only with it, "
                         f"got {kind} with {row.get('measure')!r}")
    try:
        numbers = {k: float(row[k]) if row.get(k) else None
                   for k in ("value", "n", "spread", "value_resolution", "spread_resolution")}
    except ValueError as err:
        raise InputError(f"{where}: {err}; value, n, spread and the resolutions must be numbers") from None
    if numbers["value"] is None or not numbers["n"] or (kind != SpreadKind.UPPER_BOUND and numbers["spread"] is None):
        raise InputError(f"{where}: needs value, n and (unless upper_bound) spread")
    return CohortSpread(kind, numbers["value"], int(numbers["n"]), numbers["spread"],
                        numbers["value_resolution"] or 0.0, numbers["spread_resolution"] or 0.0)


@dataclass(frozen=True)
class SimulatedCohort:
    """Peaks, nadirs and resting values per simulated patient (only patients with a rest state and a finished run)."""

    peaks: dict[str, np.ndarray]
    rests: dict[str, np.ndarray]
    nadirs: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return next(iter(self.peaks.values())).size


#: readouts a simulated cohort keeps: peaks (or nadirs) from the outcome table, rests from the trajectory at t = 0
COHORT_READOUTS = ("TNF", "IL6", "IL10", "CRP", "TEMP")
COHORT_NADIRS = ("MAP",)


def simulate_cohort(dose_ng_per_kg: float, n: int, seed: int, out: str, variation: VariationFile | None = None,
                    batch_size: int | None = None) -> SimulatedCohort:
    """Run the ``lps-endotoxemia`` population (``variation``, default the shipped one) with one LPS bolus at 0 h into ``out``."""
    from cytonet.population.runner import PopulationConfig, run_population
    from cytonet.population.sampling import load_variation
    from cytonet.scenarios.lps import LpsBolus, LpsProtocol
    from cytonet.store.runs import connect

    cfg = PopulationConfig(scenario="lps-endotoxemia", n=n, variation=variation or load_variation(), seed=seed,
                           batch_size=batch_size or n, trajectory_points=2,
                           lps=LpsProtocol(boluses=(LpsBolus(dose_ng_per_kg=dose_ng_per_kg),)))
    run_population(cfg, out, show_progress=False)
    cols = ", ".join([*(f"p.peak_{s}" for s in COHORT_READOUTS), *(f"p.nadir_{s}" for s in COHORT_NADIRS),
                      *(f"t.{s} AS rest_{s}" for s in (*COHORT_READOUTS, *COHORT_NADIRS))])
    rows = connect(out).execute(
        f"SELECT {cols} FROM patients p JOIN trajectories t USING (patient, arm) "  # safe: column names from constant tuples
        "WHERE p.status = 0 AND t.time = 0 ORDER BY p.patient").fetchnumpy()

    def col(prefix: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        return {s: np.asarray(rows[f"{prefix}_{s}"], float) for s in names}

    return SimulatedCohort(col("peak", COHORT_READOUTS), col("rest", (*COHORT_READOUTS, *COHORT_NADIRS)), col("nadir", COHORT_NADIRS))


@dataclass(frozen=True)
class Comparison:
    """One cohort readout against the same readout of a simulated population."""

    spread: CohortSpread
    cohort: Interval  # the cohort population's statistic: 95 % interval
    simulated: Interval  # the simulated statistic: 95 % bootstrap over simulated patients

    @property
    def inside(self) -> bool:
        return self.simulated.estimate in self.cohort

    @property
    def gap(self) -> float:
        """How far the simulated statistic lies outside the cohort interval (0 inside; negative below)."""
        s = self.simulated.estimate
        return s - self.cohort.high if s > self.cohort.high else (s - self.cohort.low if s < self.cohort.low else 0.0)


@dataclass(frozen=True)
class MeanComparison:
    """A cohort's reported mean (mean +/- SEM rows) against the simulated population's mean."""

    value: float  # the cohort's mean
    simulated: float  # the simulated population's mean
    se: float  # standard error of their difference: the cohort's SEM (rounded up) and the simulated mean's
    resolution: float  # the rounding of the reported mean

    @property
    def half_width(self) -> float:
        """95 % half-width allowed for the difference: 1.96 standard errors plus half the mean's rounding."""
        return Z975 * self.se + self.resolution / 2

    @property
    def inside(self) -> bool:
        return abs(self.simulated - self.value) <= self.half_width

    @property
    def z(self) -> float:
        """The difference in units of its standard error."""
        return (self.simulated - self.value) / self.se


def compare_mean(row: Mapping[str, str], sim: SimulatedCohort) -> MeanComparison:
    """Compare a mean +/- SEM row's mean with the mean of the simulated population run under its condition."""
    c = spread_from_row(row)
    if c.kind != SpreadKind.SEM or c.spread is None:
        raise InputError(f"cohort-spread row {row.get('quantity', '?')!r} reports no mean +/- SEM (spread_kind {c.kind})")
    values = np.asarray(readout_values(row["measure"], row["observableId"], sim))
    se = float(np.hypot(c.spread + c.spread_resolution / 2, values.std(ddof=1) / np.sqrt(values.size)))
    return MeanComparison(c.value, float(values.mean()), se, c.value_resolution)


def compare(row: Mapping[str, str], sim: SimulatedCohort) -> Comparison:
    """Compare one cohort-spread row with the simulated population run under its condition."""
    c = spread_from_row(row)
    values = readout_values(row["measure"], row["observableId"], sim)
    return Comparison(c, cohort_interval(c), bootstrap(c, values))
