"""Sparse LU of the Rosenbrock matrix W = I/(gamma h) - J without pivoting, planned once per model.

The plan (Python, once per compiled model): a minimum-degree ordering of the symmetrised pattern
of J + I, the symbolic fill of LU in that order, and flat index lists so that the numeric
factorisation and the solves (numba) touch only the nonzeros. W has the large diagonal
1/(gamma h), so diagonal pivots are normally safe; :func:`lu_numeric` reports a tiny pivot or a
large growth so the caller can fall back to dense partial pivoting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from cytonet.model.compile import CompiledModel

#: a pivot below this fraction of the largest |W| entry is unsafe ...
PIVOT_TOL = 1e-10
#: ... and so is growth of the largest factor entry beyond this multiple of it
GROWTH_MAX = 1e8


@dataclass(frozen=True)
class LUPlan:
    """Index arrays for the numeric kernels; entries of L and U share one value array of length nnz."""

    perm: np.ndarray  # new position -> species index
    row_ptr: np.ndarray  # CSR over the permuted rows (columns sorted, unit-L part first)
    col: np.ndarray
    diag: np.ndarray  # value index of each diagonal entry
    l_pos: np.ndarray  # L entries (i, k) in elimination order ...
    l_piv: np.ndarray  # ... the diagonal (k, k) they divide by ...
    op_ptr: np.ndarray  # ... and their updates a[op_dst] -= a[l] * a[op_src]
    op_src: np.ndarray
    op_dst: np.ndarray
    jac_dst: np.ndarray  # value index of each Jacobian term (CompiledModel.jacobian_entries order)
    is_diag: np.ndarray  # per value index: whether it holds a diagonal entry

    @property
    def nnz(self) -> int:
        return len(self.col)

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The tuple ``L`` the kernels take."""
        return (self.perm, self.row_ptr, self.col, self.diag, self.l_pos, self.l_piv,
                self.op_ptr, self.op_src, self.op_dst, self.is_diag)


def min_degree_order(pattern: np.ndarray) -> np.ndarray:
    """Greedy minimum-degree ordering of the symmetrised boolean ``pattern`` (ties: lowest index)."""
    n = pattern.shape[0]
    adj = [set(np.flatnonzero(pattern[i] | pattern[:, i]).tolist()) - {i} for i in range(n)]
    left = set(range(n))
    order = []
    while left:
        v = min(left, key=lambda i: (len(adj[i]), i))
        nb_ = adj[v]
        for a in nb_:
            adj[a] |= nb_ - {a}
            adj[a].discard(v)
        left.remove(v)
        order.append(v)
    return np.asarray(order, np.int64)


def symbolic_lu(pattern: np.ndarray) -> np.ndarray:
    """Boolean pattern of L + U for elimination without pivoting in the given order (diagonal included)."""
    f = pattern.copy()
    np.fill_diagonal(f, True)
    for k in range(f.shape[0]):
        rows = np.flatnonzero(f[k + 1:, k]) + k + 1
        if rows.size:
            f[np.ix_(rows, np.arange(k + 1, f.shape[0]))] |= f[k, k + 1:]
    return f


def plan_from_pattern(pattern: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> LUPlan:
    """Plan for a square boolean ``pattern`` of J; ``rows``/``cols`` give the Jacobian terms to place."""
    n = pattern.shape[0]
    perm = min_degree_order(pattern)
    inv = np.empty(n, np.int64)
    inv[perm] = np.arange(n)
    fill = symbolic_lu(pattern[np.ix_(perm, perm)])
    row_ptr = np.zeros(n + 1, np.int64)
    pos = np.full((n, n), -1, np.int64)
    col = []
    for i in range(n):
        cs = np.flatnonzero(fill[i])
        pos[i, cs] = np.arange(len(col), len(col) + len(cs))
        col.extend(cs.tolist())
        row_ptr[i + 1] = len(col)
    l_pos, l_piv, op_ptr, op_src, op_dst = [], [], [0], [], []
    for i in range(n):  # row-oriented (up-looking) Doolittle: row k < i is final when row i uses it
        for k in np.flatnonzero(fill[i, :i]):
            l_pos.append(pos[i, k])
            l_piv.append(pos[k, k])
            for j in np.flatnonzero(fill[k, k + 1:]) + k + 1:
                op_src.append(pos[k, j])
                op_dst.append(pos[i, j])
            op_ptr.append(len(op_src))
    i64 = lambda v: np.asarray(v, np.int64)  # noqa: E731
    diag = i64([pos[i, i] for i in range(n)])
    is_diag = np.zeros(len(col), np.bool_)
    is_diag[diag] = True
    return LUPlan(perm=perm, row_ptr=row_ptr, col=i64(col), diag=diag,
                  l_pos=i64(l_pos), l_piv=i64(l_piv), op_ptr=i64(op_ptr), op_src=i64(op_src), op_dst=i64(op_dst),
                  jac_dst=i64(pos[inv[rows], inv[cols]]) if len(rows) else i64([]), is_diag=is_diag)


def lu_plan(cm: CompiledModel) -> LUPlan:
    """The sparse LU plan of a compiled model (computed once, kept on the model)."""
    cached = cm.__dict__.get("_lu_plan")
    if cached is None:
        rows, cols = cm.jacobian_entries()
        pattern = np.zeros((cm.n_species, cm.n_species), bool)
        pattern[rows, cols] = True
        cached = plan_from_pattern(pattern, rows, cols)
        cm.__dict__["_lu_plan"] = cached
    return cached


@nb.njit(cache=True, error_model="numpy")
def set_w(jv, dtg, L, a):
    """a = dtg * I - J, with J given as values ``jv`` on the plan's pattern."""
    diag = L[3]
    for e in range(a.shape[0]):
        a[e] = -jv[e]
    for i in range(diag.shape[0]):
        a[diag[i]] += dtg


@nb.njit(cache=True, error_model="numpy")
def lu_numeric(a, L):
    """Factor in place (unit L below, U on and above the diagonal); False if a pivot is unsafe."""
    perm, row_ptr, col, diag, l_pos, l_piv, op_ptr, op_src, op_dst, is_diag = L
    n = diag.shape[0]
    big = 0.0
    for e in range(a.shape[0]):
        big = max(big, abs(a[e]))
    for q in range(l_pos.shape[0]):
        d = a[l_piv[q]]
        if not abs(d) > PIVOT_TOL * big:
            return False
        lik = a[l_pos[q]] / d
        a[l_pos[q]] = lik
        if lik != 0.0:
            for o in range(op_ptr[q], op_ptr[q + 1]):
                a[op_dst[o]] -= lik * a[op_src[o]]
    for i in range(n):
        d = abs(a[diag[i]])
        if not d > PIVOT_TOL * big:
            return False
    grown = 0.0
    for e in range(a.shape[0]):
        grown = max(grown, abs(a[e]))
    return grown < GROWTH_MAX * big


@nb.njit(cache=True, error_model="numpy")
def lu_solve_sparse(a, L, b, w):
    """Solve W x = b in place (b in species order) with the factors of :func:`lu_numeric`; ``w`` is scratch."""
    perm, row_ptr, col, diag, l_pos, l_piv, op_ptr, op_src, op_dst, is_diag = L
    n = diag.shape[0]
    for i in range(n):
        s = b[perm[i]]
        for e in range(row_ptr[i], diag[i]):
            s -= a[e] * w[col[e]]
        w[i] = s
    for i in range(n - 1, -1, -1):
        s = w[i]
        for e in range(diag[i] + 1, row_ptr[i + 1]):
            s -= a[e] * w[col[e]]
        w[i] = s / a[diag[i]]
    for i in range(n):
        b[perm[i]] = w[i]


@nb.njit(cache=True, error_model="numpy")
def to_dense(jv, dtg, L, W):
    """Dense W = dtg * I - J in species order (the fallback when a sparse pivot is unsafe)."""
    perm, row_ptr, col, diag = L[0], L[1], L[2], L[3]
    W[:, :] = 0.0
    for i in range(diag.shape[0]):
        for e in range(row_ptr[i], row_ptr[i + 1]):
            W[perm[i], perm[col[e]]] = -jv[e]
        W[perm[i], perm[i]] += dtg
