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
    for name in ("car-t-crs", "sepsis-storm", "hlh"):
        assert max_crs_grade(run(name)) >= 2, name


def test_reference_ranges_come_from_the_knowledge_base() -> None:
    ranges = clinical.reference_ranges()
    assert (ranges["IL6"].low, ranges["IL6"].high, ranges["IL6"].unit) == (0.71, 3.53, "pg/mL")
    assert "doi:10.1371/journal.pone.0021002" in ranges["IL6"].source
    assert ranges["CRP"].unit == "mg/L" and ranges["FERRITIN"].unit == "ng/mL"
