"""Solve the compiled model: one run (``simulate``) or many (``simulate_batch``), events included."""

from __future__ import annotations

from typing import Any

__all__ = ["simulate", "simulate_batch"]


def __getattr__(name: str) -> Any:
    """Import the numba engine on first use only (PEP 562)."""
    if name == "simulate":
        from cytonet.engine.simulate import simulate

        return simulate
    if name == "simulate_batch":
        from cytonet.engine.batch import simulate_batch

        return simulate_batch
    raise AttributeError(f"module 'cytonet.engine' has no attribute {name!r}")
