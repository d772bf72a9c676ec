"""The op table: every scalar op declared once.

An :class:`Op` carries the forward on floats, the local derivative of the output with
respect to each operand, a display symbol, the derivative written out for people, and the
domain. Everything else reads it: :class:`~autograd.value.Value` methods and operators,
``backward``, graph labels, the derivative table in the docs and the property tests.

A local-derivative rule is called as ``local(*operands, out)`` and returns one derivative per
operand. Rules use only arithmetic and the helpers below (:func:`exp`, :func:`log`, ...), so
the same rule runs on floats (the fast first-order backward) and on Values (a differentiable
backward for higher-order derivatives).
"""

from __future__ import annotations

import inspect
import keyword
import math
import numbers
import sys
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from operator import mul
from typing import Any

INF = math.inf
NAN = math.nan

RULES: ContextVar[bool] = ContextVar("autograd_evaluating_rules", default=False)
"""True while local-derivative rules run on Values (``grad(..., create_graph=True)``): ops
then refuse nothing and give IEEE results (log 0 = −inf, 1/0 = inf), as PyTorch's double
backward does, so second derivatives exist wherever first derivatives do."""


# ---------------------------------------------------------------------------- errors
class DomainError(ValueError, ArithmeticError):
    """An operand lies outside its op's domain. The message names op, operands and labels."""


class ZeroDivisionDomainError(DomainError, ZeroDivisionError):
    """Division by zero, or zero raised to a negative power."""


class OverflowDomainError(DomainError, OverflowError):
    """The result does not fit in a float."""


# ---------------------------------------------------------------------------- numbers
def to_float(x: object, what: str = "Value data") -> float:
    """bool, int and float (and other real numbers such as NumPy's, ``numpy.bool_`` included)
    become float; else TypeError.

    A number too large for a float (``10**400``) is an OverflowError that shows it."""
    if isinstance(x, float):
        return float(x)
    if isinstance(x, (int, numbers.Real)) or _is_numpy_bool(x):
        try:
            return float(x)  # type: ignore[arg-type]  # a Real or numpy.bool_
        except OverflowError:
            raise OverflowError(f"{what} {_shorten(x)} is too large for a float "
                                f"(the largest is {_FLOAT_MAX!r})") from None
    raise TypeError(f"{what} must be a bool, int or float, got {type(x).__name__}: {x!r}")


_FLOAT_MAX = 1.7976931348623157e308


def _is_numpy_bool(x: object) -> bool:
    """Is ``x`` a ``numpy.bool_`` (named ``numpy.bool`` from NumPy 2)? NumPy does not register
    it as a ``numbers.Real``; the type is recognised by name, so NumPy stays optional."""
    kind = type(x)
    return kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")


def _shorten(x: object) -> str:
    """A number as text, its middle elided when long: ``100000000000…000000000000 (401 digits)``."""
    if isinstance(x, int) and x.bit_length() > 12_000:  # str() refuses over 4300 digits
        return f"(an integer of {x.bit_length()} bits)"
    text = str(x)
    if len(text) <= 40:
        return text
    return f"{text[:12]}…{text[-12:]} ({len(list(filter(str.isdigit, text)))} digits)"



# ---------------------------------------------------------------------------- rule helpers
_PLAIN_SUM = sys.version_info < (3, 12)
"""The builtin ``sum`` of floats adds plainly left to right before Python 3.12 (and is the
fastest way to); from 3.12 on it is compensated, which rounds differently from micrograd's
chain of additions (and from a graph of binary ``+``)."""


def total(xs: Iterable, start: float = 0.0):
    """start + x₀ + x₁ + ..., added strictly left to right (floats or Values)."""
    if _PLAIN_SUM:
        return sum(xs, start)
    for x in xs:
        start = start + x
    return start


def dot(start, ws: Iterable, xs: Iterable):
    """start + w₀x₀ + w₁x₁ + ..., left to right, as micrograd's neuron adds its terms."""
    if _PLAIN_SUM:
        return sum(map(mul, ws, xs), start)
    for w, x in zip(ws, xs):
        start = start + w * x
    return start


def _is_number(x: Any) -> bool:
    return isinstance(x, (float, int))


def _exp(x: float) -> float:
    """e**x; inf when it overflows, as in PyTorch (math.exp raises)."""
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def _pow(x: float, p: float) -> float:
    """x**p on floats as in IEEE arithmetic and PyTorch, where Python's ``**`` raises or goes
    complex: overflow gives ±inf, 0 to a negative power ±inf, a negative base to a
    non-integer power nan."""
    try:
        out = x**p
    except OverflowError:
        return -INF if x < 0 and p % 2 == 1 else INF
    except ZeroDivisionError:
        return math.copysign(INF, x) if p % 2 == 1 else INF
    return out if type(out) is float else NAN


def _relu(x: float) -> float:
    return 0.0 if x < 0 else x  # relu(nan) = nan, relu(−0.0) = −0.0, as in PyTorch


def _log(x: float) -> float:
    """Natural log as in IEEE arithmetic: log(0) = −inf, log(x < 0) = nan."""
    return math.log(x) if x > 0 else (-INF if x == 0 else NAN)


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else NAN  # sqrt(x < 0) = nan (math.sqrt raises)


def exp(x):
    """e**x on a float or a Value."""
    return _exp(x) if _is_number(x) else x.exp()


def log(x):
    """Natural log on a float or a Value; on a float, log(0) = −inf and log(x < 0) = nan."""
    return _log(x) if _is_number(x) else x.log()


def _sin(x: float) -> float:
    return math.sin(x) if x - x == 0 else NAN  # sin(±inf) is nan, as in IEEE and PyTorch


def _cos(x: float) -> float:
    return math.cos(x) if x - x == 0 else NAN


def sin(x):
    """sin on a float or a Value (sin(±inf) = nan)."""
    return _sin(x) if _is_number(x) else x.sin()


def cos(x):
    """cos on a float or a Value (cos(±inf) = nan)."""
    return _cos(x) if _is_number(x) else x.cos()


def sigmoid(x):
    """σ(x) = 1/(1+e^(−x)) on a float or a Value, without overflow for any |x|."""
    if not _is_number(x):
        return x.sigmoid()
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def softplus(x: float) -> float:
    """log(1 + e^x), computed as max(x, 0) + log1p(e^(−|x|)) so it never overflows."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def where(cond, a, b):
    """``a`` where ``cond`` holds, else ``b``. On floats and Values ``cond`` is a bool; a
    comparison of the compiler's code type writes a ``where`` instead (a rule's branch on the
    data, compiled)."""
    if type(cond) is bool:
        return a if cond else b
    build = getattr(cond, "where", None)
    return (a if cond else b) if build is None else build(a, b)


def step(x, below: float = 0.0) -> float:
    """1 for x > 0, else ``below``: a constant, so its own derivative is 0."""
    return where(x > 0, 1.0, below)


def sign(x) -> float:
    """−1, 0 or 1; sign(0) = 0 (as PyTorch's abs'(0))."""
    return where(x > 0, 1.0, where(x < 0, -1.0, 0.0))


def ratio(a, b):
    """a / b on floats or Values; on floats, division by zero gives ±inf (nan for 0/0 and
    nan/0) as in IEEE arithmetic, where Python raises: a singular derivative."""
    if _is_number(b) and b == 0 and _is_number(a):
        return math.copysign(INF, a) * math.copysign(1.0, b) if a == a and a else NAN
    return a / b


def power(x, p):
    """x**p for a float or Value base and exponent; on floats as :func:`_pow` (0 to a
    negative power is inf, overflow ±inf)."""
    return _pow(x, p) if _is_number(x) and _is_number(p) else x**p


def xlogy(x: float, y: float) -> float:
    """x·log(y), and 0 where x = 0 (the slope of 0**b in b, as the engine's pow rule)."""
    return 0.0 if x == 0 else x * math.log(y)


class Mask(float):
    """The type of :data:`MASK`: a 0.0 whose product with any g is 0.0, inf and NaN included."""

    __slots__ = ()

    def __mul__(self, other: object) -> float:
        return 0.0

    __rmul__ = __mul__


MASK = Mask(0.0)
"""A local derivative of 0 that PyTorch applies with ``where``, not a product (an off ReLU,
pow's base at exponent 0, x**0): it reads, compares, adds and prints as 0.0, but its
product with any gradient, inf and NaN included, is 0.0. Anywhere else 0 × inf is NaN."""


# ---------------------------------------------------------------------------- on NumPy arrays
def _sigmoid_on_arrays(np: Any) -> Callable[[Any], Any]:
    def sigmoid_(x: Any) -> Any:
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    return sigmoid_


def _softplus_on_arrays(np: Any) -> Callable[[Any], Any]:
    return lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _xlogy_on_arrays(np: Any) -> Callable[[Any, Any], Any]:
    return lambda x, y: np.where(x == 0, 0.0, x * np.log(y))


def _relu_on_arrays(np: Any) -> Callable[[Any], Any]:
    return lambda x: np.where(x < 0, 0.0, x)


# ---------------------------------------------------------------------------- the Op record
def literal(x: float) -> str:
    """A float as a Python expression that binds tighter than any operator: ``0.5``,
    ``(-2.0)``, ``inf``."""
    text = repr(float(x)) if math.isfinite(x) else str(float(x))
    return f"({text})" if text.startswith("-") else text


def _short(p: float) -> str:
    """An exponent as written by hand: ``2``, ``(-1)``, ``0.5``."""
    if not (p.is_integer() and abs(p) < 2**53):
        return literal(p)
    return f"({int(p)})" if p < 0 else str(int(p))


@dataclass(frozen=True)
class Code:
    """What :func:`autograd.compile` cannot derive from an op's ``forward`` and ``local``, as
    Python source (None: derived, by running them on code).

    ``forward`` and ``local`` (one per operand) are ``str.format`` templates over the operand
    names (``{x}``, ``{a}``, ``{b}``) and ``{out}``; they call only the functions every
    namespace of the compiler provides (exp, log, tanh, sigmoid, softplus, sqrt, sin, cos,
    abs, relu, sign, where, and for the engine's singular cases ``power`` (0**negative is
    inf), ``ratio`` (x/0 is ±inf) and ``xlogy`` (0·log 0 is 0)), so one template runs on
    floats and, element by element, on NumPy arrays: a branch on the data is a comparison or
    ``where``, never an ``if``; ``**`` is written ``power`` so that arrays are rounded as
    floats are. For n-ary ops, ``forward`` is the separator that joins 0.0 and the operands
    (a sum starts from 0.0) and ``local[0]`` every operand's derivative.
    """

    forward: str | None = None
    local: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Require:
    """One domain condition: ``holds(*operands)`` must be true, else ``error`` is raised."""

    text: str
    holds: Callable[..., bool]
    error: type[DomainError] = DomainError


@dataclass(frozen=True)
class Runtime:
    """A function compiled code calls by ``name``: ``floats``, the engine's own on floats
    (IEEE at domain edges), and ``arrays(numpy)``, the same on whole NumPy arrays at once,
    which may differ from ``floats`` in the last bit unless ``exact``."""

    name: str
    floats: Callable[..., float]
    arrays: Callable[[Any], Callable[..., Any]]
    exact: bool = False


@dataclass(frozen=True, eq=False)
class Op:
    """One scalar op.

    name: identifier (``tanh``); symbol: what a graph shows (``tanh``, ``+``, ``×``);
    operands: operand names used in messages and formulas (``("x",)``, ``("a", "b")``);
    forward: floats → float; local: ``local(*operands, out)`` → one derivative per operand
    (None for linear, whose :meth:`local_of` reads the node);
    derivative: the local derivatives written out, one string per operand;
    requires: domain conditions; safe: per operand, an interval (lo, hi) where tests sample,
    away from domain edges; kinks: points where the derivative jumps (tests stay clear);
    params: the constants an op family was made with (pow's exponent, leaky_relu's slope);
    method: the Value method that applies it (``x.tanh()``), or None;
    operator: the Python operator that applies it on Values (``"add"``: ``x + y`` and, for
    two operands, the reflected ``1 + x``), or None;
    code: what the compiler cannot derive from forward and local, as source templates
    (:class:`Code`); underivable: why it cannot ("" when everything is derived);
    sympy: the op as mathematics, ``sympy(sp, *operands)`` → a sympy expression, given the
    sympy module (imported only when exporting) and the operands' expressions; for linear,
    ``sympy(sp, weights, inputs, bias)`` (None: :func:`autograd.to_sympy` refuses the op).
    runtime: the name compiled code calls the forward by (``tanh(z)``), with its NumPy form
    (:class:`Runtime`), or None (its code is derived from the rules, or calls it by reference).
    A rule returns :data:`MASK` for a derivative PyTorch computes with ``where`` (an off
    ReLU), so an inf or NaN gradient arriving there gives 0 instead of 0 × inf = NaN.
    """

    name: str
    symbol: str
    operands: tuple[str, ...]
    forward: Callable[..., float]
    local: Callable[..., tuple]
    derivative: tuple[str, ...]
    requires: tuple[Require, ...] = ()
    safe: tuple[tuple[float, float], ...] = ((-3.0, 3.0),)
    kinks: tuple[float, ...] = ()
    params: tuple[tuple[str, float], ...] = ()
    builtin: bool = field(default=True, repr=False)
    code: Code | None = field(default=None, repr=False)
    underivable: str = field(default="", repr=False)
    method: str | None = field(default=None, repr=False)
    operator: str | None = field(default=None, repr=False)
    sympy: Callable[..., Any] | None = field(default=None, repr=False)
    runtime: Runtime | None = field(default=None, repr=False)

    @property
    def arity(self) -> int:
        """Number of operands; −1 for n-ary ops (sum, linear)."""
        return -1 if self.operands == ("*",) else len(self.operands)

    def check(self, operands: tuple, values: tuple[float, ...]) -> None:
        """Raise the domain error of the first condition ``values`` break. A NaN operand is
        never refused: the op gives NaN (or PyTorch's number, such as nan**0 = 1)."""
        for req in self.requires:
            if not req.holds(*values):
                if any(v != v for v in values) or RULES.get():
                    return
                raise req.error(self.describe_failure(f"needs {req.text}", operands, values))

    def describe_failure(self, what: str, operands: Sequence, values: Sequence[float]) -> str:
        """``log: needs x > 0; got x = -1.0 (label 'w')``."""
        parts = []
        for name, operand, value in zip(self.operands, operands, values):
            label = getattr(operand, "label", None)
            parts.append(f"{name} = {value!r}" + (f" (label {label!r})" if label else ""))
        return f"{self.name}: {what}; got {', '.join(parts)}"

    def evaluate(self, node, values: tuple):
        """The forward from a node's operand values (floats, or Values for a new graph)."""
        return self.forward(*values)

    def local_of(self, node, values: tuple, out) -> tuple:
        """The local derivatives from operand values and the output (floats or Values)."""
        return self.local(*values, out)

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params)
        return f"Op({self.name!r}{params})"


# ---------------------------------------------------------------------------- the table
OPS: dict[str, Op] = {}
FAMILIES: dict[str, tuple[Callable[..., Op], tuple[dict[str, float], ...]]] = {}
FAMILY_CONSTANT_OF: dict[str, str] = {}
"""A family that is the constant-operand case of an op (pow_const of pow: ``x ** 2.0``); any
other family is a Value method with its parameters (``x.leaky_relu(0.2)``)."""

PYTHON_OPERATORS = {"add": "add", "sub": "sub", "mul": "mul", "div": "truediv", "pow": "pow",
                    "neg": "neg", "abs": "abs"}
"""The built-in entries that Value spells as Python operators, by entry name."""


_REGISTER_HOOKS: list[Callable[[Op], None]] = []


def on_register(hook: Callable[[Op], None]) -> None:
    """Call ``hook(op)`` for every op registered from now on, before it joins the table; an
    exception refuses it (value.py gives Value the op's method this way)."""
    _REGISTER_HOOKS.append(hook)


def register(op: Op) -> Op:
    """Add ``op`` to the table under its name; names are unique."""
    if op.name in OPS or op.name in FAMILIES:
        raise ValueError(f"an op named {op.name!r} is already declared")
    for hook in _REGISTER_HOOKS:  # may refuse the op: then the table is left as it was
        hook(op)
    OPS[op.name] = op
    return op


def _family(name: str, *examples: dict[str, float], constant_of: str | None = None):
    """Register a cached factory of ops with constant parameters (and example parameters);
    ``constant_of``: the op it specialises to a constant operand (see FAMILY_CONSTANT_OF)."""

    def wrap(factory):
        cached = lru_cache(maxsize=256)(factory)
        signature = inspect.signature(factory)
        n = len(signature.parameters)

        @wraps(factory)
        def family(*args: float, **kwargs: float) -> Op:
            """The op for these constants: one object however they are passed."""
            if kwargs or len(args) != n:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                args = tuple(bound.arguments.values())
            return cached(*args)

        FAMILIES[name] = (family, examples)
        if constant_of is not None:
            FAMILY_CONSTANT_OF[name] = constant_of
        return family

    return wrap


def all_ops() -> list[Op]:
    """Every op in the table, with families instantiated at their example parameters."""
    ops = [op for op in OPS.values() if op.arity != -1]
    for factory, examples in FAMILIES.values():
        ops.extend(factory(**params) for params in examples)
    return ops


def _unary(name, symbol, forward, local, derivative, **kw) -> Op:
    """A built-in one-operand entry: the method ``x.<name>()``, and its Python operator if any."""
    return register(Op(name, symbol, ("x",), forward, local, (derivative,), method=name,
                       operator=PYTHON_OPERATORS.get(name), **kw))


def _binary(name, symbol, forward, local, derivatives, **kw) -> Op:
    """A built-in two-operand entry, applied on Values by its Python operator."""
    kw.setdefault("safe", ((-3.0, 3.0), (-3.0, 3.0)))
    return register(Op(name, symbol, ("a", "b"), forward, local, derivatives,
                       operator=PYTHON_OPERATORS[name], **kw))


ADD = _binary("add", "+", lambda a, b: a + b, lambda a, b, out: (1.0, 1.0), ("1", "1"),
              sympy=lambda sp, a, b: a + b)
SUB = _binary("sub", "−", lambda a, b: a - b, lambda a, b, out: (1.0, -1.0), ("1", "−1"),
              sympy=lambda sp, a, b: a - b)
MUL = _binary("mul", "×", lambda a, b: a * b, lambda a, b, out: (b, a), ("b", "a"),
              sympy=lambda sp, a, b: a * b)
DIV = _binary(
    "div",
    "÷",
    lambda a, b: ratio(a, b),
    lambda a, b, out: (ratio(1.0, b), ratio(-out, b)),
    ("1/b", "−a/b²"),
    requires=(Require("b ≠ 0", lambda a, b: b != 0, ZeroDivisionDomainError),),
    safe=((-3.0, 3.0), (0.2, 3.0)),
    sympy=lambda sp, a, b: a / b,
)
def _is_zero(x):
    """x == 0 on a float, a Value (a bool: Values compare by identity) or code (a condition)."""
    return x.data == 0 if hasattr(x, "data") else x == 0


def _pow_local(a, b, out):
    """PyTorch's pow rule: ∂a = where(b == 0, 0, b·a^(b−1)) and ∂b = where(a == 0 and b ≥ 0,
    0, a^b·ln a), written with :func:`where` so it also runs on code. On Values (higher
    order) ∂a keeps its product at b = 0 unless a = 0 too, so higher derivatives keep their
    b-dependence."""
    product, slope = b * power(a, b - 1.0), out * log(a)
    keep = hasattr(b, "data") and not _is_zero(a)
    return (where(_is_zero(b), product if keep else MASK, product),
            where(_is_zero(a), where(b >= 0, 0.0, slope), slope))


POW = _binary(
    "pow",
    "**",
    _pow,
    _pow_local,
    ("b·a^(b−1)", "a^b·ln a"),
    runtime=Runtime("power", _pow, lambda np: np.power),
    requires=(
        Require("a ≥ 0 unless b = ±inf (a Value exponent needs a non-negative base)",
                lambda a, b: a >= 0 or abs(b) == INF),
        Require("a ≠ 0 when b < 0", lambda a, b: a != 0 or b >= 0, ZeroDivisionDomainError),
    ),
    safe=((0.2, 3.0), (-2.0, 2.0)),
    sympy=lambda sp, a, b: a**b,
)
NEG = _unary("neg", "−", lambda x: -x, lambda x, out: (-1.0,), "−1", sympy=lambda sp, x: -x)
EXP = _unary("exp", "exp", _exp, lambda x, out: (out,), "exp(x)",
             runtime=Runtime("exp", _exp, lambda np: np.exp), sympy=lambda sp, x: sp.exp(x))
LOG = _unary(
    "log",
    "log",
    _log,
    lambda x, out: (ratio(1.0, x),),
    "1/x",
    requires=(Require("x > 0", lambda x: x > 0),),
    safe=((0.2, 5.0),),
    runtime=Runtime("log", _log, lambda np: np.log),
    sympy=lambda sp, x: sp.log(x),
)
TANH = _unary("tanh", "tanh", math.tanh, lambda x, out: (1.0 - out * out,), "1 − out²",
              runtime=Runtime("tanh", math.tanh, lambda np: np.tanh),
              sympy=lambda sp, x: sp.tanh(x))
SIGMOID = _unary("sigmoid", "σ", sigmoid, lambda x, out: (out * (1.0 - out),), "out·(1 − out)",
                 runtime=Runtime("sigmoid", sigmoid, _sigmoid_on_arrays),
                 sympy=lambda sp, x: 1 / (1 + sp.exp(-x)))
RELU = _unary(
    "relu",
    "relu",
    _relu,
    lambda x, out: (where(x <= 0, MASK, 1.0),),
    "0 (a mask) if x ≤ 0 else 1",
    kinks=(0.0,),
    runtime=Runtime("relu", _relu, _relu_on_arrays, exact=True),
    sympy=lambda sp, x: sp.Max(0, x),
)
SOFTPLUS = _unary("softplus", "softplus", softplus, lambda x, out: (sigmoid(x),), "σ(x)",
                  runtime=Runtime("softplus", softplus, _softplus_on_arrays),
                  sympy=lambda sp, x: sp.log(1 + sp.exp(x)))
SQRT = _unary(
    "sqrt",
    "√",
    _sqrt,
    lambda x, out: (ratio(0.5, out),),
    "1/(2·out)",
    requires=(Require("x ≥ 0", lambda x: x >= 0),),
    safe=((0.2, 5.0),),
    runtime=Runtime("sqrt", _sqrt, lambda np: np.sqrt, exact=True),
    sympy=lambda sp, x: sp.sqrt(x),
)
ABS = _unary("abs", "abs", abs, lambda x, out: (sign(x),), "sign(x)", kinks=(0.0,),
             runtime=Runtime("abs", abs, lambda np: np.abs, exact=True),
             sympy=lambda sp, x: sp.Abs(x))
SIN = _unary("sin", "sin", _sin, lambda x, out: (cos(x),), "cos(x)",
             runtime=Runtime("sin", _sin, lambda np: np.sin), sympy=lambda sp, x: sp.sin(x))
COS = _unary("cos", "cos", _cos, lambda x, out: (-sin(x),), "−sin(x)",
             runtime=Runtime("cos", _cos, lambda np: np.cos), sympy=lambda sp, x: sp.cos(x))

HELPERS = (
    Runtime("sign", sign, lambda np: np.sign),
    Runtime("ratio", ratio, lambda np: np.divide),
    Runtime("xlogy", xlogy, _xlogy_on_arrays),
)
"""The rule helpers compiled code calls by name besides the ops' own (:attr:`Op.runtime`)."""


def runtimes() -> dict[str, Runtime]:
    """Every function compiled code calls by name: the built-in ops' and the helpers'."""
    found = [op.runtime for op in OPS.values() if op.builtin and op.runtime is not None]
    return {r.name: r for r in (*found, *HELPERS)}


CALLED_AS: dict[Callable, str] = {
    **{op.runtime.floats: op.runtime.name for op in OPS.values() if op.runtime is not None},
    power: "power", math.exp: "exp", math.log: "log", math.sin: "sin", math.cos: "cos",
    math.sqrt: "sqrt", math.fabs: "abs", sign: "sign", ratio: "ratio",
}
"""A forward that is one of these functions compiles as a call of it by that name (a user's
op declared with ``math.exp`` runs as the engine's ``exp``, inf where math.exp overflows)."""


@_family("pow_const", {"p": 2.0}, {"p": 3.0}, {"p": -1.0}, {"p": 0.5}, {"p": -1.5},
         constant_of="pow")
def pow_const(p: float) -> Op:
    """x**p for a constant exponent p; local derivative p·x^(p−1)."""
    p = float(p)
    integral = p.is_integer()
    requires = [Require("x ≠ 0 for a negative exponent", lambda x: x != 0 or p >= 0,
                        ZeroDivisionDomainError)]
    if not integral:
        requires.insert(0, Require("x ≥ 0 for a non-integer exponent", lambda x: x >= 0))
    if p == 0.5:  # as PyTorch: first order as sqrt (1/(2·out)), higher orders as x**p
        def local(x, out):
            return (ratio(0.5, out) if _is_number(x) else 0.5 * power(x, -0.5),)
    else:
        def local(x, out):
            return (MASK if p == 0 else p * power(x, p - 1.0),)
    return Op(
        "pow_const",
        f"**{p:g}",
        ("x",),
        _sqrt if p == 0.5 else (lambda x: _pow(x, p)),
        local,
        (f"{p:g}·x^{p - 1:g}",),
        requires=tuple(requires),
        safe=((-3.0, 3.0),) if integral and p >= 0 else ((0.2, 3.0),),
        params=(("p", p),),
        code=Code(None if p == 0.5 else f"power({{x}}, {_short(p)})",
                  ("ratio(0.5, {out})",) if p == 0.5 else None),
        underivable=("its first-order rule is sqrt's, written for floats only" if p == 0.5
                     else "its forward x**p is a closure over p, which the compiler cannot read"),
        sympy=lambda sp, x: x ** (sp.Integer(int(p)) if integral else sp.Float(p)),
    )


@_family("leaky_relu", {"slope": 0.01}, {"slope": 0.2})
def leaky_relu(slope: float = 0.01) -> Op:
    """x for x > 0, slope·x otherwise; local derivative 1 or slope."""
    slope = float(slope)
    return Op(
        "leaky_relu",
        f"leaky_relu({slope:g})",
        ("x",),
        lambda x: where(x > 0, x, slope * x),
        lambda x, out: (step(x, slope),),
        (f"1 if x > 0 else {slope:g}",),
        kinks=(0.0,),
        params=(("slope", slope),),
        sympy=lambda sp, x: sp.Max(x, 0) + sp.Rational(slope) * sp.Min(x, 0),
    )


SUM = register(
    Op("sum", "Σ", ("*",), lambda *xs: total(xs), lambda *a: (1.0,) * (len(a) - 1), ("1",),
       code=Code(" + ", ("1",)), underivable="n-ary: a long sum is split over lines",
       sympy=lambda sp, *xs: sp.Add(*xs))
)


@_family("clamp", {"lo": -1.0, "hi": 1.0})
def clamp(lo: float, hi: float) -> Op:
    """x limited to [lo, hi] (NaN stays NaN); local derivative 1 inside, else 0 as a mask
    (PyTorch's clamp: an inf or NaN gradient outside gives 0, and so does x = NaN)."""
    lo, hi = float(lo), float(hi)
    return Op(
        "clamp",
        f"clamp({lo:g}, {hi:g})",
        ("x",),
        lambda x: where(x < lo, lo, where(x > hi, hi, x)),
        lambda x, out: (where(x >= lo, where(x <= hi, 1.0, MASK), MASK),),
        (f"1 if {lo:g} ≤ x ≤ {hi:g} else 0 (a mask)",),
        kinks=(lo, hi),
        params=(("lo", lo), ("hi", hi)),
        sympy=lambda sp, x: sp.Min(sp.Max(x, sp.Rational(lo)), sp.Rational(hi)),
    )


def _largest(*xs: float) -> float:
    """The largest operand, the first of equals; NaN if any is NaN (as PyTorch's amax)."""
    m = xs[0]
    for x in xs[1:]:
        m = m if m >= x or m != m else x
    return m


DETACHED_MAX = register(
    Op("detached_max", "max", ("*",), _largest, lambda *a: (MASK,) * (len(a) - 1),
       ("0 (a mask: held constant, like max(...).detach())",))
)
"""The largest operand held constant: what log-sum-exp subtracts to keep e^z finite. It is a
node of the graph (so a compiled program takes each sample's own maximum) whose local
derivatives are masks, so no gradient flows through it, as PyTorch's logsumexp."""


@dataclass(frozen=True, eq=False, repr=False)
class LinearOp(Op):
    """Σᵢ wᵢxᵢ + b as one node; local derivative xᵢ to wᵢ, wᵢ to xᵢ, 1 to b.

    Operands are the weight Values (when the weights are Values), then the input Values (when
    the inputs are Values), then the bias Value (when there is one). A side given as plain
    numbers has no edges; its numbers are the stored local derivatives of the other side.
    """

    def sides(self, node, values: tuple) -> tuple[tuple, tuple, Any]:
        """(weights, inputs, bias) from operand values, a plain-number side from ``node``'s
        stored local derivatives (``node`` may be None when both sides are operands)."""
        p = dict(self.params)
        n, wv, xv = int(p["n"]), p["weights"], p["inputs"]
        stored = () if wv and xv else node.local_grads
        w = values[:n] if wv else stored[:n]
        start = n if wv else 0
        x = values[start : start + n] if xv else stored[:n]
        return w, x, values[-1] if p["bias"] else 0.0

    def evaluate(self, node, values: tuple):
        w, x, b = self.sides(node, values)
        return dot(b, w, x)

    def local_of(self, node, values: tuple, out) -> tuple:
        w, x, _ = self.sides(node, values)
        p = dict(self.params)
        return (tuple(x) if p["weights"] else ()) + (tuple(w) if p["inputs"] else ()) + (
            (1.0,) if p["bias"] else ()
        )

    def code_of(self, node, names: tuple[str, ...], out: str) -> tuple[str, tuple[str, ...]]:
        """``b + w0*x0 + w1*x1 + ...`` (the engine's order; ``0.0 + ...`` without a bias,
        as :func:`dot` starts); a plain-number side is inlined."""
        w, x, b = self.sides(node, tuple(names))
        ws = [n if isinstance(n, str) else literal(n) for n in w]
        xs = [n if isinstance(n, str) else literal(n) for n in x]
        terms = [f"{wi}*{xi}" for wi, xi in zip(ws, xs)]
        p = dict(self.params)
        local = (tuple(xs) if p["weights"] else ()) + (tuple(ws) if p["inputs"] else ())
        return " + ".join([b if p["bias"] else "0.0"] + terms), local + (("1",) if p["bias"] else ())


@lru_cache(maxsize=1024)
def linear(n: int, weights: bool, inputs: bool, bias: bool) -> LinearOp:
    """The linear op for ``n`` terms; flags say which sides (and whether a bias) are Values."""
    return LinearOp(
        "linear",
        "linear",
        ("*",),
        lambda *xs: dot(xs[2 * n] if bias else 0.0, xs[:n], xs[n : 2 * n]),
        None,  # type: ignore[arg-type]  # (local_of reads a node's constant side)
        ("xᵢ (to wᵢ)", "wᵢ (to xᵢ)", "1 (to b)"),
        params=(("n", n), ("weights", weights), ("inputs", inputs), ("bias", bias)),
        code=Code(" + ", ()),
        sympy=lambda sp, w, x, b: sp.Add(b, *map(mul, w, x)),
    )


# ---------------------------------------------------------------------------- custom ops
def declare(
    name: str,
    forward: Callable[..., float],
    local: Callable[..., Any],
    *,
    symbol: str | None = None,
    derivative: tuple[str, ...] | str | None = None,
    requires: tuple[Require | tuple, ...] = (),
    safe: tuple[tuple[float, float], ...] | None = None,
    kinks: tuple[float, ...] = (),
    code: Code | None = None,
    sympy: Callable[..., Any] | None = None,
) -> Op:
    """Declare a user op with one or two operands and add it to the table.

    ``name`` names the method ``x.<name>()``: a Python identifier that is not a keyword
    (anything else is a ValueError, raised before the table changes).

    ``forward(x)`` or ``forward(a, b)`` works on floats; its parameter names name the operands.
    ``local(*operands, out)`` returns ∂out/∂operand for each operand (a bare number is
    accepted for one operand); written with ``+ − × ÷ **`` and this module's helpers
    (:func:`exp`, :func:`log`, :func:`sign`, ...), it also runs on Values. ``requires``:
    :class:`Require` or ``(text, predicate)`` pairs; ``safe``: per operand, the interval the
    property tests sample (default (−3, 3)); ``code``: its source templates (:class:`Code`),
    needed only by :func:`autograd.compile`. Apply it with ``autograd.apply(op, x)``; it
    draws, steps, checks and differentiates like a built-in op. Declaring a name again
    replaces an earlier user op (re-running a notebook cell); built-in names are refused.
    ``sympy``: ``sympy(sp, *operands)`` → the op's sympy expression (``sp`` is the sympy
    module), needed only by :func:`autograd.to_sympy`.
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"declare {name!r}: an op's name must be a Python identifier that is "
                         "not a keyword (it names the method x.<name>())")
    names = tuple(inspect.signature(forward).parameters)
    if len(names) not in (1, 2):
        raise ValueError(f"declare {name!r}: forward must take 1 or 2 operands, got {names}")
    if isinstance(derivative, str):
        derivative = (derivative,)
    derivative = derivative or tuple(f"∂{name}/∂{x}" for x in names)
    if len(derivative) != len(names):
        raise ValueError(f"declare {name!r}: {len(names)} operands but {len(derivative)} "
                         f"derivative strings")

    def local_tuple(*args):
        d = local(*args)
        return d if isinstance(d, (tuple, list)) else (d,)

    op = Op(
        name,
        symbol or name,
        names,
        forward,
        local_tuple,
        derivative,
        requires=tuple(r if isinstance(r, Require) else Require(*r) for r in requires),
        safe=safe or ((-3.0, 3.0),) * len(names),
        kinks=tuple(kinks),
        builtin=False,
        code=code,
        method=name,
        sympy=sympy,
    )
    old = OPS.get(name)
    if old is None or old.builtin:
        return register(op)
    del OPS[name]
    try:
        return register(op)
    except Exception:
        OPS[name] = old  # a refused replacement leaves the earlier op in place
        raise


# ---------------------------------------------------------------------------- documentation
def derivative_table() -> str:
    """The op table as Markdown: op, symbol, forward, local derivative per operand, domain."""
    rows = ["| op | symbol | operands | local derivative ∂out/∂operand | domain |",
            "|---|---|---|---|---|"]
    examples = [factory(**ex[0]) for factory, ex in FAMILIES.values() if ex]
    for op in [*OPS.values(), *examples, linear(1, True, True, True)]:
        if not op.builtin:
            continue
        params = ", ".join(f"{k}={v:g}" for k, v in op.params)
        name = f"{op.name}({params})" if op.name in FAMILIES else op.name
        domain = "; ".join(req.text for req in op.requires) or "all reals"
        rows.append(f"| {name} | `{op.symbol}` | {', '.join(op.operands)} | "
                    f"{'; '.join(op.derivative)} | {domain} |")
    return "\n".join(rows)
