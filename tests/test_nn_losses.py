"""Losses against their formulas, values and gradients."""

import math
import re

import pytest

from autograd import Value
from nn import (
    MLP,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l1_penalty,
    l2_penalty,
    mse_loss,
)


def sig(z):
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def test_mse_batch_mean_and_half_convention():
    preds = [Value(0.2), Value(0.9), Value(-0.4)]
    ys = [0.0, 1.0, 1.0]
    pairs = list(zip(preds, ys, strict=True))
    loss = mse_loss(preds, ys)
    assert loss.data == pytest.approx(sum((p.data - y) ** 2 for p, y in pairs) / 3)
    half = mse_loss(preds, ys, half=True)
    half.backward()
    # J = 1/(2m) Σ (ŷ − y)²  ⇒  ∂J/∂ŷᵢ = (ŷᵢ − yᵢ)/m
    assert half.data == pytest.approx(loss.data / 2)
    assert [p.grad for p in preds] == pytest.approx([(p.data - y) / 3 for p, y in pairs])


def test_one_sample_half_mse_gradient_is_prediction_minus_target():
    p = Value(0.75)
    loss = mse_loss(p, 1.0, half=True)
    loss.backward()
    assert loss.data == pytest.approx(0.5 * 0.25**2)
    assert p.grad == pytest.approx(0.75 - 1.0)


def test_reductions():
    preds, ys = [Value(1.0), Value(3.0)], [0.0, 0.0]
    assert mse_loss(preds, ys, reduction="sum").data == 10.0
    assert [v.data for v in mse_loss(preds, ys, reduction="none")] == [1.0, 9.0]
    with pytest.raises(ValueError, match="reduction"):
        mse_loss(preds, ys, reduction="max")
    with pytest.raises(ValueError, match="2 predictions but target has 3"):
        mse_loss(preds, [0.0, 1.0, 2.0])


def test_binary_cross_entropy_from_probabilities_and_clamp():
    p = Value(0.8)
    loss = binary_cross_entropy(p, 1.0)
    loss.backward()
    assert loss.data == pytest.approx(-math.log(0.8))
    assert p.grad == pytest.approx(-1 / 0.8)
    assert math.isfinite(binary_cross_entropy(Value(0.0), 1.0).data)
    with pytest.raises(ValueError, match="outside"):
        binary_cross_entropy(Value(1.5), 1.0)


@pytest.mark.parametrize("z, y", [(0.3, 1.0), (-2.0, 0.0), (4.0, 0.0), (1000.0, 0.0),
                                  (-1000.0, 1.0), (1000.0, 1.0)])
def test_bce_with_logits_is_stable_and_has_gradient_sigmoid_minus_target(z, y):
    v = Value(z)
    loss = binary_cross_entropy_with_logits(v, y)
    loss.backward()
    # −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − y z + log(1 + e^(−|z|))
    assert loss.data == pytest.approx(max(z, 0) - y * z + math.log1p(math.exp(-abs(z))))
    assert v.grad == pytest.approx(sig(z) - y)


def test_hinge_loss_is_micrograds():
    scores, ys = [Value(0.5), Value(-2.0), Value(3.0)], [1, 1, -1]
    loss = hinge_loss(scores, ys)
    assert loss.data == pytest.approx((0.5 + 3.0 + 4.0) / 3)
    loss.backward()
    assert [s.grad for s in scores] == pytest.approx([-1 / 3, -1 / 3, 1 / 3])


@pytest.mark.parametrize("scores, targets, where", [
    ([0.5, -2.0, 3.0], [1, 0, -1], "target[1] = 0"),
    ([0.5, -2.0], [1.0, 2.0], "target[1] = 2.0"),
    ([[0.5], [-2.0]], [[-1], [math.nan]], "target[1][0] = nan"),
    (0.5, 0, "target = 0"),
    (0.5, True, None),  # True is 1
])
def test_hinge_loss_refuses_targets_other_than_plus_minus_one(scores, targets, where):
    """A 0/1 label gave max(0, 1 − 0·s) = 1 whatever the score: a loss that cannot train.
    The error names the loss, the position and the value."""
    def as_values(x):
        return [as_values(v) for v in x] if isinstance(x, list) else Value(x)

    s = as_values(scores)
    if where is None:
        assert hinge_loss(s, targets).data == max(0.0, 1.0 - scores)
        return
    with pytest.raises(ValueError, match=r"hinge_loss: .*−1 or \+1.*" + re.escape(where)):
        hinge_loss(s, targets)


def test_hinge_loss_with_plus_minus_one_targets_of_any_number_type():
    np = pytest.importorskip("numpy")
    s = [Value(0.25), Value(-0.5)]
    loss = hinge_loss(s, list(np.array([1, -1])))  # NumPy integers
    assert loss.data == ((1 - 0.25) + (1 - 0.5)) / 2
    with pytest.raises(ValueError, match=r"hinge_loss: .* target = array"):  # not a number
        hinge_loss(s[0], np.array([1, -1]))


@pytest.mark.parametrize("logits", [[1.0, 2.0, 0.5], [1000.0, -1000.0, 999.0]])
def test_cross_entropy_value_and_gradient(logits):
    zs = [Value(z) for z in logits]
    loss = cross_entropy(zs, 2)
    loss.backward()
    m = max(logits)
    lse = m + math.log(sum(math.exp(z - m) for z in logits))
    assert loss.data == pytest.approx(lse - logits[2])
    soft = [math.exp(z - lse) for z in logits]
    assert [z.grad for z in zs] == pytest.approx([s - (i == 2) for i, s in enumerate(soft)])


def test_cross_entropy_batch_and_bad_target():
    batch = [[Value(0.0), Value(1.0)], [Value(2.0), Value(0.0)]]
    loss = cross_entropy(batch, [1, 0])
    expected = (math.log(1 + math.exp(-1)) + math.log(1 + math.exp(-2))) / 2
    assert loss.data == pytest.approx(expected)
    with pytest.raises(ValueError, match="class index"):
        cross_entropy([Value(0.0), Value(1.0)], 2)


def test_penalties():
    model = MLP(2, [2, 1], rng=0)
    params = model.parameters()
    l2 = l2_penalty(model, 1e-4)
    l2.backward()
    assert l2.data == pytest.approx(1e-4 * sum(p.data**2 for p in params))
    assert [p.grad for p in params] == pytest.approx([2e-4 * p.data for p in params])
    ws = [Value(-2.0), Value(0.5)]
    l1 = l1_penalty(ws, 0.1)
    l1.backward()
    assert l1.data == pytest.approx(0.25)
    assert [w.grad for w in ws] == pytest.approx([-0.1, 0.1])
