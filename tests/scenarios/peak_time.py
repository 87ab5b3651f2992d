"""The time of a peak read on a one-second grid, so that a timing test does not depend on its grid's spacing."""

from __future__ import annotations

import numpy as np

from cytonet.scenarios import Scenario, simulate_scenario

#: output points per hour of the runs whose peak time is read (one per second)
FINE = 3600.0


def peak_time(scenario: Scenario | str, name: str, hours: float = 4.0) -> float:
    """Hours from the start to the maximum of species or observable ``name`` within ``hours``."""
    ds = simulate_scenario(scenario, hours=hours, points_per_hour=FINE)
    x = ds[name].values if name in ds else ds["state"].sel(species=name).values
    k = int(np.argmax(x))
    if k == x.size - 1:
        raise AssertionError(f"{name} still rises at {hours} h: no peak inside the run")
    return float(ds.time.values[k])
