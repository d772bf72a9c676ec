"""The lab's Python side, run by Pyodide in the page: the same ``autograd`` and ``nn`` as on
CPython, with Graphviz's layout done by the page (``@viz-js/viz``) instead of ``dot``."""

from __future__ import annotations

import ast
import contextlib
import io
import random

import nn
from autograd import Value, step_through
from autograd.drawing import use_renderer


def use_viz(render_svg) -> None:
    """Draw through the page's Graphviz: ``render_svg(dot_source) -> svg text``."""
    use_renderer(lambda source, fmt: render_svg(source).encode())


def last_value(code: str) -> tuple[Value, str, str]:
    """Run ``code``; return the Value it assigned last, the name it has, and what it printed."""
    tree = ast.parse(code, "<lab>")
    names: dict = {"__name__": "__lab__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(tree, "<lab>", "exec"), names)  # the learner's own code, in their page
    for statement in reversed(tree.body):
        targets = (statement.targets if isinstance(statement, ast.Assign)
                   else [statement.target] if isinstance(statement, (ast.AugAssign,
                                                                      ast.AnnAssign))
                   else [])
        for target in reversed(targets):
            for node in ast.walk(target):
                if isinstance(node, ast.Name) and isinstance(names.get(node.id), Value):
                    return names[node.id], node.id, printed.getvalue()
    raise ValueError("the code assigns no Value: end with, e.g., `c = a * b`")


def run(code: str) -> list[str]:
    """[the stepper page for the code's last Value (the page ``save("steps.html")``
    writes), what the code printed]."""
    root, name, printed = last_value(code)
    if not root.label:
        root.label = name
    return [step_through(root).html(), printed]


class Training:
    """A small MLP on two moons, trained one epoch per call, as in micrograd's demo."""

    def __init__(self, seed: int = 1) -> None:
        self.X, labels = nn.moons(100, noise=0.1, seed=seed)
        self.y = [2 * t - 1 for t in labels]  # hinge loss wants ±1
        self.model = nn.MLP(2, [16, 16, 1], rng=seed)
        self.optimizer = nn.SGD(self.model.parameters(), lr=0.1)
        self.order = random.Random(seed)  # the batches' shuffling: the same numbers anywhere
        self.epoch = 0

    def step(self) -> list[float]:
        """One full-batch epoch of hinge loss + 1e-4 Σw²: [epoch, loss, accuracy]."""
        history = nn.fit(self.model, self.X, self.y, loss="hinge", optimizer=self.optimizer,
                         epochs=1, progress=False, l2=1e-4, seed=self.order)
        self.epoch += 1
        return [self.epoch, history["loss"][-1], history["accuracy"][-1]]

    def boundary(self, n: int = 30) -> list[float]:
        """The model's score on an n × n grid over [−2, 3] × [−1.5, 2], row by row."""
        xs = [-2.0 + 5.0 * i / (n - 1) for i in range(n)]
        ys = [2.0 - 3.5 * j / (n - 1) for j in range(n)]
        return [s for y in ys for s in nn.predict(self.model, [[x, y] for x in xs])]

    def points(self) -> list[list[float]]:
        return [[x[0], x[1], t] for x, t in zip(self.X, self.y)]
