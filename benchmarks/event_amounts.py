"""Per-patient event amounts on the lock-step path: what a per-run dose costs against one dose shared by every run.

Virtual car-t-crs patients (shipped default variation, Latin hypercube, each at its own rest state) are run by
:func:`cytonet.engine.batch.simulate_batch` on the lock-step path twice, interleaved, on one thread: (a) with the
scenario's event amounts compiled into the model (the table holds parameters and rest states only) and (b) with the
same amounts given per patient as ``car_t_infusion.amount`` and ``tumour_burden.amount`` columns, as a population
with event variation runs them. Both runs solve the same problems, so the ratio (b)/(a) of CPU time per patient is
the cost of the per-patient amounts, and the results must be bit-identical. A third timing (c) gives every patient
its own amounts (the shipped ``car_t_crs_hill2018`` levels and burden spread), which changes the dynamics and so the
step counts: its ratio is reported with the mean steps per run of (a) and (c).
Run from the repository root: ``.venv/bin/python benchmarks/event_amounts.py [--n 256] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


A, B, C = "a: amounts in the model", "b: the same amounts per patient", "c: each patient's own amounts"


def _cpu(fn):  # noqa: ANN001, ANN202 - a timing helper
    t = time.process_time()
    out = fn()
    return time.process_time() - t, out


def main() -> None:
    from cytonet.engine.batch import simulate_batch
    from cytonet.population.rest import rest_states
    from cytonet.population.runner import PopulationConfig, prepare
    from cytonet.population.sampling import load_variation, sample

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cfg = PopulationConfig(scenario="car-t-crs", n=args.n, variation=load_variation("car_t_crs_hill2018"), seed=1, batch_size=args.n)
    prep = prepare(cfg.to_json())
    values = sample(prep.varied, prep.method, 0, args.n, cfg.seed, 0)
    P = np.tile(prep.host.p, (args.n, 1))
    params = {k: v for k, v in values.items() if k not in prep.events}
    for pid, v in params.items():
        P[:, prep.host.parameter_index(pid)] = v
    X, found = rest_states(prep.host, P, prep.x_ref, cfg.relax_hours, 1)
    ok = np.flatnonzero(found)
    base = {**{k: v[ok] for k, v in params.items()}, **{s: X[ok, i] for i, s in enumerate(prep.host.species)}}
    cm = prep.arms["untreated"]
    shared = {f"{e}.amount": np.full(ok.size, cm.bolus_amount[cm.bolus_ids.index(e)]) for e in cm.bolus_ids}
    own = {k: values[k][ok] for k in prep.events}
    tables = {A: base, B: {**base, **shared}, C: {**base, **own}}

    def run(table: dict) -> object:
        return simulate_batch(cm, table, float(prep.t[-1]), t_eval=prep.t, rtol=cfg.rtol, atol=cfg.atol, on_error="mask",
                              threads=1, method="lockstep", kernels="interpreted")

    for table in tables.values():  # warm-up: kernels compiled and cached outside the timing
        run({k: v[:8] for k, v in table.items()})
    cpu: dict[str, list[float]] = {k: [] for k in tables}
    last: dict[str, object] = {}
    for r in range(args.repeats):  # the order turns every repeat, so neither table always runs first
        for name, table in list(tables.items())[:: 1 if r % 2 == 0 else -1]:
            seconds, last[name] = _cpu(lambda table=table: run(table))
            cpu[name].append(seconds)
    identical = np.array_equal(last[A].state.values, last[B].state.values, equal_nan=True)  # type: ignore[attr-defined]
    med = {k: float(np.median(v)) for k, v in cpu.items()}
    print(f"car-t-crs, {ok.size} patients at their rest states, lock-step (interpreted kernels), 1 thread, "
          f"{args.repeats} interleaved repeats in alternating order (median CPU)")
    for name in tables:
        steps = float(last[name].steps.values.mean())  # type: ignore[attr-defined]
        print(f"  {name:34s} {1e3 * med[name] / ok.size:7.3f} ms CPU per patient  (mean {steps:.0f} steps per run)")
    print(f"  ratio b/a (per-patient amounts, same problems): {med[B] / med[A]:.3f}; results bit-identical: {identical}")
    print(f"  ratio c/a (own doses and burdens, other dynamics): {med[C] / med[A]:.3f}")


if __name__ == "__main__":
    main()
