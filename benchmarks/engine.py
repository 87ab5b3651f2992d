"""Engine benchmark: cytonet (numba Rodas4, sparse LU) vs libroadrunner on the same exported SBML.

Default model: the shipped reference network. Every run starts from its healthy steady state
(5,000 h integrated once) and adds a scenario trigger: an LPS bolus of 46.7 pg/mL or a pathogen
load P drawn from 1..15 (half the runs each), with parameters log-normal at 20% CV (Hill
coefficients and basal fractions kept). 14 days, 337 output points, rtol 1e-6, for two absolute
tolerances applied identically to both solvers: atol 1e-9 for every species, and per species
1e-6 x its typical magnitude (largest of steady state and a reference LPS run, at least 1e-6).
Prints single-run latency, batch throughput on 2 threads vs roadrunner (loop, 2-process pool),
their ratios, CPU time per run (robust when other work shares the cores), and the max relative
error between the two on a sample.
Run: ``python benchmarks/engine.py [model.yaml]``.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
T_END, N_POINTS, RTOL, LPS_DOSE = 336.0, 337, 1e-6, 46.7
N_BATCH, N_RR = 2000, 300


def _rr_runs(args: tuple[str, list[str], np.ndarray, list[str], np.ndarray, np.ndarray]) -> np.ndarray:
    """Roadrunner runs with parameter rows ``values`` and initial concentrations rows ``x0``."""
    import roadrunner

    sbml, pids, values, species, x0, atol = args
    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = RTOL
    for sid, a in zip(species, atol):
        rr.integrator.setIndividualTolerance(sid, float(a))
    rr.timeCourseSelections = ["time", *species]
    out = np.empty((len(values), N_POINTS, len(species)))
    for i, row in enumerate(values):
        rr.resetAll()
        for pid, v in zip(pids, row):
            rr[pid] = v
        for sid, v in zip(species, x0[i]):
            rr[sid] = v
        out[i] = np.asarray(rr.simulate(0.0, T_END, N_POINTS))[:, 1:]
    return out


def _scenario_table(cm, x_ss: np.ndarray, n: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(varied parameter IDs, their values (n, k), initial states (n, species)) for ``n`` virtual patients."""
    fixed = set(cm.f_n[cm.f_n >= 0].tolist()) | set(cm.f_b[cm.f_b >= 0].tolist())
    idx = [j for j in range(len(cm.parameters)) if j not in fixed and cm.p[j] != 0]
    sigma = np.sqrt(np.log(1 + 0.2**2))
    values = cm.p[idx] * rng.lognormal(-sigma**2 / 2, sigma, (n, len(idx)))
    x0 = np.tile(x_ss, (n, 1))
    half = n // 2
    if "LPS" in cm.species:
        x0[:half, cm.species_index("LPS")] += LPS_DOSE
    if "P" in cm.species:
        x0[half:, cm.species_index("P")] = rng.uniform(1.0, 15.0, n - half)
    return [cm.parameters[j] for j in idx], values, x0


def _time(fn, reps: int) -> float:
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def _case(cm, sbml: str, x_ss: np.ndarray, atol: np.ndarray, label: str) -> None:
    import roadrunner

    from cytonet.engine.batch import simulate_batch
    from cytonet.engine.simulate import simulate

    species = list(cm.species)
    x_lps = x_ss.copy()
    if "LPS" in species:
        x_lps[cm.species_index("LPS")] += LPS_DOSE
    init = dict(zip(species, x_lps))
    ds = simulate(cm, T_END, n_points=N_POINTS, rtol=RTOL, atol=atol, initial=init)
    t_cy = _time(lambda: simulate(cm, T_END, n_points=N_POINTS, rtol=RTOL, atol=atol, initial=init), 20)
    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = RTOL
    for sid, a in zip(species, atol):
        rr.integrator.setIndividualTolerance(sid, float(a))
    rr.timeCourseSelections = ["time", *species]

    def rr_once() -> None:
        rr.resetAll()
        for sid, v in init.items():
            rr[sid] = v
        rr.simulate(0.0, T_END, N_POINTS)

    t_rr = _time(rr_once, 20)
    print(f"[{label}] single LPS run: cytonet {t_cy * 1e3:.2f} ms ({ds.attrs['steps']} steps), roadrunner {t_rr * 1e3:.2f} ms, "
          f"ratio {t_rr / t_cy:.2f}x")

    rng = np.random.default_rng(0)
    pids, values, x0 = _scenario_table(cm, x_ss, N_BATCH, rng)
    table = {**{p: values[:, i] for i, p in enumerate(pids)}, **{s: x0[:, j] for j, s in enumerate(species)}}
    simulate_batch(cm, {k: v[:4] for k, v in table.items()}, T_END, n_points=N_POINTS, rtol=RTOL, atol=atol, threads=2)
    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate_batch(cm, table, T_END, n_points=N_POINTS, rtol=RTOL, atol=atol, on_error="mask", threads=2)
    cy_rate, cy_cpu = N_BATCH / (time.perf_counter() - t0), (time.process_time() - c0) / N_BATCH
    m = N_RR  # roadrunner timed on a sample, rate extrapolated
    t0, c0 = time.perf_counter(), time.process_time()
    ref = _rr_runs((sbml, pids, values[:m], species, x0[:m], atol))
    rr_rate, rr_cpu = m / (time.perf_counter() - t0), (time.process_time() - c0) / m
    t0 = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_rr_runs, [(sbml, pids, v, species, x, atol)
                                 for v, x in zip(np.array_split(values[:m], 2), np.array_split(x0[:m], 2))]))
    pool_rate = m / (time.perf_counter() - t0)
    ours = res.state.values[:m]
    smax = np.abs(ref).max(axis=1, keepdims=True)
    rel = np.abs(ours - ref) / np.maximum(np.abs(ref), np.maximum(1e-3 * smax, atol))  # floor: 1e-3 x the run's species max, >= atol
    failed = int((res.status.values != 0).sum())
    steps = res.steps.values
    print(f"[{label}] batch {N_BATCH}: cytonet {cy_rate:7.0f} sims/s (2 threads, {failed} failed, median {np.median(steps):.0f} steps) | "
          f"roadrunner loop {rr_rate:5.0f}/s, 2-proc pool {pool_rate:5.0f}/s | ratio {cy_rate / rr_rate:.1f}x loop, "
          f"{cy_rate / pool_rate:.1f}x pool | CPU per run {cy_cpu * 1e3:.2f} ms vs {rr_cpu * 1e3:.2f} ms ({rr_cpu / cy_cpu:.1f}x) | max rel err vs roadrunner ({m} runs) {np.nanmax(rel):.2e}, median {np.nanmedian(rel):.1e}")


def main(path: Path) -> None:
    from cytonet.engine.simulate import simulate
    from cytonet.model.compile import compile_model
    from cytonet.model.sbml import sbml_string
    from cytonet.model.spec import load_spec

    spec = load_spec(path)
    t0 = time.perf_counter()
    cm = compile_model(spec)
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    x_ss = simulate(cm, 5000.0, n_points=2, rtol=RTOL).state.values[-1]
    t_first = time.perf_counter() - t0
    print(f"model {spec.id}: {cm.n_species} states, {len(cm.reaction_names)} factor reactions; "
          f"compile_model {t_compile * 1e3:.1f} ms, first simulate (numba load/compile + 5000 h) {t_first:.2f} s")
    x_lps = x_ss.copy()
    if "LPS" in cm.species:
        x_lps[cm.species_index("LPS")] += LPS_DOSE
    peak = np.abs(simulate(cm, T_END, n_points=N_POINTS, rtol=RTOL, initial=dict(zip(cm.species, x_lps))).state.values).max(axis=0)
    typical = np.maximum(np.maximum(np.abs(x_ss), peak), 1e-6)
    sbml = sbml_string(spec)
    _case(cm, sbml, x_ss, np.full(cm.n_species, 1e-9), "atol 1e-9")
    _case(cm, sbml, x_ss, 1e-6 * typical, "atol 1e-6 x typical")


if __name__ == "__main__":
    from cytonet.model.catalog import PACKAGE_ROOT

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGE_ROOT / "model" / "data" / "reference_network.yaml")
    os._exit(0)
