"""The declarative model: species, parameters, reactions from a closed set of rate-law templates, events.

A ``ModelSpec`` is data (YAML/JSON validated here), never code. Dynamics are

    dx_i/dt = sum_j N_ij * v_j(x, p)  +  u_i(t)

where each reaction rate ``v_j`` comes from one template of :class:`RateLaw` and ``u(t)`` is the
piecewise-constant input of infusions and input events. Bolus doses and threshold events jump
the state at the exact time they happen.
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cytonet.errors import InputError, ModelSpecError, close_matches, did_you_mean
from cytonet.provenance import Calibration, Sourced

ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RateLaw(StrEnum):
    """The closed set of rate-law templates.

    - ``mass_action``: v = k * prod(reactant^stoich) * prod(modifier)
    - ``constant``: v = k (zero-order production or input)
    - ``first_order``: v = k * S, with S the single reactant (clearance) or ``modifiers[0]`` (production driven by S)
    - ``michaelis_menten``: v = Vmax * S / (Km + S)
    - ``hill_activation``: v = k * A^n / (K^n + A^n)
    - ``hill_inhibition``: v = k * K^n / (K^n + I^n)
    - ``regulated``: v = k * prod(reactant^stoich) * prod(regulator terms) (multi-input regulation)
    - ``binding``: L + R <-> C, v = kon * L * R - koff * C (occupancy = C / (R + C)); first order in each
      partner whatever the stoichiometries, which only scale what is consumed and produced (unit conversion)
    - ``logistic``: v = r * X * (1 - X / K)
    - ``delay_chain``: X -> (n transit states) -> Y at rate n/tau each (mean delay tau)
    - ``expression``: v = ``rate``, any safe expression (:mod:`cytonet.model.expr`) in substance per
      time, as an imported SBML kinetic law is
    """

    MASS_ACTION = "mass_action"
    CONSTANT = "constant"
    FIRST_ORDER = "first_order"
    MICHAELIS_MENTEN = "michaelis_menten"
    HILL_ACTIVATION = "hill_activation"
    HILL_INHIBITION = "hill_inhibition"
    REGULATED = "regulated"
    BINDING = "binding"
    LOGISTIC = "logistic"
    DELAY_CHAIN = "delay_chain"
    EXPRESSION = "expression"


class RegulatorKind(StrEnum):
    """A multiplicative term of a ``regulated`` rate law."""

    LINEAR = "linear"  # x
    HILL_ACTIVATION = "hill_activation"  # x^n / (K^n + x^n)
    HILL_INHIBITION = "hill_inhibition"  # K^n / (K^n + x^n)
    SATURATION = "saturation"  # x / (K + x)
    CAPACITY = "capacity"  # (1 - x / K)
    ACTIVATION_WITH_BASAL = "activation_with_basal"  # b + (1 - b) * x^n / (K^n + x^n)


#: Parameter roles each template needs, in order.
TEMPLATE_PARAMETERS: dict[RateLaw, tuple[str, ...]] = {
    RateLaw.MASS_ACTION: ("k",),
    RateLaw.CONSTANT: ("k",),
    RateLaw.FIRST_ORDER: ("k",),
    RateLaw.MICHAELIS_MENTEN: ("vmax", "km"),
    RateLaw.HILL_ACTIVATION: ("k", "K", "n"),
    RateLaw.HILL_INHIBITION: ("k", "K", "n"),
    RateLaw.REGULATED: ("k",),
    RateLaw.BINDING: ("kon", "koff"),
    RateLaw.LOGISTIC: ("r", "K"),
    RateLaw.DELAY_CHAIN: ("tau",),
    RateLaw.EXPRESSION: (),
}

REGULATOR_PARAMETERS: dict[RegulatorKind, tuple[str, ...]] = {
    RegulatorKind.LINEAR: (),
    RegulatorKind.HILL_ACTIVATION: ("K", "n"),
    RegulatorKind.HILL_INHIBITION: ("K", "n"),
    RegulatorKind.SATURATION: ("K",),
    RegulatorKind.CAPACITY: ("K",),
    RegulatorKind.ACTIVATION_WITH_BASAL: ("K", "n", "basal"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_id(v: str, what: str) -> str:
    if not ID_PATTERN.match(v):
        raise ValueError(f"{what} id {v!r} must start with a letter or '_' and hold only letters, digits and '_'")
    return v


class Compartment(_Strict):
    id: str
    name: str = ""
    volume: float = Field(gt=0, description="volume in `unit`")
    unit: str = "L"
    constant: bool = Field(default=True, description="False: rules or events may change the size")

    _v = field_validator("id")(lambda cls, v: _check_id(v, "compartment"))


class Annotation(_Strict):
    """Cross-references written as MIRIAM annotations in SBML."""

    hgnc: str | None = Field(default=None, description="HGNC symbol, e.g. IL6")
    cell_ontology: str | None = Field(default=None, description="e.g. CL:0000235")
    chebi: str | None = None


class Species(_Strict):
    id: str
    name: str = ""
    compartment: str
    initial: float = Field(description=">= 0 for native species; an SBML species may start negative")
    unit: str = Field(description="e.g. pg/mL, cells/uL, ug/mL, relative")
    kind: Literal["cytokine", "cell", "receptor", "complex", "drug", "readout", "trigger", "state"] = "state"
    annotation: Annotation = Annotation()
    tags: list[str] = Field(default_factory=list)
    description: str = ""
    only_substance: bool | None = Field(
        default=None, description="SBML semantics: True, the value is an amount; False, a concentration "
        "(amount / compartment size, reactions change the amount); None (native), the value is the state and sizes play no part")
    boundary: bool = Field(default=False, description="SBML boundary condition: reactions do not change it")
    constant: bool = False
    conversion_factor: str | None = Field(default=None, description="parameter scaling this species' reaction fluxes")

    _v = field_validator("id")(lambda cls, v: _check_id(v, "species"))


class Parameter(Sourced):
    id: str
    value: float
    unit: str
    description: str = ""
    constant: bool = Field(default=True, description="False: rules or events may change it")
    calibration: Calibration | None = Field(default=None, description="estimate, 95 % interval and data of a fitted value")

    _v = field_validator("id")(lambda cls, v: _check_id(v, "parameter"))

    def _label(self) -> str:
        return f"parameter {self.id!r}"


class Regulator(_Strict):
    species: str
    kind: RegulatorKind
    params: dict[str, str] = Field(default_factory=dict, description="role -> parameter id, e.g. {K: EC50_IL6, n: n_IL6}")


class Reaction(_Strict):
    id: str
    rate_law: RateLaw
    reactants: dict[str, float] = Field(default_factory=dict, description="species -> stoichiometry consumed")
    products: dict[str, float] = Field(default_factory=dict, description="species -> stoichiometry produced")
    modifiers: list[str] = Field(default_factory=list, description="species that scale the rate without being consumed")
    regulators: list[Regulator] = Field(default_factory=list)
    params: dict[str, str] = Field(default_factory=dict, description="role -> parameter id, e.g. {k: k_clear_IL6}")
    rate: str = Field(default="", description="the rate of an `expression` rate law")
    variable_stoichiometry: dict[str, str] = Field(
        default_factory=dict, description="species -> expression of its net stoichiometry (products minus reactants; "
        "replaces the numbers in reactants/products), e.g. an SBML stoichiometry that rules or events change")
    stages: int = Field(default=0, ge=0, description="transit compartments of a delay_chain")
    tags: list[str] = Field(default_factory=list, description="e.g. 'pathway:JAK-STAT3', 'secretion:IL6'")
    description: str = ""

    _v = field_validator("id")(lambda cls, v: _check_id(v, "reaction"))

    @field_validator("reactants", "products")
    @classmethod
    def _positive_stoich(cls, d: dict[str, float]) -> dict[str, float]:
        for s, nu in d.items():
            if not nu > 0:
                raise ValueError(f"stoichiometry of {s!r} must be positive, got {nu}")
        return d


class Assignment(_Strict):
    target: str = Field(description="species or parameter id")
    op: Literal["set", "add", "multiply"] = "set"
    value: float


class Bolus(_Strict):
    kind: Literal["bolus"] = "bolus"
    id: str
    time: float = Field(ge=0, description="h")
    target: str
    amount: float = Field(description="added to the target, in its unit")


class Infusion(_Strict):
    kind: Literal["infusion"] = "infusion"
    id: str
    start: float = Field(ge=0, description="h")
    end: float = Field(description="h")
    target: str
    rate: float = Field(ge=0, description="target unit per hour")

    @model_validator(mode="after")
    def _ordered(self) -> Infusion:
        if not self.end > self.start:
            raise ValueError(f"infusion {self.id!r} ends ({self.end}) before it starts ({self.start})")
        return self


class PiecewiseInput(_Strict):
    """Piecewise-constant input rate: ``rates[i]`` from ``times[i]`` until ``times[i+1]`` (last holds on)."""

    kind: Literal["input"] = "input"
    id: str
    target: str
    times: list[float] = Field(min_length=1)
    rates: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> PiecewiseInput:
        if len(self.times) != len(self.rates):
            raise ValueError(f"input {self.id!r}: {len(self.times)} times but {len(self.rates)} rates")
        if any(t < 0 for t in self.times):
            raise ValueError(f"input {self.id!r}: times must be >= 0")
        if any(b <= a for a, b in zip(self.times, self.times[1:])):
            raise ValueError(f"input {self.id!r}: times must increase strictly")
        if any(r < 0 for r in self.rates):
            raise ValueError(f"input {self.id!r}: rates must be >= 0")
        return self


class ThresholdEvent(_Strict):
    """Fires when ``species`` crosses ``threshold`` in ``direction``; applies ``assignments``."""

    kind: Literal["threshold"] = "threshold"
    id: str
    species: str
    threshold: float
    direction: Literal["rising", "falling"] = "rising"
    assignments: list[Assignment] = Field(min_length=1)


class EventAssignment(_Strict):
    target: str = Field(description="species (in its own sense: amount or concentration), compartment or parameter")
    expression: str


class TriggerEvent(_Strict):
    """An SBML event: when ``trigger`` turns true, after ``delay``, apply ``assignments``.

    ``priority`` orders events due at the same time (highest first); a non-``persistent`` event
    whose trigger turns false before it is executed is dropped; ``initial_value`` is the trigger's
    value just before the start (False: a trigger true at the start fires then); with
    ``values_at_trigger`` the assigned values are computed when the trigger fires, else when the
    event is executed.
    """

    kind: Literal["trigger"] = "trigger"
    id: str
    trigger: str
    delay: str = ""
    priority: str = ""
    persistent: bool = True
    initial_value: bool = True
    values_at_trigger: bool = True
    assignments: list[EventAssignment] = Field(default_factory=list)


Event = Annotated[Bolus | Infusion | PiecewiseInput | ThresholdEvent | TriggerEvent, Field(discriminator="kind")]


class Rule(_Strict):
    """An SBML rule: ``variable`` = ``expression`` at all times (assignment) or d variable/dt = ``expression`` (rate)."""

    variable: str
    kind: Literal["assignment", "rate"]
    expression: str


class InitialAssignment(_Strict):
    variable: str
    expression: str


class Observable(_Strict):
    """A derived readout: a safe arithmetic expression of species and parameters."""

    id: str
    expression: str
    unit: str = ""
    description: str = ""

    _v = field_validator("id")(lambda cls, v: _check_id(v, "observable"))


class ModelSpec(_Strict):
    id: str
    name: str = ""
    description: str = ""
    time_unit: Literal["h"] = "h"
    compartments: list[Compartment] = Field(default_factory=list)
    species: list[Species] = Field(default_factory=list)
    parameters: list[Parameter] = Field(default_factory=list)
    reactions: list[Reaction] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    observables: list[Observable] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    initial_assignments: list[InitialAssignment] = Field(default_factory=list)
    conversion_factor: str | None = Field(default=None, description="parameter scaling every species' reaction fluxes (SBML)")

    _v = field_validator("id")(lambda cls, v: _check_id(v, "model"))

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        problems = spec_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # -- convenience -----------------------------------------------------------------
    @property
    def species_ids(self) -> list[str]:
        return [s.id for s in self.species]

    @property
    def parameter_ids(self) -> list[str]:
        return [p.id for p in self.parameters]

    def parameter(self, pid: str) -> Parameter:
        for p in self.parameters:
            if p.id == pid:
                return p
        raise ModelSpecError(_unknown("parameter", pid, self.parameter_ids, self.id))

    def with_parameters(self, values: dict[str, float]) -> ModelSpec:
        """A copy with parameter values replaced (unknown IDs raise with suggestions)."""
        known = set(self.parameter_ids)
        for pid in values:
            if pid not in known:
                raise ModelSpecError(_unknown("parameter", pid, self.parameter_ids, self.id))
        params = [p.model_copy(update={"value": float(values[p.id])}) if p.id in values else p for p in self.parameters]
        return self.model_copy(update={"parameters": params})

    def digest(self) -> str:
        """Stable content hash (sha256 of canonical JSON), used to key caches and stamp results."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()


def _unknown(kind: str, name: str, known: list[str], where: str) -> str:
    return f"model {where!r}: unknown {kind} {name!r}{did_you_mean(name, known)}"


def spec_problems(spec: ModelSpec) -> list[str]:
    """Every cross-reference problem of a spec, collected (not just the first)."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for kind, items in (
        ("compartment", spec.compartments),
        ("species", spec.species),
        ("parameter", spec.parameters),
        ("reaction", spec.reactions),
        ("event", spec.events),
        ("observable", spec.observables),
    ):
        for it in items:
            if it.id in seen:
                problems.append(f"duplicate id {it.id!r} ({kind}; already used by a {seen[it.id]})")
            else:
                seen[it.id] = kind
    comps = {c.id for c in spec.compartments}
    species = {s.id for s in spec.species}
    units = {s.id: s.unit for s in spec.species}
    params = {p.id: p for p in spec.parameters}
    for s in spec.species:
        if s.compartment not in comps:
            problems.append(f"species {s.id!r}: unknown compartment {s.compartment!r}")
        if s.only_substance is None and s.initial < 0:
            problems.append(f"species {s.id!r}: initial value must be >= 0, got {s.initial}")
    problems.extend(expression_problems(spec))
    if not spec.species and not spec.parameters and not spec.compartments:
        problems.append("a model needs at least one species")
    if spec.species and not spec.compartments:
        problems.append("a model with species needs at least one compartment")

    def need_species(where: str, sid: str) -> None:
        if sid not in species:
            sugg = close_matches(sid, species)
            hint = f" (did you mean {' or '.join(sugg)}?)" if sugg else ""
            problems.append(f"{where}: unknown species {sid!r}{hint}")

    def need_param(where: str, role: str, pid: str | None, positive: bool = True) -> None:
        if pid is None:
            problems.append(f"{where}: missing parameter for role {role!r}")
            return
        if pid not in params:
            sugg = close_matches(pid, params)
            hint = f" (did you mean {' or '.join(sugg)}?)" if sugg else ""
            problems.append(f"{where}: unknown parameter {pid!r} for role {role!r}{hint}")
        elif positive and not params[pid].value > 0:
            problems.append(f"{where}: parameter {pid!r} ({role}) must be positive, got {params[pid].value}")

    for r in spec.reactions:
        where = f"reaction {r.id!r}"
        for sid in [*r.reactants, *r.products, *r.modifiers]:
            need_species(where, sid)
        roles = TEMPLATE_PARAMETERS[r.rate_law]
        extra = set(r.params) - set(roles)
        if extra:
            problems.append(f"{where}: rate law {r.rate_law.value} takes parameters {list(roles)}, not {sorted(extra)}")
        for role in roles:
            need_param(where, role, r.params.get(role))
        for g in r.regulators:
            need_species(where, g.species)
            groles = REGULATOR_PARAMETERS[g.kind]
            gextra = set(g.params) - set(groles)
            if gextra:
                problems.append(f"{where}: regulator {g.kind.value} takes {list(groles)}, not {sorted(gextra)}")
            for role in groles:
                need_param(f"{where} regulator on {g.species!r}", role, g.params.get(role))
            if g.kind is RegulatorKind.ACTIVATION_WITH_BASAL and g.params.get("basal") in params:
                b = params[g.params["basal"]].value
                if not 0 < b <= 1:
                    problems.append(f"{where}: basal fraction {g.params['basal']!r} must lie in (0, 1], got {b}")
        problems.extend(_template_shape(r))
        problems.extend(_unit_problems(r, params, units))
    for e in spec.events:
        where = f"event {e.id!r}"
        if isinstance(e, TriggerEvent):
            continue
        if isinstance(e, ThresholdEvent):
            need_species(where, e.species)
            for a in e.assignments:
                if a.target not in species and a.target not in params:
                    problems.append(f"{where}: assignment target {a.target!r} is neither a species nor a parameter")
        else:
            need_species(where, e.target)
    return problems


def uses_expressions(spec: ModelSpec) -> bool:
    """Whether the spec needs the expression (tape) engine: SBML-style species, rules or expression rates."""
    return bool(spec.rules or spec.initial_assignments or any(isinstance(e, TriggerEvent) for e in spec.events)
                or any(r.rate_law is RateLaw.EXPRESSION for r in spec.reactions)
                or any(s.only_substance is not None for s in spec.species))


def expression_problems(spec: ModelSpec) -> list[str]:
    """Unparseable expressions or unknown names in rates, rules, initial assignments and trigger events."""
    from cytonet.model.expr import parse

    names = {c.id for c in spec.compartments} | set(spec.species_ids) | set(spec.parameter_ids)
    out: list[str] = []

    def check(text: str, where: str) -> None:
        try:
            parse(text, names, where)
        except ModelSpecError as err:
            out.append(str(err))

    def need(name: str, where: str) -> None:
        if name not in names:
            sugg = close_matches(name, names)
            out.append(f"{where}: unknown variable {name!r}" + (f" (did you mean {' or '.join(sugg)}?)" if sugg else ""))

    for r in spec.reactions:
        if (r.rate_law is RateLaw.EXPRESSION) != bool(r.rate):
            out.append(f"reaction {r.id!r}: an 'expression' rate law needs a 'rate', and only it takes one")
        elif r.rate:
            check(r.rate, f"reaction {r.id!r} rate")
        for sid, text in r.variable_stoichiometry.items():
            if sid not in {**r.reactants, **r.products}:
                out.append(f"reaction {r.id!r}: variable stoichiometry of {sid!r}, which is neither reactant nor product")
            check(text, f"reaction {r.id!r} stoichiometry of {sid!r}")
    for g in [*spec.rules, *spec.initial_assignments]:
        need(g.variable, f"rule for {g.variable!r}")
        check(g.expression, f"rule for {g.variable!r}")
    for e in spec.events:
        if isinstance(e, TriggerEvent):
            for text, what in ((e.trigger, "trigger"), (e.delay, "delay"), (e.priority, "priority")):
                if text or what == "trigger":
                    check(text, f"event {e.id!r} {what}")
            for a in e.assignments:
                need(a.target, f"event {e.id!r} assignment")
                check(a.expression, f"event {e.id!r} assignment to {a.target!r}")
    for s in spec.species:
        if s.conversion_factor:
            need(s.conversion_factor, f"species {s.id!r} conversion factor")
    if spec.conversion_factor:
        need(spec.conversion_factor, "model conversion factor")
    return out


DIMENSIONLESS = {"1", "dimensionless", ""}
PER_HOUR = {"1/h", "/h", "h-1", "h^-1", "per_h"}


def normalise_unit(u: str) -> str:
    """Canonical spelling of a unit string for comparison (spaces dropped, µ→u)."""
    return u.replace(" ", "").replace("µ", "u").replace("μ", "u")


def _unit_problems(r: Reaction, params: dict[str, Parameter], units: dict[str, str]) -> list[str]:
    """Units that must match by construction: rate constants per hour, thresholds in their species' unit."""
    out: list[str] = []

    def expect(pid: str | None, allowed: set[str], why: str) -> None:
        if pid in params and normalise_unit(params[pid].unit) not in {normalise_unit(a) for a in allowed}:
            out.append(f"reaction {r.id!r}: parameter {pid!r} has unit {params[pid].unit!r} but {why} needs {sorted(allowed)[0]!r}")

    law = r.rate_law
    if law in (RateLaw.FIRST_ORDER,) or (law is RateLaw.BINDING):
        expect(r.params.get("k") or r.params.get("koff"), PER_HOUR, f"{law.value} rate constant")
    if law is RateLaw.LOGISTIC:
        expect(r.params.get("r"), PER_HOUR, "a logistic growth rate")
    if law is RateLaw.DELAY_CHAIN:
        expect(r.params.get("tau"), {"h"}, "a mean delay")
    substrate = next(iter([*r.reactants, *r.modifiers]), None)
    if substrate in units:
        if law is RateLaw.MICHAELIS_MENTEN:
            expect(r.params.get("km"), {units[substrate]}, f"Km of {substrate!r}")
        if law is RateLaw.LOGISTIC:
            expect(r.params.get("K"), {units[substrate]}, f"the carrying capacity of {substrate!r}")
    if law in (RateLaw.HILL_ACTIVATION, RateLaw.HILL_INHIBITION) and r.modifiers and r.modifiers[0] in units:
        expect(r.params.get("K"), {units[r.modifiers[0]]}, f"the half-effect level of {r.modifiers[0]!r}")
        expect(r.params.get("n"), DIMENSIONLESS, "a Hill coefficient")
    for g in r.regulators:
        if g.species in units and "K" in g.params:
            expect(g.params["K"], {units[g.species]}, f"the half-effect level of {g.species!r}")
        if "n" in g.params:
            expect(g.params["n"], DIMENSIONLESS, "a Hill coefficient")
        if "basal" in g.params:
            expect(g.params["basal"], DIMENSIONLESS, "a basal fraction")
    return out


def _template_shape(r: Reaction) -> list[str]:
    """Structural rules of each template (how many reactants, products, modifiers)."""
    where = f"reaction {r.id!r}"
    law = r.rate_law
    out: list[str] = []
    if law is RateLaw.BINDING and (len(r.reactants) != 2 or len(r.products) != 1):
        out.append(f"{where}: binding needs two reactants (ligand, receptor) and one product (complex)")
    if law in (RateLaw.MICHAELIS_MENTEN, RateLaw.LOGISTIC) and len(r.reactants) + len(r.modifiers) != 1:
        out.append(f"{where}: {law.value} needs exactly one reactant or one modifier (the substrate)")
    if law is RateLaw.FIRST_ORDER and len(r.reactants) + len(r.modifiers) != 1:
        out.append(f"{where}: first_order needs exactly one reactant (clearance) or one modifier (driven production)")
    if law in (RateLaw.HILL_ACTIVATION, RateLaw.HILL_INHIBITION) and len(r.modifiers) != 1:
        out.append(f"{where}: {law.value} needs exactly one modifier (the regulating species)")
    if law is RateLaw.DELAY_CHAIN:
        if len(r.reactants) != 1 or len(r.products) != 1 or r.stages < 1:
            out.append(f"{where}: delay_chain needs one reactant, one product and stages >= 1")
    if law is not RateLaw.REGULATED and r.regulators:
        out.append(f"{where}: only the 'regulated' rate law takes regulators")
    if law is not RateLaw.DELAY_CHAIN and r.stages:
        out.append(f"{where}: only delay_chain takes 'stages'")
    return out


def _pydantic_message(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        lines.append(f"{source}: {loc or 'model'}: {e['msg']}")
    return "\n".join(lines)


def spec_from_dict(data: Any, source: str = "<spec>") -> ModelSpec:
    """Validate a mapping into a ``ModelSpec``; every problem is reported in one ``ModelSpecError``."""
    if not isinstance(data, dict):
        raise ModelSpecError(f"{source}: a model spec must be a mapping, got {type(data).__name__}")
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as err:
        raise ModelSpecError(_pydantic_message(err, source)) from None


def load_spec(path: str | Path) -> ModelSpec:
    """Read a model spec from YAML or JSON (a user file: the limits of :func:`cytonet.io.load_user_data`)."""
    from cytonet.io import load_user_data

    p = Path(path)
    try:
        data = load_user_data(p, "model spec")
    except InputError as err:
        raise ModelSpecError(str(err)) from None
    return spec_from_dict(data, str(p))


def dump_spec(spec: ModelSpec, path: str | Path) -> None:
    """Write a spec as YAML (or JSON by suffix), atomically."""
    from cytonet.io import atomic_write_text

    p = Path(path)
    data = spec.model_dump(mode="json", exclude_none=True)
    text = json.dumps(data, indent=1) if p.suffix == ".json" else yaml.safe_dump(data, sort_keys=False)
    atomic_write_text(p, text)
