"""The PEtab test suite (petabtests): every SBML case's simulations, chi2 and llh within the case's tolerances."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

pytest.importorskip("cytonet.model.sbml_import", reason="needs cytonet's SBML importer")
_spec = importlib.util.find_spec("petabtests")
CASES = Path(_spec.submodule_search_locations[0]) / "cases" if _spec else None
if CASES is None or not CASES.is_dir():
    pytest.skip("petabtests (the PEtab test suite cases) is not installed", allow_module_level=True)

def _cases() -> list:
    out = []
    for version in ("v1.0.0", "v2.0.0"):
        for case in sorted((CASES / version / "sbml").glob("0*")):
            out.append(pytest.param(case, id=f"{version}-{case.name}"))
    return out


@pytest.mark.parametrize("case", _cases())
def test_petab_suite_case(case: Path) -> None:
    from cytonet.fit.objective import Objective
    from cytonet.fit.problem import load_problem
    from cytonet.fit.results import simulation_table

    solution = yaml.safe_load((case / f"_{case.name}_solution.yaml").read_text())
    problem = load_problem(case / f"_{case.name}.yaml")
    obj = Objective(problem)
    ev = obj.evaluate(problem.parameters.nominal_x()[None, :])
    sim = simulation_table(obj, ev)
    ref = pd.concat([pd.read_csv(case / f, sep="\t") for f in solution["simulation_files"]])
    assert len(sim) == len(ref)
    assert np.max(np.abs(sim["simulation"].to_numpy() - ref["simulation"].to_numpy())) <= solution["tol_simulations"]
    assert ev.chi2[0] == pytest.approx(solution["chi2"], abs=solution["tol_chi2"])
    assert ev.llh[0] == pytest.approx(solution["llh"], abs=solution["tol_llh"])


@pytest.mark.parametrize("case", _cases())
def test_petab_suite_gradient_agrees_with_central_differences(case: Path) -> None:
    """The objective's gradient (forward sensitivities where the case allows them, else central differences, whose
    reason is stated) against Richardson-extrapolated central differences at rtol 1e-11 (error ~1e-7)."""
    from cytonet.fit.objective import Objective
    from cytonet.fit.problem import load_problem

    problem = load_problem(case / f"_{case.name}.yaml")
    obj = Objective(problem)
    if obj.n == 0:
        pytest.skip("no estimated parameter")
    lb, ub = obj.bounds
    x = np.clip(problem.parameters.nominal_x() + 0.05, lb, ub)
    _, g = obj.value_and_gradient(x)
    g2, g1 = (Objective(problem, rtol=1e-11, atol=1e-14, fd_step=h, gradient="fd").value_and_gradient(x)[1] for h in (2e-4, 1e-4))
    g_ref = (4 * g1 - g2) / 3
    sens = obj.gradient_method == "forward sensitivities"
    assert sens or obj.gradient_method.startswith("central differences (")
    assert np.linalg.norm(g - g_ref) <= (1e-5 if sens else 2e-3) * np.linalg.norm(g_ref) + 1e-9
