"""What a fit writes: objective.json, the PEtab simulation table, summary.json, parameter and start tables.

Every file is written atomically. ``simulations.tsv`` is the measurement table with ``simulation``
in place of ``measurement`` (PEtab's simulation-table format); ``parameters.tsv`` is the problem's
parameter table with the estimates as ``nominalValue`` (and the profile CIs where computed).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from cytonet.fit.objective import Evaluation, Objective
from cytonet.fit.optimize import CONVERGED_WITHIN, MultistartResult
from cytonet.fit.problem import unscale
from cytonet.fit.profile import Profile
from cytonet.io import atomic_write_text


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _json(path: Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=1, allow_nan=False) + "\n")


def _tsv(path: Path, df: Any) -> Path:
    return atomic_write_text(path, df.to_csv(sep="\t", index=False))


def simulation_table(obj: Objective, ev: Evaluation, row: int = 0) -> Any:
    """The PEtab simulation table of evaluation row ``row``."""
    md = obj.problem.measurements.reset_index(drop=True)
    return md.rename(columns={"measurement": "simulation"}).assign(simulation=ev.simulated[row])


def write_nominal(obj: Objective, out: Path, x: np.ndarray | None = None) -> dict:
    """Evaluate at ``x`` (default: the nominal parameters) and write objective.json and simulations.tsv."""
    out.mkdir(parents=True, exist_ok=True)
    x = obj.problem.parameters.nominal_x() if x is None else np.asarray(x, float)
    ev = obj.evaluate(x[None, :])
    data = {"problem": obj.problem.name, "llh": _finite(ev.llh[0]), "chi2": _finite(ev.chi2[0]),
            "neg_log_prior": _finite(ev.prior[0]), "objective": _finite(ev.objective[0]), "ok": bool(ev.ok[0]),
            "error": ev.error[0], "measurements": int(ev.simulated.shape[1]),
            "parameters": dict(zip(obj.ids, map(float, x))), "rtol": obj.rtol, "atol": obj.atol}
    _json(out / "objective.json", data)
    _tsv(out / "simulations.tsv", simulation_table(obj, ev))
    return data


def parameter_table(obj: Objective, x: np.ndarray, profiles: list[Profile] | None = None) -> Any:
    """The problem's parameter table with the estimates (linear scale) as nominalValue."""
    import pandas as pd

    pt = obj.problem.parameters
    rows = [dict(r) for r in pt.rows]
    vals = pt.values(np.asarray(x, float))
    for r, v in zip(rows, vals):
        r["nominalValue"] = float(v)
    df = pd.DataFrame(rows)
    cols = ["parameterId", *[c for c in df.columns if c != "parameterId"]]
    df = df[cols]
    if profiles:
        ci = {p.parameter: p for p in profiles}
        sc = dict(zip(pt.ids, pt.scales))
        df["ci95Lower"] = [float(unscale(ci[p].lower, sc[p])) if p in ci and ci[p].lower is not None else np.nan for p in df.parameterId]
        df["ci95Upper"] = [float(unscale(ci[p].upper, sc[p])) if p in ci and ci[p].upper is not None else np.nan for p in df.parameterId]
        df["identifiable"] = [("yes" if ci[p].identifiable else "no") if p in ci else "" for p in df.parameterId]
    return df


def write_fit(obj: Objective, ms: MultistartResult, out: Path, profiles: list[Profile] | None = None) -> dict:
    """summary.json, parameters.tsv, starts.tsv, starts.json, the best fit's objective.json and simulations.tsv."""
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    best = ms.best
    nominal = write_nominal(obj, out, np.asarray(best.x))
    summary = {
        "problem": obj.problem.name, "method": ms.method, "gradient": obj.gradient_method, "seed": ms.seed, "starts": len(ms.starts),
        "failed_starts": ms.failed, "failed_evaluations": ms.failed_evaluations, "starts_out_of_time": ms.out_of_time,
        "converged": ms.converged, "converged_within": CONVERGED_WITHIN,
        "best_objective": _finite(best.objective), "best_llh": _finite(best.llh), "best_chi2": _finite(best.chi2),
        "best_start": best.start, "parameters": dict(zip(ms.parameter_ids, best.x)),
        "scales": {p: str(obj.problem.parameters.scales[obj.problem.parameters.index(p)]) for p in ms.parameter_ids},
        "evaluations": int(sum(s.evaluations for s in ms.starts)), "seconds": float(sum(s.seconds for s in ms.starts)),
        "nominal_llh": None,
    }
    summary["nominal_llh"] = _finite(obj.evaluate(obj.problem.parameters.nominal_x()[None, :]).llh[0])
    if profiles:
        summary["profiles"] = [p.as_dict() for p in profiles]
        summary["non_identifiable"] = [p.parameter for p in profiles if not p.identifiable]
    _json(out / "summary.json", summary)
    _tsv(out / "parameters.tsv", parameter_table(obj, np.asarray(best.x), profiles))
    starts = pd.DataFrame([{"start": s.start, "status": s.status, "objective": s.objective, "llh": s.llh, "chi2": s.chi2,
                            "evaluations": s.evaluations, "seconds": round(s.seconds, 3), "iterations": s.iterations,
                            "exit": s.exit, "gradient_norm": s.gradient_norm, "failed_evaluations": s.failed_evaluations,
                            "message": s.message,
                            **{f"x0_{p}": v for p, v in zip(ms.parameter_ids, s.x0)},
                            **{f"x_{p}": v for p, v in zip(ms.parameter_ids, s.x)}} for s in ms.starts])
    _tsv(out / "starts.tsv", starts)
    _json(out / "starts.json", [{**s.__dict__, "objective": _finite(s.objective), "llh": _finite(s.llh),
                                  "chi2": _finite(s.chi2), "gradient_norm": _finite(s.gradient_norm)} for s in ms.starts])
    summary["best_fit"] = nominal
    return summary
