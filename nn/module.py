"""Module: a tree of parameters with dotted names, as in PyTorch.

A Module finds its parameters by walking its attributes in the order they were set: a
``Value`` is a parameter, a ``Module`` is a child, and a list or tuple holds either, named by
index. So a neuron that sets ``self.w = [...]`` and then ``self.b = Value(0)`` has parameters
``w.0, w.1, ..., b``, and an MLP's are named like ``layers.0.neurons.3.w.1``.
"""

from __future__ import annotations

import math
import numbers
import textwrap
from collections.abc import Iterator, Mapping

from autograd import Value


class Module:
    """Base class of every layer and model.

    ``parameters()`` lists the trainable Values; ``named_parameters()`` pairs them with their
    dotted paths (and writes each path into the parameter's ``label``, so graph drawings name
    them); ``zero_grad()`` resets their grads; ``state_dict()`` / ``load_state_dict()`` read and
    write their numbers by name.
    """

    def _children(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        for name, item in vars(self).items():
            if not name.startswith("_"):
                yield from _walk(item, prefix + name)

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted path, parameter) pairs in order; each parameter's label becomes its path."""
        named = list(self._children())
        for name, p in named:
            p.label = name
        return named

    def parameters(self) -> list[Value]:
        """The trainable Values, in the order named_parameters lists them."""
        return [p for _, p in self._children()]

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (leaf grads accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def num_parameters(self) -> int:
        """How many scalars the model learns."""
        return len(self.parameters())

    def state_dict(self) -> dict[str, float]:
        """{dotted path: value} for every parameter, in order."""
        return {name: p.data for name, p in self._children()}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Set every parameter from ``state`` (as made by :meth:`state_dict`).

        Everything is checked first (same names, no extra names, finite real numbers), so a bad
        ``state`` raises ValueError or TypeError and leaves the model unchanged.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict needs a mapping of names to numbers, got "
                            f"{type(state).__name__}")
        named = list(self._children())
        expected = [name for name, _ in named]
        missing = [n for n in expected if n not in state]
        known = set(expected)
        unexpected = [n for n in state if n not in known]
        if missing or unexpected:
            raise ValueError(
                f"state does not match {type(self).__name__} with {len(expected)} parameters"
                f" (got {len(state)}): missing {_few(missing)}; unexpected {_few(unexpected)}"
            )
        values = []
        for name in expected:
            v = state[name]
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"parameter {name!r} must be a real number, got "
                                f"{type(v).__name__}: {v!r}")
            if not math.isfinite(v):
                raise ValueError(f"parameter {name!r} is not finite: {v!r}")
            values.append(float(v))
        for (_, p), v in zip(named, values, strict=True):
            p.data = v

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.num_parameters()} parameters)"]
        lines += [textwrap.indent(f"{name}: {child!r}", "  ")
                  for name, child in vars(self).items() if isinstance(child, Module)]
        return "\n".join(lines)


def _walk(item: object, path: str) -> Iterator[tuple[str, Value]]:
    if isinstance(item, Value):
        yield path, item
    elif isinstance(item, Module):
        yield from item._children(path + ".")
    elif isinstance(item, (list, tuple)):
        for i, x in enumerate(item):
            yield from _walk(x, f"{path}.{i}")


def _few(names: list[str], limit: int = 5) -> str:
    if not names:
        return "none"
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
