"""Initialisation schemes: bounds and spreads from their formulas, seeding."""

import math
import random
import statistics

import pytest

from nn import init

N = 20_000


@pytest.mark.parametrize("scheme, fan_in, fan_out, bound", [
    (init.uniform, 5, 7, 1.0),
    (init.xavier_uniform, 5, 7, math.sqrt(6 / 12)),
    (init.kaiming_uniform, 5, 7, math.sqrt(6 / 5)),
])
def test_uniform_schemes_fill_their_interval(scheme, fan_in, fan_out, bound):
    rng = random.Random(0)
    xs = [scheme(fan_in, fan_out, rng) for _ in range(N)]
    assert max(abs(x) for x in xs) <= bound
    assert max(abs(x) for x in xs) > 0.99 * bound
    assert statistics.pstdev(xs) == pytest.approx(bound / math.sqrt(3), rel=0.03)


@pytest.mark.parametrize("scheme, std", [
    (init.xavier_normal, math.sqrt(2 / (10 + 30))),
    (init.kaiming_normal, math.sqrt(2 / 10)),
])
def test_normal_schemes_have_their_spread(scheme, std):
    rng = random.Random(1)
    xs = [scheme(10, 30, rng) for _ in range(N)]
    assert statistics.fmean(xs) == pytest.approx(0.0, abs=0.03 * std)
    assert statistics.pstdev(xs) == pytest.approx(std, rel=0.03)


def test_seeds_and_names():
    assert init.get_rng(3).random() == random.Random(3).random()
    assert init.get_rng(None) is random
    assert init.get_init("he") is init.kaiming_normal
    assert init.get_init("glorot") is init.xavier_uniform
    with pytest.raises(TypeError, match="rng must be"):
        init.get_rng("seed")
