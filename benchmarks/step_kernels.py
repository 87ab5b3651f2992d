"""Per-step pieces of the lock-step simulation, timed alone (used by ``stages.py --steps``).

Each piece runs ``reps`` times inside one numba loop (no Python between calls) on the lanes of real
mid-run states; the generated kernels come in as function pointers, as in the driver, so these loops compile
once for every model; the time is CPU time per call and lane, best of ``best`` repeats. The stage updates and
the error norm are the driver's own passes (:func:`cytonet.engine.lockstep._advance`), copied here so they
can be timed alone.
"""

from __future__ import annotations

import time

import numba as nb
import numpy as np

from cytonet.engine.lockstep import JAC_SIG, RHS_SIG, SOLVE_SIG, lu_block
from cytonet.engine.rodas import (
    A21, A31, A32, A41, A42, A43, A51, A52, A53, A54,
    C21, C31, C32, C41, C42, C43, C51, C52, C53, C54, C61, C62, C63, C64, C65,
)


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
    for _ in range(reps):
        f(X, U, kr, fK, fn, fb, fKn, out)


def rep_jac(reps, X, kr, fK, fn, fb, fKn, out, f):
    for _ in range(reps):
        f(X, kr, fK, fn, fb, fKn, out)


@nb.njit(cache=True)
def rep_lu(reps, jv, dtg, L, a, lik, big, ok):
    for _ in range(reps):
        lu_block(jv, dtg, L, a, lik, big, ok)


def rep_solve(reps, a, b, b0, f):
    for _ in range(reps):
        b[:, :] = b0  # the right-hand side is overwritten: restore it (timed alone below and subtracted)
        f(a, b)


@nb.njit(cache=True)
def rep_copy(reps, b, b0):
    for _ in range(reps):
        b[:, :] = b0


@nb.njit(cache=True, error_model="numpy")
def rep_updates(reps, x, fw, k1, k2, k3, k4, k5, k6, yt, y1, ih, atol, rtol, errs):
    """The driver's passes between the kernels of one step: k1 = f, the five y = x + sum a k, the five
    k = f + ih sum c k, and y1 with the error norm."""
    n, B = x.shape
    for _ in range(reps):
        k1[:, :] = fw
        for i in range(n):
            for q in range(B):
                yt[i, q] = x[i, q] + A21 * k1[i, q]
        for i in range(n):
            for q in range(B):
                k2[i, q] = fw[i, q] + ih[q] * C21 * k1[i, q]
        for i in range(n):
            for q in range(B):
                yt[i, q] = x[i, q] + A31 * k1[i, q] + A32 * k2[i, q]
        for i in range(n):
            for q in range(B):
                k3[i, q] = fw[i, q] + ih[q] * (C31 * k1[i, q] + C32 * k2[i, q])
        for i in range(n):
            for q in range(B):
                yt[i, q] = x[i, q] + A41 * k1[i, q] + A42 * k2[i, q] + A43 * k3[i, q]
        for i in range(n):
            for q in range(B):
                k4[i, q] = fw[i, q] + ih[q] * (C41 * k1[i, q] + C42 * k2[i, q] + C43 * k3[i, q])
        for i in range(n):
            for q in range(B):
                yt[i, q] = x[i, q] + A51 * k1[i, q] + A52 * k2[i, q] + A53 * k3[i, q] + A54 * k4[i, q]
        for i in range(n):
            for q in range(B):
                k5[i, q] = fw[i, q] + ih[q] * (C51 * k1[i, q] + C52 * k2[i, q] + C53 * k3[i, q] + C54 * k4[i, q])
        for i in range(n):
            for q in range(B):
                yt[i, q] += k5[i, q]
        for i in range(n):
            for q in range(B):
                k6[i, q] = fw[i, q] + ih[q] * (C61 * k1[i, q] + C62 * k2[i, q] + C63 * k3[i, q] + C64 * k4[i, q]
                                               + C65 * k5[i, q])
        errs[:] = 0.0
        for i in range(n):
            for q in range(B):
                y1[i, q] = yt[i, q] + k6[i, q]
                sc = atol[i] + rtol * max(abs(x[i, q]), abs(y1[i, q]))
                errs[q] += (k6[i, q] / sc) ** 2


#: kernel signatures of :func:`rep_step`
STEP_SIGS = (RHS_SIG, JAC_SIG, SOLVE_SIG)


def rep_step(reps, x, U, C, L, jv, a, dtg, lik, big, ok, fy0, fw, k1, k2, k3, k4, k5, k6, yt, y1, ih, atol, rtol, errs,
             rhs, jac, solve):
    """A whole step's kernels and passes in the driver's order on the driver's arrays, without its step control."""
    n, B = x.shape
    for _ in range(reps):
        rhs(x, U, C[0], C[1], C[2], C[3], C[4], fy0)
        jac(x, C[0], C[1], C[2], C[3], C[4], jv)
        lu_block(jv, dtg, L, a, lik, big, ok)
        k1[:, :] = fy0
        solve(a, k1)
        for i in range(n):
            for q in range(B):
                yt[i, q] = x[i, q] + A21 * k1[i, q]
        rhs(yt, U, C[0], C[1], C[2], C[3], C[4], fw)
        for i in range(n):
            for q in range(B):
                k2[i, q] = fw[i, q] + ih[q] * C21 * k1[i, q]
        solve(a, k2)
        for i in range(n):
            for q in range(B):
                yt[i, q] = x[i, q] + A31 * k1[i, q] + A32 * k2[i, q]
        rhs(yt, U, C[0], C[1], C[2], C[3], C[4], fw)
        for i in range(n):
            for q in range(B):
                k3[i, q] = fw[i, q] + ih[q] * (C31 * k1[i, q] + C32 * k2[i, q])
        solve(a, k3)
        for i in range(n):
            for q in range(B):
                yt[i, q] = x[i, q] + A41 * k1[i, q] + A42 * k2[i, q] + A43 * k3[i, q]
        rhs(yt, U, C[0], C[1], C[2], C[3], C[4], fw)
        for i in range(n):
            for q in range(B):
                k4[i, q] = fw[i, q] + ih[q] * (C41 * k1[i, q] + C42 * k2[i, q] + C43 * k3[i, q])
        solve(a, k4)
        for i in range(n):
            for q in range(B):
                yt[i, q] = x[i, q] + A51 * k1[i, q] + A52 * k2[i, q] + A53 * k3[i, q] + A54 * k4[i, q]
        rhs(yt, U, C[0], C[1], C[2], C[3], C[4], fw)
        for i in range(n):
            for q in range(B):
                k5[i, q] = fw[i, q] + ih[q] * (C51 * k1[i, q] + C52 * k2[i, q] + C53 * k3[i, q] + C54 * k4[i, q])
        solve(a, k5)
        for i in range(n):
            for q in range(B):
                yt[i, q] += k5[i, q]
        rhs(yt, U, C[0], C[1], C[2], C[3], C[4], fw)
        for i in range(n):
            for q in range(B):
                k6[i, q] = fw[i, q] + ih[q] * (C61 * k1[i, q] + C62 * k2[i, q] + C63 * k3[i, q] + C64 * k4[i, q]
                                               + C65 * k5[i, q])
        solve(a, k6)
        errs[:] = 0.0
        for i in range(n):
            for q in range(B):
                y1[i, q] = yt[i, q] + k6[i, q]
                sc = atol[i] + rtol * max(abs(x[i, q]), abs(y1[i, q]))
                errs[q] += (k6[i, q] / sc) ** 2


def per_lane_ns(call, B: int, reps: int, best: int = 5) -> float:
    """Best of ``best`` CPU timings of ``call(reps)``, in ns per call and lane."""
    call(1)
    t = np.inf
    for _ in range(best):
        t0 = time.process_time()
        call(reps)
        t = min(t, time.process_time() - t0)
    return t / reps / B * 1e9
