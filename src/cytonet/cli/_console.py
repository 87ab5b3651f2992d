"""The CLI's rich console, created per call so terminal width is read when a command runs."""

from __future__ import annotations

from rich.console import Console


def console() -> Console:
    """A console sized to the current terminal (``COLUMNS`` is honoured at call time).

    Emoji codes are off: identifiers such as ``cell:CL:0000545`` must print as written.
    """
    return Console(emoji=False)


def warn(message: str) -> None:
    """A warning as one readable line on stderr: ``warning: …``."""
    from rich.text import Text

    Console(stderr=True, soft_wrap=True, emoji=False).print(Text(f"warning: {message}", style="yellow"))
