"""Model files (JSON, never pickle) and the way out to PyTorch.

A model file holds ``{"format": "stepgrad-nn-model", "version": 1, "architecture": {...},
"parameters": {dotted name: number}}``: the constructor arguments (``model.config()``) and
the ``state_dict``. Files are written atomically: a temporary file in the same folder, then
a rename, so a crash never leaves half a model behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from autograd.files import write_atomic

from .layers import Layer, Neuron, from_config
from .module import Module

FORMAT = "stepgrad-nn-model"
VERSION = 1
PathLike = str | os.PathLike


def save(model: Module, path: PathLike) -> None:
    """Write ``model`` (a Neuron, Layer or MLP) to ``path`` as JSON."""
    config = getattr(model, "config", None)
    if not isinstance(model, Module) or config is None:
        raise TypeError(f"save needs a Neuron, Layer or MLP, got {type(model).__name__}")
    doc = {"format": FORMAT, "version": VERSION, "architecture": config(),
           "parameters": model.state_dict()}
    write_atomic(path, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))


def load(path: PathLike) -> Module:
    """Read a model written by :func:`save`.

    Raises FileNotFoundError for a missing file and ValueError (or TypeError) naming the file
    for bad JSON, another format or version, an unknown architecture, or parameters that do not
    match the architecture's names and count.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a JSON model file ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file (no \"format\": \"{FORMAT}\" entry)")
    if doc.get("version") != VERSION:
        raise ValueError(f"{path}: model file version {doc.get('version')!r}; "
                         f"this version of nn reads version {VERSION}")
    try:
        model = from_config(doc.get("architecture"))
        model.load_state_dict(doc.get("parameters"))
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
