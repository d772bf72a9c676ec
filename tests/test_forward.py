"""Forward mode (autograd.forward): jvp, jacfwd, forward-over-reverse hvp, the per-node
records, the cost count; checked against reverse mode, finite differences, sympy and PyTorch."""

from __future__ import annotations

import math
import random

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Value, functional, ops, topological_order
from autograd.forward import _interior, cost, forward_steps, hvp, jacfwd, jvp, tangents_of
from autograd.ops import MASK
from autograd.testing import expression_graphs, floats

directions = st.lists(floats(-2.0, 2.0), min_size=3, max_size=3)


def scale(out: Value, seeds: dict) -> float:
    """Σ over paths of |product of locals| · |seed|: the size the rounding of any way of
    summing the paths is relative to (a plain recursion written here, not the module's)."""
    size = {x: abs(t) for x, t in seeds.items()}
    for node in topological_order(out):
        if node not in size and not node.is_leaf:
            size[node] = sum(abs(local) * size.get(p, 0.0) for p, local in node.edges())
    return max(1.0, size.get(out, 0.0))


def close_to(got: float, want: float, out: Value, seeds: dict, rel: float = 1e-12) -> bool:
    return abs(got - want) <= rel * scale(out, seeds)


def with_grads_marked(out: Value) -> dict:
    """Give every node a distinct .grad, to see that nothing writes one."""
    for i, node in enumerate(topological_order(out)):
        node.grad = 0.25 + i
    return {node: node.grad for node in topological_order(out)}


# ----------------------------------------------------------------------------- jvp
@settings(max_examples=100, deadline=None)
@given(expression_graphs(constants=True), directions)
def test_jvp_equals_grad_dot_v_and_writes_no_grad(graph, v):
    leaves, out = graph.build()
    v = v[: len(leaves)]
    seeds = dict(zip(leaves, v))
    grads = with_grads_marked(out)
    (t,) = tangents_of(out, seeds)
    value, t_jvp = jvp(lambda *xs: graph.build(list(xs))[1], graph.inputs, v)
    assert {node: node.grad for node in topological_order(out)} == grads
    g = autograd.grad(out, leaves, materialize_grads=True)
    want = sum(gi * vi for gi, vi in zip(g, v))
    assert close_to(t, want, out, seeds)
    assert t_jvp == t and value == out.data  # a fresh graph, the same arithmetic


@settings(max_examples=30, deadline=None)
@given(expression_graphs(max_inputs=2, max_steps=6), directions, st.integers(0, 1))
def test_jvp_through_grad_is_a_hessian_vector_product(graph, v, k):
    """Second order: the tangents run through the gradient graph that grad builds inside."""
    n = len(graph.inputs)
    v, k = v[:n], k % n
    f = lambda *xs: graph.build(list(xs))[1]  # noqa: E731
    df_k = lambda *xs: functional.grad(f, tuple(range(n)))(*xs)[k]  # noqa: E731
    _, t = jvp(df_k, graph.inputs, v)
    row = functional.hessian(f, tuple(range(n)))(*graph.inputs)[k]
    want = sum(h * vi for h, vi in zip(row, v))
    assert abs(t - want) <= 1e-12 * max(1.0, sum(abs(h * vi) for h, vi in zip(row, v)))


def test_jvp_of_a_known_function_and_its_second_order():
    x, y = sp.symbols("x y")
    expr = sp.tanh(x * y) + sp.exp(x) * y
    point, v = {x: 0.3, y: -0.7}, (1.5, -2.0)
    want = float(sum(sp.diff(expr, s) * t for s, t in zip((x, y), v)).subs(point))
    value, t = jvp(lambda a, b: (a * b).tanh() + a.exp() * b, (0.3, -0.7), v)
    assert value == pytest.approx(float(expr.subs(point)), rel=1e-15)
    assert t == pytest.approx(want, rel=1e-14)
    # d/dx of x³'s derivative along 1 is 6x
    assert jvp(lambda a: functional.grad(lambda s: s**3)(a), (2.0,), (1.0,)) == (12.0, 12.0)


def test_jvp_of_constants_identity_and_numbers():
    assert jvp(lambda a: a, (3.0,), (2.5,)) == (3.0, 2.5)
    assert jvp(lambda a: 4.0, (3.0,), (2.5,)) == (4.0, 0.0)
    assert jvp(lambda a, b: a * b, (2, True), (1, 0)) == (2.0, 1.0)


def test_jvp_writes_no_grad_on_values_it_closes_over():
    w = Value(1.5, label="w")
    w.grad = 7.0
    assert jvp(lambda a: (a * w).sin(), (0.2,), (1.0,))[1] == pytest.approx(1.5 * math.cos(0.3))
    assert hvp(lambda a: (a * w).sin(), (0.2,), (1.0,))[0] == pytest.approx(
        -(1.5**2) * math.sin(0.3))
    assert jacfwd(lambda a: [a * w, a + w])(0.2) == (1.5, 1.0)
    out = (w * w).tanh()
    assert cost(out, [w]) == (3, 3) and w.grad == 7.0 and out.grad == 0.0


def test_bad_input_is_refused_before_f_runs():
    called = []

    def f(a, b):
        called.append(1)
        return a * b

    with pytest.raises(ValueError, match="jvp: 2 primals but 1 tangents"):
        jvp(f, (1.0, 2.0), (1.0,))
    with pytest.raises(TypeError, match="jvp: primal 1 must be a bool, int or float, got str"):
        jvp(f, (1.0, "2"), (1.0, 1.0))
    with pytest.raises(TypeError, match="hvp: tangent 0 must be a bool, int or float, got Value"):
        hvp(f, (1.0, 2.0), (Value(1.0), 1.0))
    assert not called
    with pytest.raises(TypeError, match="jvp: the function result must be .* got list"):
        jvp(lambda a: [a], (1.0,), (1.0,))
    x = Value(1.0)
    with pytest.raises(TypeError, match="tangents_of: seeds' keys must be Values, got str"):
        tangents_of(x * 2, {"x": 1.0})
    with pytest.raises(TypeError, match="forward_steps: outputs must be Values, got float"):
        list(forward_steps([x, 2.0], {x: 1.0}))
    with pytest.raises(TypeError, match="cost: inputs must be Values, got int"):
        cost(x * 2, [x, 3])
    with pytest.raises(TypeError, match="a tangent must be a bool, int or float, got str"):
        tangents_of(x * 2, {x: "1"})


def test_a_closure_node_is_named_in_the_error():
    a = Value(2.0, label="a")
    c = Value(a.data * 3, (a,), "triple", label="c")
    c._backward = lambda: None
    with pytest.raises(TypeError, match=r"label='c'.*op 'triple'.*no local derivatives"):
        tangents_of(c + 1, {a: 1.0})
    with pytest.raises(TypeError, match=r"label='c'"):
        list(forward_steps(c, {a: 1.0}))


# ----------------------------------------------------------------------------- jacfwd, hvp
def vector(x, y, z):
    return [x * y + z.sin(), (x / z).exp(), y.relu() * y, x.tanh()]


@pytest.mark.parametrize("argnums", [0, 2, (0, 1, 2), (2, 0)])
def test_jacfwd_equals_jacobian(argnums):
    args = (0.4, -1.3, 2.2)
    fwd, rev = jacfwd(vector, argnums)(*args), functional.jacobian(vector, argnums)(*args)
    assert type(fwd) is tuple and len(fwd) == 4
    for row_f, row_r in zip(fwd, rev, strict=True):
        assert type(row_f) is type(row_r)
        for a, b in zip(*((row_f, row_r) if isinstance(row_f, tuple) else ((row_f,), (row_r,)))):
            assert type(a) is float and a == pytest.approx(b, rel=1e-15, abs=1e-300)
    scalar = lambda x, y: (x * y).log()  # noqa: E731
    assert jacfwd(scalar)(2.0, 3.0) == functional.jacobian(scalar)(2.0, 3.0) == 0.5
    assert jacfwd(scalar, (1, 0))(2.0, 3.0) == pytest.approx((1 / 3, 0.5), rel=1e-15)
    assert jacfwd(scalar).__name__ == "jacfwd(<lambda>)"
    with pytest.raises(ValueError, match=r"jacfwd: argnums=3 does not fit 2"):
        jacfwd(scalar, 3)(2.0, 3.0)


@settings(max_examples=40, deadline=None)
@given(expression_graphs(constants=True))
def test_jacfwd_equals_jacobian_on_graphs(graph):
    n = len(graph.inputs)
    f = lambda *xs: [graph.build(list(xs))[1], xs[0] * 1.5]  # noqa: E731
    fwd = jacfwd(f, tuple(range(n)))(*graph.inputs)
    rev = functional.jacobian(f, tuple(range(n)))(*graph.inputs)
    leaves, out = graph.build()
    for row_f, row_r in zip(fwd, rev, strict=True):
        for x, a, b in zip(leaves, row_f, row_r, strict=True):
            assert abs(a - b) <= 1e-12 * scale(out, {x: 1.0})


@settings(max_examples=30, deadline=None)
@given(expression_graphs(max_inputs=3, max_steps=6), directions)
def test_hvp_equals_reverse_over_reverse(graph, v):
    n = len(graph.inputs)
    f = lambda *xs: graph.build(list(xs))[1]  # noqa: E731
    fwd, rev = hvp(f, graph.inputs, v[:n]), functional.hvp(f, graph.inputs, v[:n])
    assert type(fwd) is type(rev) is tuple and len(fwd) == n
    size = max(1.0, *(abs(r) for r in rev))
    assert all(abs(a - b) <= 1e-12 * size for a, b in zip(fwd, rev))


def test_hvp_against_sympy():
    x, y = sp.symbols("x y")
    expr = x**2 * y + sp.sin(y) * sp.exp(x)
    point, v = {x: 1.5, y: -0.5}, (0.7, -2.0)
    hess = sp.hessian(expr, (x, y)).subs(point)
    want = [float(sum(hess[i, j] * v[j] for j in range(2))) for i in range(2)]
    got = hvp(lambda a, b: a**2 * b + b.sin() * a.exp(), (1.5, -0.5), v)
    assert got == pytest.approx(want, rel=1e-14)


# ----------------------------------------------------------------------------- records
@settings(max_examples=60, deadline=None)
@given(expression_graphs(constants=True), directions)
def test_records_match_finite_differences_and_the_fast_pass(graph, v):
    leaves, out = graph.build()
    v = v[: len(leaves)]
    seeds = dict(zip(leaves, v))
    grads = with_grads_marked(out)
    records = list(forward_steps(out, seeds))
    assert {node: node.grad for node in topological_order(out)} == grads
    assert not records or records[-1][0] is out or all(r[0] is not out for r in records)
    (fast,) = tangents_of(out, seeds)
    assert fast == dict((n, t) for n, t, _ in records).get(out, 0.0)  # bit for bit
    # each node's tangent against central differences of the same program along v
    h = 1e-6
    position = {node: i for i, node in enumerate(topological_order(out))}
    plus = topological_order(graph.build([Value(x + h * t) for x, t in zip(graph.inputs, v)])[1])
    minus = topological_order(graph.build([Value(x - h * t) for x, t in zip(graph.inputs, v)])[1])
    for node, tangent, edges in records:
        i = position[node]
        fd = (plus[i].data - minus[i].data) / (2 * h)
        assert abs(tangent - fd) <= 1e-5 * max(1.0, scale(node, seeds)), (node, tangent, fd)
        reached = [e for e in edges if e[2] is not None]
        for _parent, local, parent_tangent, product in reached:
            assert product == local * parent_tangent
        if edges:
            assert [e[0] for e in edges] == list(node.parents)
            total = reached[0][3]
            for e in reached[1:]:
                total = total + e[3]  # the sum in edge order
            assert tangent == total


def test_records_name_every_edge_and_seeds_come_first():
    x, y, c = Value(0.5, label="x"), Value(-2.0, label="y"), Value(3.0, label="c")
    m = x * y
    out = (m + c).relu() + x
    records = list(forward_steps(out, {x: 1.0, y: 0.0}))
    assert [r[0] for r in records[:2]] == [x, y] and records[0][1:] == (1.0, [])
    node, t, edges = records[2]
    assert node is m and t == -2.0 and edges == [(x, -2.0, 1.0, -2.0), (y, 0.5, 0.0, 0.0)]
    node, t, edges = records[3]
    assert edges == [(m, 1.0, -2.0, -2.0), (c, 1.0, None, None)]  # c depends on no input
    node, t, edges = records[4]  # relu of 2.0: on
    assert t == -2.0
    assert records[-1][0] is out and records[-1][1] == -2.0 + 1.0
    assert list(forward_steps([], {x: 1.0})) == []


# ----------------------------------------------------------------------------- NaN, inf, MASK
def test_mask_locals_make_the_product_zero_as_in_backward():
    x = Value(-1.0)
    r = x.relu()
    assert r.local_grads[0] is MASK
    assert tangents_of(r, {x: math.inf}) == [0.0]
    assert tangents_of(r, {x: math.nan}) == [0.0]
    (record,) = [rec for rec in forward_steps(r, {x: math.inf}) if rec[0] is r]
    assert record[2][0][3] == 0.0
    r.backward(math.inf)
    assert x.grad == 0.0  # backward's rule, the same


CASES = {  # name: (engine f, torch f, primals, tangents)
    "sqrt(0), tangent 0": (lambda a: a.sqrt(), lambda a: a.sqrt(), (0.0,), (0.0,)),
    "x·y, x=inf, ẏ=0": (lambda a, b: a * b, lambda a, b: a * b, (math.inf, 2.0), (1.0, 0.0)),
    "relu off, ẋ=inf": (lambda a: a.relu(), lambda a: a.relu(), (-1.0,), (math.inf,)),
    "relu off, ẋ=nan": (lambda a: a.relu(), lambda a: a.relu(), (-1.0,), (math.nan,)),
    "abs(0), ẋ=inf": (lambda a: abs(a), lambda a: a.abs(), (0.0,), (math.inf,)),
    "x**0, ẋ=inf": (lambda a: a**0, lambda a: a**0, (0.0,), (math.inf,)),
    "x·inf const, ẋ=0": (lambda a: a * Value(math.inf), None, (1.0,), (0.0,)),
    "x + sqrt(0) const": (lambda a: a + Value(0.0).sqrt() * 2, None, (1.0,), (1.0,)),
    "exp(1000), ẋ=1": (lambda a: a.exp(), lambda a: a.exp(), (1000.0,), (1.0,)),
}


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("name", CASES)
def test_nan_and_inf_as_torch_func_jvp(name):
    torch = pytest.importorskip("torch")
    f, tf, primals, tangents = CASES[name]
    value, t = jvp(f, primals, tangents)
    t64 = [torch.tensor(p, dtype=torch.float64) for p in primals]
    if tf is None:  # a constant made inside: the same expression with a non-dual tensor
        zero, inf = (torch.tensor(x, dtype=torch.float64) for x in (0.0, math.inf))
        tf = {"x·inf const, ẋ=0": lambda a: a * inf,
              "x + sqrt(0) const": lambda a: a + zero.sqrt() * 2}[name]
    tv, tt = torch.func.jvp(tf, tuple(t64), tuple(torch.tensor(x, dtype=torch.float64)
                                                  for x in tangents))
    assert same(value, tv.item()) and same(t, tt.item()), (value, t, tv.item(), tt.item())


def test_nan_and_inf_by_the_rule_without_torch():
    assert math.isnan(jvp(lambda a: a.sqrt(), (0.0,), (0.0,))[1])  # 0 × inf
    assert math.isnan(jvp(lambda a: a * Value(math.inf), (1.0,), (0.0,))[1])
    assert jvp(lambda a: a * Value(math.inf), (1.0,), (-1.0,))[1] == -math.inf
    # sqrt'(0) = inf on the edge to a constant, which has no tangent: skipped, no NaN
    assert jvp(lambda a: a + Value(0.0).sqrt(), (1.0,), (1.0,))[1] == 1.0


def test_a_masked_parent_gives_zero_if_it_depends_on_a_seed_and_none_otherwise():
    """Behind an off ReLU the product is 0.0 whatever the tangent, but whether there is one
    still matters downstream: a real 0 turns sqrt'(0) = inf into NaN, none skips the edge."""
    x, c = Value(1.0), Value(-1.0)
    dependent = (x - 10.0).relu()  # off, and depends on x: tangent 0.0
    assert math.isnan(tangents_of(x + dependent.sqrt(), {x: 1.0})[0])
    independent = (c * 2.0).relu()  # off, depends on no seed: no tangent
    assert tangents_of(x + independent.sqrt(), {x: 1.0}) == [1.0]
    u = x * -2.0  # behind a mask on one edge and not on the other: computed
    assert tangents_of(u.relu() + u * 3.0, {x: 1.0}) == [-6.0]
    assert tangents_of([u.relu(), u], {x: 1.0}) == [0.0, -2.0]
    # an off neuron whose first weight is seeded: its sum is left out, and ṙ is still 0.0
    w, c = Value(-1.0), Value(1.0)
    r = autograd.linear([w, c], [x, x], -0.5).relu()  # −1 + 1 − 0.5 < 0
    assert _interior([r], [w])[1] == {r.parents[0]}
    assert tangents_of([r, r * 2.0 + w], {w: 1.0, c: math.inf}) == [0.0, 1.0]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0), st.sampled_from([1.0, 0.0, math.inf]))
def test_the_pass_equals_every_node_s_tangent_on_relu_networks(seed, share, odd):
    """On small ReLU networks seeded in a random share of the parameters (the pass leaves out
    the sums behind off ReLUs whose first weight is seeded), against forward_steps: the same
    bits, with an odd tangent (0, inf) among the seeds."""
    rng = random.Random(seed)
    model = nn.MLP(2, [3, 3, 1], rng=rng)
    out = model([Value(rng.uniform(-2.0, 2.0)) for _ in range(2)])
    hidden = [n for n in topological_order(out) if n.op is not None and n.op.name == "relu"]
    seeds = {p: rng.uniform(-1.0, 1.0) for p in model.parameters() if rng.random() < share}
    if seeds:
        seeds[next(iter(seeds))] = odd
    outs = [out, *hidden[-2:]]
    full = {node: t for node, t, _ in forward_steps(outs, seeds)}
    assert [repr(t) for t in tangents_of(outs, seeds)] == [repr(full.get(n, 0.0)) for n in outs]


@settings(max_examples=200, deadline=None)
@given(expression_graphs(table=[ops.RELU, ops.ABS, ops.SQRT, ops.MUL, ops.ADD, ops.SUB,
                                ops.pow_const(0.0), ops.pow_const(2.0)], constants=True),
       directions, st.integers(0, 7))
def test_the_pass_equals_every_node_s_tangent_bit_for_bit(graph, v, mask):
    """tangents_of (the slot pass) against forward_steps (a table, its own loop) on graphs
    full of masks, kinks and infinite locals: the same bits, NaN, inf and signs of zero
    included, for several outputs."""
    leaves, out = graph.build()
    seeds = {x: t for i, (x, t) in enumerate(zip(leaves, v)) if mask >> i & 1}
    outs = [n for n in topological_order(out) if not n.is_leaf][-3:] or [out]
    full = {node: t for node, t, _ in forward_steps(outs, seeds)}
    assert [repr(t) for t in tangents_of(outs, seeds)] == [repr(full.get(n, 0.0)) for n in outs]


# ----------------------------------------------------------------------------- cost
def test_cost_counts_products_by_hand():
    x, y = Value(0.5), Value(-2.0)
    out = (x * y + x).tanh()
    # edges: mul→x, mul→y, add→mul, add→x, tanh→add. Forward: x reaches 4 of them, y 3;
    # reverse: each of the 5 once.
    assert cost(out, [x, y]) == (7, 5)
    assert cost(out, [x]) == (4, 4)
    assert cost(out, [y]).forward == 3 and cost(Value(1.0), [x]) == (0, 0)


def counted_products(out: Value, inputs: list[Value]) -> tuple[int, int]:
    """The products the passes take: forward records with a product, one pass per input;
    the calls autograd.grad makes to its product."""
    forward = sum(
        1 for x in inputs for _, _, edges in forward_steps(out, {x: 1.0}) for e in edges
        if e[3] is not None
    )
    counted = []
    original = functional._product  # the one product autograd.grad's pass takes
    functional._product = lambda g, local: counted.append(1) or original(g, local)
    try:
        autograd.grad(out, inputs, materialize_grads=True)
    finally:
        functional._product = original
    return forward, len(counted)


@settings(max_examples=40, deadline=None)
@given(expression_graphs(constants=True))
def test_cost_is_what_the_two_passes_do(graph):
    leaves, out = graph.build()
    assert cost(out, leaves) == counted_products(out, leaves)


def test_cost_of_an_mlp_loss_favours_reverse():
    from nn import MLP

    model = MLP(2, [16, 16, 1])
    loss = (model([Value(0.5), Value(-1.0)]) - 1.0) ** 2
    params = model.parameters()
    assert len(params) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    fwd, rev = cost(loss, params)
    assert (fwd, rev) == counted_products(loss, params)
    assert rev < fwd < len(params) * rev  # each parameter reaches only the edges after it


def test_a_seeded_interior_node_keeps_its_seed_and_outputs_may_be_leaves():
    x = Value(0.5)
    h = x * x
    y = h.sin() + x
    # seeding h cuts it from x: dy = cos(h)·ḣ + ẋ, whatever dh/dx is
    assert tangents_of(y, {h: 1.0, x: 5.0}) == [math.cos(0.25) * 1.0 + 5.0]
    assert tangents_of([x, y, Value(3.0)], {h: 2.0}) == [0.0, math.cos(0.25) * 2.0, 0.0]
    records = list(forward_steps(y, {h: 2.0}))
    assert [r[0] for r in records] == [h, y.parents[0], y]


# ----------------------------------------------------------------------------- tangent slots
@settings(max_examples=60, deadline=None)
@given(expression_graphs(constants=True), st.lists(directions, min_size=2, max_size=4),
       st.lists(st.integers(0, 7), min_size=2, max_size=4))
def test_passes_over_one_graph_read_no_tangent_of_an_earlier_pass(graph, vs, masks):
    """Each pass reads only tangents it wrote (a leaf seeded in one pass and not in the next
    has none), checked against reverse mode (grad · v) for several outputs per pass."""
    leaves, out = graph.build()
    outs = [n for n in topological_order(out) if not n.is_leaf][-3:] or [out]
    for v, mask in zip(vs, masks):
        seeds = {x: t for i, (x, t) in enumerate(zip(leaves, v)) if mask >> i & 1}
        got = tangents_of(outs, seeds)
        for node, t in zip(outs, got):
            g = (autograd.grad(node, leaves, materialize_grads=True) if seeds
                 else [0.0] * len(leaves))
            want = sum(gi * seeds.get(x, 0.0) for gi, x in zip(g, leaves))
            assert close_to(t, want, node, seeds) or (math.isnan(t) and math.isnan(want))


def test_a_pass_inside_f_or_one_that_fails_leaves_nothing_for_the_next():
    """jvp of an f that itself pushes tangents through nodes the outer pass reads (w, h),
    and a pass stopped by an error, leave no tangent behind: d/dx (x·h + sin(x)·w) = h +
    cos(x)·w whatever the earlier passes seeded."""
    w = Value(1.3, label="w")
    h = (w * w).tanh()
    inner = []

    def f(x):
        inner.append(tangents_of(h, {w: 5.0}))
        return x * h + x.sin() * w

    want = math.tanh(1.3**2) + math.cos(0.4) * 1.3
    value, t = jvp(f, (0.4,), (2.0,))
    assert inner == [[5.0 * 2 * 1.3 * (1 - math.tanh(1.3**2) ** 2)]]
    assert value == pytest.approx(0.4 * math.tanh(1.3**2) + math.sin(0.4) * 1.3, rel=1e-15)
    assert t == pytest.approx(2.0 * want, rel=1e-15)
    c = Value(w.data * 3, (w,), "triple", label="c")
    c._backward = lambda: None
    with pytest.raises(TypeError, match="label='c'"):
        tangents_of(h * c, {w: 5.0})  # h gets a tangent, then c fails
    y = Value(0.4)
    assert tangents_of(y * h + y.sin() * w, {y: 2.0}) == [pytest.approx(2.0 * want, rel=1e-15)]
    assert tangents_of([h, w], {y: 1.0}) == [0.0, 0.0]


def test_tangents_stay_out_of_sight():
    """repr, .grad and a deep copy are as before a pass; the copy's passes are the same."""
    import copy

    x = Value(0.7, label="x")
    y = (x * 2.0).tanh() * x
    before = [repr(n) for n in topological_order(y)]
    (t,) = tangents_of(y, {x: 3.0})
    assert [repr(n) for n in topological_order(y)] == before
    twin = copy.deepcopy(y)
    (x2,) = [n for n in topological_order(twin) if n.label == "x"]
    assert tangents_of(twin, {x2: 3.0}) == [t] and tangents_of(twin, {}) == [0.0]
    assert t == pytest.approx(3.0 * (math.tanh(1.4) + 1.4 * (1 - math.tanh(1.4) ** 2)),
                              rel=1e-15)
