"""Every op in the table, tested from the table: forward vs math, local derivative vs
central differences and vs sympy's exact derivative."""

from __future__ import annotations

import math
from functools import cache

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, no_grad, ops
from autograd import value as value_module
from autograd.testing import operands
from autograd.value import apply, binary, unary
from tests.oracles import close, math_forward, sympy_form

TABLE = ops.all_ops()
IDS = [repr(op) for op in TABLE]


@cache
def exact_derivatives(op):
    """(sympy symbols, exact ∂f/∂operand for each operand)."""
    syms = sp.symbols(f"s0:{len(op.operands)}", real=True)
    f = sympy_form(op, *syms)
    return syms, [sp.diff(f, s) for s in syms]


def test_table_is_complete():
    names = {op.name for op in TABLE}
    expected = {"add", "sub", "mul", "div", "pow", "neg", "exp", "log", "tanh", "sigmoid", "relu",
                "leaky_relu", "softplus", "sqrt", "abs", "sin", "cos", "pow_const"}
    assert expected <= names
    for op in TABLE:
        assert len(op.derivative) == len(op.operands), op
        assert op.symbol and op.forward and op.local


@pytest.mark.parametrize("op", TABLE, ids=IDS)
def test_forward_equals_math(op):
    @given(operands(op))
    def check(xs):
        out = apply(op, *xs)
        assert out.op is op
        assert close(out.data, math_forward(op, *xs), 1e-12)

    check()


@pytest.mark.parametrize("op", TABLE, ids=IDS)
def test_local_derivative_equals_central_differences(op):
    @given(operands(op))
    def check(xs):
        out = apply(op, *xs)
        for i, local in enumerate(out.local_grads):
            h = 1e-5 * max(1.0, abs(xs[i]))
            up, down = list(xs), list(xs)
            up[i] += h
            down[i] -= h
            numeric = (math_forward(op, *up) - math_forward(op, *down)) / (2 * h)
            assert math.isclose(local, numeric, rel_tol=1e-4, abs_tol=1e-6), (i, local, numeric)

    check()


@pytest.mark.parametrize("op", TABLE, ids=IDS)
def test_local_derivative_equals_sympy(op):
    syms, derivs = exact_derivatives(op)

    @given(operands(op))
    def check(xs):
        out = apply(op, *xs)
        point = {s: sp.Float(x, 30) for s, x in zip(syms, xs)}
        for i, (local, d) in enumerate(zip(out.local_grads, derivs)):
            exact = float(d.xreplace(point).evalf(30))
            assert close(local, exact, 1e-9), (i, local, exact)

    check()


@given(operands(ops.ADD))
def test_hand_written_add_equals_the_table(xs):
    a, b = Value(xs[0]), Value(xs[1])
    for fast, slow in ((a + b, binary(ops.ADD, a, b)), (a + xs[1], binary(ops.ADD, a, xs[1])),
                       (xs[0] + b, binary(ops.ADD, xs[0], b))):
        assert fast.op is slow.op is ops.ADD
        assert fast.data == slow.data
        assert fast.local_grads == slow.local_grads
        assert [p.data for p in fast.parents] == [p.data for p in slow.parents]


@given(operands(ops.MUL))
def test_hand_written_mul_equals_the_table(xs):
    a, b = Value(xs[0]), Value(xs[1])
    for fast, slow in ((a * b, binary(ops.MUL, a, b)), (a * xs[1], binary(ops.MUL, a, xs[1])),
                       (xs[0] * b, binary(ops.MUL, xs[0], b))):
        assert fast.op is slow.op is ops.MUL
        assert fast.data == slow.data
        assert fast.local_grads == slow.local_grads
        assert [p.data for p in fast.parents] == [p.data for p in slow.parents]


@pytest.mark.parametrize("name", sorted(value_module._INLINE_UNARY))
@given(data=st.data())
def test_inline_activation_methods_equal_the_table(name, data):
    op = ops.OPS[name]
    (x,) = data.draw(operands(op))
    v = Value(x)
    fast, slow = getattr(v, name)(), unary(op, v)
    assert fast.op is slow.op is op and fast.parents == slow.parents == (v,)
    assert fast.data == slow.data and fast.local_grads == slow.local_grads
    with no_grad():
        assert getattr(v, name)().is_leaf


def test_methods_and_operators_use_the_table():
    x, y = Value(0.7), Value(1.3)
    calls = {
        "add": x + y, "sub": x - y, "mul": x * y, "div": x / y, "pow": x**y, "neg": -x,
        "exp": x.exp(), "log": x.log(), "tanh": x.tanh(), "sigmoid": x.sigmoid(),
        "relu": x.relu(), "softplus": x.softplus(), "sqrt": x.sqrt(), "abs": abs(x),
        "sin": x.sin(), "cos": x.cos(),
    }
    for name, node in calls.items():
        assert node.op is ops.OPS[name], name
    assert (x**2).op is ops.pow_const(2.0)
    assert x.leaky_relu(0.2).op is ops.leaky_relu(0.2)
    assert (2**x).op is ops.POW and (2**x).parents[1] is x
    assert (1 - x).parents[1] is x and (1 / x).parents[1] is x


@pytest.mark.parametrize("x", [1e4, -1e4, 745.0, -745.0, 0.0])
def test_sigmoid_and_softplus_are_stable(x):
    s = Value(x).sigmoid()
    sp_ = Value(x).softplus()
    assert 0.0 <= s.data <= 1.0 and math.isfinite(s.local_grads[0])
    assert math.isfinite(sp_.data) and sp_.data >= 0.0
    assert math.isclose(sp_.data, max(x, 0.0) + math.log1p(math.exp(-abs(x))), rel_tol=1e-15)
