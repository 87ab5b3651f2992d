"""Safe arithmetic expressions for observables: parsed by a whitelist walk, never eval'd.

``parse("IL6 / (IL6 + K)", names)`` gives a small immutable tree that is evaluated over numpy
arrays (:func:`evaluate`) and rendered to an SBML L3 infix formula (:func:`to_sbml`).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from cytonet.errors import ModelSpecError, close_matches
from cytonet.limits import MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH

#: Functions an expression may call, with their arity (None: two or more arguments).
FUNCTIONS: dict[str, int | None] = {
    "exp": 1, "log": 1, "log10": 1, "sqrt": 1, "abs": 1, "min": None, "max": None,
}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "^"}
_NUMPY = {"exp": np.exp, "log": np.log, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs}


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


Node = Num | Name | Neg | BinOp | Call


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
    if isinstance(n, ast.Constant) and type(n.value) in (int, float):
        return Num(float(n.value))
    if isinstance(n, ast.Name):
        if n.id not in names:
            sugg = close_matches(n.id, names)
            hint = f"; did you mean {' or '.join(sugg)}?" if sugg else "; use a species or parameter id"
            raise ModelSpecError(f"{where}: unknown name {n.id!r} in {text!r}{hint}")
        return Name(n.id)
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
        inner = _walk(n.operand, names, where, text)
        return Neg(inner) if isinstance(n.op, ast.USub) else inner
    if isinstance(n, ast.BinOp) and type(n.op) in _BINOPS:
        return BinOp(_BINOPS[type(n.op)], _walk(n.left, names, where, text), _walk(n.right, names, where, text))
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in FUNCTIONS and not n.keywords:
        arity = FUNCTIONS[n.func.id]
        if (arity is not None and len(n.args) != arity) or (arity is None and len(n.args) < 2):
            want = arity if arity is not None else "2 or more"
            raise ModelSpecError(f"{where}: {n.func.id}() takes {want} arguments, got {len(n.args)} in {text!r}")
        return Call(n.func.id, tuple(_walk(a, names, where, text) for a in n.args))
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
    if isinstance(node, Call):
        return set().union(*(names_in(a) for a in node.args))
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
    args = [evaluate(a, values) for a in node.args]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if node.func == "min":
            return np.minimum.reduce(np.broadcast_arrays(*args))
        if node.func == "max":
            return np.maximum.reduce(np.broadcast_arrays(*args))
        return _NUMPY[node.func](args[0])


_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


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
    fn = {"log": "ln", "log10": "log10"}.get(node.func, node.func)
    return f"{fn}({', '.join(_render(a, 0) for a in node.args)})"
