"""Algebraic rules that are linear in the one variable they determine, solved into assignment rules.

An SBML algebraic rule ``0 = f(v, ...)`` determines a variable ``v`` that nothing else does. When
``f`` is linear in ``v`` (``f = a v + b`` with ``a`` and ``b`` free of ``v``) the rule is the
assignment ``v = -b / a``; anything else is a genuine DAE, which cytonet refuses.
"""

from __future__ import annotations

from cytonet.model.expr import BinOp, Name, Neg, Node, Num, names_in

_ZERO = Num(0.0)


def _add(a: Node, b: Node) -> Node:
    return b if a == _ZERO else a if b == _ZERO else BinOp("+", a, b)


def _mul(a: Node, b: Node) -> Node:
    return _ZERO if _ZERO in (a, b) else BinOp("*", a, b)


def linear_parts(tree: Node, var: str) -> tuple[Node, Node] | None:
    """(a, b) with ``tree = a * var + b``, or None when ``tree`` is not linear in ``var``."""
    if var not in names_in(tree):
        return _ZERO, tree
    if isinstance(tree, Name):
        return Num(1.0), _ZERO
    if isinstance(tree, Neg):
        inner = linear_parts(tree.operand, var)
        return None if inner is None else (Neg(inner[0]), Neg(inner[1]))
    if isinstance(tree, BinOp) and tree.op in "+-":
        left, right = linear_parts(tree.left, var), linear_parts(tree.right, var)
        if left is None or right is None:
            return None
        if tree.op == "+":
            return _add(left[0], right[0]), _add(left[1], right[1])
        return BinOp("-", left[0], right[0]), BinOp("-", left[1], right[1])
    if isinstance(tree, BinOp) and tree.op == "*":
        left, right = linear_parts(tree.left, var), linear_parts(tree.right, var)
        if left is None or right is None:
            return None
        if left[0] == _ZERO:
            return _mul(tree.left, right[0]), _mul(tree.left, right[1])
        if right[0] == _ZERO:
            return _mul(left[0], tree.right), _mul(left[1], tree.right)
        return None
    if isinstance(tree, BinOp) and tree.op == "/" and var not in names_in(tree.right):
        left = linear_parts(tree.left, var)
        return None if left is None else (BinOp("/", left[0], tree.right), BinOp("/", left[1], tree.right))
    return None


def solve_for(tree: Node, var: str) -> Node | None:
    """``var`` from ``0 = tree`` when linear in it (else None)."""
    parts = linear_parts(tree, var)
    if parts is None or parts[0] == _ZERO:
        return None
    return BinOp("/", Neg(parts[1]), parts[0])
