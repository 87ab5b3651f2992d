"""The ``cytonet`` command line: a root group whose commands are imported only when invoked.

Register a command in ``COMMANDS`` with one line, ``name: (module, attribute, one-line help)``:
the attribute is either a ``typer.Typer`` (a command group such as ``cytonet kb …``) or a plain
function (a single command such as ``cytonet demo``). ``cytonet --help`` lists every entry from this
table without importing its module; the help text must match the group's ``help=`` or the
function's first docstring line (a test checks). Command modules import only typer and rich at
module level; heavy libraries are imported inside commands.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from cytonet.errors import CytonetError

#: command name -> (module, attribute: a typer.Typer group or a command function, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "kb": ("cytonet.cli.kb", "app", "Query, export and validate the cytokine knowledge base."),
    "model": ("cytonet.cli.model", "app", "Check, export and import model specs."),
    "demo": ("cytonet.cli.demo", "demo", "Tour the knowledge base, then compare sepsis with a resolving infection in OUT."),
    "population": ("cytonet.cli.population", "population", "Simulate a virtual patient population of a scenario into a Parquet run directory."),
    "runs": ("cytonet.cli.runs", "app", "Query and summarise population run directories."),
    "simulate": ("cytonet.cli.simulate", "simulate", "Run a scenario, analyse it and write data, SBML and a report to OUT (or run an SBML model with --model)."),
    "scenarios": ("cytonet.cli.scenarios", "app", "List and show the shipped simulation scenarios."),
    "report": ("cytonet.cli.report", "report", "Rebuild the plots, summary.json and report.html of a run folder."),
    "treat": ("cytonet.cli.treat", "treat", "Run a scenario untreated and treated; write overlay plots and a table of changes to OUT."),
    "drugs": ("cytonet.cli.drugs", "app", "List modelled drugs and show their PK/PD records."),
    "sensitivity": ("cytonet.cli.sensitivity", "app", "Global (Sobol, Morris) and local sensitivity and identifiability of a scenario's outcomes."),
    "fit": ("cytonet.cli.fit", "fit", "Evaluate (--nominal) or fit a PEtab problem; write objective, estimates, plots and report.html to OUT."),
}


class _Unloaded(TyperCommand):
    """Stands in for a registered command in help listings and typo suggestions until it is invoked."""


class LazyGroup(TyperGroup):
    """A group whose ``get_command`` imports a registered command's module on first use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_module, _attr, help_text) in COMMANDS.items():
            self.commands.setdefault(name, _Unloaded(name, help=help_text, rich_markup_mode=self.rich_markup_mode))
        self._listing = False

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        cmd = super().get_command(ctx, cmd_name)
        if isinstance(cmd, _Unloaded) and not self._listing:
            cmd = self.commands[cmd_name] = self._load(cmd_name)
        return cmd

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        """Help lists the registered one-line helps without importing any command module."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def _load(self, name: str) -> Any:
        module, attr, _help = COMMANDS[name]
        obj = getattr(import_module(module), attr)
        if isinstance(obj, typer.Typer):
            return get_group_from_info(
                TyperInfo(obj, name=name),
                pretty_exceptions_short=obj.pretty_exceptions_short,
                suggest_commands=obj.suggest_commands,
                rich_markup_mode=self.rich_markup_mode,
            )
        return get_command_from_info(
            CommandInfo(name=name, callback=obj), pretty_exceptions_short=True, rich_markup_mode=self.rich_markup_mode
        )


app = typer.Typer(
    cls=LazyGroup,
    name="cytonet",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """The human cytokine network: a referenced knowledge base and mechanistic simulation."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; print any ``CytonetError`` as one red line and exit with status 1."""
    try:
        app(args=argv, prog_name="cytonet")
    except CytonetError as err:
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True, soft_wrap=True).print(Text(f"error: {err}", style="red"))
        sys.exit(1)
