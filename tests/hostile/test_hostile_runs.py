"""``cytonet runs query`` is a sandbox; ``runs summary`` is honest about interrupted runs and the user's files.

The run directory is written with the store's own functions (a manifest and Parquet partitions),
so the sandbox is tested against exactly what ``cytonet population`` writes, without simulating.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cytonet.errors import CytonetError
from cytonet.store import runs as store
from cytonet.store.query import run_query

from hostile_helpers import run_cli, snapshot


def write_run(out: Path, partitions: int = 2, done: int = 2, per: int = 3) -> Path:
    manifest = {"config_hash": "x", "config": {"n": partitions * per}, "n_partitions": partitions, "completed": {},
                "finished": done == partitions}
    for k in range(done):
        ids = list(range(k * per, (k + 1) * per))
        table = pa.table({"patient": ids, "arm": ["untreated"] * per, "status": [0] * per, "storm": [i % 2 == 0 for i in ids],
                          "crs_grade": [i % 5 for i in ids], "peak_IL6": [10.0 * (i + 1) for i in ids]})
        store.write_table(store.part_path(out, "patients", k), table)
        manifest["completed"][str(k)] = {"rows": per}
    store.write_manifest(out, manifest)
    return out


@pytest.fixture
def run(scratch: Path) -> Path:
    return write_run(scratch / "run")


ESCAPES = [
    "SELECT * FROM read_csv('{d}/secret.txt')", "SELECT content FROM read_text('{d}/secret.txt')",
    "SELECT content FROM read_blob('{d}/secret.txt')", "SELECT * FROM '{d}/secret.txt'", "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_parquet('{d}/other.parquet')", "SELECT * FROM read_json('https://example.com/x.json')",
    "SELECT * FROM sniff_csv('{d}/secret.txt')", "SELECT getenv('HOME')",
]
STATEMENTS = [
    "COPY patients TO '{d}/stolen.csv'", "SELECT 1; COPY (SELECT 1) TO '{d}/stolen.csv'", "ATTACH '{d}/new.db' AS x",
    "INSTALL httpfs", "LOAD httpfs", "SET enable_external_access = true", "RESET enable_external_access",
    "PRAGMA enable_profiling", "CREATE TABLE t AS SELECT 1", "DROP VIEW patients", "EXPORT DATABASE '{d}/dump'",
    "WITH x AS (SELECT 1) SELECT * FROM x; COPY (SELECT 42) TO '{d}/stolen.csv'", "EXPLAIN SELECT 1",
    "SET memory_limit = '100GB'", "CALL pragma_version()",
]


@pytest.mark.parametrize("sql", ESCAPES)
def test_queries_cannot_read_outside_the_run(refused, run: Path, scratch: Path, sql: str) -> None:
    (scratch / "other.parquet").write_bytes(store.part_path(run, "patients", 0).read_bytes())
    refused(["runs", "query", "run", sql])


@pytest.mark.parametrize("sql", STATEMENTS)
def test_only_one_read_only_statement(refused, run: Path, sql: str) -> None:
    refused(["runs", "query", "run", sql])


@pytest.mark.parametrize(("sql", "expect"), [
    ("", "empty SQL"), ("   ;  ", "empty SQL"), ("/* nothing */", "empty SQL"), ("SELEC * FORM patients", "does not parse"),
    ("SELECT nope FROM patients", "query failed"), ("SELECT list(range) FROM range(1000000000)", "more than 2GB of memory"),
])
def test_empty_malformed_and_greedy_sql(refused, run: Path, sql: str, expect: str) -> None:
    refused(["runs", "query", "run", sql], expect)


def test_not_a_run(refused) -> None:
    refused(["runs", "query", ".", "SELECT 1"], "not a population run directory")
    refused(["runs", "query", "kb.json", "SELECT 1"], "is a file")


def test_a_query_reads_the_run_and_says_when_it_cuts(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ok = run_cli(["runs", "query", "run", "SELECT count(*) AS n, sum(peak_IL6) AS s FROM patients", "--csv"], capsys)
    assert ok.code == 0 and ok.out.splitlines() == ["n,s", "6,210.0"]
    cut = run_cli(["runs", "query", "run", "SELECT * FROM range(100000000)", "--csv", "--max-rows", "5"], capsys)
    assert cut.code == 0 and len(cut.out.splitlines()) == 6
    assert cut.err.strip() == "warning: showing the first 5 rows; the query returned more (raise --max-rows or add LIMIT/aggregates)"
    locked = run_query(run, "SELECT value FROM duckdb_settings() WHERE name IN ('enable_external_access', 'lock_configuration') ORDER BY name")
    assert locked.rows == [("false",), ("true",)]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list("SELECT*FROMpatients;,'()/.: COPYTOATTACHread_text-=")), max_size=60))
def test_any_text_is_answered_or_refused_and_writes_nothing(run: Path, scratch: Path, sql: str) -> None:
    before = snapshot(scratch)
    try:
        run_query(run, sql, max_rows=10)
    except CytonetError as err:
        assert "\n" not in str(err)
    assert snapshot(scratch) == before


def test_summary_of_an_interrupted_run_says_k_of_n(scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run(scratch / "part", partitions=3, done=1)
    res = run_cli(["runs", "summary", "part"], capsys)
    assert res.code == 0, res.err
    assert res.lines[0].startswith("covers 3 of 9 patients: the run is incomplete")


def test_summary_plot_never_replaces_a_user_file(refused, run: Path) -> None:
    refused(["runs", "summary", "run", "--plot", "notes/summary.png"], "add --overwrite")
    refused(["runs", "summary", "run", "--plot", "notes"], "is a folder; give a file name")
    refused(["runs", "summary", "run", "--plot", "/proc/summary.png"], "cannot write in '/proc'")
    refused(["runs", "summary", "."], "not a population run directory")


def test_damaged_manifests(refused, scratch: Path) -> None:
    for name, text in (("garbage", "{not json"), ("nan", '{"completed": {"0": NaN}}'), ("list", "[1, 2]"),
                       ("keys", '{"completed": {"../../etc": {}}}')):
        (scratch / name).mkdir()
        (scratch / name / "manifest.json").write_text(text)
    for name in ("garbage", "nan", "list", "keys"):
        refused(["runs", "query", name, "SELECT 1"], "delete the directory")
