"""Doses and dosing regimens with explicit units: ``"8 mg/kg"``, ``"162 mg"``, times like ``"48h"``."""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field

from cytonet.errors import TherapyError
from cytonet.limits import MAX_DOSE, MAX_DOSES, MAX_HORIZON_H, WEIGHT_KG

DEFAULT_WEIGHT_KG = 70.0
_NUMBER = r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
_DOSE = re.compile(rf"^\s*{_NUMBER}\s*([a-zA-Zµμ/0-9]+)\s*$")
_DOSE_UNITS = {"mg": ("mg", 1.0), "g": ("mg", 1000.0), "ug": ("mg", 1e-3), "µg": ("mg", 1e-3), "μg": ("mg", 1e-3),
               "mg/kg": ("mg/kg", 1.0), "ug/kg": ("mg/kg", 1e-3), "µg/kg": ("mg/kg", 1e-3)}
_TIME_UNITS = {"h": 1.0, "hr": 1.0, "hrs": 1.0, "hour": 1.0, "hours": 1.0, "min": 1 / 60, "d": 24.0, "day": 24.0,
               "days": 24.0, "w": 168.0, "wk": 168.0, "week": 168.0, "weeks": 168.0}


class DoseRangeWarning(UserWarning):
    """A dose far outside the drug's labelled range (the message names the range)."""


@dataclass(frozen=True)
class Dose:
    """An amount per administration in ``mg`` or ``mg/kg``."""

    amount: float
    unit: str

    def mg(self, weight_kg: float) -> float:
        return self.amount * weight_kg if self.unit == "mg/kg" else self.amount

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit}"


def parse_dose(text: str | Dose) -> Dose:
    """``"8mg/kg"`` -> Dose(8, "mg/kg"); body-surface doses, bare numbers and negatives raise ``TherapyError``."""
    if isinstance(text, Dose):
        return text
    m = _DOSE.match(str(text))
    if not m:
        raise TherapyError(f"dose {text!r} needs a number and a unit, e.g. '8 mg/kg' or '162 mg'")
    value, unit = float(m.group(1)), m.group(2).replace("μ", "µ")
    if unit.lower() in ("mg/m2", "mg/m^2"):
        raise TherapyError(f"dose {text!r}: body-surface dosing (mg/m2) is not supported; give mg or mg/kg")
    if unit not in _DOSE_UNITS:
        raise TherapyError(f"dose {text!r}: unit {unit!r} is not a dose unit; use mg, g, ug, mg/kg or ug/kg")
    if not value > 0:
        raise TherapyError(f"dose {text!r} must be positive")
    canon, scale = _DOSE_UNITS[unit]
    amount = value * scale
    top = MAX_DOSE[canon]
    if not (math.isfinite(amount) and amount <= top):
        raise TherapyError(f"dose {text!r} is above {top:g} {canon} per administration, more than any modelled drug is given")
    return Dose(amount, canon)


def parse_hours(text: str | float, what: str = "time", allow_zero: bool = True) -> float:
    """``"48h"``, ``"2 d"``, ``"90 min"``, ``"1 week"`` (or a number, taken as hours) -> hours."""
    if isinstance(text, int | float):
        hours = float(text)
    else:
        m = re.match(rf"^\s*{_NUMBER}\s*([a-zA-Z]*)\s*$", str(text))
        if not m or (m.group(2) and m.group(2).lower() not in _TIME_UNITS):
            raise TherapyError(f"{what} {text!r}: give a number with a unit, e.g. '48h', '2d', '90min'")
        hours = float(m.group(1)) * _TIME_UNITS[m.group(2).lower() or "h"]
    if not math.isfinite(hours) or hours > MAX_HORIZON_H:
        raise TherapyError(f"{what} {text!r} is beyond {MAX_HORIZON_H:g} h, the longest horizon cytonet simulates")
    if hours < 0 or (hours == 0 and not allow_zero):
        raise TherapyError(f"{what} {text!r} must be {'non-negative' if allow_zero else 'positive'}")
    return hours


def parse_weight(text: str | float) -> float:
    """``"70kg"``, ``"70 kg"`` (or a number, taken as kg) -> kg; the range is checked by :class:`Regimen`."""
    m = re.match(rf"^\s*{_NUMBER}\s*(kg)?\s*$", str(text), re.IGNORECASE)
    if not m:
        raise TherapyError(f"body weight {text!r}: give a number of kg, e.g. '70kg'")
    return float(m.group(1))


@dataclass(frozen=True)
class Regimen:
    """``doses`` administrations of ``dose`` by ``route`` from ``start`` every ``every`` (hours or strings)."""

    dose: Dose | str
    route: str | None = None
    start: float | str = 0.0
    every: float | str | None = None
    doses: int = 1
    weight_kg: float = DEFAULT_WEIGHT_KG
    infusion_h: float | None = None
    times: tuple[float, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dose", parse_dose(self.dose))
        start = parse_hours(self.start, "start time")
        if not (isinstance(self.doses, int) and 1 <= self.doses <= MAX_DOSES):
            raise TherapyError(f"number of doses must be a whole number from 1 to {MAX_DOSES:,}, got {self.doses!r}")
        if self.doses > 1 and self.every is None:
            raise TherapyError(f"{self.doses} doses need an interval (every=…, e.g. '12h')")
        every = parse_hours(self.every, "dosing interval", allow_zero=False) if self.every is not None else 0.0
        if not (isinstance(self.weight_kg, int | float) and WEIGHT_KG[0] <= self.weight_kg <= WEIGHT_KG[1]):
            raise TherapyError(f"body weight must be {WEIGHT_KG[0]:g} to {WEIGHT_KG[1]:g} kg, got {self.weight_kg!r} kg")
        if self.infusion_h is not None and not 0 <= self.infusion_h <= MAX_HORIZON_H:
            raise TherapyError(f"infusion length must be >= 0 h, got {self.infusion_h!r}")
        if self.route is not None and self.route not in ("iv", "sc", "oral"):
            raise TherapyError(f"route {self.route!r} must be one of iv, sc, oral")
        object.__setattr__(self, "times", tuple(start + i * every for i in range(self.doses)))

    @property
    def mg(self) -> float:
        """Amount per administration in mg for this body weight."""
        assert isinstance(self.dose, Dose)
        return self.dose.mg(self.weight_kg)


def check_first_dose(first_h: float, t_end: float, option: str = "first dose") -> None:
    """A first dose at or after the end of the run would leave the treated run untreated: refuse it."""
    if first_h >= t_end:
        raise TherapyError(f"{option} {first_h:g} h is not before the end of the run ({t_end:g} h), so no dose would be "
                           "given; give an earlier time or a longer horizon")


def check_range(drug: str, regimen: Regimen, route: str, low: float, high: float, unit: str, factor: float = 2.0) -> None:
    """Warn (``DoseRangeWarning``) when a dose lies more than ``factor``-fold outside the labelled range."""
    per = regimen.mg / regimen.weight_kg if unit == "mg/kg" else regimen.mg
    if per > high * factor or per < low / factor:
        rng = f"{low:g} {unit}" if low == high else f"{low:g}-{high:g} {unit}"
        warnings.warn(
            f"{drug} {route} dose {per:.3g} {unit} is far outside the labelled range {rng}", DoseRangeWarning, stacklevel=3
        )
