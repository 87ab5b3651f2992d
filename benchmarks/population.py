"""Population benchmark: cytonet's batch paths vs libroadrunner on the same exported SBML, then end to end.

Part 1, per core and per machine, same patients for every solver: virtual patients of a scenario
(default lps-endotoxemia; shipped default variation, Latin hypercube, each patient at its own rest
state) on the scenario's output grid (2 points/h), rtol 1e-6 and the same absolute tolerance 1e-9
for every species in both solvers (per species in libroadrunner, read back; see ``fair.py``).
Per core: CPU time per run (cytonet on 1 thread; roadrunner's faster second instance, warm, the
better of an in-process loop and the pool workers). Lock-step on the model's generated kernels and on the
interpreted ones, interleaved, with a check that their results are bit-identical.
Per machine: wall rate on both cores (cytonet 2 threads; roadrunner a warm 2-process pool, process
start, import and JIT outside the timing). Every speed is printed beside its accuracy against a
tight reference (cytonet independent path at rtol 1e-10, atol 1e-14; itself checked against
roadrunner at the same tight tolerances). The machine may be shared: CPU time per run and the
ratios of solvers timed in this one process are the numbers to trust, wall rates less so.

Part 2: ``cytonet population`` end to end (sampling, rest states, simulation, outcomes, Parquet) for
N = 10^3, 10^4, 10^5 patients, each in its own subprocess so peak RSS (ru_maxrss) is honest; wall,
CPU and cores busy (CPU / wall); the generated lock-step kernels are built first (populations of at least
``GENERATED_MIN_RUNS`` runs use them). ``--quick`` skips 10^5; ``--also`` adds other scenarios at 10^5 (10^4 with
``--quick``).

Part 3 (``--identical``): a population of ``--identical`` patients on the generated kernels (built in part 2, so
``kernels="auto"`` takes them in every process) run on one thread, on two threads and on a local Dask cluster of two
worker processes; the patient tables must be bit-identical.
Run: ``python benchmarks/population.py [--quick] [--scenario NAME] [--also sepsis-storm,car-t-crs] [--identical 2000]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from fair import Runner, pool_runs, rel_errors

from cytonet.engine.batch import GENERATED_LANES as LANES

RTOL, ATOL, N_CY, N_RR, N_REF = 1e-6, 1e-9, 1000, 200, 100


def _patients(cfg_json: str, m: int) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    from cytonet.population.rest import rest_states
    from cytonet.population.runner import prepare
    from cytonet.population.sampling import sample

    prep = prepare(cfg_json)
    vals = sample(prep.varied, prep.method, 0, m, 0, 0)
    P = np.tile(prep.host.p, (m, 1))
    for pid, v in vals.items():
        P[:, prep.host.parameter_index(pid)] = v
    X, ok = rest_states(prep.host, P, prep.x_ref, 5000.0)
    return list(vals), np.column_stack(list(vals.values()))[ok], list(prep.host.species), X[ok]


def _acc(ours: np.ndarray, ref: np.ndarray) -> str:
    per = rel_errors(ours, ref, np.full(ref.shape[-1], ATOL))
    return f"max {per.max():.1e}, median {np.median(per):.1e}"


def throughput(scenario: str) -> None:
    from cytonet.engine.batch import simulate_batch
    from cytonet.model.sbml import sbml_string
    from cytonet.population.runner import PopulationConfig, prepare
    from cytonet.population.sampling import load_variation
    from cytonet.scenarios import scenario_model

    cfg = PopulationConfig(scenario=scenario, n=N_CY, variation=load_variation())
    prep = prepare(cfg.to_json())
    cm = prep.arms["untreated"]
    pids, vals, species, X = _patients(cfg.to_json(), N_CY)
    n = len(X)
    table = {**{p: vals[:, j] for j, p in enumerate(pids)}, **{s: X[:, i] for i, s in enumerate(species)}}
    t = prep.t
    t_end = float(t[-1])
    spec = scenario_model(scenario)[0]
    sbml = sbml_string(spec)
    keep = frozenset(e.target for e in spec.events)  # trigger species: rest 0, the SBML event doses them
    atol = np.full(len(species), ATOL)

    def batch(rows: np.ndarray, method: str, threads: int, kernels: str = "auto", **kw: float) -> tuple[np.ndarray, float, float]:
        sub = {k: v[rows] for k, v in table.items()}
        t0, c0 = time.perf_counter(), time.process_time()
        ds = simulate_batch(cm, sub, t_end, t_eval=t, on_error="mask", threads=threads, method=method, kernels=kernels,
                            **{"rtol": RTOL, "atol": ATOL, **kw})
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if int((ds["status"].values != 0).sum()):
            print(f"  warning: {int((ds['status'].values != 0).sum())} cytonet {method} runs failed")
        return ds["state"].values, wall, cpu

    everyone, sample_rows = np.arange(n), np.arange(N_REF)
    batch(np.arange(8), "lockstep", 1)  # numba load outside the timings
    batch(np.arange(8), "independent", 1)
    tight, _, _ = batch(sample_rows, "independent", 1, rtol=1e-10, atol=1e-14)
    first = Runner(sbml, species, atol, RTOL, keep, second=False)  # built before any other instance, for the record
    rr_runner = Runner(sbml, species, atol, RTOL, keep)
    sel = [species.index(s) for s in rr_runner.species]
    tight = tight[:, :, sel]

    rows = []  # (solver, CPU ms per run, runs/s on both cores, accuracy)
    batch(np.arange(2 * LANES), "lockstep", 1, kernels="generated")  # write and compile (or load) the model's kernels
    cpu_lock = cpu_gen = np.inf
    for _ in range(2):  # interleaved, best of two: the machine may be shared
        lock1, _, c_lock = batch(everyone, "lockstep", 1, kernels="interpreted")
        gen1, _, c_gen = batch(everyone, "lockstep", 1, kernels="generated")
        cpu_lock, cpu_gen = min(cpu_lock, c_lock), min(cpu_gen, c_gen)
    _, w_lock2, _ = batch(everyone, "lockstep", 2, kernels="interpreted")
    _, w_gen2, _ = batch(everyone, "lockstep", 2, kernels="generated")
    same = np.array_equal(lock1, gen1, equal_nan=True)
    rows.append(("cytonet lock-step, generated", cpu_gen / n * 1e3, n / w_gen2, _acc(gen1[:N_REF][:, :, sel], tight)))
    rows.append(("cytonet lock-step, interpreted", cpu_lock / n * 1e3, n / w_lock2, _acc(lock1[:N_REF][:, :, sel], tight)))
    ind1, _, c_ind = batch(np.arange(N_RR), "independent", 1)
    _, w_ind2, _ = batch(everyone, "independent", 2)
    rows.append(("cytonet independent", c_ind / N_RR * 1e3, n / w_ind2, _acc(ind1[:N_REF][:, :, sel], tight)))

    x_rr = X[:, sel]
    ref_rr, _ = Runner(sbml, species, np.full(len(species), 1e-14), 1e-10, keep).runs(pids, vals[:N_REF], x_rr[:N_REF], t_end, t.size)
    _, c_first = first.runs(pids, vals[:N_REF], x_rr[:N_REF], t_end, t.size)
    _, c_rr_again = rr_runner.runs(pids, vals[:N_REF], x_rr[:N_REF], t_end, t.size)
    out_rr, c_rr = rr_runner.runs(pids, vals[:N_RR], x_rr[:N_RR], t_end, t.size)
    out_pool, w_pool, c_pool = pool_runs(sbml, species, atol, RTOL, pids, vals[:N_RR], x_rr[:N_RR], t_end, t.size, 2, keep)
    assert np.allclose(out_pool, out_rr, rtol=1e-12, atol=0.0, equal_nan=True)
    rows.append(("roadrunner (warm, 2nd instance)", min(c_rr, c_pool) / N_RR * 1e3, N_RR / w_pool, _acc(out_rr[:N_REF], tight)))

    print(f"[{scenario}] {cm.n_species} states, {t.size} output points over {t_end:g} h, rtol {RTOL:g}, atol {ATOL:g} for every "
          f"species in both solvers; {n} patients (roadrunner: the first {N_RR}); accuracy on the first {N_REF} against "
          "cytonet at rtol 1e-10, atol 1e-14 (rel. err. floored at 1e-3 x each run's species max)")
    print(f"  tight reference vs roadrunner at the same tight tolerances: {_acc(ref_rr, tight)}")
    print(f"  roadrunner first instance of the process: {c_first / N_REF * 1e3:.2f} ms CPU/run vs the second "
          f"{c_rr_again / N_REF * 1e3:.2f} ms ({c_first / c_rr_again:.2f}x); in-process loop {c_rr / N_RR * 1e3:.2f} ms CPU/run, pool of 2 warm workers {c_pool / N_RR * 1e3:.2f} ms")
    print(f"  {'solver':<32}{'CPU ms/run':>11}{'runs/s 2 cores':>16}   accuracy vs tight")
    for name, cpu, rate, acc in rows:
        print(f"  {name:<32}{cpu:>11.3f}{rate:>16.0f}   {acc}")
    print(f"  generated lock-step kernels vs interpreted: {cpu_lock / cpu_gen:.2f}x CPU per run, results bit-identical: {same}")
    c_rr_ms, rate_rr = rows[-1][1], rows[-1][2]
    for name, cpu, rate, _ in rows[:-1]:
        print(f"  {name} vs roadrunner: {c_rr_ms / cpu:.1f}x per core (CPU per run), {rate / rate_rr:.1f}x per machine (both cores)")


def one_run(scenario: str, n: int) -> None:
    """Child process: one population run; prints a JSON line with wall and CPU time and peak RSS."""
    from cytonet.population.runner import PopulationConfig, run_population
    from cytonet.population.sampling import load_variation

    cfg = PopulationConfig(scenario=scenario, n=n, variation=load_variation(), batch_size=1000)
    with tempfile.TemporaryDirectory() as d:
        t0, c0 = time.perf_counter(), time.process_time()
        run_population(cfg, d, show_progress=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"n": n, "wall_s": wall, "cpu_s": cpu, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def warm_kernels(scenario: str) -> None:
    """Build the scenario's generated lock-step kernels (numba's caches are warm for every other kernel too)."""
    from cytonet.engine import rodas
    from cytonet.engine.batch import GENERATED_MIN_RUNS, run_arrays
    from cytonet.engine.lane_codegen import lane_kernels
    from cytonet.engine.lockstep import hill_codes
    from cytonet.population.runner import PopulationConfig, prepare
    from cytonet.population.sampling import load_variation, sample

    cfg = PopulationConfig(scenario=scenario, n=GENERATED_MIN_RUNS, variation=load_variation(), batch_size=1000)
    prep = prepare(cfg.to_json())
    values = sample(prep.varied, prep.method, 0, cfg.batch_size, cfg.seed, 0)
    for cm in prep.arms.values():
        arr = run_arrays(cm, {k: v for k, v in values.items() if k in cm.parameters})
        M = rodas.model_arrays(cm)
        lane_kernels(M, hill_codes(arr["P"], M[1][4]), LANES)


def _bitwise_equal(a, b) -> bool:  # type: ignore[no-untyped-def]
    """Two pandas tables with the same columns, floats compared by their bits (NaN and -0.0 included)."""
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        same = np.array_equal(x.view(np.int64), y.view(np.int64)) if x.dtype == np.float64 == y.dtype else a[c].equals(b[c])
        if not same:
            return False
    return True


def identical(scenario: str, n: int) -> None:
    """Part 3: the same population on 1 and 2 threads and on Dask, on the generated kernels, compared bit for bit."""
    import pyarrow.parquet as pq

    from cytonet.engine import rodas
    from cytonet.engine.batch import run_arrays
    from cytonet.engine.lane_codegen import is_built
    from cytonet.engine.lockstep import hill_codes
    from cytonet.population.runner import PopulationConfig, prepare, run_population
    from cytonet.population.sampling import load_variation, sample

    cfg = PopulationConfig(scenario=scenario, n=n, variation=load_variation(), batch_size=500, seed=7)
    prep = prepare(cfg.to_json())
    built = []
    for k in range(cfg.n_partitions):  # what kernels="auto" decides for each partition's batch
        values = sample(prep.varied, prep.method, k * cfg.batch_size, cfg.batch_size, cfg.seed, k)
        for cm in prep.arms.values():
            M = rodas.model_arrays(cm)
            built.append(is_built(M, hill_codes(run_arrays(cm, {p: v for p, v in values.items() if p in cm.parameters})["P"], M[1][4]), LANES))
    tables, walls = {}, {}
    with tempfile.TemporaryDirectory() as d:
        for label, kw in (("1 thread", {"threads": 1}), ("2 threads", {"threads": 2}), ("Dask, 2 workers", {"dask": "local", "workers": 2})):
            t0 = time.perf_counter()
            run_population(cfg, f"{d}/{len(tables)}", show_progress=False, **kw)
            walls[label] = time.perf_counter() - t0
            tables[label] = (pq.read_table(f"{d}/{len(tables)}/patients").to_pandas()
                             .sort_values(["patient", "arm"]).reset_index(drop=True))
    ref = tables["1 thread"]
    print(f"[{scenario}] {n} patients, seed {cfg.seed}, partitions of {cfg.batch_size}; generated kernels built for every "
          f"partition's batch: {all(built)}")
    for label, tab in tables.items():
        print(f"  {label:<16} {walls[label]:6.1f} s wall, patient table bit-identical to 1 thread: {_bitwise_equal(tab, ref)}")


def end_to_end(scenario: str, n: int) -> None:
    res = subprocess.run([sys.executable, __file__, "--scenario", scenario, "--child", str(n)],
                         capture_output=True, text=True, check=True)
    r = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"population {scenario} N={n:>6}: {r['wall_s']:.1f} s end to end ({n / r['wall_s']:.0f} patients/s), "
          f"{r['cpu_s'] / n * 1e3:.2f} ms CPU per patient, {r['cpu_s'] / r['wall_s']:.2f} cores busy, peak RSS {r['rss_mb']:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="lps-endotoxemia")
    ap.add_argument("--quick", action="store_true", help="skip N = 10^5")
    ap.add_argument("--also", default="", help="comma-separated scenarios also run end to end at N = 10^4")
    ap.add_argument("--identical", type=int, default=0, help="patients of part 3 (0: skip it)")
    ap.add_argument("--skip-throughput", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--skip-end-to-end", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        one_run(a.scenario, a.child)
        return
    if not a.skip_throughput:
        throughput(a.scenario)
    for scenario in (a.scenario, *filter(None, a.also.split(","))):
        t0 = time.perf_counter()
        warm_kernels(scenario)
        print(f"[{scenario}] generated lock-step kernels ready in {time.perf_counter() - t0:.1f} s (written and compiled once, then loaded from the cache)")
    for n in () if a.skip_end_to_end else (10**3, 10**4) if a.quick else (10**3, 10**4, 10**5):
        end_to_end(a.scenario, n)
    for other in () if a.skip_end_to_end else filter(None, a.also.split(",")):
        end_to_end(other, 10**4 if a.quick else 10**5)
    if a.identical:
        identical(a.scenario, a.identical)


if __name__ == "__main__":
    main()
