"""Lower a ``ModelSpec`` to plain arrays: every reaction rate is a product of factors.

    v_r = k_r * prod_i f_i(x[s_i]; K_i, n_i)        dx/dt = N v + u(t)

with ``k_r = scale_r * p[kidx_r] ** kpow_r`` (``kpow`` = -1 gives the transit rate stages/tau of a
delay chain). Factor kinds are the small integer codes below. Right-hand side and analytic
Jacobian are numba kernels over these arrays, so one compiled kernel serves every model.

Conventions that the SBML export reproduces exactly:

- Hill-type factors (HILL_ACT, HILL_INH, BASAL_ACT) read ``max(x, 0)`` so a tiny negative
  excursion of the integrator never yields NaN from a fractional power.
- ``regulated`` multiplies k, reactants**stoich, modifiers (linearly) and the regulator terms.
- ``delay_chain`` X -> Y with ``stages`` = n adds transit species ``<reaction>_transit1..n``;
  every one of the n+1 transitions runs at rate n/tau, so the mean time from leaving X to
  arriving in Y is exactly tau (Erlang(n, n/tau) transit).
- Inputs (infusions, piecewise inputs) are zero-order fluxes, constant between breakpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

from cytonet.errors import ModelSpecError, did_you_mean
from cytonet.model.expr import Node, parse
from cytonet.model.spec import (
    Bolus,
    Infusion,
    ModelSpec,
    PiecewiseInput,
    RateLaw,
    Reaction,
    RegulatorKind,
    ThresholdEvent,
)

POWER, HILL_ACT, HILL_INH, SAT, CAP, BASAL_ACT = 0, 1, 2, 3, 4, 5
FACTOR_NAMES = ("POWER", "HILL_ACT", "HILL_INH", "SAT", "CAP", "BASAL_ACT")
_REGULATOR_CODE = {
    RegulatorKind.LINEAR: POWER,
    RegulatorKind.HILL_ACTIVATION: HILL_ACT,
    RegulatorKind.HILL_INHIBITION: HILL_INH,
    RegulatorKind.SATURATION: SAT,
    RegulatorKind.CAPACITY: CAP,
    RegulatorKind.ACTIVATION_WITH_BASAL: BASAL_ACT,
}
OP_SET, OP_ADD, OP_MUL = 0, 1, 2
_OPS = {"set": OP_SET, "add": OP_ADD, "multiply": OP_MUL}


@dataclass(frozen=True)
class Factor:
    kind: int
    species: int
    nu: float = 1.0  # exponent of POWER
    K: int = -1  # parameter index of K
    n: int = -1  # parameter index of a Hill coefficient
    b: int = -1  # parameter index of a basal fraction


@dataclass(frozen=True)
class FactorReaction:
    """One lowered rate: ``scale * p[k] ** kpow * prod(factors)`` with its stoichiometry."""

    name: str
    source: str  # spec reaction id
    k: int
    factors: tuple[Factor, ...]
    stoich: dict[int, float]
    kpow: float = 1.0
    scale: float = 1.0


@dataclass
class CompiledModel:
    """A spec lowered to numpy arrays (picklable, cheap to build); see the module docstring."""

    model_id: str
    digest: str
    species: list[str]
    species_units: list[str]
    parameters: list[str]
    x0: np.ndarray
    p: np.ndarray
    # reactions (CSR over factors and over stoichiometry)
    reaction_names: list[str]
    r_k: np.ndarray
    r_kpow: np.ndarray
    r_scale: np.ndarray
    f_ptr: np.ndarray
    f_kind: np.ndarray
    f_species: np.ndarray
    f_nu: np.ndarray
    f_K: np.ndarray
    f_n: np.ndarray
    f_b: np.ndarray
    s_ptr: np.ndarray
    s_species: np.ndarray
    s_coef: np.ndarray
    # events
    bolus_ids: list[str]
    bolus_time: np.ndarray
    bolus_species: np.ndarray
    bolus_amount: np.ndarray
    infusion_ids: list[str]  # one row per constant-rate segment; piecewise inputs give several
    inf_start: np.ndarray
    inf_end: np.ndarray
    inf_species: np.ndarray
    inf_rate: np.ndarray
    threshold_ids: list[str]
    th_species: np.ndarray
    th_value: np.ndarray
    th_dir: np.ndarray  # +1 rising (x >= value becomes true), -1 falling (x <= value)
    th_ptr: np.ndarray
    a_is_param: np.ndarray
    a_target: np.ndarray
    a_op: np.ndarray
    a_value: np.ndarray
    observables: dict[str, Node] = field(default_factory=dict)
    observable_units: dict[str, str] = field(default_factory=dict)
    factor_reactions: list[FactorReaction] = field(default_factory=list)

    @property
    def n_species(self) -> int:
        return len(self.species)

    def species_index(self, sid: str) -> int:
        return _index(self.species, sid, "species", self.model_id)

    def parameter_index(self, pid: str) -> int:
        return _index(self.parameters, pid, "parameter", self.model_id)

    @property
    def n_reactions(self) -> int:
        return len(self.r_k)

    def rhs(self, x: np.ndarray, t: float = 0.0, p: np.ndarray | None = None) -> np.ndarray:
        """dx/dt at state ``x`` and time ``t`` (inputs included)."""
        out = np.zeros(self.n_species)
        rhs_kernel(np.asarray(x, float), input_at(self, t), self.constants(p), self.kernel_arrays(), out)
        return out

    def jacobian(self, x: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
        """Analytic d(dx/dt)/dx at ``x`` (dense)."""
        n = self.n_species
        rows, cols = self.jacobian_entries()
        out = np.zeros(n * n)
        jac_kernel(np.asarray(x, float), self.constants(p), self.kernel_arrays(), rows * n + cols, out)
        return out.reshape(n, n)

    def kernel_arrays(self) -> tuple[np.ndarray, ...]:
        """The reaction structure in the order the kernels take it (``S`` of the kernels)."""
        return (self.f_ptr, self.f_kind, self.f_species, self.f_nu, self.s_ptr, self.s_species, self.s_coef)

    def parameter_arrays(self) -> tuple[np.ndarray, ...]:
        """Where rate constants and factor parameters come from in ``p`` (``Q`` of :func:`prepare`)."""
        return (self.r_k, self.r_kpow, self.r_scale, self.f_K, self.f_n, self.f_b)

    def constants(self, p: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Per-run constants ``C`` = (k_r, K, n, b, K**n) of the kernels at parameters ``p``."""
        C = new_constants(self.n_reactions, len(self.f_kind))
        prepare(self.p if p is None else np.asarray(p, float), self.parameter_arrays(), C)
        return C

    def jacobian_entries(self) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every term :func:`jac_kernel` adds, in the order it adds them."""
        rows, cols = [], []
        for r in range(self.n_reactions):
            st = self.s_species[self.s_ptr[r]:self.s_ptr[r + 1]]
            for j in range(self.f_ptr[r], self.f_ptr[r + 1]):
                rows.extend(st)
                cols.extend([self.f_species[j]] * len(st))
        return np.asarray(rows, np.int64), np.asarray(cols, np.int64)


def _index(names: list[str], name: str, kind: str, model: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        hint = did_you_mean(name, names)
        raise ModelSpecError(f"model {model!r}: unknown {kind} {name!r}{hint}") from None


def input_at(cm: CompiledModel, t: float) -> np.ndarray:
    """The input vector u(t) (right-continuous: an infusion is on over [start, end))."""
    u = np.zeros(cm.n_species)
    for i in range(len(cm.inf_start)):
        if cm.inf_start[i] <= t < cm.inf_end[i]:
            u[cm.inf_species[i]] += cm.inf_rate[i]
    return u


def _lower(r: Reaction, sidx: dict[str, int], pidx: dict[str, int], transit: list[str]) -> list[FactorReaction]:
    law = r.rate_law
    P = {role: pidx[pid] for role, pid in r.params.items()}
    stoich: dict[int, float] = {}
    for s, nu in r.reactants.items():
        stoich[sidx[s]] = stoich.get(sidx[s], 0.0) - nu
    for s, nu in r.products.items():
        stoich[sidx[s]] = stoich.get(sidx[s], 0.0) + nu
    stoich = {k: v for k, v in stoich.items() if v != 0.0}
    mass = tuple(Factor(POWER, sidx[s], nu) for s, nu in r.reactants.items())
    mods = tuple(Factor(POWER, sidx[s]) for s in r.modifiers)
    subject = sidx[next(iter([*r.reactants, *r.modifiers]))] if (r.reactants or r.modifiers) else -1

    def one(k: int, factors: tuple[Factor, ...]) -> list[FactorReaction]:
        return [FactorReaction(r.id, r.id, k, factors, stoich)]

    if law is RateLaw.MASS_ACTION:
        return one(P["k"], mass + mods)
    if law is RateLaw.CONSTANT:
        return one(P["k"], ())
    if law is RateLaw.FIRST_ORDER:
        return one(P["k"], (Factor(POWER, subject),))
    if law is RateLaw.MICHAELIS_MENTEN:
        return one(P["vmax"], (Factor(SAT, subject, K=P["km"]),))
    if law in (RateLaw.HILL_ACTIVATION, RateLaw.HILL_INHIBITION):
        code = HILL_ACT if law is RateLaw.HILL_ACTIVATION else HILL_INH
        return one(P["k"], (Factor(code, sidx[r.modifiers[0]], K=P["K"], n=P["n"]),))
    if law is RateLaw.REGULATED:
        regs = tuple(
            Factor(_REGULATOR_CODE[g.kind], sidx[g.species], K=P_.get("K", -1), n=P_.get("n", -1), b=P_.get("basal", -1))
            for g in r.regulators
            for P_ in [{role: pidx[pid] for role, pid in g.params.items()}]
        )
        return one(P["k"], mass + mods + regs)
    if law is RateLaw.BINDING:
        # v = kon*L*R - koff*C: stoichiometries scale what is consumed/produced (unit conversions), not the order
        (cplx, _), = r.products.items()
        rev = {k: -v for k, v in stoich.items()}
        return [
            FactorReaction(f"{r.id}_fwd", r.id, P["kon"], tuple(Factor(POWER, sidx[s]) for s in r.reactants), stoich),
            FactorReaction(f"{r.id}_rev", r.id, P["koff"], (Factor(POWER, sidx[cplx]),), rev),
        ]
    if law is RateLaw.LOGISTIC:
        return one(P["r"], (Factor(POWER, subject), Factor(CAP, subject, K=P["K"])))
    # delay chain: X -> T1 -> ... -> Tn -> Y, each at rate n / tau
    (x, nux), = r.reactants.items()
    (y, nuy), = r.products.items()
    chain = [sidx[x]]
    for i in range(1, r.stages + 1):
        name = f"{r.id}_transit{i}"
        transit.append(name)
        chain.append(sidx[name])
    out = []
    for i, src in enumerate(chain):
        if i < len(chain) - 1:
            st = {src: -nux if i == 0 else -1.0, chain[i + 1]: 1.0}
        else:
            st = {src: -1.0 if i else -nux, sidx[y]: nuy}
        out.append(FactorReaction(f"{r.id}_stage{i}", r.id, P["tau"], (Factor(POWER, src),), st,
                                  kpow=-1.0, scale=float(r.stages)))
    return out


def compile_model(spec: ModelSpec) -> CompiledModel:
    """Lower ``spec`` (validated) to a :class:`CompiledModel`."""
    species = spec.species_ids
    units = [s.unit for s in spec.species]
    comp_of = {s.id: s for s in spec.species}
    for r in spec.reactions:
        if r.rate_law is RateLaw.DELAY_CHAIN:
            (x, _), = r.reactants.items()
            for i in range(1, r.stages + 1):
                name = f"{r.id}_transit{i}"
                if name in comp_of:
                    raise ModelSpecError(f"model {spec.id!r}: species {name!r} clashes with a transit state of delay chain {r.id!r}; rename it")
                species.append(name)
                units.append(comp_of[x].unit)
    sidx = {s: i for i, s in enumerate(species)}
    pidx = {p: i for i, p in enumerate(spec.parameter_ids)}
    x0 = np.zeros(len(species))
    for s in spec.species:
        x0[sidx[s.id]] = s.initial
    frs: list[FactorReaction] = []
    for r in spec.reactions:
        frs.extend(_lower(r, sidx, pidx, []))

    boluses = [e for e in spec.events if isinstance(e, Bolus)]
    segs: list[tuple[str, float, float, int, float]] = []
    for e in spec.events:
        if isinstance(e, Infusion):
            segs.append((e.id, e.start, e.end, sidx[e.target], e.rate))
        elif isinstance(e, PiecewiseInput):
            ends = [*e.times[1:], np.inf]
            segs.extend((e.id, a, b, sidx[e.target], rt) for a, b, rt in zip(e.times, ends, e.rates))
    ths = [e for e in spec.events if isinstance(e, ThresholdEvent)]
    th_ptr = np.zeros(len(ths) + 1, np.int64)
    assigns = []
    for j, e in enumerate(ths):
        th_ptr[j + 1] = th_ptr[j] + len(e.assignments)
        for a in e.assignments:
            is_p = a.target not in sidx
            assigns.append((is_p, pidx[a.target] if is_p else sidx[a.target], _OPS[a.op], a.value))

    names = set(species) | set(pidx)
    observables = {o.id: parse(o.expression, names, f"observable {o.id!r}") for o in spec.observables}
    return assemble(
        spec.id, spec.digest(), species, units, spec.parameter_ids, x0, [q.value for q in spec.parameters], frs,
        bolus_ids=[e.id for e in boluses],
        bolus_time=_f64([e.time for e in boluses]),
        bolus_species=_i64([sidx[e.target] for e in boluses]),
        bolus_amount=_f64([e.amount for e in boluses]),
        infusion_ids=[s[0] for s in segs],
        inf_start=_f64([s[1] for s in segs]),
        inf_end=_f64([s[2] for s in segs]),
        inf_species=_i64([s[3] for s in segs]),
        inf_rate=_f64([s[4] for s in segs]),
        threshold_ids=[e.id for e in ths],
        th_species=_i64([sidx[e.species] for e in ths]),
        th_value=_f64([e.threshold for e in ths]),
        th_dir=_i64([1 if e.direction == "rising" else -1 for e in ths]),
        th_ptr=th_ptr,
        a_is_param=np.asarray([a[0] for a in assigns], dtype=np.bool_),
        a_target=_i64([a[1] for a in assigns]),
        a_op=_i64([a[2] for a in assigns]),
        a_value=_f64([a[3] for a in assigns]),
        observables=observables,
        observable_units={o.id: o.unit for o in spec.observables},
    )


def _i64(v) -> np.ndarray:
    return np.asarray(v, dtype=np.int64)


def _f64(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)


def _no_events() -> dict:
    return dict(bolus_ids=[], infusion_ids=[], threshold_ids=[], th_ptr=np.zeros(1, np.int64),
                a_is_param=np.zeros(0, np.bool_), a_target=_i64([]), a_op=_i64([]), a_value=_f64([]),
                **{k: _i64([]) for k in ("bolus_species", "inf_species", "th_species", "th_dir")},
                **{k: _f64([]) for k in ("bolus_time", "bolus_amount", "inf_start", "inf_end", "inf_rate", "th_value")})


def assemble(model_id: str, digest: str, species: list[str], units: list[str], parameters: list[str], x0, p,
             frs: list[FactorReaction], **events) -> CompiledModel:
    """A :class:`CompiledModel` from lowered reactions (CSR arrays built here); ``events`` are the
    event and observable fields (default: none)."""
    f_ptr = np.zeros(len(frs) + 1, np.int64)
    s_ptr = np.zeros(len(frs) + 1, np.int64)
    facs = [f for fr in frs for f in fr.factors]
    sts = [(i, c) for fr in frs for i, c in fr.stoich.items()]
    for j, fr in enumerate(frs):
        f_ptr[j + 1] = f_ptr[j] + len(fr.factors)
        s_ptr[j + 1] = s_ptr[j] + len(fr.stoich)
    return CompiledModel(
        model_id=model_id,
        digest=digest,
        species=list(species),
        species_units=list(units),
        parameters=list(parameters),
        x0=_f64(x0),
        p=_f64(p),
        reaction_names=[fr.name for fr in frs],
        r_k=_i64([fr.k for fr in frs]),
        r_kpow=_f64([fr.kpow for fr in frs]),
        r_scale=_f64([fr.scale for fr in frs]),
        f_ptr=f_ptr,
        f_kind=_i64([f.kind for f in facs]),
        f_species=_i64([f.species for f in facs]),
        f_nu=_f64([f.nu for f in facs]),
        f_K=_i64([f.K for f in facs]),
        f_n=_i64([f.n for f in facs]),
        f_b=_i64([f.b for f in facs]),
        s_ptr=s_ptr,
        s_species=_i64([s for s, _ in sts]),
        s_coef=_f64([c for _, c in sts]),
        factor_reactions=frs,
        **{**_no_events(), **events},
    )


# --------------------------------------------------------------------------- numba kernels
@nb.njit(cache=True, inline="always", error_model="numpy")
def _pow(x, n):
    """x ** n with the common small integer Hill coefficients done by multiplication."""
    if n == 1.0:
        return x
    if n == 2.0:
        return x * x
    if n == 3.0:
        return x * x * x
    if n == 4.0:
        x2 = x * x
        return x2 * x2
    return x ** n


def new_constants(n_reactions: int, n_factors: int) -> tuple[np.ndarray, ...]:
    """Empty per-run constant arrays ``C`` for :func:`prepare`."""
    return (np.empty(n_reactions), np.empty(n_factors), np.empty(n_factors), np.empty(n_factors), np.empty(n_factors))


@nb.njit(cache=True, error_model="numpy")
def prepare(p, Q, C):
    """Fill ``C`` = (k_r, K, n, b, K**n) from the parameters; call again whenever ``p`` changes."""
    r_k, r_kpow, r_scale, f_K, f_n, f_b = Q
    kr, fK, fn, fb, fKn = C
    for r in range(r_k.shape[0]):
        kr[r] = r_scale[r] * (p[r_k[r]] if r_kpow[r] == 1.0 else p[r_k[r]] ** r_kpow[r])
    for j in range(f_K.shape[0]):
        fK[j] = p[f_K[j]] if f_K[j] >= 0 else 1.0
        fn[j] = p[f_n[j]] if f_n[j] >= 0 else 1.0
        fb[j] = p[f_b[j]] if f_b[j] >= 0 else 0.0
        fKn[j] = _pow(fK[j], fn[j])


@nb.njit(cache=True, inline="always", error_model="numpy")
def _value(kind, x, nu, K, n, b, Kn):
    """Value of one factor at x."""
    if kind == POWER:
        if nu == 1.0:
            return x
        if nu == 2.0:
            return x * x
        return x ** nu
    if kind == SAT:
        return x / (K + x)
    if kind == CAP:
        return 1.0 - x / K
    xp = x if x > 0.0 else 0.0
    xn = _pow(xp, n)
    if kind == HILL_ACT:
        return xn / (Kn + xn)
    if kind == HILL_INH:
        return Kn / (Kn + xn)
    return b + (1.0 - b) * xn / (Kn + xn)


@nb.njit(cache=True, inline="always", error_model="numpy")
def _factor(kind, x, nu, K, n, b, Kn):
    """Value and derivative of one factor at x."""
    if kind == POWER:
        if nu == 1.0:
            return x, 1.0
        if nu == 2.0:
            return x * x, 2.0 * x
        return x ** nu, nu * x ** (nu - 1.0)
    if kind == SAT:
        d = K + x
        return x / d, K / (d * d)
    if kind == CAP:
        return 1.0 - x / K, -1.0 / K
    xp = x if x > 0.0 else 0.0
    xn = _pow(xp, n)
    d = Kn + xn
    dh = n * Kn * (xn / xp) / (d * d) if xp > 0.0 else (Kn / (d * d) if n == 1.0 else 0.0)
    if kind == HILL_ACT:
        return xn / d, dh
    if kind == HILL_INH:
        return Kn / d, -dh
    return b + (1.0 - b) * xn / d, (1.0 - b) * dh


@nb.njit(cache=True, error_model="numpy")
def rhs_kernel(x, u, C, S, out):
    """out = N v(x) + u, with the per-run constants ``C`` of :func:`prepare` and structure ``S``."""
    kr, fK, fn, fb, fKn = C
    f_ptr, f_kind, f_species, f_nu, s_ptr, s_species, s_coef = S
    for i in range(x.shape[0]):
        out[i] = u[i]
    for r in range(kr.shape[0]):
        v = kr[r]
        for j in range(f_ptr[r], f_ptr[r + 1]):
            v *= _value(f_kind[j], x[f_species[j]], f_nu[j], fK[j], fn[j], fb[j], fKn[j])
        for j in range(s_ptr[r], s_ptr[r + 1]):
            out[s_species[j]] += s_coef[j] * v


@nb.njit(cache=True, error_model="numpy")
def jac_kernel(x, C, S, dst, out):
    """out[dst[e]] += term e of J = N dv/dx, terms in :meth:`CompiledModel.jacobian_entries` order.

    dv/dx_s = k * sum_{i: s_i = s} f_i' * prod_{j != i} f_j. ``out`` is zeroed first; ``dst`` maps
    terms to a dense row-major matrix or to the entries of a sparse one.
    """
    kr, fK, fn, fb, fKn = C
    f_ptr, f_kind, f_species, f_nu, s_ptr, s_species, s_coef = S
    out[:] = 0.0
    fv = np.empty(16)
    dv = np.empty(16)
    e = 0
    for r in range(kr.shape[0]):
        k = kr[r]
        m = f_ptr[r + 1] - f_ptr[r]
        ns = s_ptr[r + 1] - s_ptr[r]
        if m > fv.shape[0]:
            fv = np.empty(m)
            dv = np.empty(m)
        for i in range(m):
            j = f_ptr[r] + i
            fv[i], dv[i] = _factor(f_kind[j], x[f_species[j]], f_nu[j], fK[j], fn[j], fb[j], fKn[j])
        for i in range(m):
            g = k * dv[i]
            for q in range(m):
                if q != i:
                    g *= fv[q]
            if g != 0.0:
                for j in range(ns):
                    out[dst[e + j]] += s_coef[s_ptr[r] + j] * g
            e += ns
