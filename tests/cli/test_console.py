from typer.testing import CliRunner

from cytonet.cli import app


def test_identifiers_print_as_written_not_as_emoji() -> None:
    """Rich would turn ':CL:' into an emoji; Cell Ontology IDs must survive (in a table, as the CLI prints tags such as
    'cell:CL:0000545'; no drug record lists cell tags since the glucocorticoids act through the network's receptor state)."""
    from rich.table import Table

    from cytonet.cli._console import console

    t = Table("drug", "targets")
    t.add_row("example", "pathway:NFKB-canonical, cell:CL:0000545")
    c = console()
    with c.capture() as cap:
        c.print(t)
    assert "cell:CL:0000545" in cap.get()
    assert "\U0001f191" not in cap.get()
    result = CliRunner().invoke(app, ["drugs", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "\U0001f191" not in result.output, result.output


def _long_table():  # noqa: ANN202
    from rich.table import Table

    t = Table("measure", "untreated", "+ tocilizumab 8 mg/kg iv at 12h, then every 8 h")
    t.add_row("peak serum IL-6, free + sIL-6R-bound (pg/mL)", "1234567.891", "2.379e+04 (at end of run)")
    t.add_row("an_identifier_that_is_much_longer_than_any_column_could_be", "0.000123456", "-")
    return t


def test_tables_fold_instead_of_cutting_in_a_narrow_terminal() -> None:
    from cytonet.cli._console import console

    c = console()
    c._force_terminal = True
    c.width = 40
    with c.capture() as cap:
        c.print(_long_table())
    text = cap.get()
    assert "…" not in text
    assert "1234567.891" in text and "0.000123456" in text and "2.379e+04" in text  # numbers stay whole
    assert max(len(line) for line in text.splitlines()) <= 40
    first_column = "".join(line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│"))
    assert "an_identifier_that_is_much_longer_than_any_column_could_be" in first_column


def test_piped_tables_print_whole_whatever_columns() -> None:
    """Output to a pipe or file is not a terminal: tables print at their natural width, nothing cut."""
    result = CliRunner().invoke(app, ["drugs", "show", "tocilizumab"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert "doi:10.1177/0091270009350623" in result.output and "assumption: Actemra prescribing information" in result.output
