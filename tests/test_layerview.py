"""The layer view: layers found in a graph, the δ formulas stepped with the engine's numbers.

Oracles: the plain engine (``backward()`` then each node's ``.grad``: δ is ∂L/∂z of the linear
nodes, ∂L/∂W the parameters' grads), the explainers' formulas evaluated in NumPy on the
weights alone (δ₂ = (ŷ − y) ⊙ f′(z₂), δ₁ = (W₂ᵀδ₂) ⊙ f′(z₁), ∂L/∂W = Σ δ aᵀ, ∂L/∂b = Σ δ) and,
when importable, PyTorch.
"""

from __future__ import annotations

import json
import shutil

import pytest

import nn
from autograd import Value, draw, linear, step_through, topological_order
from autograd.layers import find_layers
from autograd.layerview import LayerView, matrix
from autograd.trace import number_text

np = pytest.importorskip("numpy")


def needs_dot():
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz dot executable is not installed")


def xor_network(seed: int = 0):
    """The explainers' 2-2-1 XOR network: sigmoid everywhere, L = Σ ½(ŷ − y)² (summed)."""
    model = nn.MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", rng=seed)
    X, y = nn.xor()
    loss = nn.mse_loss([model(x) for x in X], y, reduction="sum", half=True)
    return model, np.array(X, float), np.array(y, float), loss


def relu_network(seed: int = 1):
    """The explainers' 2-3-1 network: ReLU hidden layer, linear output, J = 1/(2m) Σ (ŷ − y)²."""
    model = nn.MLP(2, [3, 1], rng=seed)
    X, y = nn.xor()
    loss = nn.mse_loss([model(x) for x in X], y, half=True)
    return model, np.array(X, float), np.array(y, float), loss


def weights(layer):
    W = np.array([[w.data for w in neuron.w] for neuron in layer.neurons])
    b = np.array([neuron.b.data for neuron in layer.neurons])
    return W, b


def grads_of(root):
    return [repr(v.grad) for v in topological_order(root)]


def by(view, quantity):
    return [s for s in view.steps if s.quantity == quantity]


def test_xor_steps_equal_the_formulas_in_numpy_and_the_engine():
    model, X, y, loss = xor_network()
    before = grads_of(loss)
    view = step_through(loss, layers=True)
    assert grads_of(loss) == before  # looking changes no grad
    assert [(s.layer, s.quantity) for s in view.steps] == [
        ("layers.1", "dL/da"), ("layers.1", "delta"), ("layers.1", "dL/dW"),
        ("layers.1", "dL/db"), ("layers.0", "delta"), ("layers.0", "dL/dW"),
        ("layers.0", "dL/db")]
    # the formulas, in NumPy, from the weights alone (samples in rows)
    (W1, b1), (W2, b2) = (weights(layer) for layer in model.layers)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    z1 = X @ W1.T + b1
    a1 = sig(z1)
    yhat = sig(a1 @ W2.T + b2)
    dyhat = yhat - y[:, None]
    d2 = dyhat * yhat * (1 - yhat)
    d1 = (d2 @ W2) * a1 * (1 - a1)
    want = [dyhat, d2, d2.T @ a1, d2.sum(0), d1, d1.T @ X, d1.sum(0)]
    for step, expected in zip(view.steps, want, strict=True):
        np.testing.assert_allclose(np.array(step.value), expected, rtol=1e-12, atol=1e-15)
    # the engine, bit for bit: δ is ∂L/∂z of the linear nodes, ∂L/∂W the parameters' grads
    model.zero_grad()
    loss.backward()
    layers = find_layers(loss, model.module_paths())
    assert by(view, "delta")[0].value == [[z.grad for z in row] for row in layers[1].rows]
    assert by(view, "delta")[1].value == [[z.grad for z in row] for row in layers[0].rows]
    for step, layer in zip(by(view, "dL/dW"), reversed(model.layers), strict=True):
        assert step.value == [[w.grad for w in neuron.w] for neuron in layer.neurons]
    for step, layer in zip(by(view, "dL/db"), reversed(model.layers), strict=True):
        assert step.value == [neuron.b.grad for neuron in layer.neurons]


def test_relu_network_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    model, X, y, loss = relu_network()
    view = step_through(loss, layers=True)
    W1, b1, W2, b2 = (torch.tensor(w, dtype=torch.float64, requires_grad=True)
                      for layer in model.layers for w in weights(layer))
    z1 = torch.tensor(X) @ W1.T + b1
    z1.retain_grad()
    yhat = torch.relu(z1) @ W2.T + b2
    yhat.retain_grad()
    (0.5 * ((yhat[:, 0] - torch.tensor(y)) ** 2).mean()).backward()
    got = {(s.layer, s.quantity): np.array(s.value) for s in view.steps}
    np.testing.assert_allclose(got["layers.1", "dL/da"], yhat.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["layers.1", "delta"], yhat.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["layers.0", "delta"], z1.grad.numpy(), rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(got["layers.1", "dL/dW"], W2.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["layers.0", "dL/dW"], W1.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["layers.0", "dL/db"], b1.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["layers.1", "dL/db"], b2.grad.numpy(), rtol=1e-12)
    assert "(linear: a₂ = z₂, f′ = 1)" in view.steps[1].formula
    assert "relu′(z₁)" in view.steps[4].formula


def test_formula_text_substitutes_the_numbers_it_computes():
    model, _, _, loss = xor_network()  # the model names the layers while it lives
    view = step_through(loss, layers=True)
    d2 = by(view, "delta")[0]
    assert d2.formula.startswith("δ₂ = ∂L/∂z₂ = ∂L/∂a₂ ⊙ sigmoid′(z₂)")
    assert d2.formula.endswith(f"= {matrix(d2.value)}")
    assert f"= {matrix(view.steps[0].value)} ⊙ " in d2.formula
    d1 = by(view, "delta")[1]
    assert d1.formula.startswith("δ₁ = ∂L/∂z₁ = (W₂ᵀδ₂) ⊙ sigmoid′(z₁)")
    assert f"{matrix(d2.value)}) = " in d1.formula
    eq = view.equation(5)
    assert eq.startswith("step 5: layers.0: δ₁")
    assert eq.endswith("(reads W₂, z₂, a₁; writes a₁, z₁)")
    assert view.equation(1).endswith("(reads 4 scalar nodes; writes a₂)")


def test_to_json_shapes_and_keys():
    _, _, _, loss = xor_network()
    doc = step_through(loss, layers=True).to_json()
    assert list(doc) == ["steps"] and len(doc["steps"]) == 7
    json.dumps(doc)  # plain JSON
    for step in doc["steps"]:
        assert list(step) == ["layer", "quantity", "formula", "value"]
        assert step["quantity"] in ("dL/da", "delta", "dL/dW", "dL/db")
    shapes = [np.array(s["value"]).shape for s in doc["steps"]]
    assert shapes == [(4, 1), (4, 1), (1, 2), (1,), (4, 2), (2, 2), (2,)]


def test_scalar_stepper_to_json_is_its_trace():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    view = step_through((a * b).tanh())
    assert view.to_json() == json.loads(view.trace.to_json())


def test_layers_without_nn_are_numbered_and_one_sample_reads_delta_x_transposed():
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    W1 = [[Value(0.1), Value(0.2)], [Value(-0.3), Value(0.4)]]
    b1 = [Value(0.05), Value(-0.05)]
    a1 = [linear(w, x, b).tanh() for w, b in zip(W1, b1)]
    W2, b2 = [Value(0.7), Value(-0.6)], Value(0.2)
    out = linear(W2, a1, b2)
    view = step_through(out, layers=True, groups={})
    assert [(s.layer, s.quantity) for s in view.steps][:2] == [("layer 2", "dL/da"),
                                                              ("layer 2", "delta")]
    assert "∂L/∂W₁ = δ₁ xᵀ" in by(view, "dL/dW")[1].formula
    out.backward()
    assert by(view, "dL/dW")[1].value == [[w.grad for w in row] for row in W1]
    assert by(view, "delta")[1].value == [[a.parents[0].grad for a in a1]]


def test_graph_without_layers_is_scalar_boxes():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    f = (a * b + a).tanh()
    view = step_through(f, layers=True)
    assert len(view) == 0 and view.to_json() == {"steps": []}
    drawing = draw(f, layers=True)
    assert [b.id for b in drawing.layer_boxes] == [f"n{i}" for i in range(5)]
    assert "no layers" in str(view)


def test_a_penalised_layer_is_left_to_scalar_boxes():
    model, _, _, loss = xor_network()
    penalised = loss + nn.l2_penalty(model.layers[0].parameters(), 0.1)
    names = [layer.name for layer in find_layers(penalised, model.module_paths())]
    assert names == ["layers.1"]  # ∂L/∂W₁ is no longer Σ δ xᵀ: not a layer


def test_no_negative_zero_on_screen():
    assert number_text(-0.0, 4) == "0" and matrix([[-0.0, 1.5]]) == "[[0, 1.5]]"
    x = [Value(-0.0), Value(0.0)]
    w = [Value(1.0, label="w0"), Value(-1.0, label="w1")]
    z = linear(w, x, Value(0.0, label="b")).relu()
    view = step_through(z * -1.0, layers=True, groups={})
    assert "-0" not in "".join(view.equation(k) for k in range(len(view) + 1))
    assert "-0" not in draw(z, layers=True).table()


def test_draw_shows_the_grads_held_now():
    model, _, _, loss = xor_network()
    model.zero_grad()
    loss.backward()
    drawing = draw(loss, layers=True)
    w = model.layers[1].neurons[0].w
    assert f"grad [{number_text(w[0].grad, 4)}, {number_text(w[1].grad, 4)}]" in drawing.table()


def test_frames_page_gif_and_folder(tmp_path):
    needs_dot()
    _, _, _, loss = xor_network()
    before = grads_of(loss)
    view = step_through(loss, layers=True)
    page = view.save(tmp_path / "layers.html").read_text(encoding="utf-8")
    assert 'data-cell="L1z.0"' in page and "<table class=\"stepgrad-layers\">" in page
    gif = view.save(tmp_path / "layers.gif").read_bytes()
    assert gif[:6] == b"GIF89a" and gif.count(b"\x21\xf9\x04") == len(view) + 1
    folder = view.save(tmp_path / "frames")
    assert len(list(folder.glob("frame_*.svg"))) == len(view) + 1
    svg = view.frame(2).svg()
    assert matrix([by(view, "delta")[0].value[0]])[1:-1] in svg.replace("&#45;", "-")
    assert grads_of(loss) == before


def test_display_never_raises(monkeypatch):
    model, _, _, loss = xor_network()
    view = step_through(loss, layers=True)
    from autograd import layerview

    def broken(*args, **kwargs):
        raise RuntimeError("no renderer here")

    monkeypatch.setattr(layerview, "_tag_svg", broken)
    monkeypatch.setattr(LayerView, "frame", broken)
    page = view._repr_html_()
    assert "No picture: no renderer here" in page and "δ₂ = ∂L/∂z₂" in page
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"].startswith("step 1: layers.1")


def test_widget_steps_when_ipywidgets_is_installed():
    pytest.importorskip("ipywidgets")
    _, _, _, loss = xor_network()
    view = step_through(loss, layers=True)
    view.show(2)
    assert view.step == 2 and "δ₂ = ∂L/∂z₂" in view.text.value


def test_a_layer_read_beyond_the_layer_above_gets_its_own_dL_da_step():
    x = [Value(0.3), Value(-0.8)]
    W1 = [[Value(0.5), Value(-0.2)], [Value(0.1), Value(0.9)]]
    h = [linear(w, x, Value(0.0)).tanh() for w in W1]
    W2 = [Value(1.5), Value(-0.7)]
    out = linear(W2, h, Value(0.1)).sigmoid()
    loss = out * out + h[0]  # h₀ also reaches the loss directly
    view = step_through(loss, layers=True, groups={})
    quantities = [(s.layer, s.quantity) for s in view.steps]
    assert ("layer 1", "dL/da") in quantities
    loss.backward()
    step = next(s for s in view.steps if s.layer == "layer 1" and s.quantity == "dL/da")
    assert step.value == [[h[0].grad, h[1].grad]]
    assert by(view, "delta")[1].value == [[a.parents[0].grad for a in h]]
    assert "δ₁ = ∂L/∂z₁ = ∂L/∂a₁ ⊙ tanh′(z₁)" in by(view, "delta")[1].formula


def test_bad_input_is_refused_by_name():
    with pytest.raises(TypeError, match="root must be a Value"):
        draw(3.0, layers=True)
    with pytest.raises(ValueError, match="precision"):
        step_through(Value(1.0) * 2, layers=True, precision=0)


def test_samples_with_equal_or_signed_zero_inputs_stay_apart():
    w, b = [Value(0.5, label="w0"), Value(-2.0, label="w1")], Value(0.25, label="b")
    xs = [[0.0, 1.0], [-0.0, 1.0], [0.0, 1.0], [float("nan"), 1.0]]
    loss = linear(w, xs[0], b).tanh()
    for x in xs[1:]:
        loss = loss + linear(w, x, b).tanh()
    (layer,) = find_layers(loss, {})
    assert [[repr(v) for v in row] for row in layer.inputs] == [
        [repr(v) for v in row] for row in xs]
    view = step_through(loss, layers=True, groups={})
    loss.backward()
    assert repr(by(view, "dL/dW")[0].value) == repr([[w[0].grad, w[1].grad]])  # NaN as torch


def test_the_pages_table_shows_each_formula_with_its_line_breaks():
    """The table under the page holds every step's formula as ``to_json`` has it, its line
    breaks as line breaks (no ``\\x0a`` escape for a learner to read)."""
    import html as html_module
    import re

    needs_dot()
    *_, loss = relu_network()
    view = step_through(loss, layers=True)
    page = view._repr_html_()
    cells = [html_module.unescape(c) for c in re.findall(r"<td><pre>(.*?)</pre></td>", page,
                                                          re.S)]
    formulas = [s["formula"] for s in view.to_json()["steps"]]
    assert cells == formulas and any("\n" in f for f in formulas)
    assert "\\x0a" not in page
