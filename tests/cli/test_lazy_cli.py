"""The root command group: every registered command listed in help, modules imported only when invoked."""

import json
import os
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from cytonet.cli import COMMANDS, app

HEAVY = ["networkx", "pandas", "numba", "scipy", "xarray"]


def _run_python(code: str, tmp_path: Path) -> dict:
    """Run ``code`` in a fresh interpreter; it prints a JSON object as its last stdout line."""
    env = {**os.environ, "CYTONET_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "100"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


_LOADED = (
    "import json, sys\n"
    "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy} or m.startswith('cytonet.'))))"
)


def test_help_lists_every_registered_command_with_its_help() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    rows = {line.strip("│ ").split(maxsplit=1)[0]: line for line in result.output.splitlines() if line.startswith("│ ")}
    assert set(COMMANDS) <= set(rows)
    for name, (_module, _attr, help_text) in COMMANDS.items():
        assert help_text in rows[name]


def test_registered_help_matches_the_command() -> None:
    group = typer.main.get_command(app)
    ctx = group.make_context("cytonet", ["kb"])
    for name, (_module, _attr, help_text) in COMMANDS.items():
        cmd = group.get_command(ctx, name)
        assert cmd is not None and cmd.name == name
        assert cmd.help is not None and cmd.help.strip().splitlines()[0] == help_text, name


def test_importing_the_cli_and_help_import_no_command_module_or_heavy_library(tmp_path: Path) -> None:
    code = (
        "import cytonet.cli\n"
        "try:\n    cytonet.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        + _LOADED.format(heavy=set(HEAVY))
    )
    loaded = _run_python(code, tmp_path)
    assert not [m for m in loaded if m.split(".")[0] in HEAVY], loaded
    assert "cytonet.cli" in loaded
    assert not [m for m in loaded if m.startswith("cytonet.cli.")], loaded


def test_kb_show_from_the_cache_builds_no_models(tmp_path: Path) -> None:
    code = (
        "import contextlib, io, cytonet.cli\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    try:\n        cytonet.cli.main(['kb', 'show', 'IL-6'])\n    except SystemExit:\n        pass\n"
        "import json, sys\n"
        "print(json.dumps({'out': buf.getvalue(), 'mods': sorted(sys.modules)}))"
    )
    first = _run_python(code, tmp_path)  # no cache yet: full load, which writes the cache
    second = _run_python(code, tmp_path)
    assert "IL-6 · cytokine IL6" in first["out"] and second["out"] == first["out"]
    assert "cytonet.knowledge.schema" in first["mods"] and "yaml" in first["mods"]
    unwanted = {"cytonet.knowledge.schema", "cytonet.knowledge.base", "yaml", "cytonet.cli.model", "cytonet.cli.demo", *HEAVY}
    assert not unwanted & set(second["mods"]), unwanted & set(second["mods"])
