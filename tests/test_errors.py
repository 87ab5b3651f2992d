from cytonet.errors import UnknownEntityError, close_matches, did_you_mean


def test_unknown_entity_message_suggests_close_matches() -> None:
    err = UnknownEntityError("cytokine", "IL-66", close_matches("IL-66", ["IL-6", "IL-16", "TNF"]))
    assert str(err) == "unknown cytokine 'IL-66'; did you mean IL-6 or IL-16?"


def test_no_suggestion_when_nothing_is_close() -> None:
    assert close_matches("xyz", ["IL-6", "TNF"]) == []


def test_did_you_mean_names_the_close_matches_or_falls_back() -> None:
    assert did_you_mean("IL-66", ["IL-6", "TNF"]) == "; did you mean IL-6?"
    assert did_you_mean("xyz", ["IL-6", "TNF"]) == ""
    assert did_you_mean("xyz", ["IL-6", "TNF"], "; use a species id") == "; use a species id"
