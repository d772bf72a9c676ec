"""Recording: snapshots of a model while ``fit`` trains it, for replaying training later.

Every k epochs (``every=k``, the default 1): a snapshot taken after epoch e holds copies of
every parameter (``state_dict`` order), every parameter's gradient from the epoch's last
step, the optimizer's ``state_dict()``, the history's numbers for that epoch, and, with
``test=(X, y)``, :func:`nn.evaluate` on the test set (under ``no_grad``; grads are left as
they were). The test numbers of every epoch are also kept in ``test_history``
({"test_loss": [...], ...}, a few floats per epoch).

Every k optimizer steps (``every_n_steps=k``, as Lightning's ``log_every_n_steps`` and
``ModelCheckpoint(every_n_train_steps=k)``): a snapshot of step s (counted from 1 across
epochs) is the model as that step saw it: the parameters and the optimizer state before its
update, the gradients it computed from them and its batch ``loss`` (the engine's number,
l2 penalty included), the ``lr`` it used, and the test numbers of those parameters. So
loading its parameters into a fresh model and running step s's batch gives its loss and its
gradients again. ``step_history`` keeps ``step``, ``epoch`` and ``loss`` of every k-th step
(never thinned). The last step of training is always recorded.

Memory stays bounded: when more than ``max_records`` snapshots are held, every other one is
dropped and ``every`` doubles, so the kept epochs (or steps) stay evenly spaced (k, 2k, 4k,
... apart). Measured with tracemalloc: digits 64-32-10 with Adam, 30 epochs, 30 snapshots:
4.4 MB.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Snapshot:
    """The model after ``epoch`` (1-based), or as optimizer ``step`` saw it (see the module
    docstring); ``step`` is the number of steps taken before the snapshot's parameters'
    update (an epoch snapshot: all of that epoch's)."""

    epoch: int
    params: dict[str, float]
    grads: dict[str, float]
    optimizer: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    step: int = 0


class Recording:
    """Pass as ``fit(..., record=Recording(every=k))``: a snapshot every ``k`` epochs (and
    after the last one), or with ``every_n_steps=k`` every ``k`` optimizer steps (and at the
    last one); at most ``max_records`` kept; ``test=(X_test, y_test)`` adds ``test_loss`` and
    ``test_<metric>`` to each snapshot's metrics."""

    def __init__(self, every: int = 1, max_records: int = 200,
                 test: tuple[Sequence, Sequence] | None = None, *,
                 every_n_steps: int | None = None) -> None:
        for name, v in (("every", every), ("max_records", max_records),
                        ("every_n_steps", 1 if every_n_steps is None else every_n_steps)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"Recording: {name} must be an int ≥ 1, got {v!r}")
        if max_records < 2:
            raise ValueError(f"Recording: max_records must be ≥ 2, got {max_records!r}")
        if every_n_steps is not None and every != 1:
            raise ValueError("Recording: give every (epochs) or every_n_steps, not both")
        if test is not None and (not isinstance(test, (tuple, list)) or len(test) != 2):
            raise ValueError("Recording: test must be a pair (X_test, y_test)")
        self.unit = "epoch" if every_n_steps is None else "step"
        self.every, self.max_records, self.test = every_n_steps or every, max_records, test
        self.snapshots: list[Snapshot] = []
        self.test_history: dict[str, list[float]] = {}
        self.step_history: dict[str, list] = {"step": [], "epoch": [], "loss": []}
        self.steps = 0  # optimizer steps seen
        self._grid = self.every  # step_history's spacing, which thinning leaves alone
        self.loss: Any = None  # fit's loss (a name or a function), for the report's graph

    def __len__(self) -> int:
        return len(self.snapshots)

    def __repr__(self) -> str:
        at = [self.position(s) for s in self.snapshots]
        return f"Recording({len(at)} snapshots, {self.unit}s {at[:3]}…{at[-1:]})"

    def epochs(self) -> list[int]:
        """The recorded epochs, in order."""
        return [s.epoch for s in self.snapshots]

    def save_report(self, path: Any, model: Any = None, X: Sequence | None = None,
                    y: Sequence | None = None, title: str = "Training report",
                    sample: tuple[Any, Any] | None = None, sample_name: str = "X[0]",
                    max_graphs: int = 20) -> Any:
        """Write the HTML report of this recording (see :func:`nn.report.report`)."""
        from .report import report

        return report(self, path, model, X, y, title, sample, sample_name, max_graphs)

    def position(self, snapshot: Snapshot) -> int:
        """Where ``snapshot`` is on the timeline: its step (``every_n_steps``), else its
        epoch."""
        return snapshot.step if self.unit == "step" else snapshot.epoch

    def _test(self, model: Any, loss: Any, metrics: Sequence, decode: Any) -> dict[str, float]:
        from .train import evaluate

        if self.test is None:
            return {}
        result = evaluate(model, self.test[0], self.test[1], loss, metrics, decode)
        return {f"test_{k}": v for k, v in result.items()}

    def before_optimizer_step(self, epoch: int, last: bool, model: Any, optimizer: Any,
                              loss_value: float, loss: Any, metrics: Sequence,
                              decode: Any) -> None:
        """Called by ``fit`` after each step's backward, before its update (``last``: the
        last step of training): with ``every_n_steps``, snapshot every k-th step."""
        self.steps += 1
        self.loss = loss
        if self.unit != "step":
            return
        if self.steps % self._grid == 0 or last:
            for k, v in (("step", self.steps), ("epoch", epoch), ("loss", loss_value)):
                self.step_history[k].append(v)
        if last or self.steps % self.every == 0:
            numbers = {"loss": loss_value, "lr": optimizer.lr,
                       **self._test(model, loss, metrics, decode)}
            self._snapshot(epoch, model, optimizer, numbers)

    def after_epoch(self, epoch: int, last: bool, model: Any, optimizer: Any,
                    history: dict[str, list], loss: Any, metrics: Sequence,
                    decode: Any) -> None:
        """Called by ``fit`` after each epoch: evaluate the test set, and (counting epochs)
        snapshot ``model`` every ``every`` epochs and after the ``last``."""
        self.loss = loss
        for k, v in self._test(model, loss, metrics, decode).items():
            self.test_history.setdefault(k, []).append(v)
        if self.unit != "epoch" or (not last and epoch % self.every):
            return
        numbers = {k: v[-1] for k, v in history.items() if v}
        numbers.update({k: v[-1] for k, v in self.test_history.items()})
        self._snapshot(epoch, model, optimizer, numbers)

    def _snapshot(self, epoch: int, model: Any, optimizer: Any,
                  numbers: dict[str, float]) -> None:
        """Keep a copy of the model now; past ``max_records``, thin to every 2k-th."""
        named = model.named_parameters()
        if self.snapshots and self.position(self.snapshots[-1]) % self.every:
            self.snapshots.pop()  # a final snapshot off the grid, superseded
        self.snapshots.append(Snapshot(
            epoch, {n: p.data for n, p in named}, {n: p.grad for n, p in named},
            copy.deepcopy(optimizer.state_dict()), numbers, self.steps))
        if len(self.snapshots) > self.max_records:
            newest = self.snapshots[-1]
            self.every *= 2
            kept = [s for s in self.snapshots if self.position(s) % self.every == 0]
            self.snapshots = kept if kept[-1:] == [newest] else kept + [newest]
