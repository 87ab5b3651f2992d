"""A virtual population of an imported SBML model: its own parameters varied, every patient in one batch.

``model_population(path, variation, n, hours, out)`` samples the parameters a variation file names
(IDs or glob patterns over the model's own parameters) with the design of :mod:`cytonet.population.sampling`,
runs all patients with :func:`cytonet.engine.batch.simulate_batch` (the factor kernels' lock-step
path when the model's rates are products of factors, the tape engine otherwise) and writes

- ``parameters.csv``: patient and the sampled values;
- ``timecourses.csv``: patient, time and every species (its own sense: amount or concentration);
- ``summary.csv``: per species, the 5th, 50th and 95th percentile of its peak and of its final value;
- ``model.yaml``: the imported spec.

Patients whose run fails are reported and left out of the summary (status in ``parameters.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cytonet.errors import ScenarioError
from cytonet.population.sampling import Method, VariationFile, resolve, sample

#: output time points of each patient
N_POINTS = 101


@dataclass(frozen=True)
class ModelPopulation:
    patients: int
    failed: int
    varied: list[str]
    engine: str
    batch_method: str


def model_population(path: Path, variation: VariationFile, n: int, hours: float, out: Path,
                     method: Method | None = None, seed: int = 0) -> ModelPopulation:
    """Sample, simulate and write the population of ``path`` into the folder ``out`` (see the module docstring)."""
    from cytonet.engine.batch import simulate_batch
    from cytonet.io import atomic_write_csv
    from cytonet.model.sbml_import import load_sbml
    from cytonet.model.spec import dump_spec

    if variation.events:
        raise ScenarioError(f"the variation file varies events ({', '.join(e.event for e in variation.events)}); event "
                            "amounts vary in scenario populations, an SBML model's population varies its parameters")
    spec = load_sbml(path)
    varied = resolve(variation, spec)
    if not varied:
        raise ScenarioError(f"variation file names no parameter of model {spec.id!r}")
    cols = sample(varied, method or variation.method, 0, n, seed, 0)
    ds = simulate_batch(spec, cols, hours, n_points=N_POINTS, rtol=1e-8, atol=1e-12, on_error="mask")
    status = ds.status.values
    ok = status == 0
    names = [pid for pid, _, _ in varied]
    atomic_write_csv(out / "parameters.csv", ["patient", "status", *names],
                     ([i, int(status[i]), *(repr(float(cols[k][i])) for k in names)] for i in range(n)))
    species = ds.species.values.tolist()
    state, t = ds.state.values, ds.time.values
    atomic_write_csv(out / "timecourses.csv", ["patient", "time", *species], (
        [i, repr(float(t[j])), *(repr(float(v)) for v in state[i, j])] for i in np.flatnonzero(ok) for j in range(t.size)))
    rows = []
    if ok.any():
        for k, sid in enumerate(species):
            peak, final = state[ok, :, k].max(axis=1), state[ok, -1, k]
            rows.append([sid, *(repr(float(v)) for v in np.percentile(peak, [5, 50, 95])),
                         *(repr(float(v)) for v in np.percentile(final, [5, 50, 95]))])
    atomic_write_csv(out / "summary.csv", ["species", "peak_p5", "peak_p50", "peak_p95", "final_p5", "final_p50", "final_p95"], rows)
    dump_spec(spec, out / "model.yaml")
    return ModelPopulation(n, int((~ok).sum()), names, ds.attrs.get("engine", ""), ds.attrs.get("batch_method", ""))
