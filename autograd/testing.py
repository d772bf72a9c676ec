"""Hypothesis strategies for Values and whole expression graphs over the op table.

``operands(op)`` draws operands inside an op's domain and away from its edges and kinks;
``expression_graphs()`` draws random programs (node reuse, long chains) that any backend can
replay: the engine (:meth:`ExprGraph.build`), floats, sympy or PyTorch
(:meth:`ExprGraph.evaluate`); with ``constants=True`` operands may be plain numbers and
steps may be n-ary ``sum`` and ``linear`` nodes (either side or the bias plain numbers).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from hypothesis import strategies as st

from . import ops
from .ops import Op
from .value import Value, apply, linear
from .value import sum as value_sum

T = TypeVar("T")  # what a replay computes with: Value, float, a sympy expression...
BOUND = 1e3  # values and local derivatives in generated graphs stay below this


def _margin(x: float) -> float:
    return 1e-3 * max(1.0, abs(x))


def inside(op: Op, args: Sequence[float]) -> bool:
    """True when ``args`` satisfy ``op``'s domain in a neighbourhood, clear of its kinks,
    and give a moderate output and local derivatives."""
    for i, x in enumerate(args):
        if any(abs(x - k) < _margin(x) for k in op.kinks):
            return False
        for shift in (-_margin(x), _margin(x)):
            moved = list(args)
            moved[i] = x + shift
            if not all(req.holds(*moved) for req in op.requires):
                return False
    if not all(req.holds(*args) for req in op.requires):
        return False
    try:
        out = op.forward(*args)
        local = op.local(*args, out)
    except (ArithmeticError, ValueError):
        return False
    return all(math.isfinite(v) and abs(v) < BOUND for v in (out, *local))


def _inside_nary(op: Op, args: Sequence[float]) -> bool:
    out = op.evaluate(None, tuple(args))
    return math.isfinite(out) and abs(out) < BOUND


def floats(lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi]."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def operands(op: Op) -> st.SearchStrategy[tuple[float, ...]]:
    """Operand tuples for ``op`` drawn from its ``safe`` intervals and kept :func:`inside`."""
    safe = op.safe if len(op.safe) == len(op.operands) else op.safe * len(op.operands)
    return st.tuples(*(floats(lo, hi) for lo, hi in safe)).filter(lambda xs: inside(op, xs))


def values(lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy[Value]:
    """Leaf Values with data in [lo, hi]."""
    return floats(lo, hi).map(Value)


@dataclass(frozen=True)
class ExprGraph:
    """A random program: ``inputs`` then ``steps`` of (op, operands).

    Node i < len(inputs) is input i; step k produces node len(inputs) + k. The last node is
    the output. An operand is a node index (an int) or a plain number (a float). A ``linear``
    step with n terms has operands w₀..wₙ₋₁, x₀..xₙ₋₁, b.
    """

    inputs: tuple[float, ...]
    steps: tuple[tuple[Op, tuple[int, ...]], ...]

    def evaluate(self, leaves: Sequence[T], call: Callable[..., T]) -> T:
        """Replay with ``call(op, *operands)`` on any kind of leaf (floats, sympy, tensors)."""
        nodes: list[T] = list(leaves)
        for op, idx in self.steps:
            nodes.append(call(op, *(nodes[i] if isinstance(i, int) else i for i in idx)))
        return nodes[-1]

    def build(self, leaves: Sequence[Value] | None = None) -> tuple[list[Value], Value]:
        """Replay on the engine: (input leaves, output Value). ``+`` and ``×`` use operators."""
        leaves = list(leaves) if leaves is not None else [
            Value(x, label=f"x{i}") for i, x in enumerate(self.inputs)
        ]
        return leaves, self.evaluate(leaves, _engine_call)

    def __len__(self) -> int:
        return len(self.inputs) + len(self.steps)

    def __str__(self) -> str:
        """The program, one line per node: ``v3 = tanh(v1)``."""
        lines = [f"v{i} = {x!r}" for i, x in enumerate(self.inputs)]
        for k, (op, idx) in enumerate(self.steps, start=len(self.inputs)):
            params = "".join(f", {name}={v!r}" for name, v in op.params)
            args = ", ".join(f"v{i}" if isinstance(i, int) else repr(i) for i in idx)
            lines.append(f"v{k} = {op.name}({args}{params})")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # hypothesis and IPython
        printer.text(f"ExprGraph:\n{self}")


def _engine_call(op: Op, *args: Value | float) -> Value:
    if op is ops.SUM:
        return value_sum(args)
    if isinstance(op, ops.LinearOp):
        n = len(args) // 2
        return linear(args[:n], args[n : 2 * n], args[2 * n])
    if not any(isinstance(a, Value) for a in args):
        return apply(op, *args)  # all plain numbers: constant leaves, as a user would write
    if op.operator is not None and (
        isinstance(args[-1], Value) or op.name not in ops.FAMILY_CONSTANT_OF.values()
    ):  # through Value's operators, as a user writes it (x ** 2.0 would be pow_const)
        return getattr(operator, op.operator)(*args)
    return apply(op, *args)


@st.composite
def expression_graphs(
    draw: st.DrawFn,
    table: Sequence[Op] | None = None,
    max_inputs: int = 3,
    max_steps: int = 12,
    constants: bool = False,
) -> ExprGraph:
    """Random expression graphs over ``table`` (default: every built-in op, families at their
    example parameters). Operands favour the newest node (long chains) but may be any earlier
    node (reuse, including the same node twice); each step is kept :func:`inside` its op.

    ``constants``: an operand may also be a plain number (so a node may have only constant
    operands), and steps may be ``sum`` or ``linear`` nodes of 1 to 4 terms whose operands
    are nodes or plain numbers (a side of a linear node all plain or mixed)."""
    table = list(table) if table is not None else [op for op in ops.all_ops() if op.builtin]
    n = draw(st.integers(1, max_inputs))
    inputs = [draw(floats(-2.0, 2.0).filter(lambda x: abs(x) > 0.05)) for _ in range(n)]
    data = list(inputs)
    steps: list[tuple[Op, tuple[int, ...]]] = []
    if constants:
        table = [*table, ops.SUM, ops.linear(1, True, True, True)]
    for _ in range(draw(st.integers(1, max_steps))):
        op = draw(st.sampled_from(table))
        newest = st.just(len(data) - 1)
        operand = st.one_of(newest, st.integers(0, len(data) - 1))
        if constants:
            operand = st.one_of(operand, floats(-2.0, 2.0))
        if op.arity == -1:
            n = draw(st.integers(1, 4))
            op = ops.linear(n, True, True, True) if isinstance(op, ops.LinearOp) else op
            count = 2 * n + 1 if isinstance(op, ops.LinearOp) else n
        else:
            count = len(op.operands)
        idx = tuple(draw(operand) for _ in range(count))
        args = [data[i] if isinstance(i, int) else i for i in idx]
        if (_inside_nary if op.arity == -1 else inside)(op, args):
            steps.append((op, idx))
            data.append(op.evaluate(None, tuple(args)))
    if not steps:  # at least one op: x + x is always inside
        steps.append((ops.ADD, (0, 0)))
    return ExprGraph(tuple(inputs), tuple(steps))
