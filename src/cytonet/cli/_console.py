"""The CLI's rich console, created per call so terminal width is read when a command runs."""

from __future__ import annotations

from rich.console import Console


def console() -> Console:
    """A console sized to the current terminal (``COLUMNS`` is honoured at call time)."""
    return Console()
