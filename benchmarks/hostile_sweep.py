"""Hostile-input sweep of the ``cytonet`` command line: what a careless user or an attacker can type.

Every case runs ``cytonet …`` in its own subprocess, in a fresh scratch folder holding a few of the
user's own files (a ``report.html``, a ``changes.csv``, an export, a canary ``secret.txt`` outside
any run), under an address-space limit (``--mem-gb``, default 6) and a wall-clock limit. Each case is
judged on:

- ``traceback``: a Python traceback reached the user;
- ``multi-line``: a refused input printed more than two lines;
- ``clobbered``: a file the user had was changed or removed, or a file appeared outside the run;
- ``escaped``: ``runs query`` read the canary or wrote outside the run;
- ``memory``: the limit was hit (MemoryError / killed) or peak RSS passed ``--rss-gb`` (default 2);
- ``accepted``: a bad input ran as if nothing were wrong (exit 0, or the expected word is missing);
- ``timeout``: the case ran past ``--timeout`` seconds;
- ``ok``: none of the above.

Prints one line per case with a problem, then the counts per category. Run:
``python benchmarks/hostile_sweep.py [--only PREFIX] [--jobs 2] [--timeout 120]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

CYTONET = [sys.executable, "-m", "cytonet"]
CANARY = "cytonet-canary-7f3a91"
USER_FILES = {"report.html": "<html>my own report</html>\n", "changes.csv": "my,own\n1,2\n",
              "timecourse.parquet": "not yours\n", "kb.json": '{"mine": true}\n', "notes/summary.png": "my picture\n"}
SRC = ""  # --src: the cytonet sources to sweep (default: the installed package)
CATEGORIES = ("traceback", "multi-line", "clobbered", "escaped", "memory", "accepted", "timeout", "ok")


@dataclass
class Case:
    """One hostile input: ``argv`` after ``cytonet``; ``{run}`` is a finished population run, ``{d}`` the scratch folder."""

    name: str
    argv: list[str]
    expect_fail: bool = True
    setup: Callable[[Path], None] | None = None
    output: str | None = None  # the run output the command may create (relative to the scratch folder)
    must_say: str | None = None  # for expect_fail=False: text the output must contain
    stdin: bytes | None = None


@dataclass
class Result:
    case: Case
    rc: int
    out: str
    wall: float
    rss_gb: float
    problems: list[str] = field(default_factory=list)


def _write(name: str, data: str | bytes) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return setup


def _alias_bomb(levels: int = 10) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\nvariations: *a{levels - 1}\n"


def _spec_bomb(levels: int = 10) -> str:
    return _alias_bomb(levels).replace("variations:", "species:")


def _deep(n: int = 200_000) -> str:
    return "[" * n + "]" * n + "\n"


SPEC = """id: tiny
compartments: [{id: c, volume: 1.0, unit: L}]
species: [{id: A, compartment: c, initial: 1.0, unit: pg/mL}]
parameters: [{id: k, value: %s, unit: 1/h, assumption: test}]
reactions: [{id: r, reactants: {A: 1}, products: {}, rate_law: mass_action, params: {k: k}}]
"""


def cases() -> list[Case]:
    sim = ["simulate", "--scenario", "sepsis-storm", "--out", "out"]
    treat = ["treat", "--scenario", "car-t-crs", "--drug", "tocilizumab", "--out", "out"]
    pop = ["population", "--scenario", "sepsis-storm", "--out", "pop"]
    q = ["runs", "query", "{run}"]
    secret = "{d}/secret.txt"
    c: list[Case] = [
        # the command line itself
        Case("cli/unknown-command", ["simulat"]),
        Case("cli/unknown-option", ["simulate", "--scenari", "sepsis-storm"]),
        Case("cli/missing-option", ["simulate", "--out", "out"]),
        Case("cli/bad-int", ["population", "--scenario", "sepsis-storm", "--n", "many", "--out", "pop"]),
        # simulate: numbers
        *[Case(f"simulate/hours={h}", [*sim, "--hours", h], output="out") for h in ("nan", "inf", "-inf", "1e308", "-1", "0", "1e9", "abc")],
        Case("simulate/set-no-equals", [*sim, "--set", "r_P"], output="out"),
        Case("simulate/set-not-number", [*sim, "--set", "r_P=abc"], output="out"),
        Case("simulate/set-inf", [*sim, "--set", "r_P=inf"], output="out"),
        Case("simulate/set-nan", [*sim, "--set", "r_P=nan"], output="out"),
        Case("simulate/set-negative", [*sim, "--set", "r_P=-1"], output="out"),
        Case("simulate/set-unknown", [*sim, "--set", "r_Q=1"], output="out"),
        Case("simulate/set-duplicate", [*sim, "--set", "r_P=1", "--set", "r_P=2"], output="out"),
        Case("simulate/set-1e308", [*sim, "--set", "r_P=1e308"], output="out"),
        Case("simulate/scenario-unknown", ["simulate", "--scenario", "sepsis", "--out", "out"], output="out"),
        Case("simulate/scenario-path", ["simulate", "--scenario", "../../etc/passwd", "--out", "out"], output="out"),
        # simulate / treat / demo / report: the user's files
        Case("simulate/out-is-file", ["simulate", "--scenario", "sepsis-storm", "--out", "kb.json", "--hours", "1"]),
        Case("simulate/out-holds-user-files", ["simulate", "--scenario", "sepsis-storm", "--out", ".", "--hours", "1"]),
        Case("simulate/out-unwritable", ["simulate", "--scenario", "sepsis-storm", "--out", "/proc/cytonet-out", "--hours", "1"]),
        Case("simulate/out-under-file", ["simulate", "--scenario", "sepsis-storm", "--out", "kb.json/run", "--hours", "1"]),
        Case("treat/out-holds-user-files", ["treat", "--scenario", "car-t-crs", "--drug", "tocilizumab", "--out", ".", "--hours", "2"]),
        Case("demo/out-holds-user-files", ["demo", "--out", "."]),
        Case("report/not-a-run", ["report", "."]),
        Case("report/missing", ["report", "nowhere"]),
        Case("report/corrupt-timecourse", ["report", "bad"], setup=lambda d: (_write("bad/timecourse.parquet", b"PAR1garbage")(d),
                                                                               _write("bad/model.yaml", "id: x\n")(d))),
        # treat: numbers and units
        *[Case(f"treat/dose={v}", [*treat, "--dose", v], output="out") for v in ("1e308mg/kg", "-1mg", "0mg", "8", "8furlongs", "8mg/m2", "nanmg")],
        *[Case(f"treat/at={v}", [*treat, "--at", v], output="out") for v in ("1e308h", "-1h", "1000h", "abc", "inf")],
        *[Case(f"treat/weight={v}", [*treat, "--weight", v], output="out") for v in ("0", "-70", "nan", "inf", "1e308")],
        Case("treat/doses-0", [*treat, "--doses", "0"], output="out"),
        Case("treat/doses-huge", [*treat, "--doses", "100000000", "--every", "1min"], output="out"),
        Case("treat/every-0", [*treat, "--doses", "2", "--every", "0h"], output="out"),
        Case("treat/hours-nan", [*treat, "--hours", "nan"], output="out"),
        Case("treat/hours-huge", [*treat, "--hours", "1e12"], output="out"),
        Case("treat/drug-unknown", ["treat", "--scenario", "car-t-crs", "--drug", "tocilizumob", "--out", "out"], output="out"),
        Case("treat/route-bad", [*treat, "--route", "nasal"], output="out"),
        # population
        Case("population/n-0", [*pop, "--n", "0"], output="pop"),
        Case("population/n-negative", [*pop, "--n", "-5"], output="pop"),
        Case("population/n-billion", [*pop, "--n", "1000000000"], output="pop"),
        Case("population/batch-0", [*pop, "--n", "4", "--batch-size", "0"], output="pop"),
        Case("population/seed-negative", [*pop, "--n", "4", "--seed", "-1"], output="pop"),
        Case("population/seed-huge", [*pop, "--n", "4", "--seed", str(2**70)], output="pop"),
        Case("population/trajectories-1", [*pop, "--n", "4", "--trajectories", "1"], output="pop"),
        Case("population/trajectories-huge", [*pop, "--n", "4", "--trajectories", "1000000000"], output="pop"),
        Case("population/method-bad", [*pop, "--n", "4", "--method", "grid"], output="pop"),
        Case("population/dose-without-drug", [*pop, "--n", "4", "--dose", "8mg/kg"], output="pop"),
        Case("population/drug-bad-dose", [*pop, "--n", "4", "--drug", "tocilizumab", "--dose", "1e308mg/kg"], output="pop"),
        Case("population/drug-at-after-end", [*pop, "--n", "4", "--drug", "tocilizumab", "--at", "1e308h"], output="pop"),
        Case("population/dask-unreachable", [*pop, "--n", "4", "--dask", "tcp://127.0.0.1:9"], output="pop"),
        Case("population/dask-garbage", [*pop, "--n", "4", "--dask", "nonsense"], output="pop"),
        Case("population/workers-huge", [*pop, "--n", "4", "--dask", "local", "--workers", "100000"], output="pop"),
        Case("population/out-is-file", ["population", "--scenario", "sepsis-storm", "--n", "4", "--out", "kb.json"]),
        Case("population/out-holds-user-files", ["population", "--scenario", "sepsis-storm", "--n", "4", "--out", "."]),
        Case("population/vary-missing", [*pop, "--n", "4", "--vary", "nope.yaml"], output="pop"),
        Case("population/vary-alias-bomb", [*pop, "--n", "4", "--vary", "bomb.yaml"], setup=_write("bomb.yaml", _alias_bomb()), output="pop"),
        Case("population/vary-deep", [*pop, "--n", "4", "--vary", "deep.yaml"], setup=_write("deep.yaml", _deep()), output="pop"),
        Case("population/vary-binary", [*pop, "--n", "4", "--vary", "bin.yaml"], setup=_write("bin.yaml", os.urandom(4096)), output="pop"),
        Case("population/vary-latin1", [*pop, "--n", "4", "--vary", "l1.yaml"], setup=_write("l1.yaml", "description: caf\xe9\n".encode("latin-1")), output="pop"),
        Case("population/vary-huge", [*pop, "--n", "4", "--vary", "huge.yaml"], setup=_write("huge.yaml", "description: " + "x" * 60_000_000 + "\n"), output="pop"),
        Case("population/vary-empty", [*pop, "--n", "4", "--vary", "empty.yaml"], setup=_write("empty.yaml", ""), output="pop"),
        Case("population/vary-list", [*pop, "--n", "4", "--vary", "list.yaml"], setup=_write("list.yaml", "- 1\n- 2\n"), output="pop"),
        Case("population/vary-python-tag", [*pop, "--n", "4", "--vary", "tag.yaml"], setup=_write("tag.yaml", "!!python/object/apply:os.system ['touch pwned']\n"), output="pop"),
        Case("population/vary-dir", [*pop, "--n", "4", "--vary", "."], output="pop"),
        # runs query: the sandbox
        Case("query/read_csv", [*q, f"SELECT * FROM read_csv('{secret}')"]),
        Case("query/read_text", [*q, f"SELECT content FROM read_text('{secret}')"]),
        Case("query/read_blob", [*q, f"SELECT content FROM read_blob('{secret}')"]),
        Case("query/replacement-scan", [*q, f"SELECT * FROM '{secret}'"]),
        Case("query/glob", [*q, "SELECT * FROM glob('/etc/*')"]),
        Case("query/read_parquet-other", [*q, "SELECT * FROM read_parquet('{d}/other.parquet')"],
             setup=lambda d: _copy_run_part(d)),
        Case("query/copy-to", [*q, "COPY patients TO '{d}/stolen.csv'"]),
        Case("query/second-statement", [*q, "SELECT 1; COPY (SELECT 1) TO '{d}/stolen.csv'"]),
        Case("query/attach", [*q, "ATTACH '{d}/new.db' AS x"]),
        Case("query/install", [*q, "INSTALL httpfs"]),
        Case("query/load", [*q, "LOAD httpfs"]),
        Case("query/set-external", [*q, "SET enable_external_access = true"]),
        Case("query/reset-external", [*q, "RESET enable_external_access"]),
        Case("query/pragma", [*q, "PRAGMA enable_profiling"]),
        Case("query/create-table", [*q, "CREATE TABLE t AS SELECT 1"]),
        Case("query/drop-view", [*q, "DROP VIEW patients"]),
        Case("query/export-database", [*q, "EXPORT DATABASE '{d}/dump'"]),
        Case("query/cte-copy", [*q, "WITH x AS (SELECT 1) SELECT * FROM x; COPY (SELECT 42) TO '{d}/stolen.csv'"]),
        Case("query/empty", [*q, ""]),
        Case("query/blank", [*q, "   ;  "]),
        Case("query/comment-only", [*q, "-- nothing"]),
        Case("query/malformed", [*q, "SELEC * FORM patients"]),
        Case("query/unknown-column", [*q, "SELECT nope FROM patients"]),
        Case("query/huge-rows", [*q, "SELECT * FROM range(100000000)"], expect_fail=False, must_say="showing the first"),
        Case("query/huge-memory", [*q, "SELECT list(range) FROM range(1000000000)"]),
        Case("query/not-a-run", ["runs", "query", ".", "SELECT 1"]),
        Case("query/run-is-file", ["runs", "query", "kb.json", "SELECT 1"]),
        Case("query/getenv", [*q, "SELECT getenv('HOME')"]),
        Case("query/call-duckdb-settings", [*q, "SELECT * FROM duckdb_settings() WHERE name = 'enable_external_access'"], expect_fail=False, must_say="false"),
        Case("query/ok", [*q, "SELECT count(*) AS n FROM patients"], expect_fail=False),
        # runs summary
        Case("summary/not-a-run", ["runs", "summary", "."]),
        Case("summary/plot-over-user-file", ["runs", "summary", "{run}", "--plot", "{d}/notes/summary.png"]),
        Case("summary/plot-unwritable", ["runs", "summary", "{run}", "--plot", "/proc/summary.png"]),
        Case("summary/plot-into-dir", ["runs", "summary", "{run}", "--plot", "{d}/notes"]),
        Case("summary/interrupted", ["runs", "summary", "part", "--plot", "{d}/p.png"], expect_fail=False, must_say=" of ",
             setup=lambda d: _interrupted(d), output="p.png"),
        # model export-sbml
        Case("sbml/missing", ["model", "export-sbml", "nope.yaml", "m.xml"]),
        Case("sbml/binary", ["model", "export-sbml", "bin.yaml", "m.xml"], setup=_write("bin.yaml", os.urandom(4096))),
        Case("sbml/latin1", ["model", "export-sbml", "l1.yaml", "m.xml"], setup=_write("l1.yaml", (SPEC % "1.0").replace("test", "caf\xe9").encode("latin-1"))),
        Case("sbml/alias-bomb", ["model", "export-sbml", "bomb.yaml", "m.xml"], setup=_write("bomb.yaml", _spec_bomb())),
        Case("sbml/deep", ["model", "export-sbml", "deep.json", "m.xml"], setup=_write("deep.json", _deep())),
        Case("sbml/inf-rate", ["model", "export-sbml", "s.yaml", "m.xml"], setup=_write("s.yaml", SPEC % ".inf"), output="m.xml"),
        Case("sbml/nan-rate-json", ["model", "export-sbml", "s.json", "m.xml"], setup=_write("s.json", json.dumps({"id": "x", "species": [], "parameters": [{"id": "k", "value": float("nan"), "unit": "1/h"}]}))),
        Case("sbml/huge-expression", ["model", "export-sbml", "s.yaml", "m.xml"], setup=_write("s.yaml", (SPEC % "1.0") + "observables: [{id: o, expression: '" + "+".join(["A"] * 200_000) + "', unit: pg/mL}]\n"), output="m.xml"),
        Case("sbml/deep-expression", ["model", "export-sbml", "s.yaml", "m.xml"], setup=_write("s.yaml", (SPEC % "1.0") + "observables: [{id: o, expression: '" + "(" * 50_000 + "A" + ")" * 50_000 + "', unit: pg/mL}]\n"), output="m.xml"),
        Case("sbml/out-over-user-file", ["model", "export-sbml", "s.yaml", "report.html"], setup=_write("s.yaml", SPEC % "1.0")),
        Case("sbml/out-is-dir", ["model", "export-sbml", "s.yaml", "notes"], setup=_write("s.yaml", SPEC % "1.0")),
        Case("sbml/python-tag", ["model", "export-sbml", "t.yaml", "m.xml"], setup=_write("t.yaml", "!!python/object/apply:os.system ['touch pwned']\n")),
        # kb
        Case("kb/show-unknown", ["kb", "show", "IL-66"]),
        Case("kb/list-bad", ["kb", "list", "cytokine"]),
        Case("kb/export-over-user-file", ["kb", "export", "kb.json"]),
        Case("kb/export-into-dir", ["kb", "export", "notes"]),
        Case("kb/export-csv-over-file", ["kb", "export", "kb.json", "--format", "csv"]),
        Case("kb/export-unwritable", ["kb", "export", "/proc/kb.json"]),
        Case("kb/validate-missing", ["kb", "validate", "--data", "nowhere"]),
        Case("kb/validate-bomb", ["kb", "validate", "--data", "kbd"], setup=_write("kbd/bomb.yaml", _alias_bomb().replace("variations:", "cytokines:"))),
        Case("kb/validate-binary", ["kb", "validate", "--data", "kbd"], setup=_write("kbd/bin.yaml", os.urandom(4096))),
        Case("scenarios/show-unknown", ["scenarios", "show", "sepsis"]),
        Case("drugs/show-unknown", ["drugs", "show", "tocilizumob"]),
    ]
    return c


def _copy_run_part(d: Path) -> None:
    src = next((Path(os.environ["HOSTILE_RUN"]) / "patients").glob("part-*.parquet"))
    shutil.copy(src, d / "other.parquet")


def _interrupted(d: Path) -> None:
    """A population of 2 partitions of which only the first finished."""
    shutil.copytree(os.environ["HOSTILE_RUN"], d / "part")
    m = json.loads((d / "part" / "manifest.json").read_text())
    done = sorted(m["completed"], key=int)
    for k in done[1:]:
        del m["completed"][k]
    m["finished"] = False
    (d / "part" / "manifest.json").write_text(json.dumps(m))


def _snapshot(d: Path) -> dict[str, str]:
    snap = {}
    for p in d.rglob("*"):
        if p.is_file() and not p.is_symlink():
            snap[str(p.relative_to(d))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return snap


def _limit(mem_gb: float) -> Callable[[], None]:
    def apply() -> None:
        limit = int(mem_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.setsid()
    return apply


def run_case(case: Case, run: str, timeout: float, mem_gb: float, rss_gb: float, debug: bool = False) -> Result:
    d = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        for name, text in USER_FILES.items():
            _write(name, text)(d)
        (d / "secret.txt").write_text(f"{CANARY}\n")
        if case.setup:
            case.setup(d)
        before = _snapshot(d)
        argv = [a.replace("{run}", run).replace("{d}", str(d)) for a in case.argv]
        log = d.parent / f"{d.name}.log"
        env = {**os.environ, "COLUMNS": "100", **({"PYTHONPATH": SRC} if SRC else {})}
        t0 = time.perf_counter()
        with open(log, "wb") as fh:
            proc = subprocess.Popen([*CYTONET, *argv], cwd=d, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL, preexec_fn=_limit(mem_gb))
            timed_out, status, usage = False, 0, None
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() - t0 > timeout:
                    timed_out = True
                    os.killpg(proc.pid, signal.SIGKILL)
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out = log.read_text(errors="replace")
        log.unlink()
        res = Result(case, proc.returncode, out, wall, usage.ru_maxrss / 2**20 if usage else 0.0)
        after = _snapshot(d)
        judge(res, before, after, timed_out, rss_gb)
        if debug:
            print(f"--- {case.name} rc={res.rc} {wall:.1f}s\n{out}")
        return res
    finally:
        shutil.rmtree(d, ignore_errors=True)


def judge(res: Result, before: dict[str, str], after: dict[str, str], timed_out: bool, rss_gb: float) -> None:
    case, out, p = res.case, res.out, res.problems
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if "Traceback (most recent call last)" in out:
        p.append("traceback")
    if case.expect_fail and res.rc != 0 and len(lines) > 2 and "Traceback (most recent call last)" not in out:
        p.append("multi-line")
    changed = [f for f in before if f not in after or after[f] != before[f]]
    run_out = case.output
    created = [f for f in after if f not in before and not (run_out and (f == run_out or f.startswith(run_out.rstrip("/") + "/")))]
    if case.name.startswith("query/"):
        if CANARY in out or created or "/etc/" in out and "passwd" in out:
            p.append("escaped")
        elif changed:
            p.append("clobbered")
    elif changed or created:
        p.append("clobbered")
    if "MemoryError" in out or res.rc in (-9, 137) and not timed_out or res.rss_gb > rss_gb:
        p.append("memory")
    if timed_out:
        p.append("timeout")
    elif case.expect_fail and res.rc == 0 and "escaped" not in p:
        p.append("accepted")
    elif not case.expect_fail and (res.rc != 0 or (case.must_say and case.must_say not in out)):
        p.append("accepted")


def make_run(root: Path) -> str:
    run = root / "run"
    cmd = [*CYTONET, "population", "--scenario", "sepsis-storm", "--n", "4", "--batch-size", "2", "--out", str(run), "--quiet"]
    env = {**os.environ, **({"PYTHONPATH": SRC} if SRC else {})}
    subprocess.run(cmd, check=True, capture_output=True, timeout=900, env=env)
    return str(run)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="run only cases whose name starts with this")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--mem-gb", type=float, default=6.0)
    ap.add_argument("--rss-gb", type=float, default=2.0)
    ap.add_argument("--debug", action="store_true", help="print every case's output")
    ap.add_argument("--json", type=Path, help="write per-case results here")
    ap.add_argument("--src", default="", help="sweep the cytonet package under this folder (e.g. an unpacked older version)")
    args = ap.parse_args()
    global SRC
    SRC = str(Path(args.src).resolve()) if args.src else ""
    selected = [c for c in cases() if c.name.startswith(args.only)]
    root = Path(tempfile.mkdtemp(prefix="hostile-run-"))
    try:
        run = make_run(root) if any("{run}" in " ".join(c.argv) or c.setup in (_interrupted,) or "summary/" in c.name
                                    or c.name == "query/read_parquet-other" for c in selected) else str(root / "none")
        os.environ["HOSTILE_RUN"] = run
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda c: run_case(c, run, args.timeout, args.mem_gb, args.rss_gb, args.debug), selected))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    counts = dict.fromkeys(CATEGORIES, 0)
    for r in results:
        for prob in r.problems or ["ok"]:
            counts[prob] += 1
        if r.problems:
            last = next((ln for ln in reversed(r.out.splitlines()) if ln.strip()), "")
            print(f"{r.case.name:38s} {','.join(r.problems):22s} rc={r.rc:<4d} {r.wall:6.1f}s {r.rss_gb:4.1f}GB  {last[:110]}")
    print(f"\n{len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"cases with any problem: {sum(bool(r.problems) for r in results)}")
    if args.json:
        args.json.write_text(json.dumps([{"case": r.case.name, "rc": r.rc, "problems": r.problems, "wall_s": round(r.wall, 2),
                                          "rss_gb": round(r.rss_gb, 3), "output": r.out[-2000:]} for r in results], indent=1))


if __name__ == "__main__":
    main()
