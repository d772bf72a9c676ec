"""A scalar reverse-mode automatic differentiation engine that shows its work.

>>> from autograd import Value
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> c = a * b + b.tanh()
>>> c.backward()
>>> round(a.grad, 6), round(b.grad, 6)
(-3.0, 2.009866)
"""

from .backward import interior_order, topological_order
from .mode import is_grad_enabled, no_grad
from .ops import DomainError, Op, OverflowDomainError, ZeroDivisionDomainError
from .value import Value, apply, linear, sum

__all__ = [
    "DomainError",
    "Op",
    "OverflowDomainError",
    "Value",
    "ZeroDivisionDomainError",
    "apply",
    "interior_order",
    "is_grad_enabled",
    "linear",
    "no_grad",
    "sum",
    "topological_order",
]
