"""Model files: round trip, atomic write, clear errors; to_torch equivalence."""

import json
import os

import pytest

from autograd import Value
from nn import MLP, Layer, Neuron, load, save, to_torch


@pytest.mark.parametrize("model", [
    MLP(3, [4, 2], activation="tanh", output_activation="sigmoid", rng=1),
    MLP(2, [16, 1, 1], rng=2),
    Layer(2, 3, activation="leaky_relu", rng=3),
    Neuron(3, activation="linear", rng=4),
], ids=["mlp", "width1", "layer", "neuron"])
def test_round_trip_gives_the_same_function(tmp_path, model):
    path = tmp_path / "model.json"
    save(model, path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "stepgrad-nn-model" and doc["version"] == 1
    loaded = load(path)
    assert type(loaded) is type(model)
    assert loaded.state_dict() == model.state_dict()
    x = [0.3, -0.7, 1.1][: model.config()["nin"]]
    a, b = model(x), loaded(x)
    a, b = (a if isinstance(a, list) else [a]), (b if isinstance(b, list) else [b])
    assert [v.data for v in a] == [v.data for v in b]
    assert os.listdir(tmp_path) == ["model.json"]  # no temporary left behind


def write(tmp_path, text):
    path = tmp_path / "m.json"
    path.write_text(text)
    return path


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        load(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="not a JSON model file"):
        load(write(tmp_path, "{not json"))
    with pytest.raises(ValueError, match="not a stepgrad-nn-model file"):
        load(write(tmp_path, "[1, 2]"))
    good = MLP(2, [3, 1], rng=0)
    save(good, tmp_path / "good.json")
    doc = json.loads((tmp_path / "good.json").read_text())
    with pytest.raises(ValueError, match="version 99"):
        load(write(tmp_path, json.dumps({**doc, "version": 99})))
    shapes = {**doc, "architecture": {**doc["architecture"], "nouts": [4, 1]}}
    with pytest.raises(ValueError, match="missing 'layers.0.neurons.3.w.0'"):
        load(write(tmp_path, json.dumps(shapes)))
    with pytest.raises(ValueError, match="architecture"):
        load(write(tmp_path, json.dumps({**doc, "architecture": {"type": "CNN"}})))
    params = dict(doc["parameters"], **{"layers.0.neurons.0.b": "oops"})
    with pytest.raises(TypeError, match="real number"):
        load(write(tmp_path, json.dumps({**doc, "parameters": params})))


def test_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    save(MLP(2, [1], rng=0), path)
    before = path.read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save(MLP(2, [1], rng=1), path)
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["model.json"]


def test_save_needs_a_known_architecture():
    with pytest.raises(TypeError, match="Neuron, Layer or MLP"):
        save(Value(1.0), "x.json")


def test_to_torch_gives_identical_outputs_and_gradients():
    torch = pytest.importorskip("torch")
    model = MLP(3, [5, 4, 2], activation="tanh", output_activation="sigmoid", rng=7)
    tmodel = to_torch(model)
    x = [0.2, -1.3, 0.8]
    out = model(x)
    (out[0] * 2.0 + out[1]).backward()
    tout = tmodel(torch.tensor(x, dtype=torch.float64))
    (tout[0] * 2.0 + tout[1]).backward()
    assert tout.tolist() == pytest.approx([v.data for v in out], rel=1e-12)
    linears = [m for m in tmodel if isinstance(m, torch.nn.Linear)]
    for layer, lin in zip(model.layers, linears, strict=True):
        assert lin.weight.grad.tolist() == [
            pytest.approx([w.grad for w in n.w], rel=1e-10, abs=1e-14) for n in layer.neurons]
        assert lin.bias.grad.tolist() == pytest.approx([n.b.grad for n in layer.neurons],
                                                       rel=1e-10, abs=1e-14)
