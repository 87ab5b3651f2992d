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
        self._rows: np.ndarray | None = None
        self._C: tuple[np.ndarray, ...] = self.C

    def _block(self, X: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...], int]:
        """The block of states ``X`` and the constants of patients ``rows``; the constants of the last ``rows`` object
        are kept, so the evaluations of one Newton iteration copy them once (the copies cost 10x the kernels)."""
        if rows is not self._rows:
            whole = rows.size == self.C[0].shape[1] and np.array_equal(rows, np.arange(rows.size))
            self._rows, self._C = rows, self.C if whole else tuple(np.ascontiguousarray(c[:, rows]) for c in self.C)
        return np.ascontiguousarray(X.T), self._C, rows.size

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

    def newton_step(self, X: np.ndarray, F: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """dx solving J dx = -F per patient: the model's sparse LU (no pivoting) where its pivots are safe,
        dense partial pivoting (least squares if singular) for the others."""
        from cytonet.engine.lockstep import lu_block, solve_block

        B = rows.size
        jv = self._jac_values(X, rows, self.sparse_dst, self.L[2].shape[0])
        a = np.empty_like(jv)
        ok = np.ones(B, np.bool_)
        lu_block(jv, np.zeros(B), self.L, a, np.empty(B), np.empty(B), ok)  # a = LU of -J
        dx = np.ascontiguousarray(F.T)
        solve_block(a, self.L, dx, np.empty_like(dx))
        dx = dx.T.copy()
        dense = np.flatnonzero(~ok | ~np.all(np.isfinite(dx), axis=1))
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
    """Damped Newton from ``X0`` (patients ``rows`` of ``k``, species); returns (X, converged)."""
    X = np.array(X0, float)
    m = X.shape[0]
    done = np.zeros(m, bool)
    active = np.arange(m)
    F = k.f(X, rows[active])
    res = _scaled(F, X)
    for _ in range(MAX_NEWTON):
        conv = res <= RESIDUAL_TOL
        done[active[conv]] = True
        keep = ~conv & np.isfinite(res)
        active, F, res = active[keep], F[keep], res[keep]
        if active.size == 0:
            break
        these = rows[active]  # one object per iteration: its constants are copied once
        dx = k.newton_step(X[active], F, these)
        lam = np.ones(active.size)
        pending = np.ones(active.size, bool)
        Xa, Fa, ra = X[active].copy(), F.copy(), res.copy()
        for _halving in range(12):  # backtrack each patient until its residual drops
            idx = np.flatnonzero(pending)
            trial = X[active] + lam[:, None] * dx  # every active patient (lanes are independent), the pending ones kept
            Ft = k.f(trial, these)[idx]
            trial = trial[idx]
            rt = _scaled(Ft, trial)
            good = np.isfinite(rt) & (rt < res[idx])
            Xa[idx[good]], Fa[idx[good]], ra[idx[good]] = trial[good], Ft[good], rt[good]
            pending[idx[good]] = False
            lam[idx[~good]] *= 0.5
            if not pending.any():
                break
        X[active], F, res = Xa, Fa, np.where(pending, np.inf, ra)  # a patient with no descent stops
    return X, done


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
    """Converged, non-negative (to rounding) and exponentially stable in the species of ``blocks``."""
    ok = converged & np.all(X >= -1e-9 * np.maximum(np.abs(X).max(axis=1, keepdims=True), 1.0), axis=1)
    good = np.flatnonzero(ok)
    if good.size:
        J = k.jac(X[good], rows[good])
        top = np.full(good.size, -np.inf)
        for b in blocks:
            sub = J[:, b[:, None], b]
            real = sub[:, 0, 0] if b.size == 1 else np.linalg.eigvals(sub).real.max(axis=1)
            top = np.maximum(top, real)
        ok[good[~(top < 0)]] = False
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
