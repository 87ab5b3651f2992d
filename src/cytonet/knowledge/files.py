"""Where the curated knowledge data live: the ``*.yaml`` files of a folder (default: shipped with cytonet)."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from cytonet.errors import KnowledgeDataError


def data_files(directory: Path | Traversable | None = None) -> list[Traversable]:
    """The ``*.yaml`` files of ``directory`` (default: the data shipped with cytonet), sorted by name."""
    root = directory if directory is not None else files("cytonet.knowledge") / "data"
    if isinstance(root, Path) and not root.is_dir():
        raise KnowledgeDataError(f"knowledge directory {str(root)!r} does not exist; pass a folder of *.yaml files")
    return sorted((f for f in root.iterdir() if f.name.endswith((".yaml", ".yml"))), key=lambda f: f.name)
