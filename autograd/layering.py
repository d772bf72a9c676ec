"""Layers in a recorded graph: the linear nodes over the same inputs, then the same activation.

A graph built by ``nn.Layer`` is one ``linear`` node per neuron over the same input Values,
then the same one-operand op on each: exactly z = W a + b, a′ = f(z). :func:`find_layers`
finds such groups, the compiler's matrix code (:mod:`autograd.layered`) and the views read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import ops
from .backward import topological_order
from .program import numpy_module
from .value import Value


@dataclass(frozen=True, eq=False)
class Layer:
    """Linear rows over the same inputs, in the order of their weights among the params.

    ``weights``: the params' indices of W (a rows × inputs NumPy array); ``bias``: of b
    (rows × 1), or None; ``op``: the one-operand op after every row, whose nodes are
    ``acts`` (both None: no activation)."""

    rows: tuple[Value, ...]
    acts: tuple[Value, ...] | None
    inputs: tuple[Value, ...]
    weights: Any
    bias: Any
    op: ops.Op | None

    @property
    def outputs(self) -> tuple[Value, ...]:
        """What the layer gives the nodes after it: a = f(z), or z without an activation."""
        return self.acts if self.acts is not None else self.rows


def graph_nodes(outputs: Sequence[Value]) -> tuple[Value, ...]:
    """Every node of the outputs' graphs, each once, in forward order (output by output)."""
    order: dict[Value, None] = {}
    for out in outputs:
        order.update(dict.fromkeys(topological_order(out)))
    return tuple(order)


def consumers(nodes: Sequence[Value]) -> dict[Value, list[Value]]:
    """Node → the nodes that have it as a parent (once per edge)."""
    found: dict[Value, list[Value]] = {}
    for node in nodes:
        for parent in node.parents:
            found.setdefault(parent, []).append(node)
    return found


def find_layers(outputs: Sequence[Value], inputs: Sequence[Value], params: Sequence[Value]
                ) -> list[Layer]:
    """The layers of the outputs' graphs, in forward order: linear nodes that depend on the
    ``inputs``, whose weights and bias are ``params`` and whose inputs are the same Values,
    each followed by the same one-operand op (or all by nothing). A group that uses a
    parameter twice, or as an input too, is no layer."""
    np = numpy_module()
    nodes = graph_nodes(outputs)
    index = {p: k for k, p in enumerate(params)}
    position = {v: k for k, v in enumerate(nodes)}
    layers = []
    for (inputs_, has_bias, op), members in _rows(nodes, inputs, index, outputs).items():
        n = len(inputs_)
        members.sort(key=lambda m: index[m[0].parents[0]])
        rows = tuple(row for row, _ in members)
        weights = np.array([[index[w] for w in row.parents[:n]] for row in rows])
        bias = np.array([[index[row.parents[2 * n]]] for row in rows]) if has_bias else None
        taken = weights.ravel().tolist() + ([] if bias is None else bias.ravel().tolist())
        if len(set(taken)) < len(taken) or set(taken) & {index.get(x) for x in inputs_}:
            continue  # a parameter used twice, or as an input too: left to scalar lines
        acts = tuple(act for _, act in members) if op is not None else None
        layers.append(Layer(rows, acts, inputs_, weights, bias, op))
    layers.sort(key=lambda layer: min(position[r] for r in layer.rows))
    return layers


def _rows(nodes: tuple[Value, ...], inputs: Sequence[Value], index: dict[Value, int],
          outputs: Sequence[Value]) -> dict[tuple, list[tuple[Value, Value | None]]]:
    """The per-sample linear nodes with parameter weights and bias, each with the one op
    after it (or None), grouped by (inputs, bias or not, that op)."""
    per_sample, outs = set(inputs), set(outputs)
    after = consumers(nodes)
    groups: dict[tuple, list[tuple[Value, Value | None]]] = {}
    for node in nodes:
        if node.is_leaf or not any(p in per_sample for p in node.parents):
            continue
        per_sample.add(node)
        if not isinstance(node.op, ops.LinearOp):
            continue
        flags = dict(node.op.params)
        if not (flags["weights"] and flags["inputs"]):
            continue
        n, parents = int(flags["n"]), node.parents
        if not all(v in index for v in (*parents[:n], *parents[2 * n:])):
            continue
        next_ = after.get(node, [])
        act = next_[0] if len(next_) == 1 and node not in outs and next_[0].op.arity == 1 else None
        key = (parents[n: 2 * n], bool(flags["bias"]), act.op if act is not None else None)
        groups.setdefault(key, []).append((node, act))
    return groups
