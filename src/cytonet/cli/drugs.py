"""``cytonet drugs …``: the modelled drugs, their PK/PD records, regimens and references."""

from __future__ import annotations

from typing import Annotated

import typer

from cytonet.cli._console import console

app = typer.Typer(help="List modelled drugs and show their PK/PD records.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """List modelled drugs and show their PK/PD records."""


@app.command("list")
def list_cmd() -> None:
    """Every drug with a PK/PD model: mechanism, targets, routes."""
    from rich.table import Table

    from cytonet.therapy import pk_data

    table = Table("drug", "mechanism", "targets", "routes")
    for d in pk_data().drugs.values():
        targets = [d.membrane_target or "", *d.soluble_targets, *d.blocks, *d.kinases, *d.suppresses]
        table.add_row(d.id, d.mechanism.value, ", ".join(dict.fromkeys(t for t in targets if t)), ", ".join(d.routes))
    console().print(table)


@app.command("show")
def show_cmd(name: Annotated[str, typer.Argument(help="drug INN or brand name, e.g. tocilizumab or Actemra")]) -> None:
    """PK table with references, labelled regimens, target and mechanism of NAME."""
    from rich.table import Table

    from cytonet import kb
    from cytonet.therapy import get_drug

    d = get_drug(name)
    rec = kb.drug(d.id)
    out = console()
    out.print(f"[bold]{d.id}[/bold] ({', '.join(rec.aliases)}) — {rec.drug_class.value}, targets {', '.join(rec.targets)}")
    out.print(f"mechanism: {rec.mechanism_text} [model: {d.mechanism.value}]")
    out.print(f"knowledge base: cytonet kb show {d.id}")
    pk = Table("parameter", "value", "unit", "source")
    pk.add_row("MW", f"{d.mw_kda.value:g}", "kDa", d.mw_kda.source)
    for key, q in d.params.items():
        pk.add_row(key, f"{q.value:g}", q.unit, (q.note + "; " if q.note else "") + q.source)
    out.print(pk)
    regs = Table("regimen", "route", "dose", "every", "doses", "note", "source")
    for g in d.regimens:
        regs.add_row(g.name, g.route, g.dose, f"{g.every_h:g} h" if g.every_h else "-", str(g.doses), g.note, g.source)
    out.print(regs)
    for route, r in d.labelled_range.items():
        out.print(f"labelled {route} dose: {r.low:g}-{r.high:g} {r.unit}")
