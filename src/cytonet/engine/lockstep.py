"""Lock-step Rodas4 over a block of B runs that share one step-size sequence.

Every array is structure-of-arrays, ``[n_species, B]`` or ``[n_entries, B]``, and every kernel
loops over the model's operations outside and over the runs inside, so the innermost loops are
contiguous and LLVM vectorises them. A step is accepted only when every run's scaled error norm is
<= 1; the next step size comes from the largest. The arithmetic of each run is the same sequence
of operations in every column, so a block of identical runs gives each run the result of a block
of one; it matches :func:`cytonet.engine.rodas.solve_one` to rounding (the right-hand side
divides once per reaction instead of once per rational factor).

It applies when the runs of a block share their breakpoints (bolus times, infusion edges; amounts
and rates may differ) and the model has no threshold events. A block whose sparse pivots are unsafe
retries with a smaller step (W = I/(gamma h) - J tends to the identity); a block that fails
(non-finite state, step underflow, max_steps) returns its status and the caller re-runs its runs
one by one, so one bad run never poisons the others.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cytonet.engine.rodas import (
    A21, A31, A32, A41, A42, A43, A51, A52, A53, A54,
    C21, C31, C32, C41, C42, C43, C51, C52, C53, C54, C61, C62, C63, C64, C65,
    GAMMA, H21, H22, H23, H24, H25, H31, H32, H33, H34, H35,
    I_STEPS, I_REJECTED, I_T, MAX_STEPS, NONFINITE, OK, STEP_UNDERFLOW,
)
from cytonet.engine.sparse import GROWTH_MAX, PIVOT_TOL
from cytonet.model.compile import CAP, HILL_ACT, HILL_INH, POWER, SAT

_J = dict(cache=True, nogil=True, error_model="numpy")
_JI = dict(cache=True, nogil=True, error_model="numpy", inline="always")


@nb.njit(**_J)
def prepare_block(P, Q, C, ncode):
    """Per-run constants ``C`` = (k_r, K, n, b, K**n), each ``[entries, B]``, from parameters ``P`` ``[n_p, B]``.

    ``ncode[j]`` is the Hill coefficient of factor j when it is 1, 2, 3 or 4 in every run of the
    block (powers done by multiplication, as in :func:`cytonet.model.compile._pow`), else 0.
    """
    r_k, r_kpow, r_scale, f_K, f_n, f_b = Q
    kr, fK, fn, fb, fKn = C
    B = P.shape[1]
    for r in range(r_k.shape[0]):
        pr = P[r_k[r]]
        if r_kpow[r] == 1.0:
            for q in range(B):
                kr[r, q] = r_scale[r] * pr[q]
        else:
            for q in range(B):
                kr[r, q] = r_scale[r] * pr[q] ** r_kpow[r]
    for j in range(f_K.shape[0]):
        for q in range(B):
            fK[j, q] = P[f_K[j], q] if f_K[j] >= 0 else 1.0
            fn[j, q] = P[f_n[j], q] if f_n[j] >= 0 else 1.0
            fb[j, q] = P[f_b[j], q] if f_b[j] >= 0 else 0.0
        c = fn[j, 0]
        for q in range(B):
            if fn[j, q] != c:
                c = 0.0
        ncode[j] = int(c) if c in (1.0, 2.0, 3.0, 4.0) else 0
        _powrow(fK[j], ncode[j], fn[j], fKn[j])


@nb.njit(**_JI)
def _powrow(x, code, n, out):
    """out = x ** n elementwise, by multiplication when ``code`` is 1..4 (the same rounding as ``_pow``)."""
    B = x.shape[0]
    if code == 1:
        for q in range(B):
            out[q] = x[q]
    elif code == 2:
        for q in range(B):
            out[q] = x[q] * x[q]
    elif code == 3:
        for q in range(B):
            out[q] = x[q] * x[q] * x[q]
    elif code == 4:
        for q in range(B):
            x2 = x[q] * x[q]
            out[q] = x2 * x2
    else:
        for q in range(B):
            out[q] = x[q] ** n[q] if n[q] != 1.0 else x[q]


@nb.njit(**_JI)
def _clip(x, out):
    for q in range(x.shape[0]):
        out[q] = x[q] if x[q] > 0.0 else 0.0


@nb.njit(**_JI)
def _mul_factor(kind, x, nu, K, n, b, Kn, code, v, den, xp, xn):
    """Multiply one factor into ``v`` (numerator) and ``den`` (denominator) over the block.

    Rational factors are split so a reaction needs one division, not one per factor:
    x/(K+x), (K-x)/K, x^n/(K^n+x^n), K^n/(K^n+x^n), (b K^n + x^n)/(K^n+x^n).
    """
    B = v.shape[0]
    if kind == POWER:
        if nu == 1.0:
            for q in range(B):
                v[q] *= x[q]
        elif nu == 2.0:
            for q in range(B):
                v[q] *= x[q] * x[q]
        else:
            for q in range(B):
                v[q] *= x[q] ** nu
    elif kind == SAT:
        for q in range(B):
            v[q] *= x[q]
            den[q] *= K[q] + x[q]
    elif kind == CAP:
        for q in range(B):
            v[q] *= K[q] - x[q]
            den[q] *= K[q]
    else:
        _clip(x, xp)
        _powrow(xp, code, n, xn)
        if kind == HILL_ACT:
            for q in range(B):
                v[q] *= xn[q]
                den[q] *= Kn[q] + xn[q]
        elif kind == HILL_INH:
            for q in range(B):
                v[q] *= Kn[q]
                den[q] *= Kn[q] + xn[q]
        else:
            for q in range(B):
                v[q] *= b[q] * Kn[q] + xn[q]
                den[q] *= Kn[q] + xn[q]


@nb.njit(**_JI)
def _factor_rows(kind, x, nu, K, n, b, Kn, code, fv, dv, xp, xn):
    """Value ``fv`` and derivative ``dv`` of one factor over the block."""
    B = fv.shape[0]
    if kind == POWER:
        if nu == 1.0:
            for q in range(B):
                fv[q] = x[q]
                dv[q] = 1.0
        elif nu == 2.0:
            for q in range(B):
                fv[q] = x[q] * x[q]
                dv[q] = 2.0 * x[q]
        else:
            for q in range(B):
                fv[q] = x[q] ** nu
                dv[q] = nu * x[q] ** (nu - 1.0)
    elif kind == SAT:
        for q in range(B):
            inv = 1.0 / (K[q] + x[q])
            fv[q] = x[q] * inv
            dv[q] = K[q] * inv * inv
    elif kind == CAP:
        for q in range(B):
            inv = 1.0 / K[q]
            fv[q] = 1.0 - x[q] * inv
            dv[q] = -inv
    else:
        _clip(x, xp)
        _powrow(xp, code, n, xn)
        _powm1(xp, code, n, xn, dv)  # dv = xp ** (n - 1) for now (0 ** 0 = 1)
        for q in range(B):
            inv = 1.0 / (Kn[q] + xn[q])
            dh = n[q] * Kn[q] * dv[q] * inv * inv
            if kind == HILL_ACT:
                fv[q] = xn[q] * inv
                dv[q] = dh
            elif kind == HILL_INH:
                fv[q] = Kn[q] * inv
                dv[q] = -dh
            else:
                fv[q] = b[q] + (1.0 - b[q]) * xn[q] * inv
                dv[q] = (1.0 - b[q]) * dh


@nb.njit(**_JI)
def _powm1(xp, code, n, xn, out):
    """out = xp ** (n - 1) for xp >= 0 (the derivative's power; 1 at n = 1, 0 at xp = 0 for n > 1)."""
    B = xp.shape[0]
    if code == 1:
        for q in range(B):
            out[q] = 1.0
    elif code == 2:
        for q in range(B):
            out[q] = xp[q]
    elif code == 3:
        for q in range(B):
            out[q] = xp[q] * xp[q]
    elif code == 4:
        for q in range(B):
            out[q] = xp[q] * xp[q] * xp[q]
    else:
        for q in range(B):
            out[q] = xn[q] / xp[q] if xp[q] > 0.0 else (1.0 if n[q] == 1.0 else 0.0)


@nb.njit(**_J)
def rhs_block(X, U, C, S, ncode, out, v, den, xp, xn):
    """out = N v(X) + U for every run of the block; ``v``, ``den``, ``xp``, ``xn`` are scratch rows of length B."""
    kr, fK, fn, fb, fKn = C
    f_ptr, f_kind, f_species, f_nu, s_ptr, s_species, s_coef = S
    B = X.shape[1]
    for i in range(X.shape[0]):
        for q in range(B):
            out[i, q] = U[i, q]
    for r in range(kr.shape[0]):
        rational = False
        for q in range(B):
            v[q] = kr[r, q]
            den[q] = 1.0
        for j in range(f_ptr[r], f_ptr[r + 1]):
            rational = rational or f_kind[j] != POWER
            _mul_factor(f_kind[j], X[f_species[j]], f_nu[j], fK[j], fn[j], fb[j], fKn[j], ncode[j], v, den, xp, xn)
        if rational:
            for q in range(B):
                v[q] /= den[q]
        for j in range(s_ptr[r], s_ptr[r + 1]):
            c = s_coef[j]
            o = out[s_species[j]]
            for q in range(B):
                o[q] += c * v[q]


@nb.njit(**_J)
def jac_block(X, C, S, ncode, dst, out, fv, dv, g, xp, xn):
    """out[dst[e]] += term e of J for every run (``out`` ``[nnz, B]`` zeroed first); fv, dv ``[m_max, B]`` scratch."""
    kr, fK, fn, fb, fKn = C
    f_ptr, f_kind, f_species, f_nu, s_ptr, s_species, s_coef = S
    B = X.shape[1]
    out[:, :] = 0.0
    e = 0
    for r in range(kr.shape[0]):
        m = f_ptr[r + 1] - f_ptr[r]
        ns = s_ptr[r + 1] - s_ptr[r]
        for i in range(m):
            j = f_ptr[r] + i
            _factor_rows(f_kind[j], X[f_species[j]], f_nu[j], fK[j], fn[j], fb[j], fKn[j], ncode[j], fv[i], dv[i], xp, xn)
        for i in range(m):
            for q in range(B):
                g[q] = kr[r, q] * dv[i, q]
            for k in range(m):
                if k != i:
                    for q in range(B):
                        g[q] *= fv[k, q]
            for j in range(ns):
                c = s_coef[s_ptr[r] + j]
                o = out[dst[e + j]]
                for q in range(B):
                    o[q] += c * g[q]
            e += ns


@nb.njit(**_J)
def lu_block(jv, dtg, L, a, lik, big):
    """a = dtg I - J factored in place for every run; False if a pivot of any run is unsafe."""
    perm, row_ptr, col, diag, l_pos, l_piv, op_ptr, op_src, op_dst = L
    nnz, B = a.shape
    for q in range(B):
        big[q] = 0.0
    for e in range(nnz):
        for q in range(B):
            a[e, q] = -jv[e, q]
    for i in range(diag.shape[0]):
        for q in range(B):
            a[diag[i], q] += dtg
    for e in range(nnz):
        for q in range(B):
            big[q] = max(big[q], abs(a[e, q]))
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
    ok = True
    for i in range(diag.shape[0]):
        d = a[diag[i]]
        for q in range(B):
            if not abs(d[q]) > PIVOT_TOL * big[q]:
                ok = False
    for e in range(nnz):
        for q in range(B):
            if not abs(a[e, q]) < GROWTH_MAX * big[q]:
                ok = False
    return ok


@nb.njit(**_J)
def solve_block(a, L, b, w):
    """Solve W x = b in place for every run (b ``[n, B]`` in species order); ``w`` is scratch."""
    perm, row_ptr, col, diag = L[0], L[1], L[2], L[3]
    n, B = b.shape
    for i in range(n):
        wi = w[i]
        bi = b[perm[i]]
        for q in range(B):
            wi[q] = bi[q]
        for e in range(row_ptr[i], diag[i]):
            ae = a[e]
            wc = w[col[e]]
            for q in range(B):
                wi[q] -= ae[q] * wc[q]
    for i in range(n - 1, -1, -1):
        wi = w[i]
        for e in range(diag[i] + 1, row_ptr[i + 1]):
            ae = a[e]
            wc = w[col[e]]
            for q in range(B):
                wi[q] -= ae[q] * wc[q]
        ad = a[diag[i]]
        for q in range(B):
            wi[q] = wi[q] / ad[q]
    for i in range(n):
        bi = b[perm[i]]
        wi = w[i]
        for q in range(B):
            bi[q] = wi[q]


@nb.njit(**_J)
def solve_lockstep(X0, P, t_out, bolus_time, bolus_species, bolus_amount, inf_start, inf_end, inf_species, inf_rate,
                   M, rtol, atol, max_steps, h_max, rows, out, info):
    """Integrate the B runs of a block (columns of ``X0`` ``[n, B]``, ``P`` ``[n_p, B]``) in lock-step.

    Event times are shared (1-D); ``bolus_amount`` and ``inf_rate`` are ``[events, B]``. Writes run
    ``q`` into ``out[rows[q]]`` ``(time, species)`` and ``info[rows[q]]``; returns the block's status.
    """
    S, Q, L, jac_dst = M
    n, B = X0.shape
    nt = t_out.shape[0]
    t_end = t_out[nt - 1]
    nnz = L[2].shape[0]
    nf = Q[3].shape[0]
    x = X0.copy()
    C = (np.empty((Q[0].shape[0], B)), np.empty((nf, B)), np.empty((nf, B)), np.empty((nf, B)), np.empty((nf, B)))
    ncode = np.zeros(nf, np.int64)
    prepare_block(P, Q, C, ncode)
    m_max = 1
    for r in range(Q[0].shape[0]):
        m_max = max(m_max, S[0][r + 1] - S[0][r])
    fv = np.empty((m_max, B))
    dv = np.empty((m_max, B))
    v = np.empty(B)
    den = np.empty(B)
    xp = np.empty(B)
    xn = np.empty(B)
    jv = np.empty((nnz, B))
    a = np.empty((nnz, B))
    big = np.empty(B)
    u = np.zeros((n, B))
    w = np.empty((n, B))
    fy0 = np.empty((n, B))
    fw = np.empty((n, B))
    yt = np.empty((n, B))
    y1 = np.empty((n, B))
    k1 = np.empty((n, B))
    k2 = np.empty((n, B))
    k3 = np.empty((n, B))
    k4 = np.empty((n, B))
    k5 = np.empty((n, B))
    k6 = np.empty((n, B))
    d1 = np.empty((n, B))
    d2 = np.empty((n, B))
    errs = np.empty(B)
    nbp = bolus_time.shape[0] + 2 * inf_start.shape[0] + 1
    bps = np.empty(nbp)
    m = 0
    for i in range(bolus_time.shape[0]):
        bps[m] = bolus_time[i]
        m += 1
    for i in range(inf_start.shape[0]):
        bps[m] = inf_start[i]
        bps[m + 1] = inf_end[i]
        m += 2
    bps[m] = t_end
    bps = np.sort(bps)

    t = 0.0
    io = 0
    steps = 0
    rejected = 0
    h = 0.0
    ib = 0
    status = OK
    while True:
        for i in range(bolus_time.shape[0]):
            if bolus_time[i] == t:
                xs = x[bolus_species[i]]
                for q in range(B):
                    xs[q] += bolus_amount[i, q]
        while io < nt and t_out[io] <= t:
            for i in range(n):
                for q in range(B):
                    out[rows[q], io, i] = x[i, q]
            io += 1
        if t >= t_end:
            break
        while ib < nbp and bps[ib] <= t:
            ib += 1
        seg_end = bps[ib] if ib < nbp else t_end
        if seg_end > t_end:
            seg_end = t_end
        tm = 0.5 * (t + seg_end)
        u[:, :] = 0.0
        for i in range(inf_start.shape[0]):
            if inf_start[i] <= tm and tm < inf_end[i]:
                us = u[inf_species[i]]
                for q in range(B):
                    us[q] += inf_rate[i, q]
        rhs_block(x, u, C, S, ncode, fy0, v, den, xp, xn)
        if h <= 0.0:
            h = np.inf
            for q in range(B):
                d0 = 0.0
                dd = 0.0
                for i in range(n):
                    sc = atol[i] + rtol * abs(x[i, q])
                    d0 += (x[i, q] / sc) ** 2
                    dd += (fy0[i, q] / sc) ** 2
                d0 = np.sqrt(d0 / n)
                dd = np.sqrt(dd / n)
                h = min(h, 0.01 * d0 / dd if (d0 > 1e-5 and dd > 1e-5) else 1e-6)
        err_prev = 1.0
        new_J = True
        while t < seg_end:
            if steps + rejected >= max_steps:
                status = MAX_STEPS
                break
            if h > h_max:
                h = h_max
            h_prop = h
            last = False
            if t + 1.01 * h >= seg_end:
                h = seg_end - t
                last = True
            if h < 1e-14 * max(1.0, abs(t)):
                status = STEP_UNDERFLOW
                break
            if new_J:
                jac_block(x, C, S, ncode, jac_dst, jv, fv, dv, v, xp, xn)
                new_J = False
            dtg = 1.0 / (h * GAMMA)
            if not lu_block(jv, dtg, L, a, v, big):
                rejected += 1
                h *= 0.5
                continue
            ih = 1.0 / h
            k1[:, :] = fy0
            solve_block(a, L, k1, w)
            for i in range(n):
                for q in range(B):
                    yt[i, q] = x[i, q] + A21 * k1[i, q]
            rhs_block(yt, u, C, S, ncode, fw, v, den, xp, xn)
            for i in range(n):
                for q in range(B):
                    k2[i, q] = fw[i, q] + ih * C21 * k1[i, q]
            solve_block(a, L, k2, w)
            for i in range(n):
                for q in range(B):
                    yt[i, q] = x[i, q] + A31 * k1[i, q] + A32 * k2[i, q]
            rhs_block(yt, u, C, S, ncode, fw, v, den, xp, xn)
            for i in range(n):
                for q in range(B):
                    k3[i, q] = fw[i, q] + ih * (C31 * k1[i, q] + C32 * k2[i, q])
            solve_block(a, L, k3, w)
            for i in range(n):
                for q in range(B):
                    yt[i, q] = x[i, q] + A41 * k1[i, q] + A42 * k2[i, q] + A43 * k3[i, q]
            rhs_block(yt, u, C, S, ncode, fw, v, den, xp, xn)
            for i in range(n):
                for q in range(B):
                    k4[i, q] = fw[i, q] + ih * (C41 * k1[i, q] + C42 * k2[i, q] + C43 * k3[i, q])
            solve_block(a, L, k4, w)
            for i in range(n):
                for q in range(B):
                    yt[i, q] = x[i, q] + A51 * k1[i, q] + A52 * k2[i, q] + A53 * k3[i, q] + A54 * k4[i, q]
            rhs_block(yt, u, C, S, ncode, fw, v, den, xp, xn)
            for i in range(n):
                for q in range(B):
                    k5[i, q] = fw[i, q] + ih * (C51 * k1[i, q] + C52 * k2[i, q] + C53 * k3[i, q] + C54 * k4[i, q])
            solve_block(a, L, k5, w)
            for i in range(n):
                for q in range(B):
                    yt[i, q] += k5[i, q]
            rhs_block(yt, u, C, S, ncode, fw, v, den, xp, xn)
            for i in range(n):
                for q in range(B):
                    k6[i, q] = fw[i, q] + ih * (C61 * k1[i, q] + C62 * k2[i, q] + C63 * k3[i, q] + C64 * k4[i, q] + C65 * k5[i, q])
            solve_block(a, L, k6, w)
            errs[:] = 0.0
            for i in range(n):
                for q in range(B):
                    y1[i, q] = yt[i, q] + k6[i, q]
                    sc = atol[i] + rtol * max(abs(x[i, q]), abs(y1[i, q]))
                    errs[q] += (k6[i, q] / sc) ** 2
            err = 0.0
            finite = True
            for q in range(B):
                e_q = np.sqrt(errs[q] / n)
                finite = finite and np.isfinite(e_q)
                err = max(err, e_q)
            if not finite:
                rejected += 1
                h *= 0.25
                continue
            if err > 1.0:
                rejected += 1
                h *= max(0.2, 0.9 * err ** -0.25)
                continue
            steps += 1
            for i in range(n):
                for q in range(B):
                    d1[i, q] = H21 * k1[i, q] + H22 * k2[i, q] + H23 * k3[i, q] + H24 * k4[i, q] + H25 * k5[i, q]
                    d2[i, q] = H31 * k1[i, q] + H32 * k2[i, q] + H33 * k3[i, q] + H34 * k4[i, q] + H35 * k5[i, q]
            t_new = seg_end if last else t + h
            while io < nt and t_out[io] < t_new:
                th = (t_out[io] - t) / h
                t1 = 1.0 - th
                for i in range(n):
                    for q in range(B):
                        out[rows[q], io, i] = t1 * x[i, q] + th * (y1[i, q] + t1 * (d1[i, q] + th * d2[i, q]))
                io += 1
            x[:, :] = y1
            t = t_new
            bad = False
            for i in range(n):
                for q in range(B):
                    if not abs(x[i, q]) <= 1e250:
                        bad = True
            if bad:
                status = NONFINITE
                break
            while io < nt and t_out[io] <= t and t_out[io] < seg_end:
                for i in range(n):
                    for q in range(B):
                        out[rows[q], io, i] = x[i, q]
                io += 1
            rhs_block(x, u, C, S, ncode, fy0, v, den, xp, xn)
            new_J = True
            fac = 0.9 * max(err, 1e-10) ** (-0.7 / 4.0) * err_prev ** (0.4 / 4.0)
            fac = min(6.0, max(0.2, fac))
            err_prev = max(err, 1e-4)
            h = max(h * fac, h_prop) if last else h * fac
        if status != OK:
            break
        t = seg_end
    for q in range(B):
        info[rows[q], I_T] = t
        info[rows[q], I_STEPS] = steps
        info[rows[q], I_REJECTED] = rejected
    return status
