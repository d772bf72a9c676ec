"""Model files: what loading costs for hostile files and for a legitimately large model.

Run: ``python tests/benchmarks/bench_io.py [--width W]``. For each file it prints the size,
the load time (best of a few runs, no tracing) and the peak memory Python allocated while
loading (one run under ``tracemalloc``), and how the load ended:

- "claims 10^6": ~180 bytes whose architecture is MLP(999, [1000]) (10^6 parameters) but
  which holds no parameters;
- "claims 10^10": the same with MLP(99999, [100000]);
- "sparse 10^9 bytes": a 1 GB sparse file of zero bytes (costs no disk);
- "padded 200 MB": a real MLP(2, [3, 1]) file followed by 200 MB of spaces;
- "legit": a real MLP(64, [W, W, 10]) written by ``nn.save`` (W = 512: 301,066 parameters),
  loaded back in full, and the time ``nn.save`` took to write it.

Hostile files must be refused in well under a second and a few MiB; the legit load is
proportional to the file.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import nn  # noqa: E402


def claim(folder: Path, nin: int, width: int) -> Path:
    """A tiny model file whose architecture claims (nin + 1)·width parameters."""
    path = folder / f"claims-{(nin + 1) * width}.json"
    doc = {"format": "stepgrad-nn-model", "version": 1,
           "architecture": {"type": "MLP", "nin": nin, "nouts": [width],
                            "activation": "relu", "output_activation": "linear"},
           "parameters": {}}
    path.write_text(json.dumps(doc))
    return path


def sparse(folder: Path, size: int) -> Path:
    """A file of ``size`` zero bytes that takes no disk space."""
    path = folder / "sparse.json"
    with path.open("wb") as f:
        f.truncate(size)
    return path


def padded(folder: Path, spaces: int) -> Path:
    """A real small model file followed by ``spaces`` spaces (still valid JSON)."""
    path = folder / "padded.json"
    nn.save(nn.MLP(2, [3, 1], rng=0), path)
    with path.open("a") as f:
        for _ in range(spaces // 2**20):
            f.write(" " * 2**20)
    return path


def measure(load: Callable[[], object], repeats: int) -> tuple[float, int, str]:
    """(best seconds over ``repeats`` untraced runs, peak bytes of one traced run, outcome)."""
    times, outcome = [], "loaded"
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            load()
        except (ValueError, TypeError) as err:
            outcome = f"refused: {str(err).split(': ', 1)[1]}"
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    try:
        load()
    except (ValueError, TypeError):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return min(times), peak, outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=512, help="hidden width of the legit model")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = [("claims 10^6", claim(folder, 999, 1000), 5),
                 ("claims 10^10", claim(folder, 99_999, 100_000), 5),
                 ("sparse 10^9 bytes", sparse(folder, 10**9), 5),
                 ("padded 200 MB", padded(folder, 200 * 2**20), 5)]
        model = nn.MLP(64, [args.width, args.width, 10], rng=0)
        legit = folder / "legit.json"
        start = time.perf_counter()
        nn.save(model, legit)
        saved = time.perf_counter() - start
        cases.append((f"legit {model.num_parameters():,} params", legit, 2))
        del model
        for name, path, repeats in cases:
            seconds, peak, outcome = measure(lambda p=path: nn.load(p), repeats)
            print(f"{name:26s} {path.stat().st_size:>11,} bytes  load {seconds * 1e3:10.3f} ms"
                  f"  peak {peak / 2**20:8.2f} MiB  {outcome}")
        print(f"(nn.save wrote the legit file in {saved * 1e3:.0f} ms, fsync included)")


if __name__ == "__main__":
    main()
