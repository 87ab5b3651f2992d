"""The limits in force on what one input may ask of cytonet, each with its reason (listed in SECURITY.md).

Numbers a user gives are checked where they enter with :func:`check_number`: finite, in range,
and the message names the option, the unit, the limit and why it exists.
"""

from __future__ import annotations

import math

from cytonet.errors import InputError

#: bytes of one user YAML/JSON file (the shipped reference network spec is ~70 kB)
MAX_INPUT_BYTES = 16 * 2**20
#: nesting depth of one user YAML/JSON document (specs nest 5 levels deep)
MAX_INPUT_DEPTH = 64
#: values in one user document, aliases counted each time they are used (the reference spec has ~10^4)
MAX_INPUT_NODES = 1_000_000
#: characters of one observable expression
MAX_EXPRESSION_CHARS = 20_000
#: nesting depth of one observable expression (a sum of n terms nests n deep)
MAX_EXPRESSION_DEPTH = 200
#: simulated horizon, h (~11 years: the network describes responses over hours to weeks)
MAX_HORIZON_H = 100_000.0
#: output time points of one run (a run keeps points x species doubles in memory)
MAX_OUTPUT_POINTS = 1_000_000
#: administrations of one regimen
MAX_DOSES = 10_000
#: amount per administration by dose unit (no modelled drug is given in more than grams, or 1 g/kg)
MAX_DOSE = {"mg": 100_000.0, "mg/kg": 1_000.0}
#: body weight range, kg
WEIGHT_KG = (0.5, 700.0)
#: virtual patients of one population
MAX_PATIENTS = 100_000_000
#: trajectory time points kept per patient
MAX_TRAJECTORY_POINTS = 10_000
#: sampling seed range (numpy's SeedSequence takes non-negative integers; 2^63 keeps it one int64)
SEED_RANGE = (0, 2**63 - 1)
#: rows printed by ``runs query`` unless --max-rows says otherwise
QUERY_ROWS = 1_000
#: memory and wall-clock limits of one ``runs query``
QUERY_MEMORY = "2GB"
QUERY_SECONDS = 60.0
#: what ``population`` may plan without --allow-large: CPU hours, disk GB, memory GB per process
POPULATION_BUDGET = {"cpu_hours": 24.0, "disk_gb": 50.0, "memory_gb": 8.0}


def check_number(value: float, what: str, *, low: float | None = None, high: float | None = None, unit: str = "",
                 low_open: bool = False, why: str = "") -> float:
    """``value`` as a float if finite and within [low, high] (``low_open``: > low); else ``InputError`` naming ``what``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: {value!r} is not a number") from None
    u = f" {unit}" if unit else ""
    if not math.isfinite(x):
        raise InputError(f"{what}: {value!r} is not a finite number; give a value{_range(low, high, u, low_open)}")
    if low is not None and (x < low or (low_open and x == low)) or high is not None and x > high:
        reason = f" ({why})" if why else ""
        raise InputError(f"{what}: {x:g}{u} is out of range; give a value{_range(low, high, u, low_open)}{reason}")
    return x


def _range(low: float | None, high: float | None, u: str, low_open: bool) -> str:
    if low is not None and high is not None:
        return f" {'>' if low_open else '>='} {low:g}{u} and <= {high:g}{u}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}{u}"
    if high is not None:
        return f" <= {high:g}{u}"
    return ""


def check_hours(value: float, what: str = "--hours", *, allow_zero: bool = False) -> float:
    """A horizon or time in hours: finite, positive (or zero) and at most :data:`MAX_HORIZON_H`."""
    return check_number(value, what, low=0.0, low_open=not allow_zero, high=MAX_HORIZON_H, unit="h",
                        why="the network describes responses over hours to weeks")
