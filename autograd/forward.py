"""Forward mode: tangents pushed from the inputs along the edges backward pulls gradients over.

Every node keeps ∂node/∂parent for each parent edge, evaluated at forward time. Backward walks
the graph from the root and adds ``grad × local`` into each parent; forward mode walks it from
the inputs, in topological order, and gives each node the tangent

    ṅ = Σ ∂n/∂p · ṗ   over the node's edges (parent p, local ∂n/∂p),

so one pass gives the derivative of every node along the input tangents (a Jacobian-vector
product). No op needs a rule of its own: the local derivatives are the ones backward uses, and
a gradient graph made with ``create_graph=True`` stores them too, so forward over reverse
(:func:`hvp`) and ``jvp`` of a function that calls ``grad`` need nothing more.

NaN and inf as ``torch.func.jvp``: a node that depends on no input has no tangent (a symbolic
zero), so its edges are skipped and ``x + sqrt(0)`` (a local of inf on the constant's edge)
keeps the tangent finite; an input given tangent 0 carries a real 0, so ``0 × inf`` is NaN; a
:data:`~autograd.ops.MASK` local (an off ReLU) makes the product 0 even for an inf or NaN
tangent, as in backward; so, as backward skips the sums under a zero gradient,
:func:`tangents_of` skips a weighted sum behind a mask whose first parent is seeded (it has a
tangent, and the product is 0.0 whatever it is). Nothing here reads or writes ``.grad``.
A pass keeps its tangents in the nodes' ``_tangent`` slots (see :func:`_push`), so two
threads must not push tangents through one graph at the same time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, cast

from .backward import interior_order, topological_order
from .functional import Argnums, as_value, grad, named_after, trace_call
from .ops import MASK
from .value import Value, to_float


def _hub(outputs: Sequence[Value]) -> Value:
    """One node above all outputs (as :func:`autograd.backward.grad` makes), so a single walk
    orders them together; it is never part of what a caller sees."""
    if len(outputs) == 1:
        return outputs[0]
    hub = Value(0.0)
    hub._a, hub._b = tuple(x for out in outputs for x in (out, 1.0)), hub._nary
    return hub


def _nodes(
    outputs: Value | Sequence[Value], inputs: Iterable[Value], name: str, inputs_are: str
) -> list:
    """``outputs`` as a list, once every output and every input is checked to be a Value
    (TypeError naming what it got otherwise)."""
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    for what, nodes in (("outputs", outs), (inputs_are, inputs)):
        for node in nodes:
            if not isinstance(node, Value):
                raise TypeError(f"{name}: {what} must be Values, got {type(node).__name__}")
    return outs


def _closure_error(node: Value, name: str) -> TypeError:
    """The TypeError for a node made as ``Value(data, children, op)``: it has a
    ``_backward`` closure, no local derivatives to push a tangent along."""
    symbol = node.op.symbol if node.op is not None else ""
    return TypeError(
        f"{name}: {node!r} (op {symbol!r}) was made as Value(data, children, op) and has only "
        "a _backward closure, no local derivatives to push tangents along; declare the op "
        "with autograd.declare"
    )


def _check_closures(order: Sequence[Value], name: str) -> None:
    """The TypeError of :func:`_closure_error` for the first such node of ``order``."""
    for node in order:
        if node._b is node._nary and node._a and node._a[1] is None:
            raise _closure_error(node, name)


def tangents_of(outputs: Value | Sequence[Value], seeds: Mapping[Value, float]) -> list[float]:
    """d outputᵢ along ``seeds`` (a tangent for each input node): Σⱼ ∂outputᵢ/∂xⱼ · seeds[xⱼ].

    One forward pass in topological order over the nodes the outputs depend on. An output
    that depends on no seeded node gets 0.0. A seeded node keeps its seed (its own parents are
    not read), so a seed may be an interior node. No ``.grad`` is read or written.
    """
    outs = _nodes(outputs, seeds, "tangents_of", "seeds' keys")
    tangents = [(x, to_float(t, "a tangent")) for x, t in seeds.items()]
    return _push(*_interior(outs, seeds), outs, tangents, "tangents_of")


def _interior(
    outs: list[Value], seeds: Iterable[Value] = ()
) -> tuple[list[Value], set[Value]]:
    """The interior nodes whose tangents give the outputs', each after its parents (leaves
    left out: their tangents are the seeds or none), and the weighted sums left out with them.

    A weighted sum (an n-ary node) behind a :data:`~autograd.ops.MASK` local whose first
    parent is one of ``seeds`` (an off ReLU's input, its first weight seeded: a test that costs
    nothing when it fails) has a tangent, and the product is 0.0 whatever it is: the walk does
    not go up that edge, so the sum and what only it needs are not computed, as backward
    skips the nodes under a zero gradient.
    """
    pruned: set[Value] = set()
    if not outs:
        return [], pruned
    seeded = set(seeds)
    nary = Value._nary

    def prune(parent: Value) -> bool:
        if parent._b is nary and parent._a and parent._a[0] in seeded:
            pruned.add(parent)
            return True
        return False

    hub = _hub(outs)
    order = cast("list[Value]", interior_order(hub, prune if seeded else None))
    order.reverse()
    if hub is not outs[0]:
        order.pop()
    return order, pruned


def _push(
    order: list[Value],
    pruned: set[Value],
    outs: list[Value],
    seeds: list[tuple[Value, float]],
    name: str,
) -> list[float]:
    """The forward pass of :func:`tangents_of` over ``order`` (from :func:`_interior`): each
    seeded node gets its seed, each node of ``order`` reached from one the sum of its edges'
    products, in edge order; the outputs' tangents (0.0 for none). A node with only a
    ``_backward`` closure is a TypeError naming ``name``.

    Each node's tangent lives in its ``_tangent`` slot, None for no tangent: an attribute
    read per edge, where a dict would take a lookup. A pass writes every interior node of
    ``order`` before any child reads it, and a leaf only to seed it, putting None back at the
    end; so outside a pass a leaf's slot is None or empty, and a pass reads no tangent of an
    earlier one. An empty slot (a leaf no pass has read yet) is the AttributeError on which
    every parent of ``order`` is set to None and the pass starts again.
    """
    if any(x._a is not None for x, _ in seeds):
        seeded = {x for x, _ in seeds}
        order = [node for node in order if node not in seeded]
    try:
        for x, t in seeds:
            x._tangent = t
        try:
            _tangent_pass(order, pruned, name)
        except AttributeError:  # a leaf's empty slot
            _clear(order)
            for x, t in seeds:
                x._tangent = t
            _tangent_pass(order, pruned, name)
        tangents = [getattr(out, "_tangent", None) for out in outs]
        return [0.0 if t is None else t for t in tangents]
    finally:
        for x, _ in seeds:
            x._tangent = None


def _clear(order: list[Value]) -> None:
    """Set the ``_tangent`` slot of every parent of ``order``'s nodes to None."""
    nary = Value._nary
    for node in order:
        b = node._b
        if b is None:
            node._a._tangent = None
        elif b is not nary:
            node._a._tangent = b._tangent = None
        else:
            for parent in node._a[0::2]:
                parent._tangent = None


def _tangent_pass(order: list[Value], pruned: set[Value], name: str) -> None:
    """ṅ = Σ ∂n/∂p · ṗ into each node's ``_tangent`` slot, in ``order``, from its parents'
    slots; None where no parent has a tangent. Behind a :data:`~autograd.ops.MASK` local a
    parent of ``pruned`` (which has a tangent, maybe not computed) is not read: the product
    is MASK × 1.0, 0.0, as with its tangent."""
    nary = Value._nary
    for node in order:
        b = node._b
        if b is None:
            a = node._a
            ta = 1.0 if node._da is MASK and a in pruned else a._tangent
            node._tangent = None if ta is None else node._da * ta
        elif b is not nary:
            a = node._a
            ta = 1.0 if node._da is MASK and a in pruned else a._tangent
            tb = 1.0 if node._db is MASK and b in pruned else b._tangent
            if ta is not None:
                node._tangent = node._da * ta if tb is None else node._da * ta + node._db * tb
            else:
                node._tangent = None if tb is None else node._db * tb
        else:
            e = node._a
            if e and e[1] is None:
                raise _closure_error(node, name)
            t = None
            it = iter(e)
            for parent, local in zip(it, it):
                tp = parent._tangent
                if tp is not None:
                    t = local * tp if t is None else t + local * tp
            node._tangent = t


def forward_steps(
    outputs: Value | Sequence[Value], seeds: Mapping[Value, float]
) -> Iterator[tuple[Value, float, list[tuple]]]:
    """The forward pass of :func:`tangents_of` as data, node by node, for views built on it.

    In topological order (:func:`autograd.backward.topological_order`) it yields
    ``(node, tangent, edges)`` for each node that has a tangent: a seeded node first with its
    seed and no edges, then each node reached from one, with one ``(parent, local,
    parent_tangent, product)`` per edge; an edge whose parent has no tangent (depends on no
    seed) has ``parent_tangent`` and ``product`` None and adds nothing. The tangent is the sum
    of the products in edge order: the same float operations as :func:`tangents_of`, so the
    numbers are the ones it returns.
    """
    outs = _nodes(outputs, seeds, "forward_steps", "seeds' keys")
    if not outs:
        return
    hub = _hub(outs)
    order = cast("list[Value]", topological_order(hub))
    if hub is not outs[0]:
        order.pop()
    _check_closures(order, "forward_steps")
    tangent = {x: to_float(t, "a tangent") for x, t in seeds.items()}
    for node in order:
        if node in tangent:
            yield node, tangent[node], []
            continue
        t = None
        edges: list[tuple[Any, ...]] = []
        for parent, local in node.edges():
            tp = tangent.get(parent)
            if tp is None:
                edges.append((parent, local, None, None))
                continue
            product = local * tp
            t = product if t is None else t + product
            edges.append((parent, local, tp, product))
        if t is not None:
            tangent[node] = t
            yield node, t, edges


def _seeded(
    f: Callable[..., Any], primals: Sequence[Any], tangents_: Sequence[Any], name: str
) -> tuple[Value, list[Value], list[float]]:
    """Check ``primals`` and ``tangents_`` (numbers, as many of each), then call ``f`` on
    fresh variables: (its output, the variables, the tangents as floats)."""
    if len(primals) != len(tangents_):
        raise ValueError(f"{name}: {len(primals)} primals but {len(tangents_)} tangents")
    xs = tuple(to_float(p, f"{name}: primal {i}") for i, p in enumerate(primals))
    ts = [to_float(t, f"{name}: tangent {i}") for i, t in enumerate(tangents_)]
    out, variables, _ = trace_call(f, xs, tuple(range(len(xs))), name)
    return as_value(out, name), variables, ts


def jvp(
    f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[float, float]:
    """``(f(*primals), Σᵢ ∂f/∂xᵢ · tangents[i])`` in one forward pass, as ``jax.jvp``.

    ``f`` takes Values positionally and returns a Value (or a number); primals and tangents
    are numbers. ``f`` may call :func:`autograd.grad` inside: the tangents then run through
    the gradient graph (second order, forward over reverse). The results are floats.
    """
    out, variables, ts = _seeded(f, primals, tangents, "jvp")
    return out.data, tangents_of([out], dict(zip(variables, ts)))[0]


def jacfwd(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The function ``args ↦ J`` with J[i] = ∂outᵢ/∂args[argnums], one forward pass per
    differentiated argument (a column of J) over one topological sort; called and shaped as
    :func:`autograd.functional.jacobian` (reverse mode, one pass per output), whose numbers
    it gives as floats.

    For a scalar ``f``: the derivative (int ``argnums``) or a tuple of them; for ``f``
    returning a sequence: a tuple of rows.
    """

    def jf(*args: Any) -> Any:
        out, variables, _ = trace_call(f, args, argnums, "jacfwd")
        many = isinstance(out, (list, tuple))
        outs = [as_value(o, "jacfwd") for o in (cast(Sequence[Any], out) if many else [out])]
        order, none = _interior(outs)  # sorted once for all the columns, nothing left out
        columns = [_push(order, none, outs, [(x, 1.0)], "jacfwd") for x in variables]
        rows = [
            columns[0][i] if isinstance(argnums, int) else tuple(c[i] for c in columns)
            for i in range(len(outs))
        ]
        return tuple(rows) if many else rows[0]

    return named_after(jf, "jacfwd", f)


def hvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
    """H·v: the Hessian of ``f`` at ``primals`` times ``tangents``, without forming H.

    Forward over reverse: one backward pass builds the gradient graph
    (``create_graph=True``), one forward pass pushes ``tangents`` through it. Agrees with
    :func:`autograd.functional.hvp` (reverse over reverse) and returns the same tuple.
    """
    out, variables, ts = _seeded(f, primals, tangents, "hvp")
    gradient = grad(out, variables, create_graph=True, materialize_grads=True)
    return tuple(tangents_of(gradient, dict(zip(variables, ts))))


class Cost(NamedTuple):
    """Local-derivative products for a full gradient: ``forward`` over one tangent pass per
    input, ``reverse`` in one backward pass (:func:`autograd.grad`)."""

    forward: int
    reverse: int


def cost(root: Value, inputs: Sequence[Value]) -> Cost:
    """How many local-derivative products (∂n/∂p times a tangent or a gradient) a full
    gradient of ``root`` with respect to ``inputs`` takes in each mode.

    Forward mode runs one pass per input and multiplies on every edge whose parent depends on
    that input; reverse mode (:func:`autograd.grad`) runs one pass and multiplies on every
    edge whose parent depends on any input. So ``forward`` = Σ over edges of the number of
    inputs the parent depends on, and ``reverse`` = the number of such edges: equal for one
    input, and for n inputs ``reverse`` ≤ ``forward`` ≤ n·``reverse``.
    """
    _nodes(root, inputs, "cost", "inputs")
    bit = {x: 1 << i for i, x in enumerate(inputs)}
    depends = dict(bit)  # node -> the inputs it depends on, as a bit set
    forward = reverse = 0
    for node in cast("list[Value]", topological_order(root)):
        if node in bit:
            continue
        mask = 0
        for parent in node._edges[0::2]:
            m = depends.get(parent, 0)
            if m:
                mask |= m
                forward += m.bit_count()
                reverse += 1
        if mask:
            depends[node] = mask
    return Cost(forward, reverse)
