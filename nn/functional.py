"""Functions of a vector of logits: logsumexp, softmax, log_softmax.

Each takes one sample (a list of Values or numbers) or a batch (a list of such lists) and
subtracts the largest logit first, which keeps e^(zᵢ) finite for logits as large as ±1000.
The largest logit is a node held constant (:func:`autograd.value.detached_max`), so no
gradient flows through it and a compiled program takes each sample's own.
"""

from __future__ import annotations

from collections.abc import Sequence

import autograd
from autograd import Value
from autograd.value import detached_max

Scalar = Value | float


def as_value(x: Scalar) -> Value:
    """A Value as is; a plain number as a constant leaf."""
    return x if isinstance(x, Value) else Value(x)


def is_batch(x: object) -> bool:
    """True for a list of samples (a list whose items are lists), False for one sample."""
    return isinstance(x, (list, tuple)) and len(x) > 0 and isinstance(x[0], (list, tuple))


def logsumexp(logits: Sequence[Scalar]) -> Value:
    """log Σⱼ e^(zⱼ), computed as m + log Σⱼ e^(zⱼ − m) with m = maxⱼ zⱼ."""
    if not logits:
        raise ValueError("logsumexp of an empty list of logits")
    zs = [as_value(z) for z in logits]
    m = detached_max(zs)
    return autograd.sum((z - m).exp() for z in zs).log() + m


def log_softmax(logits: Sequence) -> list:
    """log softmaxᵢ(z) = zᵢ − log Σⱼ e^(zⱼ), for one sample or a batch."""
    if is_batch(logits):
        return [log_softmax(z) for z in logits]
    lse = logsumexp(logits)
    return [as_value(z) - lse for z in logits]


def softmax(logits: Sequence) -> list:
    """softmaxᵢ(z) = e^(zᵢ) / Σⱼ e^(zⱼ), for one sample or a batch; the outputs sum to 1."""
    if is_batch(logits):
        return [softmax(z) for z in logits]
    if not logits:
        raise ValueError("softmax of an empty list of logits")
    zs = [as_value(z) for z in logits]
    m = detached_max(zs)
    exps = [(z - m).exp() for z in zs]
    total = autograd.sum(exps)
    return [e / total for e in exps]
