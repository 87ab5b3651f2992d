"""``/api/scenarios`` and ``POST /api/simulate``: the shipped scenarios and one run of one of them."""

from __future__ import annotations

from fastapi import APIRouter, Request

from cytonet.web.context import context
from cytonet.web.schemas import RunResult, ScenarioDetail, ScenarioInfo, SimulateRequest

router = APIRouter(prefix="/api", tags=["scenarios"])


def _info(sc) -> dict:  # noqa: ANN001 - cytonet.scenarios.Scenario
    return {"id": sc.id, "name": sc.name, "description": sc.description, "t_end": sc.t_end,
            "parameters": sc.parameters, "events": [e.model_dump(mode="json") for e in sc.events],
            "readouts": sc.readouts, "refs": sc.refs, "assumption": sc.assumption}


@router.get("/scenarios", response_model=list[ScenarioInfo], summary="The shipped scenarios")
def scenarios() -> list[ScenarioInfo]:
    from cytonet.scenarios import list_scenarios

    return [ScenarioInfo(**_info(sc)) for sc in list_scenarios()]


@router.get("/scenarios/{scenario_id}", response_model=ScenarioDetail, summary="One scenario with every network parameter")
def scenario(scenario_id: str) -> ScenarioDetail:
    from cytonet.scenarios import host_model, load_scenario

    sc = load_scenario(scenario_id)
    params = [{"id": p.id, "value": p.value, "unit": p.unit, "description": p.description,
               "overridden": p.id in sc.parameters} for p in host_model(sc).parameters]
    return ScenarioDetail(**_info(sc), network_parameters=params)


@router.post("/simulate", response_model=RunResult, summary="Run a scenario; its summary, classification and time course")
async def simulate(body: SimulateRequest, request: Request) -> RunResult:
    from cytonet.web import services

    ctx = context(request)
    lps = body.lps.protocol() if body.lps else None
    run = await ctx.pool.run(services.simulate, body.scenario, body.hours, body.parameters, body.points,
                             ctx.limits.max_points, lps)
    rid = ctx.runs.add("run", lambda out: services.write_run_folder(run, out))
    return RunResult(run_id=rid, scenario=run.scenario, hours=float(run.ds["time"].values[-1]), **run.payload(),
                     downloads=ctx.runs.links(rid))
