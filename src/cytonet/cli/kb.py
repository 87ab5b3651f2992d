"""``cytonet kb …``: show, list, search, talk, export and validate the knowledge base."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cytonet.cli._console import console

if TYPE_CHECKING:
    from cytonet.knowledge.view import Described

app = typer.Typer(help="Query, export and validate the cytokine knowledge base.", no_args_is_help=True)

#: record fields the card shows in its title or reference list rather than as rows
_SKIP = {"id", "name", "refs", "assumption"}


class Kind(StrEnum):
    cytokines = "cytokines"
    cells = "cells"
    receptors = "receptors"
    pathways = "pathways"
    diseases = "diseases"
    drugs = "drugs"
    references = "references"


class ExportFormat(StrEnum):
    json = "json"
    graphml = "graphml"
    csv = "csv"


def _kb():
    from cytonet.knowledge import load

    return load()


def _text(value: object) -> str:
    """A JSON field value as one line: lists comma-joined, sub-records as 'field value; …'."""
    if isinstance(value, list):
        return ", ".join(_text(x) for x in value)
    if isinstance(value, dict):
        if set(value) == {"cytokine", "stimulus"}:
            return f"{value['cytokine']} ({value['stimulus']})"
        return "; ".join(f"{k} {_text(x)}" for k, x in value.items() if x not in (None, []))
    return str(value)


def reference_line(ref: dict) -> str:
    """'Authors (year). Title. Journal. doi:…, PMID …' for a JSON reference record."""
    ids = [f"doi:{ref['doi']}"] if ref.get("doi") else []
    if ref.get("pmid"):
        ids.append(f"PMID {ref['pmid']}")
    return f"{ref['authors']} ({ref['year']}). {ref['title']}. {ref['journal']}. {', '.join(ids) or ref['id']}"


def card(described: Described) -> Panel:
    """A record as a titled panel of its fields, then its references (or its stated assumption)."""
    rec = described.record
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for field, value in rec.items():
        if field not in _SKIP and value not in (None, [], ""):
            table.add_row(Text(field.replace("_", " ")), Text(_text(value)))
    parts: list = [table, Text("")]
    if described.refs:
        parts.append(Text("References", style="bold"))
        parts += [Text(f"  • {reference_line(r)}") for r in described.refs]
    if rec.get("assumption"):
        parts.append(Text(f"Assumption: {rec['assumption']}", style="yellow"))
    title = Text.assemble((rec.get("name", rec["id"]), "bold"), f" · {described.kind} {rec['id']}")  # data, not markup
    return Panel(Group(*parts), title=title, title_align="left")


@app.command()
def show(name: Annotated[str, typer.Argument(help="id, name or alias of any record, e.g. IL-6, Th17, Actemra")]) -> None:
    """Show one record as a card, with its references."""
    from cytonet.knowledge import load_view

    console().print(card(load_view().describe(name)))


@app.command("list")
def list_(
    kind: Annotated[Kind, typer.Argument(help="which table")],
    family: Annotated[str | None, typer.Option(help="cytokine family, e.g. interleukin, chemokine")] = None,
    role: Annotated[str | None, typer.Option(help="cytokine role, e.g. pro-inflammatory")] = None,
) -> None:
    """List the records of one table (cytokines filtered by --family / --role)."""
    from cytonet.errors import CytonetError

    kb = _kb()
    if kind is Kind.cytokines:
        records = kb.cytokines(family=family, role=role)
    elif family or role:
        raise CytonetError(f"--family and --role filter cytokines only, not {kind.value}; drop them or list cytokines")
    else:
        records = kb.records(kind.value)
    table = Table(title=f"{len(records)} {kind.value}", title_justify="left")
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("name" if kind is not Kind.references else "title")
    table.add_column("details")
    for r in records:
        if kind is Kind.references:
            table.add_row(r.id, r.title, f"{r.authors} {r.year}, {r.journal}")
            continue
        detail = {
            Kind.cytokines: lambda: f"{r.family.value}, {r.role.value}",
            Kind.cells: lambda: r.category.value,
            Kind.receptors: lambda: r.receptor_class.value,
            Kind.pathways: lambda: r.kind.value,
            Kind.diseases: lambda: r.category.value,
            Kind.drugs: lambda: f"{r.mechanism.value} of {', '.join(r.targets)}",
        }[kind]()
        table.add_row(r.id, r.name, detail)
    console().print(table)


@app.command()
def search(text: Annotated[str, typer.Argument(help="text to look for in names, aliases and effects")]) -> None:
    """Find records whose names, aliases or effects contain TEXT (then close spellings)."""
    hits = _kb().search(text)
    if not hits:
        console().print(Text(f"no record matches {text!r}", style="yellow"))
        return
    table = Table(title=f"matches for {text!r}", title_justify="left")
    for col in ("kind", "id", "name", "matched"):
        table.add_column(col)
    for h in hits:
        table.add_row(h.kind, h.record.id, h.record.name, h.matched)
    console().print(table)


@app.command()
def talk(
    cell_a: Annotated[str, typer.Argument(help="secreting cell, e.g. macrophage")],
    cell_b: Annotated[str, typer.Argument(help="responding cell, e.g. Th17")],
) -> None:
    """Cytokines CELL_A secretes whose receptors CELL_B expresses, and the pathways they switch on."""
    from cytonet.cli._render import talk_table

    kb = _kb()
    a, b = kb.cell(cell_a), kb.cell(cell_b)
    talks = kb.talk(a.id, b.id)
    if not talks:
        console().print(Text(f"no known cytokine signal from {a.name} to {b.name}", style="yellow"))
        return
    console().print(talk_table(talks, a.name, b.name))


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="output file (json, graphml) or folder (csv: one file per table)")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="json, graphml or csv")] = ExportFormat.json,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace an existing OUT")] = False,
) -> None:
    """Export all records and references (json), the graph (graphml) or one CSV per table (csv folder)."""
    from cytonet.io import check_new_file, staged_folder
    from cytonet.knowledge.export import export as do_export

    if fmt is not ExportFormat.csv:
        check_new_file(out, overwrite, "OUT")
        paths = do_export(_kb(), fmt.value, out)
    else:
        with staged_folder(out, "kb-csv", overwrite, "OUT") as tmp:
            paths = [out / p.name for p in do_export(_kb(), fmt.value, tmp)]
    for path in paths:
        console().print(f"wrote {path}", markup=False)


@app.command()
def validate(
    data_dir: Annotated[Path | None, typer.Option("--data", help="folder of *.yaml to check (default: shipped data)")] = None,
) -> None:
    """Check every data file and the whole knowledge base; print all problems, exit 1 if any."""
    from cytonet.knowledge.base import validate as run_validation

    data, issues = run_validation(data_dir)
    counts = ", ".join(f"{len(t)} {s}" for s, t in data.tables.items())
    for issue in issues:
        console().print(Text(str(issue), style="red"), soft_wrap=True)
    if issues:
        console().print(Text(f"{len(issues)} problem(s) found ({counts})", style="bold red"), soft_wrap=True)
        raise typer.Exit(1)
    console().print(Text(f"knowledge base OK: {counts}", style="green"))
