"""Per-layer matrix code: the layers of a recorded graph written as the explainers' formulas.

A graph built by ``nn.Layer`` is one ``linear`` node per neuron over the same inputs, then the
same activation on each: exactly z = W a + b, a′ = f(z). ``autograd.compile(..., layers=True)``
finds such layers by the layer view's rule (:func:`autograd.layers.find_layers`: linear nodes
whose weights and bias are parameters and whose inputs are the same Values, each followed by
the same one-operand op or by nothing) and, reading the scalar compiler's plan, writes each
as NumPy matrix code over a batch held in columns, one column per sample::

    z1 = W1 @ x + b1                     a1 = relu(z1)
    d1 = where(z1 <= 0, 0.0, W2.T @ d2)  g_W1 = d1 @ x.T          g_b1 = d1.sum(axis=1, ...)

where ``d`` is δ = ∂L/∂z, and f and f′ are the scalar program's own code for the op (derived
from its entry in the op table): δ = (W′ᵀδ′) ⊙ f′(z), where relu′'s 0 is a mask, so an inf
or NaN upstream at an off unit gives 0, as in the engine. Every other node keeps its scalar
line from the plan; a scalar node reads a layer output as a row
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
from typing import Any, cast

from . import ops
from .codegen import code_of, escaped
from .layers import Layer, consumers, find_layers
from .plan import ScalarProgramPlan, Use, function_source, listing
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


@dataclass(frozen=True, eq=False)
class _Sum:
    """A sum node over one op applied to each of several distinct parameters (a penalty such
    as Σ w²): the op, and the parameters' indices."""

    total: Value
    terms: tuple[Value, ...]
    op: ops.Op
    index: Any


def _find_sums(plan: ScalarProgramPlan, consumers: dict[Value, list[Value]]) -> list[_Sum]:
    """Sum nodes whose terms are one op of one parameter each (``p * p``, ``abs(p)``), every
    term used by that sum only."""
    np = numpy_module()
    index = {p: k for k, p in enumerate(plan.params)}
    found = []
    for node in plan.nodes:
        terms = node.parents
        if node.op is not ops.SUM or len(terms) < 2 or terms[0].is_leaf:
            continue
        op = terms[0].op
        if op is None or op.arity < 1 or any(
                t.op is not op or len(consumers[t]) != 1 or t in plan.outputs
                or len(set(t.parents)) != 1 or t.parents[0] not in index for t in terms):
            continue
        idx = [index[t.parents[0]] for t in terms]
        if len(set(idx)) == len(idx):
            found.append(_Sum(node, terms, op, np.array(idx)))
    return found


@dataclass(eq=False)
class _LayerCode:
    """A layer of one sample as the writer reads it: its nodes, ``weights`` and ``bias``,
    where W and b sit among the parameters (index arrays, units × inputs and units × 1), and
    the names it writes (``W``, ``b``, ``z``, ``d``, ``a``, ``x``, and ``gx`` for ∂L/∂x);
    ``source``, the layer whose outputs are exactly its inputs, and ``into``, the layer whose
    inputs are exactly its outputs, alone."""

    rows: tuple[Value, ...]
    acts: tuple[Value, ...] | None
    inputs: tuple[Value, ...]
    op: ops.Op | None
    weights: Any
    bias: Any
    name: dict[str, str] = field(default_factory=dict)
    source: _LayerCode | None = None
    into: _LayerCode | None = None
    needs_input_grad: bool = False

    @property
    def outputs(self) -> tuple[Value, ...]:
        """What the layer gives the nodes after it: a = f(z), or z without an activation."""
        return self.acts if self.acts is not None else self.rows


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
        if arrays is None:
            arrays = [np.full(1, x) for x in self._one(inputs)]
        sizes = {a.shape for a in arrays if a.ndim}
        if len(sizes) != 1 or len(next(iter(sizes))) != 1:
            return super().__call__(*inputs, params=params, seed=seed)  # it names the mistake
        ((size,),) = sizes
        seed = np.broadcast_to(np.asarray(seed, dtype=float), (size,)).copy()
        with np.errstate(all="ignore"):  # inf and nan flow on, as in the scalar program
            # (set in __init__: the base class's _batch is None until its first batch)
            outs, input_grads, param_grads = cast(Callable, self._batch)(*arrays, values, seed)
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


def write_layers(plan: ScalarProgramPlan) -> LayeredProgram | None:
    """The program with each layer of the plan's graph as matrix code (every other node keeps
    its scalar lines); None if the graph has no layer. A layer whose weights several
    samples of the graph share stays scalar lines (the program holds one sample per column)."""
    layers = [layer for layer in find_layers(plan.outputs, inputs=plan.inputs,
                                             params=plan.params, exclusive=False)
              if len(layer.rows) == 1]
    if not layers:
        return None
    return _LayeredWriter(plan, layers).program()


class _LayeredWriter:
    """Writes a plan with layers, in phases: name the layers, send the edges into a layer
    through its matrices, then the parameter views, the forward, the backward and the
    gradients. It reads the plan and never changes it."""

    def __init__(self, plan: ScalarProgramPlan, layers: list[Layer]) -> None:
        np = self.np = numpy_module()
        self.plan, self.consumers = plan, consumers(plan.nodes)
        self.sums = _find_sums(plan, self.consumers)
        self.names = plan.more_names()
        self.namespace = _namespace(np)
        helpers = {"zeros": np.zeros, "concatenate": np.concatenate, "stack": _stack(np)}
        self.fn = {key: self.names.new(key, key) for key in helpers}
        self.namespace.update({self.fn[key]: f for key, f in helpers.items()})
        self.flat, self.grads = self.names.new("P", "P"), self.names.new("G", "G")
        self.shape = self.names.new("shape", "shape")
        self.codes = self._name_layers(layers)
        self.in_layer = {v: code for code in self.codes for v in (*code.rows, *(code.acts or ()))}
        self.in_sum = {t for total in self.sums for t in total.terms}
        self.uses = self._reroute()
        self.referenced = self._referenced()
        self.sum_names: dict[_Sum, tuple[str, str]] = {}
        self.last: dict[_LayerCode, Value] = {}  # each layer's last node in backward's order

    def program(self) -> LayeredProgram:
        plan = self.plan
        body = self._forward() + self._backward() + self._gradients()
        source = function_source([plan.names[v] for v in plan.inputs] + [self.flat], body)
        self.namespace.update({n: elementwise(self.np, f) for n, f in plan.functions.items()})
        return LayeredProgram(source, plan.outputs, plan.inputs, plan.params, dict(plan.names),
                              self.namespace, dict(plan.functions))

    def index(self, array: str, idx: Any, what: str) -> str:
        """``array[idx]``, a view when it can be, else through a named index array."""
        n = len(self.plan.params)
        if self.np.array_equal(idx, self.np.arange(n)):
            return array
        view = _slice(array, idx, n)
        if view is not None:
            return view
        constant = self.names.new(f"index_{what}", "index")
        self.namespace[constant] = idx
        return f"{array}[{constant}]"

    # ---------------------------------------------------------------- names and structure
    def _name_layers(self, layers: list[Layer]) -> list[_LayerCode]:
        """Each layer's names, from its nodes' labels where they share a base (``W1``), and
        which layer feeds which."""
        plan, names = self.plan, self.names
        index = {p: k for k, p in enumerate(plan.params)}
        codes: dict[Layer | None, _LayerCode | None] = {None: None}
        for k, layer in enumerate(layers, 1):
            code = codes[layer] = _LayerCode(
                tuple(layer.rows[0]), tuple(layer.acts[0]) if layer.acts is not None else None,
                layer.inputs[0], layer.op,
                self.np.array([[index[w] for w in unit] for unit in layer.weights]),
                None if layer.bias is None else self.np.array([[index[b]] for b in layer.bias]))
            nm, n = code.name, len(code.inputs)
            corners = [w.label for r in code.rows for w in (r.parents[0], r.parents[n - 1])]
            nm["W"] = names.new(_base(corners) or f"W{k}", "W")
            if code.bias is not None:
                bias = code.rows[0].parents[-1]
                alone = self.consumers[bias] == list(code.rows) and bias not in plan.outputs
                nm["b"] = (plan.names[bias] if _own(bias, code, alone) else names.new(
                    _base([r.parents[-1].label for r in code.rows]) or f"b{k}", "b"))
            row = code.rows[0]
            nm["z"] = (plan.names[row] if _own(row, code, code.acts is not None) else
                       names.new(_base([r.label for r in code.rows]) or f"z{k}", "z"))
            nm["d"] = names.new(("d" + nm["z"][1:]) if nm["z"][:1] == "z" else f"d_{nm['z']}",
                                "d")
            if code.acts is not None:
                nm["a"] = names.new(_base([a.label for a in code.acts]) or f"a{k}", "a")
            source = code.source = codes.get(layer.source)
            if source is not None:  # the outputs of a layer below, in order: its matrix
                nm["x"] = source.name["a" if source.acts is not None else "z"]
                nm["gx"] = "g_" + names.new(f"in_{nm['z']}", "in")  # ∂L/∂x through this layer
                if cast(Layer, layer.source).into is layer:
                    source.into = code
            else:  # stacked from other nodes
                nm["x"] = names.new(_base([x.label for x in code.inputs]) or f"x{k}", "x")
                nm["gx"] = f"g_{nm['x']}"
        return [cast(_LayerCode, codes[layer]) for layer in layers]

    def _reroute(self) -> dict[Value, tuple[Use, ...]]:
        """The plan's edges, with those into a layer or a sum replaced by vector formulas:
        where v is input j of a layer, ∂L/∂v gets (Wᵀδ)[j]."""
        fused = {r for code in self.codes if code.into is not None for r in code.outputs}
        positions: dict[_LayerCode, dict[Value, list[int]]] = {code: {} for code in self.codes}
        for code in self.codes:
            for j, x in enumerate(code.inputs):
                positions[code].setdefault(x, []).append(j)
        uses = dict(self.plan.uses)
        for v, edges in self.plan.uses.items():
            kept = [u for u in edges if u.consumer not in self.in_layer
                    and u.consumer not in self.in_sum]
            if len(kept) == len(edges) or v in fused:
                continue
            readers = {u.consumer for u in edges}
            for code in self.codes:
                if v not in positions[code] or readers.isdisjoint(code.rows):
                    continue
                for j in positions[code][v]:
                    code.needs_input_grad = True
                    kept.append(Use(None, f"{code.name['gx']}[{j}]", ONE, True))
            uses[v] = tuple(kept)
        return uses

    def _referenced(self) -> set[Value]:
        """The nodes a scalar line reads (as floats or rows), and the outputs."""
        referenced = set(self.plan.outputs)
        for node in self.plan.nodes:
            if not node.is_leaf and node not in self.in_layer and node not in self.in_sum:
                referenced.update(node.parents)
        for code in self.codes:
            if code.source is None:
                referenced.update(code.inputs)
        return referenced

    # ---------------------------------------------------------------- forward
    def _forward(self) -> list[str]:
        """The parameters as views of ``P``, then each node's line, a layer's as matrices."""
        plan, names = self.plan, self.names
        body = [f"{self.shape} = seed.shape"]
        read = [k for k, p in enumerate(plan.params) if p in self.referenced]  # as floats
        if read:
            body.append(_wrap(f"{listing([plan.names[plan.params[k]] for k in read])} = "
                              f"{self.index(self.flat, self.np.array(read), 'read')}.tolist()"))
        for layer in self.codes:
            nm = layer.name
            body.append(f"{nm['W']} = {self.index(self.flat, layer.weights, nm['W'])}")
            if layer.bias is not None:
                body.append(f"{nm['b']} = {self.index(self.flat, layer.bias, nm['b'])}")
        body.append("# forward: a layer as z = W x + b, a = f(z); other nodes one line each")
        position = {v: k for k, v in enumerate(plan.nodes)}
        first = {layer: min(layer.rows, key=position.__getitem__) for layer in self.codes}
        vector = {total.total: total for total in self.sums}
        for total in self.sums:
            self.sum_names[total] = (names.new("p", "p"), names.new(None, total.op.name))
        for node in plan.nodes:
            code = self.in_layer.get(node)
            if node in vector:
                body += self._sum_forward(vector[node])
            elif code is None:
                if not node.is_leaf and node not in self.in_sum:
                    body += plan.forward[node]
            elif node is first[code]:
                body += self._layer_forward(code)
        return body

    def _sum_forward(self, total: _Sum) -> list[str]:
        """Σ op(p) over parameters as one vector line over ``P``."""
        term, (p, terms) = total.terms[0], self.sum_names[total]
        expr, _ = code_of(total.op, term, (p,) * len(term.parents), terms)
        name = self.plan.names[total.total]
        return [f"# {name} = Σ {escaped(total.op.name)} over {len(total.terms)} "
                f"parameters, as vectors", f"{p} = {self.index(self.flat, total.index, p)}",
                f"{terms} = {self.plan.call(total.op, expr)}", f"{name} = total({terms})"]

    def _layer_forward(self, code: _LayerCode) -> list[str]:
        """z = W x + b and a = f(z), and the rows scalar lines read."""
        nm = code.name
        what = escaped(code.op.name) if code.op is not None else "linear"
        lines = [f"# layer {nm['z']}: {len(code.inputs)} → {len(code.rows)}, {what}"]
        if code.source is None:
            lines.append(f"{nm['x']} = {self.fn['stack']}({self.shape}, "
                         f"{', '.join(map(self.plan.ref, code.inputs))})")
        bias = f" + {nm['b']}" if code.bias is not None else ""
        lines.append(f"{nm['z']} = {nm['W']} @ {nm['x']}{bias}")
        if code.acts is not None and code.op is not None:
            expr, _ = code_of(code.op, code.acts[0], (nm["z"],), nm["a"])
            lines.append(f"{nm['a']} = {self.plan.call(code.op, expr)}")
        out = nm["a" if code.acts is not None else "z"]
        return lines + [f"{self.plan.names[v]} = {out}[{i}]"
                        for i, v in enumerate(code.outputs) if v in self.referenced]

    # ---------------------------------------------------------------- backward
    def _backward(self) -> list[str]:
        """Each node's gradient in backward's order, a layer's as δ and its matrices' grads."""
        plan = self.plan
        body = ["# backward: d = δ = ∂L/∂z of a layer, g_v = ∂(first output)/∂v"]
        for v in plan.root_graph:
            if v in self.in_layer:
                self.last.setdefault(self.in_layer[v], v)
        for v in reversed(plan.root_graph):
            code = self.in_layer.get(v)
            if code is None:
                if v in self.uses and not v.is_leaf and v not in self.in_sum:
                    body += plan.gradient(v, self.uses)
            elif v is self.last[code]:
                body += self._layer_backward(code)
        return body + [line for v in plan.inputs if v in plan.wrt
                       for line in plan.gradient(v, self.uses)]

    def _layer_backward(self, code: _LayerCode) -> list[str]:
        """δ = (W′ᵀδ′) ⊙ f′(z) (or the stacked gradients of its outputs), g_W = δ xᵀ,
        g_b = Σ δ, and ∂L/∂x = Wᵀδ when a scalar line reads x."""
        nm = code.name
        lines = [f"# layer {nm['z']}"]
        if code.into is not None:
            above = code.into.name
            upstream = f"({above['W']}.T @ {above['d']})"
        else:
            rows = []
            for out in code.outputs:
                if out in self.uses:
                    lines += self.plan.gradient(out, self.uses)
                    rows.append(f"g_{self.plan.names[out]}")
                else:
                    rows.append("0.0")
            upstream = f"{self.fn['stack']}({self.shape}, {', '.join(rows)})"
        bare = upstream[1:-1] if upstream[0] == "(" else upstream
        if code.acts is not None and code.op is not None:
            _, (local,) = code_of(code.op, code.acts[0], (nm["z"],), nm["a"])
            lines.append(f"{nm['d']} = {local.times(upstream if local.factor else bare)}")
        else:
            lines.append(f"{nm['d']} = {bare}")
        lines.append(f"g_{nm['W']} = {nm['d']} @ {nm['x']}.T")
        if code.bias is not None:
            lines.append(f"g_{nm['b']} = {nm['d']}.sum(axis=1, keepdims=True)")
        if code.needs_input_grad:
            lines.append(f"{nm['gx']} = {nm['W']}.T @ {nm['d']}")
        return lines

    def _gradients(self) -> list[str]:
        """The parameter gradients into one flat array ``G`` in the order of the params
        (the layers' matrices, the sums' vectors, then scalar lines), and the return."""
        plan, np, grads = self.plan, self.np, self.grads
        parts = [(f"g_{code.name[k]}", idx) for code in self.codes if code in self.last
                 for k, idx in (("W", code.weights), ("b", code.bias))
                 if idx is not None]
        everything = np.concatenate([idx.ravel() for _, idx in parts]) if parts else None
        matrices = f"{self.fn['concatenate']}({listing([g for g, _ in parts])}, axis=None)"
        if parts and np.array_equal(everything, np.arange(len(plan.params))):
            body = [f"{grads} = {matrices}"]
        else:
            body = [f"{grads} = {self.fn['zeros']}({len(plan.params)})"]
            if parts:
                body.append(f"{self.index(grads, everything, 'layers')} = {matrices}")
        for total in self.sums:
            if total.total in self.uses:
                term, (p, terms) = total.terms[0], self.sum_names[total]
                _, local = code_of(total.op, term, (p,) * len(term.parents), terms)
                g = f"g_{plan.names[total.total]}"
                body.append(f"{self.index(grads, total.index, p)} += "
                            + " + ".join(d.times(g) for d in local))
        scalar = [k for k, p in enumerate(plan.params)
                  if p in plan.wrt and (self.uses.get(p) or p is plan.outputs[0])]
        body += [line for k in scalar for line in plan.gradient(plan.params[k], self.uses)]
        if scalar:
            target = self.index(grads, np.array(scalar), "params")
            body.append(_wrap(f"{target} += "
                              f"{listing([f'g_{plan.names[plan.params[k]]}' for k in scalar])}"))
        input_grads = listing([f"g_{plan.names[v]}" if v in plan.wrt else "0.0"
                               for v in plan.inputs])
        return body + [f"return {listing([plan.ref(v) for v in plan.outputs])}, "
                       f"{input_grads}, {grads}.tolist()"]


def _own(v: Value, layer: _LayerCode, unused: bool) -> bool:
    """A labelled node alone in its layer keeps its name for the matrix (1 × batch) when no
    scalar line reads it (``unused``), as with ``b2`` and ``z2`` in z2 = W2 a1 + b2."""
    return unused and bool(v.label) and len(layer.rows) == 1


def _wrap(line: str) -> str:
    """A long assignment broken at spaces inside its parentheses, never next to its ``=`` or
    ``+=`` (a break there would end the statement)."""
    glued = re.sub(r" (\+?=) ", "\0\\1\0", line, count=1)
    return textwrap.fill(glued, 92, subsequent_indent="    ", break_long_words=False,
                         break_on_hyphens=False).replace("\n", "\n    ").replace("\0", " ")


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
