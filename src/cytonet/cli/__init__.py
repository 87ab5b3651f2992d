"""The ``cytonet`` command line: a root group whose commands are imported only when invoked.

Register a command in ``COMMANDS`` with one line, ``name: (module, attribute, one-line help)``:
the attribute is either a ``typer.Typer`` (a command group such as ``cytonet kb …``) or a plain
function (a single command such as ``cytonet demo``). ``cytonet --help`` lists every entry from this
table without importing its module; the help text must match the group's ``help=`` or the
function's first docstring line (a test checks). Command modules import only typer and rich at
module level; heavy libraries are imported inside commands.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from importlib import import_module
from typing import Annotated, Any, NoReturn

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
    "population": ("cytonet.cli.population", "population", "Simulate a virtual patient population of a scenario into a Parquet run directory (or of an SBML model with --model)."),
    "runs": ("cytonet.cli.runs", "app", "Query and summarise population run directories."),
    "simulate": ("cytonet.cli.simulate", "simulate", "Run a scenario, analyse it and write data, SBML and a report to OUT (or run an SBML model with --model)."),
    "scenarios": ("cytonet.cli.scenarios", "app", "List and show the shipped simulation scenarios."),
    "report": ("cytonet.cli.report", "report", "Rebuild the plots, summary.json and report.html of a run folder."),
    "treat": ("cytonet.cli.treat", "treat", "Run a scenario untreated and treated; write both time courses, a table of changes and a report to OUT."),
    "drugs": ("cytonet.cli.drugs", "app", "List modelled drugs and show their PK/PD records."),
    "sensitivity": ("cytonet.cli.sensitivity", "app", "Global (Sobol, Morris) and local sensitivity and identifiability of a scenario's outcomes."),
    "serve": ("cytonet.cli.serve", "serve", "Serve the cytokine network explorer and its JSON API (OpenAPI at /openapi.json)."),
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
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="on an error, also print the Python traceback")] = False,
) -> None:
    """The human cytokine network: a referenced knowledge base and mechanistic simulation."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; every failure ends in one line ``error: …`` and a non-zero exit status.

    ``CytonetError`` (bad input) and usage errors say what to do; an interrupt, a full disk or an
    unreadable path is one line too; anything else is reported as an internal error. ``--debug``
    (anywhere on the command line) or ``CYTONET_DEBUG=1`` also prints the traceback. Warnings
    print as one line ``warning: …``.
    """
    from typer._click import exceptions as click  # typer bundles its own click

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("CYTONET_DEBUG", "") not in ("", "0")
    args = [a for a in args if a != "--debug"]
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            rc = app(args=args, prog_name="cytonet", standalone_mode=False)
        except click.NoArgsIsHelpError as err:
            err.show()
            sys.exit(err.exit_code)
        except click.UsageError as err:
            where = err.ctx.command_path if err.ctx is not None else "cytonet"
            _fail(f"{err.format_message().replace('Value error, ', '')} (see '{where} --help')", debug, 2)
        except click.ClickException as err:
            _fail(err.format_message(), debug)
        except typer.Abort:
            _fail("interrupted", debug, 130)
        except CytonetError as err:
            _fail(str(err), debug)
        except MemoryError:
            _fail("out of memory; ask for less (fewer patients, points or hours) or free memory", debug)
        except OSError as err:
            what = f"{err.filename}: " if err.filename else ""
            _fail(f"{what}{err.strerror or err}; check the path, its permissions and free disk space", debug)
        except RecursionError:
            _fail("input nested too deeply to process; simplify it", debug)
        except Exception as err:  # noqa: BLE001 - the last resort: a bug, still one line for the user
            _fail(f"internal error ({type(err).__name__}: {_first_line(str(err))}); please report it with the "
                  "output of 'cytonet --debug …'", debug)
    if rc == 130:
        _fail("interrupted", debug, 130)
    sys.exit(rc if isinstance(rc, int) else 0)


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    return f"{lines[0]} (and {len(lines) - 1} more line(s); --debug shows them)"


def _fail(message: str, debug: bool, code: int = 1) -> NoReturn:
    """Print ``error: message`` as one red line on stderr (after the traceback with ``--debug``) and exit."""
    from rich.console import Console
    from rich.text import Text

    if debug and sys.exc_info()[0] is not None:
        traceback.print_exc()
    Console(stderr=True, soft_wrap=True, emoji=False).print(Text(f"error: {_first_line(message)}", style="red"))
    sys.exit(code)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Warnings as one readable line ``warning: …`` (not Python's file:line format)."""
    from cytonet.cli._console import warn

    warn(_first_line(str(message)))
