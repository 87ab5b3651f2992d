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
    source: Annotated[str, typer.Argument(help="model spec file (YAML or JSON) or a scenario id, e.g. lps-endotoxemia")],
    out: Annotated[Path, typer.Argument(help="SBML file to write, e.g. model.xml")],
) -> None:
    """Export SOURCE as SBML Level 3 Version 2 (checked with libsbml) to OUT.

    A scenario starts from its host's resting state, as `cytonet simulate` does (delay-chain
    transit states included); a spec file starts from its own initial values, as `simulate` of
    that spec does.
    """
    from cytonet.model.sbml import export_sbml
    from cytonet.model.spec import load_spec

    if Path(source).suffix.lower() in {".yaml", ".yml", ".json"} or Path(source).is_file():
        model, initial = load_spec(source), None
    else:
        from cytonet.scenarios import scenario_model

        model, initial = scenario_model(source)
    path = export_sbml(model, out, initial)
    start = "its resting state" if initial is not None else "the spec's initial values"
    console().print(f"wrote {path} (model {model.id!r}: {len(model.species)} species, {len(model.reactions)} reactions; "
                    f"starts from {start})")
