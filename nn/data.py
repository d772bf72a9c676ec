"""Small data sets and batching, in plain Python lists.

- :func:`xor`: the explainers' four points.
- :func:`moons`: two interleaving half circles (our own generator, seeded).
- :func:`digits`: 1,797 handwritten digits, 8×8 pixels, 10 classes: the UCI "Optical
  Recognition of Handwritten Digits" test set (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0),
  read from the gzipped CSV shipped in this package (the copy scikit-learn also ships).
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

from .init import Rng as Seed
from .init import get_rng


def xor() -> tuple[list[list[float]], list[int]]:
    """Inputs (0,0), (0,1), (1,0), (1,1) with targets 0, 1, 1, 0."""
    return [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0]


def moons(
    n: int = 100, noise: float = 0.1, seed: Seed = None
) -> tuple[list[list[float]], list[int]]:
    """``n`` points on two interleaving half circles, label 0 (upper) or 1 (lower), shuffled.

    The upper moon is (cos t, sin t) and the lower (1 − cos t, ½ − sin t) for t evenly spaced
    in [0, π]; each coordinate gets Gaussian noise of standard deviation ``noise``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"moons needs an int n >= 2, got {n!r}")
    if noise < 0:
        raise ValueError(f"moons: noise must be >= 0, got {noise!r}")
    rng = get_rng(seed)
    n_upper = n // 2
    points = []
    for label, count in ((0, n_upper), (1, n - n_upper)):
        for i in range(count):
            t = math.pi * i / (count - 1) if count > 1 else 0.0
            x = (math.cos(t), math.sin(t)) if label == 0 else (1 - math.cos(t), 0.5 - math.sin(t))
            points.append(([x[0] + rng.gauss(0.0, noise), x[1] + rng.gauss(0.0, noise)], label))
    rng.shuffle(points)
    return [p for p, _ in points], [label for _, label in points]


def digits(scale: bool = True) -> tuple[list[list[float]], list[int]]:
    """The 1,797 8×8 digit images as 64 pixels each (row by row) and their labels 0–9.

    Pixels count ink in 4×4 blocks, 0..16; ``scale=True`` divides them by 16 into [0, 1].
    """
    raw = resources.files(__package__).joinpath("_data", "digits.csv.gz").read_bytes()
    text = gzip.decompress(raw).decode("ascii")
    X, y = [], []
    div = 16.0 if scale else 1.0
    for row in csv.reader(io.StringIO(text)):
        X.append([float(v) / div for v in row[:64]])
        y.append(int(float(row[64])))
    return X, y


def train_test_split(
    X: Sequence, y: Sequence, test_size: float | int = 0.25, seed: Seed = None
) -> tuple[list, list, list, list]:
    """Shuffle and split into ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    ``test_size`` is a fraction in (0, 1) or a number of samples; the test part has
    ⌈fraction × n⌉ samples.
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_test_split: {n} inputs but {len(y)} targets")
    if isinstance(test_size, float):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size fraction must be in (0, 1), got {test_size!r}")
        n_test = math.ceil(test_size * n)
    else:
        n_test = test_size
    if isinstance(n_test, bool) or not isinstance(n_test, int) or not 0 < n_test < n:
        raise ValueError(f"test_size must leave both parts non-empty; got {test_size!r} of {n}")
    order = list(range(n))
    get_rng(seed).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


def batches(
    X: Sequence, y: Sequence, batch_size: int | None = None, shuffle: bool = True,
    seed: Seed = None,
) -> Iterator[tuple[list[Any], list[Any]]]:
    """Yield ``(X_batch, y_batch)`` covering the data once (an epoch).

    ``batch_size`` 1 is stochastic gradient descent, None (or ≥ n) the full batch; the last
    batch may be smaller. With ``shuffle`` the order is drawn from ``seed`` (an int, or a
    ``random.Random`` to continue across epochs).
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"batches: {n} inputs but {len(y)} targets")
    size = n if batch_size is None else batch_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    order = list(range(n))
    if shuffle:
        get_rng(seed).shuffle(order)
    for start in range(0, n, size):
        idx = order[start : start + size]
        yield [X[i] for i in idx], [y[i] for i in idx]


def standardize(X_train: Sequence[Sequence[float]], *others: Sequence[Sequence[float]]) -> list:
    """Scale every feature to mean 0 and standard deviation 1 using the training set's mean
    and (population) standard deviation, then apply the same map to ``others``; a constant
    feature is only centred. Returns ``[X_train', *others']``."""
    n = len(X_train)
    if n == 0:
        raise ValueError("standardize needs a non-empty training set")
    cols = list(zip(*X_train, strict=True))
    mean = [sum(c) / n for c in cols]
    std = [math.sqrt(sum((v - m) ** 2 for v in c) / n) or 1.0
           for c, m in zip(cols, mean, strict=True)]
    return [[[(v - m) / s for v, m, s in zip(row, mean, std, strict=True)] for row in X]
            for X in (X_train, *others)]
