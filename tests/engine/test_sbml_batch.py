"""Imported SBML models in batch: on the factor kernels (lock-step included) when their rates are products
of factors, on the tape engine otherwise; every row as a single run gives, and as libroadrunner gives."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "model"))

from sbml_doc import KHOLODENKO_PARAMETERS, Doc, kholodenko_mapk  # noqa: E402

from cytonet.engine.batch import simulate_batch  # noqa: E402
from cytonet.engine.simulate import simulate  # noqa: E402
from cytonet.errors import ModelSpecError  # noqa: E402
from cytonet.model.catalog import shipped_models  # noqa: E402
from cytonet.model.compile import compile_model  # noqa: E402
from cytonet.model.sbml import sbml_string  # noqa: E402
from cytonet.model.sbml_factors import NotFactorForm, factor_model  # noqa: E402
from cytonet.model.sbml_import import load_sbml  # noqa: E402

T_MAPK = np.linspace(0.0, 3000.0, 61)  # model time (s): about two oscillations


def rel_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """Relative to the value, floored at 1e-6 of each column's range (values near zero compare absolutely)."""
    floor = np.maximum(1e-6 * np.abs(ref).max(axis=-2, keepdims=True), 1e-12)
    return float((np.abs(ours - ref) / np.maximum(np.abs(ref), floor)).max())


@pytest.fixture(scope="module")
def mapk(tmp_path_factory):
    path = kholodenko_mapk().write(tmp_path_factory.mktemp("mapk") / "BIOMD0000000010.xml")
    return path, load_sbml(path)


def table(n: int, names: list[str], base: dict[str, float], seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: base[k] * rng.uniform(0.7, 1.4, n) for k in names}


def test_biomodels_mapk_runs_in_lockstep_and_matches_single_runs_and_roadrunner(mapk):
    import roadrunner

    path, spec = mapk
    cols = table(12, ["V1", "Ki", "k3", "V9"], KHOLODENKO_PARAMETERS)
    ds = simulate_batch(spec, cols, float(T_MAPK[-1]), t_eval=T_MAPK, rtol=1e-10, atol=1e-12)
    assert ds.attrs["engine"] == "factor kernels" and ds.attrs["batch_method"] == "lockstep"
    assert (ds.status.values == 0).all()
    species = [s.id for s in spec.species]
    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = 1e-11, 1e-12
    rr.timeCourseSelections = ["time", *(f"[{s}]" for s in species)]
    for i in range(12):
        row = {k: float(v[i]) for k, v in cols.items()}
        one = simulate(spec, float(T_MAPK[-1]), t_eval=T_MAPK, rtol=1e-11, atol=1e-12, parameters=row)  # tape engine
        assert one.attrs["solver"].endswith("-tape")
        batch = ds.state.isel(patient=i).sel(species=species).values
        assert rel_error(batch, one.state.sel(species=species).values) < 1e-6
        rr.resetAll()
        for k, v in row.items():
            rr[k] = v
        ref = np.asarray(rr.simulate(times=T_MAPK))[:, 1:]
        assert rel_error(batch, ref) < 1e-6, i
        # the rows differ: the parameters reach the kernels
    assert np.ptp(ds.state.sel(species="MAPK_PP").values[:, -1]) > 1.0


def test_independent_and_lockstep_paths_agree_on_an_imported_model(mapk):
    _, spec = mapk
    cols = table(9, ["V1", "KK2"], KHOLODENKO_PARAMETERS, seed=5)
    a = simulate_batch(spec, cols, 1500.0, n_points=31, rtol=1e-10, atol=1e-12, method="lockstep")
    b = simulate_batch(spec, cols, 1500.0, n_points=31, rtol=1e-10, atol=1e-12, method="independent")
    assert b.attrs["batch_method"] == "independent" and b.attrs["engine"] == "factor kernels"
    assert rel_error(a.state.values, b.state.values) < 1e-7
    # parameters that vary are reported per run, the others at their value
    assert np.allclose(a.variable_value.sel(variable="V1").values[:, 0], cols["V1"])
    assert (a.variable_value.sel(variable="uVol").values == 1.0).all()


def test_imported_reference_network_lowers_onto_the_native_kernels(tmp_path):
    spec = shipped_models()["scenario:lps-endotoxemia"]
    path = tmp_path / "lps.xml"
    path.write_text(sbml_string(spec))
    imported = load_sbml(path)
    cm, native = factor_model(imported).model, compile_model(spec)
    idx = [cm.species.index(s) for s in native.species]
    x = native.x0 * 1.3 + 0.05
    xi = np.zeros(cm.n_species)
    xi[idx] = x
    assert np.allclose(cm.rhs(xi)[idx], native.rhs(x), rtol=1e-12, atol=1e-300)
    assert np.allclose(cm.jacobian(xi)[np.ix_(idx, idx)], native.jacobian(x), rtol=1e-10, atol=1e-300)
    # in batch: rows as single (tape) runs, readouts (assignment rules) included
    cols = table(8, ["k_LPS_clear", "k_IL6_renal", "K_LPS"], {q.id: q.value for q in spec.parameters})
    ds = simulate_batch(imported, cols, 24.0, rtol=1e-9, atol=1e-12)
    assert ds.attrs["engine"] == "factor kernels" and ds.attrs["batch_method"] == "lockstep"
    for i in (0, 7):
        one = simulate(imported, 24.0, rtol=1e-11, atol=1e-14, parameters={k: float(v[i]) for k, v in cols.items()})
        assert rel_error(ds.state.isel(patient=i).values, one.state.values) < 1e-6
        names = list(one.variable.values)
        assert rel_error(ds.variable_value.isel(patient=i).sel(variable=names).values, one.variable_value.values) < 1e-6


def write_with_event(tmp_path: Path) -> Path:
    doc = (Doc().compartment("c", 2.0).species("S", conc=4.0).param("k", 0.5).param("kick", 3.0)
           .reaction("decay", "c * k * S", [("S", 1)]).event("refill", "time >= 1.5", {"S": "S + kick"}))
    return doc.write(tmp_path / "event.xml")


def test_models_the_kernels_cannot_hold_run_in_batch_on_the_tape_engine(tmp_path):
    spec = load_sbml(write_with_event(tmp_path))
    with pytest.raises(NotFactorForm, match="event 'refill'"):
        factor_model(spec)
    cols = {"k": np.array([0.2, 0.5, 1.1]), "kick": np.array([1.0, 3.0, 0.0])}
    t = np.linspace(0.0, 3.0, 31)
    ds = simulate_batch(spec, cols, 3.0, t_eval=t, rtol=1e-10, atol=1e-12)
    assert ds.attrs["engine"] == "tape"
    for i in range(3):  # analytic: S = 4 exp(-k t), plus kick at t = 1.5
        k, kick = cols["k"][i], cols["kick"][i]
        exact = np.where(t < 1.5, 4.0 * np.exp(-k * t), (4.0 * np.exp(-k * 1.5) + kick) * np.exp(-k * (t - 1.5)))
        assert np.allclose(ds.state.isel(patient=i).sel(species="S").values, exact, rtol=1e-7)


def test_unknown_batch_column_of_an_imported_model_names_close_matches(mapk):
    _, spec = mapk
    with pytest.raises(ModelSpecError, match="did you mean V1"):
        simulate_batch(spec, {"V11": np.ones(3)}, 10.0)


@pytest.mark.parametrize("law, why", [
    ("c * k * k2 * S", "several parameters"),
    ("c * k * exp(-S)", "not a product of native factors"),
    ("c * k * S / (k2 + S * S)", "division by the sum"),
])
def test_rates_outside_the_factor_form_are_named(tmp_path, law, why):
    doc = Doc().compartment("c", 1.0).species("S", conc=1.0).param("k", 1.0).param("k2", 2.0).reaction("r", law, [("S", 1)])
    spec = load_sbml(doc.write(tmp_path / "m.xml"))
    with pytest.raises(NotFactorForm, match=f"reaction 'r'.*{why}"):
        factor_model(spec)


def test_rows_where_a_hill_factor_reads_a_negative_state_are_rerun_on_the_tape_engine(tmp_path):
    # X falls at a constant rate k0 through zero; Y is made at k X^2 / (K^2 + X^2), which SBML reads at X < 0 too
    # (the kernels would read max(X, 0)): analytic Y = k t - k K / k0 (atan(1 / K) - atan(X / K)), X = 1 - k0 t
    doc = (Doc().compartment("c", 1.0).species("X", conc=1.0).species("Y", conc=0.0)
           .param("k0", 0.1).param("k", 2.0).param("K", 0.5).param("n", 2.0)
           .reaction("fall", "c * k0", [("X", 1)]).reaction("make", "c * k * X^n / (K^n + X^n)", [], [("Y", 1)]))
    spec = load_sbml(doc.write(tmp_path / "m.xml"))
    assert factor_model(spec).clipped == ("X",)
    k0 = np.array([0.05, 0.08, 0.3, 0.6, 0.09, 0.5, 0.07, 0.2, 0.06])  # X < 0 before t = 10 where k0 > 0.1
    t = np.linspace(0.0, 10.0, 41)
    ds = simulate_batch(spec, {"k0": k0}, 10.0, t_eval=t, rtol=1e-10, atol=1e-12)
    assert ds.attrs["engine"] == "factor kernels" and ds.attrs["tape_rows"] == int((k0 > 0.1).sum())
    X = 1.0 - k0[:, None] * t
    Y = 2.0 * t - 2.0 * 0.5 / k0[:, None] * (np.arctan(1 / 0.5) - np.arctan(X / 0.5))
    assert np.allclose(ds.state.sel(species="X").values, X, rtol=1e-8, atol=1e-10)
    assert np.allclose(ds.state.sel(species="Y").values, Y, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("with_event", [False, True])
def test_a_column_naming_a_rate_rule_variable_sets_its_initial_value(tmp_path, with_event):
    doc = Doc().compartment("c", 1.0).param("A", 1.0, constant=False).param("k", 0.4).rule("A", "-k * A", kind="rate")
    if with_event:  # keeps the model on the tape engine
        doc.param("late", 0.0, constant=False).event("later", "time >= 100", {"late": "1"})
    spec = load_sbml(doc.write(tmp_path / "m.xml"))
    a0, t = np.array([1.0, 2.0, 3.5]), np.linspace(0.0, 5.0, 11)
    ds = simulate_batch(spec, {"A": a0}, 5.0, t_eval=t, rtol=1e-10, atol=1e-12)
    assert ds.attrs["engine"] == ("tape" if with_event else "factor kernels")
    assert np.allclose(ds.variable_value.sel(variable="A").values, a0[:, None] * np.exp(-0.4 * t), rtol=1e-8)
