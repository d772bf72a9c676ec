"""Bit for bit with micrograd 0.1.0 (skipped when it is not installed): a linear node adds
b + w₀x₀ + w₁x₁ + ... left to right exactly as micrograd's neuron does, on every Python
(the builtin sum of floats is compensated from 3.12 on, so it must not be used)."""

from __future__ import annotations

import random

import pytest

import autograd
from autograd import Value

mg_engine = pytest.importorskip("micrograd.engine")
mg_nn = pytest.importorskip("micrograd.nn")

# sums whose compensated and plain left-to-right results differ
HARD = [
    ([1.0, 1.0, 1.0], [1e16, 1.0, -1e16], 0.0),
    ([0.1, 0.2, 0.3], [1.0, 1.0, 1.0], 0.0),
    ([1e-3] * 10, [0.1] * 10, 1e3),
    ([1.0, -1.0, 1.0, 1e-16], [1e100, 1e100, 1.0, 1.0], 1.0),
]


@pytest.mark.parametrize("w, x, b", HARD)
def test_linear_adds_left_to_right_as_micrograd(w, x, b):
    theirs = sum((wi * xi for wi, xi in zip(map(mg_engine.Value, w), x)), mg_engine.Value(b))
    plain = b
    for wi, xi in zip(w, x):
        plain = plain + wi * xi
    ours = autograd.linear([Value(v) for v in w], x, Value(b))
    layer = autograd.value.linear_layer([[Value(v) for v in w]], [Value(v) for v in x], [Value(b)])
    composed = sum((Value(wi) * xi for wi, xi in zip(w, x)), Value(b))
    assert ours.data == layer[0].data == composed.data == theirs.data == plain
    assert autograd.sum([Value(v) for v in x]).data == (0.0 + x[0] + x[1] + x[2] if len(x) == 3
                                                      else autograd.sum(map(Value, x)).data)


@pytest.mark.parametrize("seed, shape", [(42, [4, 4, 1]), (1337, [16, 16, 1]), (7, [8, 3])])
def test_mlp_weights_and_outputs_are_micrograds_bits(seed, shape):
    """Gradients agree to rounding only: a node with several consumers sums their
    contributions in micrograd's order, which follows the iteration order of sets of Values
    (their ids), so no other engine can promise its last bit."""
    import nn

    random.seed(seed)
    theirs = mg_nn.MLP(2, shape)
    random.seed(seed)
    ours = nn.MLP(2, shape)
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    rng = random.Random(seed)
    for _ in range(5):
        x = [rng.uniform(-3, 3), rng.uniform(-3, 3)]
        out_t = theirs([mg_engine.Value(v) for v in x])
        out_o = ours(x)
        out_t = out_t if isinstance(out_t, list) else [out_t]
        out_o = out_o if isinstance(out_o, list) else [out_o]
        assert [o.data for o in out_o] == [t.data for t in out_t]
        theirs.zero_grad()
        ours.zero_grad()
        out_t[0].backward()
        out_o[0].backward()
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert p.grad == pytest.approx(q.grad, rel=1e-12, abs=1e-15)


def test_demo_loss_is_micrograds_bits():
    import nn

    X, labels = nn.moons(100, noise=0.1, seed=1)
    y = [2 * t - 1 for t in labels]
    random.seed(1337)
    theirs = mg_nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    ours = nn.MLP(2, [16, 16, 1])

    def loss(V, model):
        scores = [model([V(a) for a in row]) for row in X]
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + 1e-4 * sum(p * p for p in model.parameters())

    assert loss(Value, ours).data == loss(mg_engine.Value, theirs).data
