"""``/api/drugs`` and ``POST /api/treat``: modelled drugs and a scenario untreated against treated."""

from __future__ import annotations

from fastapi import APIRouter, Request

from cytonet.web.context import context
from cytonet.web.schemas import DrugInfo, TreatRequest, TreatResult

router = APIRouter(prefix="/api", tags=["therapy"])


@router.get("/drugs", response_model=list[DrugInfo], summary="Drugs with PK/PD models, labelled regimens and dose ranges")
def drugs() -> list[DrugInfo]:
    from cytonet.knowledge import load
    from cytonet.therapy import pk_data

    names = {d.id: d.name for d in load().drugs()}
    out = []
    for d in pk_data().drugs.values():
        g = d.regimens[0]
        out.append(DrugInfo(
            id=d.id, name=names.get(d.id, d.id), mechanism=str(d.mechanism),
            targets=[t for t in (d.membrane_target, *d.soluble_targets, *d.kinases) if t], routes=list(d.routes),
            labelled={"name": g.name, "route": g.route, "dose": g.dose, "every_h": g.every_h, "doses": g.doses},
            labelled_range={r: rng.model_dump(mode="json") for r, rng in d.labelled_range.items()},
        ))
    return out


@router.post("/treat", response_model=TreatResult, summary="A scenario untreated and treated: overlays, drug level, changes")
async def treat(body: TreatRequest, request: Request) -> TreatResult:
    from cytonet.web import services

    ctx = context(request)
    res = await ctx.pool.run(services.treat, body.scenario, body.drug, body.dose, body.route, body.at_h, body.every_h,
                             body.doses, body.weight_kg, body.hours, body.points, ctx.limits.max_points,
                             body.lps.protocol() if body.lps else None)
    ids = {"comparison": ctx.runs.add("comparison", lambda out: services.write_comparison_folder(res, out)),
           "untreated": ctx.runs.add("run", lambda out: services.write_run_folder(res.untreated, out)),
           "treated": ctx.runs.add("run", lambda out: services.write_run_folder(res.treated, out))}
    return TreatResult(scenario=res.untreated.scenario, **res.payload(),
                       downloads={k: ctx.runs.links(v) for k, v in ids.items()})
