"""The forward stepper: step_through(root, mode="forward", wrt=x) gives every node its tangent
∂node/∂x in topological order, in the frames, the page, the GIF, the widget, print and JSON.

Expected tangents come from central finite differences of the graph rebuilt at x ± h, and from
sympy's derivative of the formulas written by hand; looking must never change a grad.
"""

from __future__ import annotations

import html
import random

import pytest

import nn
from autograd import Value, step_through, topological_order
from autograd.forward_trace import dotted
from autograd.trace import number_text
from tests.pages import open_offline
from tests.test_stepper import grads_of, look_at_everything, needs_dot, texts_by_node

A, B, C = 0.8, -1.5, 2.0


def small(a=A, b=B, c=C):
    """f = (a·b + c)·tanh(a) + exp(b)/c, every node labelled."""
    a, b, c = Value(a, label="a"), Value(b, label="b"), Value(c, label="c")
    nodes = {"a": a, "b": b, "c": c}
    for name, make in (("ab", lambda n: n["a"] * n["b"]), ("s", lambda n: n["ab"] + n["c"]),
                       ("t", lambda n: n["a"].tanh()), ("st", lambda n: n["s"] * n["t"]),
                       ("e", lambda n: n["b"].exp()), ("q", lambda n: n["e"] / n["c"]),
                       ("f", lambda n: n["st"] + n["q"])):
        nodes[name] = make(nodes)
        nodes[name].label = name
    return nodes["f"]


def shared(x=0.3, y=-1.2):
    """A node used twice (a + a), a power and a log: two edges to one parent."""
    x, y = Value(x, label="x"), Value(y, label="y")
    u = x * y + x.tanh()
    u.label = "u"
    return (u + u) * (u ** 2 + 1).log() - y.sigmoid() * x


def mlp(x0=0.5, x1=-0.7):
    """MLP(2, [3, 1]) at (x0, x1), seeded weights; the loss is (out − 1)²."""
    random.seed(7)
    model = nn.MLP(2, [3, 1])
    out = model([Value(x0, label="x0"), Value(x1, label="x1")])
    loss = (out - 1) ** 2
    loss.label = "loss"
    return loss


def tangents_by_position(view, k):
    """Each node's tangent in frame k, in topological order (None: not computed yet)."""
    m = view.moment(k)
    return [m.grads[n] if m.marks[n] == "known" else None for n in topological_order(view.root)]


def finite_differences(build, wrt_index, args, h=1e-6):
    """Central differences of every node's data in x = args[wrt_index], the graph rebuilt."""
    def datas(delta):
        moved = list(args)
        moved[wrt_index] += delta
        return [n.data for n in topological_order(build(*moved))]

    return [(p - m) / (2 * h) for p, m in zip(datas(h), datas(-h))]


@pytest.mark.parametrize("build, args, wrt, index", [
    (small, (A, B, C), "a", 0), (small, (A, B, C), "b", 1), (small, (A, B, C), "c", 2),
    (shared, (0.3, -1.2), "x", 0), (shared, (0.3, -1.2), "y", 1),
    (mlp, (0.5, -0.7), "x0", 0), (mlp, (0.5, -0.7), "x1", 1),
])
def test_each_frame_gives_each_node_its_tangent(build, args, wrt, index):
    root = build(*args)
    view = step_through(root, mode="forward", wrt=wrt)
    order = topological_order(root)
    want = finite_differences(build, index, args)
    stepped = [s.node.value for s in view.trace.steps]
    assert stepped == [n for n in order if n in stepped]  # topological: parents first
    for k in range(len(view) + 1):
        got = tangents_by_position(view, k)
        known = [n for n, t in zip(order, got) if t is not None]
        assert set(stepped[k:]).isdisjoint(known) and set(stepped[:k]) <= set(known)
        for node, t, fd in zip(order, got, want):
            if t is not None:
                assert t == pytest.approx(fd, rel=1e-6, abs=1e-6), (k, node)
    assert None not in tangents_by_position(view, len(view))


def test_the_tangents_are_sympys_derivatives():
    sp = pytest.importorskip("sympy")
    a, b, c = sp.symbols("a b c")
    formulas = {"ab": a * b, "s": a * b + c, "t": sp.tanh(a), "st": (a * b + c) * sp.tanh(a),
                "e": sp.exp(b), "q": sp.exp(b) / c,
                "f": (a * b + c) * sp.tanh(a) + sp.exp(b) / c}
    point = {a: A, b: B, c: C}
    for x in (a, b, c):
        view = step_through(small(), mode="forward", wrt=str(x))
        m = view.moment(len(view))
        for node in topological_order(view.root):
            if node.label in formulas:
                want = float(sp.diff(formulas[node.label], x).subs(point))
                assert m.grads[node] == pytest.approx(want, rel=1e-13, abs=1e-15), node.label


def test_equations_write_the_engines_locals_and_tangents():
    f = small()
    view = step_through(f, mode="forward", wrt="a")
    step = next(s for s in view.trace.steps if s.node.label == "st")  # st = s · t
    s_, t_ = (e.parent.value for e in step.edges)
    assert [e.local for e in step.edges] == [t_.data, s_.data]  # the locals the nodes store
    text = view.equation(step.index + 1)
    ds, dt = (view.moment(len(view)).grads[v] for v in (s_, t_))
    assert (f"{dotted('st')} = ∂st/∂s × {dotted('s')} + ∂st/∂t × {dotted('t')} = "
            f"{number_text(t_.data)} × {number_text(ds)} + "
            f"{number_text(s_.data)} × {number_text(dt)} = {number_text(t_.data * ds)} + "
            f"{number_text(s_.data * dt)} = {number_text(step.tangent)}") in text
    assert step.tangent == t_.data * ds + s_.data * dt
    q = next(s for s in view.trace.steps if s.node.label == "f")
    assert "(q does not depend on a: no term)" in view.equation(q.index + 1)
    assert view.equation(0).startswith(f"before the first step: {dotted('a')} = ∂a/∂a = 1 "
                                       "(the seed)")
    assert [dotted(n) for n in ("x", "h1", "#3", "x·y", "ab")] == [
        "x\u0307", "h\u03071", "(#3)\u02d9", "(x·y)\u02d9", "(ab)\u02d9"]


def test_print_and_json_hold_every_step():
    f = small()
    view = step_through(f, mode="forward", wrt="b")
    doc = view.to_json()
    assert doc["format"] == "stepgrad-forward-trace" and doc["seed"] == 1.0
    order = topological_order(f)
    assert order[doc["wrt"]].label == "b"
    m = view.moment(len(view))
    for s in doc["steps"]:
        node = order[s["node"]]
        assert s["tangent"] == m.grads[node]
        for e, (parent, local) in zip(s["edges"], node.edges(), strict=True):
            assert order[e["parent"]] is parent and e["local"] == local
            assert e["product"] == (None if e["tangent"] is None else local * e["tangent"])
    text = str(view)
    assert text.startswith(f"tangents ∂node/∂b, seed {dotted('b')} = 1")
    assert len(text.splitlines()) == 2 + sum(len(s["edges"]) for s in doc["steps"])


def test_looking_changes_no_grad(tmp_path):
    f = mlp()
    for _ in range(2):  # before any backward, then with grads in place
        before = grads_of(f)
        look_at_everything(step_through(f, mode="forward", wrt="x0"), tmp_path)
        assert grads_of(f) == before
        f.backward()


def test_frames_gif_and_folder(tmp_path):
    needs_dot()
    f = small()
    view = step_through(f, mode="forward", wrt="a")
    gif = view.save(tmp_path / "steps.gif").read_bytes()
    assert gif.startswith(b"GIF89a") and gif.count(b"\x21\xf9\x04") == len(view) + 1
    frames = sorted(view.save(tmp_path / "frames").iterdir())
    assert len(frames) == len(view) + 1
    last = texts_by_node(frames[-1].read_text(encoding="utf-8"))
    for box in view.frame(len(view)).boxes:
        assert f"tangent {number_text(box.grad, 4)}" in last[box.id]
    first = texts_by_node(frames[0].read_text(encoding="utf-8"))
    assert ["tangent ?" in first[b.id] for b in view.frame(0).boxes] == [
        b.mark == "waiting" for b in view.frame(0).boxes]
    legend = view.frame(1).dot_source
    assert "tangent ?: not computed yet" in legend and "tangent: ∂node/∂x" in legend
    assert "pending" not in legend and "final" not in legend


def test_widget_steps_headless():
    pytest.importorskip("ipywidgets")
    needs_dot()
    view = step_through(small(), mode="forward", wrt="a")
    assert view.step == 0 and "before the first step" in html.unescape(view.text.value)
    view.next.click()
    view.next.click()
    assert view.step == 2
    assert html.unescape(view.equation(2)) in html.unescape(view.text.value)
    svg = view.graph.value
    shown = texts_by_node(svg[svg.index("<svg"):svg.index("</svg>") + 6])
    m = view.moment(2)
    box_of = {f"n{i}": n for i, n in enumerate(topological_order(view.root))}
    for box in view.frame(2).boxes:
        node = box_of[box.id]
        want = ("tangent ?" if m.marks[node] == "waiting"
                else f"tangent {number_text(m.grads[node], 4)}")
        assert want in shown[box.id]
    assert "<math" in view.text.value and "<mover" in view.text.value


def test_bad_mode_or_wrt_is_a_clear_error_before_any_work():
    f = small()
    with pytest.raises(ValueError, match="mode='forward' needs wrt="):
        step_through(f, mode="forward")
    with pytest.raises(ValueError, match="no node labelled 'z' in the graph"):
        step_through(f, mode="forward", wrt="z")
    stranger = Value(1.0, label="stranger")
    with pytest.raises(ValueError, match="wrt=Value.*stranger.*is not in the graph"):
        step_through(f, mode="forward", wrt=stranger)
    with pytest.raises(TypeError, match="wrt must be a Value or its label, got float"):
        step_through(f, mode="forward", wrt=1.0)
    with pytest.raises(ValueError, match="mode must be 'reverse' or 'forward', got 'sideways'"):
        step_through(f, mode="sideways")
    with pytest.raises(ValueError, match="wrt is forward mode's input"):
        step_through(f, wrt="a")
    with pytest.raises(ValueError, match="layers=True steps backward only"):
        step_through(f, mode="forward", wrt="a", layers=True)
    twice = Value(1.0, label="x") * Value(2.0, label="x")
    with pytest.raises(ValueError, match="2 nodes of the graph .* are labelled 'x'"):
        step_through(twice, mode="forward", wrt="x")


def test_wrt_as_a_value_and_reverse_stays_the_default():
    f = small()
    a = next(n for n in topological_order(f) if n.label == "a")
    by_value = step_through(f, mode="forward", wrt=a)
    assert by_value.to_json() == step_through(f, mode="forward", wrt="a").to_json()
    assert step_through(f).to_json()["format"] == "stepgrad-trace"


def test_page_shows_the_last_frame_without_script_and_names_the_tangents(tmp_path):
    needs_dot()
    view = step_through(small(), mode="forward", wrt="a")
    page = view.save(tmp_path / "fwd.html").read_text(encoding="utf-8")
    assert "<title>Stepping through forward mode (∂/∂a): f</title>" in page
    assert "the node's tangent ṅ = ∂node/∂x" in page
    last = view.frame(len(view))
    for box in last.boxes:
        assert f'data-node="{box.id}">tangent {number_text(box.grad, 4)}<' in page


def test_saved_forward_page_steps_in_a_browser_with_the_json_numbers(browser, tmp_path):
    """Chromium opens the page from file://; at every step the boxes show the tangents
    replayed from to_json alone, the visited box and its terms are lit, and nothing is
    requested from the network."""
    f = mlp()
    view = step_through(f, mode="forward", wrt="x1")
    doc = view.to_json()
    path = view.save(tmp_path / "forward.html")
    page, requests, errors = open_offline(browser, path)
    stepped = {s["node"] for s in doc["steps"]}
    tangents = {n["id"]: 0.0 for n in doc["nodes"]}
    tangents[doc["wrt"]] = doc["seed"]
    for k in range(len(view) + 1):
        if k:
            page.keyboard.press("ArrowRight")
            step = doc["steps"][k - 1]
            tangents[step["node"]] = step["tangent"]
        got = page.evaluate("""() => {
            const root = document.querySelector('.stepgrad-stepper');
            const boxes = {};
            root.querySelectorAll('text[data-node]').forEach(t => {
                boxes[t.getAttribute('data-node')] = [t.textContent,
                    t.parentNode.classList.contains('sg-waiting')]; });
            const adds = [...root.querySelectorAll('text[data-edge]')]
                .filter(t => t.getAttribute('visibility') !== 'hidden').map(t => t.textContent);
            const lit = [...root.querySelectorAll('g.node.sg-visited')]
                .map(g => g.querySelector('title').textContent);
            return {count: root.querySelector('.sg-count').textContent,
                    eq: root.querySelector('.sg-eq').textContent,
                    math: root.querySelector('.sg-math').textContent, boxes, adds, lit};
        }""")
        assert got["count"] == f"step {k} of {len(view)}"
        assert got["eq"] == view.equation(k)
        done = {s["node"] for s in doc["steps"][:k]}
        want = {f"n{i}": ["tangent ?", True] if i in stepped - done
                else [f"tangent {format(0.0 if t == 0 else t, '.4g')}", False]
                for i, t in tangents.items()}
        assert got["boxes"] == want
        step = doc["steps"][k - 1] if k else None
        assert sorted(got["adds"]) == sorted(
            f"+= {format(e['product'], '.4g')}" for e in (step["edges"] if step else ())
            if e["product"] is not None)
        assert got["lit"] == ([f"n{step['node']}"] if step else [])
        if step:
            assert format(step["tangent"], ".6g") in got["math"]
    page.keyboard.press("Home")
    assert page.evaluate("document.querySelector('.sg-count').textContent") == \
        f"step 0 of {len(view)}"
    assert not errors
    assert all(url.startswith("file://") for url in requests)
    page.context.close()
