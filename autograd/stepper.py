"""The stepper: backward drawn frame by frame, in Jupyter, as a web page, a GIF or image files.

``view = step_through(loss)`` records the steps backward would take (without running it:
no ``.grad`` changes). ``view.frame(k)`` draws the graph as it stands after ``k`` steps
(``k = 0`` before the first, ``len(view)`` at the end): each box shows its gradient at that
moment, marked *pending* while nothing has arrived, *partial* while some consumers have
pushed into it and *final* once none is left; the node visited at step ``k`` is outlined and
each edge it pushes through is labelled with the product it adds. In Jupyter the view is a
slider with prev/next buttons; ``view.save("steps.html")`` writes a self-contained page (one
SVG laid out once by Graphviz, the numbers of every frame, prev/next, a slider, ←/→/Home/End,
no network), ``view.save("steps.gif")`` an animation and ``view.save("frames/")`` one
image per frame.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from .draw import (
    Drawing,
    Layout,
    Moment,
    _draw,
    check_size,
    grad_text,
    layout,
    printable,
)
from .files import write_atomic
from .gif import animate
from .groups import check_groups
from .trace import Trace, backward_trace
from .value import Value

SVG_NS = "http://www.w3.org/2000/svg"


class Stepper:
    """The backward pass of ``root``, frame by frame (see the module docstring).

    ``len(view)`` is the number of steps; ``frame(k)`` a :class:`~autograd.draw.Drawing`;
    ``equation(k)`` the chain-rule line(s) of step ``k``; ``save(path)`` writes .html, .gif
    or a folder of frames. ``widget`` is the ipywidgets view (None without ipywidgets).
    Drawing options (``depth``, ``collapse``, ``max_nodes``, ``rankdir``, ``precision``) are
    those of :func:`autograd.draw`.
    """

    def __init__(self, root: Value, grad: float = 1.0, **draw_options: Any) -> None:
        self.root = root
        self.trace: Trace = backward_trace(root, grad)
        groups = check_groups(draw_options.get("groups"), "step_through")
        self.draw_options = {**draw_options, "groups": groups}  # resolved once, for every frame
        nodes = [n.value for n in self.trace.nodes]
        # one pass, as the trace records it: every node at 0, the root at the seed
        self._start = dict.fromkeys(nodes, 0.0)
        self._start[root] = self.trace.seed
        self._need = Counter(e.parent.value for s in self.trace.steps for e in s.edges)
        self._frames: dict[int, Drawing] = {}
        self._layout: tuple[Drawing, list, dict[Value, str]] | None = None
        self._pins: tuple[Layout | None] | None = None
        self._graphs: dict[int, str] = {}
        self.widget = self.slider = self.prev = self.next = self.text = self.graph = None
        try:
            import ipywidgets as w
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
        return len(self.trace.steps)

    # ------------------------------------------------------------------ frames
    def _check(self, k: int) -> None:
        if not isinstance(k, int) or not 0 <= k <= len(self):
            raise IndexError(f"step_through: frame {k!r} is outside 0..{len(self)}")

    def moment(self, k: int) -> Moment:
        """The gradients and marks after ``k`` steps, from the trace's records."""
        self._check(k)
        grads = dict(self._start)
        got: Counter[Value] = Counter()
        for s in self.trace.steps[:k]:
            for e in s.edges:
                grads[e.parent.value] = e.after
                got[e.parent.value] += 1
        marks = {v: _kind(got[v], self._need[v]) for v in grads}  # the root needs nothing
        if k == 0:
            return Moment(grads, marks)
        step = self.trace.steps[k - 1]
        return Moment(grads, marks, step.node.value,
                      {step.node.value: tuple(e.added for e in step.edges)})

    def frame(self, k: int) -> Drawing:
        """The drawing after ``k`` steps (``k = 0``: before the first; ``len(self)``: done).

        With Graphviz ``dot``, every frame is pinned to one layout (its DOT source carries
        the positions), so nothing moves from frame to frame."""
        if k not in self._frames:
            self._frames[k] = _draw(self.root, moment=self.moment(k), pinned=self._pinned(),
                                    **self.draw_options)
        return self._frames[k]

    def equation(self, k: int) -> str:
        """What step ``k`` does: ``∂L/∂parent += ∂L/∂node × local = …`` per edge (labels
        written as :func:`~autograd.draw.printable` text, as in the drawings)."""
        self._check(k)
        L = self.trace.root_name
        if k == 0:
            return printable(f"before the first step: ∂{L}/∂{L} = {self.trace.seed:.6g} (the "
                             f"seed); {len(self)} steps to go")
        return "\n".join(map(printable, self.trace.steps[k - 1].equation(L).split("\n")))

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
        self.text.value = (f"<b>step {k} of {len(self)}</b>"
                           f"<pre>{html.escape(self.equation(k))}</pre>")
        if k not in self._graphs:
            try:
                self._graphs[k] = self.frame(k)._repr_mimebundle_()["text/html"]
            except Exception as err:  # display never raises: the equation still shows
                self._graphs[k] = f"<p>No picture: {html.escape(str(err))}</p>"
        self.graph.value = self._graphs[k]

    def __str__(self) -> str:
        return str(self.trace)

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
        try:
            svg, data = self._svg_and_frames()
            picture = svg[svg.find("<svg"):]
        except Exception as err:  # no renderer, too big, ...: say why, keep the equations
            data = {"start": {}, "frames": [{"v": None, "n": [], "e": []}] * (len(self) + 1)}
            picture = f"<p>No picture: {html.escape(' '.join(str(err).split()))}</p>"
        data["n"] = len(self)
        data["eq"] = [self.equation(k) for k in range(len(self) + 1)]
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        uid = "stepgrad-" + hashlib.sha1((payload + picture).encode("utf-8", "replace")
                                         ).hexdigest()[:12]
        n = len(self)
        return _FRAGMENT.format(
            uid=uid, n=n, css=_CSS.replace("#ID", f"#{uid}"),
            eq=html.escape(self.equation(n)), picture=picture, table=self.trace._repr_html_(),
            data=payload.replace("</", "<\\/"), script=_SCRIPT.replace("ID", uid),
        )

    def _template(self) -> tuple[Drawing, list, dict[Value, str]]:
        """The drawing every frame is laid out like (each box wide enough for its text in any
        frame, each edge with the product it will carry), each step's visited node and
        changes (node → grad text and mark) and the marks before the first step.

        One pass over the steps, as :meth:`moment` replays them: a node's grad and mark
        change only when a product arrives into it."""
        if self._layout is None:
            options = self.draw_options
            check_size(len(self.trace.nodes), options.get("max_nodes", 300),
                       options.get("depth"), options.get("collapse", False))
            precision = options.get("precision", 4)
            grads, got = dict(self._start), Counter()
            marks = {v: _kind(0, self._need[v]) for v in grads}
            first = dict(marks)
            widest = {v: (grad_text(g, marks[v], precision), g, marks[v])
                      for v, g in grads.items()}
            changes = []
            for step in self.trace.steps:
                changed = {}
                for e in step.edges:
                    v = e.parent.value
                    grads[v] = e.after
                    got[v] += 1
                    marks[v] = _kind(got[v], self._need[v])
                    changed[v] = (grad_text(grads[v], marks[v], precision), marks[v])
                    if len(changed[v][0]) > len(widest[v][0]):
                        widest[v] = (changed[v][0], grads[v], marks[v])
                changes.append((step.node.value, changed))
            pushed = {s.node.value: tuple(e.added for e in s.edges) for s in self.trace.steps}
            drawing = _draw(self.root, ids=True, **self.draw_options, moment=Moment(
                {v: g for v, (_, g, _) in widest.items()},
                {v: m for v, (_, _, m) in widest.items()}, None, pushed))
            self._layout = drawing, changes, first
        return self._layout

    def _pinned(self) -> Layout | None:
        """The template's positions, so that frames do not move (None when unavailable)."""
        if self._pins is None:
            try:
                self._pins = (layout(self._template()[0]),)
            except Exception:  # too big, no graphviz: frames say why themselves
                self._pins = (None,)
        return self._pins[0]

    def _svg_and_frames(self) -> tuple[str, dict]:
        """The template's SVG showing the last frame, and each frame's changes."""
        drawing, changes, first = self._template()
        precision = self.draw_options.get("precision", 4)
        box_of = {v: b.id for v, b in zip(drawing._nodes, drawing.boxes, strict=True)}
        start = {b: [grad_text(self._start[v], first[v], precision), first[v]]
                 for v, b in box_of.items()}
        frames = [{"v": None, "n": [], "e": []}]
        for visited, changed in changes:
            frames.append({
                "v": drawing._box_of.get(visited),
                "n": [[box_of[v], text, mark] for v, (text, mark) in changed.items()
                      if v in box_of],
                "e": [f"e{i}" for i, p in enumerate(drawing._pushers)
                      if p is visited and drawing.edges[i].added is not None],
            })
        return _tag(drawing, start, frames, len(self)), {"start": start, "frames": frames}

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike, format: str = "svg", delay: float = 1.0) -> Path:
        """Write the stepper: ``.html`` (the self-contained page), ``.gif`` (one frame per
        step, ``delay`` seconds each, looping; needs Graphviz ``dot``) or, for a path without
        one of those suffixes, a folder of ``frame_000.<format>`` files (``svg`` or ``png``)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".html", ".htm"):
            return write_atomic(path, _PAGE.format(
                title=html.escape(printable(f"Stepping through backward: {self.trace.root_name}")),
                body=self.html()).encode("utf-8"))
        if suffix == ".gif":
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


def _kind(got: int, need: int) -> str:
    """A node's mark once ``got`` of the ``need`` products it will receive have arrived."""
    return "final" if got == need else "partial" if got else "pending"


def _tag(layout: Drawing, start: dict, frames: list[dict], n: int) -> str:
    """The rendered SVG with each box's grad text tagged ``data-node`` and each product text
    ``data-edge``, showing the last frame (what a reader without script sees)."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    tree = ET.fromstring(layout.image("svg")[0])
    final = dict(start)
    for f in frames[1:]:
        final.update((b, [t, k]) for b, t, k in f["n"])
    notes = {b.id: bool(b.note) for b in layout.boxes}
    q = f"{{{SVG_NS}}}"
    for g in tree.iter(f"{q}g"):
        texts = list(g.iter(f"{q}text"))
        kind, title = g.get("class"), g.findtext(f"{q}title")
        if kind == "node" and title in notes and texts:
            t = texts[-2 if notes[title] else -1]
            t.set("data-node", title)
            t.text = final[title][0]
            g.set("class", f"node sg-{final[title][1]}"
                  + (" sg-visited" if frames[n]["v"] == title else ""))
        elif kind == "edge" and g.get("id", "").startswith("e") and texts:
            i = int(g.get("id")[1:])
            if layout.edges[i].added is not None:
                texts[-1].set("data-edge", g.get("id"))
                if g.get("id") in frames[n]["e"]:
                    g.set("class", "edge sg-pushed")
                else:
                    texts[-1].set("visibility", "hidden")
    return ET.tostring(tree, encoding="unicode")


def step_through(root: Value, grad: float = 1.0, **draw_options: Any) -> Stepper:
    """The backward pass of ``root`` frame by frame (display it in Jupyter, or ``save`` it);
    no ``.grad`` changes. ``draw_options`` go to :func:`autograd.draw` (``depth``,
    ``collapse``, ``max_nodes``, ``rankdir``, ``precision``)."""
    return Stepper(root, grad, **draw_options)


# ---------------------------------------------------------------------------- page templates
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{title}</title></head>
<body style="font-family:sans-serif;margin:1em">{body}</body></html>
"""

_FRAGMENT = """<div id="{uid}" class="stepgrad-stepper" tabindex="0"><style>{css}</style>
<div class="sg-controls"><button type="button" class="sg-first">first</button>\
<button type="button" class="sg-prev">◀ prev</button>\
<input type="range" class="sg-slider" min="0" max="{n}" value="{n}">\
<button type="button" class="sg-next">next ▶</button>\
<button type="button" class="sg-last">last</button> <span class="sg-count">step {n} of {n}</span>\
<span class="sg-help"> (keys: ← → Home End)</span></div>
<pre class="sg-eq">{eq}</pre>
<div class="sg-graph">{picture}</div>
<div class="sg-table"><p>All steps (∂L/∂node, then per edge: local derivative, product added,
parent's grad before and after):</p>{table}</div>
<script type="application/json" class="sg-data">{data}</script>
<script>{script}</script></div>
"""

_CSS = """#ID{outline:none}#ID .sg-controls{display:flex;gap:.4em;align-items:center}
#ID .sg-slider{width:20em}#ID .sg-eq{background:#f9fafb;padding:.5em;min-height:3em;overflow-x:auto}
#ID .sg-graph{overflow:auto;max-height:80vh}
#ID g.node>path,#ID g.node>polygon,#ID g.node>polyline{stroke-dasharray:none}
#ID g.node.sg-pending>path,#ID g.node.sg-pending>polygon,#ID g.node.sg-pending>polyline{\
stroke-dasharray:5,3}
#ID g.node.sg-visited>path,#ID g.node.sg-visited>polygon{stroke:#dc2626;stroke-width:3}
#ID g.edge>path,#ID g.edge>polygon{stroke:#6b7280;stroke-width:1}
#ID g.edge>polygon{fill:#6b7280}#ID g.edge>text{fill:#000}
#ID g.edge.sg-pushed>path,#ID g.edge.sg-pushed>polygon{stroke:#dc2626;stroke-width:2}
#ID g.edge.sg-pushed>polygon,#ID g.edge>text[data-edge]{fill:#dc2626}
#ID table{border-collapse:collapse}#ID td,#ID th{padding:0 .5em}"""

_SCRIPT = """(function(){var root=document.getElementById("ID");
if(!root||root.getAttribute("data-ready"))return;root.setAttribute("data-ready","1");
var d=JSON.parse(root.querySelector("script.sg-data").textContent);
var grads={},adds={};
root.querySelectorAll("text[data-node]").forEach(function(t){grads[t.getAttribute("data-node")]=t;});
root.querySelectorAll("text[data-edge]").forEach(function(t){adds[t.getAttribute("data-edge")]=t;});
var slider=root.querySelector(".sg-slider"),eq=root.querySelector(".sg-eq"),
count=root.querySelector(".sg-count"),k=0;
function show(j){k=Math.max(0,Math.min(d.n,j));var s=Object.assign({},d.start),f=d.frames[k];
for(var i=1;i<=k;i++)d.frames[i].n.forEach(function(c){s[c[0]]=[c[1],c[2]];});
Object.keys(grads).forEach(function(id){var t=grads[id],g=t.parentNode,st=s[id];if(!st)return;
t.textContent=st[0];["pending","partial","final"].forEach(function(m){
g.classList.toggle("sg-"+m,st[1]===m);});g.classList.toggle("sg-visited",f.v===id);});
Object.keys(adds).forEach(function(id){var on=f.e.indexOf(id)>=0;
adds[id].setAttribute("visibility",on?"visible":"hidden");
adds[id].parentNode.classList.toggle("sg-pushed",on);});
eq.textContent=d.eq[k];count.textContent="step "+k+" of "+d.n;slider.value=String(k);}
function key(e){var m={ArrowRight:k+1,ArrowLeft:k-1,Home:0,End:d.n}[e.key];
if(m===undefined)return;e.preventDefault();show(m);}
root.querySelector(".sg-prev").onclick=function(){show(k-1);};
root.querySelector(".sg-next").onclick=function(){show(k+1);};
root.querySelector(".sg-first").onclick=function(){show(0);};
root.querySelector(".sg-last").onclick=function(){show(d.n);};
slider.oninput=function(){show(parseInt(slider.value,10));};
if(root.parentNode===document.body)document.addEventListener("keydown",key);
else root.addEventListener("keydown",key);
show(0);})();"""
