"""The layer view: backward on a network one δ formula at a time, as the explainers teach it.

``step_through(loss, layers=True)`` finds the layers (:mod:`autograd.layers`) and draws one
box per layer quantity: the input x (or the layer below's a), z, a = f(z), W and b, each a
matrix, samples × units over a batch (W: units × inputs), with its values and gradients;
every other node stays a scalar box. It steps backward in the explainers' order, for the last
layer L down to the first::

    ∂L/∂a_L                            what the scalar nodes above pass down (∂L/∂ŷ)
    δ_L = ∂L/∂a_L ⊙ f′(z_L)
    ∂L/∂W_L = Σₛ δ_L a_{L−1}ᵀ            summed over the samples
    ∂L/∂b_L = Σₛ δ_L
    δ_{L−1} = (W_Lᵀ δ_L) ⊙ f′(z_{L−1})   ...

Every number is the engine's, from one recorded pass (:func:`autograd.trace.backward_trace`,
no ``.grad`` changes): δ is ∂L/∂z of the linear nodes, W_Lᵀδ_L is ∂L/∂a of the activations,
f′(z) the activation's recorded local derivative, ∂L/∂W and ∂L/∂b the parameters'
gradients. Each step's text substitutes them into its formula and says which boxes it reads
and writes; the page and the widget typeset it as MathML (:meth:`LayerView.mathml`: the
symbols, then the numbers, matrices as tables of the text's own strings). A layer that feeds
anything besides the layer above gets its own ∂L/∂a step.
``draw(root, layers=True)`` draws the same boxes with the grads the nodes hold now.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from . import mathml as ml
from .backward import topological_order
from .drawing import Drawing, Layout, check_size, dot_text
from .files import printable
from .groups import check_groups
from .layers import Layer, find_layers, names, values
from .stepper import Stepper
from .stepper_page import SVG_NS, fragment
from .trace import NodeInfo, Trace, number_text
from .value import Value

ROWS = 8  # at most this many rows and columns of a matrix are written out
_FILL = {"input": "#dbeafe", "parameter": "#dcfce7", "intermediate": "#f3f4f6",
         "root": "#fde68a"}


# ---------------------------------------------------------------------------- numbers as text
Cells = list[list[str] | None]
"""A matrix's entries as written (:func:`~autograd.trace.number_text`), at most :data:`ROWS`
rows and columns: past that, the first ``ROWS − 2``, a cut (a row None, a column ``…``) and
the last. The text and the MathML of a formula are both written from these strings."""


def _cut(items: list, marker: Any) -> list:
    return items if len(items) <= ROWS else [*items[:ROWS - 2], marker, items[-1]]


def entries(m: Sequence[Sequence[float]], precision: int = 4) -> Cells:
    """The entries of ``m`` to ``precision`` significant digits, cut to :data:`ROWS` (see
    :data:`Cells`)."""
    return _cut([None if row is None else [c if c == "…" else number_text(c, precision)
                                           for c in _cut(list(row), "…")]
                 for row in _cut(list(m), None)], None)


def _row_text(row: Sequence[str]) -> str:
    return "[" + ", ".join(row) + "]"


def matrix(m: Sequence[Sequence[float]], precision: int = 4) -> str:
    """``[[1, 2], [3, 4]]``, at most :data:`ROWS` rows and columns written out (``…``)."""
    return _matrix_text(entries(m, precision))


def _matrix_text(written: Cells) -> str:
    return "[" + ", ".join("…" if r is None else _row_text(r) for r in written) + "]"


def _lines(m: Sequence[Sequence[float]], precision: int, scalar: bool = False) -> list[str]:
    """One text line per row (``scalar``: the number alone), cut as :func:`matrix` does."""
    if scalar:
        return [number_text(m[0][0], precision)]
    return [f"⋮ ({len(m) - ROWS + 1} more rows)" if r is None else _row_text(r)
            for r in entries(m, precision)]


# ---------------------------------------------------------------------------- boxes and steps
@dataclass
class Box:
    """A drawn box: a layer quantity (a matrix of nodes, or of numbers for plain inputs) or
    one scalar node. ``nodes`` are the Values whose grads it shows (None: no grad line)."""

    id: str
    kind: str
    title: str
    data: list[list[float]]
    nodes: list[list[Value]] | None
    cluster: str | None = None


@dataclass(frozen=True)
class LayerStep:
    """One formula: ``layer`` (its module path or ``layer k``), ``quantity`` (``dL/da``,
    ``delta``, ``dL/dW`` or ``dL/db``), the ``formula`` with the numbers substituted, its
    ``value`` (samples × units; units × inputs for W; units for b) and the ids of the boxes
    it ``reads`` and ``writes``; ``math``: the formula as MathML elements, its symbols and then
    its numbers (each to go in a ``<math>``: :meth:`LayerView.mathml`)."""

    layer: str
    quantity: str
    formula: str
    value: list
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    math: tuple[str, str] = field(repr=False)

    def to_json(self) -> dict:
        return {"layer": self.layer, "quantity": self.quantity, "formula": self.formula,
                "value": self.value}


class _Graph:
    """The boxes and edges of the layer view of ``root``."""

    def __init__(self, root: Value, groups: Mapping[Value, str], max_nodes: int | None) -> None:
        self.root = root
        self.order = cast(list[Value], topological_order(root))
        self.layers = find_layers(root, groups)
        self.box_of: dict[Value, str] = {}
        self.boxes: list[Box] = []
        for layer in self.layers:
            self._layer_boxes(layer)
        scalar = [v for v in self.order if v not in self.box_of]
        for i, v in enumerate(scalar):
            self.box_of[v] = f"n{i}"
            symbol = v.op.symbol if v.op is not None else ""
            title = " ".join(t for t in (symbol, v.label or "") if t) or "constant"
            kind = ("root" if v is root else "intermediate" if v._edges else "input")
            self.boxes.append(Box(f"n{i}", kind, title, [[v.data]], [[v]]))
        check_size(len(self.boxes), max_nodes)
        self.edges = self._edges()

    def _layer_boxes(self, layer: Layer) -> None:
        nm, k, where = names(layer), f"L{layer.number}", layer.name
        n, m = len(layer.rows), len(layer.rows[0])
        if layer.source is None:
            self.boxes.append(Box(f"{k}x", "input", f"{nm['x']}  ({n} × {len(layer.inputs[0])})",
                                  values(layer.inputs), None, where))
            for xs in layer.inputs:
                self.box_of.update((x, f"{k}x") for x in xs
                                   if isinstance(x, Value) and not x._edges)
        f = layer.op.name if layer.op is not None else ""
        bias = f" + {nm['b']}" if layer.bias is not None else ""
        self.boxes.append(Box(f"{k}W", "parameter", f"{nm['W']}  ({m} × {len(layer.weights[0])})",
                              values(layer.weights), [list(r) for r in layer.weights], where))
        self.box_of.update((w, f"{k}W") for r in layer.weights for w in r)
        if layer.bias is not None:
            self.boxes.append(Box(f"{k}b", "parameter", f"{nm['b']}  ({m})",
                                  values([layer.bias]), [list(layer.bias)], where))
            self.box_of.update((b, f"{k}b") for b in layer.bias)
        same = f" = {nm['a']}" if layer.acts is None else ""
        self.boxes.append(Box(f"{k}z", "intermediate",
                              f"{nm['z']} = {nm['W']}{nm['x']}{bias}{same}  ({n} × {m})",
                              values(layer.rows), layer.rows, where))
        self.box_of.update((z, f"{k}z") for r in layer.rows for z in r)
        if layer.acts is not None:
            self.boxes.append(Box(f"{k}a", "intermediate", f"{nm['a']} = {f}({nm['z']})",
                                  values(layer.acts), layer.acts, where))
            self.box_of.update((a, f"{k}a") for r in layer.acts for a in r)
        if self.root in self.box_of and self.box_of[self.root].startswith(k):
            self.boxes[-1].kind = "root"

    def _edges(self) -> list[tuple[str, str, float | None]]:
        """(from box, to box, local derivative for an edge between scalar boxes)."""
        edges: list[tuple[str, str, float | None]] = []
        seen: set[tuple[str, str]] = set()
        for layer in self.layers:
            k = f"L{layer.number}"
            if layer.source is None:
                seen.add((f"{k}x", f"{k}z"))
                edges.append((f"{k}x", f"{k}z", None))
        for node in self.order:
            dst = self.box_of[node]
            for parent, local in node.edges():
                src = self.box_of[parent]
                if src == dst:
                    continue
                if src[0] == "n" and dst[0] == "n":
                    edges.append((src, dst, None if local is None else float(local)))
                elif (src, dst) not in seen:
                    seen.add((src, dst))
                    edges.append((src, dst, None))
        return edges

    def boxes_reading(self, nodes: list[list[Value]]) -> tuple[str, ...]:
        """The boxes of the consumers of ``nodes`` outside their own box."""
        members = {v for row in nodes for v in row}
        inside = {self.box_of[v] for v in members}
        found = {self.box_of[c] for c in self.order
                 if not members.isdisjoint(c.parents)} - inside
        return tuple(b.id for b in self.boxes if b.id in found)


def final_grads(trace: Trace) -> dict[Value, float]:
    """Each node's ∂L/∂node in the recorded pass: a step's grad, a leaf's last ``after``."""
    grads = {_live(trace.root): trace.seed}
    for s in trace.steps:
        grads[_live(s.node)] = s.grad
        for e in s.edges:
            if not _live(e.parent)._edges:
                grads[_live(e.parent)] = e.after
    return grads


def _live(info: NodeInfo) -> Value:
    """The Value a recorded node stands for (a live trace always has it)."""
    return cast(Value, info.value)


def _steps(graph: _Graph, trace: Trace, precision: int) -> list[LayerStep]:
    """The formulas, last layer first, with the recorded pass's numbers: as text and as
    MathML (the symbols, then the numbers), both written from the same number strings."""
    g = final_grads(trace)
    local = {_live(s.node): s.edges[0].local for s in trace.steps
             if len(s.edges) == 1 and s.edges[0].local is not None}

    def grads(nodes: Sequence[Sequence[Value]]) -> list[list[float]]:
        return [[g.get(v, 0.0) for v in row] for row in nodes]

    def M(m: Sequence[Sequence[float]]) -> tuple[str, str]:  # noqa: N802 - a matrix
        written = entries(m, precision)
        return _matrix_text(written), ml.matrix(written)

    S, T, eq = ml.symbol, ml.transpose, ml.mo("=")

    def D(name: str) -> str:  # noqa: N802 - ∂L/∂name
        return ml.partial(S("L"), S(name))

    def note(text: str) -> str:
        return '<mspace width="1em"/>' + ml.text_element(text)

    out = []
    for layer in reversed(graph.layers):
        nm, k, where = names(layer), f"L{layer.number}", layer.name
        samples = len(layer.rows)
        a_box = f"{k}a" if layer.acts is not None else f"{k}z"
        upstream = grads(layer.outputs)
        up = M(upstream)
        above = layer.into
        if above is None:
            last = layer is graph.layers[-1]
            yhat = " = ∂L/∂ŷ" if last else ""
            out.append(LayerStep(where, "dL/da", (
                f"∂L/∂{nm['a']}{yhat} = what the nodes above {nm['a']} pass down (the chain rule "
                f"through them; a row per sample)\n  = {up[0]}"), upstream,
                graph.boxes_reading(layer.outputs), (a_box,),
                (D(nm["a"]) + (eq + D("ŷ") if last else "") + eq
                 + ml.text_element("what the nodes above\u00a0") + S(nm["a"])
                 + ml.text_element("\u00a0pass down (the chain rule through them; a row per "
                                   "sample)"), eq + up[1])))
            given = (f"∂L/∂{nm['a']}", D(nm["a"]))
            substituted = up
            reads: tuple[str, ...] = (a_box,)
        else:
            an, ak = names(above), f"L{above.number}"
            given = (f"({an['W']}ᵀ{an['d']})",
                     ml.mo("(") + T(S(an["W"])) + S(an["d"]) + ml.mo(")"))
            w, d = M(values(above.weights)), M(grads(above.rows))
            substituted = (f"({w[0]}ᵀ {d[0]}) = {up[0]}",
                           ml.mo("(") + T(w[1]) + d[1] + ml.mo(")") + eq + up[1])
            reads = (f"{ak}W", f"{ak}z")
        delta = grads(layer.rows)
        dm = M(delta)
        lhs = S(nm["d"]) + eq + D(nm["z"]) + eq + given[1]
        if layer.acts is not None:
            fp = M([[local[a] for a in row] for row in layer.acts])
            name = layer.op.name  # type: ignore[union-attr]
            text = (f"{nm['d']} = ∂L/∂{nm['z']} = {given[0]} ⊙ {name}′({nm['z']})\n"
                    f"  = {substituted[0]} ⊙ {fp[0]}\n  = {dm[0]}")
            math = (lhs + ml.mo("⊙") + ml.derivative(name) + ml.mo("(") + S(nm["z"]) + ml.mo(")"),
                    eq + substituted[1] + ml.mo("⊙") + fp[1] + eq + dm[1])
            writes = (a_box, f"{k}z") if above is not None else (f"{k}z",)
            reads = reads + (f"{k}a",)
        else:
            text = (f"{nm['d']} = ∂L/∂{nm['z']} = {given[0]}   (linear: {nm['a']} = {nm['z']}, "
                    f"f′ = 1)\n  = {substituted[0]}")
            math = (lhs + note("(linear:\u00a0") + S(nm["a"]) + eq + S(nm["z"])
                    + ml.mo(",") + ml.derivative("f") + eq + "<mn>1</mn>" + ml.mo(")"),
                    eq + substituted[1])
            writes = (f"{k}z",)
        if above is not None:
            text += "   (a row per sample)"
            math = (math[0] + note("(a row per sample)"), math[1])
        out.append(LayerStep(where, "delta", text, delta, reads, writes, math))
        x_box = f"{k}x" if layer.source is None else (
            f"L{layer.source.number}{'a' if layer.source.acts is not None else 'z'}")
        xs = M(values(layer.inputs))
        over = f" over the {samples} samples"
        many = samples > 1
        product = f"{nm['d']} {nm['x']}ᵀ"
        gw = grads(layer.weights)
        gwm = M(gw)
        out.append(LayerStep(where, "dL/dW", (
            f"∂L/∂{nm['W']} = {f'Σₛ {product}{over}' if many else product}\n"
            f"  = {dm[0]}ᵀ {xs[0]}\n  = {gwm[0]}"), gw, (f"{k}z", x_box), (f"{k}W",), (
            D(nm["W"]) + eq + (ml.total("s") if many else "") + S(nm["d"]) + T(S(nm["x"]))
            + (note(over.strip()) if many else ""), eq + T(dm[1]) + xs[1] + eq + gwm[1])))
        if layer.bias is not None:
            gb = [g.get(b, 0.0) for b in layer.bias]
            gbm = M([gb])
            summed = (f"Σₛ {nm['d']}{over}", f"\n  = Σₛ {dm[0]}") if many else (nm["d"], "")
            out.append(LayerStep(where, "dL/db", (
                f"∂L/∂{nm['b']} = {summed[0]}{summed[1]}\n  = {gbm[0][1:-1]}"), gb,
                (f"{k}z",), (f"{k}b",), (
                D(nm["b"]) + eq + (ml.total("s") if many else "") + S(nm["d"])
                + (note(over.strip()) if many else ""),
                (eq + ml.total("s") + dm[1] if many else "") + eq + gbm[1])))
    return out


# ---------------------------------------------------------------------------- the picture
def _fields(box: Box, grads: Mapping[Value, float] | None, precision: int) -> list[str]:
    """The grad lines of ``box``: its numbers, or ``pending`` while unknown (None)."""
    if box.nodes is None:
        return []
    if grads is None:
        lines = _lines(box.data, precision, box.id[0] == "n")
        return ["grad · pending"] + ["·"] * (len(lines) - 1)
    lines = _lines([[grads.get(v, v.grad) for v in row] for row in box.nodes], precision,
                   box.id[0] == "n")
    return [f"grad {lines[0]}"] + lines[1:]


def _digraph(graph: _Graph, grad_lines: Mapping[str, list[str]], pending: set[str],
             reads: Sequence[str], writes: Sequence[str], rankdir: str, precision: int,
             pin: Layout | None) -> Any:
    """The DOT graph: a record per box (title, data rows, grad rows), layers as clusters."""
    import graphviz  # type: ignore[import-untyped]

    pin = pin or Layout("", {}, {}, {})
    dot = graphviz.Digraph("layer_view")
    dot.attr(rankdir=rankdir, nodesep="0.25", ranksep="0.4")
    if pin.bb:
        dot.attr(bb=pin.bb)
    dot.attr("node", shape="record", style="filled", fontname="Helvetica", fontsize="11",
             color="#4b5563")
    dot.attr("edge", color="#6b7280", fontname="Helvetica", fontsize="9")
    clusters: dict[str, Any] = {}
    for box in graph.boxes:
        lines = [box.title] + [f"data {t}" if i == 0 else t
                               for i, t in enumerate(_lines(box.data, precision,
                                                            box.id[0] == "n"))]
        lines += grad_lines[box.id]
        label = "|".join(dot_text(t, record=True) for t in lines)
        extra = {"style": "filled,dashed"} if box.id in pending else {}
        if box.id in writes:
            extra.update(color="#dc2626", penwidth="3")
        elif box.id in reads:
            extra.update(color="#2563eb", penwidth="3")
        where = dot
        if box.cluster is not None:
            name = f"cluster_{len(clusters)}" if box.cluster not in clusters else None
            if name is not None:
                clusters[box.cluster] = graphviz.Digraph(name)
                bb = {"bb": pin.clusters[name]} if name in pin.clusters else {}
                clusters[box.cluster].attr(label=dot_text(box.cluster), style="dashed",
                                           color="#9ca3af", fontname="Helvetica", **bb)
            where = clusters[box.cluster]
        label = label if rankdir in ("LR", "RL") else f"{{{label}}}"
        where.node(box.id, label, fillcolor=_FILL[box.kind], **extra, **pin.node(box.id))
    for cluster in clusters.values():
        dot.subgraph(cluster)
    seen: dict[tuple[str, str], int] = {}
    for src, dst, local in graph.edges:
        n = seen[src, dst] = seen.get((src, dst), -1) + 1
        times = f"×{number_text(local, precision)}" if local is not None else None
        dot.edge(src, dst, label=times, **pin.edges.get((src, dst, n), {}))
    return dot


class LayerDrawing(Drawing):
    """A drawing of the layer view (:class:`~autograd.drawing.Drawing`: ``svg()``, ``save``,
    Jupyter display); ``boxes`` are the layer view's boxes, its table lists their numbers."""

    def __init__(self, digraph: Any, graph: _Graph, grad_lines: Mapping[str, list[str]],
                 precision: int, pinned: bool = False) -> None:
        super().__init__(digraph, [], [], precision)
        self.layer_boxes = graph.boxes
        self._grad_lines = dict(grad_lines)
        self.pinned = pinned

    def table(self) -> str:
        """Each box: its title, data rows and grad rows."""
        return "\n".join(
            "\n".join([printable(b.title),
                       *("  data " + t for t in _lines(b.data, self.precision, b.id[0] == "n")),
                       *("  " + t for t in self._grad_lines[b.id])])
            for b in self.layer_boxes)

    def _html_table(self) -> str:
        return f"<pre>{html.escape(self.table())}</pre>"

    def __repr__(self) -> str:
        layers = len({b.cluster for b in self.layer_boxes if b.cluster})
        return f"<LayerDrawing: {layers} layers, {len(self.layer_boxes)} boxes>"


def draw_layers(root: Value, *, rankdir: str = "LR", groups: Mapping[Value, str] | None = None,
                max_nodes: int | None = 300, precision: int = 4) -> LayerDrawing:
    """``draw(root, layers=True)``: one box per layer quantity with the grads the nodes hold
    now (see the module docstring); nodes in no layer are scalar boxes."""
    _check_options(root, rankdir, precision)
    graph = _Graph(root, check_groups(groups, "draw"), max_nodes)
    lines = {b.id: _fields(b, {}, precision) for b in graph.boxes}
    return LayerDrawing(_digraph(graph, lines, set(), (), (), rankdir, precision, None), graph,
                        lines, precision)


def _check_options(root: object, rankdir: str, precision: object) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"draw: precision must be an int from 1 to 17, got {precision!r}")


# ---------------------------------------------------------------------------- the view
def _pre(text: str) -> str:
    """Multi-line text for a ``<pre>``: its line breaks kept, anything else XML cannot carry
    written as an escape (:func:`printable`)."""
    return "\n".join(html.escape(printable(line)) for line in text.split("\n"))


class LayerView(Stepper):
    """Backward on ``root``'s layers, one formula per step (see the module docstring).

    As :class:`~autograd.stepper.Stepper`: ``len(view)`` steps, ``frame(k)`` (a drawing
    after k steps), ``equation(k)``, ``save(path)`` (.html, .gif or a folder of frames) and
    the ipywidgets ``widget``; ``steps`` are the :class:`LayerStep` records and
    ``to_json()`` returns ``{"steps": [...]}``. Options: ``groups``, ``max_nodes``,
    ``rankdir``, ``precision`` (as for :func:`autograd.draw`)."""

    def __init__(self, root: Value, grad: float = 1.0, *, rankdir: str = "LR",
                 groups: Mapping[Value, str] | None = None, max_nodes: int | None = 300,
                 precision: int = 4) -> None:
        _check_options(root, rankdir, precision)
        self.layer_graph = _Graph(root, check_groups(groups, "step_through"), max_nodes)
        super().__init__(root, grad, rankdir=rankdir, groups=groups, max_nodes=max_nodes,
                         precision=precision)

    @property
    def backward_trace(self) -> Trace:
        """The trace stepped: a layer view steps backward only."""
        return cast(Trace, self.trace)

    @cached_property
    def steps(self) -> list[LayerStep]:
        """The formulas in the order the view steps through them."""
        return _steps(self.layer_graph, self.backward_trace, self.draw_options["precision"])

    def __len__(self) -> int:
        return len(self.steps)

    def to_json(self) -> dict:
        """``{"steps": [{"layer", "quantity", "formula", "value"}, ...]}``."""
        return {"steps": [s.to_json() for s in self.steps]}

    def equation(self, k: int) -> str:
        """Step ``k``'s formula with its numbers (``k = 0``: what is to come)."""
        self._check(k)
        if k == 0:
            seed = number_text(self.trace.seed, self.draw_options["precision"])
            return (f"before the first step: ∂L/∂L = {seed}; "
                    f"{len(self)} formulas to go, layer by layer from the last")
        s = self.steps[k - 1]
        text = f"step {k}: {s.layer}: {s.formula}\n(reads {self._names(s.reads)}; writes " \
               f"{self._names(s.writes)})"
        return "\n".join(map(printable, text.split("\n")))

    def _names(self, boxes: Sequence[str]) -> str:
        """``a₂, W₂`` for layer boxes, ``3 scalar nodes`` for the others."""
        titles = {b.id: b.title.split("  (")[0].split(" = ")[0] for b in self.layer_graph.boxes}
        named = list(dict.fromkeys(titles[b] for b in boxes if b[0] != "n"))
        scalar = len({b for b in boxes if b[0] == "n"})
        if scalar:
            named.append(f"{scalar} scalar node{'s' if scalar > 1 else ''}")
        return ", ".join(named) or "nothing"

    def _state(self, k: int) -> tuple[dict[str, list[str]], set[str], tuple, tuple]:
        """Each box's grad lines after ``k`` steps, the pending boxes, what step k reads and
        writes."""
        precision = self.draw_options["precision"]
        known = {b for s in self.steps[:k] for b in s.writes}
        if k >= 1:  # the scalar nodes the layers feed are known from the first step on
            known |= {b.id for b in self.layer_graph.boxes if b.id[0] == "n"
                      and self._downstream(b.nodes[0][0])}  # type: ignore[index]
        if k == len(self):
            known |= {b.id for b in self.layer_graph.boxes if b.id[0] == "n"}
        known.add(self.layer_graph.box_of[self.root])
        grads = self._grads
        lines = {b.id: _fields(b, grads if b.id in known else None, precision)
                 for b in self.layer_graph.boxes}
        pending = {b.id for b in self.layer_graph.boxes
                   if b.nodes is not None and b.id not in known}
        step = self.steps[k - 1] if k else None
        return lines, pending, step.reads if step else (), step.writes if step else ()

    @cached_property
    def _grads(self) -> dict[Value, float]:
        return final_grads(self.backward_trace)

    @cached_property
    def _after_layers(self) -> set[Value]:
        """The nodes some layer output leads to."""
        reach: set[Value] = set()
        outputs = {v for layer in self.layer_graph.layers for row in layer.outputs for v in row}
        for node in self.layer_graph.order:
            if any(p in outputs or p in reach for p in node.parents):
                reach.add(node)
        return reach

    def _downstream(self, node: Value) -> bool:
        return node in self._after_layers

    def frame(self, k: int) -> LayerDrawing:
        """The drawing after ``k`` steps: the boxes step k reads outlined blue, those it writes
        red, grads not yet known dashed and pending (pinned to one layout with ``dot``)."""
        self._check(k)
        if k not in self._frames:
            pin = self._pinned()
            self._frames[k] = self._drawing(k, pin)
        return self._frames[k]  # type: ignore[return-value]

    def _drawing(self, k: int, pin: Layout | None) -> LayerDrawing:
        lines, pending, reads, writes = self._state(k)
        o = self.draw_options
        digraph = _digraph(self.layer_graph, lines, pending, reads, writes, o["rankdir"],
                           o["precision"], pin)
        return LayerDrawing(digraph, self.layer_graph, lines, o["precision"], pin is not None)

    def page_data(self) -> tuple[Drawing, dict]:
        """The page's drawing (each grad line at its widest over the frames, so every frame
        fits) and data: ``cells`` (ids ``box.line``), ``states`` (per cell, its texts),
        per frame ``g`` (each cell's index into its states), ``p`` (pending boxes), ``r``
        and ``w`` (the boxes the step reads and writes)."""
        if self._page is None:
            ids = [b.id for b in self.layer_graph.boxes]
            cells = [f"{b}.{j}" for b in ids for j in range(len(self._state(0)[0][b]))]
            states: list[dict[str, int]] = [{} for _ in cells]
            frames: list[dict] = []
            widest: dict[str, list[str]] = {}
            for k in range(len(self) + 1):
                lines, pending, reads, writes = self._state(k)
                flat = [t for b in ids for t in lines[b]]
                frames.append({"g": [known.setdefault(t, len(known))
                                     for known, t in zip(states, flat, strict=True)],
                               "p": sorted(pending), "r": list(reads), "w": list(writes)})
                for b in ids:
                    if b not in widest or sum(map(len, lines[b])) > sum(map(len, widest[b])):
                        widest[b] = lines[b]
            o = self.draw_options
            drawing = LayerDrawing(_digraph(self.layer_graph, widest, set(), (), (), o["rankdir"],
                                            o["precision"], None),
                                   self.layer_graph, widest, o["precision"])
            self._page = drawing, {"boxes": ids, "cells": cells,
                                   "states": [list(s) for s in states], "frames": frames}
        return self._page

    def html(self) -> str:
        """The view as one HTML fragment: the controls, each frame's formula typeset (the one
        shown; the text for screen readers), the SVG and the steps as a table (which works
        without script)."""
        n = len(self)
        try:
            drawing, data = self.page_data()
            picture = _tag_svg(cast(LayerDrawing, drawing), data, self.layer_graph)
        except Exception as err:  # no renderer, too big, ...: say why, keep the formulas
            data = {"boxes": [], "cells": [], "states": [],
                    "frames": [{"g": [], "p": [], "r": [], "w": []}] * (n + 1)}
            picture = f"<p>No picture: {html.escape(' '.join(str(err).split()))}</p>"
        data = {**data, "n": n, "eq": [self.equation(k) for k in range(n + 1)]}
        math = f"<style>{ml.MATRIX_CSS}</style>" + "".join(
            f'<div class="sg-layermath" data-k="{k}"{"" if k == n else " hidden"}>'
            f"{self._maths(k)}</div>" for k in range(n + 1))
        return fragment(data, picture, self.equation(n), self._table(), "layerview.js",
                        "All steps (layer, quantity, formula with the engine's numbers):", math)

    def mathml(self, k: int) -> str:
        """Step ``k``'s formula typeset for an HTML page: a ``<math>`` of its symbols, then one
        of its numbers (those :meth:`equation` writes; frame 0: the sentence), with the
        style that draws the matrices' brackets."""
        return (f'<style>{ml.MATRIX_CSS}</style><div class="sg-layermath">{self._maths(k)}'
                "</div>")

    def _maths(self, k: int) -> str:
        self._check(k)
        if k == 0:
            return ml.text_mathml(self.equation(0), html=True)
        return "".join(ml.math(m, html=True) for m in self.steps[k - 1].math)

    def _table(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(s.layer)}</td><td>{html.escape(s.quantity)}</td>"
                       f"<td><pre>{_pre(s.formula)}</pre></td></tr>"
                       for s in self.steps)
        return (f'<table class="stepgrad-layers"><thead><tr><th>layer</th><th>quantity</th>'
                f"<th>formula</th></tr></thead><tbody>{rows}</tbody></table>")

    def __str__(self) -> str:
        return "\n\n".join(self.equation(k) for k in range(1, len(self) + 1)) or (
            "no layers: every node is a scalar box")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs)
        try:
            bundle["text/plain"] = str(self)
        except Exception as err:  # display never raises
            bundle["text/plain"] = f"<LayerView: {err}>"
        return bundle

    def _repr_html_(self) -> str:
        try:
            return self.html()
        except Exception as err:  # display never raises
            return f"<p>{html.escape(str(err))}</p>"


def _tag_svg(drawing: LayerDrawing, data: dict, graph: _Graph) -> str:
    """The SVG with each grad line tagged ``data-cell`` (``box.line``) and showing the last
    frame, each box's group tagged with its state (what a reader without script sees)."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    tree = ET.fromstring(drawing.image("svg")[0])
    count = {b.id: len(drawing._grad_lines[b.id]) for b in graph.boxes}
    last = data["frames"][-1]
    text_of = {c: data["states"][i][last["g"][i]] for i, c in enumerate(data["cells"])}
    q = f"{{{SVG_NS}}}"
    for g in tree.iter(f"{q}g"):
        title = g.findtext(f"{q}title")
        if g.get("class") != "node" or title not in count:
            continue
        g.set("data-box", title)
        if title in last["p"]:
            g.set("class", "node sg-pending")
        if not count[title]:
            continue
        texts = list(g.iter(f"{q}text"))[-count[title]:]
        for j, t in enumerate(texts):
            t.set("data-cell", f"{title}.{j}")
            t.text = text_of[f"{title}.{j}"]
    return ET.tostring(tree, encoding="unicode")
