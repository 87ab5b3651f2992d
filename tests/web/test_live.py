"""A real ``cytonet serve`` (uvicorn) on loopback: binding, shipped assets, concurrent simulations."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

from typing import Any

import httpx
import psutil

LiveServer = Any  # the ``live`` fixture of conftest.py


def test_binds_loopback_by_default(live: LiveServer) -> None:
    listening = [c.laddr for c in psutil.Process(live.proc.pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening)
    assert {addr.port for addr in listening} == {live.port}


def test_page_loads_only_shipped_assets(live: LiveServer) -> None:
    """Every script, style and icon of the page comes from the package: no CDN, works offline."""
    page = httpx.get(f"{live.url}/").text
    refs = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert refs and all(r.startswith("/static/") for r in refs), refs
    static = resources.files("cytonet.web").joinpath("static")
    for ref in refs:
        r = httpx.get(live.url + ref)
        assert r.status_code == 200 and r.content == static.joinpath(ref.removeprefix("/static/")).read_bytes()
    for name in ("app.js", "style.css"):
        text = static.joinpath(name).read_text()
        assert not re.search(r"https?://(?!doi\.org|pubmed)", text), f"{name} reaches outside the server"


def test_concurrent_simulations_over_http(live: LiveServer) -> None:
    body = {"scenario": "lps-endotoxemia", "hours": 12, "points": 49}
    with httpx.Client(base_url=live.url, timeout=300) as c, ThreadPoolExecutor(16) as ex:
        codes = list(ex.map(lambda _: c.post("/api/simulate", json=body).status_code, range(16)))
        assert set(codes) <= {200, 429} and 200 in codes
        assert c.get("/api/health").json()["simulations_in_flight"] == 0


def test_no_page_that_needs_a_cdn(live: LiveServer) -> None:
    assert httpx.get(f"{live.url}/docs").status_code == 404  # FastAPI's Swagger page loads from a CDN
    assert httpx.get(f"{live.url}/openapi.json").json()["info"]["title"] == "cytonet"


def test_errors_over_http_are_json(live: LiveServer) -> None:
    r = httpx.post(f"{live.url}/api/simulate", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    r = httpx.get(f"{live.url}/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert "Traceback" not in r.text
