"""``cytonet drugs …``: the modelled drugs, their PK/PD records, regimens and references."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cytonet.cli._console import console

if TYPE_CHECKING:
    from cytonet.therapy import Regimen
    from cytonet.therapy.records import DrugPK

def interval_text(hours: float) -> str:
    """A dosing interval as a prescriber writes it: ``168`` -> "every week", ``24`` -> "every day", ``8`` -> "every 8 h"."""
    for span, unit in ((168.0, "week"), (24.0, "day")):
        if hours % span == 0:
            n = int(hours // span)
            return f"every {unit}" if n == 1 else f"every {n} {unit}s"
    return f"every {hours:g} h"


def schedule_text(every_h: float | None, doses: int) -> str:
    """``(8, 1)`` -> "single dose (repeat no sooner than 8 h)"; ``(672, 6)`` -> "every 4 weeks, 6 doses"."""
    if doses == 1:
        return "single dose" + (f" (repeat no sooner than {every_h:g} h)" if every_h else "")
    return f"{interval_text(every_h)}, {doses} doses" if every_h else f"{doses} doses"


def dose_range_text(low: float, high: float, unit: str) -> str:
    """``(4, 12, "mg/kg")`` -> "4 to 12 mg/kg"; a single labelled dose -> "162 mg"."""
    return f"{low:g} {unit}" if low == high else f"{low:g} to {high:g} {unit}"


app = typer.Typer(help="List modelled drugs and show their PK/PD records.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """List modelled drugs and show their PK/PD records."""


@app.command("list")
def list_cmd() -> None:
    """Every drug with a PK/PD model: mechanism, targets, routes."""
    from rich.table import Table

    from cytonet.therapy import pk_data

    table = Table("drug", "mechanism", "targets", "routes")
    for d in pk_data().drugs.values():
        receptor = ["GR (with cortisol)"] if d.mechanism == "glucocorticoid" else []
        targets = [d.membrane_target or "", *d.soluble_targets, *d.blocks, *d.kinases, *d.suppresses, *receptor]
        table.add_row(d.id, d.mechanism.value, ", ".join(dict.fromkeys(t for t in targets if t)), ", ".join(d.routes))
    console().print(table)


@app.command("show")
def show_cmd(name: Annotated[str, typer.Argument(help="drug INN or brand name, e.g. tocilizumab or Actemra")]) -> None:
    """PK table with references, labelled regimens, target and mechanism of NAME."""
    from rich.table import Table

    from cytonet import kb
    from cytonet.analysis.units import display_unit
    from cytonet.therapy import get_drug

    d = get_drug(name)
    rec = kb.drug(d.id)
    out = console()
    out.print(f"[bold]{d.id}[/bold] ({', '.join(rec.aliases)}) — {rec.drug_class.value}, targets {', '.join(rec.targets)}")
    out.print(f"mechanism: {rec.mechanism_text} [model: {d.mechanism.value}]")
    out.print(f"knowledge base: cytonet kb show {d.id}")
    pk = Table("parameter", "value", "unit", "source")
    pk.add_row("MW", f"{d.mw_kda.value:g}", "kDa", d.mw_kda.source)
    for key, q in d.params.items():
        pk.add_row(key, f"{q.value:g}", display_unit(q.unit) or "–", (q.note + "; " if q.note else "") + q.source)
    out.print(pk)
    regs = Table("regimen", "route", "dose", "schedule", "note", "source")
    for g in d.regimens:
        regs.add_row(g.name, g.route, g.dose, schedule_text(g.every_h, g.doses), g.note, g.source)
    out.print(regs)
    for route, r in d.labelled_range.items():
        out.print(f"labelled {route} dose: {dose_range_text(r.low, r.high, r.unit)}", markup=False)


#: readouts of ``cytonet drugs exposure``, in table order, with their labels
EXPOSURE_LABELS = {"cmax": "Cmax", "tmax": "tmax (after the last dose)", "cmin": "trough (Cmin, end of the interval)",
                   "auc_tau": "AUC over the interval", "cl_apparent": "apparent clearance (dose / AUC)",
                   "cl_per_kg": "apparent clearance per kg", "t_half": "terminal half-life"}
#: assumption: dose / AUC reads as clearance only once a single dose has fallen to 5 % of its Cmax by the end of the
#: interval read (the AUC not read is then small); earlier, the readout would overstate clearance.
CLEARANCE_TAIL = 0.05


def _half_life_window(text: str, span_h: float) -> tuple[float, float]:
    """``"168h:504h"`` -> (168, 504) h after the last dose, inside the ``span_h`` hours read."""
    from cytonet.errors import TherapyError
    from cytonet.therapy.regimen import parse_hours

    start, sep, end = text.partition(":")
    if not sep:
        raise TherapyError(f"--half-life-window {text!r}: give START:END after the last dose, e.g. 168h:504h")
    window = (parse_hours(start, "--half-life-window start"), parse_hours(end, "--half-life-window end"))
    if not window[0] < window[1] <= span_h:
        raise TherapyError(f"--half-life-window {text!r}: needs start < end <= {span_h:g} h, the interval read "
                           "(a single dose reads --tail hours)")
    return window


def _exposure_regimen(name: str, regimen: str | None, dose: str | None, route: str | None, every: str | None,
                      doses: int | None, weight_kg: float) -> tuple[DrugPK, Regimen]:
    """The regimen asked for: a labelled one by name, or the options over the drug's labelled regimen for the route."""
    from cytonet.errors import TherapyError
    from cytonet.therapy import get_drug, labelled_regimen

    d = get_drug(name)
    given = {k: v for k, v in (("dose", dose), ("route", route), ("every", every), ("doses", doses)) if v is not None}
    if regimen is not None and given:
        raise TherapyError(f"--regimen {regimen!r} fixes dose, route, interval and doses; drop "
                           + ", ".join(f"--{k}" for k in given))
    base = regimen or next((g for g in d.regimens if route is None or g.route == route), d.regimens[0]).name
    return d, labelled_regimen(d, base, weight_kg=weight_kg, **given)


@app.command("exposure")
def exposure_cmd(
    name: Annotated[str, typer.Argument(help="drug INN or brand name, e.g. tocilizumab")],
    dose: Annotated[str | None, typer.Option(help="dose with unit, e.g. 8mg/kg or 162mg (default: labelled)")] = None,
    route: Annotated[str | None, typer.Option(help="iv, sc or oral (default: the first labelled regimen's)")] = None,
    every: Annotated[str | None, typer.Option(help="dosing interval, e.g. 4w or 672h (default: labelled)")] = None,
    doses: Annotated[int | None, typer.Option(help="number of doses (default: labelled)")] = None,
    regimen: Annotated[str | None, typer.Option(help="a labelled regimen by name (see 'cytonet drugs show')")] = None,
    weight: Annotated[str, typer.Option(help="body weight, e.g. 70kg")] = "70kg",
    tail: Annotated[str | None, typer.Option(help="a single dose: hours after it to read (default: its --every)")] = None,
    half_life_window: Annotated[str | None, typer.Option(help="fit a terminal half-life over START:END after the last dose, e.g. 168h:504h")] = None,
    json_: Annotated[bool, typer.Option("--json", help="print the readouts as JSON only")] = False,
) -> None:
    """Cmax, trough, AUC, tmax (clearance, half-life) of NAME after a regimen, in the healthy host.

    Readouts are over the interval after the last dose (a single dose: --tail hours after it), on the
    ``cytonet treat`` path. With no regimen options, the drug's first labelled regimen.
    """
    import json

    from cytonet.analysis.units import display_unit, readable_number
    from cytonet.errors import TherapyError
    from cytonet.therapy.exposure import read_span, simulate_exposure
    from cytonet.therapy.regimen import parse_hours, parse_weight

    d, reg = _exposure_regimen(name, regimen, dose, route, every, doses, parse_weight(weight))
    if tail is not None and reg.doses > 1:
        raise TherapyError("--tail is for a single dose; repeated doses are read over their interval")
    every_h = parse_hours(reg.every, "dosing interval") if reg.every is not None else None
    span_h = read_span(reg, parse_hours(tail, "--tail", allow_zero=False) if tail is not None else every_h)
    if span_h is None:
        raise TherapyError("a single dose without an interval needs --tail, the hours after it to read, e.g. --tail 504h")
    window = _half_life_window(half_life_window, span_h) if half_life_window is not None else None
    e = simulate_exposure(d.id, reg, tail_h=span_h)
    values = {n: e.readout(n) for n in [*EXPOSURE_LABELS][:4]}
    left = values["cmin"] / values["cmax"] if values["cmax"] > 0 else 1.0
    if reg.doses == 1 and left <= CLEARANCE_TAIL:
        values |= {n: e.readout(n) for n in ("cl_apparent", "cl_per_kg")}
    if window is not None:
        values["t_half"] = e.readout("t_half", window)
    words = f"{d.id} {reg.dose} {reg.route}, {schedule_text(every_h, reg.doses)}, {reg.weight_kg:g} kg"
    read = f"read over the {span_h:g} h after the last dose"
    notes = [] if window else ["half-life: not computed; give --half-life-window START:END (h after the last dose)"]
    if reg.doses > 1:
        notes.append("clearance: read after a single dose (--doses 1 --tail …)")
    elif "cl_apparent" not in values:
        notes.append(f"clearance: not computed; {left:.0%} of Cmax is left at the end of the {span_h:g} h read, "
                     f"more than {CLEARANCE_TAIL:.0%}; give a longer --tail")
    if json_:
        typer.echo(json.dumps({
            "drug": d.id, "regimen": {"dose": str(reg.dose), "route": reg.route, "every_h": every_h, "doses": reg.doses,
                                      "weight_kg": reg.weight_kg, "text": words},
            "interval_h": span_h, "half_life_window_h": window, "notes": notes,
            "readouts": {n: {"value": v, "unit": e.unit_of(n)} for n, v in values.items()}}))
        return
    from rich.table import Table

    table = Table("readout", "value", "unit", title=f"{words}; {read}")
    for n, v in values.items():
        label = f"{EXPOSURE_LABELS[n]} (fit {window[0]:g}-{window[1]:g} h)" if n == "t_half" and window else EXPOSURE_LABELS[n]
        table.add_row(label, readable_number(v, 4), display_unit(e.unit_of(n)))
    out = console()
    out.print(table)
    for note in notes:
        out.print(note, markup=False)
