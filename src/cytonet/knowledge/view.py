"""A read-only view of the cached knowledge base as plain JSON: look-ups without pydantic or YAML.

``CachedView.describe`` answers exactly as ``KnowledgeBase.describe`` (same records, same errors) from
the records the disk cache stores, so a one-record query such as ``cytonet kb show`` skips building
the validated models.
"""

from __future__ import annotations

from dataclasses import dataclass

from cytonet.knowledge.index import SECTION_KINDS, NameIndex


@dataclass(frozen=True)
class Described:
    """One record as plain JSON (``model_dump(mode="json")``), its kind, and the references it cites."""

    kind: str
    record: dict
    refs: list[dict]


def cited_ref_ids(record: dict) -> list[str]:
    """The reference IDs a JSON record cites: its own refs, then its serum range's, each once."""
    serum = record.get("serum_range") or {}
    return list(dict.fromkeys([*record.get("refs", []), *(serum.get("refs") or [])]))


class CachedView:
    """Records of a checked knowledge base as JSON dicts (section -> id -> record), with name look-ups."""

    def __init__(self, tables: dict[str, dict[str, dict]]) -> None:
        missing = set(SECTION_KINDS) - set(tables)
        if missing:
            raise ValueError(f"cached knowledge base lacks section(s) {', '.join(sorted(missing))}")
        self._t = tables
        self._index = NameIndex(
            (section, rid, rid, ()) if section == "references" else (section, rid, rec["name"], rec.get("aliases", []))
            for section in SECTION_KINDS
            for rid, rec in tables[section].items()
        )

    def describe(self, name: str) -> Described:
        """Any record by id, name or alias, with the references it cites (see ``KnowledgeBase.describe``)."""
        section = self._index.section_of(name)
        rec = self._t[section][self._index.find(section, name)]
        return Described(SECTION_KINDS[section], rec, [self._t["references"][r] for r in cited_ref_ids(rec)])
