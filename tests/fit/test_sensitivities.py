"""Forward sensitivities of the tape engine against the analytic solution, and what they refuse."""

from __future__ import annotations

import numpy as np
import pytest

from cytonet.engine.tape_sensitivity import augmented_atol, run_sensitivities
from cytonet.model.spec import ModelSpec
from cytonet.model.tape_model import compile_tape
from cytonet.model.tape_sensitivity import SensitivityUnsupported, compile_sensitivities

from problems import analytic

VOLUME = 2.0


def _spec(**extra) -> ModelSpec:
    """A -k1-> B -k2->, concentrations in a compartment of size 2 (SBML semantics: rates in amount per time)."""
    d = {
        "id": "chain", "compartments": [{"id": "c", "volume": VOLUME}],
        "species": [{"id": s, "compartment": "c", "initial": v, "unit": "relative", "only_substance": False}
                    for s, v in (("A", 1.5), ("B", 0.25))],
        "parameters": [{"id": k, "value": v, "unit": "1/h", "assumption": "test model"} for k, v in (("k1", 0.3), ("k2", 0.08))],
        "reactions": [
            {"id": "conv", "rate_law": "expression", "rate": "k1 * A * c", "reactants": {"A": 1}, "products": {"B": 1}},
            {"id": "deg", "rate_law": "expression", "rate": "k2 * B * c", "reactants": {"B": 1}},
        ],
    }
    d.update(extra)
    return ModelSpec.model_validate(d)


def _analytic_amounts(t: np.ndarray, k1: complex, k2: complex, a0: complex, b0: complex) -> np.ndarray:
    a, b = analytic(t, k1, k2, a0, b0)
    return VOLUME * np.stack([a, b], axis=-1)


def test_sensitivities_of_parameters_and_initial_values_match_the_analytic_derivatives() -> None:
    """Directions: k1, k2 and the initial concentration of A; the reference is the complex-step derivative of the
    analytic solution (exact to rounding), so the bound is the integrator's error at rtol 1e-10."""
    tm = compile_tape(_spec())
    sm = compile_sensitivities(_spec(), 3, tm)
    t = np.array([0.0, 0.5, 2.0, 6.0, 24.0])
    ia, ib = tm.states.index("A"), tm.states.index("B")
    pk1, pk2 = tm.parameters.index("k1"), tm.parameters.index("k2")
    sp = np.zeros((len(tm.parameters), 3))
    sp[pk1, 0] = sp[pk2, 1] = 1.0
    sx0 = np.zeros((sm.n_x, 3))
    sx0[ia, 2] = VOLUME  # d amount(A, 0) / d a0
    x, _, S = run_sensitivities(sm, t, 1e-10, augmented_atol(sm, 1e-14), 100_000, tm.x0, tm.p, sx0, sp)
    eps = 1e-30
    ref = np.stack([
        _analytic_amounts(t, 0.3 + 1j * eps, 0.08, 1.5, 0.25).imag / eps,
        _analytic_amounts(t, 0.3, 0.08 + 1j * eps, 1.5, 0.25).imag / eps,
        _analytic_amounts(t, 0.3, 0.08, 1.5 + 1j * eps, 0.25).imag / eps,
    ], axis=-1)  # (time, species, direction)
    np.testing.assert_allclose(x[:, [ia, ib]], _analytic_amounts(t, 0.3, 0.08, 1.5, 0.25), rtol=1e-8)
    np.testing.assert_allclose(S[:, [ia, ib], :], ref, rtol=1e-7, atol=1e-9)
    assert sm.model.block == sm.n_x  # the block-triangular solve applies


def _nonlinear_spec() -> ModelSpec:
    """dA/dt = -k t A^2 (non-autonomous, quadratic) and logistic dB/dt = r B (1 - B/K): both solve in closed form."""
    d = {
        "id": "nonlinear", "compartments": [{"id": "c", "volume": 1.0}],
        "species": [{"id": s, "compartment": "c", "initial": v, "unit": "relative", "only_substance": False}
                    for s, v in (("A", 2.0), ("B", 0.1))],
        "parameters": [{"id": k, "value": v, "unit": "1/h", "assumption": "test model"} for k, v in (("k", 0.5), ("r", 0.8), ("K", 3.0))],
        "reactions": [
            {"id": "decay", "rate_law": "expression", "rate": "k * time() * A * A * c", "reactants": {"A": 1}},
            {"id": "growth", "rate_law": "expression", "rate": "r * B * (1 - B / K) * c", "products": {"B": 1}},
        ],
    }
    return ModelSpec.model_validate(d)


def _nonlinear_exact(t: np.ndarray, k: complex, r: complex, big_k: complex, a0: complex, b0: complex) -> np.ndarray:
    e = np.exp(r * t)
    return np.stack([a0 / (1 + a0 * k * t ** 2 / 2), big_k * b0 * e / (big_k + b0 * (e - 1))], axis=-1)


def test_sensitivities_of_a_nonlinear_time_dependent_model_match_the_closed_form() -> None:
    """Here the augmented Jacobian's lower blocks (second derivatives in the states, in the parameters and in time,
    contracted with S in the solve) are not zero: S converges with rtol like the states, and against the
    complex-step derivatives of the closed form it is as accurate as they are. Without those blocks (a Rosenbrock
    step with an inexact Jacobian) the same integration is 300x off at rtol 1e-6 and exceeds 1e5 steps at 1e-8."""
    tm = compile_tape(_nonlinear_spec())
    sm = compile_sensitivities(_nonlinear_spec(), 5, tm)
    t = np.array([0.0, 0.3, 1.0, 2.5, 6.0])
    ia, ib = tm.states.index("A"), tm.states.index("B")
    sp = np.zeros((len(tm.parameters), 5))
    for d, q in enumerate(("k", "r", "K")):
        sp[tm.parameters.index(q), d] = 1.0
    sx0 = np.zeros((sm.n_x, 5))
    sx0[ia, 3] = sx0[ib, 4] = 1.0
    nominal, eps = (0.5, 0.8, 3.0, 2.0, 0.1), 1e-30
    ref = np.stack([_nonlinear_exact(t, *(v + (1j * eps if i == d else 0) for i, v in enumerate(nominal))).imag / eps
                    for d in range(5)], axis=-1)
    assert np.isin(sm.n_x + sm.n_x * 5, sm.model.lower_blocks[1])  # a second derivative in time is among them
    for rtol, bound in ((1e-8, 2e-8), (1e-10, 2e-10)):
        x, _, S = run_sensitivities(sm, t, rtol, augmented_atol(sm, 1e-14), 100_000, tm.x0, tm.p, sx0, sp)
        np.testing.assert_allclose(x[:, [ia, ib]], _nonlinear_exact(t, *nominal), rtol=10 * rtol)
        assert np.max(np.abs(S[:, [ia, ib]] - ref) / np.abs(ref).max(axis=(0, 1))) <= bound


def test_events_and_state_dependent_switches_are_refused_with_the_reason() -> None:
    event = {"kind": "trigger", "id": "refill", "trigger": "A < 0.5", "assignments": [{"target": "A", "expression": "1"}]}
    with pytest.raises(SensitivityUnsupported, match="events"):
        compile_sensitivities(_spec(events=[event]), 2)
    switch = _spec(reactions=[{"id": "conv", "rate_law": "expression", "rate": "piecewise(k1 * A * c, A > 1, 0)",
                               "reactants": {"A": 1}, "products": {"B": 1}}])
    with pytest.raises(SensitivityUnsupported, match="switch in its rates depends on state 'A'"):
        compile_sensitivities(switch, 2)
