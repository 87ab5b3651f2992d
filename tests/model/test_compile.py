import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
import testmodels as T  # noqa: E402

from cytonet.model.compile import CAP, HILL_INH, POWER, compile_model  # noqa: E402


def test_binding_lowers_to_two_factor_reactions():
    cm = compile_model(T.binding())
    assert cm.reaction_names == ["bind_fwd", "bind_rev"]
    x = np.array([5.0, 3.0, 2.0])
    # dL/dt = -kon L R + koff C
    assert cm.rhs(x)[0] == pytest.approx(-0.4 * 15 + 0.6 * 2)
    assert cm.rhs(x)[2] == pytest.approx(0.4 * 15 - 0.6 * 2)


def test_delay_chain_adds_transit_species():
    cm = compile_model(T.delay(tau=6.0, stages=4))
    assert cm.species == ["X", "Y", "mature_transit1", "mature_transit2", "mature_transit3", "mature_transit4"]
    x = np.array([2.0, 0, 1.0, 0, 0, 3.0])
    f = cm.rhs(x)
    k = 4 / 6.0
    np.testing.assert_allclose(f, [-k * 2, k * 3, k * 2 - k * 1, k * 1, 0, -k * 3])


def test_logistic_and_regulators_factor_kinds():
    cm = compile_model(T.logistic())
    assert list(cm.f_kind) == [POWER, CAP]
    assert cm.rhs(np.array([40.0]))[0] == pytest.approx(0.3 * 40 * (1 - 40 / 100))
    net = compile_model(T.network())
    assert HILL_INH in net.f_kind


def test_hill_rates():
    cm = compile_model(T.hill(k=2.0, K=3.0, n=2.5))
    s = 4.0
    assert cm.rhs(np.array([s, 0.0]))[1] == pytest.approx(2.0 * s**2.5 / (3.0**2.5 + s**2.5))
    inh = compile_model(T.hill(k=2.0, K=3.0, n=2.5, act=False))
    assert inh.rhs(np.array([s, 0.0]))[1] == pytest.approx(2.0 * 3.0**2.5 / (3.0**2.5 + s**2.5))


@pytest.mark.parametrize("name", list(T.TEST_MODELS))
def test_jacobian_matches_finite_differences(name):
    cm = compile_model(T.TEST_MODELS[name]())
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.uniform(0.1, 50.0, cm.n_species)
        J = cm.jacobian(x)
        fd = np.empty_like(J)
        for j in range(cm.n_species):
            h = 1e-6 * max(1.0, abs(x[j]))
            xp, xm = x.copy(), x.copy()
            xp[j] += h
            xm[j] -= h
            fd[:, j] = (cm.rhs(xp) - cm.rhs(xm)) / (2 * h)
        np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)


def test_pickle_round_trip():
    cm = compile_model(T.network())
    back = pickle.loads(pickle.dumps(cm))
    x = np.linspace(1, 5, cm.n_species)
    np.testing.assert_array_equal(back.rhs(x), cm.rhs(x))
    assert back.digest == cm.digest and back.species == cm.species
