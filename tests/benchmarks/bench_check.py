"""check_nodes scales linearly; compile handles wide and deep graphs.

Run: ``python tests/benchmarks/bench_check.py``. Prints:

- ``check_nodes`` time for graphs of about 1,000, 2,000 and 5,000 nodes of two shapes: a
  chain (each node feeds the next, with a sum of all of them on top) and a network (an MLP's
  loss over a few samples); the time per node should stay about the same as the graph grows;
- ``compile`` time (tracing excluded) for a sum of 5,000 products, ``nn.MLP(2, [3000, 1])``
  and a chain of 100,000 nodes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import Value  # noqa: E402


def chain(n: int) -> Value:
    """About n nodes: a chain of tanh, ×, + with a sum of every other node on top."""
    v, parts = Value(0.3, label="x"), []
    for k in range(n * 2 // 5):  # 2 or 3 nodes per step
        v = (v * 0.999).tanh() if k % 2 else v + 0.001
        parts.append(v)
    return autograd.sum(parts)


def network(n: int) -> Value:
    """About n nodes: the MSE of MLP(4, [8, 8, 1]) over as many samples as it takes."""
    model = nn.MLP(4, [8, 8, 1], activation="tanh", rng=0)
    per_sample = 8 + 8 + 8 + 8 + 1 + 4 + 2  # linear and tanh nodes, inputs, loss terms
    samples = max(1, (n - len(model.parameters())) // per_sample)
    X = [[(k * 7 + j) % 11 / 11 for j in range(4)] for k in range(samples)]
    y = [k % 2 for k in range(samples)]
    return nn.mse_loss([model(x) for x in X], y)


def timed(f, *args) -> tuple[float, object]:
    start = time.perf_counter()
    out = f(*args)
    return time.perf_counter() - start, out


def main() -> None:
    print("check_nodes (the graph's nodes, seconds, microseconds per node):")
    for shape in (chain, network):
        for n in (1000, 2000, 5000):
            root = shape(n)
            size = len(autograd.topological_order(root))
            seconds, report = timed(autograd.check_nodes, root)
            assert report.ok, str(report)
            print(f"  {shape.__name__:8} {size:6d} nodes  {seconds:7.3f} s  "
                  f"{seconds / size * 1e6:7.1f} µs/node")
    print("compile (tracing excluded):")
    xs = [Value(k % 7 / 7, label=f"x{k}") for k in range(5000)]
    ws = [Value(0.1, label=f"w{k}") for k in range(5000)]
    wide = autograd.sum(x * w for x, w in zip(xs, ws))
    model = nn.MLP(2, [3000, 1], rng=0)
    inputs = [Value(0.3, label="a"), Value(-0.7, label="c")]
    layer = model(inputs)
    x = Value(0.5, label="x")
    deep = x
    for k in range(100_000):
        deep = deep * 1.0000001 if k % 2 else deep + 0.01
    cases = [("sum of 5,000 products", wide, xs, ws),
             ("MLP(2, [3000, 1])", layer, inputs, model.parameters()),
             ("chain of 100,000 nodes", deep, [x], [])]
    for name, out, ins, params in cases:
        seconds, program = timed(autograd.compile, out, ins, params)
        print(f"  {name:24} {seconds:7.2f} s  ({program.source.count(chr(10))} lines)")


if __name__ == "__main__":
    main()
