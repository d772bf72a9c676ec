"""`import nn` refuses an `autograd` package that is not this project's engine."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_fails_clearly_when_another_autograd_shadows_ours(tmp_path):
    fake = tmp_path / "autograd"
    fake.mkdir()
    (fake / "__init__.py").write_text("def grad(fun):\n    return fun\n")  # HIPS-like
    (tmp_path / "nn").symlink_to(ROOT / "nn")
    proc = subprocess.run([sys.executable, "-c", "import nn"], cwd=tmp_path,
                          capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)},
                          timeout=60)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr
    assert "nn needs this project's scalar engine" in proc.stderr
    assert "HIPS autograd" in proc.stderr
    # uninstalling HIPS autograd alone deletes files the two share; this is what recovers
    assert "pip uninstall -y autograd stepgrad && pip install stepgrad" in proc.stderr


def test_import_works_with_our_engine():
    proc = subprocess.run([sys.executable, "-c", "import nn; print(nn.MLP(2, [1]).nin)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2"


def test_nn_imports_with_the_standard_library_only():
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import nn\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - set(sys.stdlib_module_names) - {'autograd', 'nn'}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stderr
