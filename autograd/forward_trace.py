"""Forward mode one node at a time: the tangent pass as records, a table and JSON.

``forward_trace(root, wrt)`` records the pass that gives every node of ``root``'s graph its
tangent ṅ = ∂n/∂x for x = ``wrt`` (seed ẋ = 1), from :func:`autograd.forward.forward_steps`,
so the numbers are the ones :func:`autograd.forward.tangents_of` computes. There is one
:class:`TangentStep` per interior node that depends on x, in topological order (parents
first): ṅ = Σ ∂n/∂p · ṗ over its edges. A node that does not depend on x has tangent 0 and
no step (its edges add no term: PyTorch's symbolic zero). The stepper
(``step_through(root, mode="forward", wrt=x)``) draws the pass frame by frame. Nothing reads
or writes ``.grad``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import cast

from .backward import topological_order
from .forward import forward_steps
from .trace import NodeInfo, node_infos, number_text, table_html, text_table
from .value import Value, to_float

FORMAT = "stepgrad-forward-trace"
VERSION = 1


def dotted(name: str) -> str:
    """The tangent of the node called ``name``, in text (Newton's dot): a dot above the
    letter of a name that is one letter and digits (``ẋ``, ``ḣ1``); any other name in
    parentheses, so that no dot seems to sit on part of a product (``(x·y)˙``, ``(#3)˙``)."""
    if name[:1].isalpha() and all(c.isdigit() for c in name[1:]):
        return name[:1] + "\u0307" + name[1:]
    return f"({name})\u02d9"


def _num(x: float | None) -> str:
    return "—" if x is None else number_text(x)  # None: the parent depends not on x


@dataclass(frozen=True)
class TangentEdge:
    """One parent edge of a step: ``local`` = ∂node/∂parent, ``tangent`` = the parent's ṗ and
    ``product`` = local × ṗ, the term it adds; both None when the parent does not depend on
    x (no term)."""

    parent: NodeInfo
    local: float
    tangent: float | None
    product: float | None


@dataclass(frozen=True)
class TangentStep:
    """The node that gets its tangent at this step: ``tangent`` = ṅ, the sum of its edges'
    products in edge order."""

    index: int
    node: NodeInfo
    tangent: float
    edges: tuple[TangentEdge, ...]


@dataclass(frozen=True)
class ForwardTrace:
    """A recorded tangent pass: ``nodes`` by id (topological order), ``wrt`` the node seeded
    with ``seed`` and ``steps`` in order. ``print(trace)`` gives a table with one line per
    edge, Jupyter shows it as HTML, ``to_json()`` writes it."""

    nodes: tuple[NodeInfo, ...]
    wrt: NodeInfo
    steps: tuple[TangentStep, ...]
    seed: float = 1.0

    @property
    def root(self) -> NodeInfo:
        return self.nodes[-1]

    @property
    def root_name(self) -> str:
        """The root's label, else ``L`` (as in the backward trace and the drawings)."""
        return self.root.label or "L"

    def name(self, node: NodeInfo) -> str:
        """A node's name in the text: its label, else ``#id``; an unlabelled root is ``L``."""
        return self.root_name if node.id == self.root.id else node.name

    def equation(self, k: int) -> str:
        """What step ``k`` (1-based) does, ``ṅ = Σ ∂n/∂p × ṗ`` with the numbers (frame 0:
        the seed)."""
        x = self.name(self.wrt)
        if k == 0:
            return (f"before the first step: {dotted(x)} = ∂{x}/∂{x} = {_num(self.seed)} (the "
                    f"seed); a node that does not depend on {x} has tangent 0; "
                    f"{len(self.steps)} steps to go")
        s = self.steps[k - 1]
        n = self.name(s.node)
        terms = [e for e in s.edges if e.product is not None]
        lines = [f"step {k}: {n} ({s.node.symbol}) = {_num(s.node.data)}, "
                 f"{dotted(n)} = ∂{n}/∂{x} = {_num(s.tangent)}",
                 f"  {dotted(n)} = " + " + ".join(f"∂{n}/∂{self.name(e.parent)} × "
                                                   f"{dotted(self.name(e.parent))}"
                                                   for e in terms)
                 + " = " + " + ".join(f"{_num(e.local)} × {_num(e.tangent)}" for e in terms)
                 + ("" if len(terms) == 1 else
                    " = " + " + ".join(_num(e.product) for e in terms))
                 + f" = {_num(s.tangent)}"]
        lines.extend(f"  ({self.name(e.parent)} does not depend on {x}: no term)"
                     for e in s.edges if e.product is None)
        return "\n".join(lines)

    _HEAD = ("step", "node", "op", "data", "tangent", "parent", "local", "parent's tangent",
             "product")

    def table(self) -> list[tuple[str, ...]]:
        """Header and rows of the step table (one row per edge), as strings."""
        rows: list[tuple[str, ...]] = [self._HEAD]
        for s in self.steps:
            for k, e in enumerate(s.edges):
                first = ((str(s.index + 1), self.name(s.node), s.node.symbol or "",
                          _num(s.node.data), _num(s.tangent)) if k == 0 else ("",) * 5)
                rows.append(first + (self.name(e.parent), _num(e.local), _num(e.tangent),
                                     _num(e.product)))
        return rows

    def __str__(self) -> str:
        x = self.name(self.wrt)
        return (f"tangents ∂node/∂{x}, seed {dotted(x)} = {_num(self.seed)}\n"
                + text_table(self.table(), left={1, 2, 5}))

    def _repr_html_(self) -> str:
        return table_html(self.table)

    def to_json(self) -> str:
        """JSON with the nodes, ``wrt`` (a node id), the seed and, per step, the node's
        tangent and its edges with local derivative, parent tangent and product (null: the
        parent does not depend on ``wrt``)."""
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "wrt": self.wrt.id,
            "seed": self.seed,
            "nodes": [
                {"id": n.id, "label": n.label, "op": n.op_name, "symbol": n.symbol, "data": n.data}
                for n in self.nodes
            ],
            "steps": [
                {"node": s.node.id, "tangent": s.tangent,
                 "edges": [{"parent": e.parent.id, "local": e.local, "tangent": e.tangent,
                            "product": e.product} for e in s.edges]}
                for s in self.steps
            ],
        }
        return json.dumps(doc, indent=1, ensure_ascii=False)


def forward_trace(root: Value, wrt: Value | str, seed: float = 1.0) -> ForwardTrace:
    """The tangent pass of ``root``'s graph along ``wrt`` (a node of it, or the label of
    exactly one), seeded ``seed``, recorded. ValueError naming the problem when ``wrt`` is
    not in the graph, or its label names no node or several."""
    if not isinstance(root, Value):
        raise TypeError(f"forward_trace: root must be a Value, got {type(root).__name__}")
    t = to_float(seed, "forward_trace's seed")
    order = cast("list[Value]", topological_order(root))
    info = node_infos(order)
    if isinstance(wrt, str):
        found = [node for node in order if node.label == wrt]
        if not found:
            raise ValueError(f"forward mode: no node labelled {wrt!r} in the graph of {root!r}")
        if len(found) > 1:
            raise ValueError(f"forward mode: {len(found)} nodes of the graph of {root!r} are "
                             f"labelled {wrt!r}; give wrt as the Value itself")
        x = found[0]
    elif not isinstance(wrt, Value):
        raise TypeError(f"forward mode: wrt must be a Value or its label, got "
                        f"{type(wrt).__name__}")
    elif wrt not in info:
        raise ValueError(f"forward mode: wrt={wrt!r} is not in the graph of {root!r}")
    else:
        x = wrt
    steps = tuple(
        TangentStep(i, info[node], tangent, tuple(
            TangentEdge(info[p], float(local), tp, product) for p, local, tp, product in edges))
        for i, (node, tangent, edges) in enumerate(
            (n, tn, e) for n, tn, e in forward_steps(root, {x: t}) if n is not x)
    )
    return ForwardTrace(tuple(info.values()), info[x], steps, t)
