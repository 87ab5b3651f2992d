import numpy as np
import pandas as pd
import pytest

import testmodels as T
from cytonet.engine.batch import simulate_batch
from cytonet.engine.simulate import simulate
from cytonet.errors import ModelSpecError, SolverError
from cytonet.model.compile import compile_model


def test_batch_matches_single_runs_with_the_same_overrides():
    cm = compile_model(T.network())
    rng = np.random.default_rng(0)
    n = 7
    table = pd.DataFrame({"k_tnf": 2.0 * rng.lognormal(0, 0.2, n), "IL10": rng.uniform(1, 8, n),
                          "lps_dose.amount": rng.uniform(1, 6, n), "lps_dose.time": rng.uniform(0, 5, n),
                          "il10_drip.rate": rng.uniform(0, 10, n)})
    seen = []
    ds = simulate_batch(cm, table, 72.0, n_points=73, chunk_size=3, progress=lambda d, tot: seen.append((d, tot)))
    assert seen == [(3, 7), (6, 7), (7, 7)]
    assert ds.state.dims == ("patient", "time", "species") and ds.state.shape == (n, 73, cm.n_species)
    for i in range(n):
        row = table.iloc[i]
        spec = T.network().model_dump(mode="json")
        for e in spec["events"]:
            if e["id"] == "lps_dose":
                e["amount"], e["time"] = float(row["lps_dose.amount"]), float(row["lps_dose.time"])
            if e["id"] == "il10_drip":
                e["rate"] = float(row["il10_drip.rate"])
        from cytonet.model.spec import spec_from_dict

        one = simulate(spec_from_dict(spec), 72.0, n_points=73, parameters={"k_tnf": row["k_tnf"]}, initial={"IL10": row["IL10"]})
        np.testing.assert_array_equal(ds.state.values[i], one.state.values)
    assert (ds.status.values == 0).all()


def test_failed_rows_raise_or_are_masked():
    table = {"k": np.array([0.5, 5.0, 0.5])}
    from cytonet.model.spec import spec_from_dict

    spec = spec_from_dict({
        "id": "boom", "compartments": [{"id": "c", "volume": 1}],
        "species": [{"id": "A", "compartment": "c", "initial": 0.1, "unit": "pg/mL"}],
        "parameters": [{"id": "k", "value": 1.0, "unit": "mL/pg/h", "assumption": "test"}],
        "reactions": [{"id": "auto", "rate_law": "mass_action", "reactants": {"A": 2}, "products": {"A": 3}, "params": {"k": "k"}}],
    })  # blows up at t = 1 / (k A0): 20 h for k=0.5, 2 h for k=5
    with pytest.raises(SolverError, match="1 of 3 runs failed") as err:
        simulate_batch(spec, table, 10.0)
    assert "row 1" in str(err.value)
    ds = simulate_batch(spec, table, 10.0, on_error="mask")
    assert ds.status.values.tolist()[0] == 0 and ds.status.values[1] != 0
    assert np.isnan(ds.state.values[1]).all() and np.isfinite(ds.state.values[[0, 2]]).all()
    np.testing.assert_allclose(ds.state.values[0, -1, 0], 0.1 / (1 - 0.05 * 10), rtol=1e-5)


@pytest.mark.parametrize("table,match", [
    ({"kk": [1.0]}, "did you mean k"),
    ({"k": [1.0, 2.0], "A": [1.0]}, "equal"),
    ({"k": [np.nan]}, "non-finite"),
    ({"A": [-1.0]}, ">= 0"),
    ({"nope.amount": [1.0]}, "no bolus"),
    ([1, 2], "DataFrame"),
])
def test_bad_tables(table, match):
    with pytest.raises(ModelSpecError, match=match):
        simulate_batch(T.decay(), table, 5.0)


def test_thread_count_does_not_change_results():
    cm = compile_model(T.network())
    rng = np.random.default_rng(5)
    table = {"k_tnf": 2.0 * rng.lognormal(0, 0.3, 37), "lps_dose.amount": rng.uniform(1, 6, 37)}
    one = simulate_batch(cm, table, 48.0, n_points=49, threads=1)
    two = simulate_batch(cm, table, 48.0, n_points=49, threads=2, chunk_size=10)
    np.testing.assert_array_equal(one.state.values, two.state.values)
    with pytest.raises(ModelSpecError, match="threads"):
        simulate_batch(cm, table, 48.0, threads=0)
