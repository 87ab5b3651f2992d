"""Run a virtual population: sample, find each patient's rest state, simulate every arm, store outcomes.

The population is cut into partitions of ``batch_size`` patients. A partition is a pure function of
the configuration and its index (sampling seeds derive from (seed, partition)), so partitions can run
in any order, on any worker, and a resumed run recomputes only the missing ones with identical results.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cytonet.errors import ScenarioError, TherapyError
from cytonet.limits import MAX_PATIENTS, MAX_TRAJECTORY_POINTS, SEED_RANGE
from cytonet.store import runs as store
from cytonet.analysis.outcomes import NEEDED, outcomes, series_of
from cytonet.population.rest import REST_FAILED, rest_states
from cytonet.population.sampling import Method, VariationFile, resolve, resolve_events, sample
from cytonet.scenarios.lps import LpsProtocol


#: seconds to wait for a Dask scheduler
DASK_CONNECT_S = 10.0
#: CPU seconds per patient and arm (rest state, simulation, outcomes, Parquet) used by plan(): measured
#: 0.0064 s on car-t-crs with tocilizumab (CPU time of N = 400 minus N = 100, 2 arms, 2 cores), times 3
#: for stiffer scenarios and slower machines
CPU_SECONDS_PER_PATIENT_ARM = 0.02


class PopulationConfig(BaseModel):
    """Everything that determines a population's results (its JSON is hashed into the manifest)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    scenario: str
    n: int = Field(ge=1, le=MAX_PATIENTS)
    variation: VariationFile
    method: Method | None = Field(None, description="overrides the variation file's method")
    seed: int = Field(0, ge=SEED_RANGE[0], le=SEED_RANGE[1])
    batch_size: int = Field(500, ge=1, le=MAX_PATIENTS)
    drug: str | None = None
    dose: str | None = Field(None, description="e.g. '8 mg/kg'; default: the drug's first labelled regimen")
    at: str | None = Field(None, description="time of the (first) dose, e.g. '24h'")
    trajectory_points: int = Field(0, ge=0, le=MAX_TRAJECTORY_POINTS, description="downsampled time points stored per patient (0: none)")
    lps: LpsProtocol | None = Field(None, description="replaces the scenario's own LPS events")
    points_per_hour: float = Field(2.0, gt=0)
    rtol: float = 1e-6
    atol: float = 1e-9
    relax_hours: float = Field(5000.0, gt=0)

    @field_validator("trajectory_points")
    @classmethod
    def _traj(cls, v: int) -> int:
        if v == 1:
            raise ValueError("trajectory_points must be 0 (none) or at least 2")
        return v

    @property
    def n_partitions(self) -> int:
        return -(-self.n // self.batch_size)

    @property
    def arms(self) -> tuple[str, ...]:
        return ("untreated", "treated") if self.drug else ("untreated",)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


@dataclass(frozen=True)
class Prepared:
    """What every partition of one configuration shares (built once per process)."""

    host: Any  # CompiledModel of the host without events
    arms: dict[str, Any]  # arm -> CompiledModel with trigger (and drug)
    x_ref: np.ndarray  # nominal rest state, host species order
    varied: list  # (parameter ID or event column, nominal value, variation): the parameters first, then the events
    events: frozenset[str]  # the event columns of varied ('<event>.amount', '<event>.rate')
    method: Method
    t: np.ndarray
    readouts: tuple[str, ...]
    digest: str


def _treated(spec: Any, cfg: PopulationConfig, t_end: float) -> Any:
    from cytonet.therapy import Regimen, labelled_regimen, treat
    from cytonet.therapy.regimen import check_first_dose

    assert cfg.drug is not None
    start = cfg.at if cfg.at is not None else 0.0
    regimen = Regimen(dose=cfg.dose, start=start) if cfg.dose else labelled_regimen(cfg.drug, start=start)
    check_first_dose(regimen.times[0], t_end, "--at")
    return treat(spec, cfg.drug, regimen)


def _first_dose_h(cfg: PopulationConfig) -> float:
    from cytonet.therapy.regimen import parse_hours

    return parse_hours(cfg.at if cfg.at is not None else 0.0, "--at")


@lru_cache(maxsize=4)
def prepare(config_json: str) -> Prepared:
    """Compile the host and the arms of a configuration (cached per process by its JSON)."""
    from cytonet.model.compile import compile_model
    from cytonet.scenarios import host_model, load_scenario, scenario_model, with_lps

    cfg = PopulationConfig.model_validate_json(config_json)
    sc = load_scenario(cfg.scenario)
    sc = with_lps(sc, cfg.lps) if cfg.lps else sc
    if cfg.drug is None and (cfg.dose or cfg.at):
        raise TherapyError("--dose and --at need --drug; name the drug to give")
    spec, rest = scenario_model(sc)
    host = host_model(sc)
    varied = resolve(cfg.variation, host)
    arms = {"untreated": compile_model(spec)}
    if cfg.drug:
        arms["treated"] = compile_model(_treated(spec, cfg, sc.t_end))
    events = resolve_events(cfg.variation, arms["untreated"])
    for arm, cm in arms.items():  # the treated arm adds drug doses; the scenario's events are the same
        if resolve_events(cfg.variation, cm) != events:
            raise ScenarioError(f"the {arm} arm's events differ from the untreated arm's: {[e for e, _, _ in events]}")
    cm_host = compile_model(host.model_copy(update={"events": []}))
    t = np.linspace(0.0, sc.t_end, int(round(sc.t_end * cfg.points_per_hour)) + 1)
    extra = ("MAP", "SPO2")
    readouts = tuple(dict.fromkeys([*sc.readouts, *extra]))
    digest = hashlib.sha256("".join(cm.digest for cm in (cm_host, *arms.values())).encode()).hexdigest()
    return Prepared(cm_host, arms, np.array([rest[s] for s in cm_host.species]), [*varied, *events],
                    frozenset(col for col, _, _ in events), cfg.method or cfg.variation.method, t, readouts, digest)


def config_hash(cfg: PopulationConfig) -> str:
    """sha256 of the configuration and of the compiled models it runs."""
    return hashlib.sha256((cfg.to_json() + prepare(cfg.to_json()).digest).encode()).hexdigest()


def rest_table(prep: Prepared, cfg: PopulationConfig, start: int, m: int, k: int,
               threads: int | None = None) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    """Patients ``start`` .. ``start + m - 1`` (partition ``k``): their sampled values, the indices of those whose rest
    state was found, and those patients' simulation table (sampled values and rest states)."""
    values = sample(prep.varied, prep.method, start, m, cfg.seed, k)
    P = np.tile(prep.host.p, (m, 1))
    for pid, v in values.items():
        if pid not in prep.events:  # event amounts go to the simulation only: the rest state has no events
            P[:, prep.host.parameter_index(pid)] = v
    X, found = rest_states(prep.host, P, prep.x_ref, cfg.relax_hours, threads)
    ok = np.flatnonzero(found)
    table = {pid: v[ok] for pid, v in values.items()} | {sid: X[ok, i] for i, sid in enumerate(prep.host.species)}
    return values, ok, table


def run_partition(config_json: str, out: str, k: int, threads: int | None = None,
                  progress: Callable[[int], None] | None = None) -> int:
    """Simulate partition ``k`` and write its Parquet files; returns its number of patients."""
    import pyarrow as pa

    from cytonet.engine.batch import GENERATED_MIN_RUNS, simulate_batch

    cfg = PopulationConfig.model_validate_json(config_json)
    prep = prepare(config_json)
    start = k * cfg.batch_size
    m = min(cfg.n, start + cfg.batch_size) - start
    values, ok, table = rest_table(prep, cfg, start, m, k, threads)
    names = _needed(prep)
    patients, trajectories = [], []
    for arm, cm in prep.arms.items():
        status = np.full(m, REST_FAILED, np.int8)
        full = {name: np.full((m, prep.t.size), np.nan) for name in names}
        if ok.size:
            ds = simulate_batch(cm, table, float(prep.t[-1]), t_eval=prep.t, rtol=cfg.rtol, atol=cfg.atol,
                                on_error="mask", threads=threads, progress=_increments(progress),
                                kernels="generated" if cfg.n * len(cfg.arms) >= GENERATED_MIN_RUNS else "auto")
            status[ok] = ds["status"].values
            for name, v in series_of(ds, names).items():
                full[name][ok] = v
        if progress:
            progress(m - ok.size)
        cols = {"patient": np.arange(start, start + m, dtype=np.int64), "arm": np.full(m, arm, dtype=object),
                "status": status, **outcomes(prep.t, full, _first_dose_h(cfg) if arm == "treated" else None), **values}
        patients.append(pa.table(cols))
        if cfg.trajectory_points:
            trajectories.append(_trajectory_table(prep, cfg, full, start, m, arm))
    store.write_table(store.part_path(Path(out), "patients", k), pa.concat_tables(patients))
    if trajectories:
        store.write_table(store.part_path(Path(out), "trajectories", k), pa.concat_tables(trajectories))
    return m


def _needed(prep: Prepared) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*NEEDED, *prep.readouts]))


def _increments(progress: Callable[[int], None] | None) -> Callable[[int, int], None] | None:
    """Turn ``simulate_batch``'s (done, total) calls into increments of done."""
    if progress is None:
        return None
    last = [0]

    def call(done: int, _total: int) -> None:
        progress(done - last[0])
        last[0] = done

    return call


def _trajectory_table(prep: Prepared, cfg: PopulationConfig, ser: dict[str, np.ndarray], start: int, m: int, arm: str) -> Any:
    import pyarrow as pa

    idx = np.unique(np.round(np.linspace(0, prep.t.size - 1, cfg.trajectory_points)).astype(int))
    cols = {"patient": np.repeat(np.arange(start, start + m, dtype=np.int64), idx.size),
            "arm": np.full(m * idx.size, arm, dtype=object), "time": np.tile(prep.t[idx], m)}
    cols.update({r: ser[r][:, idx].reshape(-1) for r in prep.readouts})
    return pa.table(cols)


@dataclass(frozen=True)
class RunResult:
    out: Path
    patients: int
    computed: int  # partitions computed now
    skipped: int  # partitions found complete


def check_dask_address(address: str, timeout_s: float = DASK_CONNECT_S) -> None:
    """Fail fast, in one line, on a ``--dask`` value that is not 'local' or a reachable ``tcp://HOST:PORT``."""
    import socket
    from urllib.parse import urlsplit

    if address == "local":
        return
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None:
        raise ScenarioError(f"--dask must be 'local' or a scheduler address 'tcp://HOST:PORT', got {address!r}")
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout_s).close()
    except OSError as err:
        raise ScenarioError(f"--dask {address}: no scheduler answers there ({err.strerror or type(err).__name__}); "
                            "start it, check the address, or use --dask local") from None


@dataclass(frozen=True)
class Plan:
    """What a population will cost, estimated before it starts (upper bounds)."""

    patients: int
    arms: int
    partitions: int
    cpu_hours: float
    disk_gb: float
    memory_gb: float  # peak per process: the interpreter and libraries, and every partition in flight in it
    in_flight: int  # partitions held at once by one process (its threads; 1 per Dask worker process)

    def over(self, budget: dict[str, float]) -> list[str]:
        """The budget entries this plan exceeds, as 'what (estimate > limit)'."""
        found = {"cpu_hours": (self.cpu_hours, "CPU hours"), "disk_gb": (self.disk_gb, "GB of disk"),
                 "memory_gb": (self.memory_gb, "GB of memory per process")}
        return [f"{v:,.3g} {label} > {budget[k]:g}" for k, (v, label) in found.items() if v > budget[k]]


#: bytes of a process before its partitions: the interpreter, numpy, numba, pyarrow and the compiled models
PROCESS_BASE_BYTES = 0.5 * 2**30


def plan(cfg: PopulationConfig, n_species: int, threads: int | None = None, dask: str | None = None) -> Plan:
    """Estimate CPU time, disk and memory of ``cfg`` (``n_species``: states of the compiled host).

    Memory is per process, as :func:`run_population` runs it: without Dask one process whose
    ``threads`` (default: numba's thread count) each hold a partition; with Dask each worker
    process holds one partition at a time (one thread per worker).
    """
    from cytonet.engine.batch import thread_count
    from cytonet.scenarios import load_scenario

    sc = load_scenario(cfg.scenario)
    arms = len(cfg.arms)
    points = int(round(sc.t_end * cfg.points_per_hour)) + 1
    rows = cfg.n * arms
    columns = len(NEEDED) + 8 + n_species  # outcomes, ids and status, and at most one column per varied parameter
    disk = rows * columns * 8 + rows * cfg.trajectory_points * (3 + len(NEEDED)) * 8
    batch = min(cfg.n, cfg.batch_size)
    partition = batch * points * (n_species + len(NEEDED)) * 8 * (arms + 1)
    in_flight = 1 if dask is not None else min(thread_count(threads), cfg.n_partitions)
    memory = PROCESS_BASE_BYTES + in_flight * partition
    return Plan(cfg.n, arms, cfg.n_partitions, rows * CPU_SECONDS_PER_PATIENT_ARM / 3600, disk / 1e9, memory / 2**30,
                in_flight)


def run_population(cfg: PopulationConfig, out: str | Path, *, dask: str | None = None, workers: int = 2,
                   show_progress: bool = True, threads: int | None = None) -> RunResult:
    """Run (or resume) the population ``cfg`` into ``out``; ``dask`` = None, "local" or "tcp://host:port"."""
    out = Path(out)
    if dask is not None:
        check_dask_address(dask)
    config_json = cfg.to_json()
    manifest = store.open_manifest(out, cfg.model_dump(mode="json"), config_hash(cfg), cfg.n_partitions)
    todo = [k for k in range(cfg.n_partitions) if str(k) not in manifest["completed"]]
    sizes = {k: min(cfg.n, (k + 1) * cfg.batch_size) - k * cfg.batch_size for k in range(cfg.n_partitions)}
    total = cfg.n * len(cfg.arms)
    done_before = sum(sizes[int(k)] for k in manifest["completed"]) * len(cfg.arms)

    def finished(k: int, rows: int) -> None:
        manifest["completed"][str(k)] = {"rows": rows}
        manifest["finished"] = len(manifest["completed"]) == cfg.n_partitions
        store.write_manifest(out, manifest)

    with _Progress(show_progress, total, done_before, cfg.scenario) as bar:
        if dask is None:
            _run_local(config_json, out, todo, threads, finished, bar.advance)
        else:
            _run_dask(dask, workers, config_json, out, todo, finished, lambda k: bar.advance(sizes[k] * len(cfg.arms)))
    if not manifest["finished"]:
        manifest["finished"] = len(manifest["completed"]) == cfg.n_partitions
        store.write_manifest(out, manifest)
    return RunResult(out, cfg.n, len(todo), cfg.n_partitions - len(todo))


def _run_local(config_json: str, out: Path, todo: list[int], threads: int | None,
               finished: Callable[[int, int], None], advance: Callable[[int], None]) -> None:
    """Partitions in this process. With several threads and partitions, each thread runs whole
    partitions on one core, so every stage (sampling, rest states, simulation, outcomes, Parquet)
    keeps both cores busy, not only the simulation; a partition's results do not depend on it."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from cytonet.engine.batch import thread_count

    workers = min(thread_count(threads), len(todo))
    if workers <= 1:
        for k in todo:
            finished(k, run_partition(config_json, str(out), k, threads, advance))
        return
    prepare(config_json)  # compile once, before the threads share it
    with ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(run_partition, config_json, str(out), k, 1, advance): k for k in todo}
        for fut in as_completed(futures):
            finished(futures[fut], fut.result())


def _run_dask(address: str, workers: int, config_json: str, out: Path, todo: list[int],
              finished: Callable[[int, int], None], advance: Callable[[int], None]) -> None:
    from distributed import Client, LocalCluster, as_completed

    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(address, timeout=DASK_CONNECT_S)
        except (OSError, TimeoutError) as err:
            raise ScenarioError(f"--dask {address}: cannot connect to the scheduler ({type(err).__name__}); "
                                "start it, check the address, or use --dask local") from None
    try:
        futures = {client.submit(run_partition, config_json, str(out.resolve()), k, 1, pure=False): k for k in todo}
        for fut in as_completed(futures):
            k = futures[fut]
            finished(k, fut.result())
            advance(k)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class _Progress:
    """A rich progress bar over patient simulations (arms included) with ETA, or nothing."""

    def __init__(self, show: bool, total: int, done: int, label: str) -> None:
        self.show, self.total, self.completed, self.label = show, total, float(done), label
        self._bar: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> _Progress:
        if self.show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("ETA"),
                                 TimeRemainingColumn(), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(f"population {self.label}", total=self.total, completed=self.completed)
        return self

    def update(self, completed: float) -> None:
        self.completed = completed
        if self._bar is not None:
            self._bar.update(self._task, completed=completed)

    def advance(self, n: int) -> None:
        with self._lock:  # partitions report from several threads
            self.update(self.completed + n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
