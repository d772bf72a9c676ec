"""The training report in a real browser (Debian's chromium driven by Playwright): the slider
shows each recorded epoch's numbers, the pictures change, and no request leaves the page."""

import json
import shutil

import pytest

from autograd import Value
from nn import MLP, Recording, binary_cross_entropy_with_logits, fit, moons
from tests.pages import open_offline

SUB = "₀₁₂₃₄₅₆₇₈₉"

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def test_slider_and_keys_show_each_epochs_recorded_numbers_offline(browser, tmp_path):
    X, y = moons(40, noise=0.1, seed=4)
    model = MLP(2, [6, 1], rng=4)
    rec = Recording(test=(X[:12], y[:12]))
    history = fit(model, X, y, loss="bce_with_logits", optimizer="adam", lr=0.05, epochs=5,
                  progress=False, seed=4, record=rec)
    path = rec.save_report(tmp_path / "report.html", model=model, X=X, y=y)
    page, requests, errors = open_offline(browser, path)

    def shown() -> tuple[int, dict[str, float], str, str]:
        numbers = {td.get_attribute("data-key"): float(td.inner_text())
                   for td in page.query_selector_all("#numbers td[data-key]")}
        return (int(page.inner_text("#epoch")), numbers, page.inner_html("#picture"),
                page.get_attribute("#cursor", "x1"))

    seen = []
    for i in range(len(rec)):
        page.fill("#slider", str(i))
        epoch, numbers, picture, cursor = shown()
        assert epoch == rec.snapshots[i].epoch == i + 1
        for key in ("loss", "accuracy", "lr"):
            assert numbers[key] == history[key][i]
        assert numbers["test_loss"] == rec.snapshots[i].metrics["test_loss"]
        seen.append((picture, cursor))
    assert len(set(seen)) == len(rec)  # boundary and cursor move along the timeline
    page.keyboard.press("ArrowLeft")
    assert shown()[0] == len(rec) - 1
    page.keyboard.press("ArrowRight")
    assert shown()[0] == len(rec)
    page.click("h1")  # the page's own keys, away from the slider
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert shown()[0] == len(rec) - 2
    assert errors == []
    assert requests == [path.as_uri()]
    page.context.close()


def _fmt(v: float) -> str:
    return "0" if v == 0 else format(v, ".4g")


def _box(rows: list[list[float]], grads: list[list[float]]) -> list[str]:
    """A box's lines as the layer view writes them (up to 8 rows and columns, none cut here)."""
    lines = ["[" + ", ".join(map(_fmt, r)) + "]" for r in rows]
    glines = ["[" + ", ".join(map(_fmt, r)) + "]" for r in grads]
    return ["data " + lines[0], *lines[1:], "grad " + glines[0], *glines[1:]]


def _shown_graph(page) -> dict[str, list[str]]:
    """Each box of the sample's graph: its title → the texts after it."""
    return page.eval_on_selector_all("#graph g.node[data-box]", """gs => Object.fromEntries(
        gs.map(g => { const t = [...g.querySelectorAll('text')].map(e => e.textContent);
                      return [t[0], t.slice(1)]; }))""")


def test_the_sample_graph_shows_each_epochs_engine_numbers(browser, tmp_path):
    X, y = moons(40, noise=0.1, seed=4)
    model = MLP(2, [6, 1], rng=4)
    rec = Recording()
    fit(model, X, y, loss="bce_with_logits", optimizer="adam", lr=0.05, epochs=7,
        progress=False, seed=4, record=rec)
    path = rec.save_report(tmp_path / "report.html", model=model, X=X, y=y, max_graphs=4)
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(path.as_uri())
    drawn = [1, 3, 5, 7]  # 4 evenly spaced epochs of 7, the first and the last
    seen = []
    for i, snap in enumerate(rec.snapshots):
        page.fill("#slider", str(i))
        graph_epoch = max(e for e in drawn if e <= snap.epoch)
        caption = page.inner_text("#graph-caption")
        assert f"at epoch {graph_epoch} " in caption
        assert ("nearest before epoch" in caption) == (graph_epoch != snap.epoch)
        fresh = MLP(2, [6, 1], rng=99)  # the plain engine under that epoch's parameters
        fresh.load_state_dict(rec.snapshots[graph_epoch - 1].params)
        hidden = fresh.layers[0]([Value(v) for v in X[0]])
        out = fresh(X[0])
        loss = binary_cross_entropy_with_logits([out], [y[0]])
        loss.backward()
        shown = _shown_graph(page)
        for k, layer in enumerate(fresh.layers, 1):
            w = [[p.data for p in n.w] for n in layer.neurons]
            gw = [[p.grad for p in n.w] for n in layer.neurons]
            assert shown[f"W{SUB[k]} ({len(w)} × {len(w[0])})"] == _box(w, gw)
            b = [[n.b.data for n in layer.neurons]]
            assert shown[f"b{SUB[k]} ({len(b[0])})"] == _box(b, [[n.b.grad for n in
                                                                   layer.neurons]])
        assert shown["a₁ = relu(z₁)"][0] == _box([[h.data for h in hidden]], [[0]])[0]
        assert shown["− loss"] == [f"data {_fmt(loss.data)}", "grad 1"]
        assert shown["z₂ = W₂a₁ + b₂ = a₂ (1 × 1)"][0] == f"data [{_fmt(out.data)}]"
        seen.append(json.dumps(shown))
    assert len(set(seen)) == len(drawn)  # the numbers move with the slider
    assert errors == []
    page.close()
