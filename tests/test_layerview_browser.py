"""The saved layer view page in a real browser (Debian's chromium driven by Playwright).

It opens the page from file://, steps with the buttons and keys, and checks the formula shown
and the gradients on the layer boxes against the engine's own ``.grad`` after ``backward()``,
and that the page asks the network for nothing. Skipped only when chromium is missing.
"""

from __future__ import annotations

from autograd import step_through, topological_order
from autograd.trace import number_text
from tests.pages import open_offline
from tests.test_layerview import needs_dot, xor_network


def shown(page) -> dict:
    return page.evaluate("""() => {
        const root = document.querySelector('.stepgrad-stepper');
        const cells = {};
        root.querySelectorAll('text[data-cell]').forEach(t => {
            cells[t.getAttribute('data-cell')] = t.textContent; });
        const boxes = cls => [...root.querySelectorAll('g[data-box].' + cls)]
            .map(g => g.getAttribute('data-box')).sort();
        return {count: root.querySelector('.sg-count').textContent,
                eq: root.querySelector('.sg-eq').textContent, cells,
                written: boxes('sg-visited'), read: boxes('sg-read'),
                pending: boxes('sg-pending')};
    }""")


def rows(matrix) -> list[str]:
    """A box's grad lines as the engine's numbers would be written."""
    lines = ["[" + ", ".join(number_text(g, 4) for g in row) + "]" for row in matrix]
    return ["grad " + lines[0], *lines[1:]]


def cells(got: dict, box: str) -> list[str]:
    return [got["cells"][f"{box}.{j}"] for j in range(len(
        [c for c in got["cells"] if c.startswith(box + ".")]))]


def test_layer_page_steps_with_the_engines_numbers(browser, tmp_path):  # noqa: F811
    needs_dot()
    model, _, _, loss = xor_network()
    model.zero_grad()
    view = step_through(loss, layers=True)
    path = view.save(tmp_path / "layers.html")
    loss.backward()  # the oracle: the plain engine's grads
    (l1, l2) = model.layers
    z = {1: [[n.grad for n in row] for row in view.layer_graph.layers[0].rows],
         2: [[n.grad for n in row] for row in view.layer_graph.layers[1].rows]}
    W = {k: [[w.grad for w in n.w] for n in layer.neurons] for k, layer in ((1, l1), (2, l2))}
    page, requests, errors = open_offline(browser, path)
    got = shown(page)
    assert got["count"] == f"step 0 of {len(view)}" and got["eq"] == view.equation(0)
    assert {"L1z", "L2z", "L1W", "L2W"} <= set(got["pending"])
    assert cells(got, "L2z")[0] == "grad · pending"
    page.click(".sg-next")
    page.click(".sg-next")  # δ₂
    got = shown(page)
    assert got["eq"] == view.equation(2) and got["written"] == ["L2z"]
    assert got["read"] == ["L2a"]
    assert cells(got, "L2z") == rows(z[2])
    assert cells(got, "L1z")[0] == "grad · pending"
    page.keyboard.press("ArrowRight")  # ∂L/∂W₂
    got = shown(page)
    assert got["written"] == ["L2W"] and cells(got, "L2W") == rows(W[2])
    page.keyboard.press("End")
    got = shown(page)
    assert got["count"] == f"step {len(view)} of {len(view)}"
    assert cells(got, "L1z") == rows(z[1]) and cells(got, "L1W") == rows(W[1])
    assert got["pending"] == [] and got["eq"] == view.equation(len(view))
    page.keyboard.press("Home")
    assert shown(page)["eq"] == view.equation(0)
    assert errors == [] and requests == [path.as_uri()]
    page.context.close()


def test_layer_page_without_script_shows_the_last_frame(browser, tmp_path):  # noqa: F811
    needs_dot()
    model, _, _, loss = xor_network()
    before = [repr(v.grad) for v in topological_order(loss)]
    view = step_through(loss, layers=True)
    path = view.save(tmp_path / "layers.html")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri())
    got = shown(page)
    assert got["eq"] == view.equation(len(view)) and got["pending"] == []
    typeset = page.evaluate("""() => [...document.querySelectorAll('.sg-math > [data-k]')]
        .filter(d => !d.hidden).map(d => [d.getAttribute('data-k'),
            ...[...d.querySelectorAll('math')].map(m => m.getBoundingClientRect().width)])""")
    assert len(typeset) == 1 and typeset[0][0] == str(len(view))  # the last formula, typeset
    assert len(typeset[0]) == 3 and min(typeset[0][1:]) > 0
    assert page.locator("table.stepgrad-layers").is_visible()
    assert [repr(v.grad) for v in topological_order(loss)] == before
    context.close()
