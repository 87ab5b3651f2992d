"""Lock-step lanes: same answers as independent runs and roadrunner, per-run failures, exact event times."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import testmodels as T
from cytonet.engine import batch
from cytonet.engine.batch import simulate_batch
from cytonet.engine.simulate import simulate
from cytonet.errors import ModelSpecError
from cytonet.model.compile import compile_model


def _no_threshold_network():
    spec = T.network().model_dump(mode="json")
    spec["events"] = [e for e in spec["events"] if e["kind"] != "threshold"]
    from cytonet.model.spec import spec_from_dict

    return compile_model(spec_from_dict(spec))


def _rel(a, b):
    floor = 1e-6 * np.maximum(np.abs(b).max(axis=-2, keepdims=True), 1e-12)
    return (np.abs(a - b) / np.maximum(np.abs(b), floor)).max()


def test_lockstep_agrees_with_independent_runs_step_for_step():
    cm = _no_threshold_network()
    rng = np.random.default_rng(1)
    n = 40
    table = {"k_tnf": 2.0 * rng.lognormal(0, 0.3, n), "kc": 0.7 * rng.lognormal(0, 0.3, n), "IL10": rng.uniform(1, 8, n),
             "lps_dose.amount": rng.uniform(1, 6, n), "il10_drip.rate": rng.uniform(0, 10, n)}
    kw = dict(n_points=97, rtol=1e-8, atol=1e-10)
    lock = simulate_batch(cm, table, 96.0, method="lockstep", **kw)
    ind = simulate_batch(cm, table, 96.0, method="independent", **kw)
    auto = simulate_batch(cm, table, 96.0, **kw)
    np.testing.assert_array_equal(auto.state.values, lock.state.values)  # auto picks lock-step here
    assert _rel(lock.state.values, ind.state.values) < 1e-5
    assert np.abs(lock.steps.values - ind.steps.values).max() <= 2  # the same step control per run


def test_bolus_applied_exactly_at_its_time_in_every_run():
    cm = compile_model(T.dosing())
    amounts = np.array([2.0, 8.0, 16.0])
    ds = simulate_batch(cm, {"dose1.amount": amounts}, 10.0, t_eval=[0.0, 4.999, 5.0, 7.0], rtol=1e-10, atol=1e-12,
                        method="lockstep")
    d = ds.state.sel(species="D").values
    np.testing.assert_allclose(d[:, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(d[:, 2], amounts, rtol=1e-12)
    np.testing.assert_allclose(d[:, 3], amounts * np.exp(-0.3 * 2.0), rtol=1e-8)  # first-order clearance kd = 0.3


def test_runs_with_different_event_times_on_lanes():
    cm = compile_model(T.dosing())
    times = np.array([5.0, 2.0, 5.0, 7.5, 2.0])
    ds = simulate_batch(cm, {"dose1.time": times}, 20.0, n_points=41, rtol=1e-10, atol=1e-12, method="lockstep")
    for i, tb in enumerate(times):
        t = ds.time.values
        after = t >= tb
        expected = 8.0 * np.exp(-0.3 * (t[after] - tb))
        # D also gets the infusion from 12 h to 15.5 h; compare only before it starts
        m = t[after] < 12.0
        np.testing.assert_allclose(ds.state.sel(species="D").values[i][after][m], expected[m], rtol=1e-8)


@settings(max_examples=8, deadline=None)
@given(n=st.integers(2, 9), k=st.floats(0.5, 5.0), il10=st.floats(0.5, 10.0))
def test_block_of_identical_runs_equals_a_single_run(n, k, il10):
    cm = _no_threshold_network()
    table = {"k_tnf": np.full(n, k), "IL10": np.full(n, il10)}
    block = simulate_batch(cm, table, 48.0, n_points=49, method="lockstep").state.values
    one = simulate_batch(cm, {"k_tnf": [k], "IL10": [il10]}, 48.0, n_points=49, method="lockstep").state.values
    for i in range(n):
        np.testing.assert_array_equal(block[i], one[0])
    single = simulate(cm, 48.0, n_points=49, parameters={"k_tnf": k}, initial={"IL10": il10}).state.values
    assert _rel(one[0], single) < 1e-9


def test_one_failing_run_does_not_poison_its_block():
    from cytonet.model.spec import spec_from_dict

    spec = spec_from_dict({
        "id": "boom", "compartments": [{"id": "c", "volume": 1}],
        "species": [{"id": "A", "compartment": "c", "initial": 0.1, "unit": "pg/mL"}],
        "parameters": [{"id": "k", "value": 1.0, "unit": "mL/pg/h", "assumption": "test"}],
        "reactions": [{"id": "auto", "rate_law": "mass_action", "reactants": {"A": 2}, "products": {"A": 3}, "params": {"k": "k"}}],
    })  # A' = k A^2 blows up at t = 1 / (k A0): 20 h for k = 0.5, 2 h for k = 5
    k = np.full(12, 0.5)
    k[4] = 5.0
    ds = simulate_batch(spec, {"k": k}, 10.0, on_error="mask", method="lockstep")
    assert ds.status.values[4] != 0 and np.isnan(ds.state.values[4]).all()
    ok = np.delete(np.arange(12), 4)
    assert (ds.status.values[ok] == 0).all()
    np.testing.assert_allclose(ds.state.values[ok, -1, 0], 0.1 / (1 - 0.05 * 10), rtol=1e-5)


def test_method_choice():
    with pytest.raises(ModelSpecError, match="threshold events"):
        simulate_batch(T.network(), {"k_tnf": [1.0, 2.0]}, 5.0, method="lockstep")
    with pytest.raises(ModelSpecError, match="method must be"):
        simulate_batch(T.decay(), {"k": [1.0]}, 5.0, method="fast")
    k = {"k": np.linspace(0.1, 1.0, batch.LOCKSTEP_MIN_RUNS)}
    ds = simulate_batch(T.decay(), k, 5.0, n_points=6)
    np.testing.assert_array_equal(ds.state.values, simulate_batch(T.decay(), k, 5.0, n_points=6, method="lockstep").state.values)
    np.testing.assert_allclose(ds.state.values[:, -1, 0], 10.0 * np.exp(-np.linspace(0.1, 1.0, 8) * 5.0), rtol=1e-5)


def test_lockstep_matches_roadrunner_on_a_sample():
    import roadrunner

    from cytonet.model.sbml import sbml_string
    from cytonet.model.spec import spec_from_dict

    spec = T.network().model_dump(mode="json")
    spec["events"] = [e for e in spec["events"] if e["kind"] != "threshold"]
    spec = spec_from_dict(spec)
    k_tnf, il10 = np.array([1.0, 2.0, 3.5, 5.0]), np.array([4.0, 1.0, 8.0, 2.0])
    t = np.linspace(0.0, 60.0, 293)
    ds = simulate_batch(spec, {"k_tnf": k_tnf, "IL10": il10}, 60.0, t_eval=t, rtol=1e-10, atol=1e-15, method="lockstep")
    rr = roadrunner.RoadRunner(sbml_string(spec))
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-18
    rr.integrator.maximum_num_steps = 1_000_000
    species = list(ds.species.values)
    rr.timeCourseSelections = ["time", *(f"[{s}]" for s in species)]  # concentrations, as cytonet reports them
    for i in range(4):
        rr.resetAll()
        rr["k_tnf"], rr["[IL10]"] = k_tnf[i], il10[i]
        ref = np.asarray(rr.simulate(times=t))[:, 1:]
        assert _rel(ds.state.values[i], ref) < 1e-6


def _assert_blocks_equal_scalar_kernels(cm, P, X, C, ncode, tol):
    """The block right-hand side and Jacobian of runs ``P`` at states ``X`` (rows) equal ``cm.rhs``, ``cm.jacobian``."""
    from cytonet.engine import lockstep, rodas

    S, Q, L, jac_dst = rodas.model_arrays(cm)
    B, n = X.shape
    out = np.empty((n, B))
    lockstep.rhs_block(np.ascontiguousarray(X.T), np.zeros((n, B)), C, S, ncode, out, *[np.empty(B) for _ in range(4)])
    jv = np.empty((L[2].shape[0], B))
    lockstep.jac_block(np.ascontiguousarray(X.T), C, S, ncode, jac_dst, jv, np.empty((16, B)), np.empty((16, B)),
                       np.empty(B), np.empty(B), np.empty(B))
    perm, row_ptr, col = L[0], L[1], L[2]
    for q in range(B):
        np.testing.assert_allclose(out[:, q], cm.rhs(X[q], p=P[q]), rtol=tol, atol=tol)
        dense = np.zeros((n, n))
        for i in range(n):
            for e in range(row_ptr[i], row_ptr[i + 1]):
                dense[perm[i], perm[col[e]]] = jv[e, q]
        np.testing.assert_allclose(dense, cm.jacobian(X[q], p=P[q]), rtol=tol, atol=tol)


@pytest.mark.parametrize("make,vary", [(T.network, "n2"), (T.hill, "n"), (T.logistic, "K"), (T.michaelis, "km")])
def test_block_kernels_equal_the_scalar_right_hand_side_and_jacobian(make, vary):
    from cytonet.engine import lockstep, rodas

    cm = compile_model(make())
    Q = rodas.model_arrays(cm)[1]
    rng = np.random.default_rng(3)
    B, n, nf = 5, cm.n_species, len(cm.f_kind)
    P = np.tile(cm.p, (B, 1))
    j = cm.parameter_index(vary)
    P[:, j] = [cm.p[j], cm.p[j], 1.0, 2.7, 3.0][:B] if vary in ("n", "n2") else cm.p[j] * rng.uniform(0.5, 2, B)
    X = rng.uniform(0.0, 5.0, (B, n))
    X[0, :] = 0.0  # Hill factors at x = 0 (derivative limits)
    C = tuple(np.empty((m, B)) for m in (cm.n_reactions, nf, nf, nf, nf))
    ncode = lockstep.hill_codes(P, Q[4])
    for q in range(B):
        lockstep._load_lane(q, P[q], Q, C, ncode)
    _assert_blocks_equal_scalar_kernels(cm, P, X, C, ncode, 1e-12)


@pytest.mark.parametrize("n_hill", [5.0, 8.0, 16.0])
def test_integer_hill_coefficients_above_four_go_by_multiplication_and_match_pow(n_hill):
    from cytonet.engine import lockstep, rodas

    cm = compile_model(T.hill())
    Q = rodas.model_arrays(cm)[1]
    B, n = 4, cm.n_species
    P = np.tile(cm.p, (B, 1))
    P[:, cm.parameter_index("n")] = n_hill
    ncode = lockstep.hill_codes(P, Q[4])
    assert set(ncode[Q[4] == cm.parameter_index("n")].tolist()) == {int(n_hill)}
    C = lockstep.block_constants(P, Q, ncode)
    X = np.random.default_rng(5).uniform(0.0, 3.0, (B, n))
    X[0, :] = 0.0
    _assert_blocks_equal_scalar_kernels(cm, P, X, C, ncode, 1e-13)


def test_block_lu_solves_w_like_numpy_and_flags_an_unsafe_pivot_per_lane():
    from cytonet.engine import lockstep, rodas

    cm = compile_model(T.network())
    S, Q, L, jac_dst = rodas.model_arrays(cm)
    rng = np.random.default_rng(8)
    B, n = 6, cm.n_species
    P = np.tile(cm.p, (B, 1))
    X = rng.uniform(0.1, 5.0, (B, n))
    ncode = lockstep.hill_codes(P, Q[4])
    C = lockstep.block_constants(P, Q, ncode)
    jv = np.empty((L[2].shape[0], B))
    scratch = (np.empty((16, B)), np.empty((16, B)), np.empty(B), np.empty(B), np.empty(B))
    lockstep.jac_block(np.ascontiguousarray(X.T), C, S, ncode, jac_dst, jv, *scratch)
    perm, row_ptr, col, diag = L[:4]
    jv[diag[0], -1] = 1e3  # lane B-1: W's first pivot dtg - 1e3 is 0 to rounding
    dtg = np.array([1e-3, 0.1, 1.0, 10.0, 1e4, 1e3])
    a, ok = np.empty_like(jv), np.ones(B, bool)
    lockstep.lu_block(jv, dtg, L, a, np.empty(B), np.empty(B), ok)
    b = np.ascontiguousarray(rng.normal(size=(n, B)))
    x = b.copy()
    lockstep.solve_block(a, L, x, np.empty_like(x))
    assert ok[:-1].all() and not ok[-1]
    for q in range(B - 1):
        J = np.zeros((n, n))
        for i in range(n):
            for e in range(row_ptr[i], row_ptr[i + 1]):
                J[perm[i], perm[col[e]]] = jv[e, q]
        np.testing.assert_allclose(x[:, q], np.linalg.solve(dtg[q] * np.eye(n) - J, b[:, q]), rtol=1e-9, atol=1e-12)


def test_lockstep_progress_per_chunk_and_thread_count_invariance():
    cm = _no_threshold_network()
    rng = np.random.default_rng(5)
    table = {"k_tnf": 2.0 * rng.lognormal(0, 0.3, 37), "lps_dose.amount": rng.uniform(1, 6, 37)}
    seen = []
    one = simulate_batch(cm, table, 48.0, n_points=49, threads=1, method="lockstep")
    two = simulate_batch(cm, table, 48.0, n_points=49, threads=2, chunk_size=10, method="lockstep",
                         progress=lambda d, tot: seen.append((d, tot)))
    assert seen == [(10, 37), (20, 37), (30, 37), (37, 37)]
    np.testing.assert_array_equal(one.state.values, two.state.values)  # a run's result does not depend on its lane


def test_chunking_does_not_change_results_when_one_run_has_a_non_integer_hill_coefficient():
    # one run with n2 = 2.5 makes the batch use the general power for that factor; every chunk must too,
    # or runs in chunks without it would round differently (x*x instead of x**2.0 is exact, x*x*x is not)
    cm = _no_threshold_network()
    rng = np.random.default_rng(9)
    n2 = np.full(30, 3.0)
    n2[-1] = 2.5
    table = {"k_tnf": 2.0 * rng.lognormal(0, 0.3, 30), "n2": n2}
    whole = simulate_batch(cm, table, 24.0, n_points=25, threads=1, method="lockstep")
    chunks = simulate_batch(cm, table, 24.0, n_points=25, threads=2, chunk_size=7, method="lockstep")
    np.testing.assert_array_equal(whole.state.values, chunks.state.values)


def test_dataset_records_the_path_taken():
    assert simulate_batch(T.decay(), {"k": np.linspace(0.1, 1.0, 8)}, 5.0).attrs["batch_method"] == "lockstep"
    assert simulate_batch(T.decay(), {"k": [0.1, 0.2]}, 5.0).attrs["batch_method"] == "independent"  # fewer than LOCKSTEP_MIN_RUNS
    assert simulate_batch(T.threshold(), {"s": np.linspace(1, 2, 8)}, 5.0).attrs["batch_method"] == "independent"


def test_block_narrowed_to_its_running_lanes_gives_each_run_its_own_result():
    # runs of very unequal cost in one block: once no run waits, the interpreted kernels narrow the block to the lanes
    # still running as they halve; every run must still be, bit for bit, the run alone on one lane
    from cytonet.engine import lockstep, rodas
    from cytonet.engine.simulate import DEFAULT_MAX_STEPS

    cm = _no_threshold_network()
    rng = np.random.default_rng(3)
    n = 23
    table = {"k_tnf": 2.0 * rng.lognormal(0, 0.5, n), "lps_dose.time": rng.uniform(0.0, 90.0, n),
             "lps_dose.amount": rng.uniform(1, 6, n)}
    arr = batch.run_arrays(cm, table)
    M = rodas.model_arrays(cm)
    ncode = lockstep.hill_codes(arr["P"], M[1][4])
    t = np.linspace(0.0, 96.0, 49)
    atol = np.full(cm.n_species, 1e-10)

    def lanes(rows: np.ndarray, B: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        out, status, info = np.full((n, t.size, cm.n_species), np.nan), np.zeros(n, np.int64), np.zeros((n, rodas.N_INFO))
        lockstep.solve_lanes(arr["X0"][rows], arr["P"][rows], t, arr["bolus_time"][rows], cm.bolus_species,
                             arr["bolus_amount"][rows], arr["inf_start"][rows], arr["inf_end"][rows], cm.inf_species,
                             arr["inf_rate"][rows], M, ncode, 1e-8, atol, DEFAULT_MAX_STEPS, np.inf, B, rows, out, status, info)
        return out[rows], status[rows], info[rows]

    out, status, info = lanes(np.arange(n), 16)
    steps = info[:, rodas.I_STEPS]
    assert (status == 0).all() and np.ptp(steps) > 100  # lanes finish hundreds of steps apart: the block narrows
    for i in range(n):
        o, s, f = lanes(np.array([i]), 1)
        np.testing.assert_array_equal(out[i], o[0])
        assert s[0] == status[i] and np.array_equal(f[0], info[i])
