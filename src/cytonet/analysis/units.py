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
