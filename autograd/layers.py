"""The layers of a recorded graph: linear nodes over the same inputs, then the same activation.

A graph built by ``nn.Layer`` is one ``linear`` node per neuron over the same inputs, then the
same one-operand op on each: exactly z = W x + b, a = f(z). :func:`find_layers` is the one rule
that finds them, for the layer view (:mod:`autograd.layerview`) and for the compiler's matrix
code (:mod:`autograd.layered`): ``linear`` nodes whose weights and bias are leaves and whose
inputs are the same operands, each followed by the same one-operand op (or by nothing), no
parameter used twice or as an input too. The inputs may be the same plain numbers (an ``nn``
model fed floats), and a graph may hold a batch: the instances of one layer (one per sample)
share their weight matrix, so they become the rows of one layer, samples × units. A parameter
read by anything but its layer's linear nodes (a penalty, say) leaves its layer to scalar
boxes, since then ∂L/∂W is no longer Σ δ aᵀ; with ``exclusive=False`` only a read by another
layer does (the compiler writes the other reads' terms as scalar lines).

A layer is named by the module path ``groups`` gives its parameters (``layers.1`` for
``layers.1.neurons.0``), else ``layer 1``, ``layer 2``, ... in forward order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from . import ops
from .backward import topological_order
from .value import Value


@dataclass(eq=False)
class Layer:
    """One layer over a batch: ``rows[s][u]`` is unit u's linear node for sample s (z),
    ``acts[s][u]`` its activation (None for a linear layer), ``inputs[s]`` sample s's inputs
    (Values or numbers), ``weights[u][i]`` and ``bias[u]`` the parameters, ``op`` the
    activation's op. ``source``: the layer whose outputs are these inputs, sample by sample;
    ``into``: the layer above that alone reads every output of this one (on the way to the
    first output)."""

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


class _Row(NamedTuple):
    """A linear node z = w·x + b with parameter weights and bias, and the one op after it."""

    z: Value
    act: Value | None
    weights: tuple[Value, ...]
    inputs: tuple[Any, ...]
    bias: Value | None


def graph_nodes(outputs: Sequence[Value]) -> tuple[Value, ...]:
    """Every node of the outputs' graphs, each once, in forward order (output by output)."""
    order: dict[Value, None] = {}
    for out in outputs:
        # topological_order is typed over any node; the graph of a Value holds Values
        order.update(dict.fromkeys(cast("list[Value]", topological_order(out))))
    return tuple(order)


def consumers(nodes: Sequence[Value]) -> dict[Value, list[Value]]:
    """Node → the nodes that have it as a parent (once per edge)."""
    found: dict[Value, list[Value]] = {}
    for node in nodes:
        for parent in node.parents:
            found.setdefault(parent, []).append(node)
    return found


def find_layers(outputs: Value | Sequence[Value], groups: Mapping[Value, str] | None = None,
                *, inputs: Sequence[Value] | None = None, params: Sequence[Value] | None = None,
                exclusive: bool = True) -> list[Layer]:
    """The layers of the outputs' graphs, in forward order (see the module docstring).

    ``groups``: parameter → module path, for the layers' names and the units' order (else
    the weights' labels). ``inputs``: when given, only linear nodes that depend on them count
    (a compiled program's per-sample inputs). ``params``: when given, the only leaves that
    may be weights and biases, and the units' order (where their weights sit among them).
    ``exclusive=False``: a parameter of a layer may also be read outside layers."""
    outs = (outputs,) if isinstance(outputs, Value) else tuple(outputs)
    nodes = graph_nodes(outs)
    readers = consumers(nodes)
    index = {p: k for k, p in enumerate(params)} if params is not None else None
    rows = _rows(nodes, outs, readers, inputs, index)
    rank = _reached(outs)
    groups = groups or {}

    def unit_key(row: _Row) -> tuple:
        w = row.weights[0]
        if index is not None:
            return (index[w],)
        path = groups.get(w)
        return (_natural((path if isinstance(path, str) else None) or w.label or ""),
                rank[row.z])

    layer_rows = {row.z for row in rows} if not exclusive else None
    layers = []
    for (_, op), samples in _batches(rows).items():
        layer = _layer(samples, op, readers, rank, unit_key, layer_rows)
        if layer is not None:
            layers.append(layer)
    position = {v: k for k, v in enumerate(nodes)}
    layers.sort(key=lambda layer: min(position[z] for zs in layer.rows for z in zs))
    _number(layers, groups)
    _chain(layers, readers if len(outs) == 1 else consumers(graph_nodes(outs[:1])), outs[0])
    return layers


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


def _pieces(node: Value, index: Collection[Value] | None) -> _Row | None:
    """The linear node as a row (its activation not yet known) when its local derivatives
    are recorded and its weights and bias are leaves (among ``index`` when given)."""
    if not isinstance(node.op, ops.LinearOp) or node._edges[1] is None:
        return None
    flags = dict(node.op.params)
    n, parents = int(flags["n"]), node.parents
    if not flags["weights"]:
        return None
    weights = parents[:n]
    inputs = parents[n:2 * n] if flags["inputs"] else tuple(node.local_grads[:n])
    bias = parents[-1] if flags["bias"] else None
    params = (*weights, bias) if bias is not None else weights
    if not all(p.is_leaf if index is None else p in index for p in params):
        return None
    return _Row(node, None, weights, inputs, bias)


def _rows(nodes: tuple[Value, ...], outs: tuple[Value, ...], readers: dict[Value, list[Value]],
          inputs: Sequence[Value] | None, index: Collection[Value] | None) -> list[_Row]:
    """The linear nodes that can be a layer's rows (that depend on ``inputs`` when given),
    each with the one-operand op that alone reads it, unless it is an output."""
    per_sample = set(inputs) if inputs is not None else None
    found = []
    for node in nodes:
        if per_sample is not None:
            if node.is_leaf or not any(p in per_sample for p in node.parents):
                continue
            per_sample.add(node)
        row = _pieces(node, index)
        if row is None:
            continue
        after = readers.get(node, [])
        op = after[0].op if len(after) == 1 else None
        if node not in outs and op is not None and op.arity == 1 and \
                after[0]._edges[1] is not None:
            row = row._replace(act=after[0])
        found.append(row)
    return found


def _batches(rows: list[_Row]) -> dict[tuple, list[list[_Row]]]:
    """The rows as per-sample instances of a layer, grouped by weight matrix: (first weights,
    activation op) → instances. An instance is the rows over the same inputs (equal plain
    numbers: the same exact floats), bias or not and activation op; rows whose first weight
    is already in the instance are another sample's (same numbers)."""
    instances: dict[tuple, list[list[_Row]]] = {}
    for row in rows:
        op = row.act.op if row.act is not None else None
        key = (tuple(id(x) if isinstance(x, Value) else float(x).hex() for x in row.inputs),
               row.bias is not None, op)
        copies = instances.setdefault(key, [])
        for members in copies:
            if all(m.weights[0] is not row.weights[0] for m in members):
                members.append(row)
                break
        else:
            copies.append([row])
    batches: dict[tuple, list[list[_Row]]] = {}
    for (_, _, op), copies in instances.items():
        for members in copies:
            units = frozenset(m.weights[0] for m in members)
            batches.setdefault((units, op), []).append(members)
    return batches


def _reached(outs: tuple[Value, ...]) -> dict[Value, int]:
    """Each node's rank in a depth-first walk from the outputs taking parents in order: a sum
    of per-sample losses reaches sample 0's nodes first, then sample 1's, ..."""
    rank: dict[Value, int] = {}
    stack = list(reversed(outs))
    while stack:
        node = stack.pop()
        if node in rank:
            continue
        rank[node] = len(rank)
        stack.extend(reversed(node.parents))
    return rank


def _layer(samples: list[list[_Row]], op: ops.Op | None, readers: dict[Value, list[Value]],
           rank: dict[Value, int], unit_key: Callable[[_Row], tuple],
           layer_rows: set[Value] | None) -> Layer | None:
    """The layer made of these per-sample instances (in the order ``rank`` gives their
    nodes, units by ``unit_key``), or None when it breaks the rule. ``layer_rows``: when
    given, the only readers of a parameter that count (every candidate row)."""
    samples.sort(key=lambda members: min(rank[row.z] for row in members))
    first = sorted(samples[0], key=unit_key)
    weights = tuple(row.weights for row in first)
    bias = tuple(cast(Value, row.bias) for row in first) if first[0].bias is not None else None
    ordered = []
    for members in samples:
        by_unit = {row.weights[0]: row for row in members}
        if len(by_unit) != len(members) or len(members) != len(weights):
            return None
        ordered.append([by_unit[w[0]] for w in weights])
    params = [w for row in weights for w in row] + list(bias or ())
    if len(set(params)) < len(params) or set(params) & {
            x for sample in ordered for x in sample[0].inputs if isinstance(x, Value)}:
        return None  # a parameter used twice, or as an input too
    if any(len([r for r in readers[p] if layer_rows is None or r in layer_rows])
           != len(samples) for p in params):
        return None  # read elsewhere too (a penalty): ∂L/∂W is not Σ δ aᵀ
    if any(row.weights != w or (bias is not None and row.bias is not bias[u])
           for sample in ordered for u, (row, w) in enumerate(zip(sample, weights, strict=True))):
        return None  # one unit's weights differ between samples
    acts = [[cast(Value, row.act) for row in sample] for sample in ordered]
    return Layer(0, "", weights, bias, op, [[row.z for row in sample] for sample in ordered],
                 acts if op is not None else None, [sample[0].inputs for sample in ordered])


def _number(layers: list[Layer], groups: Mapping[Value, str]) -> None:
    """Number the layers 1, 2, ... and name each by its module path, else ``layer k``."""
    for k, layer in enumerate(layers, 1):
        layer.number = k
        paths = {groups.get(w) for row in layer.weights for w in row}
        modules = {_module(p) if isinstance(p, str) else "" for p in paths}
        module = modules.pop() if len(modules) == 1 else ""
        layer.name = module or f"layer {k}"


def _chain(layers: list[Layer], readers: dict[Value, list[Value]], root: Value) -> None:
    """Link each layer to the layer below whose outputs are its inputs (``source``), and
    mark the layer below as feeding only this one (``into``) when nothing else in ``root``'s
    graph (``readers``) reads it."""
    outputs_of = {}
    for layer in layers:
        for s, outs in enumerate(layer.outputs):
            outputs_of[tuple(outs)] = (layer, s)
    for layer in layers:
        found = [outputs_of.get(tuple(x)) for x in layer.inputs]
        below = {f[0] for f in found if f is not None}
        if None in found or len(below) != 1 or [
                cast(tuple, f)[1] for f in found] != list(range(len(layer.inputs))):
            continue
        source = layer.source = below.pop()
        rows = {r for sample in layer.rows for r in sample}
        if all(v is not root and readers.get(v) and all(c in rows for c in readers[v])
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
