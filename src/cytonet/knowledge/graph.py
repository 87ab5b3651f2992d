"""The knowledge base as a networkx ``MultiDiGraph``.

Nodes are ``"<kind>:<id>"`` (e.g. ``"cell:CL:0000235"``, ``"cytokine:IL6"``) with attributes ``kind``,
``id`` and ``name``. Edges carry ``relation`` (also the edge key) and ``refs`` (';'-joined):
cell -secretes-> cytokine -binds-> receptor -expressed_on-> cell; receptor -activates-> pathway
-induces-> cytokine; drug -blocks-> cytokine / receptor / pathway (``target``: the symbol it binds).
"""

from __future__ import annotations

import networkx as nx

from cytonet.knowledge.base import KnowledgeBase


def node_id(kind: str, rid: str) -> str:
    return f"{kind}:{rid}"


def build_graph(kb: KnowledgeBase) -> nx.MultiDiGraph:
    """One node per cytokine, receptor, pathway, cell and drug; one edge per stated relation."""
    g = nx.MultiDiGraph()
    for kind in ("cytokine", "receptor", "pathway", "cell", "drug"):
        for rec in kb.records(kind):
            g.add_node(node_id(kind, rec.id), kind=kind, id=rec.id, name=rec.name)

    def edge(src: str, dst: str, relation: str, refs: list[str], **attrs: str) -> None:
        g.add_edge(src, dst, key=relation, relation=relation, refs=";".join(refs), **attrs)

    for cell in kb.cells():
        for s in cell.secretes:
            edge(node_id("cell", cell.id), node_id("cytokine", s.cytokine), "secretes", cell.refs, stimulus=s.stimulus)
    for cyt in kb.cytokines():
        for r in cyt.receptors:
            edge(node_id("cytokine", cyt.id), node_id("receptor", r), "binds", cyt.refs)
    for rec in kb.receptors():
        for c in rec.expressed_on:
            edge(node_id("receptor", rec.id), node_id("cell", c), "expressed_on", rec.refs)
        for p in rec.pathways:
            edge(node_id("receptor", rec.id), node_id("pathway", p), "activates", rec.refs)
    for pw in kb.pathways():
        for c in pw.induces:
            edge(node_id("pathway", pw.id), node_id("cytokine", c), "induces", pw.refs)
    for drug in kb.drugs():
        for target in drug.targets:
            for dst in _target_nodes(kb, target):
                edge(node_id("drug", drug.id), dst, "blocks", drug.refs, target=target)
    return g


def _target_nodes(kb: KnowledgeBase, symbol: str) -> list[str]:
    """Nodes a drug target symbol stands for: the cytokine, else receptors with that chain, else pathways."""
    if symbol in {c.id for c in kb.cytokines()}:
        return [node_id("cytokine", symbol)]
    receptors = [r.id for r in kb.receptors() if symbol == r.id or symbol in (*r.subunits, *r.soluble_subunits)]
    if receptors:
        return [node_id("receptor", r) for r in receptors]
    return [node_id("pathway", p.id) for p in kb.pathways() if symbol in p.components]
