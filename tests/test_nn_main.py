"""`python -m nn train`: help, outputs, a run on xor; one-line usage errors, and a run that
keeps its model through Ctrl-C, divergence, a failed write or a missing matplotlib."""

import json
import math
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

import autograd
from nn import MLP, History, Recording, evaluate, fit, load, save, xor
from nn import __main__ as cli
from nn import io as nn_io
from nn.interrupts import Interrupts

ROOT = Path(__file__).resolve().parents[1]


def test_help_documents_every_option():
    proc = subprocess.run([sys.executable, "-m", "nn", "train", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for option in ("--data", "--hidden", "--epochs", "--optimizer", "--lr", "--seed", "--out",
                   "--batch-size", "--activation", "--init", "--no-progress"):
        assert option in proc.stdout
    text = " ".join(proc.stdout.split())
    assert "SIGTERM and SIGHUP stop after the current step" in text and "(130, 143, 129)" in text
    assert f"about {cli.BYTES_PER_PARAMETER} bytes per parameter" in text
    assert "exceeds the machine's physical memory" in text and "exits with 141" in text


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
    written = sorted(os.listdir(out))  # the run stopped, so the report shows what it recorded
    assert [f for f in written if f != "graph.svg"] == ["history.json", "loss.png",
                                                        "model.json", "report.html"]
    numbers = json.loads((out / "history.json").read_text())
    assert 0 < len(numbers["loss"]) == len(numbers["test_loss"]) < 100000
    page = (out / "report.html").read_text()
    frames = json.loads(re.search(r'type="application/json">(.*?)</script>', page, re.S)[1])
    assert frames[-1]["numbers"]["test_loss"] == numbers["test_loss"][-1]


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


# --- a run is kept whatever stops it: signals, a closed output; sizes refused up front ---

STOPS = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])


def _default_stop_signals():
    """In the child: every stop signal at its default, whatever the test runner ignores."""
    for signum in STOPS:
        signal.signal(signum, signal.SIG_DFL)


def start(*args):
    """`python -u -m nn train ARGS` in a child, stdout and stderr as unbuffered byte pipes."""
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "nn", "train", *args], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=_default_stop_signals)


def read_until(stream, pattern, timeout=60):
    """Read ``stream`` as it comes until the regex ``pattern`` matches; return what was read."""
    seen, deadline = b"", time.monotonic() + timeout
    while not re.search(pattern, seen):
        left = deadline - time.monotonic()
        assert left > 0, f"no {pattern!r} within {timeout}s; read {seen[-300:]!r}"
        if select.select([stream], [], [], left)[0]:
            chunk = os.read(stream.fileno(), 4096)
            assert chunk, f"the stream ended before {pattern!r}; read {seen[-300:]!r}"
            seen += chunk
    return seen


def finish(proc, stderr_so_far=b""):
    try:
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return stdout.decode(), (stderr_so_far + stderr).decode()


def trained_like_the_cli(flags, epochs):
    """The moons run the command makes of ``flags`` (defaults: 16,16 relu, Kaiming, Adam at
    0.02, binary cross-entropy on logits), full batch for ``epochs`` epochs, in this process."""
    args = cli.build_parser().parse_args(["train", *flags])
    X_train, _, y_train, _ = cli.load_data(args)
    model = MLP(2, [16, 16, 1], activation="relu", init="kaiming_uniform", rng=args.seed)
    fit(model, X_train, y_train, loss="bce_with_logits", optimizer="adam", lr=0.02,
        epochs=epochs, batch_size=None, progress=False, seed=args.seed)
    return model


def xor_like_the_cli(epochs):
    """The xor run the command makes by default (4 tanh, Xavier, Adam at 0.05, batch 4) for
    ``epochs`` epochs, in this process."""
    model = MLP(2, [4, 1], activation="tanh", init="xavier_uniform", rng=0)
    fit(model, *xor(), loss="bce_with_logits", optimizer="adam", lr=0.05, epochs=epochs,
        batch_size=4, progress=False, seed=0)
    return model


@pytest.mark.parametrize("signum", STOPS, ids=lambda s: signal.Signals(s).name)
def test_each_stop_signal_keeps_the_trained_model_and_exits_128_plus_its_number(tmp_path,
                                                                                 signum):
    out, flags = tmp_path / "run", ["--batch-size", "0", "--seed", "3"]
    proc = start(*flags, "--epochs", "100000", "--out", str(out))
    seen = read_until(proc.stderr, rb"\| *[1-9]\d*/100000")  # an epoch (one step) is done
    proc.send_signal(signum)
    stdout, stderr = finish(proc, seen)
    assert proc.returncode == 128 + signum
    assert "Traceback" not in stderr
    name = signal.Signals(signum).name
    stop = re.search(rf"training interrupted after step 1 of epoch (\d+) \({name}\); writing "
                     rf"the model trained so far", stderr)
    assert stop, stderr
    assert f"wrote {out / 'model.json'}" in stdout and f"wrote {out / 'loss.png'}" in stdout
    model = load(out / "model.json")
    assert model.nouts == [16, 16, 1] and model.nin == 2
    reference = trained_like_the_cli(flags, epochs=int(stop[1]))
    assert model.state_dict() == reference.state_dict()


def test_ctrl_c_during_the_final_evaluation_still_writes_the_trained_model(tmp_path):
    """One full-batch epoch on 2000 points, then the final accuracies (2000 forward passes,
    a second or so): the signal goes a tenth of a second after the progress bar closed (the
    end of fit's last iteration; the loop's last look for a signal comes right after)."""
    out, flags = tmp_path / "run", ["--samples", "2000", "--batch-size", "0", "--epochs", "1"]
    proc = start(*flags, "--out", str(out))
    seen = read_until(proc.stderr, rb"\| 1/1 [^\n]*\n")
    time.sleep(0.1)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = finish(proc, seen)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "final train accuracy" not in stdout
    assert ("training finished; final accuracies skipped (SIGINT); writing the model trained "
            "so far") in stderr
    assert time.monotonic() - started < 30
    assert load(out / "model.json").state_dict() == trained_like_the_cli(flags, 1).state_dict()
    assert (out / "loss.png").exists()


def test_signals_again_and_again_while_writing_never_lose_model_json(tmp_path):
    """The first SIGTERM stops training; more follow every few milliseconds while the files
    are written: model.json is whole (no temporary file left), the rest may be skipped."""
    out, flags = tmp_path / "run", ["--batch-size", "0", "--seed", "5"]
    proc = start(*flags, "--epochs", "100000", "--out", str(out))
    seen = read_until(proc.stderr, rb"\| *[1-9]\d*/100000")
    proc.send_signal(signal.SIGTERM)
    seen += read_until(proc.stderr, rb"writing the model trained so far")
    while proc.poll() is None and not (out / "model.json").exists():
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.005)
    stdout, stderr = finish(proc, seen)
    assert proc.returncode == 143 and "Traceback" not in stderr
    assert f"wrote {out / 'model.json'}" in stdout
    epoch = int(re.search(r"after step 1 of epoch (\d+)", stderr)[1])
    assert load(out / "model.json").state_dict() == \
        trained_like_the_cli(flags, epoch).state_dict()
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_a_second_signal_inside_the_model_write_waits_for_it(tmp_path, monkeypatch):
    """Two real SIGINTs arrive while model.json is being written: the file is finished, then
    the interrupt stops the writing; graph.svg and loss.png are not begun."""
    model = MLP(2, [3, 1], rng=0)
    real_write = nn_io.write_atomic

    def interrupted_write(path, data):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        return real_write(path, data)

    monkeypatch.setattr(nn_io, "write_atomic", interrupted_write)
    with Interrupts() as interrupts, pytest.raises(KeyboardInterrupt):
        cli.write_outputs(model, History(loss=[1.0], accuracy=[0.5]), Recording(),
                          ([[0.0, 1.0]], [1]), ([0.0, 1.0], 1), "mse", tmp_path,
                          interrupts.hold)
    assert interrupts.received == signal.SIGINT
    assert os.listdir(tmp_path) == ["model.json"]
    assert load(tmp_path / "model.json").state_dict() == model.state_dict()


def test_a_reader_that_leaves_loses_nothing(tmp_path):
    """`python -m nn train | head -1`: the pipe is closed after one line; the run finishes,
    writes its files and exits with 141 (128 + SIGPIPE) without a traceback."""
    out, flags = tmp_path / "run", ["--batch-size", "0", "--epochs", "10"]
    proc = start(*flags, "--out", str(out))
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert first.startswith(b"moons: 150 training and 50 test samples; 337 parameters")
    assert proc.returncode == 141, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert load(out / "model.json").state_dict() == trained_like_the_cli(flags, 10).state_dict()
    assert (out / "loss.png").exists()


@pytest.mark.parametrize("flags, parameters, samples", [
    (["--hidden", "100000000"], 4 * 10**8 + 1, 200),  # (2+1)·h + (h+1)·1
    (["--samples", str(10**9)], 337, 10**9),
])
def test_a_run_too_big_for_memory_is_refused_at_once(tmp_path, flags, parameters, samples):
    proc = run("train", *flags, "--out", str(tmp_path / "run"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and proc.stdout == ""
    assert proc.stderr.startswith("python -m nn train: error: --hidden/--samples/--batch-size:"
                                  " the run needs about ")
    assert f"({parameters:,} parameters, {samples:,} samples, 16 per batch)" in proc.stderr
    limit = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert f"more than the {limit / 1e9:.1f} GB this machine has" in proc.stderr
    assert not (tmp_path / "run").exists()
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(SystemExit) as refused:
        cli.main(["train", *flags, "--out", str(tmp_path / "run")])
    took, peak = time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert refused.value.code == 2 and took < 0.1 and peak < 1e6


def test_the_data_sizes_the_check_assumes_are_the_data_sets():
    for name, (inputs, samples) in cli.SIZES.items():
        args = cli.build_parser().parse_args(["train", "--data", name])
        X_train, X_test, *_ = cli.load_data(args)
        assert len(X_train[0]) == inputs
        seen = len(X_train) if name == "xor" else len(X_train) + len(X_test)  # xor tests on X
        assert seen == (samples or args.samples)


@pytest.mark.parametrize("batch", ["0", "16"])
def test_the_memory_estimate_covers_what_a_run_allocates(tmp_path, batch):
    """A small run's peak of Python allocations (data, model, one epoch of Adam, the model
    file), measured by tracemalloc, is under the estimate, and the estimate is not loose."""
    args = cli.build_parser().parse_args(["train", "--hidden", "32,32", "--samples", "100",
                                          "--batch-size", batch])
    tracemalloc.start()
    X_train, _, y_train, _ = cli.load_data(args)
    model = MLP(2, [32, 32, 1], rng=0)
    fit(model, X_train, y_train, loss="bce_with_logits", optimizer="adam", epochs=1,
        batch_size=int(batch) or None, progress=False)
    save(model, tmp_path / "model.json")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    needed, parameters, samples, per_batch = cli.memory_needed(args)
    assert (parameters, samples, per_batch) == (1185, 100, int(batch) or 100)
    assert peak < needed < 3 * peak


def test_a_first_signal_while_the_files_are_written_lets_them_all_finish(tmp_path, monkeypatch,
                                                                        capsys):
    real_write = nn_io.write_atomic

    def terminated_write(path, data):
        os.kill(os.getpid(), signal.SIGTERM)
        return real_write(path, data)

    monkeypatch.setattr(nn_io, "write_atomic", terminated_write)
    code = cli.main(["train", "--data", "xor", "--epochs", "3", "--out", str(tmp_path),
                     "--no-progress"])
    captured = capsys.readouterr()
    assert code == 143
    assert "final train accuracy" in captured.out
    assert "interrupted (SIGTERM) while writing the files; finished them" in captured.err
    assert {"model.json", "loss.png"} <= set(os.listdir(tmp_path))
    assert load(tmp_path / "model.json").state_dict() == xor_like_the_cli(3).state_dict()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_an_output_that_fails_otherwise_loses_nothing_either(tmp_path):
    """stdout on /dev/full (every write: no space left): the run writes its files, says
    nothing more and exits with 1."""
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "nn", "train", "--data", "xor", "--epochs", "3", "--out",
             str(tmp_path), "--no-progress"], cwd=ROOT, stdout=full, stderr=subprocess.PIPE,
            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1 and proc.stderr == ""
    assert load(tmp_path / "model.json").state_dict() == xor_like_the_cli(3).state_dict()


def test_history_json_and_report_hold_the_runs_numbers(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--data", "xor", "--epochs", "6", "--out", str(out),
                     "--no-progress"]) == 0
    numbers = json.loads((out / "history.json").read_text())
    assert sorted(numbers) == ["accuracy", "loss", "lr", "test_accuracy", "test_loss"]
    assert {len(v) for v in numbers.values()} == {6}
    X, y = xor()  # xor is tested on its own 4 points
    final = evaluate(load(out / "model.json"), X, y, loss="bce_with_logits")
    assert numbers["test_loss"][-1] == final["loss"]
    assert numbers["test_accuracy"][-1] == final["accuracy"]
    assert f"training report: open {(out / 'report.html').resolve().as_uri()}" in \
        capsys.readouterr().out
    assert "default-src 'none'" in (out / "report.html").read_text()


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_graph_svg_fits_a_screens_width_and_names_the_input_and_the_loss(tmp_path):
    import xml.etree.ElementTree as ET

    assert cli.main(["train", "--data", "moons", "--epochs", "1", "--out", str(tmp_path),
                     "--no-progress"]) == 0
    svg = ET.parse(tmp_path / "graph.svg").getroot()
    width, height = (float(svg.get(k).removesuffix("pt")) for k in ("width", "height"))
    assert width <= 1000 and height <= 1800  # moons 2-16-16-1 was 2688 × 1261 pt
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    args = cli.build_parser().parse_args(["train", "--data", "moons"])
    X_train, _, y_train, _ = cli.load_data(args)
    assert "input x: training sample 0" in texts
    assert f"loss = bce_with_logits(ŷ, y), target y = {y_train[0]}" in texts
    assert "− loss" in texts  # the root box is the loss
    assert f"data [{X_train[0][0]:.4g}, {X_train[0][1]:.4g}]" in texts  # the input box
    model = load(tmp_path / "model.json")  # the plain engine on the saved model
    z = model(X_train[0]).data
    expected = math.log1p(math.exp(-abs(z))) + max(z, 0.0) - y_train[0] * z
    shown = texts.index("− loss") + 1
    assert float(texts[shown].removeprefix("data ")) == pytest.approx(expected, rel=1e-3)
