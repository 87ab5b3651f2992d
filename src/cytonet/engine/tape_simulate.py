"""``simulate`` and ``simulate_batch`` for models with SBML semantics (tape models).

The dataset has the layout of native runs: ``state`` (time, species) holds each species in its own
sense (amount when ``only_substance``, else concentration); ``variable`` (time, variable) holds
every compartment size and parameter, so rule- and event-driven values are reported too.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from cytonet.engine.sbml_events import TapeRun, run_tape_model, symbol_values
from cytonet.engine.tableaus import TAPE_DEFAULT, method_named
from cytonet.errors import ModelSpecError, SolverError, did_you_mean
from cytonet.model.compile import CompiledModel
from cytonet.model.spec import ModelSpec
from cytonet.model.tape_model import TapeModel, compile_tape

if TYPE_CHECKING:
    import xarray as xr


def as_tape(model: ModelSpec | TapeModel) -> TapeModel:
    return model if isinstance(model, TapeModel) else compile_tape(model)


def _atol(tm: TapeModel, atol: Any) -> np.ndarray:
    """Per-state absolute tolerances from ``atol`` in the species' own units: a concentration's tolerance
    times its compartment's starting size, since the state is its amount."""
    a = np.asarray(atol, float)
    n_species = len(tm.species_compartment)
    if a.ndim == 1 and a.size == n_species:  # per species, as for native models; other states get the smallest
        per = dict(zip(tm.species_compartment, a))
        out = np.asarray([per.get(s, a.min()) for s in tm.states], float)
    elif a.ndim == 0:
        out = np.full(tm.n_states, float(a))
    else:
        raise ModelSpecError(f"atol must be one number or one per species ({n_species}), got shape {a.shape}")
    aux = tm.aux_values(tm.x0, tm.p)
    for i, s in enumerate(tm.states):
        if s in tm.species_compartment and not tm.species_only_substance[s]:
            out[i] *= abs(aux[tm.symbol_reg[tm.species_compartment[s]]]) or 1.0
    return out


def start_vectors(tm: TapeModel, parameters: Mapping[str, float] | None, initial: Mapping[str, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """(x0, p) with named parameters and initial species values (in the species' own sense) replaced."""
    x0, p = tm.x0.copy(), tm.p.copy()
    for name, v in (parameters or {}).items():
        if name not in tm.parameters:
            hint = did_you_mean(name, tm.parameters)
            raise ModelSpecError(f"model {tm.model_id!r}: {name!r} is no constant parameter or compartment{hint}")
        p[tm.parameters.index(name)] = float(v)
    for sid, v in (initial or {}).items():
        if sid not in tm.states or sid == tm.states[-1]:  # the last state is time
            hint = did_you_mean(sid, tm.states[:-1])
            raise ModelSpecError(f"model {tm.model_id!r}: {sid!r} is no species or rate-rule variable with a state of its own{hint}")
        if sid not in tm.species_compartment:  # a rate-rule variable: its value is the state
            x0[tm.states.index(sid)] = float(v)
            continue
        scale = 1.0 if tm.species_only_substance[sid] else tm.aux_values(x0, p)[tm.symbol_reg[tm.species_compartment[sid]]]
        x0[tm.states.index(sid)] = float(v) * scale
    return x0, p


def _variables(tm: TapeModel) -> list[str]:
    return [n for n in tm.symbol_reg if n not in tm.species_compartment and n != "time()"]


def _values(tm: TapeModel, run: TapeRun) -> tuple[np.ndarray, np.ndarray]:
    species, variables = list(tm.species_compartment), _variables(tm)
    v = symbol_values(tm, run, species + variables)
    return v[:, :len(species)], v[:, len(species):]


def simulate_tape(tm: TapeModel, t: np.ndarray, rtol: float, atol: Any, max_steps: int,
                  parameters: Mapping[str, float] | None = None, initial: Mapping[str, float] | None = None,
                  method: str = TAPE_DEFAULT) -> xr.Dataset:
    """One run of ``tm`` at times ``t`` with the Rosenbrock ``method`` (a name of :data:`tableaus.METHODS`)."""
    tableau = method_named(method)
    x0, p = start_vectors(tm, parameters, initial)
    run = run_tape_model(tm, t, float(rtol), _atol(tm, atol), int(max_steps), x0, p, method=tableau)
    state, var = _values(tm, run)
    ds = _dataset(tm, t, state, var, rtol, atol, method=method)
    ds.attrs.update(steps=run.steps, events_fired=run.events_fired)
    return ds


def simulate_tape_batch(tm: TapeModel, cols: Mapping[str, np.ndarray], t: np.ndarray, rtol: float, atol: Any,
                        max_steps: int, threads: int, on_error: str) -> xr.Dataset:
    """Every row of ``cols`` (parameter, species or rate-rule variable columns: initial values) as an independent run."""
    n = len(next(iter(cols.values())))
    species, params = list(tm.species_compartment), set(tm.parameters)
    for name in cols:
        if name not in params and name not in tm.states[:-1]:
            hint = did_you_mean(name, [*tm.parameters, *tm.states[:-1]])
            raise ModelSpecError(f"batch column {name!r} is neither a parameter, a species nor a rate-rule variable of "
                                 f"model {tm.model_id!r}{hint}")
    a = _atol(tm, atol)
    state = np.full((n, t.size, len(species)), np.nan)
    var = np.full((n, t.size, len(_variables(tm))), np.nan)
    errors: dict[int, str] = {}

    def one(i: int) -> None:
        row = {k: float(v[i]) for k, v in cols.items()}
        x0, p = start_vectors(tm, {k: v for k, v in row.items() if k in params}, {k: v for k, v in row.items() if k not in params})
        try:
            run = run_tape_model(tm, t, float(rtol), a, int(max_steps), x0, p)
        except SolverError as err:
            errors[i] = str(err)
            return
        state[i], var[i] = _values(tm, run)

    with ThreadPoolExecutor(max(1, threads)) as pool:
        list(pool.map(one, range(n)))
    if errors and on_error == "raise":
        lines = [f"row {i}: {msg}" for i, msg in sorted(errors.items())[:10]]
        raise SolverError(f"model {tm.model_id!r}: {len(errors)} of {n} runs failed; pass on_error='mask' to keep the others\n" + "\n".join(lines))
    ds = _dataset(tm, t, state, var, rtol, atol, patient=np.arange(n))
    ds["status"] = ("patient", np.asarray([1 if i in errors else 0 for i in range(n)], np.int64), {"meaning": "0 ok, 1 failed"})
    ds.attrs.update(batch_method="independent", engine="tape")
    return ds


def _dataset(tm: TapeModel, t: np.ndarray, state: np.ndarray, var: np.ndarray, rtol: float, atol: Any,
             patient: np.ndarray | None = None, method: str = TAPE_DEFAULT) -> xr.Dataset:
    return sbml_dataset(tm.model_id, tm.digest, list(tm.species_compartment), _variables(tm), t, state, var, rtol, atol,
                        patient, solver=f"cytonet-{method}-tape")


def sbml_dataset(model_id: str, digest: str, species: list[str], variables: list[str], t: np.ndarray, state: np.ndarray,
                 var: np.ndarray, rtol: float, atol: Any, patient: np.ndarray | None = None, solver: str | None = None) -> xr.Dataset:
    """The layout of runs of models with SBML semantics: ``state`` per species, ``variable_value`` per variable
    (``solver``: its name, by default the factor kernels' method)."""
    import xarray as xr

    from cytonet import __version__
    from cytonet.engine.simulate import SOLVER_NAME

    lead = ("time",) if patient is None else ("patient", "time")
    coords: dict = {"time": ("time", t), "species": species, "variable": variables}
    if patient is not None:
        coords["patient"] = patient
    return xr.Dataset(
        {"state": ((*lead, "species"), state), "variable_value": ((*lead, "variable"), var)}, coords=coords,
        attrs={"model_id": model_id, "model_hash": digest, "solver": SOLVER_NAME if solver is None else solver, "rtol": rtol,
               "atol": atol if np.ndim(atol) == 0 else np.asarray(atol, float), "cytonet_version": __version__,
               "time_unit": "model"},
    )


def factor_run_as_sbml(ds: xr.Dataset, spec: ModelSpec, cm: CompiledModel, cols: Mapping[str, np.ndarray]) -> xr.Dataset:
    """A factor-kernel batch (:mod:`cytonet.model.sbml_factors`) of an SBML-semantics spec in the layout of tape runs."""
    n, nt = ds.sizes["patient"], ds.sizes["time"]
    state = ds.state.values
    default = {q.id: q.value for q in spec.parameters}

    def column(name: str) -> np.ndarray:
        if name in cm.species:
            return state[:, :, cm.species.index(name)]
        if name in cm.observables:  # compartment sizes and assignment-rule variables
            return ds[name].values
        v = cols[name][:, None] if name in cols else default[name]
        return np.broadcast_to(v, (n, nt))

    species = [s.id for s in spec.species]
    variables = [c.id for c in spec.compartments] + [q.id for q in spec.parameters]
    def stacked(names: list[str]) -> np.ndarray:
        return np.stack([column(v) for v in names], axis=-1) if names else np.zeros((n, nt, 0))

    out = sbml_dataset(spec.id, spec.digest(), species, variables, ds.time.values, stacked(species), stacked(variables),
                       ds.attrs["rtol"], ds.attrs["atol"], patient=ds.patient.values)
    for k in ("status", "steps"):
        out[k] = ds[k]
    out.attrs.update(batch_method=ds.attrs["batch_method"], engine="factor kernels")
    return out
