"""The network engine: an L-stable Rosenbrock method (Rodas5P, order 5(4), with a 4th-order dense output).

Everything here is a numba kernel; one call integrates a whole run (breakpoints, boluses,
threshold events, dense output at the requested times) without returning to Python. The method
is a tableau of :mod:`cytonet.engine.tableaus` in the W-transformed form (Hairer & Wanner's RODAS).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cytonet.engine.sparse import lu_numeric, lu_solve_sparse, set_w, to_dense
from cytonet.engine.tableaus import RODAS5P
from cytonet.model.compile import OP_ADD, OP_MUL, OP_SET, jac_kernel, prepare, rhs_kernel

#: the network engine's method (:mod:`cytonet.engine.tableaus`), frozen into the kernels of this module and of
#: :mod:`cytonet.engine.lockstep` as constants: Rodas5P, order 5(4), eight stages (docs/performance.md, "Rodas5P")
METHOD = "rodas5p"
_A, _C, _D, GAMMA, _K = RODAS5P
#: the stages' count
N_STAGES = _A.shape[0]
#: stages whose point is the previous stage's point plus the previous stage (A[s] = A[s - 1] + e_(s-1)): one update
#: instead of a sum over every earlier stage (Rodas5P's last two, Rodas4's last), the same values in the same order
_CHAINED = np.array([s > 1 and _A[s, s - 1] == 1.0 and bool(np.all(_A[s, :s - 1] == _A[s - 1, :s - 1]))
                     for s in range(N_STAGES)])

OK, STEP_UNDERFLOW, MAX_STEPS, NONFINITE = 0, 1, 2, 3
#: info vector layout returned per run
I_T, I_SPECIES, I_STEPS, I_REJECTED, I_EVENTS, I_NEGATIVE = 0, 1, 2, 3, 4, 5
N_INFO = 6


@nb.njit(cache=True, error_model="numpy")
def lu_factor(a, piv):
    """In-place LU with partial pivoting; returns False if singular."""
    n = a.shape[0]
    for k in range(n):
        m = k
        big = abs(a[k, k])
        for i in range(k + 1, n):
            if abs(a[i, k]) > big:
                big = abs(a[i, k])
                m = i
        piv[k] = m
        if big == 0.0:
            return False
        if m != k:
            for j in range(n):
                a[k, j], a[m, j] = a[m, j], a[k, j]
        inv = 1.0 / a[k, k]
        for i in range(k + 1, n):
            a[i, k] *= inv
            lik = a[i, k]
            if lik != 0.0:
                for j in range(k + 1, n):
                    a[i, j] -= lik * a[k, j]
    return True


@nb.njit(cache=True, error_model="numpy")
def lu_solve(a, piv, b):
    """Solve in place for b using the factors of :func:`lu_factor`."""
    n = a.shape[0]
    for k in range(n):
        m = piv[k]
        if m != k:
            b[k], b[m] = b[m], b[k]
    for i in range(n):
        s = b[i]
        for j in range(i):
            s -= a[i, j] * b[j]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, n):
            s -= a[i, j] * b[j]
        b[i] = s / a[i, i]


@nb.njit(cache=True, error_model="numpy")
def _solve(a, L, dense, W, piv, b, w):
    """Solve W x = b in place with the sparse factors, or the dense ones when ``dense``."""
    if dense:
        lu_solve(W, piv, b)
    else:
        lu_solve_sparse(a, L, b, w)


@nb.njit(cache=True, inline="always", error_model="numpy")
def _dense(y0, y1, d, i, th):
    """Component i of the dense output at fraction ``th`` of a step from y0 to y1 with coefficients d (3, n)."""
    t1 = 1.0 - th
    return t1 * y0[i] + th * (y1[i] + t1 * (d[0, i] + th * (d[1, i] + th * d[2, i])))


@nb.njit(cache=True, inline="always", error_model="numpy")
def _combine(out, x, a, K, s):
    """out = x + sum over j < s of a[j] K[j] (x may be None: from 0), summed in the order of j."""
    for i in range(out.shape[0]):
        out[i] = 0.0 if x is None else x[i]
    for j in range(s):
        aj = a[j]
        kj = K[j]
        for i in range(out.shape[0]):
            out[i] += aj * kj[i]


@nb.njit(cache=True, error_model="numpy")
def _trigger(x, th_species, th_value, th_dir, e):
    return th_dir[e] * (x[th_species[e]] - th_value[e]) >= 0.0


@nb.njit(cache=True, error_model="numpy")
def _fire(e, x, p, th_ptr, a_is_param, a_target, a_op, a_value):
    """Apply the assignments of threshold event ``e`` to the state and parameters."""
    for a in range(th_ptr[e], th_ptr[e + 1]):
        tgt = p if a_is_param[a] else x
        j = a_target[a]
        if a_op[a] == OP_SET:
            tgt[j] = a_value[a]
        elif a_op[a] == OP_ADD:
            tgt[j] += a_value[a]
        elif a_op[a] == OP_MUL:
            tgt[j] *= a_value[a]


def model_arrays(cm) -> tuple:
    """The tuple ``M`` = (structure, parameter map, LU plan, Jacobian term positions) of a compiled model."""
    from cytonet.engine.sparse import lu_plan

    plan = lu_plan(cm)
    return (cm.kernel_arrays(), cm.parameter_arrays(), plan.arrays(), plan.jac_dst)


@nb.njit(cache=True, error_model="numpy")
def _breakpoints(bolus_time, inf_start, inf_end, t_end):
    """Sorted times where the integration must stop: every bolus time and infusion edge, then t_end."""
    bps = np.empty(bolus_time.shape[0] + 2 * inf_start.shape[0] + 1)
    m = 0
    for i in range(bolus_time.shape[0]):
        bps[m] = bolus_time[i]
        m += 1
    for i in range(inf_start.shape[0]):
        bps[m] = inf_start[i]
        bps[m + 1] = inf_end[i]
        m += 2
    bps[m] = t_end
    return np.sort(bps)


@nb.njit(cache=True, error_model="numpy")
def _segment_input(t, seg_end, inf_start, inf_end, inf_species, inf_rate, u):
    """u = the infusion rates running inside the segment [t, seg_end] (constant there)."""
    tm = 0.5 * (t + seg_end)
    u[:] = 0.0
    for i in range(inf_start.shape[0]):
        if inf_start[i] <= tm and tm < inf_end[i]:
            u[inf_species[i]] += inf_rate[i]


@nb.njit(cache=True, error_model="numpy")
def _initial_step(x, fy0, rtol, atol):
    """Starting step size of a segment from the scaled norms of the state and of its derivative."""
    n = x.shape[0]
    d0 = 0.0
    dd = 0.0
    for i in range(n):
        sc = atol[i] + rtol * abs(x[i])
        d0 += (x[i] / sc) ** 2
        dd += (fy0[i] / sc) ** 2
    d0 = np.sqrt(d0 / n)
    dd = np.sqrt(dd / n)
    return 0.01 * d0 / dd if (d0 > 1e-5 and dd > 1e-5) else 1e-6


@nb.njit(cache=True, inline="always", error_model="numpy")
def error_norm(x, yt, k6, y1, rtol, atol):
    """Completes the step, y1 = yt + k6, and returns the RMS of k6 scaled by atol + rtol max(|x|, |y1|)."""
    err = 0.0
    n = x.shape[0]
    for i in range(n):
        y1[i] = yt[i] + k6[i]
        sc = atol[i] + rtol * max(abs(x[i]), abs(y1[i]))
        err += (k6[i] / sc) ** 2
    return np.sqrt(err / n)


@nb.njit(cache=True, inline="always", error_model="numpy")
def step_to(t, h, h_max, t_stop):
    """(step, step proposed before the cut, whether it is cut) of a step from ``t``: at most ``h_max``, and cut
    to end exactly at ``t_stop`` when within 1 % of it."""
    if h > h_max:
        h = h_max
    if t + 1.01 * h >= t_stop:
        return t_stop - t, h, True
    return h, h, False


@nb.njit(cache=True, inline="always", error_model="numpy")
def rejected_step(h, err, k):
    """The step to retry after a rejected one: a quarter after a non-finite error, else shrunk by the error (``k``:
    the error estimate's order + 1: 5 for Rodas5P, 4 for Rodas4)."""
    if not np.isfinite(err):
        return 0.25 * h
    return h * max(0.2, 0.9 * err ** (-1.0 / k))


@nb.njit(cache=True, inline="always", error_model="numpy")
def accepted_step(h, h_prop, last, err, err_prev, k):
    """(next step, error memory) after an accepted step: PI control (Gustafsson) with exponents over ``k`` (as in
    :func:`rejected_step`), growth in [0.2, 6]; the step that ``last`` cut short to reach a stop time resumes at least
    at the size proposed before the cut."""
    fac = 0.9 * max(err, 1e-10) ** (-0.7 / k) * err_prev ** (0.4 / k)
    fac = min(6.0, max(0.2, fac))
    return (max(h * fac, h_prop) if last else h * fac), max(err, 1e-4)


@nb.njit(cache=True, error_model="numpy")
def _stages(x, u, C, S, fy0, h, a, L, dense, W, piv, ws, rtol, atol):
    """The stages from ``x`` with the factored W; fills the stages K and y1 of ``ws``, returns the error norm."""
    w, fw, yt, y1, K = ws
    n = x.shape[0]
    ih = 1.0 / h
    for i in range(n):
        K[0, i] = fy0[i]
    _solve(a, L, dense, W, piv, K[0], w)
    for s in range(1, N_STAGES):
        ks = K[s]
        if _CHAINED[s]:
            prev = K[s - 1]
            for i in range(n):
                yt[i] += prev[i]
        else:
            _combine(yt, x, _A[s], K, s)
        _combine(ks, None, _C[s], K, s)
        rhs_kernel(yt, u, C, S, fw)
        for i in range(n):
            ks[i] = fw[i] + ih * ks[i]
        _solve(a, L, dense, W, piv, ks, w)
    return error_norm(x, yt, K[N_STAGES - 1], y1, rtol, atol)


@nb.njit(cache=True, error_model="numpy")
def _dense_coefficients(K, dc):
    """The dense output's coefficients (3, n) of an accepted step from its stages K."""
    for r in range(3):
        _combine(dc[r], None, _D[r], K, N_STAGES)


@nb.njit(cache=True, error_model="numpy")
def _first_crossing(x, y1, dc, t, h, trig, th_species, th_value, th_dir):
    """(time, index) of the earliest threshold crossing inside the step (bisection on the dense output), or (inf, -1)."""
    t_ev = np.inf
    e_ev = -1
    for e in range(th_species.shape[0]):
        if not trig[e] and _trigger(y1, th_species, th_value, th_dir, e):
            s = th_species[e]
            lo = 0.0
            hi = 1.0
            while (hi - lo) * h > 1e-12:
                mid = 0.5 * (lo + hi)
                v = _dense(x, y1, dc, s, mid)
                if th_dir[e] * (v - th_value[e]) >= 0.0:
                    hi = mid
                else:
                    lo = mid
            te = t + hi * h
            if te < t_ev:
                t_ev = te
                e_ev = e
    return t_ev, e_ev


@nb.njit(cache=True, error_model="numpy")
def _update_triggers(x, trig, th_species, th_value, th_dir):
    for e in range(th_species.shape[0]):
        trig[e] = _trigger(x, th_species, th_value, th_dir, e)


@nb.njit(cache=True, error_model="numpy")
def _bad_species(x, atol, info):
    """Index of the first non-finite or huge state (-1 if none); counts tolerance-exceeding negatives in ``info``."""
    for i in range(x.shape[0]):
        if not np.isfinite(x[i]) or abs(x[i]) > 1e250:
            return i
        if x[i] < 0.0 and -x[i] > atol[i]:
            info[I_NEGATIVE] += 1.0
    return -1


@nb.njit(cache=True, error_model="numpy")
def _stop(info, t, steps, rejected, code):
    info[I_T] = t
    info[I_STEPS] = steps
    info[I_REJECTED] = rejected
    return code


@nb.njit(cache=True, nogil=True, error_model="numpy")
def solve_one(x0, p0, t_out, bolus_time, bolus_species, bolus_amount,
              inf_start, inf_end, inf_species, inf_rate,
              th_species, th_value, th_dir, th_ptr, a_is_param, a_target, a_op, a_value,
              M, rtol, atol, max_steps, h_max, out, info):
    """Integrate from t=0 to t_out[-1], writing the state at t_out into ``out``; returns a status code.

    ``atol`` holds one absolute tolerance per species. Segments run between breakpoints (boluses,
    infusion edges); inside a segment, steps of :func:`_stages` with step-size control, dense output
    at the requested times and threshold events located on the dense output.
    """
    S, Q, L, jac_dst = M
    n = x0.shape[0]
    nt = t_out.shape[0]
    t_end = t_out[nt - 1]
    x = x0.copy()
    p = p0.copy()
    u = np.zeros(n)
    nf = Q[3].shape[0]
    C = (np.empty(Q[0].shape[0]), np.empty(nf), np.empty(nf), np.empty(nf), np.empty(nf))
    prepare(p, Q, C)
    jv = np.empty(L[2].shape[0])
    a = np.empty(L[2].shape[0])
    W = np.empty((n, n))
    piv = np.empty(n, np.int64)
    fy0 = np.empty(n)
    dc = np.zeros((3, n))
    ws = (np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty((N_STAGES, n)))  # w, fw, yt, y1, stages
    y1 = ws[3]
    info[:] = 0.0
    bps = _breakpoints(bolus_time, inf_start, inf_end, t_end)
    nbp = bps.shape[0]
    ne = th_species.shape[0]
    trig = np.zeros(ne, np.bool_)

    t = 0.0
    io = 0
    steps = 0
    rejected = 0
    fired = 0
    h = 0.0
    ib = 0
    while True:
        # apply boluses due at t, then record outputs at exactly t (right-continuous);
        # a bolus that pushes a species across a threshold fires that event (not at t = 0)
        for i in range(bolus_time.shape[0]):
            if bolus_time[i] == t:
                x[bolus_species[i]] += bolus_amount[i]
        for e in range(ne):
            now = _trigger(x, th_species, th_value, th_dir, e)
            if now and not trig[e] and t > 0.0:
                _fire(e, x, p, th_ptr, a_is_param, a_target, a_op, a_value)
                prepare(p, Q, C)
                fired += 1
                now = _trigger(x, th_species, th_value, th_dir, e)
            trig[e] = now
        while io < nt and t_out[io] <= t:
            out[io, :] = x
            io += 1
        if t >= t_end:
            break
        while ib < nbp and bps[ib] <= t:
            ib += 1
        seg_end = min(bps[ib] if ib < nbp else t_end, t_end)
        _segment_input(t, seg_end, inf_start, inf_end, inf_species, inf_rate, u)
        # integrate [t, seg_end]
        rhs_kernel(x, u, C, S, fy0)
        if h <= 0.0:
            h = _initial_step(x, fy0, rtol, atol)
        err_prev = 1.0
        new_J = True
        while t < seg_end:
            if steps + rejected >= max_steps:
                return _stop(info, t, steps, rejected, MAX_STEPS)
            h, h_prop, last = step_to(t, h, h_max, seg_end)
            if h < 1e-14 * max(1.0, abs(t)):
                return _stop(info, t, steps, rejected, STEP_UNDERFLOW)
            if new_J:
                jac_kernel(x, C, S, jac_dst, jv)
                new_J = False
            dtg = 1.0 / (h * GAMMA)
            set_w(jv, dtg, L, a)
            dense = not lu_numeric(a, L)
            finite = True
            if dense:
                to_dense(jv, dtg, L, W)
                finite = lu_factor(W, piv)
            if finite:
                err = _stages(x, u, C, S, fy0, h, a, L, dense, W, piv, ws, rtol, atol)
                finite = np.isfinite(err)
            if not finite:
                err = np.inf
            if not err <= 1.0:
                rejected += 1
                h = rejected_step(h, err, _K)
                continue
            # accepted
            steps += 1
            _dense_coefficients(ws[4], dc)
            t_new = seg_end if last else t + h
            t_ev, e_ev = _first_crossing(x, y1, dc, t, h, trig, th_species, th_value, th_dir)
            t_stop = t_ev if e_ev >= 0 else t_new
            while io < nt and t_out[io] < t_stop:
                th = (t_out[io] - t) / h
                for i in range(n):
                    out[io, i] = _dense(x, y1, dc, i, th)
                io += 1
            if e_ev >= 0:
                th = (t_ev - t) / h
                for i in range(n):
                    x[i] = _dense(x, y1, dc, i, th)
                _fire(e_ev, x, p, th_ptr, a_is_param, a_target, a_op, a_value)
                prepare(p, Q, C)
                fired += 1
                h = max(t_ev - t, 1e-3 * h)
                t = t_ev
            else:
                x[:] = y1
                t = t_new
            _update_triggers(x, trig, th_species, th_value, th_dir)
            bad = _bad_species(x, atol, info)
            if bad >= 0:
                info[I_SPECIES] = bad
                return _stop(info, t, steps, rejected, NONFINITE)
            while io < nt and t_out[io] <= t and t_out[io] < seg_end:
                out[io, :] = x
                io += 1
            rhs_kernel(x, u, C, S, fy0)
            new_J = True
            if e_ev < 0:
                h, err_prev = accepted_step(h, h_prop, last, err, err_prev, _K)
        t = seg_end
    info[I_STEPS] = steps
    info[I_REJECTED] = rejected
    info[I_EVENTS] = fired
    return OK


@nb.njit(cache=True, nogil=True, error_model="numpy")
def solve_many(X0, P, t_out, bolus_time, bolus_species, bolus_amount,
               inf_start, inf_end, inf_species, inf_rate,
               th_species, th_value, th_dir, th_ptr, a_is_param, a_target, a_op, a_value,
               M, rtol, atol, max_steps, h_max, out, status, info):
    """Run :func:`solve_one` for every row (per-run step control); releases the GIL, so threads can share runs."""
    for r in range(X0.shape[0]):
        status[r] = solve_one(X0[r], P[r], t_out, bolus_time[r], bolus_species, bolus_amount[r],
                              inf_start[r], inf_end[r], inf_species, inf_rate[r],
                              th_species, th_value, th_dir, th_ptr, a_is_param, a_target, a_op, a_value,
                              M, rtol, atol, max_steps, h_max, out[r], info[r])
