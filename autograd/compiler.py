"""Graph to code: a recorded graph as a straight-line Python gradient program.

:func:`compile` reads a graph once and writes a function with one line per node for the
forward pass (``z1_0 = b_0 + w_0_0*x_0 + w_0_1*x_1``) and one line per node for the backward
pass (``g_z1_0 = g_a1_0 * (1 - a1_0*a1_0)``), where ``g_v`` is ∂(first output)/∂v: the sum,
over the edges leaving v, of the consumer's ``g`` times the edge's local derivative. Names come
from labels; plain-number leaves are inlined as constants. Each op's source comes from its
entry in the op table: derived from its forward and local-derivative rule, run on code
(:class:`Expr`), or the entry's :class:`~autograd.ops.Code` where it cannot be derived. A
forward that reads its operands as floats (``math.atan``) is called by reference: the line is
``y = op_atan(x)``, with ``op_atan`` bound to the op's own forward.

The same source runs on floats (one sample) and on 1-D NumPy arrays of per-sample input values
(a batch flowing through the same scalar graph): branches on the data are comparisons and
``where``, so each sample takes its own branch. In batch mode, outputs and input gradients are
per sample and parameter gradients are summed over the batch: ``dot(g, x)`` = Σₛ gₛ·xₛ and
``total(g)`` = Σₛ gₛ (plain ``g·x`` and ``g`` for one sample), sample after sample, the order
backward adds them on a graph of all the samples (in a batch, a parameter's ``dot`` and
``total`` hand their per-sample terms to the call, which sums every parameter at once); a
shared interior node with per-sample terms adds them with ``sample_sum``. Every sample gets
exactly the numbers of a one-sample call, which are the engine's: the same float operations in
the same order. NumPy is needed only for batches.
"""

from __future__ import annotations

import keyword
import re
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from itertools import count

from . import ops
from .backward import topological_order
from .codegen import CALL, CompileError, as_local, code_of
from .program import FLOAT_NAMESPACE, GradProgram, Local
from .value import Value

# ---------------------------------------------------------------------- names
_RESERVED = frozenset(FLOAT_NAMESPACE) | {"abs", "seed", "gradient_program"}
_NAME_LENGTH = 40  # longer labels are cut (the whole label goes in a comment)
_CHUNK = 50  # terms per line of a long sum: Python's compiler recurses once per operator
_GRADIENT = re.compile(r"seed|g_\w+")  # a term that is a whole gradient, never −0.0


class _Names:
    """Unique identifiers from labels; ``g_`` + a name is kept free for its gradient."""

    def __init__(self) -> None:
        self.used: set[str] = set(_RESERVED)
        self.counters: dict[str, count] = {}

    def new(self, label: str | None, fallback: str) -> str:
        """A fresh name from ``label``, else ``fallback`` (an op's name, made an identifier
        too) and a number."""
        base = _identifier(label) if label else None
        if base is None:
            fallback = _identifier(fallback) or "v"
            n = self.counters.setdefault(fallback, count())
            base = f"{fallback}_{next(n)}"
        name, k = base, 1
        while name in self.used or f"g_{name}" in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.update((name, f"g_{name}"))
        return name


class _Calls:
    """The ops a program calls by reference (a forward that reads its operands as floats):
    one name per op (``op_atan``, unique in the program), bound to the op's own forward in
    ``functions``."""

    def __init__(self, names: _Names) -> None:
        self.names, self.name = names, {}
        self.functions: dict[str, Callable] = {}

    def resolve(self, op: ops.Op, expr: str) -> str:
        """``expr`` (an op's forward source) with its ``{call}`` as the op's name."""
        if CALL not in expr:
            return expr
        if op not in self.name:
            self.name[op] = self.names.new(f"op_{op.name}", "op")
            self.functions[self.name[op]] = op.forward
        return expr.replace(CALL, self.name[op])


def _identifier(label: object) -> str | None:
    """``layers.0.w.1`` → ``layers_0_w_1``: every run of characters that cannot continue a
    Python name becomes ``_``, cut to 40 characters; None when nothing usable is left."""
    text = unicodedata.normalize("NFKC", str(label))
    text = "".join(c if f"a{c}".isidentifier() else " " for c in text)
    text = "_".join(text.split())[:_NAME_LENGTH].strip("_")
    if text[:1].isdigit():
        text = f"v_{text}"
    if not text.isidentifier() or unicodedata.normalize("NFKC", text) != text:
        return None
    return f"{text}_" if keyword.iskeyword(text) else text


def _comment(node: Value, name: str) -> str:
    """The label as an escaped comment when the name does not already say it."""
    if node.label is None or node.label == name:
        return ""
    text = repr(node.label)
    return f"  # {text if len(text) <= 60 else text[:57] + '...'}"


def _assign(name: str, parts: list[str], comment: str = "") -> list[str]:
    """``name = p₀ p₁ p₂ ...`` where every part after the first starts with its operator
    (`` + t``, `` - t``), in lines of at most :data:`_CHUNK` parts that continue
    ``name = name + ...``: the same operations, left to right."""
    lines = [f"{name} = {''.join(parts[:_CHUNK])}{comment}"]
    for i in range(_CHUNK, len(parts), _CHUNK):
        lines.append(f"{name} = {name}{''.join(parts[i : i + _CHUNK])}")
    return lines


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
    naming the node and its op when the op's code cannot be derived from its rules (and its
    entry gives no :class:`~autograd.ops.Code`), or when a variable is not a leaf.

    Without ``layers``, one sample runs the engine's float operations in the engine's order,
    so its numbers are the engine's. A batch gives each sample those same numbers, and sums a
    shared node's gradient sample by sample in that order (what ``backward`` does on a graph
    that holds the samples one after another). With ``layers``, matrix products add in BLAS's
    order and NumPy's exp, tanh... differ from ``math`` in the last bit: the numbers agree
    with the scalar program's to about 1e-12 relative, not bit for bit.
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

    names, per_sample = _Names(), set(inputs)
    calls = _Calls(names)
    name: dict[Value, str] = {}
    for v in variables:
        name[v] = names.new(v.label, "x" if v in per_sample else "p")

    def ref(v: Value) -> str:
        return name[v] if v in name else ops.literal(v.data)

    forward: dict[Value, list[str]] = {}  # a node's lines (a long sum takes several)
    locals_: dict[Value, tuple[Local, ...]] = {}
    for index, node in enumerate(order):
        if node.is_leaf:
            continue
        name[node] = names.new(node.label, node.op.name)
        if any(p in per_sample for p in node.parents):
            per_sample.add(node)
        try:
            expr, local = code_of(node.op, node, tuple(map(ref, node.parents)), name[node])
        except CompileError as err:
            raise CompileError(f"compile: the {_describe(node, index)}: {err}") from None
        expr = calls.resolve(node.op, expr)
        locals_[node] = tuple(d if isinstance(d, Local) else as_local(d) for d in local)
        if node.op.arity == -1 and node.op.code is not None:  # a long sum: several lines
            first, *rest = expr.split(node.op.code.forward)
            parts = [first, *(node.op.code.forward + t for t in rest)]
        else:
            parts = [expr]
        forward[node] = _assign(name[node], parts, _comment(node, name[node]))

    wrt = set(params) | (set(inputs) if input_grads else set())
    root_graph = topological_order(outs[0])
    live: set[Value] = set()
    for node in root_graph:
        if node in wrt or any(p in live for p in node.parents):
            live.add(node)
    uses: dict[Value, list[tuple[Value, Local]]] = {v: [] for v in live}
    for node in reversed(root_graph):
        if node in live and not node.is_leaf:
            for parent, local in zip(node.parents, locals_[node]):
                if parent in live:
                    uses[parent].append((node, local))

    def gradient(v: Value) -> list[str]:
        """The lines of g_v: Σ over v's edges, in backward's order, of g_consumer × local.
        A node the samples share (a parameter, or computed from parameters only) whose terms
        are per sample (from a per-sample consumer or the root's seed) adds them with
        ``sample_sum``, sample by sample in a batch. A parameter's ``dot(g, a)`` or
        ``total(...)`` hands its per-sample terms to the program's call, which sums all
        parameters at once."""
        edges = uses.get(v, ())
        terms = ["seed"] if v is outs[0] else []
        terms += [local.times(f"g_{name[consumer]}") for consumer, local in edges]
        target = f"g_{name[v]}"
        if not terms:
            return [f"{target} = 0.0"]
        sample_terms = any(c in per_sample or c is outs[0] for c, _ in edges)
        if v not in per_sample and (sample_terms or v is outs[0] and v.is_leaf):
            if v.is_leaf and len(terms) == 1 and edges[0][1].factor not in (None, "1", "(-1)"):
                return [f"{target} = dot(g_{name[edges[0][0]]}, {edges[0][1].factor})"]  # Σₛ gₛ·aₛ
            if v.is_leaf:  # the call sums a parameter's terms (only the return reads them)
                return [f"{target} = total({', '.join(terms)})"]
            return _assign(target, [f"sample_sum({', '.join(terms[:_CHUNK])})"]) + [
                f"{target} = sample_sum({target}, {', '.join(terms[i : i + _CHUNK])})"
                for i in range(_CHUNK, len(terms), _CHUNK)]
        parts = [terms[0]] + [f" - {t[1:]}" if t.startswith("-") else f" + {t}"
                              for t in terms[1:]]
        if not _GRADIENT.fullmatch(terms[0]):  # backward adds into a 0.0: −0.0 becomes 0.0
            first = parts[0]
            parts[0] = f"0.0 - {first[1:]}" if first.startswith("-") else f"0.0 + {first}"
        return _assign(target, parts)

    if layers:
        from .layered import Scalar, write_layers

        program = write_layers(Scalar(outs, inputs, params, list(order), names, name, ref,
                                      per_sample, forward, uses, gradient, wrt, root_graph,
                                      calls))
        if program is not None:
            return program
    backward = [line for v in reversed(root_graph) if v in live and not v.is_leaf
                for line in gradient(v)]
    backward += [line for v in variables if v in wrt for line in gradient(v)]

    def listing(items: list[str]) -> str:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def grads(values: Sequence[Value]) -> str:
        return listing([f"g_{name[v]}" if v in wrt else "0.0" for v in values])

    args = ", ".join([name[v] for v in variables] + ["seed"])
    signature = textwrap.fill(args, 92, initial_indent="    ", subsequent_indent="    ",
                              break_long_words=False, break_on_hyphens=False)
    returns = f"{listing([ref(v) for v in outs])}, {grads(inputs)}, {grads(params)}"
    body = (["# forward: one line per node"] + [line for ls in forward.values() for line in ls]
            + ["# backward: g_v = ∂(first output)/∂v, summed over the edges leaving v"]
            + backward + [f"return {returns}"])
    source = (f"def gradient_program(\n{signature},\n):\n"
              + "\n".join(f"    {line}" for line in body) + "\n")
    return GradProgram(source, outs, inputs, params, name, calls.functions)
