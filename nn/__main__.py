"""``python -m nn train``: train an MLP on moons, xor or digits and write plots and files.

Writes to --out: model.json (see nn.save), history.json (one list per number, one entry per
epoch: loss, test_loss, accuracy, test_accuracy, lr), report.html (the training replayed
epoch by epoch, with training sample 0's graph at each epoch; see
nn.Recording.save_report), graph.svg (training sample 0's graph and loss in the layer view,
layers top to bottom, input and loss named; when the graph drawer is available) and
loss.png (train and test loss and accuracy per epoch, when matplotlib is installed).

A bad argument, including an --out that cannot be written or a run too big for the
machine's memory, is one line on stderr and exit code 2, found before anything is made.
Ctrl-C (SIGINT), SIGTERM and SIGHUP stop after the current step (or the final evaluation at
once), write what was trained so far and exit with 128 + the signal's number (130, 143, 129);
a second signal stops at once, but model.json is always written whole. Divergence (NaN or
inf) stops with the last finite model written and exit code 1; a file that cannot be written
in --out goes to a new folder in the system's temporary folder instead (exit code 1), and the
output says where. An output whose reader left (``| head -1``) goes to os.devnull; the run
still writes its files and exits with 141 (128 + SIGPIPE, what a shell reports for
``yes | head -1``) unless another code applies (1 for an output that failed otherwise).
"""

from __future__ import annotations

import argparse
import errno
import functools
import io
import json
import math
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import autograd
from autograd.files import write_atomic

from . import data as datasets
from .interrupts import Interrupts
from .io import save
from .layers import MLP, config_parameters
from .optim import OPTIMIZERS
from .record import Recording
from .sample_graph import draw_sample, sample_loss
from .train import DivergenceError, History, TrainingInterrupted, evaluate, fit

# data set -> (loss, outputs, default hidden widths, activation, epochs, batch size, lr)
DEFAULTS = {
    "moons": ("bce_with_logits", 1, [16, 16], "relu", 25, 16, 0.02),
    "xor": ("bce_with_logits", 1, [4], "tanh", 300, 4, 0.05),
    "digits": ("cross_entropy", 10, [32], "relu", 2, 16, 0.01),
}
# data set -> (inputs per sample, samples; None: --samples)
SIZES = {"moons": (2, None), "xor": (2, 4), "digits": (64, 1797)}
# what a run costs in memory, measured on CPython 3.11 (64-bit): per parameter, its Value,
# grad, optimizer state and share of model.json; per parameter and sample in a batch, the
# batch's recorded graph; per number of the data set (inputs and label)
BYTES_PER_PARAMETER, BYTES_PER_GRAPH_EDGE, BYTES_PER_DATA_NUMBER = 1024, 40, 100
EXIT_OUTPUT_GONE = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))
# activation -> the initialisation that keeps its layers' variance steady
AUTO_INIT = {"relu": "kaiming_uniform", "leaky_relu": "kaiming_uniform",
             "tanh": "xavier_uniform", "sigmoid": "xavier_uniform"}


def _hidden(text: str) -> list[int]:
    try:
        widths = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        widths = [0]
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"needs comma-separated positive integers, got {text!r}")
    return widths


def _checked(cast: Callable[[str], Any], ok: Callable[[Any], bool], need: str):
    """An argparse ``type=``: ``cast(text)`` if that works and passes ``ok``, else a one-line
    usage error saying what is needed."""

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"needs {need}, got {text!r}")
        return value

    return parse


_positive = _checked(int, lambda n: n >= 1, "a positive integer")
_at_least_2 = _checked(int, lambda n: n >= 2, "an integer >= 2")
_batch = _checked(int, lambda n: n >= 0, "an integer >= 0 (0 = full batch)")
_lr = _checked(float, lambda x: 0 < x < math.inf, "a positive finite number")
_noise = _checked(float, lambda x: 0 <= x < math.inf, "a finite number >= 0")
_fraction = _checked(float, lambda x: 0 < x < 1, "a fraction strictly between 0 and 1")


class _Parser(argparse.ArgumentParser):
    """argparse with each error on one line (the usage is one --help away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m nn", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser(
        "train",
        help="train an MLP and write model.json, history.json, report.html, loss.png and "
        "graph.svg to --out",
        description="Train an MLP (hidden layers as --hidden, output: 1 logit for moons and "
        "xor with binary cross-entropy, 10 logits for digits with softmax cross-entropy), "
        "print the final train and test accuracy, and write model.json, history.json, "
        "report.html, loss.png and (when autograd.draw is available) graph.svg of one "
        "sample's graph to --out. "
        "Defaults per data set (hidden, activation, epochs, batch size, lr): moons 16,16 "
        "relu 25 16 0.02; xor 4 tanh 300 4 0.05; digits 32 relu 2 16 0.01 (pixels "
        "standardised).",
        epilog="Signals: Ctrl-C (SIGINT), SIGTERM and SIGHUP stop after the current step (the "
        "final evaluation at once), write the files and exit with 128 + the signal's number "
        "(130, 143, 129); a second signal stops at once, but model.json is always written "
        "whole. A closed output (| head -1) goes to os.devnull; the run finishes and exits "
        "with 141. Memory: a run is refused (exit code 2) when its estimate, about "
        f"{BYTES_PER_PARAMETER} bytes per parameter plus {BYTES_PER_GRAPH_EDGE} bytes per "
        f"parameter for each sample in a batch (--batch-size 0: every training sample), plus "
        f"{BYTES_PER_DATA_NUMBER} bytes per number of data, exceeds the machine's physical "
        "memory (4 GiB where the system does not say).",
    )
    t.add_argument("--data", choices=sorted(DEFAULTS), default="moons",
                   help="data set: moons (two half circles; the default), xor (4 points; "
                   "tested on the same 4), digits (8x8 handwritten digits)")
    t.add_argument("--hidden", type=_hidden, default=None,
                   help="hidden layer widths, comma-separated, e.g. 16,16 (default per data set)")
    t.add_argument("--activation", default=None, choices=sorted(AUTO_INIT),
                   help="hidden activation (default per data set)")
    t.add_argument("--init", default="auto",
                   choices=["auto", "uniform", "xavier_uniform", "xavier_normal",
                            "kaiming_uniform", "kaiming_normal"],
                   help="weight initialisation; auto (the default): Kaiming for "
                   "relu/leaky_relu, Xavier for tanh/sigmoid")
    t.add_argument("--epochs", type=_positive, default=None, help="passes over the training data "
                   "(default per data set)")
    t.add_argument("--batch-size", type=_batch, default=None,
                   help="samples per update; 1 = stochastic, 0 = full batch (default per data set)")
    t.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam",
                   help="optimizer (default adam)")
    t.add_argument("--lr", type=_lr, default=None, help="learning rate (default per data set)")
    t.add_argument("--samples", type=_at_least_2, default=200,
                   help="moons: number of points (default 200)")
    t.add_argument("--noise", type=_noise, default=0.1,
                   help="moons: noise standard deviation (default 0.1)")
    t.add_argument("--test-size", type=_fraction, default=0.25,
                   help="fraction of the data held out for testing, not for xor (default 0.25)")
    t.add_argument("--seed", type=int, default=0,
                   help="seed for data, weights and shuffling (default 0)")
    t.add_argument("--out", type=Path, default=Path("nn-run"),
                   help="output folder (default nn-run)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.set_defaults(usage_error=t.error)  # for the checks made after parsing
    return parser


def load_data(args: argparse.Namespace) -> tuple[list, list, list, list]:
    if args.data == "xor":
        X, y = datasets.xor()
        return X, X, y, y
    if args.data == "moons":
        X, y = datasets.moons(args.samples, args.noise, seed=args.seed)
        return datasets.train_test_split(X, y, args.test_size, seed=args.seed)
    X_train, X_test, y_train, y_test = datasets.train_test_split(
        *datasets.digits(), args.test_size, seed=args.seed)
    X_train, X_test = datasets.standardize(X_train, X_test)
    return X_train, X_test, y_train, y_test


def history_data(history: History, recording: Recording) -> dict[str, list[float]]:
    """history.json's content: loss, test_loss, accuracy, test_accuracy, lr, one entry per
    finished epoch."""
    both = {**history, **recording.test_history}
    return {k: list(both.get(k, [])) for k in ("loss", "test_loss", "accuracy",
                                               "test_accuracy", "lr")}


def plot(numbers: dict[str, list[float]], loss: str, path: Path) -> None:
    """Train and test loss (named ``loss``) and accuracy per epoch, side by side, as a PNG
    (no display needed)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.5), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = range(1, len(numbers["loss"]) + 1)
    for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        ax.plot(epochs, numbers[key], color="tab:blue", label="train")
        if numbers[f"test_{key}"]:
            ax.plot(epochs, numbers[f"test_{key}"], color="tab:orange", label="test")
        ax.legend()
    ax_loss.set(xlabel="epoch", ylabel=f"{loss} loss", title=f"loss ({loss})")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.02))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    write_atomic(path, buf.getvalue())


def draw_graph(model: MLP, x: list, target: int, loss: str, path: Path) -> None:
    """Write training sample 0's graph, loss and gradients in the layer view, top to bottom,
    with the input and the loss named (:func:`nn.sample_graph.draw_sample`; each neuron one
    box when the layer view refuses the graph). Raises OSError if the file cannot be written
    and RuntimeError for any other drawing problem."""
    if getattr(autograd, "draw", None) is None:
        raise RuntimeError("autograd.draw is not available")
    try:
        loss_value = sample_loss(model, x, target, loss)  # every node shows its gradient
        try:
            drawing = draw_sample(loss_value, "training sample 0", loss, target)
        except ValueError:  # e.g. more boxes than max_nodes
            drawing = autograd.draw(loss_value, collapse=True)
        drawing.save(path)
    except OSError:
        raise
    except Exception as err:  # a drawing problem must never spoil a finished training run
        raise RuntimeError(f"{type(err).__name__}: {err}") from None


def _report(recording: Recording, model: MLP, X: list, y: list, sample: tuple,
            path: Path) -> None:
    if not recording.snapshots:
        raise RuntimeError("no epoch finished")
    recording.save_report(path, model, X, y, sample=sample, sample_name="training sample 0")


def write_outputs(model: MLP, history: History, recording: Recording, test: tuple,
                  sample: tuple, loss: str, out: Path,
                  hold: Callable[[], AbstractContextManager] = nullcontext) -> bool:
    """Write model.json, history.json, report.html (with the ``test`` data's boundary or
    confusion matrix and the ``sample``'s graph), graph.svg and loss.png to ``out``, saying
    what was written. A file that cannot be written there goes to one new folder in the
    temporary folder instead; a missing drawer or matplotlib only skips its file. model.json
    is written first, inside ``hold()`` (no interrupt cuts it short). Returns False if a file
    is not in out."""
    fallback = functools.cache(lambda: Path(tempfile.mkdtemp(prefix="nn-run-")))
    numbers = history_data(history, recording)
    writers = {
        "model.json": lambda path: save(model, path),
        "history.json": lambda path: write_atomic(path, json.dumps(numbers).encode()),
        "report.html": lambda path: _report(recording, model, *test, sample, path),
        "graph.svg": lambda path: draw_graph(model, *sample, loss, path),
        "loss.png": lambda path: plot(numbers, loss, path),
    }
    all_in_out = True
    for name, write in writers.items():
        with hold() if name == "model.json" else nullcontext():
            path = out / name
            try:
                try:
                    write(path)
                except OSError as err:
                    all_in_out = False
                    print(f"could not write {path} ({err.strerror or err}); writing it to the "
                          f"fallback folder", file=sys.stderr)
                    path = fallback() / name
                    write(path)
            except ImportError as err:
                print(f"{name} skipped ({err.name or 'a module'} is not installed)")
            except (OSError, RuntimeError) as err:
                all_in_out = all_in_out and not isinstance(err, OSError)
                print(f"{name} skipped ({err})",
                      file=sys.stderr if isinstance(err, OSError) else None)
            else:
                print(f"wrote {path}")
                if name == "report.html":
                    print(f"training report: open {path.resolve().as_uri()} in a browser")
    return all_in_out


def _writable(folder: Path) -> None:
    """Create ``folder`` if needed and prove a file can be made in it (else OSError)."""
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "it is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(dir=folder, prefix=".nn-probe-")
    os.close(fd)
    os.unlink(probe)


def memory_limit() -> int:
    """The machine's physical memory in bytes (SC_PHYS_PAGES × SC_PAGE_SIZE), or 4 GiB where
    the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 4 * 2**30


def memory_needed(args: argparse.Namespace) -> tuple[int, int, int, int]:
    """(bytes, parameters, samples, batch size) of the run ``args`` ask for, estimated from
    the flags alone: parameters × (BYTES_PER_PARAMETER + batch × BYTES_PER_GRAPH_EDGE) +
    samples × (inputs + 1) × BYTES_PER_DATA_NUMBER."""
    _, n_out, hidden, _, _, batch, _ = DEFAULTS[args.data]
    inputs, samples = SIZES[args.data]
    samples = samples or args.samples
    params = config_parameters({"type": "MLP", "nin": inputs,
                                "nouts": [*(args.hidden or hidden), n_out],
                                "activation": "relu", "output_activation": None})
    if args.batch_size is not None:
        batch = args.batch_size
    batch = min(batch or samples, samples)
    needed = (params * (BYTES_PER_PARAMETER + batch * BYTES_PER_GRAPH_EDGE)
              + samples * (inputs + 1) * BYTES_PER_DATA_NUMBER)
    return needed, params, samples, batch


def _bytes(n: float) -> str:
    """``n`` bytes in decimal units: 512 bytes, 1.5 GB."""
    if n < 1000:
        return f"{n:.0f} bytes"
    for unit in ("KB", "MB", "GB"):
        n /= 1000
        if n < 1000:
            return f"{n:.1f} {unit}"
    return f"{n / 1000:,.1f} TB"


class _OutputMayClose:
    """A text stream whose reader may leave (``| head -1``, a closed terminal) or that may
    fail (a full disk). The first write or flush that fails points its file descriptor at
    os.devnull, Python's recipe for a broken pipe, and keeps the error in ``lost``; output
    then goes nowhere and the run goes on."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.lost = stream, None

    def write(self, text: str) -> int:
        if self.lost is None:
            try:
                self.stream.write(text)
            except OSError as err:
                self._lost(err)
        return len(text)

    def flush(self) -> None:
        if self.lost is None:
            try:
                self.stream.flush()
            except OSError as err:
                self._lost(err)

    def _lost(self, err: OSError) -> None:
        self.lost = err
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())  # so the exit's own flush finds a reader
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass  # a stream without a file descriptor: nothing is flushed at exit

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def _outputs_may_close() -> Iterator[tuple[_OutputMayClose, _OutputMayClose]]:
    """sys.stdout and sys.stderr as :class:`_OutputMayClose` while open (flushed at the end)."""
    streams = _OutputMayClose(sys.stdout), _OutputMayClose(sys.stderr)
    sys.stdout, sys.stderr = streams
    try:
        yield streams
    finally:
        for stream in streams:
            stream.flush()
        sys.stdout, sys.stderr = (stream.stream for stream in streams)


def _signal_name(signum: int | None) -> str:
    return signal.Signals(signum or signal.SIGINT).name


def train(args: argparse.Namespace, data: tuple[list, list, list, list],
          interrupts: Interrupts) -> int:
    """Train as ``args`` say on ``data`` (X_train, X_test, y_train, y_test), write the outputs
    and return the exit code: 0, 1 (diverged, or a file not in --out) or 128 + the number of
    the signal that stopped the run. Raises KeyboardInterrupt only before the first finished
    step (nothing to keep)."""
    loss, n_out, hidden, activation, epochs, batch_size, lr = DEFAULTS[args.data]
    hidden = args.hidden if args.hidden is not None else hidden
    activation = args.activation or activation
    init = AUTO_INIT[activation] if args.init == "auto" else args.init
    epochs = args.epochs if args.epochs is not None else epochs
    if args.batch_size is not None:
        batch_size = args.batch_size or None
    lr = args.lr if args.lr is not None else lr
    X_train, X_test, y_train, y_test = data
    with interrupts.at_once():  # nothing to keep yet
        model = MLP(len(X_train[0]), [*hidden, n_out], activation=activation, init=init,
                    rng=args.seed)
    print(f"{args.data}: {len(X_train)} training and {len(X_test)} test samples; "
          f"{model.num_parameters()} parameters")
    print(model)
    print("training (Ctrl-C stops after the current step and keeps the model)")
    code, stopped = 0, None
    recording = Recording(test=(X_test, y_test))
    try:
        history = fit(model, X_train, y_train, loss=loss, optimizer=args.optimizer, lr=lr,
                      epochs=epochs, batch_size=batch_size, progress=not args.no_progress,
                      seed=args.seed, record=recording)
    except TrainingInterrupted as stop:
        history, stopped = stop.history, f"{stop}"
    except DivergenceError as err:
        print(err, file=sys.stderr)
        history, code = err.history, 1
    else:
        accuracies = None
        try:
            if interrupts.received is None:
                with interrupts.at_once():
                    accuracies = [evaluate(model, X, y, loss=loss)["accuracy"]
                                  for X, y in ((X_train, y_train), (X_test, y_test))]
        except KeyboardInterrupt:
            pass
        if accuracies is None:
            stopped = "training finished; final accuracies skipped"
        else:
            print("final train accuracy {:.1%}, test accuracy {:.1%}".format(*accuracies))
    if stopped:
        print(f"{stopped} ({_signal_name(interrupts.received)}); writing the model trained "
              f"so far", file=sys.stderr)
    try:
        if not write_outputs(model, history, recording, (X_test, y_test),
                             (X_train[0], y_train[0]), loss, args.out, interrupts.hold):
            code = code or 1
    except KeyboardInterrupt:
        print(f"interrupted again ({_signal_name(interrupts.received)}); stopped writing the "
              f"files", file=sys.stderr)
    if interrupts.received is not None and not stopped:
        print(f"interrupted ({_signal_name(interrupts.received)}) while writing the files; "
              f"finished them", file=sys.stderr)
    if interrupts.received is not None or stopped:
        code = 128 + (interrupts.received or signal.SIGINT)
    return code


def _prepare(args: argparse.Namespace) -> tuple[list, list, list, list]:
    """Check that the run fits in memory, load the data and check --out; a problem is a
    usage error (exit 2) before anything is allocated or made."""
    needed, params, samples, batch = memory_needed(args)
    limit = memory_limit()
    if needed > limit:
        args.usage_error(f"--hidden/--samples/--batch-size: the run needs about "
                         f"{_bytes(needed)} of memory ({params:,} parameters, {samples:,} "
                         f"samples, {batch:,} per batch), more than the {_bytes(limit)} this "
                         f"machine has")
    try:
        data = load_data(args)
    except ValueError as err:
        args.usage_error(f"--samples/--test-size: {err}")
    try:
        _writable(args.out)
    except OSError as err:
        args.usage_error(f"argument --out: cannot write to {str(args.out)!r}: "
                         f"{err.strerror or err}")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with _outputs_may_close() as streams:
        with Interrupts(STOP_SIGNALS) as interrupts:
            try:
                with interrupts.at_once():  # nothing to keep yet
                    data = _prepare(args)
                code = train(args, data, interrupts)
            except KeyboardInterrupt:
                print(f"interrupted ({_signal_name(interrupts.received)}) before the first "
                      f"step finished; nothing written", file=sys.stderr)
                code = 128 + (interrupts.received or signal.SIGINT)
    lost = [s.lost.errno for s in streams if s.lost is not None]
    if code or not lost:
        return code
    return EXIT_OUTPUT_GONE if set(lost) <= {errno.EPIPE, errno.EIO} else 1


if __name__ == "__main__":
    sys.exit(main())
