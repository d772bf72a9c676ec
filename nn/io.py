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
small file claiming a huge model is refused at once. It reads in bounded chunks, never past
the largest honest file for the architecture (:func:`max_file_bytes`, which a file over 64 KiB
must give before its parameters), so a padded file is refused after reading 64 KiB.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

from autograd.files import not_regular, special_kind, write_atomic

from .layers import Layer, Neuron, config_names, config_parameters, from_config
from .module import Module, real_parameter

FORMAT = "stepgrad-nn-model"
VERSION = 1
PathLike = str | os.PathLike
HEADER_BYTES = 64 * 1024  # everything but the parameters: format, version, architecture
VALUE_BYTES = 64  # per parameter besides its name: a number (save writes at most 24), quotes,
                  # colon, comma and whitespace, with room for other writers' layout
MAX_PARAMETERS = 10 ** 7  # the largest model load reads (pure Python: gigabytes of Values)
CHUNK_BYTES = 1 << 20


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


def max_file_bytes(count: int) -> int:
    """The largest honest model file for ``count`` parameters: ``HEADER_BYTES``, plus per
    parameter ``VALUE_BYTES`` and its name (at most ``layers.L.neurons.J.w.I`` with each index
    below ``count``). Counts over ``MAX_PARAMETERS`` get the allowance of ``MAX_PARAMETERS``."""
    count = min(count, MAX_PARAMETERS)
    return HEADER_BYTES + count * (VALUE_BYTES + len("layers..neurons..w.") + 3 * len(str(count)))


def _no_constant(token: str) -> None:
    raise ValueError(f"{token} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) < len(pairs):
        twice = next(key for key, n in Counter(key for key, _ in pairs).items() if n > 1)
        raise ValueError(f"the key {twice!r} appears twice in one object")
    return obj


_SPACE = re.compile(r"[ \t\n\r]*")


def _architecture_in(head: str) -> object:
    """The "architecture" member of the JSON object that ``head`` begins, read member by member
    up to "parameters"; None if it is not there (or ``head`` ends first)."""
    decoder, i = json.JSONDecoder(), _SPACE.match(head, 1).end()
    try:
        while head.startswith('"', i):
            key, i = decoder.raw_decode(head, i)
            i = _SPACE.match(head, i).end()
            if key == "parameters" or not head.startswith(":", i):
                return None
            value, i = decoder.raw_decode(head, _SPACE.match(head, i + 1).end())
            if key == "architecture":
                return value
            i = _SPACE.match(head, i).end()
            if not head.startswith(",", i):
                return None
            i = _SPACE.match(head, i + 1).end()
    except (ValueError, RecursionError):  # cut off at the end of head, or not JSON
        pass
    return None


def _count(path: Path, head: bytes) -> int:
    """The parameter count of the architecture in ``head``, the first ``HEADER_BYTES + 1``
    bytes of a file: a longer file must give its architecture there, before the parameters
    (as :func:`save` writes it). Raises ValueError naming the problem."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head).lstrip(" \t\n\r")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a JSON model file ({err})") from None
    if not text.startswith("{"):
        raise ValueError(f"{path}: not a JSON model file (a model file is a JSON object, "
                         f"beginning with '{{')")
    architecture = _architecture_in(text)
    if architecture is None:
        raise ValueError(f"{path}: no \"architecture\" before the \"parameters\" in the first "
                         f"{HEADER_BYTES // 1024} KiB, where a model file longer than that "
                         f"must have it (as nn.save writes it)")
    try:
        return config_parameters(architecture)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def _read(path: Path) -> bytes | bytearray:
    """The bytes of the model file ``path``. Raises FileNotFoundError, OSError naming the file
    (a FIFO, device or folder is refused without blocking or reading), or ValueError (see
    :func:`_read_bounded`)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO never blocks
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {str(path)!r}") from None
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None
    try:
        kind = special_kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise not_regular(path, kind, "load")
    except BaseException:
        os.close(fd)
        raise
    with open(fd, "rb") as f:
        try:
            return _read_bounded(path, f)
        except OSError as err:  # /proc/self/mem, a disk error: name the file
            raise OSError(err.errno, err.strerror, str(path)) from None


def _read_bounded(path: Path, f: BinaryIO) -> bytes | bytearray:
    """The bytes of the regular file ``f``, read in chunks. A file longer than
    ``max_file_bytes`` of its architecture (or, for a size already over the largest model's
    allowance, of ``MAX_PARAMETERS``) is refused with ValueError as soon as that shows: by its
    size, or by reading one byte past the limit (for files whose size lies, as in /proc)."""
    count, size = MAX_PARAMETERS, os.fstat(f.fileno()).st_size
    if size <= max_file_bytes(count):
        data = f.read(HEADER_BYTES + 1)
        if len(data) <= HEADER_BYTES:
            return data
        count = _count(path, data)
    limit = max_file_bytes(count)
    if size <= limit:
        buf = bytearray(data)
        while len(buf) <= limit and (chunk := f.read(min(CHUNK_BYTES, limit + 1 - len(buf)))):
            buf += chunk
        if len(buf) <= limit:
            return buf
    most = (f"the most a model file with {count:,} parameters can take" if count < MAX_PARAMETERS
            else f"the most load reads (a model file with {MAX_PARAMETERS:,} parameters)")
    raise ValueError(f"{path}: longer than {limit:,} bytes, {most}")


def load(path: PathLike) -> Module:
    """Read a model written by :func:`save`.

    Raises FileNotFoundError for a missing file, OSError naming the file when it cannot be
    read or is not a regular file, and ValueError (or TypeError) naming the file and the first
    problem: longer than its architecture allows, not strict JSON (a key twice in one object
    included), another format or version, a malformed architecture, a parameter count or names
    that do not match it, a value that is not a finite number. All of this is checked before
    the model is built.
    """
    path = Path(path)
    data = _read(path)
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_no_constant,
                         object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as err:  # bad JSON, UTF-8, NaN, nesting, huge ints
        raise ValueError(f"{path}: not a JSON model file ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file (no \"format\": \"{FORMAT}\" entry)")
    version = doc.get("version")
    if type(version) is not int:
        raise ValueError(f"{path}: model file version must be an integer, got "
                         f"{json.dumps(version)[:40]}")
    if version != VERSION:
        raise ValueError(f"{path}: model file version {version!r:.40}; "
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
