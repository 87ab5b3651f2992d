"""The Python API raises ``CytonetError`` subclasses for bad input, and an interrupted run leaves nothing behind."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hostile_helpers import alias_bomb, run_cli, snapshot

from cytonet.errors import CytonetError, InputError, ModelSpecError
from cytonet.io import parse_user_json, parse_user_yaml
from cytonet.model.spec import ModelSpec, load_spec


@pytest.fixture(scope="module")
def tiny() -> ModelSpec:
    return ModelSpec.model_validate({
        "id": "tiny", "compartments": [{"id": "c", "volume": 1.0}],
        "species": [{"id": "X", "compartment": "c", "initial": 1.0, "unit": "pg/mL"}],
        "parameters": [{"id": "k", "value": 0.5, "unit": "1/h", "assumption": "test"}],
        "reactions": [{"id": "X_clear", "rate_law": "first_order", "reactants": {"X": 1}, "params": {"k": "k"}}],
    })


@pytest.mark.parametrize(("t_end", "kwargs", "expect"), [
    (1e308, {}, "beyond the limit of 100000 h"), (math.nan, {}, "positive number of hours"),
    (math.inf, {}, "positive number of hours"), (-1.0, {}, "positive number of hours"), ("ten", {}, "number of hours"),
    (10.0, {"n_points": 10**9}, "more than the limit of 1,000,000 output points"),
])
def test_simulate_refuses_bad_horizons(tiny: ModelSpec, t_end: float, kwargs: dict, expect: str) -> None:
    from cytonet import simulate

    with pytest.raises(ModelSpecError, match=expect):
        simulate(tiny, t_end, **kwargs)


def test_simulate_still_solves_first_order_decay(tiny: ModelSpec) -> None:
    from cytonet import simulate

    ds = simulate(tiny, 4.0, n_points=5)
    assert ds["state"].values[-1, 0] == pytest.approx(math.exp(-0.5 * 4.0), rel=1e-5)


def test_spec_with_an_infinite_rate_is_refused(tiny: ModelSpec) -> None:
    data = tiny.model_dump(mode="json")
    data["parameters"][0]["value"] = math.inf
    with pytest.raises(ValueError, match="finite number"):
        ModelSpec.model_validate(data)


def test_loader_limits(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="aliases counted each time"):
        parse_user_yaml(alias_bomb("species"), "bomb.yaml")
    shared = parse_user_yaml("a: &x [1, 2]\nb: *x\n", "ok.yaml")  # aliases within the limit are fine
    assert shared == {"a": [1, 2], "b": [1, 2]}
    with pytest.raises(InputError, match="Infinity is not a finite number"):
        parse_user_json('{"k": -Infinity}', "x.json")
    p = tmp_path / "spec.yaml"
    p.write_text(alias_bomb("species"))
    with pytest.raises(ModelSpecError, match="aliases counted"):
        load_spec(p)
    assert issubclass(ModelSpecError, CytonetError) and issubclass(InputError, CytonetError)


def test_an_interrupted_simulate_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import cytonet.report

    def interrupted(*_args: object, **_kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cytonet.report, "write_report", interrupted)
    res = run_cli(["simulate", "--scenario", "healthy", "--hours", "1", "--out", "run"], capsys)
    assert res.code == 130 and res.lines == ["error: interrupted"]
    assert snapshot(tmp_path) == {} and not any(tmp_path.iterdir())  # no run folder, no half-written sibling


def test_a_rerun_replaces_its_own_run_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli(["simulate", "--scenario", "healthy", "--hours", "1", "--out", "run"], capsys).code == 0
    (tmp_path / "run" / "stale.txt").write_text("left from an older run\n")
    assert run_cli(["simulate", "--scenario", "healthy", "--hours", "2", "--out", "run"], capsys).code == 0
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert "stale.txt" not in names and "report.html" in names and sorted(p.name for p in tmp_path.iterdir()) == ["run"]
