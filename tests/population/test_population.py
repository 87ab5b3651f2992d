"""Virtual populations: sampling, rest states, vectorised outcomes, the run store, resume and Dask."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from cytonet.analysis import clinical, storm
from cytonet.errors import ScenarioError
from cytonet.store import runs as store
from cytonet.analysis.outcomes import outcomes, series_of
from cytonet.population.rest import REST_FAILED, rest_states
from cytonet.population.runner import PopulationConfig, Prepared, prepare, run_population
from cytonet.population.sampling import Method, Variation, VariationFile, load_variation, resolve, sample
from cytonet.population.summary import wilson

SCENARIO = "lps-endotoxemia"


def _cfg(**kw: object) -> PopulationConfig:
    base = {"scenario": SCENARIO, "n": 30, "variation": load_variation(), "batch_size": 10, "seed": 7}
    return PopulationConfig(**{**base, **kw})  # type: ignore[arg-type]


def _patients(out: Path) -> dict:
    return store.connect(out).execute("SELECT * FROM patients ORDER BY arm, patient").fetchnumpy()


# ------------------------------------------------------------------------------------- sampling
def test_lognormal_mean_and_cv_match_the_file() -> None:
    var = Variation(parameters=["x"], distribution="lognormal", cv=0.3, assumption="test")
    vals = [("x", 5.0, var)]
    x = sample(vals, Method.RANDOM, 0, 40_000, 1, 0)["x"]
    assert abs(x.mean() / 5.0 - 1) < 0.01 and abs(x.std() / x.mean() - 0.3) < 0.01


def test_truncnormal_stays_in_bounds_and_uniform_spans_them() -> None:
    tn = Variation(parameters=["x"], distribution="truncnormal", cv=0.5, low=0.8, high=1.1, assumption="test")
    un = Variation(parameters=["y"], distribution="uniform", low=0.5, high=2.0, assumption="test")
    s = sample([("x", 2.0, tn), ("y", 1.0, un)], Method.LHS, 0, 2000, 3, 0)
    assert s["x"].min() >= 1.6 and s["x"].max() <= 2.2
    # a Latin hypercube puts exactly one draw in each of the 2000 equal strata
    strata = np.floor((s["y"] - 0.5) / 1.5 * 2000).astype(int)
    assert sorted(strata.tolist()) == list(range(2000))


def test_sobol_partitions_continue_one_sequence() -> None:
    vf = load_variation()
    from cytonet.model.build import reference_network

    varied = resolve(vf, reference_network())
    whole = sample(varied, Method.SOBOL, 0, 16, 5, 0)
    parts = [sample(varied, Method.SOBOL, a, 4, 5, k) for k, a in enumerate(range(0, 16, 4))]
    for pid in ("s_IL6_basal", "K_IL6_stat3"):
        np.testing.assert_array_equal(whole[pid], np.concatenate([p[pid] for p in parts]))


def test_grouped_sampling_gives_each_parameter_its_own_quantiles() -> None:
    # parameters of one group get their factors from one quantile call: each must equal its own column's call
    from cytonet.population.sampling import uniform_design

    groups = [Variation(parameters=["a"], distribution="lognormal", cv=0.3, assumption="test"),
              Variation(parameters=["b"], distribution="truncnormal", cv=0.5, low=0.5, high=1.7, assumption="test"),
              Variation(parameters=["c"], distribution="uniform", low=0.5, high=2.0, assumption="test")]
    varied = [(f"p{i}", 1.0 + i, groups[i % 3]) for i in range(9)]
    for method in Method:
        got = sample(varied, method, 100, 300, 4, 2)
        u = uniform_design(method, len(varied), 100, 300, 4, 2)
        for j, (pid, nominal, var) in enumerate(varied):
            np.testing.assert_array_equal(got[pid], nominal * var.factors(u[:, j]))


def test_default_variation_states_a_reason_and_unknown_patterns_fail() -> None:
    vf = load_variation()
    assert all(v.assumption or v.refs for v in vf.variations)
    from cytonet.model.build import reference_network

    bad = VariationFile(variations=[Variation(parameters=["k_NOPE_*"], distribution="lognormal", cv=0.2, assumption="t")])
    with pytest.raises(ScenarioError, match="k_NOPE_"):
        resolve(bad, reference_network())
    with pytest.raises(ValueError, match="assumption"):
        Variation(parameters=["x"], distribution="lognormal", cv=0.2)


# ----------------------------------------------------------------------------------- rest state
def test_newton_rest_state_equals_relaxation_then_newton() -> None:
    from cytonet.analysis.steady import steady_state

    prep = prepare(_cfg(scenario="sepsis-storm").to_json())
    vals = sample(prep.varied, Method.LHS, 0, 3, 11, 0)
    P = np.tile(prep.host.p, (3, 1))
    for pid, v in vals.items():
        P[:, prep.host.parameter_index(pid)] = v
    X, ok = rest_states(prep.host, P, prep.x_ref, 5000.0)
    assert ok.all()
    for i in range(3):
        ss = steady_state(prep.host, parameters={pid: v[i] for pid, v in vals.items()})
        # atol 1e-8: near-zero pools are known only to the solvers' residual tolerance (CD8 at rest, ~5e-8, differs by 1.5e-9)
        np.testing.assert_allclose(X[i], np.maximum(ss.x, 0), rtol=1e-5, atol=1e-8)


def _parameter_rows(prep: Prepared, m: int, seed: int) -> np.ndarray:
    """The host's parameter rows of ``m`` sampled patients (LHS, ``seed``)."""
    P = np.tile(prep.host.p, (m, 1))
    for pid, v in sample(prep.varied, Method.LHS, 0, m, seed, 0).items():
        P[:, prep.host.parameter_index(pid)] = v
    return P


def test_batched_newton_gives_each_patient_its_own_iterates() -> None:
    """Newton over many patients (one kernel block, re-blocked as patients converge, backtracking only the
    patients that need it) ends, bit for bit, where Newton on each patient alone ends, converged or not."""
    from cytonet.population.rest import ZERO, _Kernels, newton

    prep = prepare(_cfg().to_json())
    m = 60
    P = _parameter_rows(prep, m, 3)
    x0 = np.where(np.abs(prep.x_ref) > ZERO, prep.x_ref, 0.0)
    k = _Kernels(prep.host, P)
    X, conv = newton(k, np.tile(x0, (m, 1)), np.arange(m))
    assert 0 < conv.sum() < m  # some patients converge, some do not (they are relaxed first in rest_states)
    for i in range(m):
        Xi, ci = newton(_Kernels(prep.host, P[i:i + 1]), x0[None, :], np.arange(1))
        assert ci[0] == conv[i]
        np.testing.assert_array_equal(Xi[0], X[i])


def test_rest_state_stability_verdicts_are_those_of_the_full_jacobians_eigenvalues() -> None:
    """The stability test (majorant certificate, eigenvalues of the strongly connected blocks where it cannot
    certify) against the eigenvalues of each patient's whole Jacobian over the non-zero species (scalar kernel)."""
    from cytonet.analysis.hurwitz import certified_hurwitz
    from cytonet.population.rest import ZERO, _healthy, _Kernels, coupled_blocks, newton

    prep = prepare(_cfg().to_json())
    m = 200
    P = _parameter_rows(prep, m, 5)
    free = np.abs(prep.x_ref) > ZERO
    k = _Kernels(prep.host, P)
    X, conv = newton(k, np.tile(np.where(free, prep.x_ref, 0.0), (m, 1)), np.arange(m))
    blocks = coupled_blocks(prep.host, free)
    ok = _healthy(k, X, np.arange(m), conv, blocks)
    good = np.flatnonzero(conv)
    top = np.array([np.linalg.eigvals(prep.host.jacobian(X[i], P[i])[np.ix_(free, free)]).real.max() for i in good])
    assert good.size > 0.8 * m
    np.testing.assert_array_equal(ok[good], top < 0)
    big = max(blocks, key=len)
    assert certified_hurwitz(k.jac(X[good], good), big).mean() > 0.9  # the certificate, not the eigenvalues, decides most


# ------------------------------------------------------------------------------------- outcomes
def test_vectorised_outcomes_agree_with_single_run_classify_and_crs_grade() -> None:
    from cytonet.engine.batch import simulate_batch
    from cytonet.scenarios import scenario_model

    for name, scale in (("sepsis-storm", [0.05, 0.3, 1.0]), ("lps-endotoxemia", [0.3, 1.0, 4.0])):
        spec, rest = scenario_model(name)
        event = spec.events[0]
        table = {f"{event.id}.amount": np.array(scale) * event.amount, **{s: np.full(3, v) for s, v in rest.items()}}
        t_end = 168.0 if name == "sepsis-storm" else 48.0
        ds = simulate_batch(spec, table, t_end, n_points=int(t_end * 2) + 1)
        res = outcomes(ds["time"].values, series_of(ds))
        for i in range(3):
            one = ds.isel(patient=i)
            assert res["storm_class"][i] == str(storm.classify(one).label)
            assert res["crs_grade"][i] == clinical.max_crs_grade(one)
            assert res["peak_IL6"][i] == pytest.approx(float(one["state"].sel(species="IL6").max()))


def test_treated_outcomes_grade_crs_without_fever_from_the_dose_like_the_single_run() -> None:
    """Lee et al. 2019: after anti-cytokine therapy fever is not required; outcomes() and max_crs_grade agree."""
    from cytonet.engine.batch import simulate_batch
    from cytonet.scenarios import scenario_model
    from cytonet.therapy import Regimen, treat

    spec, rest = scenario_model("car-t-crs")
    treated = treat(spec, "tocilizumab", Regimen("8 mg/kg", route="iv", start="12h"))
    table = {"car_t_infusion.amount": np.array([0.25, 0.5]), **{s: np.full(2, v) for s, v in rest.items()}}
    ds = simulate_batch(treated, table, 240.0, n_points=481)
    res = outcomes(ds["time"].values, series_of(ds), therapy_from=12.0)
    for i in range(2):
        one = ds.isel(patient=i)
        assert res["crs_grade"][i] == clinical.max_crs_grade(one)


def test_wilson_interval_matches_the_closed_form() -> None:
    iv = wilson(8, 20)  # p = 0.4: Wilson 95% CI 0.2188-0.6134 (independently computed)
    assert iv.low == pytest.approx(0.21878, abs=1e-4) and iv.high == pytest.approx(0.61340, abs=1e-4)


# ---------------------------------------------------------------------------------- run store
def test_same_seed_same_results_and_other_seed_differs(tmp_path: Path) -> None:
    run_population(_cfg(trajectory_points=5), tmp_path / "a", show_progress=False)
    run_population(_cfg(trajectory_points=5), tmp_path / "b", show_progress=False)
    run_population(_cfg(seed=8), tmp_path / "c", show_progress=False)
    a, b, c = (_patients(tmp_path / d) for d in "abc")
    assert a["patient"].tolist() == list(range(30))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["s_IL6_basal"], c["s_IL6_basal"])
    traj = store.connect(tmp_path / "a").execute("SELECT count(*), count(DISTINCT patient) FROM trajectories").fetchone()
    assert traj == (150, 30)


def test_resume_refuses_another_configuration(tmp_path: Path) -> None:
    run_population(_cfg(n=10), tmp_path / "r", show_progress=False)
    again = run_population(_cfg(n=10), tmp_path / "r", show_progress=False)
    assert (again.computed, again.skipped) == (0, 1)
    with pytest.raises(store.RunStoreError, match="another configuration"):
        run_population(_cfg(n=10, seed=1), tmp_path / "r", show_progress=False)


def test_killed_run_resumes_to_exactly_n_rows(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "cytonet", "population", "--scenario", SCENARIO, "--n", "200", "--batch-size", "10",
           "--seed", "7", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        m = store.read_manifest(out) if (out / store.MANIFEST).exists() else None
        if m and len(m["completed"]) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"run ended before it could be killed: {proc.stderr.read().decode() if proc.stderr else ''}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    m = store.read_manifest(out)
    assert m is not None and not m["finished"] and 3 <= len(m["completed"]) < 20
    res = run_population(_cfg(n=200), out, show_progress=False)
    assert res.skipped == len(m["completed"]) and res.computed == 20 - res.skipped
    p = _patients(out)
    assert len(p["patient"]) == 200 and sorted(p["patient"].tolist()) == list(range(200))
    fresh = tmp_path / "fresh"
    run_population(_cfg(n=200), fresh, show_progress=False)
    q = _patients(fresh)
    for k in ("s_IL6_basal", "peak_IL6", "crs_grade", "storm"):
        np.testing.assert_array_equal(p[k], q[k])
    assert not list(out.glob("*/.part-*.tmp"))
    assert json.loads((out / store.MANIFEST).read_text())["finished"]


def test_dask_local_cluster_gives_the_single_process_results(tmp_path: Path) -> None:
    run_population(_cfg(n=40), tmp_path / "single", show_progress=False)
    run_population(_cfg(n=40), tmp_path / "dask", dask="local", workers=2, show_progress=False)
    a, b = _patients(tmp_path / "single"), _patients(tmp_path / "dask")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_partitions_on_two_threads_give_the_one_thread_results(tmp_path: Path) -> None:
    run_population(_cfg(n=40), tmp_path / "one", show_progress=False, threads=1)
    run_population(_cfg(n=40), tmp_path / "two", show_progress=False, threads=2)
    a, b = _patients(tmp_path / "one"), _patients(tmp_path / "two")
    assert len(a["patient"]) == 40
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_treated_arm_runs_on_the_same_patients_and_cli_reports_the_effect(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cytonet.cli import app

    out = tmp_path / "pair"
    r = CliRunner().invoke(app, ["population", "--scenario", SCENARIO, "--n", "20", "--batch-size", "10", "--drug", "infliximab",
                                 "--at", "0.5h", "--quiet", "--out", str(out)])
    assert r.exit_code == 0, r.output
    p = _patients(out)
    u, t = p["arm"] == "untreated", p["arm"] == "treated"
    np.testing.assert_array_equal(p["s_IL6_basal"][u], p["s_IL6_basal"][t])
    # a host without a healthy rest state is reported in both arms, with no outcomes (here 1 of 20, seed 0)
    rest = p["status"][u] != REST_FAILED
    np.testing.assert_array_equal(rest, p["status"][t] != REST_FAILED)
    assert rest.sum() >= 18 and np.isfinite(p["peak_TNF"][u][rest]).all()
    # anti-TNF half an hour after LPS never raises the TNF peak and lowers it wherever the peak comes after the dose
    # (the calibrated LPS core peaks TNF at about 1 h, the early end of the human 1-2 h, so a dose at 1 h comes too late)
    treated, untreated = p["peak_TNF"][t][rest], p["peak_TNF"][u][rest]
    assert np.all(treated <= untreated * (1 + 1e-6))
    assert np.sum(treated < 0.95 * untreated) >= 5
    r = CliRunner().invoke(app, ["runs", "summary", str(out)])
    assert r.exit_code == 0 and "storm risk difference" in r.output and (out / "summary.png").exists()
    r = CliRunner().invoke(app, ["runs", "query", str(out), "SELECT count(*) AS n FROM patients WHERE arm = 'treated'", "--csv"])
    assert r.exit_code == 0 and r.output.split() == ["n", "20"]
    assert pq.read_table(store.part_path(out, "patients", 0)).num_rows == 20


def test_plan_memory_is_per_process_and_covers_the_arrays_of_every_partition_in_flight() -> None:
    from cytonet.analysis.outcomes import NEEDED
    from cytonet.engine.batch import simulate_batch
    from cytonet.population.runner import PROCESS_BASE_BYTES, plan

    cfg = _cfg(n=100, batch_size=10)
    prep = prepare(cfg.to_json())
    n_species = len(prep.host.species)
    one, two, dask = (plan(cfg, n_species, threads=1), plan(cfg, n_species, threads=2),
                      plan(cfg, n_species, threads=2, dask="local"))
    assert (one.in_flight, two.in_flight, dask.in_flight) == (1, 2, 1)
    partition = (one.memory_gb * 2**30 - PROCESS_BASE_BYTES)
    assert two.memory_gb * 2**30 == pytest.approx(PROCESS_BASE_BYTES + 2 * partition)
    assert dask.memory_gb == one.memory_gb
    assert plan(_cfg(n=5, batch_size=10), n_species, threads=2).in_flight == 1  # one partition: one in flight
    # what a partition really holds: the dense states of the batch and the outcome series of each arm
    cm = prep.arms["untreated"]
    table = {s: np.full(cfg.batch_size, v) for s, v in zip(prep.host.species, prep.x_ref)}
    ds = simulate_batch(cm, table, float(prep.t[-1]), t_eval=prep.t, method="lockstep")
    held = ds["state"].values.nbytes + cfg.batch_size * prep.t.size * 8 * len(dict.fromkeys([*NEEDED, *prep.readouts]))
    assert partition >= held
