"""The layer view's δ formulas typeset as MathML: the symbols (fractions, subscripts,
transposes, ⊙, Σ), then the numbers, each the text's digits, the text being the engine's.

Oracles: the explainers' formulas in NumPy from the weights alone (each matrix a formula
substitutes, and its result), the step records (``to_json``) and the formula text; in
Chromium, the layout of every ``<math>`` at every step.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from autograd import Value, linear, step_through
from autograd.layerview import ROWS, matrix
from autograd.mathml import MATHML_NS, math
from autograd.trace import number_text
from tests.pages import open_offline
from tests.test_layerview import needs_dot, relu_network, weights, xor_network

np = pytest.importorskip("numpy")

M = f"{{{MATHML_NS}}}"
SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"


def written(m) -> list[str]:
    """A matrix's entries row by row, as the views write them (4 significant digits)."""
    return [number_text(float(x), 4) for x in np.atleast_2d(np.asarray(m, float)).flat]


def expected_matrices(net: str):
    """Per step, the matrices its numbers line shows, left to right, from the weights alone."""
    model, X, y, _ = xor_network() if net == "xor" else relu_network()
    (W1, b1), (W2, b2) = (weights(layer) for layer in model.layers)
    z1 = X @ W1.T + b1
    if net == "xor":
        sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
        a1 = sig(z1)
        yhat = sig(a1 @ W2.T + b2)
        dyhat = yhat - y[:, None]  # L = Σ ½(ŷ − y)²
        d2 = dyhat * yhat * (1 - yhat)
        fp1 = a1 * (1 - a1)
        step2 = [dyhat, yhat * (1 - yhat), d2]
    else:
        a1 = np.maximum(z1, 0)
        yhat = a1 @ W2.T + b2
        dyhat = (yhat - y[:, None]) / len(X)  # J = 1/(2m) Σ (ŷ − y)²; linear output: δ₂ = ∂L/∂ŷ
        d2, fp1 = dyhat, (z1 > 0).astype(float)
        step2 = [dyhat]
    d1 = (d2 @ W2) * fp1
    return [[dyhat], step2, [d2, a1, d2.T @ a1], [d2, d2.sum(0)],
            [W2, d2, d2 @ W2, fp1, d1], [d1, X, d1.T @ X], [d1, d1.sum(0)]]


def parsed(view, k):
    """Step k's two ``<math>`` elements (symbols, numbers) parsed as XML."""
    return [ET.fromstring(math(body)) for body in view.steps[k - 1].math]


def tables(element) -> list[list[str]]:
    return [[mn.text for mn in t.iter(M + "mn")] for t in element.iter(M + "mtable")]


@pytest.mark.parametrize("net", ["xor", "relu"])
def test_numbers_line_shows_each_matrix_the_formula_substitutes(net):
    model, _, _, loss = xor_network() if net == "xor" else relu_network()
    view = step_through(loss, layers=True)
    want = expected_matrices(net)
    assert len(view) == len(want)
    for k, (step, matrices) in enumerate(zip(view.to_json()["steps"], want, strict=True), 1):
        symbols, numbers = parsed(view, k)
        assert tables(numbers) == [written(m) for m in matrices]
        assert tables(numbers)[-1] == written(step["value"])  # the record, digit for digit
        assert not list(symbols.iter(M + "mtable"))
        assert len(list(symbols.iter(M + "mfrac"))) >= 1
    del model


def test_symbols_are_subscripts_transposes_hadamard_and_sums():
    model, _, _, loss = xor_network()
    view = step_through(loss, layers=True)
    symbols = [parsed(view, k)[0] for k in range(1, len(view) + 1)]
    for s in symbols:
        text = "".join(s.itertext())
        assert not set(text) & set(SUBSCRIPTS + "ᵀΣ")  # all typeset, none as characters
        for sub in s.iter(M + "msub"):
            assert [c.tag for c in sub] == [M + "mi", M + "mn"] and sub[1].text in "12"
    delta1 = symbols[4]  # δ₁ = ∂L/∂z₁ = (W₂ᵀ δ₂) ⊙ sigmoid′(z₁)
    assert [(sub[0].text, sub[1].text) for sub in delta1.iter(M + "msub")] == [
        ("δ", "1"), ("z", "1"), ("W", "2"), ("δ", "2"), ("z", "1")]
    assert [c[1].text for c in delta1.iter(M + "msup")] == ["T"]
    assert "⊙" in [mo.text for mo in delta1.iter(M + "mo")]
    dw2 = symbols[2]  # ∂L/∂W₂ = Σₛ δ₂ a₁ᵀ over the 4 samples
    (under,) = dw2.iter(M + "munder")
    assert [under[0].text, under[1].text] == ["∑", "s"]
    assert "over the 4 samples" in "".join(dw2.itertext())
    del model


def test_every_number_in_the_text_is_in_the_mathml_in_order():
    """Both are written from the same strings: the text's numbers after its first line are the
    numbers line's ``mn`` elements, including the cut rows and columns of a big layer."""
    rng = np.random.default_rng(3)
    x = [float(v) for v in rng.normal(size=12)]
    W1 = [[Value(float(v)) for v in row] for row in rng.normal(size=(11, 12))]
    h = [linear(w, x, Value(0.1)).tanh() for w in W1]
    W2 = [[Value(float(v)) for v in row] for row in rng.normal(size=(3, 11))]
    out = sum((linear(w, h, Value(0.0)) ** 2 for w in W2), Value(0.0))
    view = step_through(out, layers=True, groups={})
    number = re.compile(r"-?(?:\d+(?:\.\d*)?(?:e[+-]\d+)?|nan|inf)")
    for k, step in enumerate(view.steps, 1):
        _, numbers = parsed(view, k)
        text_numbers = number.findall("\n".join(step.formula.split("\n")[1:]))
        assert [mn.text for mn in numbers.iter(M + "mn")] == text_numbers
    dw1 = parsed(view, len(view) - 1)[1]  # ∂L/∂W₁: 11 × 12, cut to ROWS × ROWS
    result = list(dw1.iter(M + "mtable"))[-1]
    assert len(result) == ROWS and [mo.text for mo in result[ROWS - 2].iter(M + "mo")] == [
        "⋮"] * ROWS
    assert [mo.text for mo in result[0].iter(M + "mo")] == ["⋯"]
    assert matrix(view.steps[-2].value).count("…") == ROWS  # the text cuts the same cells


def test_page_carries_each_frames_mathml_and_hides_the_text_only_from_the_eye(tmp_path):
    model, _, _, loss = xor_network()
    view = step_through(loss, layers=True)
    page = view.html()
    for k in range(len(view) + 1):
        assert view.mathml(k).split('class="sg-layermath">')[1][:-len("</div>")] in page
    assert page.count("<math") == 2 * len(view) + 1 and page.count(" hidden>") == len(view)
    assert '<pre class="sg-eq">' in page  # the text stays for screen readers and print
    del model


def test_widget_shows_the_typeset_formula_when_ipywidgets_is_installed():
    pytest.importorskip("ipywidgets")
    model, _, _, loss = xor_network()
    view = step_through(loss, layers=True)
    view.show(2)
    assert view.mathml(2) in view.text.value and "<mfrac>" in view.text.value
    del model


SHOWN = """() => {
    const root = document.querySelector('.stepgrad-stepper');
    const step = root.querySelector('.sg-math > [data-k]:not([hidden])');
    const box = e => e.getBoundingClientRect();
    const mid = e => (box(e).top + box(e).bottom) / 2;
    const eq = root.querySelector('.sg-eq');
    return {k: step.getAttribute('data-k'),
        shown: root.querySelectorAll('.sg-math > [data-k]:not([hidden])').length,
        maths: [...step.querySelectorAll('math')].map(m => ({
            width: box(m).width, height: box(m).height, text: m.textContent,
            tables: [...m.querySelectorAll('mtable')].map(t =>
                [...t.querySelectorAll('mn')].map(n => n.textContent))})),
        stacked: [...step.querySelectorAll('mfrac')].every(f =>
            box(f.children[0]).bottom <= box(f.children[1]).top + 1),
        fractions: step.querySelectorAll('mfrac').length,
        lowered: [...step.querySelectorAll('msub')].every(s =>
            mid(s.children[1]) > mid(s.children[0]) && box(s.children[1]).height > 0),
        subscripts: step.querySelectorAll('msub').length,
        eq: eq.textContent, eqWidth: box(eq).width};
}"""


@pytest.mark.parametrize("net", ["xor", "relu"])
def test_browser_typesets_every_step_with_the_records_numbers(browser, tmp_path, net):
    needs_dot()
    model, _, _, loss = xor_network() if net == "xor" else relu_network()
    view = step_through(loss, layers=True)
    path = view.save(tmp_path / "layers.html")
    want = expected_matrices(net)
    record = view.to_json()["steps"]
    page, requests, errors = open_offline(browser, path)
    for k in range(len(view) + 1):
        got = page.evaluate(SHOWN)
        assert got["k"] == str(k) and got["shown"] == 1
        assert all(m["width"] > 0 and m["height"] > 0 for m in got["maths"])
        assert got["eq"] == view.equation(k) and got["eqWidth"] <= 1  # for the ear only
        if k == 0:
            assert [m["text"] for m in got["maths"]] == [view.equation(0)]
        else:
            symbols, numbers = got["maths"]
            assert got["stacked"] and got["fractions"] >= 1
            assert got["lowered"] and got["subscripts"] >= 2
            assert not set(symbols["text"]) & set(SUBSCRIPTS + "ᵀΣ")
            assert numbers["tables"] == [written(m) for m in want[k - 1]]
            assert numbers["tables"][-1] == written(record[k - 1]["value"])
        page.click(".sg-next") if k == 0 else page.keyboard.press("ArrowRight")
    page.keyboard.press("Home")
    assert page.evaluate(SHOWN)["k"] == "0"
    assert errors == [] and requests == [path.as_uri()]
    page.context.close()
    del model
