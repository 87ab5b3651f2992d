"""Are the generated lock-step kernels bit-identical to the interpreted ones on whole populations?

For each scenario (``--scenarios``, default lps-endotoxemia:1000, sepsis-storm:300, car-t-crs:200; shipped variation,
seed 3), the patients' rest states are found once, then every arm is simulated as a population partition simulates it
(``simulate_batch``, the scenario's tolerances, one thread) on the interpreted kernels and on the generated ones
(built first when they are not). Prints, per scenario and arm, whether states, status codes and step counts are equal
bit for bit (NaN equal to NaN). The interpreted kernels are the reference every revision of the generators is held to.
Run: ``python benchmarks/kernels_identical.py [--scenarios NAME:N,...]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def check(scenario: str, n: int, seed: int) -> bool:
    """Simulate ``n`` patients of ``scenario`` on both kernels; print and return whether all arms are bit-identical."""
    from cytonet.engine.batch import simulate_batch
    from cytonet.population.runner import PopulationConfig, prepare, rest_table
    from cytonet.population.sampling import load_variation

    cfg = PopulationConfig(scenario=scenario, n=n, variation=load_variation(), batch_size=n, seed=seed)
    prep = prepare(cfg.to_json())
    _, ok, table = rest_table(prep, cfg, 0, n, 0, threads=1)
    same_all = True
    for arm, cm in prep.arms.items():
        runs = {}
        for kernels in ("interpreted", "generated"):
            t0 = time.process_time()
            ds = simulate_batch(cm, table, float(prep.t[-1]), t_eval=prep.t, rtol=cfg.rtol, atol=cfg.atol, on_error="mask",
                                threads=1, kernels=kernels)
            assert ds.attrs["lockstep_kernels"] == kernels, ds.attrs
            runs[kernels] = (ds, time.process_time() - t0)
        (a, ta), (b, tb) = runs["interpreted"], runs["generated"]
        same = (np.array_equal(a.state.values.view(np.int64), b.state.values.view(np.int64))
                and np.array_equal(a.status.values, b.status.values) and np.array_equal(a.steps.values, b.steps.values))
        same_all &= same
        print(f"  {scenario:<16} {arm:<10} {ok.size:>5} patients  bit-identical: {same}  "
              f"(CPU per run: interpreted {ta / ok.size * 1e3:.3f} ms, generated {tb / ok.size * 1e3:.3f} ms, loading or "
              f"building them included; {int((a.status.values != 0).sum())} failed runs)", flush=True)
    return same_all


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", default="lps-endotoxemia:1000,sepsis-storm:300,car-t-crs:200")
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    results = [check(name, int(n), a.seed) for name, n in (s.split(":") for s in a.scenarios.split(","))]
    print("all bit-identical" if all(results) else "NOT bit-identical")
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
