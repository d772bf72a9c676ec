"""Model files (strict JSON, never pickle) and the way out to PyTorch.

A model file holds ``{"format": "stepgrad-nn-model", "version": 1, "architecture": {...},
"parameters": {dotted name: number}}``: the constructor arguments (``model.config()``) and
the ``state_dict``. It is strict JSON (RFC 8259): every parameter is a finite number, so
``save`` refuses a model holding NaN or ±inf (naming the parameter) instead of writing the
``NaN``/``Infinity`` tokens that other JSON readers reject.

``save`` writes atomically and durably: a temporary file in the same folder, fsync, rename,
fsync of the folder; an error or Ctrl-C leaves the old file (or none) and no temporary.
``load`` only parses JSON (it never runs code) and checks the architecture against the
parameters actually present (count, names, finite numbers) before it builds anything, so a
small file claiming a huge model is refused at once.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from autograd.files import write_atomic

from .layers import Layer, Neuron, config_names, config_parameters, from_config
from .module import Module, real_parameter

FORMAT = "stepgrad-nn-model"
VERSION = 1
PathLike = str | os.PathLike


def save(model: Module, path: PathLike) -> None:
    """Write ``model`` (a Neuron, Layer or MLP) to ``path`` as strict JSON.

    Raises ValueError naming the first parameter that is NaN or ±inf (nothing is written).
    """
    config = getattr(model, "config", None)
    if not isinstance(model, Module) or config is None:
        raise TypeError(f"save needs a Neuron, Layer or MLP, got {type(model).__name__}")
    state = model.state_dict()
    for name, v in state.items():
        if not math.isfinite(v):
            raise ValueError(f"cannot save: parameter {name!r} is {v!r}; model files hold "
                             f"finite numbers only")
    doc = {"format": FORMAT, "version": VERSION, "architecture": config(), "parameters": state}
    text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    write_atomic(path, text.encode("utf-8"))


def _no_constant(token: str) -> None:
    raise ValueError(f"{token} is not a JSON number")


def load(path: PathLike) -> Module:
    """Read a model written by :func:`save`.

    Raises FileNotFoundError for a missing file and ValueError (or TypeError) naming the file
    and the first problem: not strict JSON, another format or version, a malformed
    architecture, a parameter count or names that do not match it, a value that is not a
    finite number. All of this is checked before the model is built.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:  # bad JSON, UTF-8, NaN, nesting, huge ints
        raise ValueError(f"{path}: not a JSON model file ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file (no \"format\": \"{FORMAT}\" entry)")
    if doc.get("version") != VERSION:
        raise ValueError(f"{path}: model file version {doc.get('version')!r:.40}; "
                         f"this version of nn reads version {VERSION}")
    architecture, params = doc.get("architecture"), doc.get("parameters")
    try:
        count = config_parameters(architecture)
        if not isinstance(params, dict):
            raise TypeError(f"parameters must be an object of names to numbers, got "
                            f"{type(params).__name__}")
        if len(params) != count:
            raise ValueError(f"the {architecture['type']} architecture has {count} parameters "
                             f"but the file holds {len(params)}")
        missing = next((name for name in config_names(architecture) if name not in params),
                       None)
        if missing is not None:
            raise ValueError(f"the {architecture['type']} architecture has a parameter "
                             f"{missing!r} that the file does not have")
        for name, v in params.items():
            real_parameter(name, v)
        model = from_config(architecture)
        model.load_state_dict(params)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{path}: {err}") from None
    return model


def to_torch(model: Module) -> Any:
    """An equivalent ``torch.nn.Sequential`` (float64) with the same weights.

    Each of our layers becomes ``Linear(nin, nout)`` (weight row j = neuron j's w) followed by
    its activation; a Neuron is a Linear with one output. Outputs keep a last dimension of
    size nout (micrograd-style models return a bare Value when nout = 1).
    """
    try:
        import torch
    except ImportError:
        raise ImportError("to_torch needs PyTorch: pip install torch") from None
    if isinstance(model, Neuron):
        groups = [([model], model.activation)]
    elif isinstance(model, Layer):
        groups = [(model.neurons, model.activation)]
    elif hasattr(model, "layers") and all(isinstance(x, Layer) for x in model.layers):
        groups = [(layer.neurons, layer.activation) for layer in model.layers]
    else:
        raise TypeError(f"to_torch needs a Neuron, Layer or MLP, got {type(model).__name__}")
    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
            "leaky_relu": torch.nn.LeakyReLU}
    modules = []
    for neurons, activation in groups:
        lin = torch.nn.Linear(len(neurons[0].w), len(neurons), dtype=torch.float64)
        weight = [[w.data for w in n.w] for n in neurons]
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(weight, dtype=torch.float64))
            lin.bias.copy_(torch.tensor([n.b.data for n in neurons], dtype=torch.float64))
        modules.append(lin)
        if activation in acts:
            modules.append(acts[activation]())
    return torch.nn.Sequential(*modules)
