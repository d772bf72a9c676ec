"""Graph to code: a recorded graph as a straight-line Python gradient program.

:func:`compile` reads a graph once and writes a function with one line per node for the
forward pass (``z1_0 = b_0 + w_0_0*x_0 + w_0_1*x_1``) and one line per node for the backward
pass (``g_z1_0 = g_a1_0 * (1 - a1_0**2)``), where ``g_v`` is ∂(first output)/∂v: the sum,
over the edges leaving v, of the consumer's ``g`` times the edge's local derivative. Names come
from labels; plain-number leaves are inlined as constants. Each op's source comes from its
:class:`~autograd.ops.Code` in the op table.

The same source runs on floats (one sample) and on 1-D NumPy arrays of per-sample input values
(a batch flowing through the same scalar graph): branches on the data are comparisons and
``where``, so each sample takes its own branch. In batch mode, outputs and input gradients are
per sample and parameter gradients are summed over the batch: ``dot(g, x)`` = Σₛ gₛ·xₛ and
``total(g)`` = Σₛ gₛ (plain ``g·x`` and ``g`` for one sample). NumPy is needed only for batches.
"""

from __future__ import annotations

import builtins
import keyword
import linecache
import math
import operator
import re
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from itertools import count
from typing import Any, NamedTuple

from . import ops
from .backward import topological_order
from .value import Value


class CompileError(ValueError):
    """The graph cannot be turned into code; the message names the node."""


# ---------------------------------------------------------------------- namespaces
def _where(cond: bool, a: float, b: float) -> float:
    return a if cond else b


FLOAT_NAMESPACE: dict[str, Any] = {
    "exp": math.exp, "log": math.log, "tanh": math.tanh, "sin": math.sin, "cos": math.cos,
    "sqrt": math.sqrt, "sigmoid": ops.sigmoid, "softplus": ops.softplus, "sign": ops.sign,
    "relu": ops.RELU.forward, "where": _where, "dot": operator.mul, "total": float,
    "inf": math.inf, "nan": math.nan,
}


def _numpy():
    try:
        import numpy
    except ImportError:
        raise ImportError("a compiled program needs NumPy for batches of samples "
                          "(pip install numpy); one sample of floats works without it") from None
    return numpy


def _numpy_namespace() -> dict[str, Any]:
    np = _numpy()

    def sigmoid(x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def softplus(x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    return {
        "exp": np.exp, "log": np.log, "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
        "sqrt": np.sqrt, "sigmoid": sigmoid, "softplus": softplus, "sign": np.sign,
        "relu": lambda x: np.maximum(x, 0.0), "where": np.where, "dot": np.dot,
        "total": np.add.reduce, "inf": math.inf, "nan": math.nan,
    }


# ---------------------------------------------------------------------- names
_RESERVED = frozenset(FLOAT_NAMESPACE) | {"abs", "seed", "gradient_program"}


class _Names:
    """Unique identifiers from labels; ``g_`` + a name is kept free for its gradient."""

    def __init__(self) -> None:
        self.used: set[str] = set(_RESERVED)
        self.counters: dict[str, count] = {}

    def new(self, label: str | None, fallback: str) -> str:
        base = _identifier(label) if label else None
        if base is None:
            n = self.counters.setdefault(fallback, count())
            base = f"{fallback}_{next(n)}"
        name, k = base, 1
        while name in self.used or f"g_{name}" in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.update((name, f"g_{name}"))
        return name


def _identifier(label: str) -> str | None:
    """``layers.0.w.1`` → ``layers_0_w_1``; None when nothing usable is left."""
    text = re.sub(r"\W+", "_", unicodedata.normalize("NFKC", str(label))).strip("_")
    if not text or not text.isidentifier() and not text[0].isdigit():
        return None
    if text[0].isdigit():
        text = f"v_{text}"
    return f"{text}_" if keyword.iskeyword(text) else text


def _close(expr: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start``."""
    depth = 0
    for i in range(start, len(expr)):
        depth += {"(": 1, ")": -1}.get(expr[i], 0)
        if depth == 0:
            return i
    return -1


def _atomic(expr: str) -> bool:
    """True when ``expr`` needs no parentheses as a factor: a name, a number, a call or a
    parenthesised expression."""
    if re.fullmatch(r"[\w.]+", expr):
        return True
    m = re.match(r"\w*\(", expr)
    return bool(m) and _close(expr, m.end() - 1) == len(expr) - 1


# ---------------------------------------------------------------------- the program
class Evaluation(NamedTuple):
    """What a compiled program returns: the outputs, then ∂(first output)/∂input for each
    input (per sample) and ∂(first output)/∂param for each parameter (summed over a batch)."""

    outputs: tuple
    input_grads: tuple
    param_grads: tuple


class GradProgram:
    """A compiled graph: ``program(*input_values, params=None, seed=1.0)`` → :class:`Evaluation`.

    Input values are floats (one sample) or equal-length 1-D arrays or lists (a batch).
    ``params`` defaults to the parameter Values' current ``data``; ``seed`` is ∂L/∂(first
    output), a number or per-sample weights (``1/B`` makes parameter gradients a batch mean).
    ``source`` is the generated Python.
    """

    def __init__(self, source: str, outputs: tuple[Value, ...], inputs: tuple[Value, ...],
                 params: tuple[Value, ...], names: dict[Value, str]) -> None:
        self.source = source
        self.outputs, self.inputs, self.params = outputs, inputs, params
        self.names = names
        self._code = builtins.compile(source, self._filename(), "exec")
        self._float = self._load(FLOAT_NAMESPACE)
        self._batch: Callable | None = None

    def _filename(self) -> str:
        name = f"<gradient program {id(self):x}>"
        linecache.cache[name] = (len(self.source), None, self.source.splitlines(True), name)
        return name

    def _load(self, namespace: dict[str, Any]) -> Callable:
        scope = dict(namespace)
        exec(self._code, scope)
        return scope["gradient_program"]

    def __call__(self, *inputs: Any, params: Sequence[float] | None = None,
                 seed: Any = 1.0) -> Evaluation:
        if len(inputs) != len(self.inputs):
            raise TypeError(f"the program takes {len(self.inputs)} inputs "
                            f"({', '.join(self.names[v] for v in self.inputs)}), got {len(inputs)}")
        values = [p.data for p in self.params] if params is None else list(params)
        if len(values) != len(self.params):
            raise TypeError(f"the program has {len(self.params)} parameters, got {len(values)}")
        if not any(isinstance(x, (list, tuple)) or getattr(x, "ndim", 0) for x in inputs):
            return Evaluation(*self._float(*inputs, *values, seed))
        np = _numpy()
        arrays = [np.asarray(x, dtype=float) for x in inputs]
        sizes = {a.shape for a in arrays if a.ndim}
        if len(sizes) != 1 or len(next(iter(sizes))) != 1:
            raise ValueError(f"batch inputs must be 1-D arrays of one length, got shapes "
                             f"{[a.shape for a in arrays]}")
        (size,) = sizes.pop()
        if self._batch is None:
            self._batch = self._load(_numpy_namespace())
        seed = np.broadcast_to(np.asarray(seed, dtype=float), (size,)).copy()
        outs, input_grads, param_grads = self._batch(*arrays, *values, seed)

        def per_sample(v: Any) -> Any:  # a value the samples share, repeated per sample
            return v if getattr(v, "shape", None) == (size,) else np.full(size, float(v))

        return Evaluation(tuple(map(per_sample, outs)), tuple(map(per_sample, input_grads)),
                          tuple(g.sum() if getattr(g, "ndim", 0) else g for g in param_grads))

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return (f"GradProgram({len(self.outputs)} outputs, {len(self.inputs)} inputs, "
                f"{len(self.params)} params, {self.source.count(chr(10)) + 1} lines)")


def _describe(node: Value, index: int) -> str:
    what = f"label {node.label!r}" if node.label else f"unlabelled, node {index} in order"
    return f"{node.op.name if node.op else 'leaf'} node ({what})"


def compile(  # noqa: A001 - autograd.compile reads best
    outputs: Value | Sequence[Value],
    inputs: Sequence[Value] = (),
    params: Sequence[Value] = (),
    *,
    input_grads: bool = True,
    layers: bool = False,
) -> GradProgram:
    """Write the recorded graph of ``outputs`` as a straight-line gradient program.

    ``inputs``: leaves whose values change per sample (arguments of the program; their
    gradients are per sample, computed when ``input_grads``); ``params``: leaves shared by all
    samples (their gradients are summed over a batch). Every other leaf is a constant, inlined
    with its current value. Gradients are of the first output. ``layers``: write each layer
    (linear nodes over the same inputs, then the same activation) as NumPy matrix code,
    z = W x + b and δ = (W′ᵀδ′) ⊙ f′(z) (:mod:`autograd.layered`). Raises :class:`CompileError`
    naming the node when a node's op has no code form or a variable is not a leaf.
    """
    outs = (outputs,) if isinstance(outputs, Value) else tuple(outputs)
    if not outs:
        raise ValueError("compile needs at least one output Value")
    inputs, params = tuple(inputs), tuple(params)
    variables = inputs + params
    if len(set(variables)) != len(variables):
        raise ValueError("compile: a Value is listed twice among inputs and params")
    for v in (*outs, *variables):
        if not isinstance(v, Value):
            raise TypeError(f"compile takes Values, got {type(v).__name__}: {v!r}")
    for v in variables:
        if not v.is_leaf:
            raise CompileError(f"compile: inputs and params must be leaves; the "
                               f"{_describe(v, 0)} is computed from other nodes")

    order: dict[Value, None] = {}
    for out in outs:
        order.update(dict.fromkeys(topological_order(out)))
    nodes = list(order)

    names, per_sample = _Names(), set(inputs)
    name: dict[Value, str] = {}
    for v in variables:
        name[v] = names.new(v.label, "x" if v in per_sample else "p")

    def ref(v: Value) -> str:
        return name[v] if v in name else ops.literal(v.data)

    forward, locals_ = {}, {}
    for index, node in enumerate(nodes):
        if node.is_leaf:
            continue
        if node.op.code is None:
            raise CompileError(f"compile: the {_describe(node, index)} has no code form; "
                               f"declare its op with code=autograd.ops.Code(forward, local)")
        name[node] = names.new(node.label, node.op.name)
        if any(p in per_sample for p in node.parents):
            per_sample.add(node)
        expr, locals_[node] = node.op.code_of(node, tuple(map(ref, node.parents)), name[node])
        forward[node] = f"{name[node]} = {expr}"

    wrt = set(params) | (set(inputs) if input_grads else set())
    root_graph = topological_order(outs[0])
    live: set[Value] = set()
    for node in root_graph:
        if node in wrt or any(p in live for p in node.parents):
            live.add(node)
    uses: dict[Value, list[tuple[Value, str]]] = {v: [] for v in live}
    for node in reversed(root_graph):
        if node in live and not node.is_leaf:
            for parent, local in zip(node.parents, locals_[node]):
                if parent in live:
                    uses[parent].append((node, local))

    sample_names = {name[v] for v in per_sample}

    def gradient(v: Value) -> str:
        """Σ over v's edges of g_consumer × local; a node the samples share (a parameter, or
        computed from parameters only) sums the per-sample products over the batch."""
        terms = ["seed"] if v is outs[0] else []
        for consumer, local in uses.get(v, ()):
            g = f"g_{name[consumer]}"
            if v not in per_sample and consumer in per_sample:
                if set(re.findall(r"[^\W\d]\w*", local)) & sample_names:
                    terms.append(f"dot({g}, {local})")
                    continue
                g = f"total({g})"
            if local in ("1", "-1"):
                terms.append(f"-{g}" if local == "-1" else g)
            else:
                terms.append(f"{g} * {local if _atomic(local) else f'({local})'}")
        if not terms:
            return "0.0"
        text = terms[0]
        for t in terms[1:]:
            text += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
        return text

    if layers:
        from .layered import Scalar, write_layers

        program = write_layers(Scalar(outs, inputs, params, nodes, names, name, ref, per_sample,
                                      forward, uses, gradient, wrt, root_graph))
        if program is not None:
            return program
    backward = [f"g_{name[v]} = {gradient(v)}"
                for v in reversed(root_graph) if v in live and not v.is_leaf]
    backward += [f"g_{name[v]} = {gradient(v)}" for v in variables if v in wrt]

    def listing(items: list[str]) -> str:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def grads(values: Sequence[Value]) -> str:
        return listing([f"g_{name[v]}" if v in wrt else "0.0" for v in values])

    args = ", ".join([name[v] for v in variables] + ["seed"])
    signature = textwrap.fill(args, 92, initial_indent="    ", subsequent_indent="    ")
    returns = f"{listing([ref(v) for v in outs])}, {grads(inputs)}, {grads(params)}"
    body = (["# forward: one line per node"] + list(forward.values())
            + ["# backward: g_v = ∂(first output)/∂v, summed over the edges leaving v"]
            + backward + [f"return {returns}"])
    source = (f"def gradient_program(\n{signature},\n):\n"
              + "\n".join(f"    {line}" for line in body) + "\n")
    return GradProgram(source, outs, inputs, params, name)
