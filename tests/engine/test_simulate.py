import math

import numpy as np
import pytest
from scipy.integrate import quad

import testmodels as T
from cytonet.engine.simulate import simulate
from cytonet.errors import ModelSpecError, SolverError
from cytonet.model.compile import compile_model

TIGHT = dict(rtol=1e-10, atol=1e-13)
T_ODD = np.linspace(0.0, 40.0, 137)  # off the internal step grid: exercises dense output


def state(ds, sid):
    return ds.state.sel(species=sid).values


def test_first_order_decay():
    ds = simulate(T.decay(k=0.5, a0=10.0), 40.0, t_eval=T_ODD, **TIGHT)
    np.testing.assert_allclose(state(ds, "A"), 10 * np.exp(-0.5 * T_ODD), rtol=1e-8, atol=1e-11)
    assert ds.attrs["model_id"] == "decay" and ds.attrs["solver"] == "cytonet-rodas5p"
    assert ds.attrs["model_hash"] == T.decay(k=0.5, a0=10.0).digest()
    assert list(ds.unit.values) == ["pg/mL"]


def test_constant_production_to_steady_state():
    ds = simulate(T.production(s=3.0, k=0.2), 40.0, t_eval=T_ODD, **TIGHT)
    np.testing.assert_allclose(state(ds, "A"), 15 * (1 - np.exp(-0.2 * T_ODD)), rtol=1e-8, atol=1e-10)


def test_michaelis_menten_steady_state():
    ds = simulate(T.michaelis(s=4.0, vmax=10.0, km=5.0), 200.0, **TIGHT)
    assert state(ds, "A")[-1] == pytest.approx(4.0 * 5.0 / (10.0 - 4.0), rel=1e-8)


def test_binding_equilibrium_and_conservation():
    l0, r0, kon, koff = 5.0, 3.0, 0.4, 0.6
    ds = simulate(T.binding(l0, r0, kon, koff), 60.0, **TIGHT)
    kd = koff / kon
    b = l0 + r0 + kd
    c_eq = (b - math.sqrt(b * b - 4 * l0 * r0)) / 2
    assert state(ds, "C")[-1] == pytest.approx(c_eq, rel=1e-8)
    np.testing.assert_allclose(state(ds, "L") + state(ds, "C"), l0, rtol=1e-12)
    np.testing.assert_allclose(state(ds, "R") + state(ds, "C"), r0, rtol=1e-12)
    np.testing.assert_allclose(ds.occupancy.values, state(ds, "C") / r0, rtol=1e-12)


@pytest.mark.parametrize("act", [True, False])
def test_hill_response_curve(act):
    k, K, n = 2.0, 3.0, 2.5
    ds = simulate(T.hill(k, K, n, act), 12.0, t_eval=np.linspace(0, 12, 25), **TIGHT)
    f = (lambda s: k * s**n / (K**n + s**n)) if act else (lambda s: k * K**n / (K**n + s**n))
    want = [quad(f, 0.0, t, epsabs=1e-13, epsrel=1e-12)[0] for t in ds.time.values]  # S = t
    np.testing.assert_allclose(state(ds, "Y"), want, rtol=1e-8, atol=1e-10)


def test_logistic_growth_closed_form():
    r, K, x0 = 0.3, 100.0, 1.0
    ds = simulate(T.logistic(r, K, x0), 40.0, t_eval=T_ODD, **TIGHT)
    np.testing.assert_allclose(state(ds, "X"), K / (1 + (K / x0 - 1) * np.exp(-r * T_ODD)), rtol=1e-8)


def test_delay_chain_is_erlang_with_mean_tau_after_leaving_x():
    tau, n = 6.0, 4
    t = np.linspace(0, 60, 241)
    ds = simulate(T.delay(tau, n), 60.0, t_eval=t, **TIGHT)
    lam = n / tau  # X -> T1 .. Tn -> Y is n + 1 exponential stages of rate n/tau
    erlang = 1 - sum(np.exp(-lam * t) * (lam * t) ** j / math.factorial(j) for j in range(n + 1))
    np.testing.assert_allclose(state(ds, "Y"), erlang, rtol=1e-7, atol=1e-10)
    mean_arrival = np.trapezoid(1 - state(ds, "Y"), t)  # residence in X (tau/n) + transit (tau)
    assert mean_arrival == pytest.approx(tau / n + tau, rel=1e-3)


def _first_order_with_input(t, k, pieces, jumps=()):
    """x' = u(t) - k x from x(0)=0, u piecewise constant [(start, end, rate)], jumps [(time, amount)]."""
    edges = sorted({0.0, *[a for a, _, _ in pieces], *[b for _, b, _ in pieces if np.isfinite(b)], *[j for j, _ in jumps]})
    out = np.empty_like(t)
    for m, tt in enumerate(t):
        x, cur = 0.0, 0.0
        for a, b in zip(edges, [*edges[1:], np.inf]):
            x += sum(amt for jt, amt in jumps if jt == a and a <= tt)
            if a >= tt:
                break
            end = min(b, tt)
            u = sum(rate for s, e, rate in pieces if s <= a < e)
            x = x * np.exp(-k * (end - a)) + u / k * (1 - np.exp(-k * (end - a)))
        out[m] = x
    return out


def test_bolus_infusion_and_input_timing():
    t = np.array([0.0, 2.0, 4.999999, 5.0, 5.5, 11.0, 12.0, 13.7, 15.5, 16.0, 20.0, 2.999, 3.0])
    t = np.unique(t)
    ds = simulate(T.dosing(), 20.0, t_eval=t, **TIGHT)
    d_want = _first_order_with_input(t, 0.3, [(12.0, 15.5, 2.0)], jumps=[(5.0, 8.0)])
    g_want = _first_order_with_input(t, 0.1, [(0.0, 3.0, 1.0), (3.0, 9.0, 0.0), (9.0, np.inf, 0.5)])
    np.testing.assert_allclose(state(ds, "D"), d_want, rtol=1e-8, atol=1e-11)
    np.testing.assert_allclose(state(ds, "G"), g_want, rtol=1e-8, atol=1e-11)
    d = state(ds, "D")
    assert d[list(t).index(4.999999)] == 0.0 and d[list(t).index(5.0)] == pytest.approx(8.0, rel=1e-12)


def test_threshold_event_fires_at_analytic_crossings():
    # A = s t, reset at A >= 7 and s halves: crossings at 3.5, 10.5, 24.5, 52.5 h
    t = np.array([3.4999, 3.5001, 10.4999, 10.5001, 24.5001, 52.4999, 52.5001, 60.0])
    ds = simulate(T.threshold(2.0, 7.0), 60.0, t_eval=t, **TIGHT)
    want = [2 * 3.4999, 0.0001, 7 - 0.0001 * 1.0, 0.0001 * 0.5, 0.0001 * 0.25, 7 - 0.0001 * 0.25, 0.0001 * 0.125, 7.5 * 0.125]
    np.testing.assert_allclose(state(ds, "A"), want, rtol=1e-7, atol=1e-9)
    assert ds.attrs["events_fired"] == 4


def test_threshold_on_nonlinear_crossing():
    from cytonet.model.spec import spec_from_dict

    base = T.decay(k=0.5, a0=10.0).model_dump(mode="json")
    base["events"] = [{"kind": "threshold", "id": "redose", "species": "A", "threshold": 2.0, "direction": "falling",
                       "assignments": [{"target": "A", "op": "add", "value": 10.0}]}]
    t_star = 2 * math.log(5.0)  # 10 exp(-0.5 t) = 2
    t = np.array([t_star - 1e-4, t_star + 1e-4, 4.0])
    ds = simulate(spec_from_dict(base), 4.0, t_eval=t, **TIGHT)
    np.testing.assert_allclose(state(ds, "A"), [10 * np.exp(-0.5 * t[0]), 12 * np.exp(-0.5e-4), 12 * np.exp(-0.5 * (4 - t_star))], rtol=1e-8)


def test_network_engine_converges_with_at_least_order_five():
    """With tolerances out of the way, the error at t_end shrinks at least 2^5-fold per halving of the step (Rodas5P;
    on the logistic the leading error term nearly cancels, and the measured ratios are 2^5.8: the tableau's own orders
    are tested in test_tableaus.py)."""
    r, K, x0 = 0.3, 100.0, 1.0
    exact = K / (1 + (K / x0 - 1) * np.exp(-r * 30.0))
    errs = []
    for h in (1.0, 0.5, 0.25, 0.125):
        ds = simulate(T.logistic(r, K, x0), 30.0, n_points=2, rtol=0.5, atol=1e6, max_step=h)
        errs.append(abs(state(ds, "X")[-1] - exact))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(orders > 4.6), orders


def test_blow_up_raises_solver_error_naming_species():
    from cytonet.model.spec import spec_from_dict

    spec = spec_from_dict({
        "id": "boom", "compartments": [{"id": "c", "volume": 1}],
        "species": [{"id": "A", "compartment": "c", "initial": 1.0, "unit": "pg/mL"}],
        "parameters": [{"id": "k", "value": 1.0, "unit": "mL/pg/h", "assumption": "test"}],
        "reactions": [{"id": "auto", "rate_law": "mass_action", "reactants": {"A": 2}, "products": {"A": 3}, "params": {"k": "k"}}],
    })  # A' = A^2 blows up at t = 1
    with pytest.raises(SolverError, match=r"t = 0\.99|t = 1") as err:
        simulate(spec, 2.0)
    assert "rtol" in str(err.value) or "'A'" in str(err.value)


def test_max_steps_raises_solver_error():
    with pytest.raises(SolverError, match="max_steps=5"):
        simulate(T.network(), 100.0, max_steps=5)


def test_bad_arguments_are_model_spec_errors():
    with pytest.raises(ModelSpecError):
        simulate(T.decay(), -1.0)
    with pytest.raises(ModelSpecError):
        simulate(T.decay(), 5.0, t_eval=[3.0, 1.0])
    with pytest.raises(ModelSpecError, match="did you mean k"):
        simulate(T.decay(), 5.0, parameters={"kk": 1.0})
    with pytest.raises(ModelSpecError):
        simulate("decay.yaml", 5.0)


def test_overrides_and_observables():
    ds = simulate(T.decay(), 4.0, parameters={"k": 0.25}, initial={"A": 2.0}, t_eval=[0.0, 4.0], **TIGHT)
    assert state(ds, "A")[-1] == pytest.approx(2 * math.exp(-1.0), rel=1e-9)
    net = simulate(T.network(), 48.0)
    np.testing.assert_allclose(net.ratio.values, state(net, "IL6") / np.maximum(state(net, "IL10"), 1e-3))


def test_per_species_atol_equals_scalar_when_uniform_and_is_validated():
    cm = compile_model(T.network())
    a = simulate(cm, 48.0, atol=1e-8).state.values
    b = simulate(cm, 48.0, atol=np.full(cm.n_species, 1e-8)).state.values
    np.testing.assert_array_equal(a, b)
    loose = np.full(cm.n_species, 1e-8)
    loose[0] = 1e-2  # a loose atol on one species must change the step sequence
    assert not np.array_equal(simulate(cm, 48.0, atol=loose).state.values, a)
    with pytest.raises(ModelSpecError, match="one per species"):
        simulate(cm, 48.0, atol=[1e-8, 1e-8])
    with pytest.raises(ModelSpecError, match="atol > 0"):
        simulate(cm, 48.0, atol=np.zeros(cm.n_species))
