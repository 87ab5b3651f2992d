"""``GET /api/runs/{id}/{file}``: SBML, CSV, Parquet, summary and the HTML report of a finished run."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from cytonet.web.context import context
from cytonet.web.runs import MEDIA

router = APIRouter(prefix="/api", tags=["downloads"])


@router.get("/runs/{run_id}/{file}", response_class=FileResponse, summary="A file of a run (written on first request)",
            responses={200: {"content": {m: {} for m in sorted(set(MEDIA.values()))}}})
async def download(run_id: str, file: str, request: Request) -> FileResponse:
    ctx = context(request)
    ctx.runs.get(run_id)  # 404 before taking a worker
    path = await ctx.pool.run(ctx.runs.path, run_id, file)
    media = MEDIA.get(path.suffix, "application/octet-stream")
    inline = path.suffix in (".html", ".png")
    return FileResponse(path, media_type=media, filename=None if inline else path.name)
