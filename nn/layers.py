"""Neuron, Layer and MLP, compatible with micrograd's ``nn`` module.

A neuron computes a = f(w·x + b): the pre-activation w·x + b is ONE ``autograd.linear`` node,
then the activation f (relu, tanh, sigmoid, leaky_relu or linear = none) is one more node.
A layer is a list of neurons that all see the same inputs; an MLP chains layers, so layer l
computes a⁽ˡ⁺¹⁾ = f(W⁽ˡ⁾ a⁽ˡ⁾ + b⁽ˡ⁾).

As in micrograd: ``MLP(nin, nouts)`` has ReLU hidden layers and a linear output layer;
``parameters()`` lists layer by layer, neuron by neuron, weights then bias; a layer (and so a
model) of one neuron returns a single Value, otherwise a list; inputs may be plain numbers
or Values; ``Neuron(nin, nonlin=False)`` (or ``Neuron(nin, False)``) is a linear neuron.
Inputs may also be NumPy arrays, NumPy scalars or any other sequence of real numbers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import methodcaller
from typing import Any

from autograd import Value, linear, ops
from autograd.value import linear_layer

from .init import Init, Rng, get_init, get_rng
from .module import Module

Input = Value | float | Sequence[Value | float]

# Every one-operand op of the table that is a Value method and defined on all reals (relu,
# tanh, sigmoid, leaky_relu, softplus, ...), plus "linear" for none. Looked up on the Value at
# each call, so detect_anomaly's checked methods are the ones used.
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    name: methodcaller(name)
    for name in [op.method for op in ops.OPS.values()
                 if op.arity == 1 and op.method and not op.requires]
    + [name for name in ops.FAMILIES if callable(getattr(Value, name, None))]
}
ACTIVATIONS["linear"] = None


def _activation(name: str | bool | None, nonlin: bool | None = None) -> str:
    if isinstance(name, bool) and nonlin is None:  # micrograd's Neuron(nin, nonlin) by position
        nonlin = name
    if nonlin is not None:  # micrograd's flag
        return "relu" if nonlin else "linear"
    name = "linear" if name is None else name
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return name


def _count(n: object, what: str) -> int:
    """``n`` as a positive int (NumPy integers accepted, bools refused)."""
    try:
        k = -1 if isinstance(n, bool) else operator.index(n)
    except TypeError:
        k = -1
    if k < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return k


def _inputs(x: object) -> Sequence:
    """A module's input as a list or tuple: a number or Value becomes a 1-tuple; a NumPy array
    (or anything with ``tolist``) or another iterable becomes a list of its items."""
    if isinstance(x, Value) or not isinstance(x, Iterable) and not hasattr(x, "tolist"):
        return (x,)
    if isinstance(x, (str, bytes)):
        raise TypeError(f"a model's input must be numbers or Values, got {type(x).__name__}")
    items = x.tolist() if hasattr(x, "tolist") else list(x)
    return items if isinstance(items, list) else (items,)


def _init_name(init: str | Init) -> str:
    return init if isinstance(init, str) else getattr(init, "__name__", "custom")


class Neuron(Module):
    """a = f(Σᵢ wᵢxᵢ + b) with ``nin`` weights drawn by ``init`` and a bias starting at 0.

    ``nonlin=True/False`` (micrograd's spelling) means relu / linear and overrides
    ``activation``. ``fan_out`` is the width of the layer the neuron belongs to (Xavier uses it).
    """

    def __init__(
        self,
        nin: int,
        activation: str | None = "relu",
        init: str | Init = "uniform",
        rng: Rng = None,
        *,
        nonlin: bool | None = None,
        fan_out: int = 1,
    ) -> None:
        nin = _count(nin, "Neuron's number of inputs nin")
        draw, r = get_init(init), get_rng(rng)
        self.w = [Value(draw(nin, fan_out, r)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = _activation(activation, nonlin)
        self.init = _init_name(init)
        self._f = ACTIVATIONS[self.activation]
        self.named_parameters()

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: True unless the activation is linear."""
        return self.activation != "linear"

    def forward(self, x: Input) -> Value:
        if not isinstance(x, (list, tuple)):
            x = _inputs(x)
        z = linear(self.w, x, self.b)
        f = self._f
        return z if f is None else f(z)

    def config(self) -> dict[str, Any]:
        """The constructor arguments that fix the architecture (for model files)."""
        return {"type": "Neuron", "nin": len(self.w), "activation": self.activation}

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation})"


class Layer(Module):
    """``nout`` neurons on the same ``nin`` inputs; returns a list, or one Value if nout = 1."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "relu",
        init: str | Init = "uniform",
        rng: Rng = None,
        *,
        nonlin: bool | None = None,
    ) -> None:
        nout = _count(nout, "Layer's number of outputs nout")
        r = get_rng(rng)
        self.neurons = [Neuron(nin, activation, init, r, nonlin=nonlin, fan_out=nout)
                        for _ in range(nout)]
        self.activation = self.neurons[0].activation
        self._f = ACTIVATIONS[self.activation]
        self.named_parameters()

    @property
    def nin(self) -> int:
        return len(self.neurons[0].w)

    def forward(self, x: Input) -> Value | list[Value]:
        if not isinstance(x, (list, tuple)):
            x = _inputs(x)  # e.g. the single Value of a width-1 layer below
        # the hot path: one linear node per neuron, the shared inputs read once
        neurons = self.neurons
        out = linear_layer([n.w for n in neurons], x, [n.b for n in neurons])
        f = self._f
        if f is not None:
            out = list(map(f, out))
        return out[0] if len(out) == 1 else out

    def config(self) -> dict[str, Any]:
        """The constructor arguments that fix the architecture (for model files)."""
        return {"type": "Layer", "nin": self.nin, "nout": len(self.neurons),
                "activation": self.activation}

    def __repr__(self) -> str:
        return f"Layer({self.nin} → {len(self.neurons)}, {self.activation})"


class MLP(Module):
    """Layers of widths ``nouts`` on ``nin`` inputs: ``activation`` on the hidden layers,
    ``output_activation`` (default linear, as micrograd) on the last.

    >>> MLP(2, [16, 16, 1]).num_parameters()
    337
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str | None = None,
        init: str | Init = "uniform",
        rng: Rng = None,
    ) -> None:
        nouts = list(nouts)
        if not nouts:
            raise ValueError("MLP needs at least one layer width in nouts")
        r = get_rng(rng)
        sizes = [nin] + nouts
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < last else output_activation, init, r)
            for i in range(len(nouts))
        ]
        self.activation = _activation(activation)
        self.output_activation = self.layers[-1].activation
        self.named_parameters()

    def forward(self, x: Input) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nouts(self) -> list[int]:
        return [len(layer.neurons) for layer in self.layers]

    def config(self) -> dict[str, Any]:
        """The constructor arguments that fix the architecture (for model files)."""
        return {"type": "MLP", "nin": self.nin, "nouts": self.nouts,
                "activation": self.activation, "output_activation": self.output_activation}

    def __repr__(self) -> str:
        widths = " → ".join(str(n) for n in [self.nin, *self.nouts])
        lines = [f"MLP({widths}, {self.num_parameters()} parameters)"]
        lines += [f"  layers.{i}: {layer!r}" for i, layer in enumerate(self.layers)]
        return "\n".join(lines)


MODELS: dict[str, type[Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}


# type -> the config fields its constructor needs
FIELDS: dict[str, tuple[str, ...]] = {
    "Neuron": ("nin", "activation"),
    "Layer": ("nin", "nout", "activation"),
    "MLP": ("nin", "nouts", "activation", "output_activation"),
}


def config_parameters(config: object) -> int:
    """How many parameters the model that ``config`` describes has, found WITHOUT building it:
    a Neuron has nin + 1, a Layer nout·(nin + 1), an MLP the sum over its layers. Raises
    ValueError naming the first bad field (unknown type, missing or extra field, a width that
    is not a positive int, an unknown activation)."""
    if not isinstance(config, dict) or not isinstance(config.get("type"), str) \
            or config["type"] not in FIELDS:
        got = config.get("type") if isinstance(config, dict) else config
        raise ValueError(f"architecture must be a dict with 'type' one of {', '.join(FIELDS)};"
                         f" got {_clip_repr(got)}")
    kind, fields = config["type"], FIELDS[config["type"]]
    for name in fields:
        if name not in config:
            raise ValueError(f"{kind} architecture has no {name!r}")
    extra = [k for k in config if k != "type" and k not in fields]
    if extra:
        raise ValueError(f"{kind} architecture has an unknown field {_clip_repr(extra[0])}")
    for name in fields:
        value = config[name]
        if "activation" in name and not (value is None or isinstance(value, str)
                                         and value in ACTIVATIONS):
            raise ValueError(f"{kind} {name} must be one of {sorted(ACTIVATIONS)}, got "
                             f"{_clip_repr(value)}")
    widths = config["nouts"] if kind == "MLP" else [config.get("nout", 1)]
    if not isinstance(widths, list) or not widths:
        raise ValueError(f"MLP nouts must be a non-empty list of positive ints, got "
                         f"{_clip_repr(widths)}")
    sizes = [config["nin"], *widths]
    for k, n in enumerate(sizes):
        if type(n) is not int or n < 1:
            field = "nin" if k == 0 else f"nouts[{k - 1}]" if kind == "MLP" else "nout"
            raise ValueError(f"{kind} {field} must be a positive int, got {_clip_repr(n)}")
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def config_names(config: dict[str, Any]) -> Iterator[str]:
    """The dotted parameter names, in order, of the model that a valid ``config`` (see
    :func:`config_parameters`) describes, without building it: a neuron's ``w.0 … w.{nin-1},
    b``, a layer's ``neurons.{j}.`` + those, an MLP's ``layers.{l}.`` + a layer's."""

    def neuron(prefix: str, nin: int) -> Iterator[str]:
        yield from (f"{prefix}w.{i}" for i in range(nin))
        yield f"{prefix}b"

    def layer(prefix: str, nin: int, nout: int) -> Iterator[str]:
        for j in range(nout):
            yield from neuron(f"{prefix}neurons.{j}.", nin)

    if config["type"] == "Neuron":
        yield from neuron("", config["nin"])
    elif config["type"] == "Layer":
        yield from layer("", config["nin"], config["nout"])
    else:
        sizes = [config["nin"], *config["nouts"]]
        for k in range(len(sizes) - 1):
            yield from layer(f"layers.{k}.", sizes[k], sizes[k + 1])


def _clip_repr(obj: object, limit: int = 60) -> str:
    text = repr(obj)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def from_config(config: dict[str, Any]) -> Module:
    """Rebuild a Neuron, Layer or MLP from its ``config()`` (weights are drawn, then meant to be
    overwritten by ``load_state_dict``); raises ValueError for an unknown or malformed config
    (checked by :func:`config_parameters` before anything is built)."""
    config_parameters(config)
    kwargs = {k: v for k, v in config.items() if k != "type"}
    return MODELS[config["type"]](**kwargs, rng=0)
