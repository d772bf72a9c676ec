"""Finite-difference checks of the engine's gradients."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from .backward import topological_order
from .functional import grad
from .mode import no_grad
from .ops import Op
from .value import Value, to_float


class GradcheckError(AssertionError):
    """Analytic and numeric derivatives disagree; the message names the inputs."""


def _close(analytic: float, numeric: float, atol: float, rtol: float,
           scale: float | None = None) -> bool:
    """PyTorch's pass rule: |analytic − numeric| ≤ atol + rtol·|numeric|; with ``scale``,
    atol + rtol·scale (the size of the terms ``numeric`` sums, when they cancel). Equal
    numbers agree, infinite ones included."""
    return analytic == numeric or abs(analytic - numeric) <= atol + rtol * (
        abs(numeric) if scale is None else scale)


@dataclass(frozen=True)
class CheckRow:
    """One derivative: from backward (analytic) and from central differences (numeric).

    ``node`` is the graph node checked (per-node checks), else None.
    """

    name: str
    value: float
    analytic: float
    numeric: float
    ok: bool
    node: Value | None = None

    @property
    def error(self) -> float:
        return abs(self.analytic - self.numeric)


@dataclass(frozen=True)
class _Report:
    rows: tuple[CheckRow, ...]

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    def _mark(self, row: CheckRow) -> str:
        return "" if row.ok else "  <-- mismatch"

    def __str__(self) -> str:
        lines = [f"{'':<12} {'value':>12} {'analytic':>14} {'numeric':>14} {'|diff|':>10}"]
        for r in self.rows:
            lines.append(
                f"{r.name:<12} {r.value:>12.6g} {r.analytic:>14.8g} {r.numeric:>14.8g} "
                f"{r.error:>10.2e}{self._mark(r)}"
            )
        return "\n".join(lines)


class GradcheckReport(_Report):
    """Per-input comparison; truthy when every input passes."""


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
    order: int = 1,
) -> GradcheckReport:
    """Compare ``backward`` with central differences for each input of ``f``.

    ``f`` takes one Value per input and returns a Value. The analytic derivative comes from
    ``autograd.grad(f(*leaves), leaves)`` on fresh leaves (no ``.grad`` anywhere, not even
    of Values ``f`` closes over, is written); the
    numeric one is (f(x+eps) − f(x−eps)) / 2eps. An input passes when
    |analytic − numeric| ≤ atol + rtol·|numeric| (PyTorch's rule). On a mismatch,
    ``GradcheckError`` names the inputs (by label, else ``inputs[i]``) unless
    ``raise_exception=False``; the report is returned either way.

    ``order=2`` checks second derivatives instead: one row per pair of inputs (named
    ``"(a, b)"``) compares ∂²f/∂a∂b from a differentiable backward (``grad(...,
    create_graph=True)`` twice) with central differences of the first-order gradient ∂f/∂a
    in b (2n² gradient evaluations for n inputs).
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    values = [x.data if isinstance(x, Value) else to_float(x, "a gradcheck input") for x in inputs]
    names = [
        (x.label if isinstance(x, Value) and x.label else f"inputs[{i}]")
        for i, x in enumerate(inputs)
    ]
    leaves = [Value(v, label=name) for v, name in zip(values, names)]
    out = f(*leaves)  # gradients come from grad(): no .grad anywhere is written
    rows = []
    if order == 2:
        out = out if isinstance(out, Value) else Value(_scalar(out))
        first = grad(out, leaves, create_graph=True, materialize_grads=True)

        def partial(i: int) -> Callable[..., float]:
            def df(*xs: float) -> float:
                xv = [Value(x) for x in xs]
                y = f(*xv)
                return grad(y, xv, materialize_grads=True)[i] if isinstance(y, Value) else 0.0

            return df

        for i, name in enumerate(names):
            row = grad(first[i], leaves, materialize_grads=True)
            for j, other in enumerate(names):
                numeric = central_difference(partial(i), values, j, eps)
                ok = _close(row[j], numeric, atol, rtol)
                rows.append(CheckRow(f"({name}, {other})", values[j], row[j], numeric, ok))
    else:
        analytic = (grad(out, leaves, materialize_grads=True) if isinstance(out, Value)
                    else [0.0] * len(leaves))

        def f_float(*xs: float) -> float:
            with no_grad():
                return _scalar(f(*(Value(x) for x in xs)))

        for i, name in enumerate(names):
            numeric = central_difference(f_float, values, i, eps)
            ok = _close(analytic[i], numeric, atol, rtol)
            rows.append(CheckRow(name, values[i], analytic[i], numeric, ok))
    report = GradcheckReport(tuple(rows))
    if raise_exception and not report.ok:
        bad = ", ".join(r.name for r in rows if not r.ok)
        what = "gradient" if order == 1 else "second-derivative"
        raise GradcheckError(f"{what} mismatch for {bad}:\n{report}")
    return report


# ---------------------------------------------------------------------------- per-node check
@dataclass(frozen=True)
class NodeCheckReport(_Report):
    """``rows``: every node but the root, root side first (backward's order, then leaves).

    ``mismatches``: the culprits first, then every node whose gradient disagrees.
    ``culprits``: op nodes with an edge into a mismatching node whose recorded local
    derivative disagrees with finite differences of the op's forward. ``kinks``: op nodes with
    an operand at (or within eps of) one of the op's kinks (relu, abs, leaky_relu at 0),
    where the op is not differentiable and its recorded derivative is a convention that
    finite differences cannot check; they are reported, not blamed. ``domain_edges``: op
    nodes with an operand so near the edge of the op's domain (log at 5e-324, sqrt at 0)
    that no finite-difference step fits inside it, also reported, not blamed.
    ``wrong_values``: op
    nodes whose ``data`` is not their op's forward of their parents' ``data`` (a wrong
    forward, a wrongly built node, a value changed after the fact), with what the forward
    gives, in forward order (a wrong value makes its consumers' values wrong too: the
    first one is where it starts). Truthy when all agree and no value is wrong.
    """

    mismatches: tuple[Value, ...] = ()
    culprits: tuple[Value, ...] = ()
    kinks: tuple[Value, ...] = ()
    wrong_values: tuple[tuple[Value, float], ...] = ()
    domain_edges: tuple[Value, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.wrong_values and super().ok

    def _mark(self, row: CheckRow) -> str:
        if any(row.node is node for node, _ in self.wrong_values):
            return "  <-- wrong value"
        if row.node in self.culprits:
            return "  <-- culprit"
        if row.node in self.kinks:
            return "  <-- not differentiable here"
        if row.node in self.domain_edges:
            return "  <-- no finite-difference step fits"
        return super()._mark(row)

    def __str__(self) -> str:
        bad = sum(not r.ok for r in self.rows)
        names = {r.node: r.name for r in self.rows}
        head = f"check_nodes: {bad} of {len(self.rows)} nodes disagree"
        if self.wrong_values:
            head += "; data is not the op's forward of the parents' data in " + ", ".join(
                f"{names.get(node, 'the root')} ({_op(node).name}: {node.data!r}, forward "
                f"gives {value!r})" for node, value in self.wrong_values
            )
        if self.culprits:
            head += "; wrong local derivative in " + ", ".join(
                f"{names.get(c, 'the root')} ({_op(c).name})" for c in self.culprits
            )
        if self.kinks:
            head += "; not differentiable here (a kink of the op): " + ", ".join(
                f"{names.get(c, 'the root')} ({_op(c).name} at "
                f"{', '.join(repr(p.data) for p in c.parents)})" for c in self.kinks
            )
        if self.domain_edges:
            head += "; no finite-difference step fits inside the domain here: " + ", ".join(
                f"{names.get(c, 'the root')} ({_op(c).name} at "
                f"{', '.join(repr(p.data) for p in c.parents)})" for c in self.domain_edges
            )
        return head + "\n" + super().__str__()


def _op(node: Value) -> Op:
    """The op that computed ``node`` (the checks read op nodes only; a leaf has none)."""
    return cast(Op, node.op)


def _at_kink(op: Op, x: float, eps: float) -> bool:
    return any(abs(x - k) <= eps for k in op.kinks)


def _recomputed(node: Value, values: list[float]) -> float:
    """node's op's forward of its parents' values (nan where it refuses them)."""
    try:
        return float(_op(node).evaluate(node, tuple(values)))
    except (ArithmeticError, ValueError):
        return math.nan


ROOM = 100
"""A central step h is used where the op's domain holds over [x − ROOM·h, x + ROOM·h]: the
domain's edge, where log and 1/x blow up, is then at least ROOM steps away, and the difference
is good to about 1/ROOM² relative (log at x: (h/x)²/3)."""


def _fits(op, values: list[float], j: int, lo: float, hi: float) -> bool:
    """Do op's domain conditions hold with operand j at ``lo``, at ``hi`` and, when it lies
    between them, at 0 (where every built-in domain has its edge; a condition such as
    b ≠ 0 fails at that one point)?"""
    for t in (lo, hi, 0.0) if lo < 0.0 < hi else (lo, hi):
        moved = list(values)
        moved[j] = t
        try:
            if not all(req.holds(*moved) for req in op.requires):
                return False
        except (ArithmeticError, ValueError, TypeError):
            return False
    return True


def _step(op, values: list[float], j: int, eps: float) -> float | None:
    """The central-difference step for operand j: ``eps``, but at least 10⁹ ulps of the
    operand (about 2e-7·|x|, so x ± h is h to 1e-9 relative, never rounded back to x),
    halved while the op's domain does not hold ROOM steps either side; None once it would go
    below that. The number of halvings is found by bisection (up to ~1000 of them: eps to
    1e-300)."""
    x = values[j]
    smallest = 1e9 * math.ulp(x)
    h = max(eps, smallest)

    def fits(k: int) -> bool:
        step = math.ldexp(h, -k)
        return _fits(op, values, j, x - ROOM * step, x + ROOM * step)

    if not op.requires or fits(0):
        return h
    most = math.frexp(h / smallest)[1] - 1  # the most halvings that stay ≥ smallest
    if most < 1 or not fits(most):
        return None
    lo, hi = 0, most  # fits(hi), not fits(lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return math.ldexp(h, -hi)


def _one_sided(f: Callable[..., float], values: list[float], j: int, h: float) -> float:
    """(−3f(x) + 4f(x + h) − f(x + 2h)) / 2h in operand j (h < 0 steps down): second order."""
    at = [list(values) for _ in range(3)]
    at[1][j] += h
    at[2][j] += 2.0 * h
    return (-3.0 * f(*at[0]) + 4.0 * f(*at[1]) - f(*at[2])) / (2.0 * h)


def _numeric_local(child: Value, values: list[float], j: int, eps: float, atol: float,
                   rtol: float) -> float | None:
    """∂child/∂(operand j) by finite differences of child's op (nan where it fails).

    Central differences with the largest step that fits inside the op's domain
    (:func:`_step`). An operand on a closed edge of the domain (x ≥ 0, at 0) gets
    one-sided differences into the domain, trusted only when steps eps and eps/4 agree (a
    derivative that is infinite or not smooth there, as sqrt's at 0, makes them differ).
    None when no step fits: no finite difference can check the derivative there.
    """

    op = _op(child)

    def f(*v: float) -> float:
        return float(op.evaluate(child, v))

    try:
        h = _step(op, values, j, eps)
        if h is not None:
            return central_difference(f, values, j, h)
        x = values[j]
        for h in (eps, -eps):
            if _fits(op, values, j, min(x, x + 2 * h), max(x, x + 2 * h)):
                coarse, fine = _one_sided(f, values, j, h), _one_sided(f, values, j, h / 4)
                return fine if _close(coarse, fine, atol, rtol) else None
    except (ArithmeticError, ValueError):
        return math.nan
    return None


def _directional_ok(child: Value, values: list[float], eps: float, atol: float,
                    rtol: float) -> bool:
    """Does Σⱼ localⱼ·dⱼ match (f(x + eps·d) − f(x − eps·d)) / 2eps along a fixed ±1
    direction d? Two evaluations check all the local derivatives of an n-ary node at once."""
    signs = [1.0 - 2.0 * ((j * 2654435761) >> 7 & 1) for j in range(len(values))]
    up = [x + eps * d for x, d in zip(values, signs)]
    down = [x - eps * d for x, d in zip(values, signs)]
    try:
        op = _op(child)
        numeric = float(op.evaluate(child, tuple(up))) - float(op.evaluate(child, tuple(down)))
    except (ArithmeticError, ValueError):
        return False
    analytic = sum(float(local) * d for local, d in zip(child.local_grads, signs))
    return _close(analytic, numeric / (2.0 * eps), atol, rtol)


def check_nodes(
    root: Value, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> NodeCheckReport:
    """Compare ∂root/∂node from backward with a numeric derivative, for every node.

    Numeric side: the chain rule with every local derivative replaced by central
    differences of its op's forward, (f(x + eps) − f(x − eps)) / 2eps in one operand
    (``op.evaluate``), summed over the paths from the node to the root in one reverse pass:
    time linear in the graph. An n-ary node (sum, linear) is first checked along one ±1
    direction in all its operands at once (two evaluations); only when that disagrees is
    each operand differenced on its own (to find the wrong edge). Analytic
    side: :func:`autograd.grad`, so no ``.grad`` is read or written. Pass rule as in
    :func:`gradcheck`, |analytic − numeric| ≤ atol + rtol·s, where s is the sum over paths
    of |product of local derivatives| (|numeric| when no terms cancel): each path's finite
    difference is good to a relative error, so terms that cancel (x³/x³, whose gradient is
    0) leave an error the size of the terms, not of their sum. An operand at one of its
    op's kinks (relu at 0) has no derivative to check: the edge keeps its recorded
    derivative and its node is listed in ``kinks``. The step is eps, but at least 10⁹ ulps
    of the operand (a step of 1e-6 vanishes next to 1e300). Near the edge of an op's domain
    (log at 1e-300) it shrinks until the domain holds ``ROOM`` steps either side; an
    operand on a closed edge (x ≥ 0, at 0) is differenced one-sided, into the domain;
    where no step fits (log at 5e-324; sqrt at 0, whose slope is infinite), the edge keeps
    its recorded derivative and its node is listed in ``domain_edges``. Each op node's
    forward is also re-run
    on its parents' data and compared with its ``data`` (``wrong_values``), once per node.

    Ordering: a wrong local derivative on the edge child → p corrupts p's gradient and
    (through p) its ancestors', never child's or anything between child and the root. So
    every culprit is a consumer of a mismatching node, and its own gradient agrees. The
    consumers whose edge into a mismatching node disagrees with its finite differences come
    first in ``mismatches`` (nearest the root first), followed by the mismatching nodes
    (root side first).
    """
    order = cast("list[Value]", topological_order(root))
    analytic = grad(root, order)
    numeric: dict[Value, float] = {root: 1.0}
    scale: dict[Value, float] = {root: 1.0}  # Σ over paths of |Π local derivatives|
    wrong_edges: list[tuple[Value, Value]] = []  # (child, parent), root side first
    kinks: list[Value] = []
    edges: list[Value] = []  # an operand where no finite-difference step fits the domain
    wrong_values: list[tuple[Value, float]] = []
    for child in reversed(order):
        op = child.op
        if op is None:  # a leaf
            continue
        g, s = numeric.get(child, 0.0), scale.get(child, 0.0)
        values = [p.data for p in child.parents]
        value = _recomputed(child, values)
        if value != child.data and not (value != value and child.data != child.data):
            wrong_values.append((child, value))
        checked = op.arity == -1 and _directional_ok(child, values, eps, atol, rtol)
        at_kink = at_edge = False
        for j, (parent, local) in enumerate(child.edges()):
            if checked:
                d = float(local)
            elif _at_kink(op, values[j], eps):
                at_kink, d = True, float(local)
            else:
                found = _numeric_local(child, values, j, eps, atol, rtol)
                if found is None:
                    at_edge, d = True, float(local)
                else:
                    d = found
                    if not _close(float(local), d, atol, rtol):
                        wrong_edges.append((child, parent))
            numeric[parent] = numeric.get(parent, 0.0) + g * d
            scale[parent] = scale.get(parent, 0.0) + s * abs(d)
        if at_kink:
            kinks.append(child)
        if at_edge:
            edges.append(child)
    rows: list[CheckRow] = []
    bad: dict[Value, None] = {}  # the nodes that disagree, root side first
    for k in range(len(order) - 2, -1, -1):
        node = order[k]
        value = numeric.get(node, 0.0)
        rows.append(CheckRow(node.label or f"#{k}", node.data, analytic[k], value,
                             _close(analytic[k], value, atol, rtol, scale.get(node, 0.0)),
                             node))
        if not rows[-1].ok:
            bad[node] = None
    culprits = tuple(dict.fromkeys(child for child, parent in wrong_edges if parent in bad))
    rest = tuple(node for node in bad if node not in culprits)
    return NodeCheckReport(tuple(rows), culprits + rest, culprits, tuple(kinks),
                           tuple(reversed(wrong_values)), tuple(edges))
