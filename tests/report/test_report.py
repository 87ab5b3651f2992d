"""Run-folder I/O round trip, exact reaction fluxes, the fired-network graph and the HTML reports."""

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from cytonet.model.spec import ModelSpec
from cytonet.report import load_run, read_timecourse, write_comparison, write_report, write_run, write_timecourse
from cytonet.report.network import fired_graph, reaction_fluxes
from cytonet.scenarios import scenario_model, simulate_scenario


@lru_cache(maxsize=None)
def scenario(name: str) -> tuple[xr.Dataset, ModelSpec]:
    return simulate_scenario(name, hours=24), scenario_model(name)[0]


def test_timecourse_round_trip_is_exact(tmp_path: Path) -> None:
    ds, _ = scenario("lps-endotoxemia")
    back = read_timecourse(write_timecourse(ds, tmp_path / "tc.parquet"))
    np.testing.assert_array_equal(back["state"].values, ds["state"].values)
    np.testing.assert_array_equal(back["time"].values, ds["time"].values)
    assert list(back["species"].values) == list(ds["species"].values)
    assert list(back["unit"].values) == list(ds["unit"].values)
    for obs in ("MAP", "SPO2", "PRO_ANTI"):
        np.testing.assert_array_equal(back[obs].values, ds[obs].values)
    assert back.attrs["scenario"] == "lps-endotoxemia" and back.attrs["model_hash"] == ds.attrs["model_hash"]


def test_first_order_clearance_flux_is_k_times_state() -> None:
    ds, spec = scenario("lps-endotoxemia")
    ids, flux, rest = reaction_fluxes(spec, ds)
    r = next(r for r in spec.reactions if r.rate_law == "first_order" and list(r.reactants) == ["IL6"])
    k = spec.parameter(r.params["k"]).value
    il6 = ds["state"].sel(species="IL6").values
    np.testing.assert_allclose(flux[:, ids.index(r.id)], k * il6, rtol=1e-12)
    assert rest[ids.index(r.id)] == pytest.approx(k * next(s.initial for s in spec.species if s.id == "IL6"))


def test_healthy_run_fires_nothing_and_sepsis_fires_il6() -> None:
    healthy = simulate_scenario("healthy", hours=24)
    assert fired_graph(scenario_model("healthy")[0], healthy).number_of_edges() == 0
    g = fired_graph(*reversed(scenario("sepsis-storm")))
    assert "IL6" in g and g.number_of_edges() > 0
    assert all(d["log10_fold"] >= np.log10(2) and d["sign"] in "+-" for _, _, d in g.edges(data=True))


def test_run_folder_and_report(tmp_path: Path) -> None:
    from cytonet.analysis.storm import summarize

    ds, spec = scenario("sepsis-storm")
    summary = summarize(ds)
    write_run(tmp_path, ds, spec, summary)
    html = write_report(tmp_path, ds, spec, summary).read_text()
    for png in ("cytokines.png", "balance.png", "clinical.png", "network.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f'src="{png}"' in html
    assert "cytokine storm" in html and "Maximum ASTCT CRS grade" in html
    back, spec_back = load_run(tmp_path)
    np.testing.assert_array_equal(back["state"].values, ds["state"].values)
    assert spec_back == spec


def test_comparison_report(tmp_path: Path) -> None:
    runs = {"storm": scenario("sepsis-storm")[0], "resolving": scenario("infection-resolving")[0]}
    html = write_comparison(tmp_path, runs, title="A vs B").read_text()
    assert "<h1>A vs B</h1>" in html and "cytokine storm" in html and "controlled response" in html
    assert all((tmp_path / f"compare_{p}.png").is_file() for p in ("cytokines", "balance", "clinical"))
