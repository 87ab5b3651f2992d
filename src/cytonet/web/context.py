"""What one server process holds: its limits, worker pool, finished runs and population jobs."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from cytonet.web.jobs import JobRunner
from cytonet.web.limits import Limits
from cytonet.web.pool import WorkerPool
from cytonet.web.runs import RunStore


@dataclass
class Context:
    limits: Limits
    root: Path  # server-owned scratch folder for run files and population runs
    pool: WorkerPool
    runs: RunStore
    jobs: JobRunner

    @classmethod
    def create(cls, limits: Limits) -> Context:
        root = Path(tempfile.mkdtemp(prefix="cytonet-serve-"))
        return cls(limits, root, WorkerPool(limits.sim_workers, limits.sim_queue), RunStore(root, limits.kept_runs),
                   JobRunner(root, limits.max_jobs, limits.kept_jobs))

    def close(self) -> None:
        self.pool.shutdown()
        self.jobs.shutdown()
        shutil.rmtree(self.root, ignore_errors=True)


def context(request: Request) -> Context:
    return request.app.state.cytonet
