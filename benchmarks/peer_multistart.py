"""pyPESTO + AMICI multistart on a PEtab benchmark problem from cytonet's own start points, beside cytonet's fides.

The start points are cytonet's (``PetabProblem.sample_starts``, the seed of ``cytonet fit`` and
benchmarks/multistart.py), so both tools start from identical points. pyPESTO fits each with its
fides optimiser as it comes (``FidesOptimizer()``: its default hybrid Hessian ``fides.HybridFixed``
on AMICI's Fisher information, fides' default tolerances) on AMICI forward sensitivities at
cytonet's integration tolerances (rtol 1e-8, atol 1e-12); the same iteration and time limits per
start as cytonet's (``--max-iter``, ``--start-budget-s``). With ``--cytonet`` every start is fitted
by cytonet's fides too, alternated with pyPESTO's, so the machine's load falls on both alike. Per
start: final llh, iterations (pyPESTO: fides' iterations), seconds, exit; at the end, per tool, the
starts reaching the reference llh (published, >= reference - 1e-3).

    .venv/bin/python benchmarks/peer_multistart.py --problem Fujita_SciSignal2010 --starts 50 --budget-s 1800 --cytonet

Needs pyPESTO and AMICI (``pip install pypesto amici``; AMICI needs SWIG) in the environment; they
are not cytonet's dependencies. AMICI's model is built once into ``--amici-dir``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from fit import _amici_objective  # noqa: E402
from multistart import SHARED, _exit_kind, published  # noqa: E402


def _pypesto_start(problem, optimizer, z0: np.ndarray, i: int) -> tuple[float, int, float, str]:  # noqa: ANN001
    """(llh, fides iterations, seconds, exit) of one pyPESTO start from ``z0`` (pyPESTO's order and scale)."""
    from pypesto.optimize import OptimizeOptions
    from pypesto.history import HistoryOptions

    t0 = time.perf_counter()
    res = optimizer.minimize(problem, x0=z0, id=str(i), history_options=HistoryOptions(), optimize_options=OptimizeOptions())
    seconds = time.perf_counter() - t0
    fides_opt = optimizer.last_fides  # set by the wrapper below: fides' own iteration count and exit flag
    return -float(res.fval), int(fides_opt.iteration), seconds, str(fides_opt.exitflag)


def _fides_optimizer(max_iter: int, max_seconds: float):  # noqa: ANN202
    """pyPESTO's FidesOptimizer with its defaults and the given limits, keeping the last fides.Optimizer it ran."""
    import fides
    from pypesto.optimize import FidesOptimizer

    optimizer = FidesOptimizer(options={fides.Options.MAXITER: max_iter, fides.Options.MAXTIME: max_seconds}, verbose=0)
    original = fides.Optimizer

    class Kept(original):  # type: ignore[misc, valid-type]
        def __init__(self, *a, **k) -> None:  # noqa: ANN002, ANN003
            super().__init__(*a, **k)
            optimizer.last_fides = self

    fides.Optimizer = Kept  # pyPESTO looks fides.Optimizer up at every minimize
    return optimizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", default="Fujita_SciSignal2010")
    ap.add_argument("--starts", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--first", type=int, default=0, help="index of the first start to fit (of the seed's sequence)")
    ap.add_argument("--max-iter", type=int, default=None, help="iterations per start (default: cytonet's)")
    ap.add_argument("--start-budget-s", type=float, default=120.0, help="seconds per start and tool")
    ap.add_argument("--budget-s", type=float, default=np.inf, help="no new start after this many seconds")
    ap.add_argument("--cytonet", action="store_true", help="fit every start with cytonet's fides too (alternated)")
    ap.add_argument("--amici-dir", type=Path, default=Path(tempfile.gettempdir()) / "cytonet-amici-models")
    args = ap.parse_args()
    logging.disable(logging.INFO)  # AMICI's PEtab mapping logs every condition at DEBUG; fides logs every iteration
    from cytonet.fit.optimize import MAX_ITER, ObjectiveSettings, cached_objective, optimize_start

    path = next((SHARED / args.problem).glob("*.yaml"))
    obj = cached_objective(ObjectiveSettings(str(path)).key())
    max_iter = args.max_iter or MAX_ITER
    ref = published().get(args.problem)
    if ref is None:
        raise SystemExit(f"{args.problem}: no published llh in the collection's README")
    t0 = time.perf_counter()
    problem = _amici_objective(path, output_folder=args.amici_dir / args.problem)
    if isinstance(problem, str):
        raise SystemExit(problem)
    names = [problem.x_names[i] for i in problem.x_free_indices]
    if sorted(names) != sorted(obj.ids):
        raise SystemExit(f"estimated parameters differ: pyPESTO {names}, cytonet {obj.ids}")
    order = [obj.ids.index(n) for n in names]
    nominal = obj.problem.parameters.nominal_x()
    f_nominal = float(problem.objective(nominal[order]))
    print(f"{args.problem}: {obj.n} parameters, reference llh {ref:.4f}; AMICI model ready in {time.perf_counter() - t0:.0f} s, "
          f"llh at the nominal point: AMICI {-f_nominal:.6f}, cytonet {obj.evaluate(nominal[None, :]).llh[0]:.6f}", flush=True)
    optimizer = _fides_optimizer(max_iter, args.start_budget_s)
    X0 = obj.problem.sample_starts(args.first + args.starts, args.seed)[args.first:]
    rows: dict[str, list[tuple[float, int, float, str]]] = {"pyPESTO+AMICI fides": [], "cytonet fides": []}
    t_run = time.perf_counter()
    for k, x0 in enumerate(X0):
        i = args.first + k
        if time.perf_counter() - t_run > args.budget_s:
            break
        line = f"  start {i:2d}  llh at start {obj.evaluate(x0[None, :]).llh[0]:14.4f}"
        try:
            rows["pyPESTO+AMICI fides"].append(_pypesto_start(problem, optimizer, x0[order], i))
        except Exception as exc:  # noqa: BLE001 - a peer start's failure is recorded, not fatal
            rows["pyPESTO+AMICI fides"].append((-np.inf, 0, 0.0, f"failed: {type(exc).__name__}: {exc}"[:80]))
        llh, it, s, ex = rows["pyPESTO+AMICI fides"][-1]
        line += f"  | pyPESTO: llh {llh:12.4f} {it:5d} it {s:6.1f} s {ex}"
        if args.cytonet:
            r = optimize_start(obj, x0, method="fides", max_iter=max_iter, start=i, max_seconds=args.start_budget_s)
            rows["cytonet fides"].append((r.llh if r.status == "ok" else -np.inf, r.iterations, r.seconds,
                                          _exit_kind(r.exit) if r.status == "ok" else "failed"))
            line += f"  | cytonet: llh {r.llh:12.4f} {r.iterations:5d} it {r.seconds:6.1f} s {rows['cytonet fides'][-1][3]}"
        print(line, flush=True)
    for tool, rs in rows.items():
        if rs:
            llhs = np.asarray([r[0] for r in rs])
            print(f"{tool}: {int(np.sum(llhs >= ref - 1e-3))}/{len(rs)} starts reached {ref - 1e-3:.4f}, best llh {llhs.max():.4f}, "
                  f"{sum(r[2] for r in rs):.0f} s in all", flush=True)


if __name__ == "__main__":
    main()
