"""PNG figures of one run or of several overlaid (``runs`` maps a label to a Dataset).

matplotlib is imported inside each function and used through ``Figure`` objects with the Agg
canvas, never through pyplot, so no global backend or figure state is touched. Each ``*_figure``
function returns the Figure (tests read its axes); each ``plot_*`` function writes it as a PNG.

Every panel reads on its own: a unit on each axis, tick labels on log axes whatever the span
(:func:`scale_y`), labelled threshold lines, and runs told apart by line style as well as colour,
so a line hidden behind another still shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cytonet.analysis import clinical
from cytonet.analysis.clinical import Threshold
from cytonet.analysis.storm import BALANCE_SHIFT, CYTOKINES, MARKED_CRP, SIGNATURE_LEVELS, balance
from cytonet.analysis.units import READOUT_UNITS, display_unit

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from cytonet.model.spec import ModelSpec
    from cytonet.population.summary import Summary

Runs = Mapping[str, "xr.Dataset"]
_DPI = 100
_TICK_SIZE = 8
_LABEL_SIZE = 8
#: (line style, width) per run: the first run wide and solid, later ones narrower and broken on top of it
_STYLES = (("-", 2.4), ("--", 1.6), (":", 1.8), ("-.", 1.4))
_FLOOR = 1e-3  # log panels show values below this (pg/mL) at the floor


def new_figure(nrows: int, ncols: int, width: float, height: float, legend: bool = False) -> tuple[Figure, np.ndarray]:
    """A Figure on the Agg canvas with a grid of panels (``legend``: room above them for a shared legend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))  # fixed margins: constrained layout costs seconds per figure
    FigureCanvasAgg(fig)
    top = 1.0 - (0.55 if legend else 0.3) / height
    row = height * (top - 0.55 / height) / nrows  # inches per row, gaps included
    fig.subplots_adjust(left=0.6 / width + 0.02, right=0.98, bottom=0.55 / height, top=top, wspace=0.35,
                        hspace=min(0.65, 0.8 / max(row - 0.8, 0.5)))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    return fig, axes


def save_png(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG, atomically."""
    from cytonet.io import atomic_write

    return atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=_DPI))


def _style(i: int) -> dict[str, object]:
    ls, lw = _STYLES[i % len(_STYLES)]
    return {"ls": ls, "lw": lw}


def _legend(fig: Figure, ax: Axes, n_runs: int) -> None:
    """One legend above the panels when runs are compared (every panel uses the same colours and styles)."""
    if n_runs > 1:
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles[:n_runs], labels[:n_runs], loc="upper center", ncol=min(n_runs, 4), frameon=False,
                   fontsize=9, handlelength=3.5)


def _finish(ax: Axes, title: str, ylabel: str, xlabel: str = "time (h)") -> None:
    """Title, axis labels and tick size; threshold labels near the top edge move below their line."""
    lo, hi = ax.get_ylim()
    to_axes = (lambda v: np.log10(v / lo) / np.log10(hi / lo)) if ax.get_yscale() == "log" else (lambda v: (v - lo) / (hi - lo))
    for text in ax.texts:
        if text.get_gid() == "threshold" and to_axes(text.xy[1]) > 0.85:
            text.set_va("top")
            text.set_position((0, -1.5))
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=_LABEL_SIZE)
    ax.set_xlabel(xlabel, fontsize=_LABEL_SIZE, labelpad=1)
    ax.tick_params(labelsize=_TICK_SIZE)


def threshold(ax: Axes, value: float, text: str) -> None:
    """A dotted horizontal line at ``value`` with its label just above it, at the left of the panel."""
    ax.axhline(value, color="0.35", ls=(0, (1, 2)), lw=0.9, zorder=1)
    ax.annotate(text, xy=(0.01, value), xycoords=("axes fraction", "data"), xytext=(0, 1.5), textcoords="offset points",
                va="bottom", ha="left", fontsize=7, color="0.25", gid="threshold", zorder=4,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75})


def _threshold_text(what: str, th: Threshold) -> str:
    return f"{what} {th.value:g} {display_unit(th.unit)}".rstrip()


def scale_y(ax: Axes, log: bool = True) -> None:
    """Log y axis with labelled ticks whatever its span; a span under 3-fold stays linear (log adds nothing there).

    matplotlib's default log locator labels decades only, so a panel spanning less than a decade
    shows no numbers at all; here the ticks step through 1-2-5 or 1-9 within a decade as needed.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator, ScalarFormatter

    lo, hi = ax.dataLim.intervaly
    if not log or not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 or hi / lo < 3:
        ax.set_yscale("linear")
        if np.isfinite(lo) and np.isfinite(hi):
            pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.05
            ax.set_ylim(lo - pad, hi + pad)  # threshold lines at the data's edge keep room for their labels
        ax.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10], min_n_ticks=3))
        fmt = ScalarFormatter(useOffset=False)
        fmt.set_powerlimits((-3, 4))
        ax.yaxis.set_major_formatter(fmt)
        return
    ax.set_yscale("log")
    ax.set_ylim(lo / 1.25, hi * 1.25)
    lo, hi = ax.get_ylim()
    decades = np.log10(hi / lo)
    for subs in ((1.0,), (1.0, 2.0, 5.0), tuple(np.arange(1.0, 10.0))):
        locator = LogLocator(base=10, subs=subs, numticks=12)
        if decades > 6 or sum(lo <= v <= hi for v in locator.tick_values(lo, hi)) >= 3:
            break
    ax.yaxis.set_major_locator(locator)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))  # plain text: mathtext is slow to draw
    ax.yaxis.set_minor_locator(NullLocator() if len(subs) > 1 else LogLocator(base=10, subs=tuple(np.arange(2.0, 10.0))))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _unit(ds: xr.Dataset, name: str, default: str = "") -> str:
    if name in ds.data_vars:
        return str(ds[name].attrs.get("units", default))
    if "unit" in ds.coords:
        return str(ds["unit"].sel(species=name).values)
    return default


def cytokines_figure(runs: Runs) -> Figure:
    """Each cytokine (pg/mL, log axis) against time, one panel per cytokine, one line per run."""
    first = next(iter(runs.values()))
    present = [s for s in CYTOKINES if s in first["species"].values]
    ncols = 4
    nrows = -(-len(present) // ncols)
    fig, axes = new_figure(nrows, ncols, 13, 2.75 * nrows + 0.4, legend=len(runs) > 1)
    for ax, sid in zip(axes, present):
        for i, (label, ds) in enumerate(runs.items()):
            ax.plot(ds["time"].values, np.maximum(clinical.series(ds, sid), _FLOOR), label=label, **_style(i))
        if sid in SIGNATURE_LEVELS:
            threshold(ax, SIGNATURE_LEVELS[sid].value, _threshold_text("storm level", SIGNATURE_LEVELS[sid]))
        scale_y(ax)
        _finish(ax, sid, display_unit(_unit(first, sid, "pg/mL")))
    for ax in axes[len(present):]:
        ax.set_visible(False)
    _legend(fig, axes[0], len(runs))
    return fig


def balance_figure(runs: Runs) -> Figure:
    """PRO_ANTI index and its ratio to the resting value (log axes)."""
    fig, (a, b) = new_figure(1, 2, 11, 3.6, legend=len(runs) > 1)
    for i, (label, ds) in enumerate(runs.items()):
        pa, lr = balance(ds)
        a.plot(ds["time"].values, pa, label=label, **_style(i))
        b.plot(ds["time"].values, 10.0 ** lr, label=label, **_style(i))
    scale_y(a)
    _finish(a, "pro/anti-inflammatory index (PRO_ANTI)", "index (dimensionless)")
    threshold(b, BALANCE_SHIFT.value, f"pro-inflammatory dominance: {BALANCE_SHIFT.value:g}x rest")
    b.axhline(1.0, color="black", lw=0.5)
    scale_y(b)
    _finish(b, "PRO_ANTI relative to rest", "PRO_ANTI / resting value (fold)")
    _legend(fig, a, len(runs))
    return fig


#: clinical panels: readout, title, log axis, labelled thresholds
_CLINICAL = (
    ("TEMP", "temperature", False, ((clinical.FEVER, "fever"),)),
    ("CRP", "C-reactive protein", False, ((MARKED_CRP, "storm: marked CRP"),)),
    ("FERRITIN", "ferritin", True, ()),
    ("MAP", "mean arterial pressure", False,
     ((clinical.HYPOTENSION, "hypotension (CRS grade 2)"), (clinical.ONE_VASOPRESSOR, "vasopressor (grade 3)"))),
    ("SPO2", "oxygen saturation (SpO2)", False,
     ((clinical.LOW_FLOW_O2, "low-flow O2 (grade 2)"), (clinical.HIGH_FLOW_O2, "high-flow O2 (grade 3)"))),
)


def clinical_figure(runs: Runs) -> Figure:
    """TEMP, CRP, FERRITIN, MAP, SpO2 and the ASTCT CRS grade against time, with the grading thresholds."""
    first = next(iter(runs.values()))
    fig, axes = new_figure(2, 3, 12, 6.6, legend=len(runs) > 1)
    for ax, (name, title, log, cuts) in zip(axes, _CLINICAL):
        for i, (label, ds) in enumerate(runs.items()):
            ax.plot(ds["time"].values, clinical.series(ds, name), label=label, **_style(i))
        for cut, text in cuts:
            threshold(ax, cut.value, _threshold_text(text, cut))
        scale_y(ax, log=log)
        _finish(ax, title, display_unit(_unit(first, name, READOUT_UNITS[name]) or READOUT_UNITS[name]))
    ax = axes[5]
    for i, (label, ds) in enumerate(runs.items()):
        ax.step(ds["time"].values, clinical.crs_grade(ds), where="post", label=label, **_style(i))
    ax.set_ylim(-0.2, 4.4)
    ax.set_yticks(range(5))
    _finish(ax, "ASTCT CRS grade", "grade (0-4)")
    _legend(fig, axes[0], len(runs))
    return fig


def _drug_curves(ds: xr.Dataset, spec: ModelSpec, drug: str) -> list[tuple[str, np.ndarray]]:
    """(label, % of target) for each fraction-type observable the drug added, labelled from its description."""
    out = []
    for o in spec.observables:
        if o.id.startswith(f"{drug}_") and display_unit(o.unit) == "" and o.id in ds.data_vars:
            text = (o.description or o.id).replace("fraction of ", "").replace("fractional ", "")
            out.append((text, 100.0 * ds[o.id].values))
    return out


def drug_figure(ds: xr.Dataset, spec: ModelSpec, drug: str) -> Figure:
    """Plasma concentration of ``drug`` (µg/mL) and what it binds or inhibits (% of target) in a treated run."""
    fig, (a, b) = new_figure(1, 2, 12, 3.8, legend=False)
    t = ds["time"].values
    central = f"{drug}_central"
    a.plot(t, ds["state"].sel(species=central).values, color="k", lw=1.8)
    a.set_ylim(bottom=0)
    _finish(a, f"{drug}, central compartment", f"concentration ({display_unit(_unit(ds, central, 'ug/mL'))})")
    for i, (text, pct) in enumerate(_drug_curves(ds, spec, drug)):
        b.plot(t, pct, label=text, **_style(i))
    b.set_ylim(-3, 103)
    _finish(b, f"targets of {drug}", "% of target")
    if b.lines:
        b.legend(fontsize=7, loc="lower right")
    return fig


def population_figure(s: Summary) -> Figure:
    """Peak serum IL-6 per arm (histogram on a log axis) and the max ASTCT CRS grade distribution."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    fig, (a1, a2) = new_figure(1, 2, 11, 4.0, legend=len(s.arms) > 1)
    peaks = [np.maximum(arm.peak_il6, _FLOOR) for arm in s.arms if arm.peak_il6.size]
    lo, hi = (min(p.min() for p in peaks), max(p.max() for p in peaks)) if peaks else (1.0, 10.0)
    bins = np.geomspace(lo / 1.05, max(hi * 1.05, lo * 1.2), 31)
    width = 0.8 / max(len(s.arms), 1)
    for j, arm in enumerate(s.arms):
        if arm.peak_il6.size:
            a1.hist(np.maximum(arm.peak_il6, _FLOOR), bins=bins, histtype="step", lw=2.0, ls=_STYLES[j % 4][0],
                    label=arm.arm)
        a2.bar(np.arange(5) + j * width, arm.crs_counts, width, label=arm.arm)
    a1.set_xscale("log")
    decades = np.log10(bins[-1] / bins[0])
    a1.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0,) if decades > 2 else (1.0, 2.0, 5.0), numticks=12))
    a1.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    a1.xaxis.set_minor_formatter(NullFormatter())
    a1.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=3))
    _finish(a1, "peak serum IL-6 per patient", "patients", "peak IL-6 (pg/mL, log axis)")
    a2.set_xticks(np.arange(5) + width * (len(s.arms) - 1) / 2, [str(g) for g in range(5)])
    a2.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=3))
    _finish(a2, "max ASTCT CRS grade", "patients", "grade (0-4)")
    _legend(fig, a2, len(s.arms))
    return fig


def plot_population(s: Summary, path: str | Path) -> Path:
    """Write :func:`population_figure` as a PNG."""
    return save_png(population_figure(s), path)


def plot_cytokines(runs: Runs, path: str | Path) -> Path:
    """Write :func:`cytokines_figure` as a PNG."""
    return save_png(cytokines_figure(runs), path)


def plot_balance(runs: Runs, path: str | Path) -> Path:
    """Write :func:`balance_figure` as a PNG."""
    return save_png(balance_figure(runs), path)


def plot_clinical(runs: Runs, path: str | Path) -> Path:
    """Write :func:`clinical_figure` as a PNG."""
    return save_png(clinical_figure(runs), path)


def plot_drug(ds: xr.Dataset, spec: ModelSpec, drug: str, path: str | Path) -> Path:
    """Write :func:`drug_figure` as a PNG."""
    return save_png(drug_figure(ds, spec, drug), path)

