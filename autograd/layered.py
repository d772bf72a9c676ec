"""Per-layer matrix code: the layers of a recorded graph written as the explainers' formulas.

A graph built by ``nn.Layer`` is one ``linear`` node per neuron over the same inputs, then the
same activation on each: exactly z = W a + b, a′ = f(z). ``autograd.compile(..., layers=True)``
finds such layers — linear nodes whose weights and bias are parameters and whose inputs are
the same Values, each followed by the same one-operand op (or by nothing) — and writes each
as NumPy matrix code over a batch held in columns, one column per sample::

    z1 = W1 @ x + b1                     a1 = relu(z1)
    d1 = where(z1 <= 0, 0.0, W2.T @ d2)  g_W1 = d1 @ x.T          g_b1 = d1.sum(axis=1, ...)

where ``d`` is δ = ∂L/∂z, and f and f′ are the scalar program's own code for the op (derived
from its entry in the op table): δ = (W′ᵀδ′) ⊙ f′(z), where relu′'s 0 is a mask, so an inf
or NaN upstream at an off unit gives 0, as in the engine. Every other node keeps its scalar
line from :func:`autograd.compile`; a scalar node reads a layer output as a row
(``z3_0 = z3[0]``), and a layer whose inputs are scalar nodes stacks them into a matrix.
The parameters arrive as one flat array ``P`` of which ``W1`` and ``b1`` are views
(``P[0:48].reshape(16, 3)[:, :2]``); their gradients go back, in the order of the
parameters, as one flat array ``G``. A sum of one op over
parameters (a penalty such as Σ w²) is written as one line over ``P`` too.

The numbers agree with the scalar program's (which are the engine's) to about 1e-12 relative,
not bit for bit: a matrix product adds its terms in BLAS's order, and NumPy's exp and tanh
differ from ``math``'s in the last bit.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import ops
from .codegen import code_of, escaped
from .program import (
    ONE,
    REAL_KINDS,
    Evaluation,
    GradProgram,
    array_functions,
    elementwise,
    numpy_module,
    sum_samples,
)
from .value import Value


class Scalar(NamedTuple):
    """What the scalar compiler knows about a graph: its node order, names, each non-leaf
    node's forward lines, the edges backward follows (``uses``: node → [(consumer, local
    derivative source)]) and ``gradient(v)``, the lines of g_v = ∂(first output)/∂v over
    them; ``calls``: the ops called by reference (:class:`~autograd.compiler._Calls`)."""

    outs: tuple[Value, ...]
    inputs: tuple[Value, ...]
    params: tuple[Value, ...]
    nodes: list[Value]
    names: Any
    name: dict[Any, str]
    ref: Callable[[Value], str]
    per_sample: set
    forward: dict[Value, list[str]]
    uses: dict[Value, list]
    gradient: Callable[[Value], list[str]]
    wrt: set
    root_graph: list[Value]
    calls: Any


@dataclass(eq=False)
class _Layer:
    """Linear rows over the same inputs, with their parameters' indices (rows × inputs, and
    rows × 1 for the bias) and the one-operand op after every row (None: no activation)."""

    rows: list[Value]
    acts: list[Value] | None
    inputs: tuple[Value, ...]
    weights: Any
    bias: Any
    op: ops.Op | None
    source: _Layer | None = None  # the layer whose outputs are exactly this one's inputs
    into: _Layer | None = None  # the layer whose inputs are exactly this one's outputs, alone
    needs_input_grad: bool = False
    name: dict[str, str] = field(default_factory=dict)

    @property
    def outputs(self) -> list[Value]:
        return self.acts if self.acts is not None else self.rows


@dataclass(eq=False)
class _Sum:
    """A sum node over one op applied to each of several distinct parameters (a penalty such
    as Σ w²), with the parameters' indices."""

    total: Value
    terms: tuple[Value, ...]
    index: Any
    name: dict[str, str] = field(default_factory=dict)


def _consumers(s: Scalar) -> dict[Value, list[Value]]:
    """Node → the nodes that have it as a parent (once per edge), over all outputs' graphs."""
    consumers: dict[Value, list[Value]] = {}
    for node in s.nodes:
        for parent in node.parents:
            consumers.setdefault(parent, []).append(node)
    return consumers


def _find_sums(s: Scalar, consumers: dict[Value, list[Value]]) -> list[_Sum]:
    """Sum nodes whose terms are one op of one parameter each (``p * p``, ``abs(p)``), every
    term used by that sum only."""
    np = numpy_module()
    index = {p: k for k, p in enumerate(s.params)}
    found = []
    for node in s.nodes:
        terms = node.parents
        if node.op is not ops.SUM or len(terms) < 2 or terms[0].is_leaf:
            continue
        op = terms[0].op
        if op.arity < 1 or any(t.op is not op or len(consumers[t]) != 1 or t in s.outs
                               or len(set(t.parents)) != 1 or t.parents[0] not in index
                               for t in terms):
            continue
        idx = [index[t.parents[0]] for t in terms]
        if len(set(idx)) == len(idx):
            found.append(_Sum(node, terms, np.array(idx)))
    return found


def _find_layers(s: Scalar, consumers: dict[Value, list[Value]]) -> list[_Layer]:
    """Group the linear nodes of per-sample values into layers, in forward order."""
    np = numpy_module()
    index = {p: k for k, p in enumerate(s.params)}
    position = {v: k for k, v in enumerate(s.nodes)}
    outs = set(s.outs)
    groups: dict[tuple, list[tuple[Value, Value | None]]] = {}
    for node in s.nodes:
        op = node.op
        if not isinstance(op, ops.LinearOp) or node not in s.per_sample:
            continue
        flags = dict(op.params)
        n = int(flags["n"])
        parents = node.parents
        if not (flags["weights"] and flags["inputs"]) or not all(
                v in index for v in (*parents[:n], *parents[2 * n:])):
            continue
        after = consumers.get(node, [])
        act = after[0] if len(after) == 1 and node not in outs and after[0].op.arity == 1 else None
        key = (parents[n: 2 * n], bool(flags["bias"]), act.op if act is not None else None)
        groups.setdefault(key, []).append((node, act))
    layers = []
    for (inputs, has_bias, op), members in groups.items():
        n = len(inputs)
        members.sort(key=lambda m: index[m[0].parents[0]])
        rows = [row for row, _ in members]
        weights = np.array([[index[w] for w in row.parents[:n]] for row in rows])
        bias = np.array([[index[row.parents[2 * n]]] for row in rows]) if has_bias else None
        taken = weights.ravel().tolist() + ([] if bias is None else bias.ravel().tolist())
        if len(set(taken)) < len(taken) or set(taken) & {index.get(x) for x in inputs}:
            continue  # a parameter used twice, or as an input too: left to scalar lines
        acts = [act for _, act in members] if op is not None else None
        layers.append(_Layer(rows, acts, inputs, weights, bias, op))
    layers.sort(key=lambda layer: min(position[r] for r in layer.rows))
    return layers


def _base(labels: Sequence[str | None]) -> str | None:
    """The name the labels share before their indices: ``W1[1,2]``, ``W1[2,1]`` → ``W1``;
    ``x_0``, ``x_1`` → ``x``; ``x1``, ``x2`` → ``x``."""
    for pattern in (r"(.*?[^\W\d]\w*?)(?:\[[\d,\s]*\]|(?:[._]\d+)+)", r"([^\W\d]\w*?)\d+"):
        matches = [re.fullmatch(pattern, label or "") for label in labels]
        bases = {m.group(1) if m and m.group(1).isidentifier() else None for m in matches}
        if len(bases) == 1 and None not in bases and (len(labels) > 1 or pattern[1] == "."):
            return bases.pop()
    return None


def _slice(array: str, idx: Any, size: int) -> str | None:
    """``array[idx]`` (``idx`` a 1-D or 2-D integer array) as a view: a slice, a reshape and a
    column slice; None when no view of an array of ``size`` entries has these entries."""
    np = numpy_module()
    if idx.ndim == 1:
        step = int(idx[1] - idx[0]) if len(idx) > 1 else 1
        if step < 1 or not np.array_equal(idx, idx[0] + step * np.arange(len(idx))):
            return None
        start, stop = int(idx[0]), int(idx[-1]) + 1
        return f"{array}[{start}:{stop}{f':{step}' if step != 1 else ''}]"
    r, c = idx.shape
    if c == 1:
        view = _slice(array, idx[:, 0], size)
        return view and f"{view[:-1]}, None]"
    start = int(idx[0, 0])
    rs = int(idx[1, 0] - start) if r > 1 else c
    if rs < c or not np.array_equal(idx, start + rs * np.arange(r)[:, None] + np.arange(c)):
        return None
    if rs == c:
        return f"{array}[{start}:{start + r * c}].reshape({r}, {c})"
    if start + r * rs <= size:
        return f"{array}[{start}:{start + r * rs}].reshape({r}, {rs})[:, :{c}]"
    return None


class LayeredProgram(GradProgram):
    """A compiled graph whose layers are matrix code (see :mod:`autograd.layered`), called
    like :class:`~autograd.program.GradProgram`: ``program(*input_values, params=None,
    seed=1.0)`` → :class:`~autograd.program.Evaluation`. Its source takes the parameters as
    one array ``P``. It runs in NumPy even for one sample (a batch of one, returned as
    floats)."""

    def __init__(self, source: str, outputs: tuple[Value, ...], inputs: tuple[Value, ...],
                 params: tuple[Value, ...], names: dict[Value, str],
                 namespace: dict[str, Any], calls: dict[str, Callable] | None = None) -> None:
        super().__init__(source, outputs, inputs, params, names, calls)
        self._batch = self._load(namespace)

    def __call__(self, *inputs: Any, params: Sequence[float] | None = None,
                 seed: Any = 1.0) -> Evaluation:
        np = numpy_module()
        n = len(self.params)
        values = (np.fromiter([p.data for p in self.params], float, n) if params is None
                  else np.asarray(params))
        if len(inputs) != len(self.inputs) or values.shape != (n,) or \
                values.dtype.kind not in REAL_KINDS or isinstance(params, np.ma.MaskedArray):
            return super().__call__(*inputs, params=params, seed=seed)  # it names the mistake
        values = values.astype(float, copy=False)
        arrays = self._columns(inputs)
        one = arrays is None
        if one:
            arrays = [np.full(1, x) for x in self._one(inputs)]
        sizes = {a.shape for a in arrays if a.ndim}
        if len(sizes) != 1 or len(next(iter(sizes))) != 1:
            return super().__call__(*inputs, params=params, seed=seed)  # it names the mistake
        ((size,),) = sizes
        seed = np.broadcast_to(np.asarray(seed, dtype=float), (size,)).copy()
        with np.errstate(all="ignore"):  # inf and nan flow on, as in the scalar program
            outs, input_grads, param_grads = self._batch(*arrays, values, seed)
        if one:
            return Evaluation(tuple(float(v[0] if getattr(v, "ndim", 0) else v) for v in outs),
                              tuple(float(v[0] if getattr(v, "ndim", 0) else v)
                                    for v in input_grads), tuple(param_grads))
        return Evaluation(_per_sample(outs, size, np), _per_sample(input_grads, size, np),
                          tuple(param_grads))

    def __repr__(self) -> str:
        return type(self).__name__ + super().__repr__()[len("GradProgram"):]


def _per_sample(values: Sequence, size: int, np: Any) -> tuple:
    """Each value as an array of ``size`` samples: a value the samples share is repeated."""
    out = list(values)
    shared = [i for i, v in enumerate(out) if getattr(v, "shape", None) != (size,)]
    if shared:
        block = np.empty((len(shared), size))
        block[:] = np.array([float(out[i]) for i in shared])[:, None]
        for i, row in zip(shared, block):
            out[i] = row
    return tuple(out)


def write_layers(s: Scalar) -> LayeredProgram | None:
    """The program with each layer of ``s``'s graph as matrix code; None if there is no layer."""
    consumers = _consumers(s)
    layers = _find_layers(s, consumers)
    if not layers:
        return None
    sums = _find_sums(s, consumers)
    np = numpy_module()
    names, name = s.names, s.name
    namespace = _namespace(np)
    helpers = {"zeros": np.zeros, "concatenate": np.concatenate,
               "stack": _stack(np)}
    fn = {key: names.new(key, key) for key in helpers}
    namespace.update({fn[key]: f for key, f in helpers.items()})
    flat, grads, shape = names.new("P", "P"), names.new("G", "G"), names.new("shape", "shape")

    def index(array: str, idx: Any, what: str) -> str:
        """``array[idx]``, a view when it can be."""
        if np.array_equal(idx, np.arange(len(s.params))):
            return array
        view = _slice(array, idx, len(s.params))
        if view is not None:
            return view
        constant = names.new(f"index_{what}", "index")
        namespace[constant] = idx
        return f"{array}[{constant}]"

    # ---------------------------------------------------------------- names and structure
    def own(v: Value, layer: _Layer, unused: bool) -> bool:
        """A labelled node alone in its layer keeps its name for the matrix (1 × batch) when
        no scalar line reads it (``unused``), as with ``b2`` and ``z2`` in z2 = W2 a1 + b2."""
        return unused and v.label is not None and len(layer.rows) == 1

    outputs_of = {}
    for k, layer in enumerate(layers, 1):
        nm = layer.name
        n = len(layer.inputs)
        corners = [w.label for r in layer.rows for w in (r.parents[0], r.parents[n - 1])]
        nm["W"] = names.new(_base(corners) or f"W{k}", "W")
        if layer.bias is not None:
            bias = layer.rows[0].parents[-1]
            alone = consumers[bias] == layer.rows and bias not in s.outs
            nm["b"] = (name[bias] if own(bias, layer, alone) else
                       names.new(_base([r.parents[-1].label for r in layer.rows]) or f"b{k}", "b"))
        row = layer.rows[0]
        nm["z"] = (name[row] if own(row, layer, layer.acts is not None) else
                   names.new(_base([r.label for r in layer.rows]) or f"z{k}", "z"))
        nm["d"] = names.new(("d" + nm["z"][1:]) if nm["z"][:1] == "z" else f"d_{nm['z']}", "d")
        if layer.acts is not None:
            nm["a"] = names.new(_base([a.label for a in layer.acts]) or f"a{k}", "a")
        source = layer.source = outputs_of.get(layer.inputs)
        if source is not None:  # the outputs of a layer below, in order: its matrix
            nm["x"] = source.name["a" if source.acts is not None else "z"]
            nm["gx"] = "g_" + names.new(f"in_{nm['z']}", "in")  # ∂L/∂x through this layer
        else:  # stacked from other nodes
            nm["x"] = names.new(_base([x.label for x in layer.inputs]) or f"x{k}", "x")
            nm["gx"] = f"g_{nm['x']}"
        outputs_of[tuple(layer.outputs)] = layer
        rows = set(layer.rows)
        if source is not None and all(
                r is not s.outs[0] and s.uses.get(r) and all(c in rows for c, _ in s.uses[r])
                for r in source.outputs):
            source.into = layer

    in_layer = {v: layer for layer in layers for v in (*layer.rows, *(layer.acts or ()))}
    in_sum = {t for total in sums for t in total.terms}
    fused = {r for layer in layers if layer.into is not None for r in layer.outputs}
    positions: dict[_Layer, dict[Value, list[int]]] = {layer: {} for layer in layers}
    for layer in layers:
        for j, x in enumerate(layer.inputs):
            positions[layer].setdefault(x, []).append(j)
    for v, edges in s.uses.items():  # a layer's or a sum's edges become vector formulas
        kept = [(c, local) for c, local in edges if c not in in_layer and c not in in_sum]
        if len(kept) == len(edges) or v in fused:
            continue
        readers = {c for c, _ in edges}
        for layer in layers:
            if v not in positions[layer] or readers.isdisjoint(layer.rows):
                continue
            for j in positions[layer][v]:  # v is input j of the layer: ∂L/∂v gets (Wᵀδ)[j]
                layer.needs_input_grad = True
                pseudo = object()
                name[pseudo] = f"{layer.name['gx'][2:]}[{j}]"
                s.per_sample.add(pseudo)
                kept.append((pseudo, ONE))
        s.uses[v] = kept

    referenced = set(s.outs)
    for node in s.nodes:
        if not node.is_leaf and node not in in_layer and node not in in_sum:
            referenced.update(node.parents)
    for layer in layers:
        if layer.source is None:
            referenced.update(layer.inputs)

    # ---------------------------------------------------------------- forward
    body = [f"{shape} = seed.shape"]
    read = [k for k, p in enumerate(s.params) if p in referenced]  # by scalar lines, as floats
    if read:
        body.append(_wrap(f"{_listing([name[s.params[k]] for k in read])} = "
                          f"{index(flat, np.array(read), 'read')}.tolist()"))
    for layer in layers:
        nm = layer.name
        body.append(f"{nm['W']} = {index(flat, layer.weights, nm['W'])}")
        if layer.bias is not None:
            body.append(f"{nm['b']} = {index(flat, layer.bias, nm['b'])}")
    body.append("# forward: a layer as z = W x + b, a = f(z); other nodes one line each")
    position = {v: k for k, v in enumerate(s.nodes)}
    first = {layer: min(layer.rows, key=position.__getitem__) for layer in layers}
    vector = {total.total: total for total in sums}
    for total in sums:
        total.name = {"p": names.new("p", "p"), "terms": names.new(None, total.terms[0].op.name)}
    for node in s.nodes:
        layer = in_layer.get(node)
        if node in vector:
            total = vector[node]
            term, (p, terms) = total.terms[0], total.name.values()
            expr, _ = code_of(term.op, term, (p,) * len(term.parents), terms)
            expr = s.calls.resolve(term.op, expr)
            body += [f"# {name[node]} = Σ {escaped(term.op.name)} over {len(total.terms)} "
                     f"parameters, as vectors", f"{p} = {index(flat, total.index, p)}",
                     f"{terms} = {expr}", f"{name[node]} = total({terms})"]
            continue
        if layer is None:
            if not node.is_leaf and node not in in_sum:
                body += s.forward[node]
            continue
        if node is not first[layer]:
            continue
        nm = layer.name
        what = escaped(layer.op.name) if layer.op is not None else "linear"
        body.append(f"# layer {nm['z']}: {len(layer.inputs)} → {len(layer.rows)}, {what}")
        if layer.source is None:
            body.append(f"{nm['x']} = {fn['stack']}({shape}, "
                        f"{', '.join(map(s.ref, layer.inputs))})")
        bias = f" + {nm['b']}" if layer.bias is not None else ""
        body.append(f"{nm['z']} = {nm['W']} @ {nm['x']}{bias}")
        if layer.acts is not None:
            expr, _ = code_of(layer.op, layer.acts[0], (nm["z"],), nm["a"])
            body.append(f"{nm['a']} = {s.calls.resolve(layer.op, expr)}")
        out = nm["a" if layer.acts is not None else "z"]
        body += [f"{name[v]} = {out}[{i}]" for i, v in enumerate(layer.outputs) if v in referenced]

    # ---------------------------------------------------------------- backward
    body.append("# backward: d = δ = ∂L/∂z of a layer, g_v = ∂(first output)/∂v")
    last = {}
    for v in s.root_graph:
        if v in in_layer:
            last.setdefault(in_layer[v], v)
    for v in reversed(s.root_graph):
        layer = in_layer.get(v)
        if layer is None:
            if v in s.uses and not v.is_leaf and v not in in_sum:
                body += s.gradient(v)
            continue
        if v is not last[layer]:
            continue
        nm = layer.name
        body.append(f"# layer {nm['z']}")
        if layer.into is not None:
            above = layer.into.name
            upstream = f"({above['W']}.T @ {above['d']})"
        else:
            rows = []
            for out in layer.outputs:
                if out in s.uses:
                    body += s.gradient(out)
                    rows.append(f"g_{name[out]}")
                else:
                    rows.append("0.0")
            upstream = f"{fn['stack']}({shape}, {', '.join(rows)})"
        if layer.acts is not None:
            _, (local,) = code_of(layer.op, layer.acts[0], (nm["z"],), nm["a"])
            bare = upstream[1:-1] if upstream[0] == "(" else upstream
            body.append(f"{nm['d']} = {local.times(upstream if local.factor else bare)}")
        else:
            body.append(f"{nm['d']} = {upstream[1:-1] if upstream[0] == '(' else upstream}")
        body.append(f"g_{nm['W']} = {nm['d']} @ {nm['x']}.T")
        if layer.bias is not None:
            body.append(f"g_{nm['b']} = {nm['d']}.sum(axis=1, keepdims=True)")
        if layer.needs_input_grad:
            body.append(f"{nm['gx']} = {nm['W']}.T @ {nm['d']}")
    body += [line for v in s.inputs if v in s.wrt for line in s.gradient(v)]
    # the layers' parameter gradients into one flat array, in the order of params
    parts = [(f"g_{layer.name[k]}", idx) for layer in layers if layer in last
             for k, idx in (("W", layer.weights), ("b", layer.bias)) if idx is not None]
    everything = np.concatenate([idx.ravel() for _, idx in parts]) if parts else None
    matrices = f"{fn['concatenate']}({_listing([g for g, _ in parts])}, axis=None)"
    if parts and np.array_equal(everything, np.arange(len(s.params))):
        body.append(f"{grads} = {matrices}")
    else:
        body.append(f"{grads} = {fn['zeros']}({len(s.params)})")
        if parts:
            body.append(f"{index(grads, everything, 'layers')} = {matrices}")
    for total in sums:
        if total.total in s.uses:
            term, (p, terms) = total.terms[0], total.name.values()
            _, local = code_of(term.op, term, (p,) * len(term.parents), terms)
            g = f"g_{name[total.total]}"
            body.append(f"{index(grads, total.index, p)} += "
                        + " + ".join(d.times(g) for d in local))
    scalar = [k for k, p in enumerate(s.params)
              if p in s.wrt and (s.uses.get(p) or p is s.outs[0])]
    body += [line for k in scalar for line in s.gradient(s.params[k])]
    if scalar:
        target = index(grads, np.array(scalar), "params")
        body.append(_wrap(f"{target} += {_listing([f'g_{name[s.params[k]]}' for k in scalar])}"))

    input_grads = _listing([f"g_{name[v]}" if v in s.wrt else "0.0" for v in s.inputs])
    body.append(f"return {_listing([s.ref(v) for v in s.outs])}, {input_grads}, "
                f"{grads}.tolist()")
    args = ", ".join([name[v] for v in s.inputs] + [flat, "seed"])
    signature = textwrap.fill(args, 92, initial_indent="    ", subsequent_indent="    ",
                              break_long_words=False, break_on_hyphens=False)
    source = (f"def gradient_program(\n{signature},\n):\n"
              + "\n".join(f"    {line}" for line in body) + "\n")
    namespace.update({n: elementwise(np, f) for n, f in s.calls.functions.items()})
    return LayeredProgram(source, s.outs, s.inputs, s.params, name, namespace, s.calls.functions)


def _listing(items: list[str]) -> str:
    """A tuple display: ``(a, b)``, ``(a,)``."""
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _wrap(line: str) -> str:
    """A long line of the program broken after commas (inside its parentheses)."""
    return textwrap.fill(line, 92, subsequent_indent="    ", break_long_words=False,
                         break_on_hyphens=False).replace("\n", "\n    ")


def _namespace(np: Any) -> dict[str, Any]:
    """NumPy's functions on whole matrices, and the scalar lines' sums over the samples done
    on the spot: a shared node's terms (``sample_sum``) and a parameter's (``total``,
    ``dot(g, a)`` = Σₛ gₛ·aₛ), each a float (the program adds them into ``G`` itself)."""

    def sample_sum(*terms: Any) -> float:
        return sum_samples(np, [terms])[0]

    return {**array_functions(), "sample_sum": sample_sum, "total": sample_sum,
            "dot": lambda g, a: sample_sum(g * a)}


def _stack(np: Any) -> Callable[..., Any]:
    def stack(shape: tuple, *rows: Any) -> Any:
        """Rows (per-sample arrays or shared numbers) as one matrix, a column per sample."""
        out = np.empty((len(rows), *shape))
        for i, row in enumerate(rows):
            out[i] = row
        return out

    return stack
