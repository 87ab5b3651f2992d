"""Units as people read them: the model's ASCII unit strings (``degC``, ``ug/mL``, ``1``) for tables and figures."""

from __future__ import annotations

import re

#: units of the clinical readouts and indices as runs report them
READOUT_UNITS = {"TEMP": "degC", "CRP": "mg/L", "FERRITIN": "ng/mL", "MAP": "mmHg", "SPO2": "%", "LEAK": "1", "DAMAGE": "1",
                 "PRO_ANTI": "1"}
#: ASCII unit token -> the symbol a reader expects; "1" (dimensionless) is shown as nothing
_SYMBOLS = {"degC": "°C", "ug": "µg", "um": "µm", "uL": "µL", "uM": "µM", "umol": "µmol"}
_DIMENSIONLESS = {"1", "dimensionless", ""}
_TOKEN = re.compile(r"[A-Za-z]+")


def display_unit(unit: str) -> str:
    """``degC`` -> ``°C``, ``ug/mL`` -> ``µg/mL``, ``degC/h`` -> ``°C/h``; dimensionless (``1``) -> ``""``."""
    unit = unit.strip()
    if unit in _DIMENSIONLESS:
        return ""
    return _TOKEN.sub(lambda m: _SYMBOLS.get(m.group(0), m.group(0)), unit)


def with_unit(text: str, unit: str) -> str:
    """``"peak CRP"`` + ``mg/L`` -> ``"peak CRP (mg/L)"``; no parentheses for a dimensionless quantity."""
    shown = display_unit(unit)
    return f"{text} ({shown})" if shown else text


def readable_number(x: float, digits: int = 3) -> str:
    """``digits`` significant figures without exponents where people do not use them.

    ``20010.4`` -> ``"20,010"`` (values of 1,000 to a million as whole numbers with thousands
    separators, so no digit is lost to rounding), ``0.3527`` -> ``"0.353"``, ``1.2e-5`` -> ``"1.2e-05"``.
    """
    if x != x:
        return "n/a"
    if 1e3 <= abs(x) < 1e6:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"
