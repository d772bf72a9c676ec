"""Every op of the table at NaN, ±inf, ±0, tiny, huge and domain-edge operands: what the
engine gives and what PyTorch (float64) gives, in one record format.

A record is a dict with the value, the gradient of each operand for an upstream gradient of
1 and of +inf (the second shows where PyTorch masks with ``where`` instead of multiplying),
and the matrix of second derivatives; or ``{"refused": True}`` when the engine raises its
DomainError. Numbers are stored as ``repr`` strings so NaN and inf survive JSON.
``python tests/make_edge_values.py`` writes PyTorch's records to ``tests/data``.
"""

from __future__ import annotations

import itertools
import math

from autograd import DomainError, Value, grad, ops
from autograd import linear as linear_node
from autograd import sum as sum_node
from autograd.value import apply, detached_max
from tests.oracles import ORACLES, torch_form

NAN, INF = math.nan, math.inf
UNARY = (NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, 5e-324, 30.0, -30.0,
         800.0, -800.0, 1e200, -1e200)
BINARY = (NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, -0.5, -1.5, 2.0, 1e200)
NARY = (
    (NAN, 1.0), (INF, -INF), (1.0, 2.0, 3.0), (0.1, 0.2, 0.3), (1e16, 1.0, -1e16),
    (INF, 0.0, 2.0, 3.0, 1.0), (NAN, 1.0, 0.0, 2.0, 0.0), (1e16, 1.0, 1.0, 1.0, -1e16),
    (0.0, 2.0, INF, -1.0, 0.5), (0.1, 0.7, 0.3, 0.9, 0.2),
)
LINEAR_N = 2  # the linear op under test: Σ of 2 products plus a bias, every side a Value


def table() -> list[ops.Op]:
    """The built-in ops: the table's own ops, each family at its example parameters, and
    linear; a new op shows up here (and then needs records)."""
    found = [op for op in ops.OPS.values() if op.builtin]
    for factory, examples in ops.FAMILIES.values():
        found.extend(factory(**params) for params in examples)
    return [*found, ops.linear(LINEAR_N, True, True, True)]


def key(op: ops.Op) -> str:
    """``pow_const(p=2.0)``, ``relu``."""
    params = ", ".join(f"{k}={v!r}" for k, v in op.params)
    return f"{op.name}({params})" if params else op.name


def points(op: ops.Op) -> list[tuple[float, ...]]:
    if op.name == "linear":
        return [p for p in NARY if len(p) == 2 * LINEAR_N + 1]
    if op.arity == -1:
        return list(NARY)
    return list(itertools.product(UNARY if op.arity == 1 else BINARY, repeat=op.arity))


def point_key(args: tuple[float, ...]) -> str:
    return ", ".join(map(repr, args))


def refuses(op: ops.Op, args: tuple[float, ...]) -> bool:
    """The engine's documented refusals: a domain condition fails and no operand is NaN."""
    return not all(req.holds(*args) for req in op.requires) and not any(a != a for a in args)


def _record(value, grads, grads_inf, hessian) -> dict:
    return {"value": repr(float(value)), "grad": [repr(float(g)) for g in grads],
            "grad_inf": [repr(float(g)) for g in grads_inf],
            "hessian": [[repr(float(h)) for h in row] for row in hessian]}


def _engine_output(op: ops.Op, leaves: list[Value]) -> Value:
    if op.name == "sum":
        return sum_node(leaves)
    if op.name == "detached_max":
        return detached_max(leaves)
    if op.name == "linear":
        n = LINEAR_N
        return linear_node(leaves[:n], leaves[n : 2 * n], leaves[2 * n])
    return apply(op, *leaves)


def engine(op: ops.Op, args: tuple[float, ...]) -> dict:
    """The engine's record (``backward`` for the gradients, ``grad`` twice for the Hessian)."""
    leaves = [Value(a) for a in args]
    try:
        out = _engine_output(op, leaves)
    except DomainError:
        return {"refused": True}
    out.backward()
    grads = [v.grad for v in leaves]
    for v in leaves:
        v.grad = 0.0
    out.backward(INF)
    grads_inf = [v.grad for v in leaves]
    first = grad(out, leaves, create_graph=True, materialize_grads=True)
    hessian = [grad(g, leaves, materialize_grads=True) for g in first]
    return _record(out.data, grads, grads_inf, hessian)


def torch_record(torch, op: ops.Op, args: tuple[float, ...]) -> dict:
    """PyTorch's record for the same op and operands (float64 scalar tensors)."""
    leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    out = torch_form(torch, op, *leaves) if op.name != "linear" else ORACLES["linear"].torch(
        torch, *leaves)

    def grads_of(y, seed, **kw):
        gs = torch.autograd.grad(y, leaves, grad_outputs=seed, allow_unused=True, **kw)
        return [torch.zeros((), dtype=torch.float64) if g is None else g for g in gs]

    one, inf = torch.tensor(1.0, dtype=torch.float64), torch.tensor(INF, dtype=torch.float64)
    grads = grads_of(out, one, retain_graph=True)
    grads_inf = grads_of(out, inf, retain_graph=True)
    first = grads_of(out, one, create_graph=True)
    hessian = [[0.0] * len(args) if not g.requires_grad else
               [h.item() for h in grads_of(g, one, retain_graph=True)] for g in first]
    return _record(out.item(), [g.item() for g in grads], [g.item() for g in grads_inf],
                   hessian)


def same(got: str, want: str) -> bool:
    """Equal as PyTorch float64 numbers: both NaN, or equal (0.0 == −0.0, infinities by
    sign), or finite and within 10⁻¹² relative (libm and PyTorch's kernels may round the last
    bit of tanh(3) differently, and 1 − tanh² magnifies it)."""
    a, b = float(got), float(want)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or (math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=1e-12))


def _flat(field: str, x) -> list:
    if field == "value":
        return [x]
    return list(itertools.chain.from_iterable(x)) if field == "hessian" else list(x)


def differences(op: ops.Op, args: tuple, got: dict, want: dict) -> dict[str, str]:
    """What differs between the engine's record and PyTorch's, by field (empty if nothing).
    Where the engine refuses, it must be exactly where the op's domain says it does."""
    if got.get("refused"):
        return {} if refuses(op, args) else {"refused": "outside the documented domain"}
    if refuses(op, args):
        return {"accepted": "operands its domain refuses"}
    return {
        field: f"engine {got[field]}, PyTorch {want[field]}"
        for field in ("value", "grad", "grad_inf", "hessian")
        if not all(map(same, _flat(field, got[field]), _flat(field, want[field])))
    }


KNOWN = (
    # (op, operands where it happens, fields, why): the engine's deliberate differences.
    ("softplus", lambda x: x > 20, {"value", "grad", "hessian"},
     "PyTorch's softplus returns x itself above its threshold 20; the engine computes "
     "log(1 + eˣ) (at x = 30 the two differ by e⁻³⁰)"),
    ("pow", lambda a, b: a == 0 and b >= 0, {"hessian"},
     "a^b at a = 0 is not twice differentiable along b: PyTorch's second derivatives there "
     "are NaN (its where passes back the NaN of the branch it did not take); the engine's "
     "first derivative along b is the constant 0 there, so its derivatives are 0"),
    ("pow", lambda a, b: b == 0 and a != 0, {"hessian"},
     "at b = 0 PyTorch's where(b == 0, 0, b·a^(b−1)) drops ∂²(a^b)/∂a∂b = 1/a on one side "
     "(its Hessian is not symmetric there); the engine keeps the exact value"),
)


def unexplained(op: ops.Op, args: tuple, found: dict[str, str]) -> tuple[dict, list[int]]:
    """The differences no KNOWN entry explains, and the KNOWN entries that explained some."""
    used, left = [], dict(found)
    for i, (name, where, fields, _) in enumerate(KNOWN):
        if name == op.name and where(*args) and fields & left.keys():
            used.append(i)
            left = {f: d for f, d in left.items() if f not in fields}
    return left, used
