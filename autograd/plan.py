"""What the scalar compiler knows about a graph, frozen: :class:`ScalarProgramPlan`.

:func:`autograd.compile` builds the plan in phases (the graph, the names and forward lines,
the edges backward follows) and writes it out as one line per node; the layered writer
(:mod:`autograd.layered`) reads the same plan and returns its own lines. The plan also writes
the gradient lines, g_v = Σ over the edges leaving v of g_consumer × local derivative, for
either writer's set of edges, and the pieces of source both writers share.
"""

from __future__ import annotations

import keyword
import re
import textwrap
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from . import ops
from .codegen import CALL
from .program import FLOAT_NAMESPACE, Local
from .value import Value

RESERVED = frozenset(FLOAT_NAMESPACE) | {"seed", "gradient_program"}
"""Names a program never gives a node: its namespace's functions, its own and its seed."""
NAME_LENGTH = 40  # longer labels are cut (the whole label goes in a comment)
CHUNK = 50  # terms per line of a long sum: Python's compiler recurses once per operator
_GRADIENT = re.compile(r"seed|g_\w+")  # a term that is a whole gradient, never −0.0


def identifier(label: object) -> str | None:
    """``layers.0.w.1`` → ``layers_0_w_1``: every run of characters that cannot continue a
    Python name becomes ``_``, cut to 40 characters; None when nothing usable is left."""
    text = unicodedata.normalize("NFKC", str(label))
    text = "".join(c if f"a{c}".isidentifier() else " " for c in text)
    text = "_".join(text.split())[:NAME_LENGTH].strip("_")
    if text[:1].isdigit():
        text = f"v_{text}"
    if not text.isidentifier() or unicodedata.normalize("NFKC", text) != text:
        return None
    return f"{text}_" if keyword.iskeyword(text) else text


class Names:
    """Unique identifiers from labels; ``g_`` + a name is kept free for its gradient.
    ``used`` and ``counters`` continue a plan's names (:meth:`ScalarProgramPlan.more_names`)."""

    def __init__(self, used: frozenset[str] = RESERVED,
                 counters: Mapping[str, int] | None = None) -> None:
        self.used: set[str] = set(used)
        self.counters: dict[str, int] = dict(counters or {})

    def new(self, label: str | None, fallback: str) -> str:
        """A fresh name from ``label``, else ``fallback`` (an op's name, made an identifier
        too) and a number."""
        base = identifier(label) if label else None
        if base is None:
            fallback = identifier(fallback) or "v"
            n = self.counters.get(fallback, 0)
            self.counters[fallback] = n + 1
            base = f"{fallback}_{n}"
        name, k = base, 1
        while name in self.used or f"g_{name}" in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.update((name, f"g_{name}"))
        return name


class Use(NamedTuple):
    """One edge leaving a node, along which its gradient gathers a term: the consumer (a
    node, or None for a layer's input), the source of the consumer's gradient, the edge's
    local derivative, and whether that gradient is per sample (the consumer depends on an
    input, or is the first output)."""

    consumer: object
    gradient: str
    local: Local
    per_sample: bool


@dataclass(frozen=True, eq=False)
class ScalarProgramPlan:
    """A graph as a scalar gradient program, before its source is assembled.

    ``nodes``: every output's graph in forward order; ``root_graph``: the first output's;
    ``names``: each variable's and non-leaf node's name; ``taken`` and ``counters``: the
    names used so far (:meth:`more_names` continues them); ``per_sample``: the nodes that
    depend on an input; ``forward``: each non-leaf node's lines; ``uses``: for each node
    gradients reach, the edges leaving it in backward's order; ``wrt``: the leaves whose
    gradients the program returns; ``calls``: the name each op called by reference has,
    and ``functions`` binds those names to the ops' forwards.
    """

    outputs: tuple[Value, ...]
    inputs: tuple[Value, ...]
    params: tuple[Value, ...]
    nodes: tuple[Value, ...]
    root_graph: tuple[Value, ...]
    names: Mapping[Value, str]
    taken: frozenset[str]
    counters: Mapping[str, int]
    per_sample: frozenset[Value]
    forward: Mapping[Value, tuple[str, ...]]
    uses: Mapping[Value, tuple[Use, ...]]
    wrt: frozenset[Value]
    calls: Mapping[ops.Op, str]
    functions: Mapping[str, Callable]

    def ref(self, v: Value) -> str:
        """A node's name, or a constant leaf's value as a literal."""
        return self.names[v] if v in self.names else ops.literal(v.data)

    def call(self, op: ops.Op, expr: str) -> str:
        """``expr`` (an op's forward source) with its ``{call}`` as the op's name here."""
        return expr.replace(CALL, self.calls[op]) if CALL in expr else expr

    def more_names(self) -> Names:
        """A name maker that continues this plan's names (none it gave is given again)."""
        return Names(self.taken, self.counters)

    def gradient(self, v: Value, uses: Mapping[Value, tuple[Use, ...]] | None = None
                 ) -> list[str]:
        """The lines of g_v: Σ over v's edges (``uses``, the plan's by default), in
        backward's order, of g_consumer × local. A node the samples share (a parameter, or
        computed from parameters only) whose terms are per sample (from a per-sample consumer
        or the root's seed) adds them with ``sample_sum``, sample by sample in a batch. A
        parameter's ``dot(g, a)`` or ``total(...)`` hands its per-sample terms to the
        program's call, which sums all parameters at once."""
        root = self.outputs[0]
        edges = (self.uses if uses is None else uses).get(v, ())
        terms = ["seed"] if v is root else []
        terms += [use.local.times(use.gradient) for use in edges]
        target = f"g_{self.names[v]}"
        if not terms:
            return [f"{target} = 0.0"]
        if v not in self.per_sample and (any(use.per_sample for use in edges)
                                         or v is root and v.is_leaf):
            return _shared_gradient(target, v, terms, edges)
        parts = [terms[0]] + [f" - {t[1:]}" if t.startswith("-") else f" + {t}"
                              for t in terms[1:]]
        if not _GRADIENT.fullmatch(terms[0]):  # backward adds into a 0.0: −0.0 becomes 0.0
            first = parts[0]
            parts[0] = f"0.0 - {first[1:]}" if first.startswith("-") else f"0.0 + {first}"
        return assign(target, parts)


def _shared_gradient(target: str, v: Value, terms: list[str], edges: tuple[Use, ...]
                     ) -> list[str]:
    """g_v of a node the samples share, from per-sample terms: Σₛ gₛ·aₛ as ``dot``, a
    parameter's terms as ``total`` (the call sums them), else ``sample_sum``."""
    if v.is_leaf and len(terms) == 1 and edges[0].local.factor not in (None, "1", "(-1)"):
        return [f"{target} = dot({edges[0].gradient}, {edges[0].local.factor})"]  # Σₛ gₛ·aₛ
    if v.is_leaf:  # the call sums a parameter's terms (only the return reads them)
        return [f"{target} = total({', '.join(terms)})"]
    return assign(target, [f"sample_sum({', '.join(terms[:CHUNK])})"]) + [
        f"{target} = sample_sum({target}, {', '.join(terms[i : i + CHUNK])})"
        for i in range(CHUNK, len(terms), CHUNK)]


def assign(name: str, parts: list[str], comment: str = "") -> list[str]:
    """``name = p₀ p₁ p₂ ...`` where every part after the first starts with its operator
    (`` + t``, `` - t``), in lines of at most :data:`CHUNK` parts that continue
    ``name = name + ...``: the same operations, left to right."""
    lines = [f"{name} = {''.join(parts[:CHUNK])}{comment}"]
    for i in range(CHUNK, len(parts), CHUNK):
        lines.append(f"{name} = {name}{''.join(parts[i : i + CHUNK])}")
    return lines


def listing(items: list[str]) -> str:
    """A tuple display: ``(a, b)``, ``(a,)``."""
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def function_source(args: list[str], body: list[str]) -> str:
    """``def gradient_program(args..., seed):`` with ``body`` indented under it."""
    signature = textwrap.fill(", ".join([*args, "seed"]), 92, initial_indent="    ",
                              subsequent_indent="    ", break_long_words=False,
                              break_on_hyphens=False)
    return (f"def gradient_program(\n{signature},\n):\n"
            + "\n".join(f"    {line}" for line in body) + "\n")
