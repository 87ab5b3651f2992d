"""``cytonet drugs …``: the modelled drugs, their PK/PD records, regimens and references."""

from __future__ import annotations

from typing import Annotated

import typer

from cytonet.cli._console import console

def interval_text(hours: float) -> str:
    """A dosing interval as a prescriber writes it: ``168`` -> "every week", ``24`` -> "every day", ``8`` -> "every 8 h"."""
    for span, unit in ((168.0, "week"), (24.0, "day")):
        if hours % span == 0:
            n = int(hours // span)
            return f"every {unit}" if n == 1 else f"every {n} {unit}s"
    return f"every {hours:g} h"


def schedule_text(every_h: float | None, doses: int) -> str:
    """``(8, 1)`` -> "single dose (repeat no sooner than 8 h)"; ``(672, 6)`` -> "every 4 weeks, 6 doses"."""
    if doses == 1:
        return "single dose" + (f" (repeat no sooner than {every_h:g} h)" if every_h else "")
    return f"{interval_text(every_h)}, {doses} doses" if every_h else f"{doses} doses"


def dose_range_text(low: float, high: float, unit: str) -> str:
    """``(4, 12, "mg/kg")`` -> "4 to 12 mg/kg"; a single labelled dose -> "162 mg"."""
    return f"{low:g} {unit}" if low == high else f"{low:g} to {high:g} {unit}"


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
        receptor = ["GR (with cortisol)"] if d.mechanism == "glucocorticoid" else []
        targets = [d.membrane_target or "", *d.soluble_targets, *d.blocks, *d.kinases, *d.suppresses, *receptor]
        table.add_row(d.id, d.mechanism.value, ", ".join(dict.fromkeys(t for t in targets if t)), ", ".join(d.routes))
    console().print(table)


@app.command("show")
def show_cmd(name: Annotated[str, typer.Argument(help="drug INN or brand name, e.g. tocilizumab or Actemra")]) -> None:
    """PK table with references, labelled regimens, target and mechanism of NAME."""
    from rich.table import Table

    from cytonet import kb
    from cytonet.analysis.units import display_unit
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
        pk.add_row(key, f"{q.value:g}", display_unit(q.unit) or "–", (q.note + "; " if q.note else "") + q.source)
    out.print(pk)
    regs = Table("regimen", "route", "dose", "schedule", "note", "source")
    for g in d.regimens:
        regs.add_row(g.name, g.route, g.dose, schedule_text(g.every_h, g.doses), g.note, g.source)
    out.print(regs)
    for route, r in d.labelled_range.items():
        out.print(f"labelled {route} dose: {dose_range_text(r.low, r.high, r.unit)}", markup=False)
