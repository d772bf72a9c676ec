"""The training loop: fit, predict, evaluate.

Each epoch: shuffle, then per batch forward every sample, average the loss (plus an optional
L2 penalty), zero the grads, backward, take one optimizer step. ``fit`` returns a
:class:`History` of the epoch-average loss and metrics (computed from the outputs seen during
the epoch, before each batch's update) and the learning rate used.

NaN and inf never hide behind a healthy-looking history: a model with a non-finite parameter
is refused before training; a non-finite batch loss or an overflow (checked every step,
before the update) or parameter (checked after every epoch) stops ``fit`` with
:class:`DivergenceError` naming the epoch and the loss or the first such parameter (dotted
name); the model keeps its last finite parameters (see the exception). Ctrl-C stops
after the current step with :class:`TrainingInterrupted` (a KeyboardInterrupt), the model
consistent; a second Ctrl-C stops at once, and the model keeps the parameters of the last
finished step (an update is never cut in half; a program can route SIGTERM and SIGHUP here
too, see :mod:`nn.interrupts`). Inputs may be lists, NumPy arrays or any
sequences of real numbers.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, Literal

import autograd
from autograd import Value, no_grad

from . import losses
from .data import batches
from .functional import logsumexp
from .init import get_rng
from .interrupts import deferred
from .module import Module
from .optim import OPTIMIZERS, LRSchedule, Optimizer
from .record import Recording

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
    """{"loss": [...], "lr": [...], metric name: [...]}, one entry per epoch; ``recording``
    is fit's Recording when it was given one (else None)."""

    recording: Recording | None = None

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.items() if v)
        return f"History({len(self.get('loss', []))} epochs: {last})"


class DivergenceError(FloatingPointError):
    """Training produced NaN or ±inf in step ``step`` of epoch ``epoch`` (both 1-based; for a
    parameter, the epoch's last step); ``parameter`` is the first non-finite parameter's
    dotted name (None when the loss showed it first); ``history`` has the finished epochs.
    The model holds finite parameters: those before the step whose loss was not finite, else
    those at the end of the last finished epoch."""

    def __init__(self, message: str, epoch: int, step: int, parameter: str | None,
                 history: History):
        super().__init__(message)
        self.epoch, self.step, self.parameter, self.history = epoch, step, parameter, history


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped ``fit`` after step ``step`` of epoch ``epoch`` (both 1-based); the model
    holds every finished step; ``history`` has the finished epochs."""

    def __init__(self, epoch: int, step: int, history: History):
        super().__init__(f"training interrupted after step {step} of epoch {epoch}")
        self.epoch, self.step, self.history = epoch, step, history


def _first_non_finite(model: Module) -> tuple[str, float] | None:
    """(name, value) of the first NaN or ±inf parameter, or None. The name is its dotted path
    (for a model without ``state_dict``, its label or position)."""
    for i, p in enumerate(model.parameters()):
        if not math.isfinite(p.data):
            names = list(model.state_dict()) if isinstance(model, Module) else None
            return (names[i] if names else p.label or f"#{i}"), p.data
    return None


def _rows(data: Sequence) -> list:
    """A data set as a list of plain Python items: NumPy arrays and scalars (anything with
    ``tolist``) become lists and numbers; lists pass through."""
    if hasattr(data, "tolist"):
        return data.tolist()
    return [v.tolist() if hasattr(v, "tolist") else v for v in data]


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
    record: Recording | bool | None = None,
) -> History:
    """Train ``model`` on inputs ``X`` and targets ``y``; return the per-epoch History.

    loss: a name in :data:`LOSSES` (mse, half_mse, bce, bce_with_logits, hinge,
    cross_entropy) or ``f(predictions, targets) -> Value`` (mean over the batch).
    optimizer: an Optimizer on the model's parameters, or a name (sgd, adagrad, rmsprop, adam,
    adamw) built with ``lr``. epochs: passes over the data, an int ≥ 0 (0 trains nothing
    and returns an empty History, as a loop over ``range(0)`` would). batch_size: 1 =
    stochastic, None = full batch. scheduler: stepped once per epoch. l2: adds l2·Σw² to
    every batch's loss. seed: the shuffling order.
    progress: a tqdm.auto bar (a widget in Jupyter, text in a terminal) over epochs that stays
    on screen when done. decode: model output → label for accuracy (default from the loss).
    compiled: trace one sample's loss graph once, compile it (:func:`autograd.compile`) and
    train by replaying it over each batch with NumPy, much faster. ``True``: a model's layers
    as matrix code (``layers=True``); each step's gradients agree with plain fit's to about
    1e-12 relative (matrix products add in BLAS's order), so over many steps the parameters
    drift apart by rounding. ``"exact"``: the scalar program, which adds in the engine's
    order, so the steps equal plain fit's bit for bit (with the built-in losses; saturated
    outputs included, as BCE's clamp and log-sum-exp's shift are nodes of the graph), except
    cross-entropy over three or more classes, whose backward adds the logits' terms in an
    order that depends on the sample's class (the last bit may differ).
    record: a :class:`nn.Recording` that takes snapshots of the model as it trains (every k
    epochs, or every k optimizer steps), or True for one every epoch; either way it is also
    ``history.recording``.

    Raises TypeError for epochs that are not an int (a bool included), ValueError for
    negative epochs or if a parameter is NaN or ±inf before training,
    :class:`DivergenceError` when the loss (each step) or a parameter (each epoch) stops
    being finite, and :class:`TrainingInterrupted` after the step during which Ctrl-C was
    pressed (after the last finished step for a second Ctrl-C; a plain KeyboardInterrupt if
    none had finished).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral):
        raise TypeError(f"fit: epochs must be an int, got {type(epochs).__name__}: {epochs!r}")
    if epochs < 0:
        raise ValueError(f"fit: epochs must be an int ≥ 0, got {epochs!r}")
    if compiled not in (False, True, "exact"):
        raise ValueError(f"fit: compiled must be False, True or 'exact', got {compiled!r}")
    loss_fn, decode = _resolve_loss(loss, decode)
    named_metrics = _resolve_metrics(metrics)
    params = model.parameters()
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
        optimizer = OPTIMIZERS[optimizer](params, lr=lr)
    X, y = _rows(X), _rows(y)
    if len(X) != len(y) or not X:
        raise ValueError(f"fit: {len(X)} inputs and {len(y)} targets (need equal, non-zero)")
    if loss_fn is losses.hinge_loss:  # every label, before the first step changes the model
        losses.check_hinge_targets(y, "y")
    bad = _first_non_finite(model)
    if bad is not None:
        raise ValueError(f"fit: parameter {bad[0]!r} is {bad[1]} before training")
    rng = get_rng(seed)
    history = History(loss=[], lr=[], **{name: [] for name in named_metrics})
    if record is True:
        record = Recording()
    elif record is False:
        record = None
    elif record is not None and not isinstance(record, Recording):
        raise TypeError(f"fit: record must be a Recording or a bool, got {type(record).__name__}")
    history.recording = record
    replay = (_compiled_step(model, loss_fn, params, l2, X[0], y[0], layers=compiled is True)
              if compiled else None)
    bar = _progress(epochs, progress)

    def forward_backward(xb: list, yb: list) -> tuple[float, list]:
        """The batch's loss and outputs; every parameter's grad set to ∂loss/∂p."""
        if replay is not None:
            return replay(xb, yb)
        preds = [model(x) for x in xb]
        batch_loss = loss_fn(preds, yb)
        if l2:
            batch_loss = batch_loss + losses.l2_penalty(params, l2)
        batch_loss.backward()
        return batch_loss.data, [_data(p) for p in preds]

    done = None  # (epoch, step) of the last finished step
    try:
        with deferred() as interrupt, _closing(bar):
            for epoch, _ in enumerate(bar, 1):
                total, outputs, targets = 0.0, [], []
                lr_used = optimizer.lr
                last_finite = [p.data for p in params]
                for step, (xb, yb) in enumerate(batches(X, y, batch_size, shuffle=True,
                                                        seed=rng), 1):
                    optimizer.zero_grad()
                    overflow = None
                    try:
                        loss_value, preds = forward_backward(xb, yb)
                    except OverflowError as err:  # an op whose result is too large for a float
                        loss_value, overflow = math.nan, f"overflow ({err})"
                    with interrupt.hold():  # a second Ctrl-C never cuts an update in half
                        if not math.isfinite(loss_value):
                            _diverged(model, last_finite, epoch, step, history,
                                      overflow or f"the loss is {loss_value}")
                        if record is not None:
                            record.before_optimizer_step(
                                epoch, epoch == epochs and step * (batch_size or len(X)) >= len(X),
                                model, optimizer, loss_value, loss, metrics, decode)
                        optimizer.step()
                        total += loss_value * len(xb)
                        outputs += preds
                        targets += yb
                        done = (epoch, step)
                    if interrupt.received is not None:
                        interrupt.stop()
                        raise TrainingInterrupted(epoch, step, history)
                with interrupt.hold():  # the history gets the whole epoch or none of it
                    bad = _first_non_finite(model)
                    if bad is not None:
                        _diverged(model, last_finite, epoch, step, history,
                                  f"parameter {bad[0]!r} is {bad[1]}", bad[0])
                    history["loss"].append(total / len(X))
                    history["lr"].append(lr_used)
                    for name, metric in named_metrics.items():
                        history[name].append(metric(outputs, targets, decode))
                    if record is not None:
                        record.after_epoch(epoch, epoch == epochs, model, optimizer, history,
                                           loss, metrics, decode)
                    if scheduler is not None:
                        scheduler.step()
                if hasattr(bar, "set_postfix"):
                    bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in history.items()
                                     if k != "lr"}, refresh=False)  # shown with the next count
            if interrupt.received is not None:  # arrived after the last step's look
                interrupt.stop()
                raise TrainingInterrupted(*done, history)
    except KeyboardInterrupt as stop:  # a second Ctrl-C, at once: keep the last finished step
        if isinstance(stop, TrainingInterrupted) or done is None:
            raise
        raise TrainingInterrupted(*done, history) from None
    return history


def _diverged(model: Module, last_finite: list[float], epoch: int, step: int,
              history: History, what: str, parameter: str | None = None) -> None:
    """Raise DivergenceError; first put the parameters back as they were after the last
    finite epoch, unless the model still holds finite parameters from the previous step."""
    if parameter is None and _first_non_finite(model) is None:  # the last step's parameters
        kept = "from before that step"
    else:
        for p, v in zip(model.parameters(), last_finite, strict=True):
            p.data = v
        kept = f"from the end of epoch {epoch - 1}" if epoch > 1 else "it had before training"
    raise DivergenceError(f"training diverged in epoch {epoch}, step {step}: {what}; the model "
                          f"keeps the parameters {kept}", epoch, step, parameter, history)


@contextmanager
def _closing(bar: object) -> Iterator[None]:
    """Close a progress bar however the loop ends (a range needs nothing)."""
    try:
        yield
    finally:
        if hasattr(bar, "close"):
            bar.close()


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
    return [_data(model(x)) for x in _rows(X)]


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
    y = _rows(y)
    preds = [model(x) for x in _rows(X)]
    result = {"loss": loss_fn(preds, y).data}
    outputs = [_data(p) for p in preds]
    for name, metric in _resolve_metrics(metrics).items():
        result[name] = metric(outputs, y, decode)
    return result
