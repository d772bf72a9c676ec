"""Neuron, Layer, MLP: structure, micrograd compatibility, one linear node per neuron."""

import math
import random

import pytest

from autograd import AnomalyError, Value, detect_anomaly
from nn import MLP, Layer, Neuron
from nn.layers import ACTIVATIONS


def test_micrograd_demo_network_has_337_parameters_in_micrograd_order():
    model = MLP(2, [16, 16, 1], rng=0)
    params = model.parameters()
    assert len(params) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1 == 337
    expected = [p for layer in model.layers for n in layer.neurons for p in [*n.w, n.b]]
    assert all(a is b for a, b in zip(params, expected, strict=True))
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.b"]
    assert names[-1] == "layers.2.neurons.0.b"
    assert model.layers[0].neurons[3].w[1].label == "layers.0.neurons.3.w.1"


def test_output_is_a_value_for_one_neuron_and_a_list_otherwise():
    assert isinstance(MLP(3, [4, 1], rng=1)([1.0, 2.0, 3.0]), Value)
    out = MLP(3, [4, 2], rng=1)([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 2


def test_forward_equals_the_layer_formula():
    model = MLP(2, [3, 2], activation="tanh", output_activation="sigmoid", rng=5)
    x = [0.3, -1.2]
    a1 = [math.tanh(sum(w.data * xi for w, xi in zip(n.w, x, strict=True)) + n.b.data)
          for n in model.layers[0].neurons]
    expected = [1 / (1 + math.exp(-(sum(w.data * a for w, a in zip(n.w, a1, strict=True))
                                    + n.b.data)))
                for n in model.layers[1].neurons]
    got = [v.data for v in model(x)]
    assert got == pytest.approx(expected, rel=1e-12)
    # a layer's fast path equals calling its neurons one by one
    for layer, inputs in ((model.layers[0], x), (model.layers[1], a1)):
        assert [v.data for v in layer(inputs)] == [n(inputs).data for n in layer.neurons]


def test_width_one_hidden_layer_feeds_the_next_layer():
    model = MLP(2, [16, 1, 1], rng=3)
    out = model([0.5, -0.5])
    out.backward()
    hidden = model.layers[1].neurons[0]
    expected = max(0.0, sum(w.data * h for w, h in zip(
        hidden.w, [max(0.0, sum(w.data * x for w, x in zip(n.w, [0.5, -0.5], strict=True))
                       + n.b.data) for n in model.layers[0].neurons], strict=True))
        + hidden.b.data)
    last = model.layers[2].neurons[0]
    assert out.data == pytest.approx(last.w[0].data * expected + last.b.data, rel=1e-12)
    assert last.b.grad == 1.0


def test_inputs_may_be_floats_or_values_with_the_same_result():
    model = MLP(2, [4, 1], rng=2)
    xs = [Value(0.7), Value(-0.1)]
    a = model([0.7, -0.1])
    b = model(xs)
    assert a.data == b.data
    b.backward()
    w0 = [n.w[0].data for n in model.layers[0].neurons]
    assert xs[0].grad != 0.0 or all(w == 0 for w in w0)


def test_pre_activation_is_one_linear_node_per_neuron():
    n = Neuron(3, activation="tanh", rng=0)
    out = n([1.0, 2.0, 3.0])
    assert out.op.name == "tanh"
    (z,) = out.parents
    assert z.op.name == "linear"
    assert set(z.parents) == {*n.w, n.b}  # plain-number inputs get no edges


def test_micrograd_flags_and_defaults():
    assert Neuron(2, nonlin=False).activation == "linear"
    assert Neuron(2, nonlin=True).activation == "relu"
    assert Neuron(2, nonlin=False).nonlin is False
    model = MLP(2, [3, 1])
    assert [layer.activation for layer in model.layers] == ["relu", "linear"]
    assert Layer(2, 3, nonlin=False).activation == "linear"


def test_matches_micrograd_weights_outputs_and_gradients():
    mg = pytest.importorskip("micrograd.nn")
    from micrograd.engine import Value as MicroValue

    random.seed(42)
    theirs = mg.MLP(3, [4, 4, 1])
    random.seed(42)
    ours = MLP(3, [4, 4, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    x = [0.5, -1.5, 2.0]
    out_t = theirs([MicroValue(v) for v in x])
    out_o = ours(x)
    assert out_o.data == pytest.approx(out_t.data, rel=1e-12)
    out_t.backward()
    out_o.backward()
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert p.grad == pytest.approx(q.grad, rel=1e-12, abs=1e-15)


def test_same_seed_same_numbers_and_init_schemes_keep_their_bounds():
    a = MLP(4, [8, 2], init="xavier_uniform", rng=random.Random(9))
    b = MLP(4, [8, 2], init="xavier_uniform", rng=random.Random(9))
    assert a.state_dict() == b.state_dict()
    bound = math.sqrt(6 / (4 + 8))
    assert all(abs(w.data) <= bound for n in a.layers[0].neurons for w in n.w)
    he = Layer(50, 10, init="kaiming_uniform", rng=1)
    assert max(abs(w.data) for n in he.neurons for w in n.w) <= math.sqrt(6 / 50)


def test_repr_and_bad_arguments():
    text = repr(MLP(2, [16, 16, 1], rng=0))
    assert "337 parameters" in text and "Layer(16 → 1, linear)" in text
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        Neuron(2, activation="swish")
    with pytest.raises(ValueError, match="positive int"):
        Layer(2, 0)
    with pytest.raises(ValueError, match="unknown init"):
        Neuron(2, init="zeros")


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_activations_are_the_checked_ones_inside_detect_anomaly(name):
    """Layers look their activation up on Value at each call, so they get the checked
    methods that detect_anomaly swaps in."""
    x = Value(math.inf if "relu" in name else math.nan, label="z")
    assert not math.isfinite(ACTIVATIONS[name](x).data)
    with detect_anomaly(), pytest.raises(AnomalyError, match=rf"{name} .*'z'"):
        ACTIVATIONS[name](x)
    layer = Layer(1, 2, activation=name)
    with detect_anomaly(), pytest.raises(AnomalyError, match="linear"):
        layer([math.nan])


def test_micrograd_positional_nonlin_flag():
    """micrograd's Neuron(nin, nonlin=True) takes the flag by position; so do Layer and MLP
    in its place (micrograd passes it to Layer by keyword, MLP(nin, nouts) has none)."""
    assert Neuron(3, False).activation == "linear" and Neuron(3, True).activation == "relu"
    assert Layer(2, 3, False).activation == "linear"
    assert [layer.activation for layer in MLP(2, [3, 1], False).layers] == ["linear"] * 2
    n = Neuron(3, False, rng=0)
    x = [0.5, -2.0, 1.5]
    assert n(x).data == pytest.approx(sum(w.data * v for w, v in zip(n.w, x)) + n.b.data)
    assert n(x).op.name == "linear"  # no activation node


def test_numpy_inputs_scalars_and_sizes_work_like_lists():
    np = pytest.importorskip("numpy")
    X = np.array([[0.5, -1.0], [2.0, 0.25]])
    model = MLP(np.int64(2), np.array([3, 2]), rng=0)
    assert model.nouts == [3, 2] and type(model.nin) is int
    for row, listed in zip(X, X.tolist(), strict=True):
        assert [v.data for v in model(row)] == [v.data for v in model(listed)]
    assert [v.data for v in model(range(2))] == [v.data for v in model([0, 1])]
    neuron = Neuron(1, rng=0)
    for scalar, plain in ((np.float64(1.5), 1.5), (np.int64(3), 3), (np.array(1.5), 1.5),
                          (np.array([1.5]), 1.5)):
        assert neuron(scalar).data == neuron([plain]).data
    layer = Layer(2, 1, rng=0)
    assert layer(np.array([1, 2], dtype=np.int32)).data == layer([1, 2]).data
    with pytest.raises(TypeError, match="got str"):
        neuron("1.5")
    with pytest.raises(ValueError, match="positive int, got True"):
        Layer(2, True)


def test_every_total_one_operand_op_of_the_table_is_an_activation():
    """Activations come from the op table: softplus works though nn never names it."""
    n = Neuron(2, activation="softplus", rng=0)
    out = n([0.5, -1.0])
    z = n.b.data + n.w[0].data * 0.5 + n.w[1].data * -1.0
    assert out.op.name == "softplus" and out.data == pytest.approx(math.log1p(math.exp(z)))
    with pytest.raises(ValueError, match="unknown activation 'log'"):  # log needs x > 0
        Neuron(2, activation="log")
