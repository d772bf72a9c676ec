"""The stepper's self-contained page: one SVG, every frame's numbers, and the controls.

The frames arrive computed (see :meth:`autograd.stepper.Stepper.page_data`); the page's
script (``stepper.js``) and style (``stepper.css``, package data files read with
:mod:`importlib.resources`) only show frame k. The data travels as JSON inside a
``<script type="application/json">`` whose ``<``, ``>``, ``&``, U+2028 and U+2029 are
written as ``\\uXXXX`` escapes, so no text in it can end the script or start a comment.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import xml.etree.ElementTree as ET
from importlib.resources import files

from .drawing import Drawing

SVG_NS = "http://www.w3.org/2000/svg"

PAGE = """<!DOCTYPE html>
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
<div class="sg-math" aria-hidden="true">{math}</div><pre class="sg-eq">{eq}</pre>
<div class="sg-graph">{picture}</div>
<div class="sg-table"><p>{caption}</p>{table}</div>
<script type="application/json" class="sg-data">{data}</script>
<script>{script}</script></div>
"""

_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
            0x2028: "\\u2028", 0x2029: "\\u2029"}


def script_json(data: object) -> str:
    """``data`` as JSON that is safe inside ``<script>``: the same value to ``JSON.parse``,
    with no ``<``, ``>``, ``&``, U+2028 or U+2029 left in the text."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_ESCAPES)


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def state_codes(count: int) -> list[str]:
    """Codes for ``count`` states: base 36, all of one width (``parseInt(code, 36)`` in the
    page), so a frame's states are one string of that many characters per box."""
    width = 1
    while 36**width < count:
        width += 1
    codes = []
    for i in range(count):
        code = ""
        for _ in range(width):
            i, r = divmod(i, 36)
            code = _DIGITS[r] + code
        codes.append(code)
    return codes


def frame_states(data: dict, k: int) -> dict[str, list[str]]:
    """Box id → ``[grad text, mark]`` in frame ``k`` of the page's ``data``."""
    g, w = data["frames"][k]["g"], data["width"]
    return {b: data["states"][i][int(g[i * w:(i + 1) * w], 36)]
            for i, b in enumerate(data["boxes"])}


def _asset(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


CAPTION = ("All steps (∂L/∂node, then per edge: local derivative, product added,\n"
           "parent's grad before and after):")


def fragment(data: dict, picture: str, eq: str, table: str, script: str = "stepper.js",
             caption: str = CAPTION, math: str = "") -> str:
    """The stepper as one HTML fragment showing the last frame (``eq``: its equation as
    text, which screen readers read; ``math``: typeset as MathML, which the eye reads):
    controls, ``picture`` (the tagged SVG, or why there is none), the step ``table`` (works
    without script) under ``caption``, the ``data`` and the ``script`` (a package data file
    that shows frame k; the layer view brings its own). The id hashes data and picture, so
    two steppers on one notebook page keep apart."""
    payload = script_json(data)
    uid = "stepgrad-" + hashlib.sha1((payload + picture).encode("utf-8", "replace")
                                     ).hexdigest()[:12]
    return _FRAGMENT.format(
        uid=uid, n=data["n"], css=_asset("stepper.css"), eq=html.escape(eq), math=math,
        picture=picture,
        table=table, caption=html.escape(caption, quote=False), data=payload,
        script=_asset(script).replace('"STEPGRAD_ID"', json.dumps(uid)),
    )


def tag_svg(drawing: Drawing, data: dict) -> str:
    """``drawing``'s SVG with each box's grad text tagged ``data-node`` and each product text
    ``data-edge``, showing the last frame of ``data`` (what a reader without script sees)
    in its own attributes, so that it reads right without the page's style too: pending
    (forward mode: waiting) boxes dashed, only the last step's edges red. Repeated font
    attributes move to the root (inherited), to keep big pages small."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    tree = ET.fromstring(drawing.image("svg")[0])
    for name, value in _INHERITED.items():
        tree.set(name, value)
    last = data["frames"][-1]
    final = frame_states(data, len(data["frames"]) - 1)
    notes = {b.id: bool(b.note) for b in drawing.boxes}
    q = f"{{{SVG_NS}}}"
    for g in tree.iter(f"{q}g"):
        texts = list(g.iter(f"{q}text"))
        for t in texts:
            for name, value in _INHERITED.items():
                if t.get(name) == value:
                    del t.attrib[name]
        for shape in _shapes(g):
            for name in ("d", "points"):
                if name in shape.attrib:
                    shape.set(name, _TENTHS.sub(r"\1", shape.attrib[name].strip()))
        kind, title, gid = g.get("class"), g.findtext(f"{q}title"), g.get("id", "")
        if kind == "node":
            _rounded_rects(g)
        if kind == "node" and title in notes and texts:
            t = texts[-2 if notes[title] else -1]
            t.set("data-node", title)
            t.text = final[title][0]
            g.set("class", f"node sg-{final[title][1]}"
                  + (" sg-visited" if last["v"] == title else ""))
            for shape in _shapes(g):
                if final[title][1] in ("pending", "waiting"):
                    shape.set("stroke-dasharray", "5,2")
                else:
                    shape.attrib.pop("stroke-dasharray", None)
        elif kind == "edge" and (edge_title := g.find(f"{q}title")) is not None:
            g.remove(edge_title)  # n1->n2: the page reads edges by id
        if kind == "edge" and gid.startswith("e") and texts:
            if drawing.edges[int(gid[1:])].added is not None:
                texts[-1].set("data-edge", gid)
                if gid in last["e"]:
                    g.set("class", "edge sg-pushed")
                else:
                    texts[-1].set("visibility", "hidden")
                    _paint(g, _EDGE)
    for element in tree.iter():  # the line breaks between elements
        element.tail = None
        if len(element) and element.text and not element.text.strip():
            element.text = None
    return ET.tostring(tree, encoding="unicode")


_INHERITED = {"font-family": "Helvetica,sans-Serif", "font-size": "11.00",
              "text-anchor": "middle"}  # what most texts say, said once on the root
_TENTHS = re.compile(r"(\.\d)\d+")  # coordinates to a tenth of a point
_EDGE = "#6b7280"  # an edge's colour when nothing is pushed through it (see draw.py)


def _shapes(g: ET.Element) -> list[ET.Element]:
    return [e for e in g if e.tag in (f"{{{SVG_NS}}}path", f"{{{SVG_NS}}}polygon",
                                      f"{{{SVG_NS}}}polyline", f"{{{SVG_NS}}}rect")]


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _rounded_rects(g: ET.Element) -> None:
    """Each rounded box outline (dot writes a 17-point Bézier path) as the ``<rect rx>`` it
    draws: the same box in a fifth of the bytes."""
    for i, shape in enumerate(g):
        if shape.tag != f"{{{SVG_NS}}}path":
            continue
        numbers = [float(x) for x in _NUMBER.findall(shape.get("d", ""))]
        xs, ys = numbers[0::2], numbers[1::2]
        if not xs or len(xs) != len(ys):
            continue
        rect = ET.Element(f"{{{SVG_NS}}}rect", {
            "x": f"{min(xs):g}", "y": f"{min(ys):g}", "width": f"{max(xs) - min(xs):.1f}",
            "height": f"{max(ys) - min(ys):.1f}", "rx": "6"})
        rect.attrib.update((k, v) for k, v in shape.attrib.items() if k != "d")
        g[i] = rect


def _paint(g: ET.Element, colour: str) -> None:
    """An edge drawn in ``colour`` at width 1, its local-derivative text black."""
    for shape in _shapes(g):
        shape.set("stroke", colour)
        shape.attrib.pop("stroke-width", None)
        if shape.get("fill") not in (None, "none"):
            shape.set("fill", colour)
    for t in g.iter(f"{{{SVG_NS}}}text"):
        t.attrib.pop("fill", None)
