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
from cytonet.model.compile import CompiledModel, jac_kernel, new_constants, prepare, rhs_kernel

#: status code of a patient without a healthy resting state (solver codes are 0-3)
REST_FAILED = 10
MAX_NEWTON = 40
#: nominal rest values below this are rounding residue of an exact zero (e.g. 1e-27 pathogen after relaxation)
ZERO = 1e-15


class _Kernels:
    """Residual and Jacobian of one compiled model (no inputs) for many parameter rows."""

    def __init__(self, cm: CompiledModel) -> None:
        self.cm = cm
        rows, cols = cm.jacobian_entries()
        self.dst = rows * cm.n_species + cols
        self.S = cm.kernel_arrays()
        self.Q = cm.parameter_arrays()
        self.u = np.zeros(cm.n_species)

    def constants(self, P: np.ndarray) -> list[tuple[np.ndarray, ...]]:
        out = []
        for p in P:
            C = new_constants(self.cm.n_reactions, len(self.cm.f_kind))
            prepare(p, self.Q, C)
            out.append(C)
        return out

    def f(self, X: np.ndarray, C: list, rows: np.ndarray) -> np.ndarray:
        F = np.zeros((rows.size, X.shape[1]))
        for j, i in enumerate(rows):
            rhs_kernel(X[j], self.u, C[i], self.S, F[j])
        return F

    def jac(self, X: np.ndarray, C: list, rows: np.ndarray) -> np.ndarray:
        n = X.shape[1]
        J = np.zeros((rows.size, n * n))
        for j, i in enumerate(rows):
            jac_kernel(X[j], C[i], self.S, self.dst, J[j])
        return J.reshape(rows.size, n, n)


def _scaled(F: np.ndarray, X: np.ndarray) -> np.ndarray:
    return np.max(np.abs(F) / np.maximum(np.abs(X), 1.0), axis=1)


def newton(k: _Kernels, X0: np.ndarray, C: list) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton from ``X0`` (patients, species); returns (X, converged)."""
    X = np.array(X0, float)
    m = X.shape[0]
    done = np.zeros(m, bool)
    active = np.arange(m)
    F = k.f(X, C, active)
    res = _scaled(F, X)
    for _ in range(MAX_NEWTON):
        conv = res <= RESIDUAL_TOL
        done[active[conv]] = True
        keep = ~conv & np.isfinite(res)
        active, F, res = active[keep], F[keep], res[keep]
        if active.size == 0:
            break
        J = k.jac(X[active], C, active)
        try:
            dx = np.linalg.solve(J, -F[..., None])[..., 0]
        except np.linalg.LinAlgError:
            dx = np.stack([np.linalg.lstsq(j, -f, rcond=None)[0] for j, f in zip(J, F)])
        lam = np.ones(active.size)
        pending = np.ones(active.size, bool)
        Xa, Fa, ra = X[active].copy(), F.copy(), res.copy()
        for _halving in range(12):  # backtrack each patient until its residual drops
            idx = np.flatnonzero(pending)
            trial = X[active[idx]] + lam[idx, None] * dx[idx]
            Ft = k.f(trial, C, active[idx])
            rt = _scaled(Ft, trial)
            good = np.isfinite(rt) & (rt < res[idx])
            Xa[idx[good]], Fa[idx[good]], ra[idx[good]] = trial[good], Ft[good], rt[good]
            pending[idx[good]] = False
            lam[idx[~good]] *= 0.5
            if not pending.any():
                break
        X[active], F, res = Xa, Fa, np.where(pending, np.inf, ra)  # a patient with no descent stops
    return X, done


def _healthy(k: _Kernels, X: np.ndarray, C: list, converged: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Converged, non-negative (to rounding) and exponentially stable in the ``free`` species."""
    ok = converged & np.all(X >= -1e-9 * np.maximum(np.abs(X).max(axis=1, keepdims=True), 1.0), axis=1)
    rows = np.flatnonzero(ok)
    if rows.size:
        eig = np.linalg.eigvals(k.jac(X[rows], C, rows)[:, free][:, :, free])
        ok[rows[np.max(eig.real, axis=1) >= 0]] = False
    return ok


def rest_states(
    cm: CompiledModel, P: np.ndarray, x_ref: np.ndarray, relax_hours: float, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(resting states (patients, species), found) for parameter rows ``P`` of the event-free host ``cm``."""
    from cytonet.engine.batch import simulate_batch

    k = _Kernels(cm)
    C = k.constants(P)
    free = np.abs(x_ref) > ZERO
    x_ref = np.where(free, x_ref, 0.0)
    X, conv = newton(k, np.tile(x_ref, (P.shape[0], 1)), C)
    ok = _healthy(k, X, C, conv, free)
    bad = np.flatnonzero(~ok)
    if bad.size:
        table = {pid: P[bad, j] for j, pid in enumerate(cm.parameters)}
        table.update({sid: np.full(bad.size, max(x_ref[i], 0.0)) for i, sid in enumerate(cm.species)})
        ds = simulate_batch(cm, table, relax_hours, n_points=2, on_error="mask", threads=threads, rtol=1e-6, atol=1e-9)
        Xr = np.nan_to_num(ds["state"].values[:, -1], nan=0.0)
        Cb = [C[i] for i in bad]
        Xb, cb = newton(k, Xr, Cb)
        X[bad] = Xb
        ok[bad] = _healthy(k, Xb, Cb, cb, free)
    return np.maximum(X, 0.0), ok
