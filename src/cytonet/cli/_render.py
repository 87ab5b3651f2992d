"""Rich renderables for knowledge records (no science here: formatting only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from pydantic import BaseModel

    from cytonet.knowledge.base import KnowledgeBase, Talk
    from cytonet.knowledge.schema import Reference

_SKIP = {"id", "name", "refs", "assumption"}


def _value(v: object) -> str:
    if isinstance(v, list):
        return ", ".join(_value(x) for x in v)
    if hasattr(v, "model_dump"):
        d = v.model_dump(mode="json")
        if set(d) == {"cytokine", "stimulus"}:
            return f"{d['cytokine']} ({d['stimulus']})"
        return "; ".join(f"{k} {_value(x)}" for k, x in d.items() if x not in (None, []))
    return str(getattr(v, "value", v))


def reference_line(ref: Reference) -> str:
    ids = ", ".join(x for x in (f"doi:{ref.doi}" if ref.doi else "", f"PMID {ref.pmid}" if ref.pmid else "") if x)
    return f"{ref.authors} ({ref.year}). {ref.title}. {ref.journal}. {ids or ref.id}"


def card(kb: KnowledgeBase, kind: str, rec: BaseModel) -> Panel:
    """A record as a titled panel of its fields, then its references (or its stated assumption)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for name, value in rec:
        if name not in _SKIP and value not in (None, [], ""):
            table.add_row(name.replace("_", " "), Text(_value(value)))
    parts: list = [table, Text("")]
    refs = kb.refs_of(rec)
    if refs:
        parts.append(Text("References", style="bold"))
        parts += [Text(f"  • {reference_line(r)}") for r in refs]
    if rec.assumption:
        parts.append(Text(f"Assumption: {rec.assumption}", style="yellow"))
    return Panel(Group(*parts), title=f"[b]{rec.name}[/b] · {kind} {rec.id}", title_align="left")


def talk_table(talks: list[Talk], a: str, b: str) -> Table:
    table = Table(title=f"{a} → {b}", title_justify="left")
    for col in ("cytokine", "receptor on target", "pathways", "stimulus", "refs"):
        table.add_column(col)
    for t in talks:
        table.add_row(
            t.cytokine.name, t.receptor.id, ", ".join(p.id for p in t.pathways), t.stimulus, ", ".join(t.refs)
        )
    return table
