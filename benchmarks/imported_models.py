"""Imported SBML on cytonet's engine: the reference network exported, imported back, run three ways.

Prints, side by side in one process, for 14 days, 337 output points, rtol 1e-6, atol 1e-9:
single-run latency of the native spec (factor kernels), of the imported SBML (tape engine) and of
libroadrunner on the same file; batch throughput over N runs with parameters log-normal at 20 %
CV (``simulate_batch`` of the imported model, 2 threads, against a roadrunner loop); and the
largest relative difference between the imported and the native trajectories.
Run: ``python benchmarks/imported_models.py [model.yaml] [--runs=200]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "src"))
T_END, N_POINTS, RTOL, ATOL = 336.0, 337, 1e-6, 1e-9


def best_of(f, repeats: int = 5) -> float:
    """Shortest wall time of ``repeats`` calls (s)."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        out.append(time.perf_counter() - t0)
    return min(out)


def main(argv: list[str]) -> None:
    from cytonet.engine.batch import simulate_batch
    from cytonet.engine.simulate import simulate
    from cytonet.model.sbml import sbml_string
    from cytonet.model.sbml_import import read_sbml
    from cytonet.model.spec import load_spec
    from cytonet.model.tape_model import compile_tape

    import roadrunner

    args = [a for a in argv if not a.startswith("--")]
    runs = int(next((a.split("=", 1)[1] for a in argv if a.startswith("--runs=")), 200))
    spec = load_spec(args[0] if args else HERE.parent / "src/cytonet/model/data/reference_network.yaml")
    path = Path(tempfile.mkdtemp()) / "model.xml"
    path.write_text(sbml_string(spec))
    t0 = time.perf_counter()
    imp = read_sbml(path)
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    tm = compile_tape(imp.spec)
    t_compile = time.perf_counter() - t0
    grid = np.linspace(0.0, T_END, N_POINTS)
    native = simulate(spec, T_END, t_eval=grid, rtol=RTOL, atol=ATOL)
    tape = simulate(tm, T_END, t_eval=grid, rtol=RTOL, atol=ATOL)
    species = list(native.species.values)
    a, b = native.state.values, tape.state.sel(species=species).values
    floor = np.maximum(1e-6 * np.abs(a).max(axis=0), 1e-12)
    diff = float((np.abs(a - b) / np.maximum(np.abs(a), floor)).max())

    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance = RTOL
    rr.integrator.absolute_tolerance = ATOL
    rr.timeCourseSelections = ["time", *species]

    def rr_run() -> None:
        rr.resetAll()
        rr.simulate(0.0, T_END, N_POINTS)

    lat = {"native spec": best_of(lambda: simulate(spec, T_END, t_eval=grid, rtol=RTOL, atol=ATOL)),
           "imported (tape)": best_of(lambda: simulate(tm, T_END, t_eval=grid, rtol=RTOL, atol=ATOL)),
           "roadrunner": best_of(rr_run)}
    print(f"model {spec.id!r}: {len(tm.states) - 1} states, tape {tm.tape.size} instructions ({tm.n_rhs} for the "
          f"right-hand side), {len(tm.jac_reg)} Jacobian entries; import {t_import:.2f} s, lowering {t_compile:.2f} s")
    print(f"imported vs native trajectories: max relative difference {diff:.2e} (rtol {RTOL:g})")
    print(f"{'single run':18s} {'ms':>9s} {'vs roadrunner':>14s}")
    for k, v in lat.items():
        print(f"{k:18s} {1e3 * v:9.2f} {lat['roadrunner'] / v:13.2f}x")

    rng = np.random.default_rng(1)
    varied = [p.id for p in imp.spec.parameters if p.value > 0 and not p.id.startswith(("n_", "basal"))][:40]
    sigma = np.sqrt(np.log(1.04))
    table = {pid: imp.spec.parameter(pid).value * rng.lognormal(-sigma**2 / 2, sigma, runs) for pid in varied}
    t0 = time.perf_counter()
    simulate_batch(tm, table, T_END, t_eval=grid, rtol=RTOL, atol=ATOL, threads=2, on_error="mask")
    t_tape = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(runs):
        rr.resetAll()
        for pid in varied:
            rr[pid] = table[pid][i]
        rr.simulate(0.0, T_END, N_POINTS)
    t_rr = time.perf_counter() - t0
    print(f"{'batch of ' + str(runs):18s} {'runs/s':>9s} {'vs roadrunner':>14s}")
    print(f"{'imported (tape)':18s} {runs / t_tape:9.1f} {t_rr / t_tape:13.2f}x   (2 threads)")
    print(f"{'roadrunner':18s} {runs / t_rr:9.1f} {1.0:13.2f}x   (1 process)")


if __name__ == "__main__":
    main(sys.argv[1:])
