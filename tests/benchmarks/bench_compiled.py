"""Compiled gradient programs replayed over a batch, against PyTorch and the plain engine.

Run: ``python tests/benchmarks/bench_compiled.py [--blocks N] [--epochs E]``. Prints:

- micrograd's demo step (100 moons points, MLP(2,[16,16,1]), hinge loss + 1e-4 L2, forward +
  backward + SGD update with its LR decay) four ways, median ms per step: the engine
  (``Value`` graph + ``backward``), the graph compiled once with ``autograd.compile`` and
  replayed over the 100 points as NumPy arrays, one line per node ("scalar") and with its
  layers as matrix code (``layers=True``, "layered"), and PyTorch batched float64 tensors on
  one CPU thread (when torch is importable); the ratios to PyTorch (target for layered: at
  most 0.5, twice as fast); and the largest gap between each program's gradients and the
  engine's on the same step;
- fit(compiled=True) (layered) and fit(compiled="exact") (scalar) against plain fit: the
  largest parameter difference after 100 full-batch epochs on 100 moons points,
  MLP(2,[16,16,k]), L2 1e-4, for micrograd's demo, tanh with MSE (SGD and Adam), and a
  three-class softmax cross-entropy;
- digits: an MLP 64-32-10 (tanh, Xavier) with softmax cross-entropy and Adam, trained with
  ``nn.fit(..., compiled=True)``: seconds (target < 1 s) and test accuracy (target ≥ 95 %).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

# one thread for NumPy's BLAS and for PyTorch: on a small machine, idle pools of both spin
# against each other and make either look 50x slower than it is
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import demo_step, time_block  # noqa: E402
from bench_nn import bench_digits  # noqa: E402

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import Value  # noqa: E402

ALPHA = 1e-4  # micrograd's demo: L2 weight


def lr_at(k: int) -> float:
    """micrograd demo's learning-rate decay."""
    return 1.0 - 0.9 * k / 100


def compiled_demo(model: nn.MLP, X: list, y: list, layers: bool):
    """Trace one sample's hinge loss + L2 penalty, compile it (``layers``: as matrix code), and
    return (program, step): step(k) replays it over all points (seed 1/n: the batch mean) and
    applies SGD."""
    import numpy as np

    params = model.parameters()
    xs = [Value(X[0][0], label="x_0"), Value(X[0][1], label="x_1")]
    target = Value(y[0], label="y")
    sample = (1 + -target * model(xs)).relu() + ALPHA * autograd.sum(p * p for p in params)
    program = autograd.compile(sample, [*xs, target], params, input_grads=False, layers=layers)
    columns = [np.array([row[0] for row in X]), np.array([row[1] for row in X]), np.array(y)]
    seed = 1.0 / len(X)

    def step(k: int) -> float:
        result = program(*columns, seed=seed)
        lr = lr_at(k)
        for p, g in zip(params, result.param_grads):
            p.data -= lr * g
        return float(result.outputs[0].mean())

    return program, step


def torch_demo(model: nn.MLP, X: list, y: list):
    """The same step on batched PyTorch tensors (float64), weights copied from ``model``."""
    import torch

    layers = []
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64)
        layers.append((W.requires_grad_(), b.requires_grad_()))
    params = [t for pair in layers for t in pair]
    Xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)

    def step(k: int) -> float:
        h = Xt
        for i, (W, b) in enumerate(layers):
            h = h @ W.T + b
            if i < len(layers) - 1:
                h = torch.relu(h)
        loss = torch.relu(1 - yt * h[:, 0]).mean() + ALPHA * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr_at(k) * p.grad
        return loss.item()

    return step


def gradient_gap(X: list, y: list, layers: bool) -> float:
    """Largest |compiled − engine| parameter gradient of the demo loss at one point."""
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    params = model.parameters()
    program, _ = compiled_demo(model, X, y, layers)
    got = program(*[[r[0] for r in X], [r[1] for r in X], list(y)], seed=1.0 / len(X))
    losses = [(1 + -yi * model(xi)).relu() for xi, yi in zip(X, y)]
    total = autograd.sum(losses) * (1.0 / len(X)) + ALPHA * autograd.sum(p * p for p in params)
    total.backward()
    return max(abs(float(g) - p.grad) for g, p in zip(got.param_grads, params))


def bench_demo(blocks: int) -> None:
    X, labels = nn.moons(100, noise=0.1, seed=1)
    y = [2.0 * t - 1 for t in labels]
    steps = {}
    random.seed(1337)
    engine = nn.MLP(2, [16, 16, 1])
    steps["engine"] = lambda k: demo_step(Value, engine, engine.parameters(), X, y, k)
    programs, compile_ms = {}, {}
    for name, layers in (("scalar", False), ("layered", True)):
        random.seed(1337)
        t0 = time.perf_counter()
        programs[name], steps[name] = compiled_demo(nn.MLP(2, [16, 16, 1]), X, y, layers)
        compile_ms[name] = (time.perf_counter() - t0) * 1e3
    try:
        import torch

        torch.set_num_threads(1)
        random.seed(1337)
        steps[f"PyTorch {torch.__version__}"] = torch_demo(nn.MLP(2, [16, 16, 1]), X, y)
    except ImportError:
        print("torch not importable: no PyTorch comparison")
    for step in steps.values():  # untimed warm-up (PyTorch initialises lazily)
        step(0)
    times = {name: [] for name in steps}
    for _ in range(blocks):
        for name, step in steps.items():
            times[name].append(time_block(step))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"micrograd demo step (100 points, MLP(2,[16,16,1]), hinge + L2, median of {blocks} "
          f"blocks; BLAS threads: OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']})")
    for name, program in programs.items():
        print(f"  {name} program: {program.source.count(chr(10))} lines, traced and compiled "
              f"in {compile_ms[name]:.0f} ms")
    for name, m in med.items():
        print(f"  {name:18s} {m * 1e3:8.3f} ms/step")
    torch_name = next((n for n in med if n.startswith("PyTorch")), None)
    for name in programs:
        print(f"  {name}: {med['engine'] / med[name]:.1f}x faster than the engine", end="")
        if torch_name:
            target = " (target <= 0.5)" if name == "layered" else ""
            print(f"; {name} / PyTorch = {med[name] / med[torch_name]:.2f}{target}", end="")
        print(f"; largest |{name} - engine| gradient: {gradient_gap(X, y, name == 'layered'):.2e}")


def fit_gap(epochs: int) -> None:
    """Largest |compiled − plain| parameter after ``epochs`` of fit, both compiled modes."""
    X, labels = nn.moons(100, noise=0.1, seed=1)
    targets = {"hinge": [2 * t - 1 for t in labels], "mse": labels,
               "cross_entropy": [(t + int(x[0] > 0.5)) % 3 for x, t in zip(X, labels)]}
    print(f"fit(compiled=...) vs plain fit: largest parameter difference after {epochs} "
          f"full-batch epochs (100 moons points, MLP(2,[16,16,k]), L2 1e-4)")
    for activation, loss, optimizer, lr, decay in (
            ("relu", "hinge", nn.SGD, 1.0, True), ("tanh", "mse", nn.SGD, 0.1, False),
            ("tanh", "mse", nn.Adam, 0.01, False), ("relu", "cross_entropy", nn.SGD, 0.5, False)):
        params = {}
        for compiled in (False, True, "exact"):
            model = nn.MLP(2, [16, 16, 3 if loss == "cross_entropy" else 1],
                           activation=activation, rng=1)
            opt = optimizer(model.parameters(), lr=lr)
            nn.fit(model, X, targets[loss], loss=loss, optimizer=opt, epochs=epochs,
                   scheduler=nn.LinearLR(opt) if decay else None, l2=1e-4, progress=False,
                   seed=0, compiled=compiled)
            params[compiled] = [p.data for p in model.parameters()]
        gap = {c: max(abs(a - b) for a, b in zip(params[c], params[False]))
               for c in (True, "exact")}
        run = f"{activation}, {loss}, {optimizer.__name__} lr {lr}{' decaying' if decay else ''}"
        print(f"  {run:38s} layered {gap[True]:.1e}, exact {gap['exact']:.1e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    bench_demo(args.blocks)
    fit_gap(100)
    bench_digits(args.epochs, compiled=True, target_seconds=1)


if __name__ == "__main__":
    main()
