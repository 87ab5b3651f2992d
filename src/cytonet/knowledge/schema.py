"""Typed records of the knowledge base: one pydantic model per kind of fact.

Every record carries provenance: ``refs`` (``doi:…`` or ``pmid:…`` keys of the references
table) or an explicit ``assumption`` saying why the statement is made without one.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cytonet.provenance import REF_PATTERN, Sourced

HGNC_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9\-]*$")
CELL_ID_PATTERN = re.compile(r"^(CL:\d{7}|cytonet:[a-z0-9_]+)$")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9\-]*$")
RECEPTOR_ID_PATTERN = re.compile(r"^[A-Za-z0-9\-]+(/[A-Za-z0-9\-]+)*$")


class Family(StrEnum):
    INTERLEUKIN = "interleukin"
    CHEMOKINE = "chemokine"
    INTERFERON = "interferon"
    TNF = "tnf"
    TGF_BETA = "tgf-beta"
    CSF = "csf"
    ADIPOKINE = "adipokine"
    ALARMIN = "alarmin"
    GROWTH_FACTOR = "growth-factor"


class Role(StrEnum):
    PRO = "pro-inflammatory"
    ANTI = "anti-inflammatory"
    CONTEXT = "context-dependent"


class ReceptorClass(StrEnum):
    TYPE_I_CYTOKINE = "type-i-cytokine"
    TYPE_II_CYTOKINE = "type-ii-cytokine"
    IL1R_TIR = "il-1r-tir"
    TNFR = "tnfr"
    IL17R = "il-17r"
    CHEMOKINE_GPCR = "chemokine-gpcr"
    TGFBR_SER_THR = "tgf-beta-ser-thr-kinase"
    RTK = "receptor-tyrosine-kinase"
    PATTERN_RECOGNITION = "pattern-recognition"
    NUCLEAR = "nuclear-receptor"
    OTHER = "other"


class PathwayKind(StrEnum):
    JAK_STAT = "jak-stat"
    NFKB = "nf-kb"
    MAPK = "mapk"
    SMAD = "smad"
    PI3K_AKT = "pi3k-akt"
    GPCR = "gpcr"
    INFLAMMASOME = "inflammasome"
    IRF = "irf"
    OTHER = "other"


class CellCategory(StrEnum):
    MYELOID = "myeloid"
    GRANULOCYTE = "granulocyte"
    LYMPHOID = "lymphoid"
    STROMAL = "stromal"
    PARENCHYMAL = "parenchymal"
    ENGINEERED = "engineered"


class DiseaseCategory(StrEnum):
    CYTOKINE_STORM = "cytokine-storm"
    AUTOIMMUNE = "autoimmune"
    AUTOINFLAMMATORY = "autoinflammatory"
    ALLERGIC = "allergic"
    OTHER = "other"


class Mechanism(StrEnum):
    LIGAND_NEUTRALISATION = "ligand-neutralisation"
    RECEPTOR_BLOCKADE = "receptor-blockade"
    RECEPTOR_ANTAGONIST = "receptor-antagonist"
    DECOY_RECEPTOR = "decoy-receptor"
    KINASE_INHIBITION = "kinase-inhibition"
    TRANSCRIPTIONAL_SUPPRESSION = "transcriptional-suppression"
    CELL_DEPLETION = "cell-depletion"


class DrugClass(StrEnum):
    MONOCLONAL_ANTIBODY = "monoclonal-antibody"
    FUSION_PROTEIN = "fusion-protein"
    RECOMBINANT_PROTEIN = "recombinant-protein"
    SMALL_MOLECULE = "small-molecule"
    CORTICOSTEROID = "corticosteroid"


class Record(Sourced):
    """Common base of knowledge records: forbids unknown fields, demands provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Reference(BaseModel):
    """One literature reference; ``id`` is ``doi:…`` or ``pmid:…``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    authors: str = Field(description="first author et al., e.g. 'Fajgenbaum DC, June CH'")
    year: int = Field(ge=1900, le=2100)
    title: str
    journal: str
    pmid: str | None = None
    doi: str | None = None

    @field_validator("id")
    @classmethod
    def _id_well_formed(cls, v: str) -> str:
        if not REF_PATTERN.match(v):
            raise ValueError(f"reference id {v!r} must look like 'doi:10.xxxx/…' or 'pmid:12345678'")
        return v


class SerumRange(BaseModel):
    """Healthy adult serum/plasma concentration range."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: float = Field(ge=0)
    high: float = Field(gt=0)
    unit: str = "pg/mL"
    refs: list[str] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SerumRange:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) exceeds high ({self.high})")
        return self


class Cytokine(Record):
    id: str = Field(description="HGNC symbol, e.g. IL6")
    name: str = Field(description="display name, e.g. IL-6")
    full_name: str
    aliases: list[str] = Field(default_factory=list)
    family: Family
    subfamily: str | None = None
    role: Role
    role_reason: str
    receptors: list[str] = Field(default_factory=list, description="receptor IDs")
    pathways: list[str] = Field(default_factory=list, description="pathway IDs")
    effects: list[str] = Field(default_factory=list, description="main effects on target cells")
    serum_range: SerumRange | None = None
    diseases: list[str] = Field(default_factory=list, description="disease IDs")

    @field_validator("id")
    @classmethod
    def _hgnc(cls, v: str) -> str:
        if not HGNC_PATTERN.match(v):
            raise ValueError(f"cytokine id {v!r} is not an HGNC-style symbol (upper case, e.g. IL6)")
        return v


class Receptor(Record):
    id: str = Field(description="subunit symbols joined by '/', e.g. IL6R/IL6ST")
    name: str
    aliases: list[str] = Field(default_factory=list)
    subunits: list[str] = Field(min_length=1, description="HGNC symbols of the chains")
    receptor_class: ReceptorClass
    soluble_subunits: list[str] = Field(default_factory=list, description="chains acting in soluble form (trans-signalling)")
    jaks: list[str] = Field(default_factory=list)
    stats: list[str] = Field(default_factory=list)
    adaptors: list[str] = Field(default_factory=list, description="e.g. MYD88, TRAF6, TRADD, ACT1")
    pathways: list[str] = Field(default_factory=list)
    expressed_on: list[str] = Field(default_factory=list, description="cell IDs")
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not RECEPTOR_ID_PATTERN.match(v):
            raise ValueError(f"receptor id {v!r} must be chain symbols joined by '/'")
        return v


class Pathway(Record):
    id: str = Field(description="e.g. JAK1-STAT3, NFKB-canonical")
    name: str
    aliases: list[str] = Field(default_factory=list)
    kind: PathwayKind
    components: list[str] = Field(min_length=1, description="HGNC symbols of signalling proteins")
    induces: list[str] = Field(default_factory=list, description="cytokine IDs whose expression it induces")
    induces_other: list[str] = Field(default_factory=list, description="other induced genes, e.g. SOCS3, CRP")
    effects: list[str] = Field(default_factory=list)


class Secretion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cytokine: str
    stimulus: str


class CellType(Record):
    id: str = Field(description="Cell Ontology ID (CL:0000235) or cytonet:<name> when CL has none")
    name: str
    aliases: list[str] = Field(default_factory=list)
    category: CellCategory
    secretes: list[Secretion] = Field(default_factory=list)
    functions: list[str] = Field(default_factory=list)
    blood_range: str | None = Field(default=None, description="healthy blood count, if circulating")

    @field_validator("id")
    @classmethod
    def _cl(cls, v: str) -> str:
        if not CELL_ID_PATTERN.match(v):
            raise ValueError(f"cell id {v!r} must be a Cell Ontology ID like CL:0000235 or cytonet:<name>")
        return v

    @model_validator(mode="after")
    def _local_id_explained(self) -> CellType:
        if self.id.startswith("cytonet:") and not self.assumption:
            raise ValueError("a cell without a Cell Ontology ID needs an 'assumption' saying why")
        return self


class Disease(Record):
    id: str = Field(description="slug, e.g. sepsis, car-t-crs")
    name: str
    aliases: list[str] = Field(default_factory=list)
    category: DiseaseCategory
    triggers: list[str] = Field(default_factory=list)
    signature: list[str] = Field(default_factory=list, description="cytokine IDs characteristically elevated")
    axes: list[str] = Field(default_factory=list, description="cytokine axes, e.g. 'IL-23/IL-17'")
    features: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_PATTERN.match(v):
            raise ValueError(f"disease id {v!r} must be a lower-case slug")
        return v


class Drug(Record):
    id: str = Field(description="INN in lower case, e.g. tocilizumab")
    name: str
    aliases: list[str] = Field(default_factory=list, description="brand names, codes")
    drug_class: DrugClass
    targets: list[str] = Field(min_length=1, description="HGNC symbols of the molecules it binds or inhibits")
    mechanism: Mechanism
    mechanism_text: str
    routes: list[str] = Field(default_factory=list, description="iv, sc, oral")
    indications: list[str] = Field(default_factory=list, description="labelled indications, free text")
    diseases: list[str] = Field(default_factory=list, description="disease IDs it treats")

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_PATTERN.match(v):
            raise ValueError(f"drug id {v!r} must be a lower-case INN")
        return v
