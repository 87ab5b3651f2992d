"""HTML reports: one run (``write_report``) and several runs side by side (``write_comparison``).

Each report is one self-contained HTML file (inline CSS) that shows the PNGs written next to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from cytonet.analysis import clinical
from cytonet.analysis.storm import RULE, StormSummary, summarize
from cytonet.report import plots
from cytonet.report.rundir import REPORT

if TYPE_CHECKING:
    import xarray as xr

    from cytonet.model.spec import ModelSpec

_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.yes{color:#b03a2e;font-weight:bold}
.no{color:#1e8449}img{max-width:100%;border:1px solid #eee;margin:0.5em 0}.label{font-size:1.3em;font-weight:bold}
small{color:#666}"""


def _page(title: str, body: list[str]) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n<h1>{escape(title)}</h1>\n" + "\n".join(body) + "\n</body></html>\n")


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _g(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def _cytokine_rows(s: StormSummary) -> list[list[str]]:
    return [[escape(c.species), _g(c.baseline), _g(c.peak), f"{c.peak_time_h:.1f}", _g(c.fold_change),
             f"{c.hours_above_fold:.1f}", "" if c.level is None else _g(c.level), f"{c.hours_elevated:.1f}"]
            for c in s.cytokines]


def _criteria(s: StormSummary) -> str:
    rows = [[escape(c.description), "<br>".join(escape(t) for t in c.thresholds),
             f"<span class=\"{'yes' if c.held else 'no'}\">{'yes' if c.held else 'no'}</span>", escape(c.evidence)]
            for c in s.classification.criteria]
    refs = ", ".join(escape(r) for r in s.classification.refs)
    return (f"<p class=\"label\">{escape(str(s.classification.label))}</p>"
            + _table(["criterion", "thresholds", "held", "measured"], rows)
            + f"<p><small>Criteria after Fajgenbaum &amp; June 2020 ({refs}): {escape(RULE)}.</small></p>")


def _readout_rows(s: StormSummary) -> list[list[str]]:
    rows = []
    for name, v in s.readouts.items():
        rng = clinical.READOUT_RANGES.get(name)
        extreme, when = ("peak", "peak_time_h") if "peak" in v else ("nadir", "nadir_time_h")
        rows.append([name, _g(v["baseline"]), f"{extreme} {_g(v[extreme])}", f"{v[when]:.1f}", _g(v["end"]),
                     "" if rng is None else f"{rng.low:g}–{rng.high:g} {escape(rng.unit)}"])
    return rows


def _clinical(s: StormSummary) -> str:
    h = s.hscore
    missing = ", ".join(f"{escape(k)} ({v})" for k, v in h.not_modelled.items())
    return (f"<p>Maximum ASTCT CRS grade: <b>{s.max_crs_grade}</b> <small>(Lee et al. 2019, {clinical.ASTCT_2019}; "
            "MAP and SpO2 mapped to vasopressor and oxygen needs by stated thresholds)</small></p>"
            f"<p>HScore, modelled items only: temperature {h.temperature_c:.2f} °C → {h.temperature_points} points, "
            f"ferritin {h.ferritin_ng_ml:.0f} ng/mL → {h.ferritin_points} points; <b>{h.modelled_points}</b> points "
            f"<small>(Fardet et al. 2014, {escape(', '.join(h.refs))}). Not modelled (maximum points): {missing}.</small></p>")


def write_report(out: str | Path, ds: xr.Dataset, spec: ModelSpec, summary: StormSummary | None = None) -> Path:
    """Write the PNGs and ``report.html`` of one run into ``out``; returns the HTML path."""
    from cytonet.io import atomic_write_text
    from cytonet.report.network import fired_graph

    d = Path(out)
    s = summary or summarize(ds)
    runs = {s.scenario: ds}
    plots.plot_cytokines(runs, d / "cytokines.png")
    plots.plot_balance(runs, d / "balance.png")
    plots.plot_clinical(runs, d / "clinical.png")
    plots.plot_network(fired_graph(spec, ds), d / "network.png", f"{s.scenario}: reactions that rose most over rest")
    name = ds.attrs.get("scenario_name", spec.name or spec.id)
    overrides = ds.attrs.get("overrides", "{}")
    body = [
        f"<p>Scenario <b>{escape(s.scenario)}</b> — {escape(str(name))}; {s.hours:g} h simulated; parameter overrides "
        f"{escape(str(overrides))}; model hash <code>{escape(str(ds.attrs.get('model_hash', '')))[:16]}</code>.</p>",
        "<h2>Classification</h2>", _criteria(s),
        "<h2>Clinical</h2>", _clinical(s),
        _table(["readout", "baseline", "extreme", "at (h)", "end", "healthy range"], _readout_rows(s)),
        "<h2>Cytokines (pg/mL)</h2>",
        _table(["cytokine", "baseline", "peak", "peak at (h)", "fold", "h > 10x base", "level", "h elevated"],
               _cytokine_rows(s)),
        '<img src="cytokines.png" alt="cytokine time courses">',
        "<h2>Pro/anti-inflammatory balance</h2>",
        f"<p>PRO_ANTI at rest {_g(s.balance.baseline)}, peak {_g(s.balance.peak)} at {s.balance.peak_time_h:.1f} h; "
        f"{s.balance.hours_pro_dominant:.1f} h at least twice its resting value.</p>",
        '<img src="balance.png" alt="pro/anti balance">',
        '<h2>Clinical readouts</h2><img src="clinical.png" alt="clinical readouts">',
        "<h2>What fired</h2><p><small>Reactions ranked by excess turnover of the species they make or remove "
        "(mean flux over the run minus resting flux, per peak level of that species); red edges make, blue remove. "
        "See <code>cytonet.report.network</code>.</small></p>",
        '<img src="network.png" alt="network of reactions that fired">',
    ]
    return atomic_write_text(d / REPORT, _page(f"cytonet run: {s.scenario}", body))


def write_comparison(out: str | Path, runs: Mapping[str, xr.Dataset], title: str = "cytonet comparison",
                     name: str = REPORT) -> Path:
    """Overlay plots and side-by-side summaries of several runs (label -> Dataset) in ``out/name``.

    Used by ``cytonet demo`` and by therapy comparisons (untreated vs treated); the PNGs are
    ``compare_cytokines.png``, ``compare_balance.png`` and ``compare_clinical.png``.
    """
    from cytonet.io import atomic_write_text

    d = Path(out)
    summaries = {label: summarize(ds) for label, ds in runs.items()}
    plots.plot_cytokines(runs, d / "compare_cytokines.png")
    plots.plot_balance(runs, d / "compare_balance.png")
    plots.plot_clinical(runs, d / "compare_clinical.png")
    labels = list(runs)
    rows = [["classification", *(escape(str(s.classification.label)) for s in summaries.values())],
            ["max CRS grade", *(str(s.max_crs_grade) for s in summaries.values())],
            ["HScore (modelled items)", *(str(s.hscore.modelled_points) for s in summaries.values())]]
    for key in ("cytokines", "inflammation", "organ_dysfunction"):
        rows.append([f"criterion: {key}", *(("yes" if s.classification.criterion(key).held else "no")
                                             for s in summaries.values())])
    for sid in ("IL6", "TNF", "IFNG", "IL10"):
        rows.append([f"{sid} peak (pg/mL)", *(f"{_g(s.cytokine(sid).peak)} at {s.cytokine(sid).peak_time_h:.1f} h"
                                               for s in summaries.values())])
    for key, extreme in (("TEMP", "peak"), ("CRP", "peak"), ("FERRITIN", "peak"), ("MAP", "nadir"), ("SPO2", "nadir")):
        rows.append([f"{key} {extreme}", *(_g(s.readouts[key][extreme]) for s in summaries.values())])
    body = [
        _table(["", *labels], rows),
        *(f"<h3>{escape(label)}</h3>{_criteria(s)}" for label, s in summaries.items()),
        '<h2>Cytokines</h2><img src="compare_cytokines.png" alt="cytokines">',
        '<h2>Pro/anti-inflammatory balance</h2><img src="compare_balance.png" alt="balance">',
        '<h2>Clinical readouts</h2><img src="compare_clinical.png" alt="clinical">',
    ]
    return atomic_write_text(d / name, _page(title, body))
