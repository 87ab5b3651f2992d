"""Small PEtab problems on cytonet model specs, with synthetic data from the analytic solution.

Model: A --k1--> B --k2--> (zero-order production k0 of A). From A(0) = a0, B(0) = b0 with k0 = 0:

    A(t) = a0 e^{-k1 t}
    B(t) = b0 e^{-k2 t} + a0 k1 / (k2 - k1) (e^{-k1 t} - e^{-k2 t})

Pre-equilibrated with k0 > 0 the state is A = k0 / k1, B = k0 / k2. Data are that solution (never the
engine) times the observable scaling plus seeded noise, so recovering the true parameters checks
the engine, the mapping and the objective together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

TRUE = {"k1": 0.3, "k2": 0.08, "scale_b": 2.0, "sigma_a": 0.05, "sigma_b": 0.1}

SPEC = {
    "id": "decay_chain",
    "compartments": [{"id": "c", "volume": 1.0}],
    "species": [
        {"id": "A", "compartment": "c", "initial": 1.0, "unit": "relative"},
        {"id": "B", "compartment": "c", "initial": 0.0, "unit": "relative"},
    ],
    "parameters": [
        {"id": "k0", "value": 1.0, "unit": "relative/h", "assumption": "test model"},
        {"id": "k1", "value": 0.5, "unit": "1/h", "assumption": "test model"},
        {"id": "k2", "value": 0.1, "unit": "1/h", "assumption": "test model"},
    ],
    "reactions": [
        {"id": "prod", "rate_law": "constant", "products": {"A": 1}, "params": {"k": "k0"}},
        {"id": "conv", "rate_law": "first_order", "reactants": {"A": 1}, "products": {"B": 1}, "params": {"k": "k1"}},
        {"id": "deg", "rate_law": "first_order", "reactants": {"B": 1}, "params": {"k": "k2"}},
    ],
}


#: the same model with expression rates, so it runs on the tape engine (SBML semantics) and has forward sensitivities
EXPRESSION_SPEC = {**SPEC, "id": "decay_chain_expressions", "reactions": [
    {"id": "prod", "rate_law": "expression", "rate": "k0", "products": {"A": 1}},
    {"id": "conv", "rate_law": "expression", "rate": "k1 * A", "reactants": {"A": 1}, "products": {"B": 1}},
    {"id": "deg", "rate_law": "expression", "rate": "k2 * B", "reactants": {"B": 1}},
]}


def analytic(t: np.ndarray, k1: float, k2: float, a0: float, b0: float) -> tuple[np.ndarray, np.ndarray]:
    a = a0 * np.exp(-k1 * t)
    b = b0 * np.exp(-k2 * t) + a0 * k1 / (k2 - k1) * (np.exp(-k1 * t) - np.exp(-k2 * t))
    return a, b


def write_problem(folder: Path, *, noise: str = "normal", transform: str = "lin", preeq: bool = False,
                  estimate_sigma: bool = False, prior: bool = False, seed: int = 0, times: np.ndarray | None = None,
                  exact: bool = False, expressions: bool = False) -> Path:
    """Write a PEtab problem (model spec, tables, YAML) into ``folder``; returns the YAML path.

    Two experiments: a0 = 1 and a0 = 2 (condition table sets species A); with ``preeq`` the second
    starts from the steady state of k0 = 0.2 instead. ``obs_a`` = A (lin), ``obs_b`` = scale_b * B
    (``transform``), noise ``noise`` with sigma_a, sigma_b given per measurement row (noiseParameters).
    ``expressions``: the model with expression rates (:data:`EXPRESSION_SPEC`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t = np.asarray(times if times is not None else [0.5, 1, 2, 4, 6, 8, 12, 16, 24], float)
    k1, k2, sb, sa, sbn = (TRUE[k] for k in ("k1", "k2", "scale_b", "sigma_a", "sigma_b"))
    conds = pd.DataFrame({"conditionId": ["one", "two"], "A": [1.0, 2.0], "B": [0.0, 0.0], "k0": [0.0, 0.0]})
    exps = [("", "one", 1.0, 0.0), ("", "two", 2.0, 0.0)]
    if preeq:
        conds = pd.concat([conds, pd.DataFrame({"conditionId": ["rest", "washout"], "A": [np.nan, np.nan],
                                                "B": [np.nan, np.nan], "k0": [0.2, 0.0]})])
        conds.loc[conds.conditionId == "rest", ["A", "B"]] = [1.0, 0.0]
        exps[1] = ("rest", "washout", 0.2 / k1, 0.2 / k2)
    rows = []
    for pre, sim, a0, b0 in exps:
        a, b = analytic(t, k1, k2, a0, b0)
        for obs, y, sig in (("obs_a", a, sa), ("obs_b", sb * b, sbn)):
            tr = "lin" if obs == "obs_a" else transform
            hy = {"lin": y, "log": np.log(y), "log10": np.log10(y)}[tr]
            eps = np.zeros_like(hy) if exact else (rng.normal(0, sig, t.size) if noise == "normal" else rng.laplace(0, sig, t.size))
            hm = hy + eps
            m = {"lin": hm, "log": np.exp(hm), "log10": 10.0 ** hm}[tr]
            for ti, mi in zip(t, m):
                rows.append({"observableId": obs, "preequilibrationConditionId": pre, "simulationConditionId": sim,
                             "measurement": mi, "time": ti, "observableParameters": "scale_b" if obs == "obs_b" else "",
                             "noiseParameters": "sigma_a" if obs == "obs_a" else "sigma_b"})
    meas = pd.DataFrame(rows)
    if not preeq:
        meas = meas.drop(columns="preequilibrationConditionId")
    obs = pd.DataFrame({
        "observableId": ["obs_a", "obs_b"],
        "observableFormula": ["A", "observableParameter1_obs_b * B"],
        "noiseFormula": ["noiseParameter1_obs_a", "noiseParameter1_obs_b"],
        "observableTransformation": ["lin", transform],
        "noiseDistribution": [noise, noise],
    })
    est_s = 1 if estimate_sigma else 0
    params = pd.DataFrame({
        "parameterId": ["k1", "k2", "scale_b", "sigma_a", "sigma_b"],
        "parameterScale": ["log10", "log10", "log10", "log10", "log10"],
        "lowerBound": [1e-3, 1e-3, 1e-2, 1e-3, 1e-3],
        "upperBound": [1e2, 1e2, 1e2, 1e1, 1e1],
        "nominalValue": [TRUE["k1"], TRUE["k2"], TRUE["scale_b"], sa, sbn],
        "estimate": [1, 1, 1, est_s, est_s],
    })
    if prior:
        params["objectivePriorType"] = ["normal", "", "", "", ""]
        params["objectivePriorParameters"] = ["0.3;0.1", "", "", "", ""]
    (folder / "model.yaml").write_text(yaml.safe_dump(EXPRESSION_SPEC if expressions else SPEC, sort_keys=False))
    conds.to_csv(folder / "conditions.tsv", sep="\t", index=False)
    meas.to_csv(folder / "measurements.tsv", sep="\t", index=False)
    obs.to_csv(folder / "observables.tsv", sep="\t", index=False)
    params.to_csv(folder / "parameters.tsv", sep="\t", index=False)
    problem = {"format_version": 1, "parameter_file": "parameters.tsv",
               "problems": [{"sbml_files": ["model.yaml"], "condition_files": ["conditions.tsv"],
                             "measurement_files": ["measurements.tsv"], "observable_files": ["observables.tsv"]}]}
    path = folder / "problem.yaml"
    path.write_text(yaml.safe_dump(problem, sort_keys=False))
    return path
