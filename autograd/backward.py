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

from collections.abc import Callable, Iterator, Sequence
from math import isfinite as _isfinite
from typing import Any, Protocol

from .ops import MASK


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

    @property
    def _edges(self) -> tuple: ...

    @property
    def _backward(self) -> Callable[[], None]: ...


_checked: Callable[[Any, float], None] | None = None
"""The backward that runs instead of the fast loop (set by :func:`use_checked_backward`)."""

_closures = False
"""Whether a node was ever made micrograd's way (see :func:`note_closure_nodes`)."""


def use_checked_backward(checked: Callable[[Any, float], None] | None) -> None:
    """Run ``checked(root, grad)`` instead of the fast loop on every ``backward`` (as
    ``detect_anomaly`` does while it is active); ``None`` puts the fast loop back."""
    global _checked
    _checked = checked


def note_closure_nodes() -> None:
    """Called once a node is made micrograd's way, ``Value(data, children, op)``: such a node
    is stored as n-ary with ``None`` locals and its ``_backward`` closure in ``_da``. From then
    on every backward pass first checks that each such node of its graph has a closure."""
    global _closures
    _closures = True


def skips(grad: float, edges: tuple) -> bool:
    """The rule both backward loops follow for an n-ary node: its products are left out when
    its ``grad`` is 0 and its local derivatives (``edges[1::2]``) are all finite, so every
    product is a zero (a sample with no hinge loss). A parent's grad is then left exactly as
    it was (adding a +0.0 would turn a −0.0 grad into 0.0). With a ±inf or NaN local the
    products are taken, so 0 × inf still gives NaN as in PyTorch."""
    return not grad and _isfinite(sum(edges[1::2]))  # (an overflowing sum counts as not finite)


def check_closures(order: Sequence[Node]) -> None:
    """Before a backward pass writes anything: every node of ``order`` made as
    ``Value(data, children, op)`` must have its ``_backward`` closure (TypeError otherwise)."""
    if _closures and order:
        nary = order[0]._nary
        for node in order:
            if node._b is nary and node._a[1] is None and node._da is None:
                node._backward()  # raises, saying what to assign


def interior_order(root: Node, prune: Callable[[Any], bool] | None = None) -> list[Node]:
    """The non-leaf nodes ``root`` depends on, root first, each before all of its parents.

    This is the order backward visits nodes (reverse topological order). An explicit stack
    replaces recursion, so a chain of a million nodes is fine. A node is expanded once; if a
    parent still has to be visited, a ``None`` above the node on the stack marks the moment
    all its parents are done, otherwise it is emitted at once. In a DAG a parent already
    seen is already done (a seen but unfinished parent would be a cycle).

    ``prune`` (forward mode's): an edge of a one- or two-parent node whose local derivative is
    :data:`~autograd.ops.MASK` is not followed when ``prune(parent)`` is true; the parent is
    left out unless another edge reaches it.
    """
    order: list[Node] = []
    if not hasattr(root, "_nary"):  # a model, a list, a number: say so, not AttributeError
        raise TypeError(f"expected a Value (a graph's root), got {type(root).__name__}")
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
        elif a._a is not None and a not in seen and not (
                node._da is MASK and prune and prune(a)):
            push(node)
            push(None)
            push(a)
            if b is not None and b._a is not None and b not in seen and not (
                    node._db is MASK and prune and prune(b)):
                push(b)
            continue
        elif b is not None and b._a is not None and b not in seen and not (
                node._db is MASK and prune and prune(b)):
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
    for an inf or NaN ``node.grad``, as PyTorch's ``where``. An n-ary node is skipped by the rule
    of :func:`skips` (grad 0, finite locals), which :func:`steps` follows too.
    """
    if _checked is not None:
        return _checked(root, grad)
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
            elif not skips(g, e):
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
    the ones ``backward`` computes. An n-ary node that backward skips (:func:`skips`) adds
    nothing: its edges have ``added`` None and ``after`` equal to ``before``. A node made as
    ``Value(data, children, op)`` runs its closure on the table's numbers (every ``.grad``
    it touches is put back), one edge per distinct parent with ``local`` and ``added`` None.
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
        elif node._b is node._nary and skips(g, e):  # nothing added, as backward skips it
            it = iter(e)
            edges = [(parent, local, None, grads[parent], grads[parent])
                     for parent, local in zip(it, it)]
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
