"""The PEtab tables of the effector T-cell IL-10 fit (benchmarks/tcell_il10.py) describe the shipped hlh scenario and
Tang et al. 2008's number: conditions, measurement and the variant's resting IL-10."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from cytonet.model.build import reference_network
from cytonet.scenarios import load_scenario, scenario_model

from clinical_data import summary

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "inflammatory_syndromes"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_the_conditions_are_the_hlh_scenario_and_the_healthy_rest() -> None:
    conditions = {r["conditionId"]: r for r in _rows(DATA / "conditions.tsv")}
    sc = load_scenario("hlh")
    (bolus,) = sc.events
    hlh = conditions["hlh"]
    assert {k: float(hlh[k]) for k in sc.parameters} == sc.parameters
    assert float(hlh[bolus.target]) == bolus.amount and bolus.time == 0
    assert scenario_model(sc)[1][bolus.target] == 0.0  # the bolus lands on an empty compartment, so setting it adds it
    net = {p.id: p.value for p in reference_network().parameters}
    assert {k: float(conditions["healthy"][k]) for k in sc.parameters} == {k: net[k] for k in sc.parameters}
    assert float(conditions["healthy"][bolus.target]) == 0.0


def test_the_fitted_number_is_tang_2008s_il10_median() -> None:
    (m,) = _rows(DATA / "tcell_il10" / "measurements.tsv")
    assert m["simulationConditionId"] == "hlh" and m["preequilibrationConditionId"] == "healthy"
    assert float(m["measurement"]) == summary("IL10", "hlh", "median").value
    assert float(m["noiseParameters"]) == pytest.approx(0.3 * float(m["measurement"]), rel=1e-3)


def test_the_variant_keeps_the_resting_il10() -> None:
    """IL-10 of effector T cells is linear in the effector pools, which are near zero at rest."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from tcell_il10 import tcell_il10_network

    shipped, variant = scenario_model("healthy")[1], scenario_model("healthy", None, tcell_il10_network(373.4))[1]
    assert variant["IL10"] == pytest.approx(shipped["IL10"], rel=1e-3)
