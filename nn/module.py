"""Module: a tree of parameters with dotted names, as in PyTorch.

A Module finds its parameters by walking its attributes in the order they were set: a
``Value`` is a parameter, a ``Module`` is a child, and a list or tuple holds either, named by
index. So a neuron that sets ``self.w = [...]`` and then ``self.b = Value(0)`` has parameters
``w.0, w.1, ..., b``, and an MLP's are named like ``layers.0.neurons.3.w.1``.
``module_paths()`` tells the viewers which module holds each parameter (``draw(...,
collapse=True)`` draws a neuron as one box); they never read it from labels.

Calling a module runs its ``forward`` (as in PyTorch); a subclass may define ``forward`` or,
micrograd's way, ``__call__``.
"""

from __future__ import annotations

import math
import numbers
import textwrap
import weakref
from collections.abc import Mapping
from typing import Any

from autograd import Value
from autograd.groups import merge_groups, register_groups


class Module:
    """Base class of every layer and model.

    ``parameters()`` lists the trainable Values; ``named_parameters()`` pairs them with their
    dotted paths (and writes each path into the parameter's ``label``, so graph drawings name
    them); ``zero_grad()`` resets their grads; ``state_dict()`` / ``load_state_dict()`` read and
    write their numbers by name. ``model(x)`` calls ``model.forward(x)``.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The module's computation; subclasses define it, or override ``__call__`` (then
        ``forward`` calls that)."""
        if type(self).__call__ is not Module.__call__:
            return self(*args, **kwargs)
        raise NotImplementedError(f"{type(self).__name__} defines no forward(); define "
                                  f"forward(self, x) to make it callable")

    def _children(self, prefix: str = "") -> list[tuple[str, Value]]:
        """(dotted path, parameter) pairs, attributes in the order they were set."""
        found: list[tuple[str, Value]] = []
        for name, item in vars(self).items():
            if not name.startswith("_"):
                _walk(item, prefix + name, found)
        return found

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted path, parameter) pairs in order; each parameter's label becomes its path."""
        named = list(self._children())
        for name, p in named:
            p.label = name
        _NAMED.add(self)
        return named

    def module_paths(self) -> dict[Value, str]:
        """{parameter: dotted path of the module holding it} (``layers.0.neurons.3`` for
        ``layers.0.neurons.3.w.1``; ``""`` for the model's own): the ``groups`` that
        :func:`autograd.draw` and :func:`autograd.step_through` collapse neurons by."""
        return {p: _owner(name) for name, p in self._children()}

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
        values = [real_parameter(name, state[name]) for name in expected]
        for (_, p), v in zip(named, values, strict=True):
            p.data = v

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.num_parameters()} parameters)"]
        lines += [textwrap.indent(f"{name}: {child!r}", "  ")
                  for name, child in vars(self).items() if isinstance(child, Module)]
        return "\n".join(lines)


def real_parameter(name: str, v: object) -> float:
    """``v`` as a float if it is a finite real number, else TypeError or ValueError naming the
    parameter ``name``."""
    if type(v) is float and v - v == 0.0:  # the common case: finite (inf - inf and nan are nan)
        return v
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"parameter {name!r} must be a real number, got "
                        f"{type(v).__name__}: {v!r:.60}")
    try:
        x = float(v)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise ValueError(f"parameter {name!r} is not finite: {v!r:.60}")
    return x


def _walk(item: object, path: str, found: list[tuple[str, Value]]) -> None:
    """Append to ``found`` the parameters in ``item`` (a Value, a Module, or a list or tuple
    of them, named by index), named below ``path``."""
    if isinstance(item, Value):
        found.append((path, item))
    elif isinstance(item, Module):
        found += item._children(path + ".")
    elif isinstance(item, (list, tuple)):
        for i, x in enumerate(item):
            if type(x) is Value:  # the common case, a neuron's weights: no call
                found.append((f"{path}.{i}", x))
            else:
                _walk(x, f"{path}.{i}", found)


def _owner(name: str) -> str:
    """The module part of a parameter's path: its indices and attribute name dropped."""
    parts = name.split(".")
    while parts[-1].isdigit():
        parts.pop()
    return ".".join(parts[:-1])


_NAMED: weakref.WeakSet[Module] = weakref.WeakSet()  # the modules that labelled parameters


def _named_module_paths() -> dict[Value, str]:
    """module_paths() of every live module that named its parameters (each layer does it
    when built), so ``collapse=True`` finds an nn model's neurons without being told."""
    return merge_groups(module.module_paths() for module in list(_NAMED))


register_groups(_named_module_paths)


def _few(names: list[str], limit: int = 5) -> str:
    if not names:
        return "none"
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
