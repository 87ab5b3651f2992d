"""Whole-knowledge-base checks: small rule objects that return issues instead of raising.

Each record is validated on its own by the schema (including "refs or an assumption"); these rules
check what only the whole knowledge base can tell: that every ID a record mentions exists, that
every reference used is listed, and that no look-up name points at two entities.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from cytonet.knowledge.loader import SECTIONS, Issue, KBData
from cytonet.knowledge.names import normalize, suggest

#: (section, field) -> section whose IDs the field's values must be
LINKS: dict[tuple[str, str], str] = {
    ("cytokines", "receptors"): "receptors",
    ("cytokines", "pathways"): "pathways",
    ("cytokines", "diseases"): "diseases",
    ("receptors", "pathways"): "pathways",
    ("receptors", "expressed_on"): "cells",
    ("pathways", "induces"): "cytokines",
    ("diseases", "signature"): "cytokines",
    ("drugs", "diseases"): "diseases",
}
ENTITY_SECTIONS = [s for s in SECTIONS if s != "references"]


class Check(Protocol):
    def run(self, data: KBData) -> list[Issue]: ...


def _issue(data: KBData, section: str, rid: str, field: str, message: str) -> Issue:
    o = data.origins[(section, rid)]
    return Issue(o.file, o.where, field, message)


def _unknown(kind: str, value: str, known: Iterable[str]) -> str:
    hint = suggest(value, {normalize(k): k for k in known}, n=1)
    return f"unknown {kind} {value!r}" + (f" (did you mean {hint[0]}?)" if hint else "")


def drug_target_symbols(data: KBData) -> set[str]:
    """Symbols a drug may target: cytokine IDs, receptor IDs and subunits, pathway components."""
    t = data.tables
    out = set(t["cytokines"]) | set(t["receptors"])
    out.update(s for r in t["receptors"].values() for s in (*r.subunits, *r.soluble_subunits))
    out.update(c for p in t["pathways"].values() for c in p.components)
    return out


class CheckLinks:
    """Every cytokine, receptor, pathway, cell, disease and drug target a record names exists."""

    def run(self, data: KBData) -> list[Issue]:
        t, issues = data.tables, []
        for (section, fld), target in LINKS.items():
            known = set(t[target]) | data.invalid_ids[target]
            for rid, rec in t[section].items():
                for v in getattr(rec, fld):
                    if v not in known:
                        issues.append(_issue(data, section, rid, fld, _unknown(SECTIONS[target][1], v, t[target])))
        known_cyt = set(t["cytokines"]) | data.invalid_ids["cytokines"]
        for rid, cell in t["cells"].items():
            for s in cell.secretes:
                if s.cytokine not in known_cyt:
                    issues.append(_issue(data, "cells", rid, "secretes", _unknown("cytokine", s.cytokine, t["cytokines"])))
        targets = drug_target_symbols(data)
        for rid, drug in t["drugs"].items():
            for v in drug.targets:
                if v not in targets:
                    msg = _unknown("drug target", v, targets) + "; a target must be a cytokine ID, a receptor subunit or a pathway component"
                    issues.append(_issue(data, "drugs", rid, "targets", msg))
        return issues


class CheckReferencesListed:
    """Every ``doi:``/``pmid:`` key a record uses is in a ``references`` table."""

    def run(self, data: KBData) -> list[Issue]:
        listed, issues = data.tables["references"], []
        for section in ENTITY_SECTIONS:
            for rid, rec in data.tables[section].items():
                for fld, refs in _refs_of(rec):
                    for r in refs:
                        if r not in listed:
                            msg = f"reference {r!r} is not in any 'references' list; add it (id, authors, year, title, journal)"
                            issues.append(_issue(data, section, rid, fld, msg))
        return issues


def _refs_of(rec: object) -> Iterator[tuple[str, list[str]]]:
    yield "refs", rec.refs
    serum = getattr(rec, "serum_range", None)
    if serum is not None:
        yield "serum_range.refs", serum.refs


class CheckAliasCollisions:
    """No look-up name (id, name or alias, normalised) belongs to two different entities."""

    def run(self, data: KBData) -> list[Issue]:
        owner: dict[str, tuple[str, str]] = {}
        issues = []
        for section in ENTITY_SECTIONS:
            for rid, rec in data.tables[section].items():
                for label in dict.fromkeys((rid, rec.name, *rec.aliases)):
                    key = normalize(label)
                    first = owner.setdefault(key, (section, rid))
                    if first != (section, rid):
                        other = f"{SECTIONS[first[0]][1]} {first[1]!r}"
                        o = data.origins[first]
                        msg = f"name {label!r} also names {other} ({o.file}: {o.where}); remove or change one of them"
                        fld = "id" if label == rid else "name" if label == rec.name else "aliases"
                        issues.append(_issue(data, section, rid, fld, msg))
        return issues


ALL_CHECKS: tuple[Check, ...] = (CheckLinks(), CheckReferencesListed(), CheckAliasCollisions())


def run_checks(data: KBData, checks: Iterable[Check] = ALL_CHECKS) -> list[Issue]:
    """Issues from every check, in order."""
    return [issue for check in checks for issue in check.run(data)]
