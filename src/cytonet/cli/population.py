"""``cytonet population``: simulate a virtual patient population into a Parquet run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.cli._console import console
from cytonet.cli._lps import ForOption, LpsInfusionOption, LpsOption
from cytonet.limits import SEED_RANGE

#: workers of --dask local (each is a process holding one partition)
MAX_WORKERS = 256


def population(
    n: Annotated[int, typer.Option("--n", min=1, help="number of virtual patients")],
    out: Annotated[Path, typer.Option("--out", help="run directory (resumed if it holds the same configuration)")],
    scenario: Annotated[str | None, typer.Option("--scenario", help="scenario id, e.g. sepsis-storm")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="an SBML model file instead of a scenario (needs --variation and --hours)")] = None,
    hours: Annotated[float | None, typer.Option("--hours", help="with --model: end time in the model's own time unit")] = None,
    vary: Annotated[Path | None, typer.Option("--vary", "--variation", help="variation file (YAML); default: the shipped reference variation")] = None,
    method: Annotated[str | None, typer.Option("--method", help="random, lhs or sobol (default: the variation file's)")] = None,
    drug: Annotated[str | None, typer.Option("--drug", help="also run a treated arm on the same patients")] = None,
    dose: Annotated[str | None, typer.Option("--dose", help="dose per administration, e.g. '8 mg/kg' (default: labelled)")] = None,
    at: Annotated[str | None, typer.Option("--at", help="time of the first dose, e.g. '24h'")] = None,
    seed: Annotated[int, typer.Option("--seed", min=SEED_RANGE[0], max=SEED_RANGE[1], help="sampling seed (>= 0)")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="patients per partition")] = 500,
    trajectories: Annotated[int, typer.Option("--trajectories", min=0, help="time points of readouts kept per patient (0: none)")] = 0,
    dask: Annotated[str | None, typer.Option("--dask", help="'local' (LocalCluster) or a scheduler 'tcp://HOST:PORT'")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=MAX_WORKERS, help="workers of --dask local")] = 2,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
    lps: LpsOption = None,
    lps_infusion: LpsInfusionOption = None,
    for_: ForOption = None,
    allow_large: Annotated[bool, typer.Option("--allow-large", help="run even when the estimate exceeds the budget")] = False,
) -> None:
    """Simulate a virtual patient population of a scenario into a Parquet run directory (or of an SBML model with --model)."""
    from pydantic import ValidationError

    from cytonet.errors import ScenarioError, validation_message
    from cytonet.limits import POPULATION_BUDGET
    from cytonet.population.runner import PopulationConfig, check_dask_address, plan, prepare, run_population
    from cytonet.population.sampling import Method, load_variation
    from cytonet.scenarios import load_scenario, parse_lps
    from cytonet.scenarios.lps import check_horizon

    if method is not None and method not in {m.value for m in Method}:
        raise ScenarioError(f"--method must be one of {', '.join(m.value for m in Method)}, got {method!r}")
    if (scenario is None) == (model is None):
        raise ScenarioError("give either --scenario or --model (an SBML file)")
    if model is not None:
        scenario_only = {"--drug": drug, "--dose": dose, "--at": at, "--dask": dask, "--lps": lps, "--lps-infusion": lps_infusion,
                         "--for": for_, "--trajectories": trajectories or None}
        _model_population(model, vary, n, hours, out, method, seed, [k for k, v in scenario_only.items() if v])
        return
    if hours is not None:
        raise ScenarioError("--hours applies to --model; a scenario runs over its own horizon")
    protocol = parse_lps(lps or [], lps_infusion, for_)
    if protocol is not None:
        check_horizon(protocol, load_scenario(scenario).t_end)
    try:
        cfg = PopulationConfig(scenario=scenario, n=n, variation=load_variation(vary), method=method, seed=seed,
                               batch_size=batch_size, drug=drug, dose=dose, at=at, trajectory_points=trajectories,
                               lps=protocol)
    except ValidationError as err:
        raise ScenarioError(validation_message(err, "population")) from None
    if dask is not None:
        check_dask_address(dask)
    est = plan(cfg, len(prepare(cfg.to_json()).host.species), dask=dask)
    over = est.over(POPULATION_BUDGET)
    if over and not allow_large:
        raise ScenarioError(f"{est.patients:,} patients x {est.arms} arm(s) are estimated at {'; '.join(over)}; "
                            "ask for fewer patients (or trajectory points), or add --allow-large to run it anyway")
    res = run_population(cfg, out, dask=dask, workers=workers, show_progress=not quiet)
    console().print(f"{res.patients} patients x {len(cfg.arms)} arm(s) in {res.out} "
                    f"({res.computed} partitions computed, {res.skipped} already complete)")


def _model_population(model: Path, vary: Path | None, n: int, hours: float | None, out: Path, method: str | None,
                      seed: int, scenario_only: list[str]) -> None:
    import math

    from cytonet.errors import ScenarioError
    from cytonet.io import staged_folder
    from cytonet.population.model_file import model_population
    from cytonet.population.sampling import Method, load_variation

    if scenario_only:
        raise ScenarioError(f"{', '.join(scenario_only)} apply to scenarios, not to --model")
    if vary is None:
        raise ScenarioError("--model needs --variation, a YAML file naming the model's own parameters")
    if hours is None or not (math.isfinite(hours) and hours > 0):
        raise ScenarioError("--model needs --hours, a positive end time in the model's own time unit")
    variation = load_variation(vary)
    with staged_folder(out, "population-model") as tmp:
        res = model_population(model, variation, n, hours, tmp, Method(method) if method else None, seed)
    failed = f", {res.failed} failed (see parameters.csv)" if res.failed else ""
    console().print(f"{res.patients} patients of {model.name} ({len(res.varied)} parameters varied; {res.engine}, "
                    f"{res.batch_method}){failed}; wrote {out}/parameters.csv, timecourses.csv, summary.csv, model.yaml",
                    markup=False, soft_wrap=True)
