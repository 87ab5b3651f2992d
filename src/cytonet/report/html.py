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
from cytonet.analysis.units import READOUT_UNITS, display_unit, readable_number, with_unit
from cytonet.report import plots
from cytonet.report.rundir import REPORT

if TYPE_CHECKING:
    import xarray as xr

    from cytonet.analysis.treatment import Change
    from cytonet.model.spec import ModelSpec
    from cytonet.therapy.comparison import Treated

_AT_END = {"peak": "the peak is the last sample of the run", "nadir": "the nadir is the last sample of the run"}
_AT_END_NOTE = ("<p><small><span class=\"end\">▲ end of run</span>: the peak (or nadir) is the last sample: the run "
                "ended before the readout turned, so the true extreme may come after the simulated horizon.</small></p>")

_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child,table.text td,table.text th{text-align:left}.yes{color:#b03a2e;font-weight:bold}
.no{color:#1e8449}img{max-width:100%;border:1px solid #eee;margin:0.5em 0}.label{font-size:1.3em;font-weight:bold}
small{color:#666}.end{color:#9a5b00;font-size:0.85em;white-space:nowrap}"""


def _page(title: str, body: list[str]) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n<h1>{escape(title)}</h1>\n" + "\n".join(body) + "\n</body></html>\n")


def _table(header: list[str], rows: list[list[str]], text: bool = False) -> str:
    """An HTML table; numbers align right, ``text`` tables (prose cells) align left."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cls = ' class="text"' if text else ""
    return f"<table{cls}><tr>{head}</tr>{body}</table>"


def _g(x: float | None) -> str:
    return "n/a" if x is None else readable_number(x)


def _at_end_note(tables: str) -> str:
    """The footnote explaining the end-of-run mark, when a table shows one."""
    return _AT_END_NOTE if "▲" in tables else ""


def _end_mark(at_end: bool, extreme: str = "peak") -> str:
    return f' <span class="end" title="{_AT_END[extreme]}">▲ end of run</span>' if at_end else ""


def _cytokine_rows(s: StormSummary) -> list[list[str]]:
    return [[escape(c.species), _g(c.baseline), _g(c.peak) + _end_mark(c.peak_at_end), f"{c.peak_time_h:.1f}",
             _g(c.fold_change), f"{c.hours_above_fold:.1f}", "" if c.level is None else _g(c.level),
             f"{c.hours_elevated:.1f}"]
            for c in s.cytokines]


def _criteria(s: StormSummary) -> str:
    rows = [[escape(c.description), "<br>".join(escape(t) for t in c.thresholds),
             f"<span class=\"{'yes' if c.held else 'no'}\">{'yes' if c.held else 'no'}</span>", escape(c.evidence)]
            for c in s.classification.criteria]
    refs = ", ".join(escape(r) for r in s.classification.refs)
    return (f"<p class=\"label\">{escape(str(s.classification.label))}</p>"
            + _table(["criterion", "thresholds", "held", "measured"], rows, text=True)
            + f"<p><small>Criteria after Fajgenbaum &amp; June 2020 ({refs}): {escape(RULE)}.</small></p>")


def _readout_rows(s: StormSummary) -> list[list[str]]:
    rows = []
    for name, v in s.readouts.items():
        rng = clinical.READOUT_RANGES.get(name)
        extreme, when = ("peak", "peak_time_h") if "peak" in v else ("nadir", "nadir_time_h")
        rows.append([name, escape(display_unit(READOUT_UNITS.get(name, ""))) or "–", _g(v["baseline"]),
                     f"{extreme} {_g(v[extreme])}" + _end_mark(bool(v.get("at_end")), extreme), f"{v[when]:.1f}",
                     _g(v["end"]), "" if rng is None else f"{rng.low:g}–{rng.high:g} {escape(display_unit(rng.unit))}"])
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
    from cytonet.analysis.fired import fired_graph
    from cytonet.report.network import plot_network

    d = Path(out)
    s = summary or summarize(ds)
    runs = {s.scenario: ds}
    plots.plot_cytokines(runs, d / "cytokines.png")
    plots.plot_balance(runs, d / "balance.png")
    plots.plot_clinical(runs, d / "clinical.png")
    plot_network(fired_graph(spec, ds), d / "network.png", f"{s.scenario}: reactions that rose most over rest", spec)
    name = ds.attrs.get("scenario_name", spec.name or spec.id)
    overrides = ds.attrs.get("overrides", "{}")
    readouts = _table(["readout", "unit", "baseline", "extreme", "at (h)", "end", "healthy range"], _readout_rows(s))
    cytokines = _table(["cytokine", "baseline", "peak", "peak at (h)", "fold", "h > 10x base", "level", "h elevated"],
                       _cytokine_rows(s))
    body = [
        f"<p>Scenario <b>{escape(s.scenario)}</b> — {escape(str(name))}; {s.hours:g} h simulated; parameter overrides "
        f"{escape(str(overrides))}; model hash <code>{escape(str(ds.attrs.get('model_hash', '')))[:16]}</code>.</p>",
        "<h2>Classification</h2>", _criteria(s),
        "<h2>Clinical</h2>", _clinical(s),
        readouts,
        "<h2>Cytokines (pg/mL)</h2>",
        cytokines,
        _at_end_note(readouts + cytokines),
        '<img src="cytokines.png" alt="cytokine time courses">',
        "<h2>Pro/anti-inflammatory balance</h2>",
        f"<p>PRO_ANTI at rest {_g(s.balance.baseline)}, peak {_g(s.balance.peak)} at {s.balance.peak_time_h:.1f} h; "
        f"{s.balance.hours_pro_dominant:.1f} h at least twice its resting value.</p>",
        '<img src="balance.png" alt="pro/anti balance">',
        '<h2>Clinical readouts</h2><img src="clinical.png" alt="clinical readouts">',
        "<h2>What fired</h2><p><small>Reactions ranked by excess turnover of the species they make or remove "
        "(mean flux over the run minus resting flux, per peak level of that species), drawn in layers from triggers "
        "through cells, pathways and cytokines to readouts; red edges make, blue remove; the key names every "
        "abbreviation. See <code>cytonet.analysis.fired</code>.</small></p>",
        '<img src="network.png" alt="network of reactions that fired">',
    ]
    return atomic_write_text(d / REPORT, _page(f"cytonet run: {s.scenario}", body))


def _comparison_rows(summaries: Mapping[str, StormSummary]) -> list[list[str]]:
    ss = list(summaries.values())
    rows = [["classification", *(escape(str(s.classification.label)) for s in ss)],
            ["max CRS grade (ASTCT, 0-4)", *(str(s.max_crs_grade) for s in ss)],
            ["HScore, modelled items (points)", *(str(s.hscore.modelled_points) for s in ss)]]
    for key in ("cytokines", "inflammation", "organ_dysfunction"):
        rows.append([f"criterion: {key.replace('_', ' ')}", *(("yes" if s.classification.criterion(key).held else "no")
                                                              for s in ss)])
    for sid in ("IL6", "TNF", "IFNG", "IL10"):
        rows.append([f"{sid} peak (pg/mL)", *(f"{_g(s.cytokine(sid).peak)} at {s.cytokine(sid).peak_time_h:.1f} h"
                                               + _end_mark(s.cytokine(sid).peak_at_end) for s in ss)])
    for key, extreme in (("TEMP", "peak"), ("CRP", "peak"), ("FERRITIN", "peak"), ("MAP", "nadir"), ("SPO2", "nadir")):
        rows.append([escape(with_unit(f"{key} {extreme}", READOUT_UNITS[key])),
                     *(_g(s.readouts[key][extreme]) + _end_mark(bool(s.readouts[key].get("at_end")), extreme) for s in ss)])
    return rows


def _comparison_body(d: Path, runs: Mapping[str, xr.Dataset]) -> list[str]:
    summaries = {label: summarize(ds) for label, ds in runs.items()}
    plots.plot_cytokines(runs, d / "compare_cytokines.png")
    plots.plot_balance(runs, d / "compare_balance.png")
    plots.plot_clinical(runs, d / "compare_clinical.png")
    table = _table(["", *runs], _comparison_rows(summaries))
    return [
        table, _at_end_note(table),
        *(f"<h3>{escape(label)}</h3>{_criteria(s)}" for label, s in summaries.items()),
        '<h2>Cytokines</h2><img src="compare_cytokines.png" alt="cytokines">',
        '<h2>Pro/anti-inflammatory balance</h2><img src="compare_balance.png" alt="balance">',
        '<h2>Clinical readouts</h2><img src="compare_clinical.png" alt="clinical">',
    ]


def write_comparison(out: str | Path, runs: Mapping[str, xr.Dataset], title: str = "cytonet comparison",
                     name: str = REPORT) -> Path:
    """Overlay plots and side-by-side summaries of several runs (label -> Dataset) in ``out/name``.

    Used by ``cytonet demo``; the PNGs are ``compare_cytokines.png``, ``compare_balance.png`` and
    ``compare_clinical.png``.
    """
    from cytonet.io import atomic_write_text

    return atomic_write_text(Path(out) / name, _page(title, _comparison_body(Path(out), runs)))


def _change_cell(v: float | int | str, at_end: bool, key: str) -> str:
    text = escape(v) if isinstance(v, str) else (str(v) if isinstance(v, int) else _g(v))
    return text + _end_mark(at_end, "nadir" if key.startswith("nadir") else "peak")


def write_treatment(out: str | Path, run: Treated, changes: list[Change], title: str) -> Path:
    """``report.html`` of an untreated/treated pair: the table of changes, the drug's exposure and targets, overlays."""
    from cytonet.io import atomic_write_text

    d = Path(out)
    labels = ("untreated", f"+ {run.drug}")
    plots.plot_drug(run.treated, run.spec, run.drug, d / "drug.png")
    rows = [[escape(with_unit(c.measure, c.unit)), _change_cell(c.untreated, c.untreated_at_end, c.key),
             _change_cell(c.treated, c.treated_at_end, c.key)] for c in changes]
    changed = _table(["measure", *labels], rows)
    body = [
        "<h2>What the treatment changed</h2>", changed, _at_end_note(changed),
        "<p><small>The measures of <code>cytonet population</code>, computed the same way for one run.</small></p>",
        f'<h2>{escape(run.drug)}: exposure and targets</h2><img src="drug.png" alt="drug concentration and target binding">',
        *_comparison_body(d, dict(zip(labels, (run.untreated, run.treated)))),
    ]
    return atomic_write_text(d / REPORT, _page(title, body))
