"""``cytonet simulate``: run a scenario, analyse it and write a run folder with its report."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cytonet.cli._console import console
from cytonet.cli._lps import ForOption, LpsInfusionOption, LpsOption, apply_lps
from cytonet.errors import ScenarioError

if TYPE_CHECKING:
    import xarray as xr
    from rich.table import Table

    from cytonet.analysis.storm import StormSummary
    from cytonet.scenarios import Scenario


def parse_sets(items: list[str]) -> dict[str, float]:
    """``["k_x=1.5", ...]`` -> ``{"k_x": 1.5}``; malformed items raise ``ScenarioError`` naming the item."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ScenarioError(f"--set {item!r}: expected PARAM=VALUE, e.g. --set r_P=1.2")
        try:
            number = float(value)
        except ValueError:
            raise ScenarioError(f"--set {item!r}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise ScenarioError(f"--set {item!r}: the value must be a finite number")
        if number < 0:
            raise ScenarioError(f"--set {item!r}: parameters are rates, amounts and exponents, so the value must be >= 0")
        if name in out:
            raise ScenarioError(f"--set {name} is given twice ({out[name]:g} and {number:g}); give each parameter once")
        out[name] = number
    return out


def summary_table(summaries: dict[str, StormSummary]) -> Table:
    """Key numbers of one or more runs, one column per run."""
    from rich.table import Table

    from cytonet.analysis.units import readable_number

    table = Table(title="Summary", title_justify="left")
    table.add_column("")
    for label in summaries:
        table.add_column(label, justify="right")
    ss = list(summaries.values())

    def row(name: str, cells: list[str]) -> None:
        table.add_row(name, *cells)

    row("classification", [str(s.classification.label) for s in ss])
    for key in ("cytokines", "inflammation", "organ_dysfunction"):
        row(f"  {key}", ["yes" if s.classification.criterion(key).held else "no" for s in ss])
    row("max CRS grade (ASTCT)", [str(s.max_crs_grade) for s in ss])

    def end(flag: object) -> str:
        return " ▲" if flag else ""

    if all("IL6_total" in s.readouts for s in ss):  # serum IL-6 as assays report it (free + sIL-6R-bound)
        row("serum IL-6 peak pg/mL (h)",
            [f"{readable_number(s.readouts['IL6_total']['peak'])} ({s.readouts['IL6_total']['peak_time_h']:.1f})"
             + end(s.readouts["IL6_total"].get("at_end")) for s in ss])
    for sid in ("IL6", "TNF", "IFNG", "IL10"):
        row(f"{'free IL6' if sid == 'IL6' else sid} peak pg/mL (h)", [f"{readable_number(s.cytokine(sid).peak)} ({s.cytokine(sid).peak_time_h:.1f})"
                                      + end(s.cytokine(sid).peak_at_end) for s in ss])
    for name, label, extreme, fmt in (("TEMP", "TEMP peak °C", "peak", "{:.2f}".format),
                                      ("CRP", "CRP peak mg/L", "peak", readable_number),
                                      ("FERRITIN", "FERRITIN peak ng/mL", "peak", readable_number),
                                      ("MAP", "MAP nadir mmHg", "nadir", "{:.1f}".format),
                                      ("SPO2", "SpO2 nadir %", "nadir", "{:.1f}".format)):
        row(label, [fmt(s.readouts[name][extreme]) + end(s.readouts[name].get("at_end")) for s in ss])
    if any(c.peak_at_end for s in ss for c in s.cytokines) or any(v.get("at_end") for s in ss for v in s.readouts.values()):
        table.caption = "▲ the last sample of the run: the true peak (nadir) may come after the horizon"
    return table


def run_scenario(scenario: str | Scenario, out: Path, hours: float | None = None, sets: dict[str, float] | None = None,
                 show_progress: bool = True) -> StormSummary:
    """Simulate, analyse and write one run folder (data, SBML, spec, plots, report.html)."""
    from rich.progress import Progress

    from cytonet.analysis.storm import summarize
    from cytonet.limits import check_hours
    from cytonet.report import write_report, write_run
    from cytonet.scenarios import load_scenario, scenario_model, simulate_scenario

    if hours is not None:
        hours = check_hours(hours)
    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    with Progress(console=console(), transient=True, disable=not show_progress) as progress:
        task = progress.add_task(f"{sc.id}: simulating", total=4)
        spec, rest = scenario_model(sc, sets)
        ds = simulate_scenario(sc, hours=hours, parameters=sets, model=(spec, rest))
        progress.update(task, advance=1, description=f"{sc.id}: analysing")
        summary = summarize(ds)
        progress.update(task, advance=1, description=f"{sc.id}: writing data, spec and SBML")
        write_run(out, ds, spec, summary, initial=rest)
        progress.update(task, advance=1, description=f"{sc.id}: plotting and writing the report")
        write_report(out, ds, spec, summary)
        progress.update(task, advance=1)
    return summary


def run_model_file(model: Path, out: Path, hours: float | None, sets: dict[str, float], method: str | None = None) -> Path:
    """Simulate an SBML file for ``hours`` (its own time unit) with ``method`` (default Rodas5P) and write
    ``OUT/timecourse.csv`` and ``OUT/model.yaml``."""
    from cytonet.engine.simulate import simulate as run
    from cytonet.model.sbml_import import load_sbml
    from cytonet.model.spec import dump_spec

    if hours is None or not (math.isfinite(hours) and hours > 0):
        raise ScenarioError("--model needs --hours, a positive end time in the model's own time unit")
    spec = load_sbml(model)
    ds = run(spec, hours, n_points=201, parameters=sets, rtol=1e-8, atol=1e-12, method=method)
    out.mkdir(parents=True, exist_ok=True)
    dump_spec(spec, out / "model.yaml")
    return write_model_run(ds, out / "timecourse.csv")


def write_model_run(ds: xr.Dataset, path: Path) -> Path:
    """A run of a model with SBML semantics as CSV: time, every species, every variable (compartments, parameters)."""
    import numpy as np

    from cytonet.io import atomic_write_csv

    names = [*ds.species.values.tolist(), *ds.variable.values.tolist()]
    table = np.column_stack([ds.time.values, ds.state.values, ds.variable_value.values])
    return atomic_write_csv(path, ["time", *names], ([repr(float(v)) for v in row] for row in table))


def simulate(
    out: Annotated[Path, typer.Option(help="run folder to write")],
    scenario: Annotated[str | None, typer.Option("--scenario", "-s", help="scenario id (see `cytonet scenarios list`)")] = None,
    model: Annotated[Path | None, typer.Option(help="an SBML model file to run instead of a scenario")] = None,
    hours: Annotated[float | None, typer.Option(help="simulated hours (default: the scenario's horizon)")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="parameter override PARAM=VALUE (repeatable)")] = None,
    lps: LpsOption = None,
    lps_infusion: LpsInfusionOption = None,
    for_: ForOption = None,
    method: Annotated[str | None, typer.Option("--method", help="integration method of --model: rodas5p (default) or rodas4")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="write into an existing folder cytonet did not write")] = False,
) -> None:
    """Run a scenario, analyse it and write data, SBML and a report to OUT (or run an SBML model with --model)."""
    from cytonet.io import staged_folder
    from cytonet.scenarios import load_scenario

    if (scenario is None) == (model is None):
        raise ScenarioError("give either --scenario or --model (an SBML file)")
    sets = parse_sets(set_ or [])
    if method is not None and model is None:
        raise ScenarioError("--method applies to --model (an SBML file); scenarios run on the network engine's Rodas5P")
    if model is not None:
        with staged_folder(out, "simulate-model", overwrite) as tmp:
            run_model_file(model, tmp, hours, sets, method)
        console().print(f"wrote {out}/timecourse.csv (and model.yaml)")
        return
    sc = apply_lps(load_scenario(scenario), lps, lps_infusion, for_, hours)
    with staged_folder(out, "simulate", overwrite) as tmp:
        summary = run_scenario(sc, tmp, hours, sets)
    console().print(summary_table({summary.scenario: summary}))
    files = ("report.html", "timecourse.parquet", "summary.json", "model.xml", "model.yaml")
    console().print("wrote " + ", ".join(str(out / name) for name in files), markup=False, soft_wrap=True)
