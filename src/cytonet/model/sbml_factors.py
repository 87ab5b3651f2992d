"""An imported SBML model on the factor kernels, when its kinetic laws are products of factors.

A spec with SBML semantics whose rates are sums of terms ``c * p**a * prod f(x)`` (one parameter
per term; ``f`` a power of a state or one of the native factors below) is lowered onto the
:class:`~cytonet.model.compile.CompiledModel` that native specs compile to, so it runs on the same
kernels, batch and lock-step path included. Products of sums are expanded first. States are the
species in their own sense (amount when ``only_substance``, else concentration) and the variables
of rate rules; a reaction's flux enters a concentration divided by its compartment's (constant)
size. Recognised factors, as the export writes them and as SBML files commonly write them:

- ``x / (K + x)`` (SAT), ``1 - x / K`` (CAP);
- ``x^n / (K^n + x^n)`` and ``K^n / (K^n + x^n)`` with ``x`` or ``piecewise(x, x > 0, 0)`` (HILL_ACT,
  HILL_INH; the kernels read max(x, 0)), ``b + (1 - b) * x^n / (K^n + x^n)`` (BASAL_ACT);
- ``V * x / (K + x)``, ``V * x^n / (K^n + x^n)`` and ``V / (1 + (x / K)^n)``, whatever the order of
  the multiplicands (Michaelis-Menten, Hill and inhibition as BioModels files write them).

Everything else (assignment rules, initial assignments, events, conversion factors, compartments
that change, variable stoichiometries, other functions, several parameters in one term) keeps the
model on the tape engine: :func:`factor_model` raises :class:`NotFactorForm` saying why. A Hill factor
of a bare ``x`` reads max(x, 0) on the kernels: runs in which such a state goes negative are not
theirs (:class:`FactorForm` lists those states; ``simulate_batch`` reruns such rows on the tape engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cytonet.errors import CytonetError
from cytonet.model.compile import BASAL_ACT, CAP, HILL_ACT, HILL_INH, POWER, SAT, CompiledModel, Factor, FactorReaction, assemble
from cytonet.model.expr import BinOp, Compare, Name, Neg, Node, Num, Piecewise, names_in, parse, to_text
from cytonet.model.spec import ModelSpec, RateLaw


class NotFactorForm(CytonetError):
    """The spec needs the tape engine (the message says which element and why)."""


@dataclass
class _Term:
    coef: float = 1.0
    params: dict[int, float] = field(default_factory=dict)  # parameter index -> power
    factors: list[Factor] = field(default_factory=list)

    def times(self, other: _Term) -> _Term:
        params = dict(self.params)
        for j, a in other.params.items():
            params[j] = params.get(j, 0.0) + a
        return _Term(self.coef * other.coef, {j: a for j, a in params.items() if a != 0.0}, [*self.factors, *other.factors])


class _Lowering:
    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        assigned = {r.variable for r in spec.rules if r.kind == "assignment"}
        rated = {r.variable for r in spec.rules if r.kind == "rate"}
        self.states = [s.id for s in spec.species if s.id not in assigned] + [q.id for q in spec.parameters if q.id in rated]
        self.sidx = {s: i for i, s in enumerate(self.states)}
        self.params = [q.id for q in spec.parameters if q.id not in rated and q.id not in assigned]
        self.pidx = {q: j for j, q in enumerate(self.params)}
        self.sizes = {c.id: c.volume for c in spec.compartments}
        self.names = set(self.sizes) | set(spec.species_ids) | set(spec.parameter_ids)
        self.where = ""
        self.clipped: set[int] = set()  # states a Hill factor reads as max(x, 0) where the model reads x

    def refuse(self, why: str) -> NotFactorForm:
        return NotFactorForm(f"model {self.spec.id!r}, {self.where}: {why}")

    # -- atoms ------------------------------------------------------------------------------
    def _state(self, node: Node) -> int | None:
        """Index of the state that ``node`` reads (a state name or ``piecewise(x, x > 0, 0)``), else None."""
        if isinstance(node, Name) and node.id in self.sidx:
            return self.sidx[node.id]
        if (isinstance(node, Piecewise) and len(node.pieces) == 1 and node.otherwise == Num(0.0)
                and node.pieces[0] == (node.pieces[0][0], Compare(">", node.pieces[0][0], Num(0.0)))):
            return self._state(node.pieces[0][0]) if isinstance(node.pieces[0][0], Name) else None
        return None

    def _param(self, node: Node) -> int | None:
        return self.pidx.get(node.id) if isinstance(node, Name) else None

    def _hill(self, node: Node) -> Factor | None:
        """``x^n / (K^n + x^n)`` or ``K^n / (K^n + x^n)`` (n a parameter or 1)."""
        if not (isinstance(node, BinOp) and node.op == "/" and isinstance(node.right, BinOp) and node.right.op == "+"):
            return None
        num, (a, b) = node.left, (node.right.left, node.right.right)

        def base_exp(t: Node) -> tuple[Node, Node]:
            return (t.left, t.right) if isinstance(t, BinOp) and t.op == "^" else (t, Num(1.0))

        (nb_, ne), (ab, ae), (bb, be) = base_exp(num), base_exp(a), base_exp(b)
        if not (ne == ae == be):
            return None
        n = -1 if ne == Num(1.0) else self._param(ne)
        if n is None:
            return None
        K, x = self._param(ab), self._state(bb)
        if K is None or x is None:
            return None
        if self._state(nb_) == x and (ne != Num(1.0) or isinstance(nb_, Piecewise)):
            f = Factor(HILL_ACT, x, K=K, n=n)
        elif self._param(nb_) == K:
            f = Factor(HILL_INH, x, K=K, n=n)
        else:
            return None
        if isinstance(bb, Name):
            self.clipped.add(x)
        return f

    def _factor(self, node: Node) -> Factor | None:
        """A native factor that ``node`` is as a whole, else None."""
        if isinstance(node, BinOp) and node.op == "/" and isinstance(node.right, BinOp) and node.right.op == "+":
            x, K = self._state(node.left), self._param(node.right.left)
            if isinstance(node.left, Name) and x is not None and K is not None and node.right.right == node.left:
                return Factor(SAT, x, K=K)
        if (isinstance(node, BinOp) and node.op == "-" and node.left == Num(1.0) and isinstance(node.right, BinOp)
                and node.right.op == "/" and isinstance(node.right.left, Name)):
            x, K = self._state(node.right.left), self._param(node.right.right)
            if x is not None and K is not None:
                return Factor(CAP, x, K=K)
        if isinstance(node, BinOp) and node.op == "+" and isinstance(node.right, BinOp) and node.right.op in "*/":
            b, r = self._param(node.left), node.right
            if r.op == "*":  # b + (1 - b) * (x^n / (K^n + x^n))
                one_minus, hill = r.left, r.right
            elif isinstance(r.left, BinOp) and r.left.op == "*":  # b + (1 - b) * x^n / (K^n + x^n)
                one_minus, hill = r.left.left, BinOp("/", r.left.right, r.right)
            else:
                one_minus, hill = None, r
            h = self._hill(hill)
            if (b is not None and h is not None and h.kind == HILL_ACT and isinstance(one_minus, BinOp) and one_minus.op == "-"
                    and one_minus.left == Num(1.0) and one_minus.right == node.left):
                return Factor(BASAL_ACT, h.species, K=h.K, n=h.n, b=b)
        return self._hill(node)

    # -- expansion --------------------------------------------------------------------------
    def terms(self, node: Node) -> list[_Term]:
        """``node`` as a sum of terms."""
        f = self._factor(node)
        if f is not None:
            return [_Term(factors=[f])]
        if isinstance(node, Num):
            return [_Term(node.value)]
        if isinstance(node, Name):
            if node.id in self.sidx:
                return [_Term(factors=[Factor(POWER, self.sidx[node.id])])]
            if node.id in self.pidx:
                return [_Term(params={self.pidx[node.id]: 1.0})]
            return [_Term(self.sizes[node.id])]
        if isinstance(node, Neg):
            return [_Term(-t.coef, t.params, t.factors) for t in self.terms(node.operand)]
        if isinstance(node, BinOp) and node.op in "+-":
            right = self.terms(node.right)
            sign = 1.0 if node.op == "+" else -1.0
            return self.terms(node.left) + [_Term(sign * t.coef, t.params, t.factors) for t in right]
        if isinstance(node, BinOp) and node.op == "*":
            left, right = self.terms(node.left), self.terms(node.right)
            return [a.times(b) for a in left for b in right]
        if isinstance(node, BinOp) and node.op == "/":
            return self._quotient(node)
        if isinstance(node, BinOp) and node.op == "^" and isinstance(node.right, Num):
            base = self.terms(node.left)
            if len(base) == 1:
                return [self._power(base[0], node.right.value)]
        raise self.refuse(f"{_short(node)} is not a product of native factors")

    def _power(self, t: _Term, e: float) -> _Term:
        if any(f.kind != POWER for f in t.factors) or (t.coef <= 0 and e != int(e)) or (t.coef == 0 and e < 0):
            raise self.refuse("a power of a saturating factor, of a negative number or of zero")
        return _Term(t.coef ** e, {j: a * e for j, a in t.params.items()}, [Factor(POWER, f.species, f.nu * e) for f in t.factors])

    def _inhibition(self, node: Node) -> Factor | None:
        """``1 + (x / K)^n``, the denominator of ``K^n / (K^n + x^n)``."""
        if not (isinstance(node, BinOp) and node.op == "+" and node.left == Num(1.0)):
            return None
        ratio, n = (node.right.left, self._param(node.right.right)) if (
            isinstance(node.right, BinOp) and node.right.op == "^") else (node.right, -1)
        if n is None or not (isinstance(ratio, BinOp) and ratio.op == "/"):
            return None
        x, K = self._state(ratio.left), self._param(ratio.right)
        if x is None or K is None or not isinstance(ratio.left, Name):
            return None
        self.clipped.add(x)
        return Factor(HILL_INH, x, K=K, n=n)

    def _saturation(self, nums: list[Node], den: BinOp) -> Factor:
        """The factor ``part / den`` for the multiplicand ``part`` of ``nums`` it matches (removed from ``nums``)."""
        for i, part in enumerate(nums):
            f = self._factor(BinOp("/", part, den))
            if f is not None:
                del nums[i]
                return f
        raise self.refuse(f"division by the sum {_short(den)}")

    def _quotient(self, node: BinOp) -> list[_Term]:
        """``a * b * ... / (c * d * ...)``: a divisor ``K + x`` (``K^n + x^n``) with ``x`` (``x^n``) among the
        multiplicands of the numerator makes a saturation (Hill) factor of them, ``1 + (x / K)^n`` an inhibition,
        a monomial a power."""
        nums, extra, dens = _product(node.left), [], []
        for d in _product(node.right):
            f = self._inhibition(d)
            if f is None and isinstance(d, BinOp) and d.op == "+":
                f = self._saturation(nums, d)
            if f is None:
                dens.append(d)
            else:
                extra.append(f)
        out = [_Term(factors=extra)]
        for n in nums:
            out = [a.times(b) for a in out for b in self.terms(n)]
        for d in dens:
            t = self.terms(d)
            if len(t) != 1:
                raise self.refuse(f"division by the sum {_short(d)}")
            inv = self._power(t[0], -1.0)
            out = [a.times(inv) for a in out]
        return out

    def reactions(self, rid: str, rate: Node, stoich: dict[int, float]) -> list[FactorReaction]:
        out = []
        for i, t in enumerate(self.terms(rate)):
            if len(t.params) > 1:
                names = ", ".join(self.params[j] for j in t.params)
                raise self.refuse(f"a term multiplies several parameters ({names}); the kernels take one rate constant per term")
            (k, kpow), = t.params.items() if t.params else ((0, 0.0),)  # no parameter: any one, to the power 0
            if not self.params:
                raise self.refuse("the model has no parameter to carry a constant rate")
            if t.coef != 0.0:
                out.append(FactorReaction(f"{rid}_term{i}", rid, k, tuple(t.factors), stoich, kpow=kpow, scale=t.coef))
        return out


def _product(node: Node) -> list[Node]:
    """The multiplicands of a product (the node itself when it is none)."""
    if isinstance(node, BinOp) and node.op == "*":
        return _product(node.left) + _product(node.right)
    return [node]


def _short(node: Node) -> str:
    text = to_text(node)
    return text if len(text) < 60 else text[:57] + "..."


def _check(spec: ModelSpec) -> None:
    why = ""
    if spec.initial_assignments:
        why = f"initial assignment to {spec.initial_assignments[0].variable!r}"
    elif spec.events:
        why = f"event {spec.events[0].id!r}"
    elif spec.conversion_factor or any(s.conversion_factor for s in spec.species):
        why = "conversion factors"
    elif any(not c.constant for c in spec.compartments):
        why = f"compartment {next(c.id for c in spec.compartments if not c.constant)!r} changes size"
    elif any(r.variable_stoichiometry for r in spec.reactions):
        why = f"reaction {next(r.id for r in spec.reactions if r.variable_stoichiometry)!r} has a variable stoichiometry"
    elif any(r.rate_law is not RateLaw.EXPRESSION for r in spec.reactions):
        why = "template rate laws (a native spec compiles with compile_model)"
    if why:
        raise NotFactorForm(f"model {spec.id!r}: {why} needs the tape engine")


def _readouts(spec: ModelSpec, low: _Lowering) -> dict[str, Node]:
    """Compartment sizes and assignment-rule variables as observables, in an order where each reads only earlier ones.

    An assignment rule that a rate or a rate rule reads keeps the model on the tape engine.
    """
    assigned = {r.variable: parse(r.expression, low.names, f"assignment rule for {r.variable!r}") for r in spec.rules if r.kind == "assignment"}
    for text, where in [(r.rate, f"reaction {r.id!r}") for r in spec.reactions] + [
            (r.expression, f"rate rule for {r.variable!r}") for r in spec.rules if r.kind == "rate"]:
        read = names_in(parse(text, low.names, where)) & set(assigned)
        if read:
            raise NotFactorForm(f"model {spec.id!r}, {where}: reads {sorted(read)[0]!r}, which an assignment rule sets; needs the tape engine")
    out: dict[str, Node] = {c.id: Num(c.volume) for c in spec.compartments}
    while assigned:
        ready = [v for v, t in assigned.items() if not (names_in(t) & set(assigned))]
        if not ready:
            raise NotFactorForm(f"model {spec.id!r}: assignment rules form a cycle through {sorted(assigned)[0]!r}")
        for v in ready:
            out[v] = assigned.pop(v)
    return out


@dataclass(frozen=True)
class FactorForm:
    """An SBML-semantics spec on the factor kernels, and the states whose Hill factors the kernels read as
    max(x, 0) where the model reads x: its runs hold only while those stay >= 0 (callers check)."""

    model: CompiledModel
    clipped: tuple[str, ...]


def factor_model(spec: ModelSpec) -> FactorForm:
    """``spec`` (SBML semantics) lowered onto the factor kernels; :class:`NotFactorForm` says why not.

    Compartment sizes and assignment-rule variables are the compiled model's observables.
    """
    _check(spec)
    low = _Lowering(spec)
    readouts = _readouts(spec, low)
    species = {s.id: s for s in spec.species}
    frs: list[FactorReaction] = []
    for r in spec.reactions:
        low.where = f"reaction {r.id!r}"
        stoich: dict[int, float] = {}
        for sid in {**r.reactants, **r.products}:
            s = species[sid]
            net = r.products.get(sid, 0.0) - r.reactants.get(sid, 0.0)
            if s.boundary or s.constant or net == 0.0:
                continue
            stoich[low.sidx[sid]] = net if s.only_substance else net / low.sizes[s.compartment]
        if stoich:
            frs.extend(low.reactions(r.id, parse(r.rate, low.names, low.where), stoich))
    for rule in (r for r in spec.rules if r.kind == "rate"):
        low.where = f"rate rule for {rule.variable!r}"
        if rule.variable in low.sizes:
            raise low.refuse("a rate rule changes a compartment")
        frs.extend(low.reactions(f"rate_{rule.variable}", parse(rule.expression, low.names, low.where), {low.sidx[rule.variable]: 1.0}))
    values = {q.id: q.value for q in spec.parameters} | {s.id: s.initial for s in spec.species}
    units = {q.id: q.unit for q in spec.parameters} | {s.id: s.unit for s in spec.species}
    units |= {c.id: c.unit for c in spec.compartments}
    return FactorForm(assemble(spec.id, spec.digest(), low.states, [units[s] for s in low.states], low.params,
                    [values[s] for s in low.states], [values[q] for q in low.params], frs,
                    observables=readouts, observable_units={o: units.get(o, "") for o in readouts}),
                      tuple(low.states[i] for i in sorted(low.clipped)))
