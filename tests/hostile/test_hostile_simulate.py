"""``cytonet simulate`` and ``cytonet report`` given hostile numbers and paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cytonet.cli.simulate import parse_sets
from cytonet.errors import CytonetError

SIM = ["simulate", "--scenario", "healthy", "--out", "run"]


@pytest.mark.parametrize(("hours", "expect"), [
    ("nan", "not a finite number"), ("inf", "not a finite number"), ("-inf", "not a finite number"),
    ("1e308", "out of range"), ("-1", "out of range"), ("0", "out of range"), ("1e9", "<= 100000 h"),
])
def test_hours(refused, hours: str, expect: str) -> None:
    refused([*SIM, "--hours", hours], expect)


@pytest.mark.parametrize(("item", "expect"), [
    ("r_P", "expected PARAM=VALUE"), ("r_P=abc", "is not a number"), ("r_P=inf", "finite"), ("r_P=nan", "finite"),
    ("r_P=-1", "must be >= 0"), ("r_Q=1", "unknown parameter 'r_Q'"),
])
def test_set(refused, item: str, expect: str) -> None:
    refused([*SIM, "--set", item], expect)


def test_duplicate_set(refused) -> None:
    refused([*SIM, "--set", "r_P=1", "--set", "r_P=2"], "--set r_P is given twice (1 and 2)")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=4))
def test_parse_sets_accepts_or_refuses_cleanly(items: list[str]) -> None:
    try:
        values = parse_sets(items)
    except CytonetError as err:
        assert "\n" not in str(err)
    else:
        assert all(v >= 0 and v < float("inf") for v in values.values())


@pytest.mark.parametrize(("out", "expect"), [
    ("kb.json", "is a file; give a folder"),
    (".", "holds files cytonet did not write"),
    ("notes", "holds files cytonet did not write (summary.png)"),
    ("kb.json/run", "is a file, not a folder"),
    ("/proc/cytonet-run", "cannot write in '/proc'"),
])
def test_out_never_replaces_user_files(refused, out: str, expect: str) -> None:
    refused(["simulate", "--scenario", "healthy", "--out", out, "--hours", "1"], expect)
    assert "--overwrite" in expect or "overwrite" in refused(["simulate", "--scenario", "healthy", "--out", ".",
                                                               "--hours", "1"]).err


def test_report_of_foreign_and_damaged_folders(refused, scratch: Path) -> None:
    refused(["report", "."], "no timecourse.parquet or model.yaml here")
    refused(["report", "nowhere"], "no timecourse.parquet or model.yaml here")
    bad = scratch / "bad"
    bad.mkdir()
    (bad / "timecourse.parquet").write_bytes(b"PAR1 garbage")
    (bad / "model.yaml").write_text("id: x\n")
    refused(["report", "bad"], "not a cytonet time course")
