"""Weight initialisation: each scheme draws one weight for a neuron with fan_in inputs in a
layer of fan_out neurons, from the ``random.Random`` (or the ``random`` module) it is given.

- ``uniform``: U(−1, 1), micrograd's default.
- ``xavier_uniform`` (Glorot): U(−a, a), a = √(6 / (fan_in + fan_out)); ``xavier_normal``:
  N(0, 2 / (fan_in + fan_out)). Keeps the variance of tanh/sigmoid layers steady.
- ``kaiming_uniform`` (He): U(−a, a), a = √(6 / fan_in); ``kaiming_normal``: N(0, 2 / fan_in).
  Keeps the variance of ReLU layers steady.

Biases start at 0.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

Rng = random.Random | int | None
Init = Callable[[int, int, random.Random], float]


def uniform(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """U(−1, 1)."""
    return rng.uniform(-1.0, 1.0)


def xavier_uniform(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """U(−a, a) with a = √(6 / (fan_in + fan_out))."""
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a)


def xavier_normal(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """N(0, σ²) with σ = √(2 / (fan_in + fan_out))."""
    return rng.gauss(0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """U(−a, a) with a = √(6 / fan_in)."""
    a = math.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a)


def kaiming_normal(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """N(0, σ²) with σ = √(2 / fan_in)."""
    return rng.gauss(0.0, math.sqrt(2.0 / fan_in))


INITS: dict[str, Init] = {
    "uniform": uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "kaiming_uniform": kaiming_uniform,
    "kaiming_normal": kaiming_normal,
    "xavier": xavier_uniform,
    "glorot": xavier_uniform,
    "kaiming": kaiming_normal,
    "he": kaiming_normal,
}


def get_init(init: str | Init) -> Init:
    """A scheme by name (see :data:`INITS`) or a callable ``(fan_in, fan_out, rng) -> float``."""
    if callable(init):
        return init
    try:
        return INITS[init]
    except KeyError:
        raise ValueError(f"unknown init {init!r}; choose one of {sorted(INITS)}") from None


def get_rng(rng: Rng) -> random.Random:
    """The one rule for every ``rng``/``seed`` argument in nn (layers, data, fit): ``None`` →
    the ``random`` module (so ``random.seed`` applies, as in micrograd); an int →
    ``random.Random(int)``; a Random → itself."""
    if rng is None or rng is random:
        return random  # type: ignore[return-value]
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    raise TypeError(f"rng must be a random.Random, an int seed or None, got {type(rng).__name__}")
