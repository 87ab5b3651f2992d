"""Simulated drug exposure after labelled regimens against the published values of ``data/drug_pk/exposure.tsv``.

Every row is simulated on the ``cytonet treat`` path (:func:`cytonet.therapy.exposure.predict_row`); the
script prints published beside simulated, whether the simulated value lies inside the published interval
(held-out rows; built-from rows are shown as consistency checks) and writes ``docs/pk_exposure.png``
(simulated / published, with the published interval as a bar). Run from the repository root:

    .venv/bin/python benchmarks/pk_exposure.py     # about 15 s on one core
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "data/drug_pk/exposure.tsv"
FIGURE = ROOT / "docs/pk_exposure.png"


def verdict(row: dict[str, str], sim: float) -> str:
    if not row["low"]:
        return "no spread"
    inside = float(row["low"]) <= sim <= float(row["high"])
    return "inside" if inside else "outside"


def plot(rows: list[dict[str, str]], sims: list[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.28 * len(rows) + 1.2))
    for i, (row, sim) in enumerate(zip(rows, sims, strict=True)):
        v = float(row["value"])
        if row["low"]:
            ax.plot([max(float(row["low"]) / v, 0.1), float(row["high"]) / v], [i, i], color="0.6", lw=4)
        colour = {"inside": "tab:green", "outside": "tab:red", "no spread": "tab:blue"}[verdict(row, sim)]
        ax.plot(sim / v, i, "o", color=colour, mfc="white" if row["use"] == "built-from" else colour)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlim(0.1, 5)
    ax.set_yticks(range(len(rows)), [r["id"] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("simulated / published (grey: published interval, a lower bound 0 drawn at 0.1;\n"
                  "green inside, red outside, blue no spread; open: built-from, not a validation)")
    fig.tight_layout()
    fig.savefig(FIGURE, dpi=90)


def main() -> None:
    from cytonet.therapy.exposure import predict_row

    rows = list(csv.DictReader(TABLE.open(encoding="utf-8"), delimiter="\t"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dose-range warnings for the mg/kg doses are expected
        sims = [predict_row(r) for r in rows]
    print(f"{'row':44s} {'use':10s} {'published':>22s} {'simulated':>10s}  verdict")
    for r, s in zip(rows, sims, strict=True):
        interval = f"{r['value']} ({r['low']}-{r['high']})" if r["low"] else r["value"]
        print(f"{r['id']:44s} {r['use']:10s} {interval:>22s} {s:10.4g}  {verdict(r, s)}  [{r['unit']}]")
    held = [verdict(r, s) for r, s in zip(rows, sims, strict=True) if r["use"] == "held-out" and r["low"]]
    print(f"held-out with an interval: {held.count('inside')} of {len(held)} inside")
    plot(rows, sims)
    print(f"wrote {FIGURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
