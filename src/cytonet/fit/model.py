"""The problem's model as the engine runs it: compiled once, with the names PEtab tables may use.

Native specs compile to the factor kernels, specs with SBML semantics to the tape engine; both go
through :func:`cytonet.engine.simulate_batch`. Initial assignments (and the assignment rules they
read) are re-evaluated per run from that run's parameters, so a PEtab parameter that sets an
initial value through an SBML initial assignment takes effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cytonet.model.expr import Node, evaluate, names_in, parse


@dataclass
class ModelInfo:
    model: Any  # the compiled model handed to simulate_batch
    species: list[str]  # order of the engine's state output
    parameters: list[str]  # settable by batch columns, with defaults p
    p: np.ndarray
    variables: list[str]  # further time-dependent values the engine reports (compartments, rule variables)
    observables: list[str]  # native spec observables
    initial_defs: list[tuple[str, Node]]  # in dependency order
    constants: dict[str, float]  # declared values of every compartment, parameter and species initial
    settable_species: list[str]  # species whose initial value a batch column may set
    native: bool  # factor kernels (initial values >= 0) rather than the tape engine
    rate_variables: list[str]  # parameters and compartments with a rate rule: states whose initial value a column may set

    @property
    def readable(self) -> set[str]:
        return {*self.species, *self.parameters, *self.variables, *self.observables, *self.constants}

    @property
    def initials(self) -> list[str]:
        """Columns of the initial-value arrays: the species (the engine's state order), then the rate-rule variables."""
        return [*self.species, *self.rate_variables]

    @property
    def settable_initials(self) -> list[str]:
        """Initial values a condition (or a pre-equilibration) may set."""
        return [*self.settable_species, *self.rate_variables]


def model_info(spec: Any) -> ModelInfo:
    """Compile ``spec`` for the engine and read its names."""
    from cytonet.engine import simulate_batch
    from cytonet.model.compile import compile_model

    try:
        from cytonet.model.tape_model import compile_tape, needs_tape
    except ImportError:  # an engine without SBML semantics
        native = True
    else:
        native = not needs_tape(spec)
    compiled = compile_model(spec) if native else compile_tape(spec)
    params = list(compiled.parameters)
    col = {params[0]: np.asarray(compiled.p[:1], float)} if params else {spec.species[0].id: np.asarray([spec.species[0].initial])}
    probe = simulate_batch(compiled, col, 1.0, n_points=2, on_error="mask", threads=1)
    species = [str(s) for s in probe["species"].values]
    variables = [str(v) for v in probe["variable"].values] if "variable" in probe.coords else []
    observables = [o for o in getattr(compiled, "observables", {}) or {}]
    constants = {c.id: c.volume for c in spec.compartments}
    constants.update({q.id: q.value for q in spec.parameters})
    constants.update({s.id: s.initial for s in spec.species})
    defs = _initial_defs(spec, set(constants))
    ruled = {r.variable for r in getattr(spec, "rules", []) if r.kind == "assignment"}
    settable = [s for s in species if s not in ruled and s in {x.id for x in spec.species}]
    rated = [] if native else [s for s in compiled.states[:-1] if s not in compiled.species_compartment and s in variables]
    return ModelInfo(compiled, species, params, np.asarray(compiled.p, float), variables, observables, defs, constants,
                     settable, native, rated)


def _initial_defs(spec: Any, names: set[str]) -> list[tuple[str, Node]]:
    """Assignment rules and initial assignments, ordered so each comes after what it reads."""
    raw: dict[str, str] = {r.variable: r.expression for r in getattr(spec, "rules", []) if r.kind == "assignment"}
    raw.update({a.variable: a.expression for a in getattr(spec, "initial_assignments", [])})
    if not getattr(spec, "initial_assignments", None):
        return []
    trees = {v: parse(e, names | {"time"}, f"initial value of {v!r}") for v, e in raw.items()}
    order: list[str] = []
    seen: set[str] = set()

    def visit(v: str) -> None:
        if v in seen:
            return
        seen.add(v)
        for dep in names_in(trees[v]):
            if dep in trees:
                visit(dep)
        order.append(v)

    for v in trees:
        visit(v)
    return [(v, trees[v]) for v in order]


def initial_values(info: ModelInfo, P: np.ndarray, fixed: set[str]) -> dict[str, np.ndarray]:
    """Values the initial assignments give per run (rows of P), for targets not in ``fixed``."""
    if not info.initial_defs:
        return {}
    n = P.shape[0]
    env: dict[str, np.ndarray | float] = dict(info.constants)  # scalars broadcast against the per-run columns
    env.update({p: P[:, j] for j, p in enumerate(info.parameters)})
    env["time"] = np.zeros(n)
    out: dict[str, np.ndarray] = {}
    for target, node in info.initial_defs:
        if target in fixed:
            continue
        with np.errstate(all="ignore"):
            env[target] = np.broadcast_to(evaluate(node, env), (n,)).astype(float)
        out[target] = env[target]
    return out
