"""The site's generated pages: the op table and saved stepping pages, made by the engine at
build time (so they show this checkout's numbers)."""

from __future__ import annotations

from pathlib import Path

from autograd import Value, step_through
from autograd.ops import derivative_table

OPS_PAGE = """# The op table

Every op is declared once in `autograd/ops.py`; this page is printed from that table by
`python -m autograd ops` when the site is built. `out` is the op's result.

{table}
"""

STEPS_PAGE = """# Stepping pages

Self-contained pages saved by `step_through(root).save("steps.html")`: one picture laid out
once, every frame's numbers, first/prev/next/last, a slider and the ←/→/Home/End keys. They
need no kernel and make no request; with scripts off they show the last frame and the step
table.

{links}
"""


def readme_example() -> Value:
    """The README's ten lines: c = relu(a·b + b³) + tanh(a/b) at a = −3, b = 2."""
    a = Value(-3.0, label="a")
    b = Value(2.0, label="b")
    c = (a * b + b**3).relu() + (a / b).tanh()
    c.label = "c"
    return c


def neuron() -> Value:
    """The seeds' single linear neuron h = w·x + b with L = ½(h − y)², x = 2, y = 1."""
    w, b = Value(0.5, label="w"), Value(0.25, label="b")
    h = w * 2.0 + b
    h.label = "h"
    loss = 0.5 * (h - 1.0) ** 2
    loss.label = "L"
    return loss


PAGES = {
    "readme_example.html": ("The README's ten lines", readme_example),
    "single_neuron.html": ("One linear neuron, L = ½(h − y)²", neuron),
}


def write_generated(generated: Path, steps: Path) -> None:
    """Write ``ops.md`` and ``steps.md`` into ``generated`` and the pages into ``steps``."""
    generated.mkdir(parents=True, exist_ok=True)
    (generated / "ops.md").write_text(OPS_PAGE.format(table=derivative_table()), "utf-8")
    links = []
    for name, (title, make) in PAGES.items():
        step_through(make()).save(steps / name)
        links.append(f'- <a href="../steps/{name}">{title}</a>')
    saved = Path(__file__).parent.parent / "notebooks/images/02_stepping_through_backward.html"
    (steps / "notebook_02.html").write_bytes(saved.read_bytes())
    links.append('- <a href="../steps/notebook_02.html">Notebook 02\'s graph</a>')
    (generated / "steps.md").write_text(STEPS_PAGE.format(links="\n".join(links)), "utf-8")
