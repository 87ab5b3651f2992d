"""A scenario run untreated and with a drug regimen, on the same time grid from the same resting state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xarray as xr

    from cytonet.model.spec import ModelSpec
    from cytonet.scenarios import Scenario
    from cytonet.therapy.regimen import Regimen

#: output samples per simulated hour
POINTS_PER_HOUR = 2


@dataclass(frozen=True)
class Treated:
    """The two runs of one comparison and the treated model (it holds the drug's species and observables)."""

    untreated: xr.Dataset
    treated: xr.Dataset
    spec: ModelSpec
    drug: str


def run_with_and_without(scenario: Scenario, drug: str, regimen: Regimen, hours: float | None = None) -> Treated:
    """Simulate ``scenario`` as is and with ``drug`` given by ``regimen`` over ``hours`` (default: the scenario's)."""
    from cytonet.engine.simulate import simulate
    from cytonet.scenarios import scenario_model
    from cytonet.therapy.pkpd import treat

    spec, rest = scenario_model(scenario)
    t_end = float(hours or scenario.t_end)
    n = int(t_end * POINTS_PER_HOUR) + 1
    treated_spec = treat(spec, drug, regimen)
    base = simulate(spec, t_end, n_points=n, initial=rest)
    treated = simulate(treated_spec, t_end, n_points=n, initial=rest)
    for ds in (base, treated):
        ds.attrs.update(scenario=scenario.id, scenario_name=scenario.name)
    treated.attrs["drug"] = drug
    return Treated(base, treated, treated_spec, drug)
