"""The test command: the suite on every supported Python; lint, the site and the notebooks once.

``nox`` runs every session; ``nox -s tests-3.12`` one of them; ``nox -l`` lists them;
``nox -s tests -- tests/test_value.py`` passes pytest its arguments instead of ``tests``.
A Python that is not installed is skipped locally and is an error when ``CI`` is set
(nox's own default, made explicit here), so CI always covers every supported version.
Interpreters are found on PATH as ``python3.X``; pyenv's installed versions are put first
on PATH, since pyenv's shims answer only for the versions it has activated.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]  # keep in step with pyproject's classifiers
ONCE = "3.11"  # the Python that runs the notebooks and the tests marked `once`

nox.options.sessions = ["lint", "docs", "notebooks", "tests"]
# uv makes each session's environment in seconds (pip takes about 1.5 minutes per session);
# virtualenv and pip where uv is not installed. uv uses the interpreters found below, never
# downloads one.
nox.options.default_venv_backend = "uv|virtualenv"
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))


def _pyenv_first() -> None:
    """Put pyenv's installed interpreters of the supported versions first on PATH."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = [str(b) for v in PYTHONS for b in sorted(versions.glob(f"{v}.*/bin"))[-1:]]
    if found:
        os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


_pyenv_first()


@nox.session(python=ONCE)
def lint(session: nox.Session) -> None:
    """ruff over the repository."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session(python=ONCE)
def notebooks(session: nox.Session) -> None:
    """Every notebook top to bottom (nbmake)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto",
                *(session.posargs or ["notebooks"]))


@nox.session(python=ONCE)
def docs(session: nox.Session) -> None:
    """The documentation site and the lab, into ``docs/_build/html`` (npm's download is
    cached in ``docs/_build/npm-cache``; notebooks are not re-executed), then every page in
    Chromium (``tests/test_site.py``)."""
    session.install("-e", ".[docs,test]")
    session.run("npm", "ci", "--silent", "--no-audit", "--no-fund", "--prefix", "docs",
                "--cache", "docs/_build/npm-cache", external=True)
    session.run("python", "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "docs",
                "docs/_build/html")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_site.py")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite (``tests/``) on one Python, over every core (pytest-xdist). Tests marked
    ``once`` (browser pages, mypy, the wheel, the command line's processes, the large sympy
    sweeps) run on ``ONCE`` only: what they check does not change with the Python version.
    Under CI the other Pythons run each property test on 50 of its fixed examples (the
    ``ci-other`` profile in tests/conftest.py) and ``ONCE`` on all of them (``ci``)."""
    session.install("-e", ".[test]")
    once = [] if session.python == ONCE else ["-m", "not once"]
    # the property tests' fixed examples: all of them on ONCE, the first 50 on the others
    env = {} if session.python == ONCE or not os.environ.get("CI") else {
        "HYPOTHESIS_PROFILE": "ci-other"}
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto", *once,
                *(session.posargs or ["tests", "--ignore=tests/test_site.py"]), env=env)
