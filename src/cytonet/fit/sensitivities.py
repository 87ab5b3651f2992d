"""The objective's gradient and residual Jacobian from forward sensitivities of the engine.

For estimated parameters theta (on their scales), every run r integrates its states x_r and
S_r = dx_r/d theta with the augmented tape model (:mod:`cytonet.model.tape_sensitivity`), started
from S_r(0) = dx0_r/d theta and driven by dp_r/d theta. Those two come from the run's settings
(parameter-table values, condition overrides, initial assignments, compartment scaling), which are
algebraic in theta; they are differentiated by central differences of that algebra (no ODE in it).

The chain rule through observables, noise formulas, transformations, likelihood and priors is the
objective's own code applied to the *linearised* runs x_r +- h S_r e_j, p_r +- h dp_r/d theta_j
at theta +- h e_j: a central difference of functions without an ODE, exact to O(h^2) with h = 1e-6
(relative to max(1, |theta_j|)); the ODE's part is the sensitivities'. So the gradient's error is
that of the integration (rtol), not of a finite-difference step through the ODE.

A pre-equilibration integrates (x, S) from the pre-equilibration condition's start until x is
steady (the objective's own criterion); S(T) is then the steady state's sensitivity, which enters
the simulation condition's start through the same algebra.

Not covered (the objective then falls back to central finite differences and says why in
:attr:`ForwardSensitivities.reason`): native cytonet specs (factor kernels) and what the augmented
tape refuses (events, delays, state-dependent switches). The integrations run on the interpreted tape
until the time they took would have paid for compiling the model's straight-line kernel, then on
that kernel (bit-identical results; :mod:`cytonet.engine.tape_codegen`). A point where the augmented integration
fails but the states alone may not falls back for that call only (counted in ``failures``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from cytonet.errors import CytonetError

if TYPE_CHECKING:
    from cytonet.fit.objective import Evaluation, Objective

#: step of the central differences through the algebra (settings, observables, likelihood), times max(1, |theta|)
ALGEBRA_STEP = 1e-6


class SensitivityFailed(CytonetError):
    """The augmented (state + sensitivity) integration failed at this point."""


class _Values:
    """What :meth:`Objective.evaluation` reads of a dataset entry: ``.values``."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values


class ForwardSensitivities:
    """Derivatives of an :class:`Objective` by forward sensitivities, or the reason they do not apply."""

    def __init__(self, obj: Objective) -> None:
        self.obj = obj
        self.model: Any = None
        self.failures = 0  # calls whose sensitivity integration failed (those fell back to differences)
        self.reason = self._unsupported()
        self.kernels: Any = None  # engine.tape_codegen.KernelChoice of the augmented model
        self._atol: tuple[Any, np.ndarray] = (None, np.empty(0))  # (objective's atol, augmented tolerances)
        if not self.reason:
            from cytonet.engine.tape_codegen import KernelChoice

            self.kernels = KernelChoice(self.model.model)
            self.start = _StartColumns(obj)

    def _batch(self, t: np.ndarray, *args: Any, threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """:func:`cytonet.engine.tape_sensitivity.sensitivity_batch` at times t, the objective's tolerances and step
        limit, on the kernel that pays (interpreted or generated)."""
        from cytonet.engine.tape_sensitivity import sensitivity_batch

        kernel = self.kernels.current()
        t0 = time.perf_counter()
        out = sensitivity_batch(self.model, t, self.obj.rtol, self._augmented_atol(), self.obj.max_steps, *args,
                                threads=threads, kernel=kernel)
        self.kernels.spent(time.perf_counter() - t0, kernel)
        return out

    def _augmented_atol(self) -> np.ndarray:
        """:func:`cytonet.engine.tape_sensitivity.augmented_atol` of the objective's atol, made again only when it changes."""
        from cytonet.engine.tape_sensitivity import augmented_atol

        atol, a = self._atol
        if atol is not self.obj.atol:
            atol, a = self.obj.atol, augmented_atol(self.model, self.obj.atol)
            self._atol = (atol, a)
        return a

    def _unsupported(self) -> str:
        obj = self.obj
        if obj.info.native:
            return "the model is a native cytonet spec (factor kernels), which have no forward sensitivities"
        if obj.n == 0:
            return "no parameter is estimated"
        from cytonet.model.tape_sensitivity import compile_sensitivities

        try:
            self.model = compile_sensitivities(obj.problem.spec, obj.n, obj.info.model)
        except CytonetError as err:
            return str(err)
        return ""

    def _starts(self, P: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Engine start vectors (x0 in amounts with time last, p) of runs with parameters P and initial values X:
        :func:`cytonet.engine.tape_simulate.start_vectors` for every row at once."""
        from cytonet.model.tape import run_tape_rows

        tm, c = self.obj.info.model, self.start
        p = np.tile(tm.p, (len(P), 1))
        p[:, c.parameters] = P
        x0 = np.tile(tm.x0, (len(P), 1))
        x0[:, c.states] = X[:, c.initials]
        if c.scaled.size:  # concentrations to amounts: times the compartment's size at the start
            size = np.empty((len(P), c.scaled.size))
            run_tape_rows(tm.aux.arrays(), np.tile(tm.x0, (len(P), 1)), p, np.zeros((len(P), tm.n_delays)),
                          c.size_registers, size)
            x0[:, c.scaled] *= size
        return x0, p

    def _steady(self, P: np.ndarray, X: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pre-equilibration of the stacked rows (center, +h, -h) by one augmented run from the center: the steady
        state and its sensitivity S(T) (integrated until x(T) and x(T/10) agree, as the objective's own check),
        returned as the center's steady state linearised along S for every row (own sense)."""
        from cytonet.engine.tape_sensitivity import symbols_along
        from cytonet.fit.objective import STEADY_HORIZONS, STEADY_RTOL

        obj, sm, n = self.obj, self.model, self.obj.n
        x0, p = self._starts(P, X)
        dx = ((x0[1:n + 1] - x0[n + 1:]) / (2 * h[:, None])).T[:-1]  # (states, n)
        dp = ((p[1:n + 1] - p[n + 1:]) / (2 * h[:, None])).T
        xc, conv = x0[0], False
        for T in STEADY_HORIZONS:
            xs, ps, S, fails = self._batch(np.array([0.0, T / 10, T]), xc[None], p[:1], dx[None], dp[None])
            if fails[0]:
                self.failures += 1
                raise SensitivityFailed(f"pre-equilibration: {fails[0]}")
            a, b = xs[0, 1, :-1], xs[0, 2, :-1]
            xc, dx = xs[0, 2], S[0, 2]
            if np.all(np.abs(b - a) <= STEADY_RTOL * np.abs(b) + obj.atol):
                conv = True
                break
        step = np.concatenate([[0.0], h, -h])[:, None]
        dS = np.concatenate([dx, np.zeros((1, n))])  # time's sensitivity: 0
        rows = xc[None] + step * _direction_rows(dS.T)
        state, var = symbols_along(sm, rows, np.broadcast_to(p[:1], (len(rows), p.shape[1])))
        return obj.initial_values_of(state, var), np.full(len(rows), conv)

    def derivatives(self, x: np.ndarray) -> tuple[Evaluation, np.ndarray]:
        """The objective at x and at its 2n linearised neighbours (one :class:`Evaluation`, 2n + 1 rows), and the steps h."""
        from cytonet.engine.tape_sensitivity import symbols_along

        obj, sm = self.obj, self.model
        L, n = obj.layout, obj.n
        x = np.asarray(x, float)
        h = ALGEBRA_STEP * np.maximum(1.0, np.abs(x))
        Xs = np.vstack([x, x + np.diag(h), x - np.diag(h)])
        V = obj.problem.parameters.values(Xs)
        P, X0, ok, errors = obj.run_settings(V, lambda Pp, Xp: self._steady(Pp, Xp, h))
        x0, p = self._starts(P, X0)
        n_runs = len(L.runs)
        x0, p = x0.reshape(2 * n + 1, n_runs, -1), p.reshape(2 * n + 1, n_runs, -1)
        dx0 = np.moveaxis((x0[1:n + 1] - x0[n + 1:]) / (2 * h[:, None, None]), 0, -1)  # (runs, states, n)
        dp = np.moveaxis((p[1:n + 1] - p[n + 1:]) / (2 * h[:, None, None]), 0, -1)
        t = L.times if L.times[-1] > 0 else np.array([0.0, 1.0])
        xs, ps, S, fails = self._batch(t, x0[0], p[0], dx0[:, :-1], dp, threads=obj.threads or 1)
        obj.n_evaluations += 1
        bad = next((r for r, e in enumerate(fails) if e), None)
        if bad is not None:  # the states alone may still integrate: the caller falls back to differences
            self.failures += 1
            raise SensitivityFailed(f"condition {L.runs[bad][1].condition!r}: {fails[bad]}")
        # linearised runs: rows (2n + 1) x runs, as the objective's evaluation reads them
        step = np.concatenate([[0.0], h, -h])[:, None, None, None]
        dS = np.concatenate([S, np.zeros((*S.shape[:-2], 1, n))], axis=-2)  # time's sensitivity: 0
        Xl = xs[None] + step * _direction_rows(np.moveaxis(dS, -1, 0))
        Pl = ps[None] + step * _direction_rows(np.moveaxis(dp, -1, 0)[:, :, None, :])
        with np.errstate(all="ignore"):
            state, var = symbols_along(sm, _finite(Xl), _finite(Pl))
        k = 2 * n + 1
        ds = {"state": _Values(state.reshape(k * n_runs, *state.shape[2:])),
              "variable_value": _Values(var.reshape(k * n_runs, *var.shape[2:]))}
        ev = obj.evaluation(Xs, V, ds, Pl[:, :, 0, :].reshape(k * n_runs, -1), np.broadcast_to(ok[:1], (k,)).copy(),
                            [errors[0]] * k)
        return ev, h


def _finite(a: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(a)``, skipped where every entry is finite already (the usual case)."""
    return a if np.isfinite(a).all() else np.nan_to_num(a)


class _StartColumns:
    """Where :meth:`ForwardSensitivities._starts` puts an objective's parameters and initial values in the engine's
    start vectors: fixed per objective, so found once."""

    def __init__(self, obj: Objective) -> None:
        tm, info = obj.info.model, obj.info
        self.parameters = np.asarray([tm.parameters.index(q) for q in info.parameters], np.int64)
        species = obj._species_columns
        self.states = np.asarray([tm.states.index(s) for s in species], np.int64)
        self.initials = np.asarray([info.initials.index(s) for s in species], np.int64)
        scaled = [(tm.states.index(s), tm.symbol_reg[tm.species_compartment[s]]) for s in species
                  if s in tm.species_compartment and not tm.species_only_substance[s]]
        self.scaled = np.asarray([k for k, _ in scaled], np.int64)  # states in amounts, set from concentrations
        self.size_registers = np.asarray([r for _, r in scaled], np.int64)  # their compartments' sizes


def _direction_rows(d: np.ndarray) -> np.ndarray:
    """(2n + 1, ...) from per-direction d (n, ...): zero, then every direction twice (for +h and for -h)."""
    return np.concatenate([np.zeros_like(d[:1]), d, d], axis=0)
