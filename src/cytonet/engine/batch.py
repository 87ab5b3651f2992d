"""Many runs of one compiled model: ``simulate_batch(model, table)`` -> Dataset (patient, time, species).

Columns of ``table`` name what varies per run: parameter IDs, species IDs (initial values), or
event fields ``<bolus>.amount``, ``<bolus>.time``, ``<infusion>.rate``, ``<infusion>.start``,
``<infusion>.end``. Runs go in chunks through numba kernels that release the GIL, shared by a
thread pool. Two paths:

- ``independent``: every run with its own step control (:func:`cytonet.engine.rodas.solve_many`).
- ``lockstep``: runs on SIMD lanes of vectorised kernels (:mod:`cytonet.engine.lockstep`), each
  lane with its own step control and refilled from a per-thread queue; several times less CPU
  per run than the independent path.

``method="auto"`` takes the lock-step path when the model has no threshold events (not handled on
lanes) and there are at least ``LOCKSTEP_MIN_RUNS`` runs. Both paths report failures per run.

A model with SBML semantics (imported) runs on these kernels too when its rates are products of
factors (:mod:`cytonet.model.sbml_factors`), else as independent runs on the tape engine; either way
the dataset has the layout of tape runs, and its ``engine`` attribute says which ran.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from cytonet.engine.simulate import (
    DEFAULT_MAX_STEPS,
    Atol,
    _check_tolerances,
    as_compiled,
    failure_message,
    time_grid,
    to_dataset,
)
from cytonet.errors import ModelSpecError, SolverError, did_you_mean
from cytonet.model.compile import CompiledModel
from cytonet.model.spec import ModelSpec
from cytonet.model.tape_model import needs_tape

if TYPE_CHECKING:
    import xarray as xr

    from cytonet.model.sbml_factors import FactorForm

_EVENT_FIELDS = {"amount", "time", "rate", "start", "end"}
#: SIMD lanes of the lock-step kernel, and the fewest runs for which ``method="auto"`` chooses it
LOCKSTEP_LANES, LOCKSTEP_MIN_RUNS = 128, 8
#: SIMD lanes of the generated lock-step kernels, fewer than the interpreted kernels' LOCKSTEP_LANES: a step's arrays
#: (states, stages, Jacobian, LU, per-run constants: about 29 kB per lane for the 76-state reference network) then
#: take 0.94 MB and about fit a core's 1 MB L2 cache, where at 128 lanes they streamed from L3 (docs/performance.md).
#: A run's result does not depend on the lane count
GENERATED_LANES = 32
#: runs from which ``kernels="auto"`` writes the model's own lock-step kernels when they are not built yet. Their first
#: compile takes 95-265 s for the 65-state reference network (7.5 min for the 76-state one on a loaded machine) and
#: saves about 0.64 ms of CPU per patient (docs/performance.md), so it pays for itself within one run only from about 10^5 runs; later calls and processes load them from the cache
GENERATED_MIN_RUNS = 100_000


def _columns(table: Any) -> dict[str, np.ndarray]:
    if hasattr(table, "to_dict") and hasattr(table, "columns"):  # pandas DataFrame
        cols = {str(c): np.asarray(table[c], dtype=float) for c in table.columns}
    elif isinstance(table, Mapping):
        cols = {str(k): np.atleast_1d(np.asarray(v, dtype=float)) for k, v in table.items()}
    else:
        raise ModelSpecError(f"batch table must be a pandas DataFrame or a dict of arrays, got {type(table).__name__}")
    if not cols:
        raise ModelSpecError("batch table has no columns; give parameter/species IDs or '<event>.amount' columns")
    sizes = {k: v.shape for k, v in cols.items()}
    if len({s for s in sizes.values()}) != 1 or next(iter(sizes.values())) == (0,) or any(len(s) != 1 for s in sizes.values()):
        raise ModelSpecError(f"batch table columns must be 1-D and of equal non-zero length, got shapes {sizes}")
    for k, v in cols.items():
        if not np.all(np.isfinite(v)):
            raise ModelSpecError(f"batch table column {k!r} holds non-finite values (rows {np.flatnonzero(~np.isfinite(v))[:10].tolist()})")
    return cols


def run_arrays(cm: CompiledModel, cols: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-run copies of the state, parameter and event vectors with the table's columns applied."""
    n = len(next(iter(cols.values())))
    arr = {
        "X0": np.tile(cm.x0, (n, 1)), "P": np.tile(cm.p, (n, 1)),
        "bolus_time": np.tile(cm.bolus_time, (n, 1)), "bolus_amount": np.tile(cm.bolus_amount, (n, 1)),
        "inf_start": np.tile(cm.inf_start, (n, 1)), "inf_end": np.tile(cm.inf_end, (n, 1)),
        "inf_rate": np.tile(cm.inf_rate, (n, 1)),
    }
    species, params = {s: i for i, s in enumerate(cm.species)}, {p: i for i, p in enumerate(cm.parameters)}
    for name, v in cols.items():
        if name in params:
            arr["P"][:, params[name]] = v
        elif name in species:
            if np.any(v < 0):
                raise ModelSpecError(f"batch column {name!r}: initial values must be >= 0")
            arr["X0"][:, species[name]] = v
        elif "." in name and name.rsplit(".", 1)[1] in _EVENT_FIELDS:
            eid, fld = name.rsplit(".", 1)
            _apply_event_column(cm, arr, eid, fld, v, name)
        else:
            known = [*cm.parameters, *cm.species] + [f"{e}.amount" for e in cm.bolus_ids]
            hint = did_you_mean(name, known)
            raise ModelSpecError(f"batch column {name!r} is neither a parameter, a species nor '<event>.<field>' of model {cm.model_id!r}{hint}")
    return arr


def _apply_event_column(cm: CompiledModel, arr: dict[str, np.ndarray], eid: str, fld: str, v: np.ndarray, name: str) -> None:
    if eid in cm.bolus_ids and fld in ("amount", "time"):
        j = cm.bolus_ids.index(eid)
        if fld == "time" and np.any(v < 0):
            raise ModelSpecError(f"batch column {name!r}: event times must be >= 0")
        arr["bolus_amount" if fld == "amount" else "bolus_time"][:, j] = v
        return
    segs = [i for i, s in enumerate(cm.infusion_ids) if s == eid]
    if len(segs) == 1 and fld in ("rate", "start", "end"):
        if np.any(v < 0):
            raise ModelSpecError(f"batch column {name!r}: infusion {fld} must be >= 0")
        arr[f"inf_{fld}"][:, segs[0]] = v
        if np.any(arr["inf_end"][:, segs[0]] <= arr["inf_start"][:, segs[0]]):
            raise ModelSpecError(f"batch column {name!r}: an infusion would end before it starts")
        return
    raise ModelSpecError(f"batch column {name!r}: model {cm.model_id!r} has no bolus (amount, time) or infusion "
                         f"(rate, start, end) called {eid!r}; boluses: {cm.bolus_ids}, infusions: {sorted(set(cm.infusion_ids))}")


def _factor_form(model: object, cols: Mapping[str, np.ndarray]) -> FactorForm | None:
    """An SBML-semantics spec on the factor kernels (:mod:`cytonet.model.sbml_factors`), when it lowers and the
    table varies only its parameters and states; else None (the tape engine runs it)."""
    from cytonet.model.sbml_factors import NotFactorForm, factor_model

    if not isinstance(model, ModelSpec):
        return None
    try:
        form = factor_model(model)
    except NotFactorForm:
        return None
    return form if set(cols) <= {*form.model.parameters, *form.model.species} else None


def thread_count(threads: int | None) -> int:
    """``threads`` checked, or numba's thread count when None."""
    if threads is None:
        import numba

        return numba.get_num_threads()
    if int(threads) < 1:
        raise ModelSpecError(f"threads must be >= 1, got {threads!r}")
    return int(threads)


def _run_independent(cm: CompiledModel, arr: dict[str, np.ndarray], t: np.ndarray, settings: tuple,
                     rows: np.ndarray, out: np.ndarray, status: np.ndarray, info: np.ndarray) -> None:
    """Rows ``rows`` one by one with their own step control (results scattered into out/status/info)."""
    from cytonet.engine import rodas

    o, s, i = out[rows], status[rows], info[rows]
    rodas.solve_many(
        arr["X0"][rows], arr["P"][rows], t, arr["bolus_time"][rows], cm.bolus_species, arr["bolus_amount"][rows],
        arr["inf_start"][rows], arr["inf_end"][rows], cm.inf_species, arr["inf_rate"][rows],
        cm.th_species, cm.th_value, cm.th_dir, cm.th_ptr, cm.a_is_param, cm.a_target, cm.a_op, cm.a_value,
        *settings, o, s, i,
    )
    out[rows], status[rows], info[rows] = o, s, i


def _run_lanes(cm: CompiledModel, arr: dict[str, np.ndarray], t: np.ndarray, settings: tuple, ncode: np.ndarray,
               generated: bool, rows: np.ndarray, out: np.ndarray, status: np.ndarray, info: np.ndarray) -> None:
    """Rows ``rows`` on LOCKSTEP_LANES SIMD lanes (results written into out/status/info by row); with ``generated``
    and at least GENERATED_LANES rows on GENERATED_LANES lanes of the model's generated kernels (bit-identical, faster)."""
    from cytonet.engine import lane_codegen, lockstep

    M, rtol, atol, max_steps, max_step = settings
    kernels, lanes = None, LOCKSTEP_LANES
    if generated and rows.size >= GENERATED_LANES:
        kernels, lanes = lane_codegen.lane_kernels(M, ncode, GENERATED_LANES), GENERATED_LANES
    lockstep.solve_lanes(
        arr["X0"][rows], arr["P"][rows], t, arr["bolus_time"][rows], cm.bolus_species, arr["bolus_amount"][rows],
        arr["inf_start"][rows], arr["inf_end"][rows], cm.inf_species, arr["inf_rate"][rows],
        M, ncode, rtol, atol, max_steps, max_step, lanes, rows, out, status, info, kernels=kernels,
    )


def simulate_batch(
    model: ModelSpec | CompiledModel,
    table: Any,
    t_end: float,
    *,
    t_eval: Sequence[float] | np.ndarray | None = None,
    n_points: int | None = None,
    rtol: float = 1e-6,
    atol: Atol = 1e-9,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_step: float = np.inf,
    on_error: Literal["raise", "mask"] = "raise",
    chunk_size: int = 1024,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
    method: Literal["auto", "lockstep", "independent"] = "auto",
    kernels: Literal["auto", "generated", "interpreted"] = "auto",
) -> xr.Dataset:
    """Simulate every row of ``table`` on one compiled model, in parallel across runs.

    ``threads`` (default: numba's thread count) share the runs of each chunk; ``progress(done,
    total)`` is called after each chunk (lock-step: chunks of at most ``chunk_size`` runs, one thread each). ``method`` picks the lock-step or the independent path
    (module docstring; "auto" chooses). ``kernels`` (lock-step path): "generated" runs chunks of at least
    GENERATED_LANES runs on kernels written for this model (:mod:`cytonet.engine.lane_codegen`; bit-identical to the
    "interpreted" ones, about twice as fast, compiled once per model and cached on disk); "auto" takes them when they
    are built already or the batch has at least GENERATED_MIN_RUNS runs. Failed runs raise one ``SolverError``
    listing them, or with ``on_error="mask"`` are NaN with their code in the ``status`` variable.
    """
    from cytonet.engine import rodas

    if on_error not in ("raise", "mask"):
        raise ModelSpecError(f"on_error must be 'raise' or 'mask', got {on_error!r}")
    if method not in ("auto", "lockstep", "independent"):
        raise ModelSpecError(f"method must be 'auto', 'lockstep' or 'independent', got {method!r}")
    if kernels not in ("auto", "generated", "interpreted"):
        raise ModelSpecError(f"kernels must be 'auto', 'generated' or 'interpreted', got {kernels!r}")
    if needs_tape(model):  # SBML semantics: on the factor kernels when its rates are products of factors, else the tape engine
        from cytonet.engine.tape_simulate import as_tape, simulate_tape_batch

        cols = _columns(table)
        form = _factor_form(model, cols)
        grid = time_grid(t_end, t_eval, n_points)
        if form is None:
            return simulate_tape_batch(as_tape(model), cols, grid, rtol, atol, max_steps, thread_count(threads), on_error)
        from cytonet.engine.tape_simulate import factor_run_as_sbml

        cm = form.model
        ds = simulate_batch(cm, cols, t_end, t_eval=t_eval, n_points=n_points, rtol=rtol, atol=atol, max_steps=max_steps,
                            max_step=max_step, on_error=on_error, chunk_size=chunk_size, progress=progress, threads=threads,
                            method=method, kernels=kernels)
        out = factor_run_as_sbml(ds, model, cm, cols)
        clipped = [cm.species.index(s) for s in form.clipped]
        redo = np.flatnonzero((ds.state.values[:, :, clipped] < 0).any(axis=(1, 2))) if clipped else np.zeros(0, int)
        if redo.size:  # a Hill factor of a negative state: the kernels read max(x, 0), the model x
            tape = simulate_tape_batch(as_tape(model), {k: v[redo] for k, v in cols.items()}, grid, rtol, atol, max_steps,
                                       thread_count(threads), on_error)
            out["state"][redo] = tape.state.sel(species=out.species).values
            out["variable_value"][redo] = tape.variable_value.sel(variable=out.variable).values
            out["status"][redo] = tape.status.values
        out.attrs["tape_rows"] = int(redo.size)
        return out
    cm = as_compiled(model)
    if method == "lockstep" and cm.th_species.size:
        raise ModelSpecError(f"model {cm.model_id!r} has threshold events ({', '.join(cm.threshold_ids)}), whose firing times "
                             "differ per run; use method='independent' or 'auto'")
    atol_v = _check_tolerances(cm, rtol, atol, max_steps, max_step)
    t = time_grid(t_end, t_eval, n_points)
    arr = run_arrays(cm, _columns(table))
    n = arr["X0"].shape[0]
    out = np.full((n, t.size, cm.n_species), np.nan)
    status = np.zeros(n, np.int64)
    info = np.zeros((n, rodas.N_INFO))
    M = rodas.model_arrays(cm)
    settings = (M, float(rtol), atol_v, int(max_steps), float(max_step))
    lock = method == "lockstep" or (method == "auto" and not cm.th_species.size and n >= LOCKSTEP_MIN_RUNS)

    n_threads = thread_count(threads)
    step = max(1, int(chunk_size))
    generated, size = False, 0
    with ThreadPoolExecutor(n_threads) as pool:
        if lock:  # whole chunks per thread: lanes refill from the chunk's queue, so few idle at its end
            from cytonet.engine.lane_codegen import is_built
            from cytonet.engine.lockstep import hill_codes

            ncode = hill_codes(arr["P"], M[1][4])
            generated = kernels == "generated" or (kernels == "auto" and (
                n >= GENERATED_MIN_RUNS or is_built(M, ncode, GENERATED_LANES)))
            size = max(1, min(step, -(-n // n_threads)))
            bounds = [(a, min(n, a + size)) for a in range(0, n, size)]
            done = pool.map(lambda ab: _run_lanes(cm, arr, t, settings, ncode, generated, np.arange(*ab), out, status, info),
                            bounds)
            for (_, b), _ in zip(bounds, done):
                if progress is not None:
                    progress(b, n)
        else:
            for a in range(0, n, step):
                b = min(n, a + step)
                piece = max(1, -(-(b - a) // (8 * n_threads)))  # small pieces balance runs of unequal cost
                list(pool.map(lambda lo: _run_independent(cm, arr, t, settings, np.arange(lo, min(b, lo + piece)), out, status, info),
                              range(a, b, piece)))
                if progress is not None:
                    progress(b, n)
    failed = np.flatnonzero(status != rodas.OK)
    if failed.size and on_error == "raise":
        lines = [f"row {i}: " + failure_message(cm, int(status[i]), info[i], max_steps, rtol) for i in failed[:10]]
        more = f" (and {failed.size - 10} more)" if failed.size > 10 else ""
        raise SolverError(f"model {cm.model_id!r}: {failed.size} of {n} runs failed{more}; pass on_error='mask' to keep the others\n"
                          + "\n".join(lines))
    out[failed] = np.nan
    ds = to_dataset(cm, t, out, arr["P"], rtol, atol, patient=np.arange(n))
    ds["status"] = ("patient", status, {"meaning": "0 ok, 1 step size underflow, 2 max_steps exceeded, 3 non-finite state"})
    ds["steps"] = ("patient", info[:, rodas.I_STEPS].astype(np.int64))
    ds.attrs["batch_method"] = "lockstep" if lock else "independent"
    ds.attrs["lockstep_kernels"] = "generated" if lock and generated and size >= GENERATED_LANES else "interpreted"
    return ds
