"""``cytonet sensitivity``: global (Sobol, Morris) and local sensitivity of a scenario's outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.cli._console import console

app = typer.Typer(help="Global (Sobol, Morris) and local sensitivity and identifiability of a scenario's outcomes.",
                  no_args_is_help=True)

ScenarioOpt = Annotated[str, typer.Option("--scenario", "-s", help="scenario id (see `cytonet scenarios list`)")]
ParamOpt = Annotated[list[str], typer.Option("--param", "-p", help="parameter to vary (repeatable)")]
OutOpt = Annotated[Path, typer.Option("--out", help="output folder")]


@app.command("global")
def global_(
    scenario: ScenarioOpt,
    param: ParamOpt,
    out: OutOpt,
    outcome: Annotated[list[str], typer.Option("--outcome", "-o", help="storm, crs_grade, hours_in_storm, peak:NAME or auc:NAME (repeatable)")],
    method: Annotated[str, typer.Option("--method", help="sobol or morris")] = "sobol",
    n: Annotated[int, typer.Option("--n", min=2, help="Sobol base samples (power of 2) or Morris trajectories")] = 64,
    fold: Annotated[float, typer.Option("--fold", help="each parameter varies log-uniformly from nominal/fold to nominal*fold")] = 2.0,
    seed: Annotated[int, typer.Option("--seed", help="sampling seed")] = 0,
) -> None:
    """Sobol or Morris indices of outcomes over parameter ranges: indices.tsv, indices.png."""
    from cytonet.analysis.sensitivity import ScenarioRunner, fold_ranges, global_sensitivity, plot_global
    from cytonet.io import atomic_write_text

    runner = ScenarioRunner(scenario)
    res = global_sensitivity(runner, fold_ranges(runner.nominal, param, fold), outcome, method=method, n=n, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "indices.tsv", res.table.to_csv(sep="\t", index=False))
    plot_global(res, out / "indices.png")
    console().print(res.table.to_string(index=False))
    console().print(f"{res.runs} runs ({res.failed} failed) -> {out}/indices.tsv, indices.png")


@app.command("local")
def local(
    scenario: ScenarioOpt,
    param: ParamOpt,
    out: OutOpt,
    output: Annotated[list[str], typer.Option("--output", help="species or observable (repeatable)")],
) -> None:
    """Local log-sensitivities of outputs, singular values and parameter pairs the outputs cannot separate."""
    import json

    from cytonet.analysis.sensitivity import ScenarioRunner, local_sensitivity, plot_local
    from cytonet.io import atomic_write_text

    res = local_sensitivity(ScenarioRunner(scenario), param, output)
    out.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    atomic_write_text(out / "sensitivity.tsv", pd.DataFrame(res.matrix, index=res.outputs, columns=res.parameters).to_csv(sep="\t"))
    atomic_write_text(out / "identifiability.json", json.dumps({
        "parameters": res.parameters, "singular_values": res.singular_values.tolist(), "condition_number": res.condition_number,
        "weakest_direction": dict(zip(res.parameters, res.directions[-1].tolist())),
        "inseparable_pairs": [{"a": a, "b": b, "abs_cos": c} for a, b, c in res.pairs]}, indent=1, allow_nan=False) + "\n")
    plot_local(res, out / "identifiability.png")
    pairs = ", ".join(f"{a}~{b}" for a, b, _ in res.pairs) or "none"
    import numpy as np

    console().print(f"singular values {np.array2string(res.singular_values, precision=3)}; condition number "
                    f"{res.condition_number:.3g}; inseparable pairs: {pairs} -> {out}")
