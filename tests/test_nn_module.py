"""Module: named parameters, zero_grad, state_dict round trips and validation."""

import math

import pytest

from autograd import Value
from nn import MLP, Module


class Affine(Module):
    def __init__(self):
        self.scale = Value(2.0)
        self.parts = [Value(1.0), (Value(3.0),)]
        self.inner = MLP(1, [1], rng=0)
        self._hidden = Value(9.0)  # underscore attributes are not parameters

    def __call__(self, x):
        return self.inner(x) * self.scale + self.parts[0]


def test_custom_module_names_in_attribute_order():
    m = Affine()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "parts.0", "parts.1.0", "inner.layers.0.neurons.0.w.0",
                     "inner.layers.0.neurons.0.b"]
    assert m.scale.label == "scale"
    assert m.num_parameters() == 5
    assert repr(m).splitlines()[:2] == ["Affine(5 parameters)", "  inner: MLP(1 → 1, 2 parameters)"]


def test_zero_grad_resets_accumulated_leaf_grads():
    m = MLP(2, [3, 1], rng=1)
    out = m([1.0, -1.0])
    out.backward()
    out.backward()
    assert m.layers[1].neurons[0].b.grad == 2.0  # leaves accumulate
    m.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())


def test_state_dict_round_trip():
    a, b = MLP(2, [3, 1], rng=1), MLP(2, [3, 1], rng=2)
    b.load_state_dict(a.state_dict())
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert b([0.2, 0.4]).data == a([0.2, 0.4]).data


@pytest.mark.parametrize("change, error, match", [
    (lambda s: s.pop("layers.0.neurons.0.b"), ValueError, "missing 'layers.0.neurons.0.b'"),
    (lambda s: s.update(extra=1.0), ValueError, "unexpected 'extra'"),
    (lambda s: s.update({"layers.1.neurons.0.b": "x"}), TypeError, "must be a real number"),
    (lambda s: s.update({"layers.1.neurons.0.b": math.nan}), ValueError, "not finite"),
])
def test_bad_state_changes_nothing(change, error, match):
    m = MLP(2, [3, 1], rng=1)
    before = m.state_dict()
    state = {k: v + 1.0 for k, v in before.items()}
    change(state)
    with pytest.raises(error, match=match):
        m.load_state_dict(state)
    assert m.state_dict() == before


class Scaled(Module):
    """PyTorch's habit: define forward, call the module."""

    def __init__(self):
        self.inner = MLP(2, [3, 1], rng=0)
        self.scale = Value(3.0)

    def forward(self, x):
        return self.inner(x) * self.scale


class DoubledMLP(MLP):
    def forward(self, x):
        return super().forward(x) * 2


def test_calling_a_module_runs_its_forward():
    m = Scaled()
    x = [0.5, -1.0]
    assert m(x).data == pytest.approx(3.0 * m.inner(x).data)
    assert m.forward(x).data == m(x).data
    d = DoubledMLP(2, [3, 1], rng=0)
    assert d(x).data == 2 * MLP(2, [3, 1], rng=0)(x).data
    assert Affine().forward([1.0]).data == Affine()([1.0]).data  # micrograd's habit: __call__
    with pytest.raises(NotImplementedError, match="Bare defines no forward"):
        type("Bare", (Module,), {})()([1.0])
