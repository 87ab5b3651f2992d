"""The light cached view answers exactly as the full knowledge base, and the cache falls back safely."""

from pathlib import Path

import pytest

from cytonet.errors import UnknownEntityError
from cytonet.knowledge import cache
from cytonet.knowledge.base import KnowledgeBase
from cytonet.knowledge.cache import _encode
from cytonet.knowledge.view import CachedView


def _view_of(kb: KnowledgeBase) -> CachedView:
    doc = _encode(kb.data)  # what the disk cache stores
    return CachedView({s: {item["record"]["id"]: item["record"] for item in items} for s, items in doc.items()})


def _all_names(kb: KnowledgeBase) -> list[str]:
    names = [r.id for r in kb.references()] + [r.id.removeprefix("doi:").removeprefix("pmid:") for r in kb.references()]
    for kind in ("cytokine", "receptor", "pathway", "cell", "disease", "drug"):
        for rec in kb.records(kind):
            names += [rec.id, rec.name, *rec.aliases]
    return names


@pytest.fixture(scope="module")
def shipped_kb() -> KnowledgeBase:
    return KnowledgeBase.from_directory()


@pytest.mark.parametrize("which", ["fixture", "shipped"])
def test_view_describes_every_name_as_the_full_kb(which: str, small_kb: KnowledgeBase, shipped_kb: KnowledgeBase) -> None:
    kb = small_kb if which == "fixture" else shipped_kb
    view = _view_of(kb)
    names = _all_names(kb)
    assert len(names) > 20
    for name in names:
        assert view.describe(name) == kb.describe(name), name


def test_describe_gives_json_record_and_cited_references(small_kb: KnowledgeBase) -> None:
    d = _view_of(small_kb).describe("IL 6")
    assert d.kind == "cytokine" and d.record["id"] == "IL6" and d.record["family"] == "interleukin"
    assert "pmid:17426506" in [r["id"] for r in d.refs]
    assert [r["id"] for r in d.refs] == list(dict.fromkeys(r["id"] for r in d.refs))


@pytest.mark.parametrize("name", ["IL-66", "doi:10.9999/none", "Th-99"])
def test_view_misses_raise_the_same_error(name: str, small_kb: KnowledgeBase) -> None:
    with pytest.raises(UnknownEntityError) as full:
        small_kb.describe(name)
    with pytest.raises(UnknownEntityError) as light:
        _view_of(small_kb).describe(name)
    assert str(light.value) == str(full.value)


def test_damaged_cache_is_ignored_then_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYTONET_CACHE_DIR", str(tmp_path))
    assert cache.read_view() is None  # nothing cached yet
    path = cache.cache_path()
    assert path is not None and path.parent == tmp_path
    path.write_text('{"cytokines": [{"record": {}}]}')
    assert cache.read_view() is None  # wrong shape: not trusted
    kb = cache.load_cached()  # rebuilds and rewrites the file
    view = cache.read_view()
    assert view is not None and view.describe("IL-6") == kb.describe("IL-6")


def test_cache_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYTONET_CACHE_DIR", "")
    assert cache.cache_path() is None and cache.read_view() is None
