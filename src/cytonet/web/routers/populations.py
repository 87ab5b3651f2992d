"""``POST /api/populations`` (a background job) and ``GET /api/jobs/{id}`` (status, progress, result)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from cytonet.web.context import context
from cytonet.web.schemas import Accepted, JobView, PopulationRequest

router = APIRouter(prefix="/api", tags=["populations"])


@router.post("/populations", response_model=Accepted, status_code=202,
             summary="Start a virtual population (untreated, and treated when a drug is named) as a job")
def start(body: PopulationRequest, request: Request) -> Accepted:
    from cytonet.population.runner import PopulationConfig
    from cytonet.population.sampling import load_variation
    from cytonet.scenarios import load_scenario
    from cytonet.therapy import get_drug, parse_dose

    ctx = context(request)
    sc = load_scenario(body.scenario)  # unknown names fail now, not later in the job
    drug = get_drug(body.drug).id if body.drug else None
    if drug is None and (body.dose or body.at_h is not None):
        from cytonet.errors import TherapyError

        raise TherapyError("dose and at_h need a drug; name the drug to give")
    if body.dose:
        parse_dose(body.dose)
    lps = body.lps.protocol() if body.lps else None
    if lps is not None:
        from cytonet.scenarios.lps import check_horizon

        check_horizon(lps, sc.t_end)
    cfg = PopulationConfig(scenario=sc.id, n=body.n, variation=load_variation(), method=body.method, seed=body.seed,
                           drug=drug, dose=body.dose, at=None if body.at_h is None else f"{body.at_h}h", lps=lps)
    job = ctx.jobs.submit(body.model_dump(mode="json"), cfg)
    return Accepted(job_id=job.id, status_url=f"/api/jobs/{job.id}")


@router.get("/jobs/{job_id}", response_model=JobView, summary="A population job: status, progress and, when done, its result")
def job(job_id: str, request: Request) -> JobView:
    return JobView(**context(request).jobs.get(job_id).view())


@router.get("/jobs/{job_id}/{file}", response_class=FileResponse, summary="A finished job's patients table",
            responses={200: {"content": {"application/vnd.apache.parquet": {}, "text/csv": {}}}})
def job_file(job_id: str, file: str, request: Request) -> FileResponse:
    path = context(request).jobs.get(job_id).export(file)
    media = "text/csv" if path.suffix == ".csv" else "application/vnd.apache.parquet"
    return FileResponse(path, media_type=media, filename=path.name)
