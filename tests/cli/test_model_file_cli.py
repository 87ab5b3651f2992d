"""``cytonet population --model`` and ``cytonet treat --model``: commands that take a scenario, on an SBML file."""

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "model"))

from sbml_doc import KHOLODENKO_PARAMETERS, kholodenko_mapk  # noqa: E402

from cytonet.cli import app, main  # noqa: E402

runner = CliRunner()
T_END = 2000.0

VARIATION = """\
method: lhs
variations:
  - parameters: [V1, "KK*"]
    distribution: uniform
    low: 0.8
    high: 1.25
    assumption: "test: a spread of +-25 % around the published values"
"""


@pytest.fixture(scope="module")
def mapk_file(tmp_path_factory) -> Path:
    return kholodenko_mapk().write(tmp_path_factory.mktemp("mapk") / "BIOMD0000000010.xml")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_population_of_an_sbml_model_varies_its_own_parameters(tmp_path, mapk_file):
    import roadrunner

    vary = tmp_path / "vary.yaml"
    vary.write_text(VARIATION)
    out = tmp_path / "pop"
    result = runner.invoke(app, ["population", "--model", str(mapk_file), "--variation", str(vary), "--n", "10",
                                 "--hours", str(T_END), "--seed", "4", "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "10 patients of BIOMD0000000010.xml (10 parameters varied; factor kernels, lockstep)" in result.output
    params = rows(out / "parameters.csv")
    assert len(params) == 10 and all(p["status"] == "0" for p in params)
    assert set(params[0]) == {"patient", "status", "V1", *(k for k in KHOLODENKO_PARAMETERS if k.startswith("KK"))}
    v1 = np.array([float(p["V1"]) for p in params])
    assert np.all((v1 >= 0.8 * 2.5) & (v1 <= 1.25 * 2.5)) and np.ptp(v1) > 0.2
    course = rows(out / "timecourses.csv")
    assert len(course) == 10 * 101
    rr = roadrunner.RoadRunner(str(mapk_file))
    rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = 1e-10, 1e-12
    rr.timeCourseSelections = ["time", "[MAPK_PP]"]
    for i in (0, 9):  # each patient as libroadrunner runs it with the sampled parameters
        rr.resetAll()
        for k, v in params[i].items():
            if k not in ("patient", "status"):
                rr[k] = float(v)
        ref = np.asarray(rr.simulate(0.0, T_END, 101))
        ours = np.array([float(r["MAPK_PP"]) for r in course if r["patient"] == str(i)])
        assert np.allclose(ours, ref[:, 1], rtol=1e-6, atol=1e-6 * ref[:, 1].max())
    summary = {r["species"]: r for r in rows(out / "summary.csv")}
    assert set(summary) == {"MKKK", "MKKK_P", "MKK", "MKK_P", "MKK_PP", "MAPK", "MAPK_P", "MAPK_PP"}
    assert float(summary["MAPK_PP"]["peak_p5"]) <= float(summary["MAPK_PP"]["peak_p50"]) <= float(summary["MAPK_PP"]["peak_p95"])
    assert (out / "model.yaml").is_file()


@pytest.mark.parametrize("args, message", [
    (["--variation", "{vary}"], "--model needs --hours"),
    (["--hours", "10"], "--model needs --variation"),
    (["--variation", "{vary}", "--hours", "10", "--drug", "tocilizumab"], "--drug apply to scenarios, not to --model"),
    (["--variation", "{bad}", "--hours", "10"], "variation pattern 'KK22' matches no parameter of model 'm'; did you mean KK2"),
])
def test_population_of_a_model_file_explains_bad_input(tmp_path, mapk_file, capsys, args, message):
    (tmp_path / "vary.yaml").write_text(VARIATION)
    (tmp_path / "bad.yaml").write_text(VARIATION.replace('"KK*"', "KK22"))
    args = [a.format(vary=tmp_path / "vary.yaml", bad=tmp_path / "bad.yaml") for a in args]
    with pytest.raises(SystemExit) as exc:
        main(["population", "--model", str(mapk_file), "--n", "3", *args, "--out", str(tmp_path / "pop")])
    assert exc.value.code != 0
    assert message in capsys.readouterr().err
    assert not (tmp_path / "pop").exists()


def receptor_file(tmp_path: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).parents[1] / "therapy"))
    from test_imported_model import receptor_doc

    return receptor_doc().write(tmp_path / "receptor.xml")


def test_treat_an_sbml_model_with_its_receptor_mapped(tmp_path):
    out = tmp_path / "treat"
    result = runner.invoke(app, ["treat", "--model", str(receptor_file(tmp_path)), "--drug", "tocilizumab", "--target", "IL6R=R",
                                 "--hours", "200", "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    changes = {r["species"]: r for r in rows(out / "changes.csv")}
    assert set(changes) == {"R"}
    assert float(changes["R"]["untreated_final"]) == pytest.approx(2.0, rel=1e-9)  # at rest without the drug
    assert float(changes["R"]["treated_final"]) < 0.2 * 2.0  # tocilizumab holds most of the receptor
    treated = rows(out / "treated.csv")
    assert len(treated) == 201 and max(float(r["tocilizumab_occupancy"]) for r in treated) > 0.9
    assert "tocilizumab_central" in (out / "model.yaml").read_text()


@pytest.mark.parametrize("args, message", [
    (["--target", "IL6R=RR", "--hours", "10"], "has no species 'RR'; did you mean R?"),
    (["--target", "IL6R", "--hours", "10"], "expected DRUG_TARGET=SPECIES"),
    (["--target", "IL6R=R"], "--model needs --hours"),
    (["--target", "IL6R=R", "--hours", "10", "--scenario", "car-t-crs"], "give either --scenario or --model"),
])
def test_treat_of_a_model_file_explains_bad_input(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["treat", "--model", str(receptor_file(tmp_path)), "--drug", "tocilizumab", *args, "--out", str(tmp_path / "t")])
    assert exc.value.code != 0
    assert message in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_simulate_an_sbml_model_with_either_method_agrees_with_roadrunner(tmp_path, mapk_file):
    """``simulate --model --method``: Rodas5P (the default) and Rodas4 both give libroadrunner's time course."""
    import roadrunner

    rr = roadrunner.RoadRunner(str(mapk_file))
    rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = 1e-10, 1e-12
    ref = rr.simulate(0.0, T_END, 201)
    for method in (None, "rodas4"):
        out = tmp_path / f"run-{method}"
        result = runner.invoke(app, ["simulate", "--model", str(mapk_file), "--hours", str(T_END), "--out", str(out),
                                     *(["--method", method] if method else [])])
        assert result.exit_code == 0, result.output
        got = rows(out / "timecourse.csv")
        mapk = np.array([float(r["MAPK_PP"]) for r in got])
        np.testing.assert_allclose(mapk, ref["[MAPK_PP]"], rtol=1e-5, atol=1e-6 * np.abs(ref["[MAPK_PP]"]).max())


@pytest.mark.parametrize("args, message", [
    (["--model", "{mapk}", "--hours", "10", "--method", "rodas5"], "unknown integration method 'rodas5'; did you mean rodas5p"),
    (["--scenario", "healthy", "--method", "rodas4"], "--method applies to --model"),
])
def test_simulate_refuses_a_bad_method(tmp_path, mapk_file, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", *[a.format(mapk=mapk_file) for a in args], "--out", str(tmp_path / "run")])
    assert exc.value.code != 0
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
