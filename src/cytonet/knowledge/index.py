"""Name look-ups shared by the full knowledge base and its light cached view (no pydantic needed).

Entity records are found by id, name or alias (case-, punctuation- and Greek-insensitive); references
by their ``doi:…``/``pmid:…`` id, with or without the prefix. Misses raise ``UnknownEntityError``
with the closest names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cytonet.errors import UnknownEntityError
from cytonet.knowledge.names import normalize, suggest

#: record sections in look-up order -> singular kind used in messages
SECTION_KINDS: dict[str, str] = {
    "references": "reference",
    "cytokines": "cytokine",
    "receptors": "receptor",
    "pathways": "pathway",
    "cells": "cell",
    "diseases": "disease",
    "drugs": "drug",
}
ENTITY_SECTIONS = [s for s in SECTION_KINDS if s != "references"]


def label_key(section: str, label: str) -> str:
    """Look-up key: reference IDs (DOIs are case-insensitive) keep their punctuation."""
    return label.strip().lower() if section == "references" else normalize(label)


class NameIndex:
    """Look-up keys of every record: section -> key -> id, and each record's display name."""

    def __init__(self, entries: Iterable[tuple[str, str, str, Sequence[str]]]) -> None:
        """``entries``: (section, id, display name, aliases) per record; references use their id as name."""
        self._ids: dict[str, dict[str, str]] = {s: {} for s in SECTION_KINDS}
        self._display: dict[tuple[str, str], str] = {}
        for section, rid, name, aliases in entries:
            self._display[(section, rid)] = name
            labels = (rid,) if section == "references" else (rid, name, *aliases)
            for label in labels:
                self._ids[section].setdefault(label_key(section, label), rid)

    def ids_by_key(self, section: str) -> dict[str, str]:
        """Look-up key -> id for one section."""
        return self._ids[section]

    def find(self, section: str, name: str) -> str:
        """The id of the ``section`` record that ``name`` names, else an error with close names."""
        ids, key = self._ids[section], label_key(section, name)
        candidates = (key, f"doi:{key}", f"pmid:{key}") if section == "references" else (key,)
        for cand in candidates:
            if cand in ids:
                return ids[cand]
        raise UnknownEntityError(SECTION_KINDS[section], name, suggest(name, self._display_keys([section])))

    def section_of(self, name: str) -> str:
        """The section ('cytokines', 'cells', …, else 'references') of the record ``name`` names."""
        key = normalize(name)
        for section in ENTITY_SECTIONS:
            if key in self._ids[section]:
                return section
        try:
            self.find("references", name)
        except UnknownEntityError:
            raise UnknownEntityError("entity", name, suggest(name, self._display_keys(ENTITY_SECTIONS))) from None
        return "references"

    def _display_keys(self, sections: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for section in sections:
            for key, rid in self._ids[section].items():
                out.setdefault(key, self._display[(section, rid)])
        return out
