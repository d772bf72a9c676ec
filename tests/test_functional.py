"""autograd.grad (torch.autograd.grad-like) and the function transforms of autograd.functional."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

import autograd
from autograd import Value, functional
from autograd.functional import grad, hessian, hvp, jacobian, value_and_grad
from autograd.testing import expression_graphs
from tests.oracles import close


def all_grads(root: Value) -> list[float]:
    return [node.grad for node in autograd.topological_order(root)]


# ---------------------------------------------------------------------------- autograd.grad
@settings(max_examples=100)
@given(expression_graphs())
def test_grad_equals_backward_and_touches_no_grad(graph):
    leaves, out = graph.build()
    plain = autograd.grad(out, leaves, materialize_grads=True)  # a leaf may go unused
    graphed = autograd.grad(out, leaves, create_graph=True, materialize_grads=True)
    assert all(g == 0.0 for g in all_grads(out))  # no .grad read or written
    out.backward()
    for leaf, p, v in zip(leaves, plain, graphed):
        assert type(p) is float and isinstance(v, Value)
        assert p == leaf.grad  # the same float arithmetic as backward
        assert close(v.data, leaf.grad, 1e-12)


def test_grad_of_several_outputs_weighted_by_grad_outputs():
    x, y = Value(2.0), Value(-3.0)
    u, v = x * y, x.exp()
    gx, gy = autograd.grad([u, v], [x, y], grad_outputs=[2.0, 0.5])
    assert close(gx, 2 * -3.0 + 0.5 * math.exp(2.0), 1e-15)
    assert gy == 2 * 2.0
    assert autograd.grad([u, u], [y]) == [4.0]  # an output listed twice counts twice


def test_grad_with_respect_to_interior_nodes_and_unreached_inputs():
    x, unused = Value(0.5), Value(7.0)
    h = x * x
    y = h.sin() + h
    gh, gx, gu = autograd.grad(y, [h, x, unused], materialize_grads=True)
    assert close(gh, math.cos(0.25) + 1, 1e-15)
    assert close(gx, gh * 2 * 0.5, 1e-15)
    assert gu == 0.0
    assert autograd.grad(y, [y]) == [1.0]
    (zero,) = autograd.grad(y, [unused], create_graph=True, materialize_grads=True)
    assert isinstance(zero, Value) and zero.data == 0.0


def test_create_graph_gradient_is_differentiable_in_the_seed_and_the_inputs():
    x, v = Value(0.3), Value(2.0)
    (g,) = autograd.grad(x.tanh(), [x], grad_outputs=v, create_graph=True)
    t = math.tanh(0.3)
    assert close(g.data, 2.0 * (1 - t * t), 1e-15)
    dx, dv = autograd.grad(g, [x, v])
    assert close(dv, 1 - t * t, 1e-15)
    assert close(dx, 2.0 * -2 * t * (1 - t * t), 1e-15)


def test_grad_errors_are_clear():
    x = Value(1.0, label="x")
    with pytest.raises(TypeError, match="outputs must be Values, got float"):
        autograd.grad(1.0, [x])
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        autograd.grad(x * x, [x], grad_outputs=[1.0, 2.0])
    with pytest.raises(TypeError, match="inputs must be Values, got int"):
        autograd.grad(x * x, [x, 3])


# ---------------------------------------------------------------------------- transforms
def f2(x, y):
    return x * x * y + y.sin()


def test_floats_in_floats_out_and_argnums():
    x, y = 1.5, -0.5
    assert grad(f2)(x, y) == pytest.approx(2 * x * y, rel=1e-15)
    assert isinstance(grad(f2)(x, y), float)
    assert grad(f2, 1)(x, y) == pytest.approx(x * x + math.cos(y), rel=1e-15)
    assert grad(f2, -1)(x, y) == grad(f2, 1)(x, y)
    gx, gy = grad(f2, (0, 1))(x, y)
    assert (gx, gy) == (grad(f2)(x, y), grad(f2, 1)(x, y))
    value, g = value_and_grad(f2, (1,))(x, y)
    assert value == pytest.approx(x * x * y + math.sin(y), rel=1e-15)
    assert g == (gy,)
    assert grad(f2).__name__ == "grad(f2)"


def test_values_in_values_out_differentiable_in_the_callers_value():
    x = Value(1.5, label="x")
    g = grad(f2)(x, 2.0)  # 2xy
    assert isinstance(g, Value) and close(g.data, 6.0, 1e-15)
    assert autograd.grad(g, [x]) == [4.0]  # ∂(2xy)/∂x = 2y
    value, _ = value_and_grad(f2)(x, 2.0)
    assert isinstance(value, Value)


def test_third_derivative_by_composition():
    f = lambda x: x.exp() * x.sin()  # noqa: E731  f''' = 2eˣ(cos x − sin x)
    x = 0.4
    assert close(grad(grad(grad(f)))(x), 2 * math.exp(x) * (math.cos(x) - math.sin(x)), 1e-13)


def test_nested_transforms_keep_their_variables_apart():
    # d/dx [d/dy (x·y) at y = x] = d/dx x = 1 (differentiating in y must not see x)
    assert grad(lambda x: grad(lambda y: x * y)(x))(1.0) == 1.0
    # a closure over the outer variable: d/dw [∂(x·w)/∂x] = d/dw w = 1
    assert grad(lambda w: grad(lambda x: x * w)(3.0))(2.0) == 1.0
    # d/dx [x · d/dy (x + y)] = d/dx x = 1
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(5.0) == 1.0


def test_jacobian_of_a_vector_function():
    f = lambda x, y: (x * y, x.sin() + y, y.exp())  # noqa: E731
    x, y = 0.3, -1.2
    jac = jacobian(f, (0, 1))(x, y)
    want = ((y, x), (math.cos(x), 1.0), (0.0, math.exp(y)))
    for row, wrow in zip(jac, want):
        assert all(close(a, b, 1e-15) for a, b in zip(row, wrow))
    assert jacobian(lambda x: x * x)(3.0) == 6.0


def test_hessian_and_hvp():
    x, y = 1.5, -0.5
    assert close(hessian(f2)(x, y), 2 * y, 1e-15)
    hess = hessian(f2, (0, 1))(x, y)
    want = ((2 * y, 2 * x), (2 * x, -math.sin(y)))
    for row, wrow in zip(hess, want):
        assert all(close(a, b, 1e-15) for a, b in zip(row, wrow))
    v = (0.7, -2.0)
    hv = hvp(f2, (x, y), v)
    assert all(close(a, sum(h * t for h, t in zip(row, v)), 1e-14) for a, row in zip(hv, want))


def test_constant_functions_have_zero_derivatives():
    assert grad(lambda x: 3.0)(1.0) == 0.0
    assert value_and_grad(lambda x, y: x * 0 + 2, 1)(1.0, 2.0) == (2.0, 0.0)


def test_transform_errors_are_clear():
    with pytest.raises(ValueError, match=r"grad: argnums=2 does not fit 2 positional"):
        grad(f2, 2)(1.0, 2.0)
    with pytest.raises(TypeError, match="grad: argument 0 must be a bool, int or float, got str"):
        grad(f2)("1", 2.0)
    with pytest.raises(TypeError, match="the function result must be .* got str"):
        grad(lambda x: "no")(1.0)
    with pytest.raises(ValueError, match="hvp: 2 primals but 1 tangents"):
        hvp(f2, (1.0, 2.0), (1.0,))


def test_module_is_exported():
    assert autograd.functional is functional
    assert autograd.grad is functional.grad


def test_hessian_of_pow_at_a_zero_base():
    """a**b at (0, 1): first derivatives (1, 0) exist, so second derivatives must too; the
    row of ∂/∂a equals PyTorch's double backward (0, 1). (PyTorch's ∂/∂b row is NaN there;
    see tests/edge_values.py KNOWN.)"""
    f = lambda a, b: a**b  # noqa: E731
    assert functional.grad(f, (0, 1))(0.0, 1.0) == (1.0, 0.0)
    assert functional.hessian(f, (0, 1))(0.0, 1.0) == ((0.0, 1.0), (0.0, 0.0))
    assert functional.hessian(f, (0, 1))(0.0, 2.0)[0] == (2.0, 0.0)
    assert functional.grad(functional.grad(lambda x: x**0.0))(0.0) == 0.0
