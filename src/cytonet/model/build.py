"""Knowledge base -> model spec: the reference network, checked against the knowledge base, and sub-networks of it.

The reference network (``data/reference_network.yaml``) is data: species annotated with HGNC symbols and
Cell Ontology IDs, reactions tagged ``secretion:<HGNC>`` and ``cell:<CL id>``. :func:`kb_problems` checks
every such claim against the curated knowledge base (the cytokine exists, the cell exists, the cell is
recorded as secreting that cytokine), so the model's wiring is traceable to referenced facts.
:func:`build` assembles the network for a chosen set of cells and cytokines: everything else is left out,
and so are the reactions that need it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from cytonet.errors import ModelSpecError
from cytonet.model.spec import ModelSpec, Reaction, RegulatorKind, load_spec

REFERENCE_FILE = "reference_network.yaml"

#: regulator kinds that only brake a reaction; when their species is left out the brake is removed
_BRAKES = {RegulatorKind.HILL_INHIBITION, RegulatorKind.CAPACITY}


@lru_cache(maxsize=1)
def reference_network() -> ModelSpec:
    """The shipped reference cytokine network (validated once per process)."""
    path = resources.files("cytonet.model") / "data" / REFERENCE_FILE
    with resources.as_file(path) as p:
        return load_spec(p)


def _tag(tags: Iterable[str], prefix: str) -> str | None:
    for t in tags:
        if t.startswith(prefix + ":"):
            return t[len(prefix) + 1 :]
    return None


def kb_problems(spec: ModelSpec, kb=None) -> list[str]:  # noqa: ANN001 - KnowledgeBase, imported lazily
    """Every claim of ``spec`` that the knowledge base does not support (empty when all hold)."""
    if kb is None:
        from cytonet.knowledge import load

        kb = load()
    cytokine_ids = {c.id for c in kb.cytokines()}
    cell_ids = {c.id for c in kb.cells()}
    problems: list[str] = []
    for s in spec.species:
        if s.kind == "cytokine" and s.annotation.hgnc not in cytokine_ids:
            problems.append(f"species {s.id!r}: cytokine {s.annotation.hgnc!r} is not in the knowledge base")
        if s.kind == "cell" and s.annotation.cell_ontology not in cell_ids:
            problems.append(f"species {s.id!r}: cell {s.annotation.cell_ontology!r} is not in the knowledge base")
    for r in spec.reactions:
        cytokine, cell = _tag(r.tags, "secretion"), _tag(r.tags, "cell")
        if cytokine is None or cell is None:
            continue
        if cell not in cell_ids:
            problems.append(f"reaction {r.id!r}: cell {cell!r} is not in the knowledge base")
            continue
        secreted = {sec.cytokine for sec in kb.cell(cell).secretes}
        if cytokine not in secreted:
            problems.append(
                f"reaction {r.id!r}: the knowledge base does not record {kb.cell(cell).name} ({cell}) secreting {cytokine}"
            )
    return problems


def _resolve(names: Iterable[str] | None, kind: str, kb) -> set[str] | None:  # noqa: ANN001
    if names is None:
        return None
    find = kb.cytokine if kind == "cytokine" else kb.cell
    return {find(n).id for n in names}


def build(
    cells: Iterable[str] | None = None,
    cytokines: Iterable[str] | None = None,
    *,
    base: ModelSpec | None = None,
    kb=None,  # noqa: ANN001
) -> ModelSpec:
    """The reference network restricted to ``cells`` and ``cytokines`` (names, aliases or IDs; None keeps all).

    A left-out species takes with it every reaction that consumes, produces or is driven by it;
    brakes it exerted (inhibition, capacity) are removed from the reactions that remain. Parameters
    and observables that are no longer used are dropped. Raises ``UnknownEntityError`` for names the
    knowledge base does not know and ``ModelSpecError`` if the network contradicts the knowledge base.
    """
    if kb is None:
        from cytonet.knowledge import load

        kb = load()
    spec = base or reference_network()
    problems = kb_problems(spec, kb)
    if problems:
        raise ModelSpecError(f"model {spec.id!r} contradicts the knowledge base:\n  " + "\n  ".join(problems))
    keep_cells, keep_cytokines = _resolve(cells, "cell", kb), _resolve(cytokines, "cytokine", kb)
    if keep_cells is None and keep_cytokines is None:
        return spec
    dropped = {
        s.id
        for s in spec.species
        if (s.kind == "cytokine" and keep_cytokines is not None and s.annotation.hgnc not in keep_cytokines)
        or (s.kind == "cell" and keep_cells is not None and s.annotation.cell_ontology not in keep_cells)
    }
    return _without(spec, dropped, f"{spec.id}_subset")


def _without(spec: ModelSpec, dropped: set[str], new_id: str) -> ModelSpec:
    reactions: list[Reaction] = []
    for r in spec.reactions:
        needed = {*r.reactants, *r.products, *r.modifiers} | {g.species for g in r.regulators if g.kind not in _BRAKES}
        if needed & dropped:
            continue
        regs = [g for g in r.regulators if g.species not in dropped]
        reactions.append(r.model_copy(update={"regulators": regs}) if len(regs) != len(r.regulators) else r)
    used = {pid for r in reactions for pid in r.params.values()} | {
        pid for r in reactions for g in r.regulators for pid in g.params.values()
    }
    from cytonet.model.expr import names_in, parse

    known = {*spec.species_ids, *spec.parameter_ids}
    species = [s for s in spec.species if s.id not in dropped]
    observables = [o for o in spec.observables if not (names_in(parse(o.expression, known)) & dropped)]
    events = [e for e in spec.events if getattr(e, "target", getattr(e, "species", None)) not in dropped]
    data = spec.model_dump()
    data.update(
        id=new_id,
        species=[x.model_dump() for x in species],
        reactions=[x.model_dump() for x in reactions],
        parameters=[p.model_dump() for p in spec.parameters if p.id in used],
        observables=[o.model_dump() for o in observables],
        events=[e.model_dump() for e in events],
    )
    return ModelSpec.model_validate(data)
