"""PEtab observable and noise formulas as cytonet's safe expression trees (parsed, never eval'd)."""

from __future__ import annotations

import re
from collections.abc import Collection

from cytonet.errors import ModelSpecError
from cytonet.model.expr import Node, parse

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


def parse_formula(text: object, names: Collection[str], where: str) -> Node:
    """Parse a PEtab (sympy-syntax) formula: ``^`` is a power, as in PEtab; everything else as cytonet expressions."""
    from cytonet.fit.problem import PetabError

    s = repr(float(text)) if isinstance(text, (int, float)) else str(text)
    try:
        return parse(s.replace("^", "**"), names, where)
    except ModelSpecError as err:
        raise PetabError(str(err)) from None
