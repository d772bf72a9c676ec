"""The training report in a real browser (Debian's chromium driven by Playwright): the slider
shows each recorded epoch's numbers, the pictures change, and no request leaves the page."""

import shutil

import pytest

from nn import MLP, Recording, fit, moons

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
    context = browser.new_context()
    requests = []
    context.route("**/*", lambda route: (requests.append(route.request.url),
                                         route.continue_() if route.request.url.startswith(
                                             "file://") else route.abort()))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(path.as_uri())

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
    context.close()
