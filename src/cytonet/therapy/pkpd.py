"""``treat(spec, drug, regimen)``: add a drug's PK compartments, target binding or effect, and doses to a model.

PK states are concentrations in ug/mL: ``<drug>_central`` (dose mg / V1 L), ``<drug>_periph``
(two-compartment drugs; exchange with volume-ratio stoichiometry) and ``<drug>_depot`` (sc/oral
doses as central-equivalent concentration, F x dose / V1, absorbed at ka). Treating the same model
again with the same drug adds doses; treating it with another drug combines them.
"""

from __future__ import annotations

from pydantic import ValidationError

from cytonet.errors import TherapyError
from cytonet.model.spec import Bolus, Infusion, ModelSpec, Reaction, Species
from cytonet.therapy.effects import Additions, add_effects
from cytonet.therapy.records import DrugPK, get_drug
from cytonet.therapy.regimen import Regimen, check_range


def labelled_regimen(drug: str | DrugPK, name: str | None = None, **overrides: object) -> Regimen:
    """A drug's labelled regimen by name (default: its first), with optional overrides (e.g. ``start='48h'``)."""
    d = get_drug(drug) if isinstance(drug, str) else drug
    names = [g.name for g in d.regimens]
    g = d.regimens[0] if name is None else next((g for g in d.regimens if g.name == name), None)
    if g is None:
        raise TherapyError(f"{d.id} has no labelled regimen {name!r}; labelled: {', '.join(names)}")
    base: dict[str, object] = {"dose": g.dose, "route": g.route, "every": g.every_h, "doses": g.doses}
    if g.every_h is None:
        base.pop("every")
    return Regimen(**{**base, **overrides})  # type: ignore[arg-type]


def _route(d: DrugPK, regimen: Regimen) -> str:
    route = regimen.route or next(iter(d.routes))
    if route not in d.routes:
        raise TherapyError(f"{d.id} is not given {route}; its routes: {', '.join(d.routes)}")
    return route


def _pk(add: Additions, spec: ModelSpec, d: DrugPK) -> tuple[str, str]:
    """PK species and reactions; returns (central species id, elimination-rate parameter id)."""
    comp = spec.compartments[0].id
    c = f"{d.id}_central"
    v1 = d.value("V1")
    add.species.append(Species(id=c, name=f"{d.id} (plasma)", compartment=comp, initial=0.0, unit="ug/mL", kind="drug",
                               description=f"{d.id} concentration in the central compartment (V1 = {v1:g} L)"))
    kel = add.param(f"{d.id}_kel", d.value("CL") / v1, "1/h", "linear elimination CL / V1", d.params["CL"], d.params["V1"])
    add.reactions.append(Reaction(id=f"{d.id}_elimination", rate_law="first_order", reactants={c: 1}, params={"k": kel},
                                  tags=[f"drug:{d.id}"]))
    if d.two_compartment:
        p, v2 = f"{d.id}_periph", d.value("V2")
        add.species.append(Species(id=p, name=f"{d.id} (peripheral)", compartment=comp, initial=0.0, unit="ug/mL",
                                   kind="drug", description=f"{d.id} concentration in the peripheral compartment (V2 = {v2:g} L)"))
        k12 = add.param(f"{d.id}_k12", d.value("Q") / v1, "1/h", "Q / V1", d.params["Q"], d.params["V1"])
        k21 = add.param(f"{d.id}_k21", d.value("Q") / v2, "1/h", "Q / V2", d.params["Q"], d.params["V2"])
        add.reactions += [
            Reaction(id=f"{d.id}_distribution", rate_law="first_order", reactants={c: 1}, products={p: v1 / v2},
                     params={"k": k12}, tags=[f"drug:{d.id}"], description="central -> peripheral (V1/V2 per unit)"),
            Reaction(id=f"{d.id}_redistribution", rate_law="first_order", reactants={p: 1}, products={c: v2 / v1},
                     params={"k": k21}, tags=[f"drug:{d.id}"], description="peripheral -> central (V2/V1 per unit)"),
        ]
    if "ka" in d.params:
        dep = f"{d.id}_depot"
        add.species.append(Species(id=dep, name=f"{d.id} (absorption depot)", compartment=comp, initial=0.0, unit="ug/mL",
                                   kind="drug", description="sc/oral dose not yet absorbed, as central-equivalent F x dose / V1"))
        ka = add.param(f"{d.id}_ka", d.value("ka"), "1/h", "first-order absorption", d.params["ka"])
        add.reactions.append(Reaction(id=f"{d.id}_absorption", rate_law="first_order", reactants={dep: 1},
                                      products={c: 1}, params={"k": ka}, tags=[f"drug:{d.id}"]))
    return c, kel


def _doses(spec: ModelSpec, d: DrugPK, regimen: Regimen, route: str) -> list[Bolus | Infusion]:
    v1 = d.value("V1")
    taken = {e.id for e in spec.events}
    n0 = sum(1 for e in spec.events if e.id.startswith(f"{d.id}_dose"))
    infusion_h = regimen.infusion_h if regimen.infusion_h is not None else d.routes[route].infusion_h  # type: ignore[index]
    out: list[Bolus | Infusion] = []
    for i, t in enumerate(regimen.times):
        eid = f"{d.id}_dose{n0 + i + 1}"
        if eid in taken:
            raise TherapyError(f"event id {eid!r} already exists in model {spec.id!r}")
        if route == "iv" and infusion_h > 0:
            out.append(Infusion(id=eid, start=t, end=t + infusion_h, target=f"{d.id}_central",
                                rate=regimen.mg / v1 / infusion_h))
        elif route == "iv":
            out.append(Bolus(id=eid, time=t, target=f"{d.id}_central", amount=regimen.mg / v1))
        else:
            f = d.value(f"F_{route}")
            out.append(Bolus(id=eid, time=t, target=f"{d.id}_depot", amount=f * regimen.mg / v1))
    return out


def treat(spec: ModelSpec, drug: str, regimen: Regimen | str | None = None) -> ModelSpec:
    """``spec`` with ``drug`` added: PK states, binding/effect on its targets, and the regimen's doses.

    ``regimen`` is a :class:`Regimen`, the name of a labelled regimen, or None for the drug's first
    labelled regimen. Doses far outside the labelled range warn (``DoseRangeWarning``); an unknown
    drug, a bad regimen or a target the model lacks raise ``TherapyError``.
    """
    if not isinstance(spec, ModelSpec):
        raise TherapyError(f"treat() needs a ModelSpec, got {type(spec).__name__}")
    d = get_drug(drug)
    reg = regimen if isinstance(regimen, Regimen) else labelled_regimen(d, regimen)
    route = _route(d, reg)
    rng = d.labelled_range[route]  # type: ignore[index]
    check_range(d.id, reg, route, rng.low, rng.high, rng.unit)
    data = spec.model_dump()
    if f"{d.id}_central" not in spec.species_ids:
        add = Additions()
        central, kel = _pk(add, spec, d)
        add_effects(add, spec, d, central, kel)
        data["species"] += [s.model_dump() for s in add.species]
        data["parameters"] += [p.model_dump() for p in add.parameters]
        data["reactions"] = [add.replaced.get(r.id, r).model_dump() for r in spec.reactions]
        data["reactions"] += [r.model_dump() for r in add.reactions]
        data["observables"] += [o.model_dump() for o in add.observables]
    data["events"] += [e.model_dump() for e in _doses(spec, d, reg, route)]
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as err:
        raise TherapyError(f"adding {d.id} to model {spec.id!r} failed: {err}") from None
