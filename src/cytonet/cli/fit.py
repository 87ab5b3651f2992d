"""``cytonet fit``: evaluate or calibrate a PEtab problem on cytonet's engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.cli._console import console


def fit(
    problem: Annotated[Path, typer.Argument(help="PEtab problem file (YAML)")],
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    nominal: Annotated[bool, typer.Option("--nominal", help="only evaluate at the nominal parameters: objective.json, simulations.tsv")] = False,
    starts: Annotated[int, typer.Option("--starts", min=1, help="multistart: number of local optimisations")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="seed of the start points")] = 0,
    method: Annotated[str, typer.Option("--method", help="auto, ls (SciPy trust-region least squares), fides (Fisher information), fides-hybrid (Fisher information, then BFGS), fides-bfgs or lbfgsb")] = "auto",
    profile: Annotated[bool, typer.Option("--profile", help="add profile likelihoods, 95 % CIs and non-identifiable parameters")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, help="processes sharing the starts (1: this process)")] = 2,
    dask: Annotated[str | None, typer.Option("--dask", help="'local' (LocalCluster) or a scheduler 'tcp://HOST:PORT'")] = None,
    max_iter: Annotated[int | None, typer.Option("--max-iter", min=1, help="iterations per start (default: cytonet.fit.optimize.MAX_ITER)")] = None,
    start_budget_s: Annotated[float | None, typer.Option("--start-budget-s", min=0, help="seconds per start; then it ends at its best point (exit TIME_BUDGET)")] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, help="integrator steps per run between events (default: cytonet.fit.optimize.FIT_MAX_STEPS)")] = None,
    rtol: Annotated[float, typer.Option("--rtol", help="integrator relative tolerance")] = 1e-8,
    atol: Annotated[float, typer.Option("--atol", help="integrator absolute tolerance")] = 1e-12,
    gradient: Annotated[str, typer.Option("--gradient", help="auto (forward sensitivities where the model allows them) or fd (central differences)")] = "auto",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="write into an existing folder cytonet did not write")] = False,
) -> None:
    """Evaluate (--nominal) or fit a PEtab problem; write objective, estimates, plots and report.html to OUT."""
    from cytonet.fit.optimize import ObjectiveSettings, cached_objective, multistart
    from cytonet.fit.results import write_fit, write_nominal
    from cytonet.io import check_output_folder, staged_folder

    check_output_folder(out, "fit", overwrite)
    settings = ObjectiveSettings(str(problem), rtol=rtol, atol=atol, gradient=gradient, **({"max_steps": max_steps} if max_steps else {}))
    obj = cached_objective(settings.key())
    if nominal:
        with staged_folder(out, "fit", overwrite) as tmp:
            res = write_nominal(obj, tmp)
        console().print(f"{obj.problem.name}: llh {res['llh']}, chi2 {res['chi2']} at the nominal parameters -> {out}")
        return
    from cytonet.fit.profile import profiles as compute_profiles
    from cytonet.fit.report import write_report

    from cytonet.fit.optimize import MAX_ITER

    ms = multistart(settings, starts, seed, method=method, max_iter=max_iter or MAX_ITER, workers=workers, dask=dask,  # type: ignore[arg-type]
                    max_seconds=start_budget_s)
    prof = None
    if profile and ms.best.status == "ok":
        prof = compute_profiles(obj, ms.best.x, ms.best.objective, method=ms.method)
    with staged_folder(out, "fit", overwrite) as tmp:
        summary = write_fit(obj, ms, tmp, prof)
        write_report(obj, ms, tmp, prof)
    line = (f"{obj.problem.name}: best llh {summary['best_llh']} ({ms.method}, gradient by {obj.gradient_method}), "
            f"{ms.converged} of {len(ms.starts)} starts "
            f"converged, {ms.failed} failed ({ms.failed_evaluations} failed evaluations) -> {out}")
    if prof is not None:
        line += f"; not identifiable: {', '.join(summary['non_identifiable']) or 'none'}"
    console().print(line)
