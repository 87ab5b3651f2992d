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
from cytonet.limits import QUERY_MEMORY

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
    """The run's manifest, or None when ``out`` has none; a damaged one raises ``RunStoreError``."""
    from cytonet.errors import InputError
    from cytonet.io import parse_user_json, read_user_text

    f = out / MANIFEST
    if not f.is_file():
        return None
    try:
        found = parse_user_json(read_user_text(f, "run manifest"), str(f))
    except InputError as err:
        raise RunStoreError(f"{err}; delete the directory to start the run afresh") from None
    done = found.get("completed") if isinstance(found, dict) else None
    if not (isinstance(done, dict) and all(str(k).isdigit() for k in done) and isinstance(found.get("n_partitions", 0), int)):
        raise RunStoreError(f"{f} is not a cytonet run manifest (no 'completed' partitions); delete the directory to start afresh")
    return found


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / MANIFEST, lambda tmp: tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True)))


def open_manifest(out: Path, config: dict[str, Any], config_hash: str, n_partitions: int) -> dict[str, Any]:
    """The manifest to continue: a fresh one, or the existing one if its config hash matches."""
    if out.exists() and not out.is_dir():
        raise RunStoreError(f"--out {str(out)!r} is a file; give a new or empty directory for the run")
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


def coverage(out: str | Path) -> tuple[int, int]:
    """(patients in completed partitions, patients configured) of a run directory."""
    manifest = read_manifest(Path(out))
    if manifest is None:
        raise RunStoreError(f"{str(out)!r} is not a population run directory (no {MANIFEST}); run 'cytonet population … --out DIR' first")
    done = sum(int(v.get("rows", 0)) for v in manifest["completed"].values() if isinstance(v, dict))
    total = (manifest.get("config") or {}).get("n", done)
    return done, int(total) if isinstance(total, int) else done


def completed_files(out: Path, manifest: dict[str, Any], table: str) -> list[Path]:
    """The Parquet partitions of ``table`` that the manifest lists as completed, in partition order."""
    return [f for k in sorted(manifest["completed"], key=int) if (f := part_path(out, table, int(k))).exists()]


def connect(run_dir: str | Path) -> Any:
    """A sandboxed DuckDB connection with views ``patients`` (and ``trajectories``) over the completed partitions.

    The database is in memory and its only readable files are the run's own partitions
    (``allowed_paths``); external access is then switched off and the configuration locked, so no
    statement can read other files, write files, attach databases, reach the network or install
    and load extensions. Extension auto-install and auto-load are off, memory is capped
    (``cytonet.limits.QUERY_MEMORY``) and nothing spills to disk.
    """
    import duckdb

    out = Path(run_dir)
    if out.exists() and not out.is_dir():
        raise RunStoreError(f"{str(out)!r} is a file, not a population run directory; give the folder of 'cytonet population --out'")
    manifest = read_manifest(out)
    if manifest is None:
        raise RunStoreError(f"{str(out)!r} is not a population run directory (no {MANIFEST}); run 'cytonet population … --out DIR' first")
    files = {t: [str(f.resolve()) for f in completed_files(out, manifest, t)] for t in TABLES}
    if not files["patients"]:
        raise RunStoreError(f"{str(out)!r} has no finished partitions yet; run or resume the population first")
    con = duckdb.connect(":memory:", config={
        "autoinstall_known_extensions": False, "autoload_known_extensions": False, "allow_community_extensions": False,
        "allow_unsigned_extensions": False, "allow_persistent_secrets": False, "memory_limit": QUERY_MEMORY,
        "temp_directory": "", "threads": 2,
    })
    con.execute("SET allowed_paths = ?", [[f for fs in files.values() for f in fs]])
    for table, fs in files.items():
        if fs:  # table names are our constants; the paths are quoted as SQL string literals
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in fs)
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listing}])")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con
