"""Knowledge-base timings, each beside a reference run in the same process.

1. Cold start of ``cytonet kb show IL-6`` as a subprocess (median of 9; target < 0.5 s), beside
   ``python -c "pass"`` and beside the floor any typer command pays here: importing typer, its
   pydantic-based argument coercion and rich. The runs interleave, so machine load hits all alike.
2. In-process load of the shipped knowledge base: cold (parse YAML, validate, check), from the
   on-disk cache, and cached in memory; the reference is reading the raw YAML files with PyYAML.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 9
TARGET_S = 0.5
FLOOR = "import typer.main, typer._adapters, pydantic.plugin._loader, rich.console, rich.table, rich.panel"


def _median_runs(cmds: dict[str, list[str]], env: dict[str, str]) -> dict[str, float]:
    """Median wall time of each command, the commands run in turn ``REPEATS`` times."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(REPEATS):
        for key, cmd in cmds.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            times[key].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _timed(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    exe = shutil.which("cytonet", path=str(Path(sys.executable).parent)) or "cytonet"
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "CYTONET_CACHE_DIR": cache, "COLUMNS": "100"}
        first = subprocess.run([exe, "kb", "show", "IL-6"], env=env, capture_output=True, text=True)  # fills the cache
        if first.returncode != 0:
            sys.exit(f"`cytonet kb show IL-6` failed; run `cytonet kb validate`:\n{first.stderr}")
        med = _median_runs(
            {"ref": [sys.executable, "-c", "pass"], "floor": [sys.executable, "-c", FLOOR], "cli": [exe, "kb", "show", "IL-6"]},
            env,
        )
        ref, floor, cli = med["ref"], med["floor"], med["cli"]
        verdict = "meets" if cli < TARGET_S else "MISSES"
        print(f"cold start `cytonet kb show IL-6`: {cli:.3f} s median of {REPEATS} ({verdict} the {TARGET_S} s target)")
        print(f"  reference `python -c pass`:     {ref:.3f} s   ratio {cli / ref:.1f}x")
        print(f"  floor: import typer (pydantic coercion) + rich: {floor:.3f} s   ratio {cli / floor:.2f}x")

        os.environ["CYTONET_CACHE_DIR"] = cache
        import yaml

        from cytonet.knowledge import load
        from cytonet.knowledge.base import KnowledgeBase
        from cytonet.knowledge.cache import load_cached
        from cytonet.knowledge.files import data_files

        raw = _timed(lambda: [yaml.load(f.read_text(), Loader=yaml.CSafeLoader) for f in data_files()])
        cold = _timed(KnowledgeBase.from_directory)
        disk = _timed(load_cached)
        load()
        warm = _timed(load)
        print(f"KB load cold (parse, validate, check): {cold * 1e3:8.1f} ms   ratio {cold / raw:6.1f}x")
        print(f"KB load from disk cache:               {disk * 1e3:8.1f} ms   ratio {disk / raw:6.1f}x")
        print(f"KB load cached in memory:              {warm * 1e3:8.3f} ms   ratio {warm / raw:6.4f}x")
        print(f"  reference: PyYAML (libyaml) parse of the data files: {raw * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
