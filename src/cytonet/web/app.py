"""The ``cytonet serve`` application: JSON API under ``/api``, the explorer pages at ``/``.

Every script, style and font the pages use is shipped in ``cytonet/web/static`` (uPlot for plots,
cytoscape.js for the network; their licences beside them), so the explorer works with no network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

import cytonet
from cytonet.web import errors
from cytonet.web.context import Context
from cytonet.web.limits import DEFAULT_LIMITS, Limits
from cytonet.web.routers import kb, populations, runs, scenarios, therapy
from cytonet.web.schemas import Health, Problem

STATIC = resources.files("cytonet.web").joinpath("static")

PROBLEMS = {status: {"model": Problem, "description": text} for status, text in (
    (400, "bad input (what and where)"), (404, "unknown name, with suggestions"), (413, "request body too large"),
    (422, "invalid request or numerical failure"), (429, "busy: retry after Retry-After seconds"))}


def create_app(limits: Limits = DEFAULT_LIMITS) -> FastAPI:
    """A new application with its own worker pool, run store and job runner."""
    ctx = Context.create(limits)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.close()

    # no /docs or /redoc: FastAPI's pages fetch Swagger UI / ReDoc from a CDN, and the server works offline
    app = FastAPI(title="cytonet", version=cytonet.__version__, lifespan=lifespan, responses=PROBLEMS,
                  docs_url=None, redoc_url=None,
                  description="The human cytokine network: knowledge base, scenarios, therapies and virtual populations.")
    app.state.cytonet = ctx
    errors.install(app)
    app.add_middleware(errors.BodyLimit, max_bytes=limits.max_body_bytes)
    for module in (kb, scenarios, therapy, populations, runs):
        app.include_router(module.router)

    @app.get("/api/health", response_model=Health, tags=["service"])
    def health() -> Health:
        return Health(status="ok", version=cytonet.__version__, simulations_in_flight=ctx.pool.in_flight,
                      jobs_active=ctx.jobs.active())

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(STATIC.joinpath("index.html")), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app
