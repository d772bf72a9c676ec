"""Compiled programs equal the engine bit for bit at the edges: every table op at 0, −0.0, ±1,
−2, 0.5, NaN, ±inf, the smallest subnormal, tiny and huge operands (every operand of a
binary or n-ary op over the whole grid), and random graphs evaluated at those points. The
oracle is the plain engine (``backward``); numbers are compared by ``repr``, so the sign of
a zero counts. A point the engine refuses (its DomainError) is left out.
"""

from __future__ import annotations

import datetime
import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd
from autograd import DomainError, Value
from autograd.testing import expression_graphs
from autograd.value import apply
from tests.edge_values import _engine_output, table

NAN, INF = math.nan, math.inf
GRID = (0.0, -0.0, 1.0, -1.0, -2.0, 0.5, NAN, INF, -INF, 5e-324, 1e-300, 1e300, -1e300)
N_ARY = 3  # operands of the n-ary ops under test (sum; linear is w, x, b)


def operand_count(op) -> int:
    return 3 if op.arity == -1 else op.arity


def grid(op) -> list[tuple[float, ...]]:
    return list(itertools.product(GRID, repeat=operand_count(op)))


def build(op, args):
    leaves = [Value(a, label=f"x{i}") for i, a in enumerate(args)]
    if op.name == "linear":
        return leaves, autograd.linear(leaves[:1], leaves[1:2], leaves[2])
    return leaves, _engine_output(op, leaves)


def engine(op, args, seed: float) -> tuple[str, ...] | None:
    """repr of the engine's value and gradients at ``args`` for upstream gradient ``seed``;
    None where it refuses."""
    try:
        leaves, out = build(op, args)
    except DomainError:
        return None
    out.backward(seed)
    return tuple(map(repr, [out.data, *(v.grad for v in leaves)]))


def compiled(op, **kw):
    """The op's program, compiled from a graph at ordinary operands."""
    leaves, out = build(op, (0.75,) * operand_count(op))
    return autograd.compile(out, leaves, **kw)


TABLE = [op for op in table() if op.name != "linear"] + [autograd.ops.linear(1, True, True, True)]


@pytest.mark.parametrize("op", TABLE, ids=lambda op: repr(op))
def test_every_op_compiled_equals_the_engine_at_every_edge(op):
    scalar, layered = compiled(op), compiled(op, layers=True)
    points = grid(op)
    for seed in (1.0, INF):
        want = [engine(op, args, seed) for args in points]
        kept = [(args, w) for args, w in zip(points, want) if w is not None]
        columns = [np.array([args[i] for args, _ in kept]) for i in range(operand_count(op))]
        for kind, program in (("scalar", scalar), ("layers", layered)):
            batch = program(*columns, seed=seed)
            for k, (args, w) in enumerate(kept):
                one = program(*args, seed=seed)
                got = tuple(map(repr, [one.outputs[0], *one.input_grads]))
                assert got == w, f"{kind} {op!r} at {args}, seed {seed}: {got} != engine {w}"
                got = tuple(repr(float(v[k])) for v in (batch.outputs[0], *batch.input_grads))
                assert got == w, f"{kind} batch {op!r} at {args}, seed {seed}: {got} != {w}"


def layer(op, x: float):
    """x → z = w·x + b (one neuron, w = 1, b = 0) → op(z): ([x], [w, b], output)."""
    xv, w, b = Value(x, label="x"), Value(1.0, label="w"), Value(0.0, label="b")
    return [xv], [w, b], apply(op, autograd.linear([w], [xv], b))


UNARY = [op for op in TABLE if op.arity == 1]


@pytest.mark.parametrize("op", UNARY, ids=lambda op: repr(op))
def test_a_layer_with_each_activation_equals_the_engine_at_every_edge(op):
    """The activation as matrix code (``layers=True``) at every edge of z: value, input and
    parameter gradients."""
    inputs, params, out = layer(op, 0.75)
    program = autograd.compile(out, inputs, params, layers=True)
    assert "@" in program.source
    for x in GRID:
        try:
            inputs, params, out = layer(op, x)
        except DomainError:
            continue
        out.backward()
        want = tuple(map(repr, [out.data, *(v.grad for v in inputs + params)]))
        r = program(x)
        got = tuple(map(repr, [r.outputs[0], *r.input_grads, *r.param_grads]))
        assert got == want, f"layered {op!r} at x = {x}: {got} != engine {want}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression_graphs(constants=True), st.data())
def test_random_graphs_compiled_equal_the_engine_at_edge_points(graph, data):
    """A random graph compiled once, run at edge operands: the engine's bits wherever the
    engine computes (a refused point is skipped)."""
    leaves, out = graph.build()
    program = autograd.compile(out, leaves)
    points = [tuple(data.draw(st.sampled_from(GRID + graph.inputs)) for _ in graph.inputs)
              for _ in range(4)]
    kept = []
    for point in points:
        try:
            leaves, out = graph.build([Value(v) for v in point])
        except DomainError:
            continue
        out.backward()
        kept.append((point, tuple(map(repr, [out.data, *(v.grad for v in leaves)]))))
    for point, want in kept:
        r = program(*point)
        assert tuple(map(repr, [r.outputs[0], *r.input_grads])) == want, (graph, point)
    if kept:
        r = program(*(np.array(column) for column in zip(*(p for p, _ in kept))))
        for k, (point, want) in enumerate(kept):
            got = tuple(repr(float(v[k])) for v in (r.outputs[0], *r.input_grads))
            assert got == want, (graph, point)


def _network():
    x, w, b = Value(0.5, label="x"), Value(1.0, label="w"), Value(0.0, label="b")
    return [x], [w, b], autograd.linear([w], [x], b).tanh()


NOT_REAL = [
    [1 + 2j, 2.0], np.array([1 + 2j]), ["1.5", "2"], np.array(["1.5"]),
    [datetime.datetime(2020, 1, 1)], np.array(["2020-01-01"], dtype="datetime64[D]"),
    np.ma.masked_array([1.0, 2.0], mask=[0, 1]), [None, 1.0], np.array([1.0], dtype=object),
    None, "1.5", 1 + 2j, datetime.date(2020, 1, 1),
]


@pytest.mark.parametrize("layers", [False, True], ids=["scalar", "layers"])
def test_inputs_that_are_not_real_numbers_are_refused_naming_the_input(layers):
    """What Value refuses (complex, str, datetime, None, objects), a program refuses too, as
    a TypeError naming the input; NumPy bool/int/float and Python numbers are real inputs."""
    inputs, params, out = _network()
    program = autograd.compile(out, inputs, params, layers=layers)
    for bad in NOT_REAL:
        if not isinstance(bad, np.ndarray):
            with pytest.raises(TypeError):  # the engine refuses it too
                Value(bad[0] if isinstance(bad, list) else bad)
        with pytest.raises(TypeError, match="input x"):
            program(bad)
    with pytest.raises(TypeError, match="parameter w"):
        program(0.5, params=["1.0", 0.0])
    for empty in ([], np.array([])):
        with pytest.raises(ValueError, match="input x is an empty batch"):
            program(empty)
    for good, data in ((np.array([True, False]), [1.0, 0.0]), ([1, 2], [1.0, 2.0]),
                       (np.array([3], dtype=np.uint8), [3.0]), (np.float32(0.5), [0.5])):
        want = [math.tanh(0.0 + 1.0 * x) for x in data]
        got = program(good).outputs[0]
        assert list(np.atleast_1d(got)) == want


def test_hostile_op_names_and_labels_compile_without_running_anything(tmp_path):
    """An op name (an Op made directly, past declare's checks) and a label that are Python
    statements become identifiers or escaped comments: compiling and running the program
    runs none of it, and the numbers are the engine's."""
    from autograd.extend import Op

    marker = tmp_path / "ran"
    attack = f"a,\n __import__('os').system('touch {marker}'),\n b"
    op = Op(attack, attack, ("x",), lambda x: 2.0 * x, lambda x, out: (2.0,), ("2",),
            builtin=False)
    x, w, b = Value(0.5, label=attack), Value(1.5, label="w"), Value(0.25, label=attack)
    hidden = apply(op, autograd.linear([w], [x], b))  # a layer whose activation is op
    out = hidden * autograd.sum(apply(op, p) for p in (w, b))  # Σ op over the parameters
    out.label = f"y\n# x\r\n__import__('os').system('touch {marker}')\u2028"
    out.backward()
    for layers in (False, True):
        program = autograd.compile(out, [x], [w, b], layers=layers)
        result = program(0.5)
        assert not marker.exists()
        assert repr(result.outputs[0]) == repr(out.data) and result.input_grads[0] == x.grad
        assert list(result.param_grads) == [w.grad, b.grad]
        for line in program.source.splitlines():
            assert "('touch" not in line.split("#")[0], line
