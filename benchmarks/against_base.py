"""This checkout's population stages against another git revision's, side by side in one process.

The lock-step driver (:mod:`cytonet.engine.lockstep`) and the rest states
(:mod:`cytonet.population.rest`) of ``--base`` (default ``main``) are loaded from git next to
today's, and both run the same patients of a scenario (default lps-endotoxemia, shipped
variation, seed 3) on one thread, alternately (base first in every other repeat), ``--repeats`` times: CPU time per patient of each,
the median ratio and its range, and whether the results are bit-identical. The simulation runs
on the generated kernels (built first when they are not; the same kernels serve both drivers)
and on the interpreted ones. Both rest-state modules relax through this checkout's driver, so the
driver's share of the rest states is timed on its own: the relaxation of the patients whose Newton
fails from the nominal rest state (the host model over ``relax_hours``, interpreted kernels), per
patient of the whole sample. The machine may be shared: the ratios are the numbers to trust.
Run: ``python benchmarks/against_base.py [--base REV] [--scenario NAME] [--n 1000] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def base_module(rev: str, path: str, folder: Path, imports: dict[str, str] | None = None) -> ModuleType:
    """Module ``path`` (inside src/) as it is at git revision ``rev``, imported under its own name (``base_`` and the
    path); ``imports`` maps modules it imports to base modules loaded before it (``cytonet.engine.lane_codegen`` ->
    ``base_cytonet_engine_lane_codegen``)."""
    src = subprocess.run(["git", "show", f"{rev}:src/{path}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for module, base in (imports or {}).items():
        src = src.replace(f"from {module} import", f"from {base} import")
    name = "base_" + path.replace("/", "_").removesuffix(".py")
    file = folder / f"{name}.py"
    file.write_text(src)
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # numba's cache finds the module by name
    spec.loader.exec_module(mod)
    return mod


def cpu(fn: Callable[[], T]) -> tuple[T, float]:
    """(fn(), the CPU seconds it took)."""
    c = time.process_time()
    out = fn()
    return out, time.process_time() - c


def in_turn(base: Callable[[], T], new: Callable[[], T], r: int) -> tuple[tuple[T, float], tuple[T, float]]:
    """(base(), its CPU seconds), (new(), its CPU seconds), run base first when ``r`` is even, else new first."""
    if r % 2 == 0:
        first = cpu(base)
        return first, cpu(new)
    second = cpu(new)
    return cpu(base), second


def arrays_for(lockstep: ModuleType, cm: Any) -> tuple:
    """``rodas.model_arrays(cm)`` with the LU plan's tuple as long as ``lockstep.lu_block`` unpacks it (revisions
    before the diagonal mask joined the plan take its first nine arrays)."""
    from cytonet.engine import rodas

    S, Q, L, dst = rodas.model_arrays(cm)
    names = next(ln for ln in inspect.getsource(lockstep.lu_block.py_func).splitlines() if ln.strip().endswith("= L"))
    return S, Q, L[: names.count(",") + 1], dst


def simulate(lockstep: ModuleType, cm: Any, table: dict, t: np.ndarray, generated: bool) -> tuple[np.ndarray, ...]:
    """The patients of ``table`` on ``lockstep``'s driver, as ``simulate_batch`` runs one chunk."""
    from cytonet.engine import lane_codegen, rodas
    from cytonet.engine.batch import GENERATED_LANES, LOCKSTEP_LANES, run_arrays
    from cytonet.engine.simulate import DEFAULT_MAX_STEPS, _check_tolerances

    arr = run_arrays(cm, table)
    n = arr["X0"].shape[0]
    M = arrays_for(lockstep, cm)
    ncode = lockstep.hill_codes(arr["P"], M[1][4])
    lanes = GENERATED_LANES if generated else LOCKSTEP_LANES
    kernels = lane_codegen.lane_kernels(M, ncode, lanes) if generated else None
    out, status, info = np.full((n, t.size, cm.n_species), np.nan), np.zeros(n, np.int64), np.zeros((n, rodas.N_INFO))
    lockstep.solve_lanes(arr["X0"], arr["P"], t, arr["bolus_time"], cm.bolus_species, arr["bolus_amount"], arr["inf_start"],
                         arr["inf_end"], cm.inf_species, arr["inf_rate"], M, ncode, 1e-6,
                         _check_tolerances(cm, 1e-6, 1e-9, DEFAULT_MAX_STEPS, np.inf), DEFAULT_MAX_STEPS, np.inf, lanes,
                         np.arange(n), out, status, info, kernels=kernels)
    return out, status, info


def relax_table(prep: Any, P: np.ndarray) -> tuple[dict[str, np.ndarray], int]:
    """(the batch :func:`cytonet.population.rest.rest_states` relaxes for parameter rows ``P``, its size): the patients
    whose Newton fails from the nominal rest state, at that state."""
    from cytonet.population import rest

    x_ref = np.where(np.abs(prep.x_ref) > rest.ZERO, prep.x_ref, 0.0)
    _, conv = rest.newton(rest._Kernels(prep.host, P), np.tile(x_ref, (P.shape[0], 1)), np.arange(P.shape[0]))
    bad = np.flatnonzero(~conv)
    table = {pid: P[bad, j] for j, pid in enumerate(prep.host.parameters)}
    table.update({sid: np.full(bad.size, max(x_ref[i], 0.0)) for i, sid in enumerate(prep.host.species)})
    return table, bad.size


def lu_per_lane(lockstep: ModuleType, cm: Any, X: np.ndarray, P: np.ndarray, calls: int = 200) -> tuple[float, np.ndarray]:
    """(best of 15 timings of ``lockstep.lu_block`` in ns per call and lane, its factors) on the first 128 patients'
    Jacobians at their rest states, dtg 10 (wall time of many short calls: their minimum is robust to other load)."""
    from cytonet.engine.batch import LOCKSTEP_LANES as B

    S, Q, L, dst = arrays_for(lockstep, cm)
    ncode = lockstep.hill_codes(P[:B], Q[4])
    C = lockstep.block_constants(np.ascontiguousarray(P[:B]), Q, ncode)
    jv = np.empty((L[2].shape[0], B))
    m_max = int(np.diff(S[0]).max(initial=1))
    lockstep.jac_block(np.ascontiguousarray(X[:B].T), C, S, ncode, dst, jv, np.empty((m_max, B)), np.empty((m_max, B)),
                       *np.empty((3, B)))
    a, ok, lik, big, dtg = np.empty_like(jv), np.ones(B, bool), np.empty(B), np.empty(B), np.full(B, 10.0)
    best = np.inf
    for _ in range(15):
        t = time.perf_counter()
        for _ in range(calls):
            lockstep.lu_block(jv, dtg, L, a, lik, big, ok)
        best = min(best, (time.perf_counter() - t) / calls / B * 1e9)
    return best, np.vstack([a, ok])


def compare(label: str, runs: list[tuple[float, float]], same: bool, n: int) -> None:
    base, new = np.array(runs).T
    r = base / new
    print(f"  {label:<34}{np.median(base) / n * 1e3:>9.3f}{np.median(new) / n * 1e3:>9.3f}   {np.median(r):.2f}x "
          f"({r.min():.2f}-{r.max():.2f}; fastest runs {base.min() / new.min():.2f}x)   bit-identical: {same}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="main")
    ap.add_argument("--scenario", default="lps-endotoxemia")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()

    from cytonet.engine import lockstep
    from cytonet.population import rest
    from cytonet.population.runner import PopulationConfig, prepare
    from cytonet.population.sampling import load_variation, sample

    cfg = PopulationConfig(scenario=a.scenario, n=a.n, variation=load_variation(), batch_size=a.n)
    prep = prepare(cfg.to_json())
    values = sample(prep.varied, prep.method, 0, a.n, 3, 0)
    P = np.tile(prep.host.p, (a.n, 1))
    for pid, v in values.items():
        P[:, prep.host.parameter_index(pid)] = v
    with tempfile.TemporaryDirectory() as d:
        old_rest, old_lock = base_module(a.base, "cytonet/population/rest.py", Path(d)), base_module(a.base, "cytonet/engine/lockstep.py", Path(d))
        rest_of = {m: (lambda m=m: m.rest_states(prep.host, P, prep.x_ref, cfg.relax_hours, 1)) for m in (old_rest, rest)}
        (X, found), _ = cpu(rest_of[rest])
        cpu(rest_of[old_rest])
        ok = np.flatnonzero(found)
        table = {pid: v[ok] for pid, v in values.items()} | {s: X[ok, i] for i, s in enumerate(prep.host.species)}
        cm = prep.arms["untreated"]
        sims = {(m, g): (lambda m=m, g=g: simulate(m, cm, table, prep.t, g)) for m in (old_lock, lockstep) for g in (True, False)}
        relaxed, n_relaxed = relax_table(prep, P)  # what rest_states relaxes: the patients whose Newton fails from the nominal state
        t_relax = np.array([0.0, cfg.relax_hours])
        sims.update({(m, "relax"): (lambda m=m: simulate(m, prep.host, relaxed, t_relax, False)) for m in (old_lock, lockstep)})
        for f in sims.values():
            f()  # compile or load outside the timings
        times: dict[str, list[tuple[float, float]]] = {"rest": [], "gen": [], "int": [], "relax": []}
        same = {"rest": True, "gen": True, "int": True, "relax": True}
        for r in range(a.repeats):  # alternated, base first in even repeats: the machine may be shared
            ((Xo, fo), c_old), ((Xn, fn), c_new) = in_turn(rest_of[old_rest], rest_of[rest], r)
            times["rest"].append((c_old, c_new))
            same["rest"] &= np.array_equal(Xo, Xn) and np.array_equal(fo, fn)
            for key, g in (("gen", True), ("int", False), ("relax", "relax")):
                (ro, c_old), (rn, c_new) = in_turn(sims[(old_lock, g)], sims[(lockstep, g)], r)
                times[key].append((c_old, c_new))
                same[key] &= all(np.array_equal(x, y, equal_nan=True) for x, y in zip(ro, rn))
        (lu_old, f_old), (lu_new, f_new) = (lu_per_lane(m, prep.host, X[ok], np.ascontiguousarray(P[ok])) for m in (old_lock, lockstep))
    print(f"[{a.scenario}] {a.n} patients ({ok.size} with a rest state), one thread, {a.repeats} alternated repeats; "
          f"CPU ms per patient: base {a.base} | this checkout")
    compare("rest states", times["rest"], same["rest"], a.n)
    compare("simulation, generated kernels", times["gen"], same["gen"], ok.size)
    compare("simulation, interpreted kernels", times["int"], same["int"], ok.size)
    compare(f"relaxation ({n_relaxed} patients)", times["relax"], same["relax"], a.n)
    print(f"  LU per call and lane (ns, best of 15)      {lu_old:>9.0f}{lu_new:>9.0f}   {lu_old / lu_new:.2f}x   "
          f"bit-identical: {np.array_equal(f_old, f_new)}")


if __name__ == "__main__":
    main()
