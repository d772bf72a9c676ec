"""Independent oracles for the op table, in one table by op name: the math, sympy and
PyTorch forms of each op."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def params(op) -> tuple[float, ...]:
    return tuple(v for _, v in op.params)


def math_forward(op, *args: float) -> float:
    return ORACLES[op.name].math(*args, *params(op))


def sympy_form(op, *args):
    return ORACLES[op.name].sympy(*args, *params(op))


def torch_form(torch, op, *tensors):
    """PyTorch's result for ``op`` on tensors (the op's parameters added)."""
    return ORACLES[op.name].torch(torch, *tensors, *params(op))


def close(got: float, want: float, rel: float) -> bool:
    """|got − want| ≤ rel·max(1, |want|)."""
    return abs(got - want) <= rel * max(1.0, abs(want))


def _reduce_add(start, xs):
    for x in xs:
        start = start + x
    return start


def _halves(xs):
    n = len(xs) // 2
    return xs[:n], xs[n:]


@dataclass(frozen=True)
class Oracle:
    """An op written independently of the engine: ``math(*operands, *params)`` on floats,
    ``sympy(*symbols, *params)`` as an exact expression (None for n-ary ops), and
    ``torch(torch, *tensors, *params)`` as PyTorch computes it (the oracle for NaN, ±inf, ±0
    and domain edges, tests/edge_values.py)."""

    math: Callable | None
    sympy: Callable | None
    torch: Callable


ORACLES: dict[str, Oracle] = {
    "add": Oracle(lambda a, b: a + b, lambda a, b: a + b, lambda t, a, b: a + b),
    "sub": Oracle(lambda a, b: a - b, lambda a, b: a - b, lambda t, a, b: a - b),
    "mul": Oracle(lambda a, b: a * b, lambda a, b: a * b, lambda t, a, b: a * b),
    "div": Oracle(lambda a, b: a / b, lambda a, b: a / b, lambda t, a, b: a / b),
    "pow": Oracle(lambda a, b: math.pow(a, b), lambda a, b: a**b, lambda t, a, b: t.pow(a, b)),
    "neg": Oracle(lambda x: -x, lambda x: -x, lambda t, x: -x),
    "exp": Oracle(math.exp, sp.exp, lambda t, x: t.exp(x)),
    "log": Oracle(math.log, sp.log, lambda t, x: t.log(x)),
    "tanh": Oracle(math.tanh, sp.tanh, lambda t, x: t.tanh(x)),
    "sigmoid": Oracle(_sigmoid, lambda x: 1 / (1 + sp.exp(-x)), lambda t, x: t.sigmoid(x)),
    "relu": Oracle(lambda x: max(0.0, x), lambda x: sp.Max(0, x), lambda t, x: t.relu(x)),
    "softplus": Oracle(
        lambda x: math.log1p(math.exp(x)) if x < 30 else x + math.log1p(math.exp(-x)),
        lambda x: sp.log(1 + sp.exp(x)),
        lambda t, x: t.nn.functional.softplus(x),
    ),
    "sqrt": Oracle(math.sqrt, sp.sqrt, lambda t, x: t.sqrt(x)),
    "abs": Oracle(math.fabs, sp.Abs, lambda t, x: t.abs(x)),
    "sin": Oracle(math.sin, sp.sin, lambda t, x: t.sin(x)),
    "cos": Oracle(math.cos, sp.cos, lambda t, x: t.cos(x)),
    "pow_const": Oracle(lambda x, p: math.pow(x, p), lambda x, p: x ** sp.nsimplify(p),
                        lambda t, x, p: t.pow(x, p)),
    "leaky_relu": Oracle(
        lambda x, slope: x if x > 0 else slope * x,
        lambda x, slope: sp.Max(0, x) + sp.nsimplify(slope) * sp.Min(0, x),
        lambda t, x, slope: t.nn.functional.leaky_relu(x, slope),
    ),
    "clamp": Oracle(lambda x, lo, hi: min(max(x, lo), hi),
                    lambda x, lo, hi: sp.Min(sp.Max(x, sp.nsimplify(lo)), sp.nsimplify(hi)),
                    lambda t, x, lo, hi: t.clamp(x, lo, hi)),
    # the largest operand held constant: PyTorch's amax, detached (no gradient flows)
    "detached_max": Oracle(None, None,
                           lambda t, *xs: t.stack(xs).amax().detach().requires_grad_()),
    # n-ary ops add left to right
    "sum": Oracle(None, None, lambda t, *xs: _reduce_add(0.0, xs)),
    "linear": Oracle(None, None, lambda t, *xs: _reduce_add(
        xs[-1], (w * x for w, x in zip(*_halves(xs[:-1]))))),
}
"""One oracle per op name; an op added to the engine's table is tested once it has one here."""
