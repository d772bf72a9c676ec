"""Placeholder for HIPS autograd's ``autograd.numpy``: this library has no arrays.

Importing it raises ImportError that points at the scalar functions in ``autograd.math``.
"""

raise ImportError(
    "autograd.numpy is not available: this library differentiates scalars only (no arrays); "
    "use autograd.math (e.g. autograd.math.exp, autograd.math.tanh) on Value or float"
)
