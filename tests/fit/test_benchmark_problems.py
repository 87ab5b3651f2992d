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
