"""Optimizers and learning-rate schedules.

An optimizer holds a list of parameters and updates each one's ``data`` from its ``grad`` in
``step()``; g below is a parameter's gradient, w its value, t the step count (1 on the first
step) and α the learning rate ``lr``. Per-parameter state starts at 0. The formulas are
PyTorch's (``torch.optim``), and momentum is the explainers' m_t = γ m_{t−1} + g_t.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from autograd import Value

from .module import Module

Params = Module | Iterable[Value]


def _number(value: object, name: str, lo: float = 0.0, hi: float = math.inf,
            lo_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}: {value!r}")
    v = float(value)
    if not (lo < v if lo_open else lo <= v) or not v < hi:
        raise ValueError(f"{name} must be in {'(' if lo_open else '['}{lo}, {hi}), got {v!r}")
    return v


def _like(current: object, value: object, name: str) -> object:
    """``value`` checked to be of the same kind as ``current`` (bool, number, pair of numbers)."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be true or false, got {value!r}")
        return value
    if isinstance(current, tuple):
        if not isinstance(value, (list, tuple)) or len(value) != len(current):
            raise ValueError(f"{name} must be {len(current)} numbers, got {value!r}")
        return tuple(_number(v, name, hi=1.0) for v in value)
    return _number(value, name)


class Optimizer:
    """Base class: ``step()`` applies one update, ``zero_grad()`` clears the grads,
    ``state_dict()`` / ``load_state_dict()`` save and restore hyperparameters and state."""

    slots: tuple[str, ...] = ()  # per-parameter state lists
    hyper: tuple[str, ...] = ()  # hyperparameters besides lr

    def __init__(self, params: Params, lr: float) -> None:
        self.params = params.parameters() if isinstance(params, Module) else list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"{type(self).__name__} parameters must be Values, got "
                                f"{type(p).__name__}")
        self.lr = _number(lr, "lr", lo_open=True)
        self.t = 0
        self.state: dict[str, list[float]] = {s: [0.0] * len(self.params) for s in self.slots}

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Apply one update to every parameter from its current grad."""
        self.t += 1
        self._update()

    def trainable(self) -> list[tuple[int, Value]]:
        """(index, parameter) for each parameter that requires a gradient now: a frozen one
        (``p.requires_grad = False``) is skipped, weight decay and momentum included, as
        PyTorch skips a parameter whose grad is None."""
        return [(i, p) for i, p in enumerate(self.params) if p.requires_grad]

    def _update(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Type, lr, hyperparameters, step count and per-parameter state, as plain JSON data."""
        return {
            "type": type(self).__name__,
            "lr": self.lr,
            **{h: getattr(self, h) for h in self.hyper},
            "t": self.t,
            "state": {s: list(v) for s, v in self.state.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore from :meth:`state_dict`; everything is checked before anything changes."""
        name = type(self).__name__
        if not isinstance(state, Mapping) or state.get("type") != name:
            got = state.get("type") if isinstance(state, Mapping) else type(state).__name__
            raise ValueError(f"{name}.load_state_dict: state is for {got!r}")
        lr = _number(state.get("lr"), "lr", lo_open=True)
        t = state.get("t")
        if isinstance(t, bool) or not isinstance(t, int) or t < 0:
            raise ValueError(f"{name}.load_state_dict: step count t must be an int >= 0, got {t!r}")
        slots = state.get("state")
        if not isinstance(slots, Mapping) or set(slots) != set(self.slots):
            raise ValueError(f"{name}.load_state_dict: expected state {list(self.slots)}, "
                             f"got {slots!r:.80}")
        for s in self.slots:
            v = slots[s]
            if not isinstance(v, list) or len(v) != len(self.params):
                raise ValueError(f"{name}.load_state_dict: state {s!r} needs "
                                 f"{len(self.params)} numbers")
            for x in v:
                _number(x, f"state {s!r} entry", lo=-math.inf)
        hyper = {h: _like(getattr(self, h), state.get(h, getattr(self, h)), f"{name} {h}")
                 for h in self.hyper}
        self.lr, self.t = lr, t
        for h, v in hyper.items():
            setattr(self, h, v)
        self.state = {s: [float(x) for x in slots[s]] for s in self.slots}

    def __repr__(self) -> str:
        hyper = "".join(f", {h}={getattr(self, h)!r}" for h in self.hyper)
        return f"{type(self).__name__}({len(self.params)} parameters, lr={self.lr!r}{hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov and L2 weight decay.

    g ← g + λ w (weight_decay λ); with momentum γ: m_t = γ m_{t−1} + g, then
    g ← m_t, or g ← g + γ m_t (Nesterov); finally w ← w − α g.
    Without momentum this is the explainers' W ← W − α ∂J/∂W.
    """

    hyper = ("momentum", "nesterov", "weight_decay")

    def __init__(self, params: Params, lr: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        self.momentum = _number(momentum, "momentum", hi=1.0)
        self.nesterov = bool(nesterov)
        self.weight_decay = _number(weight_decay, "weight_decay")
        if self.nesterov and not self.momentum:
            raise ValueError("SGD: nesterov needs momentum > 0")
        self.slots = ("momentum_buffer",) if self.momentum else ()
        super().__init__(params, lr)

    def _update(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        buf = self.state.get("momentum_buffer")
        for i, p in self.trainable():
            g = p.grad + wd * p.data if wd else p.grad
            if buf is not None:
                m = buf[i] = mu * buf[i] + g
                g = g + mu * m if self.nesterov else m
            p.data -= lr * g


class AdaGrad(Optimizer):
    """AdaGrad: s_t = s_{t−1} + g², w ← w − α g / (√s_t + ε); g includes λ w (weight_decay)."""

    slots = ("sum_sq",)
    hyper = ("eps", "weight_decay")

    def __init__(self, params: Params, lr: float = 0.01, eps: float = 1e-10,
                 weight_decay: float = 0.0) -> None:
        self.eps = _number(eps, "eps")
        self.weight_decay = _number(weight_decay, "weight_decay")
        super().__init__(params, lr)

    def _update(self) -> None:
        lr, eps, wd, s = self.lr, self.eps, self.weight_decay, self.state["sum_sq"]
        for i, p in self.trainable():
            g = p.grad + wd * p.data if wd else p.grad
            s[i] += g * g
            p.data -= lr * g / (math.sqrt(s[i]) + eps)


class RMSprop(Optimizer):
    """RMSprop: v_t = ρ v_{t−1} + (1 − ρ) g², w ← w − α g / (√v_t + ε) (ρ is ``alpha``,
    as in PyTorch); g includes λ w (weight_decay)."""

    slots = ("square_avg",)
    hyper = ("alpha", "eps", "weight_decay")

    def __init__(self, params: Params, lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        self.alpha = _number(alpha, "alpha", hi=1.0)
        self.eps = _number(eps, "eps")
        self.weight_decay = _number(weight_decay, "weight_decay")
        super().__init__(params, lr)

    def _update(self) -> None:
        lr, rho, eps, wd = self.lr, self.alpha, self.eps, self.weight_decay
        v = self.state["square_avg"]
        for i, p in self.trainable():
            g = p.grad + wd * p.data if wd else p.grad
            v[i] = rho * v[i] + (1.0 - rho) * g * g
            p.data -= lr * g / (math.sqrt(v[i]) + eps)


class Adam(Optimizer):
    """Adam: m_t = β₁ m_{t−1} + (1 − β₁) g, v_t = β₂ v_{t−1} + (1 − β₂) g²,
    m̂ = m_t / (1 − β₁ᵗ), v̂ = v_t / (1 − β₂ᵗ), w ← w − α m̂ / (√v̂ + ε);
    g includes λ w (weight_decay, an L2 penalty)."""

    slots = ("exp_avg", "exp_avg_sq")
    hyper = ("betas", "eps", "weight_decay")
    decoupled = False

    def __init__(self, params: Params, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        b1, b2 = betas
        self.betas = (_number(b1, "beta1", hi=1.0), _number(b2, "beta2", hi=1.0))
        self.eps = _number(eps, "eps")
        self.weight_decay = _number(weight_decay, "weight_decay")
        super().__init__(params, lr)

    def _update(self) -> None:
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        m, v = self.state["exp_avg"], self.state["exp_avg_sq"]
        decoupled = self.decoupled
        for i, p in self.trainable():
            g = p.grad
            if wd:
                if decoupled:
                    p.data -= lr * wd * p.data
                else:
                    g = g + wd * p.data
            m[i] = b1 * m[i] + (1.0 - b1) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= lr * (m[i] / c1) / (math.sqrt(v[i] / c2) + eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: first w ← w − α λ w, then the Adam update with the
    plain gradient g (λ is ``weight_decay``, default 0.01)."""

    decoupled = True

    def __init__(self, params: Params, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD, "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW,
}


# ---------------------------------------------------------------------------- schedules
class LRSchedule:
    """Sets ``optimizer.lr = base_lr × factor(k)`` where k counts ``step()`` calls (0 at the
    start); call ``step()`` after each ``optimizer.step()`` (or once per epoch)."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.k = 0
        optimizer.lr = self.get_lr()

    def factor(self, k: int) -> float:
        raise NotImplementedError

    def get_lr(self) -> float:
        """The learning rate for the current step k."""
        return self.base_lr * self.factor(self.k)

    def step(self) -> None:
        """Advance k by one and update the optimizer's lr."""
        self.k += 1
        self.optimizer.lr = self.get_lr()


class LinearLR(LRSchedule):
    """factor(k) = start + (end − start)·min(k, total_iters)/total_iters. The defaults are
    micrograd's demo: lr 1.0 → 0.1 over 100 steps, lr_k = 1 − 0.9 k/100."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0, end_factor: float = 0.1,
                 total_iters: int = 100) -> None:
        self.start_factor = _number(start_factor, "start_factor")
        self.end_factor = _number(end_factor, "end_factor")
        if isinstance(total_iters, bool) or not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"total_iters must be a positive int, got {total_iters!r}")
        self.total_iters = total_iters
        super().__init__(optimizer)

    def factor(self, k: int) -> float:
        frac = min(k, self.total_iters) / self.total_iters
        return self.start_factor + (self.end_factor - self.start_factor) * frac


class ExponentialLR(LRSchedule):
    """factor(k) = γᵏ."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = _number(gamma, "gamma")
        super().__init__(optimizer)

    def factor(self, k: int) -> float:
        return self.gamma**k


class StepLR(LRSchedule):
    """factor(k) = γ^⌊k / step_size⌋: multiply by γ every step_size steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"step_size must be a positive int, got {step_size!r}")
        self.step_size = step_size
        self.gamma = _number(gamma, "gamma")
        super().__init__(optimizer)

    def factor(self, k: int) -> float:
        return self.gamma ** (k // self.step_size)
