"""Each patient's healthy resting state: the steady state of that patient's own parameters, without events.

Measured on the reference network (47 states, 1,000 patients at 20-30 % CV, 2 cores): relaxing
every patient with ``simulate_batch`` over 5,000 h runs at ~10 patients/s (2,000 h: ~40/s and
still not converged for all), while Newton's method from the host's nominal rest state, batched
over patients (analytic Jacobian, one stacked ``numpy.linalg.solve`` per iteration), converges in a
few iterations. So: Newton first; a patient whose Newton iterate fails to converge, goes negative
or lands on an unstable state is relaxed over ``relax_hours`` from the nominal rest state and
polished by Newton again; one that still fails is marked (``REST_FAILED``) and not simulated.

Stability is judged in the species that are not zero at the nominal rest state: trigger species
(pathogen, LPS, tumour, self antigen, CAR-T) sit at zero (below ``ZERO``, then set to exactly 0), an invariant set, and a host
whose zero-pathogen state is unstable to invasion (the sepsis host) still rests there until the
trigger comes. Newton keeps them at zero (the Jacobian is block triangular there).
"""

from __future__ import annotations

import numpy as np

from cytonet.analysis.steady import RESIDUAL_TOL
from cytonet.model.compile import CompiledModel

#: status code of a patient without a healthy resting state (solver codes are 0-3)
REST_FAILED = 10
MAX_NEWTON = 40
#: step lengths Newton's backtracking tries: 1, 1/2, ..., 2^-11; and the most lanes of a block whose shorter steps are
#: tried in one call (each patient once per step length)
HALVINGS, TILED_LANES = 12, 2048
#: nominal rest values below this are rounding residue of an exact zero (e.g. 1e-27 pathogen after relaxation)
ZERO = 1e-15


class _Kernels:
    """Residual and dense Jacobian of one compiled model (no inputs) for many parameter rows at once,
    on the lock-step block kernels (:mod:`cytonet.engine.lockstep`): one kernel call per evaluation."""

    def __init__(self, cm: CompiledModel, P: np.ndarray) -> None:
        from cytonet.engine import lockstep
        from cytonet.engine.sparse import lu_plan

        self.n = cm.n_species
        rows, cols = cm.jacobian_entries()
        self.dst = rows * self.n + cols
        plan = lu_plan(cm)
        self.L, self.sparse_dst = plan.arrays(), plan.jac_dst
        self.S = cm.kernel_arrays()
        Q = cm.parameter_arrays()
        self.ncode = lockstep.hill_codes(P, Q[4])
        self.C = lockstep.block_constants(np.ascontiguousarray(P, dtype=float), Q, self.ncode)
        self._pinned: list[tuple[np.ndarray, tuple[np.ndarray, ...]]] = []
        self._last: tuple[np.ndarray, tuple[np.ndarray, ...]] | None = None

    def pin(self, *rows: np.ndarray) -> None:
        """Keep the constants of the patients of each ``rows`` object until the next pin (Newton's block)."""
        self._pinned = []
        self._pinned = [(r, self._constants(r)) for r in rows]

    def _constants(self, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        for held in (*self._pinned, self._last):
            if held is not None and held[0] is rows:
                return held[1]
        whole = rows.size == self.C[0].shape[1] and np.array_equal(rows, np.arange(rows.size))
        C = self.C if whole else tuple(np.ascontiguousarray(c[:, rows]) for c in self.C)
        self._last = (rows, C)
        return C

    def _block(self, X: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...], int]:
        """The block of states ``X`` and the constants of patients ``rows``; those of the pinned ``rows`` object and of
        the last other one are kept, so each is copied once (the copies cost about 10x the kernels)."""
        return np.ascontiguousarray(X.T), self._constants(rows), rows.size

    def f(self, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
        from cytonet.engine.lockstep import rhs_block

        Xt, C, B = self._block(X, rows)
        out = np.empty_like(Xt)
        rhs_block(Xt, np.zeros_like(Xt), C, self.S, self.ncode, out, *np.empty((4, B)))
        return out.T

    def _jac_values(self, X: np.ndarray, rows: np.ndarray, dst: np.ndarray, size: int) -> np.ndarray:
        from cytonet.engine.lockstep import jac_block

        Xt, C, B = self._block(X, rows)
        m_max = max(1, int(np.diff(self.S[0]).max(initial=1)))
        out = np.empty((size, B))
        jac_block(Xt, C, self.S, self.ncode, dst, out, np.empty((m_max, B)), np.empty((m_max, B)), *np.empty((3, B)))
        return out

    def jac(self, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Dense Jacobians (patients, species, species)."""
        return self._jac_values(X, rows, self.dst, self.n * self.n).T.reshape(rows.size, self.n, self.n)

    def newton_step(self, X: np.ndarray, F: np.ndarray, rows: np.ndarray, lanes: np.ndarray | None = None) -> np.ndarray:
        """dx solving J dx = -F per patient: the model's sparse LU (no pivoting) where its pivots are safe,
        dense partial pivoting (least squares if singular) for the others. With ``lanes``, only the patients at
        those positions need dx (the others' rows are not meaningful and take no dense fallback)."""
        from cytonet.engine.lockstep import lu_block, solve_block

        B = rows.size
        jv = self._jac_values(X, rows, self.sparse_dst, self.L[2].shape[0])
        a = np.empty_like(jv)
        ok = np.ones(B, np.bool_)
        lu_block(jv, np.zeros(B), self.L, a, np.empty(B), np.empty(B), ok)  # a = LU of -J
        dx = np.ascontiguousarray(F.T)
        solve_block(a, self.L, dx, np.empty_like(dx))
        dx = dx.T.copy()
        need = np.arange(B) if lanes is None else lanes
        dense = need[~ok[need] | ~np.all(np.isfinite(dx[need]), axis=1)]
        if dense.size:
            J = self.jac(X[dense], rows[dense])
            try:
                dx[dense] = np.linalg.solve(J, -F[dense, :, None])[..., 0]
            except np.linalg.LinAlgError:
                dx[dense] = np.stack([np.linalg.lstsq(j, -f, rcond=None)[0] for j, f in zip(J, F[dense])])
        return dx


def _scaled(F: np.ndarray, X: np.ndarray) -> np.ndarray:
    return np.max(np.abs(F) / np.maximum(np.abs(X), 1.0), axis=1)


def newton(k: _Kernels, X0: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton from ``X0`` (patients ``rows`` of ``k``, species); returns (X, converged).

    The kernels run on a block of patients whose constants are copied once (copying costs about ten
    kernel evaluations per patient): the block keeps the patients that have converged or stopped
    until the active ones are fewer than half of it, their lanes computed and ignored. Each
    iteration tries the full step for every active patient and halves it only for those whose
    residual did not drop, evaluating those alone when they are few. A patient's arithmetic does
    not depend on which others share a kernel call, so the iterates are those of iterating every
    patient on its own.
    """
    X = np.array(X0, float)
    m = X.shape[0]
    done = np.zeros(m, bool)
    blk = np.arange(m)  # the block: positions in X
    these, tiled = _pin_block(k, rows)
    F = k.f(X, these)
    res = _scaled(F, X)
    act = np.ones(m, bool)  # over the block: still iterating
    for _ in range(MAX_NEWTON):
        conv = act & (res <= RESIDUAL_TOL)
        done[blk[conv]] = True
        act &= ~conv & np.isfinite(res)
        a = np.flatnonzero(act)
        if a.size == 0:
            break
        if 2 * a.size < blk.size:
            blk, F, res = blk[a], F[a], res[a]
            act, a = np.ones(a.size, bool), np.arange(a.size)
            these, tiled = _pin_block(k, rows[blk])
        Xb = X[blk]
        dx = k.newton_step(Xb, F, these, a)
        trial = Xb.copy()
        trial[a] = Xb[a] + dx[a]
        Ft = k.f(trial, these)  # the full step, on the whole block
        a = _descend(Xb, F, res, a, trial[a, None], Ft[a, None])
        shorter = 1  # the next step length to try, 2^-shorter
        if tiled is not None and 4 * a.size > blk.size:  # many left, small block: every shorter step in one call
            lam = np.ldexp(1.0, -np.arange(1, HALVINGS))  # 2^-j: exactly the repeated halvings
            trial = np.repeat(Xb[:, None], lam.size, axis=1)
            trial[a] = Xb[a][:, None] + lam[None, :, None] * dx[a][:, None]
            Ft = k.f(trial.reshape(-1, Xb.shape[1]), tiled).reshape(trial.shape)
            a = _descend(Xb, F, res, a, trial[a], Ft[a])
            shorter = HALVINGS
        for j in range(shorter, HALVINGS):  # backtrack each patient until its residual drops
            if a.size == 0:
                break
            lam = np.ldexp(1.0, -j)  # 2^-j: exactly the repeated halvings
            if 4 * a.size > blk.size:  # many left: the whole block again (its constants are held), the others idle
                trial = Xb.copy()
                trial[a] = Xb[a] + lam * dx[a]
                Ft = k.f(trial, these)
                a = _descend(Xb, F, res, a, trial[a, None], Ft[a, None])
            else:  # few: those alone (their constants copied, a few rows)
                trial = Xb[a] + lam * dx[a]
                a = _descend(Xb, F, res, a, trial[:, None], k.f(trial, rows[blk[a]])[:, None])
        res[a] = np.inf  # no descent at any step length: the patient stops
        X[blk] = Xb
    return X, done


def _pin_block(k: _Kernels, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Pin the constants of Newton's block ``rows`` and, for a small block, of every shorter step of its backtracking
    at once (each patient repeated HALVINGS - 1 times); returns the two rows objects (the second None for a large block)."""
    tiled = np.repeat(rows, HALVINGS - 1) if rows.size * (HALVINGS - 1) <= TILED_LANES else None
    k.pin(rows, *([] if tiled is None else [tiled]))
    return rows, tiled


def _descend(X: np.ndarray, F: np.ndarray, res: np.ndarray, a: np.ndarray, trial: np.ndarray, Ft: np.ndarray) -> np.ndarray:
    """Move each patient ``a`` to the first of its trial points (``trial[i, t]``, residuals ``Ft[i, t]``, in order of
    decreasing step length) that lowers its scaled residual ``res`` (X, F and res updated in place); returns the
    patients without one."""
    rt = _scaled(Ft.reshape(-1, Ft.shape[2]), trial.reshape(-1, trial.shape[2])).reshape(trial.shape[:2])
    good = np.isfinite(rt) & (rt < res[a, None])
    has = good.any(axis=1)
    i = np.flatnonzero(has)
    t = good[i].argmax(axis=1)
    g = a[i]
    X[g], F[g], res[g] = trial[i, t], Ft[i, t], rt[i, t]
    return a[~has]


def coupled_blocks(cm: CompiledModel, free: np.ndarray) -> list[np.ndarray]:
    """The ``free`` species grouped into the strongly connected components of the Jacobian's pattern.

    In that grouping the Jacobian is block triangular, so its eigenvalues are those of the diagonal
    blocks: stability needs eigenvalues of the (few, small) blocks only, not of the whole matrix.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    idx = np.flatnonzero(free)
    rows, cols = cm.jacobian_entries()
    pattern = np.zeros((cm.n_species, cm.n_species), bool)
    pattern[rows, cols] = True
    _, label = connected_components(csr_matrix(pattern[np.ix_(idx, idx)]), directed=True, connection="strong")
    return [idx[label == c] for c in np.unique(label)]


def _healthy(k: _Kernels, X: np.ndarray, rows: np.ndarray, converged: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    """Converged, non-negative (to rounding) and exponentially stable in the species of ``blocks``.

    A block is stable where its Metzler majorant proves it (:func:`~cytonet.analysis.hurwitz.certified_hurwitz`,
    one linear solve; 99 % of lps-endotoxemia's patients), else where its eigenvalues' real parts are all negative.
    """
    from cytonet.analysis.hurwitz import certified_hurwitz

    ok = converged & np.all(X >= -1e-9 * np.maximum(np.abs(X).max(axis=1, keepdims=True), 1.0), axis=1)
    good = np.flatnonzero(ok)
    if good.size:
        J = k.jac(X[good], rows[good])
        stable = np.ones(good.size, bool)
        for b in blocks:
            if b.size == 1:
                stable &= J[:, b[0], b[0]] < 0
                continue
            hard = np.flatnonzero(stable & ~certified_hurwitz(J, b))
            if hard.size:
                stable[hard] = np.linalg.eigvals(J[hard][:, b[:, None], b]).real.max(axis=1) < 0
        ok[good[~stable]] = False
    return ok


def rest_states(
    cm: CompiledModel, P: np.ndarray, x_ref: np.ndarray, relax_hours: float, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(resting states (patients, species), found) for parameter rows ``P`` of the event-free host ``cm``."""
    from cytonet.engine.batch import simulate_batch

    k = _Kernels(cm, P)
    everyone = np.arange(P.shape[0])
    free = np.abs(x_ref) > ZERO
    x_ref = np.where(free, x_ref, 0.0)
    blocks = coupled_blocks(cm, free)
    X, conv = newton(k, np.tile(x_ref, (P.shape[0], 1)), everyone)
    ok = _healthy(k, X, everyone, conv, blocks)
    bad = np.flatnonzero(~ok)
    if bad.size:
        table = {pid: P[bad, j] for j, pid in enumerate(cm.parameters)}
        table.update({sid: np.full(bad.size, max(x_ref[i], 0.0)) for i, sid in enumerate(cm.species)})
        ds = simulate_batch(cm, table, relax_hours, n_points=2, on_error="mask", threads=threads, rtol=1e-6, atol=1e-9)
        Xr = np.nan_to_num(ds["state"].values[:, -1], nan=0.0)
        Xb, cb = newton(k, Xr, bad)
        X[bad] = Xb
        ok[bad] = _healthy(k, Xb, bad, cb, blocks)
    return np.maximum(X, 0.0), ok
