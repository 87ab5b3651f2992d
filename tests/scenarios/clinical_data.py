"""Clinical numbers the behaviour tests assert, read from ``data/inflammatory_syndromes/summaries.tsv`` (each row has its source)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SUMMARIES = Path(__file__).resolve().parents[2] / "data" / "inflammatory_syndromes" / "summaries.tsv"


@dataclass(frozen=True)
class Summary:
    quantity: str
    value: float | None
    low: float | None
    high: float | None
    sd: float | None
    source: str


def _sd(spread: str) -> float | None:
    """The standard deviation of a spread reported as ``+/- X (SD)``; None for any other spread."""
    m = re.match(r"\+/- ([0-9.]+) \(SD\)", spread)
    return float(m.group(1)) if m else None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@lru_cache(maxsize=1)
def rows() -> list[dict[str, str]]:
    with open(SUMMARIES, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def summary(observable: str, condition: str, statistic: str | None = None) -> Summary:
    """The one row for (observableId, conditionId[, statistic]); a KeyError names what is missing."""
    found = [r for r in rows() if r["observableId"] == observable and r["conditionId"] == condition
             and (statistic is None or r["statistic"] == statistic)]
    if len(found) != 1:
        raise KeyError(f"{len(found)} rows in {SUMMARIES.name} for {observable!r} / {condition!r} / {statistic!r}")
    r = found[0]
    return Summary(r["quantity"], _number(r["value"]), _number(r["low"]), _number(r["high"]), _sd(r["spread"]), r["source"])
