"""Storm summary and classification of the shipped scenarios; time above threshold on exact cases."""

import json

import numpy as np
import pytest

from cytonet.analysis.storm import StormClass, classify, hours_above, hours_below, summarize

from scenario_runs import run

#: the sepsis storm without organ dysfunction, a known deviation of the counter-regulated network
SEPSIS_NOT_A_STORM = pytest.mark.xfail(strict=True, reason=(
    "known deviation (docs/model.md, sepsis outcomes; test_untreated_sepsis_storm_reaches_septic_shock_hypotension in "
    "tests/scenarios/test_scenario_behaviour.py): with the counter-regulators the untreated storm's MAP nadir is 72.2 mmHg "
    "(73.8 with the linear leak proxy the vasodilation readout replaced) and tissue damage peaks at 0.15, so no organ-dysfunction criterion holds and the run is a controlled response"))

EXPECTED = {
    "healthy": StormClass.NONE,
    "infection-resolving": StormClass.CONTROLLED,
    "lps-endotoxemia": StormClass.CONTROLLED,
    "sepsis-storm": StormClass.STORM,
    "car-t-crs": StormClass.STORM,
    "hlh": StormClass.STORM,
}


@pytest.mark.parametrize("name", [pytest.param(n, marks=SEPSIS_NOT_A_STORM) if n == "sepsis-storm" else n for n in EXPECTED])
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
    assert json.loads(json.dumps(d, allow_nan=False))["classification"]["label"] == classify(ds).label.value
    assert d["units"]["cytokines"] == "pg/mL"


def test_hours_above_interpolates_crossings() -> None:
    t = np.array([0.0, 1.0, 2.0, 4.0])
    x = np.array([0.0, 2.0, 0.0, 0.0])
    assert hours_above(t, x, 1.0) == pytest.approx(1.0)  # triangle above half its height for half its base
    assert hours_above(t, x, 5.0) == 0.0
    assert hours_above(t, x + 10, 5.0) == pytest.approx(4.0)
    assert hours_below(t, x, 1.0) == pytest.approx(3.0)


# ------------------------------------------------------------------ label rule (Fajgenbaum & June 2020)
def _with(ds, **series):
    """A copy of a run with some species replaced by constant or given series."""
    out = ds.copy(deep=True)
    for sid, values in series.items():
        col = list(out["species"].values).index(sid)
        out["state"].values[:, col] = values
    return out


def test_organ_dysfunction_with_elevated_cytokines_is_never_a_controlled_response() -> None:
    """Without fever or a marked CRP, elevated cytokines with organ dysfunction are not 'controlled'. The organ injury is set
    here (DAMAGE 0.5, above its 0.25 threshold) like fever and CRP, because the counter-regulated sepsis storm has none."""
    ds = run("sepsis-storm")
    quiet = _with(ds, TEMP=37.0, CRP=5.0, DAMAGE=0.5)
    c = classify(quiet)
    held = {x.key: x.held for x in c.criteria}
    assert held == {"cytokines": True, "inflammation": False, "organ_dysfunction": True}
    assert c.label is StormClass.UNCONTROLLED


def test_extreme_cytokines_are_never_a_controlled_response() -> None:
    """The review's case: TNF at 7.7e10 pg/mL cannot be a controlled response, organ readouts aside."""
    ds = run("lps-endotoxemia")
    t = ds["time"].values
    tnf = ds["state"].sel(species="TNF").values.copy()
    tnf[(t > 2) & (t < 30)] = 7.7e10
    c = classify(_with(ds, TNF=tnf))
    assert not c.criterion("organ_dysfunction").held
    assert c.label is StormClass.UNCONTROLLED


@pytest.mark.parametrize("c1", [False, True])
@pytest.mark.parametrize("c2", [False, True])
@pytest.mark.parametrize("c3", [False, True])
@pytest.mark.parametrize("extreme", [False, True])
def test_label_codes_follow_the_printed_rule(c1: bool, c2: bool, c3: bool, extreme: bool) -> None:
    from cytonet.analysis.storm import LABELS, label_codes

    if c1 and c2 and c3:
        want = StormClass.STORM
    elif (c3 and (c1 or c2)) or extreme:
        want = StormClass.UNCONTROLLED
    elif c1 or c2:
        want = StormClass.CONTROLLED
    else:
        want = StormClass.NONE
    assert LABELS[int(label_codes(c1, c2, c3, extreme))] is want


def test_report_prints_the_rule_classify_applies(tmp_path) -> None:
    from html import escape

    from cytonet.analysis.storm import RULE
    from cytonet.report import write_report
    from cytonet.scenarios import scenario_model

    ds = run("lps-endotoxemia")
    spec, _ = scenario_model("lps-endotoxemia")
    write_report(tmp_path, ds, spec, summarize(ds))
    html = (tmp_path / "report.html").read_text()
    assert escape(RULE) in html and "(1) or (2) without (3)" not in html


def test_summary_reports_total_serum_il6() -> None:
    """Immunoassays report free + sIL-6R-bound IL-6 (docs/model.md, IL6_total); the summary carries it."""
    ds = run("car-t-crs")
    s = summarize(ds)
    total = ds["IL6_total"].values
    assert s.readouts["IL6_total"]["peak"] == pytest.approx(total.max())
    assert s.readouts["IL6_total"]["peak"] > s.cytokine("IL6").peak
