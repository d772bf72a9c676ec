"""Topological order, deep graphs, no_grad, freeing graphs."""

from __future__ import annotations

import gc
import math
import threading

import pytest
from hypothesis import given

from autograd import Value, is_grad_enabled, linear, no_grad, topological_order
from autograd import sum as autograd_sum
from autograd.backward import interior_order
from autograd.testing import expression_graphs


def test_chain_of_a_million_nodes_has_no_recursion_error():
    x = Value(0.5, label="x")
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    # all factors are 1, so ∂y/∂x = 1 exactly
    y.backward()
    assert x.grad == 1.0
    assert len(interior_order(y)) == 1_000_000


@given(expression_graphs())
def test_orders_put_every_node_after_its_parents(graph):
    _, out = graph.build()
    order = topological_order(out)
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order) and order[-1] is out
    for node in order:
        for parent in node.parents:
            assert position[parent] < position[node]
    interior = interior_order(out)
    assert interior == [n for n in reversed(order) if not n.is_leaf]


def test_no_grad_records_nothing_and_nests():
    x = Value(2.0)
    with no_grad():
        y = x * x + x.tanh()
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert y.is_leaf and y.op is None and y.data == 4.0 + math.tanh(2.0)
    assert not (x * x).is_leaf


def test_no_grad_as_decorator():
    @no_grad()
    def f(v):
        return v * 3

    x = Value(1.0)
    assert f(x).is_leaf and f(x).data == 3.0
    assert not (x * 3).is_leaf


def test_no_grad_is_per_thread():
    inside, proceed = threading.Event(), threading.Event()
    results = {}

    def quiet():
        with no_grad():
            inside.set()
            proceed.wait(5)
            results["quiet"] = Value(1.0) * 2

    t = threading.Thread(target=quiet)
    t.start()
    inside.wait(5)
    results["main"] = Value(1.0) * 2  # this thread still records while the other is in no_grad
    proceed.set()
    t.join(5)
    assert not results["main"].is_leaf
    assert results["quiet"].is_leaf


def _live_values() -> int:
    return sum(1 for obj in gc.get_objects() if type(obj) is Value)


def test_graphs_are_freed_without_the_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        before = _live_values()
        x = Value(1.5)
        y = x
        for _ in range(100):
            y = (y * x).tanh() + y.sigmoid()
        y.backward()
        assert _live_values() > before + 300
        del x, y
        assert _live_values() == before  # freed by reference counting alone
    finally:
        gc.enable()


def test_order_of_layers_whose_nodes_share_parents():
    """Layers of n-ary nodes on shared inputs: the order is valid, and backward matches the
    same network written with binary ops (which takes the unary/binary paths only)."""
    from autograd.value import linear_layer

    xs = [Value(0.1 * i - 0.3, label=f"x{i}") for i in range(5)]
    w1 = [[Value(0.05 * (i - j)) for j in range(5)] for i in range(4)]
    w2 = [[Value(0.3 - 0.1 * j) for j in range(4)] for _ in range(3)]
    h = [z.tanh() for z in linear_layer(w1, xs)]
    out = autograd_sum(z * z for z in linear_layer(w2, h, [Value(0.2)] * 3))
    order = topological_order(out)
    position = {node: i for i, node in enumerate(order)}
    assert all(position[p] < position[n] for n in order for p in n.parents)
    assert interior_order(out) == [n for n in reversed(order) if not n.is_leaf]
    out.backward()
    fused = [x.grad for x in xs]
    for x in xs:
        x.grad = 0.0
    h2 = [sum((w * x for w, x in zip(row, xs)), 0.0).tanh() for row in w1]
    z2 = [sum((w * x for w, x in zip(row, h2)), 0.2) for row in w2]
    sum(z * z for z in z2).backward()
    assert [x.grad for x in xs] == pytest.approx(fused, rel=1e-12)


def test_a_zero_grad_meets_an_infinite_local_as_in_pytorch():
    """An n-ary node whose grad is 0 adds nothing to its parents, unless a local derivative
    is ±inf or NaN: then 0 × inf = NaN reaches the parent, as torch.autograd gives."""
    from autograd import linear

    w = [Value(0.5, label="w0"), Value(-1.0, label="w1"), Value(2.0, label="w2")]
    finite = linear(w, [1.0, 2.0, 3.0], Value(0.1, label="b"))
    (finite * 0.0).backward()
    assert [v.grad for v in w] == [0.0, 0.0, 0.0]
    for v in w:
        v.grad = 0.0
    infinite = linear(w, [math.inf, 2.0, 3.0])
    (infinite * 0.0).backward()
    assert math.isnan(w[0].grad) and w[1].grad == 0.0 and w[2].grad == 0.0


def test_one_no_grad_object_nests_and_is_reused():
    ng = no_grad()
    with ng:
        with ng:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        with ng:
            assert not is_grad_enabled()
    assert is_grad_enabled()
    with ng:
        assert (Value(1.0) * 2).is_leaf
    assert not (Value(1.0) * 2).is_leaf


def test_one_no_grad_object_shared_by_threads():
    """Thread 1 enters, thread 2 enters the same object, thread 1 leaves first: each thread
    gets its own mode back."""
    ng = no_grad()
    one_in, two_in, one_out = threading.Event(), threading.Event(), threading.Event()
    errors: list = []

    def first():
        try:
            with ng:
                one_in.set()
                two_in.wait(5)
            assert is_grad_enabled()
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
        finally:
            one_out.set()

    def second():
        try:
            one_in.wait(5)
            with ng:
                two_in.set()
                one_out.wait(5)
                assert not is_grad_enabled()
            assert is_grad_enabled()
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert errors == [] and is_grad_enabled()


def test_no_grad_on_a_generator_function():
    @no_grad()
    def products(v, n):
        for k in range(n):
            got = yield v * k, is_grad_enabled()
            assert got is None or got == "sent"
        return "done"

    x = Value(2.0)
    gen = products(x, 3)
    node, inside = next(gen)
    assert node.is_leaf and not inside
    assert is_grad_enabled() and not (x * x).is_leaf  # the caller's mode between steps
    node, inside = gen.send("sent")
    assert node.is_leaf and not inside and node.data == 2.0
    with no_grad():
        next(gen)
    assert is_grad_enabled()
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done" and is_grad_enabled()


def test_no_grad_generator_sees_thrown_errors_and_close_inside_no_grad():
    seen = []

    @no_grad()
    def gen():
        try:
            yield 1
        except KeyError:
            seen.append(("thrown", is_grad_enabled()))
            yield 2
        finally:
            seen.append(("closed", is_grad_enabled()))

    g = gen()
    assert next(g) == 1
    assert g.throw(KeyError("k")) == 2
    g.close()
    assert seen == [("thrown", False), ("closed", False)] and is_grad_enabled()


def test_an_off_relu_passes_zero_for_an_infinite_gradient_as_in_pytorch():
    """sqrt'(0) = inf reaches the off ReLU; PyTorch's relu backward is a where, so x gets
    only the 1 of the + edge (a product would give 0 × inf = NaN)."""
    from autograd import backward_steps, ops

    x = Value(-1.0, label="x")
    r = x.relu()
    assert r.parents == (x,) and r.local_grads == (0.0,) and r.local_grads[0] is ops.MASK
    assert repr(ops.MASK) == "0.0" and ops.MASK * math.inf == 0.0 == math.nan * ops.MASK
    y = r.sqrt() + x
    y.backward()
    assert x.grad == 1.0 and r.grad == math.inf
    x.grad = 0.0
    steps = list(backward_steps(y))
    assert x.grad == 1.0
    (edge,) = [e for s in steps for e in s.edges if s.node.value is r]
    assert edge.local == 0.0 and edge.added == 0.0


def test_masks_against_live_pytorch():
    torch = pytest.importorskip("torch")
    t = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    (t.relu().sqrt() + t).backward()
    x = Value(-1.0)
    (x.relu().sqrt() + x).backward()
    assert x.grad == t.grad.item() == 1.0
    t = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    (t.tanh() * 0.0).sqrt().backward()  # a product edge: 0 × inf = nan in both
    x = Value(-1.0)
    (x.tanh() * 0.0).sqrt().backward()
    assert math.isnan(x.grad) and math.isnan(t.grad.item())


def test_threads_with_their_own_graphs_get_the_serial_numbers():
    """README: threads that build and differentiate their own graphs do not disturb each
    other (one thread inside no_grad, the others differentiating, all at once)."""
    from autograd.functional import grad as fgrad

    def work(seed: float) -> tuple[float, float, float]:
        x = Value(seed, label="x")
        y = (x * x).tanh() * x.exp() + x.sigmoid()
        y.backward()
        with no_grad():
            z = x * x
        return x.grad, fgrad(lambda v: (v * v).sin())(seed), float(z.is_leaf)

    seeds = [0.1 * k for k in range(1, 9)]
    serial = [work(s) for s in seeds]
    results: dict[int, list] = {}
    start = threading.Barrier(len(seeds))

    def run(k: int) -> None:
        start.wait(5)
        results[k] = [work(seeds[k]) for _ in range(200)]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(seeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == [serial[k]] * 200 for k in range(len(seeds)))
    assert serial[0][1] == pytest.approx(2 * 0.1 * math.cos(0.01), rel=1e-12)


def test_both_loops_skip_a_zero_gradient_sum_and_keep_a_negative_zero():
    """Σ(x, x, x)·0 gives the sum node grad 0 and finite locals: backward adds nothing into
    x, so x.grad = −0.0 stays −0.0 (adding the product +0.0 would make it 0.0, IEEE's
    −0.0 + 0.0); backward_steps follows the same rule and records no product there."""
    from autograd import backward_steps

    assert repr(-0.0 + 0.0 * 1.0) == "0.0"  # what adding the zero products would give
    for run in (Value.backward, lambda y: list(backward_steps(y))):
        x = Value(1.5, label="x")
        x.grad = -0.0
        run(autograd_sum([x, x, x]) * 0.0)
        assert repr(x.grad) == "-0.0"
    (_, sum_step) = backward_steps(autograd_sum([x, x, x]) * 0.0)
    assert [(e.local, e.added, repr(e.before), repr(e.after)) for e in sum_step.edges] == [
        (1.0, None, "-0.0", "-0.0")] * 3


def test_neither_loop_skips_a_binary_node_or_an_infinite_local():
    """A binary node always adds its products, and a sum with an inf local too (0 × inf is
    NaN, as in PyTorch): both loops give IEEE's numbers."""
    from autograd import backward_steps

    for run in (Value.backward, lambda y: list(backward_steps(y))):
        x = Value(1.5)
        x.grad = -0.0
        run((x * 1.0) * 0.0)
        assert repr(x.grad) == repr(-0.0 + 0.0 * 1.0) == "0.0"
        w = Value(2.0)
        w.grad = -0.0
        run(linear([w], [math.inf]) * 0.0)  # w's local derivative is the input, inf
        assert repr(w.grad) == repr(-0.0 + 0.0 * math.inf) == "nan"


def test_a_root_that_is_no_value_is_named():
    """step_through(model) or draw([loss]) used to fail deep inside with AttributeError."""
    import autograd

    for call in (autograd.step_through, autograd.draw, autograd.backward_trace,
                 topological_order):
        with pytest.raises(TypeError, match=r"a Value.*, got list"):
            call([Value(1.0)])
