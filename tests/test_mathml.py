"""Step equations as MathML: well-formed XML whose numbers are the step records' numbers as
the text writes them, labels escaped, and laid out by Chromium's native MathML."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings

from autograd import Value, backward_trace
from autograd.mathml import MATHML_NS, edge_mathml, step_mathml
from autograd.testing import expression_graphs

M = f"{{{MATHML_NS}}}"


def six(x: float) -> str:
    """The text views' digits (six significant), zero without a sign."""
    return "0" if x == 0 else f"{x:.6g}"


@settings(max_examples=200, deadline=None)
@given(expression_graphs(constants=True))
def test_every_edge_parses_and_shows_the_records_numbers(graph):
    _, out = graph.build()
    trace = backward_trace(out)
    for step in trace.steps:
        maths = step_mathml(step, trace.root_name)
        assert len(maths) == len(step.edges)
        for e, text in zip(step.edges, maths):
            math = ET.fromstring(text)
            assert math.tag == M + "math" and math.get("display") == "block"
            assert len(math.findall(f".//{M}mfrac")) == 3
            numbers = [mn.text for mn in math.iter(M + "mn")]
            if e.added is None:  # a zero-gradient sum that backward skips: nothing added
                assert numbers == [six(x) for x in (step.grad, e.local, e.before, e.after)]
                assert e.after == e.before and step.grad == 0
                continue
            assert numbers == [six(x) for x in (step.grad, e.local, e.added, e.before, e.after)]
            assert e.added == step.grad * e.local


def test_labels_are_escaped_and_named_as_in_the_text():
    a = Value(2.0, label='<a href="x">&')
    b = Value(-0.5, label="b\x00")
    c = a * b
    c.label = "c"
    trace = backward_trace(c.tanh())
    step = trace.step_of(c)
    texts = [[t.text for t in ET.fromstring(m).iter() if t.tag in (M + "mi", M + "mtext")]
             for m in step_mathml(step, "L")]
    assert texts[0] == ["L", '<a href="x">&', "L", "c", "c", '<a href="x">&',
                        '<a href="x">&', ".grad"]
    assert texts[1][1] == "b\\x00"
    assert edge_mathml(step, 1) == step_mathml(step)[1]


def test_a_closure_node_shows_a_dash_for_its_unknown_local():
    a = Value(2.0, label="a")
    out = Value(4.0, (a,), "sq")
    out._backward = lambda: None
    trace = backward_trace(out)
    math = ET.fromstring(edge_mathml(trace.steps[0], 0))
    assert [t.text for t in math.iter(M + "mtext")].count("—") == 2  # local and added


def test_browser_lays_out_the_fractions_natively(tmp_path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if shutil.which(chromium) is None:
        pytest.skip("chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    trace = backward_trace((a * b).tanh())
    page_file = tmp_path / "eq.html"
    page_file.write_text("<!doctype html><meta charset=utf-8><body>"
                         + "".join(step_mathml(trace.steps[-1])) + "</body>", encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri())
        boxes = page.evaluate("""() => [...document.querySelectorAll('mfrac')].map(f => {
            const [top, bottom] = [...f.children].map(c => c.getBoundingClientRect());
            return {over: top.bottom <= bottom.top + 1, width: f.getBoundingClientRect().width,
                    display: getComputedStyle(f.closest('math')).display};
        })""")
        browser.close()
    assert len(boxes) == 6 and requests == [page_file.as_uri()]
    assert all(b["over"] and b["width"] > 0 and b["display"] == "block math" for b in boxes)
