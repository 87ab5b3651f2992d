"""``cytonet treat``: a scenario untreated and treated, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.analysis.units import readable_number
from cytonet.cli._console import console
from cytonet.cli._lps import ForOption, LpsInfusionOption, LpsOption, apply_lps

#: time courses and tables written to OUT
FILES = ("untreated.parquet", "treated.parquet", "changes.csv", "report.html", "drug.png", "compare_cytokines.png",
         "compare_balance.png", "compare_clinical.png")


def _cell(v: float | int | str, at_end: bool) -> str:
    text = v if isinstance(v, str) else (str(v) if isinstance(v, int) else readable_number(v, 4))
    return f"{text} (at end of run)" if at_end else text


def treat(
    drug: Annotated[str, typer.Option(help="drug, e.g. tocilizumab")],
    out: Annotated[Path, typer.Option(help="directory for tables and plots")],
    scenario: Annotated[str | None, typer.Option(help="scenario id, e.g. car-t-crs")] = None,
    model: Annotated[Path | None, typer.Option(help="an SBML model file instead of a scenario (needs --target and --hours)")] = None,
    target: Annotated[list[str] | None, typer.Option(help="with --model: a drug target mapped onto a model species, e.g. IL6R=R (repeatable)")] = None,
    dose: Annotated[str | None, typer.Option(help="dose with unit, e.g. 8mg/kg or 162mg (default: labelled)")] = None,
    at: Annotated[str, typer.Option(help="first dose time, e.g. 48h")] = "0h",
    route: Annotated[str | None, typer.Option(help="iv, sc or oral (default: the labelled route)")] = None,
    every: Annotated[str | None, typer.Option(help="dosing interval, e.g. 12h")] = None,
    doses: Annotated[int, typer.Option(help="number of doses")] = 1,
    weight: Annotated[float, typer.Option(help="body weight, kg")] = 70.0,
    hours: Annotated[float | None, typer.Option(help="simulated horizon (default: the scenario's)")] = None,
    lps: LpsOption = None,
    lps_infusion: LpsInfusionOption = None,
    for_: ForOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="write into an existing folder cytonet did not write")] = False,
) -> None:
    """Run a scenario untreated and treated; write both time courses, a table of changes and a report to OUT.

    The time courses are Parquet in the layout of ``cytonet simulate`` (untreated.parquet, treated.parquet).
    With ``--model FILE.xml`` the drug binds the species its targets are mapped onto (``--target IL6R=R``);
    OUT gets untreated.csv, treated.csv, changes.csv and model.yaml (the treated model).
    """

    from cytonet.errors import TherapyError

    if (scenario is None) == (model is None):
        raise TherapyError("give either --scenario or --model (an SBML file)")
    if model is not None:
        if lps or lps_infusion or for_:
            raise TherapyError("--lps, --lps-infusion and --for apply to scenarios, not to --model")
        _treat_model(model, drug, out, target or [], dose, at, route, every, doses, weight, hours, overwrite)
        return
    if target:
        raise TherapyError("--target maps a drug target onto a species of --model; a scenario's network has the targets")

    from cytonet.analysis.treatment import treatment_changes
    from cytonet.analysis.units import with_unit
    from cytonet.io import atomic_write_csv, begin_staged, check_output_folder, commit_staged
    from cytonet.limits import check_hours
    from cytonet.report import write_timecourse, write_treatment
    from cytonet.scenarios import load_scenario
    from cytonet.therapy import Regimen, get_drug, labelled_regimen
    from cytonet.therapy.comparison import run_with_and_without
    from cytonet.therapy.regimen import check_first_dose

    check_output_folder(out, "treat", overwrite)
    hours = None if hours is None else check_hours(hours)
    sc = apply_lps(load_scenario(scenario), lps, lps_infusion, for_, hours, weight)
    d = get_drug(drug)
    base_reg = labelled_regimen(d)
    regimen = Regimen(dose or base_reg.dose, route=route or base_reg.route, start=at, every=every, doses=doses,
                      weight_kg=weight)
    check_first_dose(regimen.times[0], hours or sc.t_end, "--at")
    run = run_with_and_without(sc, d.id, regimen, hours)
    changes = treatment_changes(run.untreated, run.treated)
    final, out = out, begin_staged(out, "treat", overwrite)
    write_timecourse(run.untreated, out / "untreated.parquet")
    write_timecourse(run.treated, out / "treated.parquet")

    atomic_write_csv(out / "changes.csv", ["measure", "unit", "untreated", "treated", "untreated_at_end", "treated_at_end"],
                     ([c.measure, c.unit, c.untreated, c.treated, c.untreated_at_end, c.treated_at_end] for c in changes))
    write_treatment(out, run, changes, title=f"{sc.name}: untreated vs {d.id}")
    out = commit_staged(out, final, "treat")
    from rich.table import Table

    table = Table("measure", "untreated", f"+ {d.id} {regimen.dose} {regimen.route or ''} at {at}")
    for c in changes:
        table.add_row(with_unit(c.measure, c.unit), _cell(c.untreated, c.untreated_at_end),
                      _cell(c.treated, c.treated_at_end))
    console().print(table)
    console().print("wrote " + ", ".join(str(out / name) for name in FILES), markup=False, soft_wrap=True)


def parse_targets(items: list[str]) -> dict[str, str]:
    """``["IL6R=R", ...]`` -> ``{"IL6R": "R"}``; malformed or repeated items raise ``TherapyError`` naming the item."""
    from cytonet.errors import TherapyError

    out: dict[str, str] = {}
    for item in items:
        name, sep, species = (x.strip() for x in item.partition("="))
        if not sep or not name or not species:
            raise TherapyError(f"--target {item!r}: expected DRUG_TARGET=SPECIES, e.g. --target IL6R=R")
        if name in out:
            raise TherapyError(f"--target {name} is given twice; map each target once")
        out[name] = species
    return out


def _treat_model(model: Path, drug: str, out: Path, targets: list[str], dose: str | None, at: str, route: str | None,
                 every: str | None, doses: int, weight: float, hours: float | None, overwrite: bool) -> None:
    import math

    from cytonet.cli.simulate import write_model_run
    from cytonet.engine.simulate import simulate
    from cytonet.errors import TherapyError
    from cytonet.io import atomic_write_csv, staged_folder
    from cytonet.model.sbml_import import load_sbml
    from cytonet.model.spec import dump_spec
    from cytonet.therapy import Regimen, get_drug, labelled_regimen
    from cytonet.therapy.imported import treat_imported
    from cytonet.therapy.regimen import check_first_dose

    if hours is None or not (math.isfinite(hours) and hours > 0):
        raise TherapyError("--model needs --hours, a positive end time (the drug's PK is in hours)")
    mapping = parse_targets(targets)
    spec = load_sbml(model)
    d = get_drug(drug)
    base = labelled_regimen(d)
    regimen = Regimen(dose or base.dose, route=route or base.route, start=at, every=every, doses=doses, weight_kg=weight)
    check_first_dose(regimen.times[0], hours, "--at")
    treated_spec = treat_imported(spec, d.id, mapping, regimen)
    untreated = simulate(spec, hours, n_points=201, rtol=1e-8, atol=1e-12)
    treated = simulate(treated_spec, hours, n_points=201, rtol=1e-8, atol=1e-12)
    rows = []
    for sid in untreated.species.values.tolist():
        a, b = untreated.state.sel(species=sid).values, treated.state.sel(species=sid).values
        rows.append([sid, repr(float(a.max())), repr(float(b.max())), repr(float(a[-1])), repr(float(b[-1]))])
    with staged_folder(out, "treat-model", overwrite) as tmp:
        write_model_run(untreated, tmp / "untreated.csv")
        write_model_run(treated, tmp / "treated.csv")
        atomic_write_csv(tmp / "changes.csv", ["species", "untreated_peak", "treated_peak", "untreated_final", "treated_final"],
                         rows)
        dump_spec(treated_spec, tmp / "model.yaml")
    from rich.table import Table

    table = Table("species", "untreated peak", "treated peak", "untreated final", "treated final",
                  title=f"{model.name}: untreated vs {d.id} {regimen.dose} at {at} ({', '.join(f'{k}={v}' for k, v in mapping.items())})")
    for r in rows:
        table.add_row(r[0], *(readable_number(float(v), 4) for v in r[1:]))
    console().print(table)
    console().print(f"wrote {out}/untreated.csv, treated.csv, changes.csv, model.yaml", markup=False, soft_wrap=True)
