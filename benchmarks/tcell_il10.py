"""Effector T-cell IL-10, fitted to HLH IL-10 with ``cytonet fit``, and what it moves elsewhere (docs/model.md).

IFN-γ-producing effector T cells co-produce IL-10 as self-control: in acute influenza the lung IL-10 comes exclusively
from virus-specific effector T cells, CD8 the larger share (Sun et al. 2009, doi:10.1038/nm.1929); in T. gondii
infection IFN-γ+ T-bet+ Foxp3- Th1 cells are the main IL-10 source (Jankovic et al. 2007, doi:10.1084/jem.20062175;
Trinchieri 2007, doi:10.1084/jem.20070104). The variant adds ``IL10_from_CD8`` and ``IL10_from_Th1``, linear in the
effector pools (about 2e-7 and 5e-10 at rest, so resting IL-10 is kept) with one shared rate ``k_IL10_T`` (the single
datum cannot separate the two cell types). The network YAML is not changed: the variant is written to a temporary
folder with a copy of the PEtab problem (``data/inflammatory_syndromes/``: ``conditions.tsv``, ``observables.tsv``,
``tcell_il10/``), fitted there by ``cytonet fit --profile`` to one number, the median serum IL-10 879.0 pg/mL of 24
children with acute haemophagocytic syndrome (Tang et al. 2008, doi:10.1111/j.1365-2141.2008.07298.x), read on day 7 of
the hlh scenario's established storm, and then measured beside the shipped network on everything it was not fitted to:
Tang's IFN-γ and IL-6, the primary-HLH quadrant of Xu et al. 2022, the HLH readouts, the autoimmune lock-in, the
sepsis course, the CRS and LPS readouts (each measured as the test that owns it measures it). Run from the repository
root (the fit about 30 s, the measurements about 10 s, on one core):

    .venv/bin/python benchmarks/tcell_il10.py
    .venv/bin/python benchmarks/tcell_il10.py --k 373.4      # skip the fit, measure at a given k_IL10_T
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from macrophage_il10 import print_table, readouts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data/inflammatory_syndromes"
#: the T-cell IL-10 reactions: reaction id -> (effector species, Cell Ontology id)
SOURCES = {"IL10_from_CD8": ("CD8", "CL:0000625"), "IL10_from_Th1": ("Th1", "CL:0000545")}


def tcell_il10_network(k: float):  # noqa: ANN201 - ModelSpec
    """The reference network plus IL-10 from effector CD8 and Th1 cells at ``k`` pg/mL/h per unit of effector pool."""
    from cytonet.model.build import reference_network
    from cytonet.model.spec import Parameter, Reaction

    spec = reference_network()
    reactions = [Reaction.model_validate({"id": rid, "rate_law": "regulated", "products": {"IL10": 1.0},
                                          "regulators": [{"species": cell, "kind": "linear"}], "params": {"k": "k_IL10_T"},
                                          "tags": ["secretion:IL10", f"cell:{cl}"]})
                 for rid, (cell, cl) in SOURCES.items()]
    par = Parameter(id="k_IL10_T", value=k, unit="pg/mL/h", refs=["doi:10.1038/nm.1929", "doi:10.1084/jem.20062175"],
                    assumption="benchmark variant: effector T-cell IL-10, fitted to Tang 2008's HLH IL-10 median")
    return spec.model_copy(update={"reactions": [*spec.reactions, *reactions], "parameters": [*spec.parameters, par]})


def fit(starts: int) -> dict[str, float]:
    """k_IL10_T fitted by ``cytonet fit --profile`` on the variant: estimate, 95 % profile interval, best llh."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "network.json").write_text(json.dumps(tcell_il10_network(1.0).model_dump(mode="json", exclude_none=True)))
        problem = {"format_version": 1, "parameter_file": str(DATA / "tcell_il10/parameters.tsv"),
                   "problems": [{"sbml_files": [str(work / "network.json")], "condition_files": [str(DATA / "conditions.tsv")],
                                 "measurement_files": [str(DATA / "tcell_il10/measurements.tsv")],
                                 "observable_files": [str(DATA / "observables.tsv")]}]}
        (work / "problem.yaml").write_text(json.dumps(problem))  # JSON is YAML
        cmd = [sys.executable, "-m", "cytonet", "fit", str(work / "problem.yaml"), "--starts", str(starts), "--profile",
               "--workers", "1", "--out", str(work / "out")]
        subprocess.run(cmd, check=True)
        with open(work / "out/parameters.tsv", newline="") as fh:
            (row,) = [r for r in csv.DictReader(fh, delimiter="\t") if r["parameterId"] == "k_IL10_T"]
        best = json.loads((work / "out/summary.json").read_text())["best_llh"]
    return {"k_IL10_T": float(row["nominalValue"]), "ci95 lower": float(row["ci95Lower"] or "nan"),
            "ci95 upper": float(row["ci95Upper"] or "nan"), "best llh": float(best)}


def hlh_readouts(base) -> dict[str, float]:  # noqa: ANN001
    """The hlh readouts the behaviour tests and Tang 2008 / Xu 2022 name, on network ``base``."""
    from cytonet.analysis.clinical import series
    from cytonet.scenarios import scenario_model, simulate_scenario

    ds = simulate_scenario("hlh", model=scenario_model("hlh", None, base))
    t = ds.time.values
    out = {f"hlh {n} peak": float(series(ds, n).max()) for n in ("IL10", "IFNG", "IL6_total", "TNF", "FERRITIN", "IL18",
                                                                  "CXCL9", "sIL2R")}
    il10, ifng = (float(np.interp(168.0, t, series(ds, n))) for n in ("IL10", "IFNG"))
    out["hlh IL-10 day 7 (fitted: 879.0)"] = il10
    out["hlh IFN-g day 7 (Xu: <= 225)"] = ifng
    out["hlh IL-10/IFN-g day 7 (Xu: > 1.33)"] = il10 / ifng
    return out


def course_readouts(base) -> dict[str, float]:  # noqa: ANN001
    """The autoimmune lock-in and the untreated sepsis course, measured as tests/scenarios/test_scenario_behaviour.py does."""
    from cytonet.analysis.clinical import series
    from cytonet.model.spec import Infusion
    from cytonet.scenarios import load_scenario, scenario_model, simulate_scenario

    out: dict[str, float] = {}
    sc = load_scenario("autoimmune-chronic")
    for rate in (0.02, 0.1):
        ev = Infusion(id="self_antigen_exposure", start=0, end=72, target="SELF_AG", rate=rate)
        run = sc.model_copy(update={"events": [ev]})
        ds = simulate_scenario(run, model=scenario_model(run, None, base))
        out[f"autoimmune Th17 end / rest, trigger {rate:g} (test: {'< 2' if rate < 0.05 else '> 3'})"] = float(
            series(ds, "Th17")[-1] / series(ds, "Th17")[0])
    ds = simulate_scenario("sepsis-storm", hours=336, model=scenario_model("sepsis-storm", None, base))
    t, il6 = ds.time.values, ds["IL6_total"].values
    t_peak = float(t[int(np.argmax(il6))])
    out["sepsis IL-6 min 48-72 h after peak (survivors 114.2, non-survivors 746.6)"] = float(
        il6[(t >= t_peak + 48) & (t <= t_peak + 72)].min())
    tnf = series(ds, "TNF")
    out["sepsis TNF day 7 / peak (test: < 0.2)"] = float(np.interp(168.0, t, tnf) / tnf.max())
    return out


def measure(base) -> dict[str, float]:  # noqa: ANN001
    """Every readout of this script on network ``base``."""
    return {**hlh_readouts(base), **course_readouts(base), **readouts(base, {})}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=float, help="measure at this k_IL10_T instead of fitting it")
    ap.add_argument("--starts", type=int, default=3, help="starts of the fit (default 3)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    from cytonet.model.build import reference_network

    if args.k is None:
        fitted = fit(args.starts)
        print("fit:", ", ".join(f"{k} {v:.4g}" for k, v in fitted.items()))
        k = fitted["k_IL10_T"]
    else:
        k = args.k
    table = {"shipped": measure(reference_network()), f"T-cell IL-10 (k {k:.4g})": measure(tcell_il10_network(k))}
    print_table(table, 78)
    print(f"done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
