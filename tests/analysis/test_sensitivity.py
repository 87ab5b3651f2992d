"""Sensitivity analysis against analytic sensitivities of small specs, and the CLI on a scenario."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cytonet.analysis.sensitivity import (
    Range,
    SensitivityError,
    SpecRunner,
    evaluate_outcomes,
    global_sensitivity,
    local_sensitivity,
)
from cytonet.model.spec import spec_from_dict

K1A, K1B, K2 = 0.3, 0.1, 0.05
SPEC = {
    "id": "two_clearances",
    "compartments": [{"id": "c", "volume": 1.0}],
    "species": [{"id": "A", "compartment": "c", "initial": 1.0, "unit": "relative"},
                {"id": "B", "compartment": "c", "initial": 1.0, "unit": "relative"}],
    "parameters": [{"id": p, "value": v, "unit": "1/h", "assumption": "test model"} for p, v in (("k1a", K1A), ("k1b", K1B), ("k2", K2))],
    "reactions": [
        {"id": "ca", "rate_law": "first_order", "reactants": {"A": 1}, "params": {"k": "k1a"}},
        {"id": "cb", "rate_law": "first_order", "reactants": {"A": 1}, "params": {"k": "k1b"}},
        {"id": "cB", "rate_law": "first_order", "reactants": {"B": 1}, "params": {"k": "k2"}},
    ],
}
T = np.linspace(0.0, 10.0, 21)


@pytest.fixture(scope="module")
def runner() -> SpecRunner:
    return SpecRunner(spec_from_dict(SPEC), T, rtol=1e-9, atol=1e-12)


def test_local_log_sensitivities_match_the_analytic_ones_and_name_the_inseparable_pair(runner: SpecRunner) -> None:
    res = local_sensitivity(runner, ["k1a", "k1b", "k2"], ["A", "B"])
    n = T.size
    # A = exp(-(k1a + k1b) t): d log A / d log k1a = -k1a t; B = exp(-k2 t)
    np.testing.assert_allclose(res.matrix[:n, 0], -K1A * T, atol=1e-5)
    np.testing.assert_allclose(res.matrix[:n, 1], -K1B * T, atol=1e-5)
    np.testing.assert_allclose(res.matrix[n:, 2], -K2 * T, atol=1e-5)
    np.testing.assert_allclose(res.matrix[n:, :2], 0.0, atol=1e-7)
    assert [(a, b) for a, b, _ in res.pairs] == [("k1a", "k1b")]
    assert res.singular_values[-1] < 1e-6 * res.singular_values[0]  # k1a, k1b enter only as their sum
    weakest = res.directions[-1]
    assert abs(weakest[2]) < 1e-6 and weakest[0] * weakest[1] < 0  # trade k1a against k1b


def test_outcomes_peak_and_auc_are_the_analytic_values(runner: SpecRunner) -> None:
    k = np.array([0.2, 0.5])
    out, ok = evaluate_outcomes(runner, {"k1a": k, "k1b": np.zeros(2)}, ["auc:A", "peak:A"])
    assert ok.all()
    np.testing.assert_allclose(out["peak:A"], 1.0)
    trapezoid = np.trapezoid(np.exp(-k[:, None] * T), T, axis=1)  # the analytic curve on the same output grid
    np.testing.assert_allclose(out["auc:A"], trapezoid, rtol=1e-7)
    np.testing.assert_allclose(out["auc:A"], (1 - np.exp(-k * T[-1])) / k, rtol=6e-3)


def test_sobol_and_morris_find_the_parameter_that_matters(runner: SpecRunner) -> None:
    ranges = [Range("k1a", 0.1, 1.0), Range("k2", 0.01, 0.1)]
    sob = global_sensitivity(runner, ranges, ["auc:A"], method="sobol", n=64, seed=1)
    t = sob.table.set_index("parameter")
    assert sob.runs == 64 * 4 and sob.failed == 0
    assert t.loc["k1a", "ST"] > 0.9 and abs(t.loc["k2", "ST"]) < 1e-9
    mor = global_sensitivity(runner, ranges, ["auc:A", "auc:B"], method="morris", n=10, seed=1).table
    a = mor[mor.outcome == "auc:A"].set_index("parameter")
    b = mor[mor.outcome == "auc:B"].set_index("parameter")
    assert a.loc["k2", "mu_star"] < 1e-9 * a.loc["k1a", "mu_star"]  # integration noise only
    assert b.loc["k1a", "mu_star"] < 1e-9 * b.loc["k2", "mu_star"]


def test_bad_requests_say_what_to_do(runner: SpecRunner) -> None:
    with pytest.raises(SensitivityError, match="did you mean k1a"):
        global_sensitivity(runner, [Range("k1aa", 0.1, 1.0)], ["auc:A"])
    with pytest.raises(SensitivityError, match="unknown outcome"):
        global_sensitivity(runner, [Range("k1a", 0.1, 1.0)], ["mean:A"])
    with pytest.raises(SensitivityError, match="power of 2"):
        global_sensitivity(runner, [Range("k1a", 0.1, 1.0)], ["auc:A"], n=10)
    with pytest.raises(SensitivityError, match="unknown readout"):
        global_sensitivity(runner, [Range("k1a", 0.1, 1.0)], ["peak:Z"], n=4)


def test_cli_global_and_local_on_a_scenario(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cytonet.cli import app

    def main(args: list[str]) -> None:
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output

    main(["sensitivity", "global", "-s", "lps-endotoxemia", "-p", "r_P", "-p", "k_sIL6R_clear", "-o", "storm", "-o", "crs_grade",
          "-o", "peak:IL6", "--n", "4", "--out", str(tmp_path / "g")])
    import pandas as pd

    table = pd.read_csv(tmp_path / "g" / "indices.tsv", sep="\t")
    assert set(table.outcome) == {"storm", "crs_grade", "peak:IL6"} and (tmp_path / "g" / "indices.png").stat().st_size > 0
    main(["sensitivity", "local", "-s", "lps-endotoxemia", "-p", "k_IL6_renal", "-p", "k_sIL6R_clear", "--output", "IL6",
          "--output", "CRP", "--out", str(tmp_path / "l")])
    info = json.loads((tmp_path / "l" / "identifiability.json").read_text())
    assert len(info["singular_values"]) == 2 and info["singular_values"][0] >= info["singular_values"][1] > 0
