"""SBML import: each construct against an analytic solution, each refusal with its message."""

from pathlib import Path

import numpy as np
import pytest
from sbml_doc import Doc

from cytonet.engine.simulate import simulate
from cytonet.errors import ModelSpecError
from cytonet.model.sbml_import import load_sbml, read_sbml
from cytonet.model.tape_model import compile_tape

T = np.linspace(0.0, 4.0, 41)


def run(doc: Doc, tmp_path: Path, t=T, **kw):
    spec = load_sbml(doc.write(tmp_path / "m.xml"))
    ds = simulate(spec, float(t[-1]), t_eval=t, rtol=1e-10, atol=1e-14, **kw)
    return spec, ds


def value(ds, name):
    if name in ds.species.values:
        return ds.state.sel(species=name).values
    return ds.variable_value.sel(variable=name).values


def test_concentration_species_in_a_compartment_decay_by_mass_action(tmp_path):
    # kinetic law in substance/time: d(amount)/dt = -k * [S] * V, so [S] = [S]0 exp(-k t) whatever V
    doc = Doc().compartment("c", 2.5).species("S", amount=5.0).param("k", 0.7).reaction("r", "k * S * c", [("S", 1)])
    spec, ds = run(doc, tmp_path)
    assert spec.species[0].only_substance is False and spec.species[0].initial == pytest.approx(2.0)
    np.testing.assert_allclose(value(ds, "S"), 2.0 * np.exp(-0.7 * T), rtol=1e-8)


def test_amount_species_boundary_and_constant_species(tmp_path):
    doc = (Doc().compartment("c", 2.0).species("A", amount=1.0, only_substance=True).species("B", conc=3.0, boundary=True)
           .species("K", conc=1.0, constant=True).param("k", 0.5)
           .reaction("make", "k * B * K", [("B", 1)], [("A", 2)]))
    _, ds = run(doc, tmp_path)
    # B is a boundary species: the reaction does not drain it; A gains 2 per reaction event
    np.testing.assert_allclose(value(ds, "B"), 3.0, rtol=1e-12)
    np.testing.assert_allclose(value(ds, "A"), 1.0 + 2 * 0.5 * 3.0 * T, rtol=1e-9)


def test_local_parameters_are_renamed_and_shadow_globals(tmp_path):
    doc = (Doc().compartment().species("S", amount=1.0).param("k", 100.0)
           .reaction("r", "k * S", [("S", 1)], local={"k": 0.3}))
    spec, ds = run(doc, tmp_path)
    assert {p.id for p in spec.parameters} == {"k", "r_k"} and "r_k" in spec.reactions[0].rate
    np.testing.assert_allclose(value(ds, "S"), np.exp(-0.3 * T), rtol=1e-8)


def test_function_definitions_piecewise_and_time(tmp_path):
    doc = (Doc().compartment().species("S", amount=0.0).function("f", "lambda(x, y, x * y)")
           .reaction("r", "piecewise(f(2, time), time < 2, 1)", [], [("S", 1)]))
    _, ds = run(doc, tmp_path)
    expected = np.where(T < 2, T**2, 4.0 + (T - 2))
    np.testing.assert_allclose(value(ds, "S"), expected, rtol=1e-8, atol=1e-12)


def test_assignment_rate_and_initial_assignment(tmp_path):
    doc = (Doc().compartment().species("S", amount=1.0).param("k", 2.0).param("v", 0.0, constant=False)
           .param("y", constant=False).initial("S", "3 * k").rule("v", "k", "rate").rule("y", "v^2 + S"))
    _, ds = run(doc, tmp_path)
    np.testing.assert_allclose(value(ds, "S"), 6.0)
    np.testing.assert_allclose(value(ds, "v"), 2.0 * T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(value(ds, "y"), 4.0 * T**2 + 6.0, rtol=1e-9)


def test_conversion_factor_scales_the_species_flux(tmp_path):
    doc = (Doc().compartment().species("A", amount=0.0, only_substance=True, cf="cf").param("cf", 3.0)
           .reaction("r", "1", [], [("A", 1)]))
    _, ds = run(doc, tmp_path)
    np.testing.assert_allclose(value(ds, "A"), 3.0 * T, rtol=1e-9)


def test_delayed_event_with_values_from_trigger_time(tmp_path):
    # x = t; when x >= 1, after 0.5 set y to x as it was at the trigger (1.0), not at execution (1.5)
    doc = (Doc().compartment().species("S", amount=1.0).param("x", 0.0, constant=False).param("y", 0.0, constant=False)
           .rule("x", "1", "rate").event("e", "x >= 1", {"y": "x"}, delay="0.5"))
    _, ds = run(doc, tmp_path)
    np.testing.assert_allclose(value(ds, "y"), np.where(T >= 1.5, 1.0, 0.0), atol=1e-9)


def test_values_at_execution_time_and_priorities(tmp_path):
    doc = (Doc().compartment().species("S", amount=1.0).param("x", 0.0, constant=False).param("y", 0.0, constant=False)
           .rule("x", "1", "rate").event("late", "x >= 1", {"y": "x"}, delay="0.5", trigger_time=False)
           .event("low", "time >= 3", {"y": "10"}, priority="1").event("high", "time >= 3", {"y": "20"}, priority="2"))
    _, ds = run(doc, tmp_path)
    y = value(ds, "y")
    assert y[T == 2.0][0] == pytest.approx(1.5, abs=1e-9)
    assert y[T == 3.5][0] == 10.0  # both fire at t = 3, the higher priority first, so the lower one's value stays


def test_non_persistent_event_is_dropped_when_its_trigger_turns_false(tmp_path):
    doc = (Doc().compartment().species("S", amount=1.0).param("y", 0.0, constant=False)
           .event("e", "time >= 1 && time < 1.2", {"y": "1"}, delay="0.5", persistent=False)
           .event("f", "time >= 2 && time < 3", {"S": "7"}, delay="0.5", persistent=False))
    _, ds = run(doc, tmp_path)
    assert value(ds, "y").max() == 0.0 and value(ds, "S")[-1] == pytest.approx(7.0)


def test_trigger_true_at_start_fires_only_with_initial_value_false(tmp_path):
    doc = (Doc().compartment().species("S", amount=1.0).param("a", 0.0, constant=False).param("b", 0.0, constant=False)
           .event("fires", "time >= 0", {"a": "1"}, initial_value=False).event("waits", "time >= 0", {"b": "1"}))
    _, ds = run(doc, tmp_path)
    assert value(ds, "a")[0] == 1.0 and value(ds, "b").max() == 0.0


def test_event_on_a_concentration_keeps_amounts_consistent_with_a_changing_compartment(tmp_path):
    doc = (Doc().compartment("c", 1.0, constant=False).species("S", conc=2.0)
           .event("grow", "time >= 1", {"c": "4"}))
    _, ds = run(doc, tmp_path)
    # the amount (2) is kept, so the concentration drops to 2 / 4
    np.testing.assert_allclose(value(ds, "S")[T >= 1.0], 0.5)
    np.testing.assert_allclose(value(ds, "S")[T < 1.0], 2.0)


def test_linear_algebraic_rule_becomes_an_assignment(tmp_path):
    doc = (Doc().compartment().species("S", amount=1.0).param("k", 0.5).param("z", 0.0, constant=False)
           .reaction("r", "k * S", [("S", 1)]).rule("", "2 * z - S", "algebraic"))
    spec, ds = run(doc, tmp_path)
    assert [(r.variable, r.kind) for r in spec.rules] == [("z", "assignment")]
    np.testing.assert_allclose(value(ds, "z"), 0.5 * np.exp(-0.5 * T), rtol=1e-8)


def test_delay_reads_the_past_and_the_initial_state_before_the_start(tmp_path):
    # dS/dt = -k S(t - 1) with S = 1 before the start: S = 1 - k t on [0, 1], then S(t) = 1 - k t + k^2 (t - 1)^2 / 2 on [1, 2]
    t = np.linspace(0.0, 2.0, 41)
    doc = (Doc().compartment().species("S", amount=1.0, only_substance=True).param("k", 0.5).param("lag", 1.0)
           .param("echo", constant=False).reaction("r", "k * delay(S, lag)", [("S", 1)]).rule("echo", "delay(S, lag)"))
    _, ds = run(doc, tmp_path, t=t)
    k = 0.5
    expected = np.where(t <= 1, 1 - k * t, 1 - k * t + k**2 * (t - 1) ** 2 / 2)
    np.testing.assert_allclose(value(ds, "S"), expected, rtol=1e-7)
    np.testing.assert_allclose(value(ds, "echo"), np.where(t <= 1, 1.0, 1 - k * (t - 1)), rtol=1e-7)


def test_rate_of_and_avogadro(tmp_path):
    doc = (Doc().compartment().species("S", amount=1.0).param("k", 0.5).param("d", constant=False).param("n", constant=False)
           .reaction("r", "k * S", [("S", 1)]).rule("d", "rateOf(S)").rule("n", "avogadro * S"))
    _, ds = run(doc, tmp_path)
    np.testing.assert_allclose(value(ds, "d"), -0.5 * np.exp(-0.5 * T), rtol=1e-8)
    np.testing.assert_allclose(value(ds, "n")[0], 6.02214179e23)


def test_python_keywords_as_ids_are_renamed(tmp_path):
    doc = Doc().compartment().species("S", amount=1.0).param("lambda", 0.2).reaction("r", "lambda * S", [("S", 1)])
    imp = read_sbml(doc.write(tmp_path / "m.xml"))
    assert imp.renamed == {"lambda": "lambda_"} and imp.spec_id("lambda") == "lambda_"
    ds = simulate(imp.spec, 4.0, t_eval=T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(value(ds, "S"), np.exp(-0.2 * T), rtol=1e-8)


def test_level2_version4_model(tmp_path):
    doc = Doc(2, 4).compartment("c", 2.0).species("S", conc=1.0).param("k", 0.4).reaction("r", "k * S * c", [("S", 1)])
    _, ds = run(doc, tmp_path)
    np.testing.assert_allclose(value(ds, "S"), np.exp(-0.4 * T), rtol=1e-8)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda d: d.species("S", amount=1.0).param("p", 1.0, constant=False).rule("p", "delay(S, time / 2)"),
         "delay lag (time() / 2.0) changes with the state or time"),
        (lambda d: d.species("S", amount=1.0).param("p", 1.0, constant=False).rule("p", "delay(rateOf(S), 1)"),
         "delay() of an expression with rateOf() is not supported"),
        (lambda d: d.species("S", amount=1.0, constant=True).param("p", 1.0, constant=False).rule("", "p^2 - S", "algebraic"),
         "algebraic rule #1 (((p ** 2.0) - S) = 0) is not linear in 'p'"),
        (lambda d: d.species("S", amount=1.0).reaction("r", "S", [("S", 1)]).rule("", "S - 1", "algebraic"),
         "does not single out one variable"),
        (lambda d: d.species("S").param("k", 1.0), "species 'S' has no initial amount or concentration"),
        (lambda d: d.species("S", amount=1.0).param("k"), "parameter 'k' has no value"),
        (lambda d: d.species("S", amount=1.0).reaction("r", "undefined_f(S)", [("S", 1)]), "call of unknown function"),
        (lambda d: d.species("S", amount=1.0).function("f", "lambda(x, x * S)").reaction("r", "f(2)", [("S", 1)]),
         "function definition 'f' uses 'S', which is not one of its arguments"),
    ],
)
def test_unsupported_constructs_are_refused_naming_the_element(build, message, tmp_path):
    doc = build(Doc().compartment())
    with pytest.raises(ModelSpecError) as info:
        compile_tape(load_sbml(doc.write(tmp_path / "m.xml")))  # some are refused on import, some when lowered
    assert message in str(info.value)


def test_fast_reactions_are_refused(tmp_path):
    doc = Doc(3, 1).compartment().species("S", amount=1.0).reaction("r", "S", [("S", 1)])
    doc.m.getReaction(0).setFast(True)
    with pytest.raises(ModelSpecError, match="reaction 'r' is fast"):
        load_sbml(doc.write(tmp_path / "m.xml"))


def test_missing_or_invalid_file(tmp_path):
    with pytest.raises(ModelSpecError, match="no such SBML file"):
        load_sbml(tmp_path / "nope.xml")
    bad = tmp_path / "bad.xml"
    bad.write_text("<sbml><model><listOfSpecies><species/></listOfSpecies></model>")
    with pytest.raises(ModelSpecError, match="not valid SBML"):
        load_sbml(bad)


def _with_layout(level: int, version: int, render: bool = False) -> Doc:
    """A decaying species and a diagram of it (layout, and render on Level 3), written by libsbml."""
    import libsbml

    d = Doc(level, version).compartment("c", 1.0).species("S", conc=2.0).param("k", 0.5).reaction("r", "c * k * S", [("S", 1)])
    if level == 2:
        assert d.doc.enablePackage(libsbml.LayoutExtension.getXmlnsL2(), "layout", True) == libsbml.LIBSBML_OPERATION_SUCCESS
    else:
        assert d.doc.enablePackage(libsbml.LayoutExtension.getXmlnsL3V1V1(), "layout", True) == libsbml.LIBSBML_OPERATION_SUCCESS
        d.doc.setPackageRequired("layout", False)
        if render:
            assert d.doc.enablePackage(libsbml.RenderExtension.getXmlnsL3V1V1(), "render", True) == libsbml.LIBSBML_OPERATION_SUCCESS
            d.doc.setPackageRequired("render", False)
    ns = libsbml.LayoutPkgNamespaces(level, version)
    layout = d.doc.getModel().getPlugin("layout").createLayout()
    layout.setId("diagram")
    layout.setDimensions(libsbml.Dimensions(ns, 200.0, 100.0))
    glyph = layout.createSpeciesGlyph()
    glyph.setId("S_glyph")
    glyph.setSpeciesId("S")
    glyph.setBoundingBox(libsbml.BoundingBox(ns, "S_box", 10.0, 10.0, 40.0, 20.0))
    return d


@pytest.mark.parametrize("level, version, render", [(2, 4, False), (3, 1, True), (3, 2, True)])
def test_layout_and_render_packages_are_ignored_with_a_note(tmp_path, level, version, render):
    d = _with_layout(level, version, render)
    if (level, version) == (3, 1):
        d.m.getReaction("r").setFast(False)
    path = d.write(tmp_path / "m.xml")
    assert "S_glyph" in path.read_text()
    imp = read_sbml(path)
    noted = [n.split("'")[1] for n in imp.notes]  # libsbml reads a Level 2 layout annotation with render too
    assert "layout" in noted and set(noted) <= {"layout", "render"} and ("render" in noted or not render)
    ds = simulate(imp.spec, 4.0, t_eval=T, rtol=1e-10, atol=1e-14)
    assert np.allclose(ds.state.sel(species="S").values, 2.0 * np.exp(-0.5 * T), rtol=1e-8)


@pytest.mark.parametrize("package", ["comp", "fbc", "distrib"])
def test_packages_with_semantics_are_refused_by_name(tmp_path, package):
    import libsbml

    d = Doc(3, 1).compartment("c", 1.0).species("S", conc=2.0).param("k", 0.5).reaction("r", "c * k * S", [("S", 1)])
    d.m.getReaction("r").setFast(False)
    ext = libsbml.SBMLExtensionRegistry.getInstance().getExtension(package)
    if ext is None:
        pytest.skip(f"this libsbml build has no {package} package")
    uri = ext.getURI(3, 1, 1)
    assert d.doc.enablePackage(uri, package, True) == libsbml.LIBSBML_OPERATION_SUCCESS
    d.doc.setPackageRequired(package, package != "fbc")  # as the packages' specifications ask
    path = d.write(tmp_path / "m.xml")
    with pytest.raises(ModelSpecError, match=f"SBML package '{package}' is not supported"):
        read_sbml(path)
