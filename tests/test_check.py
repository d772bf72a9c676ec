"""gradcheck and the public hypothesis strategies."""

from __future__ import annotations

import math

import pytest
from hypothesis import given

from autograd import Value, ops
from autograd.check import GradcheckError, central_difference, gradcheck
from autograd.extend import apply
from autograd.testing import expression_graphs, inside, operands


def test_central_difference_of_a_cubic():
    # (x+h)³ − (x−h)³ = 6x²h + 2h³ ⇒ the central difference is 3x² + h²
    assert math.isclose(central_difference(lambda x: x**3, [2.0], 0, 1e-3), 12.0 + 1e-6,
                        rel_tol=1e-9)


def test_gradcheck_passes_and_reports_each_input():
    report = gradcheck(lambda a, b: (a * b).tanh() + a.exp() / b,
                       [Value(0.3, label="a"), 1.2])
    assert report and [r.name for r in report.rows] == ["a", "inputs[1]"]
    t = math.tanh(0.36)
    assert math.isclose(report.rows[0].analytic, 1.2 * (1 - t * t) + math.exp(0.3) / 1.2,
                        rel_tol=1e-12)
    assert "a" in str(report)


def test_gradcheck_names_the_wrong_input():
    wrong = ops.Op("wrong_square", "sq", ("x",), lambda x: x * x, lambda x, out: (x,),
                   ("x (should be 2x)",), builtin=False)

    def f(a, b):
        return apply(wrong, a) + b

    with pytest.raises(GradcheckError, match="inputs\\[0\\]") as info:
        gradcheck(f, [1.5, 2.0])
    assert "inputs[1]" not in str(info.value).splitlines()[0]
    report = gradcheck(f, [1.5, 2.0], raise_exception=False)
    assert not report and [r.ok for r in report.rows] == [False, True]
    assert math.isclose(report.rows[0].numeric, 3.0, rel_tol=1e-6)


def test_gradcheck_does_not_touch_the_callers_values():
    a = Value(0.5, label="a")
    gradcheck(lambda x: x * x, [a])
    assert a.grad == 0.0


@given(operands(ops.LOG))
def test_operands_stay_inside_the_domain(xs):
    assert xs[0] > 0 and inside(ops.LOG, xs)


@given(expression_graphs())
def test_generated_graphs_build_finite_values(graph):
    leaves, out = graph.build()
    assert len(leaves) == len(graph.inputs) and math.isfinite(out.data)
    assert len(graph) == len(graph.inputs) + len(graph.steps)


def test_inside_rejects_kinks_and_domain_edges():
    assert not inside(ops.RELU, (0.0,))
    assert not inside(ops.LOG, (1e-9,))
    assert not inside(ops.DIV, (1.0, 1e-9))
    assert inside(ops.DIV, (1.0, 0.5))


def test_gradcheck_leaves_every_grad_as_it_was():
    """f closes over a parameter with an accumulated grad: checking must not add to it,
    and for order 2 neither."""
    w = Value(0.7, label="w")
    w.grad = 0.125
    report = gradcheck(lambda x: (w * x).tanh(), [Value(0.4, label="x")])
    assert report and w.grad == 0.125
    gradcheck(lambda x: (w * x).tanh(), [Value(0.4)], order=2)
    assert w.grad == 0.125
    t = math.tanh(0.28)
    assert math.isclose(report.rows[0].analytic, 0.7 * (1 - t * t), rel_tol=1e-12)


@given(expression_graphs(constants=True))
def test_generated_graphs_with_plain_numbers_build_finite_values(graph):
    leaves, out = graph.build()
    assert isinstance(out, Value) and math.isfinite(out.data)
    assert out.data == graph.evaluate(graph.inputs, _float_call) or math.isclose(
        out.data, graph.evaluate(graph.inputs, _float_call), rel_tol=1e-12, abs_tol=1e-12)


def _float_call(op, *args):
    return op.forward(*args)
