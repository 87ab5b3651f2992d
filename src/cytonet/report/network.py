"""Drawing of the "what fired" graph in layers: inputs → cells → pathways → cytokines → receptors → readouts.

Each species is a labelled box in the column of its kind; boxes in a column are evenly spaced and
ordered to shorten edges (barycentre sweeps), so no two boxes overlap. A key beside the graph gives
the colour of each kind, the meaning of edge colours and widths, and the full name of every
abbreviated species (``Mr``: resting monocytes/macrophages).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cytonet.report.plots import new_figure, save_png

if TYPE_CHECKING:
    import networkx as nx
    from matplotlib.figure import Figure

    from cytonet.model.spec import ModelSpec

#: columns left to right: (title, species kinds in it, box colour)
LAYERS = (
    ("triggers and drugs", ("trigger", "drug"), "#76b7b2"),
    ("cells", ("cell",), "#4e79a7"),
    ("pathways and cell states", ("state",), "#bab0ac"),
    ("cytokines", ("cytokine",), "#e15759"),
    ("receptors and complexes", ("receptor", "complex"), "#59a14f"),
    ("readouts", ("readout",), "#f28e2b"),
)
MAKES, REMOVES = "#c0392b", "#2e86c1"
_ROW_IN = 0.45  # vertical room per box, inches
_SWEEPS = 6


def layer_of(kind: str) -> int:
    """Column of a species kind (unknown kinds join the pathways and states column)."""
    return next((i for i, (_, kinds, _c) in enumerate(LAYERS) if kind in kinds), 2)


def layered_positions(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """(column, row) of every node: columns by kind (empty ones skipped), rows ordered by barycentre sweeps."""
    used = sorted({layer_of(graph.nodes[n].get("kind", "state")) for n in graph.nodes})
    column = {n: used.index(layer_of(graph.nodes[n].get("kind", "state"))) for n in graph.nodes}
    cols: list[list[str]] = [sorted((n for n in graph.nodes if column[n] == c), key=lambda n: (-graph.degree(n), n))
                             for c in range(len(used))]
    tallest = max(len(c) for c in cols)

    def rows() -> dict[str, float]:
        return {n: i - (len(c) - 1) / 2 + (tallest - 1) / 2 for c in cols for i, n in enumerate(c)}

    undirected = graph.to_undirected(as_view=True)
    for sweep in range(_SWEEPS):
        order = range(len(cols)) if sweep % 2 == 0 else reversed(range(len(cols)))
        for c in order:
            y = rows()
            cols[c].sort(key=lambda n: (np.mean([y[m] for m in undirected[n] if column[m] != c] or [y[n]]), n))
    y = rows()
    return {n: (float(column[n]), float(tallest - 1 - y[n])) for n in graph.nodes}


def _abbreviations(graph: nx.DiGraph, spec: ModelSpec | None) -> list[str]:
    """``id: name`` for every shown species whose id is not simply its name written differently."""
    if spec is None:
        return []
    names = {s.id: s.name or s.description for s in spec.species}

    def plain(x: str) -> str:
        return "".join(ch for ch in x.lower() if ch.isalnum())

    return [f"{n}: {names[n]}" for n in sorted(graph.nodes) if names.get(n) and plain(names[n]) != plain(n)]


def network_figure(graph: nx.DiGraph, spec: ModelSpec | None = None, title: str = "") -> Figure:
    """The fired graph in layers with a key; node label texts carry the gid ``node:<id>``."""
    from matplotlib.patches import Patch

    pos = layered_positions(graph) if graph.number_of_nodes() else {}
    top = max((y for _, y in pos.values()), default=0.0)
    used = sorted({layer_of(graph.nodes[n].get("kind", "state")) for n in graph.nodes})
    key = "\n".join(textwrap.fill(k, 52, subsequent_indent="   ") for k in _abbreviations(graph, spec))
    key_lines = len(used) + 4 + (key.count("\n") + 2 if key else 0)
    height = max(5.5, _ROW_IN * (top + 1) + 1.6, 0.16 * key_lines + 1.4)
    fig, (ax,) = new_figure(1, 1, 15, height)
    fig.subplots_adjust(left=0.01, right=0.70, top=1 - 0.9 / height, bottom=0.02)
    ax.set_axis_off()
    fig.suptitle(title or "what fired", fontsize=11, x=0.01, y=1 - 0.15 / height, ha="left", va="top")
    if not pos:
        ax.text(0.5, 0.5, "no reaction rose at least two-fold over rest", ha="center", va="center")
        return fig
    ax.set_xlim(-0.6, len(used) - 0.4)
    ax.set_ylim(-0.7, top + 0.9)
    for c, layer in enumerate(used):
        ax.text(c, top + 0.75, LAYERS[layer][0], ha="center", va="bottom", fontsize=9, color="0.25", style="italic")
    boxes = {}
    for n, (x, y) in pos.items():
        colour = LAYERS[layer_of(graph.nodes[n].get("kind", "state"))][2]
        boxes[n] = ax.text(x, y, n, ha="center", va="center", fontsize=8, zorder=3, gid=f"node:{n}",
                           color="white" if colour in ("#4e79a7", "#e15759") else "black",
                           bbox={"boxstyle": "round,pad=0.35", "fc": colour, "ec": "0.2", "lw": 0.6})
    fig.canvas.draw()  # the boxes need their size before arrows can be clipped to them
    turnover = np.array([d["turnover"] for _, _, d in graph.edges(data=True)])
    for (a, b, d), tv in zip(graph.edges(data=True), turnover):
        same = pos[a][0] == pos[b][0]
        ax.annotate("", xy=pos[b], xytext=pos[a], zorder=2,
                    arrowprops={"arrowstyle": "-|>", "color": MAKES if d["sign"] == "+" else REMOVES, "alpha": 0.8,
                                "lw": 0.7 + 2.5 * np.log10(1 + 9 * tv / turnover.max()), "mutation_scale": 10,
                                "connectionstyle": f"arc3,rad={0.45 if same else 0.08}",
                                "patchA": boxes[a].get_bbox_patch(), "patchB": boxes[b].get_bbox_patch()})
    handles = [Patch(fc=LAYERS[i][2], ec="0.2", label=LAYERS[i][0]) for i in used]
    handles += [Patch(color=MAKES, label="reaction makes the target"),
                Patch(color=REMOVES, label="reaction removes the target")]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.715, 1 - 0.9 / height), fontsize=8,
               title="colour key (edge width: excess turnover)", title_fontsize=8, frameon=False)
    if key:
        fig.text(0.715, 0.02, "abbreviations\n" + key, fontsize=7.5, va="bottom", ha="left", color="0.15",
                 linespacing=1.25)
    return fig


def plot_network(graph: nx.DiGraph, path: str | Path, title: str = "", spec: ModelSpec | None = None) -> Path:
    """Write :func:`network_figure` as a PNG."""
    return save_png(network_figure(graph, spec, title), path)
