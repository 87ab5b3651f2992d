"""Global (SALib Sobol, Morris) and local sensitivity of outcomes, and identifiability from the sensitivity matrix.

Outcomes are computed per run from the batch engine's readouts: ``storm`` (0/1, so its mean is
the storm probability and Sobol indices split its variance), ``crs_grade``, ``hours_in_storm``
(scenarios on the reference network, by :func:`cytonet.analysis.outcomes.outcomes`), and
``peak:NAME`` / ``auc:NAME`` of any species or observable. Parameters vary over ranges, uniformly
or log-uniformly (``log=True``, sampled in log10). A :class:`Runner` simulates parameter rows:
:class:`ScenarioRunner` starts each run from that run's own resting state (the population
machinery), :class:`SpecRunner` from the spec's initial state.

Local sensitivity: ``S_ij = d log y_i / d log p_j`` for outputs y at chosen times, by central
differences in one batch. Its singular values show how many parameter combinations the outputs
determine; columns at an angle below ``1 - PAIR_COS`` are pairs the outputs cannot separate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cytonet.errors import CytonetError, close_matches

#: |cos| between two sensitivity columns above which the outputs cannot tell the parameters apart
PAIR_COS = 0.99
STORM_OUTCOMES = ("storm", "crs_grade", "hours_in_storm")


class SensitivityError(CytonetError):
    """A sensitivity request that cannot be run (names the parameter, outcome or range)."""


@dataclass(frozen=True)
class Range:
    parameter: str
    low: float
    high: float
    log: bool = True

    def bounds(self) -> tuple[float, float]:
        return (float(np.log10(self.low)), float(np.log10(self.high))) if self.log else (self.low, self.high)

    def values(self, u: np.ndarray) -> np.ndarray:
        """Sampled coordinates (log10 if ``log``) -> parameter values."""
        return 10.0 ** u if self.log else u


def fold_ranges(nominal: Mapping[str, float], parameters: Sequence[str], fold: float = 2.0) -> list[Range]:
    """Log-uniform ranges nominal / fold .. nominal * fold."""
    if not fold > 1:
        raise SensitivityError(f"--fold must be > 1, got {fold}")
    out = []
    for p in parameters:
        if p not in nominal:
            sugg = close_matches(p, nominal)
            raise SensitivityError(f"unknown parameter {p!r}" + (f"; did you mean {' or '.join(sugg)}?" if sugg else ""))
        v = float(nominal[p])
        if not v > 0:
            raise SensitivityError(f"parameter {p!r} has value {v}; fold ranges need a positive nominal value")
        out.append(Range(p, v / fold, v * fold, True))
    return out


class Runner(Protocol):
    t: np.ndarray
    nominal: dict[str, float]

    def __call__(self, values: Mapping[str, np.ndarray], names: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Readouts ``names`` (runs, time) for parameter columns ``values``, and which runs succeeded."""


@dataclass
class SpecRunner:
    """Runs of a model spec from its initial state on ``t``."""

    spec: Any
    t: np.ndarray
    rtol: float = 1e-6
    atol: float = 1e-9
    nominal: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        from cytonet.model.compile import compile_model

        self._cm = compile_model(self.spec)
        self.nominal = dict(zip(self._cm.parameters, self._cm.p.tolist()))

    def __call__(self, values: Mapping[str, np.ndarray], names: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        from cytonet.analysis.outcomes import series_of
        from cytonet.engine import simulate_batch

        ds = simulate_batch(self._cm, dict(values), float(self.t[-1]), t_eval=self.t, rtol=self.rtol, atol=self.atol, on_error="mask")
        return series_of(ds, tuple(names)), ds["status"].values == 0


@dataclass
class ScenarioRunner:
    """Runs of a shipped scenario, each from the resting state of its own parameters."""

    scenario: str
    points_per_hour: float = 2.0
    relax_hours: float = 5000.0
    nominal: dict[str, float] = field(init=False)
    t: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        from cytonet.model.compile import compile_model
        from cytonet.scenarios import host_model, load_scenario, scenario_model

        sc = load_scenario(self.scenario)
        spec, rest = scenario_model(sc)
        self._host = compile_model(host_model(sc).model_copy(update={"events": []}))
        self._arm = compile_model(spec)
        self._x_ref = np.array([rest[s] for s in self._host.species])
        self.t = np.linspace(0.0, sc.t_end, int(round(sc.t_end * self.points_per_hour)) + 1)
        self.nominal = dict(zip(self._host.parameters, self._host.p.tolist()))

    def __call__(self, values: Mapping[str, np.ndarray], names: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        from cytonet.analysis.outcomes import series_of
        from cytonet.engine import simulate_batch
        from cytonet.population.rest import rest_states

        n = len(next(iter(values.values())))
        P = np.tile(self._host.p, (n, 1))
        for pid, v in values.items():
            P[:, self._host.parameter_index(pid)] = v
        X, found = rest_states(self._host, P, self._x_ref, self.relax_hours)
        table = {pid: np.asarray(v, float) for pid, v in values.items()}
        table.update({sid: X[:, i] for i, sid in enumerate(self._host.species)})
        ds = simulate_batch(self._arm, table, float(self.t[-1]), t_eval=self.t, on_error="mask")
        return series_of(ds, tuple(names)), found & (ds["status"].values == 0)


def _readouts(outcomes: Sequence[str]) -> tuple[str, ...]:
    from cytonet.analysis.outcomes import NEEDED

    names: list[str] = []
    for o in outcomes:
        if o in STORM_OUTCOMES:
            names.extend(NEEDED)
        elif ":" in o and o.split(":", 1)[0] in ("peak", "auc"):
            names.append(o.split(":", 1)[1])
        else:
            raise SensitivityError(f"unknown outcome {o!r}; use storm, crs_grade, hours_in_storm, peak:NAME or auc:NAME")
    return tuple(dict.fromkeys(names))


def _run(runner: Runner, values: Mapping[str, np.ndarray], names: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    try:
        return runner(values, names)
    except (KeyError, ValueError):
        bad = [n for n in names if n not in _known(runner)]
        raise SensitivityError(f"unknown readout(s) {bad}: name species or observables of the model") from None


def _known(runner: Runner) -> set[str]:
    cm = getattr(runner, "_arm", None) or getattr(runner, "_cm", None)
    return set(cm.species) | set(cm.observables) if cm is not None else set()


def evaluate_outcomes(runner: Runner, values: Mapping[str, np.ndarray], outcomes: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each outcome per run (NaN where a run failed), and the success mask."""
    from cytonet.analysis.outcomes import outcomes as storm_outcomes

    names = _readouts(outcomes)
    series, ok = _run(runner, values, names)
    out: dict[str, np.ndarray] = {}
    if any(o in STORM_OUTCOMES for o in outcomes):
        so = storm_outcomes(runner.t, series)
    for o in outcomes:
        if o in STORM_OUTCOMES:
            v = np.asarray(so[o], float)
        else:
            kind, name = o.split(":", 1)
            x = series[name]
            v = np.max(x, axis=1) if kind == "peak" else np.trapezoid(x, runner.t, axis=1)
        out[o] = np.where(ok, v, np.nan)
    return out, ok


@dataclass
class GlobalResult:
    method: str
    ranges: list[Range]
    outcomes: list[str]
    runs: int
    failed: int
    table: Any  # DataFrame: outcome, parameter, index columns
    samples: np.ndarray = field(repr=False)
    values: dict[str, np.ndarray] = field(repr=False)


def global_sensitivity(runner: Runner, ranges: Sequence[Range], outcomes: Sequence[str], *, method: str = "sobol",
                       n: int = 64, seed: int = 0, levels: int = 4) -> GlobalResult:
    """Sobol (first-order and total indices) or Morris (mu*, sigma) indices of each outcome.

    Sobol uses Saltelli's scheme with ``n`` base samples (n * (d + 2) runs; n a power of 2); Morris
    ``n`` trajectories of ``levels`` levels (n * (d + 1) runs). Failed runs are counted and given
    the mean of the successful ones so the design stays balanced.
    """
    import pandas as pd

    if method not in ("sobol", "morris"):
        raise SensitivityError(f"method must be 'sobol' or 'morris', got {method!r}")
    if not ranges:
        raise SensitivityError("name at least one parameter to vary")
    for r in ranges:
        if r.parameter not in runner.nominal:
            sugg = close_matches(r.parameter, runner.nominal)
            raise SensitivityError(f"unknown parameter {r.parameter!r}" + (f"; did you mean {' or '.join(sugg)}?" if sugg else ""))
        if not r.low < r.high or (r.log and r.low <= 0):
            raise SensitivityError(f"parameter {r.parameter!r}: range [{r.low}, {r.high}] must increase (and be positive on a log scale)")
    problem = {"num_vars": len(ranges), "names": [r.parameter for r in ranges], "bounds": [list(r.bounds()) for r in ranges]}
    if method == "sobol":
        from SALib.sample import sobol as sampler

        if n < 2 or n & (n - 1):
            raise SensitivityError(f"Sobol needs a power of 2 base samples, got {n}")
        U = sampler.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        from SALib.sample import morris as sampler

        U = sampler.sample(problem, n, num_levels=levels, seed=seed)
    values = {r.parameter: r.values(U[:, j]) for j, r in enumerate(ranges)}
    Y, ok = evaluate_outcomes(runner, values, outcomes)
    rows = []
    for o in outcomes:
        y = Y[o].copy()
        y[~np.isfinite(y)] = np.nanmean(y) if np.isfinite(y).any() else 0.0
        if method == "sobol":
            from SALib.analyze import sobol

            constant = np.ptp(y) == 0
            res = None if constant else sobol.analyze(problem, y, calc_second_order=False, seed=seed)
            for j, r in enumerate(ranges):
                rows.append({"outcome": o, "parameter": r.parameter,
                             "S1": 0.0 if constant else float(res["S1"][j]), "S1_conf": 0.0 if constant else float(res["S1_conf"][j]),
                             "ST": 0.0 if constant else float(res["ST"][j]), "ST_conf": 0.0 if constant else float(res["ST_conf"][j])})
        else:
            from SALib.analyze import morris

            res = morris.analyze(problem, U, y, num_levels=levels, seed=seed)
            for j, r in enumerate(ranges):
                rows.append({"outcome": o, "parameter": r.parameter, "mu_star": float(res["mu_star"][j]),
                             "mu_star_conf": float(res["mu_star_conf"][j]), "sigma": float(res["sigma"][j]), "mu": float(res["mu"][j])})
    return GlobalResult(method, list(ranges), list(outcomes), int(U.shape[0]), int((~ok).sum()), pd.DataFrame(rows), U, Y)


@dataclass
class LocalResult:
    parameters: list[str]
    outputs: list[str]  # "NAME@t"
    matrix: np.ndarray  # d log y / d log p (outputs, parameters)
    singular_values: np.ndarray
    directions: np.ndarray  # right singular vectors (rows), weakest last
    pairs: list[tuple[str, str, float]]  # parameter pairs the outputs cannot separate, with |cos|

    @property
    def condition_number(self) -> float:
        s = self.singular_values
        return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


def local_sensitivity(runner: Runner, parameters: Sequence[str], outputs: Sequence[str], times: Sequence[float] | None = None,
                      *, step: float = 1e-3) -> LocalResult:
    """``d log y / d log p`` of ``outputs`` (species/observables) at ``times`` (default: every output time), SVD and inseparable pairs."""
    for p in parameters:
        if p not in runner.nominal:
            sugg = close_matches(p, runner.nominal)
            raise SensitivityError(f"unknown parameter {p!r}" + (f"; did you mean {' or '.join(sugg)}?" if sugg else ""))
        if not runner.nominal[p] > 0:
            raise SensitivityError(f"parameter {p!r} is {runner.nominal[p]}; log sensitivities need a positive value")
    d = len(parameters)
    if d == 0 or not outputs:
        raise SensitivityError("name at least one parameter and one output")
    base = np.array([runner.nominal[p] for p in parameters])
    factors = np.vstack([np.ones(d), np.exp(step * np.eye(d)), np.exp(-step * np.eye(d))])
    values = {p: base[j] * factors[:, j] for j, p in enumerate(parameters)}
    series, ok = _run(runner, values, tuple(outputs))
    if not ok.all():
        raise SensitivityError(f"{int((~ok).sum())} of {ok.size} perturbed runs failed; try a smaller step")
    idx = np.arange(runner.t.size) if times is None else np.searchsorted(runner.t, np.asarray(times, float))
    idx = idx[(idx < runner.t.size)]
    rows, labels = [], []
    for name in outputs:
        x = series[name][:, idx]  # (2d + 1, n_t)
        scale = np.maximum(np.abs(x[0]), 1e-12 * max(np.abs(x[0]).max(), 1e-300))
        S = (x[1:d + 1] - x[d + 1:]) / (2 * step) / scale  # (d, n_t)
        rows.append(S.T)
        labels.extend(f"{name}@{runner.t[i]:g}" for i in idx)
    M = np.vstack(rows)
    _, sv, Vt = np.linalg.svd(M, full_matrices=False)
    norms = np.linalg.norm(M, axis=0)
    pairs = []
    for a in range(d):
        for b in range(a + 1, d):
            if norms[a] > 0 and norms[b] > 0:
                c = abs(float(M[:, a] @ M[:, b] / (norms[a] * norms[b])))
                if c >= PAIR_COS:
                    pairs.append((parameters[a], parameters[b], c))
    return LocalResult(list(parameters), labels, M, sv, Vt, pairs)


def plot_global(res: GlobalResult, path: Path) -> Path:
    """One bar panel per outcome: S1 and ST (Sobol) or mu* with sigma (Morris)."""
    from cytonet.report.plots import _figure, _save

    k = len(res.outcomes)
    fig, axes = _figure(k, 1, 8.0, 2.6 * k + 0.6)
    names = [r.parameter for r in res.ranges]
    x = np.arange(len(names))
    for ax, o in zip(axes, res.outcomes):
        t = res.table[res.table.outcome == o]
        if res.method == "sobol":
            ax.bar(x - 0.2, t.S1, 0.4, yerr=t.S1_conf, label="S1")
            ax.bar(x + 0.2, t.ST, 0.4, yerr=t.ST_conf, label="ST")
        else:
            ax.bar(x - 0.2, t.mu_star, 0.4, yerr=t.mu_star_conf, label="mu*")
            ax.bar(x + 0.2, t.sigma, 0.4, label="sigma")
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_title(o, fontsize=9)
        ax.legend(fontsize=7)
    return _save(fig, path)


def plot_local(res: LocalResult, path: Path) -> Path:
    """Singular values of the sensitivity matrix (log scale) and the weakest direction."""
    from cytonet.report.plots import _figure, _save

    fig, (a, b) = _figure(1, 2, 11.0, 4.0)
    a.semilogy(np.arange(1, res.singular_values.size + 1), np.maximum(res.singular_values, 1e-300), "o-")
    a.set_xlabel("index")
    a.set_ylabel("singular value")
    a.set_title(f"condition number {res.condition_number:.3g}", fontsize=9)
    b.bar(np.arange(len(res.parameters)), res.directions[-1])
    b.set_xticks(np.arange(len(res.parameters)), res.parameters, rotation=30, ha="right", fontsize=8)
    b.set_title("weakest parameter direction (log p)", fontsize=9)
    return _save(fig, path)
