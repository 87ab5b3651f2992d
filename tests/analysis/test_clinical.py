"""ASTCT CRS grading at every boundary, HScore points at every cut-off, reference ranges."""

import numpy as np
import pytest

from cytonet.analysis import clinical
from cytonet.analysis.clinical import crs_grade, crs_grade_from, ferritin_points, max_crs_grade, temperature_points
from cytonet.errors import ModelSpecError

from scenario_runs import run, synthetic


@pytest.mark.parametrize(
    ("temp", "map_mmhg", "spo2", "grade"),
    [
        (37.9, 93.0, 98.0, 0),  # no fever
        (38.0, 93.0, 98.0, 1),  # fever >= 38.0
        (38.5, 70.0, 94.0, 1),  # on the thresholds: not yet hypotension or hypoxia
        (38.5, 69.9, 98.0, 2),  # hypotension, no vasopressor
        (38.5, 93.0, 93.9, 2),  # hypoxia, low-flow O2
        (38.5, 65.0, 90.0, 2),
        (38.5, 64.9, 98.0, 3),  # one vasopressor
        (38.5, 93.0, 89.9, 3),  # high-flow O2
        (38.5, 55.0, 85.0, 3),
        (38.5, 54.9, 98.0, 4),  # several vasopressors
        (38.5, 93.0, 84.9, 4),  # positive pressure
        (38.5, 50.0, 80.0, 4),
    ],
)
def test_grade_boundaries(temp: float, map_mmhg: float, spo2: float, grade: int) -> None:
    assert crs_grade_from(np.array([temp]), np.array([map_mmhg]), np.array([spo2])).tolist() == [grade]


def test_no_crs_without_a_fever_first_and_grading_continues_after_fever() -> None:
    t = np.arange(6.0)
    temp = np.array([37.0, 37.0, 38.2, 37.5, 37.5, 37.0])
    map_mmhg = np.array([60.0, 93.0, 93.0, 68.0, 93.0, 93.0])  # hypotension before fever does not count
    spo2 = np.array([98.0, 98.0, 98.0, 98.0, 89.0, 98.0])
    ds = synthetic(t, temp, map_mmhg, spo2)
    assert crs_grade(ds).tolist() == [0, 0, 1, 2, 3, 0]
    assert max_crs_grade(ds) == 3


def test_missing_readout_is_a_clear_error() -> None:
    ds = synthetic(np.arange(2.0), [37, 37], [93, 93], [98, 98]).drop_vars("MAP")
    with pytest.raises(ModelSpecError, match="no species or observable 'MAP'"):
        crs_grade(ds)


@pytest.mark.parametrize(("temp", "points"), [(37.0, 0), (38.39, 0), (38.4, 33), (39.4, 33), (39.41, 49)])
def test_hscore_temperature_points(temp: float, points: int) -> None:
    assert int(temperature_points(temp)) == points


@pytest.mark.parametrize(("ferritin", "points"), [(100, 0), (1999, 0), (2000, 35), (6000, 35), (6001, 50)])
def test_hscore_ferritin_points(ferritin: float, points: int) -> None:
    assert int(ferritin_points(ferritin)) == points


def test_hscore_of_hlh_uses_peak_temperature_and_ferritin() -> None:
    ds = run("hlh")
    h = clinical.hscore_partial(ds)
    fer = float(ds["state"].sel(species="FERRITIN").max())
    assert h.ferritin_ng_ml == pytest.approx(fer) and fer > 6000 and h.ferritin_points == 50
    assert h.modelled_points == h.temperature_points + 50
    assert sum(h.not_modelled.values()) == 18 + 38 + 34 + 64 + 30 + 19 + 35  # the other seven HScore items


def test_crs_grades_of_scenarios() -> None:
    assert max_crs_grade(run("healthy")) == 0
    assert max_crs_grade(run("infection-resolving")) <= 1
    for name in ("car-t-crs", "hlh"):
        assert max_crs_grade(run(name)) >= 2, name


@pytest.mark.xfail(strict=True, reason="known deviation (docs/model.md, sepsis outcomes): with the counter-regulators the untreated "
                   "sepsis storm's MAP nadir is 72.2 mmHg (73.8 with the linear leak proxy the vasodilation readout replaced; 63.6 "
                   "before the counter-regulators), so it reaches ASTCT grade 1 (fever) only")
def test_sepsis_storm_reaches_crs_grade_2() -> None:
    """The untreated sepsis storm is hypotensive (ASTCT grade >= 2), as the storm before the counter-regulators was."""
    assert max_crs_grade(run("sepsis-storm")) >= 2


def test_reference_ranges_come_from_the_knowledge_base() -> None:
    ranges = clinical.reference_ranges()
    assert (ranges["IL6"].low, ranges["IL6"].high, ranges["IL6"].unit) == (0.71, 3.53, "pg/mL")
    assert "doi:10.1371/journal.pone.0021002" in ranges["IL6"].source
    assert ranges["CRP"].unit == "mg/L" and ranges["FERRITIN"].unit == "ng/mL"


def test_after_anticytokine_therapy_hypotension_grades_crs_without_fever() -> None:
    """Lee et al. 2019 (ASTCT): after antipyretic or anti-cytokine therapy such as tocilizumab, fever is no
    longer required; grading is driven by hypotension and/or hypoxia. Before the dose, no fever = no CRS."""
    temp = np.full(6, 37.2)
    map_mmhg = np.array([66.0, 66.0, 66.0, 66.0, 93.0, 63.0])
    spo2 = np.array([98.0, 98.0, 98.0, 98.0, 92.0, 98.0])
    masked = np.arange(6.0) >= 2.0  # tocilizumab at 2 h
    assert crs_grade_from(temp, map_mmhg, spo2).tolist() == [0] * 6
    assert crs_grade_from(temp, map_mmhg, spo2, masked).tolist() == [0, 0, 2, 2, 2, 3]
    two = crs_grade_from(np.vstack([temp, temp]), np.vstack([map_mmhg, map_mmhg]), np.vstack([spo2, spo2]),
                         np.vstack([masked, np.zeros(6, bool)]))
    assert two.tolist() == [[0, 0, 2, 2, 2, 3], [0] * 6]  # per row (patient) along the last axis


def test_treated_run_is_graded_from_the_first_dose_on() -> None:
    """The treated car-t-crs run: from the tocilizumab dose, MAP below 70 mmHg is at least ASTCT grade 2."""
    from cytonet import simulate
    from cytonet.scenarios import scenario_model
    from cytonet.therapy import Regimen, treat

    spec, rest = scenario_model("car-t-crs")
    ds = simulate(treat(spec, "tocilizumab", Regimen("8 mg/kg", route="iv", start="12h")), 336, n_points=673,
                  initial=rest)
    assert 12.0 < clinical.therapy_start(ds) <= 12.5  # first output time with drug on board
    t, mapv, g = ds["time"].values, ds["MAP"].values, crs_grade(ds)
    after = t >= 12.0
    assert np.all(g[after & (mapv < 70.0)] >= 2)
    assert np.all(g[after] >= clinical.hypotension_grade(mapv[after]))
    assert clinical.therapy_start(run("car-t-crs")) is None


def test_crp_synthesis_delay_is_the_documented_6_hours() -> None:
    """docs/model.md: CRP has a 3-stage, 6 h synthesis delay. A unit pulse into CRP_pre reaches serum CRP
    after a mean of 6 h (the mean arrival time of the whole chain, measured on the compiled model)."""
    from cytonet import simulate
    from cytonet.model.build import reference_network
    from cytonet.model.spec import ModelSpec

    net = reference_network()
    keep = {"CRP_secretion_delay"}
    spec = ModelSpec.model_validate({**net.model_dump(), "events": [],
                                     "reactions": [r.model_dump() for r in net.reactions if r.id in keep],
                                     "observables": []})
    t = np.linspace(0.0, 120.0, 4801)
    x0 = {s.id: 0.0 for s in spec.species} | {"CRP_pre": 1.0}
    ds = simulate(spec, 120.0, t_eval=t, initial=x0, rtol=1e-10, atol=1e-12)
    arrived = ds["state"].sel(species="CRP").values
    assert np.trapezoid(1.0 - arrived, t) == pytest.approx(6.0, rel=1e-3)
