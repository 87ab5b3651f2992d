"""Graph structure and exports read back with independent readers (json, networkx, csv)."""

import csv
import json
from pathlib import Path

import networkx as nx
import pytest

from cytonet.errors import CytonetError
from cytonet.knowledge.base import KnowledgeBase
from cytonet.knowledge.export import export
from cytonet.knowledge.graph import build_graph
from cytonet.knowledge.schema import Cytokine


def test_graph_edges(small_kb: KnowledgeBase) -> None:
    g = build_graph(small_kb)
    assert g.nodes["cytokine:IL6"] == {"kind": "cytokine", "id": "IL6", "name": "IL-6"}
    assert g.has_edge("cell:CL:0000235", "cytokine:IL6", key="secretes")
    assert g.has_edge("cytokine:IL6", "receptor:IL6R/IL6ST", key="binds")
    assert g.has_edge("receptor:IL6R/IL6ST", "cell:CL:0000899", key="expressed_on")
    assert g.has_edge("receptor:IL6R/IL6ST", "pathway:JAK-STAT3", key="activates")
    assert g.has_edge("pathway:NFKB-canonical", "cytokine:TNF", key="induces")
    assert g.has_edge("drug:tocilizumab", "receptor:IL6R/IL6ST", key="blocks")
    assert g.has_edge("drug:ruxolitinib", "pathway:JAK-STAT3", key="blocks")
    # the path the talk() relation follows: macrophage -> IL-23 -> its receptor -> Th17
    assert nx.has_path(g, "cell:CL:0000235", "cell:CL:0000899")


def test_json_export_round_trips(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    (path,) = export(small_kb, "json", tmp_path / "kb.json")
    doc = json.loads(path.read_text())
    assert [c["id"] for c in doc["cytokines"]] == ["IL6", "IL16", "TNF", "IL23A"]
    assert doc["references"][0]["id"] == "pmid:17426506"
    assert Cytokine.model_validate(doc["cytokines"][0]) == small_kb.cytokine("IL6")


def test_graphml_export_reads_back(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    (path,) = export(small_kb, "graphml", tmp_path / "kb.graphml")
    g = nx.read_graphml(path, force_multigraph=True)
    assert g.number_of_nodes() == build_graph(small_kb).number_of_nodes() == 14
    assert g.nodes["drug:tocilizumab"]["kind"] == "drug"
    relations = {d["relation"] for _u, _v, d in g.edges(data=True)}
    assert relations == {"secretes", "binds", "expressed_on", "activates", "induces", "blocks"}


def test_csv_export_reads_back(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    written = export(small_kb, "csv", tmp_path / "csv")
    assert sorted(p.name for p in written) == sorted(
        ["references.csv", "cytokines.csv", "receptors.csv", "pathways.csv", "cells.csv", "diseases.csv",
         "drugs.csv", "cell_secretions.csv"]
    )  # fmt: skip
    with open(tmp_path / "csv" / "cytokines.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[2]["aliases"] == "TNF-α; cachectin" and rows[0]["receptors"] == "IL6R/IL6ST"
    with open(tmp_path / "csv" / "cell_secretions.csv", newline="") as f:
        sec = list(csv.reader(f))
    assert sec[0] == ["cell", "cytokine", "stimulus"] and ["CL:0000235", "IL6", "LPS/TLR4"] in sec


def test_unknown_format_and_csv_onto_a_file(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(CytonetError, match="unknown export format 'xml'; use one of json, graphml, csv"):
        export(small_kb, "xml", tmp_path / "x")
    (tmp_path / "f").write_text("")
    with pytest.raises(CytonetError, match="is a file"):
        export(small_kb, "csv", tmp_path / "f")
