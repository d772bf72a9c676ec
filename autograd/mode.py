"""Gradient mode: whether ops record the graph. Per thread and per async task (contextvars)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

_GRAD_ENABLED: ContextVar[bool] = ContextVar("autograd_grad_enabled", default=True)
_SAVED: ContextVar[tuple[bool, ...]] = ContextVar("autograd_grad_saved", default=())

is_grad_enabled = _GRAD_ENABLED.get  # True unless inside no_grad (a C call: the hot path)


class no_grad:
    """Context manager and decorator: ops inside build no graph (results are leaves).

    ``with no_grad(): ...`` or ``@no_grad()`` above a function, as in PyTorch. The setting
    belongs to the current thread (and asyncio task); other threads keep recording. One
    object may be entered again while active (nested ``with``); leaving restores the mode
    that held when that ``with`` began. A decorated generator runs with recording off and
    gives the caller its own mode back at every ``yield``.
    """

    def __enter__(self) -> no_grad:
        _SAVED.set((*_SAVED.get(), _GRAD_ENABLED.get()))
        _GRAD_ENABLED.set(False)
        return self

    def __exit__(self, *exc: object) -> None:
        saved = _SAVED.get()
        _GRAD_ENABLED.set(saved[-1])
        _SAVED.set(saved[:-1])

    def __call__(self, func: Callable) -> Callable:
        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def generator(*args: Any, **kwargs: Any) -> Any:
                return (yield from _quiet_steps(self, func(*args, **kwargs)))

            return generator

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper


def _quiet_steps(mode: no_grad, gen: Any) -> Any:
    """Drive ``gen`` one step at a time inside ``mode``; the caller's mode holds between steps."""
    send, thrown = None, None
    while True:
        try:
            with mode:
                step = gen.send(send) if thrown is None else gen.throw(thrown)
        except StopIteration as stop:
            return stop.value
        send = thrown = None
        try:
            send = yield step
        except GeneratorExit:
            with mode:
                gen.close()
            raise
        except BaseException as err:  # thrown into us: pass it on to the wrapped generator
            thrown = err
