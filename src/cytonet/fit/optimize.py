"""Local optimisation from one start, and multistart fits in parallel (processes or a Dask cluster).

Optimisers (``method``):

- ``ls``: SciPy's trust-region reflective least squares on the weighted residuals with their
  Jacobian (Gauss-Newton model), for problems where that is the same problem (normal noise, fixed
  sigma, no priors: :attr:`Objective.least_squares`).
- ``fides``: the fides trust-region optimiser with the Fisher information as its Hessian where all
  noise is normal (:meth:`Objective.fisher`: the Gauss-Newton matrix ``J^T J`` for least-squares
  problems, plus the noise parameters' term where sigma is estimated), BFGS updates otherwise.
- ``fides-hybrid``: fides starting on the Fisher information and switching to BFGS updates after 20 iterations
  without a trust-region update (``fides.HybridFixed``, pyPESTO's default for fides with a Fisher information);
  BFGS alone under Laplace noise.
- ``fides-bfgs``: fides with BFGS updates.
- ``lbfgsb``: SciPy's L-BFGS-B on the objective and its gradient.

``auto`` takes ``fides`` (on the Fisher information) for every problem, least squares included: on the same
seeded starts (benchmarks/multistart.py, docs/fit.md) it reached the optimum as often as ``ls`` on Rahman_MBS2016
and Bruno_JExpBot2016 (in 1.26x and 0.48x the time) and got further on Fujita_SciSignal2010.

A start drawn from the initialisation priors whose objective or gradient is not
finite at its initial point (an integration failure, or a simulation at or below zero on a log
scale, as at extreme random parameters) is redrawn from the same priors, up to ``REDRAWS`` times
with seeds derived from (seed, start, attempt) (pyPESTO's checked start points); the number of
redraws is recorded. A start that still fails, or whose optimiser raises, is recorded as failed
with the reason and never stops the others.

A failed evaluation during a start (an integration failure, or past the integrator's step cap
``max_steps`` of :class:`ObjectiveSettings`) is never a finite objective or a zero gradient: the
optimiser gets an infinite objective (fides: with a NaN gradient; least squares: NaN residuals), so
it rejects the trial point and shrinks its step. A residual Jacobian that is not finite at an
accepted point (SciPy's least squares cannot reject one) ends the start at its best visited point,
with the reason as its exit. A start may be given ``max_seconds``: once spent, the start ends at its
best visited point with the exit ``TIME_BUDGET``. Failed evaluations are counted per start.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Literal

import numpy as np

from cytonet.errors import CytonetError
from cytonet.fit.objective import Objective, differences
from cytonet.fit.problem import PetabError, PetabProblem, load_problem

Method = Literal["auto", "ls", "fides", "fides-hybrid", "fides-bfgs", "lbfgsb"]
METHODS = ("auto", "ls", "fides", "fides-hybrid", "fides-bfgs", "lbfgsb")
#: starts within this objective distance of the best count as converged to it
CONVERGED_WITHIN = 0.1
#: a sampled start not finite at its initial point is redrawn this many times at most
REDRAWS = 20
#: optimiser iterations per start (SciPy least squares: residual evaluations; fides, L-BFGS-B: iterations)
MAX_ITER = 1000
#: a parameter this close to a bound, relative to the box's width, is at it (optimisers stop a hair inside)
AT_BOUND = 1e-6
#: a start whose last point fails to simulate reports the best of this many lowest visited points that simulates
BACKTRACK = 10
#: integrator steps per run between events in a fit (twice AMICI's default maxsteps of 10,000: Laske_PLOSComputBiol2019's
#: sensitivity run needs 10,000-20,000 at its nominal point). At some extreme start points of Fujita_SciSignal2010
#: the sensitivity run's steps collapse to ~1e-8 (200,000 steps, 15 s, for the first 0.003 s of 3600) while the states
#: alone take 0.03 s; with this cap that run fails in about 1 s and the gradient comes from differences
FIT_MAX_STEPS = 20_000


@dataclass
class StartResult:
    """One local optimisation: where it started and ended, and how."""

    start: int
    x0: list[float]
    x: list[float]
    objective: float
    llh: float
    chi2: float
    evaluations: int  # parameter vectors simulated
    seconds: float
    method: str
    status: str  # 'ok' | 'failed'
    message: str = ""
    redraws: int = 0  # start points drawn again because the objective was not finite at the earlier ones
    iterations: int = 0  # the optimiser's iterations (of a start stopped early: its calls of the objective)
    exit: str = ""  # why the optimiser stopped, in its own words
    gradient_norm: float = float("nan")  # max |gradient| at the end over the free parameters not held by a bound
    failed_evaluations: int = 0  # the optimiser's calls whose simulation failed (answered inf / NaN)


@dataclass
class ObjectiveSettings:
    """What a worker needs to rebuild the objective of a problem (picklable, hashable as JSON)."""

    problem: str
    rtol: float = 1e-8
    atol: float = 1e-12
    fd_step: float = 1e-4
    threads: int | None = None
    max_steps: int = FIT_MAX_STEPS
    gradient: str = "auto"

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@lru_cache(maxsize=4)
def cached_objective(key: str) -> Objective:
    s = ObjectiveSettings(**json.loads(key))
    return Objective(load_problem(s.problem), rtol=s.rtol, atol=s.atol, fd_step=s.fd_step, threads=s.threads,
                     max_steps=s.max_steps, gradient=s.gradient)


def resolve_method(objective: Objective, method: str) -> str:
    if method not in METHODS:
        raise PetabError(f"optimiser {method!r} is not known; use one of {list(METHODS)}")
    if method == "auto":
        return "fides"
    if method == "ls" and not objective.least_squares:
        raise PetabError("optimiser 'ls' needs a least-squares problem (normal noise, sigma not estimated, no priors); "
                         "use 'fides' or 'lbfgsb'")
    return method


class StartStopped(Exception):
    """A start ends early at its best visited point; the message is its exit."""


class _Counted:
    """Objective calls for an optimiser: failures give inf / NaN (never a finite value or a zero gradient) and are
    counted; past the ``deadline`` (time.perf_counter()) a call raises :class:`StartStopped`."""

    def __init__(self, obj: Objective, lb: np.ndarray, ub: np.ndarray, deadline: float = np.inf) -> None:
        self.obj, self.lb, self.ub, self.deadline = obj, lb, ub, deadline
        self.visited: list[tuple[float, np.ndarray]] = []  # (finite objective, point) of every call
        self.failures = 0  # calls whose objective, residuals or derivatives were not finite
        self.calls = 0

    def _seen(self, x: np.ndarray, f: float) -> None:
        self.calls += 1
        if time.perf_counter() > self.deadline:
            raise StartStopped("TIME_BUDGET")
        if np.isfinite(f):
            self.visited.append((f, x.copy()))
        else:
            self.failures += 1

    def clip(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.lb, self.ub)

    def residuals(self, x: np.ndarray) -> np.ndarray:
        x = self.clip(x)
        ev = self.obj.evaluate(x[None, :])
        self._seen(x, float(ev.objective[0]))
        return ev.residuals[0] if ev.ok[0] else np.full(ev.residuals.shape[1], np.nan)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """dr/dx at an accepted point; not finite there ends the start (a zero column would fake a stationary point)."""
        x = self.clip(x)
        ev, h = self.obj.derivatives(x)
        J = differences(ev.residuals, h).T
        finite = bool(ev.ok[0] and np.all(np.isfinite(J)))
        self._seen(x, float(ev.objective[0]) if finite else np.inf)
        if not finite:
            raise StartStopped("residual Jacobian not finite at an accepted point: "
                               + (next((e for e in ev.error if e), "") or "both neighbours of a difference failed"))
        return J

    def value_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        x = self.clip(x)
        f, g = self.obj.value_and_gradient(x)
        if not (np.isfinite(f) and np.all(np.isfinite(g))):  # a point whose gradient is undefined counts as failed
            f, g = np.inf, np.full_like(x, np.nan)
        self._seen(x, f)
        return f, g

    def value_grad_fisher(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """(objective, gradient, Fisher information), fides' (f, g, H) signature; J^T J for least-squares problems."""
        x = self.clip(x)
        ev, h = self.obj.derivatives(x)
        n = self.obj.n
        f = float(ev.objective[0])
        g = differences(ev.objective, h)
        if not (np.isfinite(f) and np.all(np.isfinite(g))):  # a point whose gradient is undefined counts as failed
            self._seen(x, np.inf)
            return np.inf, np.full(n, np.nan), np.eye(n)
        self._seen(x, f)
        return f, g, self.obj.fisher(x, ev, h)


def optimize_start(obj: Objective, x0: np.ndarray, *, method: str = "auto", max_iter: int = MAX_ITER, start: int = 0,
                   fixed: dict[int, float] | None = None, redraw: Callable[[int], np.ndarray] | None = None,
                   max_seconds: float | None = None) -> StartResult:
    """Minimise the objective from ``x0`` (parameter scale); ``fixed`` holds some positions at given values (profiles).

    ``redraw``(attempt) gives another start point (attempt = 1, 2, ... up to ``REDRAWS``) while the objective or
    its gradient is not finite at the current one; without it such a start fails. After ``max_seconds`` the
    optimiser is stopped and the start ends at its best visited point (exit ``TIME_BUDGET``)."""
    lb, ub = obj.bounds
    m = resolve_method(obj, method)
    t0, n0 = time.perf_counter(), obj.n_evaluations
    x0 = np.clip(np.asarray(x0, float), lb, ub)
    free = np.array([j for j in range(obj.n) if j not in (fixed or {})], int)

    def full(z: np.ndarray) -> np.ndarray:
        x = x0.copy()
        for j, v in (fixed or {}).items():
            x[j] = v
        x[free] = z
        return x

    def failed(reason: str, redraws: int) -> StartResult:
        return StartResult(start, x0.tolist(), x0.tolist(), float("inf"), float("-inf"), float("inf"),
                           obj.n_evaluations - n0, time.perf_counter() - t0, m, "failed", reason, redraws)

    c = _Counted(obj, lb, ub, t0 + max_seconds if max_seconds is not None else np.inf)
    redraws = 0
    while (reason := _not_finite_at(obj, full(x0[free]), free)) and redraw is not None and redraws < REDRAWS:
        redraws += 1
        x0 = np.clip(np.asarray(redraw(redraws), float), lb, ub)
    if reason:
        return failed(reason + (f" (after {redraws} redrawn start points)" if redraws else ""), redraws)
    try:
        z, iterations, stop = _run(m, c, full, free, x0[free], lb[free], ub[free], max_iter) if free.size else (x0[free], 0, "")
        x = c.clip(full(z))
    except StartStopped as why:  # the best visited point (the start point when none was finite)
        x = min(c.visited, key=lambda v: v[0])[1] if c.visited else x0
        iterations, stop = c.calls, f"{why} (after {obj.n_evaluations - n0} evaluations, {time.perf_counter() - t0:.0f} s)"
    except Exception as err:  # noqa: BLE001 - one start's failure (cytonet's or the optimiser's) is recorded, never fatal
        return failed(f"{type(err).__name__}: {err}", redraws)
    ev = obj.evaluate(x[None, :])
    message = ev.error[0]
    if not ev.ok[0]:  # the last point failed to simulate: the best visited point that simulates
        last = ev.error[0]
        for _, y in sorted(c.visited, key=lambda v: v[0])[:BACKTRACK]:
            ev = obj.evaluate(y[None, :])
            if ev.ok[0]:
                x, message = y, f"the optimiser's last point failed ({last}); reported: the best visited point that simulates"
                break
    status = "ok" if ev.ok[0] else "failed"
    gnorm = projected_gradient_norm(obj, x, free) if ev.ok[0] and free.size else float("nan")
    return StartResult(start, x0.tolist(), x.tolist(), float(ev.objective[0]), float(ev.llh[0]), float(ev.chi2[0]),
                       obj.n_evaluations - n0, time.perf_counter() - t0, m, status, message, redraws, iterations, stop, gnorm,
                       c.failures)


def projected_gradient_norm(obj: Objective, x: np.ndarray, free: np.ndarray) -> float:
    """max |d objective / d x_j| over the free j, where a component pointing out of the box at its bound (within
    ``AT_BOUND`` of the box's width) counts 0 (first-order optimality of a bound-constrained minimum: 0 there)."""
    lb, ub = obj.bounds
    try:
        _, g = obj.value_and_gradient(x)
    except CytonetError:
        return float("nan")
    near = AT_BOUND * (ub - lb)
    held = ((x <= lb + near) & (g > 0)) | ((x >= ub - near) & (g < 0))
    g = np.where(held, 0.0, g)[free]
    return float(np.max(np.abs(g))) if np.all(np.isfinite(g)) else float("nan")


def _not_finite_at(obj: Objective, x: np.ndarray, free: np.ndarray) -> str:
    """Why the objective (simulated, and as the gradient's runs give it) or its gradient (over ``free``) is not
    finite at x; '' if all are."""
    try:
        plain = obj.evaluate(x[None, :])
        ev, h = obj.derivatives(x)
    except CytonetError as err:
        return str(err)
    for e in (plain, ev):
        if not e.ok[0]:
            return f"objective not finite at the start: {e.error[0]}"
    g = differences(ev.objective, h)
    if not np.all(np.isfinite(g[free])):
        return "gradient not finite at the start (a neighbouring point failed: " + next(e for e in ev.error if e) + ")"
    return ""


def _run(m: str, c: _Counted, full: Callable[[np.ndarray], np.ndarray], free: np.ndarray, z0: np.ndarray,
         lb: np.ndarray, ub: np.ndarray, max_iter: int) -> tuple[np.ndarray, int, str]:
    """The optimiser's end point, its iterations and why it stopped."""
    from scipy.optimize import least_squares, minimize

    if m == "ls":
        res = least_squares(lambda z: c.residuals(full(z)), z0, jac=lambda z: c.jacobian(full(z))[:, free],
                            bounds=(lb, ub), method="trf", x_scale="jac", max_nfev=max_iter, xtol=1e-10, ftol=1e-10, gtol=1e-8)
        return res.x, int(res.njev), f"{res.message} (status {res.status}; {res.nfev} residual, {res.njev} Jacobian evaluations)"
    if m == "lbfgsb":
        def fg(z: np.ndarray) -> tuple[float, np.ndarray]:
            f, g = c.value_grad(full(z))
            return f, g[free]

        res = minimize(fg, z0, jac=True, method="L-BFGS-B", bounds=list(zip(lb, ub)), options={"maxiter": max_iter})
        return res.x, int(res.nit), f"{res.message} ({res.nfev} evaluations)"
    import logging

    import fides

    # a failed trial point gives fides a NaN gradient: fides tests its gradient-norm criterion on every trial point,
    # rejected ones too, so a zero there would stop the start as converged (seen on Perelson: exit GTOL at |g| 37)
    if m in ("fides", "fides-hybrid") and c.obj.normal_noise:
        def fun(z: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            f, g, H = c.value_grad_fisher(full(z))
            nan = np.nan if not np.isfinite(f) else 0.0
            return f, g[free] + nan, H[np.ix_(free, free)]
        update = fides.HybridFixed(fides.BFGS()) if m == "fides-hybrid" else None
    else:
        def fun(z: np.ndarray) -> tuple[float, np.ndarray]:  # type: ignore[misc]
            f, g = c.value_grad(full(z))
            return f, g[free] + (np.nan if not np.isfinite(f) else 0.0)
        update = fides.BFGS()
    opt = fides.Optimizer(fun, ub=ub, lb=lb, verbose=logging.WARNING, hessian_update=update,
                          options={fides.Options.MAXITER: max_iter, fides.Options.FATOL: 1e-8, fides.Options.FRTOL: 1e-10})
    # hess0="hess": a hybrid starts on the Fisher information too (fides would take the identity for its first step)
    opt.minimize(z0, hess0="hess" if isinstance(update, fides.HybridFixed) else None)
    return opt.x_min, int(opt.iteration), str(opt.exitflag)


# -- multistart -------------------------------------------------------------------------------
@dataclass
class MultistartResult:
    problem: str
    parameter_ids: list[str]
    method: str
    seed: int
    starts: list[StartResult] = field(default_factory=list)

    @property
    def ranked(self) -> list[StartResult]:
        return sorted(self.starts, key=lambda s: (s.status != "ok", s.objective))

    @property
    def best(self) -> StartResult:
        return self.ranked[0]

    @property
    def converged(self) -> int:
        b = self.best.objective
        return sum(1 for s in self.starts if s.status == "ok" and s.objective - b <= CONVERGED_WITHIN)

    @property
    def failed(self) -> int:
        return sum(1 for s in self.starts if s.status != "ok")

    @property
    def failed_evaluations(self) -> int:
        return sum(s.failed_evaluations for s in self.starts)

    @property
    def out_of_time(self) -> int:
        """Starts stopped by their time budget."""
        return sum(1 for s in self.starts if s.exit.startswith("TIME_BUDGET"))


def redraws_of(obj: Objective, seed: int | None, start: int) -> Callable[[int], np.ndarray] | None:
    """Replacement start points for sampled start ``start`` of a multistart seeded ``seed`` (None: no replacement):
    attempt k draws from the initialisation priors with a seed derived from (seed, start, k)."""
    if seed is None:
        return None
    return partial(_redrawn, obj.problem, seed, start)


def _redrawn(problem: PetabProblem, seed: int, start: int, attempt: int) -> np.ndarray:
    derived = int(np.random.SeedSequence([seed, start, attempt]).generate_state(1)[0])
    return problem.sample_starts(1, derived)[0]


def _start_task(key: str, x0: list[float], method: str, max_iter: int, start: int, seed: int | None,
                max_seconds: float | None = None) -> StartResult:
    """One start in a worker (the objective is built once per worker process)."""
    obj = cached_objective(key)
    return optimize_start(obj, np.asarray(x0), method=method, max_iter=max_iter, start=start, redraw=redraws_of(obj, seed, start),
                          max_seconds=max_seconds)


def multistart(settings: ObjectiveSettings, starts: int, seed: int = 0, *, method: Method = "auto", max_iter: int = MAX_ITER,
               workers: int = 2, dask: str | None = None, x0: np.ndarray | None = None,
               progress: Callable[[StartResult], None] | None = None, max_seconds: float | None = None) -> MultistartResult:
    """Fit from ``starts`` points drawn from the initialisation priors (seeded), in parallel.

    ``workers`` processes share the starts (1: in this process); ``dask`` = "local" or a scheduler
    address sends them to a Dask cluster instead. ``x0`` (starts, n) replaces the sampled points.
    ``max_seconds``: each start's time budget (see :func:`optimize_start`).
    """
    obj = cached_objective(settings.key())
    m = resolve_method(obj, method)
    if starts < 1:
        raise PetabError(f"--starts must be at least 1, got {starts}")
    X0 = obj.problem.sample_starts(starts, seed) if x0 is None else np.atleast_2d(np.asarray(x0, float))
    out = MultistartResult(str(settings.problem), obj.ids, m, seed)
    seed_of_redraws = seed if x0 is None else None  # given start points are never replaced
    tasks = [(x.tolist(), i) for i, x in enumerate(X0)]

    def collect(res: StartResult) -> None:
        out.starts.append(res)
        if progress:
            progress(res)

    if dask:
        _run_dask(dask, workers, settings, tasks, m, max_iter, seed_of_redraws, max_seconds, collect)
    elif workers <= 1:
        for x, i in tasks:
            collect(optimize_start(obj, np.asarray(x), method=m, max_iter=max_iter, start=i, redraw=redraws_of(obj, seed_of_redraws, i),
                                   max_seconds=max_seconds))
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        worker = ObjectiveSettings(**{**asdict(settings), "threads": settings.threads or 1})
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            futs = [pool.submit(_start_task, worker.key(), x, m, max_iter, i, seed_of_redraws, max_seconds) for x, i in tasks]
            for f in as_completed(futs):
                collect(f.result())
    out.starts.sort(key=lambda s: s.start)
    return out


def _run_dask(address: str, workers: int, settings: ObjectiveSettings, tasks: list, method: str, max_iter: int, seed: int | None,
              max_seconds: float | None, collect: Callable[[StartResult], None]) -> None:
    from distributed import Client, LocalCluster, as_completed

    worker = ObjectiveSettings(**{**asdict(settings), "threads": settings.threads or 1, "problem": str(Path(settings.problem).resolve())})
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) if address == "local" else None
    try:
        with Client(cluster if cluster is not None else address) as client:
            futs = [client.submit(_start_task, worker.key(), x, method, max_iter, i, seed, max_seconds, pure=False) for x, i in tasks]
            for f in as_completed(futs):
                collect(f.result())
    finally:
        if cluster is not None:
            cluster.close()
