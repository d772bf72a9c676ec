"""Random expression graphs over every op of the table, against PyTorch (float64).

Run: ``python tests/benchmarks/fuzz_torch.py [--graphs 10000] [--seed 0] [--show 5]``.
Needs PyTorch (it says so and stops without it).

Each graph has 1 to 3 leaves, a third of them edge values (NaN, ±inf, ±0, 5e-324, 1e-300,
±1e200, ±800, ...; tests/edge_values.py) and the rest uniform in [−3, 3], then 1 to 8 steps,
each an op drawn from the whole table (families at their example parameters, sum of 1 to 4
terms, linear of 2) on earlier nodes (the newest one half of the time). A step the engine
refuses with its DomainError is left out (PyTorch gives NaN there instead); a refusal where
the op's documented domain holds is a mismatch. The engine (``backward()``) and PyTorch
(``torch.autograd.grad``) then give the output's value and the gradient of every leaf, which
must be the same numbers: both NaN, or equal with zeros of the same sign, or finite and
within 10⁻¹² relative (libm and PyTorch's kernels may round the last bit differently).

Prints ``graphs tried: N, value mismatches: M, gradient mismatches: K``, then the
mismatches by kind, the first few of each (the graph and both results): only the sign of a
zero differs; an op alone differs from PyTorch at its operands (named, with its operands and
both numbers); or every op agrees and the graph composes them with different rounding (x/x,
sin of a huge argument: differences far above 10⁻¹² from last-bit ones). Differences the op
table documents (softplus above PyTorch's threshold 20: tests/edge_values.py, KNOWN) are
counted apart, not as mismatches. 10,000 graphs take about half a minute.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from autograd import DomainError, ops  # noqa: E402
from autograd.testing import ExprGraph  # noqa: E402
from tests.edge_values import (  # noqa: E402
    BINARY,
    UNARY,
    differences,
    engine,
    refuses,
    same,
    table,
    torch_record,
    unexplained,
)
from tests.oracles import ORACLES, torch_form  # noqa: E402

EDGES = tuple(dict.fromkeys((*UNARY, *BINARY, 1e-5, 1e-9, 20.5, -1e-300), None))
FIELDS = ("value", "grad", "grad_inf")  # what a graph's first-order result depends on


def agree(got: float, want: float) -> bool:
    """Equal as PyTorch float64 numbers (``same``), zeros compared by sign too."""
    if got == 0 and want == 0:
        return math.copysign(1.0, got) == math.copysign(1.0, want)
    return same(repr(got), repr(want))


def draw_graph(rng: random.Random, table: list[ops.Op]) -> tuple[ExprGraph, list[float]] | str:
    """A random graph whose every step the engine accepts, with each node's value; or a
    message when the engine refused a step inside the op's documented domain."""
    inputs = tuple(rng.choice(EDGES) if rng.random() < 1 / 3 else rng.uniform(-3.0, 3.0)
                   for _ in range(rng.randint(1, 3)))
    data = list(inputs)
    steps = []
    for _ in range(rng.randint(1, 8)):
        op = rng.choice(table)
        if op is ops.SUM:
            count = rng.randint(1, 4)
        elif isinstance(op, ops.LinearOp):
            count = 2 * dict(op.params)["n"] + 1
        else:
            count = len(op.operands)
        idx = tuple(len(data) - 1 if rng.random() < 0.5 else rng.randrange(len(data))
                    for _ in range(count))
        args = tuple(data[i] for i in idx)
        try:  # the step alone, on leaves holding its operands' values
            _, out = ExprGraph(args, ((op, tuple(range(count))),)).build()
        except DomainError:
            if not refuses(op, args):
                return f"{op!r} refused {args!r}, inside its documented domain"
            continue
        steps.append((op, idx))
        data.append(out.data)
    return ExprGraph(inputs, tuple(steps)), data


def engine_result(graph: ExprGraph) -> tuple[float, list[float]]:
    """(output value, leaf gradients) from the engine's backward()."""
    leaves, out = graph.build()
    out.backward()
    return out.data, [v.grad for v in leaves]


def torch_result(torch, graph: ExprGraph) -> tuple[float, list[float]]:
    """(output value, leaf gradients) from PyTorch float64 scalars."""
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in graph.inputs]
    out = graph.evaluate(leaves, lambda op, *a: ORACLES["linear"].torch(torch, *a)
                         if op.name == "linear" else torch_form(torch, op, *a))
    grads = torch.autograd.grad(out, leaves, allow_unused=True)
    return out.item(), [0.0 if g is None else g.item() for g in grads]


@dataclass
class Mismatch:
    """A graph whose engine and PyTorch results differ."""

    graph: ExprGraph
    kind: str  # "value" or "gradient"
    engine: tuple[float, list[float]]
    torch: tuple[float, list[float]]
    ops: list[str]  # the steps whose op alone differs (see blame)

    @property
    def category(self) -> str:
        if self.ops:
            return "an op differs from PyTorch's at its operands"
        pairs = list(zip([self.engine[0], *self.engine[1]], [self.torch[0], *self.torch[1]]))
        if all(agree(a, b) or a == b for a, b in pairs):  # the rest are ±0
            return "only the sign of a zero differs"
        return "every op agrees; they compose with different rounding"

    def __str__(self) -> str:
        lines = [f"{self.kind} mismatch ({self.category}):", *(
            f"  {line}" for line in str(self.graph).splitlines()),
            f"  engine  value {self.engine[0]!r}, leaf grads {self.engine[1]!r}",
            f"  PyTorch value {self.torch[0]!r}, leaf grads {self.torch[1]!r}"]
        return "\n".join(lines + [f"  {line}" for line in self.ops])


def blame(torch, graph: ExprGraph, data: list[float]) -> tuple[list[str], bool]:
    """Each step whose op alone differs from PyTorch at its operands (value, or gradient for
    an upstream 1 or inf) in a way the table does not document; and whether the graph's
    difference is all documented (some step differs, each only as documented)."""
    reasons, documented = [], False
    for op, idx in graph.steps:
        args = tuple(data[i] for i in idx)
        found = differences(op, args, engine(op, args), torch_record(torch, op, args))
        left, used = unexplained(op, args, {f: d for f, d in found.items() if f in FIELDS})
        reasons += [f"{op!r} at {args!r}: {field}: {d}" for field, d in left.items()]
        documented |= bool(used)
    return reasons, documented and not reasons


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=3, help="mismatches to list per kind")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("fuzz_torch: PyTorch is not installed (pip install torch); nothing compared")
        return 0
    rng = random.Random(args.seed)
    ops_table = [op for op in table() if op.builtin]
    tried = values = gradients = documented = 0
    found: list[Mismatch] = []
    refusals: list[str] = []
    start = time.perf_counter()
    while tried < args.graphs:
        drawn = draw_graph(rng, ops_table)
        if isinstance(drawn, str):
            tried, values = tried + 1, values + 1
            refusals.append(drawn)
            continue
        graph, data = drawn
        if not graph.steps:
            continue
        tried += 1
        value, grads = engine_result(graph)
        t_value, t_grads = torch_result(torch, graph)
        bad_value = not agree(value, t_value)
        bad_grad = not all(map(agree, grads, t_grads))
        if not (bad_value or bad_grad):
            continue
        reasons, known = blame(torch, graph, data)
        if known:
            documented += 1
            continue
        values += bad_value
        gradients += bad_grad
        found.append(Mismatch(graph, "value" if bad_value else "gradient", (value, grads),
                              (t_value, t_grads), reasons))
    seconds = time.perf_counter() - start
    print(f"graphs tried: {tried}, value mismatches: {values}, gradient mismatches: "
          f"{gradients}")
    print(f"({seconds:.1f} s, seed {args.seed}, PyTorch {torch.__version__}; {documented} "
          f"more graphs differ only as the table documents)")
    for refusal in refusals[: args.show]:
        print(f"\nrefused: {refusal}")
    by_category = Counter(m.category for m in found)
    for category, count in by_category.most_common():
        print(f"\n{count} graphs: {category}")
        for m in [m for m in found if m.category == category][: args.show]:
            print(m)
    culprits = Counter(line.split(" at ")[0] + ": " + line.split(": ")[1]
                       for m in found for line in m.ops)
    if culprits:
        print("\nops that differ on their own (op: field, graphs):")
        for what, count in culprits.most_common():
            print(f"  {what}  {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
