"""Multistart fits of the PEtab benchmark problems with at most 20 estimated parameters, against their published llh.

For each problem (cheapest first: ordered by the time of one objective + gradient), K starts drawn
from the initialisation priors (seeded) are fitted one after the other with the default optimiser
and forward-sensitivity gradients. Every start prints its llh, the optimiser's iterations and exit
reason, the largest free gradient component at its end and its seconds; every problem appends one
row to the results table: the reference llh (published, or * the llh at the collection's nominal
parameters where none is published), the best llh, starts reaching the reference (llh >= reference
- 1e-3), starts within 0.1 of the best (converged), failed starts, starts run, wall time and the
exit reasons counted.

    .venv/bin/python benchmarks/multistart.py --starts 50 --table benchmarks/results/multistart.md
    .venv/bin/python benchmarks/multistart.py --problems Fujita_SciSignal2010 --starts 3 --budget-s 1800

``--method A B ...`` fits every start with each optimiser in turn (the same points; one row per optimiser, whose
wall s are the seconds of its own starts), e.g. ``--method ls fides fides-hybrid --starts 10 --start-budget-s 120``.
``--budget-s`` stops a problem's starts after that many seconds (the row says how many ran);
``--start-budget-s`` ends one start at its best point after that many seconds (exit TIME_BUDGET);
``--starts-out DIR`` writes every start's record (start and end point, exit, gradient norm) as
``DIR/PROBLEM.json``, rewritten after every start. ``--first-start F`` fits only starts F, F + 1, ... of the seed's K
(the same points as a full run's), e.g. to continue a run that was stopped after F starts.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "petab-benchmark"
MAX_PARAMETERS = 20
HEADER = ("| problem | parameters | optimiser | reference llh | best llh | reached (>= ref - 1e-3) | converged (within 0.1 of best) "
          "| failed | starts run | wall s | s/start | exits |\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def published() -> dict[str, float]:
    readme = SHARED / "README.md"
    if not readme.is_file():
        return {}
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (\w+) \| (-?[0-9.]+)", readme.read_text(), re.M)}


def _exit_kind(exit: str) -> str:
    """A short name of an optimiser's exit reason (fides' ExitFlag name, SciPy's status)."""
    m = re.match(r"ExitFlag\.(\w+)", exit) or re.search(r"\(status (-?\d+)", exit)
    if m:
        return m.group(1) if exit.startswith("ExitFlag") else f"status {m.group(1)}"
    return re.split(r" \(|:", exit)[0][:40] or "none"  # TIME_BUDGET, or the reason a start ended early


def problems(names: list[str] | None) -> list[tuple[float, str, Path]]:
    """(seconds per objective + gradient at the nominal point, name, yaml) of the problems to fit, cheapest first."""
    from cytonet.fit.optimize import ObjectiveSettings, cached_objective

    out = []
    for folder in sorted(p for p in SHARED.iterdir() if p.is_dir()):
        if names and folder.name not in names:
            continue
        path = next(folder.glob("*.yaml"))
        obj = cached_objective(ObjectiveSettings(str(path)).key())
        if obj.n > MAX_PARAMETERS:
            continue
        x = obj.problem.parameters.nominal_x()
        obj.value_and_gradient(x)  # compiles
        t0 = time.perf_counter()
        obj.value_and_gradient(x)
        out.append((time.perf_counter() - t0, folder.name, path))
    return sorted(out)


def fit_problem(name: str, path: Path, starts: int, seed: int, methods: list[str], max_iter: int, budget_s: float,
                reference: dict[str, float], starts_out: Path | None, start_budget_s: float | None = None,
                first_start: int = 0) -> list[str]:
    """One row per optimiser; with several, each start point is fitted by every optimiser in turn (same points,
    alternated, so that the machine's changing load falls on all of them alike)."""
    from cytonet.fit.optimize import ObjectiveSettings, cached_objective, optimize_start, redraws_of, resolve_method

    obj = cached_objective(ObjectiveSettings(str(path)).key())
    ref, mark = reference.get(name), ""
    if ref is None:
        ref, mark = float(obj.evaluate(obj.problem.parameters.nominal_x()[None, :]).llh[0]), "*"
    ms = list(dict.fromkeys(resolve_method(obj, m) for m in methods if m != "ls" or obj.least_squares))  # ls: least squares only
    print(f"\n{name}: {obj.n} parameters, {', '.join(ms)}, gradient by {obj.gradient_method}, reference llh {ref:.4f}{mark}", flush=True)
    X0 = obj.problem.sample_starts(starts, seed)
    t0 = time.perf_counter()
    results: dict[str, list] = {m: [] for m in ms}
    for i, x0 in enumerate(X0[first_start:], start=first_start):
        if time.perf_counter() - t0 > budget_s:
            break
        for m in ms:
            r = optimize_start(obj, x0, method=m, max_iter=max_iter, start=i, redraw=redraws_of(obj, seed, i), max_seconds=start_budget_s)
            results[m].append(r)
            print(f"  start {i:2d} {m:12s}: llh {r.llh:14.4f}  {r.iterations:5d} it  |g| {r.gradient_norm:9.2e}  {r.seconds:7.1f} s  "
                  f"{r.failed_evaluations:3d} failed ev  {r.status} {r.exit[:90]} {r.message[:120]}", flush=True)
        if starts_out is not None:  # after every start, so a run stopped by its timeout keeps what it did
            starts_out.mkdir(parents=True, exist_ok=True)
            tmp = starts_out / f".{name}.json.tmp"
            tmp.write_text(json.dumps([asdict(s) for rs in results.values() for s in rs], indent=1, default=float))
            tmp.replace(starts_out / f"{name}.json")
    return [_row(name, obj.n, m, ref, mark, results[m], starts - first_start) for m in ms]


def _row(name: str, n: int, method: str, ref: float, mark: str, results: list, starts: int) -> str:
    """The results table's row of one problem and optimiser (wall s: the seconds of its own starts)."""
    from cytonet.fit.optimize import CONVERGED_WITHIN

    ok = [r for r in results if r.status == "ok"]
    best = max((r.llh for r in ok), default=-np.inf)
    conv = sum(1 for r in ok if best - r.llh <= CONVERGED_WITHIN)
    reached = sum(1 for r in ok if r.llh >= ref - 1e-3)
    wall = sum(r.seconds for r in results)
    exits = collections.Counter(_exit_kind(r.exit) if r.status == "ok" else "failed" for r in results)
    return (f"| {name} | {n} | {method} | {ref:.4f}{mark} | {best:.4f} | {reached} | {conv} | {len(results) - len(ok)} | "
            f"{len(results)}/{starts} | {wall:.0f} | {wall / max(len(results), 1):.1f} | "
            + ", ".join(f"{k} {v}" for k, v in exits.most_common())
            + f"; {sum(r.failed_evaluations for r in results)} failed evaluations |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", nargs="*", default=None, help="benchmark problem folders (default: every one with <= 20 parameters)")
    ap.add_argument("--starts", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--method", nargs="+", default=["auto"], help="optimisers; several: every start by each in turn")
    ap.add_argument("--max-iter", type=int, default=None, help="optimiser iterations per start (default: cytonet's)")
    ap.add_argument("--budget-s", type=float, default=np.inf, help="seconds per problem")
    ap.add_argument("--start-budget-s", type=float, default=None, help="seconds per start (then its best point, exit TIME_BUDGET)")
    ap.add_argument("--table", type=Path, default=None, help="append the markdown rows here (header written when new)")
    ap.add_argument("--starts-out", type=Path, default=None, help="write every start's record as DIR/PROBLEM.json")
    ap.add_argument("--first-start", type=int, default=0, help="fit only the seed's starts from this index on (same points)")
    args = ap.parse_args()
    if not 0 <= args.first_start < args.starts:
        raise SystemExit(f"--first-start must be in 0..{args.starts - 1}, got {args.first_start}")
    if not SHARED.is_dir():
        raise SystemExit("../shared/petab-benchmark not found")
    from cytonet.fit.optimize import MAX_ITER

    reference = published()
    order = problems(args.problems)
    print("order (s per objective + gradient):", ", ".join(f"{n} {t:.3f}" for t, n, _ in order), flush=True)
    if args.table is not None and not args.table.is_file():
        args.table.parent.mkdir(parents=True, exist_ok=True)
        args.table.write_text(HEADER + "\n")
    rows = []
    for _, name, path in order:
        new = fit_problem(name, path, args.starts, args.seed, args.method, args.max_iter or MAX_ITER, args.budget_s, reference,
                          args.starts_out, args.start_budget_s, args.first_start)
        rows += new
        print("\n".join(new), flush=True)
        if args.table is not None:
            with args.table.open("a") as fh:
                fh.write("".join(r + "\n" for r in new))
    print("\n" + HEADER + "\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
