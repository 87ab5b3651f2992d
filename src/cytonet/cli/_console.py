"""The CLI's rich console, created per call so terminal width is read when a command runs."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.table import Table

_NUMBER = re.compile(r"^[-+]?(\d[\d.,]*(e[-+]?\d+)?|nan|inf)( ?%| h)?$", re.IGNORECASE)


def _is_numeric(table: Table, i: int) -> bool:
    cells = [str(c) for c in table.columns[i].cells]
    return bool(cells) and all(_NUMBER.match(c.strip()) or c.strip() in ("", "-") for c in cells)


def readable(table: Table) -> Table:
    """Fold long cells onto more lines instead of cutting them with "…"; numeric columns are narrowed last.

    rich cuts a word longer than its column by default, which loses digits of numbers and parts of
    identifiers; folding keeps every character.
    """
    for i, col in enumerate(table.columns):
        col.overflow = "fold"
        col.no_wrap = _is_numeric(table, i)
    return table


class _Console(Console):
    """A console whose tables never lose text: cells fold, and output to a pipe or file is not narrowed."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: D102 - see the class docstring
        tables = [readable(o) for o in objects if isinstance(o, Table)]
        if tables and not self.is_terminal:
            unbounded = self.options.update_width(10_000)
            widest = max(self.measure(t, options=unbounded).maximum for t in tables)
            if widest > self.width:
                self.width = widest
        super().print(*objects, **kwargs)


def console() -> Console:
    """A console sized to the current terminal (``COLUMNS`` is honoured at call time).

    Emoji codes are off: identifiers such as ``cell:CL:0000545`` must print as written. Tables
    printed through it wrap and fold instead of cutting cells; when the output is not a terminal
    they print at their natural width whatever the width setting.
    """
    return _Console(emoji=False)


def warn(message: str) -> None:
    """A warning as one readable line on stderr: ``warning: …``."""
    from rich.text import Text

    Console(stderr=True, soft_wrap=True, emoji=False).print(Text(f"warning: {message}", style="yellow"))
