"""cytonet: the human cytokine network, referenced and simulated."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


#: public names served lazily from their modules, so ``import cytonet`` stays light
_LAZY = {
    "simulate": ("cytonet.engine.simulate", "simulate"),
    "simulate_batch": ("cytonet.engine.batch", "simulate_batch"),
    "treat": ("cytonet.therapy.pkpd", "treat"),
}


def __getattr__(name: str) -> Any:
    """``cytonet.kb`` (the shipped knowledge base) and the lazily imported public API (PEP 562)."""
    if name == "kb":
        from cytonet.knowledge import load

        return load()
    if name in _LAZY:
        from importlib import import_module

        module, attr = _LAZY[name]
        return getattr(import_module(module), attr)
    raise AttributeError(f"module 'cytonet' has no attribute {name!r}")
