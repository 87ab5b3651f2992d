"""Run-folder I/O round trip, exact reaction fluxes, the fired-network graph and the HTML reports."""

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from cytonet.model.spec import ModelSpec
from cytonet.report import load_run, read_timecourse, write_comparison, write_report, write_run, write_timecourse
from cytonet.analysis.fired import fired_graph, reaction_fluxes, species_balance
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


def test_species_balance_is_the_time_derivative() -> None:
    """Each species' net rates by reaction (binding: association less dissociation; delay chain: its release) sum to
    the slope of its trajectory."""
    spec, rest = scenario_model("lps-endotoxemia")
    ds = simulate_scenario("lps-endotoxemia", hours=6, points_per_hour=120, model=(spec, rest))
    t = ds["time"].values
    balance = species_balance(spec, ds, ["TNF", "IL6", "IL10"])
    assert "IL10_secretion_delay" in balance["IL10"] and "IL6_sIL6R_binding" in balance["IL6"]
    for sid, by_reaction in balance.items():
        net = sum(by_reaction.values())
        slope = np.gradient(ds["state"].sel(species=sid).values, t)
        scale = max(float(np.max(np.abs(v))) for v in by_reaction.values())
        np.testing.assert_allclose(net[2:-2], slope[2:-2], atol=1e-2 * scale)
    with pytest.raises(ValueError, match="no such species"):
        species_balance(spec, ds, ["IL6", "NOPE"])


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


# ------------------------------------------------------------------------ figures people can read
def _in_view_labels(axis, lo: float, hi: float) -> list[str]:
    locs = [v for v in axis.get_majorticklocs() if min(lo, hi) <= v <= max(lo, hi)]
    return [s for s in axis.get_major_formatter().format_ticks(locs) if s.strip()]


def assert_readable(fig) -> None:
    """Every visible panel: an x and a y label, and at least two labelled ticks on each axis within view."""
    fig.canvas.draw()
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert panels
    for ax in panels:
        name = ax.get_title() or "?"
        assert ax.get_xlabel().strip() and ax.get_ylabel().strip(), f"panel {name!r} lacks an axis label"
        assert len(_in_view_labels(ax.xaxis, *ax.get_xlim())) >= 2, f"panel {name!r}: x ticks"
        ylabels = _in_view_labels(ax.yaxis, *ax.get_ylim())
        assert len(ylabels) >= 2, f"panel {name!r} ({ax.get_yscale()} y axis) shows {ylabels}"
        assert min(t.get_fontsize() for t in ax.get_yticklabels()) >= 7


def test_every_report_figure_is_readable() -> None:
    from cytonet.report import plots

    storm, resolving = scenario("sepsis-storm")[0], scenario("infection-resolving")[0]
    for runs in ({"storm": storm}, {"storm": storm, "resolving": resolving}):
        for make in (plots.cytokines_figure, plots.balance_figure, plots.clinical_figure):
            fig = make(runs)
            assert_readable(fig)
            if len(runs) > 1:  # compared runs: one legend naming both, told apart by style as well as colour
                assert [t.get_text() for t in fig.legends[0].get_texts()] == ["storm", "resolving"]
                for ax in fig.axes:
                    data = [ln for ln in ax.get_lines() if ln.get_label() in runs]
                    assert len({(ln.get_linestyle(), ln.get_linewidth()) for ln in data}) == len(data)


def test_threshold_lines_are_labelled() -> None:
    from cytonet.report import plots

    runs = {"storm": scenario("sepsis-storm")[0]}
    texts = {t.get_text() for ax in plots.clinical_figure(runs).axes for t in ax.texts}
    assert {"fever 38 °C", "hypotension (CRS grade 2) 70 mmHg", "vasopressor (grade 3) 65 mmHg",
            "storm: marked CRP 100 mg/L", "low-flow O2 (grade 2) 94 %"} <= texts
    il6 = next(ax for ax in plots.cytokines_figure(runs).axes if ax.get_title() == "IL6")
    assert "storm level 100 pg/mL" in {t.get_text() for t in il6.texts}


@pytest.mark.parametrize(("lo", "hi", "scale"), [(2000.0, 2004.0, "linear"), (1.1, 5.0, "log"), (0.9, 40.0, "log"),
                                                 (1e-3, 1e6, "log"), (0.2, 0.25, "linear")])
def test_log_axes_label_ticks_whatever_their_span(lo: float, hi: float, scale: str) -> None:
    from cytonet.report.plots import new_figure, scale_y

    fig, (ax,) = new_figure(1, 1, 4, 3)
    ax.plot([0, 1, 2], [lo, np.sqrt(lo * hi), hi])
    scale_y(ax)
    fig.canvas.draw()
    assert ax.get_yscale() == scale
    labels = _in_view_labels(ax.yaxis, *ax.get_ylim())
    assert 2 <= len(labels) <= 12, labels
    assert all(float(s) > 0 for s in labels)


def test_drug_figure_names_targets_in_words() -> None:
    from cytonet.analysis.treatment import treatment_changes
    from cytonet.scenarios import load_scenario
    from cytonet.therapy import Regimen
    from cytonet.therapy.comparison import run_with_and_without

    from cytonet.report import plots

    run = run_with_and_without(load_scenario("car-t-crs"), "tocilizumab", Regimen("8mg/kg", start="12h", weight_kg=70),
                               hours=48)
    fig = plots.drug_figure(run.treated, run.spec, "tocilizumab")
    assert_readable(fig)
    assert fig.axes[0].get_ylabel() == "concentration (µg/mL)"
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert "IL6R bound by tocilizumab" in legend and not any("_" in t for t in legend)
    changes = {c.key: c for c in treatment_changes(run.untreated, run.treated)}
    assert changes["peak_TEMP"].unit == "degC" and changes["crs_grade"].treated <= changes["crs_grade"].untreated


def test_network_layers_do_not_overlap_and_have_a_key() -> None:
    from cytonet.report.network import LAYERS, layer_of, network_figure

    ds, spec = scenario("sepsis-storm")
    g = fired_graph(spec, ds)
    fig = network_figure(g, spec, "sepsis")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = {t.get_gid()[5:]: t.get_bbox_patch().get_window_extent(renderer)
             for t in fig.axes[0].texts if (t.get_gid() or "").startswith("node:")}
    assert set(boxes) == set(g.nodes)
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not boxes[a].overlaps(boxes[b]), f"{a} and {b} overlap"
    x = {n: boxes[n].x0 for n in boxes}  # layers run left to right: cells before pathways before cytokines
    for a in g.nodes:
        for b in g.nodes:
            if layer_of(g.nodes[a]["kind"]) < layer_of(g.nodes[b]["kind"]):
                assert x[a] < x[b]
    legend = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"cells", "cytokines", "reaction makes the target"} <= legend and len(LAYERS) >= 5
    key = " ".join(t.get_text() for t in fig.texts)
    assert "Mr: resting monocytes/macrophages" in key and "Ma: activated (M1) macrophages" in key


def test_report_tables_carry_units_and_end_of_run_marks(tmp_path: Path) -> None:
    runs = {"storm": scenario("sepsis-storm")[0], "resolving": scenario("infection-resolving")[0]}
    html = write_comparison(tmp_path, runs).read_text()
    for row in ("TEMP peak (°C)", "CRP peak (mg/L)", "FERRITIN peak (ng/mL)", "MAP nadir (mmHg)", "SPO2 nadir (%)"):
        assert f"<td>{row}</td>" in html
    assert "degC" not in html and "0.25 1" not in html and "DAMAGE &gt; 0.25<" in html
    from cytonet.analysis.storm import summarize

    s = summarize(runs["storm"])  # 24 h of sepsis: CRP and ferritin still climb when the run ends
    assert s.readouts["FERRITIN"]["at_end"] and "▲ end of run" in html


def test_peak_at_horizon_end() -> None:
    from cytonet.analysis.storm import at_horizon_end

    t = np.linspace(0, 10, 11)
    rising, hump, flat = 1 - np.exp(-t / 5), t * np.exp(-t / 2), np.full_like(t, 3.0)
    plateau, noisy_rest = np.minimum(t, 5.0), 3.0 + 1e-12 * t  # plateau: its peak is reached at 5 h
    assert list(at_horizon_end(np.stack([rising, hump, flat, plateau, noisy_rest]))) == [True, False, False, False, False]
    assert at_horizon_end(-rising, nadir=True) and not at_horizon_end(rising, nadir=True)


@pytest.mark.parametrize("spread", [0.05, 3.0])  # a narrow population (under a decade) and a wide one
def test_population_figure_is_readable(spread: float) -> None:
    from cytonet.population.summary import ArmSummary, Summary, wilson
    from cytonet.report.plots import population_figure

    rng = np.random.default_rng(1)
    arms = tuple(ArmSummary(name, 50, 50, wilson(k, 50), (10, 20, 15, 5, 0), (1.0, 2.0, 3.0),
                            200.0 * 10 ** rng.normal(0, spread / 3, 50)) for name, k in (("untreated", 30), ("treated", 10)))
    fig = population_figure(Summary(arms, ()))
    assert_readable(fig)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["untreated", "treated"]
