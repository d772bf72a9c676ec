"""Loss functions and weight penalties.

Every loss takes one sample or a batch. One sample: a prediction (a Value, or a list of
Values for a vector output) and its target. A batch: a list of predictions and a list of
targets. ``reduction`` is ``"mean"`` (default), ``"sum"`` or ``"none"`` (the list of
per-element losses). Predictions may also be plain numbers (they become constants).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Sequence

import autograd
from autograd import Value

from .functional import as_value, is_batch, logsumexp
from .module import Module

Loss = Value | list

REDUCTIONS = ("mean", "sum", "none")


def _reduce(losses: list[Value], reduction: str) -> Loss:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if reduction == "none":
        return losses
    if len(losses) == 1:
        return losses[0]
    total = autograd.sum(losses)
    return total if reduction == "sum" else total * (1.0 / len(losses))


def _pairs(pred: object, target: object, name: str) -> Iterator[tuple[Value, float]]:
    """(prediction, target) element pairs of two equally nested lists."""
    if isinstance(pred, (list, tuple)):
        if not isinstance(target, (list, tuple)) or len(target) != len(pred):
            size = len(target) if isinstance(target, (list, tuple)) else "a scalar"
            raise ValueError(f"{name}: {len(pred)} predictions but target has {size}")
        if not pred:
            raise ValueError(f"{name}: no predictions")
        for p, t in zip(pred, target, strict=True):
            yield from _pairs(p, t, name)
    else:
        yield as_value(pred), target


def mse_loss(pred: object, target: object, reduction: str = "mean", half: bool = False) -> Loss:
    """(ŷ − y)² per element, averaged over all elements (as PyTorch).

    ``half=True`` is the explainers' convention: ½(ŷ − y)² per element, so that ∂L/∂ŷ = ŷ − y
    and a batch of m gives J = 1/(2m) Σᵢ (ŷᵢ − yᵢ)².
    """
    losses = [(p - t) ** 2 for p, t in _pairs(pred, target, "mse_loss")]
    if half:
        losses = [0.5 * sq for sq in losses]
    return _reduce(losses, reduction)


def binary_cross_entropy(
    prob: object, target: object, reduction: str = "mean", eps: float = 1e-7
) -> Loss:
    """−[y log p + (1 − y) log(1 − p)] for probabilities p (say sigmoid outputs), y in [0, 1].

    p is clamped to [eps, 1 − eps] (the ``clamp`` op, a node of the graph) so the loss stays
    finite; outside that range no gradient flows back to p (as a clamp does).
    """
    losses = []
    for p, t in _pairs(prob, target, "binary_cross_entropy"):
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"binary_cross_entropy: probability {p.data!r} (label "
                             f"{p.label!r}) is outside [0, 1]; use the _with_logits form")
        p = p.clamp(eps, 1.0 - eps)
        losses.append(-(t * p.log() + (1.0 - t) * (1.0 - p).log()))
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits(logit: object, target: object,
                                     reduction: str = "mean") -> Loss:
    """Binary cross-entropy of σ(z) from the logit z, computed stably as softplus(z) − y·z
    (= −[y log σ(z) + (1 − y) log(1 − σ(z))]); ∂L/∂z = σ(z) − y."""
    losses = [z.softplus() - t * z
              for z, t in _pairs(logit, target, "binary_cross_entropy_with_logits")]
    return _reduce(losses, reduction)


def hinge_loss(score: object, target: object, reduction: str = "mean") -> Loss:
    """max(0, 1 − y·s) for labels y = ±1 (micrograd's demo: ``(1 + -y*s).relu()``).

    Raises ValueError (see :func:`check_hinge_targets`) for a target that is not ±1, such as
    a 0/1 label, before anything is built.
    """
    check_hinge_targets(target)
    losses = [(1.0 - t * s).relu() for s, t in _pairs(score, target, "hinge_loss")]
    return _reduce(losses, reduction)


def check_hinge_targets(target: object, name: str = "target") -> None:
    """Raise ValueError naming the value and position (``target[3]``) of the first number in
    ``target`` (a number or nested lists of them) that is not −1 or +1. A Value target is a
    traced graph input, not a label, and is not checked."""
    bad = _first_non_label(target)
    if bad is not None:
        where, value = bad
        raise ValueError(f"hinge_loss: targets are labels −1 or +1, got "
                         f"{name}{''.join(f'[{i}]' for i in where)} = {value!r} "
                         f"(for 0/1 labels y use 2·y − 1)")


def _first_non_label(target: object) -> tuple[tuple[int, ...], object] | None:
    """(index path, value) of the first entry of ``target`` that is not ±1, or None."""
    if isinstance(target, (list, tuple)):
        for i, t in enumerate(target):
            bad = _first_non_label(t)
            if bad is not None:
                return (i, *bad[0]), bad[1]
        return None
    if isinstance(target, Value) or isinstance(target, numbers.Real) and target in (1, -1):
        return None
    return (), target


def cross_entropy(logits: Sequence, target: object, reduction: str = "mean") -> Loss:
    """−log softmax_y(z) = log Σⱼ e^(zⱼ) − z_y for class index y, via a stable log-sum-exp.

    One sample: a list of logits and an int; a batch: a list of such lists and a list of ints.
    """
    if is_batch(logits):
        if not isinstance(target, (list, tuple)) or len(target) != len(logits):
            raise ValueError(f"cross_entropy: {len(logits)} samples but targets {target!r}")
        pairs = list(zip(logits, target, strict=True))
    else:
        pairs = [(logits, target)]
    losses = []
    for z, t in pairs:
        if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < len(z):
            raise ValueError(f"cross_entropy: target must be a class index in "
                             f"[0, {len(z)}), got {t!r}")
        losses.append(logsumexp(z) - as_value(z[t]))
    return _reduce(losses, reduction)


def _params(params: Module | Value | Iterable[Value]) -> list[Value]:
    if isinstance(params, Module):
        return params.parameters()
    if isinstance(params, Value):
        return [params]
    return list(params)


def l1_penalty(params: Module | Value | Iterable[Value], alpha: float = 1.0) -> Value:
    """α Σ |w| over the parameters (a Module's, or a list of Values)."""
    total = autograd.sum(abs(p) for p in _params(params))
    return total if alpha == 1.0 else alpha * total


def l2_penalty(params: Module | Value | Iterable[Value], alpha: float = 1.0) -> Value:
    """α Σ w² over the parameters (micrograd's demo uses α = 1e-4)."""
    total = autograd.sum(p * p for p in _params(params))
    return total if alpha == 1.0 else alpha * total
