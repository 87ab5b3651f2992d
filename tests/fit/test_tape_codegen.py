"""Generated straight-line tape kernels against the interpreted tape: every operation, and every PEtab benchmark problem's
right-hand side, Jacobian, second derivatives, sensitivities and gradient, bit for bit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from cytonet.engine import generated, tape_codegen
from cytonet.model import tape as tp
from cytonet.model.tape import TapeBuilder, run_tape

ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "petab-benchmark"
PROBLEMS = sorted(p.name for p in ROOT.iterdir() if p.is_dir()) if ROOT.is_dir() else []

UNARY = (tp.NEG, tp.EXP, tp.LOG, tp.LOG10, tp.SQRT, tp.ABS, tp.SIN, tp.COS, tp.TAN, tp.SINH, tp.COSH, tp.TANH, tp.ASIN,
         tp.ACOS, tp.ATAN, tp.ASINH, tp.ATANH, tp.FLOOR, tp.CEIL, tp.TRUNC, tp.FACT, tp.DFACT, tp.SIGN, tp.NOT)
BINARY = (tp.ADD, tp.SUB, tp.MUL, tp.DIV, tp.POW, tp.MIN, tp.MAX, tp.LT, tp.LE, tp.GT, tp.GE, tp.EQ, tp.NE, tp.AND,
          tp.OR, tp.XOR)


def _every_operation() -> tuple[tp.Tape, list[int]]:
    """A tape applying every operation to states, parameters and constants (exponents: 2, 3.5, a parameter that is 2
    at some points, a state), with the registers it exposes."""
    b = TapeBuilder()
    u, v, w = b.x(0), b.x(1), b.p(0)
    out = [b.node(op, u) for op in UNARY] + [b.node(tp.ACOSH, b.node(tp.ADD, b.const(1.0), b.node(tp.ABS, v)))]
    for op in BINARY:
        out += [b.node(op, u, v), b.node(op, v, u), b.node(op, u, u)]
    out += [b.node(tp.POW, v, e) for e in (b.const(2.0), b.const(3.5), w, u)]
    out += [b.node(tp.SELECT, b.node(tp.LT, u, v), u, v), b.node(tp.SELECT, u, v, w), b.const(np.nan), b.const(-np.inf)]
    tape, new = b.build(out)
    return tape, [int(new[r]) for r in out]


def test_every_operation_matches_the_interpreter_bit_for_bit() -> None:
    tape, regs = _every_operation()
    stored = np.asarray(regs, np.int64)
    cut = tape.size // 2
    src = "\n".join(["import math", "import numba as nb", "import numpy as np", "from cytonet.model.tape import dfact", "", ""]
                    + tape_codegen.tape_source(tape, [cut], stored)) + "\n"
    run_generated = generated.load("cytonet_tape_test_" + hashlib.sha256(src.encode()).hexdigest()[:24], src, "test tape").run_tape
    rng = np.random.default_rng(0)
    points = [(0.0, 0.0, 2.0), (0.5, 0.5, 2.0), (-0.7, 1.3, 2.0), (0.3, -2.5, -1.0), (0.0, 1.0, 0.5)]
    points += [tuple(r) for r in rng.uniform(-0.99, 0.99, (20, 3))]
    d = np.zeros(0)
    with np.errstate(all="ignore"):
        for x0, x1, p0 in points:
            x, p = np.array([x0, x1]), np.array([p0])
            for n in (cut, tape.size):
                ref, got = np.full(tape.size, 7.0), np.full(tape.size, 7.0)
                run_tape(tape.arrays(), x, p, d, ref, n)
                run_generated(tape.arrays(), x, p, d, got, n)
                keep = stored[stored < n]
                np.testing.assert_array_equal(got[keep], ref[keep], err_msg=f"x={x}, p={p}, first {n} instructions")
                assert np.all(got[stored[stored >= n]] == 7.0), "a register past the cut was computed"


def _forward(name: str):  # noqa: ANN202 - (objective, forward sensitivities, point off the nominal one)
    pytest.importorskip("cytonet.model.sbml_import", reason="needs cytonet's SBML importer")
    from cytonet.fit.objective import Objective
    from cytonet.fit.problem import load_problem

    problem = load_problem(next((ROOT / name).glob("*.yaml")))
    obj = Objective(problem)
    if obj.forward.reason:
        pytest.skip(f"{name}: no forward sensitivities ({obj.forward.reason})")
    lb, ub = problem.parameters.bounds()
    return obj, obj.forward, np.clip(problem.parameters.nominal_x() + 0.05, lb, ub)


@pytest.mark.parametrize("name", PROBLEMS)
def test_generated_kernel_gives_the_interpreters_sensitivities_on_every_benchmark_problem(name: str) -> None:
    """The augmented model's registers (right-hand side, Jacobian, second derivatives, products) at points along a
    run, then the whole objective and gradient: identical on the generated kernel and on the interpreter."""
    obj, fs, x = _forward(name)
    fs.kernels.built, fs.kernels.compile_s = None, np.inf  # the interpreter
    f_ref, g_ref = obj.value_and_gradient(x)
    assert fs.kernels.current() is None
    tm = fs.model.model
    run_generated = tape_codegen.module(tm).run_tape
    n_stage, _ = tm.stage_rhs()
    stored = np.unique(np.concatenate([tm.rhs_reg, tm.products[1], tm.root_reg, tm.jac_reg, tm.lower_blocks[2]]))
    rng = np.random.default_rng(1)
    d = np.zeros(0)
    for _ in range(5):
        xa = tm.x0 * rng.uniform(0.5, 1.5, tm.x0.shape) + rng.uniform(0.0, 0.1, tm.x0.shape)
        pa = tm.p * rng.uniform(0.5, 1.5, tm.p.shape) + rng.uniform(0.0, 0.1, tm.p.shape)
        for n in (n_stage, tm.tape.size):
            ref, got = np.empty(tm.tape.size), np.empty(tm.tape.size)
            with np.errstate(all="ignore"):
                run_tape(tm.tape.arrays(), xa, pa, d, ref, n)
                run_generated(tm.tape.arrays(), xa, pa, d, got, n)
            keep = stored[stored < n]
            np.testing.assert_array_equal(got[keep], ref[keep])
    fs.kernels.build()
    assert fs.kernels.current() is not None
    f, g = obj.value_and_gradient(x)
    assert f == f_ref
    np.testing.assert_array_equal(g, g_ref)


@pytest.mark.parametrize("directions", [1, tape_codegen.LITERAL_WIDTH, tape_codegen.LITERAL_WIDTH + 1])
def test_the_directions_count_is_a_literal_only_up_to_its_limit(directions: int) -> None:
    """The generated ``integrate`` holds the number of directions as a literal up to ``LITERAL_WIDTH``, and reads it
    from the products' arrays beyond (where the literal measured slower)."""
    from cytonet.model.spec import ModelSpec
    from cytonet.model.tape_sensitivity import compile_sensitivities

    spec = ModelSpec.model_validate({
        "id": "decay_width", "compartments": [{"id": "c", "volume": 1.0}],
        "species": [{"id": "A", "compartment": "c", "initial": 1.0, "unit": "relative", "only_substance": False}],
        "parameters": [{"id": f"k{i}", "value": 0.1, "unit": "1/h", "assumption": "test model"} for i in range(directions)],
        "reactions": [{"id": f"deg{i}", "rate_law": "expression", "rate": f"k{i} * A", "reactants": {"A": 1}}
                      for i in range(directions)],
    })
    tm = compile_sensitivities(spec, directions).model
    assert int(tm.products[-1][0]) == directions
    src = tape_codegen.module_source(tm)
    literal = f"    w = {directions}  # the tape model's directions\n"
    assert (literal in src) == (directions <= tape_codegen.LITERAL_WIDTH)
    assert ("    w = width[0]\n" in src) == (directions > tape_codegen.LITERAL_WIDTH)


def test_the_interpreter_runs_until_its_time_would_have_paid_for_compiling() -> None:
    """The switch is by measured time: below the expected compile time the interpreter stays, past it the kernel is
    built (and, once built, found again by a new choice on the same model)."""
    from cytonet.model.spec import ModelSpec
    from cytonet.model.tape_sensitivity import compile_sensitivities

    spec = ModelSpec.model_validate({
        "id": "decay_codegen", "compartments": [{"id": "c", "volume": 1.0}],
        "species": [{"id": "A", "compartment": "c", "initial": 1.0, "unit": "relative", "only_substance": False}],
        "parameters": [{"id": "k", "value": 0.4, "unit": "1/h", "assumption": "test model"}],
        "reactions": [{"id": "deg", "rate_law": "expression", "rate": "k * A * A", "reactants": {"A": 1}}],
    })
    tm = compile_sensitivities(spec, 1).model
    choice = tape_codegen.KernelChoice(tm)
    if choice.built is None:  # not in the disk cache yet
        choice.spent(0.5 * choice.compile_s, None)
        assert choice.current() is None
        choice.spent(0.6 * choice.compile_s, None)
    k = choice.current()
    assert k is not None and k is tape_codegen.kernel(tm)
    assert tape_codegen.KernelChoice(tm).built is k


def test_a_model_with_delays_and_a_switch_in_time_runs_identically_on_its_generated_kernel() -> None:
    """The generated kernel of a plain tape model (not a sensitivity one) with ``delay()`` and a piecewise switch in
    time: its delay tape stays interpreted, and the run (root finding at the switch included) is the interpreter's."""
    from cytonet.engine.sbml_events import run_tape_model
    from cytonet.engine.tape_simulate import _atol
    from cytonet.model.spec import ModelSpec
    from cytonet.model.tape_model import compile_tape

    spec = ModelSpec.model_validate({
        "id": "delayed_codegen", "compartments": [{"id": "c", "volume": 1.0}],
        "species": [{"id": s, "compartment": "c", "initial": v, "unit": "relative", "only_substance": False}
                    for s, v in (("A", 1.0), ("B", 0.0))],
        "parameters": [{"id": "k", "value": 0.7, "unit": "1/h", "assumption": "test model"}],
        "reactions": [
            {"id": "conv", "rate_law": "expression", "rate": "k * delay(A, 0.5) * c", "reactants": {"A": 1}, "products": {"B": 1}},
            {"id": "pulse", "rate_law": "expression", "rate": "piecewise(0.3, time() < 2, 0) * c", "products": {"A": 1}},
        ],
    })
    tm = compile_tape(spec)
    assert tm.n_delays == 1
    t = np.linspace(0.0, 5.0, 26)
    atol = _atol(tm, 1e-10)
    ref = run_tape_model(tm, t, 1e-8, atol, 100_000)
    got = run_tape_model(tm, t, 1e-8, atol, 100_000, kernel=tape_codegen.kernel(tm))
    assert got.steps == ref.steps
    np.testing.assert_array_equal(got.x, ref.x)
