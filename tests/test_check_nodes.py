"""check_nodes: per-node finite differences, culprit first."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from autograd import Value, check_nodes, linear, ops, topological_order
from autograd import sum as autograd_sum
from autograd.extend import apply
from autograd.testing import expression_graphs


@pytest.fixture
def bad_softsign(restore_op_table):
    """softsign with a wrong derivative: 1/(1+|x|) instead of 1/(1+|x|)²."""
    op = ops.declare("bad_softsign", lambda x: x / (1 + abs(x)), lambda x, out: 1 / (1 + abs(x)))
    return op


@pytest.fixture
def bad_square(restore_op_table):
    """x² with derivative 3x (should be 2x)."""
    op = ops.declare("bad_square", lambda x: x * x, lambda x, out: 3 * x)
    return op


def ancestors(node: Value) -> set[Value]:
    """node and everything it depends on."""
    return set(topological_order(node))


def test_correct_graph_passes_and_numbers_match_formulas():
    x, w = Value(0.4, label="x"), Value(-1.3, label="w")
    h = x * w
    h.label = "h"
    u = h.tanh()
    u.label = "u"
    L = u * u + x
    report = check_nodes(L)
    assert report.ok and report.mismatches == () and report.culprits == ()
    rows = {r.name: r for r in report.rows}
    t = math.tanh(0.4 * -1.3)
    dL_du = 2 * t
    dL_dh = dL_du * (1 - t * t)
    assert rows["u"].numeric == pytest.approx(dL_du, rel=1e-6)
    assert rows["h"].numeric == pytest.approx(dL_dh, rel=1e-6)
    assert rows["x"].numeric == pytest.approx(dL_dh * -1.3 + 1, rel=1e-6)
    assert rows["w"].numeric == pytest.approx(dL_dh * 0.4, rel=1e-6)
    assert L not in {r.node for r in report.rows}
    assert len(report.rows) == len(topological_order(L)) - 1


def test_grads_are_left_as_they_were():
    x = Value(0.5, label="x")
    y = (x * x).sin()
    y.backward()
    y.backward()  # x.grad accumulated twice
    before = [n.grad for n in topological_order(y)]
    check_nodes(y)
    assert [n.grad for n in topological_order(y)] == before


def test_wrong_derivative_in_the_middle_is_named_first(bad_softsign):
    x, w, v = Value(0.8, label="x"), Value(-0.6, label="w"), Value(1.1, label="v")
    h = x * w + 0.3
    h.label = "h"
    u = apply(bad_softsign, h)  # the culprit
    u.label = "u"
    m = u * v
    m.label = "m"
    L = m.tanh() + u
    report = check_nodes(L)
    assert not report.ok
    assert report.mismatches[0] is u and report.culprits == (u,)
    # a wrong local derivative on u → h corrupts h and what h depends on, nothing else
    assert set(report.mismatches[1:]) == ancestors(h)
    rows = {r.node: r for r in report.rows}
    assert rows[u].ok and rows[m].ok and rows[v].ok
    assert "wrong local derivative in u (bad_softsign)" in str(report)
    # the numeric side is the true derivative: 1/(1+|h|)² through softsign
    dL_du = (1 - math.tanh(m.data) ** 2) * 1.1 + 1
    assert rows[h].numeric == pytest.approx(dL_du / (1 + abs(h.data)) ** 2, rel=1e-6)
    assert rows[h].analytic == pytest.approx(dL_du / (1 + abs(h.data)), rel=1e-12)


def test_wrong_derivative_on_a_leaf_edge(bad_softsign):
    x = Value(-0.7, label="x")
    y = apply(bad_softsign, x)
    L = y * y
    report = check_nodes(L)
    assert report.mismatches == (y, x) and report.culprits == (y,)


def test_two_culprits_nearest_the_root_first(bad_softsign, bad_square):
    a, b = Value(0.5, label="a"), Value(1.5, label="b")
    p = apply(bad_square, a)  # deeper
    p.label = "p"
    q = apply(bad_softsign, p * b)
    q.label = "q"
    L = q + p
    report = check_nodes(L)
    assert report.culprits == (q, p)
    assert report.mismatches[:2] == (q, p)
    assert set(report.mismatches[2:]) == ancestors(q.parents[0]) - {p}


def test_linear_nodes_are_re_evaluated_with_their_constant_side():
    w = [Value(0.2, label="w0"), Value(-0.7, label="w1")]
    b = Value(0.1, label="b")
    z = linear(w, [1.5, -2.0], b)
    z.label = "z"
    L = z.sigmoid() * linear([0.5, 0.25], [z, w[0]])
    report = check_nodes(L)
    assert report.ok
    s = 1 / (1 + math.exp(-z.data))
    rows = {r.name: r for r in report.rows}
    dL_dz = s * (1 - s) * L.parents[1].data + s * 0.5
    assert rows["z"].numeric == pytest.approx(dL_dz, rel=1e-6)
    assert rows["w1"].numeric == pytest.approx(dL_dz * -2.0, rel=1e-6)


@settings(max_examples=60)
@given(expression_graphs())
def test_generated_graphs_pass(g):
    _, out = g.build()
    report = check_nodes(out)
    assert report.ok, str(report)


# ---------------------------------------------------------------------------- kinks
@pytest.mark.parametrize("make", [
    lambda h: h.relu(), lambda h: abs(h), lambda h: h.leaky_relu(0.1),
], ids=["relu", "abs", "leaky_relu"])
def test_a_kink_is_reported_not_blamed(make):
    """relu, abs and leaky_relu at 0 have no derivative: the recorded one is a convention
    (PyTorch's), which finite differences (0.5, 0, 0.55) cannot confirm. The node is listed as
    not differentiable here, nothing is a mismatch, and the rest is still checked."""
    x, w = Value(0.0, label="x"), Value(1.5, label="w")
    h = x * w
    h.label = "h"
    k = make(h)
    k.label = "k"
    L = k * 3.0 + x * x.exp()
    report = check_nodes(L)
    assert report.ok and report.kinks == (k,) and report.mismatches == ()
    assert "not differentiable here" in str(report)
    assert "k (" in str(report).splitlines()[0]
    rows = {r.name: r for r in report.rows}
    slope = k.local_grads[0]  # the convention: 0 for relu and abs, the slope for leaky_relu
    assert rows["x"].numeric == pytest.approx(3.0 * slope * 1.5 + 1.0, rel=1e-6)
    assert rows["w"].numeric == pytest.approx(0.0, abs=1e-9)


def test_a_kink_does_not_hide_a_wrong_derivative(bad_square):
    x = Value(0.0, label="x")
    y = Value(0.8, label="y")
    p = apply(bad_square, y)
    p.label = "p"
    L = x.relu() + p
    report = check_nodes(L)
    assert report.kinks == (L.parents[0],)
    assert report.culprits == (p,) and report.mismatches == (p, y)


# ---------------------------------------------------------------------------- cost, looking
def test_five_thousand_nodes_in_about_a_second():
    """A chain of 5,000 nodes with a wide sum on top: time linear in the graph."""
    import time

    x = Value(0.3, label="x")
    v, parts = x, []
    for k in range(2500):
        v = (v * 0.999).tanh() if k % 2 else v + 0.001
        parts.append(v)
    L = autograd_sum(parts)
    start = time.perf_counter()
    report = check_nodes(L)
    assert time.perf_counter() - start < 4.0  # the quadratic version took minutes
    assert report.ok and len(report.rows) >= 5000


def test_checking_leaves_every_grad_as_it_was_even_under_detect_anomaly():
    """sqrt at 0 has an infinite slope: under detect_anomaly a backward pass would stop
    half-way. check_nodes never runs backward, so no grad changes, whatever happens."""
    from autograd import detect_anomaly

    x = Value(0.0, label="x")
    w = Value(2.0, label="w")
    L = (x.sqrt() + w * w).tanh()
    x.grad, w.grad = -0.0, math.nan
    with detect_anomaly():
        check_nodes(L)
    assert math.copysign(1.0, x.grad) == -1.0 and x.grad == 0.0 and math.isnan(w.grad)
    assert all(n.grad == 0.0 for n in topological_order(L) if not n.is_leaf)


def test_a_wrong_local_derivative_in_a_wide_node_is_found():
    """n-ary nodes are checked along one direction first; a wrong edge still gets blamed."""
    w = [Value(0.01 * k - 0.2, label=f"w{k}") for k in range(40)]
    x = [Value(0.5, label=f"x{k}") for k in range(40)]
    z = linear(w, x, Value(0.2, label="b"))
    z.label = "z"
    edges = list(z._a)
    edges[2 * 7 + 1] = 2.0  # ∂z/∂w7 recorded as 2 instead of 0.5
    z._a = tuple(edges)
    L = z.tanh()
    report = check_nodes(L)
    assert report.culprits == (z,) and report.mismatches == (z, w[7])
    assert check_nodes(linear(w, x).tanh()).ok


def test_paths_that_cancel_are_judged_by_the_size_of_their_terms():
    """exp(x³/x³) at x = 0.125: ∂/∂x is 0 = 512·(3x²) − 512·(3x²), two terms of 24 whose
    finite differences are each good to ~1e-7 relative; their sum (−1.7e-5) is noise the
    size of the terms, not a wrong derivative (the old rule, atol + rtol·|sum|, failed)."""
    x = Value(0.125, label="x")
    cube = x**3
    y = (cube / (x**3)).exp()
    report = check_nodes(y)
    assert report.ok, report
    row = next(r for r in report.rows if r.node is x)
    assert row.analytic == 0.0 and 0 < abs(row.numeric) < 1e-4
    assert next(r for r in report.rows if r.node is cube).numeric == pytest.approx(
        math.e * 512, rel=1e-6)


def test_a_node_whose_data_is_not_its_forward_is_reported():
    """A changed value, or a linear node built without one of its products: the gradients
    still agree (their local derivatives are right), but the node's data is not its op's
    forward of its parents' data, and check_nodes says which node and what it should be."""
    x, w, b = Value(0.5, label="x"), Value(-1.5, label="w"), Value(0.25, label="b")
    h = x * w
    h.label = "h"
    y = h + b
    assert check_nodes(y).ok
    h.data = 5.0
    report = check_nodes(y)
    assert not report.ok and report.wrong_values == ((h, -0.75), (y, 5.25))  # y: from h
    assert "h (mul: 5.0, forward gives -0.75)" in str(report) and "<-- wrong value" in str(report)

    ws, xs = [Value(0.5, label="w0"), Value(2.0, label="w1")], [Value(3.0), Value(-1.0)]
    z = linear(ws, xs, b)
    z.label = "z"
    z.data -= ws[1].data * xs[1].data  # as if the last product had been left out
    report = check_nodes(z.tanh())  # (tanh made from the changed z: its value is right)
    assert [node for node, _ in report.wrong_values] == [z]
    assert report.wrong_values[0][1] == 0.25 + 0.5 * 3.0 + 2.0 * -1.0
    nan = Value(math.nan, label="n")
    assert check_nodes((nan * x).exp()).wrong_values == ()  # NaN from NaN is its forward


# ---------------------------------------------------------------------------- domain edges
@pytest.mark.parametrize("make, x, exact", [
    (lambda v: v.log(), 1e-5, lambda x: 1 / x),
    (lambda v: v.log(), 1e-300, lambda x: 1 / x),
    (lambda v: v.sqrt(), 1e-9, lambda x: 0.5 / math.sqrt(x)),
    (lambda v: v**0.5, 1e-9, lambda x: 0.5 / math.sqrt(x)),
    (lambda v: v**-1.5, 1e-9, lambda x: -1.5 * x**-2.5),
    (lambda v: 1.0 / v, 1e-7, lambda x: -1 / x**2),  # b ≠ 0: a central step would cross 0
    (lambda v: 1.0 / v, -1e-150, lambda x: -1 / x**2),
], ids=["log 1e-5", "log 1e-300", "sqrt 1e-9", "x**0.5 1e-9", "x**-1.5 1e-9", "1/x 1e-7",
        "1/x -1e-150"])
def test_a_correct_op_near_its_domain_edge_is_not_blamed(make, x, exact):
    """A central step of 1e-6 crossed the edge (sqrt at 1e-9 gave nan) or came so near it that
    the difference was off by more than rtol (log at 1e-5: 0.3%); the step now shrinks until
    the domain holds ROOM steps either side."""
    v = Value(x, label="x")
    y = make(v)
    y.label = "y"
    L = y * 3.0
    report = check_nodes(L)
    assert report.ok and report.culprits == () and report.domain_edges == (), str(report)
    rows = {r.name: r for r in report.rows}
    assert rows["x"].numeric == pytest.approx(3.0 * exact(x), rel=1e-3)
    assert rows["x"].analytic == pytest.approx(3.0 * exact(x), rel=1e-12)


@pytest.fixture
def bad_log(restore_op_table):
    """log with derivative 1.05/x: 5% off, declared with log's domain."""
    return ops.declare("bad_log", ops.log, lambda x, out: 1.05 / x,
                       requires=[("x > 0", lambda x: x > 0)])


@pytest.mark.parametrize("x", [1e-5, 1e-300, 3.0])
def test_a_wrong_op_near_its_domain_edge_is_still_blamed(bad_log, x):
    v = Value(x, label="x")
    u = apply(bad_log, v)
    u.label = "u"
    report = check_nodes(u * 2.0)
    assert report.culprits == (u,) and report.mismatches == (u, v)
    row = next(r for r in report.rows if r.node is v)
    assert row.numeric == pytest.approx(2.0 / x, rel=1e-3)
    assert row.analytic == pytest.approx(2.1 / x, rel=1e-12)


def test_on_a_closed_edge_the_step_is_one_sided(restore_op_table):
    """x**2 at 0 with x ≥ 0 required: no central step fits, a one-sided one does and checks
    the derivative there (0); a wrong derivative there (2x + 1) is blamed."""
    v = Value(0.0, label="x")
    assert check_nodes(v ** Value(2.0, label="p")).ok  # pow: a ≥ 0 for a Value exponent
    bad = ops.declare("bad_half_square", lambda x: x * x, lambda x, out: 2 * x + 1,
                      requires=[("x ≥ 0", lambda x: x >= 0)])
    u = apply(bad, v)
    report = check_nodes(u * 2.0)
    assert report.culprits == (u,) and report.domain_edges == ()
    assert next(r for r in report.rows if r.node is v).numeric == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("make, x", [
    (lambda v: v.log(), 5e-324),  # the smallest float: no step is both inside and not rounded
    (lambda v: v.sqrt(), 0.0),  # an infinite derivative: one-sided steps never agree
    (lambda v: v**1.5, 0.0),  # 1.5·√x: one-sided differences (≈ 0.59·√h) depend on the step
], ids=["log 5e-324", "sqrt 0", "x**1.5 0"])
def test_where_no_step_fits_it_says_so_and_blames_nothing(make, x):
    v = Value(x, label="x")
    y = make(v)
    y.label = "y"
    report = check_nodes(y * 2.0)
    assert report.ok and report.domain_edges == (y,) and report.culprits == ()
    head = str(report).splitlines()[0]
    assert f"no finite-difference step fits inside the domain here: y ({y.op.name} at {x!r})" \
        in head
    assert "<-- no finite-difference step fits" in str(report)
    row = next(r for r in report.rows if r.node is v)  # the edge keeps its derivative
    assert row.numeric == row.analytic == 2.0 * y.local_grads[0]


def test_huge_operands_are_differenced_with_a_step_they_do_not_round_away():
    """A step of 1e-6 vanishes next to 1e300 (x + h == x): the product's difference was 0 and
    a correct × was blamed. The step is at least 10⁹ ulps of the operand."""
    x, w = Value(1e300, label="x"), Value(3.0, label="w")
    h = x * w
    h.label = "h"
    report = check_nodes(h * 1e-300)
    assert report.ok, str(report)
    rows = {r.name: r for r in report.rows}
    assert rows["w"].numeric == pytest.approx(1e300 * 1e-300, rel=1e-8)
    assert rows["x"].numeric == pytest.approx(3.0 * 1e-300, rel=1e-8)


def test_many_operands_on_a_domain_edge_are_checked_quickly():
    """Finding the step takes a bisection over up to ~1000 halvings, not a walk through them:
    2,000 square roots at 0 (where no step fits) take well under a second."""
    import time

    xs = [Value(0.0, label=f"x{k}") for k in range(2000)]
    L = autograd_sum([x.sqrt() for x in xs])
    start = time.perf_counter()
    report = check_nodes(L)
    assert time.perf_counter() - start < 2.0
    assert len(report.domain_edges) == 2000 and report.culprits == ()
