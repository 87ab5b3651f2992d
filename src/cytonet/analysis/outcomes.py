"""Outcomes of runs (storm class, CRS grade, hours in storm, peaks), vectorised over runs (patients, arms).

Storm class follows :func:`cytonet.analysis.storm.classify` and the CRS grade
:func:`cytonet.analysis.clinical.max_crs_grade`: the thresholds are imported from those modules, so
the criteria live in one place; only the arithmetic is rewritten over arrays (patient, time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from cytonet.analysis import clinical, storm

if TYPE_CHECKING:
    import xarray as xr

#: readouts whose peak (or nadir, for MAP and SPO2) is stored per patient
PEAKS = ("IL6", "TNF", "IFNG", "IL1B", "IL10", "CRP", "FERRITIN", "TEMP", "DAMAGE", "LEAK")
NADIRS = ("MAP", "SPO2")
#: every readout :func:`outcomes` reads
NEEDED = tuple(dict.fromkeys([*storm.SIGNATURE_LEVELS, *PEAKS, *NADIRS]))
STORM_CLASSES = tuple(str(c) for c in storm.LABELS)


def outcomes(t: np.ndarray, series: Mapping[str, np.ndarray], therapy_from: float | None = None) -> dict[str, np.ndarray]:
    """Outcome columns from readouts ``series[name]`` (patient, time) on output times ``t`` (h).

    ``therapy_from`` is the time of the first anti-cytokine dose (None: untreated); from then on the
    CRS grade no longer requires fever (:func:`cytonet.analysis.clinical.crs_grade_from`).

    Returns storm class and flag, the three storm criteria, max CRS grade, hours in storm (all three
    criteria holding at once), peaks/nadirs and IL-6 peak time. Rows with NaN (failed runs) get NaN
    numbers, class "" and grade -1.
    """
    need = storm.MIN_DURATION.value
    ok = np.all(np.isfinite(series["IL6"]), axis=1)
    elevated_h, extreme_h = [], []
    elevated_now = np.zeros(series["IL6"].shape, bool)
    for sid, th in storm.SIGNATURE_LEVELS.items():
        x = series[sid]
        level = np.maximum(storm.ELEVATED_FOLD.value * x[:, 0], th.value)
        elevated_h.append(storm.hours_above(t, x, level))
        extreme_h.append(storm.hours_above(t, x, storm.EXTREME_LEVEL.value))
        elevated_now |= x > level[:, None]
    c1 = np.max(elevated_h, axis=0) >= need
    temp, crp, mapv, spo2, dmg = (series[k] for k in ("TEMP", "CRP", "MAP", "SPO2", "DAMAGE"))
    c2 = (storm.hours_above(t, temp, clinical.FEVER.value) >= need) | (storm.hours_above(t, crp, storm.MARKED_CRP.value) >= need)
    organ_h = np.maximum.reduce([storm.hours_below(t, mapv, clinical.HYPOTENSION.value),
                                 storm.hours_below(t, spo2, clinical.LOW_FLOW_O2.value),
                                 storm.hours_above(t, dmg, storm.ORGAN_DAMAGE.value)])
    c3 = organ_h >= need
    label = storm.label_codes(c1, c2, c3, np.max(extreme_h, axis=0) >= need)
    inflamed_now = (temp >= clinical.FEVER.value) | (crp > storm.MARKED_CRP.value)
    organ_now = (mapv < clinical.HYPOTENSION.value) | (spo2 < clinical.LOW_FLOW_O2.value) | (dmg > storm.ORGAN_DAMAGE.value)
    all_now = (elevated_now & inflamed_now & organ_now).astype(float)
    in_storm_h = np.sum(np.diff(t) * 0.5 * (all_now[:, :-1] + all_now[:, 1:]), axis=1)
    masked = None if therapy_from is None else np.broadcast_to(np.asarray(t) >= therapy_from, temp.shape)
    grade = np.max(clinical.crs_grade_from(temp, mapv, spo2, masked), axis=1)

    out: dict[str, np.ndarray] = {
        "storm": np.where(ok, label == storm.LABELS.index(storm.StormClass.STORM), False),
        "storm_class": np.where(ok, np.asarray(STORM_CLASSES, dtype=object)[label], ""),
        "cytokines_elevated": c1 & ok, "systemic_inflammation": c2 & ok, "organ_dysfunction": c3 & ok,
        "crs_grade": np.where(ok, grade, -1).astype(np.int8),
        "hours_in_storm": np.where(ok, in_storm_h, np.nan),
    }
    for k in PEAKS:
        out[f"peak_{k}"] = np.max(series[k], axis=1)
    for k in NADIRS:
        out[f"nadir_{k}"] = np.min(series[k], axis=1)
    out["peak_time_IL6"] = np.where(ok, np.asarray(t)[np.argmax(np.nan_to_num(series["IL6"], nan=-np.inf), axis=1)], np.nan)
    out["rest_IL6"] = series["IL6"][:, 0]
    return out


def series_of(ds: object, names: tuple[str, ...] = NEEDED) -> dict[str, np.ndarray]:
    """Readouts (species or observables) as (patient, time) arrays from a batch Dataset."""
    species = list(ds["species"].values)  # type: ignore[index]
    state = ds["state"].values  # type: ignore[index]
    return {n: (ds[n].values if n in ds.data_vars else state[:, :, species.index(n)]) for n in names}  # type: ignore[index, attr-defined]


def run_outcomes(ds: xr.Dataset) -> dict[str, Any]:
    """Outcomes of one run (a Dataset over time): the :func:`outcomes` columns as scalars, plus

    ``peak_IL6_total`` (free + sIL-6R-bound serum IL-6, when the model has the ``IL6_total``
    observable) and, per peak and nadir, ``peak_at_end_X`` / ``nadir_at_end_X``: the extreme is the
    last sample (:func:`cytonet.analysis.storm.at_horizon_end`), so the true extreme may come after
    the horizon.
    """
    names = [*NEEDED, *(["IL6_total"] if "IL6_total" in ds.data_vars else [])]
    series = {n: clinical.series(ds, n)[None, :] for n in names}
    out: dict[str, Any] = {k: v[0] for k, v in outcomes(ds["time"].values, series).items()}
    if "IL6_total" in series:
        out["peak_IL6_total"] = float(series["IL6_total"].max())
    for k in (*PEAKS, *(["IL6_total"] if "IL6_total" in series else [])):
        out[f"peak_at_end_{k}"] = bool(storm.at_horizon_end(series[k])[0])
    for k in NADIRS:
        out[f"nadir_at_end_{k}"] = bool(storm.at_horizon_end(series[k], nadir=True)[0])
    return out
