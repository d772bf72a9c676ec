"""A compiled gradient program and what it runs on: the float functions (the engine's own),
the same lifted to NumPy batches element by element (so each sample gets a one-sample call's
bits), the per-sample sums of parameter gradients, and :class:`GradProgram` /
:class:`Evaluation`. Both writers, :mod:`autograd.compiler` (one line per node) and
:mod:`autograd.layered` (matrix code per layer), produce programs of this kind; :class:`Local`
is the source of one edge's local derivative, which both write.
"""

from __future__ import annotations

import builtins
import linecache
import math
import operator
import weakref
from collections.abc import Callable, Sequence
from itertools import count
from typing import Any, NamedTuple

from . import ops
from .value import Value


# ---------------------------------------------------------------------- namespaces
def _where(cond: bool, a: float, b: float) -> float:
    return a if cond else b


def _total(*terms: float) -> float:
    """0.0 + t₀ + t₁ + ..., left to right: backward adds them into a gradient that starts
    at 0.0 (so a sum of −0.0 terms is 0.0)."""
    s = 0.0
    for t in terms:
        s += t
    return s


def _dot(g: float, a: float) -> float:
    """0.0 + g·a: one term added into a gradient that starts at 0.0."""
    return 0.0 + g * a


_CONSTANTS = {"inf": math.inf, "nan": math.nan}

FLOAT_NAMESPACE: dict[str, Any] = {
    **{name: r.floats for name, r in ops.runtimes().items()},
    "where": _where, "dot": _dot, "total": _total, "sample_sum": _total, **_CONSTANTS,
}
"""The float functions a program calls: the engine's own from the op table (IEEE at domain
edges: log 0 is −inf, exp overflows to inf), so one sample gives the engine's numbers."""


class Local(NamedTuple):
    """An edge's local derivative as source: ``factor``, and ``product``, the source of
    g × local with ``{g}`` standing for g. Where the local derivative is
    :data:`~autograd.ops.MASK` (an off ReLU), the product is the constant 0 whatever g is
    (inf and NaN included, as in the engine): ``where(x <= 0, 0.0, {g})``; ``factor`` is
    then None."""

    factor: str | None
    product: str

    def times(self, g: str) -> str:
        """The source of g × local."""
        return self.product.replace("{g}", g)


ONE = Local("1", "{g}")


def numpy_module() -> Any:
    """NumPy, or an ImportError saying a batch needs it."""
    try:
        import numpy
    except ImportError:
        raise ImportError("a compiled program needs NumPy for batches of samples "
                          "(pip install numpy); one sample of floats works without it") from None
    return numpy


def array_functions() -> dict[str, Any]:
    """The float namespace's functions as NumPy's own, on whole arrays of any shape at once:
    fast, but NumPy's exp, tanh, log... may differ from ``math`` in the last bit."""
    np = numpy_module()
    return {**{name: r.arrays(np) for name, r in ops.runtimes().items()},
            "where": np.where, **_CONSTANTS}


def _numpy_namespace() -> dict[str, Any]:
    """The float namespace lifted to 1-D arrays, element by element with the very same
    float functions (NumPy's own exp, tanh, log... differ from ``math`` in the last bit), so
    each sample of a batch gets exactly the numbers of a one-sample call. A sample outside a
    function's domain gets NumPy's nan or inf instead of an exception."""
    np = numpy_module()

    def sample_sum(*terms):
        """Σ over samples of the per-sample terms (in order), then the shared terms."""
        return sum_samples(np, [terms])[0]

    exact = {name for name, r in ops.runtimes().items() if r.exact} | {"where", *_CONSTANTS}
    return {
        **{name: f if name in exact else _lift(np, FLOAT_NAMESPACE[name], f)
           for name, f in array_functions().items()},
        "dot": operator.mul, "total": lambda *terms: terms, "sample_sum": sample_sum,
    }


def _lift(np, f: Callable, fallback: Callable | None) -> Callable:
    """``f`` on arrays of any shape, element by element with ``f`` itself (on numbers, ``f``
    on floats); when an element is outside f's domain, ``fallback`` on the whole arrays."""

    def each(*args):
        if not any(getattr(a, "ndim", 0) for a in args):  # numbers, or 0-d arrays
            return f(*map(float, args))
        arrays = np.broadcast_arrays(*args)
        try:
            return np.fromiter(map(f, *(a.ravel().tolist() for a in arrays)), float,
                               arrays[0].size).reshape(arrays[0].shape)
        except (ArithmeticError, ValueError):
            with np.errstate(all="ignore"):
                return fallback(*args)

    return each


def elementwise(np, f: Callable) -> Callable:
    """An op's own forward ``f`` on arrays, element by element: each element is exactly f's
    float; an element outside f's domain is nan (where NumPy's functions give nan)."""

    def or_nan(*xs: float) -> float:
        try:
            return f(*xs)
        except (ArithmeticError, ValueError):
            return math.nan

    return _lift(np, f, _lift(np, or_nan, None))


def sum_samples(np, grads: list) -> list[float]:
    """Each gradient from its terms (a 1-D array per sample, a number shared): per-sample
    arrays added sample after sample (within a sample, in the terms' order: what backward does
    on a graph of the samples one after another), then the shared numbers. One accumulate
    serves every gradient with one per-sample term (a parameter's usual case). Adding 0.0
    last equals starting from 0.0, as backward does (a sum of −0.0 terms is 0.0)."""
    ndarray = np.ndarray
    out = [0.0] * len(grads)
    columns: list[Any] = []  # gradients with one per-sample array,
    later: list[tuple[int, Sequence[Any]]] = []  # and their shared terms
    for i, g in enumerate(grads):
        if type(g) is ndarray and g.ndim:
            columns.append(g)
            later.append((i, ()))
            continue
        terms = g if type(g) is tuple else (g,)
        arrays = [t for t in terms if type(t) is ndarray and t.ndim]
        shared = [t for t in terms if not (type(t) is ndarray and t.ndim)]
        if len(arrays) == 1:
            columns.append(arrays[0])
            later.append((i, shared))
            continue
        s = np.add.accumulate(np.column_stack(arrays).ravel())[-1] if arrays else 0.0
        for t in shared:
            s += t
        out[i] = float(s) + 0.0
    if columns:
        sums = np.add.accumulate(np.array(columns), axis=1)[:, -1].tolist()
        for (i, rest), s in zip(later, sums):
            for t in rest:
                s += t
            out[i] = float(s) + 0.0
    return out


# ---------------------------------------------------------------------- the program
REAL_KINDS = ("b", "i", "u", "f")  # NumPy's bool, int, unsigned and float dtypes


def _real(x: Any, what: str) -> float:
    """One number as a float: a bool, int or float, or a NumPy one; else a TypeError."""
    if getattr(getattr(x, "dtype", None), "kind", None) in REAL_KINDS and not getattr(
            x, "ndim", 0) and not hasattr(x, "mask"):
        return float(x)
    return ops.to_float(x, what)


def _excerpt(x: Any) -> str:
    """The start of a batch's repr, for a message."""
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


class Evaluation(NamedTuple):
    """What a compiled program returns: the outputs, then ∂(first output)/∂input for each
    input (per sample) and ∂(first output)/∂param for each parameter (summed over a batch)."""

    outputs: tuple
    input_grads: tuple
    param_grads: tuple


_programs = count()


class GradProgram:
    """A compiled graph: ``program(*input_values, params=None, seed=1.0)`` → :class:`Evaluation`.

    Input values are floats (one sample) or equal-length 1-D arrays or lists (a batch).
    ``params`` defaults to the parameter Values' current ``data``; ``seed`` is ∂L/∂(first
    output), a number or per-sample weights (``1/B`` makes parameter gradients a batch mean).
    ``source`` is the generated Python; tracebacks show its lines while the program lives.
    """

    def __init__(self, source: str, outputs: tuple[Value, ...], inputs: tuple[Value, ...],
                 params: tuple[Value, ...], names: dict[Value, str],
                 calls: dict[str, Callable] | None = None) -> None:
        self.source = source
        self.outputs, self.inputs, self.params = outputs, inputs, params
        self.names = names
        filename = f"<gradient program {next(_programs)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        weakref.finalize(self, linecache.cache.pop, filename, None)
        self._code = builtins.compile(source, filename, "exec")
        self._calls = dict(calls or {})  # name → an op's forward, called by reference
        self._float = self._load({**FLOAT_NAMESPACE, **self._calls})
        self._batch: Callable | None = None

    def _load(self, namespace: dict[str, Any]) -> Callable:
        scope = dict(namespace)
        exec(self._code, scope)
        return scope.pop("gradient_program")  # the function keeps its scope, not vice versa

    def __call__(self, *inputs: Any, params: Sequence[float] | None = None,
                 seed: Any = 1.0) -> Evaluation:
        if len(inputs) != len(self.inputs):
            raise TypeError(f"the program takes {len(self.inputs)} inputs "
                            f"({', '.join(self.names[v] for v in self.inputs)}), got {len(inputs)}")
        values = [p.data for p in self.params] if params is None else list(params)
        if len(values) != len(self.params):
            raise TypeError(f"the program has {len(self.params)} parameters, got {len(values)}")
        if params is not None:
            values = [_real(v, f"parameter {self.names[p]}") for p, v in zip(self.params, values)]
        arrays = self._columns(inputs)
        if arrays is None:
            # as Python floats: a NumPy scalar would round powers and compare as NumPy does
            return Evaluation(*self._float(*(self._one(inputs)), *values, float(seed)))
        np = numpy_module()
        sizes = {a.shape for a in arrays if a.ndim}
        if len(sizes) != 1 or len(next(iter(sizes))) != 1:
            raise ValueError(f"batch inputs must be 1-D arrays of one length, got shapes "
                             f"{[a.shape for a in arrays]}")
        (size,) = sizes.pop()
        if self._batch is None:
            self._batch = self._load({**_numpy_namespace(), **{
                name: elementwise(np, f) for name, f in self._calls.items()}})
        seed = np.broadcast_to(np.asarray(seed, dtype=float), (size,)).copy()
        with np.errstate(all="ignore"):  # inf and nan flow on, as in one sample
            outs, input_grads, param_grads = self._batch(*arrays, *values, seed)

        def per_sample(v: Any) -> Any:  # a value the samples share, repeated per sample
            return v if getattr(v, "shape", None) == (size,) else np.full(size, float(v))

        with np.errstate(all="ignore"):
            sums = sum_samples(np, param_grads)
        return Evaluation(tuple(map(per_sample, outs)), tuple(map(per_sample, input_grads)),
                          tuple(sums))

    def _one(self, inputs: Sequence[Any]) -> list[float]:
        """One sample's input values as floats (TypeError naming an input that is not real)."""
        return [_real(x, f"input {self.names[v]}") for v, x in zip(self.inputs, inputs)]

    def _columns(self, inputs: Sequence[Any]) -> list | None:
        """A batch's input values as float arrays (a number stays 0-d); None for one sample.
        An input that is not real numbers is a TypeError naming it, an empty one a
        ValueError, before anything runs."""
        if not any(isinstance(x, (list, tuple)) or getattr(x, "ndim", 0) for x in inputs):
            return None
        np = numpy_module()
        arrays = []
        for v, x in zip(self.inputs, inputs):
            what = f"input {self.names[v]}"
            if isinstance(x, np.ma.MaskedArray):
                raise TypeError(f"{what} is a masked array; pass the values to use "
                                f"(x.filled(...)) as a plain array")
            a = np.asarray(x)
            if a.dtype.kind not in REAL_KINDS:
                raise TypeError(f"{what} must hold real numbers (bool, int or float), got "
                                f"{a.dtype} values: {_excerpt(x)}")
            if a.size == 0:
                raise ValueError(f"{what} is an empty batch (no samples)")
            arrays.append(a.astype(float, copy=False))
        return arrays

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return (f"GradProgram({len(self.outputs)} outputs, {len(self.inputs)} inputs, "
                f"{len(self.params)} params, {self.source.count(chr(10)) + 1} lines)")
