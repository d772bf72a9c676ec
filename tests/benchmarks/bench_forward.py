"""Forward mode's speed per node against backward's, on the same graphs, measured in one run.

Run: ``python tests/benchmarks/bench_forward.py [--repeats N]``. Prints medians and ratios:

- a 10⁶-node chain (``y = -(y * 1.0)``, half binary nodes with a constant leaf, half unary):
  seconds per node of one forward tangent pass (``autograd.forward.tangents_of``) and of one
  backward pass (``backward()``), each including its topological sort and, forward, clearing
  its tangent slots (target: ratio ≤ 1.2);
- micrograd's demo loss (MLP(2,[16,16,1]), 100 moons points, hinge loss): one tangent pass
  along a direction in all parameters, and seeded in one parameter, vs one backward pass
  (backward skips the weighted sums under a zero gradient, a tangent pass the ones behind an
  off ReLU whose first weight is seeded: both counts are printed); then the full gradient, one
  tangent pass per parameter vs one backward pass, with the products :func:`autograd.forward.cost`
  counts for each; and the two passes as records, :func:`autograd.forward.forward_steps`
  against :func:`autograd.backward.steps` (both on a side table, as views read them).

Each timing runs after an untimed ``gc.collect()``; the graph is built once and not timed.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd.backward import interior_order, steps, topological_order  # noqa: E402
from autograd.forward import _interior, cost, forward_steps, tangents_of  # noqa: E402


def timed(fn) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def compare(name: str, nodes: int, forward, backward, repeats: int) -> None:
    """Alternate the two passes ``repeats`` times; print median seconds per node and the ratio."""
    f, b = [], []
    for _ in range(repeats):
        f.append(timed(forward))
        b.append(timed(backward))
    fm, bm = statistics.median(f), statistics.median(b)
    print(f"{name} ({nodes:,} nodes, median of {repeats}):")
    print(f"  forward  {fm / nodes * 1e9:7.1f} ns/node  ({fm:.3f} s)")
    print(f"  backward {bm / nodes * 1e9:7.1f} ns/node  ({bm:.3f} s)")
    print(f"  forward / backward = {fm / bm:.2f}")


def bench_chain(repeats: int) -> None:
    x = autograd.Value(0.5, label="x")
    y = x
    for _ in range(500_000):
        y = -(y * 1.0)
    nodes = len(interior_order(y))
    compare("1e6-node chain", nodes, lambda: tangents_of(y, {x: 1.0}), y.backward, repeats)


def mlp_loss(seed: int = 1337):
    """micrograd's demo loss on 100 moons points: mean hinge loss of MLP(2,[16,16,1])."""
    X, labels = nn.moons(100, noise=0.1, seed=1)
    random.seed(seed)
    model = nn.MLP(2, [16, 16, 1])
    scores = [model([autograd.Value(a) for a in row]) for row in X]
    loss = autograd.sum((1 - (2 * t - 1) * s).relu() for s, t in zip(scores, labels)) / len(X)
    return loss, model.parameters()


def backward_records(root):
    """backward's records as :func:`autograd.trace.backward_steps` reads them (sort included)."""
    order = topological_order(root)
    return steps(root, 1.0, order, dict.fromkeys(order, 0.0))


def bench_mlp(repeats: int) -> None:
    loss, params = mlp_loss()
    nodes = len(autograd.topological_order(loss))
    rng = random.Random(0)
    direction = {p: rng.uniform(-1, 1) for p in params}
    compare("MLP(2,[16,16,1]) hinge loss on 100 points, one pass", nodes,
            lambda: tangents_of(loss, direction), loss.backward, repeats)
    first = {params[0]: 1.0}
    compare("  the same, the tangent pass seeded in one parameter", nodes,
            lambda: tangents_of(loss, first), loss.backward, repeats)
    compare("  the same as records", nodes,
            lambda: deque(forward_steps(loss, direction), 0),
            lambda: deque(backward_records(loss), 0), repeats)
    loss.backward()
    order = interior_order(loss)
    edges = sum(len(n.parents) for n in order)
    skipped = sum(len(n.parents) for n in order if n.grad == 0 and n.op.name == "linear")
    kept = set(_interior([loss], direction)[0])
    left = sum(len(n.parents) for n in order if n not in kept)
    print(f"  of {edges:,} edges, backward skips {skipped:,} (under the linear nodes whose "
          f"gradient is 0: ReLU off, hinge met), the tangent pass along the direction {left:,} "
          f"(above the off ReLUs)")
    counts = cost(loss, params)
    full_f = timed(lambda: [tangents_of(loss, {p: 1.0}) for p in params])
    full_b = timed(loss.backward)
    print(f"  full gradient of {len(params)} parameters: forward {len(params)} passes "
          f"{full_f:.2f} s, {counts.forward:,} products; backward 1 pass {full_b:.3f} s, "
          f"{counts.reverse:,} products")
    print(f"  forward / backward = {full_f / full_b:.0f}x in time, "
          f"{counts.forward / counts.reverse:.1f}x in products")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    bench_chain(args.repeats)
    bench_mlp(args.repeats)


if __name__ == "__main__":
    main()
