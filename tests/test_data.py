"""The human data under data/: PEtab tables that refer to the reference network, and every number with a source."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from cytonet.model.build import reference_network

DATA = Path(__file__).resolve().parents[1] / "data"
PETAB = sorted(p.parent for p in DATA.glob("*/measurements.tsv"))
SUMMARIES = sorted(DATA.glob("*/summaries.tsv"))


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_there_is_data() -> None:
    assert PETAB and SUMMARIES


@pytest.mark.parametrize("folder", PETAB, ids=lambda p: p.name)
def test_petab_tables_refer_to_each_other_and_to_the_network(folder: Path) -> None:
    net = reference_network()
    names = set(net.species_ids) | {o.id for o in net.observables}
    observables = {r["observableId"]: r for r in rows(folder / "observables.tsv")}
    conditions = {r["conditionId"]: r for r in rows(folder / "conditions.tsv")}
    for r in observables.values():
        symbols = set(re.findall(r"[A-Za-z_]\w*", r["observableFormula"]))
        assert symbols and symbols <= names, r["observableFormula"]  # species / observables of the network, and numbers
        assert r["noiseDistribution"] in ("normal", "laplace")
    for c in conditions.values():
        assert set(c) - {"conditionId", "conditionName"} <= set(net.species_ids) | {p.id for p in net.parameters}
    for m in rows(folder / "measurements.tsv"):
        assert m["observableId"] in observables and m["simulationConditionId"] in conditions
        assert float(m["time"]) >= 0 and float(m["measurement"]) >= 0 and m["datasetId"]


@pytest.mark.parametrize("path", SUMMARIES, ids=lambda p: p.parent.name)
def test_every_summary_number_names_its_source_and_where_in_it(path: Path) -> None:
    readme = (DATA / "README.md").read_text()
    for r in rows(path):
        assert r["value"] and r["source"] and r["location"], r
        assert r["location"] in ("abstract", "introduction", "table", "figure", "digitised figure", "secondary summary"), r
        author = r["source"].split()[0]
        assert author in readme, f"{author} is not described in data/README.md"
