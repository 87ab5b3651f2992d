"""PNG figures of one run or of several overlaid (``runs`` maps a label to a Dataset).

matplotlib is imported inside each function and used through ``Figure`` objects with the Agg
canvas, never through pyplot, so no global backend or figure state is touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cytonet.analysis import clinical
from cytonet.analysis.storm import BALANCE_SHIFT, CYTOKINES, SIGNATURE_LEVELS, balance

if TYPE_CHECKING:
    import networkx as nx
    import xarray as xr
    from matplotlib.figure import Figure

Runs = Mapping[str, "xr.Dataset"]
_DPI = 100
_KIND_COLOURS = {"cytokine": "#e15759", "cell": "#4e79a7", "readout": "#f28e2b", "trigger": "#76b7b2",
                 "receptor": "#59a14f", "complex": "#59a14f", "state": "#bab0ac", "drug": "#b07aa1"}


def _figure(nrows: int, ncols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))  # fixed margins: constrained layout costs seconds per figure
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12 if nrows == 1 else 0.07, top=0.9 if nrows == 1 else 0.95,
                        wspace=0.3, hspace=0.45)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    return fig, axes


def _save(fig: Figure, path: str | Path) -> Path:
    from cytonet.io import atomic_write

    return atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=_DPI))


def _log_axis(ax) -> None:  # noqa: ANN001 - matplotlib Axes
    """Log y axis with plain-text decade labels (mathtext labels dominate drawing time)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(numticks=6))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _state(ds: xr.Dataset, sid: str) -> np.ndarray:
    return clinical.series(ds, sid)


def plot_cytokines(runs: Runs, path: str | Path) -> Path:
    """Each cytokine on a log axis (pg/mL) against time, one panel per cytokine, one line per run."""
    first = next(iter(runs.values()))
    present = [s for s in CYTOKINES if s in first["species"].values]
    ncols = 4
    fig, axes = _figure(-(-len(present) // ncols), ncols, 13, 2.3 * -(-len(present) // ncols))
    for ax, sid in zip(axes, present):
        for label, ds in runs.items():
            ax.plot(ds["time"].values, np.maximum(_state(ds, sid), 1e-3), label=label, lw=1.4)
        if sid in SIGNATURE_LEVELS:
            ax.axhline(SIGNATURE_LEVELS[sid].value, color="grey", ls=":", lw=0.8)
        _log_axis(ax)
        ax.set_title(sid, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(present):]:
        ax.set_visible(False)
    axes[0].set_ylabel("pg/mL")
    axes[0].legend(fontsize=7)
    fig.supxlabel("time (h)", fontsize=9)
    return _save(fig, path)


def plot_balance(runs: Runs, path: str | Path) -> Path:
    """PRO_ANTI index (log axis) and its log10 ratio to the resting value."""
    fig, (a, b) = _figure(1, 2, 11, 3.4)
    for label, ds in runs.items():
        pa, lr = balance(ds)
        a.plot(ds["time"].values, pa, label=label)
        b.plot(ds["time"].values, lr, label=label)
    _log_axis(a)
    a.set_title("pro/anti-inflammatory index (PRO_ANTI)", fontsize=9)
    b.axhline(np.log10(BALANCE_SHIFT.value), color="grey", ls=":", lw=0.8)
    b.axhline(0.0, color="black", lw=0.5)
    b.set_title("log10(PRO_ANTI / resting value)", fontsize=9)
    for ax in (a, b):
        ax.set_xlabel("time (h)")
        ax.legend(fontsize=7)
    return _save(fig, path)


def plot_clinical(runs: Runs, path: str | Path) -> Path:
    """TEMP, CRP, FERRITIN, MAP, SpO2 and the ASTCT CRS grade against time, with the grading thresholds."""
    panels = [("TEMP", "°C", [clinical.FEVER]), ("CRP", "mg/L", []), ("FERRITIN", "ng/mL", []),
              ("MAP", "mmHg", [clinical.HYPOTENSION, clinical.ONE_VASOPRESSOR]),
              ("SPO2", "%", [clinical.LOW_FLOW_O2, clinical.HIGH_FLOW_O2])]
    fig, axes = _figure(2, 3, 12, 6)
    for ax, (name, unit, cuts) in zip(axes, panels):
        for label, ds in runs.items():
            ax.plot(ds["time"].values, _state(ds, name), label=label)
        for cut in cuts:
            ax.axhline(cut.value, color="grey", ls=":", lw=0.8)
        if name == "FERRITIN":
            _log_axis(ax)
        ax.set_title(f"{name} ({unit})", fontsize=9)
    ax = axes[5]
    for label, ds in runs.items():
        ax.step(ds["time"].values, clinical.crs_grade(ds), where="post", label=label)
    ax.set_ylim(-0.2, 4.2)
    ax.set_yticks(range(5))
    ax.set_title("ASTCT CRS grade", fontsize=9)
    axes[0].legend(fontsize=7)
    fig.supxlabel("time (h)", fontsize=9)
    return _save(fig, path)


def plot_network(graph: nx.DiGraph, path: str | Path, title: str = "") -> Path:
    """The graph of reactions that fired: red edges make, blue edges remove; width grows with turnover."""
    import networkx as nx

    fig, (ax,) = _figure(1, 1, 10, 8)
    ax.set_axis_off()
    ax.set_title(title or "what fired", fontsize=10)
    if graph.number_of_nodes() == 0:
        ax.text(0.5, 0.5, "no reaction rose at least two-fold over rest", ha="center", va="center")
        return _save(fig, path)
    pos = nx.kamada_kawai_layout(graph.to_undirected())
    turnover = np.array([d["turnover"] for _, _, d in graph.edges(data=True)])
    width = 0.8 + 3.0 * np.log10(1 + 9 * turnover / turnover.max())
    colours = ["#c0392b" if d["sign"] == "+" else "#2e86c1" for _, _, d in graph.edges(data=True)]
    nx.draw_networkx_edges(graph, pos, ax=ax, width=width, edge_color=colours, arrowsize=12,
                           connectionstyle="arc3,rad=0.08", node_size=900)
    nodes = list(graph.nodes)
    nx.draw_networkx_nodes(graph, pos, ax=ax, nodelist=nodes, node_size=900,
                           node_color=[_KIND_COLOURS.get(graph.nodes[n]["kind"], "#bab0ac") for n in nodes])
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=7)
    return _save(fig, path)
