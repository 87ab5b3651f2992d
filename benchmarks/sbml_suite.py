"""Run SBML Test Suite time-course cases on cytonet's engine and score them as the suite does.

``python benchmarks/sbml_suite.py CASES_DIR --out RESULTS_DIR [--cases 1-100,250]``

CASES_DIR holds ``NNNNN/`` folders as the suite lays them out (``NNNNN-sbml-l3v2.xml``,
``-settings.txt``, ``-results.csv``, ``-model.m``). For every case cytonet supports it writes
``RESULTS_DIR/NNNNN.csv`` (``time`` then the settings' ``variables``, as amounts or
concentrations as the settings ask, at start ... start + duration in steps + 1 rows), and
``summary.csv`` (case, status pass / fail / unsupported / error, reason, max error: the largest
|v - expected| / (absolute + relative |expected|), 1 at the tolerance). It prints totals and the
pass count per component and test tag. A model cytonet refuses (ModelSpecError) is
``unsupported``; a solver failure or crash is ``error``.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cytonet.errors import CytonetError, ModelSpecError  # noqa: E402

#: solver tolerances relative to the case's own: tight enough that the error left is the model's
RTOL_FACTOR, ATOL_FACTOR = 1e-4, 1e-4


def read_settings(path: Path) -> dict:
    out: dict = {}
    for line in path.read_text().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    split = lambda s: [x.strip() for x in s.split(",") if x.strip()]  # noqa: E731
    return {"start": float(out.get("start", 0)), "duration": float(out["duration"]), "steps": int(float(out["steps"])),
            "variables": split(out.get("variables", "")), "absolute": float(out.get("absolute", 1e-6) or 1e-6),
            "relative": float(out.get("relative", 1e-4) or 1e-4), "amount": set(split(out.get("amount", ""))),
            "concentration": set(split(out.get("concentration", "")))}


def tags(model_m: Path) -> list[str]:
    out = []
    for line in model_m.read_text(errors="replace").splitlines():
        for key in ("componentTags:", "testTags:"):
            if line.strip().startswith(key):
                out += [t.strip() for t in line.split(":", 1)[1].split(",") if t.strip()]
    return out


def simulate_case(xml: Path, settings: dict) -> np.ndarray:
    """(rows, 1 + variables) of the case, as the settings ask."""
    from cytonet.engine.sbml_events import run_tape_model, symbol_values
    from cytonet.model.sbml_import import read_sbml
    from cytonet.model.tape_model import compile_tape

    imp = read_sbml(xml)
    tm = compile_tape(imp.spec)
    t = np.linspace(settings["start"], settings["start"] + settings["duration"], settings["steps"] + 1)
    if settings["start"] != 0.0:
        raise ModelSpecError("cases starting after t = 0 are not supported")
    atol = np.full(tm.n_states, settings["absolute"] * ATOL_FACTOR)
    run = run_tape_model(tm, t, settings["relative"] * RTOL_FACTOR, atol, 200_000)
    names = [imp.spec_id(v) for v in settings["variables"]]
    for v, n in zip(settings["variables"], names):
        if n not in tm.symbol_reg:
            raise ModelSpecError(f"variable {v!r} of the settings is no species, compartment or parameter of the model")
    comps = sorted({tm.species_compartment[n] for n in names if n in tm.species_compartment})
    vals = symbol_values(tm, run, names + comps)
    size = {c: vals[:, len(names) + i] for i, c in enumerate(comps)}
    cols = [t]
    for j, (v, n) in enumerate(zip(settings["variables"], names)):
        col = vals[:, j]
        if n in tm.species_compartment:
            V = size[tm.species_compartment[n]]
            own_amount = tm.species_only_substance[n]
            if v in settings["amount"] and not own_amount:
                col = col * V
            elif v in settings["concentration"] and own_amount:
                col = col / V
        cols.append(col)
    return np.column_stack(cols)


def score(ours: np.ndarray, expected: np.ndarray, absolute: float, relative: float) -> float:
    """Largest error in units of the tolerance (<= 1 passes); NaN must match NaN, inf must match inf."""
    if ours.shape != expected.shape:
        return np.inf
    both_nan = np.isnan(ours) & np.isnan(expected)
    same_inf = np.isinf(expected) & (ours == expected)
    with np.errstate(invalid="ignore"):
        err = np.abs(ours - expected) / (absolute + relative * np.abs(expected))
    err = np.where(both_nan | same_inf, 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    return float(err.max()) if err.size else 0.0


def run_case(case: Path, out_dir: Path) -> tuple[str, str, float]:
    cid = case.name
    settings = read_settings(case / f"{cid}-settings.txt")
    try:
        result = simulate_case(case / f"{cid}-sbml-l3v2.xml", settings)
    except ModelSpecError as err:
        return "unsupported", str(err).replace(str(case / f"{cid}-sbml-l3v2.xml") + ": ", ""), np.nan
    except CytonetError as err:
        return "error", str(err), np.nan
    except Exception as err:  # noqa: BLE001 - a crash is reported per case, never hidden
        return "error", f"{type(err).__name__}: {err}", np.nan
    header = ["time", *settings["variables"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in result:
        w.writerow([repr(float(v)) for v in row])
    (out_dir / f"{cid}.csv").write_text(buf.getvalue())
    expected = np.genfromtxt(case / f"{cid}-results.csv", delimiter=",", skip_header=1, ndmin=2)
    err = score(result, expected, settings["absolute"], settings["relative"])
    return ("pass", "", err) if err <= 1.0 else ("fail", "values differ beyond the case's tolerance", err)


def select(cases_dir: Path, spec: str | None) -> list[Path]:
    cases = sorted(p for p in cases_dir.iterdir() if p.is_dir() and p.name.isdigit())
    if not spec:
        return cases
    want: set[int] = set()
    for part in spec.split(","):
        a, _, b = part.partition("-")
        want |= set(range(int(a), int(b or a) + 1))
    return [c for c in cases if int(c.name) in want]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases_dir", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--cases", help="case numbers, e.g. 1-100,250")
    args = ap.parse_args(argv)
    cases_dir = args.cases_dir / "cases" if (args.cases_dir / "cases").is_dir() else args.cases_dir
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    by_tag: dict[str, Counter] = defaultdict(Counter)
    t0 = time.perf_counter()
    for case in select(cases_dir, args.cases):
        status, reason, err = run_case(case, args.out)
        rows.append((case.name, status, reason, err))
        for tag in tags(case / f"{case.name}-model.m"):
            by_tag[tag][status] += 1
        if status in ("fail", "error"):
            print(f"{case.name} {status}: {reason} (max error {err:.3g})", flush=True)
    with (args.out / "summary.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "status", "reason", "max_error"])
        w.writerows(rows)
    with (args.out / "tags.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["tag", "cases", "pass", "fail", "unsupported", "error"])
        for tag, c in sorted(by_tag.items()):
            w.writerow([tag, sum(c.values()), c["pass"], c["fail"], c["unsupported"], c["error"]])
    totals = Counter(r[1] for r in rows)
    n = len(rows)
    print(f"\n{n} cases in {time.perf_counter() - t0:.0f} s: " + ", ".join(f"{totals[s]} {s}" for s in ("pass", "fail", "unsupported", "error"))
          + f" ({100 * totals['pass'] / max(n, 1):.1f} % pass)")
    print(f"{'tag':32s} {'cases':>5s} {'pass':>5s} {'fail':>5s} {'unsup':>5s} {'error':>5s}")
    for tag, c in sorted(by_tag.items()):
        print(f"{tag:32s} {sum(c.values()):5d} {c['pass']:5d} {c['fail']:5d} {c['unsupported']:5d} {c['error']:5d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
