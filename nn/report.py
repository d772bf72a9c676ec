"""The training report: one self-contained HTML page that replays a :class:`nn.Recording`.

A slider (with play/pause and the ←/→ keys) moves over the recorded epochs; each position
shows the epoch's train and test loss and accuracy as recorded, the loss curves with a
cursor, the decision boundary over the data for 2-D inputs (a confusion matrix on (X, y)
otherwise), histograms of each layer's weights and last-step gradients, and one sample's
loss graph in the layer view (:mod:`nn.sample_graph`) under that epoch's parameters: the
values and ∂loss/∂node the engine computes for the snapshot, drawn once and renumbered by the
slider. Graphs are capped at ``max_graphs`` (20) evenly spaced epochs, first and last
included; another epoch shows the nearest earlier graph and says so. A graph the layer view
refuses (over its 300 boxes) or that no renderer can draw is left out with the reason. The
other pictures are inline SVG drawn here; a CSP forbids every request, so the page works
from ``file://``.
"""

from __future__ import annotations

import copy
import html
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from autograd.files import write_atomic

from .module import Module
from .record import Recording, Snapshot
from .sample_graph import layer_view, sample_loss, stacked
from .train import predict

W, H = 320, 200
MAX_GRAPHS = 20  # recorded epochs that get the sample's graph (evenly spaced, first and last)
SVG = "{http://www.w3.org/2000/svg}"
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")


def _fmt(v: float) -> str:
    return f"{v:.4g}" if math.isfinite(v) else str(v)


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def line_chart(series: dict[str, list[tuple[float, float]]], cursor_id: str,
               xlabel: str = "epoch") -> str:
    """Polylines of (x, y) points, a legend, and a vertical cursor line with id ``cursor_id``."""
    pts = [p for s in series.values() for p in s if math.isfinite(p[1])]
    if not pts:
        return "<svg></svg>"
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    sx, sy = _scale(min(xs), max(xs), 40, W - 10), _scale(min(ys), max(ys), H - 25, 10)
    out = [f'<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}">',
           f'<text x="2" y="14" font-size="10">{_fmt(max(ys))}</text>',
           f'<text x="2" y="{H - 25}" font-size="10">{_fmt(min(ys))}</text>',
           f'<text x="{W // 2}" y="{H - 5}" font-size="10">{xlabel}</text>']
    for i, (name, s) in enumerate(series.items()):
        c = COLOURS[i % len(COLOURS)]
        line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s if math.isfinite(y))
        out.append(f'<polyline fill="none" stroke="{c}" points="{line}"/>')
        out.append(f'<text x="{W - 110}" y="{14 + 12 * i}" font-size="10" fill="{c}">'
                   f'{html.escape(name)}</text>')
    out.append(f'<line id="{cursor_id}" y1="10" y2="{H - 25}" stroke="#888" '
               f'data-x0="{sx(min(xs)):.2f}" data-x1="{sx(max(xs)):.2f}" '
               f'data-e0="{min(xs)}" data-e1="{max(xs)}"/>')
    return "".join(out) + "</svg>"


def histogram(values: Sequence[float], title: str, bins: int = 20) -> str:
    """Bars counting ``values`` in ``bins`` equal bins between their min and max."""
    v = [x for x in values if math.isfinite(x)]
    w, h = 150, 80
    if not v:
        return (f'<svg width="{w}" height="{h}"><text y="12" font-size="10">'
                f'{html.escape(title)}: none</text></svg>')
    lo, hi = min(v), max(v)
    counts = [0] * bins
    for x in v:
        counts[min(int((x - lo) / ((hi - lo) or 1.0) * bins), bins - 1)] += 1
    top = max(counts)
    bars = "".join(f'<rect x="{i * w / bins:.1f}" y="{h - 14 - c / top * (h - 28):.1f}" '
                   f'width="{w / bins - 1:.1f}" height="{c / top * (h - 28):.1f}" fill="#1f77b4"/>'
                   for i, c in enumerate(counts))
    return (f'<svg width="{w}" height="{h}"><text y="10" font-size="10">{html.escape(title)}'
            f'</text>{bars}<text y="{h - 2}" font-size="9">{_fmt(lo)}</text>'
            f'<text x="{w - 40}" y="{h - 2}" font-size="9">{_fmt(hi)}</text></svg>')


def heatmap(grid: list[list[float]], colour: Callable[[float], str]) -> str:
    """Rects for a grid of values, coloured by ``colour(value)``, row 0 at the top; each run
    of cells of one colour in a row is one rect (a decision boundary's 30 × 30 cells: about
    70 rects, not 900)."""
    n, m = len(grid), len(grid[0])
    cw, ch = W / m, W / n
    out = []
    for i, row in enumerate(grid):
        j = 0
        for fill, run in groupby(colour(v) for v in row):
            k = len(list(run))
            out.append(f'<rect x="{j * cw:.1f}" y="{i * ch:.1f}" width="{k * cw + 0.5:.1f}" '
                       f'height="{ch + 0.5:.1f}" fill="{fill}"/>')
            j += k
    return "".join(out)


def _boundary(model: Module, X: list, y: list, steps: int = 30) -> str:
    xs, ys = [p[0] for p in X], [p[1] for p in X]
    (x0, x1), (y0, y1) = (min(xs), max(xs)), (min(ys), max(ys))
    grid_pts = [[x0 + (x1 - x0) * j / (steps - 1), y1 - (y1 - y0) * i / (steps - 1)]
                for i in range(steps) for j in range(steps)]
    out = predict(model, grid_pts)
    score = [o[1] - o[0] if isinstance(o, list) else o for o in out]
    grid = [score[i * steps:(i + 1) * steps] for i in range(steps)]
    mid = 0.0 if min(score) < 0 else 0.5
    cells = heatmap(grid, lambda v: "#f4c7c3" if v > mid else "#c6dbef")
    sx, sy = _scale(x0, x1, 0, W), _scale(y0, y1, W, 0)
    dots = "".join(f'<circle cx="{sx(p[0]):.1f}" cy="{sy(p[1]):.1f}" r="2.5" '
                   f'fill="{COLOURS[1] if t in (1, True) else COLOURS[0]}"/>'
                   for p, t in zip(X, y, strict=True))
    return f'<svg viewBox="0 0 {W} {W}" width="{W}" height="{W}">{cells}{dots}</svg>'


def _confusion(model: Module, X: list, y: list) -> str:
    out = predict(model, X)
    k = len(out[0])
    counts = [[0] * k for _ in range(k)]
    for o, t in zip(out, y, strict=True):
        counts[t][max(range(k), key=o.__getitem__)] += 1
    top = max(max(r) for r in counts) or 1
    cells = heatmap(counts, lambda v: f"rgba(31,119,180,{v / top:.3f})")
    cw = W / k
    text = "".join(f'<text x="{(j + 0.3) * cw:.1f}" y="{(i + 0.6) * cw:.1f}" font-size="10">'
                   f'{v}</text>' for i, r in enumerate(counts) for j, v in enumerate(r))
    return (f'<svg viewBox="0 0 {W} {W}" width="{W}" height="{W}" aria-label="confusion matrix:'
            f' rows true class, columns predicted">{cells}{text}</svg>')


def _layers(snapshot: Snapshot) -> dict[str, tuple[list[float], list[float]]]:
    """Layer path (a parameter name up to its neuron) → (weights, gradients)."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    for name, w in snapshot.params.items():
        parts = name.split(".")
        layer = ".".join(parts[:2]) if len(parts) > 2 else "model"
        ws, gs = out.setdefault(layer, ([], []))
        ws.append(w)
        gs.append(snapshot.grads[name])
    return out


def _picked(n: int, cap: int) -> list[int]:
    """At most ``cap`` evenly spaced indices of ``range(n)``, the first and the last included."""
    if n <= cap:
        return list(range(n))
    return sorted({round(i * (n - 1) / (cap - 1)) for i in range(cap)})


def _texts(view: Any) -> dict[str, list[str]]:
    """The texts of a layer drawing that change with the numbers: each box's lines below its
    title (its table, where every data row says ``data``; the picture says it once) and each
    labelled edge's label (key ``src->dst#k``, the k-th such edge)."""
    out: dict[str, list[str]] = {}
    boxes = iter(view.layer_boxes)
    key = ""
    for line in view.table().split("\n"):
        if not line.startswith("  "):
            key = next(boxes).id
            out[key] = []
        else:
            out[key].append(line[2:] if not out[key] or not line.startswith("  data ")
                            else line[7:])
    seen: dict[str, int] = {}
    for src, dst, label in re.findall(r'^\t(\w+) -> (\w+) \[label="([^"]*)"', view.dot_source,
                                      re.M):
        n = seen[f"{src}->{dst}"] = seen.get(f"{src}->{dst}", -1) + 1
        out[f"{src}->{dst}#{n}"] = [label]
    return out


def _tagged(svg: bytes, texts: dict[str, list[str]]) -> tuple[str, list[str]]:
    """The SVG with every changing text tagged ``data-cell="j"`` (and ``data-w``, the width
    of its box, for a node's line), and the cells' keys in order. Raises ValueError when a
    text differs from ``texts`` (they are of the drawing the SVG shows)."""
    ET.register_namespace("", SVG[1:-1])
    tree = ET.fromstring(svg)
    cells: list[str] = []
    counts: dict[str, int] = {}
    for g in tree.iter(f"{SVG}g"):
        title = g.findtext(f"{SVG}title") or ""
        kind = g.get("class")
        if kind == "edge":
            n = counts[title] = counts.get(title, -1) + 1
            title = f"{title}#{n}"
        if kind not in ("node", "edge") or title not in texts:
            continue
        g.set("data-box", title)
        shown = list(g.iter(f"{SVG}text"))[-len(texts[title]):] if texts[title] else []
        if [t.text for t in shown] != texts[title]:
            raise ValueError(f"the drawing of {title} shows {[t.text for t in shown]}, "
                             f"not {texts[title]}")
        polygon = g.find(f"{SVG}polygon")
        xs = [float(p.split(",")[0]) for p in (polygon.get("points", "").split()
                                                if polygon is not None else [])]
        for t in shown:
            t.set("data-cell", str(len(cells)))
            if kind == "node" and xs:
                t.set("data-w", f"{max(xs) - min(xs) - 8:.1f}")
            cells.append(title)
    return ET.tostring(tree, encoding="unicode"), cells


def _graphs(recording: Recording, work: Module, sample: tuple, name: str,
            cap: int) -> tuple[str, list[dict[str, Any]], list[int]]:
    """(the picture, per graph its position and texts, per snapshot its graph's index): one
    sample's layer view under ``cap`` evenly spaced snapshots' parameters, drawn once (the
    last of them) and renumbered for the others. The picture is a paragraph saying why when
    there is no graph."""
    x, target = sample
    picked = _picked(len(recording.snapshots), cap) if cap else []
    views = []
    try:
        if not picked or recording.loss is None:
            raise ValueError("no graphs asked for" if not picked else "no loss recorded")
        for i in picked:
            work.load_state_dict(recording.snapshots[i].params)
            views.append(layer_view(sample_loss(work, x, target, recording.loss),
                                    work.module_paths()))
        texts = [_texts(v) for v in views]
        picture = stacked(views[-1], name, recording.loss, target)
        svg, cells = _tagged(picture.image("svg")[0], texts[-1])
    except Exception as err:  # no renderer, too many boxes, ...: the rest of the page stands
        reason = html.escape(" ".join(str(err).split()))
        return f"<p>No sample graph: {reason}</p>", [], [-1] * len(recording.snapshots)
    keys = list(dict.fromkeys(cells))
    flat = [[line for key in keys for line in t[key]] for t in texts]
    graphs = [{"at": _at(recording, recording.snapshots[i]), "t": row}
              for i, row in zip(picked, flat)]
    index = [max(j for j, p in enumerate(picked) if p <= i)
             for i in range(len(recording.snapshots))]
    return svg, graphs, index


def _at(recording: Recording, snap: Snapshot) -> str:
    """Where ``snap`` is on the timeline: ``epoch 3``, or ``step 40 (epoch 3)``."""
    if recording.unit == "step":
        return f"step {snap.step} (epoch {snap.epoch})"
    return f"epoch {snap.epoch}"


def _frame(snap: Snapshot, model: Module | None, X: list | None,
           y: list | None) -> dict[str, Any]:
    hist = "".join(histogram(ws, f"{layer} weights") + histogram(gs, f"{layer} grads")
                   for layer, (ws, gs) in _layers(snap).items())
    picture = ""
    if model is not None and X is not None and y is not None:
        model.load_state_dict(snap.params)
        picture = _boundary(model, X, y) if len(X[0]) == 2 else _confusion(model, X, y)
    return {"epoch": snap.epoch, "numbers": {k: v if math.isfinite(v) else str(v)
                                            for k, v in snap.metrics.items()},
            "hist": hist, "picture": picture}


def report(recording: Recording, path: str | Path, model: Module | None = None,
           X: Sequence | None = None, y: Sequence | None = None,
           title: str = "Training report", sample: tuple[Any, Any] | None = None,
           sample_name: str = "X[0]", max_graphs: int = MAX_GRAPHS) -> Path:
    """Write the report page of ``recording`` to ``path``; return the path. With ``model``
    (any model of the recorded shape; a copy is used, the model is not changed) and data
    ``X``, ``y``: the decision boundary (2-D inputs) or a confusion matrix per epoch, and the
    loss graph of ``sample`` (x, target; default ``(X[0], y[0])``, named ``sample_name`` on
    the picture) at up to ``max_graphs`` epochs (0: none)."""
    if not isinstance(recording, Recording) or not recording.snapshots:
        raise ValueError(f"report: needs a Recording with snapshots, got {recording!r}")
    if isinstance(max_graphs, bool) or not isinstance(max_graphs, int) or max_graphs < 0:
        raise ValueError(f"report: max_graphs must be an int ≥ 0, got {max_graphs!r}")
    if sample is not None and (not isinstance(sample, (tuple, list)) or len(sample) != 2):
        raise ValueError(f"report: sample must be a pair (x, target), got {sample!r}")
    work = copy.deepcopy(model) if model is not None else None
    Xs = [list(map(float, row)) for row in X] if X is not None else None
    ys = list(y) if y is not None else None
    frames = [_frame(s, work, Xs, ys) for s in recording.snapshots]
    for f, s in zip(frames, recording.snapshots):
        f.update(at=_at(recording, s), x=recording.position(s), step=s.step)
    graph, graphs = "", []
    if work is not None and (sample is not None or (Xs and ys)):
        graph, graphs, index = _graphs(recording, work, sample or (Xs[0], ys[0]),
                                       sample_name, max_graphs)
        for f, i in zip(frames, index):
            f["graph"] = i
    names = [k for k in frames[0]["numbers"] if "loss" in k]
    chart = line_chart({k: [(f["x"], f["numbers"][k]) for f in frames] for k in names},
                       "cursor", recording.unit)
    data, graph_data = (json.dumps(d, allow_nan=False).replace("<", "\\u003c")
                        for d in (frames, graphs))
    page = _PAGE.format(title=html.escape(title), n=len(frames) - 1, chart=chart,
                        first_hist=frames[0]["hist"], first_picture=frames[0]["picture"],
                        graph=graph, data=data, graph_data=graph_data)
    path = Path(path)
    write_atomic(path, page.encode())
    return path


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{title}</title>
<style>body{{font-family:sans-serif;margin:1em}} .row{{display:flex;flex-wrap:wrap;gap:1em}}
table td{{padding:0 .6em}}</style></head><body>
<h1>{title}</h1>
<p><button id="play">play</button>
<input id="slider" type="range" min="0" max="{n}" value="0" aria-label="recorded epoch">
epoch <span id="epoch"></span><span id="step"></span></p>
<table id="numbers"></table>
<div class="row"><div id="chart">{chart}</div><div id="picture">{first_picture}</div></div>
<div id="hist" class="row">{first_hist}</div>
<figure id="graph"><figcaption id="graph-caption"></figcaption>{graph}</figure>
<script id="frames" type="application/json">{data}</script>
<script id="graphs" type="application/json">{graph_data}</script>
<script>
const frames = JSON.parse(document.getElementById('frames').textContent);
const graphs = JSON.parse(document.getElementById('graphs').textContent);
const cells = document.querySelectorAll('#graph [data-cell]');
function showGraph(f) {{
  const g = graphs[f.graph];
  if (!g) return;
  document.getElementById('graph-caption').textContent = "One sample's loss graph at " + g.at
    + " (values and ∂loss/∂node under those parameters)"
    + (g.at === f.at ? '' : '; graphs are drawn at ' + graphs.length
       + ' evenly spaced positions, this is the nearest before ' + f.at);
  cells.forEach(el => {{
    el.textContent = g.t[+el.dataset.cell];
    el.removeAttribute('textLength');
    if (el.dataset.w && el.getComputedTextLength() > +el.dataset.w) {{
      el.setAttribute('textLength', el.dataset.w);
      el.setAttribute('lengthAdjust', 'spacingAndGlyphs');
    }}
  }});
}}
const slider = document.getElementById('slider');
const cursor = document.getElementById('cursor');
function show(i) {{
  const f = frames[i];
  slider.value = i;
  document.getElementById('epoch').textContent = f.epoch;
  document.getElementById('step').textContent = f.at.startsWith('step') ? ', step ' + f.step : '';
  document.getElementById('numbers').innerHTML = Object.entries(f.numbers).map(
    ([k, v]) => '<tr><td>' + k + '</td><td data-key="' + k + '">' + v + '</td></tr>').join('');
  document.getElementById('hist').innerHTML = f.hist;
  document.getElementById('picture').innerHTML = f.picture;
  showGraph(f);
  if (cursor) {{
    const d = cursor.dataset, span = (d.e1 - d.e0) || 1;
    const x = +d.x0 + (f.x - d.e0) / span * (d.x1 - d.x0);
    cursor.setAttribute('x1', x); cursor.setAttribute('x2', x);
  }}
}}
slider.addEventListener('input', () => show(+slider.value));
document.addEventListener('keydown', e => {{
  if (e.target === slider) return;  // the range input moves itself and fires 'input'
  if (e.key === 'ArrowRight') show(Math.min(frames.length - 1, +slider.value + 1));
  if (e.key === 'ArrowLeft') show(Math.max(0, +slider.value - 1));
}});
let timer = null;
document.getElementById('play').addEventListener('click', e => {{
  if (timer) {{ clearInterval(timer); timer = null; e.target.textContent = 'play'; return; }}
  e.target.textContent = 'pause';
  timer = setInterval(() => show((+slider.value + 1) % frames.length), 500);
}});
show(0);
</script></body></html>
"""
