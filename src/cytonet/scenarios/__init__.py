"""Scenarios: which network, which trigger, which host. Data files in ``scenarios/data/*.yaml``.

A scenario names parameter overrides of the reference network (the host), trigger events (a
pathogen inoculum, an LPS bolus, a CAR-T infusion...), the simulated horizon and the readouts worth
showing. :mod:`cytonet.scenarios.lps` turns LPS protocols in ng/kg (boluses, infusions) into events. :func:`scenario_model` turns it into a ready-to-run ``ModelSpec`` whose initial state is the
host's own healthy steady state, so every run starts at rest and only the trigger moves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

import yaml
from pydantic import Field, ValidationError

from cytonet.errors import ScenarioError, UnknownEntityError, close_matches, validation_message
from cytonet.model.spec import Event, ModelSpec
from cytonet.provenance import Sourced
from cytonet.scenarios.lps import LpsProtocol, lps_protocol, parse_lps, with_lps

__all__ = ["LpsProtocol", "Scenario", "host_model", "list_scenarios", "load_scenario", "lps_protocol", "parse_lps",
           "scenario_model", "simulate_scenario", "with_lps"]


class Scenario(Sourced):
    """One scenario record (validated from YAML)."""

    id: str
    name: str
    description: str = Field(description="one line")
    t_end: float = Field(gt=0, description="simulated horizon, h")
    parameters: dict[str, float] = Field(default_factory=dict, description="overrides of network parameters (the host)")
    events: list[Event] = Field(default_factory=list)
    readouts: list[str] = Field(default_factory=list)

    def _label(self) -> str:
        return f"scenario {self.id!r}"


def _read(name: str, text: str) -> Scenario:
    try:
        return Scenario.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as err:
        raise ScenarioError(f"scenarios/data/{name}: {err}") from None


@lru_cache(maxsize=1)
def _all() -> dict[str, Scenario]:
    found: dict[str, Scenario] = {}
    for entry in sorted(resources.files("cytonet.scenarios").joinpath("data").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            sc = _read(entry.name, entry.read_text())
            found[sc.id] = sc
    return found


def list_scenarios() -> list[Scenario]:
    """Every shipped scenario, by id."""
    return list(_all().values())


def load_scenario(name: str) -> Scenario:
    """A shipped scenario by id (``UnknownEntityError`` with suggestions otherwise)."""
    table = _all()
    if name not in table:
        raise UnknownEntityError("scenario", name, close_matches(name, table, cutoff=0.4))
    return table[name]


def host_model(scenario: Scenario, parameters: Mapping[str, float] | None = None, base: ModelSpec | None = None) -> ModelSpec:
    """The reference network with the scenario's and the caller's parameter overrides, without triggers."""
    from cytonet.model.build import reference_network

    spec = base or reference_network()
    return spec.with_parameters({**scenario.parameters, **dict(parameters or {})})


def scenario_model(
    scenario: Scenario | str, parameters: Mapping[str, float] | None = None, base: ModelSpec | None = None
) -> tuple[ModelSpec, dict[str, float]]:
    """A runnable spec (host + trigger events, initial state = the host's steady state) and that full state.

    The returned state covers every compiled species (delay-chain transit states included); pass it
    as ``initial=`` to :func:`cytonet.simulate` to start exactly at rest.
    """
    from cytonet.analysis.steady import steady_state

    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    host = host_model(sc, parameters, base)
    # amounts cannot be negative: a steady solve may leave -1e-32 where the true value is 0
    rest = {k: max(v, 0.0) for k, v in steady_state(host).as_dict().items()}
    species = [s.model_copy(update={"initial": rest[s.id]}) for s in host.species]
    try:
        spec = ModelSpec.model_validate(
            {**host.model_dump(), "id": sc.id.replace("-", "_"), "species": [s.model_dump() for s in species],
             "events": [e.model_dump() for e in sc.events]}
        )
    except ValidationError as err:
        raise ScenarioError(validation_message(err, f"scenario {sc.id!r} does not fit the network")) from None
    return spec, rest


def _catalog() -> dict[str, ModelSpec]:
    """Scenario models for the shipped-model catalog (e.g. the libroadrunner cross-check)."""
    return {f"scenario:{sc.id}": scenario_model(sc)[0] for sc in list_scenarios()}


def simulate_scenario(
    scenario: Scenario | str,
    *,
    hours: float | None = None,
    parameters: Mapping[str, float] | None = None,
    points_per_hour: float = 4.0,
    base: ModelSpec | None = None,
    model: tuple[ModelSpec, dict[str, float]] | None = None,
    **solver: float,
):  # noqa: ANN201 - xarray.Dataset, imported lazily
    """Run a scenario from the host's steady state; the Dataset's attrs name the scenario.

    ``model`` is the (spec, rest state) pair of :func:`scenario_model` for these parameters when the
    caller already has it (the steady state is then not solved again).
    """
    from cytonet.engine.simulate import simulate

    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    t_end = float(hours if hours is not None else sc.t_end)
    if not t_end > 0:
        raise ScenarioError(f"hours must be positive, got {hours!r}")
    spec, rest = model or scenario_model(sc, parameters, base)
    ds = simulate(spec, t_end, n_points=int(round(t_end * points_per_hour)) + 1, initial=rest, **solver)
    ds.attrs.update(scenario=sc.id, scenario_name=sc.name, overrides=repr(dict(parameters or {})))
    return ds
