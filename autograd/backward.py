"""Topological order without recursion, and the backward pass."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .value import Value

_edges_of = attrgetter("_edges")  # truthy for interior nodes: filters at C speed


def interior_order(root: Value) -> list[Value]:
    """The non-leaf nodes ``root`` depends on, root first, each before all of its parents.

    This is the order backward visits nodes (reverse topological order). An explicit stack
    replaces recursion, so a chain of a million nodes is fine. A node is expanded once; a
    ``None`` above it on the stack marks the moment all its parents are done.
    """
    order: list[Value] = []
    if not root._edges:
        return order
    seen: set[Value] = set()
    stack: list = [root]
    push, pop, emit, mark = stack.append, stack.pop, order.append, seen.add
    while stack:
        node = pop()
        if node is None:
            emit(pop())
            continue
        if node in seen:
            continue
        mark(node)
        push(node)
        push(None)
        for parent in filter(_edges_of, node._edges[0::2]):
            if parent not in seen:
                push(parent)
    order.reverse()
    return order


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, leaves included, each after all of its parents."""
    interior = interior_order(root)
    if not interior:
        return [root]
    leaves: dict[Value, None] = {}
    for node in reversed(interior):
        for parent in node._edges[0::2]:
            if not parent._edges:
                leaves[parent] = None
    return list(leaves) + interior[::-1]


def backward(root: Value, grad: float = 1.0) -> None:
    """Set ∂root/∂node · grad on every node root depends on.

    Interior nodes start from 0 on every call; leaves accumulate (as in PyTorch). Each node,
    once all its consumers are done, adds ``node.grad × local`` into each parent.
    """
    order = interior_order(root)
    if not order:
        root.grad += grad
        return
    for node in order:
        node.grad = 0.0
    root.grad = grad
    for node in order:
        g = node.grad
        e = node._edges
        n = len(e)
        if n == 4:
            a, da, b, db = e
            a.grad += g * da
            b.grad += g * db
        elif n == 2:
            a, da = e
            a.grad += g * da
        else:
            it = iter(e)
            for parent, local in zip(it, it):
                parent.grad += g * local
