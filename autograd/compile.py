"""Graph to code: a recorded graph as a straight-line Python gradient program.

:func:`compile` reads a graph once and writes a function with one line per node for the
forward pass (``z1_0 = b_0 + w_0_0*x_0 + w_0_1*x_1``) and one line per node for the backward
pass (``g_z1_0 = g_a1_0 * (1 - a1_0*a1_0)``), where ``g_v`` is ∂(first output)/∂v: the sum,
over the edges leaving v, of the consumer's ``g`` times the edge's local derivative. Names come
from labels; plain-number leaves are inlined as constants. Each op's source comes from its
entry in the op table: derived from its forward and local-derivative rule, run on code
(:class:`Expr`), or the entry's :class:`~autograd.ops.Code` where it cannot be derived. A
forward that reads its operands as floats (``math.atan``) is called by reference: the line is
``y = op_atan(x)``, with ``op_atan`` bound to the op's own forward.

The same source runs on floats (one sample) and on 1-D NumPy arrays of per-sample input values
(a batch flowing through the same scalar graph): branches on the data are comparisons and
``where``, so each sample takes its own branch. In batch mode, outputs and input gradients are
per sample and parameter gradients are summed over the batch: ``dot(g, x)`` = Σₛ gₛ·xₛ and
``total(g)`` = Σₛ gₛ (plain ``g·x`` and ``g`` for one sample), sample after sample, the order
backward adds them on a graph of all the samples (in a batch, a parameter's ``dot`` and
``total`` hand their per-sample terms to the call, which sums every parameter at once); a
shared interior node with per-sample terms adds them with ``sample_sum``. Every sample gets
exactly the numbers of a one-sample call, which are the engine's: the same float operations in
the same order. NumPy is needed only for batches.
"""

from __future__ import annotations

import builtins
import keyword
import linecache
import math
import operator
import re
import textwrap
import unicodedata
import weakref
from collections.abc import Callable, Sequence
from itertools import count
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from . import ops
from .backward import topological_order
from .value import Value


class CompileError(ValueError):
    """The graph cannot be turned into code; the message names the node."""


# ---------------------------------------------------------------------- namespaces
def _where(cond: bool, a: float, b: float) -> float:
    return a if cond else b


def _xlogy(x: float, y: float) -> float:
    """x·log(y), and 0 where x = 0 (the slope of 0**b in b, as the engine's pow rule)."""
    return 0.0 if x == 0 else x * math.log(y)


def _total(*terms: float) -> float:
    """t₀ + t₁ + ..., left to right: the order backward adds them into a gradient."""
    s = terms[0]
    for t in terms[1:]:
        s += t
    return s


FLOAT_NAMESPACE: dict[str, Any] = {
    "exp": ops._exp, "log": ops._log, "tanh": math.tanh, "sin": ops._sin, "cos": ops._cos,
    "sqrt": ops._sqrt, "sigmoid": ops.sigmoid, "softplus": ops.softplus, "sign": ops.sign,
    "abs": abs, "relu": ops.RELU.forward, "where": _where, "xlogy": _xlogy,
    "power": ops.power, "ratio": ops.ratio, "dot": operator.mul, "total": _total,
    "sample_sum": _total, "inf": math.inf, "nan": math.nan,
}
"""The float functions a program calls: the engine's own (IEEE at domain edges: log 0 is
−inf, exp overflows to inf), so one sample gives the engine's numbers."""

_NAMED: dict[Any, str] = {
    **{FLOAT_NAMESPACE[name]: name for name in (
        "exp", "log", "tanh", "sin", "cos", "sqrt", "sigmoid", "softplus", "sign", "abs",
        "relu", "power", "ratio")},
    ops._pow: "power", math.exp: "exp", math.log: "log", math.sin: "sin", math.cos: "cos",
    math.sqrt: "sqrt", math.fabs: "abs",
}
"""A forward that is one of these functions is compiled as a call of it by that name."""


# ---------------------------------------------------------------------- code from the rules
class Underivable(Exception):
    """A rule cannot run on code (it branches on, or reads, an operand's number)."""


_ATOM, _UNARY, _PRODUCT, _SUMMAND, _COMPARISON = 4, 3, 2, 1, 0


def _constant(c: float, exact: bool = False) -> str:
    """A number in code: ``2``, ``0.5``, ``(-1)``; ``exact``: always a float (``1.0``)."""
    c = float(c)
    if not exact and c and c.is_integer() and abs(c) < 2**53:
        return f"({int(c)})" if c < 0 else str(int(c))
    return ops.literal(c)


class Expr:
    """Python source of a float expression, built by running an op's forward or local rule
    on it: arithmetic and the rule helpers of :mod:`autograd.ops` (exp, log, sin, cos,
    sigmoid, power, ratio, where, step, sign, total, dot) return the source of the very
    float operations they do on floats, in the same order (``a - (b - c)`` keeps its
    parentheses). A rule that branches on the data with ``if`` (or reads a number with
    ``float``, ``math.*``, ``max``) cannot be written this way: :class:`Underivable`."""

    __slots__ = ("text", "rank", "branches")

    def __init__(self, text: str, rank: int = _ATOM, branches: tuple | None = None) -> None:
        self.text, self.rank, self.branches = text, rank, branches

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"

    # ---- reading a number is what code cannot do
    def __bool__(self) -> bool:
        raise Underivable("its rule branches on the data (an if, and/or, max or min on an "
                          "operand); write the branch with autograd.extend.where(cond, a, b)")

    def __float__(self) -> float:
        raise Underivable("its local-derivative rule reads an operand as a number (float(), "
                          "a math.* function); write it with + − × ÷ ** and the "
                          "autograd.extend helpers")

    __int__ = __index__ = __complex__ = __float__
    __round__ = __trunc__ = __floor__ = __ceil__ = __float__
    __hash__ = None  # type: ignore[assignment]

    # ---- arithmetic
    def __add__(self, other: Any) -> Expr:
        return _binary(self, " + ", other, _SUMMAND)

    def __radd__(self, other: Any) -> Expr:
        return _binary(other, " + ", self, _SUMMAND)

    def __sub__(self, other: Any) -> Expr:
        return _binary(self, " - ", other, _SUMMAND)

    def __rsub__(self, other: Any) -> Expr:
        return _binary(other, " - ", self, _SUMMAND)

    def __mul__(self, other: Any) -> Expr | float:
        return 0.0 if type(other) is ops.Mask else _binary(self, " * ", other, _PRODUCT)

    def __rmul__(self, other: Any) -> Expr | float:  # (MASK × anything is 0, as in the engine)
        return 0.0 if type(other) is ops.Mask else _binary(other, " * ", self, _PRODUCT)

    def __truediv__(self, other: Any) -> Expr:
        return _divide(self, other)

    def __rtruediv__(self, other: Any) -> Expr:
        return _divide(other, self)

    def __pow__(self, other: Any) -> Expr:
        return _call("power", self, other) if _source_of(other) != "1" else self

    def __rpow__(self, other: Any) -> Expr:
        return _call("power", other, self)

    def __neg__(self) -> Expr:
        return Expr(f"-{self._operand(_UNARY)}", _UNARY)

    def __pos__(self) -> Expr:
        return self

    def __abs__(self) -> Expr:
        return _call("abs", self)

    def _operand(self, rank: int) -> str:
        return self.text if self.rank >= rank else f"({self.text})"

    # ---- comparisons (for where)
    def __lt__(self, other: Any) -> Expr:
        return _binary(self, " < ", other, _COMPARISON)

    def __le__(self, other: Any) -> Expr:
        return _binary(self, " <= ", other, _COMPARISON)

    def __gt__(self, other: Any) -> Expr:
        return _binary(self, " > ", other, _COMPARISON)

    def __ge__(self, other: Any) -> Expr:
        return _binary(self, " >= ", other, _COMPARISON)

    def __eq__(self, other: Any) -> Expr:  # type: ignore[override]
        return _binary(self, " == ", other, _COMPARISON)

    def __ne__(self, other: Any) -> Expr:  # type: ignore[override]
        return _binary(self, " != ", other, _COMPARISON)

    # ---- the rule helpers' methods (ops.exp(x) calls x.exp() on a non-number)
    def exp(self) -> Expr:
        return _call("exp", self)

    def log(self) -> Expr:
        return _call("log", self)

    def sin(self) -> Expr:
        return _call("sin", self)

    def cos(self) -> Expr:
        return _call("cos", self)

    def tanh(self) -> Expr:
        return _call("tanh", self)

    def sigmoid(self) -> Expr:
        return _call("sigmoid", self)

    def sqrt(self) -> Expr:
        return _call("sqrt", self)

    def relu(self) -> Expr:
        return _call("relu", self)

    def where(self, a: Any, b: Any) -> Expr:
        """``where(self, a, b)``: this comparison chooses per sample."""
        text = f"where({self.text}, {_source_of(a, True)}, {_source_of(b, True)})"
        return Expr(text, _ATOM, (self, a, b))


def _source_of(x: Any, exact: bool = False) -> str:
    if isinstance(x, Expr):
        return x.text
    if isinstance(x, (int, float)):
        return _constant(x, exact)
    raise Underivable(f"its rule gives a {type(x).__name__}, not a number or code")


def _binary(a: Any, op: str, b: Any, rank: int) -> Expr:
    """``a op b``: an operand binding less tightly is parenthesised, and so is a right
    operand of the same rank (float arithmetic is not associative)."""
    left = a._operand(rank) if isinstance(a, Expr) else _source_of(a)
    right = b._operand(rank + 1) if isinstance(b, Expr) else _source_of(b)
    if rank == _COMPARISON and right == "0.0":
        right = "0"  # x > 0 reads best, and compares as x > 0.0
    if op == " * " and re.fullmatch(r"[\w.{}]+", left + right):
        op = "*"
    return Expr(f"{left}{op}{right}", rank)


def _divide(a: Any, b: Any) -> Expr:
    """``a / b``, as ``ratio(a, b)`` (x/0 is ±inf, as in the engine) unless b is a nonzero
    number."""
    if not isinstance(b, Expr) and b:
        return _binary(a, " / ", b, _PRODUCT)
    return _call("ratio", a, b)


def _call(name: str, *args: Any) -> Expr:
    return Expr(f"{name}({', '.join(map(_source_of, args))})")


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


def _local(d: Any) -> Local:
    """A local derivative (a number, :data:`~autograd.ops.MASK`, code, or template text)
    as a :class:`Local`."""
    if isinstance(d, str):
        d = {"1": 1.0, "-1": -1.0}.get(d, Expr(d, _ATOM if _atomic(d) else _COMPARISON))
    if not _masked(d):
        text = _source_of(d)
        if text in ("1", "(-1)"):
            return Local(text, "{g}" if text == "1" else "-{g}")
        return Local(text, "{g} * " + (text if _atomic(text) else f"({text})"))
    return Local(None, _masked_product(d))


def _masked(d: Any) -> bool:
    if isinstance(d, ops.Mask):
        return True
    return isinstance(d, Expr) and d.branches is not None and any(map(_masked, d.branches[1:]))


def _masked_product(d: Any) -> str:
    if isinstance(d, ops.Mask):
        return "0.0"
    if isinstance(d, Expr) and d.branches is not None and _masked(d):
        cond, a, b = d.branches
        return f"where({cond.text}, {_masked_product(a)}, {_masked_product(b)})"
    return _local(d).product


ONE = Local("1", "{g}")

_derived: WeakKeyDictionary = WeakKeyDictionary()
_CALL = "{call}"  # in a forward's source: the name a program calls the op's forward by


def _templates(op: ops.Op) -> tuple[str, tuple[Local, ...]]:
    """The op's forward and local derivatives as templates over ``{0}``, ``{1}`` (the
    operands) and ``{out}``: from its :class:`~autograd.ops.Code` where the entry gives it,
    else by running its forward and local rule on :class:`Expr` operands. A forward that
    cannot run on code is ``{call}(...)``: a call of the op's own forward (:class:`_Calls`)."""
    try:
        return _derived[op]
    except KeyError:
        pass
    args = [Expr(f"{{{i}}}") for i in range(len(op.operands))]
    out = Expr("{out}")
    code = op.code or ops.Code()
    positional = dict(zip(op.operands, (a.text for a in args)), out="{out}")
    try:
        if code.forward is not None:
            forward = code.forward.format(**positional)
        elif op.forward in _NAMED:
            forward = f"{_NAMED[op.forward]}({', '.join(a.text for a in args)})"
        else:
            try:
                result = op.forward(*args)
            except Exception:  # it reads its operands as floats: called by reference
                result = None
            forward = (result.text if isinstance(result, Expr)
                       else f"{_CALL}({', '.join(a.text for a in args)})")
        if code.local is not None:
            locals_ = tuple(_local(t.format(**positional)) for t in code.local)
        else:
            derivatives = tuple(op.local(*args, out))
            if len(derivatives) != len(args):
                raise Underivable(f"its rule gives {len(derivatives)} derivatives for "
                                  f"{len(args)} operands")
            locals_ = tuple(map(_local, derivatives))
    except Underivable as err:
        raise CompileError(f"the op {op.name!r} cannot be compiled: {op.underivable or err}"
                           ) from None
    except Exception as err:  # anything else the rule does that code cannot
        raise CompileError(f"the op {op.name!r} cannot be compiled: running its rules on code "
                           f"raised {type(err).__name__}: {err}") from None
    _derived[op] = forward, locals_
    return forward, locals_


def derive(op: ops.Op, names: Sequence[str], out: str) -> tuple[str, tuple[Local, ...]]:
    """Source of ``op``'s forward and of each operand's :class:`Local`, on the operands'
    expressions ``names`` (atoms: names or literals) and the output's name ``out``."""
    forward, locals_ = _templates(op)
    subs = dict(out=out, g="{g}", call=_CALL)
    return forward.format(*names, **subs), tuple(
        Local(d.factor and d.factor.format(*names, **subs), d.product.format(*names, **subs))
        for d in locals_)


def _numpy():
    try:
        import numpy
    except ImportError:
        raise ImportError("a compiled program needs NumPy for batches of samples "
                          "(pip install numpy); one sample of floats works without it") from None
    return numpy


def _numpy_functions() -> dict[str, Any]:
    """The float namespace's functions as NumPy's own, on whole arrays of any shape at once:
    fast, but NumPy's exp, tanh, log... may differ from ``math`` in the last bit."""
    np = _numpy()

    def sigmoid(x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def softplus(x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    def xlogy(x, y):
        return np.where(x == 0, 0.0, x * np.log(y))

    return {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
            "sigmoid": sigmoid, "softplus": softplus, "sign": np.sign, "xlogy": xlogy,
            "power": np.power, "ratio": np.divide, "sqrt": np.sqrt,
            "abs": np.abs, "relu": lambda x: np.where(x < 0, 0.0, x), "where": np.where,
            "inf": math.inf, "nan": math.nan}


_EXACT_IN_NUMPY = frozenset({"sqrt", "abs", "relu", "where", "inf", "nan"})  # the same bits as math


def _numpy_namespace() -> dict[str, Any]:
    """The float namespace lifted to 1-D arrays, element by element with the very same
    float functions (NumPy's own exp, tanh, log... differ from ``math`` in the last bit), so
    each sample of a batch gets exactly the numbers of a one-sample call. A sample outside a
    function's domain gets NumPy's nan or inf instead of an exception."""
    np = _numpy()

    def sample_sum(*terms):
        """Σ over samples of the per-sample terms (in order), then the shared terms."""
        return _sum_samples(np, [terms])[0]

    vectorised = _numpy_functions()
    return {
        **{name: f if name in _EXACT_IN_NUMPY else _lift(np, FLOAT_NAMESPACE[name], f)
           for name, f in vectorised.items()},
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


def _elementwise(np, f: Callable) -> Callable:
    """An op's own forward ``f`` on arrays, element by element: each element is exactly f's
    float; an element outside f's domain is nan (where NumPy's functions give nan)."""

    def or_nan(*xs: float) -> float:
        try:
            return f(*xs)
        except (ArithmeticError, ValueError):
            return math.nan

    return _lift(np, f, _lift(np, or_nan, None))


def _sum_samples(np, grads: list) -> list[float]:
    """Each gradient from its terms (a 1-D array per sample, a number shared): per-sample
    arrays added sample after sample (within a sample, in the terms' order: what backward does
    on a graph of the samples one after another), then the shared numbers. One accumulate
    serves every gradient with one per-sample term (a parameter's usual case)."""
    ndarray = np.ndarray
    out = [0.0] * len(grads)
    columns, later = [], []  # gradients with one per-sample array, and their shared terms
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
        out[i] = float(s)
    if columns:
        sums = np.add.accumulate(np.array(columns), axis=1)[:, -1].tolist()
        for (i, shared), s in zip(later, sums):
            for t in shared:
                s += t
            out[i] = float(s)
    return out


# ---------------------------------------------------------------------- names
_RESERVED = frozenset(FLOAT_NAMESPACE) | {"abs", "seed", "gradient_program"}
_NAME_LENGTH = 40  # longer labels are cut (the whole label goes in a comment)
_CHUNK = 50  # terms per line of a long sum: Python's compiler recurses once per operator


class _Names:
    """Unique identifiers from labels; ``g_`` + a name is kept free for its gradient."""

    def __init__(self) -> None:
        self.used: set[str] = set(_RESERVED)
        self.counters: dict[str, count] = {}

    def new(self, label: str | None, fallback: str) -> str:
        base = _identifier(label) if label else None
        if base is None:
            n = self.counters.setdefault(fallback, count())
            base = f"{fallback}_{next(n)}"
        name, k = base, 1
        while name in self.used or f"g_{name}" in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.update((name, f"g_{name}"))
        return name


class _Calls:
    """The ops a program calls by reference (a forward that reads its operands as floats):
    one name per op (``op_atan``, unique in the program), bound to the op's own forward in
    ``functions``."""

    def __init__(self, names: _Names) -> None:
        self.names, self.name = names, {}
        self.functions: dict[str, Callable] = {}

    def resolve(self, op: ops.Op, expr: str) -> str:
        """``expr`` (an op's forward source) with its ``{call}`` as the op's name."""
        if _CALL not in expr:
            return expr
        if op not in self.name:
            self.name[op] = self.names.new(f"op_{op.name}", "op")
            self.functions[self.name[op]] = op.forward
        return expr.replace(_CALL, self.name[op])


def _identifier(label: object) -> str | None:
    """``layers.0.w.1`` → ``layers_0_w_1``: every run of characters that cannot continue a
    Python name becomes ``_``, cut to 40 characters; None when nothing usable is left."""
    text = unicodedata.normalize("NFKC", str(label))
    text = "".join(c if f"a{c}".isidentifier() else " " for c in text)
    text = "_".join(text.split())[:_NAME_LENGTH].strip("_")
    if text[:1].isdigit():
        text = f"v_{text}"
    if not text.isidentifier() or unicodedata.normalize("NFKC", text) != text:
        return None
    return f"{text}_" if keyword.iskeyword(text) else text


def _comment(node: Value, name: str) -> str:
    """The label as an escaped comment when the name does not already say it."""
    if node.label is None or node.label == name:
        return ""
    text = repr(node.label)
    return f"  # {text if len(text) <= 60 else text[:57] + '...'}"


def _assign(name: str, parts: list[str], comment: str = "") -> list[str]:
    """``name = p₀ p₁ p₂ ...`` where every part after the first starts with its operator
    (`` + t``, `` - t``), in lines of at most :data:`_CHUNK` parts that continue
    ``name = name + ...``: the same operations, left to right."""
    lines = [f"{name} = {''.join(parts[:_CHUNK])}{comment}"]
    for i in range(_CHUNK, len(parts), _CHUNK):
        lines.append(f"{name} = {name}{''.join(parts[i : i + _CHUNK])}")
    return lines


def _close(expr: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start``."""
    depth = 0
    for i in range(start, len(expr)):
        depth += {"(": 1, ")": -1}.get(expr[i], 0)
        if depth == 0:
            return i
    return -1


def _atomic(expr: str) -> bool:
    """True when ``expr`` needs no parentheses as a factor: a name, a number, a call or a
    parenthesised expression."""
    if re.fullmatch(r"[\w.{}]+", expr):  # (``{x}``: an operand in a template)
        return True
    m = re.match(r"\w*\(", expr)
    return bool(m) and _close(expr, m.end() - 1) == len(expr) - 1


# ---------------------------------------------------------------------- the program
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
        if not any(isinstance(x, (list, tuple)) or getattr(x, "ndim", 0) for x in inputs):
            # as Python floats: a NumPy scalar would round powers and compare as NumPy does
            if params is not None:
                values = list(map(float, values))
            return Evaluation(*self._float(*map(float, inputs), *values, float(seed)))
        np = _numpy()
        arrays = [np.asarray(x, dtype=float) for x in inputs]
        sizes = {a.shape for a in arrays if a.ndim}
        if len(sizes) != 1 or len(next(iter(sizes))) != 1:
            raise ValueError(f"batch inputs must be 1-D arrays of one length, got shapes "
                             f"{[a.shape for a in arrays]}")
        (size,) = sizes.pop()
        if self._batch is None:
            self._batch = self._load({**_numpy_namespace(), **{
                name: _elementwise(np, f) for name, f in self._calls.items()}})
        seed = np.broadcast_to(np.asarray(seed, dtype=float), (size,)).copy()
        outs, input_grads, param_grads = self._batch(*arrays, *values, seed)

        def per_sample(v: Any) -> Any:  # a value the samples share, repeated per sample
            return v if getattr(v, "shape", None) == (size,) else np.full(size, float(v))

        return Evaluation(tuple(map(per_sample, outs)), tuple(map(per_sample, input_grads)),
                          tuple(_sum_samples(np, param_grads)))

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return (f"GradProgram({len(self.outputs)} outputs, {len(self.inputs)} inputs, "
                f"{len(self.params)} params, {self.source.count(chr(10)) + 1} lines)")


def _describe(node: Value, index: int) -> str:
    what = f"label {node.label!r}" if node.label else f"unlabelled, node {index} in order"
    return f"{node.op.name if node.op else 'leaf'} node ({what})"


def compile(  # noqa: A001 - autograd.compile reads best
    outputs: Value | Sequence[Value],
    inputs: Sequence[Value] = (),
    params: Sequence[Value] = (),
    *,
    input_grads: bool = True,
    layers: bool = False,
) -> GradProgram:
    """Write the recorded graph of ``outputs`` as a straight-line gradient program.

    ``inputs``: leaves whose values change per sample (arguments of the program; their
    gradients are per sample, computed when ``input_grads``); ``params``: leaves shared by all
    samples (their gradients are summed over a batch). Every other leaf is a constant, inlined
    with its current value. Gradients are of the first output. ``layers``: write each layer
    (linear nodes over the same inputs, then the same activation) as NumPy matrix code,
    z = W x + b and δ = (W′ᵀδ′) ⊙ f′(z) (:mod:`autograd.layered`). Raises :class:`CompileError`
    naming the node and its op when the op's code cannot be derived from its rules (and its
    entry gives no :class:`~autograd.ops.Code`), or when a variable is not a leaf.

    Without ``layers``, one sample runs the engine's float operations in the engine's order,
    so its numbers are the engine's. A batch gives each sample those same numbers, and sums a
    shared node's gradient sample by sample in that order (what ``backward`` does on a graph
    that holds the samples one after another). With ``layers``, matrix products add in BLAS's
    order and NumPy's exp, tanh... differ from ``math`` in the last bit: the numbers agree
    with the scalar program's to about 1e-12 relative, not bit for bit.
    """
    outs = (outputs,) if isinstance(outputs, Value) else tuple(outputs)
    if not outs:
        raise ValueError("compile needs at least one output Value")
    inputs, params = tuple(inputs), tuple(params)
    variables = inputs + params
    if len(set(variables)) != len(variables):
        raise ValueError("compile: a Value is listed twice among inputs and params")
    for v in (*outs, *variables):
        if not isinstance(v, Value):
            raise TypeError(f"compile takes Values, got {type(v).__name__}: {v!r}")
    for v in variables:
        if not v.is_leaf:
            raise CompileError(f"compile: inputs and params must be leaves; the "
                               f"{_describe(v, 0)} is computed from other nodes")

    order: dict[Value, None] = {}
    for out in outs:
        order.update(dict.fromkeys(topological_order(out)))

    names, per_sample = _Names(), set(inputs)
    calls = _Calls(names)
    name: dict[Value, str] = {}
    for v in variables:
        name[v] = names.new(v.label, "x" if v in per_sample else "p")

    def ref(v: Value) -> str:
        return name[v] if v in name else ops.literal(v.data)

    forward: dict[Value, list[str]] = {}  # a node's lines (a long sum takes several)
    locals_: dict[Value, tuple[Local, ...]] = {}
    for index, node in enumerate(order):
        if node.is_leaf:
            continue
        name[node] = names.new(node.label, node.op.name)
        if any(p in per_sample for p in node.parents):
            per_sample.add(node)
        try:
            expr, local = node.op.code_of(node, tuple(map(ref, node.parents)), name[node])
        except CompileError as err:
            raise CompileError(f"compile: the {_describe(node, index)}: {err}") from None
        expr = calls.resolve(node.op, expr)
        locals_[node] = tuple(d if isinstance(d, Local) else _local(d) for d in local)
        if node.op.arity == -1:  # a long sum goes on several lines
            first, *rest = expr.split(node.op.code.forward)
            parts = [first, *(node.op.code.forward + t for t in rest)]
        else:
            parts = [expr]
        forward[node] = _assign(name[node], parts, _comment(node, name[node]))

    wrt = set(params) | (set(inputs) if input_grads else set())
    root_graph = topological_order(outs[0])
    live: set[Value] = set()
    for node in root_graph:
        if node in wrt or any(p in live for p in node.parents):
            live.add(node)
    uses: dict[Value, list[tuple[Value, Local]]] = {v: [] for v in live}
    for node in reversed(root_graph):
        if node in live and not node.is_leaf:
            for parent, local in zip(node.parents, locals_[node]):
                if parent in live:
                    uses[parent].append((node, local))

    def gradient(v: Value) -> list[str]:
        """The lines of g_v: Σ over v's edges, in backward's order, of g_consumer × local.
        A node the samples share (a parameter, or computed from parameters only) whose terms
        are per sample (from a per-sample consumer or the root's seed) adds them with
        ``sample_sum``, sample by sample in a batch. A parameter's ``dot(g, a)`` or
        ``total(...)`` hands its per-sample terms to the program's call, which sums all
        parameters at once."""
        edges = uses.get(v, ())
        terms = ["seed"] if v is outs[0] else []
        terms += [local.times(f"g_{name[consumer]}") for consumer, local in edges]
        target = f"g_{name[v]}"
        if not terms:
            return [f"{target} = 0.0"]
        sample_terms = any(c in per_sample or c is outs[0] for c, _ in edges)
        if v not in per_sample and (sample_terms or v is outs[0] and v.is_leaf):
            if v.is_leaf and len(terms) == 1 and edges[0][1].factor not in (None, "1", "(-1)"):
                return [f"{target} = dot(g_{name[edges[0][0]]}, {edges[0][1].factor})"]  # Σₛ gₛ·aₛ
            if v.is_leaf:  # the call sums a parameter's terms (only the return reads them)
                return [f"{target} = total({', '.join(terms)})"]
            return _assign(target, [f"sample_sum({', '.join(terms[:_CHUNK])})"]) + [
                f"{target} = sample_sum({target}, {', '.join(terms[i : i + _CHUNK])})"
                for i in range(_CHUNK, len(terms), _CHUNK)]
        parts = [terms[0]] + [f" - {t[1:]}" if t.startswith("-") else f" + {t}"
                              for t in terms[1:]]
        return _assign(target, parts)

    if layers:
        from .layered import Scalar, write_layers

        program = write_layers(Scalar(outs, inputs, params, list(order), names, name, ref,
                                      per_sample, forward, uses, gradient, wrt, root_graph,
                                      calls))
        if program is not None:
            return program
    backward = [line for v in reversed(root_graph) if v in live and not v.is_leaf
                for line in gradient(v)]
    backward += [line for v in variables if v in wrt for line in gradient(v)]

    def listing(items: list[str]) -> str:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def grads(values: Sequence[Value]) -> str:
        return listing([f"g_{name[v]}" if v in wrt else "0.0" for v in values])

    args = ", ".join([name[v] for v in variables] + ["seed"])
    signature = textwrap.fill(args, 92, initial_indent="    ", subsequent_indent="    ",
                              break_long_words=False, break_on_hyphens=False)
    returns = f"{listing([ref(v) for v in outs])}, {grads(inputs)}, {grads(params)}"
    body = (["# forward: one line per node"] + [line for ls in forward.values() for line in ls]
            + ["# backward: g_v = ∂(first output)/∂v, summed over the edges leaving v"]
            + backward + [f"return {returns}"])
    source = (f"def gradient_program(\n{signature},\n):\n"
              + "\n".join(f"    {line}" for line in body) + "\n")
    return GradProgram(source, outs, inputs, params, name, calls.functions)
