"""Sparse LU of W = I/(gamma h) - J: same solutions as dense LAPACK, unsafe pivots reported."""

import numpy as np
import pytest

from cytonet.engine.sparse import lu_numeric, lu_plan, lu_solve_sparse, min_degree_order, plan_from_pattern, set_w, symbolic_lu
from cytonet.model.catalog import PACKAGE_ROOT
from cytonet.model.compile import compile_model, jac_kernel
from cytonet.model.spec import load_spec


def _random_case(rng, n, density):
    pattern = rng.random((n, n)) < density
    np.fill_diagonal(pattern, False)
    rows, cols = np.nonzero(pattern)
    return pattern, rows, cols, rng.normal(0.0, 1.0, rows.size)


def _factor(plan, rows, cols, values, dtg):
    jv = np.zeros(plan.nnz)
    np.add.at(jv, plan.jac_dst, values)
    a = np.empty(plan.nnz)
    set_w(jv, dtg, plan.arrays(), a)
    return a, lu_numeric(a, plan.arrays())


@pytest.mark.parametrize("seed", range(5))
def test_sparse_solve_matches_numpy_on_random_sparse_w(seed):
    rng = np.random.default_rng(seed)
    n = 40
    pattern, rows, cols, values = _random_case(rng, n, 0.08)
    plan = plan_from_pattern(pattern, rows, cols)
    dtg = 10.0
    a, ok = _factor(plan, rows, cols, values, dtg)
    assert ok
    J = np.zeros((n, n))
    np.add.at(J, (rows, cols), values)
    W = dtg * np.eye(n) - J
    b = rng.normal(size=n)
    x = b.copy()
    lu_solve_sparse(a, plan.arrays(), x, np.empty(n))
    np.testing.assert_allclose(x, np.linalg.solve(W, b), rtol=1e-12, atol=1e-14)


def test_symbolic_fill_covers_the_exact_lu_nonzeros():
    rng = np.random.default_rng(7)
    pattern, rows, cols, values = _random_case(rng, 30, 0.1)
    order = min_degree_order(pattern)
    assert sorted(order.tolist()) == list(range(30))
    W = 5.0 * np.eye(30)
    W[rows, cols] = values
    Wp = W[np.ix_(order, order)]
    Lf, U = np.eye(30), Wp.copy()  # Doolittle without pivoting, by hand
    for k in range(30):
        Lf[k + 1:, k] = U[k + 1:, k] / U[k, k]
        U[k + 1:, :] -= np.outer(Lf[k + 1:, k], U[k, :])
    fill = symbolic_lu(pattern[np.ix_(order, order)])
    assert not np.any((np.abs(np.tril(Lf, -1)) + np.abs(np.triu(U)) > 1e-14) & ~fill)


def test_tiny_pivot_is_reported_for_the_dense_fallback():
    pattern = np.array([[False, True], [True, False]])
    rows, cols = np.nonzero(pattern)
    plan = plan_from_pattern(pattern, rows, cols)
    _, ok = _factor(plan, rows, cols, np.array([1.0, 1.0]), 0.0)  # W = [[0, -1], [-1, 0]] needs a row swap
    assert not ok


def test_reference_network_sparse_solve_equals_dense():
    cm = compile_model(load_spec(PACKAGE_ROOT / "model" / "data" / "reference_network.yaml"))
    plan = lu_plan(cm)
    rng = np.random.default_rng(3)
    x = cm.x0 * rng.uniform(0.5, 20.0, cm.n_species) + rng.uniform(0.0, 0.5, cm.n_species)
    jv = np.zeros(plan.nnz)
    jac_kernel(x, cm.constants(), cm.kernel_arrays(), plan.jac_dst, jv)
    J = cm.jacobian(x)
    for h in (1e-4, 0.1, 10.0, 1e3):
        dtg = 1.0 / (0.25 * h)
        a = np.empty(plan.nnz)
        set_w(jv, dtg, plan.arrays(), a)
        assert lu_numeric(a, plan.arrays())
        b = rng.normal(size=cm.n_species)
        xs = b.copy()
        lu_solve_sparse(a, plan.arrays(), xs, np.empty(cm.n_species))
        ref = np.linalg.solve(dtg * np.eye(cm.n_species) - J, b)
        np.testing.assert_allclose(xs, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())
    assert plan.nnz < cm.n_species**2 / 4  # the point of it: far fewer entries than dense
