"""Value's methods as a type checker, an editor and ``help`` see them: the declarations that
``python -m autograd ops --write`` generates from the table, and mypy on the package and on
micrograd-style arithmetic."""

from __future__ import annotations

import inspect
import math
import os
import pydoc
import subprocess
import sys
from pathlib import Path

import pytest

from autograd import Value, declarations, declare, ops
from autograd import value as value_module

ROOT = Path(__file__).resolve().parents[1]

MICROGRAD_STYLE = """\
from autograd import Value

a = Value(2.0, label="a")
b = Value(-3.0, label="b")
c = Value(10.0, label="c")
e = a * b + c
d = e.tanh() + e.relu() + e**2 + (-a) + (1 - a) + a / 2
d.backward()
grad: float = a.grad
out: Value = d
"""


def mypy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.once
def test_mypy_passes_on_the_package():
    run = mypy()  # files and settings from pyproject's [tool.mypy]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success: no issues found" in run.stdout


def test_no_module_of_the_package_is_waved_through():
    """No error in any module is ignored: pyproject has no ignore_errors override, and the
    package's modules (the compiler, checker, trace, layers and viewers) are all checked."""
    tomllib = pytest.importorskip("tomllib")  # 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["mypy"]["files"] == ["autograd"]
    ignored = [o for o in config["tool"]["mypy"].get("overrides", []) if o.get("ignore_errors")]
    assert not ignored, ignored


@pytest.mark.once
def test_mypy_accepts_micrograd_arithmetic_and_catches_a_typo(tmp_path):
    (tmp_path / "good.py").write_text(MICROGRAD_STYLE)
    (tmp_path / "bad.py").write_text(MICROGRAD_STYLE + "a.tanhh()\nz: Value = a + 'one'\n")
    # as for an installed package: the script is checked, autograd only read for its types
    good = mypy("--strict", "--follow-imports=silent", "good.py", cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = mypy("--strict", "--follow-imports=silent", "bad.py", cwd=tmp_path)
    assert bad.returncode == 1
    assert 'bad.py:11: error: "Value" has no attribute "tanhh"' in bad.stdout
    assert 'bad.py:12: error: Argument 1 has incompatible type "str"; expected "Value | float"' \
        in bad.stdout
    # and the script runs; ∂d/∂a by hand: (tanh'(e) + relu'(e) + 2e)·b − 1 − 1 + 1/2
    run = subprocess.run([sys.executable, "-c", "import runpy; "
                          "g = runpy.run_path('good.py'); print(repr(g['grad']))"],
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120)
    e = 2.0 * -3.0 + 10.0
    expected = (1 - math.tanh(e) ** 2 + 1.0 + 2 * e) * -3.0 - 1.5
    assert float(run.stdout) == pytest.approx(expected, rel=1e-15), run.stderr


def test_the_declarations_in_value_py_are_current():
    source = declarations.VALUE_PY.read_text(encoding="utf-8")
    assert declarations.with_declarations(source) == source, (
        "stale: run `python -m autograd ops --write`")


def test_a_stale_block_is_found_and_rewritten():
    source = declarations.VALUE_PY.read_text(encoding="utf-8")
    line = "    tanh: ClassVar[Callable[[Value], Value]]  # tanh; ∂: 1 − out²\n"
    assert source.count(line) == 1
    stale = source.replace(line, "")
    assert declarations.with_declarations(stale) != stale
    assert declarations.with_declarations(stale) == source


def test_every_table_method_is_declared_and_installed():
    declared = {name for name, hint in Value.__annotations__.items() if "ClassVar" in hint}
    expected = set()
    for op in ops.OPS.values():
        if op.builtin and op.arity in (1, 2):
            expected |= {op.method, op.operator and f"__{op.operator}__"} - {None, ""}
            if op.arity == 2:
                expected.add(f"__r{op.operator}__")
    expected |= {name for name in ops.FAMILIES if name not in ops.FAMILY_CONSTANT_OF}
    assert declared == expected
    assert all(callable(getattr(Value, name)) for name in declared)


def test_the_write_command_in_a_real_process():
    run = subprocess.run([sys.executable, "-m", "autograd", "ops", "--write"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "up to date" in run.stdout, run.stdout + run.stderr


def test_source_and_help_are_readable(restore_op_table):
    # a built-in entry's method is generated with its rules written in; a declared op's is a
    # closure over the entry that calls them
    source = inspect.getsource(Value.__add__)
    assert "out = a + b" in source and "da, db = 1.0, 1.0" in source
    assert "d = 1.0 - out * out" in inspect.getsource(Value.tanh)
    hypot = declare("hypot", lambda a, b: math.hypot(a, b), lambda a, b, out: (a / out, b / out))
    source = inspect.getsource(value_module._method(hypot, None))
    assert "out = forward(a, b)" in source and "da, db = local(a, b, out)" in source
    assert "tanh(x); local derivative 1 − out²." in pydoc.render_doc(Value.tanh)
    assert str(inspect.signature(Value.__add__)) == "(self: 'Value', other: 'Operand') -> 'Value'"


def test_no_source_text_is_executed_or_parsed_outside_the_compiler():
    # declarations.py reads ops.py's source to write value.py, only when a developer runs
    # `python -m autograd ops --write`: the engine never imports it
    compiler = {"compile.py", "codegen.py", "program.py", "layered.py", "declarations.py"}
    for path in sorted((ROOT / "autograd").glob("*.py")):
        if path.name not in compiler:
            text = path.read_text(encoding="utf-8")
            assert "exec(" not in text and "import ast" not in text, path.name


def test_the_generator_is_not_imported_when_the_engine_runs():
    script = ("import sys, autograd, nn; x = autograd.Value(0.5); (x * x + x.tanh()).backward(); "
              "nn.MLP(2, [3, 1])([1.0, 2.0]); print(sorted(m for m in sys.modules "
              "if m.startswith('autograd.declarations')))")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stdout + run.stderr


def test_a_stale_generated_method_is_found_and_rewritten():
    source = declarations.VALUE_PY.read_text(encoding="utf-8")
    line = "        d = 1.0 - out * out\n"  # tanh's local derivative, as ops.py writes it
    assert source.count(line) == 1
    stale = source.replace(line, "        d = 1.0 - out**2\n")
    assert declarations.with_declarations(stale) == source
    missing = source.replace("    ops.TANH: tanh,\n", "")
    assert declarations.with_declarations(missing) == source


def test_every_built_in_entry_has_its_generated_method():
    generated = value_module._GENERATED
    expected = {op for op in ops.OPS.values() if op.builtin and op.arity in (1, 2)}
    assert set(generated) == expected
    for op, f in generated.items():
        assert value_module._method(op, None) is f
        assert f.__doc__ == value_module.method_doc(op)
        for name in (op.method, op.operator and f"__{op.operator}__"):
            if name and not (name == "__pow__"):  # (x ** p is pow_const's for a number p)
                assert Value.__dict__[name] is f, name
