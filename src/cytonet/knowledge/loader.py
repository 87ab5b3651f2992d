"""Read the curated YAML files, validate every record, and collect every problem found.

Each data file is a mapping whose keys are any of the ``SECTIONS`` below, each a list of records.
Problems never stop the run: they are returned as :class:`Issue` objects naming file, record and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from cytonet.errors import InputError
from cytonet.io import parse_user_yaml, read_user_text
from cytonet.knowledge.files import data_files
from cytonet.knowledge.index import SECTION_KINDS
from cytonet.knowledge.schema import CellType, Cytokine, Disease, Drug, Pathway, Receptor, Reference

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available, same safe semantics

_MODELS: dict[str, type[BaseModel]] = {
    "references": Reference,
    "cytokines": Cytokine,
    "receptors": Receptor,
    "pathways": Pathway,
    "cells": CellType,
    "diseases": Disease,
    "drugs": Drug,
}
#: YAML section -> (record model, singular kind used in messages and look-ups)
SECTIONS: dict[str, tuple[type[BaseModel], str]] = {s: (_MODELS[s], kind) for s, kind in SECTION_KINDS.items()}


@dataclass(frozen=True)
class Issue:
    """One problem: ``file: where: field: message``."""

    file: str
    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return ": ".join(p for p in (self.file, self.where, self.field, self.message) if p)


@dataclass(frozen=True)
class Origin:
    """Where a record was defined."""

    file: str
    section: str
    index: int
    id: str

    @property
    def where(self) -> str:
        return f"{self.section}[{self.index}] ({self.id})"


@dataclass
class KBData:
    """All validated records by section and ID, with their origins; invalid records are left out."""

    tables: dict[str, dict[str, BaseModel]] = field(default_factory=lambda: {s: {} for s in SECTIONS})
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    #: IDs of records that failed validation, so whole-KB checks do not report them again as unknown
    invalid_ids: dict[str, set[str]] = field(default_factory=lambda: {s: set() for s in SECTIONS})


def read_data(directory: Path | Traversable | None = None) -> tuple[KBData, list[Issue]]:
    """Parse and validate every data file; return the merged records and all issues found."""
    data, issues = KBData(), []
    for f in data_files(directory):
        if directory is None:  # the shipped data: trusted, parsed by libyaml
            issues += _read_file(f.name, f.read_text(encoding="utf-8"), data)
            continue
        try:  # a user's folder: the limits of every user file
            doc = parse_user_yaml(read_user_text(Path(str(f)), "knowledge file"), f.name)
        except InputError as err:
            issues.append(Issue("", "", "", str(err)))
            continue
        issues += _read_doc(f.name, doc, data)
    return data, issues


def _read_file(name: str, text: str, data: KBData) -> list[Issue]:
    try:
        doc = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        return [Issue(name, where, "", f"not valid YAML ({getattr(err, 'problem', None) or err}); fix the syntax")]
    return _read_doc(name, doc, data)


def _read_doc(name: str, doc: object, data: KBData) -> list[Issue]:
    if doc is None:
        return []
    if not isinstance(doc, dict):
        return [Issue(name, "", "", f"top level must be a mapping of sections, got {type(doc).__name__}")]
    issues = []
    for section, records in doc.items():
        if section not in SECTIONS:
            issues.append(Issue(name, str(section), "", f"unknown section; expected one of {', '.join(SECTIONS)}"))
        elif not isinstance(records, list):
            issues.append(Issue(name, str(section), "", f"must be a list of records, got {type(records).__name__}"))
        else:
            for i, raw in enumerate(records):
                issues += _read_record(name, section, i, raw, data)
    return issues


def _read_record(name: str, section: str, index: int, raw: object, data: KBData) -> list[Issue]:
    model, _kind = SECTIONS[section]
    rid = str(raw.get("id", "?")) if isinstance(raw, dict) else "?"
    origin = Origin(name, section, index, rid)
    if not isinstance(raw, dict):
        return [Issue(name, f"{section}[{index}]", "", f"a record must be a mapping, got {type(raw).__name__}")]
    try:
        record = model.model_validate(raw)
    except ValidationError as err:
        data.invalid_ids[section].add(rid)
        return [
            Issue(name, origin.where, ".".join(map(str, e["loc"])) or "record", e["msg"].removeprefix("Value error, "))
            for e in err.errors()
        ]
    table = data.tables[section]
    if rid in table:
        if section == "references" and table[rid] == record:
            return []  # the same reference listed by two curators: merged
        first = data.origins[(section, rid)]
        what = "reference with different fields" if section == "references" else f"{SECTIONS[section][1]} id"
        return [Issue(name, origin.where, "id", f"duplicate {what} {rid!r}; first defined in {first.file}: {first.where}")]
    table[rid] = record
    data.origins[(section, rid)] = origin
    return []
