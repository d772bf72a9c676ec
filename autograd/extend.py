"""Declaring your own op: it becomes as first-class as a built-in one.

>>> import math
>>> from autograd import Value
>>> from autograd.extend import declare, exp
>>> softsign = declare("softsign", lambda x: x / (1 + abs(x)),
...                    lambda x, out: 1 / (1 + abs(x)) ** 2, symbol="softsign")
>>> y = Value(1.0).softsign()          # the method comes with the declaration
>>> y.data, y.local_grads
(0.5, (0.25,))

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
from .value import apply

__all__ = ["MASK", "Code", "Op", "Require", "apply", "cos", "declare", "exp", "log", "power",
           "ratio", "sigmoid", "sign", "sin", "step", "where"]
