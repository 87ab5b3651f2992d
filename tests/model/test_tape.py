"""The expression tape: evaluation equals the tree's numpy evaluation, derivatives equal finite differences."""

import numpy as np
import pytest

from cytonet.model.expr import evaluate, parse
from cytonet.model.tape import TapeBuilder, run_tape

NAMES = {"a", "b", "k"}
EXPRESSIONS = [
    "a * b + k / (a + 1.5) - a ** 2.5",
    "exp(-k * a) * log(b + 2) + sqrt(a * a + 1) + log10(b + 3)",
    "sin(a) * cos(b) + tan(a / 3) + sinh(b / 4) - cosh(a / 5) + tanh(b)",
    "arcsin(a / 4) + arccos(b / 5) + arctan(a * b) + arcsinh(a) + arccosh(b + 2) + arctanh(a / 3)",
    "piecewise(a * b, a < b, b ** 2, a >= 2 and not (b > 3), a + b)",
    "min(a, b, k) + max(a * 2, b) + abs(a - b) + floor(a) + ceil(b) + trunc(-a)",
    "a ** b + b ** k + xor(a > 1, b > 1) + (a == b) + (a != b)",
    "factorial(a) + 3 * time()",
]
POINTS = [(0.7, 1.3), (1.9, 0.4), (2.6, 2.2)]


def build(text: str):
    tree = parse(text, NAMES)
    b = TapeBuilder()
    regs = {"a": b.x(0), "b": b.x(1), "time()": b.x(2), "k": b.p(0)}
    out = b.lower(tree, regs.__getitem__)
    grads = [b.derivative(out, i) for i in range(3)]
    return tree, b, out, grads


def evaluate_tape(b: TapeBuilder, x, p):
    tape, _ = b.build()
    reg = np.empty(tape.size)
    run_tape(tape.arrays(), np.asarray(x, float), np.asarray(p, float), np.zeros(0), reg, tape.size)
    return reg


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_tape_evaluates_as_the_tree(text):
    tree, b, out, _ = build(text)
    for a, bb in POINTS:
        reg = evaluate_tape(b, [a, bb, 0.8], [0.9])
        expected = float(evaluate(tree, {"a": a, "b": bb, "k": 0.9, "time": 0.8}))
        assert reg[out] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_symbolic_derivatives_match_central_differences(text):
    _, b, out, grads = build(text)
    for a, bb in POINTS:
        x = np.array([a, bb, 0.8])
        reg = evaluate_tape(b, x, [0.9])
        for i, g in enumerate(grads):
            h = 1e-6
            up, dn = x.copy(), x.copy()
            up[i] += h
            dn[i] -= h
            fd = (evaluate_tape(b, up, [0.9])[out] - evaluate_tape(b, dn, [0.9])[out]) / (2 * h)
            assert reg[g] == pytest.approx(fd, rel=1e-6, abs=1e-7), (text, i, a, bb)


def test_common_subexpressions_share_one_register_and_constants_fold():
    b = TapeBuilder()
    x = b.x(0)
    tree = parse("(a * k + 1) * (a * k + 1) + 2 * 3 + a * 1 + 0 * k", NAMES)
    out = b.lower(tree, {"a": x, "k": b.p(0)}.__getitem__)
    tape, new = b.build([out])
    # loads of a and k, a*k, the constant 1, +1, the square, the folded 6, two additions: nothing twice, no 0*k, no *1
    assert tape.size == 9 and list(tape.val).count(6.0) == 1
    reg = np.empty(tape.size)
    run_tape(tape.arrays(), np.array([2.0]), np.array([0.5]), np.zeros(0), reg, tape.size)
    assert reg[new[out]] == pytest.approx((2 * 0.5 + 1) ** 2 + 6 + 2)
