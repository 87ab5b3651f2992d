"""Clinical readings of a run: ASTCT CRS grade, the HScore components the model provides, reference ranges.

The network reports core temperature (``TEMP``, °C), ferritin (``FERRITIN``, ng/mL), CRP (mg/L) and
two organ proxies, ``MAP`` (mmHg) and room-air ``SPO2`` (%). The model has no vasopressors or oxygen,
so the ASTCT grade (Lee et al. 2019) is read from the *need* for them, mapped to MAP and SpO2 by the
named thresholds below. Every threshold is a :class:`Threshold` carrying its reason or reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cytonet.errors import ModelSpecError

if TYPE_CHECKING:
    import xarray as xr

ASTCT_2019 = "doi:10.1016/j.bbmt.2018.12.758"
HSCORE_2014 = "doi:10.1002/art.38690"


@dataclass(frozen=True)
class Threshold:
    """A named cut-off with its unit and why it is what it is (references or a stated assumption)."""

    value: float
    unit: str
    reason: str
    refs: tuple[str, ...] = ()


FEVER = Threshold(38.0, "degC", "ASTCT CRS fever definition: temperature >= 38.0 °C", (ASTCT_2019,))
HYPOTENSION = Threshold(
    70.0, "mmHg",
    "assumption: MAP below 70 mmHg counts as hypotension that needs fluids but no vasopressor (ASTCT grade 2)")
ONE_VASOPRESSOR = Threshold(
    65.0, "mmHg",
    "assumption: MAP that stays below the usual 65 mmHg resuscitation target needs one vasopressor (ASTCT grade 3)")
MULTI_VASOPRESSOR = Threshold(
    55.0, "mmHg",
    "assumption: MAP below 55 mmHg needs more than one vasopressor (ASTCT grade 4)")
LOW_FLOW_O2 = Threshold(
    94.0, "%",
    "assumption: room-air SpO2 below 94 % (lower end of the usual 94-98 % target) needs low-flow oxygen (ASTCT grade 2)")
HIGH_FLOW_O2 = Threshold(
    90.0, "%",
    "assumption: room-air SpO2 below 90 % is not corrected by low-flow nasal cannula and needs high-flow oxygen (ASTCT grade 3)")
POSITIVE_PRESSURE = Threshold(
    85.0, "%",
    "assumption: room-air SpO2 below 85 % needs positive-pressure ventilation (CPAP, BiPAP, intubation; ASTCT grade 4)")


def series(ds: xr.Dataset, name: str) -> np.ndarray:
    """A readout species or an observable of a run as a 1-D array over time."""
    if name in ds.data_vars and name != "state":
        return np.asarray(ds[name].values, dtype=float)
    if "state" in ds and name in ds["species"].values:
        return np.asarray(ds["state"].sel(species=name).values, dtype=float)
    raise ModelSpecError(f"the run has no species or observable {name!r}; clinical readings need the reference "
                         "network's TEMP, FERRITIN, CRP species and MAP, SPO2 observables")


def _level(x: np.ndarray, cuts: tuple[Threshold, ...]) -> np.ndarray:
    """0 above every cut, k where x falls below the k-th (cuts ordered from mild to severe)."""
    out = np.zeros(x.shape, dtype=int)
    for k, cut in enumerate(cuts, start=1):
        out[x < cut.value] = k
    return out


def hypotension_grade(map_mmhg: np.ndarray) -> np.ndarray:
    """ASTCT grade implied by MAP alone: 0, 2 (no vasopressor), 3 (one), 4 (several)."""
    lvl = _level(np.asarray(map_mmhg, float), (HYPOTENSION, ONE_VASOPRESSOR, MULTI_VASOPRESSOR))
    return np.where(lvl > 0, lvl + 1, 0)


def hypoxia_grade(spo2: np.ndarray) -> np.ndarray:
    """ASTCT grade implied by room-air SpO2 alone: 0, 2 (low-flow), 3 (high-flow), 4 (positive pressure)."""
    lvl = _level(np.asarray(spo2, float), (LOW_FLOW_O2, HIGH_FLOW_O2, POSITIVE_PRESSURE))
    return np.where(lvl > 0, lvl + 1, 0)


def crs_grade_from(temp_c: np.ndarray, map_mmhg: np.ndarray, spo2: np.ndarray,
                   masked: np.ndarray | None = None) -> np.ndarray:
    """ASTCT CRS grade (0-4) at each time (last axis) from temperature, MAP and room-air SpO2.

    CRS starts with the first fever (>= 38 °C). From then on the grade is the most severe of: 1 while
    febrile, the hypotension grade, the hypoxia grade. ``masked`` (bool, same shape) is True from the
    first antipyretic or anti-cytokine dose on: as in the consensus, fever is then no longer required,
    and hypotension or hypoxia grade CRS even in a run that never became febrile (Lee et al. 2019).
    """
    temp = np.asarray(temp_c, float)
    febrile = temp >= FEVER.value
    started = np.maximum.accumulate(febrile, axis=-1) if febrile.size else febrile
    if masked is not None:
        started = started | np.asarray(masked, bool)
    organ = np.maximum(hypotension_grade(map_mmhg), hypoxia_grade(spo2))
    return np.where(started, np.maximum(febrile.astype(int), organ), 0)


def therapy_start(ds: xr.Dataset) -> float | None:
    """Time (h) of the first dose of a modelled drug in a run (its central or depot state turns positive), or None.

    Every drug cytonet models is an anti-cytokine or immunosuppressive agent, so this is when fever stops
    being required for ASTCT grading.
    """
    from cytonet.therapy import drug_ids

    names = [f"{d}_{part}" for d in drug_ids() for part in ("central", "depot")]
    present = [n for n in names if n in ds["species"].values]
    if not present:
        return None
    dosed = np.any(ds["state"].sel(species=present).values > 0, axis=-1)
    return float(ds["time"].values[np.argmax(dosed)]) if dosed.any() else None


def crs_grade(ds: xr.Dataset) -> np.ndarray:
    """ASTCT CRS grade (int 0-4) at each output time of a run of the reference network."""
    start = therapy_start(ds)
    masked = None if start is None else ds["time"].values >= start
    return crs_grade_from(series(ds, "TEMP"), series(ds, "MAP"), series(ds, "SPO2"), masked)


def max_crs_grade(ds: xr.Dataset) -> int:
    """The highest ASTCT CRS grade reached during a run (0 = no CRS)."""
    g = crs_grade(ds)
    return int(g.max()) if g.size else 0


# ---------------------------------------------------------------------------------------- HScore
#: (band start, points) of the modelled HScore items (Fardet et al. 2014); a value on a band start scores that band
HSCORE_TEMPERATURE = ((38.4, 33), (39.4, 49))  # < 38.4: 0; 38.4-39.4: 33; > 39.4: 49 (degC)
HSCORE_FERRITIN = ((2000.0, 35), (6000.0, 50))  # < 2000: 0; 2000-6000: 35; > 6000: 50 (ng/mL)
#: HScore items the model does not represent, with their maximum points (Fardet et al. 2014)
HSCORE_NOT_MODELLED = {
    "known underlying immunosuppression": 18,
    "organomegaly (hepatomegaly, splenomegaly)": 38,
    "cytopenias (haemoglobin, leukocytes, platelets)": 34,
    "triglycerides": 64,
    "fibrinogen": 30,
    "aspartate aminotransferase (AST)": 19,
    "haemophagocytosis on bone marrow aspirate": 35,
}


def temperature_points(temp_c: np.ndarray | float) -> np.ndarray:
    """HScore temperature points: 0 below 38.4 °C, 33 from 38.4 to 39.4 °C, 49 above 39.4 °C."""
    t = np.asarray(temp_c, float)
    (lo, p_mid), (hi, p_high) = HSCORE_TEMPERATURE
    return np.where(t > hi, p_high, np.where(t >= lo, p_mid, 0))


def ferritin_points(ferritin_ng_ml: np.ndarray | float) -> np.ndarray:
    """HScore ferritin points: 0 below 2000 ng/mL, 35 from 2000 to 6000 ng/mL, 50 above 6000 ng/mL."""
    f = np.asarray(ferritin_ng_ml, float)
    (lo, p_mid), (hi, p_high) = HSCORE_FERRITIN
    return np.where(f > hi, p_high, np.where(f >= lo, p_mid, 0))


@dataclass(frozen=True)
class HScorePartial:
    """The HScore points the model can supply (at peak temperature and peak ferritin) and what is missing."""

    temperature_c: float
    temperature_points: int
    ferritin_ng_ml: float
    ferritin_points: int
    not_modelled: dict[str, int] = field(default_factory=lambda: dict(HSCORE_NOT_MODELLED))
    refs: tuple[str, ...] = (HSCORE_2014,)

    @property
    def modelled_points(self) -> int:
        """Points from the modelled components (a lower bound of the full HScore)."""
        return self.temperature_points + self.ferritin_points


def hscore_partial(ds: xr.Dataset) -> HScorePartial:
    """Temperature and ferritin HScore points of a run (their peaks); the other seven items are not modelled."""
    temp, fer = float(np.max(series(ds, "TEMP"))), float(np.max(series(ds, "FERRITIN")))
    return HScorePartial(temp, int(temperature_points(temp)), fer, int(ferritin_points(fer)))


# ------------------------------------------------------------------------------ reference ranges
@dataclass(frozen=True)
class ReferenceRange:
    """A healthy adult range of one readout, with its source."""

    low: float
    high: float
    unit: str
    source: str


#: Ranges for readouts the knowledge base has no serum range for.
READOUT_RANGES = {
    "CRP": ReferenceRange(0.0, 10.0, "mg/L", "assumption: CRP below 10 mg/L is the conventional upper limit of normal"),
    "FERRITIN": ReferenceRange(
        30.0, 400.0, "ng/mL", "assumption: typical adult laboratory range (sex-dependent; lower in women)"),
    "TEMP": ReferenceRange(36.1, 37.7, "degC", "assumption: usual core temperature range; 38.0 °C defines fever"),
}


def reference_ranges(kb: object | None = None) -> dict[str, ReferenceRange]:
    """Healthy ranges by species: cytokines from the knowledge base's serum ranges, plus CRP, ferritin, temperature."""
    if kb is None:
        from cytonet.knowledge import load

        kb = load()
    out: dict[str, ReferenceRange] = {}
    for c in kb.cytokines():  # type: ignore[attr-defined]
        r = c.serum_range
        if r is not None:
            out[c.id] = ReferenceRange(r.low, r.high, r.unit, "; ".join(r.refs) + (f" ({r.note})" if r.note else ""))
    out.update(READOUT_RANGES)
    return out
