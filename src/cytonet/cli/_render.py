"""Rich renderables for knowledge relations (no science here: formatting only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from cytonet.knowledge.base import Talk


def talk_table(talks: list[Talk], a: str, b: str) -> Table:
    """How cell A signals to cell B, one row per cytokine-receptor pair."""
    table = Table(title=f"{a} → {b}", title_justify="left")
    for col in ("cytokine", "receptor on target", "pathways", "stimulus", "refs"):
        table.add_column(col)
    for t in talks:
        table.add_row(
            t.cytokine.name, t.receptor.id, ", ".join(p.id for p in t.pathways), t.stimulus, ", ".join(t.refs)
        )
    return table
