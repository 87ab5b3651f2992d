"""The run store of a population: a directory of Parquet partitions, a manifest, and DuckDB views.

Layout of ``DIR``::

    manifest.json                     config, its hash, completed partitions (rewritten atomically)
    patients/part-00000.parquet       one row per patient and arm: sampled parameters and outcomes
    trajectories/part-00000.parquet   optional: downsampled readouts, one row per patient, arm and time

Every file is written to a temporary name in the same directory and renamed into place, so a
killed run leaves either a whole partition or none; only partitions listed in the manifest count.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cytonet.errors import CytonetError

MANIFEST = "manifest.json"
TABLES = ("patients", "trajectories")


class RunStoreError(CytonetError):
    """A run directory that cannot be used as asked (another configuration, missing or damaged files)."""


def part_path(out: Path, table: str, k: int) -> Path:
    return out / table / f"part-{k:05d}.parquet"


def _atomic_write(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def write_table(path: Path, table: Any) -> None:
    """Write a pyarrow Table as one Parquet file, atomically."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def read_manifest(out: Path) -> dict[str, Any] | None:
    f = out / MANIFEST
    if not f.exists():
        return None
    try:
        return json.loads(f.read_text())
    except json.JSONDecodeError as err:
        raise RunStoreError(f"{f} is not valid JSON ({err}); delete the directory to start the run afresh") from None


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / MANIFEST, lambda tmp: tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True)))


def open_manifest(out: Path, config: dict[str, Any], config_hash: str, n_partitions: int) -> dict[str, Any]:
    """The manifest to continue: a fresh one, or the existing one if its config hash matches."""
    found = read_manifest(out)
    if found is None:
        if out.exists() and any(out.iterdir()):
            raise RunStoreError(f"output directory {str(out)!r} is not empty and holds no {MANIFEST}; choose an empty or new directory")
        manifest = {"config_hash": config_hash, "config": config, "n_partitions": n_partitions, "completed": {}, "finished": False}
        write_manifest(out, manifest)
        return manifest
    if found.get("config_hash") != config_hash:
        raise RunStoreError(f"{str(out)!r} holds a run of another configuration (hash {found.get('config_hash', '?')[:12]} "
                            f"vs {config_hash[:12]}); resume it with the same options, or give a new --out")
    for tmp in out.glob("*/.part-*.tmp"):  # debris of a killed writer
        tmp.unlink()
    done = found["completed"]
    for k in list(done):
        if not part_path(out, "patients", int(k)).exists():
            del done[k]
    return found


def connect(out: str | Path) -> Any:
    """A DuckDB connection with views ``patients`` (and ``trajectories`` when present) over the completed partitions."""
    import duckdb

    out = Path(out)
    manifest = read_manifest(out)
    if manifest is None:
        raise RunStoreError(f"{str(out)!r} is not a population run directory (no {MANIFEST}); run 'cytonet population … --out DIR' first")
    con = duckdb.connect()
    for table in TABLES:
        files = [f for k in sorted(manifest["completed"], key=int) if (f := part_path(out, table, int(k))).exists()]
        if files:
            listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listing}])")
        elif table == "patients":
            raise RunStoreError(f"{str(out)!r} has no finished partitions yet; run or resume the population first")
    return con
