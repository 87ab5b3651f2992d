"""``cytonet scenarios …``: list the shipped scenarios and show one."""

from __future__ import annotations

from typing import Annotated

import typer

from cytonet.cli._console import console

app = typer.Typer(help="List and show the shipped simulation scenarios.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """List and show the shipped simulation scenarios."""


@app.command("list")
def list_cmd() -> None:
    """One line per scenario: id, horizon and name."""
    from cytonet.scenarios import list_scenarios

    for sc in list_scenarios():
        console().print(f"{sc.id:<20} {sc.t_end:>6g} h  {sc.name}", markup=False, highlight=False)


@app.command("show")
def show_cmd(name: Annotated[str, typer.Argument(help="scenario id")]) -> None:
    """Everything a scenario sets: description, horizon, host parameters, trigger events, readouts, provenance."""
    from rich.table import Table

    from cytonet.scenarios import load_scenario

    sc = load_scenario(name)
    c = console()
    c.print(f"[bold]{sc.id}[/bold] · {sc.name}")
    c.print(sc.description, markup=False)
    c.print(f"horizon {sc.t_end:g} h; readouts: {', '.join(sc.readouts) or '-'}", markup=False)
    if sc.parameters:
        c.print("host parameters: " + ", ".join(f"{k}={v:g}" for k, v in sc.parameters.items()), markup=False)
    if sc.events:
        table = Table(title="events", title_justify="left")
        table.add_column("event")
        table.add_column("details")
        for e in sc.events:
            d = e.model_dump(exclude_none=True)
            table.add_row(str(d.pop("id", "")), ", ".join(f"{k}={v}" for k, v in d.items()))
        c.print(table)
    if sc.refs:
        c.print("refs: " + ", ".join(sc.refs), markup=False)
    if sc.assumption:
        c.print(f"assumption: {sc.assumption}", markup=False)
