"""A bounded worker pool: simulations run off the event loop, and a full queue answers 429, not a pile-up."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Busy(Exception):
    """Every worker and queue slot is taken; ``retry_after`` is a fair estimate in whole seconds."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"the server is busy with {what}; retry in about {retry_after} s")
        self.retry_after = retry_after


class WorkerPool:
    """``workers`` threads plus ``queue`` waiting slots; ``run`` raises :class:`Busy` when all are taken.

    Threads suffice because the numba solver kernels release the GIL; the pool bounds memory and CPU
    use, so a burst of requests is turned away early with an estimate of when to come back.
    """

    def __init__(self, workers: int, queue: int, name: str = "simulations") -> None:
        self.name = name
        self.workers = workers
        self.capacity = workers + queue
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=f"cytonet-{name}")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._mean_s = 1.0  # running mean of run times (queueing excluded), for Retry-After

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def retry_after(self) -> int:
        """Whole seconds until a slot is likely free: one mean run time shared by the workers (at least 1)."""
        return max(1, math.ceil(self._mean_s / self.workers))

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        """Start ``fn(*args)`` on a worker, or raise :class:`Busy` when the pool is full."""
        with self._lock:
            if self._in_flight >= self.capacity:
                raise Busy(self.name, self.retry_after())
            self._in_flight += 1
        def timed() -> T:
            started = time.perf_counter()
            try:
                return fn(*args)
            finally:
                elapsed = time.perf_counter() - started
                with self._lock:
                    self._in_flight -= 1
                    self._mean_s = 0.8 * self._mean_s + 0.2 * elapsed

        try:
            return self._executor.submit(timed)
        except RuntimeError:  # shutting down
            with self._lock:
                self._in_flight -= 1
            raise Busy(self.name, 5) from None

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Await ``fn(*args)`` on a worker without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(fn, *args))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
