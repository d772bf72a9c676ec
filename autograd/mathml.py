"""The views' equations as presentation MathML, which browsers render natively.

``edge_mathml(step, k)`` writes the ``k``-th edge of a :class:`~autograd.trace.Step` as
``∂L/∂p += ∂L/∂n × ∂n/∂p = g × local = added   (p.grad before → after)``, the line that
:meth:`~autograd.trace.Step.equation` writes as text, from the step record itself: each
fraction an ``mfrac``, names ``mi`` (one character) or ``mtext``, numbers ``mn`` with the
text's digits (:func:`autograd.trace.number_text`). No script, font or request needed.

The layer view's δ formulas are built from the pieces below: :func:`symbol` (``z₂`` as z with
subscript 2), :func:`partial`, :func:`transpose`, :func:`total` (Σ over an index),
:func:`matrix` (a table of number strings) and :func:`math` around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .files import printable
from .forward_trace import ForwardTrace
from .trace import Step, number_text

MATHML_NS = "http://www.w3.org/1998/Math/MathML"


def _name(name: str) -> str:
    tag = "mi" if len(name) == 1 else "mtext"
    return f"<{tag}>{escape(printable(name))}</{tag}>"


def _fraction(top: str, bottom: str) -> str:
    """∂top/∂bottom as a fraction, from the two names' elements."""
    return f"<mfrac><mrow><mo>∂</mo>{top}</mrow><mrow><mo>∂</mo>{bottom}</mrow></mfrac>"


def _number(x: float | None) -> str:
    # None: a node made as Value(data, children, op) recorded no local derivative
    return "<mtext>—</mtext>" if x is None else f"<mn>{escape(number_text(x))}</mn>"


SLOT = "\x01"
"""Marks a slot of :func:`edge_template` as ``\\x01i\\x01``: no escaped text contains it
(:func:`~autograd.files.printable` writes a control character as ``\\x01``)."""


def edge_template(root: str = "L", html: bool = False) -> str:
    """The MathML of one edge with the parts that change from edge to edge as slots
    ``\\x01i\\x01``, i = 0 … 6 (parent, node, ∂root/∂node, local, added, before, after;
    see :func:`edge_fields`). The stepper page carries it once and fills it per edge.
    ``html``: for an HTML page, where ``<math>`` needs no namespace."""
    mo = "<mo>{}</mo>".format
    slot = [f"{SLOT}{i}{SLOT}" for i in range(7)]
    parts = [
        _fraction(_name(root), slot[0]), mo("+="), _fraction(_name(root), slot[1]), mo("×"),
        _fraction(slot[1], slot[0]), mo("="), slot[2], mo("×"), slot[3], mo("="), slot[4],
        '<mspace width="1em"/>', "<mo>(</mo>", slot[0], "<mtext>.grad</mtext>",
        '<mspace width="0.4em"/>', slot[5],
        mo("→"), slot[6], "<mo>)</mo>",
    ]
    return f'<math{_xmlns(html)} display="block"><mrow>{"".join(parts)}</mrow></math>'


def _xmlns(html: bool) -> str:
    return "" if html else f' xmlns="{MATHML_NS}"'


def fill(template: str, fields: tuple[str, ...]) -> str:
    """``template`` (from :func:`edge_template`) with its slots filled by ``fields``."""
    pieces = template.split(SLOT)
    pieces[1::2] = [fields[int(i)] for i in pieces[1::2]]
    return "".join(pieces)


def edge_fields(step: Step, k: int) -> tuple[str, ...]:
    """The slots of :func:`edge_template` for edge ``k`` of ``step``: escaped MathML
    elements (names ``mi``/``mtext``, numbers ``mn`` with the text's digits)."""
    e = step.edges[k]
    return (_name(e.parent.name), _name(step.node.name), _number(step.grad), _number(e.local),
            _number(e.added), _number(e.before), _number(e.after))


def edge_mathml(step: Step, k: int, root: str = "L", html: bool = False) -> str:
    """Edge ``k`` of ``step`` as one ``<math display="block">`` element; ``root`` names the
    output (``L``). Labels are escaped (characters XML cannot carry as ``\\x00``), so any
    label gives well-formed XML."""
    return fill(edge_template(root, html), edge_fields(step, k))


def text_mathml(text: str, html: bool = False) -> str:
    """A sentence (the stepper's frame 0) as a ``<math>`` element of plain text."""
    return f'<math{_xmlns(html)} display="block">{text_element(text)}</math>'


def text_element(text: str) -> str:
    """``text`` as one ``mtext``, escaped."""
    return f"<mtext>{escape(printable(text))}</mtext>"


def math(body: str, html: bool = False) -> str:
    """``body`` (MathML elements) as one ``<math display="block">``."""
    return f'<math{_xmlns(html)} display="block"><mrow>{body}</mrow></math>'


def mo(operator: str) -> str:
    """An operator: ``=``, ``⊙``, ``(``, ..."""
    return f"<mo>{escape(operator)}</mo>"


_SUBSCRIPT_DIGITS = "₀₁₂₃₄₅₆₇₈₉"


def symbol(name: str) -> str:
    """A name as the layer view writes it (``z₂``, ``δ₁``, ``x``, ``ŷ``): its base as ``mi``
    (``mtext`` if longer than one character) and trailing subscript digits as the ``mn`` of an
    ``msub``."""
    base = name.rstrip(_SUBSCRIPT_DIGITS)
    index = name[len(base):].translate(str.maketrans(_SUBSCRIPT_DIGITS, "0123456789"))
    return f"<msub>{_name(base)}<mn>{index}</mn></msub>" if index else _name(base)


def partial(top: str, bottom: str) -> str:
    """∂top/∂bottom, stacked (``mfrac``), from the two names' elements."""
    return _fraction(top, bottom)


def transpose(element: str) -> str:
    """``element``ᵀ: a superscript T."""
    return f"<msup>{element}<mi>T</mi></msup>"


def derivative(f: str) -> str:
    """f′: a function's name and a prime (the character is a superscript already; as an
    ``msup`` it shrinks twice without a math font)."""
    return f'{_name(f)}<mo lspace="0" rspace="0">′</mo>'


def total(index: str) -> str:
    """Σ with ``index`` under it."""
    return f"<munder><mo>∑</mo>{_name(index)}</munder>"


def matrix(rows: Sequence[Sequence[str] | None]) -> str:
    """A table of number strings (each an ``mn``, as written); a row None is a cut (``⋮`` in
    every column), an entry ``…`` a cut column (``⋯``). Its brackets are :data:`MATRIX_CSS`
    (a ``<mo>[</mo>`` only stretches where a font with a MATH table is installed)."""
    width = max((len(r) for r in rows if r is not None), default=0)
    cut = "<mtd><mo>⋮</mo></mtd>" * width
    body = "".join(
        "<mtr>" + (cut if r is None else "".join(
            "<mtd><mo>⋯</mo></mtd>" if c == "…" else f"<mtd>{_number_text(c)}</mtd>"
            for c in r)) + "</mtr>" for r in rows)
    return f"<mtable>{body}</mtable>"


_TICK = "linear-gradient(currentColor 0 0) {} / .3em 1px no-repeat"
MATRIX_CSS = (
    ".sg-layermath math{display:block;margin:.3em 0}"  # block math would centre, and clip
    ".sg-math:has(>.sg-layermath){max-height:20em}"  # a cut matrix is at most 8 rows
    ".sg-layermath mtable{border:solid;border-width:0 1px;padding:0 .25em;background:"
    + ",".join(_TICK.format(at) for at in ("0 0", "0 100%", "100% 0", "100% 100%")) + "}")
"""Style for the ``<math>`` elements in an element of class ``sg-layermath``: left-aligned
blocks that scroll when wide, each :func:`matrix` in square brackets drawn with CSS, and room
for a cut matrix in the stepper page's formula box."""


def _number_text(text: str) -> str:
    return f"<mn>{escape(text)}</mn>"


def step_mathml(step: Step, root: str = "L", html: bool = False) -> tuple[str, ...]:
    """Every edge of ``step`` as :func:`edge_mathml` writes it, in edge order."""
    return tuple(edge_mathml(step, k, root, html) for k in range(len(step.edges)))


def _dotted(name: str) -> str:
    """The tangent of the node called ``name``: the name with a dot accent over it."""
    return f'<mover accent="true">{_name(name)}<mo>˙</mo></mover>'


def tangent_mathml(trace: ForwardTrace, k: int, html: bool = False) -> str:
    """Step ``k`` (1-based) of a tangent pass as one ``<math display="block">``:
    ``ṅ = ∂n/∂a × ȧ + … = local × ṗ + … = products = ṅ``, the line
    :meth:`~autograd.forward_trace.ForwardTrace.equation` writes, then the parents that add
    no term."""
    s = trace.steps[k - 1]
    n, x = trace.name(s.node), trace.name(trace.wrt)
    terms = [e for e in s.edges if e.product is not None]
    plus = "<mo>+</mo>"
    parts = [_dotted(n), "<mo>=</mo>", plus.join(
        _fraction(_name(n), _name(trace.name(e.parent))) + "<mo>×</mo>"
        + _dotted(trace.name(e.parent)) for e in terms), "<mo>=</mo>",
        plus.join(_number(e.local) + "<mo>×</mo>" + _number(e.tangent) for e in terms)]
    if len(terms) > 1:
        parts += ["<mo>=</mo>", plus.join(_number(e.product) for e in terms)]
    parts += ["<mo>=</mo>", _number(s.tangent)]
    parts += [f'<mspace width="1em"/><mtext>({escape(printable(trace.name(e.parent)))} does '
              f"not depend on {escape(printable(x))}: no term)</mtext>"
              for e in s.edges if e.product is None]
    return f'<math{_xmlns(html)} display="block"><mrow>{"".join(parts)}</mrow></math>'
