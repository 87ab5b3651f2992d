"""PEtab parameter mapping lowered to index arrays, built once per problem.

A *run* is one (pre-equilibration condition, simulation condition) pair of the measurement table.
For each run and phase, every model parameter and initial value is a constant or a row of the
parameter table (``Source``); each measurement row knows its run, time index, observable and the
values of its ``observableParameter{k}_{obs}`` / ``noiseParameter{k}_{obs}`` placeholders. The
objective evaluates all of this over a stack of parameter vectors at once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cytonet.errors import did_you_mean
from cytonet.fit.formulas import parse_formula, placeholder, placeholders_in
from cytonet.fit.problem import PetabError, PetabProblem
from cytonet.model.expr import Node, names_in

if TYPE_CHECKING:
    from cytonet.fit.model import ModelInfo

TRANSFORMS = {"lin": 0, "log": 1, "log10": 2}
DISTRIBUTIONS = {"normal": 0, "laplace": 1}


@dataclass
class Source:
    """A value that is a constant (``table == -1``) or the parameter-table row ``table``."""

    value: float = math.nan
    table: int = -1

    def of(self, V: np.ndarray) -> np.ndarray:
        """Value for each parameter vector of ``V`` (k, n_table)."""
        return np.full(V.shape[0], self.value) if self.table < 0 else V[:, self.table]


@dataclass
class Phase:
    """Model parameter and initial-value settings of one condition: column index -> Source."""

    condition: str
    parameters: dict[int, Source] = field(default_factory=dict)
    initial: dict[int, Source] = field(default_factory=dict)  # column of info.initials -> value; NaN = keep (pre-equilibrated) value


@dataclass
class Formula:
    observable: str
    node: Node
    rows: np.ndarray  # measurement rows of this observable


@dataclass
class Layout:
    """Everything the objective needs, as arrays (see the module docstring)."""

    info: ModelInfo
    table_ids: list[str]
    runs: list[tuple[Phase | None, Phase]]
    times: np.ndarray  # union of measurement times
    run_of: np.ndarray  # per measurement row
    time_of: np.ndarray
    measured: np.ndarray
    transform: np.ndarray
    distribution: np.ndarray
    observable_formulas: list[Formula]
    noise_formulas: list[Formula]
    placeholders: dict[str, list[Source | None]]  # name -> per measurement row (None where not that observable)
    model_parameter_table: dict[int, int]  # model parameter column -> parameter-table row (all conditions)
    formula_parameters: dict[str, int]  # parameter-table ids used in formulas that are not model parameters


def _source(value: Any, table: dict[str, int], where: str) -> Source:
    """A condition/measurement cell: a number, NaN, or a parameter-table ID."""
    if isinstance(value, (int, float, np.floating, np.integer)):
        return Source(float(value))
    s = str(value).strip()
    try:
        return Source(float(s))
    except ValueError:
        pass
    if s not in table:
        raise PetabError(f"{where}: {s!r} is neither a number nor a parameter of the parameter table" + did_you_mean(s, list(table)))
    return Source(table=table[s])


def _phase(problem: PetabProblem, info: ModelInfo, cid: str, table: dict[str, int]) -> Phase:
    if cid not in problem.conditions.index:
        raise PetabError(f"{problem.path}: condition {cid!r} of the measurement table is not in the condition table"
                         + did_you_mean(cid, list(map(str, problem.conditions.index))))
    row = problem.conditions.loc[cid]
    ph = Phase(cid)
    settable = set(info.settable_initials)
    species = {s: i for i, s in enumerate(info.initials) if s in settable}  # species and rate-rule variables
    params = {p: i for i, p in enumerate(info.parameters)}
    for col, val in row.items():
        if col == "conditionName":
            continue
        col = problem.aliases.get(col, col)
        where = f"{problem.path}: condition {cid!r}, column {col!r}"
        if col in params:
            src = _source(val, table, where)
            if src.table < 0 and math.isnan(src.value):
                continue  # NaN for a parameter: keep its value
            ph.parameters[params[col]] = src
        elif col in species:
            ph.initial[species[col]] = _source(val, table, where)
        else:
            raise PetabError(f"{where}: {col!r} is neither a constant model parameter nor a species or rate-rule variable "
                             "with an initial value"
                             + did_you_mean(col, [*params, *species]))
    return ph


def _split(cell: Any) -> list[Any]:
    from petab.v1 import split_parameter_replacement_list

    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return []
    return split_parameter_replacement_list(cell)


def build_layout(problem: PetabProblem, info: ModelInfo) -> Layout:
    """Lower the problem's mapping to arrays for the model ``info``; every inconsistency raises ``PetabError``."""
    from petab.v1 import C

    pt = problem.parameters
    table = {pid: i for i, pid in enumerate(pt.ids)}
    md = problem.measurements.reset_index(drop=True)
    where = str(problem.path)
    pre_col = C.PREEQUILIBRATION_CONDITION_ID
    keys: dict[tuple[str, str], int] = {}
    phases: dict[str, Phase] = {}
    run_of = np.empty(len(md), np.int64)
    for i, r in md.iterrows():
        pre = r.get(pre_col, "")
        pre = "" if pre is None or (isinstance(pre, float) and math.isnan(pre)) else str(pre)
        key = (pre, str(r[C.SIMULATION_CONDITION_ID]))
        for cid in key:
            if cid and cid not in phases:
                phases[cid] = _phase(problem, info, cid, table)
        run_of[i] = keys.setdefault(key, len(keys))
    runs = [(phases[pre] if pre else None, phases[sim]) for pre, sim in keys]

    t = md[C.TIME].to_numpy(float)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        bad = int(np.flatnonzero(~np.isfinite(t) | (t < 0))[0])
        raise PetabError(f"{where}: measurement row {bad}: time {t[bad]!r}; cytonet fits finite times >= 0 "
                         "(steady-state measurements at time inf are not supported)")
    times = np.unique(t)
    time_of = np.searchsorted(times, t)

    obs = problem.observables
    obs_ids = list(map(str, obs.index))
    transform = np.empty(len(md), np.int64)
    distribution = np.empty(len(md), np.int64)
    for oid in set(md[C.OBSERVABLE_ID]):
        if oid not in obs_ids:
            raise PetabError(f"{where}: observable {oid!r} of the measurement table is not in the observable table" + did_you_mean(oid, obs_ids))
    model_names = info.readable
    model_id = {p: problem.aliases.get(p, p) for p in pt.ids}
    pnames = {p for p in pt.ids if model_id[p] not in info.parameters}
    placeholders: dict[str, list[Source | None]] = {}
    o_forms, n_forms = [], []
    for oid in obs_ids:
        rows = np.flatnonzero(md[C.OBSERVABLE_ID].to_numpy() == oid)
        o = obs.loc[oid]
        tr = str(o.get(C.OBSERVABLE_TRANSFORMATION, "lin")) if isinstance(o.get(C.OBSERVABLE_TRANSFORMATION), str) else "lin"
        di = str(o.get(C.NOISE_DISTRIBUTION, "normal")) if isinstance(o.get(C.NOISE_DISTRIBUTION), str) else "normal"
        if tr not in TRANSFORMS or di not in DISTRIBUTIONS:
            raise PetabError(f"{where}: observable {oid!r}: observableTransformation {tr!r} / noiseDistribution {di!r}; "
                             f"use {list(TRANSFORMS)} and {list(DISTRIBUTIONS)}")
        transform[rows], distribution[rows] = TRANSFORMS[tr], DISTRIBUTIONS[di]
        forms = []
        for kind, col, extra in (("observable", C.OBSERVABLE_FORMULA, set()), ("noise", C.NOISE_FORMULA, {oid})):
            text = o[col]
            toks = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(text)))
            own = {n for n in toks if n.startswith(f"{kind}Parameter") and n.endswith(f"_{oid}")}
            node = parse_formula(text, model_names | pnames | own | extra, f"{where}: observable {oid!r} {col}", problem.aliases)
            forms.append(Formula(oid, node, rows))
            n_ph = placeholders_in(names_in(node), kind, oid)
            column = C.OBSERVABLE_PARAMETERS if kind == "observable" else C.NOISE_PARAMETERS
            cells = md[column] if column in md else None
            for k in range(1, n_ph + 1):
                placeholders[placeholder(kind, k, oid)] = [None] * len(md)
            for i in rows:
                vals = _split(cells.iloc[i]) if cells is not None else []
                if len(vals) != n_ph:
                    raise PetabError(f"{where}: measurement row {i} (observable {oid!r}) gives {len(vals)} {kind} parameters, "
                                     f"the {kind} formula uses {n_ph}")
                for k, v in enumerate(vals, 1):
                    placeholders[placeholder(kind, k, oid)][i] = _source(v, table, f"{where}: measurement row {i}, {kind}Parameters")
        o_forms.append(forms[0])
        n_forms.append(forms[1])
    by_model = {model_id[p]: i for p, i in table.items()}
    model_parameter_table = {j: by_model[p] for j, p in enumerate(info.parameters) if p in by_model}
    formula_parameters = {p: table[p] for p in pnames}
    return Layout(info, pt.ids, runs, times, run_of, time_of, md[C.MEASUREMENT].to_numpy(float), transform, distribution,
                  o_forms, n_forms, placeholders, model_parameter_table, formula_parameters)
