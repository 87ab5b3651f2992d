"""Profile likelihoods and their confidence intervals.

The profile of parameter ``j`` is ``PL(c) = min over the others of the objective with x_j = c``,
walked outwards from the best fit on both sides, each point starting from the previous optimum.
The 95 % confidence interval is where ``PL - PL(best) <= chi2_{0.95}(1) / 2`` (likelihood-ratio
test, one degree of freedom; Raue et al. 2009, doi:10.1093/bioinformatics/btp358). A side whose
profile stays below the threshold up to the parameter's bound is open: the data cannot identify
the parameter in that direction (practically non-identifiable; flat on both sides: structurally).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from cytonet.fit.objective import Objective
from cytonet.fit.optimize import optimize_start

#: objective rise that bounds the 95 % confidence region of one parameter
THRESHOLD_95 = float(chi2.ppf(0.95, 1) / 2)


@dataclass
class Profile:
    parameter: str
    scale: str
    best: float  # on the parameter scale
    points: list[tuple[float, float]]  # (value on scale, objective - best objective), sorted by value
    lower: float | None  # CI bound on the parameter scale; None = open (no crossing within the bounds)
    upper: float | None

    @property
    def identifiable(self) -> bool:
        return self.lower is not None and self.upper is not None

    def as_dict(self) -> dict:
        return {"parameter": self.parameter, "scale": self.scale, "best": self.best, "ci95_lower": self.lower,
                "ci95_upper": self.upper, "identifiable": self.identifiable,
                "points": [{"value": v, "delta_objective": d} for v, d in self.points]}


def _crossing(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Where the profile crosses the threshold between a and b: linear in sqrt(delta), exact for a quadratic profile."""
    (xa, da), (xb, db) = a, b
    ra, rb = np.sqrt(max(da, 0.0)), np.sqrt(max(db, 0.0))
    return float(xa + (np.sqrt(THRESHOLD_95) - ra) * (xb - xa) / (rb - ra)) if rb != ra else float(xb)


def profile_parameter(obj: Objective, x_best: np.ndarray, f_best: float, j: int, *, method: str = "auto",
                      max_points: int = 20, max_iter: int = 100, first_step: float = 0.05) -> Profile:
    """Profile parameter ``j`` (position in the optimisation vector) from the best fit ``x_best``."""
    lb, ub = obj.bounds
    pid = obj.ids[j]
    scale = str(obj.problem.parameters.scales[obj.problem.parameters.free[j]])
    pts: list[tuple[float, float]] = [(float(x_best[j]), 0.0)]
    ends: dict[int, float | None] = {}
    for side in (-1, 1):
        x, c, step, last = x_best.copy(), float(x_best[j]), first_step * max(1.0, (ub[j] - lb[j]) / 10), (float(x_best[j]), 0.0)
        ends[side] = None
        for _ in range(max_points):
            edge = lb[j] if side < 0 else ub[j]
            if abs(c - edge) < 1e-12:
                break
            for _try in range(6):  # a step that overshoots the threshold by far is halved
                c = float(np.clip(last[0] + side * step, lb[j], ub[j]))
                x[j] = c
                res = optimize_start(obj, x, method=method, max_iter=max_iter, fixed={j: c})
                d = res.objective - f_best
                if res.status != "ok" or d <= 4 * THRESHOLD_95:
                    break
                step /= 2
            if res.status != "ok":
                break
            x = np.asarray(res.x)
            pts.append((c, d))
            if d >= THRESHOLD_95:
                ends[side] = _crossing(last, (c, d))
                break
            rise = d - last[1]
            step = step * (2.0 if rise < 0.1 * THRESHOLD_95 else 0.5 if rise > 0.5 * THRESHOLD_95 else 1.0)
            last = (c, d)
    pts.sort()
    return Profile(pid, scale, float(x_best[j]), pts, ends[-1], ends[1])


def profiles(obj: Objective, x_best: np.ndarray, f_best: float, *, method: str = "auto",
             parameters: list[str] | None = None, max_points: int = 20) -> list[Profile]:
    """Profiles of ``parameters`` (default: every estimated parameter)."""
    names = parameters or obj.ids
    return [profile_parameter(obj, np.asarray(x_best, float), f_best, obj.ids.index(p), method=method, max_points=max_points)
            for p in names]
