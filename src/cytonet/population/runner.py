"""Run a virtual population: sample, find each patient's rest state, simulate every arm, store outcomes.

The population is cut into partitions of ``batch_size`` patients. A partition is a pure function of
the configuration and its index (sampling seeds derive from (seed, partition)), so partitions can run
in any order, on any worker, and a resumed run recomputes only the missing ones with identical results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cytonet.errors import ScenarioError, TherapyError
from cytonet.population import store
from cytonet.population.outcomes import NEEDED, outcomes, series_of
from cytonet.population.rest import REST_FAILED, rest_states
from cytonet.population.sampling import Method, VariationFile, resolve, sample
from cytonet.scenarios.lps import LpsProtocol


class PopulationConfig(BaseModel):
    """Everything that determines a population's results (its JSON is hashed into the manifest)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str
    n: int = Field(ge=1)
    variation: VariationFile
    method: Method | None = Field(None, description="overrides the variation file's method")
    seed: int = 0
    batch_size: int = Field(500, ge=1)
    drug: str | None = None
    dose: str | None = Field(None, description="e.g. '8 mg/kg'; default: the drug's first labelled regimen")
    at: str | None = Field(None, description="time of the (first) dose, e.g. '24h'")
    trajectory_points: int = Field(0, ge=0, description="downsampled time points stored per patient (0: none)")
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
    varied: list
    method: Method
    t: np.ndarray
    readouts: tuple[str, ...]
    digest: str


def _treated(spec: Any, cfg: PopulationConfig) -> Any:
    from cytonet.therapy import Regimen, labelled_regimen, treat

    assert cfg.drug is not None
    start = cfg.at if cfg.at is not None else 0.0
    regimen = Regimen(dose=cfg.dose, start=start) if cfg.dose else labelled_regimen(cfg.drug, start=start)
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
        arms["treated"] = compile_model(_treated(spec, cfg))
    cm_host = compile_model(host.model_copy(update={"events": []}))
    t = np.linspace(0.0, sc.t_end, int(round(sc.t_end * cfg.points_per_hour)) + 1)
    extra = ("MAP", "SPO2")
    readouts = tuple(dict.fromkeys([*sc.readouts, *extra]))
    digest = hashlib.sha256("".join(cm.digest for cm in (cm_host, *arms.values())).encode()).hexdigest()
    return Prepared(cm_host, arms, np.array([rest[s] for s in cm_host.species]), varied,
                    cfg.method or cfg.variation.method, t, readouts, digest)


def config_hash(cfg: PopulationConfig) -> str:
    """sha256 of the configuration and of the compiled models it runs."""
    return hashlib.sha256((cfg.to_json() + prepare(cfg.to_json()).digest).encode()).hexdigest()


def run_partition(config_json: str, out: str, k: int, threads: int | None = None,
                  progress: Callable[[int], None] | None = None) -> int:
    """Simulate partition ``k`` and write its Parquet files; returns its number of patients."""
    import pyarrow as pa

    from cytonet.engine.batch import simulate_batch

    cfg = PopulationConfig.model_validate_json(config_json)
    prep = prepare(config_json)
    start = k * cfg.batch_size
    m = min(cfg.n, start + cfg.batch_size) - start
    values = sample(prep.varied, prep.method, start, m, cfg.seed, k)
    P = np.tile(prep.host.p, (m, 1))
    for pid, v in values.items():
        P[:, prep.host.parameter_index(pid)] = v
    X, found = rest_states(prep.host, P, prep.x_ref, cfg.relax_hours, threads)
    ok = np.flatnonzero(found)
    names = _needed(prep)
    patients, trajectories = [], []
    for arm, cm in prep.arms.items():
        status = np.full(m, REST_FAILED, np.int8)
        full = {name: np.full((m, prep.t.size), np.nan) for name in names}
        if ok.size:
            table = {pid: v[ok] for pid, v in values.items()}
            table.update({sid: X[ok, i] for i, sid in enumerate(prep.host.species)})
            ds = simulate_batch(cm, table, float(prep.t[-1]), t_eval=prep.t, rtol=cfg.rtol, atol=cfg.atol,
                                on_error="mask", threads=threads, progress=_increments(progress))
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


def run_population(cfg: PopulationConfig, out: str | Path, *, dask: str | None = None, workers: int = 2,
                   show_progress: bool = True, threads: int | None = None) -> RunResult:
    """Run (or resume) the population ``cfg`` into ``out``; ``dask`` = None, "local" or "tcp://host:port"."""
    out = Path(out)
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
            for k in todo:
                finished(k, run_partition(config_json, str(out), k, threads, bar.advance))
        else:
            _run_dask(dask, workers, config_json, out, todo, finished, lambda k: bar.advance(sizes[k] * len(cfg.arms)))
    if not manifest["finished"]:
        manifest["finished"] = len(manifest["completed"]) == cfg.n_partitions
        store.write_manifest(out, manifest)
    return RunResult(out, cfg.n, len(todo), cfg.n_partitions - len(todo))


def _run_dask(address: str, workers: int, config_json: str, out: Path, todo: list[int],
              finished: Callable[[int, int], None], advance: Callable[[int], None]) -> None:
    from distributed import Client, LocalCluster, as_completed

    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    elif address.startswith("tcp://"):
        cluster, client = None, Client(address)
    else:
        raise ScenarioError(f"--dask must be 'local' or a scheduler address 'tcp://HOST:PORT', got {address!r}")
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
        self.update(self.completed + n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
