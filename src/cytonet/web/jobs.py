"""Virtual populations as background jobs: one at a time on a worker thread, progress read from the run's manifest.

A job writes a population run directory (``cytonet.population.runner.run_population``) into a folder
the server owns and names; its progress is the share of partitions the manifest lists as complete,
its result the per-arm storm rates with Wilson intervals, outcome distributions and paired effects of
``cytonet.population.summary.summarize``.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cytonet.errors import CytonetError, UnknownEntityError
from cytonet.web.pool import Busy
from cytonet.web.services import jsonable

#: partitions a job is cut into, so that progress moves in steps of about a tenth
PROGRESS_STEPS = 10
#: downloadable tables of a finished job: one row per patient and arm (parameters, outcomes)
EXPORTS = ("patients.parquet", "patients.csv")


@dataclass
class Job:
    id: str
    request: dict[str, Any]
    out: Path
    n_partitions: int
    status: str = "queued"  # queued, running, done, failed
    created: float = field(default_factory=time.time)
    finished: float | None = None
    error: str | None = None
    result: dict[str, Any] | None = None

    def progress(self) -> float:
        """Share of the population's partitions finished (1.0 when done)."""
        if self.status == "done":
            return 1.0
        if self.status != "running":
            return 0.0
        from cytonet.store.runs import read_manifest

        try:
            manifest = read_manifest(self.out) or {}
        except CytonetError:
            return 0.0
        return len(manifest.get("completed", {})) / self.n_partitions

    def view(self) -> dict[str, Any]:
        downloads = {name: f"/api/jobs/{self.id}/{name}" for name in EXPORTS} if self.status == "done" else {}
        return {"id": self.id, "status": self.status, "progress": round(self.progress(), 4), "request": self.request,
                "error": self.error, "result": self.result, "created": self.created, "finished": self.finished,
                "downloads": downloads}

    def export(self, name: str) -> Path:
        """The path of a finished job's table ``name`` (one of ``EXPORTS``)."""
        if name not in EXPORTS:
            from cytonet.errors import close_matches

            raise UnknownEntityError("file of a population job", name, close_matches(name, EXPORTS, cutoff=0.3))
        if self.status != "done":
            raise UnknownEntityError(f"file of {self.status} job", name)
        return self.out / "exports" / name


def write_exports(run_dir: Path) -> None:
    """The population's ``patients`` table as Parquet and CSV in ``run_dir/exports`` (server-chosen paths)."""
    import pyarrow.csv
    import pyarrow.parquet

    from cytonet.io import atomic_write
    from cytonet.store.runs import connect

    table = connect(run_dir).sql("SELECT * FROM patients ORDER BY arm, patient").to_arrow_table()
    folder = run_dir / "exports"
    atomic_write(folder / "patients.parquet", lambda p: pyarrow.parquet.write_table(table, p))
    atomic_write(folder / "patients.csv", lambda p: pyarrow.csv.write_csv(table, p))


def arm_summaries(run_dir: Path) -> dict[str, Any]:
    """A population run's summary as JSON: per arm the storm rate (Wilson 95 % CI), CRS grades, peak IL-6."""
    from cytonet.population.summary import summarize

    s = summarize(run_dir)
    arms = [{"arm": a.arm, "n": a.n, "ok": a.ok,
             "storm_rate": {"estimate": a.storm.estimate, "low": a.storm.low, "high": a.storm.high, "method": "Wilson 95%"},
             "crs_counts": list(a.crs_counts), "peak_il6_quartiles": list(a.il6_quartiles),
             "peak_il6": a.peak_il6} for a in s.arms]
    effects = [{"name": e.name, "estimate": e.estimate, "low": e.low, "high": e.high, "method": e.method,
                "pairs": e.pairs} for e in s.effects]
    return jsonable({"arms": arms, "effects": effects, "units": {"peak_il6": "pg/mL"}})


class JobRunner:
    """At most ``max_jobs`` queued or running jobs (``Busy`` beyond); the last ``keep`` finished ones are kept."""

    def __init__(self, root: Path, max_jobs: int, keep: int) -> None:
        self.root = root
        self.max_jobs = max_jobs
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="cytonet-population")

    def active(self) -> int:
        return sum(j.status in ("queued", "running") for j in self._jobs.values())

    def submit(self, request: dict[str, Any], config: Any) -> Job:
        """Queue a population (a ``PopulationConfig`` without its batch size) and return its job."""
        batch = max(1, -(-config.n // PROGRESS_STEPS))
        config = config.model_copy(update={"batch_size": batch})
        with self._lock:
            if self.active() >= self.max_jobs:
                running = [j for j in self._jobs.values() if j.status == "running"]
                raise Busy("population jobs", max(5, int(30 * (1 - running[0].progress()))) if running else 30)
            jid = uuid.uuid4().hex[:16]
            job = Job(jid, request, self.root / f"population-{jid}", config.n_partitions)
            self._jobs[jid] = job
            self._evict()
        self._executor.submit(self._run, job, config)
        return job

    def get(self, jid: str) -> Job:
        with self._lock:
            job = self._jobs.get(jid)
        if job is None:
            raise UnknownEntityError("job", jid)
        return job

    def _run(self, job: Job, config: Any) -> None:
        from cytonet.population.runner import run_population

        job.status = "running"
        try:
            run_population(config, job.out, show_progress=False)
            job.result = arm_summaries(job.out)
            write_exports(job.out)
            job.status = "done"
        except CytonetError as err:
            job.error, job.status = str(err), "failed"
        except Exception as err:  # noqa: BLE001 - a job must end in a state the client can read
            job.error, job.status = f"internal error ({type(err).__name__}); the job could not finish", "failed"
        finally:
            job.finished = time.time()

    def _evict(self) -> None:
        done = [j for j in self._jobs.values() if j.status in ("done", "failed")]
        for job in done[: max(0, len(done) - self.keep)]:
            del self._jobs[job.id]
            shutil.rmtree(job.out, ignore_errors=True)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
