"""Every op in the table, tested from the table: forward vs math, local derivative vs
central differences and vs sympy's exact derivative."""

from __future__ import annotations

import math
import operator
from functools import cache

import pytest
import sympy as sp
from hypothesis import given

from autograd import Value, no_grad, ops
from autograd.testing import operands
from autograd.value import apply
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


def spellings(op):
    """Every way Value applies ``op``, as functions of its operands (floats in, Values out):
    its method, its Python operator (Values on both sides, a number on either side), or for a
    family its method with the op's parameters or the operator with the constant."""
    params = dict(op.params)
    if op.name in ops.FAMILY_CONSTANT_OF:
        general = ops.OPS[ops.FAMILY_CONSTANT_OF[op.name]]
        (constant,) = params.values()
        yield lambda x: getattr(operator, general.operator)(Value(x), constant)
    elif op.name in ops.FAMILIES:
        yield lambda x: getattr(Value(x), op.name)(**params)
    if op.method and op.name not in ops.FAMILIES:
        yield lambda *xs: getattr(Value(xs[0]), op.method)(*map(Value, xs[1:]))
    if op.operator:
        f = getattr(operator, op.operator)
        yield lambda *xs: f(*map(Value, xs))
        if op.arity == 2:
            if op.name not in ops.FAMILY_CONSTANT_OF.values():  # x ** 2.0 is pow_const
                yield lambda a, b: f(Value(a), b)
            yield lambda a, b: f(a, Value(b))


SPELLED = [op for op in TABLE if op.arity in (1, 2)]


@pytest.mark.parametrize("op", SPELLED, ids=[repr(op) for op in SPELLED])
def test_generated_methods_and_operators_equal_the_table(op):
    """The functions made from the table (inlined rules) give the entry's value, local
    derivatives (a MASK stays a MASK) and op, with or without recording."""
    ways = list(spellings(op))
    assert ways, op

    @given(operands(op))
    def check(xs):
        out = op.forward(*xs)
        local = op.local(*xs, out)
        for way in ways:
            node = way(*xs)
            assert node.op is op
            assert node.data == out or (node.data != node.data and out != out)
            assert [type(d) for d in node.local_grads] == [type(d) for d in local]
            assert all(d == e or (d != d and e != e) for d, e in zip(node.local_grads, local))
            assert [p.data for p in node.parents] == list(xs)
            with no_grad():
                assert way(*xs).is_leaf

    check()


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


# ---------------------------------------------------------------------------- to_float
@pytest.mark.parametrize("flag", [True, False])
def test_numpy_bool_is_a_number_like_bool(flag):
    """numpy.bool_ is not a numbers.Real, but it is a bool: Value takes it as Python's bool."""
    np = pytest.importorskip("numpy")
    b = np.bool_(flag)
    assert ops.to_float(b) == float(bool(b)) and type(ops.to_float(b)) is float
    x = Value(2.5)
    y = x * b  # as an operand too, and with its derivative
    y.backward()
    assert y.data == 2.5 * float(flag) and x.grad == float(flag)
    assert Value(np.array([flag])[0]).data == float(flag)  # what indexing an array gives


def test_a_bool_named_type_from_elsewhere_is_still_refused():
    fake = type("bool_", (), {"__bool__": lambda self: True, "__float__": lambda self: 1.0})
    with pytest.raises(TypeError, match="bool_"):
        Value(fake())
