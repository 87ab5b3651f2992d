import re
import sys
from functools import lru_cache
from pathlib import Path

import libsbml
import numpy as np
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
import testmodels as T  # noqa: E402

from cytonet.errors import ModelSpecError  # noqa: E402
from cytonet.model.sbml import UNCHECKABLE_UNITS, check_sbml, consistency_counts, export_sbml, parse_unit, sbml_string  # noqa: E402


@lru_cache(maxsize=1)
def lps():
    from cytonet.scenarios import scenario_model

    return scenario_model("lps-endotoxemia")


@pytest.mark.parametrize("name", list(T.TEST_MODELS))
def test_export_is_consistent_l3v2_with_concentrations(name):
    text = sbml_string(T.TEST_MODELS[name]())
    doc = libsbml.readSBMLFromString(text)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    assert check_sbml(text) == []
    for i in range(doc.getModel().getNumSpecies()):
        s = doc.getModel().getSpecies(i)
        assert not s.getHasOnlySubstanceUnits() and s.isSetInitialConcentration() and not s.isSetInitialAmount()


def test_every_shipped_model_passes_libsbml_unit_checks():
    """No errors and no unit warnings except 'cannot be fully checked' for observables written with bare numbers."""
    from cytonet.model.catalog import shipped_models

    for name, spec in shipped_models().items():
        bare = sum(bool(re.search(r"(?<![A-Za-z_0-9.])\d", o.expression)) for o in spec.observables)
        counts = consistency_counts(sbml_string(spec))
        assert counts == ({("Warning", UNCHECKABLE_UNITS): bare} if bare else {}), name


def test_scenario_encoding_reads_cytonet_numbers():
    spec, rest = lps()
    m = libsbml.readSBMLFromString(sbml_string(spec, rest)).getModel()
    il6 = m.getSpecies("IL6")  # pg/mL in the 3 L blood compartment: substance ng, extent ng
    assert il6.getInitialConcentration() == pytest.approx(rest["IL6"], rel=1e-14) and il6.getCompartment() == "blood"
    ng = m.getUnitDefinition(il6.getSubstanceUnits()).getUnit(0)
    assert (ng.getKind(), ng.getExponent()) == (libsbml.UNIT_KIND_GRAM, 1) and ng.getMultiplier() == pytest.approx(1e-9)
    assert m.getExtentUnits() == il6.getSubstanceUnits() and not il6.isSetConversionFactor()
    # ng/mL species live in the same blood volume written in mL, so stoichiometries are mass ratios
    sil6r = m.getSpecies("sIL6R")
    assert m.getCompartment(sil6r.getCompartment()).getSize() == pytest.approx(3000.0)
    assert m.getSpecies("CRP").getCompartment() == m.getSpecies("CRP_secretion_delay_transit2").getCompartment()
    fwd = m.getReaction("IL6_sIL6R_binding_fwd")
    assert fwd.getReactant("sIL6R").getStoichiometry() == pytest.approx(2.38)  # 50 kDa / 21 kDa, from 0.00238 ng/pg
    assert fwd.getKineticLaw().getFormula() == "blood * kon_IL6_sIL6R * IL6 * sIL6R"
    # non-substance states are parameters with rate rules, carrying cytonet's number
    temp = m.getParameter("TEMP")
    assert temp.getValue() == pytest.approx(rest["TEMP"]) and 36.5 < temp.getValue() < 37.5
    assert m.getRateRule("TEMP") is not None and m.getSpecies("TEMP") is None
    transit = m.getSpecies("CRP_secretion_delay_transit1").getInitialConcentration()
    assert transit == pytest.approx(rest["CRP_secretion_delay_transit1"], rel=1e-14) and transit > 0
    assert m.getSpecies("LPS").getInitialConcentration() == pytest.approx(rest["LPS"] + 46.7, rel=1e-14)  # t = 0 bolus


def test_kinetic_laws_are_extent_per_time():
    spec, rest = lps()
    m = libsbml.readSBMLFromString(sbml_string(spec, rest)).getModel()
    extent = m.getUnitDefinition(m.getExtentUnits())
    per_hour = m.getUnitDefinition(m.getTimeUnits())
    for i in range(m.getNumReactions()):
        law = m.getReaction(i).getKineticLaw().getDerivedUnitDefinition()
        expected = libsbml.UnitDefinition.divide(extent, per_hour)
        assert libsbml.UnitDefinition.areEquivalent(law, expected), m.getReaction(i).getId()


def test_healthy_export_starts_and_stays_at_rest(tmp_path):
    """`model export-sbml SCENARIO` starts from the resting state, delay states included: nothing moves."""
    import roadrunner

    from cytonet.cli.model import app

    res = CliRunner().invoke(app, ["export-sbml", "healthy", str(tmp_path / "h.xml")])
    assert res.exit_code == 0 and "resting state" in res.output, res.output
    rr = roadrunner.RoadRunner(str(tmp_path / "h.xml"))
    rr.timeCourseSelections = ["time", "[CRP]", "[CRP_secretion_delay_transit3]", "[IL6]", "TEMP"]
    out = np.asarray(rr.simulate(0, 336, 15))
    np.testing.assert_allclose(out[:, 1:], np.broadcast_to(out[0, 1:], out[:, 1:].shape), rtol=1e-5)


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
    assert m.getSpecies("M").isSetConversionFactor()  # cells next to grams: a conversion factor of value 1
    assert m.getParameter(m.getSpecies("M").getConversionFactor()).getValue() == 1.0
    assert "assumption: test value" in m.getParameter("k_tnf").getNotesString()
    assert not m.getParameter("kc").getConstant()  # changed by the threshold event
    assert m.getParameter("k_tnf").getConstant()
    assert m.getEvent("lps_dose") is not None and m.getEvent("alarm").getTrigger().getPersistent()
    assert m.getReaction("il10_drip_flux").getKineticLaw().getFormula() == "blood * il10_drip_rate"
    assert m.getAssignmentRuleByVariable("ratio") is not None


def test_parse_unit():
    assert parse_unit("pg/mL") == [("gram", 1, -12, 1.0), ("litre", -1, -3, 1.0)]
    assert parse_unit("1/(pg/mL)/h") == [("gram", -1, -12, 1.0), ("litre", 1, -3, 1.0), ("second", -1, 0, 3600.0)]
    assert parse_unit("relative") == []
    assert parse_unit("degC/h") == [("second", -1, 0, 3600.0)]
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
    res = CliRunner().invoke(app, ["export-sbml", "lps-endotoxemi", str(tmp_path / "x.xml")])
    assert res.exit_code != 0 and "lps-endotoxemia" in str(res.exception)
