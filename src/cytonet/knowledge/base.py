"""The knowledge base: validated records, name look-ups and the relations derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel

from cytonet.errors import KnowledgeDataError, UnknownEntityError
from cytonet.knowledge.checks import run_checks
from cytonet.knowledge.index import SECTION_KINDS, NameIndex
from cytonet.knowledge.loader import SECTIONS, KBData, Issue, read_data
from cytonet.knowledge.names import normalize, suggest
from cytonet.knowledge.view import Described, cited_ref_ids
from cytonet.knowledge.schema import CellType, Cytokine, Disease, Drug, Family, Pathway, Receptor, Reference, Role

KINDS = {kind: section for section, (_model, kind) in SECTIONS.items()}  # "cytokine" -> "cytokines"


@dataclass(frozen=True)
class Producer:
    """A cell that secretes a cytokine, and on which stimulus."""

    cell: CellType
    stimulus: str


@dataclass(frozen=True)
class Talk:
    """Cell A secretes ``cytokine``; cell B expresses ``receptor``, which switches on ``pathways``."""

    cytokine: Cytokine
    receptor: Receptor
    pathways: tuple[Pathway, ...]
    stimulus: str
    refs: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """A search result: the record and the text that matched."""

    kind: str
    record: BaseModel
    matched: str


def validate(directory: Path | None = None) -> tuple[KBData, list[Issue]]:
    """Records of ``directory`` (default: shipped data) and every problem found, file by file then whole-KB."""
    data, issues = read_data(directory)
    return data, issues + run_checks(data)


class KnowledgeBase:
    """Validated, cross-checked knowledge records with case-, punctuation- and Greek-insensitive look-ups."""

    def __init__(self, data: KBData) -> None:
        self._data = data
        self._t = data.tables
        self._index = NameIndex(
            (section, rid, rid, ()) if section == "references" else (section, rid, rec.name, rec.aliases)
            for section, table in self._t.items()
            for rid, rec in table.items()
        )

    @property
    def data(self) -> KBData:
        """The underlying tables and record origins."""
        return self._data

    @classmethod
    def from_directory(cls, directory: Path | None = None) -> KnowledgeBase:
        """Load and check ``directory`` (default: shipped data); raise one error listing every problem."""
        data, issues = validate(directory)
        if issues:
            lines = "\n".join(f"  {i}" for i in issues)
            raise KnowledgeDataError(f"{len(issues)} problem(s) in the knowledge data:\n{lines}")
        return cls(data)

    # ---- look-ups -------------------------------------------------------------------------
    def _find(self, section: str, name: str) -> BaseModel:
        return self._t[section][self._index.find(section, name)]

    def cytokine(self, name: str) -> Cytokine:
        return self._find("cytokines", name)

    def receptor(self, name: str) -> Receptor:
        return self._find("receptors", name)

    def pathway(self, name: str) -> Pathway:
        return self._find("pathways", name)

    def cell(self, name: str) -> CellType:
        return self._find("cells", name)

    def disease(self, name: str) -> Disease:
        return self._find("diseases", name)

    def drug(self, name: str) -> Drug:
        return self._find("drugs", name)

    def reference(self, ref_id: str) -> Reference:
        return self._find("references", ref_id)

    def kind_of(self, name: str) -> str:
        """The kind ('cytokine', 'cell', …) of the entity ``name`` names."""
        return SECTION_KINDS[self._index.section_of(name)]

    def get(self, name: str) -> BaseModel:
        """Any record by id, name or alias, whatever its kind."""
        return self._find(KINDS[self.kind_of(name)], name)

    def describe(self, name: str) -> Described:
        """Any record by id, name or alias as plain JSON, with the references it cites."""
        rec = self.get(name)
        refs = [r.model_dump(mode="json") for r in self.refs_of(rec)]
        return Described(self.kind_of(name), rec.model_dump(mode="json"), refs)

    # ---- listings -------------------------------------------------------------------------
    def cytokines(self, family: str | None = None, role: str | None = None) -> list[Cytokine]:
        out = list(self._t["cytokines"].values())
        if family is not None:
            out = [c for c in out if c.family == _choice("family", family, Family)]
        if role is not None:
            out = [c for c in out if c.role == _choice("role", role, Role)]
        return out

    def receptors(self) -> list[Receptor]:
        return list(self._t["receptors"].values())

    def pathways(self) -> list[Pathway]:
        return list(self._t["pathways"].values())

    def cells(self) -> list[CellType]:
        return list(self._t["cells"].values())

    def diseases(self) -> list[Disease]:
        return list(self._t["diseases"].values())

    def drugs(self) -> list[Drug]:
        return list(self._t["drugs"].values())

    def references(self) -> list[Reference]:
        return list(self._t["references"].values())

    def records(self, kind: str) -> list[BaseModel]:
        """All records of ``kind`` ('cytokine' or 'cytokines', 'cell', …)."""
        section = kind if kind in SECTIONS else KINDS.get(kind)
        if section is None:
            raise UnknownEntityError("record kind", kind, suggest(kind, {s: s for s in SECTIONS}))
        return list(self._t[section].values())

    def refs_of(self, record: BaseModel) -> list[Reference]:
        """The reference entries a record cites (its own refs, then its serum range's)."""
        return [self._t["references"][r] for r in cited_ref_ids(record.model_dump(mode="json"))]

    # ---- derived relations ---------------------------------------------------------------
    def receptors_of(self, cytokine: str) -> list[Receptor]:
        return [self._t["receptors"][r] for r in self.cytokine(cytokine).receptors]

    def producers_of(self, cytokine: str) -> list[Producer]:
        cid = self.cytokine(cytokine).id
        return [Producer(c, s.stimulus) for c in self._t["cells"].values() for s in c.secretes if s.cytokine == cid]

    def receptors_on(self, cell: str) -> list[Receptor]:
        cid = self.cell(cell).id
        return [r for r in self._t["receptors"].values() if cid in r.expressed_on]

    def drugs_targeting(self, target: str) -> list[Drug]:
        """Drugs whose targets include ``target``: a cytokine, a receptor (or its chains), a pathway
        (or its components), or a bare target symbol such as 'IL6R'."""
        symbols = {normalize(target)}
        try:
            kind = self.kind_of(target)
        except UnknownEntityError:
            kind = None
        rec = self.get(target) if kind in ("cytokine", "receptor", "pathway") else None
        if isinstance(rec, Receptor):
            symbols |= {normalize(s) for s in (rec.id, *rec.subunits, *rec.soluble_subunits)}
        elif isinstance(rec, Pathway):
            symbols |= {normalize(s) for s in rec.components}
        elif rec is not None:
            symbols.add(normalize(rec.id))
        drugs = [d for d in self._t["drugs"].values() if symbols & {normalize(t) for t in d.targets}]
        if not drugs and kind is None:
            known = {normalize(t): t for d in self._t["drugs"].values() for t in d.targets}
            raise UnknownEntityError("drug target", target, suggest(target, known))
        return drugs

    def talk(self, cell_a: str, cell_b: str) -> list[Talk]:
        """Cytokines cell A secretes whose receptors cell B expresses, with the pathways switched on."""
        a, b = self.cell(cell_a), self.cell(cell_b)
        on_b = {r.id for r in self.receptors_on(b.id)}
        out = []
        for s in a.secretes:
            cyt = self._t["cytokines"][s.cytokine]
            for rid in cyt.receptors:
                if rid in on_b:
                    rec = self._t["receptors"][rid]
                    pws = tuple(self._t["pathways"][p] for p in (rec.pathways or cyt.pathways))
                    refs = tuple(dict.fromkeys((*a.refs, *cyt.refs, *rec.refs)))
                    out.append(Talk(cyt, rec, pws, s.stimulus, refs))
        return out

    def search(self, text: str, limit: int = 20) -> list[Hit]:
        """Records whose id, names, aliases or effects contain ``text`` (normalised), then fuzzy matches."""
        key, hits, seen = normalize(text), [], set()
        for section in SECTIONS:
            if section == "references":
                continue
            for rid, rec in self._t[section].items():
                for label in _search_texts(rec):
                    if key and key in normalize(label):
                        hits.append(Hit(SECTIONS[section][1], rec, label))
                        seen.add((section, rid))
                        break
        if len(hits) < limit:
            for section in (s for s in SECTIONS if s != "references"):
                fuzzy = suggest(text, self._index.ids_by_key(section), n=limit)
                hits += [
                    Hit(SECTIONS[section][1], self._t[section][rid], rid)
                    for rid in fuzzy
                    if (section, rid) not in seen
                ]
        return hits[:limit]


def _search_texts(rec: BaseModel) -> list[str]:
    fields = ("id", "name", "full_name", "aliases", "effects", "functions", "features", "mechanism_text")
    out: list[str] = []
    for f in fields:
        v = getattr(rec, f, None)
        out += v if isinstance(v, list) else [v] if isinstance(v, str) else []
    return out


def _choice(what: str, value: str, options: type[StrEnum]) -> StrEnum:
    """The member of ``options`` that ``value`` names (normalised), else an error listing close ones."""
    keys = {normalize(o.value): o for o in options}
    if normalize(value) in keys:
        return keys[normalize(value)]
    raise UnknownEntityError(f"cytokine {what}", value, suggest(value, {k: o.value for k, o in keys.items()}))
