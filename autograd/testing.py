"""Hypothesis strategies for Values and whole expression graphs over the op table.

``operands(op)`` draws operands inside an op's domain and away from its edges and kinks;
``expression_graphs()`` draws random programs (node reuse, long chains) that any backend can
replay: the engine (:meth:`ExprGraph.build`), floats, sympy or PyTorch
(:meth:`ExprGraph.evaluate`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from . import ops
from .ops import Op
from .value import Value, apply

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
    """A random program: ``inputs`` then ``steps`` of (op, operand indices).

    Node i < len(inputs) is input i; step k produces node len(inputs) + k. The last node is
    the output.
    """

    inputs: tuple[float, ...]
    steps: tuple[tuple[Op, tuple[int, ...]], ...]

    def evaluate(self, leaves: Sequence, call: Callable[..., object]) -> object:
        """Replay with ``call(op, *operands)`` on any kind of leaf (floats, sympy, tensors)."""
        nodes = list(leaves)
        for op, idx in self.steps:
            nodes.append(call(op, *(nodes[i] for i in idx)))
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
            lines.append(f"v{k} = {op.name}({', '.join(f'v{i}' for i in idx)}{params})")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # hypothesis and IPython
        printer.text(f"ExprGraph:\n{self}")


def _engine_call(op: Op, *args: Value) -> Value:
    if op is ops.ADD:
        return operator.add(*args)
    if op is ops.MUL:
        return operator.mul(*args)
    return apply(op, *args)


@st.composite
def expression_graphs(
    draw: st.DrawFn,
    table: Sequence[Op] | None = None,
    max_inputs: int = 3,
    max_steps: int = 12,
) -> ExprGraph:
    """Random expression graphs over ``table`` (default: every built-in op, families at their
    example parameters). Operands favour the newest node (long chains) but may be any earlier
    node (reuse, including the same node twice); each step is kept :func:`inside` its op."""
    table = list(table) if table is not None else [op for op in ops.all_ops() if op.builtin]
    n = draw(st.integers(1, max_inputs))
    inputs = [draw(floats(-2.0, 2.0).filter(lambda x: abs(x) > 0.05)) for _ in range(n)]
    data = list(inputs)
    steps: list[tuple[Op, tuple[int, ...]]] = []
    for _ in range(draw(st.integers(1, max_steps))):
        op = draw(st.sampled_from(table))
        newest = st.just(len(data) - 1)
        idx = tuple(
            draw(st.one_of(newest, st.integers(0, len(data) - 1))) for _ in op.operands
        )
        args = [data[i] for i in idx]
        if inside(op, args):
            steps.append((op, idx))
            data.append(op.forward(*args))
    if not steps:  # at least one op: x + x is always inside
        steps.append((ops.ADD, (0, 0)))
    return ExprGraph(tuple(inputs), tuple(steps))
