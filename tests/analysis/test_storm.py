"""Storm summary and classification of the shipped scenarios; time above threshold on exact cases."""

import json

import numpy as np
import pytest

from cytonet.analysis.storm import StormClass, classify, hours_above, hours_below, summarize

from scenario_runs import run

EXPECTED = {
    "healthy": StormClass.NONE,
    "infection-resolving": StormClass.CONTROLLED,
    "lps-endotoxemia": StormClass.CONTROLLED,
    "sepsis-storm": StormClass.STORM,
    "car-t-crs": StormClass.STORM,
    "hlh": StormClass.STORM,
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_scenario_classification(name: str) -> None:
    c = classify(run(name))
    assert c.label is EXPECTED[name], [(x.key, x.held, x.evidence) for x in c.criteria]
    held = {x.key: x.held for x in c.criteria}
    if c.label is StormClass.STORM:
        assert all(held.values())
    if c.label is StormClass.CONTROLLED:
        assert not held["organ_dysfunction"] and (held["cytokines"] or held["inflammation"])


def test_lps_peaks_tnf_before_il6_before_il10() -> None:
    s = summarize(run("lps-endotoxemia"))
    tnf, il6, il10 = (s.cytokine(x).peak_time_h for x in ("TNF", "IL6", "IL10"))
    assert tnf < il6 < il10
    assert tnf <= 2.0  # TNF peaks within about 1-2 h of an LPS bolus


def test_healthy_summary_is_flat() -> None:
    s = summarize(run("healthy"))
    for c in s.cytokines:
        assert c.fold_change == pytest.approx(1.0, rel=1e-3), c.species
        assert c.hours_above_fold == 0.0 and c.hours_elevated == 0.0
    assert s.balance.max_log10_ratio == pytest.approx(0.0, abs=1e-3)
    assert s.max_crs_grade == 0


def test_summary_values_match_the_time_course() -> None:
    ds = run("sepsis-storm")
    s = summarize(ds)
    il6 = ds["state"].sel(species="IL6").values
    c = s.cytokine("IL6")
    assert (c.baseline, c.peak) == (il6[0], il6.max())
    assert c.peak_time_h == ds["time"].values[il6.argmax()]
    assert c.hours_elevated == pytest.approx(hours_above(ds["time"].values, il6, max(100.0, 10 * il6[0])))
    assert s.readouts["MAP"]["nadir"] == pytest.approx(ds["MAP"].values.min())
    d = s.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False))["classification"]["label"] == "cytokine storm"
    assert d["units"]["cytokines"] == "pg/mL"


def test_hours_above_interpolates_crossings() -> None:
    t = np.array([0.0, 1.0, 2.0, 4.0])
    x = np.array([0.0, 2.0, 0.0, 0.0])
    assert hours_above(t, x, 1.0) == pytest.approx(1.0)  # triangle above half its height for half its base
    assert hours_above(t, x, 5.0) == 0.0
    assert hours_above(t, x + 10, 5.0) == pytest.approx(4.0)
    assert hours_below(t, x, 1.0) == pytest.approx(3.0)
