"""A tape model's tape as straight-line code, compiled into the model's own copy of the tape Rosenbrock kernel.

:func:`cytonet.model.tape.run_tape` interprets a tape: every instruction is a dispatch on its
operation (a few ns each). The module written here holds ``run_tape`` for one tape with every
instruction resolved: a statement per register, operands in locals, only the registers the kernel
reads (right-hand side, products, roots, Jacobian entries, second derivatives) stored, and a
return at each prefix the kernel runs (the stages' and the right-hand side's). The same
operations in the same order as the interpreter, so the results are bit-identical. Beside it, the
module holds copies of :func:`cytonet.engine.tape_rodas.integrate` and of the helpers it calls per
stage, taken from their source, which then call this ``run_tape``; the helpers are inlined (each
call of a compiled function took an atomic reference count per array it unpacks: half of
Perelson's time) and a delay-free model's delay lookup is a no-op. numba compiles the kernel for
this tape alone and caches its machine code on disk. The module's name is a hash of its source and
of the source of the kernel modules it calls, so a changed tape or kernel is a new module.

Compiling costs 20-70 s of CPU (``docs/fit.md``): :class:`KernelChoice` keeps the interpreter for
the first evaluations and switches once the time they took exceeds the expected compile time, or at
once when the machine code is cached already.
"""

from __future__ import annotations

import hashlib
import inspect
import math
from collections.abc import Callable
from types import ModuleType

import numpy as np

from cytonet.engine import generated, rodas, tape_rodas
from cytonet.model import tape
from cytonet.model.tape import (
    ABS, ACOS, ACOSH, ADD, AND, ASIN, ASINH, ATAN, ATANH, CEIL, CONST, COS, COSH, DFACT, DIV, DLOAD, EQ, EXP, FACT,
    FLOOR, GE, GT, LE, LOG, LOG10, LT, MAX, MIN, MUL, NE, NEG, NOT, OR, POW, SELECT, SIGN, SIN, SINH, SQRT, SUB, TAN,
    TANH, TRUNC, XOR, P, Tape, X,
)
from cytonet.model.tape_model import TapeModel

#: bump when the generated code changes (the kernels' own source is part of the module's name already)
CODEGEN_VERSION = 2
#: expected compile time of a generated kernel: seconds, plus seconds per tape instruction (CPU time measured on the
#: PEtab benchmark models' sensitivity tapes, docs/fit.md)
COMPILE_S, COMPILE_S_PER_INSTRUCTION = 20.0, 5e-3

#: the interpreter's operations as expressions of the operands' locals a, b, c (run_tape's code, op for op)
_EXPR = {
    ADD: "{a} + {b}", SUB: "{a} - {b}", MUL: "{a} * {b}", DIV: "{a} / {b}", NEG: "-{a}",
    EXP: "np.exp({a})", LOG: "np.log({a})", LOG10: "np.log10({a})", SQRT: "np.sqrt({a})", ABS: "abs({a})",
    SIN: "np.sin({a})", COS: "np.cos({a})", TAN: "np.tan({a})", SINH: "np.sinh({a})", COSH: "np.cosh({a})",
    TANH: "np.tanh({a})", ASIN: "np.arcsin({a})", ACOS: "np.arccos({a})", ATAN: "np.arctan({a})",
    ASINH: "np.arcsinh({a})", ACOSH: "np.arccosh({a})", ATANH: "np.arctanh({a})", FLOOR: "np.floor({a})",
    CEIL: "np.ceil({a})", TRUNC: "np.trunc({a})", FACT: "math.gamma({a} + 1.0)", DFACT: "dfact({a})",
    MIN: "{a} if {a} <= {b} else {b}", MAX: "{a} if {a} >= {b} else {b}",
    LT: "1.0 if {a} < {b} else 0.0", LE: "1.0 if {a} <= {b} else 0.0", GT: "1.0 if {a} > {b} else 0.0",
    GE: "1.0 if {a} >= {b} else 0.0", EQ: "1.0 if {a} == {b} else 0.0", NE: "1.0 if {a} != {b} else 0.0",
    AND: "1.0 if ({a} != 0.0 and {b} != 0.0) else 0.0", OR: "1.0 if ({a} != 0.0 or {b} != 0.0) else 0.0",
    XOR: "1.0 if (({a} != 0.0) != ({b} != 0.0)) else 0.0", NOT: "1.0 if {a} == 0.0 else 0.0",
    SELECT: "{b} if {a} != 0.0 else {c}", SIGN: "1.0 if {a} > 0.0 else (-1.0 if {a} < 0.0 else 0.0)",
}


def _literal(v: float) -> str:
    if math.isnan(v):
        return "np.nan"
    if math.isinf(v):
        return "np.inf" if v > 0 else "-np.inf"
    return repr(float(v))


def _expression(tape: Tape, i: int) -> str:
    o, a, b, c = int(tape.op[i]), int(tape.a[i]), int(tape.b[i]), int(tape.c[i])
    if o == CONST:
        return _literal(float(tape.val[i]))
    if o in (X, P, DLOAD):
        return f"{'xpd'[(X, P, DLOAD).index(o)]}[{a}]"
    if o == POW:  # the interpreter squares when the exponent is 2
        if tape.op[b] == CONST:
            return f"r{a} * r{a}" if tape.val[b] == 2.0 else f"r{a} ** r{b}"
        return f"r{a} * r{a} if r{b} == 2.0 else r{a} ** r{b}"
    return _EXPR[o].format(a=f"r{a}", b=f"r{b}", c=f"r{c}")


def tape_source(tape: Tape, cuts: list[int], stored: np.ndarray) -> list[str]:
    """Lines of ``run_tape(T, x, p, d, reg, n)`` for this tape: the registers in order, ``stored`` ones written to
    ``reg``, returning once the first ``n`` are done when ``n`` is one of ``cuts``."""
    keep = np.zeros(tape.size, bool)
    keep[np.asarray(stored, np.int64)] = True
    lines = ['@nb.njit(cache=True, error_model="numpy")', "def run_tape(T, x, p, d, reg, n):"]
    ends = set(cuts)
    for i in range(tape.size):
        lines.append(f"    r{i} = {_expression(tape, i)}")
        if keep[i]:
            lines.append(f"    reg[{i}] = r{i}")
        if i + 1 in ends and i + 1 < tape.size:
            lines.append(f"    if n <= {i + 1}:")
            lines.append("        return")
    return lines


#: the kernels copied into a generated module (the helpers inlined into ``integrate``: a call to a compiled function
#: takes an atomic reference count per array it unpacks, which was half of a small model's time; the triangular solves
#: over the directions too, docs/fit.md)
_INLINED = ("_outputs", "_rhs", "_lu_solve_rows", "_block_solve")
_COPIED = (*_INLINED, "integrate")
_DECORATOR = '@nb.njit(cache=True, error_model="numpy")'
#: ``delayed_values`` of a model without delays: nothing to look up (a model with delays imports the interpreted one,
#: which runs its own delay tape)
_NO_DELAYS = '@nb.njit(cache=True, inline="always")\ndef delayed_values(D, x, p, H, d):\n    return\n'


def _kernel_imports(delays: bool) -> list[str]:
    """The names the copied kernels read from :mod:`cytonet.engine.tape_rodas`, but those the module defines."""
    names: set[str] = set()
    for fn in _COPIED:
        names |= set(getattr(tape_rodas, fn).py_func.__code__.co_names)
    own, defined = vars(tape_rodas), {"run_tape", *_COPIED, *(() if delays else ("delayed_values",))}
    return sorted(n for n in names if n in own and n not in defined and not isinstance(own[n], ModuleType))


#: the line of ``integrate`` that reads the number of directions; a generated kernel of at most ``LITERAL_WIDTH``
#: directions has it as a literal, so that LLVM knows the trip count of every loop over the directions. Measured
#: (docs/fit.md): 0.78-0.90x the time with 3, 8 and 9 directions, no change with 13 and 15, 1.1x slower with 19
_WIDTH = "    w = width[0]\n"
LITERAL_WIDTH = 12


def _copy(fn: str, width: int) -> str:
    src = inspect.getsource(getattr(tape_rodas, fn).py_func)
    if fn in _INLINED:
        assert src.startswith(_DECORATOR + "\n"), f"tape_rodas.{fn} is decorated as the generator expects"
        src = src.replace(_DECORATOR, _DECORATOR.replace("cache=True, ", 'cache=True, inline="always", '), 1)
    if fn == "integrate":
        assert src.count(_WIDTH) == 1, "tape_rodas.integrate reads the directions' count as the generator expects"
        if width <= LITERAL_WIDTH:
            src = src.replace(_WIDTH, f"    w = {width}  # the tape model's directions\n")
    return src


def module_source(tm: TapeModel) -> str:
    """The generated module of tape model ``tm``: its ``run_tape``, and the kernel copies that call it."""
    n_stage, _ = tm.stage_rhs()
    stored = np.unique(np.concatenate([tm.rhs_reg, tm.products[1], tm.root_reg, tm.jac_reg, tm.lower_blocks[2]]))
    head = [f'"""Generated by cytonet.engine.tape_codegen (version {CODEGEN_VERSION}) from a tape model\'s tape; do not edit."""',
            "import math", "", "import numba as nb", "import numpy as np", "",
            f"from cytonet.engine.tape_rodas import {', '.join(_kernel_imports(tm.n_delays > 0))}",
            "from cytonet.model.tape import dfact", "", ""]
    body = tape_source(tm.tape, sorted({n_stage, tm.n_rhs}), stored)
    width = int(tm.products[-1][0])
    copies = [*(() if tm.n_delays else (_NO_DELAYS,)), *(_copy(fn, width) for fn in _COPIED)]
    return "\n".join(head + body) + "\n\n\n" + "\n\n".join(copies)


#: the modules whose functions the generated kernels call: their source is part of the generated module's name
_CALLEES = (tape_rodas, rodas, tape)
_NAMES: dict[int, tuple[str, str, TapeModel]] = {}  # id of a tape model -> (module name, source, the model)


def _named(tm: TapeModel) -> tuple[str, str]:
    """(module name, source) of ``tm``'s kernel; building the source of a large tape takes a while, so it is kept."""
    hit = _NAMES.get(id(tm))
    if hit is None or hit[2] is not tm:
        src = module_source(tm)
        h = hashlib.sha256(src.encode())
        for m in _CALLEES:  # numba's cache of the module does not see a change in the functions it calls
            h.update(inspect.getsource(m).encode())
        hit = _NAMES[id(tm)] = ("cytonet_tape_kernel_" + h.hexdigest()[:24], src, tm)
    return hit[0], hit[1]


def is_built(tm: TapeModel) -> bool:
    """Whether :func:`kernel` would load machine code (loaded already, or in numba's disk cache) instead of compiling."""
    return generated.is_cached(_named(tm)[0], ("run_tape", "integrate"))


def module(tm: TapeModel) -> ModuleType:
    """The generated module of ``tm`` (its ``run_tape`` and kernels), written and imported on first use."""
    name, src = _named(tm)
    return generated.load(name, src, "tape kernel")


def kernel(tm: TapeModel) -> Callable[..., tuple[int, int]]:
    """``integrate`` of :mod:`cytonet.engine.tape_rodas` (same arguments, same results) on the straight-line code of
    ``tm``'s tape; compiled on first use, then loaded from the caches."""
    return module(tm).integrate


class KernelChoice:
    """Which kernel a tape model's repeated integrations use: the interpreter until the time they took exceeds the
    generated kernel's expected compile time (or at once when its machine code is cached), then the generated one."""

    def __init__(self, tm: TapeModel) -> None:
        self.tm = tm
        self.interpreted_s = 0.0
        self.compile_s = COMPILE_S + COMPILE_S_PER_INSTRUCTION * tm.tape.size
        self.built: Callable[..., tuple[int, int]] | None = kernel(tm) if is_built(tm) else None

    def current(self) -> Callable[..., tuple[int, int]] | None:
        """The generated kernel once it pays, else None (the interpreter)."""
        if self.built is None and self.interpreted_s >= self.compile_s:
            self.build()
        return self.built

    def build(self) -> Callable[..., tuple[int, int]]:
        """The generated kernel, compiled now if it is not yet."""
        if self.built is None:
            self.built = kernel(self.tm)
        return self.built

    def spent(self, seconds: float, used: Callable[..., tuple[int, int]] | None) -> None:
        """Count ``seconds`` of integration on kernel ``used`` (only the interpreter's count towards compiling)."""
        if used is None:
            self.interpreted_s += seconds
