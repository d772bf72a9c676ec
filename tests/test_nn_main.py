"""`python -m nn train`: help, outputs, a run on xor; one-line usage errors, and a run that
keeps its model through Ctrl-C, divergence, a failed write or a missing matplotlib."""

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import autograd
from nn import __main__ as cli
from nn import load

ROOT = Path(__file__).resolve().parents[1]


def test_help_documents_every_option():
    proc = subprocess.run([sys.executable, "-m", "nn", "train", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for option in ("--data", "--hidden", "--epochs", "--optimizer", "--lr", "--seed", "--out",
                   "--batch-size", "--activation", "--init", "--no-progress"):
        assert option in proc.stdout


def test_train_xor_writes_plot_model_and_reports_accuracy(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["train", "--data", "xor", "--hidden", "4", "--activation", "tanh",
                     "--epochs", "300", "--lr", "0.05", "--seed", "1", "--out", str(out),
                     "--no-progress"])
    assert code == 0
    text = capsys.readouterr().out
    assert "final train accuracy 100.0%, test accuracy 100.0%" in text
    png = (out / "loss.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    model = load(out / "model.json")
    assert model.nouts == [4, 1] and model.activation == "tanh"
    assert json.loads((out / "model.json").read_text())["architecture"]["nin"] == 2
    if hasattr(autograd, "draw"):
        assert (out / "graph.svg").exists() or "graph.svg skipped" in text
    else:
        assert "graph.svg skipped (autograd.draw is not available)" in text


def test_a_failing_drawer_never_breaks_training(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("no dot binary")

    monkeypatch.setattr(autograd, "draw", broken, raising=False)
    code = cli.main(["train", "--data", "xor", "--epochs", "2", "--out", str(tmp_path),
                     "--no-progress"])
    assert code == 0
    assert "graph.svg skipped (RuntimeError: no dot binary)" in capsys.readouterr().out
    assert (tmp_path / "model.json").exists()


def run(*args, env=None, **kwargs):
    """`python -m nn train ARGS` (or `python -c CODE` for args[0] == "-c") in a child."""
    cmd = [sys.executable, *args] if args[0] == "-c" else [sys.executable, "-m", "nn", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, **kwargs)


@pytest.mark.parametrize("bad", [
    ["--lr", "abc"], ["--lr", "nan"], ["--lr", "-1"], ["--lr", "inf"], ["--batch-size", "-2"],
    ["--noise", "nan"], ["--noise", "-0.1"], ["--test-size", "7"], ["--test-size", "1"],
    ["--epochs", "0"], ["--epochs", "2.5"], ["--data", "nosuch"], ["--hidden", "16,x"],
    ["--hidden", "0"], ["--samples", "1"], ["--seed", "x"],
])
def test_every_bad_argument_is_one_line_and_exit_2(bad, tmp_path):
    proc = run("train", *bad, "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("python -m nn train: error: argument " + bad[0])
    assert repr(bad[1]) in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "run").exists()  # refused before anything was made


def test_a_split_that_leaves_no_training_data_is_a_usage_error(tmp_path):
    proc = run("train", "--samples", "3", "--test-size", "0.9", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("python -m nn train: error: --samples/--test-size: "
                                  "test_size must leave both parts non-empty")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("where", ["a_file", "a_file/below"])
def test_an_out_that_cannot_be_written_is_refused_before_training(tmp_path, where):
    (tmp_path / "a_file").write_text("not a folder")
    proc = run("train", "--data", "xor", "--out", str(tmp_path / where))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"python -m nn train: error: argument --out: cannot write "
                                  f"to {str(tmp_path / where)!r}: ")
    assert "training" not in proc.stdout
    assert os.listdir(tmp_path) == ["a_file"]


def test_ctrl_c_stops_after_the_step_writes_everything_and_exits_130(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "nn", "train", "--epochs", "100000", "--out", str(out),
         "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in proc.stdout:
            if line.startswith("  layers.2:"):  # the model is printed: training starts now
                break
        time.sleep(1.5)  # well inside the epochs
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in stderr
    assert stderr.startswith("training interrupted after step ")
    assert "writing the model trained so far" in stderr
    assert f"wrote {out / 'model.json'}" in stdout and f"wrote {out / 'loss.png'}" in stdout
    model = load(out / "model.json")
    assert model.nouts == [16, 16, 1]
    assert sorted(os.listdir(out)) in (["graph.svg", "loss.png", "model.json"],
                                       ["loss.png", "model.json"])


def test_divergence_says_so_keeps_the_last_finite_model_and_exits_1(tmp_path):
    proc = run("train", "--optimizer", "sgd", "--lr", "1e300", "--out", str(tmp_path),
               "--no-progress")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("training diverged in epoch 1, step ")
    assert "the model keeps the parameters from before that step" in proc.stderr
    assert "final train accuracy" not in proc.stdout
    assert all(math.isfinite(v) for v in load(tmp_path / "model.json").state_dict().values())


def test_a_failed_write_keeps_the_model_in_a_fallback_folder(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    real_save = cli.save

    def full_disk(model, path):
        if Path(path).parent == out:
            raise OSError(28, "No space left on device")
        real_save(model, path)

    monkeypatch.setattr(cli, "save", full_disk)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    code = cli.main(["train", "--data", "xor", "--epochs", "3", "--out", str(out),
                     "--no-progress"])
    assert code == 1
    captured = capsys.readouterr()
    err = captured.err
    assert f"could not write {out / 'model.json'} (No space left on device)" in err
    (fallback,) = tmp_path.glob("nn-run-*")
    assert f"wrote {fallback / 'model.json'}" in captured.out
    assert "writing it to the fallback folder" in err
    assert load(fallback / "model.json").nouts == [4, 1]
    assert (out / "loss.png").exists() and not (out / "model.json").exists()


def test_without_matplotlib_the_model_and_graph_are_still_written(tmp_path):
    code = textwrap.dedent(f"""
        import runpy, sys
        class NoMatplotlib:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "matplotlib":
                    raise ImportError(f"No module named {{name!r}}", name=name)
        sys.meta_path.insert(0, NoMatplotlib())
        sys.argv = ["nn", "train", "--data", "xor", "--epochs", "3", "--no-progress",
                    "--out", {str(tmp_path)!r}]
        runpy.run_module("nn", run_name="__main__")
    """)
    proc = run("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert "loss.png skipped (matplotlib" in proc.stdout and "is not installed)" in proc.stdout
    assert load(tmp_path / "model.json").nouts == [4, 1]
    assert not (tmp_path / "loss.png").exists()
    if hasattr(autograd, "draw"):
        assert (tmp_path / "graph.svg").exists() or "graph.svg skipped" in proc.stdout
