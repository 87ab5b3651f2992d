"""LPS protocols: ng/kg boluses and ng/kg/h infusions as events on the network's LPS species, API and CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from cytonet.cli import main
from cytonet.errors import ScenarioError
from cytonet.model.spec import Bolus, Infusion
from cytonet.scenarios import load_scenario, lps_protocol, parse_lps, simulate_scenario, with_lps


def test_ng_per_kg_converts_to_plasma_pg_per_ml_like_the_shipped_scenario() -> None:
    """2 ng/kg x 70 kg into 3 L of plasma = 46.7 pg/mL, the shipped lps-endotoxemia bolus."""
    (ev,) = lps_protocol([(2.0, 0.0)]).events()
    shipped = next(e for e in load_scenario("lps-endotoxemia").events if e.target == "LPS")
    assert isinstance(ev, Bolus) and ev.target == "LPS" and ev.time == 0.0
    assert ev.amount == pytest.approx(2.0 * 70.0 * 1000.0 / 3000.0)
    assert ev.amount == pytest.approx(shipped.amount, rel=2e-3)
    heavier = lps_protocol([(2.0, 0.0)], weight_kg=90.0, plasma_l=3.0).events()[0]
    assert heavier.amount == pytest.approx(ev.amount * 90.0 / 70.0)


def test_infusion_event_and_repeated_boluses() -> None:
    events = lps_protocol([(2.0, 0.0), (2.0, 24.0)], [(0.5, 1.0, 4.0)]).events()
    boluses = [e for e in events if isinstance(e, Bolus)]
    (inf,) = [e for e in events if isinstance(e, Infusion)]
    assert [b.time for b in boluses] == [0.0, 24.0]
    assert (inf.start, inf.end) == (1.0, 5.0) and inf.rate == pytest.approx(0.5 * 70.0 / 3.0)
    assert len({e.id for e in events}) == 3


def test_with_lps_replaces_the_scenarios_own_lps_and_keeps_other_triggers() -> None:
    lps = load_scenario("lps-endotoxemia")
    late = with_lps(lps, lps_protocol([(2.0, 24.0)]))
    assert [(e.target, e.time) for e in late.events] == [("LPS", 24.0)]
    sepsis = load_scenario("sepsis-storm")
    both = with_lps(sepsis, lps_protocol([(1.0, 6.0)]))
    assert {e.target for e in both.events} == {e.target for e in sepsis.events} | {"LPS"}
    assert "1 ng/kg at 6 h" in both.name


def test_infusion_plasma_lps_matches_the_first_order_solution() -> None:
    """LPS is cleared first order only, so during an infusion LPS(t) = R/k (1 - exp(-k t))."""
    from cytonet.model.build import reference_network

    k = reference_network().parameter("k_LPS_clear").value
    sc = with_lps(load_scenario("lps-endotoxemia"), lps_protocol(infusions=[(0.5, 0.0, 4.0)]))
    ds = simulate_scenario(sc, hours=8.0, points_per_hour=4)
    lps = ds["state"].sel(species="LPS")
    rate = 0.5 * 70.0 / 3.0
    for t in (1.0, 4.0):
        assert float(lps.sel(time=t)) == pytest.approx(rate / k * (1 - math.exp(-k * t)), rel=1e-4)
    assert float(lps.sel(time=8.0)) == pytest.approx(rate / k * (1 - math.exp(-4 * k)) * math.exp(-4 * k), rel=1e-3)


def test_a_bolus_at_24h_moves_the_response_to_24h() -> None:
    sc = with_lps(load_scenario("lps-endotoxemia"), lps_protocol([(2.0, 24.0)]))
    ds = simulate_scenario(sc, hours=48.0)
    tnf = ds["state"].sel(species="TNF").values
    t = ds.time.values
    assert np.max(np.abs(tnf[t < 24] - tnf[0])) < 1e-6 * tnf[0] + 1e-9
    assert 24.5 <= t[int(np.argmax(tnf))] <= 26.5  # TNF peaks ~1-1.5 h after the bolus (Copeland 2005)


@pytest.mark.parametrize(
    ("items", "infusion", "duration", "message"),
    [
        (["2"], None, None, "--lps '2': give a dose with its unit, e.g. 2ng/kg"),
        (["2mg/kg"], None, None, "--lps '2mg/kg': give a dose with its unit"),
        (["-1ng/kg"], None, None, "--lps '-1ng/kg': the dose must be positive"),
        (["0ng/kg"], None, None, "the dose must be positive"),
        (["2ng/kg@soon"], None, None, "--lps '2ng/kg@soon' time 'soon': give a number with a unit"),
        (["2ng/kg@-3h"], None, None, "must be non-negative"),
        ([], "0.5ng/kg/h", None, "--lps-infusion '0.5ng/kg/h' needs --for, e.g. --for 4h"),
        ([], "0.5ng/kg", "4h", "--lps-infusion '0.5ng/kg': give a rate with its unit, e.g. 0.5ng/kg/h"),
        ([], "0.5ng/kg/h", "0h", "--for '0h' must be positive"),
        ([], None, "4h", "--for is the length of an LPS infusion"),
    ],
)
def test_bad_protocol_text_is_a_one_line_scenario_error(items, infusion, duration, message) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_lps(items, infusion, duration)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_api_rejects_non_finite_values() -> None:
    with pytest.raises(ScenarioError, match="the dose must be a positive finite number"):
        lps_protocol([(float("nan"), 0.0)])
    with pytest.raises(ScenarioError, match="the duration must be a positive finite number"):
        lps_protocol(infusions=[(0.5, 0.0, float("inf"))])


def test_parse_units_and_times() -> None:
    p = parse_lps(["2ng/kg", "4000pg/kg@1d"], "0.5ng/kg/h@2h", "90min")
    assert [(b.dose_ng_per_kg, b.time_h) for b in p.boluses] == [(2.0, 0.0), (4.0, 24.0)]
    (f,) = p.infusions
    assert (f.rate_ng_per_kg_h, f.start_h, f.duration_h) == (0.5, 2.0, 1.5)
    assert parse_lps([], None, None) is None


def _run(args: list[str]) -> int:
    """Exit status of the CLI (``main`` returns on success and exits non-zero on failure)."""
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_simulate_cli_repeated_bolus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert _run(["simulate", "--scenario", "lps-endotoxemia", "--lps", "2ng/kg", "--lps", "2ng/kg@24h",
                 "--hours", "30", "--out", str(out)]) == 0
    import pyarrow.parquet as pq

    table = pq.read_table(out / "timecourse.parquet").to_pandas()
    lps = table.set_index("time_h")["LPS"]
    assert lps.loc[0.0] == pytest.approx(46.67, rel=1e-3) and lps.loc[24.0] == pytest.approx(46.67, rel=2e-3)
    assert json.loads((out / "summary.json").read_text())["hours"] == 30


def test_simulate_cli_infusion_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["simulate", "--scenario", "healthy", "--lps-infusion", "0.5ng/kg/h", "--for", "4h", "--hours", "12",
                 "--out", str(tmp_path / "inf")]) == 0
    assert _run(["simulate", "--scenario", "lps-endotoxemia", "--lps", "2ng/kg@72h", "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: LPS given at 72 h is not before the 48 h horizon") and "\n" not in err
    assert not (tmp_path / "x").exists()


def test_treat_cli_takes_the_lps_protocol(tmp_path: Path) -> None:
    import csv

    assert _run(["treat", "--scenario", "lps-endotoxemia", "--drug", "infliximab", "--lps", "4ng/kg", "--hours", "12",
                 "--out", str(tmp_path)]) == 0
    from cytonet.report import read_timecourse

    untreated = read_timecourse(tmp_path / "untreated.parquet")
    assert untreated["state"].sel(species="LPS").values[0] == pytest.approx(4 * 70 / 3.0, rel=1e-3)
    assert {r["measure"] for r in csv.DictReader(open(tmp_path / "changes.csv"))} >= {"storm class"}


def test_population_cli_takes_the_lps_protocol(tmp_path: Path) -> None:
    from cytonet.population.runner import PopulationConfig

    out = tmp_path / "pop"
    assert _run(["population", "--scenario", "lps-endotoxemia", "--n", "2", "--lps", "1ng/kg@2h", "--quiet",
                 "--trajectories", "97", "--out", str(out)]) == 0
    manifest = out / "manifest.json"
    cfg = PopulationConfig.model_validate(json.loads(manifest.read_text())["config"])
    assert cfg.lps is not None and cfg.lps.boluses[0].time_h == 2.0
