"""Forward-sensitivity tapes: a tape model's states augmented with their derivatives along directions.

For a tape model dx/dt = f(x, p) and ``n`` directions, the sensitivity matrix S = dx/d theta
(states x directions) obeys dS/dt = (df/dx) S + (df/dp) dp/d theta, with S(0) = dx0/d theta. The
augmented model integrates (x, S) together on the same Rosenbrock kernel with its exact Jacobian
[[J, 0], [B_d, J]] (time aside): the tape holds f, J = df/dx, df/dp and the base model's second
derivatives (d(df/dx)/d(x, t), d(df/dp)/d(x, t)), built symbolically from the lowered expression
tree, never from text; the kernel forms J S_d + (df/dp) dp_d and the products B_d z of the lower
blocks from them in compiled loops, so the tape grows with the model, not with the directions,
and one LU of the base-size block serves every direction. ``dp/d theta`` enters as extra constant parameters, so
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
from cytonet.model.tape import SUB, TapeBuilder, scheduled
from cytonet.model.tape_model import TIME_STATE, TapeModel, _jacobian_entries, _Lowering, _rhs_registers, compile_tape


class SensitivityUnsupported(CytonetError):
    """The model has a construct whose forward sensitivities cytonet does not compute."""


@dataclass
class SensitivityModel:
    """A tape model (``base``) and its augmented model over ``directions`` directions."""

    base: TapeModel
    model: TapeModel  # states: base states but time, then S state-major (S[k, d] at n_x + k n + d), then time
    directions: int
    root_parameters: np.ndarray  # p indices the root functions read

    @property
    def n_x(self) -> int:
        """States of the base model, time excluded."""
        return self.base.n_states - 1

    def augmented_start(self, x0: np.ndarray, p: np.ndarray, sx0: np.ndarray, sp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, p) of the augmented model from base (x0, p), S(0) = ``sx0`` (n_x, n) and dp/d theta = ``sp`` (n_p, n)."""
        x = np.concatenate([x0[:-1], np.asarray(sx0, float).ravel(), x0[-1:]])
        return x, np.concatenate([p, np.asarray(sp, float).ravel()])

    def split(self, xa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Base states (..., n_x + 1) and S (..., n_x, n) of augmented states (..., n_aug)."""
        n_x, n = self.n_x, self.directions
        x = np.concatenate([xa[..., :n_x], xa[..., -1:]], axis=-1)
        return x, xa[..., n_x:n_x + n_x * n].reshape(*xa.shape[:-1], n_x, n)


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
    zero = b.const(0.0)  # the sensitivity rows' register: their values are the products'
    n_stage_raw = len(b.op)
    # S is stored state-major (S[k, d] at x[n_x + k n + d]), as dp/d theta is in p, so every product
    # (df_i/dx_k) S[k, :] or (df_i/dp_j) dp_j/d theta runs over the n directions in consecutive memory
    first = []  # (row of direction 0, register, source of direction 0, source is a parameter)
    for i in range(n_x):
        first += [(n_x + i * n, dk, n_x + k * n, False) for k, dk in dfx[i]]
        first += [(n_x + i * n, dj, n_p + j * n, True) for j, dj in dfp[i]]
    # the lower blocks B_d = d((df/dx) S_d + (df/dp) dp_d)/d(x, t): every first-derivative entry's own derivatives,
    # which the solve contracts with S or dp/d theta (never one copy per direction on the tape)
    second: list[tuple[int, int, int]] = []  # (first-derivative entry, column (a base state or time), register)
    for e, (_, r1, _, _) in enumerate(first):
        for k in sorted(b.depends_on(r1)):
            r2 = b.derivative(r1, k)
            if b.op[r2] != 0 or b.val[r2] != 0.0:
                second.append((e, k, r2))
    aug = [*rhs[:n_x], *([zero] * (n_x * n)), rhs[n_x]]
    n_rhs_raw = len(b.op)
    rows, cols, regs = _jacobian_entries(b, rhs[:n_x])  # the base rows; their columns: base states and time
    tape, new = b.build([*aug, *roots, *regs, *(e[1] for e in first), *(e[2] for e in second)])
    n_rhs = int(new[:n_rhs_raw].max()) + 1
    n_stage = int(new[:n_stage_raw].max()) + 1
    tape, order = scheduled(tape, [n_stage, n_rhs])  # the stages' and the right-hand side's prefixes stay prefixes
    new = np.where(new >= 0, order[np.maximum(new, 0)], -1)
    aug, roots_new, regs = ([int(new[r]) for r in group] for group in (aug, roots, regs))
    i64 = lambda v: np.asarray(v, np.int64)  # noqa: E731
    products = (i64([e[0] for e in first]), i64([int(new[e[1]]) for e in first]), i64([e[2] for e in first]),
                np.asarray([e[3] for e in first], np.bool_), i64([n]))
    lower = (i64([e[0] for e in second]), i64([e[1] for e in second]), i64([int(new[e[2]]) for e in second]))
    root_params = sorted({j for g in roots for j in b.depends_on_parameters(g)})
    names = [*low.states[:n_x], *(f"d{low.states[k]}/d{d}" for k in range(n_x) for d in range(n)), TIME_STATE]
    pnames = [*low.params, *(f"d{low.params[j]}/d{d}" for j in range(n_p) for d in range(n))]
    x0, p0 = (np.concatenate([base.x0[:-1], np.zeros(n_x * n), base.x0[-1:]]),
              np.concatenate([base.p, np.zeros(n_p * n)]))
    model = TapeModel(
        model_id=f"{spec.id}+sensitivities", digest=base.digest, states=names, parameters=pnames, x0=x0, p=p0,
        tape=tape, n_rhs=n_rhs, rhs_reg=i64(aug), root_reg=i64(roots_new), jac_row=i64(rows), jac_col=i64(cols),
        jac_reg=i64(regs), aux=base.aux, symbol_reg=base.symbol_reg, species_compartment=base.species_compartment,
        species_only_substance=base.species_only_substance, block=n_x, products=products, n_stage=n_stage,
        lower_blocks=lower,
    )
    return SensitivityModel(base, model, n, i64(root_params))

