"""Drug exposure after a regimen on cytonet's own PK path: Cmax, trough, AUC, apparent clearance, half-life.

The regimen is added to the healthy host with :func:`cytonet.therapy.treat` (the code ``cytonet treat``
runs) and simulated from the host's steady state; readouts are taken over the interval after the last
dose, as published exposure is reported (steady state = the last of many doses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cytonet.errors import TherapyError
from cytonet.therapy.regimen import Regimen

#: Readouts and the one unit each is reported in.
READOUT_UNITS = {"cmax": "ug/mL", "cmin": "ug/mL", "auc_tau": "ug*h/mL", "tmax": "h", "t_half": "h",
                 "cl_apparent": "mL/min", "cl_per_kg": "mL/h/kg"}


@dataclass(frozen=True)
class Exposure:
    """Plasma concentration (ug/mL) of one drug from the last dose to the end of its interval."""

    drug: str
    regimen: Regimen
    time: np.ndarray  # h after the last dose
    conc: np.ndarray

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


def simulate_exposure(drug: str, regimen: Regimen, tail_h: float | None = None, points_per_h: float = 4.0) -> Exposure:
    """``drug`` given by ``regimen`` to the healthy host; concentrations over the interval after the last dose.

    The interval is the regimen's dosing interval, or ``tail_h`` hours after a single dose.
    """
    from cytonet.engine.simulate import simulate
    from cytonet.scenarios import scenario_model
    from cytonet.therapy.pkpd import treat
    from cytonet.therapy.records import get_drug

    times = regimen.times
    span = (times[1] - times[0]) if len(times) > 1 else tail_h
    if span is None or not span > 0:
        raise TherapyError("a single dose needs tail_h, the hours after it to read exposure over")
    spec, rest = scenario_model("healthy")
    t_end = times[-1] + span
    grid = np.union1d(np.linspace(0.0, t_end, int(t_end * points_per_h) + 1), [times[-1], t_end])
    ds = simulate(treat(spec, drug, regimen), t_end, t_eval=grid, rtol=1e-7, atol=1e-10, initial=rest)
    t = ds.time.values
    did = get_drug(drug).id
    c = ds.state.sel(species=f"{did}_central").values
    keep = t >= times[-1]
    return Exposure(did, regimen, t[keep] - times[-1], c[keep])


@lru_cache(maxsize=64)
def _cached(drug: str, route: str, dose: str, every_h: float | None, doses: int, tail_h: float | None) -> Exposure:
    return simulate_exposure(drug, Regimen(dose, route=route, every=every_h, doses=doses), tail_h)


def predict_row(row: Mapping[str, str]) -> float:
    """The simulated value of one row of an exposure table (``data/drug_pk/exposure.tsv`` columns)."""
    readout, unit = row["readout"], row["unit"]
    if READOUT_UNITS.get(readout) != unit:
        raise TherapyError(f"row {row.get('id')!r}: readout {readout!r} is reported in {READOUT_UNITS.get(readout)!r}, not {unit!r}")
    every = float(row["every_h"]) if row["every_h"] else None
    tail = float(row["tail_h"]) if row["tail_h"] else None
    e = _cached(row["drug"], row["route"], row["dose"], every, int(row["doses"]), tail)
    window = (float(row["window_start_h"]), float(row["window_end_h"])) if row["window_start_h"] else None
    return e.readout(readout, window)
