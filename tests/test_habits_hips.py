"""HIPS autograd's way of adding a primitive, from its tutorial's logsumexp example (two
scalar operands in place of an array): ``@primitive``, ``defvjp``, then ``grad`` and
``grad`` of ``grad``. Oracle: sympy's derivatives of log(e^(y1²) + e^(y2²))."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from autograd import Value, grad, gradcheck, hessian
from autograd import math as np  # HIPS's autograd.numpy, for scalars
from autograd.extend import defvjp, primitive

Y1, Y2 = sp.symbols("y1 y2", real=True)
EXAMPLE = sp.log(sp.exp(Y1**2) + sp.exp(Y2**2))
POINT = {Y1: sp.Rational(3, 10), Y2: sp.Rational(-7, 10)}


def exact(*wrt: sp.Symbol) -> float:
    return float(sp.diff(EXAMPLE, *wrt).subs(POINT))


@pytest.fixture
def logsumexp(restore_op_table):
    @primitive
    def logsumexp(a, b):
        """Numerically stable log(exp(a) + exp(b))."""
        m = max(a, b)
        return m + math.log(math.exp(a - m) + math.exp(b - m))

    defvjp(logsumexp,
           lambda ans, a, b: lambda g: g * np.exp(a - ans),
           lambda ans, a, b: lambda g: g * np.exp(b - ans))
    return logsumexp


def example_func(logsumexp):
    def f(y1, y2):
        return logsumexp(y1**2, y2**2)

    return f


def test_the_tutorial_primitive_first_order(logsumexp):
    f = example_func(logsumexp)
    assert type(logsumexp(0.3, -0.7)) is float  # floats in, float out
    assert math.isclose(logsumexp(0.3, -0.7), math.log(math.exp(0.3) + math.exp(-0.7)),
                        rel_tol=1e-15)
    g1, g2 = grad(f, (0, 1))(0.3, -0.7)
    assert math.isclose(g1, exact(Y1), rel_tol=1e-14)
    assert math.isclose(g2, exact(Y2), rel_tol=1e-14)
    # the same numbers from backward on a recorded node
    y1, y2 = Value(0.3, label="y1"), Value(-0.7, label="y2")
    out = f(y1, y2)
    assert out.op.name == "logsumexp" and hasattr(Value, "logsumexp")
    out.backward()
    assert (y1.grad, y2.grad) == (g1, g2)
    assert gradcheck(f, [0.3, -0.7]).ok  # HIPS's check_grads


def test_the_tutorial_primitive_second_order(logsumexp):
    """The vjp makers use autograd.math, so grad of grad works."""
    f = example_func(logsumexp)
    assert math.isclose(grad(grad(f))(0.3, -0.7), exact(Y1, Y1), rel_tol=1e-13)
    h = hessian(f, (0, 1))(0.3, -0.7)
    for i, a in enumerate((Y1, Y2)):
        for j, b in enumerate((Y1, Y2)):
            assert math.isclose(h[i][j], exact(a, b), rel_tol=1e-13), (i, j)
    assert gradcheck(f, [0.3, -0.7], order=2).ok


def test_a_maker_written_with_the_math_module_is_first_order_only(restore_op_table):
    @primitive
    def cube(x):
        return x**3

    defvjp(cube, lambda ans, x: lambda g: g * 3 * x**2)
    assert grad(cube)(2.0) == 12.0
    assert grad(grad(cube))(2.0) == 12.0  # ** is a Value op: second order too

    @primitive
    def expm1(x):
        return math.expm1(x)

    defvjp(expm1, lambda ans, x: lambda g: g * math.exp(x))
    assert grad(expm1)(0.5) == math.exp(0.5)
    with pytest.raises(TypeError, match="no gradient would flow"):
        grad(grad(expm1))(0.5)


def test_none_maker_is_a_zero_derivative_and_misuse_is_named(restore_op_table):
    @primitive
    def scaled(x, k):
        return k * math.sin(x)

    assert scaled(0.5, 2.0) == 2.0 * math.sin(0.5)
    with pytest.raises(NotImplementedError, match=r"scaled: called on a Value before its "
                                                  r"derivatives are given: defvjp\(scaled"):
        scaled(Value(0.5), 2.0)
    with pytest.raises(TypeError, match=r"defvjp\(scaled\): it takes 2 operand\(s\), got 1"):
        defvjp(scaled, lambda ans, x, k: lambda g: g * k * np.cos(x))
    with pytest.raises(TypeError, match="is not a @primitive function"):
        defvjp(math.sin, lambda ans, x: lambda g: g)
    defvjp(scaled, lambda ans, x, k: lambda g: g * k * np.cos(x), None)
    assert grad(scaled, (0, 1))(0.5, 2.0) == (2.0 * math.cos(0.5), 0.0)
    assert repr(scaled) == "primitive(scaled)" and scaled.__doc__ is None
