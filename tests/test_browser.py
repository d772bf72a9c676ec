"""The saved stepper page in a real browser (Debian's chromium driven by Playwright).

It opens the page from file://, steps with the buttons and the keys, and checks that the step
text and the numbers on the graph are the engine's records for that step, and that the page
asks the network for nothing. Skipped only when chromium (or Playwright) is missing.
"""

from __future__ import annotations

from autograd import step_through, topological_order
from autograd.trace import number_text
from tests.pages import open_offline
from tests.test_stepper import HOSTILE, example, hostile_example, mlp_loss


def expected_numbers(view, k: int) -> dict[str, str]:
    """Box id → grad number after k steps, replayed from the trace's records alone."""
    trace = view.trace
    grads = {n.id: 0.0 for n in trace.nodes}
    grads[trace.root.id] = trace.seed
    for step in trace.steps[:k]:
        for e in step.edges:
            grads[e.parent.id] = e.after
    return {f"n{i}": format(g, ".4g") for i, g in grads.items()}


def shown(page) -> dict:
    return page.evaluate("""() => {
        const root = document.querySelector('.stepgrad-stepper');
        const grads = {};
        root.querySelectorAll('text[data-node]').forEach(t => {
            grads[t.getAttribute('data-node')] = t.textContent; });
        const adds = [...root.querySelectorAll('text[data-edge]')]
            .filter(t => t.getAttribute('visibility') !== 'hidden').map(t => t.textContent);
        const lit = [...root.querySelectorAll('g.node.sg-visited')]
            .map(g => g.querySelector('title').textContent);
        return {count: root.querySelector('.sg-count').textContent,
                eq: root.querySelector('.sg-eq').textContent, grads, adds, lit};
    }""")


def check(page, view, k: int) -> None:
    got = shown(page)
    assert got["count"] == f"step {k} of {len(view)}"
    assert got["eq"] == view.equation(k)
    numbers = {box: text.split()[1] for box, text in got["grads"].items()}
    assert numbers == expected_numbers(view, k)
    marks = {box: text.split(None, 2)[2:] for box, text in got["grads"].items()}
    frame = view.frame(k)
    for box in frame.boxes:
        assert got["grads"][box.id].startswith(f"grad {format(box.grad, '.4g')}")
        assert bool(marks[box.id]) and marks[box.id][0].endswith(box.mark)
    step = view.trace.steps[k - 1] if k else None
    assert sorted(got["adds"]) == sorted(f"+= {format(e.added, '.4g')}"
                                         for e in (step.edges if step else ()))
    assert got["lit"] == ([f"n{step.node.id}"] if step else [])


def test_saved_page_steps_with_buttons_and_keys_offline(browser, tmp_path):
    f = example()
    before = [repr(n.grad) for n in topological_order(f)]
    view = step_through(f)
    path = view.save(tmp_path / "steps.html")
    page, requests, errors = open_offline(browser, path)
    check(page, view, 0)
    page.click(".sg-next")
    check(page, view, 1)
    page.keyboard.press("ArrowRight")
    check(page, view, 2)
    page.keyboard.press("End")
    check(page, view, len(view))
    page.keyboard.press("ArrowRight")  # clamped
    check(page, view, len(view))
    page.keyboard.press("ArrowLeft")
    check(page, view, len(view) - 1)
    page.keyboard.press("Home")
    check(page, view, 0)
    page.click(".sg-prev")  # clamped
    check(page, view, 0)
    page.fill(".sg-slider", "3")
    check(page, view, 3)
    screenshot = page.screenshot(full_page=True)
    assert screenshot[:4] == b"\x89PNG"
    assert errors == []
    assert requests == [path.as_uri()]  # the page itself and nothing else
    assert [repr(n.grad) for n in topological_order(f)] == before
    page.context.close()


def test_every_step_is_typeset_as_mathml_with_the_engines_numbers(browser, tmp_path):
    """At every step each edge's equation is a <math> element that Chromium lays out (a
    box with width and height, a fraction's numerator above its denominator), carrying the
    record's numbers as the text shows them; the plain text stays for screen readers; the
    page asks for nothing."""
    f = example()
    view = step_through(f)
    path = view.save(tmp_path / "steps.html")
    page, requests, errors = open_offline(browser, path)
    page.click(".sg-first")
    for k in range(len(view) + 1):
        got = page.evaluate("""() => [...document.querySelectorAll('.sg-math math')].map(m => {
            const r = m.getBoundingClientRect(), fr = m.querySelector('mfrac');
            const [top, bottom] = fr ? [...fr.children].map(c => c.getBoundingClientRect())
                                     : [null, null];
            return {w: r.width, h: r.height, stacked: fr ? top.bottom <= bottom.top + 1 : null,
                    mn: [...m.querySelectorAll('mn')].map(n => n.textContent)};
        })""")
        step = view.trace.steps[k - 1] if k else None
        assert len(got) == (len(step.edges) if step else 1)
        assert all(m["w"] > 0 and m["h"] > 0 for m in got)
        if step:
            assert all(m["stacked"] for m in got)
            assert [m["mn"] for m in got] == [
                [number_text(x) for x in (step.grad, e.local, e.added, e.before, e.after)]
                for e in step.edges]
        assert shown(page)["eq"] == view.equation(k)  # the text, for screen readers
        page.click(".sg-next")
    assert requests == [path.as_uri()]
    page.context.close()


def test_page_without_script_shows_the_last_frame(browser, tmp_path):
    view = step_through(example())
    path = view.save(tmp_path / "steps.html")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri())
    got = shown(page)
    n = len(view)
    assert got["count"] == f"step {n} of {n}" and got["eq"] == view.equation(n)
    assert {b: t.split()[1] for b, t in got["grads"].items()} == expected_numbers(view, n)
    assert page.locator("table.stepgrad-trace").is_visible()
    context.close()


def test_labels_cannot_stop_the_pages_script(browser, tmp_path):
    view = step_through(hostile_example())
    path = view.save(tmp_path / "hostile.html")
    page = browser.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(path.as_uri())
    for k in range(len(view) + 1):  # the controls step, showing the engine's equations
        assert shown(page)["count"] == f"step {k} of {len(view)}"
        assert shown(page)["eq"] == view.equation(k)
        page.click(".sg-next")
    assert any(label in view.equation(k) for label in HOSTILE for k in range(len(view) + 1))
    assert dialogs == [] and errors == []
    page.close()


def visited_box(page) -> dict | None:
    """The visited box's rectangle, the picture's visible rectangle and the viewport."""
    return page.evaluate("""() => {
        const g = document.querySelector('.stepgrad-stepper g.node.sg-visited');
        if (!g) return null;
        const r = g.getBoundingClientRect(), c = document.querySelector('.sg-graph')
            .getBoundingClientRect();
        return {id: g.querySelector('title').textContent, box: [r.left, r.top, r.right,
                r.bottom], pane: [c.left, c.top, c.right, c.bottom],
                view: [0, 0, window.innerWidth, window.innerHeight]};
    }""")


def inside(box, frame) -> bool:
    return (box[0] >= frame[0] - 0.5 and box[1] >= frame[1] - 0.5 and box[2] <= frame[2] + 0.5
            and box[3] <= frame[3] + 0.5)


def test_network_page_brings_each_visited_box_into_view(browser, tmp_path):
    _, loss = mlp_loss()
    view = step_through(loss)
    path = view.save(tmp_path / "mlp.html")
    assert path.stat().st_size <= 1_000_000
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(path.as_uri())
    steps = [*range(1, len(view) + 1), *range(len(view) - 1, 0, -7)]  # forward, then back
    k = 0
    for target in steps:
        while k != target:
            page.keyboard.press("ArrowRight" if target > k else "ArrowLeft")
            k += 1 if target > k else -1
        got = visited_box(page)
        assert got is not None and got["id"] == f"n{view.trace.steps[k - 1].node.id}", k
        assert inside(got["box"], got["view"]) and inside(got["box"], got["pane"]), (k, got)
    assert errors == []
    page.close()


def test_legend_looks_like_the_boxes(browser, tmp_path):
    _, loss = mlp_loss()
    view = step_through(loss)
    page = browser.new_page()
    page.goto(view.save(tmp_path / "mlp.html").as_uri())
    k = next(k for k in range(len(view) + 1)
             if {b.mark for b in view.frame(k).boxes} == {"pending", "partial", "final"})
    page.fill(".sg-slider", str(k))
    dashes = page.evaluate("""() => {
        const out = {};
        document.querySelectorAll('.stepgrad-stepper g.node').forEach(g => {
            const shape = g.querySelector('rect');
            const cls = [...g.classList].find(c => c.startsWith('sg-') && c !== 'sg-visited');
            const key = g.querySelector('title').textContent.startsWith('legend_')
                ? g.querySelector('title').textContent : cls;
            const dashed = getComputedStyle(shape).strokeDasharray !== 'none';
            (out[key] = out[key] || new Set()).add(dashed);
        });
        return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v]]));
    }""")
    for state in ("pending", "partial", "final"):  # every box and its legend sample agree
        assert dashes[f"sg-{state}"] == [state == "pending"]
        assert dashes[f"legend_{state}"] == [state == "pending"]
    page.close()
