"""The ``cytonet`` command line: a root typer app composed of one sub-app per command group.

Adding a command group is one line in ``_GROUPS`` (module path, attribute, name). Command modules
import only typer and rich at module level; heavy libraries are imported inside commands.
"""

from __future__ import annotations

import sys
from importlib import import_module

import typer

from cytonet.errors import CytonetError

app = typer.Typer(
    name="cytonet",
    help="The human cytokine network: a referenced knowledge base and mechanistic simulation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: sub-apps added with ``app.add_typer``: (module, attribute, command name)
_GROUPS: list[tuple[str, str, str]] = [
    ("cytonet.cli.kb", "app", "kb"),
    ("cytonet.cli.model", "app", "model"),
]
#: single top-level commands: (module, function, command name)
_COMMANDS: list[tuple[str, str, str]] = [
    ("cytonet.cli.demo", "demo", "demo"),
]

for _module, _attr, _name in _GROUPS:
    app.add_typer(getattr(import_module(_module), _attr), name=_name)
for _module, _attr, _name in _COMMANDS:
    app.command(name=_name)(getattr(import_module(_module), _attr))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; print any ``CytonetError`` as one red line and exit with status 1."""
    try:
        app(args=argv, prog_name="cytonet")
    except CytonetError as err:
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True, soft_wrap=True).print(Text(f"error: {err}", style="red"))
        sys.exit(1)
