"""detect_anomaly: the first NaN/±inf in forward or backward, with its provenance; free when off."""

from __future__ import annotations

import math
import threading

import pytest

import autograd
from autograd import AnomalyError, Value, detect_anomaly, linear, ops
from autograd import value as value_module
from autograd.anomaly import is_active

# the methods as made, captured before any test enters detect_anomaly
METHODS = {name: f for name, f in vars(Value).items()
           if getattr(f, "__module__", "") == "autograd.value"}
ADD, MUL, MAKE = Value.__dict__["__add__"], Value.__dict__["__mul__"], value_module.make


def backward_checks() -> bool:
    """Whether backward stops at an infinite gradient (√ at 0 has local derivative inf)."""
    y = Value(0.0).sqrt() * 2.0
    try:
        y.backward()
    except AnomalyError:
        return True
    return False


def originals_in_place() -> bool:
    return (
        all(Value.__dict__[name] is f for name, f in METHODS.items())
        and value_module.make is MAKE
        and not backward_checks()
    )


def test_off_means_the_original_functions():
    assert originals_in_place() and not is_active()
    assert {"__add__", "__mul__", "__radd__", "tanh", "relu", "log", "leaky_relu"} <= set(METHODS)
    assert ADD.__module__ == MUL.__module__ == MAKE.__module__ == "autograd.value"
    with detect_anomaly():
        assert not originals_in_place() and is_active()
    assert originals_in_place() and not is_active()


def test_off_by_default_nothing_raises():
    x = Value(1e200)
    assert (x * x).data == math.inf
    y = Value(0.0).sqrt() * 2.0
    y.backward()
    assert y.parents[0].parents[0].grad == math.inf


def test_forward_overflow_names_op_operands_labels_and_line():
    x = Value(1e200, label="x")
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        boom = x * x  # noqa: F841  (the line the message must quote)
    msg = str(info.value)
    assert "mul (×) produced inf" in msg and "a = 1e+200 (label 'x')" in msg
    assert "test_anomaly.py" in msg and "boom = x * x" in msg
    assert originals_in_place()  # restored after the exception


def user_function(v: Value) -> Value:
    return v / 1e-300  # the user's line, below the engine's frames


@pytest.mark.parametrize(
    "build, op, line",
    [
        (lambda v: user_function(v), "div", "return v / 1e-300"),
        (lambda v: autograd.sum([v, v * 1.0]), "sum", "autograd.sum([v, v * 1.0])"),
        (lambda v: linear([v, v], [1.0, 1.0]), "linear", "linear([v, v], [1.0, 1.0])"),
        (lambda v: v + v, "add", "lambda v: v + v"),
        (lambda v: 10.0 * v, "mul", "lambda v: 10.0 * v"),  # __rmul__
    ],
)
def test_forward_every_path_that_builds_nodes(build, op, line):
    v = Value(1.5e308, label="big")
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        build(v)
    msg = str(info.value)
    assert f"{op} (" in msg and "inf" in msg and line in msg


@pytest.mark.parametrize(
    "method, data", [("relu", math.inf), ("tanh", math.nan), ("sigmoid", math.nan),
                     ("softplus", math.nan), ("abs", -math.inf), ("sin", math.nan)])
def test_activation_methods_that_build_their_node_inline_are_checked(method, data):
    x = Value(data, label="x")
    assert not math.isfinite(getattr(x, method)().data)  # outside the block: no check
    with detect_anomaly(), pytest.raises(AnomalyError, match=rf"{method} .*produced.*'x'"):
        getattr(x, method)()


def test_forward_nan_from_operands():
    x = Value(math.inf, label="x")
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"mul \(×\) produced nan.*'x'"):
        x * 0.0


def test_custom_op_producing_nan(restore_op_table):
    op = ops.declare("nan_maker", lambda x: math.nan, lambda x, out: 0.0)
    with detect_anomaly(), pytest.raises(AnomalyError, match="nan_maker"):
        autograd.apply(op, Value(1.0))
    with detect_anomaly(), pytest.raises(AnomalyError, match="nan_maker"):
        Value(1.0).nan_maker()  # its method, made while the block was open, is checked too
    Value(1.0).nan_maker()  # and after it, not


def test_backward_names_node_edge_and_line():
    z = Value(0.0, label="z")
    with detect_anomaly():
        s = z.sqrt()
        s.label = "s"
        L = s * 2.0
        with pytest.raises(AnomalyError) as info:
            L.backward()
    msg = str(info.value)
    assert "z.grad = inf" in msg and "edge s (sqrt) → z" in msg
    assert "2.0 × inf = inf" in msg and "s = z.sqrt()" in msg


def test_backward_of_a_graph_made_outside_says_so():
    z = Value(0.0, label="z")
    L = z.sqrt() * 3.0
    with detect_anomaly(), pytest.raises(AnomalyError, match="no source line recorded"):
        L.backward()


def test_finite_graph_gives_the_same_grads_inside():
    def build():
        x, y = Value(0.3, label="x"), Value(-1.1, label="y")
        return x, y, (x * y).tanh() + x.exp() / y

    x1, y1, L1 = build()
    L1.backward()
    with detect_anomaly():
        x2, y2, L2 = build()
        L2.backward()
    assert (x2.grad, y2.grad) == (x1.grad, y1.grad)
    assert (L2.data, x2.grad) == (L1.data, pytest.approx(
        (1 - math.tanh(-0.33) ** 2) * -1.1 + math.exp(0.3) / -1.1))


def test_nesting_and_decorator():
    @detect_anomaly()
    def f(v):
        assert is_active()
        return v * v

    with detect_anomaly():
        f(Value(2.0))
        assert is_active()  # the inner exit left the outer block active
    assert originals_in_place()


def test_threads_see_the_checks_while_a_block_is_open():
    errors = []

    def worker():
        try:
            Value(1e200) * Value(1e200)
        except AnomalyError as err:
            errors.append(err)

    with detect_anomaly():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert len(errors) == 1


def test_the_block_keeps_no_node_alive():
    """1,000 training steps inside one block: the graphs are freed step by step, so the
    number of live Values stays flat (the nodes used to be kept for their source lines)."""
    import gc

    import nn

    model = nn.MLP(2, [3, 1], rng=0)
    opt = nn.SGD(model.parameters(), lr=0.05)
    X, y = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [1.0, 1.0, 0.0]

    def live() -> int:
        gc.collect()
        return sum(isinstance(obj, Value) for obj in gc.get_objects())

    with detect_anomaly():
        for step in range(1000):
            opt.zero_grad()
            loss = nn.mse_loss([model(x) for x in X], y)
            loss.backward()
            opt.step()
            del loss
            if step == 10:
                before = live()
        after = live()
    assert after <= before
