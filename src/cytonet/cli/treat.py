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
    scenario: Annotated[str, typer.Option(help="scenario id, e.g. car-t-crs")],
    drug: Annotated[str, typer.Option(help="drug, e.g. tocilizumab")],
    out: Annotated[Path, typer.Option(help="directory for tables and plots")],
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
    """
    import csv
    import io

    from cytonet.analysis.treatment import treatment_changes
    from cytonet.analysis.units import with_unit
    from cytonet.io import atomic_write_text, begin_staged, check_output_folder, commit_staged
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

    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(["measure", "unit", "untreated", "treated", "untreated_at_end", "treated_at_end"])
    w.writerows([c.measure, c.unit, c.untreated, c.treated, c.untreated_at_end, c.treated_at_end] for c in changes)
    atomic_write_text(out / "changes.csv", text.getvalue())
    write_treatment(out, run, changes, title=f"{sc.name}: untreated vs {d.id}")
    out = commit_staged(out, final, "treat")
    from rich.table import Table

    table = Table("measure", "untreated", f"+ {d.id} {regimen.dose} {regimen.route or ''} at {at}")
    for c in changes:
        table.add_row(with_unit(c.measure, c.unit), _cell(c.untreated, c.untreated_at_end),
                      _cell(c.treated, c.treated_at_end))
    console().print(table)
    console().print("wrote " + ", ".join(str(out / name) for name in FILES), markup=False, soft_wrap=True)
