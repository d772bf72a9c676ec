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
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

INF = math.inf
EXP_MAX = 709.782712893384  # math.exp overflows above this


# ---------------------------------------------------------------------------- errors
class DomainError(ValueError, ArithmeticError):
    """An operand lies outside its op's domain. The message names op, operands and labels."""


class ZeroDivisionDomainError(DomainError, ZeroDivisionError):
    """Division by zero, or zero raised to a negative power."""


class OverflowDomainError(DomainError, OverflowError):
    """The result does not fit in a float."""


# ---------------------------------------------------------------------------- rule helpers
def _is_number(x: Any) -> bool:
    return isinstance(x, (float, int))


def exp(x):
    """e**x on a float or a Value."""
    return math.exp(x) if _is_number(x) else x.exp()


def log(x):
    """Natural log on a float or a Value."""
    return math.log(x) if _is_number(x) else x.log()


def sin(x):
    """sin on a float or a Value."""
    return math.sin(x) if _is_number(x) else x.sin()


def cos(x):
    """cos on a float or a Value."""
    return math.cos(x) if _is_number(x) else x.cos()


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


def step(x, below: float = 0.0) -> float:
    """1 for x > 0, else ``below``: a constant, so its own derivative is 0."""
    return 1.0 if x > 0 else below


def sign(x) -> float:
    """−1, 0 or 1; sign(0) = 0 (as PyTorch's abs'(0))."""
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def ratio(a, b):
    """a / b, except that division by zero (float or Value) gives the constant ±inf (nan for
    0/0): a singular derivative."""
    if float(b) == 0:
        a = float(a)
        return math.copysign(INF, a) if a else math.nan
    return a / b


def power(x, p):
    """x**p for a float or Value base and exponent; 0**negative gives the constant inf."""
    if p < 0 and float(x) == 0:
        return INF
    return x**p


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
    """An op as Python source, for :func:`autograd.compile`.

    ``forward`` and ``local`` (one per operand) are ``str.format`` templates over the operand
    names (``{x}``, ``{a}``, ``{b}``) and ``{out}``; they call only the functions every
    namespace of the compiler provides (exp, log, tanh, sigmoid, softplus, sqrt, sin, cos,
    relu, sign, where, and for the engine's singular cases ``power`` (0**negative is inf),
    ``ratio`` (x/0 is ±inf) and ``xlogy`` (0·log 0 is 0)), so one template runs on floats
    and, element by element, on NumPy arrays: a branch on the data is a comparison or
    ``where``, never an ``if``; ``**`` is written ``power`` so that arrays are rounded as
    floats are. For n-ary ops,
    ``forward`` is the separator between operands and ``local[0]`` every operand's derivative.
    """

    forward: str
    local: tuple[str, ...]


@dataclass(frozen=True)
class Require:
    """One domain condition: ``holds(*operands)`` must be true, else ``error`` is raised."""

    text: str
    holds: Callable[..., bool]
    error: type[DomainError] = DomainError


@dataclass(frozen=True, eq=False)
class Op:
    """One scalar op.

    name: identifier (``tanh``); symbol: what a graph shows (``tanh``, ``+``, ``×``);
    operands: operand names used in messages and formulas (``("x",)``, ``("a", "b")``);
    forward: floats → float; local: ``local(*operands, out)`` → one derivative per operand;
    derivative: the local derivatives written out, one string per operand;
    requires: domain conditions; safe: per operand, an interval (lo, hi) where tests sample,
    away from domain edges; kinks: points where the derivative jumps (tests stay clear);
    params: the constants an op family was made with (pow's exponent, leaky_relu's slope);
    code: the op as source templates (:class:`Code`), or None when it cannot be compiled.
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

    @property
    def arity(self) -> int:
        """Number of operands; −1 for n-ary ops (sum, linear)."""
        return -1 if self.operands == ("*",) else len(self.operands)

    def check(self, operands: tuple, values: tuple[float, ...]) -> None:
        """Raise the domain error of the first condition ``values`` break."""
        for req in self.requires:
            if not req.holds(*values):
                raise req.error(self.describe_failure(f"needs {req.text}", operands, values))

    def describe_failure(self, what: str, operands: tuple, values: tuple[float, ...]) -> str:
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

    def code_of(self, node, names: tuple[str, ...], out: str) -> tuple[str, tuple[str, ...]]:
        """Source of the forward and of each edge's local derivative, from the operands'
        expressions ``names`` (one per edge) and the output's name ``out``."""
        if self.arity == -1:
            return self.code.forward.join(names), self.code.local * len(names)
        subs = dict(zip(self.operands, names), out=out)
        return self.code.forward.format(**subs), tuple(t.format(**subs) for t in self.code.local)

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params)
        return f"Op({self.name!r}{params})"


# ---------------------------------------------------------------------------- the table
OPS: dict[str, Op] = {}
FAMILIES: dict[str, tuple[Callable[..., Op], tuple[dict[str, float], ...]]] = {}


def register(op: Op) -> Op:
    """Add ``op`` to the table under its name; names are unique."""
    if op.name in OPS or op.name in FAMILIES:
        raise ValueError(f"an op named {op.name!r} is already declared")
    OPS[op.name] = op
    return op


def _family(name: str, *examples: dict[str, float]):
    """Register a cached factory of ops with constant parameters (and example parameters)."""

    def wrap(factory):
        cached = lru_cache(maxsize=256)(factory)
        FAMILIES[name] = (cached, examples)
        return cached

    return wrap


def all_ops() -> list[Op]:
    """Every op in the table, with families instantiated at their example parameters."""
    ops = [op for op in OPS.values() if op.arity != -1]
    for factory, examples in FAMILIES.values():
        ops.extend(factory(**params) for params in examples)
    return ops


def _unary(name, symbol, forward, local, derivative, **kw) -> Op:
    return register(Op(name, symbol, ("x",), forward, local, (derivative,), **kw))


def _binary(name, symbol, forward, local, derivatives, **kw) -> Op:
    kw.setdefault("safe", ((-3.0, 3.0), (-3.0, 3.0)))
    return register(Op(name, symbol, ("a", "b"), forward, local, derivatives, **kw))


ADD = _binary("add", "+", lambda a, b: a + b, lambda a, b, out: (1.0, 1.0), ("1", "1"),
              code=Code("{a} + {b}", ("1", "1")))
SUB = _binary("sub", "−", lambda a, b: a - b, lambda a, b, out: (1.0, -1.0), ("1", "−1"),
              code=Code("{a} - {b}", ("1", "-1")))
MUL = _binary("mul", "×", lambda a, b: a * b, lambda a, b, out: (b, a), ("b", "a"),
              code=Code("{a}*{b}", ("{b}", "{a}")))
DIV = _binary(
    "div",
    "÷",
    lambda a, b: a / b,
    lambda a, b, out: (1.0 / b, -out / b),
    ("1/b", "−a/b²"),
    requires=(Require("b ≠ 0", lambda a, b: b != 0, ZeroDivisionDomainError),),
    safe=((-3.0, 3.0), (0.2, 3.0)),
    code=Code("{a} / {b}", ("1 / {b}", "-{out} / {b}")),
)
POW = _binary(
    "pow",
    "**",
    lambda a, b: a**b,
    lambda a, b, out: (b * power(a, b - 1.0), out * log(a) if float(out) else 0.0),
    ("b·a^(b−1)", "a^b·ln a"),
    requires=(
        Require("a ≥ 0 (a Value exponent needs a non-negative base)", lambda a, b: a >= 0),
        Require("a ≠ 0 when b ≤ 0", lambda a, b: a != 0 or b > 0, ZeroDivisionDomainError),
    ),
    safe=((0.2, 3.0), (-2.0, 2.0)),
    code=Code("power({a}, {b})", ("{b} * power({a}, {b} - 1)", "xlogy({out}, {a})")),
)
NEG = _unary("neg", "−", lambda x: -x, lambda x, out: (-1.0,), "−1", code=Code("-{x}", ("-1",)))
EXP = _unary(
    "exp",
    "exp",
    math.exp,
    lambda x, out: (out,),
    "exp(x)",
    requires=(Require(f"x ≤ {EXP_MAX}", lambda x: x <= EXP_MAX, OverflowDomainError),),
    code=Code("exp({x})", ("{out}",)),
)
LOG = _unary(
    "log",
    "log",
    math.log,
    lambda x, out: (1.0 / x,),
    "1/x",
    requires=(Require("x > 0", lambda x: x > 0),),
    safe=((0.2, 5.0),),
    code=Code("log({x})", ("1 / {x}",)),
)
TANH = _unary("tanh", "tanh", math.tanh, lambda x, out: (1.0 - out * out,), "1 − out²",
              code=Code("tanh({x})", ("1 - {out}*{out}",)))
SIGMOID = _unary("sigmoid", "σ", sigmoid, lambda x, out: (out * (1.0 - out),), "out·(1 − out)",
                 code=Code("sigmoid({x})", ("{out} * (1 - {out})",)))
RELU = _unary(
    "relu",
    "relu",
    lambda x: x if x > 0 else 0.0,
    lambda x, out: (step(x),),
    "1 if x > 0 else 0",
    kinks=(0.0,),
    code=Code("relu({x})", ("({x} > 0)",)),
)
SOFTPLUS = _unary("softplus", "softplus", softplus, lambda x, out: (sigmoid(x),), "σ(x)",
                  code=Code("softplus({x})", ("sigmoid({x})",)))
SQRT = _unary(
    "sqrt",
    "√",
    math.sqrt,
    lambda x, out: (ratio(0.5, out),),
    "1/(2·out)",
    requires=(Require("x ≥ 0", lambda x: x >= 0),),
    safe=((0.2, 5.0),),
    code=Code("sqrt({x})", ("ratio(0.5, {out})",)),
)
ABS = _unary("abs", "abs", abs, lambda x, out: (sign(x),), "sign(x)", kinks=(0.0,),
             code=Code("abs({x})", ("sign({x})",)))
SIN = _unary("sin", "sin", math.sin, lambda x, out: (cos(x),), "cos(x)",
             code=Code("sin({x})", ("cos({x})",)))
COS = _unary("cos", "cos", math.cos, lambda x, out: (-sin(x),), "−sin(x)",
             code=Code("cos({x})", ("-sin({x})",)))


@_family("pow_const", {"p": 2.0}, {"p": 3.0}, {"p": -1.0}, {"p": 0.5}, {"p": -1.5})
def pow_const(p: float) -> Op:
    """x**p for a constant exponent p; local derivative p·x^(p−1)."""
    p = float(p)
    integral = p.is_integer()
    requires = [Require("x ≠ 0 for a negative exponent", lambda x: x != 0 or p >= 0,
                        ZeroDivisionDomainError)]
    if not integral:
        requires.insert(0, Require("x ≥ 0 for a non-integer exponent", lambda x: x >= 0))
    return Op(
        "pow_const",
        f"**{p:g}",
        ("x",),
        lambda x: x**p,
        lambda x, out: (0.0 if p == 0 else p * power(x, p - 1.0),),
        (f"{p:g}·x^{p - 1:g}",),
        requires=tuple(requires),
        safe=((-3.0, 3.0),) if integral and p >= 0 else ((0.2, 3.0),),
        params=(("p", p),),
        code=Code(f"power({{x}}, {_short(p)})", (
            "0.0" if p == 0 else "2 * {x}" if p == 2
            else f"{_short(p)} * power({{x}}, {_short(p - 1)})",
        )),
    )


@_family("leaky_relu", {"slope": 0.01}, {"slope": 0.2})
def leaky_relu(slope: float = 0.01) -> Op:
    """x for x > 0, slope·x otherwise; local derivative 1 or slope."""
    slope = float(slope)
    return Op(
        "leaky_relu",
        f"leaky_relu({slope:g})",
        ("x",),
        lambda x: x if x > 0 else slope * x,
        lambda x, out: (step(x, slope),),
        (f"1 if x > 0 else {slope:g}",),
        kinks=(0.0,),
        params=(("slope", slope),),
        code=Code(f"where({{x}} > 0, {{x}}, {literal(slope)}*{{x}})",
                  (f"where({{x}} > 0, 1.0, {literal(slope)})",)),
    )


SUM = register(
    Op("sum", "Σ", ("*",), lambda *xs: sum(xs), lambda *a: (1.0,) * (len(a) - 1), ("1",),
       code=Code(" + ", ("1",)))
)


@dataclass(frozen=True, eq=False)
class LinearOp(Op):
    """Σᵢ wᵢxᵢ + b as one node; local derivative xᵢ to wᵢ, wᵢ to xᵢ, 1 to b.

    Operands are the weight Values (when the weights are Values), then the input Values (when
    the inputs are Values), then the bias Value (when there is one). A side given as plain
    numbers has no edges; its numbers are the stored local derivatives of the other side.
    """

    def _sides(self, node, values: tuple) -> tuple[tuple, tuple, Any]:
        p = dict(self.params)
        n, wv, xv = int(p["n"]), p["weights"], p["inputs"]
        stored = node.local_grads
        w = values[:n] if wv else stored[:n]
        x = values[n * wv : n * wv + n] if xv else stored[:n]
        return w, x, values[-1] if p["bias"] else 0.0

    def evaluate(self, node, values: tuple):
        w, x, b = self._sides(node, values)
        return sum(wi * xi for wi, xi in zip(w, x)) + b

    def local_of(self, node, values: tuple, out) -> tuple:
        w, x, _ = self._sides(node, values)
        p = dict(self.params)
        return (tuple(x) if p["weights"] else ()) + (tuple(w) if p["inputs"] else ()) + (
            (1.0,) if p["bias"] else ()
        )

    def code_of(self, node, names: tuple[str, ...], out: str) -> tuple[str, tuple[str, ...]]:
        """``b + w0*x0 + w1*x1 + ...`` (the engine's order); a plain-number side is inlined."""
        w, x, b = self._sides(node, tuple(names))
        w, x = [n if isinstance(n, str) else literal(n) for n in w], [
            n if isinstance(n, str) else literal(n) for n in x]
        terms = [f"{wi}*{xi}" for wi, xi in zip(w, x)]
        p = dict(self.params)
        local = (tuple(x) if p["weights"] else ()) + (tuple(w) if p["inputs"] else ())
        return " + ".join(([b] if p["bias"] else []) + terms), local + (("1",) if p["bias"] else ())


@lru_cache(maxsize=1024)
def linear(n: int, weights: bool, inputs: bool, bias: bool) -> LinearOp:
    """The linear op for ``n`` terms; flags say which sides (and whether a bias) are Values."""
    return LinearOp(
        "linear",
        "linear",
        ("*",),
        lambda *xs: sum(xs[i] * xs[n + i] for i in range(n)) + (xs[2 * n] if bias else 0.0),
        lambda *a: tuple(a[n : 2 * n]) + tuple(a[:n]) + ((1.0,) if bias else ()),
        ("xᵢ (to wᵢ)", "wᵢ (to xᵢ)", "1 (to b)"),
        params=(("n", n), ("weights", weights), ("inputs", inputs), ("bias", bias)),
        code=Code(" + ", ()),
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
) -> Op:
    """Declare a user op with one or two operands and add it to the table.

    ``forward(x)`` or ``forward(a, b)`` works on floats; its parameter names name the operands.
    ``local(*operands, out)`` returns ∂out/∂operand for each operand (a bare number is
    accepted for one operand); written with ``+ − × ÷ **`` and this module's helpers
    (:func:`exp`, :func:`log`, :func:`sign`, ...), it also runs on Values. ``requires``:
    :class:`Require` or ``(text, predicate)`` pairs; ``safe``: per operand, the interval the
    property tests sample (default (−3, 3)); ``code``: its source templates (:class:`Code`),
    needed only by :func:`autograd.compile`. Apply it with ``autograd.apply(op, x)``; it
    draws, steps, checks and differentiates like a built-in op. Declaring a name again
    replaces an earlier user op (re-running a notebook cell); built-in names are refused.
    """
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

    old = OPS.get(name)
    if old is not None and not old.builtin:
        del OPS[name]
    return register(Op(
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
    ))


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
