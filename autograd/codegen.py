"""Code from the op table: an op's forward and local-derivative rule run on :class:`Expr`
(a float expression's source) give the source of the very float operations they do on floats,
in the same order, for :mod:`autograd.compiler` and :mod:`autograd.layered` alike. A forward that
reads its operands as floats (``math.atan``) is called by reference instead; a rule that
branches on the data with ``if`` cannot be written as code (:class:`Underivable`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

from . import ops
from .program import Local
from .value import Value


class CompileError(ValueError):
    """The graph cannot be turned into code; the message names the node."""


def escaped(text: object) -> str:
    """Text for a comment of a program: line breaks and every other unprintable character
    escaped as in ``repr``, so it cannot end the comment's line."""
    return repr(str(text))[1:-1]


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
        return _call_op(ops.POW, self, other) if _source_of(other) != "1" else self

    def __rpow__(self, other: Any) -> Expr:
        return _call_op(ops.POW, other, self)

    def __neg__(self) -> Expr:
        return Expr(f"-{self._operand(_UNARY)}", _UNARY)

    def __pos__(self) -> Expr:
        return self

    def __abs__(self) -> Expr:
        return _call_op(ops.ABS, self)

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
        return _call_op(ops.EXP, self)

    def log(self) -> Expr:
        return _call_op(ops.LOG, self)

    def sin(self) -> Expr:
        return _call_op(ops.SIN, self)

    def cos(self) -> Expr:
        return _call_op(ops.COS, self)

    def tanh(self) -> Expr:
        return _call_op(ops.TANH, self)

    def sigmoid(self) -> Expr:
        return _call_op(ops.SIGMOID, self)

    def sqrt(self) -> Expr:
        return _call_op(ops.SQRT, self)

    def relu(self) -> Expr:
        return _call_op(ops.RELU, self)

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


def _call_op(op: ops.Op, *args: Any) -> Expr:
    """A call of a built-in op's forward by its name in programs (``op.runtime.name``)."""
    assert op.runtime is not None, op  # every op a rule helper applies has one
    return _call(op.runtime.name, *args)


def as_local(d: Any) -> Local:
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
    return as_local(d).product


_derived: WeakKeyDictionary = WeakKeyDictionary()
CALL = "{call}"  # in a forward's source: the name a program calls the op's forward by


def _templates(op: ops.Op) -> tuple[str, tuple[Local, ...]]:
    """The op's forward and local derivatives as templates over ``{0}``, ``{1}`` (the
    operands) and ``{out}``: from its :class:`~autograd.ops.Code` where the entry gives it,
    else by running its forward and local rule on :class:`Expr` operands. A forward that
    cannot run on code is ``{call}(...)``: a call of the op's own forward, by the name the
    program gives it (:attr:`~autograd.plan.ScalarProgramPlan.calls`)."""
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
        elif op.forward in ops.CALLED_AS:
            forward = f"{ops.CALLED_AS[op.forward]}({', '.join(a.text for a in args)})"
        else:
            try:
                result = op.forward(*args)
            except Exception:  # it reads its operands as floats: called by reference
                result = None
            forward = (result.text if isinstance(result, Expr)
                       else f"{CALL}({', '.join(a.text for a in args)})")
        if code.local is not None:
            locals_ = tuple(as_local(t.format(**positional)) for t in code.local)
        else:
            derivatives = tuple(op.local(*args, out))
            if len(derivatives) != len(args):
                raise Underivable(f"its rule gives {len(derivatives)} derivatives for "
                                  f"{len(args)} operands")
            locals_ = tuple(map(as_local, derivatives))
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
    subs = dict(out=out, g="{g}", call=CALL)
    return forward.format(*names, **subs), tuple(
        Local(d.factor and d.factor.format(*names, **subs), d.product.format(*names, **subs))
        for d in locals_)


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
    return m is not None and _close(expr, m.end() - 1) == len(expr) - 1


def code_of(op: ops.Op, node: Value, names: Sequence[str], out: str) -> tuple[str, tuple]:
    """Source of ``node``'s forward (by ``op``) and of each edge's local derivative, from the
    operands' expressions ``names`` (one per edge) and the output's name ``out``: a linear
    node writes its own sum, another n-ary op joins its operands with its ``code``, any other
    op is derived from its entry (:func:`derive`). A sum starts from 0.0, as
    :func:`~autograd.ops.total` does (so a sum of −0.0 is 0.0); an n-ary op without ``code``
    calls its forward by reference, its local derivatives from its rule."""
    if isinstance(op, ops.LinearOp):
        return op.code_of(node, tuple(names), out)
    code = op.code
    if op.arity == -1 and code is not None and code.forward is not None and \
            code.local is not None:
        return code.forward.join(("0.0", *names)), code.local * len(names)
    if op.arity == -1:
        try:
            local = op.local(*map(Expr, names), Expr(out))
        except Underivable as err:
            raise CompileError(f"the op {op.name!r} cannot be compiled: {err}") from None
        return f"{CALL}({', '.join(names)})", tuple(map(as_local, local))
    return derive(op, names, out)
