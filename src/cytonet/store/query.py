"""Read-only SQL over one run's tables: ``cytonet runs query``.

The connection is the run store's sandbox (:func:`cytonet.store.runs.connect`: only the run's own
partitions are readable, external access off, configuration locked, no extensions, memory capped,
no spilling). On top of that a query must be exactly one read-only ``SELECT``-type statement (``SELECT``, ``WITH``, ``FROM``, ``VALUES``, ``DESCRIBE``,
``SUMMARIZE``, ``SHOW``), it is cut off after a time limit, and at most ``max_rows`` rows are fetched.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cytonet.limits import QUERY_MEMORY, QUERY_ROWS, QUERY_SECONDS
from cytonet.store.runs import RunStoreError, connect


class QueryError(RunStoreError):
    """SQL that the run-store sandbox refuses or that fails (names the reason and what to do)."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool  # more rows exist than were fetched


def check_select(con: Any, sql: str) -> None:
    """Refuse anything but exactly one read-only SELECT-type statement (``QueryError`` saying why)."""
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as err:
        raise QueryError(f"SQL does not parse: {_first_line(err)}") from None
    if not statements:
        raise QueryError("empty SQL; give one SELECT, e.g. \"SELECT arm, avg(peak_IL6) FROM patients GROUP BY arm\"")
    if len(statements) > 1:
        raise QueryError(f"give one SQL statement, not {len(statements)}; run them one at a time")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryError(f"only read-only queries (SELECT …) are allowed, not {kind.name}; the run store is read-only")


def run_query(run_dir: str | Path, sql: str, max_rows: int = QUERY_ROWS, timeout_s: float = QUERY_SECONDS) -> QueryResult:
    """Run one read-only query over a run's tables in the sandbox; at most ``max_rows`` rows come back."""
    import duckdb

    if max_rows < 1:
        raise QueryError(f"--max-rows must be at least 1, got {max_rows}")
    con = connect(run_dir)
    try:
        check_select(con, sql)
        timer = threading.Timer(timeout_s, con.interrupt)
        timer.start()
        try:
            rel = con.sql(sql)
            if rel is None:  # pragma: no cover - check_select admits only statements that return rows
                raise QueryError("the statement returned no rows; give a SELECT")
            rows = rel.limit(max_rows + 1).fetchall()
            columns = list(rel.columns)
        except duckdb.InterruptException:
            raise QueryError(f"query ran past {timeout_s:g} s and was stopped; add a WHERE or LIMIT") from None
        except duckdb.OutOfMemoryException:
            raise QueryError(f"query needs more than {QUERY_MEMORY} of memory; aggregate, filter or add a LIMIT") from None
        except duckdb.PermissionException:
            raise QueryError("queries may read only the run's tables 'patients' and 'trajectories' "
                             "(no files, databases, network or extensions)") from None
        except duckdb.Error as err:
            raise QueryError(f"query failed: {_first_line(err)}") from None
        finally:
            timer.cancel()
    finally:
        con.close()
    return QueryResult(columns, rows[:max_rows], len(rows) > max_rows)


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
