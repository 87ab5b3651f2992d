"""Request and response bodies of the JSON API (pydantic; their bounds are the published limits)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, StringConstraints

from cytonet.web.limits import DEFAULT_LIMITS as L

Name = Annotated[str, StringConstraints(min_length=1, max_length=80)]
ParamId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Hours = Annotated[float, Field(gt=0, le=L.max_hours, description="simulated horizon, h")]
Points = Annotated[int, Field(ge=2, le=L.max_points, description="output time points")]
Dose = Annotated[str, StringConstraints(min_length=1, max_length=32), Field(examples=["8 mg/kg", "162 mg"])]


def _named_numbers(schema: dict[str, Any]) -> None:
    """JSON schema of ``dict[ParamId, float]``: names constrained by ``propertyNames``, every value a number."""
    pattern, value = next(iter(schema.pop("patternProperties").items()))
    schema["propertyNames"] = {**schema.get("propertyNames", {}), "pattern": pattern}
    schema["additionalProperties"] = value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LpsBolusIn(_Body):
    dose_ng_per_kg: float = Field(gt=0, le=1000, description="i.v. endotoxin dose, ng/kg (human challenges: 0.5-4)")
    time_h: float = Field(0.0, ge=0, le=L.max_hours)


class LpsInfusionIn(_Body):
    rate_ng_per_kg_h: float = Field(gt=0, le=1000, description="ng/kg/h")
    start_h: float = Field(0.0, ge=0, le=L.max_hours)
    duration_h: float = Field(gt=0, le=L.max_hours)


class LpsIn(_Body):
    """An LPS protocol; it replaces the scenario's own LPS events (``cytonet.scenarios.with_lps``)."""

    boluses: list[LpsBolusIn] = Field(default_factory=list, max_length=L.max_protocol_events)
    infusions: list[LpsInfusionIn] = Field(default_factory=list, max_length=L.max_protocol_events)
    weight_kg: float = Field(70.0, ge=1, le=400, description="body weight converting ng/kg to plasma pg/mL")

    def protocol(self) -> Any:
        """The ``cytonet.scenarios.LpsProtocol`` this describes."""
        from cytonet.scenarios import lps_protocol

        return lps_protocol([(b.dose_ng_per_kg, b.time_h) for b in self.boluses],
                            [(f.rate_ng_per_kg_h, f.start_h, f.duration_h) for f in self.infusions], weight_kg=self.weight_kg)


class SimulateRequest(_Body):
    scenario: Name = Field(examples=["lps-endotoxemia"])
    hours: Hours | None = Field(None, description="default: the scenario's horizon")
    parameters: dict[ParamId, FiniteFloat] = Field(default_factory=dict, max_length=L.max_overrides,
                                                    description="overrides of network parameters (see GET /api/scenarios/{id})",
                                                    json_schema_extra=_named_numbers)
    points: Points | None = Field(None, description="default: 4 per hour, at most the limit")
    lps: LpsIn | None = Field(None, description="LPS boluses and infusions replacing the scenario's own")


class TreatRequest(_Body):
    scenario: Name = Field(examples=["car-t-crs"])
    drug: Name = Field(examples=["tocilizumab"])
    dose: Dose | None = Field(None, description="per administration, e.g. '8 mg/kg' (default: the labelled dose)")
    route: Literal["iv", "sc", "oral"] | None = Field(None, description="default: the labelled route")
    at_h: float = Field(0.0, ge=0, le=L.max_hours, description="time of the first dose, h")
    every_h: float | None = Field(None, gt=0, le=L.max_hours, description="dosing interval, h")
    doses: int = Field(1, ge=1, le=L.max_doses)
    weight_kg: float = Field(70.0, ge=1, le=400)
    hours: Hours | None = None
    points: Points | None = Field(None, description="default: 2 per hour, at most the limit")
    lps: LpsIn | None = Field(None, description="LPS boluses and infusions replacing the scenario's own")


class PopulationRequest(_Body):
    scenario: Name = Field(examples=["car-t-crs"])
    n: int = Field(ge=1, le=L.max_patients, description="virtual patients")
    drug: Name | None = Field(None, description="also run a treated arm on the same patients")
    dose: Dose | None = None
    at_h: float | None = Field(None, ge=0, le=L.max_hours, description="time of the first dose, h")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    method: Literal["random", "lhs", "sobol"] | None = None
    lps: LpsIn | None = Field(None, description="LPS boluses and infusions replacing the scenario's own")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    simulations_in_flight: int
    jobs_active: int


class Hit(BaseModel):
    kind: str
    id: str
    name: str
    matched: str
    url: str


class SearchResult(BaseModel):
    query: str
    hits: list[Hit]
    suggestions: list[str]


class Entity(BaseModel):
    kind: str
    id: str
    name: str
    record: dict[str, Any]
    references: list[dict[str, Any]]
    related: dict[str, list[dict[str, str]]] = Field(description="linked records by relation, each {kind, id, name}")


class Network(BaseModel):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    filters: dict[str, list[str]]


class TalkResult(BaseModel):
    source: dict[str, str]
    target: dict[str, str]
    routes: list[dict[str, Any]]


class ScenarioInfo(BaseModel):
    id: str
    name: str
    description: str
    t_end: float
    parameters: dict[str, float]
    events: list[dict[str, Any]]
    readouts: list[str]
    refs: list[str]
    assumption: str | None = None


class ScenarioDetail(ScenarioInfo):
    network_parameters: list[dict[str, Any]] = Field(description="every parameter of the host: id, value, unit, description")


class DrugInfo(BaseModel):
    id: str
    name: str
    mechanism: str
    targets: list[str]
    routes: list[str]
    labelled: dict[str, Any]
    labelled_range: dict[str, dict[str, Any]]


class RunResult(BaseModel):
    run_id: str
    scenario: str
    hours: float
    summary: dict[str, Any]
    time: list[float]
    series: dict[str, dict[str, Any]] = Field(description="species and observables: {name: {unit, values}}")
    crs_grade: list[int] = Field(description="ASTCT CRS grade at each time")
    cytokines: list[str] = Field(description="the cytokine panel of the summary")
    downloads: dict[str, str]


class TreatResult(BaseModel):
    scenario: str
    drug: str
    regimen: dict[str, Any]
    changes: list[dict[str, Any]]
    time: list[float]
    untreated: dict[str, Any]
    treated: dict[str, Any]
    concentration: dict[str, Any]
    occupancy: list[dict[str, Any]]
    downloads: dict[str, dict[str, str]] = Field(description="comparison, untreated and treated files")


class JobView(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1)
    request: dict[str, Any]
    error: str | None
    result: dict[str, Any] | None
    created: float
    finished: float | None
    downloads: dict[str, str] = Field(description="patients.parquet and patients.csv once done")


class Accepted(BaseModel):
    job_id: str
    status_url: str


class Problem(BaseModel):
    """Every 4xx/5xx body: what was wrong, and close matches when a name was unknown."""

    error: str
    detail: str
    suggestions: list[str] = Field(default_factory=list)
    retry_after: int | None = None
