"""The stepper: backward drawn frame by frame, in Jupyter, as a web page, a GIF or image files.

``view = step_through(loss)`` records the steps backward would take (without running it:
no ``.grad`` changes). ``view.frame(k)`` draws the graph as it stands after ``k`` steps
(``k = 0`` before the first, ``len(view)`` at the end): each box shows its gradient at that
moment, marked *pending* while nothing has arrived, *partial* while some consumers have
pushed into it and *final* once none is left; the node visited at step ``k`` is outlined and
each edge it pushes through is labelled with the product it adds. In Jupyter the view is a
slider with prev/next buttons; ``view.save("steps.html")`` writes a self-contained page (one
SVG laid out once by Graphviz, the numbers of every frame, prev/next, a slider, ←/→/Home/End,
no network; it scrolls the visited box into view), ``view.save("steps.gif")`` an
animation, ``view.save("steps.svg")`` the last frame and ``view.save("frames")`` one image per
frame.

``step_through(root, mode="forward", wrt=x)`` steps forward mode the same way: each node that
depends on x gets its tangent ṅ = ∂n/∂x = Σ ∂n/∂p · ṗ in topological order (inputs first),
the box showing ``tangent ?`` until then and the tangent after, the edges of the visited node
each labelled with the term it adds (:mod:`autograd.forward_trace`).

Every view reads the same replay of the trace's records (:func:`moments`,
:func:`tangent_moments`): the drawn frames, and the page, whose frames are computed here, so
its script only shows them.
"""

from __future__ import annotations

import html
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .drawing import (
    Drawing,
    GraphvizNotFound,
    Layout,
    Moment,
    RenderError,
    check_options,
    draw_frame,
    grad_text,
    layout,
    printable,
    select_boxes,
)
from .files import write_atomic
from .forward_trace import ForwardTrace, forward_trace
from .gif import animate
from .groups import check_groups
from .mathml import SLOT, edge_fields, edge_template, step_mathml, tangent_mathml, text_mathml
from .stepper_page import CAPTION, PAGE, fragment, state_codes, tag_svg
from .trace import NodeInfo, Trace, backward_trace, number_text
from .value import Value


def moments(trace: Trace) -> Iterator[Moment]:
    """The moments of backward, ``k = 0 .. len(trace.steps)``, replayed from the records:
    every node at 0 and the root at the seed, then after each step its parents' grads are the
    step's ``after`` and their marks count the products arrived. The Moments share their
    dicts, updated in place: read one before taking the next."""
    need = Counter(_live(e.parent) for s in trace.steps for e in s.edges)
    grads = {_live(n): 0.0 for n in trace.nodes}
    grads[_live(trace.root)] = trace.seed
    marks = {v: _kind(0, need[v]) for v in grads}  # the root needs nothing: final
    got: Counter[Value] = Counter()
    yield Moment(grads, marks)
    for step in trace.steps:
        for e in step.edges:
            v = _live(e.parent)
            grads[v] = e.after
            got[v] += 1
            marks[v] = _kind(got[v], need[v])
        node = _live(step.node)
        yield Moment(grads, marks, node, {node: tuple(e.added for e in step.edges)})


def tangent_moments(trace: ForwardTrace) -> Iterator[Moment]:
    """The moments of a tangent pass, ``k = 0 .. len(trace.steps)``: at 0 the seeded node at
    its seed and every node without a step at 0, known, the others waiting; after each step
    its node's tangent is known and its edges carry their terms. The Moments share their
    dicts, updated in place: read one before taking the next."""
    stepped = {_live(s.node) for s in trace.steps}
    tangents = {_live(n): 0.0 for n in trace.nodes}
    tangents[_live(trace.wrt)] = trace.seed
    marks = {v: "waiting" if v in stepped else "known" for v in tangents}
    yield Moment(tangents, marks)
    for step in trace.steps:
        v = _live(step.node)
        tangents[v], marks[v] = step.tangent, "known"
        yield Moment(tangents, marks, v, {v: tuple(e.product for e in step.edges)})


class _Backward:
    """What the stepper shows of backward: its :class:`~autograd.trace.Trace`."""

    title = "Stepping through backward"
    caption = CAPTION

    def __init__(self, root: Value, seed: float) -> None:
        self.trace = backward_trace(root, seed)
        self.steps = [(_live(s.node), tuple(e.added for e in s.edges)) for s in self.trace.steps]

    def moments(self) -> Iterator[Moment]:
        return moments(self.trace)

    def equation(self, k: int) -> str:
        L = self.trace.root_name
        if k == 0:
            return (f"before the first step: ∂{L}/∂{L} = {number_text(self.trace.seed)} (the "
                    f"seed); {len(self.steps)} steps to go")
        return self.trace.steps[k - 1].equation(L)

    def mathml(self, k: int) -> str:
        return "".join(step_mathml(self.trace.steps[k - 1], self.trace.root_name, html=True))

    def math_fields(self) -> dict:
        """Every edge's MathML pieces (:func:`~autograd.mathml.edge_fields`) for the page,
        each distinct piece once: ``mt`` the edge template, ``ms`` the pieces, ``mf[k]`` per
        edge of step k the pieces' indices (a network repeats its names and numbers, so the
        page stays small)."""
        index: dict[str, int] = {}
        frames: list[list[list[int]]] = [[]]
        for step in self.trace.steps:
            frames.append([[index.setdefault(f, len(index)) for f in edge_fields(step, i)]
                           for i in range(len(step.edges))])
        return {"mt": edge_template(self.trace.root_name, html=True), "ms": list(index),
                "mf": frames}


class _Forward:
    """What the stepper shows of forward mode: its
    :class:`~autograd.forward_trace.ForwardTrace`."""

    caption = ("All steps (the node's tangent ṅ = ∂node/∂x, then per edge: local derivative,\n"
               "the parent's tangent, the product it adds; — : no term):")

    def __init__(self, root: Value, seed: float, wrt: Value | str) -> None:
        self.trace = forward_trace(root, wrt, seed)
        self.steps = [(_live(s.node), tuple(e.product for e in s.edges))
                      for s in self.trace.steps]
        self.title = f"Stepping through forward mode (∂/∂{self.trace.name(self.trace.wrt)})"

    def moments(self) -> Iterator[Moment]:
        return tangent_moments(self.trace)

    def equation(self, k: int) -> str:
        return self.trace.equation(k)

    def mathml(self, k: int) -> str:
        return tangent_mathml(self.trace, k, html=True)

    def math_fields(self) -> dict:
        """Each step's MathML once in ``ms``, the template ``mt`` one slot wide."""
        n = len(self.steps)
        return {"mt": f"{SLOT}0{SLOT}", "ms": [self.mathml(k) for k in range(1, n + 1)],
                "mf": [[]] + [[[k]] for k in range(n)]}


class Stepper:
    """The backward pass of ``root`` (``mode="forward"``: the tangent pass along ``wrt``, a
    node of the graph or its label), frame by frame (see the module docstring).

    ``len(view)`` is the number of steps; ``frame(k)`` a :class:`~autograd.drawing.Drawing`;
    ``equation(k)`` the chain-rule line(s) of step ``k``; ``save(path)`` writes .html, .gif,
    the last frame as .svg or .png, or a folder of frames. ``widget`` is the ipywidgets
    view (None without ipywidgets).
    Drawing options (``depth``, ``collapse``, ``groups``, ``max_nodes``, ``rankdir``,
    ``precision``) are those of :func:`autograd.draw`.
    """

    def __init__(self, root: Value, grad: float = 1.0, *, mode: str = "reverse",
                 wrt: Value | str | None = None, **draw_options: Any) -> None:
        self.root = root
        self._pass = _pass(root, grad, mode, wrt)
        self.trace: Trace | ForwardTrace = self._pass.trace
        groups = check_groups(draw_options.get("groups"), "step_through")
        self.draw_options = {**draw_options, "groups": groups}  # resolved once, for every frame
        self._frames: dict[int, Drawing] = {}
        self._page: tuple[Drawing, dict] | None = None
        self._pins: tuple[Layout | None] | None = None
        self._graphs: dict[int, str] = {}
        self.widget = self.slider = self.prev = self.next = self.text = self.graph = None
        try:
            import ipywidgets as w  # type: ignore[import-untyped]
        except ImportError:
            return
        self.slider = w.IntSlider(value=0, min=0, max=len(self), description="step")
        self.prev = w.Button(description="◀ prev")
        self.next = w.Button(description="next ▶")
        self.text = w.HTML()
        self.graph = w.HTML()
        self.prev.on_click(lambda _: self.show(self.slider.value - 1))
        self.next.on_click(lambda _: self.show(self.slider.value + 1))
        self.slider.observe(lambda change: self._render(change["new"]), names="value")
        self.widget = w.VBox([w.HBox([self.prev, self.slider, self.next]), self.text,
                              self.graph])
        self._render(0)

    def __len__(self) -> int:
        return len(self._pass.steps)

    # ------------------------------------------------------------------ frames
    def _check(self, k: int) -> None:
        if not isinstance(k, int) or not 0 <= k <= len(self):
            raise IndexError(f"step_through: frame {k!r} is outside 0..{len(self)}")

    def moment(self, k: int) -> Moment:
        """The gradients (forward mode: tangents) and marks after ``k`` steps (a copy, from
        :func:`moments` or :func:`tangent_moments`)."""
        self._check(k)
        for j, m in enumerate(self._pass.moments()):
            if j == k:
                return Moment(dict(m.grads), dict(m.marks), m.visited, m.pushed)
        raise AssertionError("unreachable: moments yields len(self) + 1 moments")

    def frame(self, k: int) -> Drawing:
        """The drawing after ``k`` steps (``k = 0``: before the first; ``len(self)``: done).

        With Graphviz ``dot``, every frame is pinned to one layout (its DOT source carries
        the positions), so nothing moves from frame to frame."""
        if k not in self._frames:
            self._frames[k] = draw_frame(self.root, moment=self.moment(k), pinned=self._pinned(),
                                    **self.draw_options)
        return self._frames[k]

    def equation(self, k: int) -> str:
        """What step ``k`` does: ``∂L/∂parent += ∂L/∂node × local = …`` per edge (forward
        mode: ``ṅ = Σ ∂n/∂p × ṗ = …``), labels written as
        :func:`~autograd.drawing.printable` text, as in the drawings."""
        self._check(k)
        return "\n".join(map(printable, self._pass.equation(k).split("\n")))

    # ------------------------------------------------------------------ Jupyter
    @property
    def step(self) -> int | None:
        """The frame on screen in the widget (None without a widget)."""
        return self.slider.value if self.slider is not None else None

    def show(self, k: int) -> None:
        """Go to frame ``k`` in the widget (clamped to 0..len)."""
        if self.slider is not None:
            self.slider.value = max(0, min(len(self), k))

    def _render(self, k: int) -> None:
        if self.text is None or self.graph is None:  # no ipywidgets
            return
        self.text.value = (f"<b>step {k} of {len(self)}</b>{self.mathml(k)}"
                           f"<details><summary>as text</summary>"
                           f"<pre>{html.escape(self.equation(k))}</pre></details>")
        if k not in self._graphs:
            try:
                self._graphs[k] = self.frame(k)._repr_mimebundle_()["text/html"]
            except Exception as err:  # display never raises: the equation still shows
                self._graphs[k] = f"<p>No picture: {html.escape(str(err))}</p>"
        self.graph.value = self._graphs[k]

    def __str__(self) -> str:
        return str(self.trace)

    def to_json(self) -> dict:
        """The trace as a dict: the document :meth:`~autograd.trace.Trace.to_json` writes."""
        return json.loads(self.trace.to_json())

    def _repr_html_(self) -> str:
        try:
            return self.html()
        except Exception as err:  # display never raises: the step table remains
            return f"<p>{html.escape(str(err))}</p>{self.trace._repr_html_()}"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = {"text/plain": str(self.trace), "text/html": self._repr_html_()}
        if self.widget is not None:
            try:
                bundle.update((k, v) for k, v in self.widget._repr_mimebundle_(**kwargs).items()
                              if k != "text/plain")
            except Exception:  # display never raises: the page remains
                pass
        return bundle

    # ------------------------------------------------------------------ the page
    def html(self) -> str:
        """The stepper as one HTML fragment: the page's body (inline SVG, CSS and script; the
        step table below works without script)."""
        n = len(self)
        try:
            drawing, data = self.page_data()  # a graph past max_nodes raises here, as frame
            picture = tag_svg(drawing, data)
        except (ImportError, GraphvizNotFound, RenderError) as err:  # no picture: say why
            data = {"boxes": [], "states": [], "width": 1,
                    "frames": [{"v": None, "g": "", "e": []}] * (n + 1)}
            picture = f"<p>No picture: {html.escape(' '.join(str(err).split()))}</p>"
        data = {**data, "n": n, "eq": [self.equation(k) for k in range(n + 1)],
                "m0": self.mathml(0), **self._pass.math_fields()}
        return fragment(data, picture, self.equation(n), self.trace._repr_html_(),
                        caption=self._pass.caption, math=self.mathml(n))

    def mathml(self, k: int) -> str:
        """Step ``k``'s equations typeset for an HTML page: one MathML ``<math>`` per edge
        (frame 0: the seed sentence), the numbers as :meth:`equation` writes them."""
        self._check(k)
        if k == 0:
            return text_mathml(self.equation(0), html=True)
        return self._pass.mathml(k)

    def page_data(self) -> tuple[Drawing, dict]:
        """The page's drawing and frames, from one pass of :func:`moments`.

        The drawing is the one every frame is laid out like: each box holds its widest text
        of any frame, each edge the product it will carry; with ``depth``, it draws every
        box some frame draws. The data: ``boxes`` (ids ``n0,
        n1, ...``), ``states`` (per box, the ``[grad text, mark]`` pairs it shows) and per
        frame ``v`` (the visited box or None), ``g`` (each box's index into its states, in
        base 36, ``width`` characters each: :func:`~autograd.stepper_page.frame_states`
        reads it) and ``e`` (the ids of the edges the visited node pushes through)."""
        if self._page is None:
            options = self.draw_options
            precision = options.get("precision", 4)
            around = [v for v, _ in self._pass.steps]  # each frame's neighbourhood
            graph, _ = select_boxes(self.root, options.get("max_nodes", 300), options.get("depth"),
                               options.get("collapse", False), options["groups"], around)
            states: list[dict[tuple[str, str], int]] = [{} for _ in graph.nodes]
            widest: dict[Value, tuple[str, float, str]] = {}
            rows: list[list[int]] = []
            visited: list[Value | None] = []
            for m in self._pass.moments():
                row = []
                for v, known in zip(graph.nodes, states, strict=True):
                    state = (grad_text(m.grads[v], m.marks[v], precision), m.marks[v])
                    row.append(known.setdefault(state, len(known)))
                    if len(state[0]) > len(widest.get(v, ("",))[0]):
                        widest[v] = (state[0], m.grads[v], m.marks[v])
                rows.append(row)
                visited.append(m.visited)
            pushed = dict(self._pass.steps)
            drawing = draw_frame(self.root, ids=True, around=around, **options, moment=Moment(
                {v: g for v, (_, g, _) in widest.items()},
                {v: mark for v, (_, _, mark) in widest.items()}, None, pushed))
            edges: dict[Value, list[str]] = {}
            for i, p in enumerate(drawing._pushers):
                if drawing.edges[i].added is not None:
                    edges.setdefault(p, []).append(f"e{i}")
            codes = state_codes(max(map(len, states)))
            self._page = drawing, {
                "boxes": [b.id for b in drawing.boxes],
                "states": [[list(s) for s in known] for known in states],
                "width": len(codes[0]),
                "frames": [{"v": None if v is None else drawing._box_of.get(v),
                            "g": "".join(codes[i] for i in row),
                            "e": [] if v is None else edges.get(v, [])}
                           for v, row in zip(visited, rows, strict=True)]}
        return self._page

    def _pinned(self) -> Layout | None:
        """The page drawing's positions, so that frames do not move (None when unavailable)."""
        if self._pins is None:
            try:
                self._pins = (layout(self.page_data()[0]),)
            except Exception:  # too big, no graphviz: frames say why themselves
                self._pins = (None,)
        return self._pins[0]

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike, format: str = "svg", delay: float = 1.0) -> Path:
        """Write the stepper; the suffix says what: ``.html``/``.htm`` the self-contained
        page, ``.gif`` an animation (one frame per step, ``delay`` seconds each, looping;
        needs Graphviz ``dot``), ``.svg``/``.png`` the last frame's image, and a path with no
        suffix a folder of ``frame_000.<format>`` files (``svg`` or ``png``). Any other
        suffix is a ValueError. A graph past ``max_nodes`` raises the ValueError
        :meth:`frame` raises, whatever the suffix."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in ("", ".html", ".htm", ".gif", ".svg", ".png"):
            raise ValueError(f"step_through: cannot save {str(path)!r}: use .html or .htm (the "
                             "page), .gif (an animation), .svg or .png (the last frame) or a "
                             "path with no suffix (a folder of frames)")
        if suffix in (".svg", ".png"):
            return self.frame(len(self)).save(path)
        if suffix in (".html", ".htm"):
            return write_atomic(path, PAGE.format(
                title=html.escape(printable(f"{self._pass.title}: {self.trace.root_name}")),
                body=self.html()).encode("utf-8"))
        if suffix == ".gif":
            if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not (
                    0 <= delay <= 655.35):
                raise ValueError(f"step_through: delay must be 0 to 655.35 seconds, got {delay!r}")
            gifs = [self.frame(k).image("gif")[0] for k in range(len(self) + 1)]
            return write_atomic(path, animate(gifs, round(delay * 100)))
        if format not in ("svg", "png"):
            raise ValueError(f"step_through: frames are svg or png, got format={format!r}")
        images = [self.frame(k).image(format)[0] for k in range(len(self) + 1)]
        path.mkdir(parents=True, exist_ok=True)
        digits = max(3, len(str(len(self))))
        for k, image in enumerate(images):
            write_atomic(path / f"frame_{k:0{digits}d}.{format}", image)
        return path


def _live(info: NodeInfo) -> Value:
    """The Value a trace recorded here saw (a trace loaded from JSON has none to draw)."""
    if not isinstance(info.value, Value):
        raise ValueError(f"step_through: {info.name} has no live Value (a trace loaded from "
                         "JSON cannot be drawn)")
    return info.value


def _kind(got: int, need: int) -> str:
    """A node's mark once ``got`` of the ``need`` products it will receive have arrived."""
    return "final" if got == need else "partial" if got else "pending"


def _pass(root: Value, seed: float, mode: str, wrt: Value | str | None) -> _Backward | _Forward:
    """The pass a stepper shows; ValueError naming the problem for a bad ``mode`` or
    ``wrt``, before any work."""
    if mode == "reverse":
        if wrt is not None:
            raise ValueError("step_through: wrt is forward mode's input; mode='reverse' (the "
                             "default) differentiates the root with respect to every node")
        return _Backward(root, seed)
    if mode != "forward":
        raise ValueError(f"step_through: mode must be 'reverse' or 'forward', got {mode!r}")
    if wrt is None:
        raise ValueError("step_through: mode='forward' needs wrt=, the node whose tangent is "
                         "seeded (a Value of the graph or its label)")
    return _Forward(root, seed, wrt)


def step_through(root: Value, grad: float = 1.0, *, mode: str = "reverse",
                 wrt: Value | str | None = None, layers: bool = False,
                 **draw_options: Any) -> Stepper:
    """The backward pass of ``root`` frame by frame (display it in Jupyter, or ``save`` it);
    no ``.grad`` changes. ``mode="forward"`` steps forward mode instead: every node's
    tangent ∂node/∂``wrt`` (a Value of the graph or its label; seeded ``grad``), in
    topological order. ``draw_options`` go to :func:`autograd.draw` (``depth``,
    ``collapse``, ``groups``, ``max_nodes``, ``rankdir``, ``precision``). ``layers=True``:
    layer by layer with the δ formulas (:class:`autograd.layerview.LayerView`, backward
    only). Any other name is a TypeError naming the options."""
    check_options("step_through", draw_options)
    if layers:
        if mode != "reverse" or wrt is not None:
            raise ValueError("step_through: layers=True steps backward only (mode='reverse', "
                             "no wrt)")
        from .layerview import LayerView

        return LayerView(root, grad, **draw_options)
    return Stepper(root, grad, mode=mode, wrt=wrt, **draw_options)
