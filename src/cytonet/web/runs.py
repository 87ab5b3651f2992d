"""Finished runs kept for downloads: server-chosen ids, server-owned folders, a closed set of file names.

A run's files are written on the first download (SBML export and report plots cost more than the
simulation), into ``<root>/<run id>/``; the file a request names must be one the writer produced,
so no user text ever becomes a path.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cytonet.errors import UnknownEntityError

#: downloadable files of one simulated run, and of an untreated-vs-treated comparison
RUN_FILES = ("report.html", "model.xml", "timecourse.csv", "timecourse.parquet", "summary.json", "model.yaml")
RUN_EXTRA = ("cytokines.png", "balance.png", "clinical.png", "network.png")
COMPARISON_FILES = ("report.html", "changes.csv")
COMPARISON_EXTRA = ("compare_cytokines.png", "compare_balance.png", "compare_clinical.png")

MEDIA = {".html": "text/html", ".xml": "application/xml", ".csv": "text/csv", ".json": "application/json",
         ".yaml": "application/yaml", ".parquet": "application/vnd.apache.parquet", ".png": "image/png"}


@dataclass
class Stored:
    """One downloadable result: its writer, the files it offers, and whether they exist yet."""

    id: str
    kind: str  # "run" or "comparison"
    write: Callable[[Path], None]
    files: tuple[str, ...]
    extra: tuple[str, ...]
    lock: threading.Lock = field(default_factory=threading.Lock)
    written: bool = False


class RunStore:
    """The last ``keep`` results, oldest evicted first (its folder removed with it)."""

    def __init__(self, root: Path, keep: int) -> None:
        self.root = root
        self.keep = keep
        self._items: OrderedDict[str, Stored] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, kind: str, write: Callable[[Path], None]) -> str:
        files, extra = (RUN_FILES, RUN_EXTRA) if kind == "run" else (COMPARISON_FILES, COMPARISON_EXTRA)
        rid = uuid.uuid4().hex[:16]
        with self._lock:
            self._items[rid] = Stored(rid, kind, write, files, extra)
            while len(self._items) > self.keep:
                old, _ = self._items.popitem(last=False)
                shutil.rmtree(self.root / old, ignore_errors=True)
        return rid

    def links(self, rid: str) -> dict[str, str]:
        """File name -> download URL of a stored result."""
        return {name: f"/api/runs/{rid}/{name}" for name in self.get(rid).files}

    def get(self, rid: str) -> Stored:
        with self._lock:
            item = self._items.get(rid)
        if item is None:
            raise UnknownEntityError("run", rid)
        return item

    def path(self, rid: str, name: str) -> Path:
        """The file ``name`` of result ``rid``, writing the result's folder first if needed (blocking)."""
        item = self.get(rid)
        if name not in item.files and name not in item.extra:
            from cytonet.errors import close_matches

            raise UnknownEntityError(f"file of {item.kind}", name, close_matches(name, item.files, cutoff=0.3))
        folder = self.root / rid
        with item.lock:
            if not item.written:
                folder.mkdir(parents=True, exist_ok=True)
                item.write(folder)
                item.written = True
        return folder / name
