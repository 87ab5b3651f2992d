"""``cytonet runs …``: query and summarise population run directories."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.cli._console import console

app = typer.Typer(help="Query and summarise population run directories.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Query and summarise population run directories."""


@app.command("query")
def query_cmd(
    run_dir: Annotated[Path, typer.Argument(help="run directory written by 'cytonet population'")],
    sql: Annotated[str, typer.Argument(help="DuckDB SQL over the views 'patients' and 'trajectories'")],
    csv: Annotated[bool, typer.Option("--csv", help="print CSV instead of a table")] = False,
) -> None:
    """Run SQL (DuckDB) over the run's 'patients' (and 'trajectories') views."""
    import duckdb
    from rich.table import Table

    from cytonet.store.runs import RunStoreError, connect

    con = connect(run_dir)
    try:
        cur = con.execute(sql)
    except duckdb.Error as err:
        raise RunStoreError(f"query failed: {err}") from None
    cols = [d[0] for d in cur.description or []]
    rows = cur.fetchall()
    if csv:
        import csv as csvmod
        import sys

        w = csvmod.writer(sys.stdout)
        w.writerow(cols)
        w.writerows(rows)
        return
    table = Table(*cols)
    for r in rows:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r))
    console().print(table)


@app.command("summary")
def summary_cmd(
    run_dir: Annotated[Path, typer.Argument(help="run directory written by 'cytonet population'")],
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG to write (default: RUN_DIR/summary.png)")] = None,
) -> None:
    """Outcome distributions per arm and, for a treated/untreated pair, the treatment effect with 95% CIs."""
    from rich.table import Table

    from cytonet.population.summary import plot_summary, summarize

    s = summarize(run_dir)
    t = Table("arm", "patients", "simulated", "storm % (95% CI)", "CRS grade 0/1/2/3/4", "IL-6 peak median [IQR] pg/mL")
    for a in s.arms:
        t.add_row(a.arm, str(a.n), str(a.ok), f"{100 * a.storm.estimate:.1f} ({100 * a.storm.low:.1f}-{100 * a.storm.high:.1f})",
                  "/".join(str(c) for c in a.crs_counts), f"{a.il6_quartiles[1]:.4g} [{a.il6_quartiles[0]:.4g}-{a.il6_quartiles[2]:.4g}]")
    out = console()
    out.print(t)
    for e in s.effects:
        out.print(f"treatment effect, {e.name}: {e.estimate:+.4g} (95% CI {e.low:+.4g} to {e.high:+.4g}; {e.method}; {e.pairs} pairs)")
    path = plot_summary(s, plot or Path(run_dir) / "summary.png")
    out.print(f"plot: {path}")
