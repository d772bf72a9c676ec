"""autograd.compile: generated gradient programs against backward, formulas and fit."""

from __future__ import annotations

import gc
import importlib
import linecache
import math
import random
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import CompileError, Value, ops
from autograd.testing import expression_graphs

np = pytest.importorskip("numpy")


def close(a: float, b: float, tol: float = 1e-9) -> bool:
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)


def agree(a: object, b: object) -> bool:
    """a == b, bit for bit (floats, or equally long sequences of them): the engine and the
    program add left to right on every Python."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(agree(x, y) for x, y in zip(a, b))
    return a == b


@settings(max_examples=60, deadline=None)
@given(expression_graphs())
def test_floats_equal_backward(graph):
    leaves, out = graph.build()
    program = autograd.compile(out, leaves)
    out.backward()
    result = program(*graph.inputs)
    assert close(result.outputs[0], out.data)
    for leaf, g in zip(leaves, result.input_grads):
        assert close(g, leaf.grad)


@settings(max_examples=40, deadline=None)
@given(expression_graphs(), st.lists(st.floats(-0.3, 0.3), min_size=2, max_size=4))
def test_batches_equal_backward_per_sample(graph, shifts):
    """Several points as one batch, the first leaf a parameter when there are two or more:
    per-sample outputs and input gradients match backward at each point; the parameter's
    gradient is the sum over points."""
    n_params = 1 if len(graph.inputs) > 1 else 0
    leaves, out = graph.build()
    program = autograd.compile(out, leaves[n_params:], leaves[:n_params])
    points = [[x + (s * (k + 1) if k >= n_params else 0.0) for k, x in enumerate(graph.inputs)]
              for s in [0.0, *shifts]]
    expected = []
    for point in points:
        try:
            leaves, out = graph.build([Value(v) for v in point])
        except ArithmeticError:  # a shifted point left an op's domain
            return
        out.backward()
        if not math.isfinite(out.data) or abs(out.data) > 1e6:
            return
        expected.append((out.data, [v.grad for v in leaves]))
    columns = [np.array([p[k] for p in points]) for k in range(n_params, len(graph.inputs))]
    result = program(*columns)
    for k, (value, grads) in enumerate(expected):
        assert close(result.outputs[0][k], value)
        for g, want in zip(result.input_grads, grads[n_params:]):
            assert close(g[k], want)
    for g, j in zip(result.param_grads, range(n_params)):
        assert close(g, sum(grads[j] for _, grads in expected))


def test_batch_shares_parameter():
    """A parameter shared by every sample: its gradient is Σ over samples, inputs per sample."""
    w, b = Value(0.7, label="w"), Value(-0.2, label="b")
    x = Value(0.0, label="x")
    out = ((w * x + b).tanh() * x).exp() + (w * w).sin()
    program = autograd.compile(out, [x], [w, b])
    xs = [-1.5, -0.2, 0.4, 2.0]
    result = program(np.array(xs))
    gw = gb = 0.0
    for k, xv in enumerate(xs):
        w2, b2, x2 = Value(0.7), Value(-0.2), Value(xv)
        o = ((w2 * x2 + b2).tanh() * x2).exp() + (w2 * w2).sin()
        o.backward()
        assert close(result.outputs[0][k], o.data)
        assert close(result.input_grads[0][k], x2.grad)
        gw, gb = gw + w2.grad, gb + b2.grad
    assert close(result.param_grads[0], gw)
    assert close(result.param_grads[1], gb)


def test_relu_and_hinge_branch_per_sample():
    """Samples on both sides of relu's and hinge's kinks each take their own branch."""
    w, b, s = Value(1.3, label="w"), Value(0.1, label="b"), Value(0.0, label="s")
    x, y = Value(0.0, label="x"), Value(1.0, label="y")
    score = (w * x + b).relu() * s + (w * x).leaky_relu(0.1)
    hinge = (1 - y * score).relu()
    program = autograd.compile(hinge, [x, y, s], [w, b])
    xs, ys = [-2.0, -0.5, 0.3, 1.5, 2.5], [1.0, -1.0, 1.0, -1.0, 1.0]
    ss = [0.5, 2.0, -1.0, 1.0, 0.2]
    result = program(xs, ys, ss)
    gw = gb = 0.0
    sides = set()
    for k in range(len(xs)):
        z = 1.3 * xs[k] + 0.1
        lz = 1.3 * xs[k]
        sc = max(z, 0.0) * ss[k] + (lz if lz > 0 else 0.1 * lz)
        margin = 1 - ys[k] * sc
        sides.add((z > 0, margin > 0))
        dl = -ys[k] if margin > 0 else 0.0  # ∂hinge/∂score
        dz = dl * ss[k] * (1.0 if z > 0 else 0.0)
        dlz = dl * (1.0 if lz > 0 else 0.1)
        gw += (dz + dlz) * xs[k]
        gb += dz
        assert close(result.outputs[0][k], max(margin, 0.0))
        assert close(result.input_grads[0][k], (dz + dlz) * 1.3)
    assert len(sides) >= 3
    assert close(result.param_grads[0], gw)
    assert close(result.param_grads[1], gb)


def test_two_layer_network_delta_structure():
    """The seeds' network: the values of the g_z2/g_z1 lines are δ₂ = (ŷ − y) f'(z₂) and
    δ₁ = (W₂ᵀδ₂) ⊙ f'(z₁), and the weight gradients δ aᵀ, over a batch."""
    rng = random.Random(4)
    W1 = [[Value(rng.uniform(-1, 1), label=f"W1_{i}_{j}") for j in range(2)] for i in range(3)]
    b1 = [Value(rng.uniform(-1, 1), label=f"b1_{i}") for i in range(3)]
    W2 = [Value(rng.uniform(-1, 1), label=f"W2_0_{i}") for i in range(3)]
    b2 = Value(0.3, label="b2_0")
    x = [Value(0.0, label=f"x_{j}") for j in range(2)]
    y = Value(0.0, label="y")
    z1 = [autograd.linear(W1[i], x, b1[i]) for i in range(3)]
    a1 = [z.sigmoid() for z in z1]
    z2 = autograd.linear(W2, a1, b2)
    yhat = z2.sigmoid()
    loss = 0.5 * (yhat - y) ** 2
    for i in range(3):
        z1[i].label, a1[i].label = f"z1_{i}", f"a1_{i}"
    z2.label, yhat.label, loss.label = "z2", "yhat", "L"
    params = [*(w for row in W1 for w in row), *b1, *W2, b2]
    program = autograd.compile(loss, [*x, y], params)
    # read the δ lines' values back by returning them from the generated source
    ret = "    return "
    src = program.source.replace(ret, ret + "(g_z2, g_z1_0, g_z1_1, g_z1_2), ", 1)
    scope = importlib.import_module("autograd.program")._numpy_namespace()
    exec(src, scope)
    X = np.array([[0.5, -1.0], [1.5, 0.2], [-0.7, 0.9]])
    Y = np.array([1.0, 0.0, 1.0])
    values = [p.data for p in params]
    deltas, *_ = scope["gradient_program"](X[:, 0], X[:, 1], Y, *values, np.ones(3))
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    w1 = np.array([[w.data for w in row] for row in W1])
    w2 = np.array([w.data for w in W2])
    Z1 = X @ w1.T + np.array([b.data for b in b1])
    A1 = sig(Z1)
    Z2 = A1 @ w2 + b2.data
    d2 = (sig(Z2) - Y) * sig(Z2) * (1 - sig(Z2))
    d1 = np.outer(d2, w2) * A1 * (1 - A1)
    np.testing.assert_allclose(deltas[0], d2, rtol=1e-12)
    np.testing.assert_allclose(np.stack(deltas[1:], axis=1), d1, rtol=1e-12)
    grads = program(X[:, 0], X[:, 1], Y).param_grads
    np.testing.assert_allclose(np.array(grads[:6]).reshape(3, 2), d1.T @ X, rtol=1e-12)
    np.testing.assert_allclose(grads[6:9], d1.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(grads[9:12], d2 @ A1, rtol=1e-12)
    assert close(grads[12], d2.sum(), 1e-12)


def test_source_names_and_constants():
    x = Value(1.0, label="x.0")
    w = Value(2.0, label="w")
    out = (w * x + 3.5).tanh()
    out.label = "a"
    source = autograd.compile(out, [x], [w]).source
    assert "x_0" in source and "3.5" in source and "g_a = seed" in source


def test_custom_op_compiles_from_its_forward_and_rule_alone():
    """A user op declared with a forward and a local derivative, no code: the compiler runs
    both on code, so floats and batches give the engine's numbers (and 3x², x³)."""
    op = autograd.declare("cube", lambda x: x * x * x, lambda x, out: 3 * x * x)
    x = Value(0.0, label="x")
    y = autograd.apply(op, x).sin()
    program = autograd.compile(y, [x])
    assert "cube_0 = x*x * x" in program.source and "3*x * x" in program.source
    xs = [-1.7, -0.3, 0.0, 0.4, 2.2]
    batch = program(np.array(xs))
    for k, v in enumerate(xs):
        leaf = Value(v)
        out = autograd.apply(op, leaf).sin()
        out.backward()
        one = program(v)
        assert one.outputs[0] == out.data and one.input_grads[0] == leaf.grad
        assert batch.outputs[0][k] == out.data and batch.input_grads[0][k] == leaf.grad
        assert close(leaf.grad, math.cos(v**3) * 3 * v**2, 1e-12)


def test_custom_op_named_forward_function_compiles():
    """A forward that is a function the compiler knows (math.exp) is written as its call."""
    op = autograd.declare("my_exp", math.exp, lambda x, out: out)
    x = Value(0.3, label="x")
    y = autograd.apply(op, x) * x
    y.backward()
    program = autograd.compile(y, [x])
    assert "my_exp_0 = exp(x)" in program.source
    assert program(0.3).input_grads[0] == x.grad == math.exp(0.3) * 1.3


@pytest.mark.parametrize("forward, local, why", [
    (lambda x: x * x, lambda x, out: (2 * x if x > 0 else 0.0), "branches on the data"),
    (lambda x: x + 1, lambda x, out: math.cos(x), "reads an operand as a number"),
])
def test_custom_op_whose_rule_cannot_be_derived_names_the_op_and_why(forward, local, why):
    """An if on the data (or a float-only math function) cannot become code: the error
    names the node, the op and the reason; it never picks a branch silently."""
    op = ops.declare("no_code", forward, local)
    x = Value(1.5, label="x")
    y = autograd.apply(op, x)
    y.label = "cubed"
    with pytest.raises(CompileError, match=f"'cubed'.*'no_code'.*{why}"):
        autograd.compile(y, [x])


def test_custom_op_with_float_only_forward_is_called_by_reference(restore_op_table):
    """A forward that reads its operands as floats (math.erf) is called by reference: one
    sample gives the engine's numbers bit for bit, each sample of a batch too (the same
    function, element by element), and the matrix program agrees. Two ops of one name
    (declared again) get distinct bindings, clear of the labels; the program frees itself."""
    from autograd.extend import exp

    def d_erf(x: float) -> float:  # d/dx erf x = 2/√π e^(−x²)
        return 2 / math.sqrt(math.pi) * math.exp(-x * x)

    first = autograd.declare("f", math.erf, lambda x, out: 2 / math.sqrt(math.pi) * exp(-x * x))
    second = autograd.declare("f", lambda x: math.atan(x) + 0.0, lambda x, out: 1 / (1 + x * x))

    def graph(v: float, w: float) -> tuple:
        x, p = Value(v, label="op_f"), Value(w, label="p")
        y = autograd.apply(first, x * p) * x + autograd.apply(second, x)
        y.backward()
        return x, p, y

    x, p, y = graph(0.4, -1.3)
    program = autograd.compile(y, [x], [p])
    assert "f_0 = op_f_1(op_f)" in program.source  # the second f (atan), called first
    assert "f_1 = op_f_2(mul_0)" in program.source
    result = program(0.4)
    assert result.outputs[0] == y.data and result.input_grads[0] == x.grad
    assert result.param_grads[0] == p.grad
    assert close(p.grad, d_erf(-0.52) * 0.16, 1e-12)
    assert close(x.grad, d_erf(-0.52) * -0.52 + math.erf(-0.52) + 1 / 1.16, 1e-12)
    xs = [-1.0, 0.4, 2.5]
    batch = program(np.array(xs))
    for k, v in enumerate(xs):
        xk, _, yk = graph(v, -1.3)
        assert batch.outputs[0][k] == yk.data and batch.input_grads[0][k] == xk.grad

    ref = weakref.ref(program)
    gc.disable()
    try:
        del program, batch, result
        assert ref() is None  # no reference cycle through the bound forwards
    finally:
        gc.enable()

    xs_ = [Value(0.0, label=f"x{j}") for j in range(2)]
    W = [[Value(0.3 * i - 0.2 * j + 0.1, label=f"W{i}{j}") for j in range(2)] for i in range(3)]
    b = [Value(0.1 * i, label=f"b{i}") for i in range(3)]
    loss = autograd.sum(autograd.apply(first, z) for z in autograd.value.linear_layer(W, xs_, b))
    params = [w for row in W for w in row] + b
    scalar, layered = (autograd.compile(loss, xs_, params, layers=layers)
                       for layers in (False, True))
    assert "z1 = W @ x + b" in layered.source and "a1 = op_f(z1)" in layered.source
    cols = [np.array([0.5, -2.0, 1.0]), np.array([1.5, 0.25, -0.75])]
    for a, c in zip((*layered(*cols).outputs, *layered(*cols).input_grads,
                     *layered(*cols).param_grads),
                    (*scalar(*cols).outputs, *scalar(*cols).input_grads,
                     *scalar(*cols).param_grads), strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


def test_float_only_forward_outside_its_domain_in_a_batch_is_nan(restore_op_table):
    """acos(2) raises in the engine and in a one-sample program; in a batch that sample is
    nan and the others keep their exact numbers."""
    op = autograd.declare("my_acos", math.acos, lambda x, out: -1 / (1 - x * x) ** 0.5)
    x = Value(0.5, label="x")
    program = autograd.compile(autograd.apply(op, x), [x])
    with pytest.raises(ValueError):
        program(2.0)
    batch = program([0.5, 2.0])
    assert batch.outputs[0][0] == math.acos(0.5) and math.isnan(batch.outputs[0][1])


def test_builtin_entries_keep_code_only_where_derivation_is_impossible():
    """Every built-in unary and binary op compiles; an entry with hand-written code says why."""
    for op in filter(lambda op: op.builtin, ops.all_ops()):
        if op.code is not None:
            assert op.underivable, op
        x = Value(0.7, label="x")
        y = autograd.apply(op, *[x] * len(op.operands))
        y.backward()
        result = autograd.compile(y, [x])(0.7)
        assert result.outputs[0] == y.data and result.input_grads[0] == x.grad, op


def test_a_mask_gives_zero_even_for_an_inf_gradient():
    """relu(x) at x = −1 passes on 0, not 0 × inf = nan, as the engine and PyTorch's where:
    d/dx (√relu(x) + x) = 1 at x = −1 in the engine, the program (one sample, a batch) and
    the layered program; likewise x**0 under an inf gradient."""
    x = Value(-1.0, label="x")
    y = x.relu().sqrt() + x
    y.backward()
    assert x.grad == 1.0
    program = autograd.compile(y, [x])
    assert program(-1.0).input_grads[0] == 1.0
    assert program([-1.0, 4.0]).input_grads[0].tolist() == [1.0, 1.25]
    z = Value(2.0, label="z")
    w = z**0 * math.inf + z  # ∂(z**0)/∂z is a mask, under an inf gradient
    w.backward()
    assert z.grad == 1.0 and autograd.compile(w, [z])(2.0).input_grads[0] == 1.0


def test_custom_op_with_code():
    op = ops.declare("cube_code", lambda x: x**3, lambda x, out: 3 * x**2,
                     code=ops.Code("{x}**3", ("3 * {x}**2",)))
    x = Value(1.5, label="x")
    y = autograd.apply(op, x).sin()
    y.backward()
    result = autograd.compile(y, [x])(1.5)
    assert close(result.input_grads[0], x.grad)


@pytest.mark.parametrize("loss, targets, widths", [
    ("hinge", "pm1", [4, 4, 1]),
    ("mse", "01", [3, 1]),
    ("cross_entropy", "class", [5, 3]),
    ("bce_with_logits", "01", [4, 1]),
])
def test_fit_compiled_equals_fit(loss, targets, widths):
    """compiled="exact" (the scalar program) takes plain fit's steps bit for bit;
    compiled=True (layers as matrix code) to 1e-12."""
    X, labels = nn.moons(24, noise=0.2, seed=3)
    y = {"pm1": [2 * t - 1 for t in labels], "01": labels,
         "class": [(t + int(x[0] > 0.5)) % 3 for x, t in zip(X, labels)]}[targets]
    runs = {}
    for compiled in (False, "exact", True):
        model = nn.MLP(2, widths, activation="tanh" if loss == "mse" else "relu", rng=5)
        opt = nn.SGD(model.parameters(), lr=0.3, momentum=0.9)
        history = nn.fit(model, X, y, loss=loss, optimizer=opt, epochs=3, batch_size=8,
                         l2=1e-3, progress=False, seed=1, compiled=compiled)
        runs[compiled] = ([p.data for p in model.parameters()], history)
    p0, h0 = runs[False]
    for compiled, (p1, h1) in runs.items():
        assert h0["accuracy"] == h1["accuracy"]
        if compiled == "exact" and loss != "cross_entropy":
            assert agree(p0, p1)  # bit for bit: the same float operations in the same order
            assert agree(h0["loss"], h1["loss"])
            continue
        # with three or more classes backward adds the logits' terms into a hidden unit in
        # an order that depends on the sample's class, the program in one order; matrix
        # products add in BLAS's order
        assert max(abs(a - b) for a, b in zip(p0, p1)) < 1e-12
        assert max(abs(a - b) for a, b in zip(h0["loss"], h1["loss"])) < 1e-12


@pytest.mark.parametrize("activation, loss, optimizer, lr, decay", [
    ("relu", "hinge", nn.SGD, 1.0, True),  # micrograd's demo: SGD with its LR decay
    ("tanh", "mse", nn.SGD, 0.1, False),
    ("tanh", "mse", nn.Adam, 0.01, False),
])
def test_fit_compiled_over_a_realistic_run(activation, loss, optimizer, lr, decay):
    """100 full-batch epochs on 100 moons points, MLP(2,[16,16,1]), L2 1e-4: with
    compiled="exact" the program adds the per-sample gradients in backward's order and takes
    the penalty from the engine, so every parameter and every loss equals plain fit's bit for
    bit; with compiled=True (layers as matrix code) every parameter stays within 1e-13 of
    plain fit's (bench_compiled.py prints the measured difference, about 1e-15)."""
    X, labels = nn.moons(100, noise=0.1, seed=1)
    y = [2 * t - 1 for t in labels] if loss == "hinge" else labels
    runs = {}
    for compiled in (False, "exact", True):
        model = nn.MLP(2, [16, 16, 1], activation=activation, rng=1)
        opt = optimizer(model.parameters(), lr=lr)
        history = nn.fit(model, X, y, loss=loss, optimizer=opt, epochs=100,
                         scheduler=nn.LinearLR(opt) if decay else None, l2=1e-4,
                         progress=False, seed=0, compiled=compiled)
        runs[compiled] = ([p.data for p in model.parameters()], history)
    (p0, h0), (p1, h1), (p2, h2) = runs[False], runs["exact"], runs[True]
    assert agree(p0, p1) and agree(h0["loss"], h1["loss"]) and h0["accuracy"] == h1["accuracy"]
    assert max(abs(a - b) for a, b in zip(p0, p2)) < 1e-13
    assert max(abs(a - b) for a, b in zip(h0["loss"], h2["loss"])) < 1e-13
    assert h0["accuracy"] == h2["accuracy"]


def test_fit_refuses_an_unknown_compiled_mode():
    model = nn.MLP(2, [2, 1], rng=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match="compiled must be False, True or 'exact', got 'fast'"):
        nn.fit(model, [[0.0, 1.0]], [1.0], epochs=1, progress=False, compiled="fast")
    assert [p.data for p in model.parameters()] == before


def test_a_shared_branch_feeds_a_math_function_in_a_batch():
    """relu of a parameter is where(...) on one number, a 0-d array in a batch; sigmoid and
    exp of it still give every sample the engine's numbers."""
    w, x = Value(-0.5, label="w"), Value(0.0, label="x")
    out = (-w).relu().sigmoid() * x + (-w).relu().exp()
    samples = [1.0, 2.0, -3.0]
    got = autograd.compile(out, [x], [w])(np.array(samples))
    for k, xs in enumerate(samples):  # w.grad accumulates over the samples, as in a batch
        engine = (-w).relu().sigmoid() * xs + (-w).relu().exp()
        engine.backward()
        assert agree(got.outputs[0][k], engine.data)
    assert agree(got.param_grads[0], w.grad)
    slope = sum(-(ops.sigmoid(0.5) * (1 - ops.sigmoid(0.5)) * xs + math.exp(0.5))
                for xs in samples)
    assert close(w.grad, slope, 1e-12)


# ---------------------------------------------------------------------- plain numbers
def test_linear_with_plain_numbers_on_both_sides():
    """linear([2, 3], [4, 5], b) is 2·4 + 3·5 + b = 33 in the engine, the program and the
    per-node check; with a plain-number bias too."""
    b = Value(10.0, label="b")
    z = autograd.linear([2.0, 3.0], [4.0, 5.0], b)
    assert z.data == 33.0
    L = z.tanh()
    result = autograd.compile(L, [], [b])()
    assert result.outputs[0] == math.tanh(33.0)
    assert result.param_grads[0] == 1 - math.tanh(33.0) ** 2
    assert autograd.check_nodes(L).ok
    w = Value(0.5, label="w")
    for bias in (2.5, -1.0):
        z = autograd.linear([2.0, 3.0], [4.0, 5.0], bias) * w
        result = autograd.compile(z, [], [w])()
        assert result.outputs[0] == (23.0 + bias) * 0.5 == z.data
        assert result.param_grads[0] == 23.0 + bias
        assert autograd.check_nodes(z).ok


@settings(max_examples=150, deadline=None)
@given(expression_graphs(constants=True))
def test_graphs_with_plain_numbers_agree_with_the_engine(graph):
    """Random graphs whose operands may be plain numbers (nodes with only constant operands,
    sum and linear nodes with plain sides or bias): one sample of the program gives the
    engine's value and gradients exactly, a batch gives each sample the same numbers, and
    check_nodes finds no mismatch."""
    leaves, out = graph.build()
    program = autograd.compile(out, leaves)
    out.backward()
    result = program(*graph.inputs)
    assert agree(result.outputs[0], out.data)
    assert agree(result.input_grads, [leaf.grad for leaf in leaves])
    batch = program(*([x, x] for x in graph.inputs))
    assert batch.outputs[0].tolist() == [result.outputs[0]] * 2
    assert [g.tolist() for g in batch.input_grads] == [[g] * 2 for g in result.input_grads]
    assert autograd.check_nodes(out).ok


def test_batch_samples_get_the_float_numbers_of_one_sample():
    """exp, tanh, log, sigmoid and powers: NumPy's own versions differ from math's in the
    last bit; a batch uses the float functions, so each sample is exactly a one-sample call,
    and a parameter's gradient is backward's on the graph of all samples, summed."""
    w = Value(0.3, label="w")

    def f(x: Value) -> Value:
        return ((w * x).tanh().exp() + (x * x + 1).log() + (w * x).sigmoid() ** 3) ** 2

    x = Value(0.0, label="x")
    program = autograd.compile(f(x), [x], [w])
    xs = [random.Random(k).uniform(-3, 3) for k in range(64)]
    batch = program(np.array(xs))
    for k, xv in enumerate(xs):
        one = program(xv)
        assert batch.outputs[0][k] == one.outputs[0]
        assert batch.input_grads[0][k] == one.input_grads[0]
    autograd.sum(f(Value(xv)) for xv in xs).backward()
    assert batch.param_grads[0] == w.grad  # w's two edges per sample, sample after sample


# ---------------------------------------------------------------------- any graph, any label
def test_wide_sum_compiles():
    """A sum of 5,000 products: one node of 5,000 operands (Python's compiler would
    overflow its stack on one line of 5,000 additions)."""
    xs = [Value(k % 7 / 7, label=f"x{k}") for k in range(5000)]
    ws = [Value(0.1 + k % 3, label=f"w{k}") for k in range(5000)]
    s = autograd.sum(x * w for x, w in zip(xs, ws))
    s.backward()
    result = autograd.compile(s, xs, ws)(*(x.data for x in xs))
    assert result.outputs[0] == s.data
    assert list(result.param_grads) == [w.grad for w in ws]


def test_wide_network_compiles():
    model = nn.MLP(2, [3000, 1], rng=0)
    x = [Value(0.3, label="a"), Value(-0.7, label="c")]
    out = model(x)
    out.backward()
    result = autograd.compile(out, x, model.parameters())(0.3, -0.7)
    assert agree(result.outputs[0], out.data)
    assert agree(result.input_grads, [v.grad for v in x])
    assert agree(result.param_grads, [p.grad for p in model.parameters()])


def test_long_chain_compiles():
    """A chain of 100,000 nodes: no recursion anywhere."""
    x = Value(0.5, label="x")
    v = x
    for k in range(100_000):
        v = v * 1.0000001 if k % 2 else v + 0.01
    v.backward()
    result = autograd.compile(v, [x])(0.5)
    assert result.outputs[0] == v.data and result.input_grads[0] == x.grad


@pytest.mark.parametrize("label", [
    "x\n y = 1", "'\"\\", "def", "g_x", "1st", "ünïcödé", "a²", "名前", "\u2028\x00", "",
    "seed", "total", "__builtins__", "x" * 5000, ")(", "# comment", "a" * 45 + "b",
])
def test_any_label_gives_valid_unique_names(label):
    x = Value(0.25, label=label)
    other = Value(0.5, label=label)
    h = x * other
    h.label = label
    out = (h + x).tanh()
    out.label = label
    out.backward()
    program = autograd.compile(out, [x], [other])
    result = program(0.25)
    assert result.outputs[0] == out.data and result.input_grads[0] == x.grad
    assert result.param_grads[0] == other.grad
    names = list(program.names.values())
    assert len(set(names)) == len(names) and all(n.isidentifier() for n in names)
    assert all(len(n) <= 45 for n in names)
    if not all(c.isalnum() or c == "_" for c in label):  # the text itself is no name
        code = [line.split("  # ")[0] for line in program.source.splitlines()]
        assert not any(label in line for line in code)
        assert repr(label)[:50] in program.source  # in a comment, escaped


def test_zero_to_a_value_power():
    """0 ** b: the engine's slope in b is 0 (not 0·log 0 = nan), in floats and in a batch;
    a base at 0 with exponent 0.5 has slope inf, as in the engine."""
    b = Value(0.5, label="b")
    y = 0 ** b
    y.backward()
    result = autograd.compile(y, [], [b])()
    assert result.outputs[0] == 0.0 and result.param_grads[0] == b.grad == 0.0
    x = Value(0.0, label="x")
    z = x**0.5 + x ** Value(0.5)
    z.backward()
    result = autograd.compile(z, [x])(0.0)
    assert result.outputs[0] == 0.0 and result.input_grads[0] == x.grad == math.inf
    s = Value(0.0, label="s")
    r = s.sqrt()
    r.backward()
    assert autograd.compile(r, [s])(0.0).input_grads[0] == s.grad == math.inf
    with np.errstate(all="raise"):
        batch = autograd.compile(y, [], [b])
    assert batch.params == (b,)


def test_program_frees_its_source_and_makes_no_cycle():
    x = Value(0.5, label="x")
    program = autograd.compile((x * x).tanh(), [x])
    filename = program._code.co_filename
    assert linecache.getline(filename, 1).startswith("def gradient_program")
    program(0.5)
    program([0.5, 1.0])  # the batch function exists too
    ref = weakref.ref(program)
    gc.disable()
    try:
        del program
        assert ref() is None  # freed by reference counting alone: no cycle
    finally:
        gc.enable()
    assert filename not in linecache.cache


def test_batch_with_nodes_the_samples_share():
    """relu and leaky_relu of a parameter (shared by every sample) and a term that does not
    depend on the sample: each sample gets its one-sample numbers, the parameter the sum."""
    p = Value(0.4, label="p")
    x = Value(0.0, label="x")
    out = p.relu() * x + p.leaky_relu(0.2) * p + (p * p).tanh()
    program = autograd.compile(out, [x], [p])
    xs = [-1.0, 0.5, 2.0]
    batch = program(np.array(xs))
    ones = [program(v) for v in xs]
    assert batch.outputs[0].tolist() == [one.outputs[0] for one in ones]
    assert batch.input_grads[0].tolist() == [one.input_grads[0] for one in ones]
    autograd.sum((p.relu() * Value(v) + p.leaky_relu(0.2) * p + (p * p).tanh()) for v in xs
                 ).backward()
    assert close(batch.param_grads[0], p.grad, 1e-15)


def test_the_compiler_module_is_not_shadowed_by_the_function():
    """``autograd.compile`` is the function and ``autograd.compiler`` its module, so importing
    the module by its path gives the module, whose ``compile`` is the same function."""
    import types

    import autograd.compiler as module

    assert isinstance(module, types.ModuleType) and module.compile is autograd.compile
    x = Value(0.3, label="x")
    (x * x).backward()
    assert module.compile(x * x, [x])(0.3).input_grads == (x.grad,)


def test_functions_programs_call_by_name_come_from_the_op_table():
    """Every name a program calls an op's forward by is the op entry's runtime: on floats it
    is the entry's forward itself, and its NumPy form agrees with NumPy's own function (the
    oracle) to a few ulps, bit for bit where the entry says exact."""
    scope = importlib.import_module("autograd.program").FLOAT_NAMESPACE
    named = {op.runtime.name: op for op in ops.OPS.values() if op.runtime is not None}
    assert {"exp", "log", "tanh", "sigmoid", "relu", "power"} <= set(named)
    for name, op in named.items():
        assert scope[name] is op.forward, name
    oracle = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
              "sqrt": np.sqrt, "abs": np.abs, "relu": lambda x: np.maximum(x, 0.0),
              "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
              "softplus": lambda x: np.log1p(np.exp(x)), "sign": np.sign,
              "ratio": lambda a, b: a / b, "power": np.power,
              "xlogy": lambda x, y: x * np.log(y)}
    xs = np.array([0.25, 0.5, 1.5, 2.75])
    for name, runtime in ops.runtimes().items():
        args = (xs, xs[::-1]) if name in ("ratio", "power", "xlogy") else (xs,)
        on_arrays = runtime.arrays(np)(*args)
        on_floats = np.array([runtime.floats(*map(float, a)) for a in zip(*args)])
        np.testing.assert_allclose(on_arrays, oracle[name](*args), rtol=4e-16, err_msg=name)
        np.testing.assert_allclose(on_floats, oracle[name](*args), rtol=4e-16, err_msg=name)
        if runtime.exact:
            assert on_arrays.tolist() == on_floats.tolist(), name
    x = Value(0.3, label="x")
    y = x.sigmoid().tanh()
    y.backward()
    program = autograd.compile(y, [x])
    assert "tanh(sigmoid_0)" in program.source
    assert program(0.3) == ((math.tanh(1 / (1 + math.exp(-0.3))),), (x.grad,), ())
