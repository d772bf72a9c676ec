"""autograd.compile: generated gradient programs against backward, formulas and fit."""

from __future__ import annotations

import importlib
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import CompileError, Value, ops
from autograd.testing import expression_graphs

np = pytest.importorskip("numpy")


def close(a: float, b: float, tol: float = 1e-9) -> bool:
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)


@settings(max_examples=60, deadline=None)
@given(expression_graphs())
def test_floats_equal_backward(graph):
    leaves, out = graph.build()
    program = autograd.compile(out, leaves)
    out.backward()
    result = program(*graph.inputs)
    assert close(result.outputs[0], out.data)
    for leaf, g in zip(leaves, result.input_grads):
        assert close(g, leaf.grad)


@settings(max_examples=40, deadline=None)
@given(expression_graphs(), st.lists(st.floats(-0.3, 0.3), min_size=2, max_size=4))
def test_batches_equal_backward_per_sample(graph, shifts):
    """Several points as one batch, the first leaf a parameter when there are two or more:
    per-sample outputs and input gradients match backward at each point; the parameter's
    gradient is the sum over points."""
    n_params = 1 if len(graph.inputs) > 1 else 0
    leaves, out = graph.build()
    program = autograd.compile(out, leaves[n_params:], leaves[:n_params])
    points = [[x + (s * (k + 1) if k >= n_params else 0.0) for k, x in enumerate(graph.inputs)]
              for s in [0.0, *shifts]]
    expected = []
    for point in points:
        try:
            leaves, out = graph.build([Value(v) for v in point])
        except ArithmeticError:  # a shifted point left an op's domain
            return
        out.backward()
        if not math.isfinite(out.data) or abs(out.data) > 1e6:
            return
        expected.append((out.data, [v.grad for v in leaves]))
    columns = [np.array([p[k] for p in points]) for k in range(n_params, len(graph.inputs))]
    result = program(*columns)
    for k, (value, grads) in enumerate(expected):
        assert close(result.outputs[0][k], value)
        for g, want in zip(result.input_grads, grads[n_params:]):
            assert close(g[k], want)
    for g, j in zip(result.param_grads, range(n_params)):
        assert close(g, sum(grads[j] for _, grads in expected))


def test_batch_shares_parameter():
    """A parameter shared by every sample: its gradient is Σ over samples, inputs per sample."""
    w, b = Value(0.7, label="w"), Value(-0.2, label="b")
    x = Value(0.0, label="x")
    out = ((w * x + b).tanh() * x).exp() + (w * w).sin()
    program = autograd.compile(out, [x], [w, b])
    xs = [-1.5, -0.2, 0.4, 2.0]
    result = program(np.array(xs))
    gw = gb = 0.0
    for k, xv in enumerate(xs):
        w2, b2, x2 = Value(0.7), Value(-0.2), Value(xv)
        o = ((w2 * x2 + b2).tanh() * x2).exp() + (w2 * w2).sin()
        o.backward()
        assert close(result.outputs[0][k], o.data)
        assert close(result.input_grads[0][k], x2.grad)
        gw, gb = gw + w2.grad, gb + b2.grad
    assert close(result.param_grads[0], gw)
    assert close(result.param_grads[1], gb)


def test_relu_and_hinge_branch_per_sample():
    """Samples on both sides of relu's and hinge's kinks each take their own branch."""
    w, b, s = Value(1.3, label="w"), Value(0.1, label="b"), Value(0.0, label="s")
    x, y = Value(0.0, label="x"), Value(1.0, label="y")
    score = (w * x + b).relu() * s + (w * x).leaky_relu(0.1)
    hinge = (1 - y * score).relu()
    program = autograd.compile(hinge, [x, y, s], [w, b])
    xs, ys = [-2.0, -0.5, 0.3, 1.5, 2.5], [1.0, -1.0, 1.0, -1.0, 1.0]
    ss = [0.5, 2.0, -1.0, 1.0, 0.2]
    result = program(xs, ys, ss)
    gw = gb = 0.0
    sides = set()
    for k in range(len(xs)):
        z = 1.3 * xs[k] + 0.1
        lz = 1.3 * xs[k]
        sc = max(z, 0.0) * ss[k] + (lz if lz > 0 else 0.1 * lz)
        margin = 1 - ys[k] * sc
        sides.add((z > 0, margin > 0))
        dl = -ys[k] if margin > 0 else 0.0  # ∂hinge/∂score
        dz = dl * ss[k] * (1.0 if z > 0 else 0.0)
        dlz = dl * (1.0 if lz > 0 else 0.1)
        gw += (dz + dlz) * xs[k]
        gb += dz
        assert close(result.outputs[0][k], max(margin, 0.0))
        assert close(result.input_grads[0][k], (dz + dlz) * 1.3)
    assert len(sides) >= 3
    assert close(result.param_grads[0], gw)
    assert close(result.param_grads[1], gb)


def test_two_layer_network_delta_structure():
    """The seeds' network: the values of the g_z2/g_z1 lines are δ₂ = (ŷ − y) f'(z₂) and
    δ₁ = (W₂ᵀδ₂) ⊙ f'(z₁), and the weight gradients δ aᵀ, over a batch."""
    rng = random.Random(4)
    W1 = [[Value(rng.uniform(-1, 1), label=f"W1_{i}_{j}") for j in range(2)] for i in range(3)]
    b1 = [Value(rng.uniform(-1, 1), label=f"b1_{i}") for i in range(3)]
    W2 = [Value(rng.uniform(-1, 1), label=f"W2_0_{i}") for i in range(3)]
    b2 = Value(0.3, label="b2_0")
    x = [Value(0.0, label=f"x_{j}") for j in range(2)]
    y = Value(0.0, label="y")
    z1 = [autograd.linear(W1[i], x, b1[i]) for i in range(3)]
    a1 = [z.sigmoid() for z in z1]
    z2 = autograd.linear(W2, a1, b2)
    yhat = z2.sigmoid()
    loss = 0.5 * (yhat - y) ** 2
    for i in range(3):
        z1[i].label, a1[i].label = f"z1_{i}", f"a1_{i}"
    z2.label, yhat.label, loss.label = "z2", "yhat", "L"
    params = [*(w for row in W1 for w in row), *b1, *W2, b2]
    program = autograd.compile(loss, [*x, y], params)
    # read the δ lines' values back by returning them from the generated source
    ret = "    return "
    src = program.source.replace(ret, ret + "(g_z2, g_z1_0, g_z1_1, g_z1_2), ", 1)
    scope = importlib.import_module("autograd.compile")._numpy_namespace()
    exec(src, scope)
    X = np.array([[0.5, -1.0], [1.5, 0.2], [-0.7, 0.9]])
    Y = np.array([1.0, 0.0, 1.0])
    values = [p.data for p in params]
    deltas, *_ = scope["gradient_program"](X[:, 0], X[:, 1], Y, *values, np.ones(3))
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    w1 = np.array([[w.data for w in row] for row in W1])
    w2 = np.array([w.data for w in W2])
    Z1 = X @ w1.T + np.array([b.data for b in b1])
    A1 = sig(Z1)
    Z2 = A1 @ w2 + b2.data
    d2 = (sig(Z2) - Y) * sig(Z2) * (1 - sig(Z2))
    d1 = np.outer(d2, w2) * A1 * (1 - A1)
    np.testing.assert_allclose(deltas[0], d2, rtol=1e-12)
    np.testing.assert_allclose(np.stack(deltas[1:], axis=1), d1, rtol=1e-12)
    grads = program(X[:, 0], X[:, 1], Y).param_grads
    np.testing.assert_allclose(np.array(grads[:6]).reshape(3, 2), d1.T @ X, rtol=1e-12)
    np.testing.assert_allclose(grads[6:9], d1.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(grads[9:12], d2 @ A1, rtol=1e-12)
    assert close(grads[12], d2.sum(), 1e-12)


def test_source_names_and_constants():
    x = Value(1.0, label="x.0")
    w = Value(2.0, label="w")
    out = (w * x + 3.5).tanh()
    out.label = "a"
    source = autograd.compile(out, [x], [w]).source
    assert "x_0" in source and "3.5" in source and "g_a = seed" in source


def test_custom_op_without_code_names_the_node():
    op = ops.declare("cube_nocode", lambda x: x**3, lambda x, out: 3 * x**2)
    x = Value(1.5, label="x")
    y = autograd.apply(op, x)
    y.label = "cubed"
    with pytest.raises(CompileError, match="cube_nocode.*'cubed'"):
        autograd.compile(y, [x])


def test_custom_op_with_code():
    op = ops.declare("cube_code", lambda x: x**3, lambda x, out: 3 * x**2,
                     code=ops.Code("{x}**3", ("3 * {x}**2",)))
    x = Value(1.5, label="x")
    y = autograd.apply(op, x).sin()
    y.backward()
    result = autograd.compile(y, [x])(1.5)
    assert close(result.input_grads[0], x.grad)


@pytest.mark.parametrize("loss, targets, widths", [
    ("hinge", "pm1", [4, 4, 1]),
    ("mse", "01", [3, 1]),
    ("cross_entropy", "class", [5, 3]),
])
def test_fit_compiled_equals_fit(loss, targets, widths):
    X, labels = nn.moons(24, noise=0.2, seed=3)
    y = {"pm1": [2 * t - 1 for t in labels], "01": labels,
         "class": [(t + int(x[0] > 0.5)) % 3 for x, t in zip(X, labels)]}[targets]
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, widths, activation="tanh" if loss == "mse" else "relu", rng=5)
        opt = nn.SGD(model.parameters(), lr=0.3, momentum=0.9)
        history = nn.fit(model, X, y, loss=loss, optimizer=opt, epochs=3, batch_size=8,
                         l2=1e-3, progress=False, seed=1, compiled=compiled)
        runs.append(([p.data for p in model.parameters()], history))
    (p0, h0), (p1, h1) = runs
    assert max(abs(a - b) for a, b in zip(p0, p1)) < 1e-12
    assert max(abs(a - b) for a, b in zip(h0["loss"], h1["loss"])) < 1e-12
    assert h0["accuracy"] == h1["accuracy"]
