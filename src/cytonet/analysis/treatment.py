"""What a therapy changed in a run: the population outcome measures, untreated beside treated.

The measures are those of :func:`cytonet.analysis.outcomes.run_outcomes` (the same code scores every
patient of a population), so one treated run and a treated population are judged alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cytonet.analysis.outcomes import run_outcomes

if TYPE_CHECKING:
    import xarray as xr

#: (outcome key, what it measures, unit); a peak or nadir key has a matching ``*_at_end_*`` flag
MEASURES = (
    ("storm_class", "storm class", ""),
    ("hours_in_storm", "hours in cytokine storm", "h"),
    ("crs_grade", "max CRS grade (ASTCT)", ""),
    ("peak_IL6_total", "peak serum IL-6, free + sIL-6R-bound", "pg/mL"),
    ("peak_IL6", "peak free IL-6", "pg/mL"),
    ("peak_CRP", "peak CRP", "mg/L"),
    ("peak_FERRITIN", "peak ferritin", "ng/mL"),
    ("peak_TEMP", "peak temperature", "degC"),
    ("nadir_MAP", "MAP nadir", "mmHg"),
    ("nadir_SPO2", "SpO2 nadir", "%"),
)


@dataclass(frozen=True)
class Change:
    """One measure untreated and treated; ``*_at_end``: that peak (nadir) is the last sample of the run."""

    key: str
    measure: str
    unit: str
    untreated: float | int | str
    treated: float | int | str
    untreated_at_end: bool = False
    treated_at_end: bool = False


def _value(out: dict, key: str) -> float | int | str:
    v = out[key]
    if key == "storm_class":
        return str(v)
    return int(v) if key == "crs_grade" else float(v)


def _at_end(out: dict, key: str) -> bool:
    kind, _, name = key.partition("_")
    return bool(out.get(f"{kind}_at_end_{name}", False))


def treatment_changes(untreated: xr.Dataset, treated: xr.Dataset) -> list[Change]:
    """Every measure of :data:`MEASURES` the runs have, untreated beside treated."""
    a, b = run_outcomes(untreated), run_outcomes(treated)
    return [Change(key, measure, unit, _value(a, key), _value(b, key), _at_end(a, key), _at_end(b, key))
            for key, measure, unit in MEASURES if key in a and key in b]
