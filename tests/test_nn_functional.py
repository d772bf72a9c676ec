"""softmax and log_softmax against math, including huge logits and batches."""

import math

import pytest

from autograd import Value
from nn import log_softmax, softmax
from nn.functional import logsumexp


def test_softmax_matches_the_formula_and_sums_to_one():
    zs = [Value(0.5), Value(-1.0), Value(2.0)]
    out = softmax(zs)
    total = sum(math.exp(z.data) for z in zs)
    assert [o.data for o in out] == pytest.approx([math.exp(z.data) / total for z in zs])
    assert sum(o.data for o in out) == pytest.approx(1.0)


def test_softmax_gradient_is_the_jacobian_row():
    zs = [Value(0.5), Value(-1.0), Value(2.0)]
    out = softmax(zs)
    out[0].backward()
    s = [o.data for o in out]
    # ∂sᵢ/∂zⱼ = sᵢ(δᵢⱼ − sⱼ)
    assert [z.grad for z in zs] == pytest.approx([s[0] * ((j == 0) - s[j]) for j in range(3)])


def test_stable_for_huge_logits_and_batches():
    big = [[1000.0, -1000.0, 999.0], [3.0, 3.0, 3.0]]
    out = log_softmax(big)
    lse = 1000.0 + math.log(1 + math.exp(-2000.0) + math.exp(-1.0))
    assert [v.data for v in out[0]] == pytest.approx([z - lse for z in big[0]])
    assert [v.data for v in out[1]] == pytest.approx([-math.log(3)] * 3)
    assert [v.data for v in softmax(big)[0]] == pytest.approx(
        [math.exp(z - lse) for z in big[0]])
    assert logsumexp([-1000.0, -1000.0]).data == pytest.approx(-1000.0 + math.log(2))
