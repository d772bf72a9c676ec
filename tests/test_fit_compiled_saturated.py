"""fit(compiled=...) trains exactly as plain fit where the outputs saturate: moons inputs
scaled by 10 and 3000 drive sigmoids to 0 and 1 (BCE's clamp) and logits thousands apart
(cross-entropy's shift by each sample's largest logit). The oracle is plain ``fit`` on the
engine: ``"exact"`` equals its history and parameters bit for bit, ``True`` (matrix code)
to within rounding."""

from __future__ import annotations

import math

import pytest

from nn import MLP
from nn.data import moons
from nn.train import LOSSES, fit

X, Y = moons(60, noise=0.1, seed=0)


def train(loss: str, scale: float, compiled) -> tuple[list[float], list[float]]:
    if loss == "cross_entropy":
        model, ys = MLP(2, [8, 2], rng=1), list(Y)
    elif loss == "hinge":
        model, ys = MLP(2, [8, 1], rng=1), [1 if t else -1 for t in Y]
    else:
        sigmoid = loss in ("bce", "mse", "half_mse")
        model, ys = MLP(2, [8, 1], output_activation="sigmoid" if sigmoid else None, rng=1), list(Y)
    history = fit(model, [[a * scale for a in x] for x in X], ys, loss=loss, epochs=5,
                  batch_size=10, lr=0.5, seed=0, progress=False, compiled=compiled)
    return history["loss"], [p.data for p in model.parameters()]


@pytest.mark.parametrize("scale", [10.0, 3000.0])
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_compiled_fit_equals_plain_fit_on_saturated_outputs(loss, scale):
    plain = train(loss, scale, False)
    assert all(map(math.isfinite, plain[0] + plain[1]))
    exact = train(loss, scale, "exact")
    assert list(map(repr, exact[0] + exact[1])) == list(map(repr, plain[0] + plain[1]))
    layered = train(loss, scale, True)
    for got, want in zip(layered[0] + layered[1], plain[0] + plain[1]):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (got, want)


def test_saturated_samples_are_clamped_and_shifted_per_sample():
    """The samples do saturate: some sigmoid outputs are clamped (p < ε or p > 1 − ε), and
    some logits differ from the traced sample's largest by more than 709 (e^709 overflows)."""
    bce = MLP(2, [8, 1], output_activation="sigmoid", rng=1)
    ps = [bce([a * 10 for a in x]).data for x in X]
    assert any(p < 1e-7 or p > 1 - 1e-7 for p in ps)
    ce = MLP(2, [8, 2], rng=1)
    tops = [max(z.data for z in ce([a * 3000 for a in x])) for x in X]
    assert max(tops) - tops[0] > 709 or tops[0] - min(tops) > 709
