"""JAX habits on scalars, built from the JAX autodiff cookbook's logistic-regression example
(arrays written as lists of numbers): ``grad`` of a dict, tuple or list ("containers just
work") and ``vjp``. Oracles: the logistic-regression gradient written by hand with ``math``,
and PyTorch where it is importable."""

from __future__ import annotations

import math
from collections import namedtuple

import pytest

from autograd import Value, grad, value_and_grad, vjp
from autograd import math as np  # the cookbook's jnp, for scalars

INPUTS = [[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]]
TARGETS = [True, True, False, True]
W, B = [0.3, -0.7, 1.1], 0.2  # the cookbook draws them at random


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2) + 1)


def predict(W, b, inputs):
    return [sigmoid(sum(w * x for w, x in zip(W, row)) + b) for row in inputs]


def loss2(params_dict):
    preds = predict(params_dict["W"], params_dict["b"], INPUTS)
    label_probs = [p * t + (1 - p) * (1 - t) for p, t in zip(preds, TARGETS)]
    return -sum(np.log(q) for q in label_probs)


def probabilities() -> list[float]:
    """p_i = σ(w·x_i + b), by hand."""
    return [1 / (1 + math.exp(-(sum(w * x for w, x in zip(W, row)) + B))) for row in INPUTS]


def close_all(got, want, tol=1e-12):
    return all(math.isclose(g, w, rel_tol=tol, abs_tol=tol) for g, w in zip(got, want, strict=True))


def test_grad_of_a_dict_of_parameters_as_in_the_cookbook():
    grads = grad(loss2)({"W": W, "b": B})
    assert list(grads) == ["W", "b"] and isinstance(grads["W"], list)
    # ∂L/∂w_j = Σᵢ (pᵢ − tᵢ)·xᵢⱼ and ∂L/∂b = Σᵢ (pᵢ − tᵢ): logistic regression's gradient
    residual = [p - t for p, t in zip(probabilities(), TARGETS)]
    assert close_all(grads["W"], [sum(r * row[j] for r, row in zip(residual, INPUTS))
                                  for j in range(3)])
    assert math.isclose(grads["b"], sum(residual), rel_tol=1e-12)
    value, same = value_and_grad(loss2)({"W": W, "b": B})
    assert same == grads
    assert math.isclose(value, -sum(math.log(p if t else 1 - p)
                                    for p, t in zip(probabilities(), TARGETS)), rel_tol=1e-12)


def test_the_dict_gradient_equals_torch():
    torch = pytest.importorskip("torch")
    w = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(B, dtype=torch.float64, requires_grad=True)
    preds = torch.sigmoid(torch.tensor(INPUTS, dtype=torch.float64) @ w + b)
    t = torch.tensor(TARGETS, dtype=torch.float64)
    (-torch.log(preds * t + (1 - preds) * (1 - t)).sum()).backward()
    grads = grad(loss2)({"W": W, "b": B})
    assert close_all(grads["W"], w.grad.tolist()) and math.isclose(grads["b"], b.grad.item())


def test_nested_tuples_lists_and_namedtuples_keep_their_structure():
    Pair = namedtuple("Pair", "x y")

    def f(params):
        (a, b), inner = params["first"], params["second"]
        return a * b + inner[0].x.sin() * inner[1]["c"]

    params = {"first": (2.0, 3.0), "second": [Pair(0.5, 9.0), {"c": 4.0}]}
    g = grad(f)(params)
    assert g == {"first": (3.0, 2.0), "second": [Pair(math.cos(0.5) * 4.0, 0.0),
                                                 {"c": math.sin(0.5)}]}
    assert type(g["second"][0]) is Pair
    # argnums over several containers gives a tuple of structures
    assert grad(lambda u, v: u[0] * v["k"], (0, 1))([2.0], {"k": 5.0}) == ([5.0], {"k": 2.0})
    # and grad of grad through a container: d²/dx² x³ = 6x
    assert grad(lambda d: grad(lambda e: e["x"] ** 3)(d)["x"])({"x": 2.0}) == {"x": 12.0}


def test_a_bad_leaf_in_a_container_is_named_by_its_path():
    with pytest.raises(TypeError, match=r"grad: argument 0\['W'\]\[1\] must be a bool, int or "
                                        r"float, got str"):
        grad(loss2)({"W": [0.3, "x", 1.1], "b": 0.2})
    with pytest.raises(TypeError, match="jacobian: argument 0 is a dict"):
        from autograd import jacobian

        jacobian(loss2)({"W": W, "b": B})


def test_vjp_pulls_back_a_covector_as_in_the_cookbook():
    f = lambda W: predict(W, B, INPUTS)  # noqa: E731
    y, vjp_fun = vjp(f, W)
    u = [0.4, -1.3, 0.8, 2.1]  # the cookbook draws u at random
    v = vjp_fun(u)
    p = probabilities()
    assert close_all(y, p)
    (vw,) = v  # a tuple, one entry per primal, here a list like W
    assert isinstance(v, tuple) and isinstance(vw, list)
    # Σᵢ uᵢ·∂pᵢ/∂w_j = Σᵢ uᵢ·pᵢ(1 − pᵢ)·xᵢⱼ
    assert close_all(vw, [sum(ui * pi * (1 - pi) * row[j] for ui, pi, row in zip(u, p, INPUTS))
                          for j in range(3)])
    assert vjp_fun(u) == v  # the recorded pass can be pulled back again


def test_vjp_of_two_scalar_primals_matches_torch():
    torch = pytest.importorskip("torch")
    tx, ty = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (0.3, -1.2))
    outs = [tx * ty, (tx + ty).exp()]
    seeds = [torch.tensor(2.0, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)]
    t_vjp = torch.autograd.grad(outs, [tx, ty], grad_outputs=seeds)
    out, pull = vjp(lambda x, y: (x * y, (x + y).exp()), 0.3, -1.2)
    assert out == (0.3 * -1.2, math.exp(0.3 - 1.2))
    assert pull((2.0, 0.5)) == pytest.approx(tuple(t.item() for t in t_vjp), rel=1e-15)
    scalar_out, scalar_pull = vjp(lambda x: x * x, 3.0)
    assert scalar_out == 9.0 and scalar_pull(1.0) == (6.0,)
    with pytest.raises(ValueError, match="vjp: the output is a sequence of 2"):
        pull(1.0)
    with pytest.raises(ValueError, match="vjp: the output is one number"):
        scalar_pull([1.0, 2.0])


def test_vjp_inside_grad_stays_differentiable():
    """d/dx of the pullback of x³ at x with cotangent 1, i.e. d/dx 3x² = 6x."""
    def pulled(x):
        _, pull = vjp(lambda t: t ** 3, x)
        return pull(1.0)[0]

    assert grad(pulled)(2.0) == 12.0
    assert isinstance(pulled(Value(2.0)), Value)
