"""detect_anomaly costs nothing once it is off.

Run: ``python tests/benchmarks/bench_anomaly.py [--rounds N]``. A forward + backward workload
(a 2-16-16-1 tanh network over 32 points, built with ``*``, ``+``, ``linear``, ``sum`` and
``tanh``) is timed in fresh processes that alternate between two modes:

- ``never``: the process never uses ``detect_anomaly``;
- ``after``: the process enters and leaves ``detect_anomaly()`` once, then runs the workload.

It prints the median time of each mode and their ratio (1.00 means no cost), for scale how
much slower the same workload runs inside the block, and the memory still held after each
run of the workload inside one block (0 when the block keeps no node alive).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import autograd  # noqa: E402

BLOCKS = 15


def workload(seed: int = 0) -> float:
    rng = random.Random(seed)
    V = autograd.Value
    w1 = [[V(rng.uniform(-1, 1)) for _ in range(2)] for _ in range(16)]
    w2 = [[V(rng.uniform(-1, 1)) for _ in range(16)] for _ in range(16)]
    w3 = [V(rng.uniform(-1, 1)) for _ in range(16)]
    losses = []
    for _ in range(32):
        x = [rng.uniform(-1, 1), rng.uniform(-1, 1)]
        h1 = [(w[0] * x[0] + w[1] * x[1]).tanh() for w in w1]
        h2 = [autograd.linear(w, h1).tanh() for w in w2]
        out = autograd.sum(wi * hi for wi, hi in zip(w3, h2, strict=True))
        losses.append((out - 0.5) * (out - 0.5))
    loss = autograd.sum(losses)
    loss.backward()
    return loss.data


def time_blocks() -> float:
    workload()  # warm up
    times = []
    for _ in range(BLOCKS):
        t0 = time.perf_counter()
        workload()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def memory_kept(runs: int = 40) -> float:
    """Bytes still allocated per workload run inside one open block (graphs dropped)."""
    with autograd.detect_anomaly():
        workload()
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        for seed in range(runs):
            workload(seed)
        kept = tracemalloc.get_traced_memory()[0] - start
        tracemalloc.stop()
    return kept / runs


def child(mode: str) -> None:
    if mode == "after":
        with autograd.detect_anomaly():
            autograd.Value(1.0) * 2.0
    if mode == "inside":
        with autograd.detect_anomaly():
            print(time_blocks())
        return
    print(time_blocks())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--child", choices=["never", "after", "inside"])
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    runs: dict[str, list[float]] = {"never": [], "after": [], "inside": []}
    for _ in range(args.rounds):
        for mode in runs:  # alternate modes round by round, each in a fresh process
            out = subprocess.run([sys.executable, __file__, "--child", mode], check=True,
                                 capture_output=True, text=True).stdout
            runs[mode].append(float(out))
    med = {mode: statistics.median(ts) for mode, ts in runs.items()}
    print(f"forward + backward workload, median of {args.rounds} processes x {BLOCKS} blocks:")
    print(f"  never used detect_anomaly     {med['never'] * 1e3:8.2f} ms")
    print(f"  after leaving detect_anomaly  {med['after'] * 1e3:8.2f} ms")
    print(f"  ratio after / never           {med['after'] / med['never']:8.3f}  (1.000 = free)")
    print(f"  inside detect_anomaly         {med['inside'] * 1e3:8.2f} ms "
          f"({med['inside'] / med['never']:.1f}x, for scale)")
    print(f"  memory kept per run inside one block  {memory_kept() / 2**20:8.3f} MiB")


if __name__ == "__main__":
    main()
