"""The micrograd lecture's own ``draw_dot`` on this library's Values: labels default to ""
as in the lecture's Value, so no box says "None"; this library's drawing still names the
plain-number constants."""

from __future__ import annotations

import math

import pytest

import autograd
from autograd import Value
from tests.test_habits import lecture_neuron


def trace(root):
    # builds a set of all nodes and edges in a graph
    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def draw_dot(root):
    from graphviz import Digraph

    dot = Digraph(format="svg", graph_attr={"rankdir": "LR"})  # LR = left to right
    nodes, edges = trace(root)
    for n in nodes:
        uid = str(id(n))
        # for any value in the graph, create a rectangular ('record') node for it
        label = "{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad)  # noqa: UP031
        dot.node(name=uid, label=label, shape="record")
        if n._op:
            # if this value is a result of some operation, create an op node for it
            dot.node(name=uid + n._op, label=n._op)
            # and connect this node to it
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        # connect n1 to the op node of n2
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


def lecture_neuron_with_exp():
    """The lecture's neuron with tanh written out: o = (e − 1)/(e + 1), e = exp(2n)."""

    def tanh_by_exp(n):
        e = (2 * n).exp()
        return (e - 1) / (e + 1)

    leaves, nodes = lecture_neuron(tanh_by_exp)
    return leaves, nodes[-1]


def test_the_lecture_draw_dot_prints_no_none():
    pytest.importorskip("graphviz")
    leaves, o = lecture_neuron_with_exp()
    o.backward()
    nodes, _ = trace(o)
    unlabelled = [n for n in nodes if n.label == ""]
    assert len(unlabelled) == 7  # 2·n, e, e − 1, e + 1 and the constants 2, 1, 1
    source = draw_dot(o).source
    assert "None" not in source
    assert source.count('label="{  | data') == 7
    # the lecture's numbers: o = tanh(n), do/dx1 = w1·(1 − o²)
    assert math.isclose(o.data, math.tanh(0.8813735870195432), rel_tol=1e-12)
    assert math.isclose(leaves[0].grad, -3.0 * (1 - o.data**2), rel_tol=1e-12)


def test_labels_default_to_the_empty_string():
    a = Value(2.0)
    assert a.label == "" and (a * 3).label == "" and a.exp().label == ""
    (constant,) = [p for p in (a * 3).parents if p is not a]
    assert constant.label == ""
    assert autograd.sum([a, 1.0]).label == "" and autograd.linear([a], [2.0], 1.0).label == ""
    assert Value(1.0, label=None).label == "" and repr(a) == "Value(data=2.0, grad=0.0)"


def test_this_library_still_draws_the_constants_as_constants():
    pytest.importorskip("graphviz")
    _, o = lecture_neuron_with_exp()
    drawing = autograd.draw(o)
    constants = [b for b in drawing.boxes if b.role == "input" and b.label == ""]
    assert sorted(b.data for b in constants) == [1.0, 1.0, 2.0]
    assert drawing.dot_source.count(" constant|data") == 3
    assert "None" not in drawing.dot_source


def test_the_lab_still_names_an_unlabelled_root_after_its_variable():
    """The lab's page (docs/lab/lab.py) names the root it steps through after the variable the
    code assigned, when the code gave it no label."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "lab" / "lab.py"
    spec = importlib.util.spec_from_file_location("lab_under_test", path)
    lab = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lab)
    root, name, _ = lab.last_value("from autograd import Value\na = Value(3.0)\nc = a * a")
    assert (root.label, name) == ("", "c")
    html, _ = lab.run("from autograd import Value\na = Value(3.0)\nc = a * a")
    assert "<td>1</td><td>c</td>" in html  # step 1 visits c (an unnamed root would be L)
