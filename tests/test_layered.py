"""autograd.compile(..., layers=True): per-layer matrix code against the scalar program, the
engine's backward and the seeds' δ formulas."""

from __future__ import annotations

import math
import random
import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import GradProgram, Value, linear
from autograd.layered import LayeredProgram
from autograd.value import linear_layer

np = pytest.importorskip("numpy")


def assert_same(a, b, tol=1e-12):
    """Two Evaluations agree entry by entry (NaN where the other has NaN)."""
    for x, y in zip((*a.outputs, *a.input_grads, *a.param_grads),
                    (*b.outputs, *b.input_grads, *b.param_grads), strict=True):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol, equal_nan=True)


def demo_graph(seed=1337, input_grads=False):
    """micrograd's demo: one sample's hinge loss of MLP(2, [16, 16, 1]) + 1e-4 Σ p²."""
    random.seed(seed)
    model = nn.MLP(2, [16, 16, 1])
    params = model.parameters()
    xs = [Value(0.0, label="x_0"), Value(0.0, label="x_1")]
    y = Value(1.0, label="y")
    score = model(xs)
    loss = (1 + -y * score).relu() + 1e-4 * autograd.sum(p * p for p in params)
    both = [autograd.compile([loss, score], [*xs, y], params, input_grads=input_grads,
                             layers=layers) for layers in (False, True)]
    return model, params, both


def moons_columns(n=100):
    X, labels = nn.moons(n, noise=0.1, seed=1)
    return X, [2.0 * t - 1 for t in labels]


def test_demo_equals_scalar_program_and_engine():
    """Batch and single samples; both sides of relu and of the hinge occur; the parameter
    gradients equal Σ over samples of backward() in the engine."""
    model, params, (scalar, layered) = demo_graph(input_grads=True)
    assert isinstance(layered, LayeredProgram) and type(scalar) is GradProgram
    X, y = moons_columns(60)
    columns = [np.array([r[0] for r in X]), np.array([r[1] for r in X]), np.array(y)]
    got = layered(*columns)
    assert_same(got, scalar(*columns))
    margins = 1 - columns[2] * got.outputs[1]
    assert (margins > 0).any() and (margins < 0).any()
    for k in (0, 7, 31):
        one = layered(X[k][0], X[k][1], y[k])
        assert all(type(v) is float for v in (*one.outputs, *one.input_grads, *one.param_grads))
        assert_same(one, scalar(X[k][0], X[k][1], y[k]))
    for p in params:
        p.grad = 0.0
    for (x0, x1), t in zip(X, y):
        xs = [Value(x0), Value(x1)]
        loss = (1 + -t * model(xs)).relu() + 1e-4 * autograd.sum(p * p for p in params)
        loss.backward()
    np.testing.assert_allclose(got.param_grads, [p.grad for p in params], rtol=1e-12,
                               atol=1e-15)


def test_demo_source_is_the_matrix_formulas():
    _, _, (scalar, layered) = demo_graph()
    src = layered.source
    for line in ("z1 = W1 @ x + b1", "a1 = relu(z1)", "z2 = W2 @ a1 + b2", "z3 = W3 @ a2 + b3",
                 "d2 = where(z2 <= 0, 0.0, W3.T @ d3)", "d1 = where(z1 <= 0, 0.0, W2.T @ d2)",
                 "g_W1 = d1 @ x.T", "g_W2 = d2 @ a1.T", "g_b1 = d1.sum(axis=1, keepdims=True)",
                 "W1 = P[0:48].reshape(16, 3)[:, :2]", "b1 = P[2:48:3, None]"):
        assert f"    {line}\n" in src, line
    # the L2 penalty: one vector line each way over the flat parameter array P
    assert re.search(r"\n    (mul_\d+) = p\*p\n    (sum_\d+) = total\(\1\)\n", src)
    assert re.search(r"\n    G \+= (g_sum_\d+) \* p \+ \1 \* p\n", src)
    assert src.count(" = ") < scalar.source.count(" = ") / 10


def test_seed_network_names_and_delta_formulas():
    """The seeds' 2-2-1 sigmoid network with labels W1[i,j], z1[i], a1[i]: the program names
    its matrices after them, and its gradients are δ aᵀ with δ₂ = (ŷ − y) σ′(z₂) and
    δ₁ = (W₂ᵀδ₂) ⊙ σ′(z₁), computed here with NumPy from the formulas."""
    rng = random.Random(2)
    W1 = [[Value(rng.uniform(-1, 1), label=f"W1[{i + 1},{j + 1}]") for j in range(2)]
          for i in range(2)]
    b1 = [Value(rng.uniform(-1, 1), label=f"b1[{i + 1}]") for i in range(2)]
    W2 = [Value(rng.uniform(-1, 1), label=f"W2[1,{j + 1}]") for j in range(2)]
    b2 = Value(0.05, label="b2")
    x = [Value(0.0, label=f"x{j + 1}") for j in range(2)]
    y = Value(0.0, label="y")
    z1 = linear_layer(W1, x, b1)
    a1 = [z.sigmoid() for z in z1]
    for i in range(2):
        z1[i].label, a1[i].label = f"z1[{i + 1}]", f"a1[{i + 1}]"
    y_hat = linear(W2, a1, b2).sigmoid()
    loss = 0.5 * (y_hat - y) ** 2
    params = [*W1[0], *W1[1], *b1, *W2, b2]
    program = autograd.compile(loss, [*x, y], params, layers=True)
    for line in ("W1 = P[0:4].reshape(2, 2)", "b1 = P[4:6, None]", "z1 = W1 @ x + b1",
                 "a1 = sigmoid(z1)", "d1 = (W2.T @ d2) * (a1 * (1 - a1))", "g_x = W1.T @ d1",
                 "G = concatenate((g_W1, g_b1, g_W2, g_b2), axis=None)"):
        assert f"    {line}\n" in program.source, line
    X = np.array([[0.5, -1.0], [1.5, 0.2], [-0.7, 0.9], [0.0, 2.0]])
    Y = np.array([1.0, 0.0, 1.0, 0.3])
    got = program(X[:, 0], X[:, 1], Y)
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    w1 = np.array([[w.data for w in row] for row in W1])
    w2 = np.array([w.data for w in W2])
    A1 = sig(X @ w1.T + [b.data for b in b1])
    Y_hat = sig(A1 @ w2 + b2.data)
    d2 = (Y_hat - Y) * Y_hat * (1 - Y_hat)
    d1 = np.outer(d2, w2) * A1 * (1 - A1)
    want = [*(d1.T @ X).ravel(), *d1.sum(axis=0), *(d2 @ A1), d2.sum()]
    np.testing.assert_allclose(got.param_grads, want, rtol=1e-12)
    np.testing.assert_allclose(got.outputs[0], 0.5 * (Y_hat - Y) ** 2, rtol=1e-12)
    np.testing.assert_allclose(np.stack(got.input_grads[:2], axis=1), d1 @ w1, rtol=1e-12)


def test_mixed_graph_equals_scalar_program():
    """Layers that read scalar nodes (stacked), a layer without bias, outputs read by scalar
    nodes and by the next layer at once, two heads on one hidden layer, parameters listed in
    a shuffled order (gathered by index), a weight also read by a scalar node, an L1 sum,
    and a NaN sample."""
    rng = random.Random(5)

    def values(n, tag):
        return [Value(rng.uniform(-1, 1), label=f"{tag}.{k}") for k in range(n)]

    x = [Value(0.0, label=f"in{k}") for k in range(3)]
    t = Value(0.0, label="t")
    W1, b1 = [values(4, f"W1.{i}") for i in range(4)], values(4, "b1")
    W2 = [values(4, f"W2.{i}") for i in range(3)]
    Wh, bh = [values(4, f"Wh.{i}") for i in range(2)], values(2, "bh")
    features = [x[0] * 2.0, x[1].sin(), x[2], t * x[0]]
    h = [z.tanh() for z in linear_layer(W1, features, b1)]
    g = [z.leaky_relu(0.1) for z in linear_layer(W2, h)]  # no bias
    head_a = [z.sigmoid() for z in linear_layer(Wh, h, bh)]
    head_b = linear(values(3, "Wb"), g, Value(0.2, label="bb"))
    loss = (head_b - t) ** 2 + h[1] * head_a[0] + head_a[1] + g[2] + W1[0][0] * x[0]
    params = [p for rows in (W1, W2, Wh) for row in rows for p in row] + b1 + bh
    params += list(head_b.parents[:3]) + [head_b.parents[-1]]
    rng.shuffle(params)
    l1 = 0.01 * autograd.sum(abs(p) for p in params)
    outs = [loss + l1, head_b, h[0]]
    scalar = autograd.compile(outs, [*x, t], params)
    layered = autograd.compile(outs, [*x, t], params, layers=True)
    assert isinstance(layered, LayeredProgram)
    assert "@" in layered.source and "index_" in layered.source
    cols = [np.array([0.3, -1.2, 2.0, np.nan, 0.0]), np.array([1.0, 0.5, -0.4, 0.1, 0.0]),
            np.array([-2.0, 0.7, 0.1, 0.3, 0.0]), np.array([0.5, -1.0, 0.0, 1.0, 0.0])]
    assert_same(layered(*cols), scalar(*cols))
    assert_same(layered(*[c[1] for c in cols]), scalar(*[c[1] for c in cols]))
    with np.errstate(invalid="ignore"):
        assert math.isnan(layered(*[c[3] for c in cols]).outputs[0])


def test_no_layer_gives_the_scalar_program():
    w, x = Value(0.5, label="w"), Value(1.0, label="x")
    out = (w * x).tanh()
    layered = autograd.compile(out, [x], [w], layers=True)
    assert type(layered) is GradProgram
    assert layered.source == autograd.compile(out, [x], [w]).source


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=3),
    st.lists(st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "linear"]),
             min_size=3, max_size=3),
    st.integers(0, 10**6),
    st.booleans(),
)
def test_random_mlps_equal_scalar_program(widths, activations, seed, input_grads):
    rng = random.Random(seed)
    model = nn.MLP(3, widths, activation=activations[0], output_activation=activations[1],
                   rng=seed)
    params = model.parameters()
    xs = [Value(0.0, label=f"x_{j}") for j in range(3)]
    out = model(xs)
    outs = out if isinstance(out, list) else [out]
    loss = autograd.sum(o * o for o in outs) + 1e-3 * autograd.sum(p * p for p in params)
    programs = [autograd.compile([loss, *outs], xs, params, input_grads=input_grads,
                                 layers=layers) for layers in (False, True)]
    cols = [np.array([rng.uniform(-2, 2) for _ in range(7)]) for _ in range(3)]
    assert_same(programs[1](*cols, seed=1 / 7), programs[0](*cols, seed=1 / 7))
    assert_same(programs[1](*[c[0] for c in cols]), programs[0](*[c[0] for c in cols]))


def test_fit_compiled_uses_layers(monkeypatch):
    """fit(compiled=True) asks for layers, fit(compiled="exact") for the scalar program; both
    take plain fit's steps (to 1e-12; "exact" bit for bit: see test_compile)."""
    seen = []
    compile_ = autograd.compile

    def spy(*args, **kwargs):
        program = compile_(*args, **kwargs)
        seen.append(program)
        return program

    monkeypatch.setattr(autograd, "compile", spy)
    X, y = moons_columns(16)
    runs = []
    for compiled in (False, True, "exact"):
        model = nn.MLP(2, [4, 1], rng=3)
        nn.fit(model, X, y, loss="hinge", optimizer=nn.SGD(model.parameters(), lr=0.2),
               epochs=2, batch_size=8, l2=1e-3, progress=False, seed=1, compiled=compiled)
        runs.append([p.data for p in model.parameters()])
    assert [type(program) for program in seen] == [LayeredProgram, GradProgram]
    for run in runs[1:]:
        np.testing.assert_allclose(run, runs[0], rtol=1e-12, atol=1e-15)


def test_fit_compiled_diverges_quietly():
    """Overflow in the matrix code is inf, not a NumPy warning: fit(compiled=True) stops in
    plain fit's epoch with DivergenceError and keeps the parameters from before that step."""
    X, y = moons_columns(20)
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [8, 1], activation="tanh", rng=1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(nn.DivergenceError, match="epoch 60, step 1") as caught:
                nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=30.0),
                       epochs=100, progress=False, compiled=compiled)
        runs.append([p.data for p in model.parameters()])
        assert all(math.isfinite(v) for v in runs[-1]), caught.value
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-9)


def test_call_checks_and_explicit_params():
    """Explicit parameter values replace the Values' data; mistakes raise as for the scalar
    program, naming what is wrong."""
    _, params, (scalar, layered) = demo_graph()
    values = [p.data * 0.5 + 0.01 for p in params]
    cols = [np.array([0.1, -0.4, 1.5]), np.array([0.3, 0.9, -0.2]), np.array([1.0, -1.0, 1.0])]
    assert_same(layered(*cols, params=values), scalar(*cols, params=values))
    assert_same(layered(0.2, 0.1, 1.0, params=values, seed=0.5),
                scalar(0.2, 0.1, 1.0, params=values, seed=0.5))
    with pytest.raises(TypeError, match="takes 3 inputs"):
        layered(*cols[:2])
    with pytest.raises(TypeError, match="337 parameters, got 2"):
        layered(*cols, params=[0.0, 1.0])
    with pytest.raises(ValueError, match="1-D arrays of one length"):
        layered(cols[0], cols[1][:2], cols[2])


def test_lone_neuron_keeps_its_labels_unless_read():
    """A one-neuron layer names its 1 × batch matrices after the node and bias labels; a bias
    that is also an output of the program keeps its own name for the number."""
    w = [Value(0.3, label="w.0"), Value(-0.2, label="w.1")]
    b = Value(0.1, label="b")
    x = [Value(0.0, label="u0"), Value(0.0, label="u1")]
    z = linear(w, x, b)
    z.label = "z"
    a = z.tanh()
    cols = [np.array([0.5, -2.0, 1.0]), np.array([1.5, 0.2, -0.3])]
    for outs, line in (([a], "z = w @ u + b"), ([a, b], "z = w @ u + b1")):
        layered = autograd.compile(outs, x, [*w, b], layers=True)
        assert f"    {line}\n" in layered.source
        assert_same(layered(*cols), autograd.compile(outs, x, [*w, b])(*cols))
    np.testing.assert_allclose(layered(*cols).outputs[1], [0.1, 0.1, 0.1])


def test_an_off_relu_stops_an_inf_gradient_as_in_the_engine():
    """A layer of two ReLUs, z = (x, −x), under √ (slope inf at 0): at the off unit the
    engine passes 0 (a mask, PyTorch's where), not 0 × inf = nan, so ∂/∂x (Σ √relu(zᵢ) + x)
    is 1 + x/(2|x|^(3/2)) (1.5 at x = 1, 0.5 at x = −1) in the engine, the scalar and the
    layered program (the old product gave nan)."""
    for xv in (1.0, -1.0):
        W = [[Value(1.0, label="W1[1,1]")], [Value(-1.0, label="W1[2,1]")]]
        b = [Value(0.0, label="b1[1]"), Value(0.0, label="b1[2]")]
        x = Value(xv, label="x")
        loss = autograd.sum(z.relu().sqrt() for z in linear_layer(W, [x], b)) + x
        loss.backward()
        want = 1.0 + xv / (2 * abs(xv) ** 1.5)
        assert x.grad == want
        params = [W[0][0], W[1][0], *b]
        layered = autograd.compile(loss, [x], params, layers=True)
        assert isinstance(layered, LayeredProgram) and "where(z1 <= 0, 0.0, " in layered.source
        for program in (layered, autograd.compile(loss, [x], params)):
            result = program(xv)
            assert result.input_grads[0] == want
            assert list(result.param_grads) == [p.grad for p in params]


def test_find_layers_finds_the_models_layers():
    """find_layers on an MLP's graph, as the compiler asks (per-sample inputs, parameters),
    gives its layers in order: rows in neuron order, W and b the model's own weights, the
    activation's op; the last layer (linear) has none."""
    from autograd.layers import find_layers

    random.seed(3)
    model = nn.MLP(3, [4, 5, 2], activation="tanh")
    params = model.parameters()
    xs = [Value(0.1 * j, label=f"x{j}") for j in range(3)]
    outs = model(xs)
    found = find_layers(outs, inputs=xs, params=params, exclusive=False)
    assert len(found) == len(model.layers) == 3
    for layer, module in zip(found, model.layers):
        assert [[id(w) for w in row] for row in layer.weights] == [
            [id(w) for w in n.w] for n in module.neurons]
        assert [id(b) for b in layer.bias] == [id(n.b) for n in module.neurons]
    assert [layer.op.name if layer.op else None for layer in found] == ["tanh", "tanh", None]
    assert found[0].inputs == [tuple(xs)] and found[1].inputs == [tuple(found[0].outputs[0])]
    assert [r.data for r in found[2].outputs[0]] == [o.data for o in outs]
    assert [layer.source for layer in found] == [None, found[0], found[1]]
    assert find_layers(outs, inputs=[], params=params) == []  # nothing depends on a sample


def test_a_layer_that_two_samples_share_is_left_to_scalar_lines():
    """A graph of two samples through one model: each layer's weights serve both samples, so
    the layered program would hold a parameter's gradient once per sample; it writes scalar
    lines instead, and its gradients are the engine's."""
    random.seed(0)
    model = nn.MLP(2, [3, 1], activation="tanh")
    params = model.parameters()
    xs = [[Value(0.3, label="a"), Value(-0.2, label="b")],
          [Value(0.5, label="c"), Value(0.1, label="d")]]
    loss = sum((model(x) for x in xs), Value(0.0))
    inputs = [v for x in xs for v in x]
    program = autograd.compile(loss, inputs, params, layers=True)
    result = program(*[v.data for v in inputs])
    loss.backward()
    assert [repr(g) for g in result.param_grads] == [repr(p.grad) for p in params]
    assert [repr(g) for g in result.input_grads] == [repr(v.grad) for v in inputs]


def test_the_plan_is_frozen_and_the_layered_writer_leaves_it_as_it_was():
    """The scalar plan cannot be changed, and writing its layers reads it only: the plan
    gives the very sources compile gives, scalar after layered."""
    import dataclasses

    from autograd.compiler import plan_program, write_scalar
    from autograd.layered import write_layers

    _, params, (scalar, layered) = demo_graph()
    plan = plan_program(tuple(scalar.outputs), tuple(scalar.inputs), tuple(params),
                        input_grads=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.uses = {}
    with pytest.raises(TypeError):
        plan.names[params[0]] = "w"
    before = (dict(plan.uses), dict(plan.names), set(plan.per_sample), dict(plan.counters),
              set(plan.taken))
    assert write_layers(plan).source == layered.source
    assert (dict(plan.uses), dict(plan.names), set(plan.per_sample), dict(plan.counters),
            set(plan.taken)) == before
    assert write_scalar(plan).source == scalar.source


def test_a_long_line_of_parameters_read_by_scalar_lines_compiles():
    """Scalar lines that read many parameters (a second pass through a 16-unit layer, as a
    second output) make one long unpacking line; it breaks inside its parentheses, never at
    its ``=``, so the program compiles, and it gives the engine's numbers."""
    random.seed(7)
    model = nn.MLP(2, [16, 16, 1], activation="tanh")
    params = model.parameters()
    xs = [Value(0.3, label="x0"), Value(-0.4, label="x1")]
    loss = (model(xs) - 0.5) ** 2
    other = sum(model.layers[0](xs), Value(0.0))
    program = autograd.compile([loss, other], xs, params, layers=True)
    assert isinstance(program, LayeredProgram)
    result = program(0.3, -0.4)
    loss.backward()
    assert result.outputs == pytest.approx([loss.data, other.data], rel=1e-12)
    assert result.param_grads == pytest.approx([p.grad for p in params], rel=1e-12, abs=1e-15)
    assert result.input_grads == pytest.approx([x.grad for x in xs], rel=1e-12, abs=1e-15)
