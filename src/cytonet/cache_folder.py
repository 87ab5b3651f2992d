"""Where cytonet keeps what it computes once and reads back: checked knowledge bases, generated kernels, large parsed
YAML documents. ``CYTONET_CACHE_DIR`` moves it; an empty value switches caching off."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is switched off."""
    env = os.environ.get("CYTONET_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cytonet"
