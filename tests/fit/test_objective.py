"""The PEtab objective against petab's own llh/chi2 on the analytic solution, and its gradient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from petab.v1 import calculate_chi2, calculate_llh

from cytonet.fit.objective import Objective
from cytonet.fit.problem import PetabError, load_problem

from problems import analytic, write_problem

VARIANTS = {
    "lin-normal": {},
    "log10-normal": {"transform": "log10"},
    "log-laplace": {"transform": "log", "noise": "laplace"},
    "preeq": {"preeq": True},
    "sigma-prior": {"estimate_sigma": True, "prior": True},
}


def _analytic_simulations(problem, values: dict[str, float]) -> pd.DataFrame:
    """The measurement table with the analytic model's simulation in place of each measurement."""
    md = problem.measurements.copy()
    sims = []
    for _, r in md.iterrows():
        pre = r.get("preequilibrationConditionId", "")
        cond = problem.conditions.loc[r["simulationConditionId"]]
        if isinstance(pre, str) and pre:
            k0 = float(problem.conditions.loc[pre, "k0"])
            a0, b0 = k0 / values["k1"], k0 / values["k2"]
        else:
            a0, b0 = float(cond["A"]), float(cond["B"])
        a, b = analytic(np.array([r["time"]]), values["k1"], values["k2"], a0, b0)
        sims.append(float(a[0]) if r["observableId"] == "obs_a" else values["scale_b"] * float(b[0]))
    return md.rename(columns={"measurement": "simulation"}).assign(simulation=sims)


def _petab_llh(problem, x: np.ndarray) -> tuple[float, float]:
    pt = problem.parameters
    values = dict(zip(pt.ids, pt.values(x)))
    sim = _analytic_simulations(problem, values)
    pdf = pd.DataFrame({"parameterId": pt.ids, "nominalValue": [float(values[p]) for p in pt.ids],
                        "parameterScale": list(pt.scales), "estimate": pt.estimate.astype(int)}).set_index("parameterId")
    args = (problem.measurements, sim, problem.observables, pdf)
    return calculate_llh(*args), calculate_chi2(*args)


@pytest.mark.parametrize("variant", VARIANTS)
def test_llh_and_chi2_match_petab_on_the_analytic_solution(tmp_path: Path, variant: str) -> None:
    problem = load_problem(write_problem(tmp_path, **VARIANTS[variant]))
    obj = Objective(problem)
    rng = np.random.default_rng(3)
    x = problem.parameters.nominal_x()
    X = np.vstack([x, x + rng.normal(0, 0.1, x.size)])
    ev = obj.evaluate(X)
    assert ev.ok.all()
    for i in range(2):
        llh, chi2 = _petab_llh(problem, X[i])
        assert ev.llh[i] == pytest.approx(llh, rel=1e-6, abs=1e-6)
        assert ev.chi2[i] == pytest.approx(chi2, rel=1e-6, abs=1e-6)
    if variant == "sigma-prior":  # a normal prior on k1 (lin space, N(0.3, 0.1))
        from scipy.stats import norm

        k1 = 10 ** X[:, 0]
        assert ev.prior == pytest.approx(-norm.logpdf(k1, 0.3, 0.1), rel=1e-9)
        assert not obj.least_squares
    else:
        assert obj.least_squares == (variant != "log-laplace")


def test_pre_equilibration_slower_than_the_longest_horizon_is_finished_by_newton(tmp_path: Path) -> None:
    """k2 = 2e-6/h: B relaxes with a time constant of 5e5 h, beyond the 1e5 h the engine integrates, so only
    Newton's method on the analytic Jacobian reaches B = k0 / k2; the llh must still be petab's on that state."""
    problem = load_problem(write_problem(tmp_path, preeq=True))
    x = problem.parameters.nominal_x()
    x[problem.parameters.ids.index("k2")] = np.log10(2e-6)
    ev = Objective(problem).evaluate(x[None])
    assert ev.ok.all(), ev.error
    llh, chi2 = _petab_llh(problem, x)
    assert ev.llh[0] == pytest.approx(llh, rel=1e-6)
    assert ev.chi2[0] == pytest.approx(chi2, rel=1e-6)


GRADIENT_CASES = [(v, False) for v in ("lin-normal", "log10-normal", "preeq", "sigma-prior")]
GRADIENT_CASES += [(v, True) for v in ("lin-normal", "log10-normal", "log-laplace", "preeq", "sigma-prior")]


@pytest.mark.parametrize(("variant", "expressions"), GRADIENT_CASES)
def test_gradient_matches_central_differences_of_the_analytic_objective(tmp_path: Path, variant: str,
                                                                        expressions: bool) -> None:
    """Native specs: central differences through the engine; expression rates: forward sensitivities. The
    reference differentiates petab's llh of the analytic solution (h = 1e-6: truncation ~1e-12, rounding ~1e-10
    relative), so the 1e-4 bound measures the engine's integration error (rtol 1e-8) and the FD step 1e-4."""
    problem = load_problem(write_problem(tmp_path, expressions=expressions, **VARIANTS[variant]))
    obj = Objective(problem)
    assert obj.gradient_method.startswith("forward sensitivities" if expressions else "central differences")
    prior = {j: p for j, p in obj.priors}
    x = problem.parameters.nominal_x() + 0.05

    def f(z: np.ndarray) -> float:
        extra = sum(float(p.neglogprior(z[j], x_scaled=True)) for j, p in prior.items())
        return -_petab_llh(problem, z)[0] + extra

    h = 1e-6
    g_ref = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    fx, g = obj.value_and_gradient(x)
    assert fx == pytest.approx(f(x), rel=1e-6, abs=1e-5)
    np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-4 * np.abs(g_ref).max())


def test_residual_jacobian_matches_the_gradient_of_half_chi2(tmp_path: Path) -> None:
    problem = load_problem(write_problem(tmp_path))
    obj = Objective(problem)
    x = problem.parameters.nominal_x() - 0.1
    r, J = obj.residuals_and_jacobian(x)
    _, g = obj.value_and_gradient(x)
    np.testing.assert_allclose(J.T @ r, g, rtol=1e-5, atol=1e-8)  # sigma fixed: d(-llh)/dx = J^T r


def test_a_failed_vector_gets_infinite_objective_without_spoiling_the_others(tmp_path: Path) -> None:
    problem = load_problem(write_problem(tmp_path, transform="log10"))
    obj = Objective(problem)
    x = problem.parameters.nominal_x()
    bad = x.copy()
    bad[2] = -np.inf  # scale_b = 0: log10 of a zero simulation
    ev = obj.evaluate(np.vstack([x, bad]))
    assert ev.ok.tolist() == [True, False]
    assert np.isfinite(ev.objective[0]) and ev.objective[1] == np.inf
    assert "non-finite likelihood" in ev.error[1]


def _edit(path: Path, table: str, fn) -> None:  # noqa: ANN001
    f = path.parent / f"{table}.tsv"
    df = pd.read_csv(f, sep="\t")
    fn(df).to_csv(f, sep="\t", index=False)


@pytest.mark.parametrize(("table", "edit", "message"), [
    ("observables", lambda d: d.assign(observableFormula=["__import__('os').system('true')", "B"]), "not allowed"),
    ("observables", lambda d: d.assign(observableFormula=["Aa", "B"]), "did you mean A"),
    ("measurements", lambda d: d.assign(simulationConditionId="tow"), "did you mean two"),
    ("measurements", lambda d: d.assign(noiseParameters="sigma_aa"), "did you mean sigma_a"),
    ("parameters", lambda d: d.assign(parameterScale="ln"), "parameterScale 'ln'"),
    ("conditions", lambda d: d.rename(columns={"k0": "k00"}), "did you mean k0"),
    ("measurements", lambda d: d.assign(time=np.inf), "steady-state measurements"),
])
def test_bad_problems_fail_with_one_clear_line(tmp_path: Path, table: str, edit, message: str) -> None:  # noqa: ANN001
    path = write_problem(tmp_path)
    _edit(path, table, edit)
    with pytest.raises(PetabError, match=message) as info:
        load_problem(path)
    assert "\n" not in str(info.value)
