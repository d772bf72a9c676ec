"""Opening a saved page in Chromium as a reader would, with nothing reachable but the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def open_offline(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """``path`` opened in a new context of ``browser`` that aborts every request except
    ``file://`` ones; returns the page, the URLs it requested and the script errors it
    raised (both lists keep filling while the page is used)."""
    context = browser.new_context()
    requests: list[str] = []
    context.route("**/*", lambda route: (requests.append(route.request.url),
                                         route.continue_() if route.request.url.startswith(
                                             "file://") else route.abort()))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(path.as_uri())
    return page, requests, errors
