"""The curated cytokine knowledge base: ``load()`` returns the shipped data, checked and cached.

``load_view()`` serves one-record queries (``describe``) from the disk cache without building the
validated models, falling back to ``load()`` when the cache is off or not yet written.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cytonet.knowledge.base import KnowledgeBase
    from cytonet.knowledge.view import CachedView


@functools.cache
def load() -> KnowledgeBase:
    """The shipped knowledge base, validated once per process (and cached on disk by data hash)."""
    from cytonet.knowledge.cache import load_cached

    return load_cached()


@functools.cache
def load_view() -> CachedView | KnowledgeBase:
    """The shipped records for ``describe`` look-ups: the cached JSON view when current, else ``load()``."""
    from cytonet.knowledge.cache import read_view

    return read_view() or load()
