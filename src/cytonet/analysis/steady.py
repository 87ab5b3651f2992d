"""Steady states, their stability, and one-parameter continuation (hysteresis)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cytonet.errors import SolverError
from cytonet.model.compile import CompiledModel, compile_model
from cytonet.model.spec import ModelSpec

#: a steady state must satisfy |dx/dt| <= RESIDUAL_TOL * max(|x|, 1) in every species
RESIDUAL_TOL = 1e-8


@dataclass(frozen=True)
class SteadyState:
    """A steady state ``x`` (compiled species order), its Jacobian eigenvalues and whether it is stable."""

    species: tuple[str, ...]
    x: np.ndarray
    eigenvalues: np.ndarray

    @property
    def stable(self) -> bool:
        """All eigenvalues have negative real parts (exponential stability)."""
        return bool(np.all(self.eigenvalues.real < 0))

    @property
    def slowest_rate(self) -> float:
        """The largest real part of the eigenvalues (1/h); negative when stable."""
        return float(np.max(self.eigenvalues.real))

    def as_dict(self) -> dict[str, float]:
        return {s: float(v) for s, v in zip(self.species, self.x)}


def _compiled(model: ModelSpec | CompiledModel) -> CompiledModel:
    if isinstance(model, CompiledModel):
        return model
    return compile_model(model.model_copy(update={"events": []}))


def _p_with(cm: CompiledModel, parameters: Mapping[str, float] | None) -> np.ndarray:
    p = cm.p.copy()
    for pid, v in (parameters or {}).items():
        p[cm.parameter_index(pid)] = float(v)
    return p


def absent_species(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Mask of the species that start at exactly 0 and can never leave it: the largest set Z of them with dx_Z/dt = 0
    whenever x_Z = 0 (an invariant face: a pathogen, tumour or drug with no source while every other such species is
    absent), checked at ``x``. Their steady value is exactly 0; a Newton or integrator solve only leaves round-off
    (1e-39) there, which integrators at tight relative tolerance then track as if it were a real, growing population."""
    zero = x0 == 0.0
    while zero.any():
        y = np.where(zero, 0.0, x)
        moving = zero & (f(y) != 0.0)
        if not moving.any():
            break
        zero &= ~moving
    return zero


def drift(cm: CompiledModel, p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """|dx/dt| / max(|x|, 1) per species: 0 at a steady state."""
    return np.abs(cm.rhs(x, 0.0, p)) / np.maximum(np.abs(x), 1.0)


def polish(cm: CompiledModel, p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x`` refined towards a steady state by Newton's method (hybr) on the analytic Jacobian; ``x`` itself when
    that does not bring it closer."""
    from scipy.optimize import root

    sol = root(lambda y: cm.rhs(y, 0.0, p), x, jac=lambda y: cm.jacobian(y, p), method="hybr", options={"xtol": 1e-13})
    # hybr may stop "not making good progress" at the strict xtol with the root already found: keep the
    # Newton point whenever it is finite and closer to a steady state than the start
    closer = bool(np.all(np.isfinite(sol.x))) and drift(cm, p, sol.x).max() <= drift(cm, p, x).max()
    return sol.x if sol.success or closer else x


def stable_steady_state(cm: CompiledModel, p: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """The stable, non-negative steady state Newton's method reaches from ``x`` (nearly settled), or None."""
    y = polish(cm, p, x)
    if not np.all(np.isfinite(y)) or drift(cm, p, y).max() > RESIDUAL_TOL or np.any(y < -1e-12 * np.maximum(np.abs(x), 1.0)):
        return None
    if np.max(np.linalg.eigvals(cm.jacobian(y, p)).real) >= 0.0:
        return None
    return np.maximum(y, 0.0)


def steady_state(
    model: ModelSpec | CompiledModel,
    *,
    parameters: Mapping[str, float] | None = None,
    start: Mapping[str, float] | np.ndarray | None = None,
    relax_hours: float = 5000.0,
) -> SteadyState:
    """The steady state reached from ``start`` (default: the model's initial state), without events.

    Integrates for ``relax_hours`` with the stiff engine, then polishes with Newton's method on the
    analytic Jacobian. Raises ``SolverError`` if no steady state is reached (e.g. an oscillation).
    """
    from cytonet.engine.simulate import override_vectors, simulate

    cm = _compiled(model)
    if len(cm.bolus_time) or len(cm.inf_start) or len(cm.th_value):
        raise SolverError(f"model {cm.model_id!r} has events; a steady state is computed for the model without them")
    p = _p_with(cm, parameters)
    if isinstance(start, np.ndarray):
        start = dict(zip(cm.species, np.maximum(start, 0.0).tolist()))
    try:
        ds = simulate(cm, relax_hours, n_points=2, parameters=dict(parameters or {}), initial=start, rtol=1e-6, atol=1e-9)
    except SolverError:  # a fast transition on the way; Newton polishing below restores the precision
        ds = simulate(cm, relax_hours, n_points=2, parameters=dict(parameters or {}), initial=start, rtol=1e-4, atol=1e-7)
    x_relaxed = ds["state"].values[-1]

    def f(x: np.ndarray) -> np.ndarray:
        return cm.rhs(x, 0.0, p)

    x = polish(cm, p, x_relaxed)
    x0, _ = override_vectors(cm, None, start)
    x = np.where(absent_species(f, x, x0), 0.0, x)
    residual = drift(cm, p, x)
    if not np.all(np.isfinite(x)) or residual.max() > RESIDUAL_TOL * 1e3:
        worst = cm.species[int(np.argmax(residual))]
        raise SolverError(
            f"model {cm.model_id!r}: no steady state reached after {relax_hours:g} h (largest drift in {worst!r}, "
            f"|dx/dt|/|x| = {residual.max():.2g}); the system may oscillate or still be moving: try a longer relaxation"
        )
    eig = np.linalg.eigvals(cm.jacobian(x, p))
    return SteadyState(tuple(cm.species), x, eig)


@dataclass(frozen=True)
class Continuation:
    """Steady states along a parameter sweep up then down, following each branch from the last point."""

    parameter: str
    values: np.ndarray
    up: list[SteadyState]
    down: list[SteadyState]

    def branch(self, species: str, direction: str = "up") -> np.ndarray:
        """Steady-state level of ``species`` along the ``up`` or ``down`` sweep (same order as ``values``)."""
        states = self.up if direction == "up" else self.down
        i = states[0].species.index(species)
        return np.array([s.x[i] for s in states])

    def hysteresis(self, species: str, rel_gap: float = 0.5) -> np.ndarray:
        """Parameter values where the two sweeps disagree by more than ``rel_gap`` (bistable window)."""
        a, b = self.branch(species, "up"), self.branch(species, "down")
        gap = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-12)
        return self.values[gap > rel_gap]


def continuation(
    model: ModelSpec | CompiledModel,
    parameter: str,
    values: Sequence[float],
    *,
    parameters: Mapping[str, float] | None = None,
    relax_hours: float = 2000.0,
) -> Continuation:
    """Natural-parameter continuation of steady states as ``parameter`` sweeps ``values`` up, then back down.

    Each point starts from the previous steady state, so each sweep follows its branch until it
    ends (a fold); where the up and down sweeps differ, the system is bistable (hysteresis).
    """
    cm = _compiled(model)
    cm.parameter_index(parameter)  # unknown names raise with suggestions
    vals = np.asarray(values, dtype=float)
    base = dict(parameters or {})
    up: list[SteadyState] = []
    x = None
    for v in vals:
        ss = steady_state(cm, parameters={**base, parameter: v}, start=x, relax_hours=relax_hours)
        up.append(ss)
        x = ss.x
    down: list[SteadyState] = []
    for v in vals[::-1]:
        ss = steady_state(cm, parameters={**base, parameter: v}, start=x, relax_hours=relax_hours)
        down.append(ss)
        x = ss.x
    return Continuation(parameter, vals, up, down[::-1])
