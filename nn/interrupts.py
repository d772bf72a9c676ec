"""Stop signals (Ctrl-C's SIGINT; SIGTERM and SIGHUP for the command line) turned into a
request that a loop honours between steps, so a stopped run stays consistent.

While an :class:`Interrupts` is open in the main thread it handles each of its signals that
still has the default disposition (a program's own handler, or SIG_IGN as under ``nohup``,
is left alone):

- the first signal is only recorded (``received``); the loop looks between steps;
- a further one raises KeyboardInterrupt at once; inside :meth:`at_once` the first does too;
- inside :meth:`hold` (an update or a file write that must not be cut in half) a signal that
  would raise waits, and the KeyboardInterrupt comes when the hold ends;
- once it has raised (or :meth:`stop` says the program is stopping), later signals wait in
  the same way until the next hold ends, so the code that keeps the run gets to run.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class Interrupts:
    """Handle ``signals`` as described in the module docstring; ``received`` is the number of
    the first one that arrived (None until then)."""

    def __init__(self, signals: Iterable[int] = (signal.SIGINT,)) -> None:
        self.signals = tuple(signals)
        self.received: int | None = None
        self._count = self._holding = 0
        self._eager = self._stopping = self._due = False
        self._old: dict[int, object] = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in self.signals:
                if signal.getsignal(signum) in (signal.default_int_handler, signal.SIG_DFL):
                    self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)
        self._old.clear()

    def _handle(self, signum: int, frame: object) -> None:
        self._count += 1
        if self.received is None:
            self.received = signum
        if not (self._count > 1 or self._eager or self._stopping):
            return
        if self._holding or self._stopping:
            self._due = True
        else:
            self._raise()

    def _raise(self) -> None:
        self._stopping, self._due = True, False
        raise KeyboardInterrupt

    def stop(self) -> None:
        """The program is stopping (say, about to raise its own KeyboardInterrupt): signals
        wait until the next hold ends."""
        self._stopping = True

    def hold(self) -> _Hold:
        """No KeyboardInterrupt inside; one that a signal made due is raised at the end."""
        return _Hold(self)

    @contextmanager
    def at_once(self) -> Iterator[None]:
        """Inside, the first signal raises KeyboardInterrupt too (work cheap to abandon)."""
        eager, self._eager = self._eager, True
        try:
            yield
        finally:
            self._eager = eager


class _Hold:
    """The context manager :meth:`Interrupts.hold` returns (a class: it runs every step)."""

    __slots__ = ("interrupts",)

    def __init__(self, interrupts: Interrupts) -> None:
        self.interrupts = interrupts

    def __enter__(self) -> None:
        self.interrupts._holding += 1

    def __exit__(self, exc_type: object, *exc: object) -> None:
        interrupts = self.interrupts
        interrupts._holding -= 1
        if exc_type is None and not interrupts._holding:
            if interrupts._due:
                interrupts._raise()
            interrupts._stopping = False


@contextmanager
def deferred() -> Iterator[Interrupts]:
    """The Interrupts a caller already has open for SIGINT (the command line's), else a new
    one over SIGINT alone for the duration."""
    outer = getattr(signal.getsignal(signal.SIGINT), "__self__", None)
    if isinstance(outer, Interrupts):
        yield outer
    else:
        with Interrupts() as interrupts:
            yield interrupts
