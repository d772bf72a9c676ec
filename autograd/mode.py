"""Gradient mode: whether ops record the graph. Per thread and per async task (contextvars)."""

from __future__ import annotations

from contextlib import ContextDecorator
from contextvars import ContextVar, Token

_GRAD_ENABLED: ContextVar[bool] = ContextVar("autograd_grad_enabled", default=True)

is_grad_enabled = _GRAD_ENABLED.get  # True unless inside no_grad (a C call: the hot path)


class no_grad(ContextDecorator):
    """Context manager and decorator: ops inside build no graph (results are leaves).

    ``with no_grad(): ...`` or ``@no_grad()`` above a function, as in PyTorch. The setting
    belongs to the current thread (and asyncio task); other threads keep recording.
    """

    def __init__(self) -> None:
        self._tokens: list[Token[bool]] = []

    def __enter__(self) -> no_grad:
        self._tokens.append(_GRAD_ENABLED.set(False))
        return self

    def __exit__(self, *exc: object) -> None:
        _GRAD_ENABLED.reset(self._tokens.pop())

    def _recreate_cm(self) -> no_grad:
        return type(self)()
