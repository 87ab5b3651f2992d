"""Export the knowledge base: ``json`` (one file), ``graphml`` (the graph), ``csv`` (a folder).

The CSV export writes one ``<section>.csv`` per table into the folder ``out`` (list fields joined
with ``"; "``, nested fields flattened as ``serum_range.low`` …) plus ``cell_secretions.csv``
(``cell, cytokine, stimulus``) in place of the cells' nested ``secretes`` column. Every file is
written atomically.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from cytonet import __version__
from cytonet.errors import CytonetError
from cytonet.io import atomic_write, atomic_write_text
from cytonet.knowledge.base import KnowledgeBase
from cytonet.knowledge.loader import SECTIONS

FORMATS = ("json", "graphml", "csv")


def export(kb: KnowledgeBase, fmt: str, out: str | Path) -> list[Path]:
    """Write ``kb`` as ``fmt`` to ``out``; return the files written."""
    writers = {"json": export_json, "graphml": export_graphml, "csv": export_csv}
    if fmt not in writers:
        raise CytonetError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    return writers[fmt](kb, Path(out))


def to_dict(kb: KnowledgeBase) -> dict:
    """All records and references as plain JSON-ready data."""
    doc: dict = {"cytonet_version": __version__}
    for section in SECTIONS:
        doc[section] = [r.model_dump(mode="json") for r in kb.records(section)]
    return doc


def export_json(kb: KnowledgeBase, out: Path) -> list[Path]:
    return [atomic_write_text(out, json.dumps(to_dict(kb), indent=1, ensure_ascii=False) + "\n")]


def export_graphml(kb: KnowledgeBase, out: Path) -> list[Path]:
    import networkx as nx

    from cytonet.knowledge.graph import build_graph

    g = build_graph(kb)
    return [atomic_write(out, lambda p: nx.write_graphml(g, p))]


def export_csv(kb: KnowledgeBase, out: Path) -> list[Path]:
    if out.exists() and not out.is_dir():
        raise CytonetError(f"CSV export writes a folder of tables, but {str(out)!r} is a file; give a folder path")
    written = []
    for section in SECTIONS:
        rows = [_flatten(r.model_dump(mode="json", exclude={"secretes"})) for r in kb.records(section)]
        written.append(_write_csv(out / f"{section}.csv", rows))
    secretions = [{"cell": c.id, "cytokine": s.cytokine, "stimulus": s.stimulus} for c in kb.cells() for s in c.secretes]
    written.append(_write_csv(out / "cell_secretions.csv", secretions, ["cell", "cytokine", "stimulus"]))
    return written


def _flatten(row: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for k, v in row.items():
        if isinstance(v, dict):
            flat.update(_flatten(v, f"{prefix}{k}."))
        elif isinstance(v, list):
            flat[prefix + k] = "; ".join(map(str, v))
        else:
            flat[prefix + k] = "" if v is None else str(v)
    return flat


def _write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    fields = header or list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write(path, lambda p: p.write_text(buf.getvalue(), encoding="utf-8", newline=""))
