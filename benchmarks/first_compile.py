"""First compile of the generated lock-step kernels: this checkout's generators against another revision's.

The generators of ``--base`` (default ``main``, loaded from git) and of this checkout each write the sources of a
scenario's generated modules (default lps-endotoxemia, ``--lanes`` 32): the sparse LU (``lu``), the triangular solves
alone (``solve``) and, with ``--parts lu,solve,kernels``, the whole right-hand side, Jacobian and solves module
(``kernels``). Each source is then compiled in a fresh process from a fresh folder (so numba's disk cache is empty),
after numba's own start-up (a trivial function compiled first): the CPU and wall seconds of the import, which is the
compile. The two revisions alternate, the base first in even rounds; the machine may be shared, so the load average is
printed beside every timing. Whether the two sources give bit-identical results is the tests' and
``benchmarks/kernels_identical.py``'s business; this script only times.
Run: ``python benchmarks/first_compile.py [--base REV] [--scenario NAME] [--lanes 32] [--parts lu,solve] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from against_base import base_module  # the benchmarks' folder is on the path when run as a script

ROOT = Path(__file__).resolve().parent.parent


def generators(rev: str, folder: Path) -> tuple[ModuleType, ModuleType]:
    """(lane_codegen, lane_lu) as they are at git revision ``rev``, imported under names of their own (the LU's
    generator takes that revision's ``_Locals``)."""
    g = base_module(rev, "cytonet/engine/lane_codegen.py", folder)
    return g, base_module(rev, "cytonet/engine/lane_lu.py", folder, {"cytonet.engine.lane_codegen": g.__name__})


def write_sources(g: ModuleType, lu: ModuleType, M: tuple, ncode: np.ndarray, lanes: int, folder: Path) -> None:
    """The generated modules' sources of generators ``g`` and ``lu``, written into ``folder``."""
    S, _, L, dst = M
    folder.mkdir()
    head = g._HEADER.split("\n\n\n@nb.njit(RHS_SIG")[0] + "\n"
    (folder / "lu.py").write_text(lu.module_source(L, lanes))
    (folder / "solve.py").write_text(head + g._SOLVE_HEAD + "\n".join(g.solve_source(L, lanes)) + "\n")
    (folder / "kernels.py").write_text(g.module_source(S, ncode, dst, L, lanes))


def compile_one(path: Path) -> dict[str, float]:
    """Import the generated module at ``path`` (a fresh folder: numba's cache is empty): its CPU and wall seconds."""
    import numba as nb

    import cytonet.engine.lockstep  # noqa: F401  (its own kernels load from their cache, outside the timing)

    nb.njit("float64(float64)")(lambda x: x + 1.0)  # numba's lazy start-up, outside the timing
    c, w = time.process_time(), time.perf_counter()
    spec = importlib.util.spec_from_file_location(path.stem + "_timed", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)  # safe: the file was written by cytonet's generators (write_sources)
    return {"cpu": time.process_time() - c, "wall": time.perf_counter() - w}


def run_child(args: list[str]) -> str:
    return subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="main")
    ap.add_argument("--scenario", default="lps-endotoxemia")
    ap.add_argument("--lanes", type=int, default=32)
    ap.add_argument("--parts", default="lu,solve")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--compile", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.compile:
        print(json.dumps(compile_one(a.compile)))
        return
    from cytonet.engine import lane_codegen, lane_lu, lockstep, rodas
    from cytonet.population.runner import PopulationConfig, prepare
    from cytonet.population.sampling import load_variation

    cm = prepare(PopulationConfig(scenario=a.scenario, n=1000, variation=load_variation()).to_json()).arms["untreated"]
    M = rodas.model_arrays(cm)
    ncode = lockstep.hill_codes(cm.p[None, :], M[1][4])
    parts = a.parts.split(",")
    with tempfile.TemporaryDirectory() as d:
        trees = {a.base: generators(a.base, Path(d)), "this checkout": (lane_codegen, lane_lu)}
        for label, (g, lu) in trees.items():
            write_sources(g, lu, M, ncode, a.lanes, Path(d) / label.replace(" ", "_"))
        print(f"[{a.scenario}] generated modules on {a.lanes} lanes, first compile in a fresh process and cache folder; "
              f"base {a.base} against this checkout, alternated")
        for part in parts:
            sizes = {lb: (Path(d) / lb.replace(" ", "_") / f"{part}.py").read_text().count("\n") for lb in trees}
            print(f"  {part}: {' / '.join(f'{lb} {n} lines' for lb, n in sizes.items())}")
        times: dict[tuple[str, str], list[float]] = {}
        for r in range(a.rounds):
            for part in parts:
                order = list(trees) if r % 2 == 0 else list(trees)[::-1]
                for label in order:
                    fresh = Path(d) / f"c{r}_{part}_{label.replace(' ', '_')}"
                    fresh.mkdir()
                    src_file = fresh / f"gen_{part}.py"
                    src_file.write_text((Path(d) / label.replace(" ", "_") / f"{part}.py").read_text())
                    load = os.getloadavg()[0]
                    t = json.loads(run_child(["--compile", str(src_file)]).splitlines()[-1])
                    times.setdefault((part, label), []).append(t["cpu"])
                    print(f"  round {r} {part:<8} {label:<14} CPU {t['cpu']:7.1f} s, wall {t['wall']:7.1f} s "
                          f"(load {load:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
        for part in parts:
            b, n = times[(part, a.base)], times[(part, "this checkout")]
            print(f"  {part}: CPU {a.base} {min(b):.1f}-{max(b):.1f} s, this checkout {min(n):.1f}-{max(n):.1f} s; "
                  f"ratios per round {', '.join(f'{x / y:.2f}x' for x, y in zip(b, n))}")


if __name__ == "__main__":
    main()
