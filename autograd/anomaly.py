"""``detect_anomaly()``: stop at the first NaN or ±inf and say where it came from.

Inside the block, every op that produces a non-finite value raises :class:`AnomalyError`
naming the op, its operands (values and labels) and the line of the caller's code that made
the node; ``backward`` raises at the first non-finite gradient, naming the node, the edge it
came along and the line that created the node.

Cost: none outside the block. Entering asks :func:`autograd.value.record_nodes` to build
every node through a checking hook (value.py makes its methods and operators again, from the
table, with the hook in) and :func:`autograd.backward.use_checked_backward` to run a checked
``backward``; leaving puts the plain methods and the fast loop back, so the hot paths are the
very same functions as before.
``tests/benchmarks/bench_anomaly.py`` measures it.

Provenance lives in the node: a node made inside the block is a :class:`Value` subclass with
one more slot, the line that made it, so it is freed with its graph (the block keeps no
node alive, however many training steps run inside it).

Threads: the swap is process-wide. While any thread is inside a ``detect_anomaly`` block,
ops in every thread are checked (and recorded for provenance); the originals return when the
last open block, in whichever thread, exits. Blocks nest.
"""

from __future__ import annotations

import linecache
import math
import os
import sys
import threading
from contextlib import ContextDecorator
from types import FrameType

from . import ops
from .backward import use_checked_backward
from .trace import backward_steps
from .value import NARY, Value, record_nodes

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep

_lock = threading.Lock()
_depth = 0
_inside: dict[str, bool] = {}  # code file name -> inside the autograd package?
_site_of: dict[tuple[str, int, str], tuple[str, int, str]] = {}  # one tuple per source line
_new = object.__new__


class _Traced(Value):
    """A node made inside ``detect_anomaly``: a Value that also holds the (file, line,
    function) that made it."""

    __slots__ = ("_site",)
    _site: tuple[str, int, str]


class AnomalyError(FloatingPointError):
    """A NaN or ±inf appeared; the message says which op or edge, and where."""


def is_active() -> bool:
    """True while some ``detect_anomaly`` block is open (in any thread)."""
    return _depth > 0


def _caller() -> tuple[str, int, str]:
    """(file, line, function) of the innermost frame outside the autograd package."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        inside = _inside.get(name)
        if inside is None:
            inside = _inside[name] = os.path.abspath(name).startswith(_PACKAGE)
        if not inside:
            return name, frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back
    return "<unknown>", 0, "<unknown>"


def _made_at(node: object) -> str:
    site = getattr(node, "_site", None)
    if site is None:
        return "  (made outside detect_anomaly: no source line recorded)"
    file, line, func = site
    source = linecache.getline(file, line).strip()
    return f"  created at {file}:{line} in {func}" + (f"\n    {source}" if source else "")


def _operand(name: str, x: object) -> str:
    data = x.data if isinstance(x, Value) else x
    label = getattr(x, "label", None)
    return f"{name} = {data!r}" + (f" (label {label!r})" if label else "")


def _traced(out: Value) -> _Traced:
    """``out`` as a :class:`_Traced` node with the same fields and the caller's line."""
    node = _new(_Traced)
    node.data, node.grad, node.op, node.label = out.data, out.grad, out.op, out.label
    a = node._a = out._a
    b = node._b = out._b
    if a is not None and b is not NARY:
        node._da = out._da
    if b is not None and b is not NARY:
        node._db = out._db
    site = _caller()
    node._site = _site_of.setdefault(site, site)
    return node


def _record(out: Value, op: ops.Op, operands: tuple) -> Value:
    out = _traced(out)
    if not math.isfinite(out.data):
        names = op.operands if len(op.operands) == len(operands) else [
            f"x{i}" for i in range(len(operands))
        ]
        parts = ", ".join(_operand(n, x) for n, x in zip(names, operands, strict=True))
        raise AnomalyError(
            f"detect_anomaly: {op.name} ({op.symbol}) produced {out.data!r} from {parts}\n"
            + _made_at(out)
        )
    return out


def _checked_backward(root: Value, grad: float) -> None:
    """backward through the step records, stopping at the first non-finite gradient."""
    if not math.isfinite(grad):
        raise AnomalyError(f"detect_anomaly: backward was seeded with grad = {grad!r}")
    for step in backward_steps(root, grad):
        n = step.node.name
        for e in step.edges:
            if math.isfinite(e.after):
                continue
            p = e.parent.name
            already = "" if math.isfinite(e.before) else (
                f" (its grad was already {e.before!r} before this pass)")
            raise AnomalyError(
                f"detect_anomaly: backward made {p}.grad = {e.after!r}{already}\n"
                f"  along the edge {n} ({step.node.op_name}) → {p}: ∂L/∂{n} × ∂{n}/∂{p} = "
                f"{step.grad!r} × {e.local!r} = {e.added!r}; {p}.grad {e.before!r} → "
                f"{e.after!r}\n" + _made_at(step.node.value)
            )


def _install(on: bool) -> None:
    record_nodes(_record if on else None)
    use_checked_backward(_checked_backward if on else None)


class detect_anomaly(ContextDecorator):
    """Context manager and decorator: raise :class:`AnomalyError` at the first NaN or ±inf.

    Forward: the first op whose result is not finite raises with the op, its operands and
    labels, and the caller's source line. Backward: the first non-finite gradient raises
    with the node, the edge it came along (∂L/∂node × local = product) and the line that
    created the node. Off by default and free when off (see the module docstring for how,
    and for threads).
    """

    def __enter__(self) -> detect_anomaly:
        global _depth
        with _lock:
            if _depth == 0:
                _install(True)
            _depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0:
                _install(False)
