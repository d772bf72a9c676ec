"""The backward pass, one node at a time: step records, tables, the chain-rule sum.

``backward_steps(root)`` performs exactly the work of ``backward(root)`` (same order, same
float operations, same reset rule: interior grads start from 0, leaf grads accumulate) and
yields one :class:`Step` per interior node: the node, its gradient ∂L/∂node when visited and,
for each parent edge, the local derivative ∂node/∂parent, the product added
(``node.grad × local``) and the parent's gradient before and after. :func:`backward_trace`
records the steps backward would take now in a :class:`Trace` (text table, HTML, JSON);
:func:`explain` writes ∂L/∂x = Σ over consumers (∂L/∂child × ∂child/∂x) with the numbers.
The stepper (:mod:`autograd.stepper`) draws the pass frame by frame.

Only ``backward_steps`` writes gradients: the records come from backward's pass run on a side
table (:func:`autograd.backward.steps`), so tracing, printing and explaining leave every
``.grad`` as it was.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from .backward import Node, check_closures, steps, topological_order
from .files import printable
from .ops import to_float

if TYPE_CHECKING:  # value.py imports this module
    from .value import Value

FORMAT = "stepgrad-trace"
VERSION = 1


def number_text(x: float, digits: int = 6) -> str:
    """How every view writes a number: ``digits`` significant digits (``format(x, ".6g")``),
    with −0.0 written ``0`` (the sign of a zero is no news to a reader); NaN and ±inf as
    Python writes them."""
    return format(0.0 if x == 0 else x, f".{digits}g")


def _num(x: float | None) -> str:
    return "—" if x is None else number_text(x)  # None: a _backward closure recorded no local


@dataclass(frozen=True)
class NodeInfo:
    """A node as the trace saw it: ``id`` (position in topological order, leaves first),
    ``label``, the op's name (``op_name``) and ``symbol`` (None for leaves) and ``data``.

    ``value`` is the live :class:`Value` (None for a trace loaded from JSON); it is not
    compared and not saved.
    """

    id: int
    label: str | None
    op_name: str | None
    symbol: str | None
    data: float
    value: Node | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The label, else ``#id``."""
        return self.label if self.label else f"#{self.id}"


@dataclass(frozen=True)
class EdgeStep:
    """One parent edge of a step: parent.grad goes from ``before`` to ``after`` by adding
    ``added`` = (∂L/∂node) × ``local``, with ``local`` = ∂node/∂parent. Both are None on a
    node made as ``Value(data, children, op)``, whose ``_backward`` closure did the adding."""

    parent: NodeInfo
    local: float | None
    added: float | None
    before: float
    after: float


@dataclass(frozen=True)
class Step:
    """The visit of one interior node: ``grad`` = ∂L/∂node, then one :class:`EdgeStep` per
    parent edge (``a + a`` has two)."""

    index: int
    node: NodeInfo
    grad: float
    edges: tuple[EdgeStep, ...]

    def name(self, root: str = "L") -> str:
        """The visited node's name: the first step visits the root, named ``root`` when it
        has no label (as in ``∂L/∂…``), so the root has one name everywhere."""
        return root if self.index == 0 and not self.node.label else self.node.name

    def equation(self, root: str = "L") -> str:
        """One line per edge: ``∂L/∂a += ∂L/∂c × ∂c/∂a = 2 × 3 = 6   (a.grad 0 → 6)``."""
        n = self.name(root)
        lines = [f"step {self.index + 1}: {n} ({self.node.symbol}) = {_num(self.node.data)}, "
                 f"∂{root}/∂{n} = {_num(self.grad)}"]
        for e in self.edges:
            p = e.parent.name
            lines.append(
                f"  ∂{root}/∂{p} += ∂{root}/∂{n} × ∂{n}/∂{p} = {_num(self.grad)} × "
                f"{_num(e.local)} = {_num(e.added)}   ({p}.grad {_num(e.before)} → "
                f"{_num(e.after)})"
            )
        return "\n".join(lines)


def node_infos(order: Sequence[Value]) -> dict[Node, NodeInfo]:
    """A :class:`NodeInfo` per node of ``order`` (a topological order), its position its id."""
    return {
        node: NodeInfo(
            i,
            node.label,
            node.op.name if node.op is not None else None,
            node.op.symbol if node.op is not None else None,
            node.data,
            node,
        )
        for i, node in enumerate(order)
    }


def _replay(root: Node, seed: float, order: Sequence[Value], accumulate: bool
            ) -> Iterator[Step]:
    """The steps of ``backward(root, seed)`` as records, from backward's own pass on a side
    table (:func:`autograd.backward.steps`), touching no ``.grad``.

    The table starts with interior nodes at 0, the root at ``seed`` and leaves at their
    current ``.grad`` when ``accumulate`` (what backward adds into), else at 0 (the pass's own
    ∂root/∂leaf).
    """
    info = node_infos(order)
    grads = {node: (node.grad if accumulate and not node._edges else 0.0) for node in order}
    for index, (node, g, edges) in enumerate(steps(root, seed, order, grads)):
        yield Step(index, info[node], g, tuple(
            EdgeStep(info[parent], None if local is None else float(local), added, before, after)
            for parent, local, added, before, after in edges
        ))


def backward_steps(root: Node, grad: float = 1.0) -> Iterator[Step]:
    """Run ``backward(root, grad)`` one node at a time, yielding a :class:`Step` per node.

    Same visiting order as ``backward`` (:func:`~autograd.backward.interior_order`), same
    arithmetic (``parent.grad += node.grad × local``), same resets: interior grads start from
    0 (the root from ``grad``), leaf grads accumulate. When a step is yielded, its products
    are already in the parents' ``.grad``; consumed to the end, it leaves exactly the grads
    ``backward`` leaves. A leaf root gets ``grad`` added and yields nothing.
    """
    seed = to_float(grad, "backward's grad")
    order = cast("list[Value]", topological_order(root))
    if not root._edges:
        root.grad += seed
        return
    check_closures(order)
    for node in order:
        if node._edges:
            node.grad = 0.0
    root.grad = seed
    for step in _replay(root, seed, order, accumulate=True):
        for e in step.edges:  # (a live trace: every NodeInfo holds its node)
            cast(Node, e.parent.value).grad = e.after
        yield step


# ---------------------------------------------------------------------------- the trace
_HEAD = ("step", "node", "op", "data", "∂L/∂node", "parent", "local", "added", "before", "after")


def _table_rows(steps: Iterable[Step], root: str) -> Iterator[tuple[str, ...]]:
    for s in steps:
        for k, e in enumerate(s.edges):
            first = (str(s.index + 1), s.name(root), s.node.symbol or "", _num(s.node.data),
                     _num(s.grad)) if k == 0 else ("",) * 5
            yield first + (e.parent.name, _num(e.local), _num(e.added), _num(e.before),
                           _num(e.after))


@dataclass(frozen=True)
class Trace:
    """A recorded backward pass: ``nodes`` by id (topological order) and ``steps`` in order.

    ``print(trace)`` gives a table with one line per edge, Jupyter shows it as HTML,
    ``to_json()`` / ``Trace.from_json()`` save and load it (to diff two runs).
    """

    nodes: tuple[NodeInfo, ...]
    steps: tuple[Step, ...]
    seed: float = 1.0

    @property
    def root(self) -> NodeInfo:
        return self.nodes[-1]

    def step_of(self, node: Node | NodeInfo | str | int) -> Step:
        """The step visiting ``node`` (a Value, NodeInfo, label or id)."""
        target = self.node(node)
        for s in self.steps:
            if s.node.id == target.id:
                return s
        raise KeyError(f"{target.name} is a leaf: backward visits no step for it")

    def node(self, key: Node | NodeInfo | str | int) -> NodeInfo:
        """Look a node up by live Value, NodeInfo, label or id."""
        for n in self.nodes:
            if isinstance(key, NodeInfo):
                found = n.id == key.id
            elif isinstance(key, str):
                found = n.label == key
            elif isinstance(key, int):
                found = n.id == key
            else:
                found = n.value is key
            if found:
                return n
        raise KeyError(f"no node {key!r} in this trace")

    @property
    def root_name(self) -> str:
        """The root's label, else ``L``."""
        return self.root.label or "L"

    def explain(self, node: Node | NodeInfo | str | int) -> Explanation:
        """∂L/∂x as the sum over x's consumers, with this trace's numbers."""
        x = self.node(node)
        terms = [
            (s.name(self.root_name), s.grad, e.local)
            for s in self.steps
            for e in s.edges
            if e.parent.id == x.id
        ]
        grad = self.seed if x.id == self.root.id else _final_grad(self, x)
        name = self.root_name if x.id == self.root.id else x.name
        # (a None local, from a _backward closure, is refused by Explanation)
        return Explanation(name, self.root_name,
                           tuple(cast("list[tuple[str, float, float]]", terms)), grad)

    def table(self) -> list[tuple[str, ...]]:
        """Header and rows of the step table, as strings."""
        return [_HEAD, *_table_rows(self.steps, self.root_name)]

    def __str__(self) -> str:
        return text_table(self.table(), left={1, 2, 5})

    def _repr_html_(self) -> str:
        return table_html(self.table)

    def to_json(self) -> str:
        """JSON with the nodes, the step order and, per step, its edges with local derivatives
        and the parent gradients before and after."""
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "seed": self.seed,
            "nodes": [
                {"id": n.id, "label": n.label, "op": n.op_name, "symbol": n.symbol, "data": n.data}
                for n in self.nodes
            ],
            "steps": [
                {
                    "node": s.node.id,
                    "grad": s.grad,
                    "edges": [
                        {"parent": e.parent.id, "local": e.local, "added": e.added,
                         "before": e.before, "after": e.after}
                        for e in s.edges
                    ],
                }
                for s in self.steps
            ],
        }
        return json.dumps(doc, indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Trace:
        """Load what :meth:`to_json` wrote (nodes come back without live Values).

        Raises ValueError naming the first field that is missing, of the wrong type (a bool
        is not a number) or out of range: a node's ``id`` must be its position, and a step's
        ``node`` and an edge's ``parent`` a node index in [0, number of nodes).
        """
        try:
            doc = json.loads(text)
        except RecursionError:
            raise ValueError("Trace.from_json: the JSON is nested too deeply") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get(
                "version") != VERSION:
            got = doc if isinstance(doc, dict) else {}
            raise ValueError(
                f"not a {FORMAT} v{VERSION} document: format={got.get('format')!r}, "
                f"version={got.get('version')!r}"
            )
        nodes = []
        for k, n in enumerate(_field(doc, "nodes", "", list, "a list of nodes")):
            where = f"nodes[{k}]"
            if _field(n, "id", where, int, "an int") != k:
                raise ValueError(f"Trace.from_json: {where}.id is {n['id']}; a node's id is "
                                 f"its position in nodes ({k})")
            label, op, symbol = (_field(n, key, where, (str, type(None)), "a string or null")
                                 for key in ("label", "op", "symbol"))
            nodes.append(NodeInfo(k, label, op, symbol, _number(n, "data", where)))
        if not nodes:
            raise ValueError("Trace.from_json: nodes is empty; a trace has at least its root")
        steps = []
        for i, s in enumerate(_field(doc, "steps", "", list, "a list of steps")):
            where = f"steps[{i}]"
            edges = []
            for j, e in enumerate(_field(s, "edges", where, list, "a list of edges")):
                at = f"{where}.edges[{j}]"
                edges.append(EdgeStep(nodes[_index(e, "parent", at, len(nodes))],
                                      _number(e, "local", at, none=True),
                                      _number(e, "added", at, none=True),
                                      _number(e, "before", at), _number(e, "after", at)))
            steps.append(Step(i, nodes[_index(s, "node", where, len(nodes))],
                              _number(s, "grad", where), tuple(edges)))
        return cls(tuple(nodes), tuple(steps), _number(doc, "seed", ""))


def _field(obj: object, key: str, where: str, kinds: type | tuple[type, ...],
           what: str) -> Any:
    """``obj[key]`` if it is of ``kinds`` (never a bool), else ValueError naming the field."""
    name = _name(where, key)
    if not isinstance(obj, dict):
        raise ValueError(f"Trace.from_json: {where} must be an object, got {obj!r:.60}")
    if key not in obj:
        raise ValueError(f"Trace.from_json: {name} is missing")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ValueError(f"Trace.from_json: {name} must be {what}, got {value!r:.60}")
    return value


@overload
def _number(obj: object, key: str, where: str, none: Literal[False] = False) -> float: ...


@overload
def _number(obj: object, key: str, where: str, none: bool) -> float | None: ...


def _number(obj: object, key: str, where: str, none: bool = False) -> float | None:
    """A number field as a float (NaN and ±inf included, as to_json writes them); with
    ``none``, null is None."""
    kinds = (int, float, type(None)) if none else (int, float)
    value = _field(obj, key, where, kinds, "a number or null" if none else "a number")
    if value is None:
        return None
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"Trace.from_json: {_name(where, key)} = {value} is too large "
                         f"for a float") from None


def _name(where: str, key: str) -> str:
    """A field's path: ``steps[2].edges[0].parent``."""
    return f"{where}.{key}" if where else key


def _index(obj: object, key: str, where: str, count: int) -> int:
    """A node index field, in [0, count)."""
    value = _field(obj, key, where, int, "a node index (an int)")
    if not 0 <= value < count:
        raise ValueError(f"Trace.from_json: {where}.{key} is {value}, outside the node "
                         f"indices [0, {count})")
    return value


def _final_grad(trace: Trace, x: NodeInfo) -> float:
    """x's grad at the end of the trace: its step's grad, or a leaf's last ``after`` (every
    node but the root is the parent of some edge)."""
    for s in trace.steps:
        if s.node.id == x.id:
            return s.grad
    return [e.after for s in trace.steps for e in s.edges if e.parent.id == x.id][-1]


def backward_trace(root: Node, grad: float = 1.0) -> Trace:
    """The steps of one backward pass of ``root``, recorded without running it.

    No ``.grad`` changes. Every node starts from 0 (the root from ``grad``) and each step does
    backward's float operations in backward's order, so every number is ∂root/∂node as this
    pass builds it: a node's last ``after`` is its ``.grad`` after one ``backward()`` from
    zeroed grads. (A leaf's ``.grad`` may hold more: leaves accumulate across calls.)
    """
    seed = to_float(grad, "backward_trace's grad")
    order = cast("list[Value]", topological_order(root))
    check_closures(order)
    steps = tuple(_replay(root, seed, order, accumulate=False))
    return Trace(tuple(node_infos(order).values()), steps, seed)


def text_table(rows: list[tuple[str, ...]], left: set[int]) -> str:
    """A step table as aligned text: columns in ``left`` flush left, the others right."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) if i in left else c.rjust(w)
                  for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
        for r in rows
    )


def table_html(table: Callable[[], list[tuple[str, ...]]]) -> str:
    """The step table ``table()`` makes (header row, then rows of strings) as an HTML table;
    an error making it is shown instead (display never raises)."""
    try:
        rows = table()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = ["<tr>" + "".join(f"<td>{html.escape(printable(c))}</td>" for c in r) + "</tr>"
                for r in rows[1:]]
    except Exception as err:
        return f"<pre>{html.escape(repr(err))}</pre>"
    return (
        '<table class="stepgrad-trace" style="font-family:monospace">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


# ---------------------------------------------------------------------------- the chain-rule sum
@dataclass(frozen=True)
class Explanation:
    """∂L/∂x = Σ over the edges from x to its consumers of ∂L/∂child × ∂child/∂x.

    ``terms``: (child name, ∂L/∂child, ∂child/∂x) per edge, in backward order; ``total`` is
    their sum (in that order, as backward adds them); ``grad`` is ∂L/∂x after one backward
    pass. ``held``, when given, is what ``x.grad`` holds now: it differs from ``grad`` before
    ``backward()`` runs and for a leaf that accumulated earlier passes, and the text says so.
    """

    node: str
    root: str
    terms: tuple[tuple[str, float, float], ...]
    grad: float
    held: float | None = None

    def __post_init__(self) -> None:
        for child, _, local in self.terms:
            if local is None:
                raise ValueError(
                    f"explain: ∂{child}/∂{self.node} is unknown: {child} was made as "
                    "Value(data, children, op) and its _backward closure records no local "
                    "derivative"
                )

    @property
    def total(self) -> float:
        total = 0.0
        for _, g, local in self.terms:
            total += g * local
        return total

    def __str__(self) -> str:
        x, L = self.node, self.root
        if not self.terms:
            return f"∂{L}/∂{x} = {_num(self.grad)} (the root: backward starts from this seed)"
        lines = [
            f"∂{L}/∂{x} = Σ over consumers of {x}: ∂{L}/∂child × ∂child/∂{x}",
            "  = " + " + ".join(f"∂{L}/∂{c} × ∂{c}/∂{x}" for c, _, _ in self.terms),
            "  = " + " + ".join(f"{_num(g)} × {_num(d)}" for _, g, d in self.terms),
        ]
        if len(self.terms) > 1:
            lines.append("  = " + " + ".join(_num(g * d) for _, g, d in self.terms))
        lines.append(f"  = {_num(self.total)}")
        held = self.held
        if held is not None and repr(held) != repr(self.grad):
            lines.append(f"({x}.grad is 0 now: backward() has not filled it yet)" if held == 0
                         else f"({x}.grad = {_num(held)}: a leaf's grad accumulates across "
                         "backward calls)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        try:
            return f"<pre>{html.escape(str(self))}</pre>"
        except Exception as err:  # display never raises
            return f"<pre>{html.escape(repr(err))}</pre>"

    def latex(self) -> str:
        """The sum as written on a board, as a LaTeX ``aligned`` block: symbols, then the
        numbers substituted, then the products (for more than one term), then the result;
        numbers as in the text (six significant digits, never ``-0``)."""
        from .notation import tex_factor, tex_name, tex_number

        x, L = tex_name(self.node), tex_name(self.root)

        def d(a: str, b: str) -> str:
            return rf"\frac{{\partial {a}}}{{\partial {b}}}"

        if not self.terms:
            lines = [rf"{d(L, x)} &= {tex_number(self.grad)}"
                     r" \quad \text{(the root: backward starts from this seed)}"]
        else:
            names = [tex_name(c) for c, _, _ in self.terms]
            lines = [
                f"{d(L, x)} &= " + " + ".join(rf"{d(L, c)} \, {d(c, x)}" for c in names),
                "&= " + " + ".join(rf"{tex_factor(g)} \times {tex_factor(local)}"
                                   for _, g, local in self.terms),
            ]
            if len(self.terms) > 1:
                lines.append("&= " + " + ".join(tex_factor(g * local)
                                                for _, g, local in self.terms))
            lines.append(f"&= {tex_number(self.total)}")
        held = self.held
        if held is not None and repr(held) != repr(self.grad):
            note = (rf"\text{{(${x}$.grad is 0 now: backward() has not filled it yet)}}"
                    if held == 0 else
                    rf"\text{{(${x}$.grad = ${tex_number(held)}$: a leaf's grad accumulates "
                    r"across backward calls)}")
            lines.append(f"& {note}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        try:
            return f"$$\n{self.latex()}\n$$"
        except Exception as err:  # display never raises
            return rf"$\text{{{type(err).__name__}}}$"


def explain(node: Node, root: Node) -> Explanation:
    """∂root/∂node written out as Σ over node's consumers in root's graph of
    ∂root/∂child × ∂child/∂node, with the numbers of one backward pass of ``root``.

    The pass is recorded here, as :func:`backward_trace` records it (no ``.grad`` changes),
    so the numbers are backward's whether or not ``root.backward()`` has run. ``b = a + a;
    c = b + b`` explains ∂c/∂a as 2 × 1 + 2 × 1 = 2 + 2 = 4. Nodes are named as in
    :class:`Trace`; the explanation notes when ``node.grad`` holds something else now.
    """
    order = cast("list[Value]", topological_order(root))
    info = node_infos(order)
    if node not in info:
        raise ValueError(f"{node!r} is not in the graph of {root!r}")
    check_closures(order)
    trace = Trace(tuple(info.values()), tuple(_replay(root, 1.0, order, accumulate=False)), 1.0)
    return replace(trace.explain(info[node]), held=node.grad)
