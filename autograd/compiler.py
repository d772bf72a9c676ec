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

Compiling goes in phases: collect the graph, name the nodes and write their forward lines,
find the edges backward follows, freeze all that as a :class:`~autograd.plan.ScalarProgramPlan`,
then write it out: :func:`write_scalar` (one line per node) or, with ``layers=True``,
:func:`autograd.layered.write_layers` (matrix code per layer), which reads the same plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import NamedTuple

from . import ops
from .codegen import CALL, CompileError, as_local, code_of
from .layered import write_layers
from .layers import graph_nodes
from .plan import Names, ScalarProgramPlan, Use, assign, function_source, listing
from .program import GradProgram, Local
from .value import Value


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
    plan = plan_program(*_arguments(outputs, inputs, params), input_grads=input_grads)
    if layers:
        program = write_layers(plan)
        if program is not None:
            return program
    return write_scalar(plan)


def _arguments(outputs: Value | Sequence[Value], inputs: Sequence[Value],
               params: Sequence[Value]) -> tuple[tuple[Value, ...], ...]:
    """The outputs, inputs and params as tuples, refused unless they are Values, the
    variables distinct leaves."""
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
    return outs, inputs, params


def plan_program(outs: tuple[Value, ...], inputs: tuple[Value, ...],
                 params: tuple[Value, ...], *, input_grads: bool = True) -> ScalarProgramPlan:
    """The phases of compiling: the graph of every output, its names and forward lines,
    then the edges backward follows from the first output, as one frozen plan."""
    nodes = graph_nodes(outs)
    forward = _write_forward(nodes, inputs, params)
    wrt = frozenset(params) | (frozenset(inputs) if input_grads else frozenset())
    root_graph = graph_nodes(outs[:1])
    uses = _uses(outs[0], root_graph, wrt, forward)
    return ScalarProgramPlan(
        outs, inputs, params, nodes, root_graph, MappingProxyType(forward.name),
        frozenset(forward.names.used), MappingProxyType(forward.names.counters),
        frozenset(forward.per_sample), MappingProxyType(forward.lines), MappingProxyType(uses),
        wrt, MappingProxyType(forward.calls), MappingProxyType(forward.functions))


class _Forward(NamedTuple):
    """What writing the forward lines gives: the names, the nodes that depend on an input,
    each non-leaf node's lines and edges' local derivatives, and the ops called by
    reference (``calls``: op → name; ``functions``: name → the op's forward)."""

    names: Names
    name: dict[Value, str]
    per_sample: set[Value]
    lines: dict[Value, tuple[str, ...]]
    locals: dict[Value, tuple[Local, ...]]
    calls: dict[ops.Op, str]
    functions: dict[str, Callable]


def _write_forward(nodes: tuple[Value, ...], inputs: tuple[Value, ...],
                   params: tuple[Value, ...]) -> _Forward:
    """Name the variables, then each node in order, and write its forward line(s) and its
    edges' local derivatives from the op table (:func:`~autograd.codegen.code_of`). An op
    called by reference (a forward that reads its operands as floats) is named
    ``op_<name>`` when first met."""
    names, per_sample = Names(), set(inputs)
    done = _Forward(names, {}, per_sample, {}, {}, {}, {})
    name = done.name
    for v in inputs + params:
        name[v] = names.new(v.label, "x" if v in per_sample else "p")
    for index, node in enumerate(nodes):
        op = node.op
        if op is None:  # a leaf
            continue
        name[node] = names.new(node.label, op.name)
        if any(p in per_sample for p in node.parents):
            per_sample.add(node)
        operands = tuple(name[p] if p in name else ops.literal(p.data) for p in node.parents)
        try:
            expr, local = code_of(op, node, operands, name[node])
        except CompileError as err:
            raise CompileError(f"compile: the {_describe(node, index)}: {err}") from None
        if CALL in expr:
            if op not in done.calls:
                done.calls[op] = names.new(f"op_{op.name}", "op")
                done.functions[done.calls[op]] = op.forward
            expr = expr.replace(CALL, done.calls[op])
        done.locals[node] = tuple(d if isinstance(d, Local) else as_local(d) for d in local)
        done.lines[node] = tuple(assign(name[node], _terms(op, expr),
                                        _comment(node, name[node])))
    return done


def _terms(op: ops.Op, expr: str) -> list[str]:
    """A forward's source in parts for :func:`~autograd.plan.assign`: a long sum (an n-ary
    op joined by its code) split before each operator, so it can take several lines."""
    joint = op.code.forward if op.code is not None else None
    if op.arity == -1 and joint is not None:
        first, *rest = expr.split(joint)
        return [first, *(joint + t for t in rest)]
    return [expr]


def _uses(root: Value, root_graph: tuple[Value, ...], wrt: frozenset[Value],
          forward: _Forward) -> dict[Value, tuple[Use, ...]]:
    """For each node a gradient reaches (on a path from a leaf in ``wrt`` to the first
    output), the edges leaving it that gradients flow back along, in backward's order."""
    live: set[Value] = set()
    for node in root_graph:
        if node in wrt or any(p in live for p in node.parents):
            live.add(node)
    name, per_sample = forward.name, forward.per_sample
    uses: dict[Value, list[Use]] = {v: [] for v in live}
    for node in reversed(root_graph):
        if node in live and not node.is_leaf:
            use = (f"g_{name[node]}", node in per_sample or node is root)
            for parent, local in zip(node.parents, forward.locals[node]):
                if parent in live:
                    uses[parent].append(Use(node, use[0], local, use[1]))
    return {v: tuple(edges) for v, edges in uses.items()}


def write_scalar(plan: ScalarProgramPlan) -> GradProgram:
    """The plan as one line per node: forward, then each gradient, then the return."""
    variables = plan.inputs + plan.params
    backward = [line for v in reversed(plan.root_graph) if v in plan.uses and not v.is_leaf
                for line in plan.gradient(v)]
    backward += [line for v in variables if v in plan.wrt for line in plan.gradient(v)]

    def grads(values: Sequence[Value]) -> str:
        return listing([f"g_{plan.names[v]}" if v in plan.wrt else "0.0" for v in values])

    returns = f"{listing([plan.ref(v) for v in plan.outputs])}, {grads(plan.inputs)}, " \
              f"{grads(plan.params)}"
    body = (["# forward: one line per node"]
            + [line for lines in plan.forward.values() for line in lines]
            + ["# backward: g_v = ∂(first output)/∂v, summed over the edges leaving v"]
            + backward + [f"return {returns}"])
    source = function_source([plan.names[v] for v in variables], body)
    return GradProgram(source, plan.outputs, plan.inputs, plan.params, dict(plan.names),
                       dict(plan.functions))


def _comment(node: Value, name: str) -> str:
    """The label as an escaped comment when the name does not already say it."""
    if not node.label or node.label == name:
        return ""
    text = repr(node.label)
    return f"  # {text if len(text) <= 60 else text[:57] + '...'}"


def _describe(node: Value, index: int) -> str:
    what = f"label {node.label!r}" if node.label else f"unlabelled, node {index} in order"
    return f"{node.op.name if node.op else 'leaf'} node ({what})"
