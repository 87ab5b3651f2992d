"""Every shipped model and every test model: cytonet == libroadrunner on the exported SBML."""

import numpy as np
import pytest

import testmodels as T
from cytonet.engine.simulate import simulate
from cytonet.model.catalog import shipped_models
from cytonet.model.sbml import sbml_string

MODELS = {**{f"test:{k}": f for k, f in T.TEST_MODELS.items()}, **{k: (lambda s=s: s) for k, s in shipped_models().items()}}


def roadrunner_run(sbml: str, t: np.ndarray, species: list[str]) -> np.ndarray:
    import roadrunner

    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-18
    rr.integrator.maximum_num_steps = 1_000_000
    rr.timeCourseSelections = ["time", *species]
    return np.asarray(rr.simulate(times=t))[:, 1:]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_cytonet_matches_roadrunner(name):
    spec = MODELS[name]()
    t = np.linspace(0.0, 60.0, 293)  # a grid that misses the event times
    ds = simulate(spec, 60.0, t_eval=t, rtol=1e-10, atol=1e-15)
    ref = roadrunner_run(sbml_string(spec), t, list(ds.species.values))
    ours = ds.state.values
    # relative to the value, floored at 1e-9 of the species' range and at 1e-12 absolute (states that stay ~0)
    floor = np.maximum(1e-9 * np.maximum(np.abs(ours).max(axis=0), np.abs(ref).max(axis=0)), 1e-12)
    rel = np.abs(ours - ref) / np.maximum(np.maximum(np.abs(ref), floor), 1e-300)
    assert rel.max() < 1e-6, f"{name}: max rel err {rel.max():.3g} at {np.unravel_index(rel.argmax(), rel.shape)}"
