"""``cytonet model …``: work with model specs (export to SBML, import from SBML)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.cli._console import console

app = typer.Typer(help="Check, export and import model specs.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Check, export and import model specs."""


@app.command("export-sbml")
def export_sbml_cmd(
    source: Annotated[str, typer.Argument(help="model spec file (YAML or JSON) or a scenario id, e.g. lps-endotoxemia")],
    out: Annotated[Path, typer.Argument(help="SBML file to write, e.g. model.xml")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace OUT if it exists")] = False,
) -> None:
    """Export SOURCE as SBML Level 3 Version 2 (checked with libsbml) to OUT.

    A scenario starts from its host's resting state, as `cytonet simulate` does (delay-chain
    transit states included); a spec file starts from its own initial values, as `simulate` of
    that spec does.
    """
    from cytonet.io import check_new_file
    from cytonet.model.sbml import export_sbml
    from cytonet.model.spec import load_spec

    check_new_file(out, overwrite, "OUT")
    if Path(source).suffix.lower() in {".yaml", ".yml", ".json"} or Path(source).is_file():
        model, initial = load_spec(source), None
    else:
        from cytonet.scenarios import scenario_model

        model, initial = scenario_model(source)
    path = export_sbml(model, out, initial)
    start = "its resting state" if initial is not None else "the spec's initial values"
    console().print(f"wrote {path} (model {model.id!r}: {len(model.species)} species, {len(model.reactions)} reactions; "
                    f"starts from {start})")


@app.command("import-sbml")
def import_sbml_cmd(
    file: Annotated[Path, typer.Argument(help="SBML file (Level 3, or Level 2 Version 4)")],
    out: Annotated[Path | None, typer.Option(help="write the imported model spec here (YAML or JSON)")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace --out if it exists")] = False,
) -> None:
    """Import FILE as a cytonet model spec and report what was imported (constructs cytonet cannot run are refused)."""
    from cytonet.io import check_new_file
    from cytonet.model.sbml_import import read_sbml
    from cytonet.model.spec import TriggerEvent, dump_spec

    if out is not None:
        check_new_file(out, overwrite, "--out")
    imp = read_sbml(file)
    m = imp.spec
    rules = {k: sum(r.kind == k for r in m.rules) for k in ("assignment", "rate")}
    events = sum(isinstance(e, TriggerEvent) for e in m.events)
    console().print(f"imported {file} as model {m.id!r}: {len(m.compartments)} compartments, {len(m.species)} species, "
                    f"{len(m.parameters)} parameters, {len(m.reactions)} reactions, {rules['assignment']} assignment rules, "
                    f"{rules['rate']} rate rules, {len(m.initial_assignments)} initial assignments, {events} events")
    for note in imp.notes:
        console().print(note)
    if imp.renamed:
        console().print("renamed (SBML id -> cytonet id): " + ", ".join(f"{a} -> {b}" for a, b in imp.renamed.items()))
    if out is not None:
        dump_spec(m, out)
        console().print(f"wrote {out}")
