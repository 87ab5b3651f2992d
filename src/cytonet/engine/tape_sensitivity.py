"""Forward sensitivities of tape models: integrate (x, S) on the tape Rosenbrock kernel (Rodas5P), one run per row.

The error control covers the sensitivities too (each S entry gets its state's absolute tolerance),
so S is as accurate as the states at the same rtol. See :mod:`cytonet.model.tape_sensitivity` for
the equations and what is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cytonet.engine.sbml_events import TapeRun, run_tape_model
from cytonet.engine.tape_rodas import integrate
from cytonet.engine.tape_simulate import _atol, _values
from cytonet.errors import SolverError
from cytonet.model.tape_sensitivity import SensitivityModel, SensitivityUnsupported


def augmented_atol(sm: SensitivityModel, atol: object) -> np.ndarray:
    """Absolute tolerances of the augmented states: each sensitivity takes its state's."""
    a = _atol(sm.base, atol)
    return np.concatenate([a[:-1], np.repeat(a[:-1], sm.directions), a[-1:]])


def run_sensitivities(sm: SensitivityModel, t: np.ndarray, rtol: float, atol: np.ndarray, max_steps: int,
                      x0: np.ndarray, p: np.ndarray, sx0: np.ndarray, sp: np.ndarray, kernel: Callable[..., tuple[int, int]] | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """States (time, n_x + 1), parameters (time, n_p) and S (time, n_x, n) of one run.

    ``x0``/``p``: the base model's start; ``sx0`` (n_x, n): dx0/d theta; ``sp`` (n_p, n): dp/d theta.
    ``atol`` comes from :func:`augmented_atol`; ``kernel``: the augmented model's generated kernel
    (:func:`cytonet.engine.tape_codegen.kernel`), None for the interpreter.
    """
    moved = sm.root_parameters[np.any(sp[sm.root_parameters] != 0.0, axis=1)] if sm.root_parameters.size else sm.root_parameters
    if moved.size:
        raise SensitivityUnsupported(f"model {sm.base.model_id!r}: a switching time depends on {sm.base.parameters[int(moved[0])]!r}, "
                                     "which the sensitivities move; the switching time's sensitivity is not computed")
    xa, pa = sm.augmented_start(x0, p, sx0, sp)
    run = run_tape_model(sm.model, t, float(rtol), atol, int(max_steps), xa, pa, kernel=kernel or integrate)
    x, S = sm.split(run.x)
    return x, run.p[:, :len(sm.base.parameters)], S


def sensitivity_batch(sm: SensitivityModel, t: np.ndarray, rtol: float, atol: np.ndarray, max_steps: int, X0: np.ndarray,
                      P: np.ndarray, SX0: np.ndarray, SP: np.ndarray, threads: int = 1,
                      kernel: Callable[..., tuple[int, int]] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """:func:`run_sensitivities` for every row (X0 (r, n_x + 1), P (r, n_p), SX0 (r, n_x, n), SP (r, n_p, n)),
    ``atol`` from :func:`augmented_atol`.

    Returns states, parameters, S (NaN where a run failed) and the failure messages ('' when ok).
    """
    r, nt = X0.shape[0], t.shape[0]
    xs = np.full((r, nt, sm.n_x + 1), np.nan)
    ps = np.full((r, nt, P.shape[1]), np.nan)
    Ss = np.full((r, nt, sm.n_x, sm.directions), np.nan)
    errors = [""] * r

    def one(i: int) -> None:
        try:
            xs[i], ps[i], Ss[i] = run_sensitivities(sm, t, rtol, atol, max_steps, X0[i], P[i], SX0[i], SP[i], kernel)
        except SolverError as err:
            errors[i] = str(err)

    if threads <= 1 or r == 1:  # a pool's thread start costs more than a small run
        for i in range(r):
            one(i)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(r)))
    return xs, ps, Ss, errors


def symbols_along(sm: SensitivityModel, x: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Species (own sense) and variable values, as ``simulate_batch`` reports them, at states x (..., n_x + 1), parameters p."""
    lead = x.shape[:-1]
    run = TapeRun(x.reshape(-1, x.shape[-1]), p.reshape(-1, p.shape[-1]), 0, 0)
    state, var = _values(sm.base, run)
    return state.reshape(*lead, -1), var.reshape(*lead, -1)
