"""Engine benchmark: cytonet (numba Rodas4) vs libroadrunner on the same exported SBML.

Prints single-run latency, batch throughput (1,000 and 10,000 log-normal parameter sets, 20% CV)
for cytonet ``simulate_batch`` on 2 threads vs roadrunner (loop and 2-process pool), their ratios,
and the max relative error between the two on a sample. Run: ``python benchmarks/engine.py``.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
T_END, N_POINTS, RTOL, ATOL = 336.0, 337, 1e-6, 1e-9


def _rr_model(sbml: str):
    import roadrunner

    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = RTOL
    rr.integrator.absolute_tolerance = ATOL
    return rr


def _rr_runs(args: tuple[str, list[str], np.ndarray, list[str]]) -> np.ndarray:
    sbml, pids, values, species = args
    rr = _rr_model(sbml)
    rr.timeCourseSelections = ["time", *species]
    out = np.empty((len(values), N_POINTS, len(species)))
    for i, row in enumerate(values):
        rr.resetAll()
        for pid, v in zip(pids, row):
            rr[pid] = v
        out[i] = np.asarray(rr.simulate(0.0, T_END, N_POINTS))[:, 1:]
    return out


def main(path: Path = HERE / "networks" / "cytokine32.yaml") -> None:
    import numba

    from cytonet.engine.batch import simulate_batch
    from cytonet.engine.simulate import simulate
    from cytonet.model.compile import compile_model
    from cytonet.model.sbml import sbml_string
    from cytonet.model.spec import load_spec

    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    spec = load_spec(path)
    t0 = time.perf_counter()
    cm = compile_model(spec)
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    simulate(cm, T_END, n_points=N_POINTS, rtol=RTOL, atol=ATOL)
    t_first = time.perf_counter() - t0
    sbml = sbml_string(spec)
    species = list(cm.species)
    print(f"model {spec.id}: {cm.n_species} states, {len(cm.reaction_names)} factor reactions; "
          f"compile_model {t_compile * 1e3:.1f} ms, first simulate (numba load/compile) {t_first:.2f} s")

    reps = 50
    t0 = time.perf_counter()
    for _ in range(reps):
        simulate(cm, T_END, n_points=N_POINTS, rtol=RTOL, atol=ATOL)
    t_cy = (time.perf_counter() - t0) / reps
    rr = _rr_model(sbml)
    rr.timeCourseSelections = ["time", *species]
    t0 = time.perf_counter()
    for _ in range(reps):
        rr.resetAll()
        rr.simulate(0.0, T_END, N_POINTS)
    t_rr = (time.perf_counter() - t0) / reps
    print(f"single run (14 d, {N_POINTS} points, rtol {RTOL:g}): cytonet {t_cy * 1e3:.2f} ms, roadrunner {t_rr * 1e3:.2f} ms, "
          f"ratio {t_rr / t_cy:.2f}x")

    rng = np.random.default_rng(0)
    pids = [p for p in cm.parameters if not p.startswith("n")]
    base = np.array([cm.p[cm.parameter_index(p)] for p in pids])
    sigma = np.sqrt(np.log(1 + 0.2**2))
    for n in (1000, 10_000):
        values = base * rng.lognormal(-sigma**2 / 2, sigma, (n, len(pids)))
        values[:, [i for i, p in enumerate(pids) if p == "b10"]] = 0.1
        table = {p: values[:, i] for i, p in enumerate(pids)}
        simulate_batch(cm, {p: v[:4] for p, v in table.items()}, T_END, n_points=N_POINTS, rtol=RTOL, atol=ATOL)
        t0 = time.perf_counter()
        ds = simulate_batch(cm, table, T_END, n_points=N_POINTS, rtol=RTOL, atol=ATOL, on_error="mask")
        cy_rate = n / (time.perf_counter() - t0)
        m = min(n, 1000)  # roadrunner timed on (up to) 1,000 runs, rate extrapolated
        t0 = time.perf_counter()
        ref = _rr_runs((sbml, pids, values[:m], species))
        rr_rate = m / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        with ProcessPoolExecutor(2) as pool:
            list(pool.map(_rr_runs, [(sbml, pids, chunk, species) for chunk in np.array_split(values[:m], 2)]))
        pool_rate = m / (time.perf_counter() - t0)
        ours = ds.state.values[:m]
        smax = np.abs(ref).max(axis=1, keepdims=True)
        rel = np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-3 * smax)  # at rtol 1e-6 a 1e-9 floor is below atol
        failed = int((ds.status.values != 0).sum())
        print(f"batch {n:>6}: cytonet {cy_rate:8.0f} sims/s (2 threads, {failed} failed) | roadrunner loop {rr_rate:6.0f}/s, "
              f"2-proc pool {pool_rate:6.0f}/s | ratio {cy_rate / rr_rate:.1f}x loop, {cy_rate / pool_rate:.1f}x pool | "
              f"max rel err vs roadrunner (floor 1e-3 x species max, rtol 1e-6 both, {m} runs) {np.nanmax(rel):.2e}, median {np.nanmedian(rel):.1e}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "networks" / "cytokine32.yaml")
    os._exit(0)
