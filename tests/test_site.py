"""The documentation site and the lab in a real browser (Debian's chromium through Playwright).

The site is served from 127.0.0.1 and every other address is blocked. Every page opens with
no blocked request and no script error; the stepper on notebook 02's page steps with the
engine's numbers; in the lab the README's example runs on Pyodide and prints what CPython
prints, and its stepper's last frame shows CPython's gradients.

The site is built by ``nox -s docs``, which runs this file; elsewhere it runs when
``docs/_build/html`` exists (``STEPGRAD_SITE`` names another build).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograd import step_through
from tests.test_project import readme_python_blocks
from tests.test_stepper import example

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("STEPGRAD_SITE", ROOT / "docs" / "_build" / "html"))

if not (SITE / "index.html").is_file():
    pytest.skip(f"no built site in {SITE} (nox -s docs builds it and runs this file)",
                allow_module_level=True)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture
def open_page(browser, served):
    """``open_page(path)`` → (page, problems): blocked requests, script errors, console
    errors and failed responses, gathered while the page lives."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith(served) or url.startswith(("about:", "data:", "blob:")):
            r.continue_()
        else:
            problems.append(f"blocked {url}")
            r.abort()

    context.route("**/*", route)

    def open_(path: str):
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"script error {e}"))
        page.on("console", lambda m: problems.append(f"console {m.text}")
                if m.type == "error" else None)
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)
        page.goto(served + path, wait_until="load")
        return page

    yield open_, problems
    context.close()


def pages() -> list[str]:
    return sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html")
                  if "_static" not in p.parts and p.parent.name != "lab")


def test_the_site_has_its_pages():
    found = set(pages())
    assert {"index.html", "api.html", "notebooks.html", "_generated/ops.html",
            "_generated/steps.html", "lab.html", "steps/readme_example.html"} <= found
    notebooks = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert {f"notebooks/{n.removesuffix('.ipynb')}.html" for n in notebooks} <= found
    assert (SITE / "lab" / "index.html").is_file()


def test_every_page_opens_offline_without_errors(open_page):
    open_, problems = open_page
    for path in pages():
        open_(path).close()
    assert problems == []


def test_notebook_02s_stepper_steps_with_the_engines_numbers(open_page):
    open_, problems = open_page
    page = open_("notebooks/02_stepping_through_backward.html")
    view = step_through(example())  # notebook 02's f = (a·b + c)·tanh(a), its numbers
    stepper = page.locator(".stepgrad-stepper").first
    stepper.locator(".sg-first").click()
    assert stepper.locator(".sg-count").text_content() == f"step 0 of {len(view)}"
    for k in range(1, len(view) + 1):
        stepper.locator(".sg-next").click()
        assert stepper.locator(".sg-count").text_content() == f"step {k} of {len(view)}"
        assert stepper.locator(".sg-eq").text_content() == view.equation(k)
    assert problems == []


def readme_example() -> str:
    (block,) = [b for b in readme_python_blocks() if "c = (a * b + b**3)" in b]
    return block


def test_the_lab_runs_the_readme_example_with_cpythons_numbers(open_page):
    open_, problems = open_page
    page = open_("lab/index.html")
    page.wait_for_function("document.getElementById('status').dataset.ready === 'true'",
                           timeout=120_000)
    code = readme_example()
    page.fill("#expression", "")
    page.locator("#expression").type(code, delay=0)
    page.click("#run")
    printed = io.StringIO()
    names: dict = {}
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), names)  # the README's own block, on CPython
    page.wait_for_function("e => e.textContent.length > 0", arg=page.locator("#output")
                           .element_handle())
    assert page.text_content("#output") == printed.getvalue()
    frame = page.frame_locator("#stepper")
    view = step_through(names["c"])
    frame.locator(".sg-first").click()  # the page's script runs: it steps
    assert frame.locator(".sg-count").text_content() == f"step 0 of {len(view)}"
    frame.locator(".sg-count").click()  # focus the stepper's page, then the End key
    page.keyboard.press("End")
    assert frame.locator(".sg-count").text_content() == f"step {len(view)} of {len(view)}"
    shown = {t.get_attribute("data-node"): t.text_content()
             for t in frame.locator("text[data-node]").all()}
    for box in view.frame(len(view)).boxes:
        assert shown[box.id].startswith(f"grad {format(box.grad, '.4g')}"), box.label
    assert {format(names["a"].grad, ".4g"), format(names["b"].grad, ".4g")} <= {
        text.split()[1] for text in shown.values()}
    assert problems == []


def test_the_lab_trains_on_moons_with_cpythons_losses(open_page):
    """Train, pause, and compare the shown epoch's loss with the same epochs run here."""
    from docs.lab.lab import Training

    open_, problems = open_page
    page = open_("lab/index.html")
    page.wait_for_function("document.getElementById('status').dataset.ready === 'true'",
                           timeout=120_000)
    before = page.locator("#boundary").screenshot()
    page.click("#train")
    page.wait_for_function("Number(document.getElementById('epoch').textContent) >= 3",
                           timeout=120_000)
    page.click("#train")  # pause
    page.wait_for_timeout(300)
    epoch = int(page.text_content("#epoch"))
    shown = float(page.locator("#loss").get_attribute("data-value"))
    training = Training()
    losses = [training.step()[1] for _ in range(epoch)]
    assert shown == losses[-1]
    assert page.locator("#boundary").screenshot() != before  # the boundary moved
    assert problems == []
