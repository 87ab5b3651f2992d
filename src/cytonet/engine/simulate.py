"""One run: ``simulate(model, t_end)`` -> ``xarray.Dataset`` (time, species)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from cytonet.errors import ModelSpecError, SolverError
from cytonet.model.compile import CompiledModel, compile_model
from cytonet.model.expr import evaluate
from cytonet.model.spec import ModelSpec
from cytonet.model.tape_model import TapeModel, needs_tape

if TYPE_CHECKING:
    import xarray as xr

SOLVER_NAME = "cytonet-rodas5p"  # the network engine's method, rodas.METHOD
DEFAULT_MAX_STEPS = 200_000


def as_compiled(model: ModelSpec | CompiledModel) -> CompiledModel:
    """Accept a spec or an already compiled model."""
    if isinstance(model, CompiledModel):
        return model
    if isinstance(model, ModelSpec):
        return compile_model(model)
    raise ModelSpecError(f"expected a ModelSpec or CompiledModel, got {type(model).__name__}; load one with cytonet.model.spec.load_spec")


def time_grid(t_end: float, t_eval: Sequence[float] | np.ndarray | None, n_points: int | None) -> np.ndarray:
    """Output times: ``t_eval`` (sorted, within [0, t_end]) or ``n_points`` evenly spaced (default 1 per hour + 1)."""
    from cytonet.limits import MAX_HORIZON_H, MAX_OUTPUT_POINTS

    try:
        t_end = float(t_end)
    except (TypeError, ValueError):
        raise ModelSpecError(f"t_end must be a number of hours, got {t_end!r}") from None
    if not (np.isfinite(t_end) and t_end > 0):
        raise ModelSpecError(f"t_end must be a positive number of hours, got {t_end!r}")
    if t_end > MAX_HORIZON_H:
        raise ModelSpecError(f"t_end {t_end:g} h is beyond the limit of {MAX_HORIZON_H:g} h (the network describes "
                             "responses over hours to weeks); simulate a shorter horizon")
    if t_eval is not None:
        t = np.asarray(t_eval, dtype=float)
        if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
            raise ModelSpecError("t_eval must be a non-empty 1-D sequence of finite times (h)")
        if t.size > MAX_OUTPUT_POINTS:
            raise ModelSpecError(f"t_eval has {t.size:,} times, more than the limit of {MAX_OUTPUT_POINTS:,} output points")
        if np.any(np.diff(t) <= 0) or t[0] < 0 or t[-1] > t_end:
            raise ModelSpecError(f"t_eval must increase strictly and lie within [0, t_end={t_end}]")
        if t[-1] < t_end:
            t = np.append(t, t_end)
        return t
    n = int(n_points) if n_points is not None else int(np.ceil(t_end)) + 1
    if n < 2:
        raise ModelSpecError(f"n_points must be >= 2, got {n_points}")
    if n > MAX_OUTPUT_POINTS:
        raise ModelSpecError(f"n_points {n:,} is more than the limit of {MAX_OUTPUT_POINTS:,} output points "
                             "(each keeps one value per species in memory); ask for fewer")
    return np.linspace(0.0, t_end, n)


Atol = float | Sequence[float] | np.ndarray


def _check_tolerances(cm: CompiledModel, rtol: float, atol: Atol, max_steps: int, max_step: float) -> np.ndarray:
    """Validate the solver settings; returns ``atol`` as one value per species."""
    a = np.asarray(atol, dtype=float)
    if a.ndim == 1 and a.size != cm.n_species or a.ndim > 1:
        raise ModelSpecError(f"atol must be one number or one per species ({cm.n_species}, in model order), got shape {a.shape}")
    if not (0 < rtol < 1 and np.all(a > 0) and max_steps >= 1 and max_step > 0):
        raise ModelSpecError(f"need 0 < rtol < 1, atol > 0, max_steps >= 1, max_step > 0; got rtol={rtol}, atol={atol}, max_steps={max_steps}, max_step={max_step}")
    return np.broadcast_to(a, (cm.n_species,)).copy()


def override_vectors(cm: CompiledModel, parameters: Mapping[str, float] | None, initial: Mapping[str, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """Copies of (x0, p) with named entries replaced (unknown names raise with suggestions)."""
    x0, p = cm.x0.copy(), cm.p.copy()
    for pid, v in (parameters or {}).items():
        p[cm.parameter_index(pid)] = float(v)
    for sid, v in (initial or {}).items():
        x0[cm.species_index(sid)] = float(v)
    return x0, p


def failure_message(cm: CompiledModel, status: int, info: np.ndarray, max_steps: int, rtol: float) -> str:
    """Turn a kernel status into a sentence saying when, where and what to try."""
    from cytonet.engine import rodas

    t = info[rodas.I_T]
    if status == rodas.NONFINITE:
        sp = cm.species[int(info[rodas.I_SPECIES])]
        return (f"species {sp!r} became non-finite or exploded (|x| > 1e250) at t = {t:.6g} h; "
                "check its production parameters (unbounded positive feedback?) or try a tighter rtol")
    if status == rodas.MAX_STEPS:
        return (f"more than max_steps={max_steps} steps needed by t = {t:.6g} h; "
                "raise max_steps or loosen rtol/atol (the model may be oscillating or very stiff)")
    return (f"step size underflow at t = {t:.6g} h (rtol={rtol:g}); the solution may be blowing up or "
            "discontinuous there; check parameters, or try a looser rtol/atol")


def simulate(
    model: ModelSpec | CompiledModel | TapeModel,
    t_end: float,
    *,
    t_eval: Sequence[float] | np.ndarray | None = None,
    n_points: int | None = None,
    rtol: float = 1e-6,
    atol: Atol = 1e-9,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_step: float = np.inf,
    parameters: Mapping[str, float] | None = None,
    initial: Mapping[str, float] | None = None,
    method: str | None = None,
) -> xr.Dataset:
    """Simulate one run from t = 0 to ``t_end`` hours with a stiff Rosenbrock engine.

    ``atol`` is one absolute tolerance or one per species (model order), in each species' unit.
    A model with SBML semantics (imported, see :func:`cytonet.model.sbml_import.load_sbml`) runs on
    the tape engine (:mod:`cytonet.engine.tape_simulate`), with ``method`` "rodas5p" (default) or
    "rodas4"; ``max_step`` does not apply to it. Native models run on Rodas5P only.
    """
    from cytonet.engine import rodas

    if needs_tape(model):  # SBML semantics: rules, trigger events, expression rates
        from cytonet.engine.tableaus import TAPE_DEFAULT
        from cytonet.engine.tape_simulate import as_tape, simulate_tape

        return simulate_tape(as_tape(model), time_grid(t_end, t_eval, n_points), rtol, atol, max_steps, parameters, initial,
                             method or TAPE_DEFAULT)
    if method not in (None, rodas.METHOD):
        raise ModelSpecError(f"model {getattr(model, 'id', getattr(model, 'model_id', '?'))!r} runs on the network engine, "
                             f"whose method is {rodas.METHOD}; {method!r} applies to models with SBML semantics only")
    cm = as_compiled(model)
    atol_v = _check_tolerances(cm, rtol, atol, max_steps, max_step)
    t = time_grid(t_end, t_eval, n_points)
    x0, p = override_vectors(cm, parameters, initial)
    out = np.full((t.size, cm.n_species), np.nan)
    info = np.zeros(rodas.N_INFO)
    status = rodas.solve_one(
        x0, p, t, cm.bolus_time, cm.bolus_species, cm.bolus_amount,
        cm.inf_start, cm.inf_end, cm.inf_species, cm.inf_rate,
        cm.th_species, cm.th_value, cm.th_dir, cm.th_ptr, cm.a_is_param, cm.a_target, cm.a_op, cm.a_value,
        rodas.model_arrays(cm), float(rtol), atol_v, int(max_steps), float(max_step), out, info,
    )
    if status != rodas.OK:
        raise SolverError(f"model {cm.model_id!r}: " + failure_message(cm, status, info, max_steps, rtol))
    ds = to_dataset(cm, t, out, p, rtol, atol)
    ds.attrs.update(steps=int(info[rodas.I_STEPS]), rejected_steps=int(info[rodas.I_REJECTED]),
                    events_fired=int(info[rodas.I_EVENTS]), negative_state_steps=int(info[rodas.I_NEGATIVE]))
    return ds


def to_dataset(cm: CompiledModel, t: np.ndarray, state: np.ndarray, p: np.ndarray, rtol: float, atol: Atol,
               patient: np.ndarray | None = None) -> xr.Dataset:
    """Wrap a state array (time, species) or (patient, time, species) with coords, observables and attrs."""
    import xarray as xr

    from cytonet import __version__

    dims = ("time", "species") if patient is None else ("patient", "time", "species")
    coords: dict = {"time": ("time", t, {"units": "h"}), "species": cm.species,
                    "unit": ("species", np.asarray(cm.species_units, dtype=object))}
    if patient is not None:
        coords["patient"] = patient
    data = {"state": (dims, state)}
    if cm.observables:
        values: dict[str, np.ndarray] = {s: state[..., i] for i, s in enumerate(cm.species)}
        pp = p if p.ndim == 1 else p[:, None, :]
        values.update({q: pp[..., j] for j, q in enumerate(cm.parameters)})
        for oid, node in cm.observables.items():
            arr = np.array(np.broadcast_to(evaluate(node, values), state.shape[:-1]))
            values[oid] = arr  # a later observable may read it
            data[oid] = (dims[:-1], arr, {"units": cm.observable_units.get(oid, "")})
    return xr.Dataset(
        data, coords=coords,
        attrs={"model_id": cm.model_id, "model_hash": cm.digest, "solver": SOLVER_NAME, "rtol": rtol,
               "atol": atol if np.ndim(atol) == 0 else np.asarray(atol, float), "cytonet_version": __version__, "time_unit": "h"},
    )
