"""cytonet: the human cytokine network, referenced and simulated."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``cytonet.kb``: the shipped knowledge base, created on first use (PEP 562)."""
    if name == "kb":
        from cytonet.knowledge import load

        return load()
    raise AttributeError(f"module 'cytonet' has no attribute {name!r}")
