"""Per-patient event amounts in virtual populations: discrete levels, the runs they give, errors, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cytonet.errors import ScenarioError
from cytonet.population.runner import PopulationConfig, prepare, run_population
from cytonet.population.sampling import EventVariation, Method, VariationFile, load_variation, sample
from cytonet.store import runs as store

HOST = load_variation().model_dump(mode="json")


def _variation(*events: dict) -> VariationFile:
    return VariationFile.model_validate({**HOST, "events": [{"assumption": "test", **e} for e in events]})


def _patients(out: Path) -> dict:
    return store.connect(out).execute("SELECT * FROM patients ORDER BY arm, patient").fetchnumpy()


def test_levels_in_a_latin_hypercube_come_in_the_proportions_of_their_weights() -> None:
    var = EventVariation(event="e", distribution="levels", levels=[0.1, 1.0, 10.0], weights=[35, 86, 12], assumption="t")
    values = sample([("e.amount", 2.0, var)], Method.LHS, 0, 133, 5, 0)["e.amount"]
    levels, counts = np.unique(values, return_counts=True)
    assert levels.tolist() == [0.2, 2.0, 20.0] and counts.tolist() == [35, 86, 12]  # one stratum per patient
    many = sample([("e.amount", 1.0, var)], Method.RANDOM, 0, 20_000, 5, 0)["e.amount"]
    assert np.mean(many == 0.1) == pytest.approx(35 / 133, abs=0.01)  # i.i.d. draws: within 3 SE of 0.263


@pytest.mark.parametrize("fields, message", [
    ({"distribution": "levels"}, "go with distribution 'levels'"),
    ({"distribution": "lognormal", "cv": 0.3, "levels": [1.0]}, "go with distribution 'levels'"),
    ({"distribution": "levels", "levels": [1.0, 2.0], "weights": [1.0]}, "one non-negative weight per level"),
    ({"distribution": "levels", "levels": [1.0, 2.0], "weights": [0, 0]}, "not all zero"),
    ({"distribution": "levels", "levels": [-1.0]}, "must be >= 0"),
])
def test_bad_levels_are_refused_with_the_reason(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EventVariation(event="e", assumption="t", **fields)


def test_an_event_varied_twice_or_a_file_without_groups_is_refused() -> None:
    with pytest.raises(ValueError, match="each event is varied once"):
        _variation({"event": "a", "distribution": "lognormal", "cv": 0.3}, {"event": "a", "distribution": "lognormal", "cv": 0.5})
    with pytest.raises(ValueError, match="needs 'variations:'"):
        VariationFile.model_validate({"variations": []})


def test_an_unknown_event_names_its_close_matches() -> None:
    cfg = PopulationConfig(scenario="car-t-crs", n=4, variation=_variation({"event": "car_t_infusoin", "distribution": "lognormal", "cv": 0.3}))
    with pytest.raises(ScenarioError, match="did you mean car_t_infusion") as err:
        prepare(cfg.to_json())
    assert "tumour_burden" in str(err.value)


def test_the_shipped_hill_2018_variation_extends_the_default_and_names_unknown_files() -> None:
    vf = load_variation("car_t_crs_hill2018")
    assert vf.variations == load_variation().variations
    levels = next(e for e in vf.events if e.event == "car_t_infusion")
    assert levels.weights == [35, 86, 12] and "doi:10.1182/blood-2017-07-793760" in levels.refs
    with pytest.raises(ScenarioError, match="did you mean car_t_crs_hill2018"):
        load_variation("car_t_crs_hil2018")


def test_a_patient_at_ten_times_the_dose_runs_as_one_simulate_call_at_that_dose(tmp_path: Path) -> None:
    """The population's stored trajectory of a 10x-dose patient against one ``simulate`` of the scenario with the
    CAR-T infusion ten times the scenario's, with that patient's sampled parameters, from its own rest state."""
    from cytonet.engine.simulate import simulate
    from cytonet.scenarios import load_scenario, scenario_model

    vf = _variation({"event": "car_t_infusion", "distribution": "levels", "levels": [1.0, 10.0]})
    cfg = PopulationConfig(scenario="car-t-crs", n=8, variation=vf, seed=3, batch_size=8, trajectory_points=673)
    run_population(cfg, tmp_path / "pop", show_progress=False)
    p = _patients(tmp_path / "pop")
    sc = load_scenario("car-t-crs")
    nominal = next(e.amount for e in sc.events if e.id == "car_t_infusion")
    assert sorted(set(p["car_t_infusion.amount"].tolist())) == [nominal, 10 * nominal]
    # a host without a rest state is recorded as such (status REST_FAILED, NaN trajectory); compare one that has one
    i = int(np.flatnonzero((p["car_t_infusion.amount"] == 10 * nominal) & (p["status"] == 0))[0])
    prep = prepare(cfg.to_json())
    params = {pid: float(p[pid][i]) for pid, _, _ in prep.varied if pid not in prep.events}
    events = [e.model_copy(update={"amount": 10 * e.amount}) if e.id == "car_t_infusion" else e for e in sc.events]
    spec, rest = scenario_model(sc.model_copy(update={"events": events}), params)
    one = simulate(spec, sc.t_end, n_points=673, initial=rest)
    traj = store.connect(tmp_path / "pop").execute(f"SELECT * FROM trajectories WHERE patient = {i} ORDER BY time").fetchnumpy()
    for name in ("CART", "IL6", "TEMP"):
        np.testing.assert_allclose(traj[name], one["state"].sel(species=name).values, rtol=1e-7, atol=1e-9 * one["state"].sel(species=name).values.max())
    np.testing.assert_allclose(traj["MAP"], one["MAP"].values, rtol=1e-7)
    spec1, rest1 = scenario_model(sc, params)
    at_nominal = simulate(spec1, sc.t_end, n_points=673, initial=rest1)
    early = slice(1, 49)  # the first day: ten times the infused cells
    np.testing.assert_allclose(traj["CART"][early] / at_nominal["state"].sel(species="CART").values[early], 10, rtol=0.05)


@pytest.mark.parametrize("batch_size", [24, 12])
def test_event_variation_runs_are_bit_identical_on_one_and_two_threads(tmp_path: Path, batch_size: int) -> None:
    vf = load_variation("car_t_crs_hill2018")
    cfg = PopulationConfig(scenario="car-t-crs", n=24, variation=vf, seed=1, batch_size=batch_size)
    run_population(cfg, tmp_path / "one", show_progress=False, threads=1)
    run_population(cfg, tmp_path / "two", show_progress=False, threads=2)
    a, b = _patients(tmp_path / "one"), _patients(tmp_path / "two")
    assert np.unique(a["car_t_infusion.amount"]).size == 3 and np.unique(a["tumour_burden.amount"]).size == 24
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_an_lps_bolus_dose_varies_per_patient(tmp_path: Path) -> None:
    """``--lps 2ng/kg`` names its bolus lps_bolus1 (46.7 pg/mL); a level of 0.25 gives 0.5 ng/kg, a lower TNF peak."""
    from cytonet.scenarios import parse_lps

    vf = _variation({"event": "lps_bolus1", "distribution": "levels", "levels": [0.25, 1.0]})
    cfg = PopulationConfig(scenario="lps-endotoxemia", n=12, variation=vf, seed=2, batch_size=12, lps=parse_lps(["2ng/kg"], None, None))
    run_population(cfg, tmp_path / "lps", show_progress=False)
    p = _patients(tmp_path / "lps")
    amounts = p["lps_bolus1.amount"]
    assert sorted(set(np.round(amounts, 9).tolist())) == pytest.approx([2 * 70 / 3 / 4, 2 * 70 / 3])
    rested = p["status"] == 0  # hosts without a healthy rest state are not simulated (their peaks are NaN)
    low, high = rested & (amounts < 20), rested & (amounts > 20)
    assert low.sum() >= 4 and high.sum() >= 4, (low.sum(), high.sum())
    assert np.median(p["peak_TNF"][low]) < np.median(p["peak_TNF"][high])


def test_cli_runs_a_shipped_variation_and_an_unknown_event_fails_in_one_line(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from cytonet.cli import app, main

    runner = CliRunner()
    ok = runner.invoke(app, ["population", "--scenario", "car-t-crs", "--n", "8", "--vary", "car_t_crs_hill2018",
                             "--quiet", "--out", str(tmp_path / "cli")])
    assert ok.exit_code == 0, ok.output
    assert "car_t_infusion.amount" in _patients(tmp_path / "cli")
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: reference_default\nevents:\n  - {event: tumor_burden, distribution: lognormal, cv: 0.5, assumption: t}\n")
    with pytest.raises(SystemExit) as exc:
        main(["population", "--scenario", "car-t-crs", "--n", "4", "--vary", str(bad), "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip()
    assert exc.value.code != 0 and "\n" not in err
    assert "'tumor_burden'" in err and "did you mean tumour_burden?" in err and not (tmp_path / "x").exists()


def test_an_sbml_model_population_refuses_event_variation(tmp_path: Path) -> None:
    from cytonet.population.model_file import model_population

    with pytest.raises(ScenarioError, match="event amounts vary in scenario populations"):
        model_population(tmp_path / "m.xml", load_variation("car_t_crs_hill2018"), 4, 1.0, tmp_path)
