"""SIMD lanes of the network engine's Rosenbrock method (:mod:`cytonet.engine.rodas`): B runs advance together, one attempted step per lane per iteration.

Every array is structure-of-arrays, ``[n_species, B]`` or ``[n_entries, B]``, and every kernel
(right-hand side, Jacobian, the sparse LU of W = I/(gamma h) - J on the model's one symbolic plan,
the triangular solves) loops over the model's operations outside and over the lanes inside, so
the innermost loops are contiguous and LLVM vectorises them. The right-hand side, Jacobian, LU and
solves can instead be the model's own generated kernels (:mod:`cytonet.engine.lane_codegen`,
:mod:`cytonet.engine.lane_lu`: the same operations, bit-identical, about twice as fast per run),
passed to the driver as function pointers.

Each lane keeps its own time, step size, error control, breakpoints and outputs (the control of
:func:`cytonet.engine.rodas.solve_one`), and takes the next waiting run when its run ends or
fails, so lanes never wait for each other and a failing run never touches the others. (One step
sequence shared by a block, accepted when every run's error is <= 1, was measured first: on the
reference network a block of 64 runs then needs ~2.4x the steps of its median run, which ate the
vector gain.) Once no run waits, lanes fall idle as their runs end; the interpreted kernels then
narrow the block to the running lanes each time half of it is idle (a lane's arithmetic does not
depend on its place or on B), and the generated kernels, whose lane count is built in, hand over
to the interpreted ones (bit-identical) when three quarters are idle. Threshold events are not
handled here (:mod:`cytonet.engine.batch` runs such models on the independent path). Differences from ``solve_one``, within rounding and tolerance: a
reaction's rational factors share one division, and an unsafe sparse pivot halves the step
instead of switching to dense LU.
"""

from __future__ import annotations

import threading

import numba as nb
import numpy as np

from cytonet.engine.rodas import (
    GAMMA, I_SPECIES, I_STEPS, I_REJECTED, I_T, MAX_STEPS, N_STAGES, NONFINITE, OK, STEP_UNDERFLOW, _A, _C, _CHAINED, _D,
    _K,
    accepted_step, rejected_step, step_to,
)
from cytonet.engine.sparse import GROWTH_MAX, PIVOT_TOL
from cytonet.model.compile import CAP, HILL_ACT, HILL_INH, POWER, SAT

_J = dict(cache=True, nogil=True, error_model="numpy")

_JI = dict(cache=True, nogil=True, error_model="numpy", inline="always")
#: largest integer Hill coefficient that the lock-step kernels raise by multiplication (larger or non-integer ones: ``pow``)
MAX_INT_HILL = 16

_ROW = nb.types.float64[:, ::1]
#: signatures of per-model kernels (:mod:`cytonet.engine.lane_codegen`): rhs(X, U, kr, fK, fn, fb, fKn, out), jac(X, kr,
#: fK, fn, fb, fKn, out), every argument ``[rows, B]``
RHS_SIG = nb.types.void(*(_ROW,) * 8)
JAC_SIG = nb.types.void(*(_ROW,) * 7)
#: solve(a, b), as :func:`solve_block`
SOLVE_SIG = nb.types.void(_ROW, _ROW)
_LANES = nb.types.float64[::1]
#: lu(jv, dtg, a, big, ok), as :func:`lu_block` without the plan (:mod:`cytonet.engine.lane_lu`)
LU_SIG = nb.types.void(_ROW, _LANES, _ROW, _LANES, nb.types.boolean[::1])


@nb.njit(**_JI)
def _pow_int(x, k):
    """x ** k for an integer k >= 1 by repeated squaring (a libm ``pow`` per lane costs several times more)."""
    r = 1.0
    while True:
        if k & 1:
            r *= x
        k >>= 1
        if k == 0:
            return r
        x *= x


@nb.njit(**_JI)
def _pow_code(x, code, n):
    """x ** n, by multiplication when ``code`` is the integer n (see :func:`hill_codes`)."""
    if code == 1:
        return x
    if code == 2:
        return x * x
    if code == 3:
        return x * x * x
    if code == 4:
        x2 = x * x
        return x2 * x2
    if code > 4:
        return _pow_int(x, code)
    return x ** n if n != 1.0 else x


@nb.njit(**_JI)
def _powm1(xp, code, n, xn):
    """xp ** (n - 1) for xp >= 0 (the derivative's power; 1 at n = 1, 0 at xp = 0 for n > 1); xn = xp ** n."""
    if code == 1:
        return 1.0
    if code == 2:
        return xp
    if code == 3:
        return xp * xp
    if code == 4:
        return xp * xp * xp
    if code > 4:
        return _pow_int(xp, code - 1)
    return xn / xp if xp > 0.0 else (1.0 if n == 1.0 else 0.0)


@nb.njit(**_JI)
def _mass_action(f_ptr, f_kind, f_nu, s_ptr, r):
    """Reaction r is k x_a x_b (at most two first-order POWER factors) with at most two products."""
    m = f_ptr[r + 1] - f_ptr[r]
    if m > 2 or s_ptr[r + 1] - s_ptr[r] > 2 or s_ptr[r + 1] == s_ptr[r]:
        return False
    for j in range(f_ptr[r], f_ptr[r + 1]):
        if f_kind[j] != POWER or f_nu[j] != 1.0:
            return False
    return True


@nb.njit(**_JI)
def _mass_action_rhs(X, kr, f0, f1, f_species, s0, s1, s_species, s_coef, r, out):
    """out += N_r k x_a x_b in one pass over the lanes (the rate stays in a register)."""
    B = X.shape[1]
    a = f_species[f0] if f1 > f0 else 0
    b = f_species[f0 + 1] if f1 > f0 + 1 else 0
    o1, c1 = s_species[s0], s_coef[s0]
    o2, c2 = (s_species[s0 + 1], s_coef[s0 + 1]) if s1 > s0 + 1 else (0, 0.0)
    m = f1 - f0
    two = s1 > s0 + 1
    if m == 0:
        for q in range(B):
            out[o1, q] += c1 * kr[r, q]
    elif m == 1 and not two:
        for q in range(B):
            out[o1, q] += c1 * (kr[r, q] * X[a, q])
    elif m == 1:
        for q in range(B):
            vq = kr[r, q] * X[a, q]
            out[o1, q] += c1 * vq
            out[o2, q] += c2 * vq
    elif not two:
        for q in range(B):
            out[o1, q] += c1 * (kr[r, q] * X[a, q] * X[b, q])
    else:
        for q in range(B):
            vq = kr[r, q] * X[a, q] * X[b, q]
            out[o1, q] += c1 * vq
            out[o2, q] += c2 * vq
    if m == 0 and two:
        for q in range(B):
            out[o2, q] += c2 * kr[r, q]


@nb.njit(**_J)
def rhs_block(X, U, C, S, ncode, out, v, den, xp, xn):
    """out = N v(X) + U for every run of the block; ``v``, ``den``, ``xp``, ``xn`` are scratch rows of length B.

    Rational factors are split so a reaction needs one division, not one per factor:
    x/(K+x), (K-x)/K, x^n/(K^n+x^n), K^n/(K^n+x^n), (b K^n + x^n)/(K^n+x^n). The factor loop is
    written out here and rows are indexed in place: helper functions and row views cost a
    reference count per factor and lane block, as much as the arithmetic at 32 lanes.
    """
    kr, fK, fn, fb, fKn = C
    f_ptr, f_kind, f_species, f_nu, s_ptr, s_species, s_coef = S
    B = X.shape[1]
    for i in range(X.shape[0]):
        for q in range(B):
            out[i, q] = U[i, q]
    for r in range(kr.shape[0]):
        if _mass_action(f_ptr, f_kind, f_nu, s_ptr, r):  # one fused pass, the same operations in the same order
            _mass_action_rhs(X, kr, f_ptr[r], f_ptr[r + 1], f_species, s_ptr[r], s_ptr[r + 1], s_species, s_coef, r, out)
            continue
        rational = False
        for j in range(f_ptr[r], f_ptr[r + 1]):
            rational = rational or f_kind[j] != POWER
        for q in range(B):
            v[q] = kr[r, q]
        if rational:
            for q in range(B):
                den[q] = 1.0
        for j in range(f_ptr[r], f_ptr[r + 1]):
            kind, s, nu, code = f_kind[j], f_species[j], f_nu[j], ncode[j]
            if kind == POWER:
                if nu == 1.0:
                    for q in range(B):
                        v[q] *= X[s, q]
                elif nu == 2.0:
                    for q in range(B):
                        v[q] *= X[s, q] * X[s, q]
                else:
                    for q in range(B):
                        v[q] *= X[s, q] ** nu
            elif kind == SAT:
                for q in range(B):
                    v[q] *= X[s, q]
                    den[q] *= fK[j, q] + X[s, q]
            elif kind == CAP:
                for q in range(B):
                    v[q] *= fK[j, q] - X[s, q]
                    den[q] *= fK[j, q]
            else:
                for q in range(B):
                    xq = X[s, q] if X[s, q] > 0.0 else 0.0
                    xn[q] = _pow_code(xq, code, fn[j, q])
                if kind == HILL_ACT:
                    for q in range(B):
                        v[q] *= xn[q]
                        den[q] *= fKn[j, q] + xn[q]
                elif kind == HILL_INH:
                    for q in range(B):
                        v[q] *= fKn[j, q]
                        den[q] *= fKn[j, q] + xn[q]
                else:
                    for q in range(B):
                        v[q] *= fb[j, q] * fKn[j, q] + xn[q]
                        den[q] *= fKn[j, q] + xn[q]
        if rational:
            for q in range(B):
                v[q] /= den[q]
        for j in range(s_ptr[r], s_ptr[r + 1]):
            c = s_coef[j]
            o = s_species[j]
            for q in range(B):
                out[o, q] += c * v[q]


@nb.njit(**_J)
def jac_block(X, C, S, ncode, dst, out, fv, dv, g, xp, xn):
    """out[dst[e]] += term e of J for every run (``out`` ``[nnz, B]`` zeroed first); fv, dv ``[m_max, B]`` scratch.

    Factor i of a reaction gets its value ``fv[i]`` and derivative ``dv[i]`` over the block, written
    out and indexed in place like :func:`rhs_block`.
    """
    kr, fK, fn, fb, fKn = C
    f_ptr, f_kind, f_species, f_nu, s_ptr, s_species, s_coef = S
    B = X.shape[1]
    out[:, :] = 0.0
    e = 0
    for r in range(kr.shape[0]):
        m = f_ptr[r + 1] - f_ptr[r]
        ns = s_ptr[r + 1] - s_ptr[r]
        if _mass_action(f_ptr, f_kind, f_nu, s_ptr, r):  # d(k x_a x_b)/dx_a = k x_b, one pass per term
            for i in range(m):
                o1 = dst[e]
                c1 = s_coef[s_ptr[r]]
                o2 = dst[e + 1] if ns == 2 else o1
                c2 = s_coef[s_ptr[r] + 1] if ns == 2 else 0.0
                if m == 1:
                    for q in range(B):
                        gq = kr[r, q] * 1.0
                        out[o1, q] += c1 * gq
                        if ns == 2:
                            out[o2, q] += c2 * gq
                else:
                    other = f_species[f_ptr[r] + 1 - i]
                    for q in range(B):
                        gq = kr[r, q] * 1.0 * X[other, q]
                        out[o1, q] += c1 * gq
                        if ns == 2:
                            out[o2, q] += c2 * gq
                e += ns
            continue
        for i in range(m):
            j = f_ptr[r] + i
            kind, s, nu, code = f_kind[j], f_species[j], f_nu[j], ncode[j]
            if kind == POWER:
                if nu == 1.0:
                    for q in range(B):
                        fv[i, q] = X[s, q]
                        dv[i, q] = 1.0
                elif nu == 2.0:
                    for q in range(B):
                        fv[i, q] = X[s, q] * X[s, q]
                        dv[i, q] = 2.0 * X[s, q]
                else:
                    for q in range(B):
                        fv[i, q] = X[s, q] ** nu
                        dv[i, q] = nu * X[s, q] ** (nu - 1.0)
            elif kind == SAT:
                for q in range(B):
                    inv = 1.0 / (fK[j, q] + X[s, q])
                    fv[i, q] = X[s, q] * inv
                    dv[i, q] = fK[j, q] * inv * inv
            elif kind == CAP:
                for q in range(B):
                    inv = 1.0 / fK[j, q]
                    fv[i, q] = 1.0 - X[s, q] * inv
                    dv[i, q] = -inv
            else:
                for q in range(B):
                    xq = X[s, q] if X[s, q] > 0.0 else 0.0
                    xnq = _pow_code(xq, code, fn[j, q])
                    inv = 1.0 / (fKn[j, q] + xnq)
                    dh = fn[j, q] * fKn[j, q] * _powm1(xq, code, fn[j, q], xnq) * inv * inv  # 0 ** 0 = 1
                    if kind == HILL_ACT:
                        fv[i, q] = xnq * inv
                        dv[i, q] = dh
                    elif kind == HILL_INH:
                        fv[i, q] = fKn[j, q] * inv
                        dv[i, q] = -dh
                    else:
                        fv[i, q] = fb[j, q] + (1.0 - fb[j, q]) * xnq * inv
                        dv[i, q] = (1.0 - fb[j, q]) * dh
        for i in range(m):
            for q in range(B):
                g[q] = kr[r, q] * dv[i, q]
            for k in range(m):
                if k != i:
                    for q in range(B):
                        g[q] *= fv[k, q]
            for j in range(ns):
                c = s_coef[s_ptr[r] + j]
                o = dst[e + j]
                for q in range(B):
                    out[o, q] += c * g[q]
            e += ns


@nb.njit(**_J)
def lu_block(jv, dtg, L, a, lik, big, ok):
    """a = dtg I - J (``dtg`` one value per lane) factored in place; ``ok[q]`` False where a pivot of lane q is unsafe.

    Every pass over a row of lanes costs about the same, whatever it computes, so W and its largest
    entry are formed in one pass per entry, and the pivot and growth tests after the elimination in
    another (the same values as separate passes: max and ``&`` do not depend on the order).
    """
    perm, row_ptr, col, diag, l_pos, l_piv, op_ptr, op_src, op_dst, is_diag = L
    nnz, B = a.shape
    for q in range(B):
        big[q] = 0.0
        ok[q] = True
    for e in range(nnz):
        ae = a[e]
        je = jv[e]
        if is_diag[e]:
            for q in range(B):
                ae[q] = -je[q] + dtg[q]
                big[q] = max(big[q], abs(ae[q]))
        else:
            for q in range(B):
                ae[q] = -je[q]
                big[q] = max(big[q], abs(ae[q]))
    for k in range(l_pos.shape[0]):
        d = a[l_piv[k]]
        lrow = a[l_pos[k]]
        for q in range(B):
            lik[q] = lrow[q] / d[q]
            lrow[q] = lik[q]
        for o in range(op_ptr[k], op_ptr[k + 1]):
            dr = a[op_dst[o]]
            sr = a[op_src[o]]
            for q in range(B):
                dr[q] -= lik[q] * sr[q]
    for e in range(nnz):  # tiny pivots and element growth, per lane (NaN fails both)
        ae = a[e]
        if is_diag[e]:
            for q in range(B):
                ok[q] &= (abs(ae[q]) > PIVOT_TOL * big[q]) & (abs(ae[q]) < GROWTH_MAX * big[q])
        else:
            for q in range(B):
                ok[q] &= abs(ae[q]) < GROWTH_MAX * big[q]


@nb.njit(**_J)
def solve_block(a, L, b, w):
    """Solve W x = b in place for every run (b ``[n, B]`` in species order).

    Row i of the permuted system is row ``perm[i]`` of ``b``, substituted in place (no copies in
    and out); ``w`` is kept for the callers' signature.
    """
    perm, row_ptr, col, diag = L[0], L[1], L[2], L[3]
    n, B = b.shape
    for i in range(n):
        p = perm[i]
        for e in range(row_ptr[i], diag[i]):
            c = perm[col[e]]
            for q in range(B):
                b[p, q] -= a[e, q] * b[c, q]
    for i in range(n - 1, -1, -1):
        p = perm[i]
        for e in range(diag[i] + 1, row_ptr[i + 1]):
            c = perm[col[e]]
            for q in range(B):
                b[p, q] -= a[e, q] * b[c, q]
        d = diag[i]
        for q in range(B):
            b[p, q] = b[p, q] / a[d, q]


@nb.njit(**_J)
def hill_codes(P, f_n):
    """Per factor: its Hill coefficient when it is the same integer 1 .. ``MAX_INT_HILL`` in every run (rows of
    ``P``), else 0 (a libm ``pow``)."""
    codes = np.zeros(f_n.shape[0], np.int64)
    for j in range(f_n.shape[0]):
        c = P[0, f_n[j]] if f_n[j] >= 0 else 1.0
        for r in range(P.shape[0]):
            if (P[r, f_n[j]] if f_n[j] >= 0 else 1.0) != c:
                c = 0.0
        codes[j] = int(c) if c == int(c) and 1 <= c <= MAX_INT_HILL else 0
    return codes


@nb.njit(**_J)
def _load_lane(q, p, Q, C, ncode):
    """Lane q's constants from the parameter vector ``p`` (the per-run constants of :func:`cytonet.model.compile.prepare`)."""
    r_k, r_kpow, r_scale, f_K, f_n, f_b = Q
    kr, fK, fn, fb, fKn = C
    for r in range(r_k.shape[0]):
        kr[r, q] = r_scale[r] * (p[r_k[r]] if r_kpow[r] == 1.0 else p[r_k[r]] ** r_kpow[r])
    for j in range(f_K.shape[0]):
        fK[j, q] = p[f_K[j]] if f_K[j] >= 0 else 1.0
        fn[j, q] = p[f_n[j]] if f_n[j] >= 0 else 1.0
        fb[j, q] = p[f_b[j]] if f_b[j] >= 0 else 0.0
        fKn[j, q] = _pow_code(fK[j, q], ncode[j], fn[j, q])


@nb.njit(**_J)
def block_constants(P, Q, ncode):
    """The per-run constants ``C`` of every row of ``P`` as block columns (one lane per row)."""
    B = P.shape[0]
    nf = Q[3].shape[0]
    C = (np.ones((Q[0].shape[0], B)), np.ones((nf, B)), np.ones((nf, B)), np.zeros((nf, B)), np.ones((nf, B)))
    for q in range(B):
        _load_lane(q, P[q], Q, C, ncode)
    return C


@nb.njit(RHS_SIG, **_J)
def _no_rhs(X, U, kr, fK, fn, fb, fKn, out):
    """Stands in for a generated right-hand side when the interpreted kernels run."""


@nb.njit(JAC_SIG, **_J)
def _no_jac(X, kr, fK, fn, fb, fKn, out):
    """Stands in for a generated Jacobian when the interpreted kernels run."""


@nb.njit(SOLVE_SIG, **_J)
def _no_solve(a, b):
    """Stands in for generated triangular solves when the interpreted kernels run."""


@nb.njit(LU_SIG, **_J)
def _no_lu(jv, dtg, a, big, ok):
    """Stands in for a generated LU when the interpreted kernels run."""


@nb.njit(**_JI)
def _lu(gen, glu, jv, dtg, L, a, lik, big, ok):
    if gen:
        glu(jv, dtg, a, big, ok)
    else:
        lu_block(jv, dtg, L, a, lik, big, ok)


@nb.njit(**_JI)
def _solve(gen, gsolve, a, L, b, w):
    if gen:
        gsolve(a, b)
    else:
        solve_block(a, L, b, w)


@nb.njit(**_JI)
def _rhs(gen, grhs, X, U, C, S, ncode, out, v, den, xp, xn):
    if gen:
        grhs(X, U, C[0], C[1], C[2], C[3], C[4], out)
    else:
        rhs_block(X, U, C, S, ncode, out, v, den, xp, xn)


@nb.njit(**_JI)
def _jac(gen, gjac, X, C, S, ncode, dst, out, fv, dv, g, xp, xn):
    if gen:
        gjac(X, C[0], C[1], C[2], C[3], C[4], out)
    else:
        jac_block(X, C, S, ncode, dst, out, fv, dv, g, xp, xn)


@nb.njit(**_J)
def _lanes_of(a, keep):
    """Columns ``keep`` of a ``[rows, B]`` block, as a new block."""
    out = np.empty((a.shape[0], keep.shape[0]))
    for i in range(a.shape[0]):
        for j in range(keep.shape[0]):
            out[i, j] = a[i, keep[j]]
    return out


@nb.njit(**_JI)
def _stage_inputs(yt, ks, x, K, s):
    """Stage s's point yt = x + sum over j < s of A[s, j] K[j] (for a chained stage: the previous point + K[s - 1]) and
    its sum ks = sum over j < s of C[s, j] K[j], on every lane, in one pass over the earlier stages a row at a time;
    each sum in the order of j."""
    n, B = yt.shape
    chained = _CHAINED[s]
    for i in range(n):
        y = yt[i]
        c = ks[i]
        if chained:
            kp = K[s - 1, i]
            for q in range(B):
                y[q] += kp[q]
                c[q] = 0.0
            for j in range(s):
                cj = _C[s, j]
                kj = K[j, i]
                for q in range(B):
                    c[q] += cj * kj[q]
        else:
            xi = x[i]
            for q in range(B):
                y[q] = xi[q]
                c[q] = 0.0
            for j in range(s):
                aj = _A[s, j]
                cj = _C[s, j]
                kj = K[j, i]
                for q in range(B):
                    y[q] += aj * kj[q]
                    c[q] += cj * kj[q]


@nb.njit(**_JI)
def _stages(gen, grhs, gsolve, a, L, x, u, C, S, ncode, fy0, fw, K, yt, y1, w, ih, atol, rtol, errs, v, den, xp, xn):
    """The stages of a step on every lane (W factored in ``a``, f(x) in ``fy0``): K, y1 and the squared error sums
    ``errs``."""
    n, B = x.shape
    K[0, :, :] = fy0
    _solve(gen, gsolve, a, L, K[0], w)
    for s in range(1, N_STAGES):
        ks = K[s]
        _stage_inputs(yt, ks, x, K, s)
        _rhs(gen, grhs, yt, u, C, S, ncode, fw, v, den, xp, xn)
        for i in range(n):
            r = ks[i]
            f = fw[i]
            for q in range(B):
                r[q] = f[q] + ih[q] * r[q]
        _solve(gen, gsolve, a, L, ks, w)
    last = K[N_STAGES - 1]
    errs[:] = 0.0
    for i in range(n):
        for q in range(B):
            y1[i, q] = yt[i, q] + last[i, q]
            sc = atol[i] + rtol * max(abs(x[i, q]), abs(y1[i, q]))
            errs[q] += (last[i, q] / sc) ** 2


_DRIVERS: dict[tuple, object] = {}
_DRIVERS_LOCK = threading.Lock()


def solve_lanes(X0, P, t_out, bolus_time, bolus_species, bolus_amount, inf_start, inf_end, inf_species, inf_rate,
                M, ncode, rtol, atol, max_steps, h_max, B, rows, out, status, info, kernels=None) -> None:
    """Integrate every run (rows of ``X0``, ``P`` and the event arrays) on ``B`` SIMD lanes (see :func:`_lanes`).

    ``kernels``: the model's generated right-hand side, Jacobian, triangular solves and LU for ``B`` lanes
    (:func:`cytonet.engine.lane_codegen.lane_kernels`, bit-identical to the interpreted kernels), or
    None for the interpreted ones. The driver is compiled for the argument types with the kernels
    as function pointers, so one machine code (cached on disk) serves every model.
    """
    gen = kernels is not None
    if gen and kernels.lanes != max(1, min(B, X0.shape[0])):
        raise ValueError(f"generated kernels are for {kernels.lanes} lanes, this call runs {min(B, X0.shape[0])}")
    args = (X0, P, t_out, bolus_time, bolus_species, bolus_amount, inf_start, inf_end, inf_species, inf_rate,
            M, ncode, rtol, atol, max_steps, h_max, B, rows, out, status, info, gen)
    sig = tuple(nb.typeof(a) for a in args) + tuple(nb.types.FunctionType(f) for f in (RHS_SIG, JAC_SIG, SOLVE_SIG, LU_SIG))
    driver = _DRIVERS.get(sig)
    if driver is None:
        with _DRIVERS_LOCK:
            driver = _DRIVERS.get(sig) or _DRIVERS.setdefault(sig, nb.njit(sig, **_J)(_lanes))
    driver(*args, *(kernels[:4] if gen else (_no_rhs, _no_jac, _no_solve, _no_lu)))


def _lanes(X0, P, t_out, bolus_time, bolus_species, bolus_amount, inf_start, inf_end, inf_species, inf_rate,
           M, ncode, rtol, atol, max_steps, h_max, B, rows, out, status, info, gen, grhs, gjac, gsolve, glu):
    """Integrate every run (rows of ``X0``, ``P`` and the event arrays) on ``B`` SIMD lanes.

    ``ncode`` is :func:`hill_codes` of the whole batch, so a run's arithmetic does not depend on
    which other runs share its chunk (results are the same for any chunking and thread count).
    All lanes attempt a step together; each lane has its own time, step size, error control,
    breakpoints and outputs (the control of :func:`cytonet.engine.rodas.solve_one`), and takes the
    next waiting run as soon as its run ends or fails. Run k is written to ``out[rows[k]]``,
    ``status[rows[k]]``, ``info[rows[k]]``. The lanes' state lives here; :func:`_advance` steps it
    until every run is done or, once no run waits, until the block is to narrow (module docstring),
    which happens here between its calls, so the stepping loop never reassigns its arrays.
    """
    Q = M[1]
    N, n = X0.shape
    B = max(1, min(B, N))
    nf = Q[3].shape[0]
    nbp = bolus_time.shape[1] + 2 * inf_start.shape[1] + 1
    C = (np.ones((Q[0].shape[0], B)), np.ones((nf, B)), np.ones((nf, B)), np.zeros((nf, B)), np.ones((nf, B)))
    x = np.zeros((n, B))
    u = np.zeros((n, B))
    run = np.full(B, -1, np.int64)  # run on the lane, -1 idle
    t = np.zeros(B)
    h = np.ones(B)
    h_prop = np.ones(B)
    seg_end = np.zeros(B)
    err_prev = np.ones(B)
    last = np.zeros(B, np.bool_)
    at_seg = np.zeros(B, np.bool_)  # lane is at the start of a segment (or of its run)
    io = np.zeros(B, np.int64)
    ib = np.zeros(B, np.int64)
    steps = np.zeros(B, np.int64)
    rejected = np.zeros(B, np.int64)
    bps = np.empty((B, nbp))
    next_run = 0
    while True:
        next_run, gen = _advance(X0, P, t_out, bolus_time, bolus_species, bolus_amount, inf_start, inf_end, inf_species,
                                 inf_rate, M, ncode, rtol, atol, max_steps, h_max, rows, out, status, info, gen, grhs, gjac,
                                 gsolve, glu, C, x, u, run, t, h, h_prop, seg_end, err_prev, last, at_seg, io, ib, steps, rejected,
                                 bps, next_run)
        active = 0
        for q in range(B):
            if run[q] >= 0:
                active += 1
        if active == 0:
            return
        keep = np.empty(active, np.int64)  # narrow the block to the running lanes
        j = 0
        for q in range(B):
            if run[q] >= 0:
                keep[j] = q
                j += 1
        B = active
        C = (_lanes_of(C[0], keep), _lanes_of(C[1], keep), _lanes_of(C[2], keep), _lanes_of(C[3], keep),
             _lanes_of(C[4], keep))
        x, u = _lanes_of(x, keep), _lanes_of(u, keep)
        run, t, h, h_prop, seg_end, err_prev = run[keep], t[keep], h[keep], h_prop[keep], seg_end[keep], err_prev[keep]
        last, at_seg, io, ib, steps, rejected, bps = last[keep], at_seg[keep], io[keep], ib[keep], steps[keep], rejected[keep], bps[keep]


@nb.njit(**_J)
def _advance(X0, P, t_out, bolus_time, bolus_species, bolus_amount, inf_start, inf_end, inf_species, inf_rate,
             M, ncode, rtol, atol, max_steps, h_max, rows, out, status, info, gen, grhs, gjac, gsolve, glu,
             C, x, u, run, t, h, h_prop, seg_end, err_prev, last, at_seg, io, ib, steps, rejected, bps, next_run):
    """Step the lanes of :func:`_lanes` (their state in ``C`` .. ``bps``, ``B`` columns) until every run is done, or no
    run waits and the block should narrow: a quarter of the lanes still running on the generated kernels (returned
    ``gen`` False: the interpreted ones take over, bit-identical) or half on the interpreted ones.
    Returns (next run to start, gen)."""
    S, Q, L, jac_dst = M
    N, n = X0.shape
    B = x.shape[1]
    nt = t_out.shape[0]
    t_end = t_out[nt - 1]
    nnz = L[2].shape[0]
    nb_ = bolus_time.shape[1]
    ni = inf_start.shape[1]
    nbp = bps.shape[1]  # breakpoints per run: boluses, infusion starts and ends, and the end (sized in _lanes)
    m_max = 1
    for r in range(Q[0].shape[0]):
        m_max = max(m_max, S[0][r + 1] - S[0][r])
    fv = np.empty((m_max, B))
    dv = np.empty((m_max, B))
    v = np.empty(B)
    den = np.empty(B)
    xp = np.empty(B)
    xn = np.empty(B)
    big = np.empty(B)
    jv = np.empty((nnz, B))
    a = np.empty((nnz, B))
    w = np.empty((n, B))
    fy0 = np.empty((n, B))
    fw = np.empty((n, B))
    yt = np.empty((n, B))
    y1 = np.empty((n, B))
    K = np.empty((N_STAGES, n, B))  # the stages
    errs = np.empty(B)
    dtg = np.ones(B)
    ih = np.ones(B)
    ok = np.ones(B, np.bool_)
    stepping = np.zeros(B, np.bool_)  # lane attempts a step in this iteration
    active = B
    while True:
        # 1. lanes at a segment start: boluses, outputs at t, end of run (next run on the lane), new segment
        for q in range(B):
            while at_seg[q] or run[q] < 0:
                if run[q] < 0:
                    if next_run >= N:
                        break
                    k = next_run
                    next_run += 1
                    run[q] = k
                    _load_lane(q, P[k], Q, C, ncode)
                    for i in range(n):
                        x[i, q] = X0[k, i]
                    m = 0
                    for i in range(nb_):
                        bps[q, m] = bolus_time[k, i]
                        m += 1
                    for i in range(ni):
                        bps[q, m] = inf_start[k, i]
                        bps[q, m + 1] = inf_end[k, i]
                        m += 2
                    bps[q, m] = t_end
                    bps[q, :] = np.sort(bps[q, :])
                    t[q] = 0.0
                    h[q] = 0.0
                    at_seg[q] = True
                    io[q] = 0
                    ib[q] = 0
                    steps[q] = 0
                    rejected[q] = 0
                k = run[q]
                for i in range(nb_):
                    if bolus_time[k, i] == t[q]:
                        x[bolus_species[i], q] += bolus_amount[k, i]
                while io[q] < nt and t_out[io[q]] <= t[q]:
                    for i in range(n):
                        out[rows[k], io[q], i] = x[i, q]
                    io[q] += 1
                if t[q] >= t_end:
                    info[rows[k], I_T] = t[q]
                    info[rows[k], I_STEPS] = steps[q]
                    info[rows[k], I_REJECTED] = rejected[q]
                    status[rows[k]] = OK
                    run[q] = -1
                    continue
                while ib[q] < nbp and bps[q, ib[q]] <= t[q]:
                    ib[q] += 1
                seg_end[q] = min(bps[q, ib[q]] if ib[q] < nbp else t_end, t_end)
                tm = 0.5 * (t[q] + seg_end[q])
                for i in range(n):
                    u[i, q] = 0.0
                for i in range(ni):
                    if inf_start[k, i] <= tm and tm < inf_end[k, i]:
                        u[inf_species[i], q] += inf_rate[k, i]
                err_prev[q] = 1.0
                break
        active = 0
        for q in range(B):
            if run[q] < 0:
                for i in range(n):  # idle lane: harmless finite values
                    x[i, q] = 0.0
                    u[i, q] = 0.0
                h[q] = 1.0
            else:
                active += 1
        if active == 0:
            return next_run, gen
        _rhs(gen, grhs, x, u, C, S, ncode, fy0, v, den, xp, xn)
        _jac(gen, gjac, x, C, S, ncode, jac_dst, jv, fv, dv, v, xp, xn)
        # 2. step sizes; failures by max_steps or underflow end the run
        for q in range(B):
            stepping[q] = False
            if run[q] < 0:
                continue
            if at_seg[q] and h[q] <= 0.0:
                d0 = 0.0
                dd = 0.0
                for i in range(n):
                    sc = atol[i] + rtol * abs(x[i, q])
                    d0 += (x[i, q] / sc) ** 2
                    dd += (fy0[i, q] / sc) ** 2
                d0 = np.sqrt(d0 / n)
                dd = np.sqrt(dd / n)
                h[q] = 0.01 * d0 / dd if (d0 > 1e-5 and dd > 1e-5) else 1e-6
            at_seg[q] = False
            fail = OK
            if steps[q] + rejected[q] >= max_steps:
                fail = MAX_STEPS
            else:
                h[q], h_prop[q], last[q] = step_to(t[q], h[q], h_max, seg_end[q])
                if h[q] < 1e-14 * max(1.0, abs(t[q])):
                    fail = STEP_UNDERFLOW
            if fail != OK:
                k = run[q]
                info[rows[k], I_T] = t[q]
                info[rows[k], I_STEPS] = steps[q]
                info[rows[k], I_REJECTED] = rejected[q]
                status[rows[k]] = fail
                run[q] = -1
                h[q] = 1.0
                continue
            stepping[q] = True
        for q in range(B):
            dtg[q] = 1.0 / (h[q] * GAMMA)
            ih[q] = 1.0 / h[q]
        _lu(gen, glu, jv, dtg, L, a, v, big, ok)
        # 3. the stages on every lane
        _stages(gen, grhs, gsolve, a, L, x, u, C, S, ncode, fy0, fw, K, yt, y1, w, ih, atol, rtol, errs, v, den, xp, xn)
        # 4. accept or reject per lane
        for q in range(B):
            if not stepping[q]:
                continue
            if not ok[q]:  # unsafe sparse pivot: a smaller step makes W diagonally dominant
                rejected[q] += 1
                h[q] *= 0.5
                continue
            err = np.sqrt(errs[q] / n)
            if not err <= 1.0:
                rejected[q] += 1
                h[q] = rejected_step(h[q], err, _K)
                continue
            steps[q] += 1
            k = run[q]
            hq = h[q]
            t_new = seg_end[q] if last[q] else t[q] + hq
            while io[q] < nt and t_out[io[q]] < t_new:
                th = (t_out[io[q]] - t[q]) / hq
                t1 = 1.0 - th
                for i in range(n):
                    d0 = 0.0
                    d1 = 0.0
                    d2 = 0.0
                    for s in range(N_STAGES):
                        d0 += _D[0, s] * K[s, i, q]
                        d1 += _D[1, s] * K[s, i, q]
                        d2 += _D[2, s] * K[s, i, q]
                    out[rows[k], io[q], i] = t1 * x[i, q] + th * (y1[i, q] + t1 * (d0 + th * (d1 + th * d2)))
                io[q] += 1
            t[q] = t_new
            bad = -1
            for i in range(n):
                x[i, q] = y1[i, q]
                if bad < 0 and not abs(y1[i, q]) <= 1e250:
                    bad = i
            if bad >= 0:
                info[rows[k], I_T] = t[q]
                info[rows[k], I_SPECIES] = bad
                info[rows[k], I_STEPS] = steps[q]
                info[rows[k], I_REJECTED] = rejected[q]
                status[rows[k]] = NONFINITE
                run[q] = -1
                continue
            while io[q] < nt and t_out[io[q]] <= t[q] and t_out[io[q]] < seg_end[q]:
                for i in range(n):
                    out[rows[k], io[q], i] = x[i, q]
                io[q] += 1
            h[q], err_prev[q] = accepted_step(hq, h_prop[q], last[q], err, err_prev[q], _K)
            if t[q] >= seg_end[q]:
                at_seg[q] = True
        if next_run >= N:  # no run waits: narrow the block once enough of it is idle
            running = 0
            for q in range(B):
                if run[q] >= 0:
                    running += 1
            if gen and 4 * running <= B:
                return next_run, False
            if not gen and 2 * running <= B:
                return next_run, gen
