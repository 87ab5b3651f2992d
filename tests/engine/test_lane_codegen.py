"""Generated per-model lock-step kernels: bit-identical to the interpreted kernels, built from indices only."""

import numpy as np
import pytest

import testmodels as T
from cytonet.engine import lane_codegen, lockstep, rodas
from cytonet.engine.batch import GENERATED_LANES, LOCKSTEP_LANES, run_arrays, simulate_batch
from cytonet.engine.simulate import DEFAULT_MAX_STEPS
from cytonet.errors import ModelSpecError
from cytonet.model.compile import compile_model
from cytonet.model.spec import spec_from_dict


def _no_threshold_network():
    spec = T.network().model_dump(mode="json")
    spec["events"] = [e for e in spec["events"] if e["kind"] != "threshold"]
    return compile_model(spec_from_dict(spec))


@pytest.mark.parametrize("make,vary", [(T.network, "n2"), (T.hill, "n"), (T.logistic, "K"), (T.michaelis, "km")])
@pytest.mark.parametrize("integer_hill", [True, False])
def test_generated_kernels_equal_the_interpreted_ones_bit_for_bit(make, vary, integer_hill):
    cm = compile_model(make())
    S, Q, L, jac_dst = rodas.model_arrays(cm)
    rng = np.random.default_rng(4)
    B, n = 6, cm.n_species
    P = np.tile(cm.p, (B, 1))
    j = cm.parameter_index(vary)
    if vary in ("n", "n2"):
        P[:, j] = [1.0, 2.0, 3.0, 4.0, 2.0, 1.0] if integer_hill else [cm.p[j], 1.0, 2.7, 3.0, 0.5, 2.0]
    else:
        P[:, j] = cm.p[j] * rng.uniform(0.5, 2, B)
    ncode = lockstep.hill_codes(P, Q[4])
    C = lockstep.block_constants(P, Q, ncode)
    X = np.ascontiguousarray(rng.uniform(0.0, 5.0, (n, B)))
    X[:, 0] = 0.0  # Hill factors at x = 0
    X[0, 1] = -1e-3  # a slightly negative state (clipped in Hill factors)
    U = np.ascontiguousarray(rng.uniform(0.0, 1.0, (n, B)))
    k = lane_codegen.lane_kernels((S, Q, L, jac_dst), ncode, B)
    ref, got = np.empty((n, B)), np.empty((n, B))
    lockstep.rhs_block(X, U, C, S, ncode, ref, *np.empty((4, B)))
    k.rhs(X, U, *C, got)
    np.testing.assert_array_equal(got, ref)
    nnz = L[2].shape[0]
    jref, jgot = np.empty((nnz, B)), np.full((nnz, B), np.nan)
    m_max = int(np.diff(S[0]).max(initial=1))
    lockstep.jac_block(X, C, S, ncode, jac_dst, jref, np.empty((m_max, B)), np.empty((m_max, B)), *np.empty((3, B)))
    k.jac(X, *C, jgot)
    np.testing.assert_array_equal(jgot, jref)
    dtg = np.array([1e-3, 0.1, 1.0, 10.0, 1e3, 1e5])
    a_ref, ok_ref = np.empty((nnz, B)), np.ones(B, bool)
    lockstep.lu_block(jref, dtg, L, a_ref, np.empty(B), np.empty(B), ok_ref)
    a_got, ok_got = np.full((nnz, B), np.nan), np.zeros(B, bool)
    k.lu(jref, dtg, a_got, np.empty(B), ok_got)
    np.testing.assert_array_equal(a_got, a_ref)
    np.testing.assert_array_equal(ok_got, ok_ref)
    b_ref = np.ascontiguousarray(rng.normal(size=(n, B)))
    b_got = b_ref.copy()
    lockstep.solve_block(a_ref, L, b_ref, np.empty_like(b_ref))
    k.solve(a_ref, b_got)
    np.testing.assert_array_equal(b_got, b_ref)


def test_batches_on_generated_kernels_equal_interpreted_ones_for_any_thread_count():
    cm = _no_threshold_network()
    rng = np.random.default_rng(6)
    n = 2 * LOCKSTEP_LANES + 11
    table = {"k_tnf": 2.0 * rng.lognormal(0, 0.3, n), "IL10": rng.uniform(1, 8, n), "lps_dose.amount": rng.uniform(1, 6, n)}
    kw = dict(n_points=49, method="lockstep")
    ref = simulate_batch(cm, table, 48.0, threads=1, kernels="interpreted", **kw)
    one = simulate_batch(cm, table, 48.0, threads=1, kernels="generated", **kw)
    two = simulate_batch(cm, table, 48.0, threads=2, kernels="generated", **kw)
    assert ref.attrs["lockstep_kernels"] == "interpreted" and one.attrs["lockstep_kernels"] == "generated"
    np.testing.assert_array_equal(one.state.values, ref.state.values)
    np.testing.assert_array_equal(two.state.values, ref.state.values)
    np.testing.assert_array_equal(one.steps.values, ref.steps.values)
    # once built, "auto" takes them for any batch with a chunk of GENERATED_LANES runs
    assert simulate_batch(cm, table, 48.0, threads=1, **kw).attrs["lockstep_kernels"] == "generated"


def test_a_run_on_generated_kernels_does_not_depend_on_the_lane_count():
    """GENERATED_LANES is fewer than the interpreted kernels' lanes (cache fit): every run must come out bit for bit as
    on the interpreted kernels' LOCKSTEP_LANES, whatever the generated lane count and the runs beside it."""
    assert GENERATED_LANES < LOCKSTEP_LANES
    cm = _no_threshold_network()
    rng = np.random.default_rng(8)
    n = GENERATED_LANES + 5  # one chunk: a full generated block, then the hand-over to the interpreted kernels
    table = {"k_tnf": 2.0 * rng.lognormal(0, 0.3, n), "IL10": rng.uniform(1, 8, n), "lps_dose.amount": rng.uniform(1, 6, n)}
    kw = dict(n_points=49, method="lockstep", threads=1)
    ref = simulate_batch(cm, table, 48.0, kernels="interpreted", **kw)
    gen = simulate_batch(cm, table, 48.0, kernels="generated", **kw)
    assert gen.attrs["lockstep_kernels"] == "generated"
    np.testing.assert_array_equal(gen.state.values, ref.state.values)
    np.testing.assert_array_equal(gen.steps.values, ref.steps.values)
    S, Q, L, jac_dst = rodas.model_arrays(cm)
    arr = {k: v[:8] for k, v in run_arrays(cm, table).items()}
    ncode = lockstep.hill_codes(arr["P"], Q[4])
    t = ref.time.values
    eight = np.full((8, t.size, cm.n_species), np.nan), np.zeros(8, np.int64), np.zeros((8, rodas.N_INFO))
    lockstep.solve_lanes(arr["X0"], arr["P"], t, arr["bolus_time"], cm.bolus_species, arr["bolus_amount"], arr["inf_start"],
                         arr["inf_end"], cm.inf_species, arr["inf_rate"], (S, Q, L, jac_dst), ncode, 1e-6,
                         np.full(cm.n_species, 1e-9), DEFAULT_MAX_STEPS, np.inf, 8, np.arange(8), *eight,
                         kernels=lane_codegen.lane_kernels((S, Q, L, jac_dst), ncode, 8))
    np.testing.assert_array_equal(eight[0], ref.state.values[:8])


def test_generated_code_uses_only_its_own_names_and_numbers():
    import re

    cm = _no_threshold_network()
    S, _, L, jac_dst = rodas.model_arrays(cm)
    codes = np.zeros(len(cm.f_kind), np.int64)
    body = (lane_codegen.rhs_source(S, codes, 8) + lane_codegen.jac_source(S, codes, jac_dst, 8)
            + lane_codegen.solve_source(L, 8))
    fixed = {"for", "in", "range", "if", "else", "q", "v", "den", "g", "inv", "dh", "X", "kr", "fK", "fn", "fb", "fKn", "out",
             "_pow_code", "_powm1", "b", "a", "e"}
    names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", "\n".join(body)))
    single = r"(x|a|b)[0-9]+_[0-9]+|(xq|xn|fv|dv)[0-9]+"
    assert names and all(w in fixed or re.fullmatch(single, w) for w in names), names - fixed
    for fn in (lane_codegen.rhs_source(S, codes, 8), lane_codegen.jac_source(S, codes, jac_dst, 8),
               lane_codegen.solve_source(L, 8)):  # every row's local assigned once (numba compiles that faster)
        bound = re.findall(r"^ +((x|a|b)[0-9]+_[0-9]+) [-+*/]?= ", "\n".join(fn), re.M)
        assert bound and len(set(bound)) == len(bound)
    assert not {*cm.species, *cm.parameters} & (names - fixed)  # a model ID equal to a generator name is no leak


def test_unknown_kernels_choice_is_refused():
    with pytest.raises(ModelSpecError, match="kernels must be"):
        simulate_batch(T.decay(), {"k": np.linspace(0.1, 1.0, 8)}, 5.0, kernels="fast")
