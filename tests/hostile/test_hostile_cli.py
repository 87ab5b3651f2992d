"""The command line itself: unknown commands and options, bad option values, --debug, warnings."""

from __future__ import annotations

import warnings

import pytest

from cytonet.cli import _show_warning

from hostile_helpers import run_cli


@pytest.mark.parametrize(("args", "expect"), [
    (["simulat"], "error: No such command 'simulat'. Did you mean 'simulate'?"),
    (["simulate", "--scenari", "sepsis-storm"], "No such option: --scenari"),
    (["simulate", "--scenario", "healthy"], "Missing option '--out'"),
    (["population", "--scenario", "sepsis-storm", "--n", "many", "--out", "p"], "Invalid value for '--n'"),
    (["kb", "export", "x.xml", "--format", "xml"], "Invalid value for '--format'"),
    (["kb", "list", "cytokine"], "Invalid value for 'kind': 'cytokine' is not one of 'cytokines'"),
])
def test_usage_errors_are_one_line(refused, args: list[str], expect: str) -> None:
    assert refused(args, expect).code == 2


def test_debug_shows_the_traceback(scratch, capsys: pytest.CaptureFixture[str]) -> None:
    plain = run_cli(["kb", "show", "IL-66"], capsys)
    debug = run_cli(["--debug", "kb", "show", "IL-66"], capsys)
    assert plain.code == debug.code == 1
    assert "Traceback" not in plain.err and len(plain.lines) == 1
    assert "Traceback (most recent call last)" in debug.err and debug.lines[-1] == plain.lines[-1]


def test_warnings_print_as_one_readable_line(capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        warnings.warn("tocilizumab iv dose 80 mg/kg is far outside the labelled range 8 mg/kg\n(second line)", UserWarning)
    err = capsys.readouterr().err
    assert err.startswith("warning: tocilizumab iv dose 80 mg/kg") and err.count("\n") == 1 and "UserWarning" not in err


def test_an_unexpected_failure_is_one_line_internal_error(scratch, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import cytonet.knowledge

    def boom() -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cytonet.knowledge, "load_view", boom)
    result = run_cli(["kb", "show", "IL-6"], capsys)
    assert result.code == 1 and len(result.lines) == 1
    assert result.lines[0].startswith("error: internal error (ZeroDivisionError: division by zero)")
