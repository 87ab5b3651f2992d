"""What carries the hlh scenario's serum IL-6, TNF, IFN-γ and IL-10, and what each candidate change would move (docs/model.md).

Tang et al. 2008 (doi:10.1111/j.1365-2141.2008.07298.x, rows in ``data/inflammatory_syndromes/summaries.tsv``) report
in children with HLH median IFN-γ 901.7, IL-10 879.0 and IL-6 63.8 pg/mL, with TNF and IL-2 in the normal range. This
script measures, from the solver's own reaction fluxes (:func:`cytonet.analysis.fired.production`), which reactions make
each cytokine at its hlh peak and which drivers activate the endothelium, on the shipped network and on in-memory
variants that switch one group of assumed rates off (the network YAML is not changed): lymphocyte TNF, endothelial
activation by IFN-γ alone, macrophage NF-κB activation by the pathogen, and an IL-10 of effector CD8 T cells (Sun et
al. 2009, doi:10.1038/nm.1929) at a per-cell rate equal to their IFN-γ rate (``benchmarks/tcell_il10.py`` fits a CD8 and
Th1 IL-10 to Tang's IL-10 median instead). The variants are counterfactuals that
size each mechanism's share, not fits. The IL-10/IFN-γ ratio is printed beside the primary-HLH quadrant of Xu et al.
2022 (doi:10.3389/fimmu.2022.850443). Run from the repository root:

    .venv/bin/python benchmarks/hlh_profile.py                  # all variants, seconds once the kernels are built
    .venv/bin/python benchmarks/hlh_profile.py --variant shipped
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: the cytokines Tang 2008 report
CYTOKINES = ["IL6", "TNF", "IFNG", "IL10"]
#: a rate switched off (rate laws need a positive rate constant)
OFF = 1e-9
#: variant -> (parameter overrides, add the effector CD8 T-cell IL-10)
VARIANTS: dict[str, tuple[dict[str, float], bool]] = {
    "shipped": ({}, False),
    "no lymphocyte TNF": ({"k_TNF_CD8": OFF, "k_TNF_NK": OFF, "k_TNF_Th1": OFF}, False),
    "no endothelial IFN-g": ({"k_Endo_IFNG": OFF}, False),
    "no lymphocyte TNF, no endothelial IFN-g": ({"k_TNF_CD8": OFF, "k_TNF_NK": OFF, "k_TNF_Th1": OFF, "k_Endo_IFNG": OFF}, False),
    "no pathogen NF-kB in macrophages": ({"k_NFKB_mac_P": OFF}, False),
    "CD8 IL-10 at the CD8 IFN-g rate": ({}, True),
    "all three: no lymphocyte TNF, no endothelial IFN-g, CD8 IL-10": (
        {"k_TNF_CD8": OFF, "k_TNF_NK": OFF, "k_TNF_Th1": OFF, "k_Endo_IFNG": OFF}, True),
}


def tang_2008() -> dict[str, str]:
    """observableId -> the Tang 2008 hlh value (a number or the reported range)."""
    with open(ROOT / "data/inflammatory_syndromes/summaries.tsv", newline="") as fh:
        return {r["observableId"]: r["value"] for r in csv.DictReader(fh, delimiter="\t")
                if r["conditionId"] == "hlh" and "Tang" in r["source"]}


def with_cd8_il10():  # noqa: ANN201 - ModelSpec
    """The reference network plus IL-10 from effector CD8 T cells at their IFN-γ rate (k_IL10_CD8 = k_IFNG_CD8)."""
    from cytonet.model.build import reference_network
    from cytonet.model.spec import Parameter, Reaction

    spec = reference_network()
    (ifng,) = [r for r in spec.reactions if r.id == "IFNG_from_CD8"]
    k = next(p for p in spec.parameters if p.id == "k_IFNG_CD8")
    il10 = ifng.model_copy(update={"id": "IL10_from_CD8", "products": {"IL10": 1.0}, "params": {"k": "k_IL10_CD8"},
                                   "tags": ["secretion:IL10", "cell:CL:0000625"]})
    par = Parameter(id="k_IL10_CD8", value=k.value, unit=k.unit, assumption="counterfactual: the CD8 IFN-γ rate")
    return spec.model_copy(update={"reactions": [*spec.reactions, il10], "parameters": [*spec.parameters, par]})


def measure(p: dict[str, float], cd8_il10: bool) -> dict[str, str]:
    """Peaks, and each cytokine's sources at its own peak, of the hlh run of a variant."""
    from cytonet.analysis.fired import production
    from cytonet.scenarios import load_scenario, scenario_model, simulate_scenario

    spec, rest = scenario_model(load_scenario("hlh"), p, with_cd8_il10() if cd8_il10 else None)
    ds = simulate_scenario("hlh", model=(spec, rest))
    t = ds.time.values
    made = production(spec, ds, [*CYTOKINES, "Endo"])

    def series(name: str) -> np.ndarray:
        return ds[name].values if name in ds else ds["state"].sel(species=name).values

    out = {}
    for name in ["IL6_total", "TNF", "IFNG", "IL10", "FERRITIN", "IL18", "CXCL9", "sIL2R"]:
        x = series(name)
        i = int(np.argmax(x))
        out[f"{name} peak (rest)"] = f"{x[i]:.4g} at {t[i]:.0f} h ({x[0]:.3g}); at 14 d {np.interp(336.0, t, x):.4g}"
    il10, ifng = np.interp(168.0, t, series("IL10")), np.interp(168.0, t, series("IFNG"))
    out["IL-10/IFN-g on day 7"] = f"{il10 / ifng:.3g} (IFN-g {ifng:.4g}; Xu 2022 primary HLH: > 1.33, IFN-g <= 225)"
    for sid in [*CYTOKINES, "Endo"]:
        i = int(np.argmax(series(sid)))
        parts = sorted(((float(v[i]), rid) for rid, v in made[sid].items()), reverse=True)
        total = sum(v for v, _ in parts)
        shown = ", ".join(f"{rid} {v:.3g}" for v, rid in parts if v >= 0.02 * total)
        out[f"{sid} made at its peak ({t[i]:.0f} h), per h"] = f"{total:.4g}: {shown}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", choices=sorted(VARIANTS), action="append", help="variant(s) to measure (default: all)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    print("Tang 2008, children with HLH:", ", ".join(f"{k} {v}" for k, v in tang_2008().items()))
    for name in args.variant or list(VARIANTS):
        p, cd8_il10 = VARIANTS[name]
        print(f"== {name}: {p or ''}{' + IL10_from_CD8' if cd8_il10 else ''}")
        for key, value in measure(p, cd8_il10).items():
            print(f"  {key:34s} {value}")
        sys.stdout.flush()
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
