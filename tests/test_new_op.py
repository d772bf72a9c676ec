"""An op added to the table gets everything from its one entry: a new entry ``atan`` (forward
math.atan, local derivative 1/(1 + x²) written with the rule helpers) is declared in a
temporary copy of the table and checked for its method, drawing, stepping, gradcheck to
order 2, higher derivatives, compile, the property tests and the README's table row."""

from __future__ import annotations

import math

import pytest
import sympy as sp

import autograd
from autograd import Value, functional, gradcheck, ops, step_through
from autograd.extend import ratio
from tests import test_ops
from tests.oracles import ORACLES, Oracle


@pytest.fixture
def atan(restore_op_table, monkeypatch):
    """``atan`` as a new built-in entry (the way ops.py declares its entries) and its oracle;
    both leave when the test ends."""
    op = ops._unary("atan", "atan", math.atan, lambda x, out: (ratio(1.0, 1.0 + x * x),),
                    "1/(1 + x²)")
    monkeypatch.setitem(ORACLES, "atan", Oracle(math.atan, sp.atan, lambda t, x: t.atan(x)))
    yield op
    assert ops.OPS.get("atan") is op


def test_the_method(atan):
    x = Value(0.5, label="x")
    y = x.atan()
    assert y.op is atan and y.parents == (x,)
    assert y.data == math.atan(0.5) and y.local_grads == (1 / 1.25,)
    y.backward()
    assert x.grad == 0.8


def test_drawing_shows_the_symbol_and_the_edge_label(atan):
    x = Value(2.0, label="x")
    y = x.atan()
    y.label = "y"
    src = autograd.draw(y).dot_source
    assert 'label="atan|y|' in src  # the node shows the entry's symbol
    assert 'label="×0.2"' in src  # the edge its local derivative 1/(1 + 2²)


def test_step_through(atan):
    x = Value(2.0, label="x")
    y = (x.atan() * x).atan()
    y.label = "y"
    view = step_through(y)
    assert len(view) == 3  # three interior nodes: atan, ×, atan
    assert [s.node.symbol for s in view.trace.steps] == ["atan", "×", "atan"]
    t = math.atan(2.0) * 2.0
    assert view.trace.steps[0].edges[0].local == 1 / (1 + t * t)
    for k in range(len(view) + 1):
        assert "atan" in view.frame(k).dot_source
    assert view.equation(1).startswith("step 1: y (atan) = ")
    assert x.grad == 0.0  # looking changes nothing


def test_gradcheck_to_order_2(atan):
    report = gradcheck(lambda x, y: (x * y).atan() + x.atan() * y, [0.7, -1.3], order=2)
    assert report.ok, report


def test_higher_derivatives_equal_sympy(atan):
    s = sp.Symbol("s", real=True)
    f = sp.atan(s) * s
    for x0 in (-1.5, 0.3, 2.0):
        d2 = functional.hessian(lambda x: x.atan() * x)(x0)
        d3 = functional.grad(functional.grad(functional.grad(lambda x: x.atan() * x)))(x0)
        assert math.isclose(d2, float(sp.diff(f, s, 2).subs(s, x0)), rel_tol=1e-12)
        assert math.isclose(d3, float(sp.diff(f, s, 3).subs(s, x0)), rel_tol=1e-12)


def test_compile_float_and_numpy(atan):
    np = pytest.importorskip("numpy")
    x = Value(0.4, label="x")
    out = (x.atan() * x).atan()
    program = autograd.compile(out, [x])
    out.backward()
    result = program(0.4)
    assert math.isclose(result.outputs[0], out.data, rel_tol=1e-12)
    assert math.isclose(result.input_grads[0], x.grad, rel_tol=1e-12)
    batch = program(np.array([0.4, -1.0]))
    assert math.isclose(batch.input_grads[0][0], x.grad, rel_tol=1e-12)


def test_the_property_tests_take_it(atan):
    assert atan in ops.all_ops()
    test_ops.test_forward_equals_math(atan)
    test_ops.test_local_derivative_equals_central_differences(atan)
    test_ops.test_local_derivative_equals_sympy(atan)
    test_ops.test_generated_methods_and_operators_equal_the_table(atan)


def test_the_readme_row(atan):
    assert "| atan | `atan` | x | 1/(1 + x²) | all reals |" in ops.derivative_table().split("\n")


def test_the_copy_does_not_leak():
    assert "atan" not in ops.OPS and not hasattr(Value(1.0), "atan")
