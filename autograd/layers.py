"""The layers of a recorded graph, over a batch, for the layer view.

A layer is found by the rule ``compile(..., layers=True)`` uses (see
:mod:`autograd.layered`): ``linear`` nodes whose weights and bias are leaves and whose inputs
are the same operands, each followed by the same one-operand op (or by nothing), no
parameter used twice or as an input too. Here the inputs may also be the same plain numbers
(an ``nn`` model fed floats), and a graph may hold a batch: the instances of one layer (one per
sample) share their weight matrix, so they become the rows of one layer, samples × units.
A parameter read by anything but its layer's linear nodes (a penalty, say) leaves its layer to
scalar boxes, since then ∂L/∂W is no longer Σ δ aᵀ.

A layer is named by the module path ``groups`` gives its parameters (``layers.1`` for
``layers.1.neurons.0``), else ``layer 1``, ``layer 2``, ... in forward order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import ops
from .backward import topological_order
from .value import Value


@dataclass(eq=False)
class Layer:
    """One layer over a batch: ``rows[s][u]`` is unit u's linear node for sample s (z),
    ``acts[s][u]`` its activation (None for a linear layer), ``inputs[s]`` sample s's inputs
    (Values or numbers), ``weights[u][i]`` and ``bias[u]`` the parameters, ``op`` the
    activation's op. ``source``: the layer whose outputs are these inputs, sample by sample;
    ``into``: the layer above that alone reads every output of this one."""

    number: int
    name: str
    weights: tuple[tuple[Value, ...], ...]
    bias: tuple[Value, ...] | None
    op: ops.Op | None
    rows: list[list[Value]]
    acts: list[list[Value]] | None
    inputs: list[tuple[Any, ...]]
    source: Layer | None = None
    into: Layer | None = None

    @property
    def outputs(self) -> list[list[Value]]:
        """a = f(z) per sample and unit (z itself for a linear layer)."""
        return self.acts if self.acts is not None else self.rows


def _natural(text: str) -> tuple:
    """``layers.10`` after ``layers.9``: digits compare as numbers."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _module(path: str) -> str:
    """``layers.1.neurons.0`` → ``layers.1`` (the path without its trailing indices and the
    attribute name before them, as the drawings cluster neurons)."""
    parts = path.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts[:-1])


def _pieces(node: Value) -> tuple[tuple[Value, ...], tuple[Any, ...], Value | None] | None:
    """(weights, inputs, bias) of a linear node whose weights are leaves, else None."""
    flags = dict(node.op.params)
    n = int(flags["n"])
    parents = node.parents
    if not flags["weights"] or node._edges[1] is None:
        return None
    weights = parents[:n]
    inputs = parents[n:2 * n] if flags["inputs"] else tuple(node.local_grads[:n])
    bias = parents[-1] if flags["bias"] else None
    if any(w._edges for w in weights) or (bias is not None and bias._edges):
        return None
    return weights, inputs, bias


def find_layers(root: Value, groups: Mapping[Value, str] | None = None) -> list[Layer]:
    """The layers of ``root``'s graph, in forward order (see the module docstring)."""
    order = topological_order(root)
    position = {v: k for k, v in enumerate(order)}
    consumers: dict[Value, list[Value]] = {}
    for node in order:
        for parent in node.parents:
            consumers.setdefault(parent, []).append(node)
    # one instance per (inputs, bias?, activation): a layer for one sample
    instances: dict[tuple, list[list[tuple[Value, Value | None]]]] = {}
    for node in order:
        if not isinstance(node.op, ops.LinearOp):
            continue
        pieces = _pieces(node)
        if pieces is None:
            continue
        weights, inputs, bias = pieces
        after = consumers.get(node, [])
        act = after[0] if (len(after) == 1 and node is not root and after[0].op.arity == 1
                           and after[0]._edges[1] is not None) else None
        key = (tuple(id(x) if isinstance(x, Value) else float(x).hex() for x in inputs),
               bias is not None, act.op if act is not None else None)
        copies = instances.setdefault(key, [])
        for members in copies:  # equal plain-number inputs: another sample, same numbers
            if all(m[0].parents[0] is not weights[0] for m in members):
                members.append((node, act))
                break
        else:
            copies.append([(node, act)])
    # instances with one weight matrix: the samples of one layer
    batches: dict[tuple, list[list[tuple[Value, Value | None]]]] = {}
    for (_, _, op), copies in instances.items():
        for members in copies:
            units = frozenset(row.parents[0] for row, _ in members)
            batches.setdefault((units, op), []).append(members)
    groups = groups or {}
    reached = _reached(root)
    layers = []
    for (_, op), samples in batches.items():
        layer = _layer(samples, op, consumers, reached, groups)
        if layer is not None:
            layers.append(layer)
    layers.sort(key=lambda layer: position[layer.rows[0][0]])
    _number(layers, groups)
    _chain(layers, consumers, root)
    return layers


def _reached(root: Value) -> dict[Value, int]:
    """Each node's rank in a depth-first walk from ``root`` taking parents in order: a sum
    of per-sample losses reaches sample 0's nodes first, then sample 1's, ..."""
    rank: dict[Value, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node in rank:
            continue
        rank[node] = len(rank)
        stack.extend(reversed(node.parents))
    return rank


def _layer(samples: list, op: ops.Op | None, consumers: dict, position: dict,
           groups: Mapping[Value, str]) -> Layer | None:
    """The layer made of these per-sample instances (in the order ``position`` ranks their
    nodes), or None when it breaks the rule."""
    samples.sort(key=lambda members: min(position[row] for row, _ in members))
    first = samples[0]

    def unit_key(member: tuple[Value, Value | None]) -> tuple:
        w = member[0].parents[0]
        path = groups.get(w) if isinstance(groups.get(w), str) else None
        return (_natural(path or w.label or ""), position[member[0]])

    first.sort(key=unit_key)
    pieces = [_pieces(row) for row, _ in first]
    weights = tuple(p[0] for p in pieces)  # type: ignore[index]
    bias = tuple(p[2] for p in pieces) if pieces[0][2] is not None else None  # type: ignore
    rows, acts, inputs = [], [], []
    for members in samples:
        by_unit = {row.parents[0]: (row, act) for row, act in members}
        if len(by_unit) != len(members) or len(members) != len(weights):
            return None
        ordered = [by_unit[w[0]] for w in weights]
        rows.append([row for row, _ in ordered])
        acts.append([act for _, act in ordered])
        inputs.append(_pieces(ordered[0][0])[1])  # type: ignore[index]
    params = [w for row in weights for w in row] + list(bias or ())
    if len(set(params)) < len(params) or set(params) & {
            x for xs in inputs for x in xs if isinstance(x, Value)}:
        return None  # a parameter used twice, or as an input too
    if any(len(consumers[p]) != len(samples) for p in params):
        return None  # read elsewhere too (a penalty): ∂L/∂W is not Σ δ aᵀ
    if any(_pieces(z)[0] != w or (bias is not None and _pieces(z)[2] is not bias[u])  # type: ignore
           for sample in rows for u, (z, w) in enumerate(zip(sample, weights, strict=True))):
        return None  # one unit's weights differ between samples
    return Layer(0, "", weights, bias, op, rows, acts if op is not None else None, inputs)


def _number(layers: list[Layer], groups: Mapping[Value, str]) -> None:
    """Number the layers 1, 2, ... and name each by its module path, else ``layer k``."""
    for k, layer in enumerate(layers, 1):
        layer.number = k
        paths = {groups.get(w) for row in layer.weights for w in row}
        modules = {_module(p) if isinstance(p, str) else "" for p in paths}
        module = modules.pop() if len(modules) == 1 else ""
        layer.name = module or f"layer {k}"


def _chain(layers: list[Layer], consumers: dict, root: Value) -> None:
    """Link each layer to the layer below whose outputs are its inputs (``source``), and
    mark the layer below as feeding only this one (``into``) when nothing else reads it."""
    outputs_of = {}
    for layer in layers:
        for s, outs in enumerate(layer.outputs):
            outputs_of[tuple(outs)] = (layer, s)
    for layer in layers:
        found = {outputs_of.get(tuple(x)) for x in layer.inputs}
        below = {f[0] for f in found if f is not None}
        if None in found or len(below) != 1 or [f[1] for f in (
                outputs_of[tuple(x)] for x in layer.inputs)] != list(range(len(layer.inputs))):
            continue
        source = layer.source = below.pop()
        rows = {r for sample in layer.rows for r in sample}
        if all(v is not root and consumers.get(v) and all(c in rows for c in consumers[v])
               for sample in source.outputs for v in sample):
            source.into = layer


def subscript(k: int) -> str:
    """``12`` → ``₁₂``."""
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def names(layer: Layer) -> dict[str, str]:
    """The symbols of a layer's quantities: ``z₂``, ``a₂`` (which is z₂ in a linear layer),
    ``W₂``, ``b₂``, ``δ₂`` and its input (``x``, or the output of the layer below: ``a₁``)."""
    k = subscript(layer.number)
    below = layer.source
    if below is None:
        x = "x" if layer.number == 1 else f"x{k}"
    else:
        x = f"a{subscript(below.number)}"
    return {"z": f"z{k}", "a": f"a{k}", "W": f"W{k}", "b": f"b{k}", "d": f"δ{k}", "x": x}


def values(items: Sequence[Sequence[Any]]) -> list[list[float]]:
    """Nested lists of the numbers (a Value's ``data``, a number as a float)."""
    return [[float(x.data) if isinstance(x, Value) else float(x) for x in row] for row in items]
