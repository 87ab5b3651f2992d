"""Engine benchmark: cytonet (numba Rodas4, sparse LU) vs libroadrunner on the same exported SBML.

Default model: the shipped reference network. Every run starts from its healthy steady state
(5,000 h integrated once) and adds a scenario trigger: an LPS bolus of 46.7 pg/mL or a pathogen
load P drawn from 1..15 (half the runs each), with parameters log-normal at 20% CV (Hill
coefficients and basal fractions kept). 14 days, 337 output points, rtol 1e-6, for two absolute
tolerances applied identically to both solvers: atol 1e-9 for every species, and per species
1e-6 x its typical magnitude (largest of steady state and a reference LPS run, at least 1e-6).
Prints single-run latency; for N = 1,000 and 10,000 runs both batch paths of ``simulate_batch``
(lock-step blocks and independent runs, 2 threads) beside roadrunner (its faster second instance,
warm, with the same per-species tolerances read back, see ``fair.py``; a loop and a warm 2-process
pool, timed on a 300-run sample: its per-run rate stands for every N). Ratios per core (CPU time
per run, robust when other work shares the cores; roadrunner's better of loop and pool workers) and per machine (2 threads vs the warm 2-process
pool, wall), each beside its accuracy against the tight reference. Accuracy on that sample: each solver
against the other and against a tight reference (rtol 1e-10, atol 1e-14); per comparison the max
relative error and how many runs differ beyond 1e-3, split into differences within 10 x atol in a
near-zero state and real trajectory differences (listed).
Then the imported-SBML section (:func:`imported_section`): the model exported to SBML and imported
back, single-run latency of the native spec, of the imported model on the factor kernels
(:mod:`cytonet.model.sbml_factors`) and on the tape engine, and of libroadrunner on the same file;
batch throughput over ``--runs`` runs with parameters log-normal at 20 % CV (``simulate_batch`` of the
imported model: lock-step factor kernels, and the tape engine; 2 threads) against a roadrunner loop;
the largest relative difference of the imported trajectories from the native spec's.
Run: ``python benchmarks/engine.py [model.yaml] [--sizes=1000,10000] [--runs=200] [--only=native|imported]``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from fair import Runner, pool_runs

HERE = Path(__file__).parent
T_END, N_POINTS, RTOL, LPS_DOSE = 336.0, 337, 1e-6, 46.7
N_RR = 300


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


def _errors(ours: np.ndarray, ref: np.ndarray, atol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-run max relative error (floor: 1e-3 x the run's species max, >= atol) and whether each run's
    worst difference is within 10 x atol of its species (a tolerance-level difference in a near-zero state)."""
    smax = np.abs(ref).max(axis=1, keepdims=True)
    diff = np.abs(ours - ref)
    rel = diff / np.maximum(np.abs(ref), np.maximum(1e-3 * smax, atol))
    flat = rel.reshape(len(rel), -1)
    worst = flat.argmax(axis=1)
    near_zero = diff.reshape(len(rel), -1)[np.arange(len(rel)), worst] <= 10 * np.broadcast_to(atol, rel.shape[1:]).ravel()[worst]
    return np.nan_to_num(flat.max(axis=1), nan=np.inf), near_zero


def _error_line(name: str, ours: np.ndarray, ref: np.ndarray, atol: np.ndarray, species: list[str]) -> str:
    per, near_zero = _errors(ours, ref, atol)
    bad = per > 1e-3
    line = (f"    {name:<28} max rel err {per.max():.2e}, median run {np.median(per):.1e}; {bad.sum()} of {len(per)} runs > 1e-3 "
            f"({(bad & near_zero).sum()} only within 10 x atol of a near-zero state, {(bad & ~near_zero).sum()} beyond)")
    for i in np.flatnonzero(bad & ~near_zero)[:3]:
        rel = np.abs(ours[i] - ref[i]) / np.maximum(np.abs(ref[i]), np.maximum(1e-3 * np.abs(ref[i]).max(axis=0), atol))
        ti, si = np.unravel_index(np.nanargmax(rel), rel.shape)
        line += f"\n      run {i}: {species[si]} at t = {ti} h: {ours[i, ti, si]:.4g} vs {ref[i, ti, si]:.4g}"
    return line


def _case(cm, sbml: str, x_ss: np.ndarray, atol: np.ndarray, label: str, sizes: list[int]) -> None:
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
    runner = Runner(sbml, species, atol, RTOL)  # the faster second instance, warm, per-species atol read back
    assert runner.species == species
    rr = runner.rr

    def rr_once() -> None:
        rr.resetAll()
        for sid, v in init.items():
            rr[runner.state[sid][0]] = v
        rr.simulate(0.0, T_END, N_POINTS)

    t_rr = _time(rr_once, 20)
    print(f"[{label}] single LPS run: cytonet {t_cy * 1e3:.2f} ms ({ds.attrs['steps']} steps), roadrunner {t_rr * 1e3:.2f} ms, "
          f"ratio {t_rr / t_cy:.2f}x")

    rng = np.random.default_rng(0)
    pids, values, x0 = _scenario_table(cm, x_ss, max(sizes), rng)
    table = {**{p: values[:, i] for i, p in enumerate(pids)}, **{s: x0[:, j] for j, s in enumerate(species)}}
    kw = dict(n_points=N_POINTS, rtol=RTOL, atol=atol, on_error="mask", threads=2)
    for method in ("lockstep", "independent"):  # numba load/compile outside the timings
        simulate_batch(cm, {k: v[:8] for k, v in table.items()}, T_END, method=method, **kw)

    # roadrunner on a sample (half LPS, half pathogen runs); its rates per run stand for every N
    sample = np.r_[0:N_RR // 2, max(sizes) // 2:max(sizes) // 2 + N_RR // 2]
    sample_table = {k: v[sample] for k, v in table.items()}
    tight = simulate_batch(cm, sample_table, T_END, n_points=N_POINTS, rtol=1e-10, atol=1e-14, on_error="mask",
                           method="independent").state.values
    t0 = time.perf_counter()
    ref, rr_cpu = runner.runs(pids, values[sample], x0[sample], T_END, N_POINTS)
    rr_rate, rr_cpu = N_RR / (time.perf_counter() - t0), rr_cpu / N_RR
    _, pool_wall, pool_cpu = pool_runs(sbml, species, atol, RTOL, pids, values[sample], x0[sample], T_END, N_POINTS, 2)
    pool_rate = N_RR / pool_wall
    rr_cpu_best = min(rr_cpu, pool_cpu / N_RR)  # per-core ratios take roadrunner's better CPU time per run
    acc = _errors(ref, tight, atol)[0]
    print(f"[{label}] roadrunner ({N_RR} runs, 2nd instance, warm): loop {rr_rate:.0f} runs/s, {rr_cpu * 1e3:.2f} ms CPU per run; "
          f"warm 2-process pool {pool_rate:.0f} runs/s, {pool_cpu / N_RR * 1e3:.2f} ms CPU per run | vs tight: max rel err "
          f"{acc.max():.1e}, median {np.median(acc):.1e}")
    results = {}
    for n in sizes:
        sub = {k: v[np.r_[0:n // 2, max(sizes) // 2:max(sizes) // 2 + n - n // 2]] for k, v in table.items()}
        for method in ("lockstep", "independent"):
            t0, c0 = time.perf_counter(), time.process_time()
            res = simulate_batch(cm, sub, T_END, method=method, **kw)
            wall, cpu = time.perf_counter() - t0, (time.process_time() - c0) / n
            results[method] = res
            failed = int((res.status.values != 0).sum())
            acc = _errors(res.state.values[sample], tight, atol)[0] if n == max(sizes) else None
            acc_s = f" | vs tight: max rel err {acc.max():.1e}, median {np.median(acc):.1e}" if acc is not None else ""
            print(f"[{label}] N={n:>6} {method:<11}: {n / wall:6.0f} runs/s wall (2 threads; {failed} failed, median {np.median(res.steps.values):.0f} steps), "
                  f"{cpu * 1e3:5.2f} ms CPU per run | vs roadrunner: {rr_cpu_best / cpu:4.1f}x per core (CPU per run), "
                  f"{n / wall / pool_rate:4.1f}x per machine (2 threads vs warm 2-process pool){acc_s}")
    # accuracy on the roadrunner sample, against roadrunner and against a tight cytonet reference
    print(f"[{label}] accuracy on the {N_RR} sampled runs (rel err floored at 1e-3 x the run's species max and at atol; "
          "reference 'tight' = cytonet independent at rtol 1e-10, atol 1e-14):")
    for method in ("lockstep", "independent"):
        ours = results[method].state.values[sample]  # the largest N holds the whole table in order
        print(_error_line(f"cytonet {method} vs roadrunner", ours, ref, atol, species))
        print(_error_line(f"cytonet {method} vs tight", ours, tight, atol, species))
    print(_error_line("roadrunner vs tight", ref, tight, atol, species))
    apart = _errors(results["lockstep"].state.values[sample], ref, atol)[0] > 1e-3
    rr_off = _errors(ref, tight, atol)[0] > 1e-3
    cy_off = _errors(results["lockstep"].state.values[sample], tight, atol)[0] > 1e-3
    print(f"    of {apart.sum()} runs where lock-step and roadrunner differ > 1e-3: {(apart & rr_off & ~cy_off).sum()} roadrunner off "
          f"the tight reference, {(apart & cy_off & ~rr_off).sum()} cytonet off it, {(apart & cy_off & rr_off).sum()} both")


def _best_of(f, repeats: int = 5) -> float:
    """Shortest wall time of ``repeats`` calls (s)."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        out.append(time.perf_counter() - t0)
    return min(out)


def imported_section(spec, runs: int) -> None:
    """The spec exported to SBML, imported back and run on both engines beside libroadrunner (module docstring)."""
    import tempfile

    import roadrunner

    from cytonet.engine.batch import simulate_batch
    from cytonet.engine.simulate import simulate
    from cytonet.model.sbml import sbml_string
    from cytonet.model.sbml_factors import factor_model
    from cytonet.model.sbml_import import read_sbml
    from cytonet.model.tape_model import compile_tape

    atol = 1e-9
    path = Path(tempfile.mkdtemp()) / "model.xml"
    path.write_text(sbml_string(spec))
    t0 = time.perf_counter()
    imp = read_sbml(path).spec
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    tm = compile_tape(imp)
    t_tape = time.perf_counter() - t0
    t0 = time.perf_counter()
    fm = factor_model(imp).model
    t_factor = time.perf_counter() - t0
    grid = np.linspace(0.0, T_END, N_POINTS)
    native = simulate(spec, T_END, t_eval=grid, rtol=RTOL, atol=atol)
    species = list(native.species.values)
    a = native.state.values
    floor = np.maximum(1e-6 * np.abs(a).max(axis=0), 1e-12)

    def diff(b: np.ndarray) -> float:
        return float((np.abs(a - b) / np.maximum(np.abs(a), floor)).max())

    tape = simulate(tm, T_END, t_eval=grid, rtol=RTOL, atol=atol)  # a non-substance state is a rate-rule variable
    on_tape = np.column_stack([tape.state.sel(species=n).values if n in tape.species.values
                               else tape.variable_value.sel(variable=n).values for n in species])
    on_factors = simulate(fm, T_END, t_eval=grid, rtol=RTOL, atol=atol)
    on_factors = on_factors.state.values[:, [fm.species.index(s) for s in species]]
    print(f"[imported] model {spec.id!r} exported and imported: {len(tm.states) - 1} states; import {t_import:.2f} s, "
          f"tape lowering {t_tape:.2f} s ({tm.tape.size} instructions), factor lowering {t_factor * 1e3:.0f} ms "
          f"({len(fm.reaction_names)} factor reactions)")
    print(f"[imported] vs native spec trajectories (rtol {RTOL:g}): factor kernels max rel diff {diff(on_factors):.1e}, "
          f"tape {diff(on_tape):.1e}")
    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = RTOL, atol
    rr.timeCourseSelections = ["time", *(f"[{s.id}]" if s.only_substance is False else s.id for s in imp.species)]

    def rr_run() -> None:
        rr.resetAll()
        rr.simulate(0.0, T_END, N_POINTS)

    try:
        rr_run()
    except RuntimeError:  # libroadrunner's first CVODE run of the raw reference network may stop at start-up; retry
        rr = roadrunner.RoadRunner(str(path))
        rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = RTOL, atol
    from cytonet.model.compile import compile_model

    cm = compile_model(spec)
    lat = {"native spec": _best_of(lambda: simulate(cm, T_END, t_eval=grid, rtol=RTOL, atol=atol)),
           "imported, factor kernels": _best_of(lambda: simulate(fm, T_END, t_eval=grid, rtol=RTOL, atol=atol)),
           "imported, tape": _best_of(lambda: simulate(tm, T_END, t_eval=grid, rtol=RTOL, atol=atol)),
           "roadrunner": _best_of(rr_run)}
    print(f"[imported] {'single run':26s} {'ms':>9s} {'vs roadrunner':>14s}")
    for k, v in lat.items():
        print(f"[imported] {k:26s} {1e3 * v:9.2f} {lat['roadrunner'] / v:13.2f}x")

    rng = np.random.default_rng(1)
    varied = [p.id for p in imp.parameters if p.value > 0 and p.constant and not p.id.startswith(("n_", "b_"))][:40]
    sigma = np.sqrt(np.log(1 + 0.2**2))
    table = {pid: imp.parameter(pid).value * rng.lognormal(-sigma**2 / 2, sigma, runs) for pid in varied}
    kw = dict(t_eval=grid, rtol=RTOL, atol=atol, threads=2, on_error="mask")
    simulate_batch(imp, {k: v[:8] for k, v in table.items()}, T_END, **kw)  # numba load outside the timing
    rates = {}
    for label, model in (("imported, factor kernels", imp), ("imported, tape", tm)):
        t0 = time.perf_counter()
        ds = simulate_batch(model, table, T_END, **kw)
        rates[label] = (runs / (time.perf_counter() - t0), ds.attrs["batch_method"], int((ds.status.values != 0).sum()))
    t0 = time.perf_counter()
    for i in range(runs):
        rr.resetAll()
        for pid in varied:
            rr[pid] = table[pid][i]
        rr.simulate(0.0, T_END, N_POINTS)
    rr_rate = runs / (time.perf_counter() - t0)
    print(f"[imported] {'batch of ' + str(runs):26s} {'runs/s':>9s} {'vs roadrunner':>14s}")
    for label, (rate, method, failed) in rates.items():
        print(f"[imported] {label:26s} {rate:9.1f} {rate / rr_rate:13.2f}x   ({method}, 2 threads, {failed} failed)")
    print(f"[imported] {'roadrunner':26s} {rr_rate:9.1f} {1.0:13.2f}x   (loop, 1 process)")


def main(path: Path, sizes: list[int], runs: int = 200, only: str = "") -> None:
    from cytonet.engine.simulate import simulate
    from cytonet.model.compile import compile_model
    from cytonet.model.sbml import sbml_string
    from cytonet.model.spec import load_spec

    spec = load_spec(path)
    if only == "imported":
        imported_section(spec, runs)
        return
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
    _case(cm, sbml, x_ss, np.full(cm.n_species, 1e-9), "atol 1e-9", sizes)
    _case(cm, sbml, x_ss, 1e-6 * typical, "atol 1e-6 x typical", sizes)
    if only != "native":
        imported_section(spec, runs)


if __name__ == "__main__":
    from cytonet.model.catalog import PACKAGE_ROOT

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    opts = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
    sizes = [int(v) for v in opts["sizes"].split(",")] if "sizes" in opts else [1000, 10000]
    main(Path(args[0]) if args else PACKAGE_ROOT / "model" / "data" / "reference_network.yaml", sorted(sizes),
         int(opts.get("runs", 200)), opts.get("only", ""))
    os._exit(0)
