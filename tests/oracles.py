"""Independent oracles for the op table: math and sympy forms of each op, by name."""

from __future__ import annotations

import math

import sympy as sp


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


MATH = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: math.pow(a, b),
    "neg": lambda x: -x,
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: max(0.0, x),
    "softplus": lambda x: math.log1p(math.exp(x)) if x < 30 else x + math.log1p(math.exp(-x)),
    "sqrt": math.sqrt,
    "abs": math.fabs,
    "sin": math.sin,
    "cos": math.cos,
    "pow_const": lambda x, p: math.pow(x, p),
    "leaky_relu": lambda x, slope: x if x > 0 else slope * x,
}

SYMPY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "neg": lambda x: -x,
    "exp": sp.exp,
    "log": sp.log,
    "tanh": sp.tanh,
    "sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
    "relu": lambda x: sp.Max(0, x),
    "softplus": lambda x: sp.log(1 + sp.exp(x)),
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "sin": sp.sin,
    "cos": sp.cos,
    "pow_const": lambda x, p: x ** sp.nsimplify(p),
    "leaky_relu": lambda x, slope: sp.Max(0, x) + sp.nsimplify(slope) * sp.Min(0, x),
}


def params(op) -> tuple[float, ...]:
    return tuple(v for _, v in op.params)


def math_forward(op, *args: float) -> float:
    return MATH[op.name](*args, *params(op))


def sympy_form(op, *args):
    return SYMPY[op.name](*args, *params(op))


def close(got: float, want: float, rel: float) -> bool:
    """|got − want| ≤ rel·max(1, |want|)."""
    return abs(got - want) <= rel * max(1.0, abs(want))


def _reduce_add(start, xs):
    for x in xs:
        start = start + x
    return start


# PyTorch forms of each op, as functions of (torch, *operand tensors, *params): the oracle
# for NaN, ±inf, ±0 and domain edges (tests/edge_values.py). n-ary ops add left to right.
TORCH = {
    "add": lambda t, a, b: a + b,
    "sub": lambda t, a, b: a - b,
    "mul": lambda t, a, b: a * b,
    "div": lambda t, a, b: a / b,
    "pow": lambda t, a, b: t.pow(a, b),
    "neg": lambda t, x: -x,
    "exp": lambda t, x: t.exp(x),
    "log": lambda t, x: t.log(x),
    "tanh": lambda t, x: t.tanh(x),
    "sigmoid": lambda t, x: t.sigmoid(x),
    "relu": lambda t, x: t.relu(x),
    "softplus": lambda t, x: t.nn.functional.softplus(x),
    "sqrt": lambda t, x: t.sqrt(x),
    "abs": lambda t, x: t.abs(x),
    "sin": lambda t, x: t.sin(x),
    "cos": lambda t, x: t.cos(x),
    "pow_const": lambda t, x, p: t.pow(x, p),
    "leaky_relu": lambda t, x, slope: t.nn.functional.leaky_relu(x, slope),
    "sum": lambda t, *xs: _reduce_add(0.0, xs),
    "linear": lambda t, *xs: _reduce_add(xs[-1], (w * x for w, x in zip(*_halves(xs[:-1])))),
}


def _halves(xs):
    n = len(xs) // 2
    return xs[:n], xs[n:]
