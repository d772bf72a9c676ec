"""The lab's size and load time: the built ``docs/_build/html/lab`` (``nox -s docs``) served
from 127.0.0.1 to Debian's chromium, every other address blocked. Prints the bytes the page
loads and the seconds until the engine is ready and until the README example's stepper is
shown (three cold loads, each in a fresh browser context)."""

from __future__ import annotations

import functools
import http.server
import statistics
import sys
import threading
import time
from pathlib import Path

SITE = Path(__file__).resolve().parents[2] / "docs" / "_build" / "html"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    from playwright.sync_api import sync_playwright

    lab = SITE / "lab"
    if not (lab / "index.html").is_file():
        sys.exit(f"no built lab in {lab}: run `nox -s docs` first")
    files = sorted(p for p in lab.rglob("*") if p.is_file())
    print("lab files (bytes):")
    for p in files:
        print(f"  {p.relative_to(lab)!s:34} {p.stat().st_size:>12,}")
    print(f"  {'total':34} {sum(p.stat().st_size for p in files):>12,}")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    ready, shown = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox"])
        for _ in range(3):
            context = browser.new_context()
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base)
                          or r.request.url.startswith("about:") else r.abort())
            page = context.new_page()
            start = time.perf_counter()
            page.goto(base + "lab/index.html")
            page.wait_for_function("document.getElementById('status').dataset.ready",
                                   timeout=120_000)
            ready.append(time.perf_counter() - start)
            page.frame_locator("#stepper").locator(".sg-count").wait_for()
            shown.append(time.perf_counter() - start)
            context.close()
        browser.close()
    server.shutdown()
    for name, times in (("engine ready", ready), ("stepper shown", shown)):
        print(f"{name}: median {statistics.median(times):.1f} s of "
              f"{[round(t, 1) for t in times]}")


if __name__ == "__main__":
    main()
