"""PEtab benchmark problems with real data: the nominal log-likelihood against its published value."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("cytonet.model.sbml_import", reason="needs cytonet's SBML importer")
ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "petab-benchmark"
if not (ROOT / "README.md").is_file():
    pytest.skip("../shared/petab-benchmark is not present", allow_module_level=True)

PUBLISHED = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (\w+) \| (-?[0-9.]+)", (ROOT / "README.md").read_text(), re.M)}
#: problems without a published value whose collection ships a simulation table at the nominal parameters
SHIPPED_SIMULATIONS = ("Bertozzi_PNAS2020", "Laske_PLOSComputBiol2019", "Rahman_MBS2016")


def _nominal(name: str):  # noqa: ANN202
    from cytonet.fit.objective import Objective
    from cytonet.fit.problem import load_problem

    problem = load_problem(next((ROOT / name).glob("*.yaml")))
    obj = Objective(problem)
    return obj, obj.evaluate(problem.parameters.nominal_x()[None, :])


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_nominal_llh_reproduces_the_published_value(name: str) -> None:
    _, ev = _nominal(name)
    assert ev.ok[0], ev.error[0]
    assert abs(ev.llh[0] - PUBLISHED[name]) <= 1e-3


@pytest.mark.parametrize("name", SHIPPED_SIMULATIONS)
def test_nominal_simulations_match_the_shipped_simulation_table(name: str) -> None:
    from cytonet.fit.results import simulation_table

    obj, ev = _nominal(name)
    ref = pd.read_csv(next((ROOT / name).glob("simulat*.tsv")), sep="\t")
    sim = simulation_table(obj, ev)["simulation"].to_numpy()
    np.testing.assert_allclose(sim, ref["simulation"].to_numpy(), rtol=1e-5, atol=1e-8)


def _problem_names() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir() if p.is_dir() and any(p.glob("*.yaml")))


def _reference_gradient(problem, x: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Central differences at rtol 1e-11 with steps 2e-4 and 1e-4, Richardson-extrapolated: truncation O(h^4)
    (the single step 1e-5 still left 1e-4 relative on the oscillating Borghans model), integration error ~1e-7."""
    from cytonet.fit.objective import Objective

    g2, g1 = (Objective(problem, rtol=1e-11, atol=1e-14, fd_step=h, gradient="fd").value_and_gradient(x)[1] for h in (2e-4, 1e-4))
    return (4 * g1 - g2) / 3


@pytest.mark.parametrize("name", _problem_names())
def test_gradient_agrees_with_central_differences_at_tight_tolerances(name: str) -> None:
    """Forward sensitivities (where the problem allows them) within 1e-5 of the extrapolated differences; the
    central differences the objective falls back to (pre-equilibration) within 2e-3 (their step 1e-4 at rtol 1e-8)."""
    from cytonet.fit.objective import Objective
    from cytonet.fit.problem import load_problem

    problem = load_problem(next((ROOT / name).glob("*.yaml")))
    lb, ub = problem.parameters.bounds()
    x = np.clip(problem.parameters.nominal_x() + 0.05, lb, ub)  # off the optimum, where the gradient is not ~0
    obj = Objective(problem)
    _, g = obj.value_and_gradient(x)
    g_ref = _reference_gradient(problem, x)
    pre = any(p is not None for p, _ in obj.layout.runs)
    assert obj.gradient_method == ("central differences (the problem pre-equilibrates, and steady-state sensitivities "
                                   "are not computed)" if pre else "forward sensitivities")
    assert np.linalg.norm(g - g_ref) <= (2e-3 if pre else 1e-5) * np.linalg.norm(g_ref)
