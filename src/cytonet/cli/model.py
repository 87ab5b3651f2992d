"""``cytonet model …``: work with model specs (export to SBML)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cytonet.cli._console import console

app = typer.Typer(help="Check and export model specs.", no_args_is_help=True)



@app.callback()
def _group() -> None:
    """Check and export model specs."""


@app.command("export-sbml")
def export_sbml_cmd(
    spec: Annotated[Path, typer.Argument(help="model spec (YAML or JSON)")],
    out: Annotated[Path, typer.Argument(help="SBML file to write, e.g. model.xml")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace OUT if it exists")] = False,
) -> None:
    """Export SPEC as SBML Level 3 Version 2 (checked with libsbml) to OUT."""
    from cytonet.io import check_new_file
    from cytonet.model.sbml import export_sbml
    from cytonet.model.spec import load_spec

    check_new_file(out, overwrite, "OUT")
    model = load_spec(spec)
    path = export_sbml(model, out)
    console().print(f"wrote {path} (model {model.id!r}: {len(model.species)} species, {len(model.reactions)} reactions)")
