"""``cytonet report DIR``: rebuild the plots and report.html of a run folder from its data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.cli._console import console


def report(
    folder: Annotated[Path, typer.Argument(help="run folder written by `cytonet simulate --out`")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="rebuild even in a folder not marked as a simulate run")] = False,
) -> None:
    """Rebuild the plots, summary.json and report.html of a run folder."""
    from cytonet.analysis.storm import summarize
    from cytonet.io import RUN_MARK, run_kind
    from cytonet.report import load_run, write_report
    from cytonet.report.rundir import RunFolderError, SUMMARY, write_summary

    ds, spec = load_run(folder)
    if run_kind(folder) != "simulate" and not overwrite:
        raise RunFolderError(f"{folder}: not marked as a 'cytonet simulate' run (no {RUN_MARK}), so its report.html and "
                             "plots may be someone's own; rerun simulate, or add --overwrite to rebuild them here")
    summary = summarize(ds)
    write_summary(summary, folder / SUMMARY)
    path = write_report(folder, ds, spec, summary)
    console().print(f"wrote {path}: {summary.scenario} — {summary.classification.label}, "
                    f"max CRS grade {summary.max_crs_grade}", markup=False)
