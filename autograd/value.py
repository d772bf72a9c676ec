"""Value: one scalar node of a computation graph.

A Value holds ``data`` (a float), ``grad`` (∂root/∂self after ``backward``), the op that made
it and, for each parent edge, the parent and the local derivative ∂self/∂parent evaluated at
forward time. A node with one or two parents keeps them and their local derivatives in its
own slots (``_a, _da, _b, _db``), so it is one object for the garbage collector to track; an
n-ary node (sum, linear) keeps one interleaved tuple ``(parent₀, local₀, parent₁, ...)`` in
``_a`` and the marker ``NARY`` in ``_b``; a leaf has ``_a = None``. A node made micrograd's
way, ``Value(data, children, op)``, has no local derivatives: it is stored like an n-ary node
with ``None`` for each local and its ``_backward`` closure (once assigned) in ``_da``. Read
edges through :attr:`Value.parents`, :attr:`Value.local_grads`, :meth:`Value.edges` or
``_edges`` (the interleaved tuple, for any node).

Operators and methods come from the op table in :mod:`autograd.ops`. ``+`` and ``×`` are
written out by hand for speed; tests prove they equal the table's declaration.
"""

from __future__ import annotations

import builtins
import numbers
import sys as _sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from functools import lru_cache, partial
from operator import mul as _mul

from . import backward as _backward_module
from . import ops
from .backward import NARY
from .backward import backward as _backward
from .mode import is_grad_enabled as _enabled
from .ops import Op

Number = bool | int | float
Operand = "Value | Number"

_new = object.__new__
_builtin_sum = builtins.sum

TRACING: ContextVar[int] = ContextVar("autograd_transform_depth", default=0)
"""How many function transforms (autograd.functional) are calling their function now."""


def to_float(x: object, what: str = "Value data") -> float:
    """bool, int and float (and other real numbers such as NumPy's) become float; else TypeError."""
    if isinstance(x, float):
        return float(x)
    if isinstance(x, (int, numbers.Real)) and not isinstance(x, Value):
        return float(x)
    raise TypeError(f"{what} must be a bool, int or float, got {type(x).__name__}: {x!r}")


def _called_by_library() -> bool:
    """Whether the code that called ``float(value)`` is this library's own (autograd, nn)."""
    caller = _sys._getframe(2).f_globals.get("__name__", "")  # 0: here, 1: __float__
    return caller.partition(".")[0] in ("autograd", "nn")


class Value:
    """A scalar in a computation graph.

    ``Value(data, label=None)``: a leaf. Arithmetic with Values or plain numbers on either side
    (``+ - * / **``, unary ``-``, ``abs``) and the methods ``exp log tanh sigmoid relu
    leaky_relu softplus sqrt sin cos`` build new nodes. Plain-number operands of a binary op
    become constant leaves, so drawings show them. Values hash by identity; ``<``, ``>`` and
    friends compare ``data``.
    """

    __slots__ = ("data", "grad", "op", "label", "_a", "_da", "_b", "_db")

    def __init__(
        self,
        data: Number,
        _children: Iterable[Value] = (),
        _op: str = "",
        label: str | None = None,
    ) -> None:
        self.data = to_float(data)
        self.grad = 0.0
        self.op: Op | None = None
        self.label = label
        self._a = self._b = None
        if _children:
            _closure_node(self, tuple(_children), _op)

    @property
    def _edges(self) -> tuple:
        """All edges interleaved, ``(parent₀, local₀, parent₁, local₁, ...)``; () for a leaf."""
        b = self._b
        if b is None:
            a = self._a
            return () if a is None else (a, self._da)
        if b is NARY:
            return self._a
        return (self._a, self._da, b, self._db)

    # ------------------------------------------------------------------ graph structure
    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands this node was computed from, in order (``a + a`` lists ``a`` twice)."""
        return self._edges[0::2]

    @property
    def local_grads(self) -> tuple:
        """∂self/∂parent for each parent edge, evaluated at forward time."""
        return self._edges[1::2]

    def edges(self) -> Iterator[tuple[Value, float]]:
        """Pairs (parent, ∂self/∂parent), one per edge."""
        it = iter(self._edges)
        return zip(it, it)

    @property
    def is_leaf(self) -> bool:
        """True for inputs, parameters, constants and anything made under ``no_grad``."""
        return self._a is None

    # micrograd's names, so its graph-drawing snippets run unchanged
    @property
    def _prev(self) -> set[Value]:
        return set(self._edges[0::2])

    @property
    def _op(self) -> str:
        return self.op.symbol if self.op is not None else ""

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's one-node backward: calling it adds ``self.grad × local`` into each
        parent once (what ``backward()`` does at this node). On a node made as
        ``Value(data, children, op)`` it is the closure assigned to ``_backward``."""
        if self._b is NARY and self._a[1] is None:
            push = self._da
            return push if push is not None else partial(_missing_backward, self)
        return partial(_push, self)

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        if not (self._b is NARY and self._a[1] is None):
            raise AttributeError(
                "_backward can be assigned only on a node made as Value(data, children, op); "
                f"{self!r} gets its local derivatives from its op"
            )
        if not callable(fn):
            raise TypeError(f"_backward must be callable, got {type(fn).__name__}")
        self._da = fn

    # ------------------------------------------------------------------ micrograd, PyTorch
    def item(self) -> float:
        """``data`` as a float (PyTorch's ``tensor.item()``)."""
        return self.data

    def __format__(self, spec: str) -> str:
        """``format(v, ".4f")`` formats ``data``; an empty spec gives ``repr``."""
        return format(self.data, spec) if spec else repr(self)

    # ------------------------------------------------------------------ backward
    def backward(self, grad: float = 1.0) -> None:
        """Fill ``.grad`` of every node this one depends on with ∂self/∂node (times ``grad``).

        Interior nodes' grads are recomputed fresh on every call, so calling backward twice
        does not double them. Leaf grads accumulate across calls, as in PyTorch, until you
        zero them (``p.grad = 0.0`` or ``Module.zero_grad()``).
        """
        _backward(self, to_float(grad, "backward's grad"))

    def backward_steps(self, grad: float = 1.0) -> Iterator:
        """``backward`` one node at a time: yields a step record per node
        (:func:`autograd.trace.backward_steps`); consumed, it leaves the same grads."""
        from .trace import backward_steps

        return backward_steps(self, grad)

    # ------------------------------------------------------------------ display, numbers
    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label is not None else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        """``data``; but inside a function a transform (``grad(f)`` ...) is tracing, a
        TypeError: ``float(x)`` or ``math.exp(x)`` there would cut x out of the graph and
        silently make its gradient 0."""
        if TRACING.get() and not _called_by_library():
            raise TypeError(
                f"float() of {self!r} inside a function that grad/value_and_grad/jacobian/"
                "hessian is differentiating: this (and math.exp(x), math.sin(x), ...) makes a "
                "plain number, so no gradient would flow through it. Use the Value's methods "
                "(x.exp(), x.log(), x.sin(), x.tanh(), ...) or `from autograd import math`, "
                "whose functions take floats and Values; x.data reads the number on purpose"
            )
        return self.data

    def __lt__(self, other: Operand) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data(other)

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ hot paths
    def __add__(self, other: Operand) -> Value:
        """a + b; local derivatives 1, 1 (ops.ADD)."""
        if not isinstance(other, Value):
            other = _constant(other)
        out = _new(Value)
        out.data = self.data + other.data
        out.grad = 0.0
        out.label = None
        if _enabled():
            out._a = self
            out._da = 1.0
            out._b = other
            out._db = 1.0
            out.op = _ADD
        else:
            out._a = out._b = out.op = None
        return out

    def __mul__(self, other: Operand) -> Value:
        """a × b; local derivatives b, a (ops.MUL)."""
        if not isinstance(other, Value):
            other = _constant(other)
        a = self.data
        b = other.data
        out = _new(Value)
        out.data = a * b
        out.grad = 0.0
        out.label = None
        if _enabled():
            out._a = self
            out._da = b
            out._b = other
            out._db = a
            out.op = _MUL
        else:
            out._a = out._b = out.op = None
        return out

    def __radd__(self, other: Operand) -> Value:
        return _constant(other) + self

    def __rmul__(self, other: Operand) -> Value:
        return _constant(other) * self

    # ------------------------------------------------------------------ the rest of the table
    def __sub__(self, other: Operand) -> Value:
        return binary(ops.SUB, self, other)

    def __rsub__(self, other: Operand) -> Value:
        return binary(ops.SUB, other, self)

    def __truediv__(self, other: Operand) -> Value:
        return binary(ops.DIV, self, other)

    def __rtruediv__(self, other: Operand) -> Value:
        return binary(ops.DIV, other, self)

    def __pow__(self, other: Operand) -> Value:
        """x ** p: a constant exponent is part of the op (pow_const); a Value one is an operand."""
        if isinstance(other, Value):
            return binary(ops.POW, self, other)
        return unary(ops.pow_const(to_float(other, "the exponent")), self)

    def __rpow__(self, other: Operand) -> Value:
        return binary(ops.POW, other, self)

    def __neg__(self) -> Value:
        return unary(ops.NEG, self)

    def __abs__(self) -> Value:
        return unary(ops.ABS, self)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0 else slope·x; local derivative 1 or slope."""
        return unary(ops.leaky_relu(to_float(slope, "leaky_relu's slope")), self)


_ADD, _MUL = ops.ADD, ops.MUL


# ---------------------------------------------------------------------- micrograd's way
def _push(node: Value) -> None:
    """parent.grad += node.grad × local, once per edge (micrograd's ``_backward``)."""
    g = node.grad
    for parent, local in node.edges():
        parent.grad += g * local


def _missing_backward(node: Value) -> None:
    raise TypeError(
        f"{node!r} was made as Value(data, children, {node._op!r}) and has no local "
        "derivatives: assign a function to its _backward (micrograd style), or declare the op "
        "with autograd.declare"
    )


@lru_cache(maxsize=256)
def _closure_op(symbol: str) -> Op:
    """The op of nodes made as ``Value(data, children, symbol)``: shown as ``symbol``, with
    no rule for its local derivatives (its ``_backward`` closure does the pushing)."""

    def no_rule(*args: object) -> float:
        raise TypeError(
            f"the op {symbol!r} of a node made as Value(data, children, {symbol!r}) has only a "
            "_backward closure, no rule to evaluate or differentiate it again; declare it with "
            "autograd.declare for checks, compile and higher-order derivatives"
        )

    return Op(symbol or "_backward", symbol, ("*",), no_rule, no_rule, ("(_backward)",),
              builtin=False)


def _closure_node(node: Value, children: tuple, symbol: str) -> None:
    """Make ``node`` a micrograd-style node over ``children`` (under no_grad: a leaf)."""
    for child in children:
        if not isinstance(child, Value):
            raise TypeError(f"Value's children must be Values, got {type(child).__name__}")
    if not children or not _enabled():
        return
    node._a = interleave(children, (None,) * len(children))
    node._b = NARY
    node._da = None
    node.op = _closure_op(str(symbol))
    _backward_module.closures = True


_INLINE_UNARY: dict[str, Op] = {}  # methods that build their node inline (anomaly swaps them)


def _named(method, op: Op):
    method.__name__ = method.__qualname__ = op.name
    method.__doc__ = f"{op.name}(x); local derivative {op.derivative[0]}."
    return method


def _table_method(op: Op):
    """The method ``x.<op>()`` as ``unary(op, x)``, through ``make``."""
    return _named(lambda self: unary(op, self), op)


def _unary_method(op: Op):
    if op.requires:
        return _table_method(op)
    # no domain to check: ``unary`` and ``make`` inlined, the hot path of activations
    forward, local = op.forward, op.local
    _INLINE_UNARY[op.name] = op

    def method(self: Value) -> Value:
        v = self.data
        try:
            out = forward(v)
            (d,) = local(v, out)
        except (ArithmeticError, ValueError) as err:
            raise _failure(op, err, (self,)) from None
        node = _new(Value)
        node.data = out
        node.grad = 0.0
        node.label = None
        if _enabled():
            node._a = self
            node._da = d
            node._b = None
            node.op = op
        else:
            node._a = node._b = node.op = None
        return node

    return _named(method, op)


for _name in ("exp", "log", "tanh", "sigmoid", "relu", "softplus", "sqrt", "abs", "sin", "cos"):
    setattr(Value, _name, _unary_method(ops.OPS[_name]))


# ---------------------------------------------------------------------- building nodes
def _data(x: Operand) -> float:
    return x.data if isinstance(x, Value) else to_float(x)


def _constant(x: Operand) -> Value:
    """A plain number as a constant leaf (a Value passes through)."""
    if isinstance(x, Value):
        return x
    c = _new(Value)
    c.data = to_float(x, "an operand")
    c.grad = 0.0
    c._a = c._b = c.op = None
    c.label = None
    return c


def make(data: float, edges: tuple, op: Op) -> Value:
    """A node made by ``op`` with interleaved ``(parent, local, ...)`` edges.

    Under ``no_grad`` the result is a leaf that records nothing.
    """
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = None
    if not _enabled():
        out._a = out._b = out.op = None
        return out
    out.op = op
    n = len(edges)
    if n == 2:
        out._a, out._da = edges
        out._b = None
    elif n == 4:
        out._a, out._da, out._b, out._db = edges
    elif n:
        out._a = edges
        out._b = NARY
    else:
        out._a = out._b = None
    return out


def interleave(parents: Sequence[Value], local_grads: Sequence) -> tuple:
    """(p₀, l₀, p₁, l₁, ...) from parents and their local derivatives."""
    edges: list = [None] * (2 * len(parents))
    edges[0::2] = parents
    edges[1::2] = local_grads
    return tuple(edges)


def _error_type(err: BaseException) -> type[ops.DomainError]:
    if isinstance(err, ZeroDivisionError):
        return ops.ZeroDivisionDomainError
    if isinstance(err, OverflowError):
        return ops.OverflowDomainError
    return ops.DomainError


def _failure(op: Op, err: BaseException, nodes: Sequence[Value]) -> ops.DomainError:
    values = [x.data for x in nodes]
    return _error_type(err)(op.describe_failure(str(err), nodes, values))


def unary(op: Op, x: Value) -> Value:
    """Apply a one-operand table op to a Value: check the domain, forward, record the edge."""
    v = x.data
    if op.requires:
        op.check((x,), (v,))
    try:
        out = op.forward(v)
        (local,) = op.local(v, out)
    except (ArithmeticError, ValueError) as err:
        raise _failure(op, err, (x,)) from None
    if not op.builtin:
        out, local = to_float(out, f"{op.name}'s result"), float(local)
    return make(out, (x, local), op)


def binary(op: Op, a: Operand, b: Operand) -> Value:
    """Apply a two-operand table op; plain-number operands become constant leaves."""
    if not isinstance(a, Value):
        a = _constant(a)
    if not isinstance(b, Value):
        b = _constant(b)
    u, v = a.data, b.data
    if op.requires:
        op.check((a, b), (u, v))
    try:
        out = op.forward(u, v)
        du, dv = op.local(u, v, out)
    except (ArithmeticError, ValueError) as err:
        raise _failure(op, err, (a, b)) from None
    if not op.builtin:
        out, du, dv = to_float(out, f"{op.name}'s result"), float(du), float(dv)
    return make(out, (a, du, b, dv), op)


def apply(op: Op, *operands: Operand) -> Value:
    """Apply a one- or two-operand table op to Values or plain numbers."""
    if len(operands) == 1:
        return unary(op, _constant(operands[0]))
    if len(operands) == 2:
        return binary(op, *operands)
    raise TypeError(f"{op.name} takes {len(op.operands)} operands, got {len(operands)}")


# ---------------------------------------------------------------------- n-ary nodes
def sum(values: Iterable[Operand], start: Operand = 0.0) -> Value:  # noqa: A001
    """Σ values (+ start) as ONE node with local derivative 1 on each edge.

    Plain numbers among the values (and a non-zero plain ``start``) become constant leaves.
    """
    items = list(values)
    if isinstance(start, Value) or to_float(start, "sum's start") != 0.0:
        items.insert(0, start)
    nodes = [_constant(x) for x in items]
    if not nodes:
        return Value(0.0)
    total = 0.0
    for x in nodes:
        total += x.data
    return make(total, interleave(nodes, (1.0,) * len(nodes)), ops.SUM)


def _side(seq: Sequence[Operand], what: str) -> tuple[list[float], Sequence[Value] | None]:
    """Data of a linear side and its Values (None when the side is all plain numbers)."""
    data = [v.data for v in seq if type(v) is Value]
    if len(data) == len(seq):
        return data, seq
    if not data:
        floats = [v for v in seq if type(v) is float]
        if len(floats) == len(seq):
            return floats, None
    if not any(isinstance(v, Value) for v in seq):
        return [to_float(v, f"linear's {what}") for v in seq], None
    nodes = [_constant(v) for v in seq]
    return [v.data for v in nodes], nodes


def linear(weights: Sequence[Operand], inputs: Sequence[Operand], bias: Operand = 0.0) -> Value:
    """Σᵢ wᵢxᵢ + b as ONE node (a neuron's pre-activation).

    Local derivatives: xᵢ to wᵢ, wᵢ to xᵢ, 1 to b. A side given as plain numbers (typically
    the inputs) gets no edges, unless both sides are (then, next to a bias, the inputs become
    constant leaves); a non-zero plain-number bias becomes a constant leaf. The sum
    runs b + w₀x₀ + w₁x₁ + ..., the order micrograd's neuron uses.
    """
    return _linear_rows((weights,), inputs, (bias,))[0]


def linear_layer(
    weights: Sequence[Sequence[Operand]],
    inputs: Sequence[Operand],
    biases: Sequence[Operand] | None = None,
) -> list[Value]:
    """A layer's pre-activations: ``[linear(w, inputs, b) for w, b in zip(weights, biases)]``,
    one linear node per row of ``weights``, reading the shared inputs once.

    ``biases`` defaults to no bias on every row.
    """
    if biases is None:
        biases = (0.0,) * len(weights)
    elif len(biases) != len(weights):
        raise ValueError(f"linear_layer: {len(weights)} rows of weights but {len(biases)} biases")
    return _linear_rows(weights, inputs, biases)


def _linear_rows(rows: Sequence, inputs: Sequence[Operand], biases: Sequence) -> list[Value]:
    """One linear node per (row, bias).

    Edges are (wᵢ, xᵢ)... then (xᵢ, wᵢ)... then (b, 1), for the sides that are Values. The
    input side is read once; the common case (Value weights and bias) fills a copy of a
    template that already holds the input edges.
    """
    xd, xn = _side(inputs, "inputs")
    n = len(xd)
    m = 2 * n
    at_bias = 2 * m if xn is not None else m  # where the bias edge goes
    template: list = [1.0] * (at_bias + 2)
    if xn is not None:
        template[m : 2 * m : 2] = xn
    op = ops.linear(n, True, xn is not None, True)
    out = []
    for weights, bias in zip(rows, biases):
        if len(weights) != n:
            raise ValueError(f"linear: {len(weights)} weights but {n} inputs")
        wd, wn = _side(weights, "weights")
        if wn is weights and type(bias) is Value:  # every weight a Value, and the bias
            edges = template.copy()
            edges[0:m:2] = weights
            edges[1:m:2] = xd
            if xn is not None:
                edges[m + 1 : 2 * m : 2] = wd
            edges[at_bias] = bias
            out.append(make(_builtin_sum(map(_mul, wd, xd), bias.data), tuple(edges), op))
        else:
            out.append(_linear(wd, wn, xd, xn, bias))
    return out


def _linear(
    wd: list[float],
    wn: Sequence[Value] | None,
    xd: list[float],
    xn: Sequence[Value] | None,
    bias: Operand,
) -> Value:
    """The linear node of one row from both sides as read by :func:`_side`; any bias."""
    n = len(xd)
    if not isinstance(bias, Value) and to_float(bias, "linear's bias") != 0.0:
        bias = _constant(bias)
    has_bias = isinstance(bias, Value)
    if has_bias and wn is None and xn is None:  # the products must live in the graph too
        xn = [_constant(x) for x in xd]
    total = _builtin_sum(map(_mul, wd, xd), bias.data if has_bias else 0.0)
    edges: list = [1.0] * (2 * (n * (wn is not None) + n * (xn is not None) + has_bias))
    i = 0
    for nodes, local in ((wn, xd), (xn, wd)):
        if nodes is not None:
            edges[i : i + 2 * n : 2] = nodes
            edges[i + 1 : i + 2 * n : 2] = local
            i += 2 * n
    if has_bias:
        edges[i] = bias
    if not edges:
        return Value(total)
    op = ops.linear(n, wn is not None, xn is not None, has_bias)
    return make(total, tuple(edges), op)
