"""The training loop: fit, predict, evaluate.

Each epoch: shuffle, then per batch forward every sample, average the loss (plus an optional
L2 penalty), zero the grads, backward, take one optimizer step. ``fit`` returns a
:class:`History` of the epoch-average loss and metrics (computed from the outputs seen during
the epoch, before each batch's update) and the learning rate used.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Literal

import autograd
from autograd import Value, no_grad

from . import losses
from .data import batches
from .functional import logsumexp
from .module import Module
from .optim import OPTIMIZERS, LRSchedule, Optimizer

Output = float | list
Decode = Callable[[Output], Any]
Metric = Callable[[list, list, Decode], float]


def _label(threshold: float, negative: int) -> Decode:
    def decode(out: Output) -> Any:
        if isinstance(out, list):
            return max(range(len(out)), key=out.__getitem__)
        return 1 if out > threshold else negative

    return decode


# name -> (loss function, decode: model output -> predicted label)
LOSSES: dict[str, tuple[Callable[..., Value], Decode]] = {
    "mse": (losses.mse_loss, _label(0.5, 0)),
    "half_mse": (partial(losses.mse_loss, half=True), _label(0.5, 0)),
    "bce": (losses.binary_cross_entropy, _label(0.5, 0)),
    "bce_with_logits": (losses.binary_cross_entropy_with_logits, _label(0.0, 0)),
    "hinge": (losses.hinge_loss, _label(0.0, -1)),
    "cross_entropy": (losses.cross_entropy, _label(0.0, 0)),
}


def accuracy(outputs: list, targets: list, decode: Decode) -> float:
    """Fraction of samples whose decoded output equals the target: argmax for a vector output;
    for one output, above the loss's threshold (0.5 for probabilities and MSE, 0 for logits and
    hinge scores) means label 1, else 0 (−1 for hinge)."""
    return sum(decode(o) == t for o, t in zip(outputs, targets, strict=True)) / len(targets)


METRICS: dict[str, Metric] = {"accuracy": accuracy}


class History(dict):
    """{"loss": [...], "lr": [...], metric name: [...]}, one entry per epoch."""

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.items() if v)
        return f"History({len(self.get('loss', []))} epochs: {last})"


def _resolve_loss(loss: str | Callable[..., Value], decode: Decode | None):
    if callable(loss):
        return loss, decode or _label(0.5, 0)
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)} or pass a "
                         f"function (predictions, targets) -> Value")
    fn, dec = LOSSES[loss]
    return fn, decode or dec


def _resolve_metrics(metrics: Sequence[str | Metric]) -> dict[str, Metric]:
    out = {}
    for m in metrics:
        if callable(m):
            out[getattr(m, "__name__", "metric")] = m
        elif m in METRICS:
            out[m] = METRICS[m]
        else:
            raise ValueError(f"unknown metric {m!r}; choose from {sorted(METRICS)} or pass a "
                             f"function (outputs, targets, decode) -> float")
    return out


def _data(out: Value | list) -> Output:
    return [v.data for v in out] if isinstance(out, list) else out.data


def fit(
    model: Module,
    X: Sequence,
    y: Sequence,
    loss: str | Callable[..., Value] = "mse",
    optimizer: Optimizer | str = "sgd",
    epochs: int = 10,
    batch_size: int | None = None,
    scheduler: LRSchedule | None = None,
    progress: bool = True,
    metrics: Sequence[str | Metric] = ("accuracy",),
    *,
    lr: float = 0.01,
    l2: float = 0.0,
    seed: int | random.Random | None = None,
    decode: Decode | None = None,
    compiled: bool | Literal["exact"] = False,
) -> History:
    """Train ``model`` on inputs ``X`` and targets ``y``; return the per-epoch History.

    loss: a name in :data:`LOSSES` (mse, half_mse, bce, bce_with_logits, hinge,
    cross_entropy) or ``f(predictions, targets) -> Value`` (mean over the batch).
    optimizer: an Optimizer on the model's parameters, or a name (sgd, adagrad, rmsprop, adam,
    adamw) built with ``lr``. batch_size: 1 = stochastic, None = full batch. scheduler: stepped
    once per epoch. l2: adds l2·Σw² to every batch's loss. seed: the shuffling order.
    progress: a tqdm.auto bar (a widget in Jupyter, text in a terminal) over epochs that stays
    on screen when done. decode: model output → label for accuracy (default from the loss).
    compiled: trace one sample's loss graph once, compile it (:func:`autograd.compile`) and
    train by replaying it over each batch with NumPy, much faster. ``True``: a model's layers
    as matrix code (``layers=True``); each step's gradients agree with plain fit's to about
    1e-12 relative (matrix products add in BLAS's order), so over many steps the parameters
    drift apart by rounding. ``"exact"``: the scalar program, which adds in the engine's
    order, so the steps equal plain fit's bit for bit (with the built-in losses).
    """
    if compiled not in (False, True, "exact"):
        raise ValueError(f"fit: compiled must be False, True or 'exact', got {compiled!r}")
    loss_fn, decode = _resolve_loss(loss, decode)
    named_metrics = _resolve_metrics(metrics)
    params = model.parameters()
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
        optimizer = OPTIMIZERS[optimizer](params, lr=lr)
    if len(X) != len(y) or not X:
        raise ValueError(f"fit: {len(X)} inputs and {len(y)} targets (need equal, non-zero)")
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    history = History(loss=[], lr=[], **{name: [] for name in named_metrics})
    replay = (_compiled_step(model, loss_fn, params, l2, X[0], y[0], layers=compiled is True)
              if compiled else None)
    bar = _progress(epochs, progress)
    for _ in bar:
        total, outputs, targets = 0.0, [], []
        lr_used = optimizer.lr
        for xb, yb in batches(X, y, batch_size, shuffle=True, seed=rng):
            optimizer.zero_grad()
            if replay is None:
                preds = [model(x) for x in xb]
                batch_loss = loss_fn(preds, yb)
                if l2:
                    batch_loss = batch_loss + losses.l2_penalty(params, l2)
                batch_loss.backward()
                loss_value, preds = batch_loss.data, [_data(p) for p in preds]
            else:
                loss_value, preds = replay(xb, yb)
            optimizer.step()
            total += loss_value * len(xb)
            outputs += preds
            targets += yb
        history["loss"].append(total / len(X))
        history["lr"].append(lr_used)
        for name, metric in named_metrics.items():
            history[name].append(metric(outputs, targets, decode))
        if scheduler is not None:
            scheduler.step()
        if hasattr(bar, "set_postfix"):
            bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in history.items() if k != "lr"})
    return history


def _flat(item: object) -> list:
    return list(item) if isinstance(item, (list, tuple)) else [item]


def _compiled_step(model: Module, loss_fn: Callable[..., Value], params: list[Value],
                   l2: float, x: object, t: object,
                   layers: bool) -> Callable[[list, list], tuple]:
    """Trace one sample's loss Lₛ with the features and the target as inputs, compile it
    (``layers``: as matrix code), and return ``replay(xb, yb)``: it sets every parameter's
    grad to ∂(mean loss + P)/∂p, P the L2 penalty, and returns (mean loss + P, the per-sample
    outputs). P comes from the engine. The scalar program adds the samples' gradients one
    after another, as backward does on the batch graph, so its numbers are the engine's; the
    layered one adds them in matrix products (to about 1e-12 relative). A class-index target
    becomes one-hot inputs."""
    xs = [Value(v, label=f"x_{j}") for j, v in enumerate(_flat(x))]
    pred = model(xs if isinstance(x, (list, tuple)) else xs[0])
    one_hot = loss_fn is losses.cross_entropy
    width = len(pred) if one_hot else len(_flat(t))
    ts = [Value(0.0, label=f"y_{k}") for k in range(width)]
    if one_hot:
        sample_loss = logsumexp(pred) - autograd.linear(ts, pred)
    else:
        sample_loss = loss_fn([pred], [ts if isinstance(t, (list, tuple)) else ts[0]])
    outs = _flat(pred)
    program = autograd.compile([sample_loss, *outs], xs + ts, params, input_grads=False,
                               layers=layers)

    def target(t: object) -> list:
        return [float(k == t) for k in range(width)] if one_hot else _flat(t)

    def replay(xb: list, yb: list) -> tuple[float, list]:
        rows = [_flat(xi) + target(ti) for xi, ti in zip(xb, yb)]
        result = program(*zip(*rows), seed=1.0 / len(rows))
        for p, g in zip(params, result.param_grads):
            p.grad = g
        loss_s, *out = result.outputs
        loss_value = 0.0
        for v in loss_s.tolist():  # the mean as the losses take it: Σ left to right, × 1/n
            loss_value += v
        if len(rows) > 1:
            loss_value *= 1.0 / len(rows)
        if l2:
            penalty = losses.l2_penalty(params, l2)
            penalty.backward()
            loss_value += penalty.data
        preds = [list(o) for o in zip(*(o.tolist() for o in out))] if len(out) > 1 \
            else out[0].tolist()
        return loss_value, preds

    return replay


def _progress(epochs: int, show: bool):
    if show:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # the bar is optional (pip install tqdm)
            return range(epochs)
        return tqdm(range(epochs), desc="training", unit="epoch", leave=True)
    return range(epochs)


@no_grad()
def predict(model: Module, X: Sequence) -> list[Output]:
    """The model's outputs for each input, as floats (lists of floats for vector outputs),
    computed without recording a graph."""
    return [_data(model(x)) for x in X]


@no_grad()
def evaluate(
    model: Module,
    X: Sequence,
    y: Sequence,
    loss: str | Callable[..., Value] = "mse",
    metrics: Sequence[str | Metric] = ("accuracy",),
    decode: Decode | None = None,
) -> dict[str, float]:
    """{"loss": mean loss, metric name: value} on (X, y), without recording a graph."""
    loss_fn, decode = _resolve_loss(loss, decode)
    preds = [model(x) for x in X]
    result = {"loss": loss_fn(preds, list(y)).data}
    outputs = [_data(p) for p in preds]
    for name, metric in _resolve_metrics(metrics).items():
        result[name] = metric(outputs, list(y), decode)
    return result
