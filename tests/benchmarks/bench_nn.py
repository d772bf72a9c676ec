"""nn speed against micrograd, and digits training, measured in the same run.

Run: ``python tests/benchmarks/bench_nn.py [--blocks N] [--epochs E]``. Prints:

- micrograd's demo step (100 moons points, MLP(2,[16,16,1]), hinge loss + 1e-4 L2, forward +
  backward + SGD update with its LR decay) with ``nn.MLP`` vs ``micrograd.nn.MLP`` 0.1.0:
  median ms per step and the ratio (target ≥ 45×), next to the same step on bench_engine's
  bare nodes (one n-ary node per neuron, the inputs read once per layer: what this node layout
  itself costs);
- digits: an MLP 64-32-10 (tanh, Xavier) with softmax cross-entropy and Adam on the
  standardised pixels: training seconds (target < 60 s) and test accuracy (target ≥ 95 %).

Engines alternate block by block; each block runs a few steps after an untimed
``gc.collect()`` (the approach of bench_engine.py, whose helpers this reuses).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import (  # noqa: E402
    BareValue,
    bare_linear_layer,
    demo_step,
    make_mlp,
    time_block,
)

import autograd  # noqa: E402
import nn  # noqa: E402


def bench_demo(blocks: int) -> None:
    X, labels = nn.moons(100, noise=0.1, seed=1)
    y = [2 * t - 1 for t in labels]
    steps = {}
    try:
        from micrograd.engine import Value as MicroValue
        from micrograd.nn import MLP as MicroMLP

        random.seed(1337)
        micro = MicroMLP(2, [16, 16, 1])
        steps["micrograd 0.1.0"] = (
            lambda k: demo_step(MicroValue, micro, micro.parameters(), X, y, k))
    except ImportError:
        print("micrograd not installed (pip install micrograd==0.1.0): no ratio")
    random.seed(1337)
    ours = nn.MLP(2, [16, 16, 1])
    steps["nn.MLP"] = lambda k: demo_step(autograd.Value, ours, ours.parameters(), X, y, k)
    bare, bare_params = make_mlp(BareValue, 2, [16, 16, 1], seed=1337, layer=bare_linear_layer)
    steps["bare nodes"] = lambda k: demo_step(BareValue, bare, bare_params, X, y, k)
    times = {name: [] for name in steps}
    for _ in range(blocks):
        for name, step in steps.items():
            times[name].append(time_block(step))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"micrograd demo step (100 points, MLP(2,[16,16,1]), median of {blocks} blocks):")
    for name, m in med.items():
        print(f"  {name:16s} {m * 1e3:8.1f} ms/step")
    if "micrograd 0.1.0" in med:
        print(f"  nn.MLP is {med['micrograd 0.1.0'] / med['nn.MLP']:.1f}x faster "
              f"than micrograd (target >= 45x); bare nodes "
              f"{med['micrograd 0.1.0'] / med['bare nodes']:.1f}x")


def bench_digits(epochs: int, compiled: bool = False, target_seconds: float = 60.0) -> None:
    """Train digits 64-32-10 (tanh, Xavier, Adam, batch 16); print seconds and test accuracy."""
    X, y = nn.digits()
    X_train, X_test, y_train, y_test = nn.train_test_split(X, y, 0.25, seed=0)
    X_train, X_test = nn.standardize(X_train, X_test)
    model = nn.MLP(64, [32, 10], activation="tanh", init="xavier_uniform", rng=0)
    t0 = time.perf_counter()
    nn.fit(model, X_train, y_train, loss="cross_entropy", optimizer="adam", lr=0.01,
           epochs=epochs, batch_size=16, progress=False, seed=0, compiled=compiled)
    seconds = time.perf_counter() - t0
    acc = nn.evaluate(model, X_test, y_test, loss="cross_entropy")["accuracy"]
    how = ", compiled" if compiled else ""
    print(f"digits MLP 64-32-10{how}, {epochs} epochs of {len(X_train)} samples "
          f"(batch 16, Adam):")
    print(f"  training {seconds:.1f} s (target < {target_seconds:g} s), test accuracy "
          f"{acc:.1%} on {len(X_test)} samples (target >= 95%)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=4)
    args = ap.parse_args()
    bench_demo(args.blocks)
    bench_digits(args.epochs)


if __name__ == "__main__":
    main()
