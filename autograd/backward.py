"""Topological order without recursion, and the backward pass: :func:`backward` writes
``.grad``; :func:`steps` is the same pass as data on a side table, which the step records,
tables and the stepper (:mod:`autograd.trace`) are built on. The two share the visiting order,
the edges and the arithmetic; ``backward`` keeps its own tight loop (no records, no calls per
edge), which is most of the engine's backward time.

This module reads the node layout of :mod:`autograd.value` through the nodes themselves and
knows no Value class: a node with one or two parents keeps them in ``_a``/``_b`` and their
local derivatives in ``_da``/``_db``; an n-ary node keeps the interleaved edges in ``_a`` and
the marker ``node._nary`` in ``_b``; a leaf has ``_a is None``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from math import isfinite as _isfinite
from typing import Any, Protocol

from .ops import RULES as _RULES
from .ops import Mask as _Mask
from .ops import to_float as _to_float


class Node(Protocol):
    """What this module reads of a graph node (an :class:`autograd.value.Value`)."""

    data: float
    grad: Any
    op: Any
    _a: Any
    _da: Any
    _b: Any
    _db: Any
    _nary: object
    _edges: tuple


_anomaly_backward = None  # set by autograd.anomaly.detect_anomaly() while it is active

closures = False
"""Set once a node is made micrograd's way, ``Value(data, children, op)`` (value.py): such a
node is stored as n-ary with ``None`` locals and its ``_backward`` closure in ``_da``. From
then on backward first checks that every such node of its graph has a closure."""


def check_closures(order: Sequence[Node]) -> None:
    """Before a backward pass writes anything: every node of ``order`` made as
    ``Value(data, children, op)`` must have its ``_backward`` closure (TypeError otherwise)."""
    if closures and order:
        nary = order[0]._nary
        for node in order:
            if node._b is nary and node._a[1] is None and node._da is None:
                node._backward()  # raises, saying what to assign


def interior_order(root: Node) -> list[Node]:
    """The non-leaf nodes ``root`` depends on, root first, each before all of its parents.

    This is the order backward visits nodes (reverse topological order). An explicit stack
    replaces recursion, so a chain of a million nodes is fine. A node is expanded once; if a
    parent still has to be visited, a ``None`` above the node on the stack marks the moment
    all its parents are done, otherwise it is emitted at once. In a DAG a parent already
    seen is already done (a seen but unfinished parent would be a cycle).
    """
    order: list[Node] = []
    if root._a is None:
        return order
    nary = root._nary
    seen: set[Node] = set()
    stack: list = [root]
    push, pop, emit, mark = stack.append, stack.pop, order.append, seen.add
    covered = seen.issuperset
    while stack:
        node = pop()
        if node is None:
            emit(pop())
            continue
        if node in seen:
            continue
        mark(node)
        a = node._a
        b = node._b
        if b is nary:  # in a layer, most have every parent done already (one set test)
            parents = a[0::2]
            if not covered(parents):
                push(node)
                push(None)
                for parent in parents:
                    if parent not in seen:
                        if parent._a is not None:
                            push(parent)
                        else:
                            mark(parent)  # leaves join ``seen`` only to make the test pass
                continue
        elif a._a is not None and a not in seen:
            push(node)
            push(None)
            push(a)
            if b is not None and b._a is not None and b not in seen:
                push(b)
            continue
        elif b is not None and b._a is not None and b not in seen:
            push(node)
            push(None)
            push(b)
            continue
        emit(node)  # every parent already done: no need to come back
    order.reverse()
    return order


def topological_order(root: Node) -> list[Node]:
    """Every node ``root`` depends on, leaves included, each after all of its parents."""
    interior = interior_order(root)
    if not interior:
        return [root]
    leaves: dict[Node, None] = {}
    for node in reversed(interior):
        for parent in node._edges[0::2]:
            if parent._a is None:
                leaves[parent] = None
    return list(leaves) + interior[::-1]


def backward(root: Node, grad: float = 1.0) -> None:
    """Set ∂root/∂node · grad on every node root depends on.

    Interior nodes start from 0 on every call; leaves accumulate (as in PyTorch). Each node,
    once all its consumers are done, adds ``node.grad × local`` into each parent; a local
    derivative that is :data:`~autograd.ops.MASK` (an off ReLU) makes that product 0 even
    for an inf or NaN ``node.grad``, as PyTorch's ``where``. An n-ary node whose grad is 0
    and whose local derivatives are all finite adds only zeros, so it is skipped (a sample
    with no hinge loss); with a ±inf or NaN local the products are taken, so 0 × inf still
    gives NaN as in PyTorch.
    """
    if _anomaly_backward is not None:
        return _anomaly_backward(root, grad)
    order = interior_order(root)
    if not order:
        root.grad += grad
        return
    check_closures(order)
    for node in order:
        node.grad = 0.0
    root.grad = grad
    nary = root._nary
    for node in order:
        g = node.grad
        b = node._b
        if b is None:
            a = node._a
            a.grad += g * node._da
        elif b is not nary:
            a = node._a
            a.grad += g * node._da
            b.grad += g * node._db
        else:
            e = node._a
            if e[1] is None:  # made as Value(data, children, op): its closure pushes
                node._da()
            elif g or not _isfinite(sum(e[1::2])):  # (a sum that overflows counts as not finite)
                it = iter(e)
                for parent, local in zip(it, it):
                    parent.grad += g * local


def steps(
    root: Node, seed: float, order: Sequence[Node], grads: dict
) -> Iterator[tuple[Node, float, list[tuple]]]:
    """The backward pass as data, on the side table ``grads`` (a gradient for every node of
    ``order``, which is topological), touching no ``.grad``.

    For each interior node in backward's order it yields (node, ∂root/∂node, edges) with one
    (parent, local, added, before, after) per edge, after adding ``added = g × local`` into
    ``grads[parent]``: backward's float operations in backward's order, so the numbers are
    the ones ``backward`` computes. A node made as ``Value(data, children, op)`` runs its
    closure on the table's numbers (every ``.grad`` it touches is put back), one edge per
    distinct parent with ``local`` and ``added`` None.
    """
    grads[root] = seed
    for node in reversed(order):
        e = node._edges
        if not e:
            continue
        g = grads[node]
        edges = []
        if e[1] is None:
            parents = list(dict.fromkeys(e[0::2]))
            for parent, after in zip(parents, _run_closure(node, g, [grads[p] for p in parents])):
                edges.append((parent, None, None, grads[parent], after))
                grads[parent] = after
        else:
            it = iter(e)
            for parent, local in zip(it, it):
                before = grads[parent]
                added = g * local
                grads[parent] = after = before + added
                edges.append((parent, local, added, before, after))
        yield node, g, edges


def _run_closure(node: Node, grad: float, parent_grads: list[float]) -> list[float]:
    """The parents' grads after ``node``'s ``_backward`` closure runs from ``grad`` and
    ``parent_grads``; every ``.grad`` it touches is put back as it was."""
    parents = list(dict.fromkeys(node._edges[0::2]))
    saved = [(v, v.grad) for v in (node, *parents)]
    try:
        node.grad = grad
        for parent, g in zip(parents, parent_grads):
            parent.grad = g
        node._da()
        return [parent.grad for parent in parents]
    finally:
        for v, g in saved:
            v.grad = g


def _product(g, local):
    """g·local for a gradient and a local derivative (floats or Values). A float factor of 1
    is dropped (exact in IEEE arithmetic), so a differentiable backward grows no ×1 nodes;
    a MASK local gives the constant 0 (a ``where``, whatever ``g`` is)."""
    if type(local) is _Mask:
        return 0.0
    if type(local) is float and local == 1.0:
        return g
    if type(g) is float and g == 1.0:
        return local
    return g * local


def grad(
    outputs: Node | Sequence[Node],
    inputs: Node | Sequence[Node],
    grad_outputs: float | Node | Sequence[float | Node] | None = None,
    create_graph: bool = False,
) -> list:
    """∂(Σₖ vₖ·outputsₖ)/∂input for each input (vₖ from ``grad_outputs``, default 1), as
    ``torch.autograd.grad``; no ``.grad`` anywhere is read or written.

    Inputs may be leaves or interior nodes; an input the outputs do not depend on gets 0.
    Without ``create_graph`` the gradients are floats, from the local derivatives stored at
    forward time. With it they are Values: the local derivatives are recomputed as Values by
    the op table's rules (``op.local_of(node, parents, node)``), so the returned gradients
    have a graph of their own and can be differentiated again (higher-order derivatives); a
    gradient may be a node of the original graph (∂(x·y)/∂x is ``y`` itself). A custom op's
    rule must use the helpers of :mod:`autograd.ops` (``ops.cos``, not ``math.cos``) for that:
    a ``math`` function turns a Value into a constant, which makes higher derivatives wrong
    (``gradcheck(..., order=2)`` finds it). :func:`autograd.grad` also takes a function.
    """
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    targets = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    for what, nodes in (("outputs", outs), ("inputs", targets)):
        for node in nodes:
            if not _is_node(node):
                raise TypeError(f"grad: {what} must be Values, got {type(node).__name__}")
    if grad_outputs is None:
        seeds: list = [1.0] * len(outs)
    else:
        seeds = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    if len(seeds) != len(outs):
        raise ValueError(f"grad: {len(seeds)} grad_outputs for {len(outs)} outputs")
    if not create_graph:
        seeds = [s.data if _is_node(s) else s for s in seeds]
    seeds = [s if _is_node(s) else _to_float(s, "grad: a grad_output") for s in seeds]
    node_type = type(outs[0])
    hub = node_type(0.0)  # one node above all outputs, so a single walk orders them together
    hub._a, hub._b = tuple(x for out in outs for x in (out, 1.0)), hub._nary
    order = interior_order(hub)[1:]
    needed = set(targets)  # nodes some input is reachable from; the walk skips the rest
    for node in reversed(order):
        if not needed.isdisjoint(node._edges[0::2]):
            needed.add(node)
    grads: dict = {}
    for out, seed in zip(outs, seeds, strict=True):
        grads[out] = seed if out not in grads else grads[out] + seed
    for node in order:
        g = grads.get(node)
        if g is None or node not in needed:
            continue
        parents = node._edges[0::2]
        local_grads = node._edges[1::2]
        if create_graph or local_grads[0] is None:  # (None: a closure node, whose op raises)
            token = _RULES.set(True)
            try:
                local_grads = node.op.local_of(node, parents, node)
            finally:
                _RULES.reset(token)
        for parent, local in zip(parents, local_grads, strict=True):
            if parent in needed:
                term = _product(g, local)
                prev = grads.get(parent)
                grads[parent] = term if prev is None else prev + term
    results = [grads.get(x, 0.0) for x in targets]
    if create_graph:
        return [r if _is_node(r) else node_type(r) for r in results]
    return results


def _is_node(x: object) -> bool:
    """Whether ``x`` is a graph node (a Value, read through its layout)."""
    return hasattr(type(x), "_nary")
