"""PEtab observable and noise formulas as cytonet's safe expression trees (parsed, never eval'd)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from cytonet.errors import ModelSpecError
from cytonet.model.expr import BinOp, Call, Name, Neg, Node, parse

_PLACEHOLDER = re.compile(r"^(observable|noise)Parameter([1-9][0-9]*)_([A-Za-z_][A-Za-z0-9_]*)$")


def placeholder(kind: str, k: int, observable: str) -> str:
    """``observableParameter{k}_{obs}`` or ``noiseParameter{k}_{obs}`` (1-based k)."""
    return f"{kind}Parameter{k}_{observable}"


def placeholders_in(names: Collection[str], kind: str, observable: str) -> int:
    """How many ``kind`` placeholders of ``observable`` the names use (the highest index)."""
    top = 0
    for n in names:
        m = _PLACEHOLDER.match(n)
        if m and m.group(1) == kind and m.group(3) == observable:
            top = max(top, int(m.group(2)))
    return top


def parse_formula(text: object, names: Collection[str], where: str, aliases: Mapping[str, str] | None = None) -> Node:
    """Parse a PEtab (sympy-syntax) formula: ``^`` is a power, as in PEtab; everything else as cytonet expressions.

    ``aliases`` (PEtab v2 mapping table: PEtab ID -> model ID) may be used as names and are replaced.
    """
    from cytonet.fit.problem import PetabError

    s = repr(float(text)) if isinstance(text, (int, float)) else str(text)
    al = dict(aliases or {})
    try:
        node = parse(s.replace("^", "**"), {*names, *al}, where)
    except ModelSpecError as err:
        raise PetabError(str(err)) from None
    return rename(node, al) if al else node


def rename(node: Node, names: Mapping[str, str]) -> Node:
    """The tree with names replaced by ``names`` (others kept)."""
    if isinstance(node, Name):
        return Name(names.get(node.id, node.id))
    if isinstance(node, Neg):
        return Neg(rename(node.operand, names))
    if isinstance(node, BinOp):
        return BinOp(node.op, rename(node.left, names), rename(node.right, names))
    if isinstance(node, Call):
        return Call(node.func, tuple(rename(a, names) for a in node.args))
    return node
