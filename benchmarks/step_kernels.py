"""Per-step pieces of the lock-step simulation, timed alone (used by ``stages.py --steps``).

Each piece runs ``reps`` times inside one numba loop (no Python between calls) on the lanes of real
mid-run states; the generated kernels come in as function pointers, as in the driver, so these loops compile
once for every model; the time is CPU time per call and lane, best of ``best`` repeats. The stage updates and
the error norm are the driver's own (:func:`cytonet.engine.lockstep._stages`), timed with no-op kernels.
"""

from __future__ import annotations

import time

import numba as nb
import numpy as np

from cytonet.engine.lockstep import JAC_SIG, LU_SIG, RHS_SIG, SOLVE_SIG, _stages, lu_block

_COMPILED: dict[tuple, object] = {}


def with_kernels(fn, sigs: tuple, *args) -> None:
    """``fn(*args)`` compiled for the types of ``args``, the last ``len(sigs)`` being generated kernels passed as
    function pointers of signatures ``sigs`` (as the driver takes them: one machine code serves every model)."""
    k = len(sigs)
    sig = tuple(nb.typeof(a) for a in args[:-k]) + tuple(nb.types.FunctionType(s) for s in sigs)
    key = (fn, sig)
    if key not in _COMPILED:
        _COMPILED[key] = nb.njit(sig, cache=True, error_model="numpy")(fn)
    _COMPILED[key](*args)


def rep_rhs(reps, X, U, kr, fK, fn, fb, fKn, out, f):
    """``reps`` right-hand sides."""
    for _ in range(reps):
        f(X, U, kr, fK, fn, fb, fKn, out)


def rep_jac(reps, X, kr, fK, fn, fb, fKn, out, f):
    """``reps`` Jacobians."""
    for _ in range(reps):
        f(X, kr, fK, fn, fb, fKn, out)


@nb.njit(cache=True)
def rep_lu(reps, jv, dtg, L, a, lik, big, ok):
    """``reps`` sparse LU factorisations of W on the interpreted kernel."""
    for _ in range(reps):
        lu_block(jv, dtg, L, a, lik, big, ok)


def rep_glu(reps, jv, dtg, a, big, ok, f):
    """``reps`` sparse LU factorisations of W on a generated kernel."""
    for _ in range(reps):
        f(jv, dtg, a, big, ok)


def rep_solve(reps, a, b, b0, f):
    """``reps`` triangular solves, each after a copy of the right-hand side (:func:`rep_copy` times the copies)."""
    for _ in range(reps):
        b[:, :] = b0  # the right-hand side is overwritten: restore it (timed alone below and subtracted)
        f(a, b)


@nb.njit(cache=True)
def rep_copy(reps, b, b0):
    """``reps`` copies of ``b0`` into ``b``."""
    for _ in range(reps):
        b[:, :] = b0


#: kernel signatures of :func:`rep_step`
STEP_SIGS = (RHS_SIG, JAC_SIG, SOLVE_SIG, LU_SIG)


def rep_step(reps, x, U, C, S, ncode, L, jv, a, dtg, lik, big, ok, fy0, fw, K, yt, y1, w, ih,
             atol, rtol, errs, v, den, xp, xn, rhs, jac, solve, lu):
    """A whole step's kernels and passes in the driver's order on the driver's arrays, without its step control (with
    the no-op kernels of :mod:`cytonet.engine.lockstep`: the driver's passes between the kernels alone, k1 = f, the
    stages' y = x + sum a k and k = f + ih sum c k, and y1 with the error norm)."""
    for _ in range(reps):
        rhs(x, U, C[0], C[1], C[2], C[3], C[4], fy0)
        jac(x, C[0], C[1], C[2], C[3], C[4], jv)
        lu(jv, dtg, a, big, ok)
        _stages(True, rhs, solve, a, L, x, U, C, S, ncode, fy0, fw, K, yt, y1, w, ih, atol, rtol, errs, v, den, xp, xn)


def per_lane_ns(call, B: int, reps: int, best: int = 5) -> float:
    """Best of ``best`` CPU timings of ``call(reps)``, in ns per call and lane."""
    call(1)
    t = np.inf
    for _ in range(best):
        t0 = time.process_time()
        call(reps)
        t = min(t, time.process_time() - t0)
    return t / reps / B * 1e9
