"""The PK/PD records of ``therapy/data/pk.yaml``: validated, unit-checked, looked up by name."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cytonet.errors import TherapyError, UnknownEntityError, close_matches
from cytonet.model.spec import normalise_unit
from cytonet.provenance import Sourced

Route = Literal["iv", "sc", "oral"]

#: The one unit each named PK/PD parameter must carry.
UNITS: dict[str, str] = {
    "V1": "L", "V2": "L", "CL": "L/h", "Q": "L/h", "ka": "1/h", "kint": "1/h",
    "F_sc": "1", "F_oral": "1", "fu": "1", "Vmax": "mg/h", "Km": "ug/mL",
    "Kd": "nM", "kon": "1/M/s", "IC50": "nM",
}


class Mechanism(StrEnum):
    """How a drug enters the model (see :mod:`cytonet.therapy.effects`)."""

    RECEPTOR_TMDD = "receptor-tmdd"  # binds a membrane receptor species (internalised) and its soluble form
    LIGAND_BINDING = "ligand-binding"  # binds soluble ligand species (antibody or decoy receptor)
    RECEPTOR_ANTAGONIST = "receptor-antagonist"  # quasi-equilibrium block of every reaction a ligand drives
    KINASE_INHIBITION = "kinase-inhibition"  # inhibits reactions tagged with pathways holding its kinases
    TRANSCRIPTIONAL_SUPPRESSION = "transcriptional-suppression"  # inhibits tagged secretion reactions
    GLUCOCORTICOID = "glucocorticoid"  # occupies the model's glucocorticoid receptor (GR), competing with cortisol


#: Parameters each mechanism needs besides V1 and CL.
NEEDS: dict[Mechanism, tuple[str, ...]] = {
    Mechanism.RECEPTOR_TMDD: ("Vmax", "Km", "kint", "Kd", "kon"),
    Mechanism.LIGAND_BINDING: ("Kd", "kon"),
    Mechanism.RECEPTOR_ANTAGONIST: ("IC50",),
    Mechanism.KINASE_INHIBITION: ("IC50",),
    Mechanism.TRANSCRIPTIONAL_SUPPRESSION: ("IC50",),
    Mechanism.GLUCOCORTICOID: ("IC50",),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Quantity(Sourced):
    value: float = Field(gt=0)
    unit: str
    note: str = ""


class DoseRange(_Strict):
    low: float = Field(gt=0)
    high: float = Field(gt=0)
    unit: Literal["mg", "mg/kg"]


class RouteInfo(_Strict):
    infusion_h: float = Field(default=0.0, ge=0, description="iv infusion length; 0 = bolus")


class LabelRegimen(Sourced):
    name: str
    route: Route
    dose: str
    every_h: float | None = Field(default=None, gt=0)
    doses: int = Field(default=1, ge=1)
    note: str = ""


class DrugPK(_Strict):
    """One drug: molecular weight, mechanism and targets, PK parameters, routes, labelled regimens."""

    id: str
    mechanism: Mechanism
    mw_kda: Quantity
    membrane_target: str | None = None
    soluble_targets: list[str] = Field(default_factory=list)
    blocks: list[str] = Field(default_factory=list, description="ligand species whose signalling is blocked (for receptor-tmdd: gated by free receptor)")
    kinases: list[str] = Field(default_factory=list, description="HGNC symbols of inhibited kinases")
    suppresses: list[str] = Field(default_factory=list, description="reaction tags whose secretion is suppressed")
    params: dict[str, Quantity]
    routes: dict[Route, RouteInfo] = Field(min_length=1)
    labelled_range: dict[Route, DoseRange]
    regimens: list[LabelRegimen] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> DrugPK:
        problems = []
        for key, q in self.params.items():
            if key not in UNITS:
                problems.append(f"unknown parameter {key!r} (known: {', '.join(UNITS)})")
            elif normalise_unit(q.unit) != UNITS[key]:
                problems.append(f"parameter {key!r} has unit {q.unit!r}; expected {UNITS[key]!r}")
        need = ["V1", "CL", *NEEDS[self.mechanism]]
        if "sc" in self.routes or "oral" in self.routes:
            need.append("ka")
        need += [f"F_{r}" for r in ("sc", "oral") if r in self.routes]
        if ("V2" in self.params) != ("Q" in self.params):
            problems.append("a peripheral compartment needs both V2 and Q")
        problems += [f"missing parameter {k!r}" for k in need if k not in self.params]
        problems += [f"no labelled dose range for route {r!r}" for r in self.routes if r not in self.labelled_range]
        problems += [f"regimen {g.name!r} uses route {g.route!r} that the drug lacks" for g in self.regimens if g.route not in self.routes]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def value(self, key: str) -> float:
        return self.params[key].value

    @property
    def two_compartment(self) -> bool:
        return "V2" in self.params


class PKData(_Strict):
    targets: dict[str, Quantity]
    drugs: dict[str, DrugPK]


@lru_cache(maxsize=1)
def pk_data() -> PKData:
    """The shipped records (validated once; a broken file raises ``TherapyError`` naming the problem)."""
    text = resources.files("cytonet.therapy").joinpath("data", "pk.yaml").read_text()
    raw = yaml.safe_load(text)
    try:
        for did, rec in raw.get("drugs", {}).items():
            rec.setdefault("id", did)
        return PKData.model_validate(raw)
    except (ValidationError, AttributeError) as err:
        raise TherapyError(f"therapy/data/pk.yaml: {err}") from None


def drug_ids() -> list[str]:
    return list(pk_data().drugs)


def get_drug(name: str) -> DrugPK:
    """A drug by INN or brand name (via the knowledge base aliases); unknown names get suggestions."""
    table = pk_data().drugs
    key = name.strip().lower()
    if key in table:
        return table[key]
    from cytonet import kb

    try:
        rec = kb.drug(name)
    except UnknownEntityError:
        rec = None
    if rec is not None and rec.id in table:
        return table[rec.id]
    hint = close_matches(key, table, cutoff=0.5)
    err = UnknownEntityError("drug", name, hint)
    if rec is not None:
        raise TherapyError(f"{rec.id} is in the knowledge base but has no PK/PD model; modelled drugs: {', '.join(table)}")
    raise TherapyError(str(err)) from None


def target_mw_kda(species: str) -> Quantity:
    """Molecular weight of a soluble target species."""
    try:
        return pk_data().targets[species]
    except KeyError:
        raise TherapyError(f"no molecular weight recorded for target {species!r} in therapy/data/pk.yaml") from None
