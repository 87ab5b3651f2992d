"""Safe expressions for observables and imported rate laws: parsed by a whitelist walk, never eval'd.

``parse("IL6 / (IL6 + K)", names)`` gives a small immutable tree that is evaluated over numpy
arrays (:func:`evaluate`), rendered back to text (:func:`to_text`) and to an SBML L3 infix formula
(:func:`to_sbml`). Beyond arithmetic the grammar has comparisons (``<`` ``<=`` ``>`` ``>=`` ``==``
``!=``), ``and`` ``or`` ``not`` ``xor(...)``, ``piecewise(value1, condition1, ..., [otherwise])``,
``time()``, ``delay(value, lag)`` (the value ``lag`` time units ago) and the functions of
:data:`FUNCTIONS`; truth values are the numbers 1 and 0.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from cytonet.errors import ModelSpecError, did_you_mean
from cytonet.limits import MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH

#: Functions an expression may call, with their arity (None: two or more arguments).
FUNCTIONS: dict[str, int | None] = {
    "exp": 1, "log": 1, "log10": 1, "sqrt": 1, "abs": 1, "min": None, "max": None,
    "sin": 1, "cos": 1, "tan": 1, "sinh": 1, "cosh": 1, "tanh": 1, "arcsin": 1, "arccos": 1, "arctan": 1,
    "arcsinh": 1, "arccosh": 1, "arctanh": 1, "floor": 1, "ceil": 1, "trunc": 1, "factorial": 1,
    "xor": None, "piecewise": -1, "time": 0, "delay": 2,
}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "^"}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_NUMPY = {"exp": np.exp, "log": np.log, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs,
          "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
          "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "arcsinh": np.arcsinh,
          "arccosh": np.arccosh, "arctanh": np.arctanh, "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc}


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * / ^
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Compare:
    op: str  # one of < <= > >= == !=
    left: Node
    right: Node


@dataclass(frozen=True)
class Logic:
    op: str  # and, or, xor (two or more args) or not (one)
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Piecewise:
    """The first ``value`` whose ``condition`` is true, else ``otherwise`` (NaN when absent)."""

    pieces: tuple[tuple[Node, Node], ...]
    otherwise: Node | None


Node = Num | Name | Neg | BinOp | Call | Compare | Logic | Piecewise

TIME = Call("time", ())


def parse(text: str, names: Collection[str], where: str = "expression") -> Node:
    """Parse ``text`` into a tree, allowing only numbers, ``names``, + - * / ** unary -, and :data:`FUNCTIONS`."""
    if not isinstance(text, str) or not text.strip():
        raise ModelSpecError(f"{where}: expression must be a non-empty string, got {text!r}")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ModelSpecError(f"{where}: expression is longer than {MAX_EXPRESSION_CHARS} characters; split it into observables")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as err:
        why = getattr(err, "msg", "too deeply nested")
        raise ModelSpecError(f"{where}: cannot parse {text[:80]!r} ({why}); use numbers, names, + - * / ** and {sorted(FUNCTIONS)}") from None
    if _depth(tree.body) > MAX_EXPRESSION_DEPTH:
        raise ModelSpecError(f"{where}: expression is nested deeper than {MAX_EXPRESSION_DEPTH} levels "
                             "(e.g. a sum of that many terms); split it into observables")
    return _walk(tree.body, set(names), where, text)


def _depth(root: ast.AST) -> int:
    """Depth of an AST, measured without recursion."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _walk(n: ast.AST, names: set[str], where: str, text: str) -> Node:
    if isinstance(n, ast.Constant) and type(n.value) in (int, float, bool):
        return Num(float(n.value))
    if isinstance(n, ast.Name):
        if n.id not in names:
            hint = did_you_mean(n.id, names, "; use a species or parameter id")
            raise ModelSpecError(f"{where}: unknown name {n.id!r} in {text!r}{hint}")
        return Name(n.id)
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
        inner = _walk(n.operand, names, where, text)
        return Neg(inner) if isinstance(n.op, ast.USub) else inner
    if isinstance(n, ast.BinOp) and type(n.op) in _BINOPS:
        return BinOp(_BINOPS[type(n.op)], _walk(n.left, names, where, text), _walk(n.right, names, where, text))
    if isinstance(n, ast.Compare):
        sides = [_walk(v, names, where, text) for v in (n.left, *n.comparators)]
        tests = [Compare(_CMPOPS[type(o)], a, b) for o, a, b in zip(n.ops, sides, sides[1:]) if type(o) in _CMPOPS]
        if len(tests) != len(n.ops):
            raise ModelSpecError(f"{where}: only < <= > >= == != compare, in {text!r}")
        return tests[0] if len(tests) == 1 else Logic("and", tuple(tests))
    if isinstance(n, ast.BoolOp):
        return Logic("and" if isinstance(n.op, ast.And) else "or", tuple(_walk(v, names, where, text) for v in n.values))
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not):
        return Logic("not", (_walk(n.operand, names, where, text),))
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in FUNCTIONS and not n.keywords:
        arity = FUNCTIONS[n.func.id]
        args = tuple(_walk(a, names, where, text) for a in n.args)
        if arity == -1:
            if not args:
                raise ModelSpecError(f"{where}: piecewise() needs value, condition pairs in {text!r}")
            pairs = tuple((args[i], args[i + 1]) for i in range(0, len(args) - 1, 2))
            return Piecewise(pairs, args[-1] if len(args) % 2 else None)
        if (arity is not None and len(n.args) != arity) or (arity is None and len(n.args) < (1 if n.func.id == "xor" else 2)):
            want = arity if arity is not None else "2 or more"
            raise ModelSpecError(f"{where}: {n.func.id}() takes {want} arguments, got {len(n.args)} in {text!r}")
        return Logic("xor", args) if n.func.id == "xor" else Call(n.func.id, args)
    bad = ast.unparse(n) if hasattr(ast, "unparse") else type(n).__name__
    raise ModelSpecError(
        f"{where}: {bad!r} is not allowed in {text!r}; only numbers, names, + - * / **, unary - and {sorted(FUNCTIONS)}"
    )


def names_in(node: Node) -> set[str]:
    """Every name the tree refers to."""
    if isinstance(node, Name):
        return {node.id}
    if isinstance(node, Neg):
        return names_in(node.operand)
    if isinstance(node, BinOp):
        return names_in(node.left) | names_in(node.right)
    if isinstance(node, (Compare, BinOp)):
        return names_in(node.left) | names_in(node.right)
    if isinstance(node, (Call, Logic)):
        return set().union(*(names_in(a) for a in node.args))
    if isinstance(node, Piecewise):
        parts = [n for pc in node.pieces for n in pc] + ([node.otherwise] if node.otherwise is not None else [])
        return set().union(*(names_in(a) for a in parts))
    return set()


def evaluate(node: Node, values: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """Evaluate the tree with numpy, names looked up in ``values`` (arrays broadcast)."""
    if isinstance(node, Num):
        return np.asarray(node.value)
    if isinstance(node, Name):
        return np.asarray(values[node.id], dtype=float)
    if isinstance(node, Neg):
        return -evaluate(node.operand, values)
    if isinstance(node, BinOp):
        a, b = evaluate(node.left, values), evaluate(node.right, values)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if node.op == "+":
                return a + b
            if node.op == "-":
                return a - b
            if node.op == "*":
                return a * b
            if node.op == "/":
                return a / b
            return np.power(a, b)
    if isinstance(node, Compare):
        a, b = evaluate(node.left, values), evaluate(node.right, values)
        return np.asarray(_COMPARE[node.op](a, b), dtype=float)
    if isinstance(node, Logic):
        args = [evaluate(a, values) != 0 for a in node.args]
        if node.op == "not":
            return np.asarray(~args[0], dtype=float)
        red = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}[node.op]
        return np.asarray(red.reduce(np.broadcast_arrays(*args)), dtype=float)
    if isinstance(node, Piecewise):
        out = evaluate(node.otherwise, values) if node.otherwise is not None else np.asarray(np.nan)
        for value, cond in reversed(node.pieces):
            out = np.where(evaluate(cond, values) != 0, evaluate(value, values), out)
        return np.asarray(out, dtype=float)
    if node.func == "time":
        return np.asarray(values["time"], dtype=float)
    args = [evaluate(a, values) for a in node.args]
    if node.func == "delay":  # only ever evaluated at the start, when the past is the initial state
        return args[0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if node.func == "factorial":
            from scipy.special import gamma

            return gamma(args[0] + 1.0)
        if node.func == "min":
            return np.minimum.reduce(np.broadcast_arrays(*args))
        if node.func == "max":
            return np.maximum.reduce(np.broadcast_arrays(*args))
        return _NUMPY[node.func](args[0])


_COMPARE = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal, "!=": np.not_equal}
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


def to_text(node: Node) -> str:
    """Render in the grammar :func:`parse` reads (floats written exactly), fully parenthesised."""
    if isinstance(node, Num):
        v = node.value
        return repr(v) if np.isfinite(v) else {np.inf: "(1.0 / 0.0)", -np.inf: "(-1.0 / 0.0)"}.get(v, "(0.0 / 0.0)")
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Neg):
        return f"(-{to_text(node.operand)})"
    if isinstance(node, BinOp):
        op = "**" if node.op == "^" else node.op
        return f"({to_text(node.left)} {op} {to_text(node.right)})"
    if isinstance(node, Compare):
        return f"({to_text(node.left)} {node.op} {to_text(node.right)})"
    if isinstance(node, Logic):
        if node.op == "not":
            return f"(not {to_text(node.args[0])})"
        if node.op == "xor":
            return f"xor({', '.join(to_text(a) for a in node.args)})"
        return "(" + f" {node.op} ".join(to_text(a) for a in node.args) + ")"
    if isinstance(node, Piecewise):
        parts = [to_text(x) for pc in node.pieces for x in pc]
        if node.otherwise is not None:
            parts.append(to_text(node.otherwise))
        return f"piecewise({', '.join(parts)})"
    return f"{node.func}({', '.join(to_text(a) for a in node.args)})"


def to_sbml(node: Node) -> str:
    """Render as an SBML L3 infix formula (``libsbml.parseL3Formula`` reads it back)."""
    return _render(node, 0)


def _render(node: Node, parent: int) -> str:
    if isinstance(node, Num):
        return repr(node.value)
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Neg):
        return f"(-{_render(node.operand, 3)})"
    if isinstance(node, BinOp):
        p = _PREC[node.op]
        text = f"{_render(node.left, p)} {node.op} {_render(node.right, p + 1)}"
        return f"({text})" if p < parent or node.op == "^" else text
    if isinstance(node, Compare):
        return f"({_render(node.left, 0)} {node.op} {_render(node.right, 0)})"
    if isinstance(node, Logic):
        if node.op == "not":
            return f"!({_render(node.args[0], 0)})"
        if node.op == "xor":
            return f"xor({', '.join(_render(a, 0) for a in node.args)})"
        return "(" + (" && " if node.op == "and" else " || ").join(_render(a, 0) for a in node.args) + ")"
    if isinstance(node, Piecewise):
        parts = [_render(x, 0) for pc in node.pieces for x in pc] + ([_render(node.otherwise, 0)] if node.otherwise else [])
        return f"piecewise({', '.join(parts)})"
    if node.func == "time":
        return "time"
    fn = {"log": "ln", "log10": "log10"}.get(node.func, node.func)
    return f"{fn}({', '.join(_render(a, 0) for a in node.args)})"
