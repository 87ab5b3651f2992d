"""Where a population's CPU time goes: one partition's stages, CPU time per patient, on one thread.

Runs ``run_partition`` of a scenario (default lps-endotoxemia, shipped variation, partitions of
``--n`` patients of a 10^5-patient configuration, so the generated kernels run as in a large
population; they are built first when they are not) ``--repeats`` times after one warm-up
partition, timing each stage with the process's CPU clock (the partition runs alone): sampling; the rest states split
into Newton from the nominal rest state, the stability test, the relaxation of Newton's failures
and Newton after it; the simulation of every arm (``simulate_batch``, Dataset included); outcomes
(series and outcome columns) and the Parquet write; "other" is the partition's remainder. Prints
the median and range of each stage in ms per patient. Run under another source tree
(``PYTHONPATH=<tree>/src``) to compare revisions stage by stage; the machine may be shared, so
alternate such runs and read ranges.
With ``--steps``, the simulation stage of one partition is taken apart instead: its whole lock-step run (CPU per
run and per attempted step), then each piece of a step timed alone on the generated kernels' lanes of mid-run states
(``step_kernels.py``): right-hand side, Jacobian, LU, triangular solves, the stage updates with the error norm;
then all of them in the driver's order on the driver's arrays (the difference to their sum is what they cost each
other in the caches); what is left is idle lanes, the step control, dense output and lane refills. ``--lanes`` sets
the lane count of the generated kernels there; ``--lanes-against B1 B2`` instead times whole runs on B1 and B2 lanes,
alternated in this process, and checks that their results are bit-identical.
Run: ``python benchmarks/stages.py [--scenario NAME] [--n 1000] [--repeats 5] [--steps [--lanes B]]
[--lanes-against B1 B2]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np


def timed(store: dict[str, float], stage: Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` adding its CPU time (this thread) to ``store[stage(*args)]`` on every call; nested timed calls are
    counted in the innermost stage only."""
    stack = timed.stack  # type: ignore[attr-defined]

    def call(*args: Any, **kw: Any) -> Any:
        t0 = time.process_time()
        stack.append(0.0)
        try:
            return fn(*args, **kw)
        finally:
            spent = time.process_time() - t0
            inner = stack.pop()
            store[stage(*args, **kw)] += spent - inner
            if stack:
                stack[-1] += spent
            timed.total[0] += spent - inner

    return call


timed.total, timed.stack = [0.0], []  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="lps-endotoxemia")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", action="store_true", help="take the simulation stage apart, per step")
    ap.add_argument("--lanes", type=int, default=0, help="with --steps: lanes of the generated kernels (default: batch's)")
    ap.add_argument("--lanes-against", type=int, nargs=2, metavar=("B1", "B2"),
                    help="whole runs on generated kernels of B1 and B2 lanes, alternated")
    a = ap.parse_args()
    if a.lanes_against:
        lanes_against(a.scenario, a.n, a.repeats, tuple(a.lanes_against))
        return
    if a.steps:
        step_profile(a.scenario, a.n, a.repeats, a.lanes)
        return

    from cytonet.engine import batch
    from cytonet.population import rest, runner
    from cytonet.population.sampling import load_variation
    from cytonet.store import runs as store_mod

    cfg = runner.PopulationConfig(scenario=a.scenario, n=100_000, variation=load_variation(), batch_size=a.n)
    cfg_json = cfg.to_json()
    runner.prepare(cfg_json)
    spent: dict[str, float] = defaultdict(float)
    newton_calls = [0]

    def newton_stage(*_: Any, **__: Any) -> str:
        newton_calls[0] += 1
        return "rest: Newton from nominal" if newton_calls[0] % 2 == 1 else "rest: Newton after relaxation"

    rest.newton = timed(spent, newton_stage, rest.newton)
    rest._healthy = timed(spent, lambda *_, **__: "rest: stability test", rest._healthy)
    batch.simulate_batch = timed(
        spent, lambda cm, *_, **__: "rest: relaxation" if cm is runner.prepare(cfg_json).host else "simulation",
        batch.simulate_batch)
    runner.sample = timed(spent, lambda *_, **__: "sampling", runner.sample)
    runner.series_of = timed(spent, lambda *_, **__: "outcomes", runner.series_of)
    runner.outcomes = timed(spent, lambda *_, **__: "outcomes", runner.outcomes)
    store_mod.write_table = timed(spent, lambda *_, **__: "Parquet", store_mod.write_table)
    rest.rest_states = timed(spent, lambda *_, **__: "rest: remainder", rest.rest_states)
    runner.rest_states = rest.rest_states
    part = timed(spent, lambda *_, **__: "other", runner.run_partition)
    per: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as d:
        for k in range(a.repeats + 1):
            spent.clear()
            newton_calls[0] = 0
            timed.total[0] = 0.0  # type: ignore[attr-defined]
            part(cfg_json, d, k, 1)
            if k:  # the first partition loads the kernels
                for stage, s in spent.items():
                    per[stage].append(s / a.n * 1e3)
                per["total"].append(timed.total[0] / a.n * 1e3)  # type: ignore[attr-defined]
    order = ["sampling", "rest: Newton from nominal", "rest: stability test", "rest: relaxation",
             "rest: Newton after relaxation", "rest: remainder", "simulation", "outcomes", "Parquet", "other", "total"]
    print(f"[{a.scenario}] partitions of {a.n} patients ({len(cfg.arms)} arm), one thread, {a.repeats} repeats; "
          "CPU ms per patient, median (range)")
    for stage in order:
        v = np.array(per.get(stage, [0.0]))
        print(f"  {stage:<32}{np.median(v):>7.3f}  ({v.min():.3f}-{v.max():.3f})")


def lane_iterations(counts: np.ndarray, B: int) -> int:
    """Iterations of a block of ``B`` lanes that refill from the queue (runs of ``counts`` attempted steps, in order)."""
    left, queue, it = np.zeros(B, np.int64), list(counts[::-1]), 0
    while queue or left.any():
        for q in np.flatnonzero(left == 0):
            if queue:
                left[q] = queue.pop()
        left[left > 0] -= 1
        it += 1
    return it


def partition_batch(scenario: str, n: int) -> tuple:
    """(arm model, run arrays, model arrays, Hill codes, per-species atol, output grid, config) of the first partition's
    simulation, as ``run_partition`` sets it up."""
    from cytonet.engine import lockstep, rodas
    from cytonet.engine.batch import run_arrays
    from cytonet.engine.simulate import DEFAULT_MAX_STEPS, _check_tolerances
    from cytonet.population import runner
    from cytonet.population.sampling import load_variation

    cfg = runner.PopulationConfig(scenario=scenario, n=100_000, variation=load_variation(), batch_size=n)
    prep = runner.prepare(cfg.to_json())
    _, _, table = runner.rest_table(prep, cfg, 0, n, 0, threads=1)
    cm = next(iter(prep.arms.values()))
    arr = run_arrays(cm, table)
    M = rodas.model_arrays(cm)
    ncode = lockstep.hill_codes(arr["P"], M[1][4])
    atol = _check_tolerances(cm, cfg.rtol, cfg.atol, DEFAULT_MAX_STEPS, np.inf)
    return cm, arr, M, ncode, atol, prep.t, cfg


def lane_runner(batch: tuple, B: int) -> tuple[Callable[[], float], tuple[np.ndarray, ...]]:
    """(a function running the whole batch on ``B`` lanes of generated kernels and returning its CPU time, its
    (outputs, status, info) arrays)."""
    from cytonet.engine import lane_codegen, lockstep, rodas
    from cytonet.engine.simulate import DEFAULT_MAX_STEPS

    cm, arr, M, ncode, atol, t, cfg = batch
    m = arr["X0"].shape[0]
    gen = lane_codegen.lane_kernels(M, ncode, B)
    out, status, info = np.full((m, t.size, cm.n_species), np.nan), np.zeros(m, np.int64), np.zeros((m, rodas.N_INFO))

    def run() -> float:
        t0 = time.process_time()
        lockstep.solve_lanes(arr["X0"], arr["P"], t, arr["bolus_time"], cm.bolus_species, arr["bolus_amount"],
                             arr["inf_start"], arr["inf_end"], cm.inf_species, arr["inf_rate"], M, ncode, cfg.rtol, atol,
                             DEFAULT_MAX_STEPS, np.inf, B, np.arange(m), out, status, info, kernels=gen)
        return time.process_time() - t0

    return run, (out, status, info)


def lanes_against(scenario: str, n: int, repeats: int, lanes: tuple[int, int]) -> None:
    """Whole runs of one partition on generated kernels for two lane counts, alternated in this process."""
    batch = partition_batch(scenario, n)
    m = batch[1]["X0"].shape[0]
    (ra, res_a), (rb, res_b) = lane_runner(batch, lanes[0]), lane_runner(batch, lanes[1])
    ra(), rb()
    times = np.array([(ra(), rb()) if k % 2 else (rb(), ra())[::-1] for k in range(repeats)])
    same = all(np.array_equal(x, y, equal_nan=True) for x, y in zip(res_a, res_b))
    r = times[:, 0] / times[:, 1]
    print(f"[{scenario}] {m} runs, generated kernels, one thread, {repeats} alternated repeats: {lanes[0]} lanes "
          f"{np.median(times[:, 0]) / m * 1e3:.3f} ms per run, {lanes[1]} lanes {np.median(times[:, 1]) / m * 1e3:.3f}; "
          f"ratio {np.median(r):.2f}x ({r.min():.2f}-{r.max():.2f}); bit-identical: {same}")


def step_profile(scenario: str, n: int, repeats: int, lanes: int = 0) -> None:
    """Print where one partition's simulation spends its CPU time, per attempted step (module docstring)."""
    import step_kernels as sk

    from cytonet.engine import lane_codegen, lockstep, rodas
    from cytonet.engine.batch import LOCKSTEP_LANES
    from cytonet.engine.lockstep import JAC_SIG, LU_SIG, RHS_SIG, SOLVE_SIG

    B = lanes or LOCKSTEP_LANES
    batch = partition_batch(scenario, n)
    cm, arr, M, ncode, atol, t, cfg = batch
    m = arr["X0"].shape[0]
    run, (out, status, info) = lane_runner(batch, B)
    gen = lane_codegen.lane_kernels(M, ncode, B)  # loaded already by lane_runner
    run()
    runs = [run() for _ in range(repeats)]
    attempted = info[:, rodas.I_STEPS] + info[:, rodas.I_REJECTED]
    per_step = np.median(runs) / attempted.sum() * 1e9
    lane_use = attempted.sum() / (lane_iterations(attempted.astype(np.int64), B) * B)
    S, Q, L, dst = M
    n_s = cm.n_species
    Xm = np.ascontiguousarray(out[:B, np.searchsorted(t, 10.0), :].T)  # 10 h into the run: mid-storm states
    C = lockstep.block_constants(np.ascontiguousarray(arr["P"][:B]), Q, ncode)
    U, fw, jv = np.zeros((n_s, B)), np.empty((n_s, B)), np.empty((L[2].shape[0], B))
    gen.rhs(Xm, U, *C, fw)
    gen.jac(Xm, *C, jv)
    h = 48.0 / np.median(attempted)
    dtg, a, lik, big, okl = np.full(B, 1 / (h * rodas.GAMMA)), np.empty_like(jv), np.empty(B), np.empty(B), np.ones(B, bool)
    lockstep.lu_block(jv, dtg, L, a, lik, big, okl)
    b = np.empty_like(fw)
    stages = np.repeat(fw[None], rodas.N_STAGES, axis=0)
    ks = [fw.copy(), fw.copy(), stages, fw.copy(), fw.copy()]  # f(x), f, the stages, yt, y1: values as the kernels leave them

    def step(rhs: Callable, jac: Callable, solve: Callable, lu: Callable) -> float:
        return sk.per_lane_ns(lambda r: sk.with_kernels(
            sk.rep_step, sk.STEP_SIGS, r, Xm, U, C, S, ncode, L, jv, np.empty_like(jv), dtg, lik, big, okl, *ks,
            np.empty_like(fw), np.full(B, 1 / h), atol, cfg.rtol, *np.empty((5, B)), rhs, jac, solve, lu), B, reps)

    reps = 400
    copy = sk.per_lane_ns(lambda r: sk.rep_copy(r, b, fw), B, reps)
    pieces = [
        ("right-hand side", rodas.N_STAGES, sk.per_lane_ns(lambda r: sk.with_kernels(sk.rep_rhs, (RHS_SIG,), r, Xm, U, *C, b, gen.rhs),
                                              B, reps)),
        ("Jacobian", 1, sk.per_lane_ns(lambda r: sk.with_kernels(sk.rep_jac, (JAC_SIG,), r, Xm, *C, jv, gen.jac), B, reps)),
        ("LU (generated)", 1,
         sk.per_lane_ns(lambda r: sk.with_kernels(sk.rep_glu, (LU_SIG,), r, jv, dtg, a, big, okl, gen.lu), B, reps)),
        ("triangular solves", rodas.N_STAGES,
         sk.per_lane_ns(lambda r: sk.with_kernels(sk.rep_solve, (SOLVE_SIG,), r, a, b, fw, gen.solve), B, reps) - copy),
        ("stage updates, error norm", 1, step(lockstep._no_rhs, lockstep._no_jac, lockstep._no_solve, lockstep._no_lu)),
    ]
    interpreted_lu = sk.per_lane_ns(lambda r: sk.rep_lu(r, jv, dtg, L, a, lik, big, okl), B, reps)
    whole = step(gen.rhs, gen.jac, gen.solve, gen.lu)
    print(f"[{scenario}] simulation of {m} patients ({n_s} states, {L[2].shape[0]} LU entries), {B} lanes, one thread: "
          f"{np.median(runs) / m * 1e3:.3f} ms per run (range {min(runs) / m * 1e3:.3f}-{max(runs) / m * 1e3:.3f}, "
          f"{repeats} repeats); {np.median(attempted):.0f} attempted steps per run (median; rejected "
          f"{info[:, rodas.I_REJECTED].sum():.0f} in all), lane use {lane_use:.1%} (replayed, before the hand-over)")
    print(f"  per attempted step and lane: {per_step:.0f} ns measured in the run; the interpreted LU alone "
          f"{interpreted_lu:.1f} ns ({interpreted_lu / pieces[2][2]:.2f}x the generated one)")
    total = 0.0
    for name, calls, ns in pieces:
        total += calls * ns
        print(f"  {name:<28}{calls} x {ns:7.1f} ns = {calls * ns:7.0f} ns  ({calls * ns / per_step:5.1%})")
    idle = per_step * (1 - lane_use)
    print(f"  {'pieces alone, sum':<28}{'':>15}{total:7.0f} ns  ({total / per_step:5.1%})\n"
          f"  {'the pieces in sequence':<28}{'':>15}{whole:7.0f} ns  ({whole / per_step:5.1%}): "
          f"{whole - total:+.0f} ns from sharing the caches\n"
          f"  {'idle lanes':<28}{'':>15}{idle:7.0f} ns  ({idle / per_step:5.1%})\n"
          f"  {'step control, dense output':<28}{'':>15}{per_step - idle - whole:7.0f} ns  "
          f"({(per_step - idle - whole) / per_step:5.1%}), lane refills")


if __name__ == "__main__":
    main()
