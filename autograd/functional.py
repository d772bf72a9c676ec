"""Function transforms in the style of JAX and HIPS autograd.

``grad(f)`` is a new function that returns ∂f/∂x where ``f`` returned f(x). The derivative is
built from Value ops (``autograd.grad(..., create_graph=True)``), so transforms compose:
``grad(grad(f))`` is f'' and ``grad(grad(grad(f)))`` is f'''.

``f`` takes numbers or Values as positional arguments (and anything else in arguments it is
not differentiated by) and returns a number or a Value (``jacobian``: also a sequence of them).
For ``grad``, ``value_and_grad`` and ``vjp`` a differentiated argument may also be a dict,
list or tuple of numbers, nested, as in JAX; its gradient comes in the same structure.
Numbers reach ``f`` as Values, so it may call Value methods on them. ``argnums`` picks the
arguments to differentiate: an int gives one derivative, a sequence gives a tuple of them.

Return types: called with plain numbers from outside any transform, a transformed function
returns floats. Called with a Value among its arguments, or from inside another transform (so
the outer one can differentiate the result, even through closures), it returns Values. Each
differentiated argument is a fresh variable (a new leaf for a number, an identity node for a
Value), so nested transforms never mix up their variables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from .backward import interior_order
from .ops import RULES, Mask, Op
from .value import TRACING as _DEPTH
from .value import Value, to_float
from .value import sum as _vsum

Argnums = int | Sequence[int]


def _indices(argnums: Argnums, nargs: int, name: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not isinstance(i, int) or not -nargs <= i < nargs:
            raise ValueError(
                f"{name}: argnums={argnums!r} does not fit {nargs} positional argument(s)"
            )
    return tuple(i % nargs for i in nums)


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """``fn`` applied to every leaf of ``tree``, a number or Value or a dict, list or tuple
    (namedtuple too) of them, nested: a tree of the same structure (JAX's ``tree_map``)."""
    if isinstance(tree, dict):
        return {k: tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        items = [tree_map(fn, v) for v in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    return fn(tree)


def tree_leaves(tree: Any) -> list:
    """The leaves of ``tree`` (see :func:`tree_map`) in its order."""
    leaves: list = []
    tree_map(leaves.append, tree)
    return leaves


def _variables(x: Any, where: str, name: str, containers: bool) -> Any:
    """Fresh variables for one argument: a new leaf for a number, an identity node over a
    Value; with ``containers``, the same for every leaf of a dict, list or tuple."""
    if isinstance(x, Value):
        return _vsum((x,))
    if isinstance(x, (dict, list, tuple)):
        if not containers:
            raise TypeError(f"{name}: {where} is a {type(x).__name__}; differentiating with "
                            "respect to a dict, list or tuple is grad's, value_and_grad's and "
                            "vjp's (pass its numbers as separate arguments here)")
        if isinstance(x, dict):
            return {k: _variables(v, f"{where}[{k!r}]", name, True) for k, v in x.items()}
        items = [_variables(v, f"{where}[{k}]", name, True) for k, v in enumerate(x)]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    return Value(to_float(x, f"{name}: {where}"))


def trace_call(
    f: Callable[..., Any], args: tuple, argnums: Argnums, name: str, containers: bool = False
) -> tuple[Any, list[Any], bool]:
    """Call ``f`` with fresh variables for the ``argnums`` arguments (other numbers become
    constant Values; anything else is passed through). With ``containers``, an argument
    may be a dict, list or tuple (nested) of numbers: its variables come in its structure.

    Returns (output, the variables per argument, whether results must stay Values).
    """
    nums = _indices(argnums, len(args), name)
    nested = _DEPTH.get() > 0 or any(isinstance(a, Value) for a in args) or any(
        isinstance(x, Value) for i in nums for x in tree_leaves(args[i]))
    call = [Value(a) if isinstance(a, (float, int)) else a for a in args]
    for i in nums:
        call[i] = _variables(args[i], f"argument {i}", name, containers)
    token = _DEPTH.set(_DEPTH.get() + 1)
    try:
        out = f(*call)
    finally:
        _DEPTH.reset(token)
    return out, [call[i] for i in nums], nested


def as_value(out: Any, name: str) -> Value:
    """A transformed function's result as a Value (a number becomes a constant)."""
    return out if isinstance(out, Value) else Value(to_float(out, f"{name}: the function result"))


def _pullback(outs: list[Value], variables: list[Any], seeds: list | None, nested: bool) -> list:
    """Σₖ seedₖ·∂outsₖ/∂(each variable), in the structure of each entry of ``variables``
    (0.0 where the outputs do not use a variable)."""
    flat = [v for tree in variables for v in tree_leaves(tree)]
    grads = _grad_of_outputs(outs, flat, seeds, create_graph=nested, materialize_grads=True)
    if all(isinstance(v, Value) for v in variables):  # no containers
        return grads
    by_variable = dict(zip(flat, grads, strict=True))
    return [tree_map(by_variable.__getitem__, tree) for tree in variables]


def _derivatives(out: Any, variables: list[Any], nested: bool, argnums: Argnums, name: str):
    grads = _pullback([as_value(out, name)], variables, None, nested)
    return grads[0] if isinstance(argnums, int) else tuple(grads)


def named_after(fn: Callable, kind: str, f: Callable) -> Callable:
    """``fn`` renamed ``kind(f)``, as tracebacks and reprs show a transformed function."""
    fn.__name__ = fn.__qualname__ = f"{kind}({getattr(f, '__name__', 'f')})"
    return fn


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple]:
    """``(f(*args), ∂f/∂args[argnums])`` in one forward and one backward pass."""

    def value_and_df(*args: Any) -> tuple:
        out, variables, nested = trace_call(f, args, argnums, "value_and_grad", True)
        out = as_value(out, "value_and_grad")
        value = out if nested else out.data
        return value, _derivatives(out, variables, nested, argnums, "value_and_grad")

    return named_after(value_and_df, "value_and_grad", f)


def grad(
    f: Callable[..., Any] | Value | Sequence[Value],
    argnums: Argnums | Value | Sequence[Value] | None = None,
    grad_outputs: float | Value | Sequence[float | Value] | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> Any:
    """Given a function, ``grad(f)`` or ``grad(f, argnums)`` is the transform of HIPS autograd
    and JAX: the function ``args ↦ ∂f/∂args[argnums]``; compose for higher derivatives.

    Given outputs, ``grad(outputs, inputs, grad_outputs=None, create_graph=False)`` is
    ``torch.autograd.grad`` : ∂(Σₖ vₖ·outputsₖ)/∂input for
    each input, with no ``.grad`` read or written. The two are told apart by the first
    argument: a callable is a function, a Value (never callable) or a sequence of them are
    outputs. ``retain_graph`` is accepted for PyTorch's habit and changes nothing (the graph
    is never freed). As in PyTorch, an input the outputs were not computed from is a
    ValueError naming it; ``allow_unused=True`` gives None for it, ``materialize_grads=True``
    gives 0.0 (``allow_unused`` defaults to ``materialize_grads``).
    """
    if not callable(f):
        if argnums is None:
            raise TypeError("grad(outputs, inputs): inputs missing (or pass a function: grad(f))")
        if allow_unused is None:
            allow_unused = materialize_grads
        elif materialize_grads and not allow_unused:
            raise ValueError("grad: materialize_grads=True needs allow_unused True or unset")
        return _grad_of_outputs(f, cast("Value | Sequence[Value]", argnums), grad_outputs,
                                create_graph, allow_unused, materialize_grads)
    if grad_outputs is not None or create_graph or allow_unused is not None or materialize_grads:
        raise TypeError("grad(f, argnums) takes no grad_outputs or create_graph (nor "
                        "allow_unused, materialize_grads): the function it returns gives Values "
                        "when called with Values, and 0.0 for an argument f does not use")
    return _transform(f, 0 if argnums is None else cast(Argnums, argnums))


def _transform(f: Callable[..., Any], argnums: Argnums) -> Callable[..., Any]:
    """The function ``args ↦ ∂f/∂args[argnums]``."""

    def df(*args: Any) -> Any:
        out, variables, nested = trace_call(f, args, argnums, "grad", True)
        return _derivatives(out, variables, nested, argnums, "grad")

    return named_after(df, "grad", f)


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """``(f(*primals), vjp_fn)`` as ``jax.vjp``: ``vjp_fn(cotangent)`` is the tuple, one entry
    per primal, of Σₖ cotangentₖ·∂outₖ/∂primal (the vector-Jacobian product), from one
    recorded forward pass however often it is called.

    ``f`` returns a number or a list or tuple of them; the cotangent has that shape. A primal
    may be a number or a dict, list or tuple of them (its entry comes in its structure).
    """
    out, variables, nested = trace_call(f, primals, tuple(range(len(primals))), "vjp", True)
    many = isinstance(out, (list, tuple))
    outs = [as_value(o, "vjp") for o in (out if many else [out])]
    value = out if nested else (type(out)(o.data for o in outs) if many else outs[0].data)

    def vjp_fn(cotangent: Any) -> tuple:
        seeds = list(cotangent) if isinstance(cotangent, (list, tuple)) else [cotangent]
        if len(seeds) != len(outs) or many != isinstance(cotangent, (list, tuple)):
            shape = f"a sequence of {len(outs)}" if many else "one number"
            raise ValueError(f"vjp: the output is {shape}, got the cotangent {cotangent!r}")
        return tuple(_pullback(outs, variables, seeds, nested or any(
            isinstance(s, Value) for s in seeds)))

    return value, named_after(vjp_fn, "vjp", f)


def jacobian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The function ``args ↦ J`` with J[i] = ∂outᵢ/∂args[argnums] (one backward per output).

    For a scalar ``f`` this is ``grad(f)``; for ``f`` returning a sequence, a tuple of rows.
    """

    def jf(*args: Any) -> Any:
        out, variables, nested = trace_call(f, args, argnums, "jacobian")
        if isinstance(out, (list, tuple)):
            return tuple(_derivatives(o, variables, nested, argnums, "jacobian") for o in out)
        return _derivatives(out, variables, nested, argnums, "jacobian")

    return named_after(jf, "jacobian", f)


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The function ``args ↦ H`` with H[i][j] = ∂²f/∂xᵢ∂xⱼ: the Jacobian of the gradient.

    With an int ``argnums`` it returns the one second derivative ∂²f/∂x².
    """
    return named_after(jacobian(_transform(f, argnums), argnums), "hessian", f)


def hvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
    """H·v: the Hessian of ``f`` at ``primals`` times ``tangents``, without forming H.

    Computed as ∇ₓ⟨∇f(x), v⟩ (reverse over reverse): two backward passes whatever the size.
    """
    if len(primals) != len(tangents):
        raise ValueError(f"hvp: {len(primals)} primals but {len(tangents)} tangents")
    everything = tuple(range(len(primals)))
    gradient = _transform(f, everything)

    def directional(*xs: Any) -> Value:
        return _vsum(g * v for g, v in zip(gradient(*xs), tangents, strict=True))

    return _transform(directional, everything)(*primals)


def _product(g, local):
    """g·local for a gradient and a local derivative (floats or Values). A float factor of 1
    is dropped (exact in IEEE arithmetic), so a differentiable backward grows no ×1 nodes;
    a MASK local gives the constant 0 (a ``where``, whatever ``g`` is)."""
    if type(local) is Mask:
        return 0.0
    if type(local) is float and local == 1.0:
        return g
    if type(g) is float and g == 1.0:
        return local
    return g * local


def _grad_of_outputs(
    outputs: Value | Sequence[Value],
    inputs: Value | Sequence[Value],
    grad_outputs: float | Value | Sequence[float | Value] | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    materialize_grads: bool = False,
) -> list:
    """∂(Σₖ vₖ·outputsₖ)/∂input for each input (vₖ from ``grad_outputs``, default 1), as
    ``torch.autograd.grad``; no ``.grad`` anywhere is read or written.

    Inputs may be leaves or interior nodes. An input the outputs were not computed from is
    unused: a ValueError naming it (raised before any gradient is computed), unless
    ``allow_unused`` (its gradient is None) or ``materialize_grads`` (0.0).
    Without ``create_graph`` the gradients are floats, from the local derivatives stored at
    forward time. With it they are Values: the local derivatives are recomputed as Values by
    the op table's rules (``op.local_of(node, parents, node)``), so the returned gradients
    have a graph of their own and can be differentiated again (higher-order derivatives); a
    gradient may be a node of the original graph (∂(x·y)/∂x is ``y`` itself). A custom op's
    rule must use the helpers of :mod:`autograd.ops` (``ops.cos``, not ``math.cos``) for that:
    a ``math`` function turns a Value into a constant, which makes higher derivatives wrong
    (``gradcheck(..., order=2)`` finds it). :func:`grad` also takes a function.
    """
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    targets = cast("list[Value]", list(inputs) if isinstance(inputs, (list, tuple)) else [inputs])
    for what, nodes in (("outputs", outs), ("inputs", targets)):
        for node in nodes:
            if not isinstance(node, Value):
                raise TypeError(f"grad: {what} must be Values, got {type(node).__name__}")
    if grad_outputs is None:
        seeds: list = [1.0] * len(outs)
    else:
        seeds = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    if len(seeds) != len(outs):
        raise ValueError(f"grad: {len(seeds)} grad_outputs for {len(outs)} outputs")
    if not create_graph:
        seeds = [s.data if isinstance(s, Value) else s for s in seeds]
    seeds = [s if isinstance(s, Value) else to_float(s, "grad: a grad_output") for s in seeds]
    hub = Value(0.0)  # one node above all outputs, so a single walk orders them together
    hub._a, hub._b = tuple(x for out in outs for x in (out, 1.0)), hub._nary
    order = interior_order(hub)[1:]
    needed: set = set(targets)  # nodes some input is reachable from; the walk skips the rest
    unused = needed.difference(outs)  # until a node of the graph reads them
    for node in reversed(order):
        parents = node._edges[0::2]
        if not needed.isdisjoint(parents):
            needed.add(node)
            if unused:
                unused.difference_update(parents)
    if unused and not (allow_unused or materialize_grads):
        k, x = next((k, x) for k, x in enumerate(targets) if x in unused)
        label = f" (label {x.label!r})" if x.label else ""
        raise ValueError(
            f"grad: inputs[{k}] = {x.data!r}{label} was not used to compute the outputs, so it "
            "has no gradient; pass allow_unused=True to get None for it, or "
            "materialize_grads=True to get 0.0"
        )
    grads: dict = {}
    for out, seed in zip(outs, seeds, strict=True):
        grads[out] = seed if out not in grads else grads[out] + seed
    for node in order:
        g = grads.get(node)
        if g is None or node not in needed:
            continue
        parents = node._edges[0::2]
        local_grads = node._edges[1::2]
        if create_graph or local_grads[0] is None:  # (None: a closure node, whose op raises)
            token = RULES.set(True)
            try:
                local_grads = cast(Op, node.op).local_of(node, parents, node)
            finally:
                RULES.reset(token)
        for parent, local in zip(parents, local_grads, strict=True):
            if parent in needed:
                term = _product(g, local)
                prev = grads.get(parent)
                grads[parent] = term if prev is None else prev + term
    results = [None if x in unused and not materialize_grads else grads.get(x, 0.0)
               for x in targets]
    if create_graph:
        return [r if r is None or isinstance(r, Value) else Value(r) for r in results]
    return results
