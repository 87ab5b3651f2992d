"""Clinical numbers the behaviour tests assert, read from ``data/inflammatory_syndromes/summaries.tsv`` (each row has its source)."""

from __future__ import annotations

import csv
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
    source: str


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@lru_cache(maxsize=1)
def _rows() -> list[dict[str, str]]:
    with open(SUMMARIES, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def summary(observable: str, condition: str, statistic: str | None = None) -> Summary:
    """The one row for (observableId, conditionId[, statistic]); a KeyError names what is missing."""
    found = [r for r in _rows() if r["observableId"] == observable and r["conditionId"] == condition
             and (statistic is None or r["statistic"] == statistic)]
    if len(found) != 1:
        raise KeyError(f"{len(found)} rows in {SUMMARIES.name} for {observable!r} / {condition!r} / {statistic!r}")
    r = found[0]
    return Summary(r["quantity"], _number(r["value"]), _number(r["low"]), _number(r["high"]), r["source"])
