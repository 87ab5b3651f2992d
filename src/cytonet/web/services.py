"""What the routers ask cytonet to do, as plain functions run on the worker pool (no science here).

Each function calls the same public cytonet functions the CLI calls and turns the result into
JSON-ready data; the Datasets stay on the server for downloads (:mod:`cytonet.web.runs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

    from cytonet.analysis.storm import StormSummary


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays as Python values and non-finite floats as ``None`` (JSON null)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, int | str | bool) or obj is None:
        return obj
    return str(obj)


def series(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    """Every species and observable of a run: ``{name: {"unit": ..., "values": [...]}}``."""
    from cytonet.report.rundir import observables

    out: dict[str, dict[str, Any]] = {}
    state = ds["state"].values
    units = [str(u) for u in ds["unit"].values] if "unit" in ds.coords else [""] * state.shape[1]
    for i, (sid, unit) in enumerate(zip(ds["species"].values, units)):
        out[str(sid)] = {"unit": unit, "values": jsonable(state[:, i])}
    for name in observables(ds):
        out[name] = {"unit": str(ds[name].attrs.get("units", "")), "values": jsonable(ds[name].values)}
    return out


def readouts(ds: xr.Dataset) -> dict[str, Any]:
    """The run's time course for the pages: every series, the ASTCT CRS grade over time, the cytokine panel."""
    from cytonet.analysis.clinical import crs_grade
    from cytonet.analysis.storm import CYTOKINES

    species = set(str(s) for s in ds["species"].values)
    return {"series": series(ds), "crs_grade": jsonable(crs_grade(ds)), "cytokines": [c for c in CYTOKINES if c in species]}


@dataclass
class Simulated:
    """One finished run: its Dataset, summary, and how to rebuild its spec for downloads."""

    ds: xr.Dataset
    summary: StormSummary
    source: Any  # the Scenario run (with its LPS protocol applied)
    parameters: dict[str, float] = field(default_factory=dict)
    drug: tuple[str, Any] | None = None  # (drug id, Regimen) for a treated run

    @property
    def scenario(self) -> str:
        return self.source.id

    def spec(self) -> Any:
        """The run's ModelSpec (rebuilt on demand: a download needs it, a plot does not)."""
        return self.model()[0]

    def model(self) -> tuple[Any, dict[str, float]]:
        """The run's ModelSpec and the state it started from (the host's rest, delay-chain states included)."""
        from cytonet.scenarios import scenario_model
        from cytonet.therapy import treat

        spec, rest = scenario_model(self.source, self.parameters)
        return (treat(spec, self.drug[0], self.drug[1]) if self.drug else spec), rest

    def payload(self) -> dict[str, Any]:
        """Summary and time course as JSON."""
        return {"summary": jsonable(self.summary.to_dict()), "time": jsonable(self.ds["time"].values), **readouts(self.ds)}


def n_points(hours: float, points: int | None, per_hour: float = 4.0, cap: int = 2001) -> int:
    """Output points: as asked, else the scenario default of ``per_hour`` per hour, at most ``cap``."""
    return points if points is not None else min(int(round(hours * per_hour)) + 1, cap)


def scenario_with(scenario: str, lps: Any | None, hours: float | None) -> tuple[Any, float]:
    """The shipped scenario with an LPS protocol (``cytonet.scenarios.with_lps``) in place of its own, and the horizon."""
    from cytonet.scenarios import load_scenario, with_lps
    from cytonet.scenarios.lps import check_horizon

    sc = load_scenario(scenario)
    t_end = float(hours if hours is not None else sc.t_end)
    if lps is not None:
        check_horizon(lps, t_end)
        sc = with_lps(sc, lps)
    return sc, t_end


def simulate(scenario: str, hours: float | None, parameters: dict[str, float], points: int | None,
             cap: int, lps: Any | None = None) -> Simulated:
    """``cytonet.scenarios.simulate_scenario`` and ``cytonet.analysis.storm.summarize`` of one scenario."""
    from cytonet.analysis.storm import summarize
    from cytonet.scenarios import simulate_scenario

    sc, t_end = scenario_with(scenario, lps, hours)
    m = n_points(t_end, points, cap=cap)
    ds = simulate_scenario(sc, hours=t_end, parameters=parameters or None, points_per_hour=(m - 1) / t_end)
    return Simulated(ds, summarize(ds), sc, dict(parameters))


@dataclass
class Treated:
    """Untreated and treated runs of one scenario on the same host, and the table of changes."""

    untreated: Simulated
    treated: Simulated
    drug: str
    regimen: Any
    changes: list[tuple[str, Any, Any]]

    def payload(self) -> dict[str, Any]:
        ds = self.treated.ds
        conc = f"{self.drug}_central"
        occupancy = [v for v in ds.data_vars if v.startswith(self.drug) and v != "state"]
        reg = self.regimen
        return {
            "drug": self.drug,
            "regimen": {"dose": str(reg.dose), "route": reg.route, "times_h": list(reg.times), "weight_kg": reg.weight_kg,
                        "mg_per_dose": reg.mg},
            "changes": [{"measure": m, "untreated": jsonable(a), "treated": jsonable(b)} for m, a, b in self.changes],
            "time": jsonable(ds["time"].values),
            "untreated": {"summary": jsonable(self.untreated.summary.to_dict()), **readouts(self.untreated.ds)},
            "treated": {"summary": jsonable(self.treated.summary.to_dict()), **readouts(ds)},
            "concentration": {"name": conc, "unit": "ug/mL",
                              "values": jsonable(ds["state"].sel(species=conc).values)},
            "occupancy": [{"name": v, "unit": str(ds[v].attrs.get("units", "1")), "values": jsonable(ds[v].values)}
                          for v in occupancy],
        }


def treat(scenario: str, drug: str, dose: str | None, route: str | None, at_h: float, every_h: float | None,
          doses: int, weight_kg: float, hours: float | None, points: int | None, cap: int,
          lps: Any | None = None) -> Treated:
    """A scenario untreated and with ``drug`` (``cytonet.therapy.treat``), as ``cytonet treat`` runs it."""
    from cytonet.analysis.storm import summarize
    from cytonet.analysis.treatment import treatment_changes
    from cytonet.analysis.units import with_unit
    from cytonet.engine.simulate import simulate as run
    from cytonet.scenarios import scenario_model
    from cytonet.therapy import Regimen, get_drug, labelled_regimen
    from cytonet.therapy import treat as add_drug

    sc, t_end = scenario_with(scenario, lps, hours)
    d = get_drug(drug)
    label = labelled_regimen(d)
    regimen = Regimen(dose or label.dose, route=route or label.route, start=at_h, every=every_h, doses=doses,
                      weight_kg=weight_kg)
    spec, rest = scenario_model(sc)
    m = n_points(t_end, points, per_hour=2.0, cap=cap)
    base = run(spec, t_end, n_points=m, initial=rest)
    treated = run(add_drug(spec, d.id, regimen), t_end, n_points=m, initial=rest)
    for ds, name in ((base, "untreated"), (treated, f"+ {d.id}")):
        ds.attrs.update(scenario=sc.id, scenario_name=f"{sc.name} ({name})")
    return Treated(Simulated(base, summarize(base), sc), Simulated(treated, summarize(treated), sc, drug=(d.id, regimen)),
                   d.id, regimen, [(with_unit(c.measure, c.unit), c.untreated, c.treated)
                                   for c in treatment_changes(base, treated)])


def write_run_folder(run: Simulated, out: Path) -> None:
    """The files ``cytonet simulate`` writes (Parquet, summary, SBML, spec, report) plus a CSV time course."""
    from cytonet.report import write_report, write_run

    spec, start = run.model()
    write_run(out, run.ds, spec, run.summary, initial=start)
    write_report(out, run.ds, spec, run.summary)
    write_csv(run.ds, out / "timecourse.csv")


def write_csv(ds: xr.Dataset, path: Path) -> Path:
    """Time course as CSV: ``time_h`` then every species and observable (units in the header)."""
    import pandas as pd

    from cytonet.io import atomic_write_text

    cols = {"time_h": ds["time"].values}
    cols.update({f"{k} ({v['unit']})" if v["unit"] else k: v["values"] for k, v in series(ds).items()})
    return atomic_write_text(path, pd.DataFrame(cols).to_csv(index=False))


def write_comparison_folder(result: Treated, out: Path) -> None:
    """The comparison report (untreated vs treated overlays) and the table of changes as CSV."""
    import csv
    import io

    from cytonet.io import atomic_write_text
    from cytonet.report import write_comparison

    write_comparison(out, {"untreated": result.untreated.ds, f"+ {result.drug}": result.treated.ds},
                     title=f"{result.untreated.scenario}: untreated vs {result.drug}")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["measure", "untreated", "treated"])
    w.writerows(result.changes)
    atomic_write_text(out / "changes.csv", buf.getvalue())
