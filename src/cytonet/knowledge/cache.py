"""On-disk cache of the checked knowledge base, keyed by a hash of the data files.

A cache hit skips YAML parsing and the whole-KB checks; ``load_cached`` still re-validates records
with pydantic from plain JSON (no pickle, so a cache file cannot run code), while ``read_view`` serves
the same JSON records as they are, for one-record queries. Set ``CYTONET_CACHE_DIR`` to move the
cache, or to an empty string to switch it off. This module imports pydantic and YAML only on a miss.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from cytonet import __version__
from cytonet.cache_folder import cache_dir
from cytonet.knowledge.files import data_files
from cytonet.knowledge.view import CachedView

if TYPE_CHECKING:
    from cytonet.knowledge.base import KnowledgeBase
    from cytonet.knowledge.loader import KBData


def data_hash() -> str:
    """SHA-256 over the shipped data files (names and bytes) and the cytonet version."""
    h = hashlib.sha256(__version__.encode())
    for f in data_files():
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def cache_path() -> Path | None:
    """The cache file for the current data, or None when caching is switched off."""
    folder = cache_dir()
    return folder / f"kb-{data_hash()[:32]}.json" if folder is not None else None


def load_cached() -> KnowledgeBase:
    """The shipped knowledge base: from the cache when the data are unchanged, else loaded, checked, cached."""
    from cytonet.knowledge.base import KnowledgeBase

    path = cache_path()
    doc = _read(path)
    if doc is not None:
        try:
            return KnowledgeBase(_decode(doc))
        except (ValueError, KeyError, TypeError):
            pass  # stale or damaged cache file: rebuild it below
    kb = KnowledgeBase.from_directory()
    if path is not None:
        from cytonet.io import atomic_write_text

        try:
            atomic_write_text(path, json.dumps(_encode(kb.data)))
        except OSError:
            pass  # a read-only home must not stop cytonet from working
    return kb


def read_view() -> CachedView | None:
    """The cached records of the current data as a ``CachedView``; None when off, missing or unreadable.

    The records were validated and cross-checked before they were cached under this data hash.
    """
    doc = _read(cache_path())
    if doc is None:
        return None
    try:
        return CachedView({s: {item["record"]["id"]: item["record"] for item in items} for s, items in doc.items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _read(path: Path | None) -> dict | None:
    if path is None or not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _encode(data: KBData) -> dict:
    return {
        section: [
            {"origin": list(vars(data.origins[(section, rid)]).values()), "record": rec.model_dump(mode="json")}
            for rid, rec in table.items()
        ]
        for section, table in data.tables.items()
    }


def _decode(doc: dict) -> KBData:
    from cytonet.knowledge.loader import SECTIONS, KBData, Origin

    data = KBData()
    for section, (model, _kind) in SECTIONS.items():
        for item in doc[section]:
            rec = model.model_validate(item["record"])
            data.tables[section][rec.id] = rec
            data.origins[(section, rec.id)] = Origin(*item["origin"])
    return data
