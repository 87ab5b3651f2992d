"""Helpers of the hostile-input tests: run a command as a user would and judge how it ends.

The fixture ``refused(args)`` (conftest) runs ``cytonet ARGS`` in-process in a scratch folder that holds some of the
user's own files, and asserts what every refused input must give: exit status != 0, no
traceback, at most two lines of output, and no file created, changed or removed outside the
run. ``refused_in_subprocess`` does the same in a child process under an address-space limit,
for inputs built to exhaust memory.
"""

from __future__ import annotations

import hashlib
import resource
from dataclasses import dataclass
from pathlib import Path

import pytest

from cytonet.cli import main

USER_FILES = {"report.html": "<html>my own report</html>\n", "changes.csv": "my,own\n1,2\n",
              "kb.json": '{"mine": true}\n', "notes/summary.png": "my picture\n", "secret.txt": "canary-4b1d\n"}
#: address-space limit of a child process running one hostile input
MEMORY_LIMIT = 3 * 2**30


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [ln for ln in (self.out + self.err).splitlines() if ln.strip()]


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as ex:
        code = ex.code if isinstance(ex.code, int) else 1
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def check_refused(result: Outcome, folder: Path, before: dict[str, str], expect: str | None = None,
                  error_line: bool = True) -> None:
    text = result.out + result.err
    assert result.code != 0, text
    assert "Traceback" not in text, text
    assert len(result.lines) <= 2, text
    assert result.lines and (result.lines[-1].startswith("error: ") or not error_line), text
    assert "canary-4b1d" not in text
    assert snapshot(folder) == before, f"files changed: {text}"
    if expect is not None:
        assert expect in text, text


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def alias_bomb(key: str, levels: int = 10) -> str:
    """9^levels strings once expanded, from a few hundred bytes."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\n{key}: *a{levels - 1}\n"


def deep_nesting(depth: int) -> str:
    return "[" * depth + "]" * depth + "\n"
