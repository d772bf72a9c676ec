"""`python -m nn train`: help, outputs, and a run on xor."""

import json
import subprocess
import sys
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


@pytest.mark.parametrize("bad", [["--hidden", "16,x"], ["--epochs", "0"], ["--data", "mnist"]])
def test_bad_arguments_are_usage_errors(bad, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", *bad])
    assert exit_info.value.code == 2
    assert bad[0] in capsys.readouterr().err
