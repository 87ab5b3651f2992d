"""A Rosenbrock method over a tape model: integrate until a stop time or until a root function changes sign.

The method is a tableau of :mod:`cytonet.engine.tableaus` (Rodas5P, as :mod:`cytonet.engine.rodas`,
or Rodas4), with the same step control (dense LU: imported models are small); the right-hand
side, root functions and Jacobian come from one tape (:mod:`cytonet.model.tape`). Time is the last state, so the system is autonomous. A call returns
at ``t_stop`` or just past the earliest sign change of a root function (bisection on the dense
output to 1e-13 relative), writing the outputs at the requested times passed on the way. A root
function that changes sign twice within one step goes unseen, so callers bound the step (``h_max``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cytonet.engine.rodas import (
    MAX_STEPS, NONFINITE, STEP_UNDERFLOW, _combine, _dense, _initial_step, accepted_step, error_norm, lu_factor, lu_solve,
    rejected_step, step_to,
)
from cytonet.model.tape import run_tape

REACHED, ROOT, HISTORY_FULL = 0, 10, 11
#: info layout: t reached, steps, rejected, next step size, root index, lower end of the root's bracket
J_T, J_STEPS, J_REJECTED, J_H, J_ROOT, J_ROOT_LO = 0, 1, 2, 3, 4, 5
N_INFO = 6
#: the first step of a segment is at least this times max(1, |t|): the derivative-based estimate falls below the
#: step-size underflow limit (1e-14) for a state that starts at 0 with a tiny atol under a large rate (seen in
#: PEtab fits at extreme parameters), where the error control, not the estimate, must decide how small to go
H_FIRST_MIN = 1e-10


@nb.njit(cache=True, error_model="numpy")
def past_state(H, t, out):
    """The state at time ``t`` from the history H = (start, step, x, y1, dense coefficients, count, initial) of
    accepted steps."""
    Ht, Hh, Hx, Hy, Hd, Hn, Hinit = H
    k = Hn[0]
    if k == 0 or t <= Ht[0]:
        out[:] = Hinit
        out[out.shape[0] - 1] = t
        return
    lo = 0
    hi = k - 1
    while lo < hi:  # last step starting at or before t (after an event: the step from the post-event state)
        mid = (lo + hi + 1) // 2
        if Ht[mid] <= t:
            lo = mid
        else:
            hi = mid - 1
    th = (t - Ht[lo]) / Hh[lo]
    if th > 1.0:
        th = 1.0
    for i in range(out.shape[0]):
        out[i] = _dense(Hx[lo], Hy[lo], Hd[lo], i, th)
    out[out.shape[0] - 1] = t


@nb.njit(cache=True, error_model="numpy")
def delayed_values(D, x, p, H, d):
    """``d[k]`` = value of delay slot k at time x[-1]: its expression at the state its lag ago (D = (tape, values, lags))."""
    DT, dv, dl = D
    nd = dv.shape[0]
    if nd == 0:
        return
    dreg = np.empty(DT[0].shape[0])
    xp = np.empty(x.shape[0])
    run_tape(DT, x, p, d, dreg, dreg.shape[0])
    lags = np.empty(nd)
    for k in range(nd):
        lags[k] = dreg[dl[k]]
        if lags[k] == 0.0:  # no lag: the value now
            d[k] = dreg[dv[k]]
    for k in range(nd):
        if lags[k] == 0.0:
            continue
        past_state(H, x[x.shape[0] - 1] - lags[k], xp)
        run_tape(DT, xp, p, d, dreg, dreg.shape[0])
        d[k] = dreg[dv[k]]


@nb.njit(cache=True, error_model="numpy")
def delayed_rows(D, X, P, H, out):
    """Delayed values at every row of X (states along a finished run)."""
    for i in range(X.shape[0]):
        delayed_values(D, X[i], P[i], H, out[i])


@nb.njit(cache=True, inline="always", error_model="numpy")
def _add_scaled(out, o, r, v, s, w):
    """out[o : o + w] += r * v[s : s + w], through views (so LLVM vectorises the loop with one alias check)."""
    oo = out[o:o + w]
    vv = v[s:s + w]
    for c in range(w):
        oo[c] += r * vv[c]


@nb.njit(cache=True, error_model="numpy")
def _outputs(rhs_reg, rows, regs, src, par, w, x, p, reg, out):
    """The right-hand side from the registers: the registers ``rhs_reg`` and the products (:attr:`TapeModel.products`,
    unpacked: the callers unpack the tuple once, as every unpacking takes a reference count per array)."""
    for i in range(rhs_reg.shape[0]):
        out[i] = reg[rhs_reg[i]]
    for e in range(rows.shape[0]):
        _add_scaled(out, rows[e], reg[regs[e]], p if par[e] else x, src[e], w)


@nb.njit(cache=True, error_model="numpy")
def _rhs(T, n_rhs, rhs_reg, rows, regs, src, par, w, x, p, D, H, d, reg, out):
    delayed_values(D, x, p, H, d)
    run_tape(T, x, p, d, reg, n_rhs)
    _outputs(rhs_reg, rows, regs, src, par, w, x, p, reg, out)


@nb.njit(cache=True, error_model="numpy")
def _roots(root_reg, reg, out):
    for i in range(root_reg.shape[0]):
        out[i] = reg[root_reg[i]] > 0.0


@nb.njit(cache=True, error_model="numpy")
def _absent(x, f, J, it, zero):
    """Mark in ``zero`` the states (not time) that are exactly 0 with dx/dt = 0 and depend, to first order, only on
    each other (the largest such set): a pathogen, tumour or drug that is absent and has no source. Their Rosenbrock
    stages are exactly 0, so the Jacobian's entries of their columns in the other rows multiply zeros."""
    n = x.shape[0]
    for i in range(n):
        zero[i] = i != it and x[i] == 0.0 and f[i] == 0.0
    changed = True
    while changed:
        changed = False
        for i in range(n):
            if zero[i]:
                for j in range(n):
                    if not zero[j] and J[i, j] != 0.0:
                        zero[i] = False
                        changed = True
                        break


@nb.njit(cache=True, error_model="numpy")
def _decouple_absent(W, zero):
    """Drop from W the entries of absent states' columns in the other rows: the solve gives the same stages in exact
    arithmetic (those columns multiply exact zeros), but partial pivoting can no longer pivot another state's equation
    into an absent state's column and leave round-off (1e-17) where the value is exactly 0."""
    n = W.shape[0]
    for j in range(n):
        if zero[j]:
            for i in range(n):
                if not zero[i]:
                    W[i, j] = 0.0


@nb.njit(cache=True, error_model="numpy")
def _block_factor(W, Wb, piv, block):
    """LU of W (dense), or of its leading diagonal block only when ``block`` > 0."""
    if block == 0:
        return lu_factor(W, piv)
    for i in range(block):
        for j in range(block):
            Wb[i, j] = W[i, j]
    return lu_factor(Wb, piv)


@nb.njit(cache=True, error_model="numpy")
def _lu_solve_rows(a, piv, b, off, w):
    """:func:`lu_solve` for w right-hand sides at once, stored row-major from b[off] (row i: b[off + i w : ...])."""
    n = a.shape[0]
    for k in range(n):
        m = piv[k]
        if m != k:
            for c in range(w):
                b[off + k * w + c], b[off + m * w + c] = b[off + m * w + c], b[off + k * w + c]
    for i in range(n):
        for j in range(i):
            if a[i, j] != 0.0:
                _add_scaled(b, off + i * w, -a[i, j], b, off + j * w, w)
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            if a[i, j] != 0.0:
                _add_scaled(b, off + i * w, -a[i, j], b, off + j * w, w)
        bi = b[off + i * w:off + i * w + w]
        d = a[i, i]
        for c in range(w):
            bi[c] /= d


@nb.njit(cache=True, error_model="numpy")
def _block_solve(W, Wb, piv, block, x, p, rows, src, par, w, first2, col2, h2, jd, b):
    """Solve W z = b in place; with ``block`` > 0 (forward sensitivities, time last; A = the base block, factored in
    Wb), W = [[A, 0, w0], [-B, A (x) I, -s_t], [0, 0, dtg]]: time first, then the base block z_0, then all
    directions at once from b_S + B z_0 + s_t z_t. B z_0 + s_t z_t contracts the products' own derivatives along
    (z_0, z_t) (second derivatives ``h2`` at the step's start, as ``first2``/``col2`` list them) with S (in x) or dp/d theta
    (in p), as the products do (``rows``, ``src``, ``par``, ``w`` of :attr:`TapeModel.products`; ``first2``,
    ``col2`` of :attr:`TapeModel.lower_blocks`)."""
    if block == 0:
        lu_solve(W, piv, b)
        return
    it = b.shape[0] - 1
    b[it] /= W[it, it]
    bt = b[it]
    for i in range(block):
        b[i] -= W[i, it] * bt
    lu_solve(Wb, piv, b)  # the first ``block`` entries: Wb is block x block
    for e in range(jd.shape[0]):
        jd[e] = 0.0
    for e in range(first2.shape[0]):  # every product's own derivative along (z_0, z_t)
        c = col2[e]
        jd[first2[e]] += h2[e] * (bt if c == it else b[c])
    for e in range(rows.shape[0]):
        if jd[e] != 0.0:
            _add_scaled(b, rows[e], jd[e], p if par[e] else x, src[e], w)
    _lu_solve_rows(Wb, piv, b, block, w)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def integrate(x, p, t_stop, t_out, io, out, T, n_rhs, R, root_reg, jac_row, jac_col, jac_reg, D, H,
              rtol, atol, h, h_max, max_steps, info, block, Q, M):
    """Advance ``x`` (time last) towards ``t_stop``; returns (status, index of the next output row).

    ``D`` holds the delay slots and ``H`` the history of accepted steps they read (every step is
    appended; HISTORY_FULL asks the caller for room); with no slots both are empty. ``block`` > 0:
    forward sensitivities, whose Jacobian is block lower-triangular with the base Jacobian (of size
    ``block``, from the entries) on its diagonal and lower blocks from the second derivatives ``Q``
    (see :func:`_block_solve`); 0: dense. The stages run the tape's first ``n_rhs`` instructions and
    take the right-hand side from ``R`` (:meth:`TapeModel.stage_rhs`). ``M``: the method, a tableau of
    :mod:`cytonet.engine.tableaus`.
    """
    n = x.shape[0]
    it = n - 1
    nt = t_out.shape[0]
    rhs_reg, rows, regs, src, par, width = R  # unpacked once: each unpacking takes a reference count per array
    w = width[0]
    first2, col2, reg2 = Q
    MA, MC, MD, gamma, order = M
    ns = MA.shape[0]
    reg = np.empty(T[0].shape[0])
    nr = root_reg.shape[0]
    s0 = np.empty(nr, np.bool_)
    s1 = np.empty(nr, np.bool_)
    J = np.zeros((n, n))
    W = np.empty((n, n))
    Wb = np.empty((max(block, 1), max(block, 1)))
    piv = np.empty(n, np.int64)
    h2 = np.empty(reg2.shape[0])  # the second derivatives at the step's start
    jd = np.empty(rows.shape[0])
    zero = np.zeros(n, np.bool_)
    fy0 = np.empty(n)
    fw = np.empty(n)
    yt = np.empty(n)
    y1 = np.empty(n)
    ym = np.empty(n)
    K = np.empty((ns, n))  # the stages
    dc = np.zeros((3, n))  # the dense output's coefficients
    steps = 0
    rejected = 0
    d = np.zeros(D[1].shape[0])
    cap = H[0].shape[0]
    _rhs(T, n_rhs, rhs_reg, rows, regs, src, par, w, x, p, D, H, d, reg, fy0)
    _roots(root_reg, reg, s0)
    if h <= 0.0:
        h = max(_initial_step(x, fy0, rtol, atol), H_FIRST_MIN * max(1.0, abs(x[it])))
        h = min(h, 1e-3 * max(t_stop - x[it], 1e-300)) if t_stop > x[it] else h
    err_prev = 1.0
    new_J = True
    have_reg = False  # reg holds the whole tape at x (the end of the last accepted step)
    status = REACHED
    while x[it] < t_stop:
        t = x[it]
        if steps + rejected >= max_steps:
            status = MAX_STEPS
            break
        if d.shape[0] > 0 and H[5][0] >= cap:
            status = HISTORY_FULL
            break
        h, h_prop, last = step_to(t, h, h_max, t_stop)
        if h < 1e-14 * max(1.0, abs(t)):
            status = STEP_UNDERFLOW
            break
        if new_J:
            if not have_reg:
                delayed_values(D, x, p, H, d)
                run_tape(T, x, p, d, reg, T[0].shape[0])
            have_reg = False
            for e in range(jac_row.shape[0]):  # J is zero but at its entries
                J[jac_row[e], jac_col[e]] = 0.0
            for e in range(jac_row.shape[0]):
                J[jac_row[e], jac_col[e]] += reg[jac_reg[e]]
            for e in range(h2.shape[0]):
                h2[e] = reg[reg2[e]]
            if d.shape[0] > 0:
                # delayed values change with time through the past: d f/d t by a central difference
                # (Rosenbrock methods need the exact time derivative to keep their order)
                dt = 1e-6 * max(1.0, abs(t))
                for i in range(n):
                    ym[i] = x[i]
                ym[it] = t + dt
                _rhs(T, n_rhs, rhs_reg, rows, regs, src, par, w, ym, p, D, H, d, reg, fw)
                ym[it] = t - dt
                _rhs(T, n_rhs, rhs_reg, rows, regs, src, par, w, ym, p, D, H, d, reg, y1)
                for i in range(n):
                    J[i, it] = (fw[i] - y1[i]) / (2.0 * dt)
            new_J = False
        dtg = 1.0 / (h * gamma)
        if block == 0:
            for i in range(n):
                for j in range(n):
                    W[i, j] = -J[i, j]
                W[i, i] += dtg
            _absent(x, fy0, J, it, zero)
            _decouple_absent(W, zero)
        else:  # only what _block_solve reads: the base block and its time column
            for i in range(block):
                for j in range(block):
                    W[i, j] = -J[i, j]
                W[i, i] += dtg
                W[i, it] = -J[i, it]
            W[it, it] = dtg
        finite = _block_factor(W, Wb, piv, block)
        err = np.inf
        if finite:
            ih = 1.0 / h
            for i in range(n):
                K[0, i] = fy0[i]
            _block_solve(W, Wb, piv, block, x, p, rows, src, par, w, first2, col2, h2, jd, K[0])
            for s in range(1, ns):
                _combine(yt, x, MA[s], K, s)
                _rhs(T, n_rhs, rhs_reg, rows, regs, src, par, w, yt, p, D, H, d, reg, fw)
                ks = K[s]
                _combine(ks, None, MC[s], K, s)
                for i in range(n):
                    ks[i] = fw[i] + ih * ks[i]
                _block_solve(W, Wb, piv, block, x, p, rows, src, par, w, first2, col2, h2, jd, ks)
            err = error_norm(x, yt, K[ns - 1], y1, rtol, atol)
        if not err <= 1.0:
            rejected += 1
            h = rejected_step(h, err, order)
            continue
        steps += 1
        for r in range(3):
            _combine(dc[r], None, MD[r], K, ns)
        if last:
            y1[it] = t_stop
        if d.shape[0] > 0:  # history of the step, for delays
            k = H[5][0]
            H[0][k] = t
            H[1][k] = h
            for i in range(n):
                H[2][k, i] = x[i]
                H[3][k, i] = y1[i]
                for r in range(3):
                    H[4][k, r, i] = dc[r, i]
            H[5][0] = k + 1
        # root functions: earliest sign change inside the step, located on the dense output
        hit = -1
        th_hit = 1.0
        th_lo = 1.0
        if nr > 0:
            _rhs(T, n_rhs, rhs_reg, rows, regs, src, par, w, y1, p, D, H, d, reg, fw)
            _roots(root_reg, reg, s1)
            for r in range(nr):
                if s1[r] != s0[r]:
                    lo = 0.0
                    hi = th_hit if hit >= 0 else 1.0
                    for i in range(n):
                        ym[i] = _dense(x, y1, dc, i, hi)
                    _rhs(T, n_rhs, rhs_reg, rows, regs, src, par, w, ym, p, D, H, d, reg, fw)
                    g = reg[root_reg[r]]
                    if (g > 0.0) == s0[r]:
                        continue  # changes only after an earlier root already found
                    # falling from > 0: where the function is exactly 0, a trigger a < b is still false, so the
                    # bracket's upper end must lie past 0 when the step's end does
                    strict = s0[r] and g < 0.0
                    while (hi - lo) * h > 1e-13 * max(1.0, abs(t)):
                        mid = 0.5 * (lo + hi)
                        for i in range(n):
                            ym[i] = _dense(x, y1, dc, i, mid)
                        _rhs(T, n_rhs, rhs_reg, rows, regs, src, par, w, ym, p, D, H, d, reg, fw)
                        g = reg[root_reg[r]]
                        if (g > 0.0) != s0[r] and not (strict and g == 0.0):
                            hi = mid
                        else:
                            lo = mid
                    hit = r
                    th_hit = hi
                    th_lo = lo
        t_new = t_stop if (last and hit < 0) else t + th_hit * h
        while io < nt and t_out[io] < t_new:
            th = (t_out[io] - t) / h
            for i in range(n):
                out[io, i] = _dense(x, y1, dc, i, th)
            out[io, it] = t_out[io]
            io += 1
        if hit >= 0:
            for i in range(n):
                x[i] = _dense(x, y1, dc, i, th_hit)
            x[it] = t_new
            info[J_ROOT] = hit
            info[J_ROOT_LO] = t + th_lo * h
            h = max(th_hit * h, 1e-3 * h)
            status = ROOT
        else:
            for i in range(n):
                x[i] = y1[i]
            x[it] = t_new
        bad = False
        for i in range(n):
            if not np.isfinite(x[i]) or abs(x[i]) > 1e250:
                bad = True
        if bad:
            status = NONFINITE
            break
        if hit >= 0:
            break
        # the whole tape at the new x: its right-hand side for the next step's first stage, and its Jacobian
        delayed_values(D, x, p, H, d)
        run_tape(T, x, p, d, reg, T[0].shape[0])
        _outputs(rhs_reg, rows, regs, src, par, w, x, p, reg, fy0)
        for r in range(nr):
            s0[r] = reg[root_reg[r]] > 0.0
        new_J = True
        have_reg = True
        h, err_prev = accepted_step(h, h_prop, last, err, err_prev, order)
    info[J_T] = x[it]
    info[J_STEPS] += steps
    info[J_REJECTED] += rejected
    info[J_H] = h
    return status, io
