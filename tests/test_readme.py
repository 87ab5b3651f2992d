"""Every `cytonet …` command shown in README.md runs and succeeds (docs stay honest)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    lines = [ln.split("#", 1)[0].strip() for block in blocks for ln in block.splitlines()]
    return [ln for ln in lines if ln.startswith("cytonet ")]


def test_readme_shows_commands() -> None:
    assert len(readme_commands()) >= 8


def test_readme_commands_write_only_into_the_ignored_results_folder() -> None:
    """Files the tour writes land under results/ (ignored by git), never in the repository root."""
    ignored = (README.parent / ".gitignore").read_text().split()
    assert "results/" in ignored
    commands = [shlex.split(c)[1:] for c in readme_commands()]
    paths = [a for args in commands for prev, a in zip(["", *args], args)
             if prev == "--out" or a.endswith((".xml", ".graphml", ".json", ".csv", ".yaml"))]
    assert paths and all(p.startswith("results/") for p in paths), paths


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the whole README, so later commands see what earlier ones wrote (run in order)."""
    return tmp_path_factory.mktemp("readme")


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs(command: str, workdir: Path) -> None:
    exe = [sys.executable, "-m", "cytonet"]
    args = shlex.split(command)[1:]
    done = subprocess.run([*exe, *args], cwd=workdir, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def readme_transcripts() -> list[tuple[str, str]]:
    """(command, output) pairs of the ``$ cytonet …`` transcripts in README text blocks."""
    blocks = re.findall(r"```text\n(.*?)```", README.read_text(), flags=re.S)
    pairs = re.findall(r"^\$ (cytonet [^\n]*)\n((?:(?!\$ )[^\n]*\n)*)", "".join(blocks), flags=re.M)
    return [(cmd, out.strip()) for cmd, out in pairs if out.strip()]  # a command shown with its output


@pytest.mark.parametrize(("command", "shown"), readme_transcripts())
def test_readme_transcript_matches_the_cli(command: str, shown: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "cytonet", *shlex.split(command)[1:]], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "COLUMNS": "300"})
    assert (done.stdout + done.stderr).strip() == shown
