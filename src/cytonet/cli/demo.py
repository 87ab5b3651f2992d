"""``cytonet demo``: a short knowledge-base tour, then sepsis beside a resolving infection, with reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.cli._console import console

#: the two scenarios the demo compares (untreated sepsis beside a resolving infection)
PAIR = ("sepsis-storm", "infection-resolving")


def demo(
    out: Annotated[Path, typer.Option(help="folder for the comparison report and both runs")] = Path("results/demo"),
    overwrite: Annotated[bool, typer.Option("--overwrite", help="write into an existing folder cytonet did not write")] = False,
) -> None:
    """Tour the knowledge base, then compare sepsis with a resolving infection in OUT.

    Writes OUT/report.html (overlay plots, both summaries side by side) and each run's own folder
    (OUT/sepsis-storm, OUT/infection-resolving) as ``cytonet simulate`` would.
    """
    from cytonet.cli.simulate import run_scenario, summary_table
    from cytonet.io import check_output_folder, staged_folder
    from cytonet.knowledge import load
    from cytonet.report import read_timecourse, write_comparison
    from cytonet.report.rundir import TIMECOURSE

    check_output_folder(out, "demo", overwrite)  # before the tour prints anything
    kb = load()
    c = console()
    c.print(f"Knowledge base: {len(kb.cytokines())} cytokines, {len(kb.cells())} cells, {len(kb.receptors())} receptors, "
            f"{len(kb.drugs())} drugs, {len(kb.references())} references", markup=False)
    il6 = kb.cytokine("IL-6")
    c.print(f"{il6.name} ({il6.id}): {il6.role.value}; receptors {', '.join(il6.receptors)}", markup=False)
    c.print("Drugs targeting IL-6R: " + ", ".join(f"{d.name} ({d.mechanism.value})" for d in kb.drugs_targeting("IL6R")),
            markup=False)
    with staged_folder(out, "demo", overwrite) as tmp:
        summaries = {name: run_scenario(name, tmp / name) for name in PAIR}
        c.print(summary_table(summaries))
        runs = {name: read_timecourse(tmp / name / TIMECOURSE) for name in PAIR}
        path = out / write_comparison(tmp, runs, title=f"cytonet demo: {PAIR[0]} vs {PAIR[1]}").name
    c.print(f"wrote {path} and a run folder per scenario ({', '.join(str(out / n) for n in PAIR)})", markup=False)
