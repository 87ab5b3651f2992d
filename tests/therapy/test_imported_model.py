"""A drug on an imported SBML model equals the drug on the same network written as a native spec."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "model"))

from sbml_doc import Doc  # noqa: E402

from cytonet.engine.simulate import simulate  # noqa: E402
from cytonet.errors import TherapyError  # noqa: E402
from cytonet.model.sbml_import import load_sbml  # noqa: E402
from cytonet.model.spec import ModelSpec  # noqa: E402
from cytonet.therapy import Regimen, treat  # noqa: E402
from cytonet.therapy.imported import treat_imported  # noqa: E402

T = np.linspace(0.0, 400.0, 81)
R0 = 2.0  # the imported model's receptor in its own unit; cytonet's native receptor is relative (1 = healthy pool)


def native_receptor() -> ModelSpec:
    """Membrane IL-6R with turnover kr, relative; soluble IL-6R absent (0, never made), so only the membrane binds."""
    why = {"assumption": "test network"}
    return ModelSpec.model_validate({
        "id": "receptor", "compartments": [{"id": "blood", "volume": 3.0}],
        "species": [{"id": "IL6R", "compartment": "blood", "initial": 1.0, "unit": "relative", "kind": "receptor"},
                    {"id": "sIL6R", "compartment": "blood", "initial": 0.0, "unit": "ng/mL", "kind": "receptor"}],
        "parameters": [{"id": "kr", "value": 0.05, "unit": "1/h", **why}],
        "reactions": [{"id": "made", "rate_law": "constant", "products": {"IL6R": 1}, "params": {"k": "kr"}},
                      {"id": "lost", "rate_law": "first_order", "reactants": {"IL6R": 1}, "params": {"k": "kr"}}]})


def receptor_doc() -> Doc:
    """The same receptor as an SBML model: R (R0 at rest) in a 0.5 L compartment."""
    return (Doc().compartment("cell", 0.5).species("R", conc=R0, comp="cell").param("kr", 0.05).param("R_rest", R0)
            .reaction("made", "cell * kr * R_rest", [], [("R", 1)]).reaction("lost", "cell * kr * R", [("R", 1)]))


@pytest.mark.parametrize("regimen", [None, Regimen("162 mg", route="sc", start="24h", every="168h", doses=2)])
def test_tocilizumab_on_an_imported_receptor_matches_the_native_network(tmp_path, regimen):
    spec = load_sbml(receptor_doc().write(tmp_path / "receptor.xml"))
    treated = treat_imported(spec, "tocilizumab", {"IL6R": "R"}, regimen)
    ref = simulate(treat(native_receptor(), "tocilizumab", regimen), float(T[-1]), t_eval=T, rtol=1e-10, atol=1e-14)
    ours = simulate(treated, float(T[-1]), t_eval=T, rtol=1e-10, atol=1e-14)
    r_ref, r_ours = ref.state.sel(species="IL6R").values, ours.state.sel(species="R").values / R0
    c_ref, c_ours = (x.state.sel(species="tocilizumab_central").values for x in (ref, ours))
    assert r_ref.min() < 0.1  # the drug takes most of the receptor
    assert np.allclose(r_ours, r_ref, rtol=1e-7, atol=1e-9)
    assert np.allclose(c_ours, c_ref, rtol=1e-7, atol=1e-7 * c_ref.max())
    occ = ours.variable_value.sel(variable="tocilizumab_occupancy").values
    assert np.allclose(occ, ref["tocilizumab_occupancy"].values, atol=1e-8)


def test_untreated_part_of_the_model_is_unchanged(tmp_path):
    spec = load_sbml(receptor_doc().write(tmp_path / "receptor.xml"))
    treated = treat_imported(spec, "tocilizumab", {"IL6R": "R"})
    assert [r.model_dump() for r in treated.reactions[:2]] == [r.model_dump() for r in spec.reactions]
    assert {"tocilizumab_central", "tocilizumab_IL6R"} <= set(treated.species_ids)


@pytest.mark.parametrize("drug, targets, message", [
    ("tocilizumab", {"IL6R": "RR"}, "model 'm' has no species 'RR'; did you mean R?"),
    ("tocilizumab", {"IL6RA": "R"}, "'IL6RA' is not a target of tocilizumab (its targets: IL6R, sIL6R); did you mean IL6R"),
    ("tocilizumab", {"sIL6R": "R"}, "a soluble target binds by mass"),
    ("tocilizumab", {}, "map a target of tocilizumab"),
    ("dexamethasone", {"IL6R": "R"}, "only drugs that bind a target"),
])
def test_bad_target_maps_are_explained(tmp_path, drug, targets, message):
    spec = load_sbml(receptor_doc().write(tmp_path / "receptor.xml"))
    with pytest.raises(TherapyError, match=None) as err:
        treat_imported(spec, drug, targets)
    assert message in str(err.value)
