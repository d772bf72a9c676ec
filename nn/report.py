"""The training report: one self-contained HTML page that replays a :class:`nn.Recording`.

A slider (with play/pause and the ←/→ keys) moves over the recorded epochs; each position
shows the epoch's train and test loss and accuracy as recorded, the loss curves with a
cursor, the decision boundary over the data for 2-D inputs (a confusion matrix on (X, y)
otherwise) and histograms of each layer's weights and last-step gradients. Pictures are
inline SVG drawn here; a CSP forbids every request, so the page works from ``file://``.
"""

from __future__ import annotations

import copy
import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograd.files import write_atomic

from .module import Module
from .record import Recording, Snapshot
from .train import predict

W, H = 320, 200
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")


def _fmt(v: float) -> str:
    return f"{v:.4g}" if math.isfinite(v) else str(v)


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def line_chart(series: dict[str, list[tuple[float, float]]], cursor_id: str) -> str:
    """Polylines of (x, y) points, a legend, and a vertical cursor line with id ``cursor_id``."""
    pts = [p for s in series.values() for p in s if math.isfinite(p[1])]
    if not pts:
        return "<svg></svg>"
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    sx, sy = _scale(min(xs), max(xs), 40, W - 10), _scale(min(ys), max(ys), H - 25, 10)
    out = [f'<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}">',
           f'<text x="2" y="14" font-size="10">{_fmt(max(ys))}</text>',
           f'<text x="2" y="{H - 25}" font-size="10">{_fmt(min(ys))}</text>',
           f'<text x="{W // 2}" y="{H - 5}" font-size="10">epoch</text>']
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


def heatmap(grid: list[list[float]], colour) -> str:
    """Rects for a grid of values, coloured by ``colour(value)``, row 0 at the top."""
    n, m = len(grid), len(grid[0])
    cw, ch = W / m, W / n
    return "".join(f'<rect x="{j * cw:.1f}" y="{i * ch:.1f}" width="{cw + 0.5:.1f}" '
                   f'height="{ch + 0.5:.1f}" fill="{colour(v)}"/>'
                   for i, row in enumerate(grid) for j, v in enumerate(row))


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
           title: str = "Training report") -> Path:
    """Write the report page of ``recording`` to ``path``; return the path. With ``model``
    (any model of the recorded shape; a copy is used, the model is not changed) and data
    ``X``, ``y``: the decision boundary (2-D inputs) or a confusion matrix per epoch."""
    if not isinstance(recording, Recording) or not recording.snapshots:
        raise ValueError(f"report: needs a Recording with snapshots, got {recording!r}")
    work = copy.deepcopy(model) if model is not None else None
    Xs = [list(map(float, row)) for row in X] if X is not None else None
    ys = list(y) if y is not None else None
    frames = [_frame(s, work, Xs, ys) for s in recording.snapshots]
    names = [k for k in frames[0]["numbers"] if "loss" in k]
    chart = line_chart({k: [(f["epoch"], f["numbers"][k]) for f in frames] for k in names},
                       "cursor")
    data = json.dumps(frames, allow_nan=False).replace("<", "\\u003c")
    page = _PAGE.format(title=html.escape(title), n=len(frames) - 1, chart=chart,
                        first_hist=frames[0]["hist"], first_picture=frames[0]["picture"],
                        data=data)
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
epoch <span id="epoch"></span></p>
<table id="numbers"></table>
<div class="row"><div id="chart">{chart}</div><div id="picture">{first_picture}</div></div>
<div id="hist" class="row">{first_hist}</div>
<script id="frames" type="application/json">{data}</script>
<script>
const frames = JSON.parse(document.getElementById('frames').textContent);
const slider = document.getElementById('slider');
const cursor = document.getElementById('cursor');
function show(i) {{
  const f = frames[i];
  slider.value = i;
  document.getElementById('epoch').textContent = f.epoch;
  document.getElementById('numbers').innerHTML = Object.entries(f.numbers).map(
    ([k, v]) => '<tr><td>' + k + '</td><td data-key="' + k + '">' + v + '</td></tr>').join('');
  document.getElementById('hist').innerHTML = f.hist;
  document.getElementById('picture').innerHTML = f.picture;
  if (cursor) {{
    const d = cursor.dataset, span = (d.e1 - d.e0) || 1;
    const x = +d.x0 + (f.epoch - d.e0) / span * (d.x1 - d.x0);
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
