"""Sphinx configuration of the documentation site (``nox -s docs`` builds it into
``docs/_build/html``; no theme or extension fetches anything from the network).

Before the build, :func:`_gather` copies the walkthroughs (with their committed outputs, not
re-executed) into ``docs/notebooks/`` and writes the generated pages into ``docs/_generated/``:
the op table (``python -m autograd ops``) and the saved stepping pages.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

project = "stepgrad"
author = "stepgrad contributors"
copyright = "stepgrad contributors"  # noqa: A001 (Sphinx's name)

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
exclude_patterns = ["_build", "lab", "node_modules", "**/.ipynb_checkpoints"]
html_theme = "pydata_sphinx_theme"
html_title = "stepgrad"
html_theme_options = {
    "navigation_with_keys": True,
    "show_toc_level": 2,
    "icon_links": [],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_extra_path = ["_generated/extra"]
html_static_path: list[str] = []
html_last_updated_fmt = None
html_context = {"default_mode": "light"}

# notebooks are shown as committed (CI runs them); the stepper's self-contained page
# (text/html) wins over the live widget, which needs a kernel
nb_execution_mode = "off"
nb_mime_priority_overrides = [
    ("html", "text/html", 0),
    ("html", "application/vnd.jupyter.widget-view+json", None),
]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}


def _escape_bars(app, what, name, obj, options, lines: list[str]) -> None:
    """Docstrings write |x| for absolute values; reST would read a substitution."""
    lines[:] = [line.replace("|", "\\|") for line in lines]


def setup(app) -> None:
    app.connect("autodoc-process-docstring", _escape_bars)
    app.connect("build-finished", _lab)


def _lab(app, error: Exception | None) -> None:
    """Assemble ``lab/`` in the built site: its page, Pyodide and viz.js from ``npm ci``
    (``docs/node_modules``), and this checkout's autograd, nn and graphviz as one zip."""
    if error is not None or app.builder.format != "html":
        return
    from docs.lab.bundle import assemble

    assemble(DOCS / "lab", DOCS / "node_modules", Path(app.outdir) / "lab", ROOT)


def _gather() -> None:
    """Copy the notebooks in and write the generated pages (idempotent)."""
    target = DOCS / "notebooks"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ROOT / "notebooks", target,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    generated = DOCS / "_generated"
    extra = generated / "extra" / "steps"
    extra.mkdir(parents=True, exist_ok=True)
    from docs.generate import write_generated

    write_generated(generated, extra)


_gather()
