"""Lower a ``ModelSpec`` with SBML semantics (expression rates, rules, trigger events) to tapes.

State vector: the amount of every species not set by an assignment rule, every compartment or
parameter with a rate rule, and time last (dt/dt = 1, so the system is autonomous and the
Jacobian carries d f / d t). Everything else constant between events lives in ``p`` (parameters,
compartment sizes, variable stoichiometries); assignment rules are inlined where they are used.
A species' symbol in math is its amount (``only_substance``) or amount / compartment size.

Species fluxes: d n/dt = sum_r nu_r * v_r * conversion factor (boundary and constant species: 0);
a rate rule on a concentration c in a compartment V gives d n/dt = V dc/dt + c dV/dt.

The main tape computes the right-hand side and the root functions (left minus right side of every
comparison in rates and triggers) first, then the analytic Jacobian. The ``aux`` tape computes,
from (x, p), every symbol's value and every trigger, delay, priority and event-assignment value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cytonet.errors import ModelSpecError
from cytonet.model.expr import Node, evaluate, names_in, parse, to_text
from cytonet.model.spec import ModelSpec, RateLaw, TriggerEvent
from cytonet.model.tape import ADD, DIV, MUL, NEG, SUB, Tape, TapeBuilder, run_tape

TIME_STATE = "time()"


@dataclass
class TapeEvent:
    """One trigger event with the aux-tape registers of its parts."""

    id: str
    trigger: int
    delay: int  # -1: none
    priority: int  # -1: none
    persistent: bool
    initial_value: bool
    values_at_trigger: bool
    targets: list[tuple[str, int]]  # (kind 'x' | 'p' | 'conc' (x = value * size), index)
    values: list[int]
    sizes: list[int]  # for 'conc' targets: p or x index of the compartment as ('p'|'x', idx) encoded: >= 0 p, < 0 x (-1 - i)


@dataclass
class TapeModel:
    """A spec lowered to tapes (picklable); the engine integrates it with a Rosenbrock method (:mod:`cytonet.engine.tableaus`) and drives events in Python."""

    model_id: str
    digest: str
    states: list[str]
    parameters: list[str]  # names of p entries (parameters, compartments, stoichiometries)
    x0: np.ndarray
    p: np.ndarray
    tape: Tape
    n_rhs: int  # instructions computing rhs and roots
    rhs_reg: np.ndarray
    root_reg: np.ndarray
    jac_row: np.ndarray
    jac_col: np.ndarray
    jac_reg: np.ndarray
    aux: Tape
    symbol_reg: dict[str, int]  # every species (own sense), compartment, parameter -> aux register
    species_compartment: dict[str, str]
    species_only_substance: dict[str, bool]
    events: list[TapeEvent] = field(default_factory=list)
    #: ``delay(value, lag)`` slots: a tape computing every slot's value and lag from (x, p), read at the past state
    delay_tape: Tape | None = None
    delay_value: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    delay_lag: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: > 0: forward sensitivities: ``block`` base states, then their sensitivities (``products[4][0]`` per state,
    #: consecutive), then time; the Jacobian entries cover the base rows only; its lower blocks: ``lower_blocks``
    block: int = 0
    #: right-hand-side rows that the integrator's stages sum as products outside the tape (forward sensitivities:
    #: (df/dx) S + (df/dp) dp/d theta), as (row, register, source, source is a parameter, width): entry e adds
    #: register reg[e] times x[src[e] + c] (p[src[e] + c] where par[e]) to row[e] + c for every c < width[0];
    #: those rows' own registers hold 0; the stages then run the tape's first ``n_stage`` instructions only.
    #: Empty: every row is its register.
    products: tuple[np.ndarray, ...] = field(default_factory=lambda: (
        np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.bool_), np.zeros(1, np.int64)))
    n_stage: int = 0
    #: forward sensitivities' lower Jacobian blocks B_d = d((df/dx) S_d + (df/dp) dp_d)/d(x, t), as the second
    #: derivatives of the ``products`` entries: (entry, column (base state or time), register); the solve forms
    #: B_d z = sum over them of register * z[column] * that entry's source of d (``tape_rodas._block_solve``)
    lower_blocks: tuple[np.ndarray, ...] = field(default_factory=lambda: tuple(np.zeros(0, np.int64) for _ in range(3)))

    def stage_rhs(self) -> tuple[int, tuple[np.ndarray, ...]]:
        """What the integrator's right-hand side needs: the tape prefix it runs, and (rhs_reg, *products)."""
        return (self.n_stage if self.products[0].size else self.n_rhs), (self.rhs_reg, *self.products)

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_delays(self) -> int:
        return int(self.delay_value.shape[0])

    def _d(self, d: np.ndarray | None) -> np.ndarray:
        return np.zeros(self.n_delays) if d is None else d

    def rhs(self, x: np.ndarray, p: np.ndarray | None = None, d: np.ndarray | None = None) -> np.ndarray:
        reg = np.empty(self.tape.size)
        run_tape(self.tape.arrays(), np.asarray(x, float), self.p if p is None else p, self._d(d), reg, self.n_rhs)
        return reg[self.rhs_reg]

    def jacobian(self, x: np.ndarray, p: np.ndarray | None = None, d: np.ndarray | None = None) -> np.ndarray:
        reg = np.empty(self.tape.size)
        run_tape(self.tape.arrays(), np.asarray(x, float), self.p if p is None else p, self._d(d), reg, self.tape.size)
        J = np.zeros((self.n_states, self.n_states))
        np.add.at(J, (self.jac_row, self.jac_col), reg[self.jac_reg])
        return J

    def aux_values(self, x: np.ndarray, p: np.ndarray, d: np.ndarray | None = None) -> np.ndarray:
        """Every aux register at (x, p) with delayed values ``d`` (at the start: the values now)."""
        reg = np.empty(self.aux.size)
        run_tape(self.aux.arrays(), np.asarray(x, float), p, self._d(d), reg, self.aux.size)
        return reg


class _Lowering:
    """Name resolution of one spec onto a tape builder."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        names = {c.id for c in spec.compartments} | set(spec.species_ids) | set(spec.parameter_ids)
        self.names = names
        self.tree = lambda text, where: parse(text, names, where)
        self.assign = {r.variable: self.tree(r.expression, f"assignment rule for {r.variable!r}")
                       for r in spec.rules if r.kind == "assignment"}
        self.rate = {r.variable: self.tree(r.expression, f"rate rule for {r.variable!r}") for r in spec.rules if r.kind == "rate"}
        both = set(self.assign) & set(self.rate)
        if both:
            raise ModelSpecError(f"model {spec.id!r}: {sorted(both)[0]!r} has both an assignment and a rate rule")
        self.species = {s.id: s for s in spec.species}
        self.comp_of = {s.id: s.compartment for s in spec.species}
        states = [s.id for s in spec.species if s.id not in self.assign]
        states += [c.id for c in spec.compartments if c.id in self.rate]
        states += [q.id for q in spec.parameters if q.id in self.rate]
        self.states = [*states, TIME_STATE]
        self.sidx = {s: i for i, s in enumerate(self.states)}
        pnames = [c.id for c in spec.compartments if c.id not in self.sidx and c.id not in self.assign]
        pnames += [q.id for q in spec.parameters if q.id not in self.sidx and q.id not in self.assign]
        self.params = pnames
        self.pidx = {q: j for j, q in enumerate(pnames)}

    def resolver(self, b: TapeBuilder, on_compare=None, on_delay=None):
        memo: dict[str, int] = {}
        active: list[str] = []

        def resolve(name: str) -> int:
            if name in memo:
                return memo[name]
            if name == TIME_STATE:
                return b.x(self.sidx[TIME_STATE])
            if name in active:
                raise ModelSpecError(f"model {self.spec.id!r}: assignment rules form a cycle through {name!r}")
            active.append(name)
            try:
                if name in self.assign:
                    reg = b.lower(self.assign[name], resolve, on_compare, on_delay)
                elif name in self.sidx:
                    reg = b.x(self.sidx[name])
                    sp = self.species.get(name)
                    if sp is not None and sp.only_substance is False:
                        reg = b.node(DIV, reg, resolve(sp.compartment))
                else:
                    reg = b.p(self.pidx[name])
            finally:
                active.pop()
            memo[name] = reg
            return reg

        return resolve


def compile_tape(spec: ModelSpec) -> TapeModel:
    """Lower ``spec`` (validated) to a :class:`TapeModel`; its initial state honours initial assignments and rules."""
    for r in spec.reactions:
        if r.rate_law is not RateLaw.EXPRESSION:
            raise ModelSpecError(f"model {spec.id!r}: reaction {r.id!r} uses template {r.rate_law.value}; "
                                 "models with SBML rules or events take expression rate laws only")
    for e in spec.events:
        if not isinstance(e, TriggerEvent):
            raise ModelSpecError(f"model {spec.id!r}: event {e.id!r} is a {e.kind} event; models with SBML semantics take trigger events only")
    low = _Lowering(spec)
    b = TapeBuilder()
    roots: list[int] = []
    root_seen: set[int] = set()
    slots: list[tuple[Node, Node]] = []

    def on_compare(a: int, c: int) -> None:
        g = b.node(SUB, a, c)
        if (b.depends_on(g) or b.reads_delay(g)) and g not in root_seen:
            root_seen.add(g)
            roots.append(g)

    def on_delay(value: Node, lag: Node) -> int:
        if (value, lag) not in slots:
            slots.append((value, lag))
        return slots.index((value, lag))

    resolve = low.resolver(b, on_compare, on_delay)

    rhs = _rhs_registers(spec, low, b, resolve, on_compare, on_delay)
    events = [e for e in spec.events if isinstance(e, TriggerEvent)]
    for e in events:
        b.lower(low.tree(e.trigger, f"event {e.id!r} trigger"), resolve, on_compare, on_delay)
    n_rhs = len(b.op)
    rows, cols, regs = _jacobian_entries(b, rhs)
    tape, new = b.build([*rhs, *roots, *regs])
    n_rhs = int(new[:n_rhs].max()) + 1 if n_rhs else 0
    rhs, roots, regs = ([int(new[r]) for r in group] for group in (rhs, roots, regs))
    aux, symbol_reg, tevents = _aux_tape(spec, low, events, on_delay)
    delay_tape, delay_value, delay_lag = _delay_tape(spec, low, slots, tevents)
    x0, p0 = _initial_values(spec, low)
    i64 = lambda v: np.asarray(v, np.int64)  # noqa: E731
    return TapeModel(
        model_id=spec.id, digest=spec.digest(), states=low.states, parameters=low.params, x0=x0, p=p0,
        tape=tape, n_rhs=n_rhs, rhs_reg=i64(rhs), root_reg=i64(roots), jac_row=i64(rows), jac_col=i64(cols), jac_reg=i64(regs),
        aux=aux, symbol_reg=symbol_reg, species_compartment=dict(low.comp_of),
        species_only_substance={s.id: bool(s.only_substance) for s in spec.species}, events=tevents,
        delay_tape=delay_tape, delay_value=delay_value, delay_lag=delay_lag,
    )


def _jacobian_entries(b: TapeBuilder, rhs: list[int]) -> tuple[list[int], list[int], list[int]]:
    """(row, column, register) of every structurally nonzero d rhs[i] / d x[k]."""
    rows, cols, regs = [], [], []
    for i, f in enumerate(rhs):
        for k in sorted(b.depends_on(f)):
            d = b.derivative(f, k)
            if b.op[d] != 0 or b.val[d] != 0.0:
                rows.append(i)
                cols.append(k)
                regs.append(d)
    return rows, cols, regs


def _rhs_registers(spec: ModelSpec, low: _Lowering, b: TapeBuilder, resolve, on_compare, on_delay) -> list[int]:
    """Registers of d(state)/dt for every state of ``low`` (in order), lowered onto ``b``."""
    rates = {r.id: b.lower(low.tree(r.rate, f"reaction {r.id!r}"), resolve, on_compare, on_delay) for r in spec.reactions}
    flux: dict[str, int] = {}
    for r in spec.reactions:
        net = {sid: r.products.get(sid, 0.0) - r.reactants.get(sid, 0.0) for sid in {**r.reactants, **r.products}}
        for sid, nu in net.items():
            sp = low.species[sid]
            if sp.boundary or sp.constant or sid in low.rate or sid in low.assign:
                continue
            if sid in r.variable_stoichiometry:
                coef = b.lower(low.tree(r.variable_stoichiometry[sid], f"reaction {r.id!r} stoichiometry of {sid!r}"), resolve,
                               on_compare, on_delay)
                term = b.node(MUL, coef, rates[r.id])
            elif nu == 0.0:
                continue
            else:
                term = b.node(MUL, b.const(nu), rates[r.id])
            flux[sid] = b.node(ADD, flux[sid], term) if sid in flux else term
    rhs: list[int] = []
    for name in low.states:
        if name == TIME_STATE:
            rhs.append(b.const(1.0))
        elif name in low.rate:
            expr = b.lower(low.rate[name], resolve, on_compare, on_delay)
            sp = low.species.get(name)
            if sp is not None and sp.only_substance is False:
                comp = sp.compartment
                if comp in low.assign:
                    raise ModelSpecError(f"model {spec.id!r}: rate rule on concentration {name!r} in compartment {comp!r} "
                                         "whose size an assignment rule sets is not supported")
                size = resolve(comp)
                expr = b.node(MUL, size, expr)
                if comp in low.rate:
                    dV = b.lower(low.rate[comp], resolve, on_compare, on_delay)
                    expr = b.node(ADD, expr, b.node(MUL, resolve(name), dV))
            rhs.append(expr)
        elif name in flux:
            sp = low.species[name]
            cf = sp.conversion_factor or spec.conversion_factor
            rhs.append(b.node(MUL, flux[name], resolve(cf)) if cf else flux[name])
        else:
            rhs.append(b.const(0.0))
    return rhs


def _delay_tape(spec: ModelSpec, low: _Lowering, slots: list[tuple[Node, Node]],
                events: list[TapeEvent]) -> tuple[Tape | None, np.ndarray, np.ndarray]:
    """The tape of every delay slot's value and lag; a lag must not depend on the state or on time."""
    if not slots:
        return None, np.zeros(0, np.int64), np.zeros(0, np.int64)
    b = TapeBuilder()
    resolve = low.resolver(b)
    values, lags = [], []
    changed = {idx for e in events for kind, idx in e.targets if kind == "p"}
    timed = [ia.variable for ia in spec.initial_assignments if _uses_time(low, low.tree(ia.expression, ia.variable))]
    if timed:
        raise ModelSpecError(f"model {spec.id!r}: delay() may reach before the start, where the initial value of {timed[0]!r} "
                             "depends on time; such a past is not supported")
    for value, lag in slots:
        lag_reg = b.lower(lag, resolve)
        if b.depends_on(lag_reg):
            raise ModelSpecError(f"model {spec.id!r}: delay lag {to_text(lag)} changes with the state or time; only lags "
                                 "of parameters and constants are supported")
        values.append(b.lower(value, resolve))
        lags.append(lag_reg)
        if _parameters_used(low, value) & changed:
            raise ModelSpecError(f"model {spec.id!r}: delay({to_text(value)}, ...) reads a parameter that events change; "
                                 "its past values are not kept")
    tape, _ = b.build()
    return tape, np.asarray(values, np.int64), np.asarray(lags, np.int64)


def _uses_time(low: _Lowering, tree: Node) -> bool:
    """Whether a tree reads time(), directly or through assignment rules."""
    from cytonet.model.expr import TIME, to_text as text

    seen: set[str] = set()
    todo = [tree]
    while todo:
        t = todo.pop()
        if text(TIME) in text(t):
            return True
        for name in names_in(t) - seen:
            seen.add(name)
            if name in low.assign:
                todo.append(low.assign[name])
    return False


def _parameters_used(low: _Lowering, tree: Node) -> set[int]:
    """p indices a tree reads, through assignment rules."""
    out: set[int] = set()
    seen: set[str] = set()
    todo = list(names_in(tree))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in low.assign:
            todo.extend(names_in(low.assign[name]))
        elif name in low.pidx:
            out.add(low.pidx[name])
        elif name in low.species and low.species[name].only_substance is False:
            todo.append(low.species[name].compartment)
    return out


def _aux_tape(spec: ModelSpec, low: _Lowering, events: list[TriggerEvent], on_delay) -> tuple[Tape, dict[str, int], list[TapeEvent]]:
    b = TapeBuilder()
    resolve = low.resolver(b, None, on_delay)
    symbols = {name: resolve(name) for name in [*(c.id for c in spec.compartments), *spec.species_ids, *spec.parameter_ids]}
    symbols[TIME_STATE] = resolve(TIME_STATE)
    out = []
    for e in events:
        def lower(text: str, what: str) -> int:
            return b.lower(low.tree(text, f"event {e.id!r} {what}"), resolve, None, on_delay) if text else -1

        targets, values, sizes = [], [], []
        for a in e.assignments:
            if a.target in low.assign:
                raise ModelSpecError(f"model {spec.id!r}: event {e.id!r} assigns {a.target!r}, which an assignment rule sets")
            sp = low.species.get(a.target)
            if a.target in low.sidx:
                kind = "conc" if sp is not None and sp.only_substance is False else "x"
                targets.append((kind, low.sidx[a.target]))
            else:
                targets.append(("p", low.pidx[a.target]))
            values.append(lower(a.expression, f"assignment to {a.target!r}"))
            sizes.append(symbols[sp.compartment] if sp is not None and sp.only_substance is False else -1)
        out.append(TapeEvent(e.id, lower(e.trigger, "trigger"), lower(e.delay, "delay"), lower(e.priority, "priority"),
                             e.persistent, e.initial_value, e.values_at_trigger, targets, values, sizes))
    tape, _ = b.build()
    return tape, symbols, out


def _initial_values(spec: ModelSpec, low: _Lowering) -> tuple[np.ndarray, np.ndarray]:
    """(x0, p0) at t = 0: declared values, then initial assignments and assignment rules in dependency order."""
    env: dict[str, float] = {c.id: c.volume for c in spec.compartments}
    env.update({q.id: q.value for q in spec.parameters})
    env.update({s.id: s.initial for s in spec.species})
    env["time"] = 0.0
    defs: dict[str, Node] = dict(low.assign)
    for ia in spec.initial_assignments:
        defs[ia.variable] = low.tree(ia.expression, f"initial assignment to {ia.variable!r}")
    done: set[str] = set()
    active: list[str] = []

    def value(name: str) -> None:
        if name in done or name not in defs:
            return
        if name in active:
            raise ModelSpecError(f"model {spec.id!r}: initial assignments and rules form a cycle through {name!r}")
        active.append(name)
        for dep in names_in(defs[name]):
            value(dep)
        with np.errstate(all="ignore"):
            env[name] = float(evaluate(defs[name], env))
        active.pop()
        done.add(name)

    for name in defs:
        value(name)
    x0 = np.zeros(len(low.states))
    for i, name in enumerate(low.states):
        if name == TIME_STATE:
            continue
        v = env[name]
        sp = low.species.get(name)
        if sp is not None and sp.only_substance is False:
            v *= env[sp.compartment]
        x0[i] = v
    p0 = np.asarray([env[q] for q in low.params], float)
    return x0, p0


def needs_tape(model: object) -> bool:
    """Whether ``model`` (a spec or a compiled model) runs on the tape engine rather than the factor kernels."""
    from cytonet.model.spec import uses_expressions

    return isinstance(model, TapeModel) or (isinstance(model, ModelSpec) and uses_expressions(model))
