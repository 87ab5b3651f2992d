"""Cytokine storm analysis of a run: per-cytokine peaks and time above thresholds, pro/anti balance, class.

:func:`classify` follows the three criteria of Fajgenbaum & June 2020 (doi:10.1056/NEJMra2026131):
(1) elevated circulating cytokines, (2) acute systemic inflammation, (3) secondary organ
dysfunction. The label follows :data:`RULE`: all three = "cytokine storm"; organ dysfunction with
(1) or (2), or an extreme signature-cytokine level, without all three = "uncontrolled response" (the
review contrasts a controlled immune response with one that injures organs); (1) or (2) otherwise =
"controlled response"; neither (1) nor (2) = "none". Every cut-off is a named :class:`~cytonet.analysis.clinical.Threshold` with its reason, and
each criterion reports what was measured beside whether it held.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from cytonet.analysis import clinical
from cytonet.analysis.clinical import Threshold, series
from cytonet.analysis.units import READOUT_UNITS, display_unit
from cytonet.errors import ModelSpecError

if TYPE_CHECKING:
    import xarray as xr

FAJGENBAUM_2020 = "doi:10.1056/NEJMra2026131"

#: cytokines of the reference network (HGNC symbols, pg/mL), in display order
CYTOKINES = ("TNF", "IL1B", "IL6", "IFNG", "IL2", "IL10", "TGFB1", "IL4", "IL17A", "IL21", "CSF2", "CXCL8", "CCL2",
             "IL12A", "IL23A")

ELEVATED_FOLD = Threshold(
    10.0, "x baseline",
    "assumption: a ten-fold rise over the host's own resting level is a systemic response, far beyond day-to-day variation")
#: absolute levels of the storm-signature cytokines (Fajgenbaum & June 2020 name IL-6, IFN-γ and TNF)
SIGNATURE_LEVELS = {
    "IL6": Threshold(100.0, "pg/mL", "assumption: about 30x the upper healthy serum IL-6 (IQR 0.7-3.5 pg/mL in the knowledge base)"),
    "IFNG": Threshold(100.0, "pg/mL", "assumption: IFN-γ is near the detection limit in health; 100 pg/mL is a clearly systemic level"),
    "TNF": Threshold(100.0, "pg/mL", "assumption: serum TNF is a few pg/mL in health; 100 pg/mL is a clearly systemic level"),
}
MARKED_CRP = Threshold(
    100.0, "mg/L", "assumption: CRP above 100 mg/L (10x the upper normal limit) marks acute systemic inflammation")
ORGAN_DAMAGE = Threshold(
    0.25, "1", "assumption: tissue-damage proxy above a quarter of its range stands for organ injury (e.g. AKI, liver injury)")
MIN_DURATION = Threshold(
    1.0, "h", "assumption: a criterion must hold for at least one hour, so no single output sample decides")
EXTREME_LEVEL = Threshold(
    5000.0, "pg/mL",
    "assumption: a storm-signature cytokine (IL-6, IFN-γ or TNF) above 5,000 pg/mL for an hour is beyond any controlled "
    "response: 50x the elevated level, above the pooled mean serum IL-6 of CRS (3,110 pg/mL) and of sepsis (984 pg/mL)",
    ("doi:10.1016/S2213-2600(20)30404-5",))
BALANCE_SHIFT = Threshold(
    2.0, "x baseline", "assumption: pro/anti index at least twice its resting value counts as pro-inflammatory dominance")


class StormClass(StrEnum):
    NONE = "none"
    CONTROLLED = "controlled response"
    UNCONTROLLED = "uncontrolled response"
    STORM = "cytokine storm"


#: the classes in the order of :func:`label_codes`
LABELS = (StormClass.NONE, StormClass.CONTROLLED, StormClass.UNCONTROLLED, StormClass.STORM)
#: the labelling rule as the report prints it
RULE = ("cytokine storm = all three criteria; uncontrolled response = (3) with (1) or (2), or a signature cytokine "
        f"above {EXTREME_LEVEL.value:g} {EXTREME_LEVEL.unit} for >= {MIN_DURATION.value:g} h, without all three; "
        "controlled response = (1) or (2) otherwise; none = neither (1) nor (2)")


def label_codes(cytokines: np.ndarray, inflammation: np.ndarray, organ: np.ndarray, extreme: np.ndarray) -> np.ndarray:
    """Index into :data:`LABELS` per run from the three criteria and the extreme-level flag (bool arrays), by :data:`RULE`."""
    c1, c2, c3, ex = (np.asarray(x, bool) for x in (cytokines, inflammation, organ, extreme))
    storm = c1 & c2 & c3
    uncontrolled = ~storm & ((c3 & (c1 | c2)) | ex)
    return np.select([storm, uncontrolled, c1 | c2], [3, 2, 1], 0)


@dataclass(frozen=True)
class CytokineSummary:
    """One cytokine over a run (pg/mL, hours)."""

    species: str
    unit: str
    baseline: float
    peak: float
    peak_time_h: float
    fold_change: float | None  # None when the baseline is 0
    hours_above_fold: float  # above ELEVATED_FOLD x baseline
    level: float | None  # absolute signature level, if any
    hours_elevated: float  # above both the fold and the absolute level (fold alone if no level)
    peak_at_end: bool = False  # the peak is the last sample: the true peak may come after the horizon


@dataclass(frozen=True)
class BalanceSummary:
    """Pro- over anti-inflammatory index (PRO_ANTI) and its log10 ratio to the resting value."""

    baseline: float
    peak: float
    peak_time_h: float
    max_log10_ratio: float
    min_log10_ratio: float
    hours_pro_dominant: float  # PRO_ANTI >= BALANCE_SHIFT x baseline


@dataclass(frozen=True)
class Criterion:
    """One storm criterion: what it asks, the thresholds, whether it held and what was measured."""

    key: str
    description: str
    thresholds: tuple[str, ...]
    held: bool
    evidence: str


@dataclass(frozen=True)
class Classification:
    label: StormClass
    criteria: tuple[Criterion, ...]
    refs: tuple[str, ...] = (FAJGENBAUM_2020,)

    def criterion(self, key: str) -> Criterion:
        for c in self.criteria:
            if c.key == key:
                return c
        raise KeyError(f"no criterion {key!r}; criteria are {[c.key for c in self.criteria]}")


@dataclass(frozen=True)
class StormSummary:
    """Everything :func:`summarize` measures; ``to_dict`` gives the JSON-ready form of ``summary.json``."""

    scenario: str
    hours: float
    cytokines: tuple[CytokineSummary, ...]
    readouts: dict[str, dict[str, float]]
    balance: BalanceSummary
    classification: Classification
    max_crs_grade: int
    hscore: clinical.HScorePartial

    def cytokine(self, species: str) -> CytokineSummary:
        for c in self.cytokines:
            if c.species == species:
                return c
        raise KeyError(f"no cytokine {species!r} in the summary; have {[c.species for c in self.cytokines]}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["classification"]["label"] = str(self.classification.label)
        d["hscore"]["modelled_points"] = self.hscore.modelled_points
        d["units"] = {"time": "h", "cytokines": "pg/mL", "IL6_total": "pg/mL", **READOUT_UNITS}
        return d


def hours_above(t: np.ndarray, x: np.ndarray, level: np.ndarray | float) -> Any:
    """Hours with x(t) > level, x linearly interpolated between samples (crossings found exactly).

    ``x`` is one series (time,) giving a float, or rows (run, time) giving an array; ``level`` is a
    number or one per row.
    """
    x = np.asarray(x, float)
    rows = np.atleast_2d(x) - (np.asarray(level, float)[..., None] if np.ndim(level) else level)
    a, b, dt = rows[:, :-1], rows[:, 1:], np.diff(np.asarray(t, float))
    both = (a > 0) & (b > 0)
    cross = (a > 0) != (b > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(cross, np.maximum(a, b) / np.abs(b - a), 0.0)
    hours = np.sum(np.where(both, dt, 0.0) + np.where(cross, dt * frac, 0.0), axis=1)
    return float(hours[0]) if x.ndim == 1 else hours


def hours_below(t: np.ndarray, x: np.ndarray, level: np.ndarray | float) -> Any:
    """Hours with x(t) < level (linear interpolation between samples); shapes as :func:`hours_above`."""
    return hours_above(t, -np.asarray(x, float), -np.asarray(level, float))


def at_horizon_end(x: np.ndarray, nadir: bool = False) -> np.ndarray:
    """Per row of ``x`` (..., time): the peak (nadir) is first reached at the last sample (the run ended before it turned).

    Such an extreme is a bound, not the true peak: it may rise further after the horizon. A row that
    moved by less than 1e-6 of its level over the run counts as flat and is never flagged
    (assumption: solver noise on a resting series).
    """
    y = -np.asarray(x, float) if nadir else np.asarray(x, float)
    last = np.argmax(y, axis=-1) == y.shape[-1] - 1  # where the reported peak time is the horizon
    return last & (y.max(axis=-1) - y.min(axis=-1) > 1e-6 * np.abs(y).max(axis=-1))


def _cytokine(ds: xr.Dataset, sid: str) -> CytokineSummary:
    t = ds["time"].values
    x = series(ds, sid)
    i = int(np.argmax(x))
    base = float(x[0])
    fold_level = ELEVATED_FOLD.value * base
    sig = SIGNATURE_LEVELS.get(sid)
    unit = str(ds["unit"].sel(species=sid).values) if "unit" in ds.coords else "pg/mL"
    return CytokineSummary(
        species=sid, unit=unit, baseline=base, peak=float(x[i]), peak_time_h=float(t[i]),
        fold_change=float(x[i] / base) if base > 0 else None,
        hours_above_fold=hours_above(t, x, fold_level),
        level=sig.value if sig else None,
        hours_elevated=hours_above(t, x, max(fold_level, sig.value if sig else 0.0)),
        peak_at_end=bool(at_horizon_end(x)),
    )


def balance(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(PRO_ANTI index, log10 of its ratio to the resting value at t = 0) over time."""
    pa = series(ds, "PRO_ANTI")
    return pa, np.log10(pa / pa[0])


def _balance_summary(ds: xr.Dataset) -> BalanceSummary:
    t = ds["time"].values
    pa, lr = balance(ds)
    i = int(np.argmax(pa))
    return BalanceSummary(float(pa[0]), float(pa[i]), float(t[i]), float(lr.max()), float(lr.min()),
                          hours_above(t, lr, np.log10(BALANCE_SHIFT.value)))


def _readouts(ds: xr.Dataset) -> dict[str, dict[str, float]]:
    """Baseline, peak (nadir for MAP, SPO2) and its time, end value, and ``at_end`` (the extreme is the last sample)."""
    t = ds["time"].values
    out: dict[str, dict[str, float]] = {}
    peaks = ("IL6_total", "TEMP", "CRP", "FERRITIN", "LEAK", "DAMAGE") if "IL6_total" in ds.data_vars else \
        ("TEMP", "CRP", "FERRITIN", "LEAK", "DAMAGE")
    for name in peaks:
        x = series(ds, name)
        i = int(np.argmax(x))
        out[name] = {"baseline": float(x[0]), "peak": float(x[i]), "peak_time_h": float(t[i]), "end": float(x[-1]),
                     "at_end": bool(at_horizon_end(x))}
    for name in ("MAP", "SPO2"):
        x = series(ds, name)
        i = int(np.argmin(x))
        out[name] = {"baseline": float(x[0]), "nadir": float(x[i]), "nadir_time_h": float(t[i]), "end": float(x[-1]),
                     "at_end": bool(at_horizon_end(x, nadir=True))}
    return out


def _fold(c: CytokineSummary) -> str:
    return "n/a" if c.fold_change is None else f"{c.fold_change:.3g}x"


def _fmt(th: Threshold, what: str, op: str) -> str:
    return f"{what} {op} {th.value:g} {display_unit(th.unit)}".rstrip()


def classify(ds: xr.Dataset) -> Classification:
    """Classify a run as "none", "controlled response" or "cytokine storm" (criteria and evidence included)."""
    t = ds["time"].values
    need = MIN_DURATION.value

    sig = {sid: _cytokine(ds, sid) for sid in SIGNATURE_LEVELS if sid in ds["species"].values}
    if not sig:
        raise ModelSpecError(f"the run has none of the storm-signature cytokines {list(SIGNATURE_LEVELS)}")
    c1 = Criterion(
        "cytokines", "elevated circulating cytokines",
        tuple(f"{s} > {th.value:g} {th.unit} and > {ELEVATED_FOLD.value:g}x baseline for >= {need:g} h"
              for s, th in SIGNATURE_LEVELS.items()),
        any(c.hours_elevated >= need for c in sig.values()),
        "; ".join(f"{c.species} peak {c.peak:.3g} pg/mL ({_fold(c)}) elevated {c.hours_elevated:.1f} h"
                  for c in sig.values()),
    )
    temp, crp = series(ds, "TEMP"), series(ds, "CRP")
    fever_h = hours_above(t, temp, clinical.FEVER.value)
    crp_h = hours_above(t, crp, MARKED_CRP.value)
    c2 = Criterion(
        "inflammation", "acute systemic inflammation (fever or raised CRP)",
        (_fmt(clinical.FEVER, "TEMP", ">=") + f" for >= {need:g} h", _fmt(MARKED_CRP, "CRP", ">") + f" for >= {need:g} h"),
        fever_h >= need or crp_h >= need,
        f"TEMP peak {temp.max():.2f} °C, {fever_h:.1f} h febrile; CRP peak {crp.max():.3g} mg/L, {crp_h:.1f} h above",
    )
    mapv, spo2, dmg = series(ds, "MAP"), series(ds, "SPO2"), series(ds, "DAMAGE")
    hypo_h, hypox_h = hours_below(t, mapv, clinical.HYPOTENSION.value), hours_below(t, spo2, clinical.LOW_FLOW_O2.value)
    dmg_h = hours_above(t, dmg, ORGAN_DAMAGE.value)
    c3 = Criterion(
        "organ_dysfunction", "secondary organ dysfunction (capillary leak, hypotension, hypoxia, tissue damage)",
        (_fmt(clinical.HYPOTENSION, "MAP", "<"), _fmt(clinical.LOW_FLOW_O2, "SpO2", "<"),
         _fmt(ORGAN_DAMAGE, "DAMAGE", ">"), f"any of them for >= {need:g} h"),
        max(hypo_h, hypox_h, dmg_h) >= need,
        f"MAP nadir {mapv.min():.1f} mmHg ({hypo_h:.1f} h below); SpO2 nadir {spo2.min():.1f} % ({hypox_h:.1f} h below); "
        f"DAMAGE peak {dmg.max():.3f} ({dmg_h:.1f} h above)",
    )
    extreme = any(hours_above(t, series(ds, sid), EXTREME_LEVEL.value) >= need for sid in sig)
    label = LABELS[int(label_codes(c1.held, c2.held, c3.held, extreme))]
    return Classification(label, (c1, c2, c3))


def summarize(ds: xr.Dataset) -> StormSummary:
    """Peaks, fold changes and hours above thresholds per cytokine, balance, readouts, class and CRS grade."""
    t = ds["time"].values
    present = [s for s in CYTOKINES if s in ds["species"].values]
    return StormSummary(
        scenario=str(ds.attrs.get("scenario", ds.attrs.get("model_id", "run"))),
        hours=float(t[-1] - t[0]),
        cytokines=tuple(_cytokine(ds, s) for s in present),
        readouts=_readouts(ds),
        balance=_balance_summary(ds),
        classification=classify(ds),
        max_crs_grade=clinical.max_crs_grade(ds),
        hscore=clinical.hscore_partial(ds),
    )
