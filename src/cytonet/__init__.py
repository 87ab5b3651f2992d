"""cytonet: the human cytokine network, referenced and simulated."""

from __future__ import annotations

__version__ = "0.1.0"
