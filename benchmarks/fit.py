"""Fitting benchmark: time per objective and per objective + gradient, gradient accuracy, multistart fits per optimiser.

For each PEtab problem: the objective at the nominal parameters (one vector) and with its
central-difference gradient (2n + 1 vectors, one batch), the gradient's relative error against a
reference gradient at tighter tolerances, and multistart fits with each optimiser (SciPy
trust-region least squares where the problem allows, fides, L-BFGS-B): best objective, starts
within 0.1 of the best, seconds per start. The nominal llh and, where published, the reference llh
are printed beside. pyPESTO with AMICI runs on the same problems when both are installed
(`pip install pypesto amici`, AMICI needs SWIG); otherwise that column says so and is skipped.

    .venv/bin/python benchmarks/fit.py                       # quick: the synthetic problem + 3 benchmark problems, 5 starts
    .venv/bin/python benchmarks/fit.py --starts 50 --problems Fujita_SciSignal2010 Bruno_JExpBot2016

The 50-start fits of every problem with at most 20 estimated parameters are benchmarks/multistart.py.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "petab-benchmark"
QUICK = ("Perelson_Science1996", "Rahman_MBS2016", "Fujita_SciSignal2010")


def _published() -> dict[str, float]:
    readme = SHARED / "README.md"
    if not readme.is_file():
        return {}
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (\w+) \| (-?[0-9.]+)", readme.read_text(), re.M)}


def _synthetic() -> Path:
    sys.path.insert(0, str(ROOT / "tests" / "fit"))
    from problems import write_problem

    return write_problem(Path(tempfile.mkdtemp(prefix="cytonet-fit-bench-")) / "decay", seed=0)


def _timed(fn, repeat: int = 3) -> tuple[float, object]:  # noqa: ANN001
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _amici_objective(path: Path, output_folder: Path | None = None):  # noqa: ANN202 - a pypesto problem or a reason string
    """pyPESTO's problem of ``path`` on AMICI (model built into ``output_folder``, default pyPESTO's) at cytonet's
    tolerances with forward sensitivities."""
    try:
        import amici
        import pypesto.petab
    except ImportError:
        return "pyPESTO/AMICI not installed"
    if shutil.which("swig") is None:  # AMICI's model build needs SWIG; pip puts it beside the interpreter
        os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    for name in ("amici", "pypesto"):  # their PEtab mapping logs every condition at DEBUG
        logging.getLogger(name).setLevel(logging.WARNING)
    importer = pypesto.petab.PetabImporter.from_yaml(str(path), output_folder=None if output_folder is None else str(output_folder))
    problem = importer.create_problem()
    solver = problem.objective.amici_solver

    def call(snake: str, camel: str, value: object) -> None:  # AMICI >= 1.0 names its setters in snake case
        (getattr(solver, snake, None) or getattr(solver, camel))(value)

    call("set_relative_tolerance", "setRelativeTolerance", 1e-8)  # cytonet's defaults: equal tolerances
    call("set_absolute_tolerance", "setAbsoluteTolerance", 1e-12)
    methods = getattr(amici, "SensitivityMethod", None) or __import__("amici.sim.sundials", fromlist=["x"]).SensitivityMethod
    call("set_sensitivity_method", "setSensitivityMethod", methods.forward)
    return problem


def _amici_line(path: Path, x: np.ndarray, ids: list[str], g_ref: np.ndarray, g_tight: np.ndarray | None, cyto,  # noqa: ANN001
                starts: int) -> str:
    """AMICI's objective + forward-sensitivity gradient at x (cytonet's ids), its errors (against the central
    differences ``g_ref`` and the tight sensitivities ``g_tight``) and the time ratio against ``cyto()`` (cytonet's
    objective + gradient), the two timed alternately (best of 7 each: a shared machine's load then falls on both alike)."""
    import time as _t

    t0 = _t.perf_counter()
    problem = _amici_objective(path)
    if isinstance(problem, str):
        return problem
    build = _t.perf_counter() - t0
    names = [problem.x_names[i] for i in problem.x_free_indices]
    z = np.asarray([x[ids.index(n)] for n in names])
    t_fg, t_cyto = np.inf, np.inf
    for _ in range(7):
        t, (f, g) = _timed(lambda: problem.objective(z, sensi_orders=(0, 1)), repeat=1)
        t_fg = min(t_fg, t)
        t_cyto = min(t_cyto, _timed(cyto, repeat=1)[0])
    g = np.asarray(g, float)
    g_c = np.asarray([g[names.index(i)] for i in ids])
    err = _rel(g_c, g_ref)
    tight = "" if g_tight is None else f" ({_rel(g_c, g_tight):.1e} against the tight sensitivities)"
    line = (f"AMICI objective+gradient (forward sensitivities, rtol 1e-8) {t_fg * 1e3:.2f} ms, gradient rel. error {err:.1e}{tight}, "
            f"objective {f:.6f}; timed alternately with cytonet's {t_cyto * 1e3:.2f} ms: cytonet/AMICI time ratio "
            f"{t_cyto / t_fg:.2f} (model build {build:.0f} s)")
    if starts:
        import pypesto.optimize as optimize

        t0 = _t.perf_counter()
        res = optimize.minimize(problem, optimizer=optimize.FidesOptimizer(), n_starts=starts, progress_bar=False)
        fvals = np.asarray(res.optimize_result.fval, float)
        line += (f"\n  pyPESTO+AMICI fides: best objective {np.nanmin(fvals):.4f}, converged "
                 f"{int(np.sum(fvals <= np.nanmin(fvals) + 0.1))}/{starts}, {(_t.perf_counter() - t0) / starts:.2f} s/start")
    return line


def _rel(g: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(g - ref) / max(np.linalg.norm(ref), 1e-300))


def bench(path: Path, starts: int, seed: int, published: float | None) -> None:
    from cytonet.fit.objective import Objective
    from cytonet.fit.optimize import ObjectiveSettings, cached_objective, multistart
    from cytonet.fit.problem import load_problem

    name = path.parent.name
    obj = cached_objective(ObjectiveSettings(str(path)).key())
    fd = Objective(load_problem(path), gradient="fd")
    x = obj.problem.parameters.nominal_x()
    t_f, ev = _timed(lambda: obj.evaluate(x[None, :]))
    kernels = obj.forward.kernels if obj.gradient_method == "forward sensitivities" else None
    kernel_line = ""
    if kernels is not None:  # the interpreted tape, then the generated kernel (a fit switches once it pays)
        built, kernels.built, kernels.compile_s = kernels.built, None, np.inf
        t_interp, _ = _timed(lambda: obj.value_and_gradient(x))
        kernels.built = built
        t0 = time.perf_counter()
        kernels.build()
        obj.value_and_gradient(x)  # numba compiles (or loads) the kernel on its first call
        first = time.perf_counter() - t0
        kernel_line = (f"\n  tape kernel: interpreted {t_interp * 1e3:.2f} ms; generated (below) {first:.1f} s for its first "
                       f"evaluation ({'machine code in the cache' if built is not None else 'compiled now'}; "
                       f"{kernels.tm.tape.size} instructions)")
    t_fg, (f, g) = _timed(lambda: obj.value_and_gradient(x))
    t_fd, (_, g_fd) = _timed(lambda: fd.value_and_gradient(x))
    ref = Objective(load_problem(path), rtol=1e-11, atol=1e-14, fd_step=1e-5, gradient="fd")
    _, g_ref = ref.value_and_gradient(x)
    err = lambda v: _rel(v, g_ref)  # noqa: E731
    # central differences resolve a gradient to about 1e-5-1e-11 (their step and tolerances): the same sensitivities at
    # rtol 1e-12 are the sharper reference where the model has them
    g_tight = None
    if kernels is not None:
        _, g_tight = Objective(load_problem(path), rtol=1e-12, atol=1e-15).value_and_gradient(x)
    llh = ev.llh[0]
    pub = "" if published is None else f" (published {published:.6f}, diff {llh - published:+.1e})"
    print(f"\n{name}: {obj.n} estimated parameters, {obj.layout.measured.size} measurements, {len(obj.layout.runs)} experiments; "
          f"nominal llh {llh:.6f}{pub}")
    print(f"  objective {t_f * 1e3:8.2f} ms   objective+gradient by {obj.gradient_method}: {t_fg * 1e3:8.2f} ms "
          f"(rel. error {err(g):.1e}{'' if g_tight is None else f', {_rel(g, g_tight):.1e} against the same at rtol 1e-12'})   by central differences ({2 * obj.n + 1} vectors): {t_fd * 1e3:8.2f} ms "
          f"(rel. error {err(g_fd):.1e}); sensitivities/differences time ratio {t_fg / t_fd:.2f}  "
          "[errors against central differences at rtol 1e-11, step 1e-5]" + kernel_line)
    methods = ["ls", "fides", "lbfgsb"] if obj.least_squares else ["fides", "fides-bfgs", "lbfgsb"]
    for m in methods if starts else []:
        t0 = time.perf_counter()
        ms = multistart(ObjectiveSettings(str(path)), starts, seed, method=m, workers=1)  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        b = ms.best
        print(f"  {m:7s} best objective {b.objective:12.4f} (llh {b.llh:.4f})  converged {ms.converged:3d}/{starts}  "
              f"failed {ms.failed}  {dt / starts:7.2f} s/start  {np.mean([s.evaluations for s in ms.starts]):7.0f} vectors/start")
    try:
        peer = _amici_line(path, x, obj.ids, g_ref, g_tight, lambda: obj.value_and_gradient(x), starts)
    except Exception as exc:  # noqa: BLE001 - a peer tool's failure is reported, not fatal
        peer = f"pyPESTO/AMICI failed: {type(exc).__name__}: {exc}"
    print(f"  peer: {peer}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", nargs="*", default=None, help="benchmark problem folders (default: a quick set)")
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    published = _published()
    paths = [_synthetic()]
    names = args.problems if args.problems is not None else list(QUICK)
    if names and not SHARED.is_dir():
        print("../shared/petab-benchmark not found: only the synthetic problem runs")
        names = []
    paths += [next((SHARED / n).glob("*.yaml")) for n in names]
    for p in paths:
        bench(p, args.starts, args.seed, published.get(p.parent.name))


if __name__ == "__main__":
    main()
