"""Expression trees lowered to a data tape: one instruction per distinct subexpression.

A tape is four integer arrays and one float array: instruction ``i`` computes register ``i`` as
``op[i]`` applied to registers ``a[i]``, ``b[i]``, ``c[i]`` (or loads ``x[a[i]]``, ``p[a[i]]`` or
the constant ``val[i]``). Building is hash-consed (a repeated subexpression is one register) with
constant folding and the identities x+0, x*1, x*0, x^1, x^0. :meth:`TapeBuilder.derivative`
differentiates symbolically on the tape itself, so an analytic Jacobian is more instructions of
the same tape (the one numerical derivative is that of ``factorial``, a central difference). :func:`run_tape` is the numba interpreter; :mod:`cytonet.engine.tape_codegen` writes a tape out as straight-line code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numba as nb
import numpy as np

from cytonet.errors import ModelSpecError
from cytonet.model.expr import BinOp, Call, Compare, Logic, Name, Neg, Node, Num, Piecewise

(CONST, X, P, DLOAD, ADD, SUB, MUL, DIV, POW, NEG, EXP, LOG, LOG10, SQRT, ABS, SIN, COS, TAN, SINH, COSH, TANH,
 ASIN, ACOS, ATAN, ASINH, ACOSH, ATANH, FLOOR, CEIL, TRUNC, FACT, MIN, MAX, LT, LE, GT, GE, EQ, NE,
 AND, OR, XOR, NOT, SELECT, SIGN, DFACT) = range(46)

_BIN = {"+": ADD, "-": SUB, "*": MUL, "/": DIV, "^": POW}
_CMP = {"<": LT, "<=": LE, ">": GT, ">=": GE, "==": EQ, "!=": NE}
_FUN = {"exp": EXP, "log": LOG, "log10": LOG10, "sqrt": SQRT, "abs": ABS, "sin": SIN, "cos": COS, "tan": TAN,
        "sinh": SINH, "cosh": COSH, "tanh": TANH, "arcsin": ASIN, "arccos": ACOS, "arctan": ATAN,
        "arcsinh": ASINH, "arccosh": ACOSH, "arctanh": ATANH, "floor": FLOOR, "ceil": CEIL, "trunc": TRUNC,
        "factorial": FACT}
_FOLD: dict[int, Callable[..., float]] = {
    ADD: lambda a, b: a + b, SUB: lambda a, b: a - b, MUL: lambda a, b: a * b, NEG: lambda a: -a,
}


@dataclass(frozen=True)
class Tape:
    """The instruction arrays of a built tape."""

    op: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    val: np.ndarray

    @property
    def size(self) -> int:
        return int(self.op.shape[0])

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.op, self.a, self.b, self.c, self.val)


class TapeBuilder:
    """Builds a tape; registers are instruction indices."""

    def __init__(self) -> None:
        self.op: list[int] = []
        self.args: list[tuple[int, int, int]] = []
        self.val: list[float] = []
        self._memo: dict[tuple, int] = {}
        self._deps: dict[int, frozenset[int]] = {}
        self._pdeps: dict[int, frozenset[int]] = {}
        self._dmemo: dict[tuple[int, int], int] = {}
        self._delayed: dict[int, bool] = {}

    # -- instructions ------------------------------------------------------------------------
    def _emit(self, op: int, a: int = -1, b: int = -1, c: int = -1, v: float = 0.0) -> int:
        key = (op, a, b, c, v if op == CONST else 0.0)
        if op == CONST and v != v:
            key = (op, a, b, c, "nan")
        reg = self._memo.get(key)
        if reg is None:
            reg = len(self.op)
            self.op.append(op)
            self.args.append((a, b, c))
            self.val.append(v)
            self._memo[key] = reg
            self._delayed[reg] = op == DLOAD or any(self._delayed[r] for r in (a, b, c) if r >= 0 and op >= ADD)
            leaf = op in (CONST, X, P, DLOAD)
            self._deps[reg] = frozenset((a,)) if op == X else (
                frozenset() if leaf else frozenset().union(*(self._deps[r] for r in (a, b, c) if r >= 0)))
            self._pdeps[reg] = frozenset((a,)) if op == P else (
                frozenset() if leaf else frozenset().union(*(self._pdeps[r] for r in (a, b, c) if r >= 0)))
        return reg

    def const(self, v: float) -> int:
        return self._emit(CONST, v=float(v))

    def x(self, i: int) -> int:
        return self._emit(X, i)

    def p(self, j: int) -> int:
        return self._emit(P, j)

    def _value(self, r: int) -> float | None:
        return self.val[r] if self.op[r] == CONST else None

    def node(self, op: int, a: int = -1, b: int = -1, c: int = -1) -> int:
        """Emit ``op`` on registers, folding constants and trivial identities."""
        va, vb = self._value(a) if a >= 0 else None, self._value(b) if b >= 0 else None
        if op in _FOLD and va is not None and (b < 0 or vb is not None):
            return self.const(_FOLD[op](va, vb) if b >= 0 else _FOLD[op](va))
        if op == ADD:
            if va == 0.0:
                return b
            if vb == 0.0:
                return a
        elif op == SUB:
            if vb == 0.0:
                return a
            if va == 0.0:
                return self.node(NEG, b)
        elif op == MUL:
            if va == 1.0:
                return b
            if vb == 1.0:
                return a
            if va == 0.0 or vb == 0.0:
                return self.const(0.0)
            if va == -1.0:
                return self.node(NEG, b)
        elif op == DIV:
            if vb == 1.0:
                return a
            if va == 0.0 and vb is not None and vb != 0.0:
                return self.const(0.0)
        elif op == POW:
            if vb == 1.0:
                return a
            if vb == 0.0:
                return self.const(1.0)
        elif op == NEG and self.op[a] == NEG:
            return self.args[a][0]
        elif op == SELECT and va is not None:
            return b if va != 0.0 else c
        return self._emit(op, a, b, c)

    def depends_on(self, r: int) -> frozenset[int]:
        """The state indices register ``r`` depends on."""
        return self._deps[r]

    def depends_on_parameters(self, r: int) -> frozenset[int]:
        """The parameter indices register ``r`` depends on."""
        return self._pdeps[r]

    def reads_delay(self, r: int) -> bool:
        """Whether register ``r`` reads a delayed value (which changes in time whatever its derivatives)."""
        return self._delayed[r]

    # -- lowering ----------------------------------------------------------------------------
    def lower(self, tree: Node, resolve: Callable[[str], int], on_compare: Callable[[int, int], None] | None = None,
              on_delay: Callable[[Node, Node], int] | None = None) -> int:
        """Register of ``tree``; ``resolve`` gives the register of a name (and of ``time``),
        ``on_compare`` sees the two sides of every comparison (for root functions) and ``on_delay``
        gives the delay slot of ``delay(value, lag)`` (loaded by a DLOAD instruction)."""
        def go(n: Node) -> int:
            if isinstance(n, Num):
                return self.const(n.value)
            if isinstance(n, Name):
                return resolve(n.id)
            if isinstance(n, Neg):
                return self.node(NEG, go(n.operand))
            if isinstance(n, BinOp):
                return self.node(_BIN[n.op], go(n.left), go(n.right))
            if isinstance(n, Compare):
                a, b = go(n.left), go(n.right)
                if on_compare is not None:
                    on_compare(a, b)
                return self.node(_CMP[n.op], a, b)
            if isinstance(n, Logic):
                regs = [go(x) for x in n.args]
                if n.op == "not":
                    return self.node(NOT, regs[0])
                op = {"and": AND, "or": OR, "xor": XOR}[n.op]
                out = regs[0]
                for r in regs[1:]:
                    out = self.node(op, out, r)
                return out
            if isinstance(n, Piecewise):
                out = go(n.otherwise) if n.otherwise is not None else self.const(np.nan)
                for value, cond in reversed(n.pieces):
                    out = self.node(SELECT, go(cond), go(value), out)
                return out
            if isinstance(n, Call):
                if n.func == "time":
                    return resolve("time()")
                if n.func == "delay":
                    if on_delay is None:
                        raise ModelSpecError("delay() is not allowed here (inside another delay, or in a delay's lag)")
                    return self._emit(DLOAD, on_delay(n.args[0], n.args[1]))
                regs = [go(x) for x in n.args]
                if n.func in ("min", "max"):
                    out = regs[0]
                    for r in regs[1:]:
                        out = self.node(MIN if n.func == "min" else MAX, out, r)
                    return out
                return self.node(_FUN[n.func], regs[0])
            raise ModelSpecError(f"cannot lower expression node {n!r}")

        return go(tree)

    # -- symbolic derivative -----------------------------------------------------------------
    def derivative(self, r: int, k: int) -> int:
        """Register of d(register r)/d x[k]."""
        return self._derivative(r, k)

    def parameter_derivative(self, r: int, j: int) -> int:
        """Register of d(register r)/d p[j]."""
        return self._derivative(r, -1 - j)

    def _derivative(self, r: int, k: int) -> int:
        """d(register r)/d x[k] for k >= 0, d/d p[-1 - k] for k < 0."""
        if (k >= 0 and k not in self._deps[r]) or (k < 0 and -1 - k not in self._pdeps[r]):
            return self.const(0.0)
        key = (r, k)
        if key in self._dmemo:
            return self._dmemo[key]
        op = self.op[r]
        a, b, c = self.args[r]
        n, d = self.node, self._derivative
        if op in (X, P):
            out = self.const(1.0)
        elif op == ADD:
            out = n(ADD, d(a, k), d(b, k))
        elif op == SUB:
            out = n(SUB, d(a, k), d(b, k))
        elif op == NEG:
            out = n(NEG, d(a, k))
        elif op == MUL:
            out = n(ADD, n(MUL, d(a, k), b), n(MUL, a, d(b, k)))
        elif op == DIV:
            out = n(DIV, n(SUB, n(MUL, d(a, k), b), n(MUL, a, d(b, k))), n(MUL, b, b))
        elif op == POW:
            if (k not in self._deps[b]) if k >= 0 else (-1 - k not in self._pdeps[b]):
                out = n(MUL, n(MUL, b, n(POW, a, n(SUB, b, self.const(1.0)))), d(a, k))
                vb = self._value(b)
                if vb is None or vb < 1.0:  # x^n with n < 1 has no finite slope at x = 0: the Jacobian takes 0 there
                    out = n(SELECT, n(NE, a, self.const(0.0)), out, self.const(0.0))
            else:
                out = n(MUL, r, n(ADD, n(MUL, d(b, k), n(LOG, a)), n(DIV, n(MUL, b, d(a, k)), a)))
        elif op in (MIN, MAX):
            pick = n(LE if op == MIN else GE, a, b)
            out = n(SELECT, pick, d(a, k), d(b, k))
        elif op == SELECT:
            out = n(SELECT, a, d(b, k), d(c, k))
        else:
            out = n(MUL, self._outer(op, a, r), d(a, k))
        self._dmemo[key] = out
        return out

    def _outer(self, op: int, a: int, r: int) -> int:
        """f'(a) of a unary function f with f(a) in register ``r``."""
        n, one = self.node, self.const(1.0)
        if op == EXP:
            return r
        if op == LOG:
            return n(DIV, one, a)
        if op == LOG10:
            return n(DIV, one, n(MUL, a, self.const(math.log(10.0))))
        if op == SQRT:
            return n(DIV, self.const(0.5), r)
        if op == ABS:
            return n(SIGN, a)
        if op == SIN:
            return n(COS, a)
        if op == COS:
            return n(NEG, n(SIN, a))
        if op == TAN:
            return n(ADD, one, n(MUL, r, r))
        if op == SINH:
            return n(COSH, a)
        if op == COSH:
            return n(SINH, a)
        if op == TANH:
            return n(SUB, one, n(MUL, r, r))
        if op in (ASIN, ACOS):
            g = n(DIV, one, n(SQRT, n(SUB, one, n(MUL, a, a))))
            return g if op == ASIN else n(NEG, g)
        if op == ATAN:
            return n(DIV, one, n(ADD, one, n(MUL, a, a)))
        if op == ASINH:
            return n(DIV, one, n(SQRT, n(ADD, n(MUL, a, a), one)))
        if op == ACOSH:
            return n(DIV, one, n(SQRT, n(SUB, n(MUL, a, a), one)))
        if op == ATANH:
            return n(DIV, one, n(SUB, one, n(MUL, a, a)))
        if op == FACT:
            return n(DFACT, a)
        return self.const(0.0)  # floor, ceil, trunc, sign, comparisons, logic: piecewise constant

    def build(self, outputs: list[int] | None = None) -> tuple[Tape, np.ndarray]:
        """The tape of the instructions ``outputs`` need (all when None), in build order, and the map
        old register -> new register (-1 for an instruction dropped as dead)."""
        keep = np.zeros(len(self.op), bool)
        if outputs is None:
            keep[:] = True
        else:
            stack = [r for r in outputs if r >= 0]
            while stack:
                r = stack.pop()
                if not keep[r]:
                    keep[r] = True
                    if self.op[r] >= ADD:  # X, P, DLOAD and CONST hold indices, not registers
                        stack.extend(q for q in self.args[r] if q >= 0 and not keep[q])
        new = np.cumsum(keep) - 1
        new[~keep] = -1
        idx = np.flatnonzero(keep)
        op = np.asarray(self.op, np.int64)[idx]
        args = np.asarray(self.args, np.int64).reshape(-1, 3)[idx]
        remap = lambda col: np.where((op >= ADD) & (col >= 0), new[np.clip(col, 0, len(new) - 1)], col)  # noqa: E731 - X, P, DLOAD hold indices
        return Tape(op, remap(args[:, 0]), remap(args[:, 1]), remap(args[:, 2]), np.asarray(self.val, np.float64)[idx]), new


def scheduled(tape: Tape, cuts: list[int]) -> tuple[Tape, np.ndarray]:
    """The same tape with each segment's instructions (split at ``cuts``) reordered by dependency depth, then by
    operation, and the map old register -> new register. Every register keeps its value, bit for bit, and a prefix
    ending at a cut computes the same registers; but runs of one operation make the interpreter's dispatch
    predictable (an interpreted instruction costs mostly its mispredicted branch: the stages' prefix of the PEtab
    benchmark models' sensitivity tapes ran 1.5-2.5x faster alone, a whole objective + gradient 1.2-1.4x)."""
    op, n = tape.op, tape.size
    level = np.zeros(n, np.int64)
    for i in range(n):
        if op[i] >= ADD:  # X, P, DLOAD and CONST hold indices, not registers
            level[i] = 1 + max(int(level[q]) if q >= 0 else 0 for q in (tape.a[i], tape.b[i], tape.c[i]))
    bounds = [0, *cuts, n]
    perm = np.concatenate([np.arange(lo, hi)[np.lexsort((op[lo:hi], level[lo:hi]))] for lo, hi in zip(bounds, bounds[1:])])
    new = np.empty(n, np.int64)
    new[perm] = np.arange(n)
    op2 = op[perm]

    def remap(col: np.ndarray) -> np.ndarray:
        c = col[perm]
        return np.where((op2 >= ADD) & (c >= 0), new[np.clip(c, 0, n - 1)], c)

    return Tape(op2, remap(tape.a), remap(tape.b), remap(tape.c), tape.val[perm]), new


@nb.njit(cache=True, inline="always", error_model="numpy")
def dfact(u):
    """d/du gamma(u + 1) by a central difference (Jacobian use only)."""
    e = 1e-6 * max(1.0, abs(u))
    return (math.gamma(u + 1.0 + e) - math.gamma(u + 1.0 - e)) / (2.0 * e)


@nb.njit(cache=True, error_model="numpy")
def run_tape_rows(T, X, P, D, regs, out):
    """out[i, j] = register ``regs[j]`` of the whole tape evaluated at row i of X, P and delayed values D."""
    reg = np.empty(T[0].shape[0])
    for i in range(X.shape[0]):
        run_tape(T, X[i], P[i], D[i], reg, reg.shape[0])
        for j in range(regs.shape[0]):
            out[i, j] = reg[regs[j]]


@nb.njit(cache=True, error_model="numpy")
def run_tape(T, x, p, d, reg, n):
    """Evaluate the first ``n`` instructions of tape ``T`` = (op, a, b, c, val) into ``reg`` (``d``: delayed values)."""
    op, A, B, C, val = T
    for i in range(n):
        o = op[i]
        if o == CONST:
            reg[i] = val[i]
            continue
        if o == X:
            reg[i] = x[A[i]]
            continue
        if o == P:
            reg[i] = p[A[i]]
            continue
        if o == DLOAD:
            reg[i] = d[A[i]]
            continue
        u = reg[A[i]]
        if o == ADD:
            reg[i] = u + reg[B[i]]
        elif o == SUB:
            reg[i] = u - reg[B[i]]
        elif o == MUL:
            reg[i] = u * reg[B[i]]
        elif o == DIV:
            reg[i] = u / reg[B[i]]
        elif o == POW:
            w = reg[B[i]]
            reg[i] = u * u if w == 2.0 else u ** w
        elif o == NEG:
            reg[i] = -u
        elif o == EXP:
            reg[i] = np.exp(u)
        elif o == LOG:
            reg[i] = np.log(u)
        elif o == LOG10:
            reg[i] = np.log10(u)
        elif o == SQRT:
            reg[i] = np.sqrt(u)
        elif o == ABS:
            reg[i] = abs(u)
        elif o == SIN:
            reg[i] = np.sin(u)
        elif o == COS:
            reg[i] = np.cos(u)
        elif o == TAN:
            reg[i] = np.tan(u)
        elif o == SINH:
            reg[i] = np.sinh(u)
        elif o == COSH:
            reg[i] = np.cosh(u)
        elif o == TANH:
            reg[i] = np.tanh(u)
        elif o == ASIN:
            reg[i] = np.arcsin(u)
        elif o == ACOS:
            reg[i] = np.arccos(u)
        elif o == ATAN:
            reg[i] = np.arctan(u)
        elif o == ASINH:
            reg[i] = np.arcsinh(u)
        elif o == ACOSH:
            reg[i] = np.arccosh(u)
        elif o == ATANH:
            reg[i] = np.arctanh(u)
        elif o == FLOOR:
            reg[i] = np.floor(u)
        elif o == CEIL:
            reg[i] = np.ceil(u)
        elif o == TRUNC:
            reg[i] = np.trunc(u)
        elif o == FACT:
            reg[i] = math.gamma(u + 1.0)
        elif o == MIN:
            w = reg[B[i]]
            reg[i] = u if u <= w else w
        elif o == MAX:
            w = reg[B[i]]
            reg[i] = u if u >= w else w
        elif o == LT:
            reg[i] = 1.0 if u < reg[B[i]] else 0.0
        elif o == LE:
            reg[i] = 1.0 if u <= reg[B[i]] else 0.0
        elif o == GT:
            reg[i] = 1.0 if u > reg[B[i]] else 0.0
        elif o == GE:
            reg[i] = 1.0 if u >= reg[B[i]] else 0.0
        elif o == EQ:
            reg[i] = 1.0 if u == reg[B[i]] else 0.0
        elif o == NE:
            reg[i] = 1.0 if u != reg[B[i]] else 0.0
        elif o == AND:
            reg[i] = 1.0 if (u != 0.0 and reg[B[i]] != 0.0) else 0.0
        elif o == OR:
            reg[i] = 1.0 if (u != 0.0 or reg[B[i]] != 0.0) else 0.0
        elif o == XOR:
            reg[i] = 1.0 if ((u != 0.0) != (reg[B[i]] != 0.0)) else 0.0
        elif o == NOT:
            reg[i] = 1.0 if u == 0.0 else 0.0
        elif o == SELECT:
            reg[i] = reg[B[i]] if u != 0.0 else reg[C[i]]
        elif o == DFACT:
            reg[i] = dfact(u)
        elif o == SIGN:
            reg[i] = 1.0 if u > 0.0 else (-1.0 if u < 0.0 else 0.0)
