"""Population benchmark: cytonet batch throughput vs a libroadrunner loop on the same exported SBML, and scale-out.

Part 1: virtual patients of a scenario (default lps-endotoxemia; shipped default variation, Latin
hypercube, each patient at its own rest state) simulated by ``simulate_batch`` (2 threads) and by a
libroadrunner loop on ``sbml_string`` of the same scenario model, both at rtol 1e-6, atol 1e-9 on
the scenario's output grid (2 points/h). Prints patients/s of each, their ratio and the max relative
error on a sample (floor 1e-3 x each run's species max). Part 2: ``cytonet population`` end to end
(sampling, rest states, simulation, outcomes, Parquet) for N = 10^3, 10^4, 10^5 patients, each in its
own subprocess so peak RSS (ru_maxrss) is honest. ``--quick`` skips 10^5.
Run: ``python benchmarks/population.py [--quick] [--scenario NAME]``.
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

RTOL, ATOL, N_CY, N_RR = 1e-6, 1e-9, 1000, 100


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


def throughput(scenario: str) -> None:
    import roadrunner

    from cytonet.engine.batch import simulate_batch
    from cytonet.model.sbml import sbml_string
    from cytonet.population.runner import PopulationConfig, prepare
    from cytonet.population.sampling import load_variation
    from cytonet.scenarios import scenario_model

    cfg = PopulationConfig(scenario=scenario, n=N_CY, variation=load_variation())
    prep = prepare(cfg.to_json())
    cm = prep.arms["untreated"]
    pids, vals, species, X = _patients(cfg.to_json(), N_CY)
    table = {**{p: vals[:, j] for j, p in enumerate(pids)}, **{s: X[:, i] for i, s in enumerate(species)}}
    t = prep.t
    simulate_batch(cm, {k: v[:4] for k, v in table.items()}, float(t[-1]), t_eval=t)  # warm-up
    t0 = time.perf_counter()
    ds = simulate_batch(cm, table, float(t[-1]), t_eval=t, rtol=RTOL, atol=ATOL, on_error="mask", threads=2)
    cy_rate = len(X) / (time.perf_counter() - t0)

    rr = roadrunner.RoadRunner(sbml_string(scenario_model(scenario)[0]))
    rr.integrator.relative_tolerance = RTOL
    rr.integrator.absolute_tolerance = ATOL
    sel = [s for s in species if s in rr.model.getFloatingSpeciesIds()]
    rr.timeCourseSelections = ["time", *sel]
    targets = {e.target for e in scenario_model(scenario)[0].events}  # trigger species: rest 0, the SBML event doses them
    ref = np.empty((N_RR, t.size, len(sel)))
    t0 = time.perf_counter()
    for i in range(N_RR):
        rr.resetAll()
        for j, p in enumerate(pids):
            rr[p] = vals[i, j]
        for s in sel:  # the state at t = 0 (setting init() values instead regenerates the model each time)
            if s not in targets:
                rr[s] = X[i, species.index(s)]
        ref[i] = np.asarray(rr.simulate(0.0, float(t[-1]), t.size))[:, 1:]
    rr_rate = N_RR / (time.perf_counter() - t0)
    ours = ds["state"].sel(species=sel).values[:N_RR]
    smax = np.abs(ref).max(axis=1, keepdims=True)
    rel = np.abs(ours - ref) / np.maximum(np.abs(ref), np.maximum(1e-3 * smax, ATOL))
    print(f"[{scenario}] {cm.n_species} states, {t.size} output points over {t[-1]:g} h, rtol {RTOL:g}, atol {ATOL:g}: "
          f"cytonet batch {cy_rate:.0f} patients/s (2 threads, {int((ds['status'].values != 0).sum())} failed) | "
          f"roadrunner loop {rr_rate:.0f} patients/s | ratio {cy_rate / rr_rate:.1f}x | max rel err ({N_RR} patients) "
          f"{np.nanmax(rel):.2e}, median {np.nanmedian(rel):.1e}")


def one_run(scenario: str, n: int) -> None:
    """Child process: one population run; prints a JSON line with wall time and peak RSS."""
    from cytonet.population.runner import PopulationConfig, run_population
    from cytonet.population.sampling import load_variation

    cfg = PopulationConfig(scenario=scenario, n=n, variation=load_variation(), batch_size=1000)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run_population(cfg, d, show_progress=False)
        wall = time.perf_counter() - t0
    print(json.dumps({"n": n, "wall_s": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="lps-endotoxemia")
    ap.add_argument("--quick", action="store_true", help="skip N = 10^5")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        one_run(a.scenario, a.child)
        return
    throughput(a.scenario)
    for n in (10**3, 10**4) if a.quick else (10**3, 10**4, 10**5):
        res = subprocess.run([sys.executable, __file__, "--scenario", a.scenario, "--child", str(n)],
                             capture_output=True, text=True, check=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"population N={n:>6}: {r['wall_s']:.1f} s end to end ({n / r['wall_s']:.0f} patients/s), peak RSS {r['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
