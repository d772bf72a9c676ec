"""Data sets, splitting, batching, standardising."""

import math
import statistics
from pathlib import Path

import pytest

import nn
from nn.data import batches, digits, moons, standardize, train_test_split, xor


def test_xor():
    X, y = xor()
    assert X == [[0, 0], [0, 1], [1, 0], [1, 1]] and y == [0, 1, 1, 0]


def test_moons_shape_geometry_and_seed():
    X, y = moons(200, noise=0.0, seed=3)
    assert len(X) == 200 and sorted(set(y)) == [0, 1] and y.count(0) == 100
    for (a, b), label in zip(X, y, strict=True):
        # upper moon: unit circle at the origin; lower: unit circle at (1, 0.5)
        center = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert math.hypot(a - center[0], b - center[1]) == pytest.approx(1.0)
        assert (b >= -1e-12) if label == 0 else (b <= 0.5 + 1e-12)
    assert moons(50, 0.1, seed=7) == moons(50, 0.1, seed=7)
    assert moons(50, 0.1, seed=7) != moons(50, 0.1, seed=8)


def test_digits_is_the_uci_set():
    X, y = digits()
    assert len(X) == 1797 and all(len(x) == 64 for x in X)
    assert sorted(set(y)) == list(range(10))
    counts = [y.count(d) for d in range(10)]
    assert min(counts) >= 174 and max(counts) <= 183
    raw, _ = digits(scale=False)
    assert raw[0] == [16 * v for v in X[0]]
    assert all(0 <= v <= 16 and v == int(v) for row in raw for v in row)
    shipped = Path(nn.__file__).parent / "_data" / "digits.csv.gz"
    assert shipped.stat().st_size < 200_000


def test_train_test_split_partitions_the_data():
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    Xtr, Xte, ytr, yte = train_test_split(X, y, 0.3, seed=1)
    assert len(Xte) == 3 and len(Xtr) == 7
    assert sorted(ytr + yte) == y
    assert all(x == [float(t)] for x, t in zip(Xtr + Xte, ytr + yte, strict=True))
    assert train_test_split(X, y, 0.3, seed=1) == (Xtr, Xte, ytr, yte)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, 1.5)


@pytest.mark.parametrize("size, expected", [(1, [1] * 7), (3, [3, 3, 1]), (None, [7])])
def test_batches_cover_each_sample_once(size, expected):
    X = [[i] for i in range(7)]
    y = list(range(7))
    got = list(batches(X, y, size, shuffle=True, seed=2))
    assert [len(b[1]) for b in got] == expected
    assert sorted(t for _, yb in got for t in yb) == y
    assert all(x == [t] for xb, yb in got for x, t in zip(xb, yb, strict=True))
    in_order = list(batches(X, y, size, shuffle=False))
    assert [t for _, yb in in_order for t in yb] == y


def test_standardize_uses_training_statistics():
    train = [[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]]
    test = [[7.0, 6.0]]
    tr, te = standardize(train, test)
    sd = statistics.pstdev([1.0, 3.0, 5.0])
    assert [r[0] for r in tr] == pytest.approx([-2 / sd, 0.0, 2 / sd])
    assert te == [pytest.approx([4 / sd, 1.0])]  # constant feature: only centred


def test_every_seed_argument_follows_one_rule():
    """None draws from the random module (random.seed applies, as in micrograd), an int seeds
    its own Random, and anything else is refused the same way in data, layers and fit."""
    import random

    import nn

    random.seed(7)
    first = nn.moons(20, seed=None)
    random.seed(7)
    assert nn.moons(20, seed=None) == first
    assert nn.moons(20, seed=7) == nn.moons(20, seed=random.Random(7))
    for call in (lambda: nn.moons(5, seed="7"), lambda: nn.MLP(2, [1], rng="7"),
                 lambda: nn.train_test_split([[0.0]] * 4, [0] * 4, seed=1.5)):
        with pytest.raises(TypeError, match="rng must be a random.Random, an int seed or None"):
            call()
