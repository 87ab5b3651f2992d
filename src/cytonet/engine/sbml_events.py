"""Run a tape model: a Rosenbrock method between events, SBML event semantics applied in Python in between.

The kernel (:mod:`cytonet.engine.tape_rodas`) stops at every sign change of a root function and
at every scheduled execution time. Here, at each stop:

1. every trigger is evaluated; a false -> true transition schedules the event at t + delay
   (assignment values computed now if ``values_at_trigger``); a true -> false transition drops
   the pending executions of a non-persistent event;
2. among the executions due now, the one of highest priority (evaluated now; ties in document
   order, equal priorities at random) is executed: all its values are computed first, then assigned (a concentration target
   sets amount = value x the compartment's size before the event);
3. back to 1 until nothing is due, so events that others trigger with no delay run at the same time.

At t = 0 a trigger's previous value is its ``initial_value``. Outputs at an event time hold the
values after the event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cytonet.engine import rodas
from cytonet.engine.tableaus import TAPE_METHOD, Method
from cytonet.engine.tape_rodas import (
    HISTORY_FULL, J_H, J_ROOT_LO, J_STEPS, N_INFO, REACHED, ROOT, delayed_rows, delayed_values, integrate,
)
from cytonet.errors import SolverError
from cytonet.model.tape import run_tape, run_tape_rows
from cytonet.model.tape_model import TapeEvent, TapeModel

MAX_EVENTS_AT_ONE_TIME = 10_000


@dataclass
class _Pending:
    time: float
    event: int
    values: list[float] | None
    order: int


@dataclass
class TapeRun:
    """States and parameter vectors at the output times, and solver counts."""

    x: np.ndarray  # (time, states)
    p: np.ndarray  # (time, parameters)
    steps: int
    events_fired: int
    history: tuple = ()  # accepted steps, read by delay() (see tape_rodas.past_state)


class History:
    """Growable record of accepted steps for ``delay()``; empty arrays when a model has no delays."""

    def __init__(self, x0: np.ndarray, capacity: int) -> None:
        n = x0.shape[0]
        self.arrays = (np.zeros(capacity), np.zeros(capacity), np.zeros((capacity, n)), np.zeros((capacity, n)),
                       np.zeros((capacity, 3, n)), np.zeros(1, np.int64), x0.copy())

    def grow(self) -> None:
        old = self.arrays
        cap = 2 * old[0].shape[0]
        grown = [np.zeros((cap, *a.shape[1:])) for a in old[:5]]
        for g, a in zip(grown, old[:5]):
            g[:a.shape[0]] = a
        self.arrays = (*grown, old[5], old[6])


def delay_arrays(tm: TapeModel) -> tuple:
    """``D`` of the kernels: (delay tape, value registers, lag registers); empty when the model has no delays."""
    if tm.delay_tape is None:
        empty = (np.zeros(0, np.int64),) * 4 + (np.zeros(0),)
        return (empty, tm.delay_value, tm.delay_lag)
    return (tm.delay_tape.arrays(), tm.delay_value, tm.delay_lag)


def delayed_now(tm: TapeModel, x: np.ndarray, p: np.ndarray, history: tuple) -> np.ndarray:
    d = np.zeros(tm.n_delays)
    if tm.n_delays:
        delayed_values(delay_arrays(tm), x, p, history, d)
    return d


class _Events:
    def __init__(self, tm: TapeModel, x: np.ndarray, p: np.ndarray, seed: int, history: History) -> None:
        self.tm, self.x, self.p, self.history = tm, x, p, history
        self.prev = [e.initial_value for e in tm.events]
        self.pending: list[_Pending] = []
        self.order = 0
        self.fired = 0
        self.seed = seed
        self._rng: np.random.Generator | None = None  # made on the first tie (costs more than a short run's events)

    def next_time(self) -> float:
        return min((q.time for q in self.pending), default=np.inf)

    def process(self, t_trigger: float) -> None:
        if not self.tm.events:
            return
        t = self.x[-1]
        for _ in range(MAX_EVENTS_AT_ONE_TIME):
            aux = self.aux()
            for i, e in enumerate(self.tm.events):
                now = bool(aux[e.trigger] != 0.0)
                if now and not self.prev[i]:
                    self._schedule(i, e, aux, t_trigger)
                elif not now and self.prev[i] and not e.persistent:
                    self.pending = [q for q in self.pending if q.event != i]
                self.prev[i] = now
            due = [q for q in self.pending if q.time <= t]
            if not due:
                return
            best = self._pick(due, aux)
            self.pending.remove(best)
            self._execute(best, aux)
            t_trigger = t  # triggers that the assignments flip turn true now
        raise SolverError(f"model {self.tm.model_id!r}: more than {MAX_EVENTS_AT_ONE_TIME} events at t = {t:g}; "
                          "events keep triggering each other")

    def aux(self) -> np.ndarray:
        return self.tm.aux_values(self.x, self.p, delayed_now(self.tm, self.x, self.p, self.history.arrays))

    def _priority(self, q: _Pending, aux: np.ndarray) -> float:
        reg = self.tm.events[q.event].priority
        return float(aux[reg]) if reg >= 0 else -np.inf

    def _pick(self, due: list[_Pending], aux: np.ndarray) -> _Pending:
        """Highest priority first; among equal priorities chosen at random (seeded), without priorities in document order."""
        pr = [self._priority(q, aux) for q in due]
        top = max(pr)
        tied = [q for q, v in zip(due, pr) if v == top]
        if len(tied) == 1 or top == -np.inf:
            return min(tied, key=lambda q: q.order)
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        return tied[int(self._rng.integers(len(tied)))]

    def _schedule(self, i: int, e: TapeEvent, aux: np.ndarray, t: float) -> None:
        delay = float(aux[e.delay]) if e.delay >= 0 else 0.0
        if not delay >= 0:
            raise SolverError(f"model {self.tm.model_id!r}: event {e.id!r} has delay {delay} at t = {t:g}; delays must be >= 0")
        values = [float(aux[r]) for r in e.values] if e.values_at_trigger else None
        self.pending.append(_Pending(t + delay, i, values, self.order))
        self.order += 1

    def _execute(self, q: _Pending, aux: np.ndarray) -> None:
        e = self.tm.events[q.event]
        values = q.values if q.values is not None else [float(aux[r]) for r in e.values]
        for (kind, idx), v in zip(e.targets, values):
            if kind == "p":
                self.p[idx] = v
            elif kind == "x":
                self.x[idx] = v
        for (kind, idx), v, size in zip(e.targets, values, e.sizes):
            if kind == "conc":
                self.x[idx] = v * aux[size]
        self.fired += 1


def run_tape_model(tm: TapeModel, t_out: np.ndarray, rtol: float, atol: np.ndarray, max_steps: int,
                   x0: np.ndarray | None = None, p0: np.ndarray | None = None, seed: int = 0,
                   kernel: Callable[..., tuple[int, int]] = integrate, method: Method = TAPE_METHOD) -> TapeRun:
    """Integrate from t = 0 to ``t_out[-1]`` with events; raises ``SolverError`` on numerical failure.

    ``seed`` drives the random choice among simultaneous events of equal priority; ``kernel``: the interpreted
    ``integrate`` or the model's generated one (:func:`cytonet.engine.tape_codegen.kernel`); ``method``: a tableau of
    :mod:`cytonet.engine.tableaus`.
    """
    x = (tm.x0 if x0 is None else x0).astype(float).copy()
    p = (tm.p if p0 is None else p0).astype(float).copy()
    x[-1] = 0.0
    nt = t_out.shape[0]
    out = np.full((nt, tm.n_states), np.nan)
    P = np.full((nt, len(tm.parameters)), np.nan)
    history = History(x, 4096 if tm.n_delays else 0)
    D = delay_arrays(tm)
    ev = _Events(tm, x, p, seed, history)
    info = np.zeros(N_INFO)
    T = tm.tape.arrays()
    n_stage, R = tm.stage_rhs()
    t_end = float(t_out[-1])
    io, h = 0, 0.0
    # a trigger crossing zero twice within one step would go unseen: with events, no step spans two output intervals
    # (roots of the rates' own comparisons only restart the step control at a discontinuity)
    h_max = float(np.min(np.diff(t_out))) if (tm.events and nt > 1) else np.inf
    if tm.n_delays:  # a step may not reach past its own start when it reads the past
        dreg = np.empty(tm.delay_tape.size)
        run_tape(tm.delay_tape.arrays(), x, p, np.zeros(tm.n_delays), dreg, tm.delay_tape.size)
        lags = dreg[tm.delay_lag]
        if np.any(lags < 0):
            raise SolverError(f"model {tm.model_id!r}: a delay() has a negative lag ({lags.min():g})")
        if np.any(lags > 0):
            h_max = min(h_max, float(lags[lags > 0].min()))
    ev.process(0.0)
    while True:
        while io < nt and t_out[io] <= x[-1]:
            out[io], P[io] = x, p
            io += 1
        if x[-1] >= t_end:
            break
        t_stop = min(t_end, ev.next_time())
        start = io
        status, io = kernel(x, p, t_stop, t_out, io, out, T, n_stage, R, tm.root_reg,
                            tm.jac_row, tm.jac_col, tm.jac_reg, D, history.arrays, rtol, atol, h, h_max, max_steps, info,
                            tm.block, tm.lower_blocks, method)
        P[start:io] = p
        if status == HISTORY_FULL:
            history.grow()
            h = info[J_H]
            continue
        if status not in (REACHED, ROOT):
            raise SolverError(f"model {tm.model_id!r}: " + _failure(status, x[-1], max_steps, rtol))
        h = info[J_H]
        # a trigger found by root finding turned true within [bracket low end, t]: delays count from the low end,
        # so an execution due at an output time is not pushed past it by the bracket's width; outputs inside the
        # bracket belong to the event time and hold the values after it
        fired = ev.fired
        t_lo = info[J_ROOT_LO] if status == ROOT else x[-1]
        ev.process(t_lo)
        if ev.fired > fired:
            for r in range(start, io):
                if t_out[r] >= t_lo:
                    out[r], P[r] = x, p
    return TapeRun(out, P, int(info[J_STEPS]), ev.fired, history.arrays)


def _failure(status: int, t: float, max_steps: int, rtol: float) -> str:
    if status == rodas.NONFINITE:
        return f"a state became non-finite or exploded (|x| > 1e250) at t = {t:.6g}; check the model's rates"
    if status == rodas.MAX_STEPS:
        return f"more than max_steps={max_steps} steps between events by t = {t:.6g}; raise max_steps or loosen rtol/atol"
    return f"step size underflow at t = {t:.6g} (rtol={rtol:g}); the solution may blow up there; try a looser rtol/atol"


def symbol_values(tm: TapeModel, run: TapeRun, names: list[str]) -> np.ndarray:
    """Values (time, names) of species (in their own sense), compartments and parameters along a run."""
    regs = np.asarray([tm.symbol_reg[n] for n in names], np.int64)
    out = np.empty((run.x.shape[0], len(names)))
    d = np.zeros((run.x.shape[0], tm.n_delays))
    if tm.n_delays:
        delayed_rows(delay_arrays(tm), run.x, run.p, run.history, d)
    run_tape_rows(tm.aux.arrays(), run.x, run.p, d, regs, out)
    return out
