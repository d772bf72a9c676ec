"""Higher-order derivatives: every op's 2nd and 3rd derivatives and random graphs' Hessians vs
sympy, a Hessian-vector product vs finite differences, Newton's method, drawing, gradcheck."""

from __future__ import annotations

import itertools
import math
import random
import re
from functools import cache

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, functional, ops
from autograd.check import GradcheckError, gradcheck
from autograd.extend import Op, apply
from autograd.testing import expression_graphs, operands
from tests.oracles import close, sympy_form

BUILTIN = [op for op in ops.all_ops() if op.builtin]
SYMBOLS = sp.symbols("x0:3", real=True)


def op_id(op: Op) -> str:
    return op.name + "".join(f"_{v:g}" for _, v in op.params)


def index_tuples(arity: int, order: int) -> list[tuple[int, ...]]:
    """Every ordered choice of operands to differentiate by, ``order`` times."""
    return list(itertools.product(range(arity), repeat=order))


@cache
def exact_derivatives(op: Op) -> dict[tuple[int, ...], sp.Expr]:
    """sympy's partial derivatives of orders 2 and 3, keyed by sorted operand indices."""
    xs = SYMBOLS[: len(op.operands)]
    f = sympy_form(op, *xs)
    return {
        idx: sp.diff(f, *(xs[i] for i in idx))
        for order in (2, 3)
        for idx in itertools.combinations_with_replacement(range(len(xs)), order)
    }


def at(expr: sp.Expr, point: dict) -> float:
    return float(expr.xreplace(point).evalf(30))


# ---------------------------------------------------------------------------- every op
@pytest.mark.parametrize("op", BUILTIN, ids=op_id)
@settings(max_examples=40)
@given(data=st.data())
def test_second_and_third_derivatives_of_every_op_equal_sympy(op, data):
    args = data.draw(operands(op))
    leaves = [Value(a) for a in args]
    out = apply(op, *leaves)
    first = autograd.grad(out, leaves, create_graph=True, materialize_grads=True)
    second = [autograd.grad(g, leaves, create_graph=True, materialize_grads=True) for g in first]
    point = {s: sp.Float(a, 30) for s, a in zip(SYMBOLS, args)}
    exact = exact_derivatives(op)
    for i, j in index_tuples(len(args), 2):
        want = at(exact[tuple(sorted((i, j)))], point)
        assert close(second[i][j].data, want, 1e-9), (op, args, (i, j), second[i][j], want)
        third = autograd.grad(second[i][j], leaves, materialize_grads=True)
        for k in range(len(args)):
            want = at(exact[tuple(sorted((i, j, k)))], point)
            assert close(third[k], want, 1e-9), (op, args, (i, j, k), third[k], want)


SMOOTH_UNARY = [op for op in BUILTIN if op.arity == 1 and not op.kinks]


@pytest.mark.parametrize("op", SMOOTH_UNARY, ids=op_id)
def test_nth_derivative_by_composing_functional_grad(op):
    """grad(grad(grad(f))) at the middle of the op's safe interval equals sympy's f'''."""
    (lo, hi), = op.safe
    x = (lo + hi) / 2 + 0.1
    f = lambda v: apply(op, v)  # noqa: E731
    d1 = functional.grad(f)
    d2 = functional.grad(d1)
    d3 = functional.grad(d2)
    s = SYMBOLS[0]
    expr = sympy_form(op, s)
    point = {s: sp.Float(x, 30)}
    for n, df in ((1, d1), (2, d2), (3, d3)):
        got = df(x)
        assert isinstance(got, float)
        assert close(got, at(sp.diff(expr, s, n), point), 1e-9), (op, n)


# ---------------------------------------------------------------------------- random graphs
def linear_piece(op: Op, x: sp.Expr, value: float) -> sp.Expr:
    """A kinked op of the table is linear between its kinks (relu, abs, leaky_relu, clamp):
    the piece through ``value`` is f(v) + c·(x − v) with c the oracle's slope at v."""
    v, s = sp.Float(value, 30), sp.Symbol("s", real=True)
    c = sp.diff(sympy_form(op, s), s).subs(s, v)
    return sympy_form(op, v) + c * (x - v)


def sympy_call(op: Op, *args: tuple[sp.Expr, float]) -> tuple[sp.Expr, float]:
    """Replay on (expression, float value) pairs. Kinked ops take the smooth piece the point
    lies on (the inputs are clear of kinks), which keeps the derivatives free of Heaviside
    and DiracDelta terms and fast to build."""
    exprs = [e for e, _ in args]
    values = [v for _, v in args]
    expr = linear_piece(op, exprs[0], values[0]) if op.kinks else sympy_form(op, *exprs)
    return expr, op.forward(*values)


@pytest.mark.once
@settings(max_examples=500)
@given(expression_graphs())
def test_hessians_of_random_graphs_equal_sympy(graph):
    n = len(graph.inputs)
    xs = SYMBOLS[:n]
    expr, _ = graph.evaluate(list(zip(xs, graph.inputs)), sympy_call)
    point = {s: sp.Float(x, 30) for s, x in zip(xs, graph.inputs)}
    first = [sp.diff(expr, s) for s in xs]
    lower = {(i, j): at(sp.diff(first[i], xs[j]), point) for i in range(n) for j in range(i + 1)}
    scale = max(1.0, *map(abs, lower.values()))

    hess = functional.hessian(lambda *v: graph.build(list(v))[1], tuple(range(n)))(*graph.inputs)
    for i, j in index_tuples(n, 2):
        want = lower[max(i, j), min(i, j)]
        assert abs(hess[i][j] - want) <= 1e-9 * scale, (i, j, hess[i][j], want)


# ---------------------------------------------------------------------------- a small MLP
XOR = [((0.0, 0.0), 0.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), 0.0)]
N_PARAMS = 13  # 2-3-1: six hidden weights, three hidden biases, three output weights, one bias


def mlp_loss(*p):
    """½ Σ (ŷ − y)² over XOR for a 2-3-1 tanh network with parameters ``p``."""
    w1, b1, w2, b2 = p[0:6], p[6:9], p[9:12], p[12]
    loss = 0.0
    for x, y in XOR:
        hidden = [autograd.linear(w1[2 * j : 2 * j + 2], x, b1[j]).tanh() for j in range(3)]
        loss = loss + 0.5 * (autograd.linear(w2, hidden, b2) - y) ** 2
    return loss


def mlp_gradient(params):
    """First-order gradient from the ordinary ``backward`` (an independent path)."""
    leaves = [Value(p) for p in params]
    mlp_loss(*leaves).backward()
    return [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hessian_vector_product_of_mlp_loss_equals_finite_differences(seed):
    rng = random.Random(seed)
    params = [rng.uniform(-1, 1) for _ in range(N_PARAMS)]
    v = [rng.gauss(0, 1) for _ in range(N_PARAMS)]
    eps = 1e-5
    up = mlp_gradient([p + eps * t for p, t in zip(params, v)])
    down = mlp_gradient([p - eps * t for p, t in zip(params, v)])
    numeric = [(a - b) / (2 * eps) for a, b in zip(up, down)]

    hv = functional.hvp(mlp_loss, params, v)
    assert len(hv) == N_PARAMS
    for got, want in zip(hv, numeric):
        assert close(got, want, 1e-6), (got, want)

    hess = functional.hessian(mlp_loss, tuple(range(N_PARAMS)))(*params)
    for i in range(N_PARAMS):
        assert close(math.fsum(hess[i][j] * v[j] for j in range(N_PARAMS)), hv[i], 1e-12)
        for j in range(i):
            assert close(hess[i][j], hess[j][i], 1e-12)


# ---------------------------------------------------------------------------- Newton's method
def test_newton_with_grad_of_grad_converges_quadratically():
    """Minimise f(x) = x − ln x (minimum at x = 1): f' = 1 − 1/x, f'' = 1/x², so a Newton step
    is x − f'/f'' = 2x − x², and the error e = 1 − x becomes e² each step: e_k = e₀^(2^k).
    From x₀ = 0.5 the error drops below 1e-12 after the first k with 0.5^(2^k) < 1e-12."""
    f = lambda x: x - x.log()  # noqa: E731
    df = functional.grad(f)
    d2f = functional.grad(df)
    x0, tol = 0.5, 1e-12
    expected_steps = next(k for k in itertools.count() if (1 - x0) ** (2**k) < tol)
    assert expected_steps == 6  # 2^-32 ≈ 2.3e-10 after 5 steps, 2^-64 after 6

    x, steps = x0, 0
    while abs(1 - x) >= tol:
        x -= df(x) / d2f(x)
        steps += 1
        assert abs((1 - x) - (1 - x0) ** (2**steps)) <= 1e-15, (steps, x)
        assert steps <= expected_steps
    assert steps == expected_steps


# ---------------------------------------------------------------------------- drawing
def test_second_derivative_graph_can_be_drawn():
    draw = pytest.importorskip("autograd.drawing").draw
    pytest.importorskip("graphviz")
    x = Value(0.8, label="x")
    (g,) = autograd.grad((x * x).tanh(), [x], create_graph=True)
    (h,) = autograd.grad(g, [x], create_graph=True)
    t = math.tanh(0.64)
    assert close(h.data, 2 * (1 - t * t) * (1 - 4 * 0.64 * t), 1e-12)

    source = draw(h).dot_source
    drawn = re.findall(r"^\s*n\d+ \[", source, flags=re.MULTILINE)
    assert len(drawn) >= len(autograd.backward.interior_order(h)) > 10
    assert "x|" in source and "tanh" in source


# ---------------------------------------------------------------------------- gradcheck order 2
SMOOTH_FUNCTIONS = [
    lambda x, y: (x * y).tanh() + x.exp() * y,
    lambda x, y: x ** y + (x / y).sin(),
    lambda x, y: (x * x + y * y).sqrt().log() - y.sigmoid() * x.softplus(),
    lambda x, y: autograd.linear([x, y], [y, x.cos()], x) ** 3,
]


@pytest.mark.parametrize("f", SMOOTH_FUNCTIONS)
def test_gradcheck_order_two_passes_on_smooth_functions(f):
    report = gradcheck(f, [Value(1.3, label="x"), Value(0.7, label="y")], order=2)
    assert [r.name for r in report.rows] == ["(x, x)", "(x, y)", "(y, x)", "(y, y)"]
    assert report.ok


def sin_with_math_rule() -> Op:
    """sin whose rule calls math.cos instead of ops.cos: right on floats, but on a Value it
    returns a constant, so the second derivative comes out 0 instead of −sin x."""
    return Op("sin_math", "sin", ("x",), math.sin, lambda x, out: (math.cos(x),), ("cos(x)",),
              builtin=False)


def test_gradcheck_order_two_names_the_inputs_of_a_wrong_second_derivative():
    sin = sin_with_math_rule()
    f = lambda x, y: apply(sin, x) * y  # noqa: E731
    inputs = [Value(1.3, label="x"), Value(0.7, label="y")]
    assert gradcheck(f, inputs).ok  # first order is right

    with pytest.raises(GradcheckError, match=r"second-derivative mismatch for \(x, x\):"):
        gradcheck(f, inputs, order=2)
    report = gradcheck(f, inputs, order=2, raise_exception=False)
    rows = {r.name: r for r in report.rows}
    assert not rows["(x, x)"].ok and rows["(x, x)"].analytic == 0.0
    assert close(rows["(x, x)"].numeric, -math.sin(1.3) * 0.7, 1e-6)
    assert rows["(x, y)"].ok and rows["(y, x)"].ok and rows["(y, y)"].ok


def test_gradcheck_rejects_other_orders():
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        gradcheck(lambda x: x * x, [1.0], order=3)


# ---------------------------------------------------------------------------- singular points
@pytest.mark.parametrize(
    "f",
    [lambda x: x.sqrt(), lambda x: x**0.5, lambda x: x**1.5 * x.sqrt()],
    ids=["sqrt", "pow_const_half", "mixed"],
)
def test_differentiable_backward_matches_float_backward_at_zero(f):
    """At x = 0 the float rules give inf or 0 for a singular derivative; the Value rules
    give the same numbers instead of raising a domain error."""
    x = Value(0.0)
    y = f(x)
    (plain,) = autograd.grad(y, [x])
    (graph,) = autograd.grad(y, [x], create_graph=True)
    assert graph.data == plain or (math.isnan(graph.data) and math.isnan(plain))


def test_pow_with_value_exponent_at_zero_base():
    """d/db a^b at a = 0 (b > 0) is 0, and so is d²/da² of a^2.5 there."""
    a, b = Value(0.0), Value(2.5)
    da, db = autograd.grad(a**b, [a, b], create_graph=True)
    assert (da.data, db.data) == (0.0, 0.0)
    assert autograd.grad(da, [a])[0] == 0.0


def test_integer_powers_at_zero():
    """(x³)''' = 6 and (x²)'' = 2 everywhere, x = 0 included (x^0 there is the number 1)."""
    cube = functional.grad(functional.grad(functional.grad(lambda x: x**3)))
    assert cube(0.0) == 6.0
    assert functional.grad(functional.grad(lambda x: x**2))(0.0) == 2.0
