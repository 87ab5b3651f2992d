"""A drug on an imported SBML model: its targets mapped onto the model's species (``--target IL6R=R``).

The drug's PK, binding reactions and doses are built as for cytonet's own network
(:mod:`cytonet.therapy.pkpd`, :mod:`cytonet.therapy.effects`) on a stand-in model holding only the
mapped targets, then written in the imported model's SBML semantics: reactions as ``expression``
rates in substance per time (the cytonet rate times the target's compartment size; drug species are
concentrations in that compartment), doses as trigger events, infusions as rates switched on by
time, readouts (bound fraction, occupancy) as assignment rules.

A membrane receptor is a relative level in cytonet (1 = the healthy pool), so the mapped species
enters the drug's reactions as ``R / R0`` with ``R0`` its initial value (parameter
``<drug>_<target>_reference``), and what the drug takes from it is scaled back by ``R0``. A soluble
target must be a mass concentration (pg/mL, ng/mL or ug/mL), the units the binding converts.
Drugs that act by inhibiting reactions of cytonet's network (antagonists, kinase inhibitors,
glucocorticoids) have nothing to attach to in an imported model and are refused. The drug's PK is in
hours: the model's time unit is read as hours.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from cytonet.errors import TherapyError, did_you_mean
from cytonet.model.compile import POWER, _lower
from cytonet.model.spec import (
    Bolus, Compartment, EventAssignment, Infusion, ModelSpec, Parameter, Rule, Species, TriggerEvent,
)
from cytonet.therapy.effects import MASS_SCALE, Additions, add_effects
from cytonet.therapy.pkpd import _doses, _pk, _route, labelled_regimen
from cytonet.therapy.records import DrugPK, Mechanism, get_drug
from cytonet.therapy.regimen import Regimen, check_range

BINDING = (Mechanism.RECEPTOR_TMDD, Mechanism.LIGAND_BINDING)


def _check_targets(spec: ModelSpec, d: DrugPK, targets: dict[str, str]) -> dict[str, Species]:
    """The mapped species by drug target, checked (unknown targets and species name close matches)."""
    if d.mechanism not in BINDING:
        raise TherapyError(f"{d.id} acts by {d.mechanism.value} on reactions of cytonet's network; on an imported model only "
                           "drugs that bind a target (receptor-tmdd, ligand-binding) can be mapped onto its species")
    own = [t for t in [d.membrane_target, *d.soluble_targets] if t]
    if not targets:
        raise TherapyError(f"map a target of {d.id} ({', '.join(own)}) onto a species of model {spec.id!r}, e.g. --target {own[0]}=SPECIES")
    species = {s.id: s for s in spec.species}
    out = {}
    for t, sid in targets.items():
        if t not in own:
            raise TherapyError(f"{t!r} is not a target of {d.id} (its targets: {', '.join(own)}){did_you_mean(t, own)}")
        if sid not in species:
            raise TherapyError(f"--target {t}={sid}: model {spec.id!r} has no species {sid!r}{did_you_mean(sid, list(species))}")
        s = species[sid]
        if t != d.membrane_target and s.unit not in MASS_SCALE:
            raise TherapyError(f"--target {t}={sid}: {sid} has unit {s.unit or '(none)'!r}; a soluble target binds by mass, "
                               f"so map it onto a species in {', '.join(MASS_SCALE)}")
        if t == d.membrane_target and not s.initial > 0:
            raise TherapyError(f"--target {t}={sid}: {sid} starts at {s.initial:g}; the receptor's initial value is its healthy "
                               "pool (the drug reads it relative to that), so it must be positive")
        out[t] = s
    return out


def treat_imported(spec: ModelSpec, drug: str, targets: dict[str, str], regimen: Regimen | None = None) -> ModelSpec:
    """``spec`` (SBML semantics) with ``drug`` bound to the species that ``targets`` maps its targets onto."""
    d = get_drug(drug)
    mapped = _check_targets(spec, d, targets)
    reg = regimen if regimen is not None else labelled_regimen(d)
    route = _route(d, reg)
    rng = d.labelled_range[route]  # type: ignore[index]
    check_range(d.id, reg, route, rng.low, rng.high, rng.unit)
    first = next(iter(mapped.values()))
    comp = next(c for c in spec.compartments if c.id == first.compartment)
    d = d.model_copy(update={"membrane_target": d.membrane_target if d.membrane_target in mapped else None,
                             "soluble_targets": [t for t in d.soluble_targets if t in mapped]})
    stand_in = ModelSpec(id=spec.id, compartments=[Compartment(id=comp.id, volume=comp.volume, unit=comp.unit)], species=[
        Species(id=t, compartment=comp.id, initial=1.0 if t == d.membrane_target else s.initial,
                unit="relative" if t == d.membrane_target else s.unit) for t, s in mapped.items()])
    add = Additions()
    central, kel = _pk(add, stand_in, d)
    if d.membrane_target or d.soluble_targets:
        add_effects(add, stand_in, d, central, kel)
    return _merge(spec, d, comp.id, mapped, add, _doses(stand_in, d, reg, route))


def _merge(spec: ModelSpec, d: DrugPK, comp: str, mapped: dict[str, Species], add: Additions,
           doses: list[Bolus | Infusion]) -> ModelSpec:
    """The additions written in SBML semantics into ``spec``."""
    refs = {t: f"{d.id}_{t}_reference" for t in mapped if t == d.membrane_target}
    extra_params = [p.model_dump() for p in add.parameters] + [
        Parameter(id=ref, value=mapped[t].initial, unit=mapped[t].unit, description=f"healthy {t} pool: initial {mapped[t].id}",
                  assumption=f"the model's initial {mapped[t].id} is the receptor pool cytonet's relative {t} = 1 stands for").model_dump()
        for t, ref in refs.items()]
    reading = {t: f"({s.id} / {refs[t]})" if t in refs else s.id for t, s in mapped.items()}
    scale = {t: mapped[t].initial if t in refs else 1.0 for t in mapped}
    new_species = [s.model_copy(update={"only_substance": False}).model_dump() for s in add.species]
    species_ids = list(mapped) + [s.id for s in add.species]
    sidx = {s: i for i, s in enumerate(species_ids)}
    pidx = {p["id"]: i for i, p in enumerate(extra_params)}
    pnames = list(pidx)
    reactions = []
    for r in add.reactions:
        for fr in _lower(r, sidx, pidx, []):
            factors = []
            for f in fr.factors:
                if f.kind != POWER:
                    raise TherapyError(f"{d.id}: reaction {r.id!r} uses a factor an imported model cannot take")
                x = reading.get(species_ids[f.species], species_ids[f.species])
                factors.append(x if f.nu == 1.0 else f"{x} ** {f.nu!r}")
            k = pnames[fr.k] if fr.kpow == 1.0 else f"{pnames[fr.k]} ** {fr.kpow!r}"
            net: dict[str, float] = {}
            for i, c in fr.stoich.items():
                name = species_ids[i]
                target = mapped[name].id if name in mapped else name
                net[target] = net.get(target, 0.0) + c * scale.get(name, 1.0)
            reactions.append({"id": fr.name, "rate_law": "expression", "rate": " * ".join([comp, repr(fr.scale), k, *factors]),
                              "reactants": {s: -c for s, c in net.items() if c < 0}, "products": {s: c for s, c in net.items() if c > 0},
                              "tags": list(r.tags), "description": r.description})
    events = []
    for e in doses:
        if isinstance(e, Bolus):
            events.append(TriggerEvent(id=e.id, trigger=f"time() >= {e.time!r}", initial_value=False,
                                       assignments=[EventAssignment(target=e.target, expression=f"{e.target} + {e.amount!r}")]).model_dump())
        else:
            reactions.append({"id": e.id, "rate_law": "expression", "products": {e.target: 1.0}, "tags": [f"drug:{d.id}"],
                              "rate": f"{comp} * piecewise({e.rate!r}, (time() >= {e.start!r}) and (time() < {e.end!r}), 0.0)",
                              "description": f"infusion of {d.id}"})
    rules = []
    for o in add.observables:
        text = o.expression
        for t, x in reading.items():
            text = re.sub(rf"\b{t}\b", x, text)
        extra_params.append(Parameter(id=o.id, value=0.0, unit=o.unit, constant=False, description=o.description,
                                      assumption="set by its assignment rule").model_dump())
        rules.append(Rule(variable=o.id, kind="assignment", expression=text).model_dump())
    data = spec.model_dump()
    data["species"] += new_species
    data["parameters"] += extra_params
    data["reactions"] += reactions
    data["events"] += events
    data["rules"] += rules
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as err:
        raise TherapyError(f"adding {d.id} to model {spec.id!r} failed: {err}") from None
