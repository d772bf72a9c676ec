"""Step records of backward, the trace table and JSON, explain(); looking changes no grad."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given

from autograd import Value, linear, topological_order
from autograd.backward import interior_order
from autograd.testing import expression_graphs
from autograd.trace import Trace, backward_steps, backward_trace, explain


def test_a_plus_a_shows_two_edges():
    a = Value(3.0, label="a")
    b = a + a
    (step,) = list(backward_steps(b))
    assert step.node.value is b and step.grad == 1.0
    assert [e.parent.value for e in step.edges] == [a, a]
    assert [(e.local, e.added, e.before, e.after) for e in step.edges] == [
        (1.0, 1.0, 0.0, 1.0),
        (1.0, 1.0, 1.0, 2.0),
    ]
    assert a.grad == 2.0


def test_records_carry_node_and_edge_numbers():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    d = c.tanh()
    d.label = "d"
    steps = list(d.backward_steps(0.5))
    assert [s.node.label for s in steps] == ["d", "c"]
    assert (steps[0].node.symbol, steps[0].node.op_name, steps[0].node.data) == ("tanh", "tanh",
                                                                             math.tanh(-6.0))
    dtanh = 1.0 - math.tanh(-6.0) ** 2
    (e,) = steps[0].edges
    assert e.local == pytest.approx(dtanh) and e.added == pytest.approx(0.5 * dtanh)
    assert steps[1].grad == pytest.approx(0.5 * dtanh)
    ea, eb = steps[1].edges
    assert (ea.parent.label, ea.local, eb.parent.label, eb.local) == ("a", -3.0, "b", 2.0)
    assert a.grad == pytest.approx(0.5 * dtanh * -3.0)
    assert b.grad == pytest.approx(0.5 * dtanh * 2.0)


def test_reset_semantics_match_backward():
    def build():
        x = Value(0.7, label="x")
        y = (x * x).sin() + x
        return x, y

    x1, y1 = build()
    x2, y2 = build()
    for _ in range(2):  # interior fresh, leaves accumulate
        y1.backward()
        list(backward_steps(y2))
    assert x2.grad == x1.grad == pytest.approx(2 * (math.cos(0.49) * 1.4 + 1))
    assert [n.grad for n in topological_order(y2)] == [n.grad for n in topological_order(y1)]


def test_leaf_root():
    x = Value(1.5)
    assert list(backward_steps(x, 2.0)) == [] and x.grad == 2.0
    t = backward_trace(x)
    assert t.steps == () and t.nodes[0].data == 1.5 and x.grad == 2.0


@given(expression_graphs())
def test_steps_leave_the_same_grads_as_backward(g):
    """Bit for bit, signs of zero included: every leaf starts at −0.0, which a +0.0 added
    would turn into 0.0."""
    _, out1 = g.build()
    _, out2 = g.build()
    order1, order2 = topological_order(out1), topological_order(out2)
    for n1, n2 in zip(order1, order2, strict=True):
        if n1.is_leaf:
            n1.grad = n2.grad = -0.0
    out1.backward()
    steps = list(backward_steps(out2))
    assert [repr(n.grad) for n in order2] == [repr(n.grad) for n in order1]
    # the records alone replay the pass: each grad is the seed plus the products added into it
    acc = {i: -0.0 if n.is_leaf else 0.0 for i, n in enumerate(order2)}
    acc[len(order2) - 1] = 1.0
    for s in steps:
        assert repr(s.grad) == repr(acc[s.node.id])
        for e in s.edges:
            assert repr(e.before) == repr(acc[e.parent.id])
            if e.added is None:  # a node backward skips (grad 0, finite locals) adds nothing
                assert s.grad == 0.0 and math.isfinite(e.local)
            else:
                assert e.added == s.grad * e.local
                acc[e.parent.id] += e.added
            assert repr(e.after) == repr(acc[e.parent.id])
    assert [repr(acc[i]) for i in range(len(order1))] == [repr(n.grad) for n in order1]
    assert [s.node.value for s in steps] == interior_order(out2)


@given(expression_graphs())
def test_json_round_trips(g):
    _, out = g.build()
    t = backward_trace(out)
    text = t.to_json()
    back = Trace.from_json(text)
    assert back == t and back.to_json() == text and str(back) == str(t)
    doc = json.loads(text)
    assert len(doc["nodes"]) == len(topological_order(out))
    assert [s["node"] for s in doc["steps"]] == [s.node.id for s in t.steps]


def test_from_json_rejects_other_documents():
    with pytest.raises(ValueError, match="stepgrad-trace"):
        Trace.from_json('{"format": "something else"}')
    with pytest.raises(ValueError, match="stepgrad-trace"):
        Trace.from_json("[1, 2]")


def _small_trace_doc() -> dict:
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    return json.loads(backward_trace(y).to_json())


def _edit(doc: dict, path: str, value: object) -> str:
    """doc with the field at ``path`` (``steps.0.edges.1.parent``) set to ``value``, as text
    (``...`` deletes it)."""
    doc = json.loads(json.dumps(doc))
    *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
    target = doc
    for k in parents:
        target = target[k]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return json.dumps(doc)


@pytest.mark.parametrize("path, value, message", [
    ("steps.0.node", -1, r"steps\[0\]\.node is -1, outside the node indices \[0, 3\)"),
    ("steps.1.node", 3, r"steps\[1\]\.node is 3, outside the node indices \[0, 3\)"),
    ("steps.0.edges.0.parent", -3, r"steps\[0\]\.edges\[0\]\.parent is -3, outside"),
    ("steps.1.edges.1.parent", 10**30, r"steps\[1\]\.edges\[1\]\.parent is 1000000"),
    ("steps.0.node", True, r"steps\[0\]\.node must be a node index \(an int\), got True"),
    ("steps.0.node", 2.0, r"steps\[0\]\.node must be a node index \(an int\), got 2\.0"),
    ("steps.0.node", "2", r"steps\[0\]\.node must be a node index"),
    ("steps.0.node", ..., r"steps\[0\]\.node is missing"),
    ("nodes.1.id", 2, r"nodes\[1\]\.id is 2; a node's id is its position in nodes \(1\)"),
    ("nodes.1.id", -2, r"nodes\[1\]\.id is -2"),
    ("nodes.0.data", "2.0", r"nodes\[0\]\.data must be a number, got '2\.0'"),
    ("nodes.0.data", False, r"nodes\[0\]\.data must be a number, got False"),
    ("nodes.0.label", 7, r"nodes\[0\]\.label must be a string or null, got 7"),
    ("nodes.2", [1], r"nodes\[2\] must be an object"),
    ("nodes", [], r"nodes is empty"),
    ("nodes", {}, r"nodes must be a list of nodes"),
    ("steps.0.edges", None, r"steps\[0\]\.edges must be a list of edges, got None"),
    ("steps.0.edges.0.local", "1", r"steps\[0\]\.edges\[0\]\.local must be a number or null"),
    ("steps.0.grad", 10**400, r"steps\[0\]\.grad = 1000.* is too large for a float"),
    ("seed", ..., r"seed is missing"),
])
def test_from_json_names_the_first_bad_field(path, value, message):
    """A negative index used to pick a node from the end (Python's indexing), a bool or a
    float passed as an index or a number: each is refused, naming the field."""
    with pytest.raises(ValueError, match="Trace.from_json: " + message):
        Trace.from_json(_edit(_small_trace_doc(), path, value))


def test_from_json_keeps_nan_inf_and_missing_locals():
    """What to_json writes loads back: NaN and inf numbers, null local derivatives."""
    doc = _small_trace_doc()
    doc["nodes"][0]["data"] = math.nan
    doc["steps"][0]["grad"] = -math.inf
    doc["steps"][0]["edges"][0]["local"] = None
    doc["steps"][0]["edges"][0]["added"] = None
    t = Trace.from_json(json.dumps(doc))
    assert math.isnan(t.nodes[0].data) and t.steps[0].grad == -math.inf
    assert t.steps[0].edges[0].local is None and t.steps[0].edges[0].added is None
    assert [s.node.id for s in t.steps] == [2, 1] and t.steps[1].edges[1].parent.label == "x"


def test_text_and_html_tables():
    a = Value(2.0, label="<a>")
    b = a * 3.0
    b.label = "b"
    t = backward_trace(b)
    lines = str(t).splitlines()
    assert len(lines) == 1 + 2  # header + one line per edge
    assert lines[1].split()[:5] == ["1", "b", "×", "6", "1"]
    assert lines[1].split()[5:] == ["<a>", "3", "3", "0", "3"]
    page = t._repr_html_()
    assert page.startswith("<table") and "&lt;a&gt;" in page and "<a>" not in page


def test_explain_multi_path_reads_2_plus_2():
    a = Value(1.0, label="a")
    b = a + a
    b.label = "b"
    c = b + b
    c.label = "c"
    c.backward()
    text = str(explain(a, c))
    assert "∂c/∂a" in text
    assert "= 2 × 1 + 2 × 1" in text and "= 2 + 2" in text and text.endswith("= 4")
    ex = explain(b, c)
    assert ex.terms == (("c", 1.0, 1.0), ("c", 1.0, 1.0)) and ex.total == 2.0 == b.grad
    a.grad = 0.0
    assert str(backward_trace(c).explain("a")) == text


def test_explain_sums_over_consumers():
    x, y = Value(0.3, label="x"), Value(-1.2, label="y")
    u = x * y
    u.label = "u"
    v = x.exp()
    v.label = "v"
    L = u + v
    L.backward()
    ex = explain(x, L)
    assert {name: (g, d) for name, g, d in ex.terms} == {"u": (1.0, -1.2), "v": (1.0,
                                                                                 math.exp(0.3))}
    assert ex.total == pytest.approx(-1.2 + math.exp(0.3)) and x.grad == pytest.approx(ex.total)
    assert str(explain(L, L)).startswith("∂L/∂L = 1")
    with pytest.raises(ValueError, match="not in the graph"):
        explain(Value(1.0), L)


def test_explain_notes_leaf_accumulation():
    x = Value(2.0, label="x")
    y = x * x
    y.backward()
    y.backward()
    text = str(explain(x, y))
    assert "= 4" in text and "x.grad = 8" in text


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_two_layer_network_deltas_are_the_grads_of_z():
    """SEEDS: δ₂ = (ŷ − y) ⊙ f'(z₂), δ₁ = (W₂ᵀ δ₂) ⊙ f'(z₁), seen at the steps visiting z."""
    x = [0.5, -1.2]
    W1 = [[0.1, -0.4], [0.7, 0.2], [-0.3, 0.9]]
    b1 = [0.05, -0.1, 0.2]
    W2 = [[0.6, -0.8, 0.3], [-0.2, 0.5, 0.4]]
    b2 = [0.1, -0.05]
    y = [1.0, 0.0]
    w1 = [[Value(w) for w in row] for row in W1]
    w2 = [[Value(w) for w in row] for row in W2]
    z1 = [linear(w1[i], x, Value(b1[i])) for i in range(3)]
    a1 = [z.sigmoid() for z in z1]
    z2 = [linear(w2[k], a1, Value(b2[k])) for k in range(2)]
    yhat = [z.sigmoid() for z in z2]
    L = sum(((yk - tk) ** 2 * 0.5 for yk, tk in zip(yhat, y, strict=True)), Value(0.0))

    # by hand, from the formulas
    h1 = [sum(W1[i][j] * x[j] for j in range(2)) + b1[i] for i in range(3)]
    s1 = [sigmoid(h) for h in h1]
    h2 = [sum(W2[k][i] * s1[i] for i in range(3)) + b2[k] for k in range(2)]
    s2 = [sigmoid(h) for h in h2]
    d2 = [(s2[k] - y[k]) * s2[k] * (1 - s2[k]) for k in range(2)]
    d1 = [sum(W2[k][i] * d2[k] for k in range(2)) * s1[i] * (1 - s1[i]) for i in range(3)]

    seen = {}
    for step in backward_steps(L):
        for name, nodes in (("z1", z1), ("z2", z2)):
            for i, node in enumerate(nodes):
                if step.node.value is node:
                    seen[name, i] = (step.index, step.grad)
    for k in range(2):
        assert seen["z2", k][1] == pytest.approx(d2[k], rel=1e-12)
    for i in range(3):
        assert seen["z1", i][1] == pytest.approx(d1[i], rel=1e-12)
    assert max(seen["z2", k][0] for k in range(2)) < min(seen["z1", i][0] for i in range(3))
    # ∂L/∂W₂ = δ₂ a₁ᵀ and ∂L/∂W₁ = δ₁ xᵀ
    assert w2[1][2].grad == pytest.approx(d2[1] * s1[2], rel=1e-12)
    assert w1[2][0].grad == pytest.approx(d1[2] * x[0], rel=1e-12)
    trace = backward_trace(L)
    assert trace.step_of(z1[1]).grad == pytest.approx(d1[1], rel=1e-12)
    assert trace.explain(z2[0]).total == pytest.approx(d2[0], rel=1e-12)


# ---------------------------------------------------------------------------- looking is free
def grads_of(root):
    """Every node's grad, as repr strings (so -0.0 and nan count too)."""
    return [repr(n.grad) for n in topological_order(root)]


def test_tracing_after_backward_leaves_every_grad_as_it_was():
    """backward_trace used to run backward again: leaf grads doubled after one look."""
    x = Value(2.0, label="x")
    y = x * x
    y.label = "y"
    y.backward()
    before = grads_of(y)
    t = backward_trace(y)
    str(t), t._repr_html_(), t.to_json(), t.explain("x"), explain(x, y)
    assert grads_of(y) == before and x.grad == 4.0 == 2 * 2.0


@given(expression_graphs())
def test_trace_records_equal_a_real_backward_and_change_nothing(g):
    _, out2 = g.build()
    for _ in range(2):  # the second look comes after leaf grads hold a first pass
        _, out1 = g.build()  # fresh graph: one backward from zeroed grads
        before = grads_of(out2)
        trace = backward_trace(out2)
        assert grads_of(out2) == before
        out1.backward()
        out2.backward()
        order1 = topological_order(out1)
        final = {}
        for s in trace.steps:
            final[s.node.id] = s.grad
            for e in s.edges:
                final[e.parent.id] = e.after
        if trace.steps:
            assert [repr(final[i]) for i in range(len(order1))] == grads_of(out1)


def test_a_trace_shows_one_pass_whatever_the_leaves_hold():
    """After backward a leaf holds ∂u/∂w = 4; the trace still shows the pass building 4
    (0 → 2 → 4), not the 8 a second backward would leave."""
    w = Value(2.0, label="w")
    u = w * w
    u.backward()
    u.backward()
    (step,) = backward_trace(u).steps
    assert [(e.before, e.after) for e in step.edges] == [(0.0, 2.0), (2.0, 4.0)]
    assert w.grad == 8.0  # looking ran no backward
    assert explain(w, u).total == 4.0


def test_explain_before_backward_shows_the_pass_it_records():
    """Before backward() every .grad is 0; explain still shows backward's numbers, says the
    grad is not filled yet, and fills nothing."""
    x, w = Value(0.7, label="x"), Value(-1.3, label="w")
    y = (x * w).tanh() + x.exp()
    y.label = "y"
    text = str(explain(x, y))
    assert x.grad == 0.0 and w.grad == 0.0
    expected = (1 - math.tanh(0.7 * -1.3) ** 2) * -1.3 + math.exp(0.7)
    assert explain(x, y).total == pytest.approx(expected, rel=1e-15)
    assert "x.grad is 0 now: backward() has not filled it yet" in text
    y.backward()
    after = explain(x, y)
    assert after.total == x.grad and "backward() has not" not in str(after)
