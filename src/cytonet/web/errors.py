"""Every failure as a JSON :class:`~cytonet.web.schemas.Problem`: 4xx saying what to fix, never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cytonet.errors import CytonetError, SolverError, UnknownEntityError
from cytonet.web.pool import Busy

log = logging.getLogger("cytonet.web")


def problem(status: int, error: str, detail: str, suggestions: list[str] | None = None,
            retry_after: int | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": error, "detail": detail, "suggestions": suggestions or [], "retry_after": retry_after}
    headers = {**(headers or {}), **({"Retry-After": str(retry_after)} if retry_after is not None else {})}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _where(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into Problems."""

    @app.exception_handler(UnknownEntityError)
    async def _unknown(_: Request, err: UnknownEntityError) -> JSONResponse:
        return problem(404, "not_found", str(err), err.suggestions)

    @app.exception_handler(SolverError)
    async def _solver(_: Request, err: SolverError) -> JSONResponse:
        return problem(422, "solver_failed", str(err))

    @app.exception_handler(CytonetError)
    async def _bad(_: Request, err: CytonetError) -> JSONResponse:
        return problem(400, "bad_request", str(err))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        lines = [f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in err.errors()]
        return problem(422, "invalid_request", "; ".join(lines[:10]))

    @app.exception_handler(Busy)
    async def _busy(_: Request, err: Busy) -> JSONResponse:
        return problem(429, "busy", str(err), retry_after=err.retry_after)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, err: HTTPException) -> JSONResponse:
        error = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(err.status_code, "http_error")
        return problem(err.status_code, error, str(err.detail), headers=dict(err.headers or {}))

    @app.exception_handler(Exception)
    async def _internal(request: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal_error", f"the server failed on this request ({type(err).__name__}); it was logged")


class BodyLimit:
    """ASGI middleware: request bodies over ``max_bytes`` get 413 before any handler reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._reject(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise HTTPException(413, f"request body over {self.max_bytes} bytes")
            return message

        await self.app(scope, counted, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, "too_large", f"request body over {self.max_bytes} bytes; send a smaller JSON document")
        await response(scope, receive, send)
