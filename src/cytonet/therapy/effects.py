"""How each drug mechanism enters a model: binding reactions or inhibition of existing reactions.

Two routes, chosen per drug in ``pk.yaml``:

- *explicit binding* (``receptor-tmdd``, ``ligand-binding``): drug + target -> complex with
  mass-consistent stoichiometry across units (drug in ug/mL, ligands in pg/mL or ng/mL, receptors
  relative) through the molecular weights. Every reactant keeps stoichiometry 1 (the cross-unit
  factor rides on a separate consumption reaction and on the products), so rate laws stay
  ``k * drug * target`` whatever the template does with stoichiometry.
- *quasi-equilibrium inhibition* (receptor antagonists, kinase inhibitors, transcriptional
  suppressors): a ``hill_inhibition`` regulator on the central drug concentration, K = IC50(unbound) / fu,
  n = 1, added to every ``regulated`` reaction the drug acts on.
- *glucocorticoid-receptor occupancy* (``glucocorticoid``): the drug binds the model's receptor state
  ``GR`` in competition with cortisol, through a term of the same form as cortisol's (``GR_by_CORT``);
  GR then represses and induces what cortisol does, so drug and hormone act through one mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cytonet.errors import TherapyError
from cytonet.model.spec import ModelSpec, Observable, Parameter, Reaction, Regulator, RegulatorKind, Species
from cytonet.therapy.records import DrugPK, Mechanism, Quantity, target_mw_kda

#: ug/mL of a species unit (mass concentrations the binding reactions can convert).
MASS_SCALE = {"pg/mL": 1e-6, "ng/mL": 1e-3, "ug/mL": 1.0}


@dataclass
class Additions:
    """Elements a drug adds to a spec, and existing reactions it replaces (by id)."""

    species: list[Species] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    replaced: dict[str, Reaction] = field(default_factory=dict)
    observables: list[Observable] = field(default_factory=list)

    def param(self, pid: str, value: float, unit: str, description: str, *sources: Quantity) -> str:
        refs = sorted({r for q in sources for r in q.refs})
        notes = "; ".join(q.assumption for q in sources if q.assumption)
        self.parameters.append(Parameter(id=pid, value=value, unit=unit, description=description, refs=refs,
                                         assumption=notes or None))
        return pid


def _species(spec: ModelSpec, sid: str, drug: str) -> Species:
    for s in spec.species:
        if s.id == sid:
            return s
    raise TherapyError(f"{drug} acts on {sid!r}, which model {spec.id!r} does not have; "
                       f"use a model with {sid} (e.g. the reference network) or another drug")


def _binding(add: Additions, d: DrugPK, central: str, target: Species, unit_scale: float, kon: str, koff: str,
             removal: str, label: str) -> str:
    """drug + target <-> complex; ``unit_scale`` = ug/mL of drug bound per target unit; complex in target units."""
    cplx = f"{d.id}_{target.id}"
    add.species.append(Species(id=cplx, name=f"{d.id}-{target.id} complex", compartment=target.compartment, initial=0.0,
                               unit=target.unit, kind="complex", description=f"{label}, in {target.id} units"))
    p = f"{d.id}_{target.id}"
    use = add.param(f"{p}_kon_drug", add_value(add, kon) * unit_scale, f"1/({target.unit})/h",
                    f"drug consumed per unit {target.id} bound: kon x {unit_scale:.4g} ug/mL per {target.unit}",
                    *_sources(add, kon))
    add.reactions += [
        Reaction(id=f"{p}_binding", rate_law="regulated", reactants={target.id: 1}, products={cplx: 1},
                 regulators=[Regulator(species=central, kind=RegulatorKind.LINEAR)], params={"k": kon},
                 tags=[f"drug:{d.id}"], description=f"{d.id} binds {target.id}"),
        Reaction(id=f"{p}_drug_use", rate_law="regulated", reactants={central: 1},
                 regulators=[Regulator(species=target.id, kind=RegulatorKind.LINEAR)], params={"k": use},
                 tags=[f"drug:{d.id}"], description=f"{d.id} taken up into the {target.id} complex"),
        Reaction(id=f"{p}_dissociation", rate_law="first_order", reactants={cplx: 1},
                 products={target.id: 1, central: unit_scale}, params={"k": koff}, tags=[f"drug:{d.id}"]),
        Reaction(id=f"{p}_{removal}", rate_law="first_order", reactants={cplx: 1}, params={"k": f"{p}_k{removal}"},
                 tags=[f"drug:{d.id}"], description=f"complex {removal}"),
    ]
    add.observables.append(Observable(id=f"{p}_bound_fraction", expression=f"{cplx} / ({target.id} + {cplx})", unit="1",
                                      description=f"fraction of {target.id} bound by {d.id}"))
    return cplx


def add_value(add: Additions, pid: str) -> float:
    return next(p.value for p in add.parameters if p.id == pid)


def _sources(add: Additions, pid: str) -> list[Quantity]:
    p = next(p for p in add.parameters if p.id == pid)
    return [Quantity(value=p.value, unit=p.unit, refs=p.refs, assumption=p.assumption)]


def soluble_binding(add: Additions, spec: ModelSpec, d: DrugPK, central: str, kel: str) -> None:
    """Binding to each soluble target species; complexes are cleared like the drug."""
    mw = d.mw_kda.value
    for tid in d.soluble_targets:
        target = _species(spec, tid, d.id)
        if target.unit not in MASS_SCALE:
            raise TherapyError(f"{d.id}: target {tid!r} has unit {target.unit!r}; binding needs one of {', '.join(MASS_SCALE)}")
        tmw = target_mw_kda(tid)
        p = f"{d.id}_{tid}"
        kon = add.param(f"{p}_kon", d.value("kon") * 3600 * 1e-6 / mw, "mL/ug/h",
                        "association per ug/mL of drug: kon[1/M/s] x 3600 x 1e-6 / MW[kDa]", d.params["kon"], d.mw_kda)
        koff = add.param(f"{p}_koff", d.value("Kd") * 1e-9 * d.value("kon") * 3600, "1/h", "Kd x kon", d.params["Kd"],
                         d.params["kon"])
        add.param(f"{p}_kclearance", add_value(add, kel), "1/h", f"complex cleared like free {d.id} (CL/V1)",
                  *_sources(add, kel))
        scale = MASS_SCALE[target.unit] * mw / tmw.value
        _binding(add, d, central, target, scale, kon, koff, "clearance", f"{tid} bound by {d.id}")


def receptor_tmdd(add: Additions, spec: ModelSpec, d: DrugPK, central: str) -> None:
    """Membrane receptor binding with internalisation; quasi-steady state reproduces Vmax and Km of the label PK."""
    assert d.membrane_target is not None
    target = _species(spec, d.membrane_target, d.id)
    kd_ug = d.value("Kd") * d.mw_kda.value * 1e-3
    km, kint, v1 = d.value("Km"), d.value("kint"), d.value("V1")
    if not km > kd_ug:
        raise TherapyError(f"{d.id}: Km ({km} ug/mL) must exceed Kd ({kd_ug:.3g} ug/mL) for a TMDD reading of the PK")
    pool = d.value("Vmax") / (v1 * kint)
    p = f"{d.id}_{target.id}"
    kon = add.param(f"{p}_kon", kint / (km - kd_ug), "mL/ug/h", "kint / (Km - Kd): quasi-steady-state constant equals Km",
                    d.params["kint"], d.params["Km"], d.params["Kd"])
    koff = add.param(f"{p}_koff", kd_ug * kint / (km - kd_ug), "1/h", "Kd x kon", d.params["Kd"], d.params["kint"],
                     d.params["Km"])
    add.param(f"{p}_kinternalisation", kint, "1/h", "internalisation of the drug-receptor complex", d.params["kint"])
    _binding(add, d, central, target, pool, kon, koff, "internalisation",
             f"{target.id} occupied by {d.id} (receptor pool = Vmax / (V1 kint) = {pool:.3g} ug/mL)")
    _gate(add, spec, d, target.id)
    add.observables.append(Observable(id=f"{d.id}_occupancy", expression=f"{p} / ({target.id} + {p})", unit="1",
                                      description=f"fraction of membrane {target.id} occupied by {d.id}"))


ACTIVATING = (RegulatorKind.LINEAR, RegulatorKind.HILL_ACTIVATION, RegulatorKind.SATURATION,
              RegulatorKind.ACTIVATION_WITH_BASAL)


def _gate(add: Additions, spec: ModelSpec, d: DrugPK, receptor: str) -> None:
    """Reactions a blocked ligand activates but that ignore the receptor get a linear factor of free receptor.

    The receptor species is relative (1 = healthy, constant without drug), so the untreated model is
    unchanged; under the drug, signalling scales with the receptor left free. Reactions the ligand
    inhibits are left alone (their receptor dependence cannot be written with these templates).
    """
    gate = Regulator(species=receptor, kind=RegulatorKind.LINEAR)
    for r in spec.reactions:
        species = {g.species for g in r.regulators}
        if r.rate_law == "regulated" and receptor not in species and any(
                g.species in d.blocks and g.kind in ACTIVATING for g in r.regulators):
            current = add.replaced.get(r.id, r)
            add.replaced[r.id] = current.model_copy(update={"regulators": [*current.regulators, gate]})


def _selected(spec: ModelSpec, d: DrugPK) -> tuple[list[Reaction], str]:
    """Reactions a quasi-equilibrium inhibitor acts on, and what it targets (for error messages)."""
    regulated = [r for r in spec.reactions if r.rate_law == "regulated"]
    if d.mechanism is Mechanism.RECEPTOR_ANTAGONIST:
        hits = [r for r in regulated if any(g.species in d.blocks and g.kind != RegulatorKind.HILL_INHIBITION
                                            for g in r.regulators)]
        return hits, f"signalling by {', '.join(d.blocks)}"
    if d.mechanism is Mechanism.KINASE_INHIBITION:
        from cytonet import kb

        pathways = {f"pathway:{p.id}" for p in kb.pathways() if set(p.components) & set(d.kinases)}
        return [r for r in regulated if pathways & set(r.tags)], f"pathways using {', '.join(d.kinases)}"
    hits = [r for r in regulated if any(t.startswith("secretion:") for t in r.tags) and set(d.suppresses) & set(r.tags)]
    return hits, f"secretion tagged {', '.join(d.suppresses)}"


def inhibition(add: Additions, spec: ModelSpec, d: DrugPK, central: str) -> None:
    """``hill_inhibition`` on the drug concentration (K = IC50 / fu) added to every reaction it acts on."""
    hits, what = _selected(spec, d)
    if not hits:
        raise TherapyError(f"{d.id} targets {what}, but no regulated reaction of model {spec.id!r} carries it; "
                           "the drug's target is absent from this model")
    k_total, srcs = _k_total(d)
    K = add.param(f"{d.id}_K_inhibition", k_total, "ug/mL", "IC50 (unbound) x MW / fu, on total plasma concentration", *srcs)
    n = add.param(f"{d.id}_n_inhibition", 1.0, "1", "Hill coefficient", Quantity(
        value=1.0, unit="1", assumption="one drug molecule per target site (simple Emax model)"))
    reg = Regulator(species=central, kind=RegulatorKind.HILL_INHIBITION, params={"K": K, "n": n})
    for r in hits:
        current = add.replaced.get(r.id, r)
        add.replaced[r.id] = current.model_copy(update={"regulators": [*current.regulators, reg],
                                                        "tags": [*current.tags, f"drug:{d.id}"]})
    add.observables.append(Observable(id=f"{d.id}_inhibition", expression=f"{central} / ({K} + {central})", unit="1",
                                      description=f"fractional inhibition of {what} by {d.id}"))


def _k_total(d: DrugPK) -> tuple[float, list[Quantity]]:
    """IC50 (unbound, nM) as a total plasma concentration in ug/mL: IC50 x MW / fu, and its sources."""
    fu = d.params.get("fu")
    return d.value("IC50") * d.mw_kda.value * 1e-3 / (fu.value if fu else 1.0), [d.params["IC50"], d.mw_kda] + ([fu] if fu else [])


def glucocorticoid(add: Additions, spec: ModelSpec, d: DrugPK, central: str) -> None:
    """``drug + free GR -> occupied GR`` at k_GR_off / K, K = IC50 x MW / fu: occupancy (C/Kc + D/K) / (1 + C/Kc + D/K)."""
    if "GR" not in spec.species_ids or "k_GR_off" not in {p.id for p in spec.parameters}:
        raise TherapyError(f"{d.id} acts through the glucocorticoid receptor, which model {spec.id!r} does not have "
                           "(species GR, parameter k_GR_off); use the reference network")
    k_off = next(p for p in spec.parameters if p.id == "k_GR_off")
    k_total, srcs = _k_total(d)
    K = add.param(f"{d.id}_K_GR", k_total, "ug/mL", "GR half-occupancy: IC50 (unbound) x MW / fu, on total plasma concentration",
                  *srcs)
    kon = add.param(f"{d.id}_k_GR_on", k_off.value / k_total, "mL/ug/h", "k_GR_off / K_GR: the drug's share of receptor binding",
                    *srcs, Quantity(value=k_off.value, unit=k_off.unit, refs=k_off.refs, assumption=k_off.assumption))
    one = "one" if "one" in {p.id for p in spec.parameters} else add.param(
        f"{d.id}_GR_capacity", 1.0, "1", "receptor capacity", Quantity(value=1.0, unit="1", assumption="occupancy is a fraction"))
    add.reactions.append(Reaction(
        id=f"GR_by_{d.id}", rate_law="regulated", products={"GR": 1},
        regulators=[Regulator(species=central, kind=RegulatorKind.LINEAR),
                    Regulator(species="GR", kind=RegulatorKind.CAPACITY, params={"K": one})],
        params={"k": kon}, tags=[f"drug:{d.id}", "pathway:GR-transrepression"],
        description=f"{d.id} occupies free glucocorticoid receptor, competing with cortisol"))
    add.observables.append(Observable(id=f"{d.id}_GR_share", expression=f"{central} / ({K} + {central})", unit="1",
                                      description=f"GR occupancy {d.id} alone would give at its current concentration"))


def add_effects(add: Additions, spec: ModelSpec, d: DrugPK, central: str, kel: str) -> None:
    """Dispatch on the drug's mechanism."""
    if d.mechanism is Mechanism.RECEPTOR_TMDD:
        receptor_tmdd(add, spec, d, central)
        soluble_binding(add, spec, d, central, kel)
    elif d.mechanism is Mechanism.LIGAND_BINDING:
        soluble_binding(add, spec, d, central, kel)
    elif d.mechanism is Mechanism.GLUCOCORTICOID:
        glucocorticoid(add, spec, d, central)
    else:
        inhibition(add, spec, d, central)
