"""``cytonet runs …``: query and summarise population run directories."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.cli._console import console
from cytonet.limits import QUERY_ROWS

app = typer.Typer(help="Query and summarise population run directories.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Query and summarise population run directories."""


@app.command("query")
def query_cmd(
    run_dir: Annotated[Path, typer.Argument(help="run directory written by 'cytonet population'")],
    sql: Annotated[str, typer.Argument(help="one read-only DuckDB SELECT over the views 'patients' and 'trajectories'")],
    csv: Annotated[bool, typer.Option("--csv", help="print CSV instead of a table")] = False,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="rows printed at most (says so when it cuts)")] = QUERY_ROWS,
) -> None:
    """Run one read-only SQL query (DuckDB, sandboxed) over the run's 'patients' (and 'trajectories') views."""
    from rich.table import Table

    from cytonet.store.query import run_query

    res = run_query(run_dir, sql, max_rows=max_rows)
    if csv:
        import csv as csvmod
        import sys

        w = csvmod.writer(sys.stdout)
        w.writerow(res.columns)
        w.writerows(res.rows)
    else:
        table = Table(*res.columns)
        for r in res.rows:
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r))
        console().print(table)
    if res.truncated:
        from cytonet.cli._console import warn

        warn(f"showing the first {max_rows} rows; the query returned more (raise --max-rows or add LIMIT/aggregates)")


@app.command("summary")
def summary_cmd(
    run_dir: Annotated[Path, typer.Argument(help="run directory written by 'cytonet population'")],
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG to write (default: RUN_DIR/summary.png)")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace an existing --plot file")] = False,
) -> None:
    """Outcome distributions per arm and, for a treated/untreated pair, the treatment effect with 95% CIs."""
    from rich.table import Table

    from cytonet.io import check_new_file
    from cytonet.population.summary import summarize
    from cytonet.report.plots import plot_population
    from cytonet.store.runs import coverage

    if plot is not None:
        check_new_file(plot, overwrite, "--plot")
    s = summarize(run_dir)
    done, total = coverage(run_dir)
    t = Table("arm", "patients", "simulated", "storm % (95% CI)", "CRS grade 0/1/2/3/4", "IL-6 peak median [IQR] pg/mL")
    for a in s.arms:
        t.add_row(a.arm, str(a.n), str(a.ok), f"{100 * a.storm.estimate:.1f} ({100 * a.storm.low:.1f}-{100 * a.storm.high:.1f})",
                  "/".join(str(c) for c in a.crs_counts), f"{a.il6_quartiles[1]:.4g} [{a.il6_quartiles[0]:.4g}-{a.il6_quartiles[2]:.4g}]")
    out = console()
    if done < total:
        out.print(f"covers {done:,} of {total:,} patients: the run is incomplete; resume it with the same "
                  "'cytonet population' command", markup=False)
    out.print(t)
    for e in s.effects:
        out.print(f"treatment effect, {e.name}: {e.estimate:+.4g} (95% CI {e.low:+.4g} to {e.high:+.4g}; {e.method}; {e.pairs} pairs)")
    path = plot_population(s, plot or Path(run_dir) / "summary.png")
    out.print(f"plot: {path}")
