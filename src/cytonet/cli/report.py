"""``cytonet report DIR``: rebuild the plots and report.html of a run folder from its data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.cli._console import console


def report(folder: Annotated[Path, typer.Argument(help="run folder written by `cytonet simulate --out`")]) -> None:
    """Rebuild the plots, summary.json and report.html of a run folder."""
    from cytonet.analysis.storm import summarize
    from cytonet.report import load_run, write_report
    from cytonet.report.rundir import SUMMARY, write_summary

    ds, spec = load_run(folder)
    summary = summarize(ds)
    write_summary(summary, folder / SUMMARY)
    path = write_report(folder, ds, spec, summary)
    console().print(f"wrote {path}: {summary.scenario} — {summary.classification.label}, "
                    f"max CRS grade {summary.max_crs_grade}", markup=False)
