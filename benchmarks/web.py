"""Web benchmark: 50 concurrent ``POST /api/simulate`` against a real ``cytonet serve`` on loopback.

Side by side in this process: the same simulation called directly in Python
(``cytonet.web.services.simulate``, what a request runs on a worker), one after another, as the
reference. Two load phases against the server (default 2 workers + 8 queue slots):

- burst: 50 requests at once, no retries; every answer must be 200 or 429 (the rest is turned away
  early, with Retry-After, instead of piling up);
- patient: 50 clients at once that honour Retry-After until answered 200 (bounded: 3 minutes).

Prints throughput (200s per second), p50/p95 latency, the answer counts, the server's peak RSS
(sampled every 20 ms) and the ratios against the direct calls. All traffic stays on 127.0.0.1.
Run: ``python benchmarks/web.py [--n 50] [--scenario lps-endotoxemia]``.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import psutil

BODY = {"hours": 48, "points": 193}
DEADLINE_S = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RssSampler(threading.Thread):
    """Peak resident memory of a process and its children, sampled until stopped."""

    def __init__(self, pid: int, every_s: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.every_s = every_s
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            try:
                rss = self.proc.memory_info().rss + sum(c.memory_info().rss for c in self.proc.children(recursive=True))
            except psutil.Error:
                break
            self.peak = max(self.peak, rss)
            time.sleep(self.every_s)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def start_server(port: int) -> subprocess.Popen:
    cli = Path(sys.executable).with_name("cytonet")
    proc = subprocess.Popen([str(cli), "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("cytonet serve did not start within 60 s")


def one(client: httpx.Client, body: dict, patient: bool, t0: float) -> tuple[int, float, int]:
    """(final status, latency s, 429s seen) of one client."""
    start = time.perf_counter()
    busy = 0
    while True:
        r = client.post("/api/simulate", json=body)
        if r.status_code != 429 or not patient or time.perf_counter() - t0 > DEADLINE_S:
            return r.status_code, time.perf_counter() - start, busy + (r.status_code == 429)
        busy += 1
        time.sleep(float(r.headers.get("Retry-After", "1")))


def phase(url: str, body: dict, n: int, patient: bool) -> dict:
    with httpx.Client(base_url=url, timeout=DEADLINE_S) as client, ThreadPoolExecutor(n) as pool:
        t0 = time.perf_counter()
        results = list(pool.map(lambda _: one(client, body, patient, t0), range(n)))
        wall = time.perf_counter() - t0
    codes = [c for c, _, _ in results]
    lat = np.array([t for c, t, _ in results if c == 200])
    return {"wall": wall, "codes": {c: codes.count(c) for c in sorted(set(codes))}, "ok": len(lat),
            "p50": float(np.percentile(lat, 50)) if lat.size else float("nan"),
            "p95": float(np.percentile(lat, 95)) if lat.size else float("nan"),
            "throughput": len(lat) / wall, "retries": sum(b for _, _, b in results)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="concurrent requests")
    ap.add_argument("--scenario", default="lps-endotoxemia")
    args = ap.parse_args()
    body = {"scenario": args.scenario, **BODY}

    from cytonet.web import services

    services.simulate(args.scenario, BODY["hours"], {}, BODY["points"], 2001)  # compile / load kernels
    direct = []
    for _ in range(10):
        t = time.perf_counter()
        services.simulate(args.scenario, BODY["hours"], {}, BODY["points"], 2001)
        direct.append(time.perf_counter() - t)
    direct_s = float(np.median(direct))

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port)
    try:
        idle_rss = psutil.Process(server.pid).memory_info().rss
        sampler = RssSampler(server.pid)
        sampler.start()
        with httpx.Client(base_url=url, timeout=DEADLINE_S) as c:
            c.post("/api/simulate", json=body)  # first request loads the kernels in the server
            single = []
            for _ in range(10):
                t = time.perf_counter()
                assert c.post("/api/simulate", json=body).status_code == 200
                single.append(time.perf_counter() - t)
        single_s = float(np.median(single))
        burst = phase(url, body, args.n, patient=False)
        patient = phase(url, body, args.n, patient=True)
        peak = sampler.stop()
    finally:
        server.terminate()
        server.wait(10)

    print(f"web benchmark: {args.n} concurrent POST /api/simulate ({args.scenario}, {BODY['hours']} h, "
          f"{BODY['points']} points) on 127.0.0.1, server with 2 workers + 8 queue slots")
    print(f"  direct call (services.simulate, in process)   median {1000 * direct_s:8.1f} ms  = {1 / direct_s:6.1f} runs/s")
    print(f"  one request at a time over HTTP                median {1000 * single_s:8.1f} ms  "
          f"(HTTP + JSON overhead {1000 * (single_s - direct_s):+.1f} ms, x{single_s / direct_s:.2f} of direct)")
    for name, r in (("burst, no retries", burst), ("patient clients (Retry-After)", patient)):
        print(f"  {name:<31} answers {r['codes']}  wall {r['wall']:6.2f} s  throughput {r['throughput']:6.1f} runs/s "
              f"(x{r['throughput'] * direct_s:.2f} of direct serial)  p50 {1000 * r['p50']:7.1f} ms  "
              f"p95 {1000 * r['p95']:7.1f} ms  429s seen {r['retries']}")
    print(f"  server RSS: idle {idle_rss / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB")
    bad = {c for r in (burst, patient) for c in r["codes"] if c not in (200, 429)}
    if bad or patient["ok"] != args.n:
        raise SystemExit(f"unexpected answers: {bad or patient['codes']}")


if __name__ == "__main__":
    main()
