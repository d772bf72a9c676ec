"""Value: construction, display, known derivatives, errors."""

from __future__ import annotations

import contextlib
import copy
import itertools
import math

import pytest

import autograd
from autograd import DomainError, Value, no_grad, ops, topological_order
from autograd import value as value_module


@pytest.mark.parametrize("data, expected", [(True, 1.0), (3, 3.0), (2.5, 2.5), (-0.0, -0.0)])
def test_data_is_coerced_to_float(data, expected):
    v = Value(data)
    assert type(v.data) is float and v.data == expected and v.grad == 0.0


@pytest.mark.parametrize("bad", ["1.0", None, [1.0], 1 + 2j, Value(1.0)])
def test_other_data_is_a_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


@pytest.mark.parametrize("bad", ["2", None, [1.0], 1j])
def test_bad_operands_are_type_errors(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(1.0) * bad
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(1.0).log() + bad


def test_attributes_and_repr():
    a = Value(2.0, label="a")
    b = a * 3
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    assert repr(b) == "Value(data=6.0, grad=0.0)"
    assert b.parents[0] is a and b.parents[1].data == 3.0 and b.parents[1].is_leaf
    assert b.local_grads == (3.0, 2.0)
    assert list(b.edges()) == list(zip(b.parents, b.local_grads))
    assert b.op is ops.MUL and b._op == "×" and a.op is None and a.is_leaf
    assert hash(a) != hash(Value(2.0)) and a != Value(2.0)  # identity semantics
    assert a < 3 and a > 1.5 and a >= Value(2.0) and float(a) == 2.0


def test_micrograd_readme_expression():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_a_plus_a_has_two_edges_and_gradient_two():
    a = Value(3.0)
    b = a + a
    assert b.parents == (a, a)
    b.backward()
    assert a.grad == 2.0


def test_multi_path_gradient_is_four():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert b.grad == 2.0 and a.grad == 4.0


def test_repeated_backward_interior_fresh_leaves_accumulate():
    x, w = Value(2.0, label="x"), Value(-1.5, label="w")
    h = (x * w).tanh()
    y = h * h
    y.backward()
    first = (x.grad, w.grad, h.grad)
    y.backward()
    assert h.grad == first[2]  # interior: recomputed, not doubled
    assert (x.grad, w.grad) == (2 * first[0], 2 * first[1])  # leaves: accumulated
    x.grad = w.grad = 0.0
    y.backward(grad=3.0)
    assert math.isclose(w.grad, 3 * first[1], rel_tol=1e-15) and h.grad == 3 * first[2]


def test_backward_on_a_leaf_accumulates():
    x = Value(1.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


@pytest.mark.parametrize("make, slope_at_zero", [(lambda x: x.relu(), 0.0),
                                                  (lambda x: abs(x), 0.0),
                                                  (lambda x: x.leaky_relu(0.1), 0.1)])
def test_derivative_at_the_kink_follows_pytorch(make, slope_at_zero):
    x = Value(0.0)
    make(x).backward()
    assert x.grad == slope_at_zero


DOMAIN_CASES = [
    (lambda x: x.log(), 0.0, DomainError, "log"),
    (lambda x: x.log(), -1.0, DomainError, "log"),
    (lambda x: x.sqrt(), -4.0, DomainError, "sqrt"),
    (lambda x: 1.0 / x, 0.0, ZeroDivisionError, "div"),
    (lambda x: x**-2, 0.0, ZeroDivisionError, "pow_const"),
    (lambda x: x**0.5, -2.0, DomainError, "pow_const"),
    (lambda x: x ** Value(2.0), -2.0, DomainError, "pow"),
    (lambda x: x ** Value(-1.0), 0.0, ZeroDivisionError, "pow"),
]


@pytest.mark.parametrize("fn, x, error, opname", DOMAIN_CASES)
def test_domain_errors_name_op_operand_and_label(fn, x, error, opname):
    with pytest.raises(error) as info:
        fn(Value(x, label="my_x"))
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert msg.startswith(opname + ":") and repr(x) in msg and "'my_x'" in msg


def test_results_are_never_complex():
    for v in (Value(-8.0) ** 3, Value(4.0) ** 0.5, Value(2.0) ** Value(0.5)):
        assert isinstance(v.data, float)


def test_sqrt_at_zero_has_infinite_slope_not_an_error():
    x = Value(0.0)
    y = x.sqrt()
    assert y.data == 0.0 and y.local_grads == (math.inf,)


def test_sum_is_one_node():
    xs = [Value(float(i), label=f"x{i}") for i in range(5)]
    s = autograd.sum(xs, start=2.0)
    assert s.op is ops.SUM and s.data == 12.0
    assert s.local_grads == (1.0,) * 6 and s.parents[1:] == tuple(xs)
    (s * s).backward()
    assert all(x.grad == 24.0 for x in xs)
    assert autograd.sum(xs).parents == tuple(xs)


def test_python_sum_works():
    xs = [Value(1.5), Value(2.5)]
    s = sum(xs)
    s.backward()
    assert s.data == 4.0 and [x.grad for x in xs] == [1.0, 1.0]


def test_linear_is_one_node_with_the_declared_local_derivatives():
    w = [Value(0.5, label="w0"), Value(-2.0, label="w1")]
    b = Value(0.25, label="b")
    x_plain = [3.0, 4.0]
    z = autograd.linear(w, x_plain, b)
    assert z.data == 0.25 + 0.5 * 3.0 + -2.0 * 4.0
    assert z.parents == (w[0], w[1], b) and z.local_grads == (3.0, 4.0, 1.0)
    xs = [Value(3.0), Value(4.0)]
    z = autograd.linear(w, xs, b)
    assert z.parents == (w[0], w[1], xs[0], xs[1], b)
    assert z.local_grads == (3.0, 4.0, 0.5, -2.0, 1.0)
    z.tanh().backward()
    slope = 1 - math.tanh(z.data) ** 2
    assert [v.grad for v in xs] == [slope * 0.5, slope * -2.0]
    assert b.grad == slope


def test_linear_equals_composed_binary_ops():
    w = [Value(0.1 * i - 0.3) for i in range(7)]
    x = [Value(0.2 * i + 0.1) for i in range(7)]
    b = Value(0.4)
    fused = autograd.linear(w, x, b)
    composed = sum((wi * xi for wi, xi in zip(w, x)), b)
    assert fused.data == composed.data
    fused.backward()
    g_fused = [v.grad for v in w + x + [b]]
    for v in w + x + [b]:
        v.grad = 0.0
    composed.backward()
    assert g_fused == [v.grad for v in w + x + [b]]


def test_linear_mixed_sides_and_errors():
    w = [Value(1.0), 2.0]
    z = autograd.linear(w, [Value(3.0), Value(4.0)], 1.0)
    assert z.data == 12.0 and len(z.parents) == 5  # 2.0 and the bias became constants
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        autograd.linear(w, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="str"):
        autograd.linear([Value(1.0)], ["x"])


@pytest.mark.parametrize("inputs", [[0.5, -1.5, 2.0], "values", [Value(0.5), -1.5, 2.0]])
def test_linear_layer_is_linear_row_by_row(inputs):
    if inputs == "values":
        inputs = [Value(0.5), Value(-1.5), Value(2.0)]
    rows = [[Value(0.3), Value(-0.7), Value(1.1)], [Value(2.0), 0.5, Value(-1.0)], [1.0, 2.0, 3.0]]
    biases = [Value(0.1), 0.25, 0.0]
    layer = autograd.value.linear_layer(rows, inputs, biases)
    for node, w, b in zip(layer, rows, biases, strict=True):
        alone = autograd.linear(w, inputs, b)
        assert node.data == alone.data and node.op is alone.op
        assert [p.data for p in node.parents] == [p.data for p in alone.parents]
        assert node.local_grads == alone.local_grads
    no_bias = autograd.value.linear_layer(rows[:1], inputs)
    assert no_bias[0].data == autograd.linear(rows[0], inputs).data
    with pytest.raises(ValueError, match="2 rows of weights but 1 biases"):
        autograd.value.linear_layer(rows[:2], inputs, biases[:1])
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        autograd.value.linear_layer([[Value(1.0), Value(2.0)]], inputs, [Value(0.0)])


def test_star_import_keeps_the_builtins():
    namespace: dict = {}
    exec("from autograd import *", namespace)
    for name in ("sum", "compile", "abs", "min", "max"):
        assert name not in namespace, name
    assert "Value" in namespace and "no_grad" in namespace
    assert callable(autograd.sum) and callable(autograd.compile)


@pytest.mark.parametrize("big", [10**400, -(10**400), 2**1024])
def test_a_number_too_large_for_a_float_is_named(big):
    with pytest.raises(OverflowError, match="too large for a float") as info:
        Value(big)
    assert str(big)[:12] in str(info.value) and "digits" in str(info.value)


def test_labels_are_strings_and_keep_any_character():
    v = Value(1.0, label=7)
    assert v.label == "7"
    v.label = ("a", 1)
    assert v.label == "('a', 1)"
    v.label = None
    assert v.label == ""
    for text in ("a\x00b", "lone \ud800 surrogate", "é∂"):
        v.label = text
        assert v.label == text and repr(text) in repr(v)
    assert (v * 2).label == "" and (v * 2).tanh().label == ""


def test_nan_and_inf_operands_follow_pytorch():
    x = Value(math.nan)
    y = x.relu()
    y.backward()
    assert math.isnan(y.data) and x.grad == 1.0  # PyTorch: relu(nan) = nan, slope 1
    assert math.isnan(Value(math.nan).log().data)  # NaN is never refused
    assert (Value(math.nan) ** 0).data == 1.0
    assert Value(math.inf).exp().data == math.inf and Value(1000.0).exp().data == math.inf
    assert (Value(1e200) ** 2).data == math.inf and (Value(-1e200) ** 3).data == -math.inf
    assert math.isnan(Value(math.inf).sin().data) and math.isnan(Value(-math.inf).cos().data)
    assert (Value(0.0) ** Value(0.0)).data == 1.0


def _chain(depth: int) -> tuple[Value, Value]:
    """x → … → y, ``depth`` nodes of ×, tanh and a three-term sum (n-ary) in turn."""
    x = y = Value(0.5, label="x")
    for i in range(depth):
        y = (y * 1.0001, y.tanh(), autograd.sum([y, x, 0.25]))[i % 3]
    return x, y


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deepcopy_of_a_deep_graph_copies_every_node_without_recursion(depth):
    x, y = _chain(depth)
    y.label = "y"
    y.backward()
    twin = copy.deepcopy(y)
    nodes, copies = topological_order(y), topological_order(twin)
    assert len(copies) == len(nodes) > depth  # (and x, and the constants)
    assert not {id(n) for n in nodes} & {id(n) for n in copies}  # nothing shared
    index = {n: i for i, n in enumerate(nodes)}
    copied = {n: i for i, n in enumerate(copies)}
    for a, b in zip(nodes, copies, strict=True):
        assert (repr(a.data), repr(a.grad), a.label, a.op) == (repr(b.data), repr(b.grad),
                                                               b.label, b.op)
        assert [index[p] for p in a.parents] == [copied[p] for p in b.parents]
        assert [repr(d) for d in a.local_grads] == [repr(d) for d in b.local_grads]
    # the copy is a graph of its own: backward on it gives the original's grads again
    for n in copies:
        n.grad = 0.0
    twin.backward()
    assert [repr(n.grad) for n in copies] == [repr(n.grad) for n in nodes]


def test_shallow_copy_of_a_deep_graph_shares_the_parents():
    _, y = _chain(100_000)
    twin = copy.copy(y)
    assert twin is not y and twin.data == y.data and twin.parents == y.parents
    assert all(p is q for p, q in zip(twin.parents, y.parents))


def _outcome(f, *operands):
    """What applying ``f`` gives, in bits: data, local derivatives (with their types, so a
    MASK shows), op and parents (labelled operands, or constant leaves); or the error's type
    and message."""
    try:
        node = f(*operands)
    except Exception as err:  # noqa: BLE001 (compared, not swallowed)
        return type(err), str(err)
    return (repr(node.data), repr(node.grad), node.label, node.op,
            [(repr(d), type(d)) for d in node.local_grads],
            [(repr(p.data), p.label, p.is_leaf) for p in node.parents])


@pytest.mark.parametrize("op", list(value_module._GENERATED), ids=lambda op: op.name)
def test_generated_methods_equal_the_closure_over_the_entry(op):
    # the generated function (the table's rules written in) against the closure over the same
    # entry that calls its rules, the maker every declared op gets: same bits, same refusals
    from tests.edge_values import BINARY, UNARY

    generated = value_module._GENERATED[op]
    closure = value_module._unary(op) if op.arity == 1 else value_module._binary(op)
    grids = [(x,) for x in UNARY] if op.arity == 1 else list(itertools.product(BINARY, BINARY))
    for args in grids:
        operands = [Value(x, label=f"v{i}") for i, x in enumerate(args)]
        for mode in (contextlib.nullcontext, no_grad):
            with mode():
                assert _outcome(generated, *operands) == _outcome(closure, *operands), args
        if op.arity == 2:  # a plain-number right operand becomes a constant leaf
            assert _outcome(generated, operands[0], args[1]) == _outcome(
                closure, operands[0], args[1]), args
