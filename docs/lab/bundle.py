"""Put the lab together in the built site (called at the end of the Sphinx build)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                 "pyodide-lock.json")
PAGE_FILES = ("index.html", "lab.js", "lab.css")


def assemble(source: Path, node_modules: Path, out: Path, root: Path) -> None:
    """The lab's page, the runtime files it loads, and ``stepgrad.zip`` (autograd, nn,
    graphviz and ``lab.py``, for Pyodide to unpack). Raises FileNotFoundError naming what
    is missing when ``npm ci`` has not run in ``docs/``."""
    import graphviz

    runtime = [node_modules / "pyodide" / name for name in PYODIDE_FILES]
    viz = node_modules / "@viz-js" / "viz" / "dist" / "viz.js"
    missing = [str(p) for p in (*runtime, viz) if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"the lab needs `npm ci` in docs/ first; missing: {missing[0]}")
    out.mkdir(parents=True, exist_ok=True)
    for name in PAGE_FILES:
        shutil.copy2(source / name, out / name)
    (out / "pyodide").mkdir(exist_ok=True)
    for path in runtime:
        shutil.copy2(path, out / "pyodide" / path.name)
    (out / "viz").mkdir(exist_ok=True)
    shutil.copy2(viz, out / "viz" / "viz.js")
    with zipfile.ZipFile(out / "stepgrad.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(source / "lab.py", "lab.py")
        for package in (root / "autograd", root / "nn", Path(graphviz.__file__).parent):
            for path in sorted(package.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    bundle.write(path, f"{package.name}/{path.relative_to(package)}")
