"""Finite-difference checks of the engine's gradients."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .mode import no_grad
from .value import Value, to_float


class GradcheckError(AssertionError):
    """Analytic and numeric derivatives disagree; the message names the inputs."""


@dataclass(frozen=True)
class GradcheckRow:
    """One input: ∂f/∂input from backward (analytic) and from central differences (numeric)."""

    name: str
    value: float
    analytic: float
    numeric: float
    ok: bool

    @property
    def error(self) -> float:
        return abs(self.analytic - self.numeric)


@dataclass(frozen=True)
class GradcheckReport:
    """Per-input comparison; truthy when every input passes."""

    rows: tuple[GradcheckRow, ...]

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [f"{'input':<12} {'value':>12} {'analytic':>14} {'numeric':>14} {'|diff|':>10}"]
        for r in self.rows:
            mark = "" if r.ok else "  <-- mismatch"
            lines.append(
                f"{r.name:<12} {r.value:>12.6g} {r.analytic:>14.8g} {r.numeric:>14.8g} "
                f"{r.error:>10.2e}{mark}"
            )
        return "\n".join(lines)


def central_difference(f: Callable[..., float], xs: Sequence[float], i: int, eps: float) -> float:
    """(f(x + eps·eᵢ) − f(x − eps·eᵢ)) / (2·eps) for a function of floats."""
    up = list(xs)
    down = list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(*up) - f(*down)) / (2.0 * eps)


def _scalar(y: object) -> float:
    return y.data if isinstance(y, Value) else to_float(y, "gradcheck's function result")


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Value | float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> GradcheckReport:
    """Compare ``backward`` with central differences for each input of ``f``.

    ``f`` takes one Value per input and returns a Value. The analytic derivative comes from
    ``f(*leaves).backward()`` on fresh leaves (the caller's Values are not touched); the
    numeric one is (f(x+eps) − f(x−eps)) / 2eps. An input passes when
    |analytic − numeric| ≤ atol + rtol·|numeric| (PyTorch's rule). On a mismatch,
    ``GradcheckError`` names the inputs (by label, else ``inputs[i]``) unless
    ``raise_exception=False``; the report is returned either way.
    """
    values = [x.data if isinstance(x, Value) else to_float(x, "a gradcheck input") for x in inputs]
    names = [
        (x.label if isinstance(x, Value) and x.label else f"inputs[{i}]")
        for i, x in enumerate(inputs)
    ]
    leaves = [Value(v, label=name) for v, name in zip(values, names)]
    out = f(*leaves)
    if isinstance(out, Value):
        out.backward()

    def f_float(*xs: float) -> float:
        with no_grad():
            return _scalar(f(*(Value(x) for x in xs)))

    rows = []
    for i, (leaf, name) in enumerate(zip(leaves, names)):
        numeric = central_difference(f_float, values, i, eps)
        ok = abs(leaf.grad - numeric) <= atol + rtol * abs(numeric)
        rows.append(GradcheckRow(name, values[i], leaf.grad, numeric, ok))
    report = GradcheckReport(tuple(rows))
    if raise_exception and not report.ok:
        bad = ", ".join(r.name for r in rows if not r.ok)
        raise GradcheckError(f"gradient mismatch for {bad}:\n{report}")
    return report
