"""``model export-sbml`` and ``simulate --model``: hostile spec and SBML files, and output paths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from hostile_helpers import alias_bomb, deep_nesting, run_cli

SPEC = """id: tiny
compartments: [{id: c, volume: 1.0, unit: L}]
species: [{id: A, compartment: c, initial: 1.0, unit: pg/mL}]
parameters: [{id: k, value: %s, unit: 1/h, assumption: test}]
reactions: [{id: r, reactants: {A: 1}, products: {}, rate_law: mass_action, params: {k: k}}]
"""


@pytest.mark.parametrize(("name", "content", "expect"), [
    ("bin.yaml", os.urandom(2048) + b"\0", "binary file"),
    ("l1.yaml", (SPEC % "1.0").replace("test", "caf\xe9").encode("latin-1"), "not UTF-8"),
    ("inf.yaml", (SPEC % ".inf").encode(), "finite number"),
    ("nan.json", json.dumps({"id": "x", "parameters": [{"id": "k", "value": float("nan")}]}).encode(), "NaN is not a finite number"),
    ("big.json", json.dumps(yaml.safe_load(SPEC % "1.0")).replace('"value": 1.0', '"value": 1e999').encode(),
     "parameters.0.value: Input should be a finite number"),
    ("tag.yaml", b"!!python/object/apply:os.system ['touch pwned']\n", "no tags"),
    ("dup.yaml", (SPEC % "1.0").replace("id: tiny", "id: tiny\nid: other").encode(), "key 'id' appears twice"),
    ("broken.yaml", b"species: [", "not valid YAML"),
    ("long.yaml", ((SPEC % "1.0") + "observables: [{id: o, expression: '" + "+".join(["A"] * 20_000) + "'}]\n").encode(),
     "longer than 20000 characters"),
    ("sum.yaml", ((SPEC % "1.0") + "observables: [{id: o, expression: '" + "+".join(["A"] * 500) + "'}]\n").encode(),
     "nested deeper than 200 levels"),
    ("paren.yaml", ((SPEC % "1.0") + "observables: [{id: o, expression: '" + "(" * 5_000 + "A" + ")" * 5_000 + "'}]\n").encode(),
     "cannot parse"),
])
def test_spec_files(refused, scratch: Path, name: str, content: bytes, expect: str) -> None:
    (scratch / name).write_bytes(content)
    refused(["model", "export-sbml", name, "m.xml"], expect)


def test_spec_bombs_stay_small(refused_in_subprocess, scratch: Path) -> None:
    (scratch / "bomb.yaml").write_text(alias_bomb("species"))
    (scratch / "deep.json").write_text(deep_nesting(200_000))
    refused_in_subprocess(["model", "export-sbml", "bomb.yaml", "m.xml"], "aliases counted each time")
    refused_in_subprocess(["model", "export-sbml", "deep.json", "m.xml"], "nested deeper than 64 levels")


def test_export_sbml_never_replaces_a_user_file(refused, scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (scratch / "s.yaml").write_text(SPEC % "1.0")
    refused(["model", "export-sbml", "s.yaml", "report.html"], "add --overwrite")
    refused(["model", "export-sbml", "s.yaml", "notes"], "is a folder")
    refused(["model", "export-sbml", "missing.yaml", "m.xml"], "cannot read it")
    ok = run_cli(["model", "export-sbml", "s.yaml", "report.html", "--overwrite"], capsys)
    assert ok.code == 0 and "<sbml" in (scratch / "report.html").read_text()


def test_sbml_entity_bomb_and_binary(refused, scratch: Path) -> None:
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    (scratch / "bomb.xml").write_text(f'<?xml version="1.0"?><!DOCTYPE sbml [{entities}]><sbml>&e9;</sbml>\n')
    (scratch / "bin.xml").write_bytes(os.urandom(1024) + b"\0")
    refused(["simulate", "--model", "bomb.xml", "--hours", "1", "--out", "run"], "declares a DOCTYPE or XML entities")
    refused(["simulate", "--model", "bin.xml", "--hours", "1", "--out", "run"], "binary file")


def test_import_sbml_never_replaces_a_user_file(refused) -> None:
    refused(["model", "import-sbml", "missing.xml", "--out", "report.html"], "add --overwrite")


def test_fit_reads_problem_files_within_limits(refused, scratch: Path) -> None:
    pytest.importorskip("petab")
    (scratch / "bomb.yaml").write_text(alias_bomb("problems"))
    refused(["fit", "bomb.yaml", "--out", "fitted"], "aliases counted each time")
    refused(["fit", "bomb.yaml", "--out", "."], "holds files cytonet did not write")
