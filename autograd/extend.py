"""Declaring your own op: it becomes as first-class as a built-in one.

>>> import math
>>> from autograd import Value
>>> from autograd.extend import declare, exp
>>> softsign = declare("softsign", lambda x: x / (1 + abs(x)),
...                    lambda x, out: 1 / (1 + abs(x)) ** 2, symbol="softsign")
>>> y = Value(1.0).softsign()          # the method comes with the declaration
>>> y.data, y.local_grads
(0.5, (0.25,))

HIPS autograd's way works too: ``@primitive`` on a float function, then
``defvjp(f, lambda ans, x: lambda g: ...)`` (:func:`primitive`, :func:`defvjp`).

``declare(name, forward, local, ...)`` adds an :class:`Op` to the table (see
:func:`autograd.ops.declare`): the Value method ``x.<name>()`` (``a.<name>(b)`` for two
operands), drawing, stepping, checking, higher-order derivatives and the README's derivative
table all read it from there. ``apply(op, *operands)`` applies any table op. Write the local
derivative with ``+ − × ÷ **`` and the rule helpers exported here (:func:`exp`, :func:`log`,
:func:`sin`, :func:`cos`, :func:`sigmoid`, :func:`sign`, :func:`step`, :func:`ratio`,
:func:`power`, :func:`where`, :data:`MASK`) so the same rule also runs on Values and, for
:func:`autograd.compile`, on code (branch with :func:`where`, never with ``if``).
:class:`Require` states a domain condition; :class:`Code` gives the compiler source
templates for what it cannot derive.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from .ops import (
    MASK,
    Code,
    Op,
    Require,
    cos,
    declare,
    exp,
    log,
    power,
    ratio,
    sigmoid,
    sign,
    sin,
    step,
    where,
)
from .value import Value, apply

__all__ = ["MASK", "Code", "Op", "Primitive", "Require", "apply", "cos", "declare", "defvjp",
           "exp", "log", "power", "primitive", "ratio", "sigmoid", "sign", "sin", "step",
           "where"]


class Primitive:
    """A function on floats that becomes an op once :func:`defvjp` gives its derivatives.
    Called with floats it is the function; with a Value among its arguments, a node of the
    op (plain numbers become constants)."""

    def __init__(self, fun: Callable[..., float]) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.__name__: str = fun.__name__
        self.op: Op | None = None

    def __call__(self, *args: Any) -> Any:
        if not any(isinstance(a, Value) for a in args):
            return self.fun(*args)
        if self.op is None:
            raise NotImplementedError(f"{self.__name__}: called on a Value before its "
                                      f"derivatives are given: defvjp({self.__name__}, ...)")
        return apply(self.op, *args)

    def __repr__(self) -> str:
        return f"primitive({self.__name__})"


def primitive(fun: Callable[..., float]) -> Primitive:
    """HIPS autograd's ``@primitive``: ``fun`` (on floats) as a :class:`Primitive`."""
    return Primitive(fun)


def defvjp(fun: Primitive, *vjpmakers: Callable[..., Callable[[Any], Any]] | None) -> Op:
    """HIPS autograd's ``defvjp(f, lambda ans, x: lambda g: ...)``: one maker per operand,
    each ``maker(ans, *operands)`` giving ``vjp(g)`` = g·∂ans/∂operand (None: derivative 0).
    Declares the op named after ``fun`` (:func:`declare`; declaring again replaces it), with
    local derivative ``maker(out, *operands)(1.0)``. The makers run on floats for
    ``backward``; written with :mod:`autograd.math` they also run on Values, which gives
    second and higher derivatives."""
    if not isinstance(fun, Primitive):
        raise TypeError(f"defvjp: {fun!r} is not a @primitive function")
    arity = len(inspect.signature(fun.fun).parameters)
    if len(vjpmakers) != arity:
        raise TypeError(f"defvjp({fun.__name__}): it takes {arity} operand(s), got "
                        f"{len(vjpmakers)} vjp maker(s) (pass None for an operand with "
                        "derivative 0)")

    def local(*args: Any) -> tuple:
        *operands, ans = args
        return tuple(0.0 if maker is None else maker(ans, *operands)(1.0)
                     for maker in vjpmakers)

    fun.op = declare(fun.__name__, fun.fun, local)
    return fun.op
