"""A scalar reverse-mode automatic differentiation engine that shows its work.

``autograd.sum`` and ``autograd.compile`` are attributes but not in ``__all__``, so
``from autograd import *`` leaves the builtins ``sum`` and ``compile`` alone. Declaring your
own op is :mod:`autograd.extend` (``Op``, ``declare``, ``apply``, ``Code``, ``Require``).

>>> from autograd import Value
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> c = a * b + b.tanh()
>>> c.backward()
>>> round(a.grad, 6), round(b.grad, 6)
(-3.0, 2.009866)
"""

from . import functional
from .anomaly import AnomalyError, detect_anomaly
from .backward import topological_order
from .check import GradcheckError, check_nodes, gradcheck
from .compiler import CompileError, compile  # noqa: F401 (not in __all__)
from .drawing import Drawing, draw, draw_dot
from .extend import Op, apply, declare  # noqa: F401 (their home is autograd.extend)
from .forward import jacfwd, jvp
from .functional import grad, hessian, jacobian, value_and_grad, vjp
from .mode import is_grad_enabled, no_grad
from .ops import DomainError, OverflowDomainError, ZeroDivisionDomainError
from .program import GradProgram
from .stepper import Stepper, step_through
from .symbolic import latex, to_sympy
from .trace import Trace, backward_steps, backward_trace, explain
from .value import Value, linear, sum  # noqa: F401 (not in __all__)

__all__ = [
    "AnomalyError",
    "CompileError",
    "DomainError",
    "GradcheckError",
    "GradProgram",
    "Drawing",
    "Stepper",
    "OverflowDomainError",
    "Trace",
    "Value",
    "ZeroDivisionDomainError",
    "backward_steps",
    "backward_trace",
    "check_nodes",
    "detect_anomaly",
    "draw",
    "draw_dot",
    "explain",
    "functional",
    "grad",
    "gradcheck",
    "hessian",
    "latex",
    "is_grad_enabled",
    "jacfwd",
    "jacobian",
    "jvp",
    "linear",
    "no_grad",
    "step_through",
    "to_sympy",
    "topological_order",
    "value_and_grad",
    "vjp",
]
