"""On-disk cache of the checked knowledge base, keyed by a hash of the data files.

A cache hit skips YAML parsing and the whole-KB checks; records are still re-validated by
pydantic from plain JSON (no pickle, so a cache file cannot run code). Set ``CYTONET_CACHE_DIR``
to move the cache, or to an empty string to switch it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from cytonet import __version__
from cytonet.io import atomic_write_text
from cytonet.knowledge.base import KnowledgeBase
from cytonet.knowledge.loader import SECTIONS, KBData, Origin, data_files


def cache_dir() -> Path | None:
    """Where cached knowledge bases live, or None when caching is switched off."""
    env = os.environ.get("CYTONET_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cytonet"


def data_hash() -> str:
    """SHA-256 over the shipped data files (names and bytes) and the cytonet version."""
    h = hashlib.sha256(__version__.encode())
    for f in data_files():
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def load_cached() -> KnowledgeBase:
    """The shipped knowledge base: from the cache when the data are unchanged, else loaded, checked, cached."""
    folder = cache_dir()
    path = folder / f"kb-{data_hash()[:32]}.json" if folder is not None else None
    if path is not None and path.is_file():
        try:
            return KnowledgeBase(_decode(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, KeyError, TypeError):
            pass  # unreadable or stale cache file: rebuild it below
    kb = KnowledgeBase.from_directory()
    if path is not None:
        try:
            atomic_write_text(path, json.dumps(_encode(kb.data)))
        except OSError:
            pass  # a read-only home must not stop cytonet from working
    return kb


def _encode(data: KBData) -> dict:
    return {
        section: [
            {"origin": list(vars(data.origins[(section, rid)]).values()), "record": rec.model_dump(mode="json")}
            for rid, rec in table.items()
        ]
        for section, table in data.tables.items()
    }


def _decode(doc: dict) -> KBData:
    data = KBData()
    for section, (model, _kind) in SECTIONS.items():
        for item in doc[section]:
            rec = model.model_validate(item["record"])
            data.tables[section][rec.id] = rec
            data.origins[(section, rec.id)] = Origin(*item["origin"])
    return data
