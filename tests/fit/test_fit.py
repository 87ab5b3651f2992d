"""Multistart fits recover known parameters; profiles give CIs and name non-identifiable parameters; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from problems import TRUE, write_problem
from typer.testing import CliRunner

from cytonet.fit.objective import Objective
from cytonet.fit.optimize import REDRAWS, ObjectiveSettings, multistart, optimize_start
from cytonet.fit.problem import load_problem
from cytonet.fit.profile import THRESHOLD_95, profile_parameter


@pytest.mark.parametrize("method", ["ls", "fides", "fides-hybrid", "lbfgsb"])
def test_every_optimiser_recovers_the_true_parameters_from_exact_data(tmp_path: Path, method: str) -> None:
    path = write_problem(tmp_path, exact=True)
    obj = Objective(load_problem(path))
    res = optimize_start(obj, np.log10([0.6, 0.04, 1.0]), method=method, max_iter=300)
    assert res.status == "ok", res.message
    np.testing.assert_allclose(10 ** np.asarray(res.x), [TRUE["k1"], TRUE["k2"], TRUE["scale_b"]], rtol=1e-4)


def test_laplace_noise_with_estimated_sigma_and_a_prior_is_fitted_by_the_general_optimiser(tmp_path: Path) -> None:
    obj = Objective(load_problem(write_problem(tmp_path, noise="laplace", transform="log", estimate_sigma=True, prior=True, seed=4)))
    assert not obj.least_squares
    ms = multistart(ObjectiveSettings(str(tmp_path / "problem.yaml")), 4, seed=2, workers=1)
    assert ms.method == "fides" and ms.converged >= 2
    truth = np.log10([TRUE[k] for k in ("k1", "k2", "scale_b", "sigma_a", "sigma_b")])
    assert ms.best.objective <= obj(truth)  # the optimum is at least as good as the parameters that made the data
    np.testing.assert_allclose(10 ** np.asarray(ms.best.x)[:3], 10 ** truth[:3], rtol=0.25)
    start_f = [obj(np.asarray(s.x0)) for s in ms.starts]
    assert all(s.objective <= f + 1e-9 for s, f in zip(ms.starts, start_f))


def test_profile_cis_agree_with_the_fisher_information_on_a_nearly_linear_problem(tmp_path: Path) -> None:
    obj = Objective(load_problem(write_problem(tmp_path, seed=7)))
    best = optimize_start(obj, obj.problem.parameters.nominal_x(), method="ls")
    x = np.asarray(best.x)
    r, J = obj.residuals_and_jacobian(x)
    se = np.sqrt(np.diag(np.linalg.inv(J.T @ J)))  # Wald standard errors on the log10 scale
    for j in range(obj.n):
        p = profile_parameter(obj, x, best.objective, j, method="ls")
        assert p.identifiable
        half = 1.959964 * se[j]
        assert p.lower == pytest.approx(x[j] - half, rel=0, abs=0.15 * half)
        assert p.upper == pytest.approx(x[j] + half, rel=0, abs=0.15 * half)
        assert max(d for _, d in p.points) >= THRESHOLD_95


def test_profiles_name_the_parameters_the_data_cannot_identify(tmp_path: Path) -> None:
    path = write_problem(tmp_path, exact=True)
    obs = pd.read_csv(tmp_path / "observables.tsv", sep="\t")
    obs.loc[obs.observableId == "obs_b", "observableFormula"] = "observableParameter1_obs_b * gain * B"
    obs.to_csv(tmp_path / "observables.tsv", sep="\t", index=False)
    par = pd.read_csv(tmp_path / "parameters.tsv", sep="\t")
    par = pd.concat([par, pd.DataFrame([{"parameterId": "gain", "parameterScale": "log10", "lowerBound": 0.1, "upperBound": 10,
                                         "nominalValue": 1.0, "estimate": 1}])])
    par.to_csv(tmp_path / "parameters.tsv", sep="\t", index=False)
    res = CliRunner().invoke(_app(), ["fit", str(path), "--starts", "2", "--seed", "3", "--workers", "1", "--profile",
                                      "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    # only scale_b * gain = 2 is seen: gain in [0.1, 10] is matched by scale_b anywhere; scale_b only from 0.2 to 20
    assert summary["non_identifiable"] == ["gain"]
    table = pd.read_csv(tmp_path / "out" / "parameters.tsv", sep="\t").set_index("parameterId")
    assert table.loc["k1", "identifiable"] == "yes" and table.loc["gain", "identifiable"] == "no"
    assert table.loc["scale_b", "ci95Lower"] < 0.25 and table.loc["scale_b", "ci95Upper"] > 15
    assert table.loc["k1", "ci95Lower"] < TRUE["k1"] < table.loc["k1", "ci95Upper"]


def _app():  # noqa: ANN202
    from cytonet.cli import app

    return app


def test_cli_nominal_writes_objective_and_petab_simulation_table(tmp_path: Path) -> None:
    path = write_problem(tmp_path, preeq=True)
    res = CliRunner().invoke(_app(), ["fit", str(path), "--nominal", "--out", str(tmp_path / "nom")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "nom" / "objective.json").read_text())
    obj = Objective(load_problem(path))
    ev = obj.evaluate(obj.problem.parameters.nominal_x()[None, :])
    assert data["llh"] == pytest.approx(ev.llh[0]) and data["chi2"] == pytest.approx(ev.chi2[0])
    sim = pd.read_csv(tmp_path / "nom" / "simulations.tsv", sep="\t")
    meas = pd.read_csv(tmp_path / "measurements.tsv", sep="\t")
    assert list(sim.columns) == [("simulation" if c == "measurement" else c) for c in meas.columns]
    from petab.v1 import calculate_llh

    assert calculate_llh(obj.problem.measurements, sim, obj.problem.observables, _ptable(obj)) == pytest.approx(data["llh"], rel=1e-9)


def _ptable(obj: Objective) -> pd.DataFrame:
    pt = obj.problem.parameters
    return pd.DataFrame({"parameterId": pt.ids, "nominalValue": [float(v) for v in pt.nominal], "parameterScale": list(pt.scales),
                         "estimate": pt.estimate.astype(int)}).set_index("parameterId")


def test_cli_multistart_writes_every_output_and_parallel_equals_serial(tmp_path: Path) -> None:
    path = write_problem(tmp_path)
    out = tmp_path / "fit"
    res = CliRunner().invoke(_app(), ["fit", str(path), "--starts", "4", "--seed", "5", "--workers", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("summary.json", "parameters.tsv", "starts.tsv", "starts.json", "objective.json", "simulations.tsv",
                 "waterfall.png", "fit_obs_a.png", "fit_obs_b.png", "report.html"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["starts"] == 4 and 1 <= summary["converged"] <= 4 and summary["best_llh"] >= summary["nominal_llh"]
    est = pd.read_csv(out / "parameters.tsv", sep="\t").set_index("parameterId")
    assert est.loc["k1", "nominalValue"] == pytest.approx(10 ** summary["parameters"]["k1"])
    serial = multistart(ObjectiveSettings(str(path)), 4, seed=5, workers=1)
    assert [s.objective for s in serial.starts] == pytest.approx([s["objective"] for s in json.loads((out / "starts.json").read_text())],
                                                                 rel=1e-9)


def test_failed_starts_are_recorded_and_the_others_go_on(tmp_path: Path) -> None:
    path = write_problem(tmp_path)
    obj = Objective(load_problem(path))
    good = obj.problem.parameters.nominal_x()
    bad = np.full_like(good, np.nan)
    ms = multistart(ObjectiveSettings(str(path)), 2, workers=1, x0=np.vstack([bad, good]))
    assert [s.status for s in ms.starts] == ["failed", "ok"] and ms.failed == 1 and ms.best.start == 1
    assert "non-finite" in ms.starts[0].message
    starved = multistart(ObjectiveSettings(str(path), max_steps=2), 2, seed=1, workers=1)  # the integrator gets 2 steps
    assert [s.status for s in starved.starts] == ["failed", "failed"]
    assert all("integration failed" in s.message for s in starved.starts)
    assert [s.redraws for s in starved.starts] == [REDRAWS, REDRAWS]  # sampled starts are redrawn, given ones are not
    assert ms.starts[0].redraws == 0


def test_starts_on_a_dask_cluster_match_the_serial_ones(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    path = write_problem(tmp_path, exact=True)
    s = ObjectiveSettings(str(path))
    a = multistart(s, 2, seed=9, workers=1)
    b = multistart(s, 2, seed=9, workers=2, dask="local")
    assert [r.objective for r in b.starts] == pytest.approx([r.objective for r in a.starts], rel=1e-9)


def test_fisher_information_is_the_residual_gauss_newton_matrix_plus_the_noise_term(tmp_path: Path) -> None:
    """Normal noise. Mean block: J^T J of the weighted residuals of the same problem with sigma fixed at the same values;
    sigma on a log10 scale: d sigma / d x = sigma ln 10, so its entry is 2 (ln 10)^2 per measurement, and no cross term."""
    fixed = Objective(load_problem(write_problem(tmp_path / "fixed", expressions=True)))
    free = Objective(load_problem(write_problem(tmp_path / "free", estimate_sigma=True, expressions=True)))
    assert fixed.gradient_method == free.gradient_method == "forward sensitivities"
    x = np.log10([0.25, 0.1, 1.5])
    xs = np.concatenate([x, np.log10([TRUE["sigma_a"], TRUE["sigma_b"]])])
    _, J = fixed.residuals_and_jacobian(x)
    ev, h = fixed.derivatives(x)
    np.testing.assert_allclose(fixed.fisher(x, ev, h), J.T @ J, rtol=1e-9)
    ev, h = free.derivatives(xs)
    I = free.fisher(xs, ev, h)
    np.testing.assert_allclose(I[:3, :3], J.T @ J, rtol=1e-7)
    per_sigma = [sum(f.rows.size for f in free.layout.noise_formulas if f.observable == o) for o in ("obs_a", "obs_b")]
    assert per_sigma == [18, 18]  # two experiments, nine times each
    np.testing.assert_allclose(np.diag(I)[3:], 2.0 * np.log(10) ** 2 * np.asarray(per_sigma), rtol=1e-8)
    np.testing.assert_allclose(I[:3, 3:], 0.0, atol=1e-9 * np.abs(I).max())


def test_the_hybrid_takes_its_first_step_on_the_fisher_information_not_the_identity(tmp_path: Path) -> None:
    """fides.HybridFixed starts from the identity unless told otherwise; on Fujita_SciSignal2010 (seed 0, start 0) that
    first step jumped into the region where every observable is 0 (llh -10011.50, |g| 5e-7) and the start stopped
    on its gradient criterion, where the Fisher information's step went on to llh 45.82. Until it switches, the hybrid
    takes the same steps as fides on the Fisher information alone."""
    obj = Objective(load_problem(write_problem(tmp_path, seed=7)))
    x0 = np.log10([2.0, 0.01, 0.3])
    for iterations in (1, 3):
        fim = optimize_start(obj, x0, method="fides", max_iter=iterations)
        hybrid = optimize_start(obj, x0, method="fides-hybrid", max_iter=iterations)
        assert hybrid.x == pytest.approx(fim.x, rel=1e-12) and hybrid.objective < obj(x0)


class _FailingBand(Objective):
    """The decay problem with every evaluation of log10 k1 inside (-0.45, -0.05) marked as an integration failure, as at
    parameters where the integrator runs out of steps: the fit's optimum (log10 0.3 = -0.52) lies beyond the band."""

    def evaluation(self, X, V, ds, P, ok, errors):  # noqa: ANN001, ANN201 - Objective.evaluation's signature
        band = (X[:, 0] > -0.45) & (X[:, 0] < -0.05)
        errors = [("integration failed (injected)" if b else e) for b, e in zip(band, errors)]
        return super().evaluation(X, V, ds, P, ok & ~band, errors)


def test_a_failed_evaluation_is_never_a_finite_objective_or_a_zero_gradient(tmp_path: Path) -> None:
    from cytonet.fit.optimize import StartStopped, _Counted

    obj = Objective(load_problem(write_problem(tmp_path)), max_steps=2)  # every integration fails
    lb, ub = obj.bounds
    c = _Counted(obj, lb, ub)
    x = obj.problem.parameters.nominal_x()
    f, g = c.value_grad(x)
    assert f == np.inf and np.all(np.isnan(g))
    f, g, _ = c.value_grad_fisher(x)
    assert f == np.inf and np.all(np.isnan(g))
    assert np.all(np.isnan(c.residuals(x)))
    with pytest.raises(StartStopped, match="Jacobian not finite"):
        c.jacobian(x)
    assert c.failures == 4 and not c.visited


@pytest.mark.parametrize("method", ["ls", "fides"])
def test_a_start_whose_trial_points_fail_counts_them_and_ends_at_a_point_that_simulates(tmp_path: Path, method: str) -> None:
    obj = _FailingBand(load_problem(write_problem(tmp_path, exact=True)))
    res = optimize_start(obj, np.log10([2.0, 0.04, 1.0]), method=method, max_iter=300)
    assert res.status == "ok" and res.failed_evaluations >= 1, (res.exit, res.message)
    assert not -0.45 < res.x[0] < -0.05
    assert res.objective == pytest.approx(obj(np.asarray(res.x)), rel=1e-12) and np.isfinite(res.gradient_norm)


def test_a_spent_time_budget_ends_every_start_at_its_best_point_and_is_counted(tmp_path: Path) -> None:
    path = write_problem(tmp_path)
    ms = multistart(ObjectiveSettings(str(path)), 2, seed=3, workers=1, max_seconds=0.0)
    assert [s.status for s in ms.starts] == ["ok", "ok"] and ms.out_of_time == 2
    assert all(s.exit.startswith("TIME_BUDGET") and s.x == s.x0 and np.isfinite(s.llh) for s in ms.starts)
