"""The tape engine's Rosenbrock tableaus: their orders measured on a closed-form solution, and the choice of method.

A fixed-step Rosenbrock step in numpy (the form :mod:`cytonet.engine.tableaus` documents): on a
forced Van der Pol oscillator with time as a state, against SciPy's DOP853 at rtol 1e-13, the
global error shrinks 2^p-fold per halving of the step (p = 4 for Rodas4, 5 for Rodas5P); on the
logistic equation, whose solution is known in closed form, the error estimate and the dense output
shrink locally as h^k and h^(p_dense + 1). (The logistic's global errors cancel along the way, so
their ratios say nothing about the order.)
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "model"))

from sbml_doc import Doc  # noqa: E402

from cytonet.engine.simulate import simulate  # noqa: E402
from cytonet.engine.tableaus import METHODS, RODAS4, RODAS5P  # noqa: E402
from cytonet.errors import ModelSpecError  # noqa: E402
from cytonet.model.sbml_import import load_sbml  # noqa: E402

R, K, X0 = 1.5, 10.0, 0.5


def exact(t: float) -> float:
    return K / (1 + (K / X0 - 1) * np.exp(-R * t))


def f(z: np.ndarray) -> np.ndarray:
    return np.array([R * z[0] * (1 - z[0] / K), 1.0])


def jac(z: np.ndarray) -> np.ndarray:
    return np.array([[R * (1 - 2 * z[0] / K), 0.0], [0.0, 0.0]])


MU = 5.0


def vdp(z: np.ndarray) -> np.ndarray:
    return np.array([z[1], MU * (1 - z[0] ** 2) * z[1] - z[0] + 0.3 * np.sin(z[2]), 1.0])


def vdp_jac(z: np.ndarray) -> np.ndarray:
    return np.array([[0.0, 1.0, 0.0], [-2 * MU * z[0] * z[1] - 1, MU * (1 - z[0] ** 2), 0.3 * np.cos(z[2])], [0.0, 0.0, 0.0]])


def step(method, z: np.ndarray, h: float, rhs=f, jacobian=jac) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y1, error estimate, dense coefficients) of one step."""
    A, C, D, gamma, _ = method
    W = np.eye(z.size) / (h * gamma) - jacobian(z)
    ks = np.zeros((A.shape[0], z.size))
    for i in range(A.shape[0]):
        yt = z + A[i, :i] @ ks[:i]
        ks[i] = np.linalg.solve(W, rhs(yt) + C[i, :i] @ ks[:i] / h)
    return yt + ks[-1], ks[-1], D @ ks


@pytest.mark.parametrize("method, order", [(RODAS4, 4), (RODAS5P, 5)], ids=["rodas4", "rodas5p"])
def test_global_error_shrinks_with_the_order(method, order):
    from scipy.integrate import solve_ivp

    z0 = np.array([2.0, 0.0, 0.0])
    ref = solve_ivp(lambda t, z: vdp(z), (0.0, 1.0), z0, method="DOP853", rtol=1e-13, atol=1e-15).y[:, -1]
    errs = []
    for n in (10, 20, 40, 80):
        z = z0
        for _ in range(n):
            z = step(method, z, 1.0 / n, vdp, vdp_jac)[0]
        errs.append(np.abs(z - ref).max())
    orders = np.log2(np.array(errs[:-1]) / errs[1:])
    assert np.all((orders > order - 0.4) & (orders < order + 0.7)), orders


@pytest.mark.parametrize("method, estimate, dense", [(RODAS4, 4, 4), (RODAS5P, 5, 5)], ids=["rodas4", "rodas5p"])
def test_error_estimate_and_dense_output_have_their_local_orders(method, estimate, dense):
    est, den = [], []
    for h in (0.4, 0.2, 0.1):
        z = np.array([X0, 0.0])
        y1, err, d = step(method, z, h)
        est.append(abs(err[0]))
        th = 0.5
        y = (1 - th) * z + th * (y1 + (1 - th) * (d[0] + th * (d[1] + th * d[2])))
        den.append(abs(y[0] - exact(th * h)))
    assert np.all(np.log2(np.array(est[:-1]) / est[1:]) > estimate - 0.5), est
    assert np.all(np.log2(np.array(den[:-1]) / den[1:]) > dense - 0.5), den


@pytest.fixture(scope="module")
def logistic_sbml(tmp_path_factory):
    doc = (Doc().compartment("c", 1.0).species("X", conc=X0).param("r", R).param("K", K)
           .reaction("growth", "c * r * X * (1 - X / K)", products=[("X", 1)]))
    return load_sbml(doc.write(tmp_path_factory.mktemp("logistic") / "logistic.xml"))


@pytest.mark.parametrize("name", sorted(METHODS))
def test_both_methods_reach_the_exact_solution_on_the_tape_engine(logistic_sbml, name):
    t = np.linspace(0.0, 4.0, 9)
    ds = simulate(logistic_sbml, 4.0, t_eval=t, rtol=1e-10, atol=1e-12, method=name)
    assert ds.attrs["solver"] == f"cytonet-{name}-tape"
    np.testing.assert_allclose(ds.state.sel(species="X").values, [exact(v) for v in t], rtol=1e-8)


def test_unknown_method_names_the_close_match(logistic_sbml):
    with pytest.raises(ModelSpecError, match="did you mean rodas5p"):
        simulate(logistic_sbml, 1.0, method="rodas5")


def test_native_models_refuse_another_method():
    sys.path.insert(0, str(Path(__file__).parent))
    import testmodels as T

    from cytonet.engine import rodas
    from cytonet.engine.simulate import SOLVER_NAME

    assert SOLVER_NAME == f"cytonet-{rodas.METHOD}"
    assert simulate(T.decay(), 1.0, method=rodas.METHOD).attrs["solver"] == SOLVER_NAME
    with pytest.raises(ModelSpecError, match=f"whose method is {rodas.METHOD}"):
        simulate(T.decay(), 1.0, method="rodas4")
