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

Operators and methods come from the op table in :mod:`autograd.ops`: each entry says how it
reads on Value (``op.method``, ``op.operator`` with its reflected form, a family's method or
constant operand). A built-in entry's function is plain code with its rules written in
(``x + y`` runs ``out = a + b``), generated from ``ops.py`` into a block of this file by
``python -m autograd ops --write``, which also writes the class's typed declarations (for
mypy and editors); a test fails when either block is stale. Any other entry (a family's, or
one registered later with ``autograd.extend.declare``, which gets its method at once) is
applied by a closure over the entry that calls its forward and local rule.
``inspect.getsource`` shows either.
"""

from __future__ import annotations

import copy
import inspect
import sys as _sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from functools import lru_cache, partial
from typing import Any, ClassVar, TypeAlias, cast

from . import ops
from .backward import backward as _backward
from .backward import note_closure_nodes, topological_order
from .mode import is_grad_enabled as _enabled
from .ops import Op, dot, to_float
from .trace import backward_steps

Number = bool | int | float
Operand: TypeAlias = "Value | Number"

_new = object.__new__

NARY = object()
"""In ``Value._b``: the node's edges are the interleaved tuple in ``_a`` (sum, linear, a
micrograd-style node). Code that knows no Value class reads it as ``node._nary``."""

TRACING: ContextVar[int] = ContextVar("autograd_transform_depth", default=0)
"""How many function transforms (autograd.functional) are calling their function now."""


def _called_by_library() -> bool:
    """Whether the code that called ``float(value)`` is this library's own (autograd, nn)."""
    caller = _sys._getframe(2).f_globals.get("__name__", "")  # 0: here, 1: __float__
    return caller.partition(".")[0] in ("autograd", "nn")


def to_label(label: object) -> str:
    """A label as stored: a string, "" for none (None gives "", other objects ``str``)."""
    return "" if label is None else label if type(label) is str else str(label)


class Value:
    """A scalar in a computation graph.

    ``Value(data, label="")``: a leaf (with ``requires_grad=False``, a constant). Arithmetic
    with Values or plain numbers on either side (``+ - * / **``, unary ``-``, ``abs``) and a
    method per op of the table (``x.tanh()``, ``x.leaky_relu(0.2)``; ``python -m autograd
    ops`` lists them) build new nodes.
    Plain-number operands of a binary op become constant leaves, so drawings show them.
    Values hash by identity; ``<``, ``>`` and friends compare ``data``.
    """

    __slots__ = ("data", "grad", "op", "_label", "_a", "_da", "_b", "_db", "_tangent")
    data: float
    grad: Any  # a float (a Value only where a user puts one)
    op: Op | None
    _label: str | None
    _a: Any  # the layout's slots: see the module docstring
    _da: Any
    _b: Any
    _db: Any
    _tangent: float | None  # forward mode's per-pass scratch (autograd.forward)
    _nary = NARY

    def __init__(
        self,
        data: Number,
        _children: Iterable[Value] = (),
        _op: str = "",
        label: str = "",
        requires_grad: bool = True,
    ) -> None:
        self.data = to_float(data)
        self.grad = 0.0
        self.op = None
        self.label = label
        self._a = self._b = None
        if _children:
            _closure_node(self, tuple(_children), _op)
        if not requires_grad:
            self.requires_grad_(False)

    @property
    def label(self) -> str:
        """A name for drawings, traces and error messages; "" for none, as micrograd's (so
        a node an op makes has ""). Anything else is converted with ``str`` when assigned,
        None to ""."""
        return self._label or ""

    @label.setter
    def label(self, label: object) -> None:
        self._label = to_label(label)

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
    def backward(self, grad: float = 1.0, retain_graph: bool | None = None) -> None:
        """Fill ``.grad`` of every node this one depends on with ∂self/∂node (times ``grad``).

        Interior nodes' grads are recomputed fresh on every call, so calling backward twice
        does not double them. Leaf grads accumulate across calls, as in PyTorch, until you
        zero them (``p.grad = 0.0`` or ``Module.zero_grad()``). ``retain_graph`` is accepted
        for PyTorch's habit and changes nothing: the graph is never freed.
        """
        _backward(self, to_float(grad, "backward's grad"))

    def detach(self) -> Value:
        """A new constant leaf with the same ``data`` and label, outside the graph (PyTorch's
        ``detach``): no gradient flows through it or into it (``requires_grad`` is False)."""
        return Value(self.data, label=self.label, requires_grad=False)

    @property
    def grad_fn(self) -> Op | None:
        """PyTorch's ``grad_fn``: the op table's entry that made this node (``.name`` is
        ``"mul"``, ``.derivative`` its local derivatives), None for a leaf."""
        return self.op

    @property
    def requires_grad(self) -> bool:
        """PyTorch's flag: False for a constant leaf (``Value(x, requires_grad=False)``,
        ``detach()``), whose ``grad`` backward leaves at 0.0, and for a node computed from
        constants only (found by a walk that stops at the first other leaf); else True.
        Plain numbers in an op and results made under ``no_grad`` are ordinary leaves (True).
        Assigning it calls :meth:`requires_grad_`."""
        if self._a is None:
            return type(self) is not Constant
        seen: set[Value] = set()
        stack = [self]
        while stack:
            for parent in stack.pop()._edges[0::2]:
                if parent not in seen:
                    seen.add(parent)
                    if parent._a is not None:
                        stack.append(parent)
                    elif type(parent) is not Constant:
                        return True
        return False

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Value:
        """Make this leaf a constant (False: ``backward`` leaves its ``grad`` at 0.0) or an
        ordinary leaf again (True, with ``grad`` 0.0); returns it, as PyTorch. A node an op
        made keeps recording: asking it to change is a ValueError (``detach()`` it)."""
        flag = bool(requires_grad)
        if flag == self.requires_grad:
            return self
        if self._a is not None or type(self) not in (Value, Constant):
            what = f"made by {self.op!r}" if self.op is not None else type(self).__name__
            raise ValueError(f"requires_grad_({flag}) on {self!r}, {what}: only a Value leaf's "
                             "flag changes (use detach() for a constant copy of this node)")
        self.__class__ = _leaf_class[flag]
        self.grad = 0.0  # (a no-op on a constant)
        return self

    def retain_grad(self) -> None:
        """PyTorch's ``retain_grad``: nothing to do, every node keeps its ``.grad``."""

    def backward_steps(self, grad: float = 1.0) -> Iterator:
        """``backward`` one node at a time: yields a step record per node
        (:func:`autograd.trace.backward_steps`); consumed, it leaves the same grads."""
        return backward_steps(self, grad)

    # ------------------------------------------------------------------ copies
    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """``copy.deepcopy``: a new graph with the same data, grads, labels and edges (ops
        are table entries, shared), made parents first without recursion, so a chain of any
        depth copies. A micrograd-style ``_backward`` closure is deep-copied as Python copies
        functions: it is shared, and still pushes into the nodes it was written for."""
        for node in topological_order(self):
            if id(node) not in memo:
                twin = _new(type(node))
                for name in _slot_names(type(node)):
                    if hasattr(node, name):
                        setattr(twin, name, _copied(getattr(node, name), memo))
                memo[id(node)] = twin
        return memo[id(self)]

    # ------------------------------------------------------------------ display, numbers
    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        constant = ", requires_grad=False" if type(self) is Constant else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label}{constant})"

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
        return self.data < _data_of(other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data_of(other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data_of(other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data_of(other)

    __hash__ = object.__hash__

    # ---- generated from the op table by `python -m autograd ops --write`; do not edit
    __add__: ClassVar[Callable[[Value, Value | float], Value]]  # add; ∂: 1; 1
    __radd__: ClassVar[Callable[[Value, Value | float], Value]]  # add; ∂: 1; 1
    __sub__: ClassVar[Callable[[Value, Value | float], Value]]  # sub; ∂: 1; −1
    __rsub__: ClassVar[Callable[[Value, Value | float], Value]]  # sub; ∂: 1; −1
    __mul__: ClassVar[Callable[[Value, Value | float], Value]]  # mul; ∂: b; a
    __rmul__: ClassVar[Callable[[Value, Value | float], Value]]  # mul; ∂: b; a
    __truediv__: ClassVar[Callable[[Value, Value | float], Value]]  # div; ∂: 1/b; −a/b²
    __rtruediv__: ClassVar[Callable[[Value, Value | float], Value]]  # div; ∂: 1/b; −a/b²
    __pow__: ClassVar[Callable[[Value, Value | float], Value]]  # pow; ∂: b·a^(b−1); a^b·ln a
    __rpow__: ClassVar[Callable[[Value, Value | float], Value]]  # pow; ∂: b·a^(b−1); a^b·ln a
    neg: ClassVar[Callable[[Value], Value]]  # neg; ∂: −1
    __neg__: ClassVar[Callable[[Value], Value]]  # neg; ∂: −1
    exp: ClassVar[Callable[[Value], Value]]  # exp; ∂: exp(x)
    log: ClassVar[Callable[[Value], Value]]  # log; ∂: 1/x
    tanh: ClassVar[Callable[[Value], Value]]  # tanh; ∂: 1 − out²
    sigmoid: ClassVar[Callable[[Value], Value]]  # sigmoid; ∂: out·(1 − out)
    relu: ClassVar[Callable[[Value], Value]]  # relu; ∂: 0 (a mask) if x ≤ 0 else 1
    softplus: ClassVar[Callable[[Value], Value]]  # softplus; ∂: σ(x)
    sqrt: ClassVar[Callable[[Value], Value]]  # sqrt; ∂: 1/(2·out)
    abs: ClassVar[Callable[[Value], Value]]  # abs; ∂: sign(x)
    __abs__: ClassVar[Callable[[Value], Value]]  # abs; ∂: sign(x)
    sin: ClassVar[Callable[[Value], Value]]  # sin; ∂: cos(x)
    cos: ClassVar[Callable[[Value], Value]]  # cos; ∂: −sin(x)
    leaky_relu: ClassVar[Callable[..., Value]]  # x.leaky_relu(slope=0.01)
    clamp: ClassVar[Callable[..., Value]]  # x.clamp(lo, hi)
    # ---- end of the generated declarations


class Constant(Value):
    """A leaf that backward leaves alone (``Value(x, requires_grad=False)``): its ``grad``
    reads 0.0 and ignores writes. Only such leaves pay for the check; ordinary nodes are
    plain Values."""

    __slots__ = ()

    @property  # type: ignore[override]
    def grad(self) -> float:
        return 0.0

    @grad.setter
    def grad(self, value: object) -> None:
        pass


_leaf_class: dict[bool, type[Value]] = {True: Value, False: Constant}


# ---------------------------------------------------------------------- copies
@lru_cache(maxsize=16)
def _slot_names(cls: type) -> tuple[str, ...]:
    """Every slot of ``cls`` and its bases (a Value subclass may add some)."""
    return tuple(name for c in cls.__mro__ for name in c.__dict__.get("__slots__", ()))


def _copied(x: Any, memo: dict[int, Any]) -> Any:
    """A slot's content in a deep copy whose parents are copied already (in ``memo``)."""
    if x is None or x is NARY or isinstance(x, (float, str, Op)):
        return x
    if type(x) is tuple:  # an n-ary node's interleaved edges
        return tuple(_copied(item, memo) for item in x)
    return memo[id(x)] if id(x) in memo else copy.deepcopy(x, memo)


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

    def no_rule(*args: object) -> Any:
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
    note_closure_nodes()


# ---------------------------------------------------------------------- methods from the table
_recorder: Callable | None = None
"""``record(node, op, operands)`` applied to every node a table op makes (None: nothing);
set through :func:`record_nodes`."""


def _unary(op: Op) -> Callable[[Value], Value]:
    """``x.<op>()``: calls the entry's forward and local rule on ``x.data`` (refusing what its
    domain refuses) and records the node."""
    forward, local, check, builtin = op.forward, op.local, op.check, op.builtin
    requires = bool(op.requires)
    what = f"{op.name}'s result"

    def method(self: Value) -> Value:
        x = self.data
        if requires:
            check((self,), (x,))
        try:
            out = forward(x)
            (d,) = local(x, out)
        except (ArithmeticError, ValueError) as err:
            raise _failure(op, err, (self,)) from None
        if not builtin:  # a user's rule may return ints
            out, d = to_float(out, what), float(d)
        node = _new(Value)
        node.data = out
        node.grad = 0.0
        node._label = None
        if _enabled():
            node._a = self
            node._da = d
            node._b = None
            node.op = op
        else:
            node._a = node._b = node.op = None
        return node

    return method


def _binary(op: Op) -> Callable[[Value, Operand], Value]:
    """``a.<op>(b)`` (and its operator): a plain-number ``b`` becomes a constant leaf; calls the
    entry's forward and local rule on the operands' data and records the node."""
    forward, local, check, builtin = op.forward, op.local, op.check, op.builtin
    requires = bool(op.requires)
    what = f"{op.name}'s result"

    def method(self: Value, other: Operand) -> Value:
        if not isinstance(other, Value):
            other = _constant(other)
        a = self.data
        b = other.data
        if requires:
            check((self, other), (a, b))
        try:
            out = forward(a, b)
            da, db = local(a, b, out)
        except (ArithmeticError, ValueError) as err:
            raise _failure(op, err, (self, other)) from None
        if not builtin:  # a user's rule may return ints
            out, da, db = to_float(out, what), float(da), float(db)
        node = _new(Value)
        node.data = out
        node.grad = 0.0
        node._label = None
        if _enabled():
            node._a = self
            node._da = da
            node._b = other
            node._db = db
            node.op = op
        else:
            node._a = node._b = node.op = None
        return node

    return method


# ---- methods generated from ops.py by `python -m autograd ops --write`; do not edit
def add(self: Value, other: Operand) -> Value:
    """add(a, b); local derivative 1; 1."""
    if not isinstance(other, Value):
        other = _constant(other)
    a = self.data
    b = other.data
    try:
        out = a + b
        da, db = 1.0, 1.0
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.ADD, err, (self, other)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = da
        node._b = other
        node._db = db
        node.op = ops.ADD
    else:
        node._a = node._b = node.op = None
    return node


def sub(self: Value, other: Operand) -> Value:
    """sub(a, b); local derivative 1; −1."""
    if not isinstance(other, Value):
        other = _constant(other)
    a = self.data
    b = other.data
    try:
        out = a - b
        da, db = 1.0, -1.0
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.SUB, err, (self, other)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = da
        node._b = other
        node._db = db
        node.op = ops.SUB
    else:
        node._a = node._b = node.op = None
    return node


def mul(self: Value, other: Operand) -> Value:
    """mul(a, b); local derivative b; a."""
    if not isinstance(other, Value):
        other = _constant(other)
    a = self.data
    b = other.data
    try:
        out = a * b
        da, db = b, a
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.MUL, err, (self, other)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = da
        node._b = other
        node._db = db
        node.op = ops.MUL
    else:
        node._a = node._b = node.op = None
    return node


def div(self: Value, other: Operand) -> Value:
    """div(a, b); local derivative 1/b; −a/b²."""
    if not isinstance(other, Value):
        other = _constant(other)
    a = self.data
    b = other.data
    ops.DIV.check((self, other), (a, b))
    try:
        out = ops.ratio(a, b)
        da, db = ops.ratio(1.0, b), ops.ratio(-out, b)
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.DIV, err, (self, other)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = da
        node._b = other
        node._db = db
        node.op = ops.DIV
    else:
        node._a = node._b = node.op = None
    return node


def pow_(self: Value, other: Operand) -> Value:
    """pow(a, b); local derivative b·a^(b−1); a^b·ln a."""
    if not isinstance(other, Value):
        other = _constant(other)
    a = self.data
    b = other.data
    ops.POW.check((self, other), (a, b))
    try:
        out = ops.POW.forward(a, b)
        da, db = ops.POW.local(a, b, out)
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.POW, err, (self, other)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = da
        node._b = other
        node._db = db
        node.op = ops.POW
    else:
        node._a = node._b = node.op = None
    return node


def neg(self: Value) -> Value:
    """neg(x); local derivative −1."""
    x = self.data
    try:
        out = -x
        d = -1.0
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.NEG, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.NEG
    else:
        node._a = node._b = node.op = None
    return node


def exp(self: Value) -> Value:
    """exp(x); local derivative exp(x)."""
    x = self.data
    try:
        out = ops.EXP.forward(x)
        d = out
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.EXP, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.EXP
    else:
        node._a = node._b = node.op = None
    return node


def log(self: Value) -> Value:
    """log(x); local derivative 1/x."""
    x = self.data
    ops.LOG.check((self,), (x,))
    try:
        out = ops.LOG.forward(x)
        d = ops.ratio(1.0, x)
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.LOG, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.LOG
    else:
        node._a = node._b = node.op = None
    return node


def tanh(self: Value) -> Value:
    """tanh(x); local derivative 1 − out²."""
    x = self.data
    try:
        out = ops.TANH.forward(x)
        d = 1.0 - out * out
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.TANH, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.TANH
    else:
        node._a = node._b = node.op = None
    return node


def sigmoid(self: Value) -> Value:
    """sigmoid(x); local derivative out·(1 − out)."""
    x = self.data
    try:
        out = ops.SIGMOID.forward(x)
        d = out * (1.0 - out)
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.SIGMOID, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.SIGMOID
    else:
        node._a = node._b = node.op = None
    return node


def relu(self: Value) -> Value:
    """relu(x); local derivative 0 (a mask) if x ≤ 0 else 1."""
    x = self.data
    try:
        out = ops.RELU.forward(x)
        d = ops.where(x <= 0, ops.MASK, 1.0)
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.RELU, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.RELU
    else:
        node._a = node._b = node.op = None
    return node


def softplus(self: Value) -> Value:
    """softplus(x); local derivative σ(x)."""
    x = self.data
    try:
        out = ops.SOFTPLUS.forward(x)
        d = ops.sigmoid(x)
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.SOFTPLUS, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.SOFTPLUS
    else:
        node._a = node._b = node.op = None
    return node


def sqrt(self: Value) -> Value:
    """sqrt(x); local derivative 1/(2·out)."""
    x = self.data
    ops.SQRT.check((self,), (x,))
    try:
        out = ops.SQRT.forward(x)
        d = ops.ratio(0.5, out)
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.SQRT, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.SQRT
    else:
        node._a = node._b = node.op = None
    return node


def abs_(self: Value) -> Value:
    """abs(x); local derivative sign(x)."""
    x = self.data
    try:
        out = abs(x)
        d = ops.sign(x)
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.ABS, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.ABS
    else:
        node._a = node._b = node.op = None
    return node


def sin(self: Value) -> Value:
    """sin(x); local derivative cos(x)."""
    x = self.data
    try:
        out = ops.SIN.forward(x)
        d = ops.cos(x)
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.SIN, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.SIN
    else:
        node._a = node._b = node.op = None
    return node


def cos(self: Value) -> Value:
    """cos(x); local derivative −sin(x)."""
    x = self.data
    try:
        out = ops.COS.forward(x)
        d = -ops.sin(x)
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.COS, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.COS
    else:
        node._a = node._b = node.op = None
    return node


_GENERATED: dict[Op, Callable[..., Value]] = {
    ops.ADD: add,
    ops.SUB: sub,
    ops.MUL: mul,
    ops.DIV: div,
    ops.POW: pow_,
    ops.NEG: neg,
    ops.EXP: exp,
    ops.LOG: log,
    ops.TANH: tanh,
    ops.SIGMOID: sigmoid,
    ops.RELU: relu,
    ops.SOFTPLUS: softplus,
    ops.SQRT: sqrt,
    ops.ABS: abs_,
    ops.SIN: sin,
    ops.COS: cos,
}
"""The functions above by entry (the entries' methods and operators)."""
# ---- end of the generated methods


def _maker(op: Op, record: Callable | None) -> Callable:
    """The function that applies ``op`` to Values: ``f(x)`` or ``f(a, b)`` (a plain-number
    ``b`` becomes a constant leaf). A built-in entry's is generated above (its rules written
    in, ``_GENERATED``); any other entry's is a closure over it that calls its rules. With
    ``record``, each node it makes goes through ``record(node, op, operands)``."""
    f: Callable[..., Value] | None = _GENERATED.get(op)
    if f is None:
        if op.arity == 1:
            f = _unary(op)
        elif op.arity == 2:
            f = _binary(op)
        else:
            raise TypeError(f"{op.name}: only one- and two-operand ops are applied to Values")
        _name(f, op)
    if record is not None:
        made = f

        def recorded(*operands: Value) -> Value:
            return record(made(*operands), op, operands)

        f = _name(recorded, op)
    return f


def method_doc(op: Op) -> str:
    """The docstring of the function that applies ``op``: ``tanh(x); local derivative 1 − out².``"""
    return f"{op.name}({', '.join(op.operands)}); local derivative {'; '.join(op.derivative)}."


def _name(f: Callable, op: Op) -> Callable:
    """``f`` named after ``op``, with its docstring."""
    f.__name__ = f.__qualname__ = op.name
    f.__doc__ = method_doc(op)
    return f


_method = lru_cache(maxsize=1024)(_maker)  # by op identity, and recorder


def _reflected(f: Callable) -> Callable:
    """``other ∘ self`` for a reflected operator (``1 - x`` is ``x.__rsub__(1)``)."""

    def reflected(self: Value, other: Operand) -> Value:
        return f(_constant(other), self)

    reflected.__name__ = reflected.__qualname__ = "r" + f.__name__
    return reflected


def _family_method(name: str, factory: Callable[..., Op], record: Callable | None) -> Callable:
    """``x.<family>(params)``: the family's op for these constants, applied to x."""
    signature = inspect.signature(factory)

    def method(self: Value, *args: Number, **kwargs: Number) -> Value:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        params = [to_float(v, f"{name}'s {k}") for k, v in bound.arguments.items()]
        return _method(factory(*params), record)(self)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"{name}(x, {', '.join(signature.parameters)}): {factory.__doc__}"
    return method


def _constant_operator(factory: Callable[..., Op], general: Op, record: Callable | None):
    """``x ** p``: a plain-number right operand is the family's constant, a Value one an
    operand of the general op."""
    (param,) = tuple(inspect.signature(factory).parameters)
    general_method = _method(general, record)

    def operator(self: Value, other: Operand) -> Value:
        if isinstance(other, Value):
            return general_method(self, other)
        return _method(factory(to_float(other, f"{general.name}'s {param}")), record)(self)

    operator.__name__ = operator.__qualname__ = general.name
    operator.__doc__ = general_method.__doc__
    return operator


@lru_cache(maxsize=1024)
def _op_methods(op: Op, record: Callable | None) -> dict[str, Callable]:
    """The methods and operators one entry gives Value, by attribute name (the same function
    objects each time)."""
    methods: dict[str, Callable] = {}
    if op.arity == -1:
        return methods
    f = _method(op, record)
    if op.method:
        methods[op.method] = f
    if op.operator:
        methods[f"__{op.operator}__"] = f
        if op.arity == 2:
            methods[f"__r{op.operator}__"] = _reflected(f)
    return methods


@lru_cache(maxsize=4)
def _family_methods(record: Callable | None) -> dict[str, Callable]:
    """The families' methods (``x.leaky_relu(slope)``) and constant operands (``x ** 2.0``)."""
    methods: dict[str, Callable] = {}
    for name, (factory, _) in ops.FAMILIES.items():
        general = ops.FAMILY_CONSTANT_OF.get(name)
        if general is None:
            methods[name] = _family_method(name, factory, record)
        else:
            general_op = ops.OPS[general]
            methods[f"__{general_op.operator}__"] = _constant_operator(factory, general_op, record)
    return methods


_MADE: set[str] = set()  # the attribute names of Value that the table's makers set


def _add_methods(op: Op) -> None:
    """Give Value the methods of ``op`` (called by the table for every entry it registers,
    before the entry goes in: a name Value already uses for something else is refused)."""
    methods = _op_methods(op, _recorder)
    for name in methods:
        if name not in _MADE and hasattr(Value, name):
            raise ValueError(f"an op named {op.name!r} would replace Value.{name}; "
                             "choose another name")
    for name, method in methods.items():
        setattr(Value, name, method)
        _MADE.add(name)


def refresh_methods() -> None:
    """Make Value's table methods those of the table as it is now: the methods of entries
    taken out of ``ops.OPS`` go, a replaced entry's methods return (the same function objects
    as before for an unchanged entry)."""
    for name in _MADE:
        if name in Value.__dict__:
            delattr(Value, name)
    _MADE.clear()
    _install_makers(_recorder)


def _install_makers(record: Callable | None) -> None:
    global _recorder
    _recorder = record
    for op in ops.OPS.values():
        _add_methods(op)
    for name, method in _family_methods(record).items():
        setattr(Value, name, method)
        _MADE.add(name)


def record_nodes(record: Callable | None) -> None:
    """The hook for watching every node an op makes (``detect_anomaly`` uses it):
    ``record(node, op, operands)`` runs on each new node, and what it returns is the result.
    The methods and operators are made again with the hook in; ``None`` puts the plain ones
    back, the very functions as before (so it costs nothing when off)."""
    _install_makers(record)


# ---------------------------------------------------------------------- building nodes
def _data_of(x: Operand) -> float:
    return x.data if isinstance(x, Value) else to_float(x)


def _constant(x: Operand) -> Value:
    """A plain number as a constant leaf (a Value passes through)."""
    if isinstance(x, Value):
        return x
    c = _new(Value)
    c.data = to_float(x, "an operand")
    c.grad = 0.0
    c._a = c._b = c.op = None
    c._label = None
    return c


def make(data: float, edges: tuple, op: Op) -> Value:
    """A node made by ``op`` with interleaved ``(parent, local, ...)`` edges (passed through
    the :func:`record_nodes` hook when one is set).

    Under ``no_grad`` the result is a leaf that records nothing.
    """
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._label = None
    if _enabled():
        out.op = op
        n = len(edges)
    else:
        out.op = None
        n = 0
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
    if _recorder is not None:
        return _recorder(out, op, edges[0::2])
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


def apply(op: Op, *operands: Operand) -> Value:
    """Apply a one- or two-operand table op to Values or plain numbers; plain-number operands
    become constant leaves."""
    if len(operands) not in (1, 2):
        raise TypeError(f"{op.name} takes {len(op.operands)} operands, got {len(operands)}")
    first, *rest = operands
    return _method(op, _recorder)(_constant(first), *rest)


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
    return make(ops.total(x.data for x in nodes), interleave(nodes, (1.0,) * len(nodes)), ops.SUM)


def detached_max(values: Iterable[Operand]) -> Value:
    """max(values) as ONE node held constant: its local derivatives are masks, so no gradient
    flows through it (log-sum-exp's shift, recorded so compiled programs compute it)."""
    nodes = [_constant(x) for x in values]
    if not nodes:
        raise ValueError("detached_max of no values")
    op = ops.DETACHED_MAX
    return make(op.forward(*(x.data for x in nodes)),
                interleave(nodes, (ops.MASK,) * len(nodes)), op)


def _side(seq: Sequence[Operand], what: str) -> tuple[list[float], Sequence[Value] | None]:
    """Data of a linear side and its Values (None when the side is all plain numbers)."""
    data = [v.data for v in seq if type(v) is Value]
    if len(data) == len(seq):
        return data, cast("Sequence[Value]", seq)
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
        if wn is not None and wn is weights and type(bias) is Value:  # all Values, and the bias
            edges = template.copy()
            edges[0:m:2] = wn
            edges[1:m:2] = xd
            if xn is not None:
                edges[m + 1 : 2 * m : 2] = wd
            edges[at_bias] = bias
            out.append(make(dot(bias.data, wd, xd), tuple(edges), op))
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
    total = dot(bias.data if isinstance(bias, Value) else 0.0, wd, xd)
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


_install_makers(None)
ops.on_register(_add_methods)
