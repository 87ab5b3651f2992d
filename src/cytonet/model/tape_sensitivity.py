"""Forward-sensitivity tapes: a tape model's states augmented with their derivatives along directions.

For a tape model dx/dt = f(x, p) and ``n`` directions, the sensitivity matrix S = dx/d theta
(states x directions) obeys dS/dt = (df/dx) S + (df/dp) dp/d theta, with S(0) = dx0/d theta. The
augmented model integrates (x, S) together on the same Rodas4 kernel: its right-hand side and its
exact Jacobian (second derivatives of f included) are built symbolically on the tape from the
lowered expression tree, never from text. ``dp/d theta`` enters as extra constant parameters, so
one compiled model serves any mapping of estimated parameters onto model parameters and initial
values. Time stays the last state (its sensitivity is zero and not carried).

Refused (:class:`SensitivityUnsupported`, with the reason): trigger events (state jumps need
sensitivity jump conditions), ``delay()``, and root functions of the rates' own comparisons that
depend on a state other than time (a switching time that moves with the parameters). Roots in time
that read parameters are allowed; the runner refuses them when a direction moves those parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cytonet.errors import CytonetError
from cytonet.model.spec import ModelSpec
from cytonet.model.tape import ADD, MUL, SUB, TapeBuilder
from cytonet.model.tape_model import TIME_STATE, TapeModel, _jacobian_entries, _Lowering, _rhs_registers, compile_tape


class SensitivityUnsupported(CytonetError):
    """The model has a construct whose forward sensitivities cytonet does not compute."""


@dataclass
class SensitivityModel:
    """A tape model (``base``) and its augmented model over ``directions`` directions."""

    base: TapeModel
    model: TapeModel  # states: base states but time, then S (one block of n_x per direction), then time
    directions: int
    root_parameters: np.ndarray  # p indices the root functions read

    @property
    def n_x(self) -> int:
        """States of the base model, time excluded."""
        return self.base.n_states - 1

    def augmented_start(self, x0: np.ndarray, p: np.ndarray, sx0: np.ndarray, sp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, p) of the augmented model from base (x0, p), S(0) = ``sx0`` (n_x, n) and dp/d theta = ``sp`` (n_p, n)."""
        x = np.concatenate([x0[:-1], np.asarray(sx0, float).T.ravel(), x0[-1:]])
        return x, np.concatenate([p, np.asarray(sp, float).ravel()])

    def split(self, xa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Base states (..., n_x + 1) and S (..., n_x, n) of augmented states (..., n_aug)."""
        n_x, n = self.n_x, self.directions
        x = np.concatenate([xa[..., :n_x], xa[..., -1:]], axis=-1)
        return x, np.swapaxes(xa[..., n_x:n_x + n_x * n].reshape(*xa.shape[:-1], n, n_x), -1, -2)


def compile_sensitivities(spec: ModelSpec, directions: int, base: TapeModel | None = None) -> SensitivityModel:
    """Lower ``spec`` with forward sensitivities along ``directions`` directions."""
    base = compile_tape(spec) if base is None else base
    if base.events:
        raise SensitivityUnsupported(f"model {spec.id!r} has events ({base.events[0].id!r}); their sensitivity jumps are not computed")
    if base.n_delays:
        raise SensitivityUnsupported(f"model {spec.id!r} uses delay(); sensitivities of delay equations are not computed")
    if directions < 1:
        raise SensitivityUnsupported("forward sensitivities need at least one direction")
    low = _Lowering(spec)
    n_x, n_p, n = len(low.states) - 1, len(low.params), directions
    time_index = n_x + n_x * n
    low.sidx = {**low.sidx, TIME_STATE: time_index}
    b = TapeBuilder()
    roots: list[int] = []

    def on_compare(a: int, c: int) -> None:
        g = b.node(SUB, a, c)
        if b.depends_on(g) and g not in roots:
            roots.append(g)

    resolve = low.resolver(b, on_compare, None)
    rhs = _rhs_registers(spec, low, b, resolve, on_compare, None)
    moving = sorted({k for g in roots for k in b.depends_on(g)} - {time_index})
    if moving:
        raise SensitivityUnsupported(f"model {spec.id!r}: a switch in its rates depends on state {low.states[moving[0]]!r}; "
                                     "the switching time's sensitivity is not computed")
    # every df/dx and df/dp register first: the stages run the tape up to them and sum the products outside it
    dfx = [[(k, b.derivative(rhs[i], k)) for k in sorted(b.depends_on(rhs[i])) if k != time_index] for i in range(n_x)]
    dfp = [[(j, b.parameter_derivative(rhs[i], j)) for j in sorted(b.depends_on_parameters(rhs[i]))] for i in range(n_x)]
    n_stage_raw = len(b.op)
    sens: list[int] = [-1] * (n_x * n)
    prod: list[tuple[int, int, int, bool]] = []  # (row, register, source, source is a parameter), in the tape's order
    for i in range(n_x):
        for d in range(n):
            acc = b.const(0.0)
            row = n_x + d * n_x + i
            for k, dk in dfx[i]:
                acc = b.node(ADD, acc, b.node(MUL, dk, b.x(n_x + d * n_x + k)))
                prod.append((row, dk, n_x + d * n_x + k, False))
            for j, dj in dfp[i]:
                acc = b.node(ADD, acc, b.node(MUL, dj, b.p(n_p + j * n + d)))
                prod.append((row, dj, n_p + j * n + d, True))
            sens[d * n_x + i] = acc
    aug = [*rhs[:n_x], *sens, rhs[n_x]]
    n_rhs_raw = len(b.op)
    rows, cols, regs = _jacobian_entries(b, aug)
    tape, new = b.build([*aug, *roots, *regs])
    n_rhs = int(new[:n_rhs_raw].max()) + 1
    n_stage = int(new[:n_stage_raw].max()) + 1
    aug, roots_new, regs = ([int(new[r]) for r in group] for group in (aug, roots, regs))
    i64 = lambda v: np.asarray(v, np.int64)  # noqa: E731
    prod.sort(key=lambda e: e[0])  # stable: each row's terms keep the tape's order, so the sums are the tape's
    products = (i64([e[0] for e in prod]), i64([int(new[e[1]]) for e in prod]), i64([e[2] for e in prod]),
                np.asarray([e[3] for e in prod], np.bool_))
    root_params = sorted({j for g in roots for j in b.depends_on_parameters(g)})
    names = [*low.states[:n_x], *(f"d{low.states[k]}/d{d}" for d in range(n) for k in range(n_x)), TIME_STATE]
    pnames = [*low.params, *(f"d{low.params[j]}/d{d}" for j in range(n_p) for d in range(n))]
    x0, p0 = (np.concatenate([base.x0[:-1], np.zeros(n_x * n), base.x0[-1:]]),
              np.concatenate([base.p, np.zeros(n_p * n)]))
    model = TapeModel(
        model_id=f"{spec.id}+sensitivities", digest=base.digest, states=names, parameters=pnames, x0=x0, p=p0,
        tape=tape, n_rhs=n_rhs, rhs_reg=i64(aug), root_reg=i64(roots_new), jac_row=i64(rows), jac_col=i64(cols),
        jac_reg=i64(regs), aux=base.aux, symbol_reg=base.symbol_reg, species_compartment=base.species_compartment,
        species_only_substance=base.species_only_substance, block=n_x if _block_triangular(rows, cols, n_x) else 0,
        products=products, n_stage=n_stage,
    )
    return SensitivityModel(base, model, n, i64(root_params))


def _block_triangular(rows: list[int], cols: list[int], n_x: int) -> bool:
    """Whether every Jacobian entry of a sensitivity block reads the states, its own block or time only."""
    end = max([*rows, *cols, 0])  # time is the last state
    for r, c in zip(rows, cols):
        if r >= n_x and r != end and c >= n_x and c != end and (r - n_x) // n_x != (c - n_x) // n_x:
            return False
        if r < n_x and n_x <= c < end:
            return False
    return True
