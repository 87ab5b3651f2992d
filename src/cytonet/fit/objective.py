"""The PEtab objective on cytonet's batch engine: log-likelihood, chi2, residuals, gradient and Jacobian.

For measurement ``m``, simulation ``y`` and noise ``sigma`` on the observable's transformation
``h`` (lin, log, log10), with ``r = (h(y) - h(m)) / sigma``, PEtab defines the negative log-likelihood

    normal:  0.5 * log(2 pi sigma^2) + 0.5 r^2 + J        laplace:  log(2 sigma) + |r| + J

with ``J = 0`` (lin), ``log m`` (log) or ``log(m ln 10)`` (log10), and ``chi2 = sum r^2``.
The objective minimised is the negative log-likelihood plus the objective priors' negative log
densities. Every evaluation simulates a *stack* of parameter vectors in one call of
:func:`cytonet.engine.simulate_batch`, so the central finite differences of the gradient (2n + 1
vectors) and of the residual Jacobian run as one parallel batch. A vector whose integration fails
gets an infinite objective (and NaN residuals); the others are unaffected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import numpy as np

from cytonet.fit.mapping import Layout, Phase, Source, build_layout
from cytonet.fit.problem import PetabError, PetabProblem
from cytonet.fit.sensitivities import ForwardSensitivities, SensitivityFailed
from cytonet.limits import MAX_HORIZON_H
from cytonet.model.tape_sensitivity import SensitivityUnsupported
from cytonet.model.expr import evaluate, names_in

LOG10 = math.log(10.0)
#: a pre-equilibration has converged when x(T) and x(T/10) agree to this relative tolerance (plus atol)
STEADY_RTOL = 1e-9
#: horizons tried in turn, h; the last is the engine's limit (a longer one is refused, not simulated)
STEADY_HORIZONS = (1e4, MAX_HORIZON_H)
#: ``auto``: forward sensitivities where the model allows them, else central differences; ``fd``: always differences
GRADIENTS = ("auto", "fd")


def differences(rows: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Derivatives (n, ...) from rows (2n + 1, ...) at x, x + h_j e_j, x - h_j e_j: central differences, or one-sided
    from x where one neighbour is not finite (a linearised simulation stepping below zero on a log scale, next to
    a finite centre); NaN where both are not. Never 0 for a missing neighbour, which would fake a stationary point."""
    n = h.size
    c, up, down = rows[0], rows[1:n + 1], rows[n + 1:]
    hb = h.reshape(n, *([1] * (rows.ndim - 1)))
    with np.errstate(invalid="ignore"):
        central = (up - down) / (2 * hb)
        forward, backward = (up - c) / hb, (c - down) / hb
    ok_up, ok_down = np.isfinite(up), np.isfinite(down)
    return np.where(ok_up & ok_down, central, np.where(ok_up, forward, np.where(ok_down, backward, np.nan)))


class _MeasuredTerms:
    """The likelihood's parts that depend on the measurements only: transformations, h(m), the Jacobian term J."""

    def __init__(self, L: Layout) -> None:
        m = L.measured
        self.lin, self.ln = L.transform == 0, L.transform == 1
        self.normal = L.distribution == 0
        self.all_lin, self.all_normal = bool(self.lin.all()), bool(self.normal.all())  # other branches then not computed
        with np.errstate(divide="ignore", invalid="ignore"):
            self.hm = np.where(self.lin, m, np.where(self.ln, np.log(m), np.log10(m)))
            self.jac = np.where(self.lin, 0.0, np.where(self.ln, np.log(m), np.log(m * LOG10)))


class _Sources:
    """Several :class:`Source` values (constants or parameter-table rows) as arrays."""

    def __init__(self, sources: list[Source]) -> None:
        self.in_table = np.asarray([s.table >= 0 for s in sources], bool)
        self.table = np.asarray([max(s.table, 0) for s in sources], np.int64)
        self.constant = np.asarray([s.value for s in sources], float)

    def of(self, V: np.ndarray) -> np.ndarray:
        """Values (k, sources) for each parameter vector of ``V`` (k, n_table)."""
        return np.where(self.in_table, V[:, self.table], self.constant)


class _PhaseSources:
    """A phase's settings as column indices and :class:`_Sources`: model parameters and initial values."""

    def __init__(self, phase: Phase) -> None:
        self.parameters = np.asarray(list(phase.parameters), np.int64)
        self.parameter_values = _Sources(list(phase.parameters.values()))
        self.initials = np.asarray(list(phase.initial), np.int64)
        self.initial_values = _Sources(list(phase.initial.values()))


@dataclass
class Evaluation:
    """Objective parts for each of k parameter vectors (rows)."""

    llh: np.ndarray  # (k,)
    chi2: np.ndarray
    prior: np.ndarray  # negative log-prior
    simulated: np.ndarray  # (k, n_measurements), NaN where the vector failed
    sigma: np.ndarray
    residuals: np.ndarray  # (h(y) - h(m)) / sigma
    ok: np.ndarray  # bool (k,)
    error: list[str]  # '' or why the vector failed

    @property
    def objective(self) -> np.ndarray:
        """Negative log-posterior (negative log-likelihood + negative log-prior); inf where failed."""
        return np.where(self.ok, -self.llh + self.prior, np.inf)


class Objective:
    """Negative log-posterior of a PEtab problem over its estimated parameters (on their scales)."""

    def __init__(self, problem: PetabProblem, *, rtol: float = 1e-8, atol: float = 1e-12, fd_step: float = 1e-4,
                 threads: int | None = None, max_steps: int = 200_000, gradient: str = "auto") -> None:
        from cytonet.fit.model import model_info

        if gradient not in GRADIENTS:
            raise PetabError(f"gradient {gradient!r} is not known; use one of {list(GRADIENTS)}")
        self.gradient = gradient
        self._forward: ForwardSensitivities | None = None

        self.problem = problem
        self.info = problem.info if problem.info is not None else model_info(problem.spec)
        self.layout: Layout = build_layout(problem, self.info)
        self.rtol, self.atol, self.fd_step, self.threads, self.max_steps = rtol, atol, fd_step, threads, max_steps
        self.priors = problem.objective_priors()
        self.n_evaluations = 0  # parameter vectors simulated so far
        L = self.layout
        fixed = {self.info.parameters[j] for j in L.model_parameter_table}
        for pre, sim in L.runs:
            for ph in (pre, sim):
                if ph is not None:
                    fixed |= {self.info.parameters[j] for j in ph.parameters}
        self._fixed = fixed  # model parameters PEtab sets (initial assignments do not override them)
        settable = self.info.settable_initials
        touched = {self.info.initials[i] for pre, sim in L.runs for ph in (pre, sim) if ph is not None for i in ph.initial}
        touched |= {t for t, _ in self.info.initial_defs if t in settable}
        if any(pre is not None for pre, _ in L.runs):
            touched = set(settable)
        self._species_columns = [s for s in self.info.initials if s in touched]  # initial values passed to the engine
        self._measured = _MeasuredTerms(L)
        self._placeholders: dict[tuple[str, str], _Sources] = {}
        self._run_sources = [(None if pre is None else _PhaseSources(pre), _PhaseSources(sim)) for pre, sim in L.runs]
        self._parameter_index = {q: j for j, q in enumerate(self.info.parameters)}
        self._initial_index = {q: i for i, q in enumerate(self.info.initials)}
        self._initial_constants = np.asarray([self.info.constants.get(q, 0.0) for q in self.info.initials], float)
        table = L.model_parameter_table
        self._table_columns = (np.asarray(list(table), np.int64), np.asarray(list(table.values()), np.int64))

    # -- the parameter vector ---------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        return self.problem.parameters.free_ids

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.problem.parameters.bounds()

    @property
    def least_squares(self) -> bool:
        """True when minimising 0.5 * sum r^2 is the same problem: normal noise, sigma independent of x, no priors."""
        L = self.layout
        if self.priors or np.any(L.distribution != 0):
            return False
        free = set(self.problem.parameters.free.tolist())
        for f in L.noise_formulas:
            for name in names_in(f.node):
                srcs = L.placeholders.get(name)
                if srcs is not None and any(s is not None and s.table in free for s in srcs):
                    return False
                if name in L.formula_parameters and L.formula_parameters[name] in free:
                    return False
                if name in self.info.readable or name == f.observable:
                    return False
        return True

    # -- simulation -------------------------------------------------------------------
    def _settings(self, V: np.ndarray, phase: _PhaseSources, base_P: np.ndarray, base_X: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Parameters and initial values (columns ``info.initials``) of a phase; base_X from a pre-equilibration."""
        from cytonet.fit.model import initial_values

        P = base_P.copy()
        P[:, phase.parameters] = phase.parameter_values.of(V)
        info = self.info
        derived = initial_values(info, P, self._fixed)
        for t, v in derived.items():  # constant parameters set by initial assignments
            if t in self._parameter_index:
                P[:, self._parameter_index[t]] = v
        if base_X is None:
            X = np.tile(self._initial_constants, (len(P), 1))
            for t, v in derived.items():
                if t in self._initial_index:
                    X[:, self._initial_index[t]] = v
        else:
            X = base_X.copy()
        v = phase.initial_values.of(V)
        X[:, phase.initials] = np.where(np.isnan(v), X[:, phase.initials], v)
        return P, X

    def _model_P(self, V: np.ndarray) -> np.ndarray:
        P = np.tile(self.info.p, (V.shape[0], 1))
        columns, table = self._table_columns
        P[:, columns] = V[:, table]
        return P

    def _batch(self, P: np.ndarray, X: np.ndarray, t: np.ndarray, all_species: bool = False):  # noqa: ANN202 - xarray.Dataset
        from cytonet.engine import simulate_batch

        info = self.info
        table = {p: P[:, j] for j, p in enumerate(info.parameters)}
        cols = info.settable_initials if all_species else self._species_columns
        for s in cols:
            v = X[:, info.initials.index(s)]
            table[s] = np.maximum(v, 0.0) if info.native else v
        t_end = float(t[-1]) if t[-1] > 0 else 1.0
        return simulate_batch(info.model, table, t_end, t_eval=t if t[-1] > 0 else np.array([0.0, 1.0]), rtol=self.rtol,
                              atol=self.atol, on_error="mask", threads=self.threads, max_steps=self.max_steps)

    def _steady(self, P: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Steady states from X under P (rows), and which converged."""
        done = np.zeros(len(P), bool)
        out = X.copy()
        alive = np.ones(len(P), bool)
        for T in STEADY_HORIZONS:
            rows = np.flatnonzero(alive & ~done)
            if not rows.size:
                break
            ds = self._batch(P[rows], out[rows], np.array([0.0, T / 10, T]), all_species=T != STEADY_HORIZONS[0])
            S = self.initial_values_of(ds["state"].values, ds["variable_value"].values if self.info.rate_variables else None)
            ok = ds["status"].values == 0
            a, b = S[:, 1], S[:, 2]
            conv = ok & np.all(np.abs(b - a) <= STEADY_RTOL * np.abs(b) + self.atol, axis=1)
            alive[rows[~ok]] = False
            out[rows[ok]] = b[ok]
            done[rows[conv]] = True
        if self.info.native and not self.info.rate_variables:
            # a mode slower than the last horizon (time constants of 10^4 h and more) leaves x(T) short of the steady
            # state: Newton's method on the analytic Jacobian finishes it when it reaches a stable one
            from cytonet.analysis.steady import stable_steady_state

            for r in np.flatnonzero(alive & ~done):
                x = stable_steady_state(self.info.model, P[r], out[r])
                if x is not None:
                    out[r], done[r] = x, True
        return out, done

    def initial_values_of(self, state: np.ndarray, variables: np.ndarray | None) -> np.ndarray:
        """Values (..., info.initials) from the engine's species (..., species) and variable values (..., variables)."""
        if not self.info.rate_variables:
            return state
        idx = [self.info.variables.index(v) for v in self.info.rate_variables]
        return np.concatenate([state, variables[..., idx]], axis=-1)

    def simulate(self, V: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray, list[str]]:
        """The engine's Dataset (k*runs rows), the model parameters of each row, ok (k,), errors (k,)."""
        L = self.layout
        k, n_runs = V.shape[0], len(L.runs)
        P_all, X_all, ok, errors = self.run_settings(V)
        ds = self._batch(P_all, X_all, L.times)
        status = ds["status"].values.reshape(k, n_runs)
        for i in np.flatnonzero(np.any(status != 0, axis=1) & ok):
            bad = int(np.flatnonzero(status[i] != 0)[0])
            errors[i] = f"integration failed in condition {L.runs[bad][1].condition!r} (status {int(status[i, bad])})"
        ok &= np.all(status == 0, axis=1)
        self.n_evaluations += k
        return ds, P_all, ok, errors

    def run_settings(self, V: np.ndarray, steady: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Model parameters and initial values (species' own sense) of every run (k*runs rows), pre-equilibrated
        where the run asks (by ``steady``(P, X) -> (steady states, converged); default: integrating every row);
        ok (k,) and errors (k,) of the pre-equilibrations."""
        L = self.layout
        steady = steady or self._steady
        info = self.info
        k, n_runs = V.shape[0], len(L.runs)
        base_P = self._model_P(V)
        P_all = np.empty((k * n_runs, len(info.parameters)))
        X_all = np.empty((k * n_runs, len(info.initials)))
        errors = [""] * k
        ok = np.ones(k, bool)
        pre_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for r, ((pre, _), (pre_sources, sim_sources)) in enumerate(zip(L.runs, self._run_sources)):
            if pre is not None:
                if pre.condition not in pre_cache:
                    Pp, Xp = self._settings(V, pre_sources, base_P, None)
                    pre_cache[pre.condition] = steady(Pp, Xp)
                Xs, conv = pre_cache[pre.condition]
                for i in np.flatnonzero(~conv & ok):
                    errors[i] = f"pre-equilibration in condition {pre.condition!r} reached no steady state"
                ok &= conv
                P, X = self._settings(V, sim_sources, base_P, Xs)
            else:
                P, X = self._settings(V, sim_sources, base_P, None)
            X_all[r::n_runs] = X
            P_all[r::n_runs] = P
        return P_all, X_all, ok, errors

    # -- objective ------------------------------------------------------------------------
    def _values(self, node: Any, rows: np.ndarray, V: np.ndarray, ds: Any, P: np.ndarray,
                y: np.ndarray | None, observable: str) -> dict[str, np.ndarray]:
        L, info = self.layout, self.info
        k, n_runs = V.shape[0], len(L.runs)
        sim_rows = np.arange(k)[:, None] * n_runs + L.run_of[rows][None, :]  # (k, m)
        tt = L.time_of[rows][None, :]  # output time of each measurement; broadcasts against sim_rows
        out: dict[str, np.ndarray] = {}
        for name in names_in(node):
            if name == observable and y is not None:
                out[name] = y
            elif name in L.placeholders:
                out[name] = self._placeholder(name, observable, rows).of(V)
            elif name in info.observables:
                out[name] = ds[name].values[sim_rows, tt]
            elif name in info.species:
                out[name] = ds["state"].values[sim_rows, tt, info.species.index(name)]
            elif name in info.variables:
                out[name] = ds["variable_value"].values[sim_rows, tt, info.variables.index(name)]
            elif name in info.parameters:
                out[name] = P[sim_rows, info.parameters.index(name)]
            elif name in L.formula_parameters:
                out[name] = np.broadcast_to(V[:, L.formula_parameters[name]][:, None], sim_rows.shape)
            else:
                out[name] = np.full(sim_rows.shape, info.constants[name])
        return out

    def _placeholder(self, name: str, observable: str, rows: np.ndarray) -> _Sources:
        """The values of placeholder ``name`` at the measurement ``rows`` of ``observable``, made on first use."""
        key = (name, observable)
        if key not in self._placeholders:
            srcs = self.layout.placeholders[name]
            self._placeholders[key] = _Sources([srcs[i] or Source(math.nan) for i in rows])
        return self._placeholders[key]

    def evaluate(self, X: np.ndarray) -> Evaluation:
        """Objective parts at each row of ``X`` (k, n) on the parameter scale."""
        X = np.atleast_2d(np.asarray(X, float))
        V = self.problem.parameters.values(X)
        ds, P, ok, errors = self.simulate(V)
        return self.evaluation(X, V, ds, P, ok, errors)

    def evaluation(self, X: np.ndarray, V: np.ndarray, ds: Any, P: np.ndarray, ok: np.ndarray, errors: list[str]) -> Evaluation:
        """Objective parts from simulated runs: ``ds`` holds ``state``/``variable_value`` (k*runs, time, ...), P the
        model parameters of each run, V the parameter-table values of each of the k vectors X."""
        L = self.layout
        k, m = V.shape[0], L.measured.size
        y = np.full((k, m), np.nan)
        sigma = np.full((k, m), np.nan)
        for f in (f for f in L.observable_formulas if f.rows.size):
            y[:, f.rows] = np.broadcast_to(evaluate(f.node, self._values(f.node, f.rows, V, ds, P, None, f.observable)), (k, f.rows.size))
        for f in (f for f in L.noise_formulas if f.rows.size):
            vals = self._values(f.node, f.rows, V, ds, P, y[:, f.rows], f.observable)
            sigma[:, f.rows] = np.broadcast_to(evaluate(f.node, vals), (k, f.rows.size))
        llh, chi2, res = self.likelihood(y, sigma)
        bad = ok & ~np.isfinite(llh)
        for i in np.flatnonzero(bad):
            errors[i] = "non-finite likelihood (simulation <= 0 on a log scale, or sigma <= 0)"
        ok &= ~bad
        prior = np.zeros(k)
        for j, pr in self.priors:
            prior += np.asarray(pr.neglogprior(X[:, j], x_scaled=True), float)
        y[~ok] = np.nan
        return Evaluation(np.where(ok, llh, -np.inf), np.where(ok, chi2, np.inf), prior, y, sigma, res, ok, errors)

    def likelihood(self, y: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(llh, chi2, residuals) for simulations ``y`` and noise ``sigma`` (k, n_measurements), PEtab's formulas."""
        c = self._measured
        with np.errstate(divide="ignore", invalid="ignore"):
            hy = y if c.all_lin else np.where(c.lin, y, np.where(c.ln, np.log(y), np.log10(y)))
            r = (hy - c.hm) / sigma
            normal = 0.5 * np.log(2 * np.pi * sigma**2) + 0.5 * r**2
            nllh = (normal if c.all_normal else np.where(c.normal, normal, np.log(2 * sigma) + np.abs(r))) + c.jac
            llh = -np.sum(nllh, axis=1)
            valid = np.all(np.isfinite(nllh), axis=1) & np.all(sigma > 0, axis=1)
        return np.where(valid, llh, np.nan), np.sum(r**2, axis=1), r

    @property
    def normal_noise(self) -> bool:
        """True when every measurement has normal noise (:meth:`fisher` applies)."""
        return bool(np.all(self.layout.distribution == 0))

    # -- what optimisers call ------------------------------------------------------------
    def __call__(self, x: np.ndarray) -> float:
        return float(self.evaluate(np.asarray(x, float)[None, :]).objective[0])

    def _stack(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, float)
        h = self.fd_step * np.maximum(1.0, np.abs(x))
        E = np.diag(h)
        return np.vstack([x, x + E, x - E]), h

    @property
    def forward(self) -> ForwardSensitivities:
        """The forward-sensitivity machinery (compiled on first use); its ``reason`` says why it does not apply."""
        if self._forward is None:
            self._forward = ForwardSensitivities(self)
        return self._forward

    @property
    def gradient_method(self) -> str:
        """How derivatives are computed: 'forward sensitivities' or 'central differences (why)'."""
        if self.gradient == "fd":
            return "central differences (asked for)"
        return "forward sensitivities" if not self.forward.reason else f"central differences ({self.forward.reason})"

    def derivatives(self, x: np.ndarray) -> tuple[Evaluation, np.ndarray]:
        """The objective at x (row 0) and at 2n neighbours x + h e_j (rows 1..n), x - h e_j (rows n+1..2n), and h.

        With forward sensitivities the neighbours are the runs linearised along their sensitivities, so
        central differences of the rows give the exact gradient of the integrated model; otherwise they
        are simulated (central finite differences, step ``fd_step``)."""
        if self.gradient == "auto" and not self.forward.reason:
            try:
                return self.forward.derivatives(x)
            except SensitivityUnsupported as err:  # e.g. a switching time that the parameters move
                self.forward.reason = str(err)
            except SensitivityFailed:  # the augmented system failed here (counted): differences for this call
                pass
        X, h = self._stack(x)
        return self.evaluate(X), h

    def value_and_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Objective and its gradient (see :meth:`derivatives`)."""
        ev, h = self.derivatives(x)
        f = ev.objective
        return float(f[0]), differences(f, h)

    def fisher(self, x: np.ndarray, ev: Evaluation, h: np.ndarray) -> np.ndarray:
        """Fisher information (n, n) of normal noise at x from ``derivatives(x)``' rows ``ev`` and steps ``h``: for every
        measurement with mean h(y) and noise sigma on its transformation, I = (d h(y)/dx)^T (d h(y)/dx) / sigma^2
        + 2 (d sigma/dx)^T (d sigma/dx) / sigma^2; with sigma fixed it is the Gauss-Newton matrix J^T J of the
        weighted residuals. Objective priors add their own curvature (a central second difference)."""
        s0 = ev.sigma[0]
        mean = ev.residuals * ev.sigma  # h(y) - h(m): its derivative is that of h(y)
        J_mean = differences(mean, h).T / s0[:, None]
        J_sigma = differences(ev.sigma, h).T / s0[:, None]
        I = J_mean.T @ J_mean + 2.0 * J_sigma.T @ J_sigma
        for j, pr in self.priors:
            d = 1e-4 * max(1.0, abs(x[j]))
            f = np.asarray(pr.neglogprior(np.array([x[j] - d, x[j], x[j] + d]), x_scaled=True), float)
            I[j, j] += max((f[0] - 2 * f[1] + f[2]) / d**2, 0.0)
        return np.nan_to_num(I, nan=0.0, posinf=0.0, neginf=0.0)

    def residuals_and_jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted residuals r (n_measurements,) and dr/dx (see :meth:`derivatives`)."""
        ev, h = self.derivatives(x)
        return ev.residuals[0], differences(ev.residuals, h).T
