import sys
from pathlib import Path

import libsbml
import numpy as np
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
import testmodels as T  # noqa: E402

from cytonet.errors import ModelSpecError  # noqa: E402
from cytonet.model.sbml import check_sbml, export_sbml, parse_unit, sbml_string  # noqa: E402


@pytest.mark.parametrize("name", list(T.TEST_MODELS))
def test_export_is_consistent_l3v2(name):
    text = sbml_string(T.TEST_MODELS[name]())
    doc = libsbml.readSBMLFromString(text)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    assert check_sbml(text) == []
    for i in range(doc.getModel().getNumSpecies()):
        assert doc.getModel().getSpecies(i).getHasOnlySubstanceUnits()


def test_units_annotations_notes_and_events():
    spec = T.network().model_dump(mode="json")
    spec["species"][2]["annotation"] = {"hgnc": "TNF"}
    spec["species"][1]["annotation"] = {"cell_ontology": "CL:0000235"}
    from cytonet.model.spec import spec_from_dict

    m = libsbml.readSBMLFromString(sbml_string(spec_from_dict(spec))).getModel()
    assert m.getTimeUnits() == "u_h"
    hour = m.getUnitDefinition("u_h").getUnit(0)
    assert (hour.getKind(), hour.getExponent(), hour.getMultiplier()) == (libsbml.UNIT_KIND_SECOND, 1, 3600.0)
    assert "hgnc.symbol:TNF" in m.getSpecies("TNF").getAnnotationString()
    assert "CL:0000235" in m.getSpecies("M").getAnnotationString()
    assert "assumption: test value" in m.getParameter("k_tnf").getNotesString()
    assert not m.getParameter("kc").getConstant()  # changed by the threshold event
    assert m.getEvent("lps_dose") is not None and m.getEvent("alarm").getTrigger().getPersistent()
    assert m.getReaction("il10_drip_flux").getKineticLaw().getFormula() == "il10_drip_rate"
    assert m.getAssignmentRuleByVariable("ratio") is not None


def test_parse_unit():
    assert parse_unit("pg/mL") == [("gram", 1, -12, 1.0), ("litre", -1, -3, 1.0)]
    assert parse_unit("1/(pg/mL)/h") == [("gram", -1, -12, 1.0), ("litre", 1, -3, 1.0), ("second", -1, 0, 3600.0)]
    assert parse_unit("relative") == []
    assert parse_unit("furlongs") is None


def test_export_writes_file_and_cli(tmp_path):
    from cytonet.cli.model import app
    from cytonet.model.spec import dump_spec

    out = export_sbml(T.dosing(), tmp_path / "d.xml")
    assert check_sbml(out.read_text()) == []
    dump_spec(T.binding(), tmp_path / "b.yaml")
    res = CliRunner().invoke(app, ["export-sbml", str(tmp_path / "b.yaml"), str(tmp_path / "b.xml")])
    assert res.exit_code == 0, res.output
    assert libsbml.readSBML(str(tmp_path / "b.xml")).getModel().getId() == "binding"
    with pytest.raises(ModelSpecError):
        CliRunner().invoke(app, ["export-sbml", str(tmp_path / "missing.yaml"), str(tmp_path / "x.xml")], catch_exceptions=False)
