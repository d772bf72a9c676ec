"""The project's own promises: CI runs the README's test command; the core needs no packages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_readme_has_exactly_two_one_line_setup_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in script
    lines = [ln for ln in script.splitlines() if ln and not ln.startswith(("#", "set ", "cd "))]
    assert lines == [readme_commands()[1]]


def test_core_imports_with_the_standard_library_only():
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import autograd, autograd.check, autograd.backward\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - set(sys.stdlib_module_names) - {'autograd'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"


def readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.+?)```", text, flags=re.S)


def test_readme_examples_run(tmp_path, monkeypatch, capsys, restore_op_table):
    monkeypatch.chdir(tmp_path)
    blocks = readme_python_blocks()
    assert len(blocks) >= 3
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert "1.0" in printed  # the micrograd demo through nn.fit reaches 100 % accuracy
    svg = (tmp_path / "graph.svg").read_text(encoding="utf-8")  # the test extra has a renderer
    assert "<svg" in svg and ">L<" in svg


def run_autograd_main(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograd", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_readme_op_table_is_what_python_m_autograd_ops_prints():
    proc = run_autograd_main("ops")
    assert proc.returncode == 0 and proc.stdout.startswith("| op | symbol |")
    rows = proc.stdout.splitlines()
    assert {"| add | `+` | a, b | 1; 1 | all reals |", "| log | `log` | x | 1/x | x > 0 |"} <= set(
        rows)
    assert proc.stdout in (ROOT / "README.md").read_text(encoding="utf-8")


def test_python_m_autograd_help_prints_help_and_runs_nothing():
    proc = run_autograd_main("--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m autograd")
    assert "engine:" not in proc.stdout


def test_python_m_autograd_rejects_an_unknown_argument():
    proc = run_autograd_main("--nope")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "unrecognized arguments: --nope" in proc.stderr


def test_python_m_autograd_matches_the_formulas():
    # x = 2, y = 1, w = 0.5, b = 0.25: h = 1.25, ∂L/∂w = (h − y)·x = 0.5, ∂L/∂b = h − y = 0.25
    out = run_autograd_main().stdout
    assert "h = 1.2500, L = 0.031250" in out
    assert "∂L/∂w = 0.500000  ∂L/∂b = 0.250000" in out
