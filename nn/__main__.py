"""``python -m nn train``: train an MLP on moons, xor or digits and write plots and files.

Writes to --out: loss.png (loss and accuracy per epoch), model.json (see nn.save) and, when
the graph drawer is available, graph.svg (one training sample's forward graph and loss).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path

import autograd
from autograd.files import write_atomic

from . import data as datasets
from .io import save
from .layers import MLP
from .optim import OPTIMIZERS
from .train import LOSSES, History, evaluate, fit

# data set -> (loss, outputs, default hidden widths, activation, epochs, batch size, lr)
DEFAULTS = {
    "moons": ("bce_with_logits", 1, [16, 16], "relu", 25, 16, 0.02),
    "xor": ("bce_with_logits", 1, [4], "tanh", 300, 4, 0.05),
    "digits": ("cross_entropy", 10, [32], "relu", 2, 16, 0.01),
}
# activation -> the initialisation that keeps its layers' variance steady
AUTO_INIT = {"relu": "kaiming_uniform", "leaky_relu": "kaiming_uniform",
             "tanh": "xavier_uniform", "sigmoid": "xavier_uniform"}


def _hidden(text: str) -> list[int]:
    try:
        widths = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        msg = f"--hidden needs comma-separated ints, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"--hidden widths must be positive, got {text!r}")
    return widths


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"needs a positive integer, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nn", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser(
        "train",
        help="train an MLP and write loss.png, model.json and graph.svg to --out",
        description="Train an MLP (hidden layers as --hidden, output: 1 logit for moons and "
        "xor with binary cross-entropy, 10 logits for digits with softmax cross-entropy), "
        "print the final train and test accuracy, and write loss.png, model.json and (when "
        "autograd.draw is available) graph.svg of one sample's graph to --out. "
        "Defaults per data set (hidden, activation, epochs, batch size, lr): moons 16,16 "
        "relu 25 16 0.02; xor 4 tanh 300 4 0.05; digits 32 relu 2 16 0.01 (pixels "
        "standardised).",
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
    t.add_argument("--batch-size", type=int, default=None,
                   help="samples per update; 1 = stochastic, 0 = full batch (default per data set)")
    t.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam",
                   help="optimizer (default adam)")
    t.add_argument("--lr", type=float, default=None, help="learning rate (default per data set)")
    t.add_argument("--samples", type=_positive, default=200,
                   help="moons: number of points (default 200)")
    t.add_argument("--noise", type=float, default=0.1,
                   help="moons: noise standard deviation (default 0.1)")
    t.add_argument("--test-size", type=float, default=0.25,
                   help="fraction of the data held out for testing, not for xor (default 0.25)")
    t.add_argument("--seed", type=int, default=0,
                   help="seed for data, weights and shuffling (default 0)")
    t.add_argument("--out", type=Path, default=Path("nn-run"),
                   help="output folder (default nn-run)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
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


def plot(history: History, path: Path) -> None:
    """Loss and accuracy per epoch, side by side, as a PNG (no display needed)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.5), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = range(1, len(history["loss"]) + 1)
    ax_loss.plot(epochs, history["loss"], color="tab:blue")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="training loss")
    ax_acc.plot(epochs, history["accuracy"], color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="training accuracy", ylim=(0, 1.02))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    write_atomic(path, buf.getvalue())


def draw_graph(model: MLP, x: list, target: int, loss: str, path: Path) -> str:
    """Write one sample's forward graph, loss and gradients with autograd.draw (neurons
    collapsed to one box each); a drawing problem is reported, never raised."""
    draw = getattr(autograd, "draw", None)
    if draw is None:
        return "graph.svg skipped (autograd.draw is not available)"
    try:
        out = model(x)
        loss_value = LOSSES[loss][0](out, target)
        model.zero_grad()
        loss_value.backward()  # so the drawing shows every gradient
        draw(loss_value, collapse=True).save(path)
    except Exception as err:  # a drawing problem must never spoil a finished training run
        return f"graph.svg skipped ({type(err).__name__}: {err})"
    return f"wrote {path}"


def train(args: argparse.Namespace) -> None:
    loss, n_out, hidden, activation, epochs, batch_size, lr = DEFAULTS[args.data]
    hidden = args.hidden if args.hidden is not None else hidden
    activation = args.activation or activation
    init = AUTO_INIT[activation] if args.init == "auto" else args.init
    epochs = args.epochs if args.epochs is not None else epochs
    if args.batch_size is not None:
        batch_size = args.batch_size or None
    lr = args.lr if args.lr is not None else lr
    args.out.mkdir(parents=True, exist_ok=True)  # fail before training, not after
    X_train, X_test, y_train, y_test = load_data(args)
    model = MLP(len(X_train[0]), [*hidden, n_out], activation=activation, init=init,
                rng=args.seed)
    print(f"{args.data}: {len(X_train)} training and {len(X_test)} test samples; "
          f"{model.num_parameters()} parameters")
    print(model)
    history = fit(model, X_train, y_train, loss=loss, optimizer=args.optimizer, lr=lr,
                  epochs=epochs, batch_size=batch_size, progress=not args.no_progress,
                  seed=args.seed)
    train_acc = evaluate(model, X_train, y_train, loss=loss)["accuracy"]
    test_acc = evaluate(model, X_test, y_test, loss=loss)["accuracy"]
    print(f"final train accuracy {train_acc:.1%}, test accuracy {test_acc:.1%}")
    plot(history, args.out / "loss.png")
    print(f"wrote {args.out / 'loss.png'}")
    save(model, args.out / "model.json")
    print(f"wrote {args.out / 'model.json'}")
    print(draw_graph(model, X_train[0], y_train[0], loss, args.out / "graph.svg"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
