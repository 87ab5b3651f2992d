"""MathML (a libsbml AST) to the safe expression tree of :mod:`cytonet.model.expr`.

Every AST node type maps to tree nodes by a fixed table; user function definitions are inlined
by substituting their arguments; ``rateOf`` becomes the variable's rate expression; anything else
(distributions, ``delay`` of a ``rateOf``, ...) is refused with a ``ModelSpecError`` naming the
element. Nothing here evaluates or compiles text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import libsbml

from cytonet.errors import ModelSpecError
from cytonet.model.expr import TIME, BinOp, Call, Compare, Logic, Name, Neg, Node, Num, Piecewise

#: the value SBML Level 3 defines for its avogadro csymbol (CODATA 2006)
AVOGADRO = 6.02214179e23
_ONE, _ZERO = Num(1.0), Num(0.0)

_UNARY = {
    libsbml.AST_FUNCTION_ABS: "abs", libsbml.AST_FUNCTION_EXP: "exp", libsbml.AST_FUNCTION_LN: "log",
    libsbml.AST_FUNCTION_SIN: "sin", libsbml.AST_FUNCTION_COS: "cos", libsbml.AST_FUNCTION_TAN: "tan",
    libsbml.AST_FUNCTION_SINH: "sinh", libsbml.AST_FUNCTION_COSH: "cosh", libsbml.AST_FUNCTION_TANH: "tanh",
    libsbml.AST_FUNCTION_ARCSIN: "arcsin", libsbml.AST_FUNCTION_ARCCOS: "arccos", libsbml.AST_FUNCTION_ARCTAN: "arctan",
    libsbml.AST_FUNCTION_ARCSINH: "arcsinh", libsbml.AST_FUNCTION_ARCCOSH: "arccosh",
    libsbml.AST_FUNCTION_ARCTANH: "arctanh", libsbml.AST_FUNCTION_FLOOR: "floor",
    libsbml.AST_FUNCTION_CEILING: "ceil", libsbml.AST_FUNCTION_FACTORIAL: "factorial",
}
#: reciprocal trigonometry: f(x) = 1 / g(x)
_RECIPROCAL = {libsbml.AST_FUNCTION_SEC: "cos", libsbml.AST_FUNCTION_CSC: "sin", libsbml.AST_FUNCTION_COT: "tan",
               libsbml.AST_FUNCTION_SECH: "cosh", libsbml.AST_FUNCTION_CSCH: "sinh", libsbml.AST_FUNCTION_COTH: "tanh"}
#: inverse reciprocal trigonometry: f(x) = g(1 / x)
_INVERSE_RECIPROCAL = {libsbml.AST_FUNCTION_ARCSEC: "arccos", libsbml.AST_FUNCTION_ARCCSC: "arcsin",
                       libsbml.AST_FUNCTION_ARCCOT: "arctan", libsbml.AST_FUNCTION_ARCSECH: "arccosh",
                       libsbml.AST_FUNCTION_ARCCSCH: "arcsinh", libsbml.AST_FUNCTION_ARCCOTH: "arctanh"}
_RELATIONAL = {libsbml.AST_RELATIONAL_EQ: "==", libsbml.AST_RELATIONAL_NEQ: "!=", libsbml.AST_RELATIONAL_LT: "<",
               libsbml.AST_RELATIONAL_LEQ: "<=", libsbml.AST_RELATIONAL_GT: ">", libsbml.AST_RELATIONAL_GEQ: ">="}
_LOGICAL = {libsbml.AST_LOGICAL_AND: "and", libsbml.AST_LOGICAL_OR: "or", libsbml.AST_LOGICAL_XOR: "xor"}
_CONSTANTS = {libsbml.AST_CONSTANT_E: math.e, libsbml.AST_CONSTANT_PI: math.pi, libsbml.AST_CONSTANT_TRUE: 1.0,
              libsbml.AST_CONSTANT_FALSE: 0.0, libsbml.AST_NAME_AVOGADRO: AVOGADRO}
_NUMBERS = {libsbml.AST_INTEGER, libsbml.AST_REAL, libsbml.AST_REAL_E, libsbml.AST_RATIONAL}


def _contains(ast: libsbml.ASTNode, kind: int) -> bool:
    return ast.getType() == kind or any(_contains(ast.getChild(i), kind) for i in range(ast.getNumChildren()))


def _fold(op: str, args: list[Node], empty: Node) -> Node:
    if not args:
        return empty
    out = args[0]
    for a in args[1:]:
        out = BinOp(op, out, a)
    return out


class MathConverter:
    """Converts ASTs of one model: ``functions`` are its function definitions (id -> lambda AST).

    ``resolve(name)`` maps an SBML identifier to a tree (a renamed local parameter, an inlined
    reaction rate, a constant stoichiometry, ...); ``rate_of(name)`` gives the tree of its time
    derivative for ``rateOf``.
    """

    def __init__(self, functions: Mapping[str, libsbml.ASTNode], resolve: Callable[[str], Node],
                 rate_of: Callable[[str, str], Node]) -> None:
        self.functions = functions
        self.resolve = resolve
        self.rate_of = rate_of

    def convert(self, ast: libsbml.ASTNode | None, where: str, bound: Mapping[str, Node] | None = None) -> Node:
        if ast is None:
            raise ModelSpecError(f"{where}: no math; give it a MathML expression")
        return self._node(ast, where, dict(bound or {}), ())

    def _node(self, ast: libsbml.ASTNode, where: str, bound: dict[str, Node], stack: tuple[str, ...]) -> Node:
        t = ast.getType()
        kids = [self._node(ast.getChild(i), where, bound, stack) for i in range(ast.getNumChildren())] \
            if t not in (libsbml.AST_FUNCTION, libsbml.AST_FUNCTION_RATE_OF, libsbml.AST_LAMBDA) else []
        if t in _NUMBERS:
            return Num(float(ast.getValue()))
        if t in _CONSTANTS:
            return Num(_CONSTANTS[t])
        if t == libsbml.AST_NAME:
            name = ast.getName()
            return bound[name] if name in bound else self.resolve(name)
        if t == libsbml.AST_NAME_TIME:
            return TIME
        if t == libsbml.AST_PLUS:
            return _fold("+", kids, _ZERO)
        if t == libsbml.AST_TIMES:
            return _fold("*", kids, _ONE)
        if t == libsbml.AST_MINUS:
            if len(kids) == 1:
                return Neg(kids[0])
            return BinOp("-", kids[0], kids[1])
        if t == libsbml.AST_DIVIDE:
            return BinOp("/", kids[0], kids[1])
        if t in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            return BinOp("^", kids[0], kids[1])
        if t == libsbml.AST_FUNCTION_ROOT:
            if len(kids) == 1:
                return Call("sqrt", (kids[0],))
            return BinOp("^", kids[1], BinOp("/", _ONE, kids[0]))
        if t == libsbml.AST_FUNCTION_LOG:
            if len(kids) == 1:
                return Call("log10", (kids[0],))
            return BinOp("/", Call("log", (kids[1],)), Call("log", (kids[0],)))
        if t in _UNARY:
            return Call(_UNARY[t], (kids[0],))
        if t in _RECIPROCAL:
            return BinOp("/", _ONE, Call(_RECIPROCAL[t], (kids[0],)))
        if t in _INVERSE_RECIPROCAL:
            return Call(_INVERSE_RECIPROCAL[t], (BinOp("/", _ONE, kids[0]),))
        if t in (libsbml.AST_FUNCTION_MAX, libsbml.AST_FUNCTION_MIN):
            fn = "max" if t == libsbml.AST_FUNCTION_MAX else "min"
            return kids[0] if len(kids) == 1 else Call(fn, tuple(kids))
        if t == libsbml.AST_FUNCTION_QUOTIENT:
            return Call("trunc", (BinOp("/", kids[0], kids[1]),))
        if t == libsbml.AST_FUNCTION_REM:
            return BinOp("-", kids[0], BinOp("*", kids[1], Call("trunc", (BinOp("/", kids[0], kids[1]),))))
        if t in _RELATIONAL:
            op = _RELATIONAL[t]
            tests = [Compare(op, a, b) for a, b in zip(kids, kids[1:])]
            if not tests:
                return _ONE
            return tests[0] if len(tests) == 1 else Logic("and", tuple(tests))
        if t in _LOGICAL:
            if not kids:
                return _ONE if t == libsbml.AST_LOGICAL_AND else _ZERO
            return kids[0] if len(kids) == 1 and t != libsbml.AST_LOGICAL_XOR else Logic(_LOGICAL[t], tuple(kids))
        if t == libsbml.AST_LOGICAL_NOT:
            return Logic("not", (kids[0],))
        if t == libsbml.AST_LOGICAL_IMPLIES:
            return Logic("or", (Logic("not", (kids[0],)), kids[1]))
        if t == libsbml.AST_FUNCTION_PIECEWISE:
            pairs = tuple((kids[i], kids[i + 1]) for i in range(0, len(kids) - 1, 2))
            return Piecewise(pairs, kids[-1] if len(kids) % 2 else None)
        if t == libsbml.AST_FUNCTION_RATE_OF:
            arg = ast.getChild(0) if ast.getNumChildren() == 1 else None
            if arg is None or arg.getType() != libsbml.AST_NAME:
                raise ModelSpecError(f"{where}: rateOf() takes one variable name")
            return self.rate_of(arg.getName(), where)
        if t == libsbml.AST_FUNCTION:
            return self._call(ast, where, bound, stack)
        if t == libsbml.AST_FUNCTION_DELAY:
            if _contains(ast.getChild(0), libsbml.AST_FUNCTION_RATE_OF):
                raise ModelSpecError(f"{where}: delay() of an expression with rateOf() is not supported")
            return Call("delay", (kids[0], kids[1]))
        raise ModelSpecError(f"{where}: MathML element {libsbml.formulaToL3String(ast)!r} is not supported")

    def _call(self, ast: libsbml.ASTNode, where: str, bound: dict[str, Node], stack: tuple[str, ...]) -> Node:
        name = ast.getName()
        lam = self.functions.get(name)
        if lam is None:
            raise ModelSpecError(f"{where}: call of unknown function {name!r}")
        if name in stack:
            raise ModelSpecError(f"{where}: function definition {name!r} calls itself")
        nb = lam.getNumBvars()
        if ast.getNumChildren() != nb:
            raise ModelSpecError(f"{where}: function {name!r} takes {nb} arguments, got {ast.getNumChildren()}")
        args = {lam.getChild(i).getName(): self._node(ast.getChild(i), where, bound, stack) for i in range(nb)}
        body = lam.getChild(lam.getNumChildren() - 1) if lam.getNumChildren() > nb else None
        if body is None:
            raise ModelSpecError(f"{where}: function definition {name!r} has no body")
        # a function body sees only its arguments (and csymbols), never the model's variables
        return _FunctionBody(self, name).node(body, where, args, (*stack, name))


class _FunctionBody(MathConverter):
    """Converter of a function definition's body: names must be its arguments."""

    def __init__(self, outer: MathConverter, name: str) -> None:
        def resolve(n: str) -> Node:
            raise ModelSpecError(f"function definition {name!r} uses {n!r}, which is not one of its arguments")

        super().__init__(outer.functions, resolve, outer.rate_of)

    def node(self, ast: libsbml.ASTNode, where: str, bound: dict[str, Node], stack: tuple[str, ...]) -> Node:
        return self._node(ast, where, bound, stack)
