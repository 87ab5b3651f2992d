import os
import stat
from pathlib import Path

import pytest

from cytonet.io import atomic_write, atomic_write_text


def test_atomic_write_replaces_whole_file_with_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    atomic_write_text(target, "good")

    def broken(p: Path) -> None:
        p.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, broken)
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def _network_text() -> str:
    from importlib import resources

    from cytonet.model.build import REFERENCE_FILE

    return (resources.files("cytonet.model") / "data" / REFERENCE_FILE).read_text()


def test_a_large_yaml_parse_is_read_back_from_the_cache_and_replaced_when_bad(tmp_path: Path, monkeypatch) -> None:
    import json

    from cytonet import io as cio

    monkeypatch.setenv("CYTONET_CACHE_DIR", str(tmp_path))
    text = _network_text()
    assert len(text) >= cio.PARSED_CACHE_MIN_BYTES
    fresh = cio._parse_yaml(text, "network")
    assert cio.parse_user_yaml(text, "network") == fresh  # parsed, then written
    (held,) = (tmp_path / "parsed").iterdir()
    parses = []
    monkeypatch.setattr(cio, "_parse_yaml", lambda t, w: parses.append(w) or fresh)
    assert cio.parse_user_yaml(text, "network") == fresh and parses == []  # a hit: not parsed
    cio.parse_user_yaml(text + "\n# changed\n", "network")  # another text, another key: parsed
    assert parses == ["network"]
    doc = json.loads(held.read_text())
    for bad in ("{not json", json.dumps({"key": "another", "data": {}}), json.dumps({"key": doc["key"]})):
        held.write_text(bad)
        assert cio.parse_user_yaml(text, "network") == fresh  # parsed again and rewritten
        assert json.loads(held.read_text()) == doc
    assert len(parses) == 4


def test_yaml_that_json_cannot_hold_is_not_cached_and_caching_can_be_off(tmp_path: Path, monkeypatch) -> None:
    from cytonet import io as cio
    from cytonet.errors import InputError

    pad = "# " + "x" * cio.PARSED_CACHE_MIN_BYTES + "\n"
    monkeypatch.setenv("CYTONET_CACHE_DIR", str(tmp_path))
    for text, key in (("day: 2024-01-02\n", "day"), ("1: one\n", 1), ("x: .nan\n", "x")):  # a date, an integer key, NaN
        assert list(cio.parse_user_yaml(pad + text, "doc")) == [key]
    assert not (tmp_path / "parsed").exists()
    monkeypatch.setenv("CYTONET_CACHE_DIR", "")
    assert cio.parse_user_yaml(pad + "a: 1\n", "doc") == {"a": 1}
    assert not (tmp_path / "parsed").exists()
    with pytest.raises(InputError, match="twice"):  # the limits still apply to a large document
        cio.parse_user_yaml(pad + "a: 1\na: 2\n", "doc")
