"""The backpropagation formulas the notebooks teach, each rebuilt with Value / nn and
compared node by node with the formula written independently in NumPy or plain floats."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value
from nn import MLP, Layer, Neuron, mse_loss

F = {  # activation: (f, f′) written from the definitions, on NumPy arrays
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 / np.cosh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "linear": (lambda z: z, np.ones_like),
}
finite = st.floats(-3.0, 3.0, allow_nan=False)


def weights(layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    """A layer's W (one row per neuron) and b as arrays."""
    W = np.array([[w.data for w in n.w] for n in layer.neurons])
    return W, np.array([n.b.data for n in layer.neurons])


def randomise_biases(model: MLP | Layer, seed: int) -> None:
    """Biases start at 0; give them values so that the formulas' b terms are exercised."""
    rng = random.Random(seed)
    for name, p in model.named_parameters():
        if name.endswith(".b") or name == "b":
            p.data = rng.uniform(-1, 1)


def pre_activation(out: Value) -> Value:
    """z of a = f(z): the linear node under an activation node."""
    return out.parents[0]


def test_a_stack_of_linear_layers_is_one_linear_map():
    model = MLP(3, [4, 5, 2], activation="linear", rng=3)
    randomise_biases(model, 3)
    (W1, b1), (W2, b2), (W3, b3) = (weights(layer) for layer in model.layers)
    W = W3 @ W2 @ W1
    b = W3 @ (W2 @ b1 + b2) + b3  # the composed bias
    rng = np.random.default_rng(0)
    for x in rng.normal(size=(5, 3)):
        xv = [Value(float(v)) for v in x]
        out = model(xv)
        np.testing.assert_allclose([o.data for o in out], W @ x + b, rtol=1e-12, atol=1e-12)
        for k, o in enumerate(out):  # row k of the one map is ∂out_k/∂x
            for v in xv:
                v.grad = 0.0
            o.backward()
            np.testing.assert_allclose([v.grad for v in xv], W[k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_one_layer_over_a_batch_explainer_000(activation):
    """L = 1/(2N) Σᵢ ‖ŷᵢ − yᵢ‖², ŷᵢ = f(W xᵢ + b):
    ∂L/∂W = (1/N) Σᵢ (ŷᵢ − yᵢ) ⊙ f′(W xᵢ + b) xᵢᵀ, ∂L/∂b = (1/N) Σᵢ (ŷᵢ − yᵢ) ⊙ f′(W xᵢ + b)."""
    f, df = F[activation]
    layer = Layer(3, 2, activation=activation, rng=0)
    randomise_biases(layer, 0)
    W, b = weights(layer)
    rng = np.random.default_rng(1)
    N = 6
    X, Y = rng.normal(size=(N, 3)), rng.uniform(size=(N, 2))
    preds = [layer([float(v) for v in x]) for x in X]
    L = mse_loss(preds, Y.tolist(), reduction="sum", half=True) * (1.0 / N)
    L.backward()

    Z = X @ W.T + b
    Yhat = f(Z)
    assert math.isclose(L.data, ((Yhat - Y) ** 2).sum() / (2 * N), rel_tol=1e-12)
    delta = (Yhat - Y) * df(Z) / N  # ∂L/∂zᵢ, one row per sample
    for i, out in enumerate(preds):  # node by node: ŷᵢ and zᵢ
        np.testing.assert_allclose([o.grad for o in out], (Yhat[i] - Y[i]) / N, rtol=1e-12)
        np.testing.assert_allclose([pre_activation(o).grad for o in out], delta[i], rtol=1e-12)
    dW = sum(np.outer((Yhat[i] - Y[i]) * df(Z[i]), X[i]) for i in range(N)) / N
    db = sum((Yhat[i] - Y[i]) * df(Z[i]) for i in range(N)) / N
    got_W = np.array([[w.grad for w in n.w] for n in layer.neurons])
    got_b = np.array([n.b.grad for n in layer.neurons])
    np.testing.assert_allclose(got_W, dW, rtol=1e-12)
    np.testing.assert_allclose(got_b, db, rtol=1e-12)
    # the explainer's (yᵢ − ŷᵢ) is the negative: a step along it would climb the loss
    explainer_W = sum(np.outer((Y[i] - Yhat[i]) * df(Z[i]), X[i]) for i in range(N)) / N
    np.testing.assert_allclose(got_W, -explainer_W, rtol=1e-12)


@given(st.lists(finite, min_size=3, max_size=3), st.lists(finite, min_size=3, max_size=3),
       finite, finite)
def test_linear_neuron_explainer_003(x, w, b, y):
    """h = W x + b, L = ½(h − y)²: ∂L/∂h = h − y, ∂L/∂W = (h − y) x, ∂L/∂b = h − y."""
    neuron = Neuron(3, activation="linear")
    for p, v in zip(neuron.w, w):
        p.data = v
    neuron.b.data = b
    h = neuron(x)
    L = mse_loss(h, y, half=True)
    L.backward()
    err = sum(wi * xi for wi, xi in zip(w, x)) + b - y
    assert math.isclose(h.grad, err, rel_tol=1e-12, abs_tol=1e-12)
    for p, xi in zip(neuron.w, x):
        assert math.isclose(p.grad, err * xi, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(neuron.b.grad, err, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_two_layer_batch_explainer_001(activation):
    """J = 1/(2m) Σᵢ (y⁽ⁱ⁾ − ŷ⁽ⁱ⁾)²; δ⁽³⁾ = ∂J/∂ŷ ⊙ f′(z⁽³⁾), δ⁽²⁾ = (W⁽²⁾ᵀ δ⁽³⁾) ⊙ f′(z⁽²⁾);
    ∂J/∂W⁽ˡ⁾ = (1/m) Σᵢ δ⁽ˡ⁺¹⁾⁽ⁱ⁾ a⁽ˡ⁾⁽ⁱ⁾ᵀ, ∂J/∂b⁽ˡ⁾ = (1/m) Σᵢ δ⁽ˡ⁺¹⁾⁽ⁱ⁾
    (δ per sample, before the 1/m)."""
    f, df = F[activation]
    model = MLP(3, [4, 1], activation=activation, output_activation=activation, rng=2)
    randomise_biases(model, 2)
    (W1, b1), (W2, b2) = (weights(layer) for layer in model.layers)
    rng = np.random.default_rng(2)
    m = 7
    X, Y = rng.normal(size=(m, 3)), rng.uniform(size=m)
    hidden, preds = [], []
    for x in X:
        a2 = model.layers[0]([float(v) for v in x])
        hidden.append(a2)
        preds.append(model.layers[1](a2))
    J = mse_loss(preds, Y.tolist(), half=True)  # the library's mean ½-MSE is J
    J.backward()

    d3s, d2s, a2s = [], [], []
    for x, y in zip(X, Y):
        z2 = W1 @ x + b1
        a2 = f(z2)
        z3 = W2 @ a2 + b2
        d3 = (f(z3) - y) * df(z3)  # ∂(½(ŷ − y)²)/∂z⁽³⁾ for this sample
        d2 = (W2.T @ d3) * df(z2)
        d3s.append(d3)
        d2s.append(d2)
        a2s.append(a2)
    J_formula = sum((y - f(W2 @ a + b2)[0]) ** 2 for y, a in zip(Y, a2s)) / (2 * m)
    assert math.isclose(J.data, J_formula, rel_tol=1e-12)
    for i in range(m):  # node by node: δ of every sample (scaled by ∂J/∂Lᵢ = 1/m)
        assert math.isclose(pre_activation(preds[i]).grad, d3s[i][0] / m, rel_tol=1e-12,
                            abs_tol=1e-15)
        np.testing.assert_allclose([pre_activation(a).grad for a in hidden[i]], d2s[i] / m,
                                   rtol=1e-12, atol=1e-15)
    grads = {name: p.grad for name, p in model.named_parameters()}
    dW1 = sum(np.outer(d2, x) for d2, x in zip(d2s, X)) / m
    dW2 = sum(np.outer(d3, a2) for d3, a2 in zip(d3s, a2s)) / m
    db1, db2 = sum(d2s) / m, sum(d3s) / m
    for j in range(4):
        np.testing.assert_allclose([grads[f"layers.0.neurons.{j}.w.{k}"] for k in range(3)],
                                   dW1[j], rtol=1e-12, atol=1e-15)
        assert math.isclose(grads[f"layers.0.neurons.{j}.b"], db1[j], rel_tol=1e-12,
                            abs_tol=1e-15)
        assert math.isclose(grads[f"layers.1.neurons.0.w.{j}"], dW2[0, j], rel_tol=1e-12,
                            abs_tol=1e-15)
    assert math.isclose(grads["layers.1.neurons.0.b"], db2[0], rel_tol=1e-12)


@given(st.floats(-750.0, 750.0, allow_nan=False))
def test_sigmoid_slope_is_at_most_a_quarter(x):
    """σ′(x) = σ(x)(1 − σ(x)) ≤ ¼, with equality only at 0."""
    v = Value(x)
    s = v.sigmoid()
    s.backward()
    slope = math.exp(-abs(x)) / (1 + math.exp(-abs(x))) ** 2  # σ′ written from e^(−|x|)
    # the engine forms out·(1 − out) (as PyTorch does): out = 1/(1 + e^(−x)) near 1 carries
    # the rounding of 1 + e^(−x) (≤ 2⁻⁵³) and of the division (≤ 2⁻⁵⁴), which 1 − out keeps
    # in full (x = 24.5 gave 1.09e-16, over the former 1e-16 tolerance)
    assert math.isclose(v.grad, slope, rel_tol=1e-12, abs_tol=2.0**-52)
    assert 0.0 <= v.grad <= 0.25
    if x == 0.0:
        assert v.grad == 0.25


@given(st.lists(st.tuples(st.floats(-1.0, 1.0), st.floats(-2.0, 2.0)), min_size=1, max_size=30),
       st.floats(-2.0, 2.0))
def test_gradient_through_a_sigmoid_chain_shrinks_by_a_quarter_per_layer(layers, x):
    """aₖ = σ(wₖ aₖ₋₁ + bₖ), a₀ = x: ∂a_d/∂x = Πₖ σ′(zₖ) wₖ, so |∂a_d/∂x| ≤ (¼)^d Πₖ |wₖ|,
    and the δ reaching layer 1 is ∂a_d/∂z₁ = σ′(z₁) Πₖ₌₂ σ′(zₖ) wₖ ≤ (¼)^d Πₖ₌₂ |wₖ|."""
    neurons = [Neuron(1, activation="sigmoid") for _ in layers]
    for n, (w, b) in zip(neurons, layers):
        n.w[0].data, n.b.data = w, b
    xv = Value(x)
    a, zs = xv, []
    for n in neurons:
        a = n(a)
        zs.append(pre_activation(a))
    a.backward()

    d = len(layers)
    s, slopes = x, []
    for w, b in layers:  # the chain's forward in floats
        z = w * s + b
        s = 1 / (1 + math.exp(-z))
        slopes.append(s * (1 - s))
    for k in range(d):  # node by node: ∂a_d/∂z_k = σ′(z_k) Π_{j>k} w_j σ′(z_j)
        expected = slopes[k] * math.prod(layers[j][0] * slopes[j] for j in range(k + 1, d))
        assert math.isclose(zs[k].grad, expected, rel_tol=1e-9, abs_tol=1e-300)
    bound = 0.25**d * math.prod(abs(w) for w, _ in layers)
    assert abs(xv.grad) <= bound
    assert abs(zs[0].grad) <= 0.25**d * math.prod(abs(w) for w, _ in layers[1:])
    assert abs(xv.grad) <= 0.25**d
