"""The graph as mathematics: a node's sympy expression in its leaves, and its LaTeX.

Each op's expression comes from its op table entry (``Op.sympy``); sympy is imported only
when these functions run (``pip install stepgrad[math]``).

>>> from autograd import Value, to_sympy
>>> x = Value(2.0, label="x")
>>> to_sympy((x * 3).tanh())
tanh(x*3)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

from .backward import topological_order
from .notation import tex_number
from .ops import LinearOp, Mask
from .value import Value


def _sympy():
    try:
        import sympy
    except ImportError:
        raise ImportError("the symbolic export needs sympy: pip install 'stepgrad[math]'") from None
    return sympy


def _number(sp, x: float):
    """A leaf's number, exactly: an Integer when whole, else the float itself."""
    if x.is_integer():
        return sp.Integer(int(x))
    return sp.Float(x) if math.isfinite(x) else sp.sympify(x)


def to_sympy(node: Value, symbols: Mapping[Value, Any] | None = None):
    """The sympy expression of ``node`` in its leaves.

    A labelled leaf is the real symbol named by its label; an unlabelled leaf is its number;
    ``symbols`` maps Values (leaves or not) to the expressions that stand for them. The
    expression is built once per node in topological order and left unevaluated (one sympy
    node per graph node, as written; ``.doit()`` or ``sympy.simplify`` evaluates), so a node
    used twice is one shared subexpression and a deep graph takes linear time.
    ``sympy.diff(to_sympy(L), x)`` at the leaves' numbers is ``x.grad`` after
    ``L.backward()`` wherever every op is differentiable. A node whose every local derivative
    is a mask and whose op has no sympy form (``detached_max``, what log-sum-exp subtracts) is
    held constant, so it is its number.

    Raises ValueError for an op without a sympy form, a node made as ``Value(data, children,
    op)`` (no op entry), or two leaves with one label (pass ``symbols`` to tell them apart).
    """
    sp = _sympy()
    given = dict(symbols or {})
    order = cast("list[Value]", topological_order(node))
    labels: dict[str, Value] = {}
    for v in order:
        if v.is_leaf and v.label and v not in given:
            other = labels.setdefault(v.label, v)
            if other is not v:
                raise ValueError(
                    f"to_sympy: two leaves are labelled {v.label!r} ({other.data!r} and "
                    f"{v.data!r}); relabel one or pass symbols={{leaf: sympy.Symbol(...)}}")
        elif not (v.is_leaf or v in given):
            _sympy_form(v)  # refuse before building anything
    expr: dict[Value, Any] = {}
    with sp.evaluate(False):  # sympy's simplification on construction walks the whole tree
        for v in order:
            if v in given:
                expr[v] = sp.sympify(given[v])
            elif v.is_leaf:
                expr[v] = sp.Symbol(v.label, real=True) if v.label else _number(sp, v.data)
            else:
                args: Any = [expr[p] for p in v.parents]
                if isinstance(v.op, LinearOp):
                    args = v.op.sides(v, tuple(args))
                expr[v] = _sympy_form(v)(sp, *args)
    return expr[node]


def _sympy_form(v: Value):
    if any(d is None for d in v.local_grads):
        raise ValueError(
            f"to_sympy: {v!r} was made as Value(data, children, op): it has no op table entry, "
            "so no sympy form")
    op = v.op
    assert op is not None  # an interior node has its op
    if op.sympy is None and all(type(d) is Mask for d in v.local_grads):
        return lambda sp, *operands: _number(sp, v.data)  # held constant (detached_max)
    if op.sympy is None:
        label = f" (label {v.label!r})" if v.label else ""
        raise ValueError(
            f"to_sympy: op {op.name!r} has no sympy form; node {v!r}{label}. Declare it "
            f"with declare({op.name!r}, ..., sympy=lambda sp, x: ...)")
    return op.sympy


def latex(node: Value, symbols: Mapping[Value, Any] | None = None) -> str:
    """LaTeX of :func:`to_sympy`'s expression, products with ``\\cdot``, numbers written as
    the text views write them (six significant digits, never ``-0``)."""
    return _printer()(to_sympy(node, symbols))


def _printer():
    from sympy.printing.latex import LatexPrinter

    class Printer(LatexPrinter):
        def _print_Float(self, expr) -> str:
            return tex_number(float(expr))

    return Printer({"mul_symbol": "dot"}).doprint  # x·3, not "x 3", for an unevaluated product
