"""A cheap proof that a matrix is Hurwitz (every eigenvalue in the open left half-plane), sound in floating point.

Two classical facts make it one linear solve instead of an eigenvalue computation:

- For any real matrix A, the spectral abscissa is at most that of its Metzler majorant M(A) (diagonal
  a_ii, off-diagonal |a_ij|): for small t, |I + tA/k| <= I + tM(A)/k entrywise, so |exp(At)| <= exp(M(A)t)
  and the spectral radii, exp(alpha t), keep that order.
- A Metzler matrix M is Hurwitz if some v > 0 has M v < 0: then (M + sI) v < s v for a shift s making
  M + sI non-negative, so its Perron root, alpha(M) + s, is below s (Collatz-Wielandt; Berman and
  Plemmons, Nonnegative Matrices in the Mathematical Sciences, ch. 6, for the M-matrix form).

So ``v = (-M)^-1 1``, from Gaussian elimination without pivoting (all pivots positive exactly when -M
is a non-singular M-matrix), is the certificate, accepted only when ``v > 0`` and ``M v < 0`` hold
with the rounding of the product bounded (|fl(x.y) - x.y| <= gamma_n |x|.|y|, gamma_n = n u / (1 - n u);
Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., section 3.1). A matrix it does not
certify may still be Hurwitz: callers then compute eigenvalues.
"""

from __future__ import annotations

import numba as nb
import numpy as np

#: unit roundoff of float64
_U = 2.0**-53
#: bound on the absolute error that underflow adds to a product sum (gradual underflow, far above n * 2^-1074)
_TINY = 1e-300


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _certify(A, idx, out):
    m, n = A.shape[0], idx.shape[0]
    G = np.empty((n, n))
    v = np.empty(n)
    gamma = 2.0 * (n + 1) * _U / (1.0 - (n + 1) * _U)  # twice gamma_(n+1): also covers the rounding of the bound itself
    for p in range(m):
        a = A[p]
        for i in range(n):
            v[i] = 1.0
            for j in range(n):
                aij = a[idx[i], idx[j]]
                G[i, j] = -aij if i == j else -abs(aij)
        ok = True
        for k in range(n):  # G = -M(A) = LU, the right-hand side eliminated alongside
            d = G[k, k]
            if not d > 0.0:
                ok = False
                break
            for i in range(k + 1, n):
                lik = G[i, k] / d
                if lik != 0.0:
                    for j in range(k + 1, n):
                        G[i, j] -= lik * G[k, j]
                    v[i] -= lik * v[k]
        if ok:
            for i in range(n - 1, -1, -1):
                s = v[i]
                for j in range(i + 1, n):
                    s -= G[i, j] * v[j]
                v[i] = s / G[i, i]
                if not v[i] > 0.0:
                    ok = False
                    break
        if ok:  # M v < 0, with the product's rounding error bounded
            for i in range(n):
                r = a[idx[i], idx[i]] * v[i]
                bound = abs(r)
                for j in range(n):
                    if j != i:
                        t = abs(a[idx[i], idx[j]]) * v[j]
                        r += t
                        bound += t
                if not r + gamma * bound + _TINY < 0.0:
                    ok = False
                    break
        out[p] = ok


def certified_hurwitz(A: np.ndarray, block: np.ndarray | None = None) -> np.ndarray:
    """For a stack of square matrices ``A`` (m, n, n), or their principal submatrices on the indices ``block``: True
    where the Metzler-majorant certificate proves the matrix Hurwitz (exact, rounding included); False where it cannot
    (the matrix may still be Hurwitz; NaN never is)."""
    A = np.asarray(A, dtype=float)
    if A.ndim != 3 or A.shape[1] != A.shape[2]:
        raise ValueError(f"expected a stack of square matrices, got shape {A.shape}")
    idx = np.arange(A.shape[1]) if block is None else np.asarray(block, np.int64)
    if idx.ndim != 1 or idx.size and not (0 <= idx.min() and idx.max() < A.shape[1]):
        raise ValueError(f"block must be indices below {A.shape[1]}, got {block!r}")
    out = np.zeros(A.shape[0], np.bool_)
    _certify(A, idx, out)
    return out
