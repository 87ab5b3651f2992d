from typer.testing import CliRunner

from cytonet.cli import app


def test_identifiers_print_as_written_not_as_emoji() -> None:
    """Rich would turn ':CL:' into an emoji; Cell Ontology IDs must survive."""
    result = CliRunner().invoke(app, ["drugs", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "cell:CL:0000545" in result.output
    assert "\U0001f191" not in result.output
