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
Run: ``python benchmarks/stages.py [--scenario NAME] [--n 1000] [--repeats 5]``.
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
    a = ap.parse_args()

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


if __name__ == "__main__":
    main()
