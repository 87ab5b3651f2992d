"""Fixtures of the hostile-input tests (helpers in ``hostile_helpers``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_helpers import USER_FILES, Outcome, check_refused, limit_memory, run_cli, snapshot


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding the user's own files, made the current directory."""
    for name, text in USER_FILES.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    return tmp_path


@pytest.fixture
def refused(scratch: Path, capsys: pytest.CaptureFixture[str]):
    """``refused(args, expect=None)``: assert ``cytonet ARGS`` is refused cleanly and touches no file."""

    def check(args: list[str], expect: str | None = None, error_line: bool = True) -> Outcome:
        before = snapshot(scratch)
        result = run_cli([a.replace("{d}", str(scratch)) for a in args], capsys)
        check_refused(result, scratch, before, expect, error_line)
        return result

    return check


@pytest.fixture
def refused_in_subprocess(scratch: Path):
    """Like ``refused``, but in a child process under :data:`MEMORY_LIMIT` of address space."""

    def check(args: list[str], expect: str | None = None, timeout: float = 300, error_line: bool = True) -> Outcome:
        before = snapshot(scratch)
        proc = subprocess.run([sys.executable, "-m", "cytonet", *args], cwd=scratch, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=limit_memory, env={**os.environ, "COLUMNS": "100"})
        result = Outcome(proc.returncode, proc.stdout, proc.stderr)
        assert "MemoryError" not in result.out + result.err and "out of memory" not in result.err, result.err
        check_refused(result, scratch, before, expect, error_line)
        return result

    return check
