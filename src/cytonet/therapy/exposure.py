"""Drug exposure after a regimen on cytonet's own PK path: Cmax, trough, AUC, apparent clearance, half-life.

The regimen is added to the healthy host with :func:`cytonet.therapy.treat` (the code ``cytonet treat``
runs) and simulated from the host's steady state; readouts are taken over the interval after the last
dose, as published exposure is reported (steady state = the last of many doses). Any model species can
be read the same way (e.g. the drug-target complex, a pharmacodynamic readout).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from cytonet.errors import TherapyError
from cytonet.therapy.regimen import Regimen

if TYPE_CHECKING:
    import xarray as xr

#: Readouts and the one unit each is reported in.
READOUT_UNITS = {"cmax": "ug/mL", "cmin": "ug/mL", "auc_tau": "ug*h/mL", "tmax": "h", "t_half": "h",
                 "cl_apparent": "mL/min", "cl_per_kg": "mL/h/kg"}


@dataclass(frozen=True)
class Exposure:
    """One species (default: the drug in plasma, ug/mL) from the last dose to the end of its interval."""

    drug: str
    regimen: Regimen
    time: np.ndarray  # h after the last dose
    conc: np.ndarray
    species: str = ""
    unit: str = "ug/mL"

    def unit_of(self, name: str) -> str:
        """The unit of a readout of this species (drug readouts: :data:`READOUT_UNITS`; others: levels only)."""
        if self.unit == "ug/mL" or name == "tmax":
            return READOUT_UNITS.get(name, "?")
        return self.unit if name in ("cmax", "cmin") else "?"

    def readout(self, name: str, window_h: tuple[float, float] | None = None) -> float:
        """One readout of :data:`READOUT_UNITS`; ``t_half`` needs ``window_h`` (h after the last dose)."""
        t, c = self.time, self.conc
        if name == "cmax":
            return float(c.max())
        if name == "tmax":
            return float(t[np.argmax(c)])
        if name == "cmin":
            return float(c[-1])
        if name == "auc_tau":
            return float(np.trapezoid(c, t))
        if name in ("cl_apparent", "cl_per_kg"):  # dose / AUC(0, end): end of a single-dose run far in the tail
            if len(self.regimen.times) != 1:
                raise TherapyError("apparent clearance is read after a single dose")
            cl_l_h = self.regimen.mg / float(np.trapezoid(c, t))  # mg / (mg h / L)
            return cl_l_h * 1000 / 60 if name == "cl_apparent" else cl_l_h * 1000 / self.regimen.weight_kg
        if name == "t_half":
            if window_h is None:
                raise TherapyError("a terminal half-life needs the time window of its log-linear fit")
            m = (t >= window_h[0]) & (t <= window_h[1])
            if m.sum() < 3 or not np.all(c[m] > 0):
                raise TherapyError(f"{self.drug}: no positive concentrations in {window_h} h to fit a half-life")
            slope = np.polyfit(t[m], np.log(c[m]), 1)[0]
            return float(np.log(2) / -slope)
        raise TherapyError(f"unknown exposure readout {name!r}; known: {', '.join(READOUT_UNITS)}")


def read_span(regimen: Regimen, tail_h: float | None) -> float | None:
    """Hours read after the last dose: the dosing interval of repeated doses, else ``tail_h``."""
    times = regimen.times
    return float(times[1] - times[0]) if len(times) > 1 else tail_h


def _simulate(drug: str, regimen: Regimen, tail_h: float | None, points_per_h: float) -> xr.Dataset:
    from cytonet.engine.simulate import simulate
    from cytonet.scenarios import scenario_model
    from cytonet.therapy.pkpd import treat

    times = regimen.times
    span = read_span(regimen, tail_h)
    if span is None or not span > 0:
        raise TherapyError("a single dose needs tail_h, the hours after it to read exposure over")
    spec, rest = scenario_model("healthy")
    t_end = times[-1] + span
    grid = np.union1d(np.linspace(0.0, t_end, int(t_end * points_per_h) + 1), [times[-1], t_end])
    return simulate(treat(spec, drug, regimen), t_end, t_eval=grid, rtol=1e-7, atol=1e-10, initial=rest)


def _exposure(ds: xr.Dataset, drug: str, regimen: Regimen, species: str | None) -> Exposure:
    from cytonet.therapy.records import get_drug

    did = get_drug(drug).id
    sid = species or f"{did}_central"
    if sid not in ds.species.values:
        raise TherapyError(f"the treated model has no species {sid!r}")
    t = ds.time.values
    keep = t >= regimen.times[-1]
    conc = ds.state.sel(species=sid).values[keep]
    if not np.all(np.isfinite(conc)):
        raise TherapyError(f"{did} {regimen.dose} {regimen.route}: the simulated {sid} is not finite; the run failed")
    unit = str(ds["unit"].sel(species=sid).item())
    return Exposure(did, regimen, t[keep] - regimen.times[-1], conc, sid, unit)


def simulate_exposure(drug: str, regimen: Regimen, tail_h: float | None = None, species: str | None = None,
                      points_per_h: float = 4.0) -> Exposure:
    """``drug`` given by ``regimen`` to the healthy host; ``species`` (default: the drug in plasma) after the last dose.

    The interval read is the regimen's dosing interval, or ``tail_h`` hours after a single dose.
    """
    return _exposure(_simulate(drug, regimen, tail_h, points_per_h), drug, regimen, species)


@lru_cache(maxsize=32)
def _cached(drug: str, route: str, dose: str, every_h: float | None, doses: int, tail_h: float | None
            ) -> tuple[Regimen, xr.Dataset]:
    regimen = Regimen(dose, route=route, every=every_h, doses=doses)
    return regimen, _simulate(drug, regimen, tail_h, 4.0)


def predict_row(row: Mapping[str, str]) -> float:
    """The simulated value of one row of an exposure table (``data/drug_pk/exposure.tsv`` columns).

    ``species`` (optional column) reads a model species instead of the drug, in the species' own unit.
    """
    every = float(row["every_h"]) if row["every_h"] else None
    tail = float(row["tail_h"]) if row["tail_h"] else None
    regimen, ds = _cached(row["drug"], row["route"], row["dose"], every, int(row["doses"]), tail)
    e = _exposure(ds, row["drug"], regimen, row.get("species") or None)
    if e.unit_of(row["readout"]) != row["unit"]:
        raise TherapyError(f"row {row.get('id')!r}: {row['readout']} of {e.species} is in {e.unit_of(row['readout'])!r}, "
                           f"not {row['unit']!r}")
    window = (float(row["window_start_h"]), float(row["window_end_h"])) if row["window_start_h"] else None
    return e.readout(row["readout"], window)
