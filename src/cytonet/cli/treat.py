"""``cytonet treat``: a scenario untreated and treated, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cytonet.cli._console import console
from cytonet.cli._lps import ForOption, LpsInfusionOption, LpsOption, apply_lps

_NEEDED = ("IL6", "TNF", "IFNG", "IL1B", "IL10", "CRP", "FERRITIN", "TEMP", "DAMAGE", "LEAK", "MAP", "SPO2")

READOUTS = ("IL6", "CRP", "FERRITIN", "TEMP")


def _changes(base, treated) -> list[tuple[str, object, object]]:  # noqa: ANN001 - xarray Datasets
    """(measure, untreated, treated): the population outcome measures, computed the same way for one run."""
    from cytonet.analysis.clinical import therapy_start
    from cytonet.analysis.outcomes import outcomes

    def one(ds) -> dict:  # noqa: ANN001
        species = list(ds["species"].values)
        series = {n: (ds[n].values if n in ds.data_vars else ds["state"].values[:, species.index(n)])[None, :]
                  for n in (*_NEEDED, "IL6_total") if n in ds.data_vars or n in species}
        out = {k: v[0] for k, v in outcomes(ds["time"].values, series, therapy_start(ds)).items()}
        out["peak_IL6_total"] = float(series["IL6_total"].max()) if "IL6_total" in series else float("nan")
        return out

    a, b = one(base), one(treated)
    rows: list[tuple[str, object, object]] = [("storm class", a["storm_class"], b["storm_class"])]
    for key, label in (("hours_in_storm", "hours in cytokine storm"), ("crs_grade", "max CRS grade (ASTCT)"),
                       ("peak_IL6_total", "peak serum IL-6, free + sIL-6R-bound (pg/mL)"), ("peak_IL6", "peak free IL-6 (pg/mL)"),
                       ("peak_CRP", "peak CRP (mg/L)"), ("peak_FERRITIN", "peak ferritin (ng/mL)"),
                       ("peak_TEMP", "peak temperature (degC)"), ("nadir_MAP", "MAP nadir (mmHg)")):
        rows.append((label, float(a[key]), float(b[key])))
    return rows


def _plot(out: Path, base, treated, drug: str) -> Path:  # noqa: ANN001
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s for s in READOUTS if s in base.species]
    fig, axes = plt.subplots(len(names) + 1, 1, figsize=(7, 2.2 * (len(names) + 1)), sharex=True)
    for ax, sid in zip(axes, names):
        ax.plot(base.time, base.state.sel(species=sid), label="untreated")
        ax.plot(treated.time, treated.state.sel(species=sid), label=f"+ {drug}")
        ax.set_ylabel(f"{sid} ({str(base.unit.sel(species=sid).values)})")
    axes[0].legend()
    ax = axes[-1]
    ax.plot(treated.time, treated.state.sel(species=f"{drug}_central"), color="k", label=f"{drug} (ug/mL)")
    ax.set_ylabel(f"{drug} ug/mL")
    occ = next((v for v in treated.data_vars if v.startswith(drug) and v != "state"), None)
    if occ:
        ax2 = ax.twinx()
        ax2.plot(treated.time, treated[occ], color="tab:red")
        ax2.set_ylabel(occ, color="tab:red")
        ax2.set_ylim(0, 1)
    ax.set_xlabel("time (h)")
    path = out / "overlay.png"
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def treat(
    scenario: Annotated[str, typer.Option(help="scenario id, e.g. car-t-crs")],
    drug: Annotated[str, typer.Option(help="drug, e.g. tocilizumab")],
    out: Annotated[Path, typer.Option(help="directory for tables and plots")],
    dose: Annotated[str | None, typer.Option(help="dose with unit, e.g. 8mg/kg or 162mg (default: labelled)")] = None,
    at: Annotated[str, typer.Option(help="first dose time, e.g. 48h")] = "0h",
    route: Annotated[str | None, typer.Option(help="iv, sc or oral (default: the labelled route)")] = None,
    every: Annotated[str | None, typer.Option(help="dosing interval, e.g. 12h")] = None,
    doses: Annotated[int, typer.Option(help="number of doses")] = 1,
    weight: Annotated[float, typer.Option(help="body weight, kg")] = 70.0,
    hours: Annotated[float | None, typer.Option(help="simulated horizon (default: the scenario's)")] = None,
    lps: LpsOption = None,
    lps_infusion: LpsInfusionOption = None,
    for_: ForOption = None,
) -> None:
    """Run a scenario untreated and treated; write overlay plots and a table of changes to OUT."""
    import csv

    from cytonet.engine.simulate import simulate
    from cytonet.scenarios import load_scenario, scenario_model
    from cytonet.therapy import Regimen, get_drug, labelled_regimen
    from cytonet.therapy import treat as add_drug

    sc = apply_lps(load_scenario(scenario), lps, lps_infusion, for_, hours, weight)
    d = get_drug(drug)
    base_reg = labelled_regimen(d)
    regimen = Regimen(dose or base_reg.dose, route=route or base_reg.route, start=at, every=every, doses=doses,
                      weight_kg=weight)
    spec, rest = scenario_model(sc)
    t_end = float(hours or sc.t_end)
    n = int(t_end * 2) + 1
    base = simulate(spec, t_end, n_points=n, initial=rest)
    treated = simulate(add_drug(spec, d.id, regimen), t_end, n_points=n, initial=rest)
    out.mkdir(parents=True, exist_ok=True)
    rows = _changes(base, treated)
    with open(out / "changes.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["measure", "untreated", "treated"])
        w.writerows(rows)
    for label, ds in (("untreated", base), ("treated", treated)):
        ds.state.to_pandas().to_csv(out / f"{label}.csv")
    extra = [v for v in treated.data_vars if v.startswith(d.id)]
    treated[extra].to_pandas().assign(**{f"{d.id}_central": treated.state.sel(species=f"{d.id}_central").values}).to_csv(
        out / "drug.csv")
    plot = _plot(out, base, treated, d.id)
    from rich.table import Table

    table = Table("measure", "untreated", f"+ {d.id} {regimen.dose} {regimen.route or ''} at {at}")
    for m, a, b in rows:
        table.add_row(m, *(f"{v:.4g}" if isinstance(v, float) else str(v) for v in (a, b)))
    console().print(table)
    from cytonet.report import write_comparison

    base.attrs["scenario"] = treated.attrs["scenario"] = sc.id
    report = write_comparison(out, {"untreated": base, f"+ {d.id}": treated}, title=f"{sc.name}: untreated vs {d.id}")
    console().print(f"wrote {report}, {out / 'changes.csv'}, {plot} (drug concentration and occupancy), untreated.csv, treated.csv, drug.csv")
