"""The standard ``math`` functions that the op table has, for floats and Values alike.

``from autograd import math`` in place of ``import math`` keeps a function differentiable
without rewriting it: ``math.exp(x)`` is ``x.exp()`` for a Value (a node of the graph) and the
standard library's ``math.exp`` for a number. The stdlib name is kept on purpose, as HIPS
autograd keeps NumPy's (``import autograd.numpy as np``): only the import line changes. A
function missing here raises AttributeError rather than silently cutting the graph.
"""

from __future__ import annotations

import math as _math

from .ops import cos, exp, log, sigmoid, sin
from .value import Value

e, inf, nan, pi, tau = _math.e, _math.inf, _math.nan, _math.pi, _math.tau

# abs is an attribute but not in __all__: a star import must not replace the builtin
__all__ = ["cos", "e", "exp", "inf", "log", "nan", "pi", "sigmoid", "sin", "sqrt", "tanh", "tau"]


def abs(x: float | Value) -> float | Value:  # noqa: A001 (HIPS autograd's np.abs habit)
    """|x| on a float or a Value (abs′(0) = 0, as PyTorch)."""
    return x.abs() if isinstance(x, Value) else _math.fabs(x)


def tanh(x: float | Value) -> float | Value:
    """tanh on a float or a Value."""
    return x.tanh() if isinstance(x, Value) else _math.tanh(x)


def sqrt(x: float | Value) -> float | Value:
    """√x on a float or a Value."""
    return x.sqrt() if isinstance(x, Value) else _math.sqrt(x)
