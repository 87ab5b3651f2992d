"""``cytonet population`` given hostile sizes, seeds, variation files and addresses."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hostile_helpers import alias_bomb, deep_nesting

POP = ["population", "--scenario", "sepsis-storm", "--out", "pop"]


@pytest.mark.parametrize(("extra", "expect"), [
    (["--n", "0"], "Invalid value for '--n'"),
    (["--n", "-5"], "Invalid value for '--n'"),
    (["--n", "4", "--batch-size", "0"], "Invalid value for '--batch-size'"),
    (["--n", "4", "--seed", "-1"], "Invalid value for '--seed'"),
    (["--n", "4", "--seed", str(2**70)], "Invalid value for '--seed'"),
    (["--n", "4", "--trajectories", "1"], "trajectory_points must be 0 (none) or at least 2"),
    (["--n", "4", "--trajectories", "1000000000"], "trajectory_points: Input should be less than or equal to 10000"),
    (["--n", "4", "--method", "grid"], "--method must be one of"),
    (["--n", "4", "--dose", "8mg/kg"], "--dose and --at need --drug"),
    (["--n", "4", "--drug", "tocilizumab", "--dose", "1e308mg/kg"], "above 1000 mg/kg"),
    (["--n", "4", "--drug", "tocilizumab", "--at", "1e308h"], "beyond 100000 h"),
    (["--n", "4", "--drug", "tocilizumab", "--at", "400h"], "is not before the end of the run"),
    (["--n", "4", "--dask", "nonsense"], "--dask must be 'local' or a scheduler address"),
    (["--n", "4", "--dask", "local", "--workers", "100000"], "Invalid value for '--workers'"),
    (["--n", "4", "--vary", "nope.yaml"], "not found"),
    (["--n", "4", "--vary", "."], "is a folder; give a file"),
])
def test_bad_options(refused, extra: list[str], expect: str) -> None:
    refused([*POP, *extra], expect)


def test_a_billion_patients_is_refused_and_large_runs_need_allow_large(refused) -> None:
    refused([*POP, "--n", "1000000000"], "n: Input should be less than or equal to 100000000")  # today 2 million partitions
    refused([*POP, "--n", "50000000"], "CPU hours > 24; ask for fewer patients (or trajectory points), or add --allow-large")
    refused([*POP, "--n", "100000", "--batch-size", "100000"], "GB of memory per process > 8")


def test_unreachable_dask_fails_fast(refused) -> None:
    t0 = time.perf_counter()
    refused([*POP, "--n", "4", "--dask", "tcp://127.0.0.1:9"], "no scheduler answers there")
    assert time.perf_counter() - t0 < 30  # today 33 s and a traceback: the connection is refused at once


def test_out_that_is_a_file_or_holds_user_files(refused) -> None:
    refused(["population", "--scenario", "sepsis-storm", "--n", "4", "--out", "kb.json"], "is a file")
    refused(["population", "--scenario", "sepsis-storm", "--n", "4", "--out", "."], "is not empty and holds no manifest.json")


@pytest.mark.parametrize(("name", "content", "expect"), [
    ("bin.yaml", os.urandom(2048) + b"\0", "binary file"),
    ("l1.yaml", "description: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("empty.yaml", b"", "expected a mapping with 'variations:'"),
    ("list.yaml", b"- 1\n- 2\n", "expected a mapping"),
    ("tag.yaml", b"!!python/object/apply:os.system ['touch pwned']\n", "no tags"),
    ("dup.yaml", b"method: lhs\nmethod: sobol\nvariations: []\n", "key 'method' appears twice"),
    ("inf.yaml", b"variations: [{parameters: ['k_*'], distribution: lognormal, cv: .inf}]\n", "finite"),
])
def test_variation_files(refused, scratch: Path, name: str, content: bytes, expect: str) -> None:
    (scratch / name).write_bytes(content)
    refused([*POP, "--n", "4", "--vary", name], expect)


def test_variation_bombs_stay_small(refused_in_subprocess, scratch: Path) -> None:
    (scratch / "bomb.yaml").write_text(alias_bomb("variations"))
    (scratch / "deep.yaml").write_text(deep_nesting(100_000))
    (scratch / "huge.yaml").write_text("description: " + "x" * (17 * 2**20) + "\n")
    refused_in_subprocess([*POP, "--n", "4", "--vary", "bomb.yaml"], "aliases counted each time")
    refused_in_subprocess([*POP, "--n", "4", "--vary", "deep.yaml"], "nested deeper than 64 levels")
    refused_in_subprocess([*POP, "--n", "4", "--vary", "huge.yaml"], "larger than 16 MiB")
