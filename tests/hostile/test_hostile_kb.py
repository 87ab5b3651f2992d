"""``kb``, ``demo``, ``scenarios`` and ``drugs``: hostile names, folders and output paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_helpers import alias_bomb, limit_memory


@pytest.mark.parametrize(("args", "expect"), [
    (["kb", "export", "kb.json"], "add --overwrite"),
    (["kb", "export", "notes"], "is a folder"),
    (["kb", "export", "kb.json", "--format", "csv"], "is a file; give a folder"),
    (["kb", "export", "notes", "--format", "csv"], "holds files cytonet did not write"),
    (["kb", "export", "/proc/kb.json"], "cannot write in '/proc'"),
    (["kb", "show", "IL-66"], "did you mean"),
    (["kb", "validate", "--data", "nowhere"], "does not exist"),
    (["demo", "--out", "."], "holds files cytonet did not write"),
    (["demo", "--out", "kb.json"], "is a file"),
    (["scenarios", "show", "sepsis"], "did you mean sepsis-storm"),
    (["drugs", "show", "tocilizumob"], "did you mean"),
])
def test_kb_demo_and_lookups(refused, args: list[str], expect: str) -> None:
    refused(args, expect)


def test_kb_validate_reads_user_folders_within_limits(scratch: Path) -> None:
    """``kb validate`` lists every problem, one line each; bombs and binary files are problems, not crashes."""
    (scratch / "kbd").mkdir()
    (scratch / "kbd" / "bomb.yaml").write_text(alias_bomb("cytokines"))
    (scratch / "kbd" / "bin.yaml").write_bytes(os.urandom(1024) + b"\0")
    proc = subprocess.run([sys.executable, "-m", "cytonet", "kb", "validate", "--data", "kbd"], cwd=scratch, capture_output=True,
                          text=True, timeout=300, preexec_fn=limit_memory, env={**os.environ, "COLUMNS": "80"})
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert len(lines) == 3 and "binary file" in lines[0] and "aliases counted each time" in lines[1]
    assert lines[2].startswith("2 problem(s) found")
