"""``/api/kb``: search, a card per record, the network (filterable) and "how does A talk to B"."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Query

from cytonet.errors import UnknownEntityError
from cytonet.web.schemas import Entity, Hit, Name, Network, SearchResult, TalkResult

router = APIRouter(prefix="/api/kb", tags=["knowledge"])

#: edge relation -> (label seen from its source, label seen from its target)
RELATIONS = {
    "secretes": ("secretes", "secreted by"),
    "binds": ("binds receptor", "bound by"),
    "expressed_on": ("expressed on", "expresses receptor"),
    "activates": ("activates pathway", "activated by"),
    "induces": ("induces", "induced by"),
    "blocks": ("blocks", "blocked by"),
}


def _kb() -> Any:
    from cytonet.knowledge import load

    return load()


@cache
def _graph() -> Any:
    from cytonet.knowledge.graph import build_graph

    return build_graph(_kb())


def reference_url(ref_id: str) -> str:
    """doi:… -> https://doi.org/…, pmid:… -> PubMed."""
    kind, _, value = ref_id.partition(":")
    return f"https://doi.org/{value}" if kind == "doi" else f"https://pubmed.ncbi.nlm.nih.gov/{value}/"


def _link(kind: str, rid: str, name: str) -> dict[str, str]:
    return {"kind": kind, "id": rid, "name": name}


def related(kind: str, record: Any) -> dict[str, list[dict[str, str]]]:
    """The records linked to ``record``: graph neighbours by relation, plus disease links of the record."""
    kb, g = _kb(), _graph()
    out: dict[str, list[dict[str, str]]] = {}
    node = f"{kind}:{record.id}"
    if node in g:
        for _, dst, data in g.out_edges(node, data=True):
            n = g.nodes[dst]
            out.setdefault(RELATIONS[data["relation"]][0], []).append(_link(n["kind"], n["id"], n["name"]))
        for src, _, data in g.in_edges(node, data=True):
            n = g.nodes[src]
            out.setdefault(RELATIONS[data["relation"]][1], []).append(_link(n["kind"], n["id"], n["name"]))
    diseases = {d.id: d for d in kb.diseases()}
    if kind in ("cytokine", "drug"):
        out["diseases"] = [_link("disease", d, diseases[d].name) for d in record.diseases if d in diseases]
    if kind == "disease":
        cyt = {c.id: c for c in kb.cytokines()}
        out["signature cytokines"] = [_link("cytokine", c, cyt[c].name) for c in record.signature if c in cyt]
        out["treated by"] = [_link("drug", d.id, d.name) for d in kb.drugs() if record.id in d.diseases]
    return {k: list({(v["kind"], v["id"]): v for v in vs}.values()) for k, vs in out.items() if vs}


@router.get("/search", response_model=SearchResult, summary="Records whose names, aliases or effects match")
def search(q: Annotated[str, Query(min_length=1, max_length=80, examples=["IL-6"])],
           limit: Annotated[int, Query(ge=1, le=50)] = 20) -> SearchResult:
    kb = _kb()
    found = kb.search(q, limit=limit)
    try:  # a record named exactly by q (id, name or alias) leads the list
        exact = kb.get(q)
    except UnknownEntityError:
        exact = None
    if exact is not None:
        from cytonet.knowledge.base import Hit as Found

        found = [Found(kb.kind_of(q), exact, q)] + [h for h in found if h.record is not exact][: limit - 1]
    hits = [Hit(kind=h.kind, id=h.record.id, name=h.record.name, matched=h.matched,
                url=f"/api/kb/entities/{h.record.id}") for h in found]
    return SearchResult(query=q, hits=hits, suggestions=[h.name for h in hits[:3]])


@router.get("/entities/{name:path}", response_model=Entity, summary="One record by id, name or alias (404 with suggestions)")
def entity(name: str) -> Entity:
    kb = _kb()
    kind = kb.kind_of(name)
    record = kb.get(name)
    refs = [{**r.model_dump(mode="json"), "url": reference_url(r.id)} for r in kb.refs_of(record)]
    return Entity(kind=kind, id=record.id, name=record.name, record=record.model_dump(mode="json"),
                  references=refs, related=related(kind, record))


@router.get("/network", response_model=Network, summary="The cell → cytokine → receptor → pathway → drug network")
def network(family: Annotated[str | None, Query(max_length=40)] = None,
            role: Annotated[str | None, Query(max_length=40)] = None,
            disease: Annotated[str | None, Query(max_length=80)] = None) -> Network:
    """Without filters the whole graph; with filters the chosen cytokines and everything one step from them
    (producing cells, receptors, pathways those receptors activate, drugs blocking any of these)."""
    from cytonet.knowledge.schema import Family, Role

    kb, g = _kb(), _graph()
    nodes = set(g.nodes)
    if family or role or disease:
        chosen = kb.cytokines(family=family, role=role)
        if disease:
            d = kb.disease(disease)
            chosen = [c for c in chosen if c.id in d.signature or d.id in c.diseases]
        keep = {f"cytokine:{c.id}" for c in chosen}
        receptors = {dst for c in keep for _, dst, r in g.out_edges(c, keys=True) if r == "binds"}
        pathways = {dst for rec in receptors for _, dst, r in g.out_edges(rec, keys=True) if r == "activates"}
        cells = {src for c in keep for src, _, r in g.in_edges(c, keys=True) if r == "secretes"}
        core = keep | receptors | pathways | cells
        drugs = {src for n in keep | receptors | pathways for src, _, r in g.in_edges(n, keys=True) if r == "blocks"}
        nodes = core | drugs
    extra = {c.id: {"family": str(c.family), "role": str(c.role)} for c in kb.cytokines()}
    out_nodes = [{"id": n, "kind": g.nodes[n]["kind"], "rid": g.nodes[n]["id"], "name": g.nodes[n]["name"],
                  **extra.get(g.nodes[n]["id"], {})} for n in sorted(nodes)]
    out_edges = [{"source": s, "target": t, "relation": r, "refs": d.get("refs", "")}
                 for s, t, r, d in g.edges(keys=True, data=True) if s in nodes and t in nodes]
    filters = {"family": [str(f) for f in Family], "role": [str(r) for r in Role],
               "disease": [d.id for d in kb.diseases()]}
    return Network(nodes=out_nodes, edges=out_edges, filters=filters)


@router.get("/talk", response_model=TalkResult, summary="How cell A signals to cell B: cytokine → receptor → pathway")
def talk(source: Annotated[Name, Query(examples=["macrophage"])], target: Annotated[Name, Query(examples=["Th17"])]) -> TalkResult:
    kb = _kb()
    a, b = kb.cell(source), kb.cell(target)
    routes = [{"cytokine": _link("cytokine", t.cytokine.id, t.cytokine.name),
               "receptor": _link("receptor", t.receptor.id, t.receptor.name),
               "pathways": [_link("pathway", p.id, p.name) for p in t.pathways],
               "stimulus": t.stimulus,
               "references": [{"id": r, "url": reference_url(r)} for r in t.refs]} for t in kb.talk(a.id, b.id)]
    return TalkResult(source=_link("cell", a.id, a.name), target=_link("cell", b.id, b.name), routes=routes)
