"""The curated cytokine knowledge base: ``load()`` returns the shipped data, checked and cached."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cytonet.knowledge.base import KnowledgeBase


@cache
def load() -> KnowledgeBase:
    """The shipped knowledge base, validated once per process (and cached on disk by data hash)."""
    from cytonet.knowledge.cache import load_cached

    return load_cached()
