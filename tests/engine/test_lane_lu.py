"""The generated sparse LU (cytonet.engine.lane_lu): bit for bit the interpreted ``lu_block``, and a true factorisation."""

import numpy as np

from cytonet.engine import lane_lu, lockstep, rodas
from cytonet.engine.batch import GENERATED_LANES
from cytonet.engine.sparse import to_dense
from cytonet.model.catalog import PACKAGE_ROOT
from cytonet.model.compile import compile_model
from cytonet.model.spec import load_spec


def _dense_factors(a: np.ndarray, L: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Unit lower L and upper U of one lane's factors ``a``, in the plan's (permuted) order."""
    row_ptr, col, diag = L[1], L[2], L[3]
    n = diag.size
    lo, up = np.eye(n), np.zeros((n, n))
    for i in range(n):
        for e in range(row_ptr[i], row_ptr[i + 1]):
            (lo if e < diag[i] else up)[i, col[e]] = a[e]
    return lo, up


def test_generated_lu_equals_the_interpreted_lu_on_the_reference_network_jacobian():
    cm = compile_model(load_spec(PACKAGE_ROOT / "model" / "data" / "reference_network.yaml"))
    S, Q, L, jac_dst = rodas.model_arrays(cm)
    B, n, nnz = GENERATED_LANES, cm.n_species, L[2].shape[0]
    rng = np.random.default_rng(5)
    X = np.ascontiguousarray(cm.x0[:, None] * rng.uniform(0.5, 20.0, (n, B)) + rng.uniform(0.0, 0.5, (n, B)))
    P = np.tile(cm.p, (B, 1))
    ncode = lockstep.hill_codes(P, Q[4])
    C = lockstep.block_constants(P, Q, ncode)
    m_max = int(np.diff(S[0]).max(initial=1))
    jv = np.empty((nnz, B))
    lockstep.jac_block(X, C, S, ncode, jac_dst, jv, np.empty((m_max, B)), np.empty((m_max, B)), *np.empty((3, B)))
    dtg = np.geomspace(1e-3, 1e6, B)  # Rodas4 steps from about 1e-6 h to 1e3 h
    d0 = L[3][0]  # the first pivot: no elimination reaches it
    jv[d0, 0] = dtg[0]  # a zero pivot
    jv[d0, 1] = dtg[1] * (1.0 - 1e-12)  # a tiny pivot: the growth test
    jv[nnz // 2, 2] = np.nan  # a non-finite Jacobian
    a_ref, ok_ref = np.empty((nnz, B)), np.ones(B, bool)
    lockstep.lu_block(jv, dtg, L, a_ref, np.empty(B), np.empty(B), ok_ref)
    a, ok = np.full((nnz, B), 7.0), np.ones(B, bool)
    lane_lu.lu_kernel(L, B)(jv, dtg, a, np.empty(B), ok)
    assert not ok_ref[:3].any() and ok_ref[3:].all()
    np.testing.assert_array_equal(ok, ok_ref)
    assert np.array_equal(a, a_ref, equal_nan=True)  # bit for bit, NaN where the interpreted LU has NaN
    perm = L[0]
    for q in range(3, B, 7):  # and the factors are W's: P W P^T = L U
        W = np.empty((n, n))
        to_dense(np.ascontiguousarray(jv[:, q]), dtg[q], L, W)
        lo, up = _dense_factors(a[:, q], L)
        np.testing.assert_allclose(lo @ up, W[np.ix_(perm, perm)], rtol=0, atol=1e-12 * np.abs(W).max())


def test_generated_lu_source_holds_only_its_own_names_and_numbers():
    import re

    cm = compile_model(load_spec(PACKAGE_ROOT / "model" / "data" / "reference_network.yaml"))
    body = "\n".join(lane_lu.lu_source(rodas.model_arrays(cm)[2], 8))
    names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", body))
    assert names == {"for", "q", "in", "range", "a", "jv", "dtg", "big", "ok", "max", "abs", "e"} | {
        w for w in names if re.fullmatch(r"(a[0-9]+|big0|ok0)_[0-9]+", w)}
