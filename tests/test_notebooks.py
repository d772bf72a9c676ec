"""Committed notebooks render on GitHub: outputs present, cells run in order, no widget state,
no widget-only outputs, and progress bars that end on a finished text line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
BAR = re.compile(r"(\d+)%\|")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def test_the_walkthroughs_exist():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 9 and names == sorted(names)
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", n) for n in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_with_outputs_in_order(path):
    cells = code_cells(load(path))
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "run top to bottom in a fresh kernel"
    assert any(c["outputs"] for c in cells)
    for c in cells:
        assert all(o["output_type"] != "error" for o in c["outputs"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_widget_state_and_no_widget_only_output(path):
    nb = load(path)
    assert "widgets" not in nb["metadata"]
    for c in code_cells(nb):
        for o in c["outputs"]:
            data = o.get("data", {})
            if WIDGET in data:
                assert "text/html" in data or "text/plain" in data
                static = text(data.get("text/html", "")) + text(data.get("text/plain", ""))
                assert static.strip() and not BAR.search(static), "a frozen progress bar"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_progress_bars_end_on_a_finished_text_line(path):
    for c in code_cells(load(path)):
        for o in c["outputs"]:
            if o["output_type"] != "stream":
                continue
            lines = [ln.split("\r")[-1] for ln in text(o["text"]).splitlines()]
            bars = [ln for ln in lines if BAR.search(ln)]
            if bars:
                assert BAR.search(bars[-1]).group(1) == "100", bars[-1]
