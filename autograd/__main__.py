"""``python -m autograd``: the seeds' single linear neuron, by hand and by the engine;
``python -m autograd ops``: the op table as Markdown (the README's table); ``python -m autograd
ops --write``: Value's built-in methods and their typed declarations, regenerated into
value.py."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import Value, declarations
from .ops import derivative_table


def main(argv: Sequence[str] | None = None) -> None:
    """Print h = w·x + b, L = ½(h − y)² and ∂L/∂w, ∂L/∂b from the engine and the formulas;
    with ``ops``, print the op table."""
    parser = argparse.ArgumentParser(
        prog="python -m autograd",
        description="Backpropagate through one linear neuron h = w·x + b with loss "
        "L = ½(h − y)² (x = 2, y = 1, w = 0.5, b = 0.25) and print the engine's gradients "
        "next to the formulas ∂L/∂w = (h − y)·x and ∂L/∂b = h − y.",
        epilog="Neural networks on the command line: python -m nn train --help",
    )
    commands = parser.add_subparsers(dest="command", title="commands")
    table = commands.add_parser("ops", help="print the op table as Markdown: op, symbol, "
                                "operands, local derivatives, domain (the README's table)")
    table.add_argument("--write", action="store_true", help="instead, write Value's "
                       "built-in methods and their typed declarations from the table into "
                       f"{declarations.VALUE_PY} (after changing the table)")
    args = parser.parse_args(argv)
    if args.command == "ops":
        if not args.write:
            print(derivative_table())
        elif declarations.write():
            print(f"updated the generated code in {declarations.VALUE_PY}")
        else:
            print(f"the generated code in {declarations.VALUE_PY} is up to date")
        return
    # h = w·x + b, L = ½(h − y)²  ⇒  ∂L/∂h = h − y, ∂L/∂w = (h − y)·x, ∂L/∂b = h − y
    x, y = 2.0, 1.0
    w, b = Value(0.5, label="w"), Value(0.25, label="b")
    h = w * x + b
    loss = 0.5 * (h - y) ** 2
    loss.backward()
    print("single linear neuron h = w·x + b, loss L = ½(h − y)², x = 2, y = 1")
    print(f"  h = {h.data:.4f}, L = {loss.data:.6f}")
    print(f"  engine:  ∂L/∂w = {w.grad:.6f}  ∂L/∂b = {b.grad:.6f}")
    print(f"  formula: (h − y)·x = {(h.data - y) * x:.6f}  h − y = {h.data - y:.6f}")


if __name__ == "__main__":
    main()
