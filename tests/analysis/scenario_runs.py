"""Scenario runs shared by the analysis tests (each scenario simulated once per process)."""

from functools import lru_cache

import numpy as np
import xarray as xr

from cytonet.scenarios import simulate_scenario


@lru_cache(maxsize=None)
def run(name: str) -> xr.Dataset:
    return simulate_scenario(name)


def synthetic(t: np.ndarray, temp: np.ndarray, map_mmhg: np.ndarray, spo2: np.ndarray) -> xr.Dataset:
    """A minimal run: TEMP as a species, MAP and SPO2 as observables."""
    return xr.Dataset(
        {"state": (("time", "species"), np.asarray(temp, float)[:, None]),
         "MAP": ("time", np.asarray(map_mmhg, float)), "SPO2": ("time", np.asarray(spo2, float))},
        coords={"time": np.asarray(t, float), "species": ["TEMP"]},
    )
