"""Engine speed and memory against micrograd, measured in the same run.

Run: ``python tests/benchmarks/bench_engine.py [--blocks N]``. Prints medians and ratios:

- micrograd's demo step (MLP(2,[16,16,1]) built from binary ops, 100 points, hinge loss +
  1e-4 L2, forward + backward + SGD update) on this engine vs micrograd 0.1.0 (target ≥ 10×);
- the same step with one ``autograd.linear`` node per neuron (target ≥ 30×);
- the share of the garbage collector in the first two: their steps again with it paused;
- what the node layout itself costs: the same steps on :class:`BareValue` (the engine's slots
  and backward order, nothing else), a reference for what the targets ask of pure Python here;
- a 10⁶-node chain: forward + backward seconds (target < 3 s) and bytes per node from
  tracemalloc (target ≤ 200).

Engines alternate; each timed block runs a few consecutive steps from a clean heap
(an untimed ``gc.collect()``), as a training loop would.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import autograd  # noqa: E402
from autograd.backward import interior_order  # noqa: E402
from autograd.ops import dot  # noqa: E402
from autograd.value import NARY  # noqa: E402

STEPS_PER_BLOCK = 3


def moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> tuple[list, list]:
    """Two interleaving half circles with labels ±1 (micrograd's demo data, generated here)."""
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        t = math.pi * (i // 2) / (n // 2 - 1)
        if i % 2 == 0:
            x0, x1, label = math.cos(t), math.sin(t), -1
        else:
            x0, x1, label = 1 - math.cos(t), 0.5 - math.sin(t), 1
        X.append([x0 + rng.gauss(0, noise), x1 + rng.gauss(0, noise)])
        y.append(label)
    return X, y


def make_mlp(Value, nin, nouts, seed, layer=None):
    """micrograd's MLP, written against any Value class (its nn.py, parameterised).

    ``layer(weights, inputs, biases)``, when given, makes a layer's pre-activations in place
    of micrograd's ``sum(w·x, b)`` per neuron.
    """
    rng = random.Random(seed)
    sizes = [nin] + nouts
    layers = []
    for i in range(len(nouts)):
        neurons = [
            ([Value(rng.uniform(-1, 1)) for _ in range(sizes[i])], Value(0.0))
            for _ in range(sizes[i + 1])
        ]
        layers.append((neurons, i != len(nouts) - 1))

    def model(x):
        for neurons, nonlin in layers:
            if layer is None:
                out = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in neurons]
            else:
                out = layer([w for w, _ in neurons], x, [b for _, b in neurons])
            if nonlin:
                out = [act.relu() for act in out]
            x = out[0] if len(out) == 1 else out
        return x

    params = [p for neurons, _ in layers for w, b in neurons for p in (*w, b)]
    return model, params


def linear_per_neuron(weights, inputs, biases):
    """One ``autograd.linear`` node per neuron, each reading the inputs."""
    return [autograd.linear(w, inputs, b) for w, b in zip(weights, biases)]


def bare_linear_per_neuron(weights, inputs, biases):
    """:func:`bare_linear_layer` neuron by neuron, each reading the inputs."""
    return [bare_linear_layer([w], inputs, [b])[0] for w, b in zip(weights, biases)]


_new = object.__new__


class BareValue:
    """The engine's node layout and nothing else: data, grad and two weighted parents, or an
    interleaved edge tuple (``_b is NARY``); no operand checks, op records, labels, no_grad or
    forward-mode slot. Its backward walks the engine's own ``interior_order``. A step on it
    shows what the layout itself costs on this machine: a reference, not a product."""

    __slots__ = ("data", "grad", "_a", "_da", "_b", "_db")
    _nary = NARY

    def __init__(self, data):
        self.data = data
        self.grad = 0.0
        self._a = self._b = None

    def __add__(self, other):
        if type(other) is not BareValue:
            other = BareValue(other)
        out = _new(BareValue)
        out.data = self.data + other.data
        out.grad = 0.0
        out._a, out._da, out._b, out._db = self, 1.0, other, 1.0
        return out

    __radd__ = __add__

    def __mul__(self, other):
        if type(other) is not BareValue:
            other = BareValue(other)
        out = _new(BareValue)
        out.data = self.data * other.data
        out.grad = 0.0
        out._a, out._da, out._b, out._db = self, other.data, other, self.data
        return out

    __rmul__ = __mul__

    def relu(self):
        x = self.data
        out = _new(BareValue)
        out.data = 0.0 if x < 0 else x
        out.grad = 0.0
        out._a, out._da, out._b = self, (0.0 if x <= 0 else 1.0), None
        return out

    def backward(self):
        self.grad = 1.0
        for node in interior_order(self):
            g, a = node.grad, node._a
            if node._b is NARY:
                for i in range(0, len(a), 2):
                    a[i].grad += g * a[i + 1]
            else:
                a.grad += g * node._da
                if node._b is not None:
                    node._b.grad += g * node._db


def bare_linear_layer(weights, inputs, biases):
    """One n-ary BareValue per neuron, edges (wᵢ, xᵢ)... (xᵢ, wᵢ)... (b, 1) as the engine's
    linear nodes; the inputs are read once per layer."""
    xd = [x.data for x in inputs]
    m = 2 * len(xd)
    template = [1.0] * (2 * m + 2)
    template[m:m + m:2] = inputs
    out = []
    for w, b in zip(weights, biases):
        wd = [v.data for v in w]
        edges = template.copy()
        edges[0:m:2] = w
        edges[1:m:2] = xd
        edges[m + 1:m + m:2] = wd
        edges[m + m] = b
        node = _new(BareValue)
        node.data = dot(b.data, wd, xd)
        node.grad = 0.0
        node._a, node._b = tuple(edges), NARY
        out.append(node)
    return out


def demo_step(Value, model, params, X, y, k):
    """One step of micrograd's demo.ipynb: hinge loss + L2, backward, SGD with its LR decay."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    total = data_loss + reg_loss
    for p in params:
        p.grad = 0.0
    total.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in params:
        p.data -= lr * p.grad
    return total.data


def time_block(step, collector: bool = True) -> float:
    """Seconds per step over one block; ``collector=False`` pauses the cyclic garbage
    collector during the block (a breakdown of where the time goes, not how users run)."""
    gc.collect()
    if not collector:
        gc.disable()
    try:
        t0 = time.perf_counter()
        for k in range(STEPS_PER_BLOCK):
            step(k)
        return (time.perf_counter() - t0) / STEPS_PER_BLOCK
    finally:
        gc.enable()


def bench_demo(blocks: int) -> None:
    X, y = moons()
    engines = {}
    try:
        from micrograd.engine import Value as MicroValue

        engines["micrograd 0.1.0"] = (MicroValue, None)
    except ImportError:
        print("micrograd not installed (pip install micrograd==0.1.0): no ratios")
    engines["autograd (binary ops)"] = (autograd.Value, None)
    engines["autograd (linear)"] = (autograd.Value, linear_per_neuron)
    engines["bare node (binary ops)"] = (BareValue, None)
    engines["bare node (linear)"] = (BareValue, bare_linear_per_neuron)
    steps = {}
    for name, (V, layer) in engines.items():
        model, params = make_mlp(V, 2, [16, 16, 1], seed=1337, layer=layer)
        steps[name] = (lambda k, V=V, m=model, p=params: demo_step(V, m, p, X, y, k))
    times = {name: [] for name in engines}
    for _ in range(blocks):
        for name, step in steps.items():  # alternate engines block by block
            times[name].append(time_block(step))
    base = statistics.median(times["micrograd 0.1.0"]) if "micrograd 0.1.0" in times else None
    print(f"micrograd demo step (100 points, MLP(2,[16,16,1]), median of {blocks} blocks):")
    targets = {"autograd (binary ops)": 10, "autograd (linear)": 30}
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = ""
        if base and name != "micrograd 0.1.0":
            ratio = f"  {base / med:6.1f}x faster than micrograd"
            if name in targets:
                ratio += f" (target >= {targets[name]}x)"
        if name == "bare node (binary ops)":
            print("  the same node layout with nothing else (BareValue: no checks, ops, labels):")
        print(f"  {name:24s} {med * 1e3:8.1f} ms/step{ratio}")
    if base:  # how much of each step is the cyclic garbage collector's
        paused = {name: [] for name in ("micrograd 0.1.0", "autograd (binary ops)")}
        for _ in range(blocks):
            for name in paused:
                paused[name].append(time_block(steps[name], collector=False))
        print("  the same with the garbage collector paused in each block (a breakdown):")
        for name, ts in paused.items():
            med, on = statistics.median(ts), statistics.median(times[name])
            print(f"  {name:24s} {med * 1e3:8.1f} ms/step; the collector took "
                  f"{1 - med / on:4.0%} of the step")


def chain(n: int) -> autograd.Value:
    """A chain of n nodes: alternately y·w (w a shared leaf) and tanh(y)."""
    w = autograd.Value(0.999, label="w")
    y = autograd.Value(0.5, label="x")
    for _ in range(n // 2):
        y = (y * w).tanh()
    return y


def bench_chain(n: int) -> None:
    gc.collect()
    t0 = time.perf_counter()
    y = chain(n)
    t1 = time.perf_counter()
    y.backward()
    t2 = time.perf_counter()
    del y
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    y = chain(n)
    built = tracemalloc.get_traced_memory()[0]
    y.backward()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"{n:,}-node chain (y·w then tanh, alternating):")
    print(f"  forward {t1 - t0:.2f} s + backward {t2 - t1:.2f} s = {t2 - t0:.2f} s (target < 3 s)")
    print(f"  graph: {(built - before) / n:.0f} bytes/node; with grads after backward: "
          f"{(after - before) / n:.0f} bytes/node (target <= 200)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=7)
    ap.add_argument("--chain", type=int, default=1_000_000)
    args = ap.parse_args()
    bench_demo(args.blocks)
    bench_chain(args.chain)


if __name__ == "__main__":
    main()
