"""The limits a ``cytonet serve`` process enforces, in one place (each one a reason for a 4xx or 429)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may ask for and on how much work runs at once."""

    max_body_bytes: int = 64 * 1024  # request bodies are small JSON documents
    max_hours: float = 2000.0  # simulated horizon, h (the longest shipped scenario runs 336 h)
    max_points: int = 2001  # output time points of one run
    max_overrides: int = 64  # parameter overrides per request
    max_patients: int = 1000  # virtual patients per population job
    max_doses: int = 60  # administrations per regimen
    max_protocol_events: int = 24  # LPS boluses + infusions per request
    sim_workers: int = 2  # simulations running at once (threads; the solver releases the GIL)
    sim_queue: int = 8  # simulations waiting for a worker before requests are turned away (429)
    max_jobs: int = 2  # population jobs queued or running at once (429 beyond)
    kept_runs: int = 64  # finished runs kept for downloads (oldest dropped first)
    kept_jobs: int = 32  # finished population jobs kept for polling


DEFAULT_LIMITS = Limits()
