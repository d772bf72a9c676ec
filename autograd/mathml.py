"""A backward step's equations as presentation MathML, which browsers render natively.

``edge_mathml(step, k)`` writes the ``k``-th edge of a :class:`~autograd.trace.Step` as
``∂L/∂p += ∂L/∂n × ∂n/∂p = g × local = added   (p.grad before → after)``, the line that
:meth:`~autograd.trace.Step.equation` writes as text, from the step record itself: each
fraction an ``mfrac``, names ``mi`` (one character) or ``mtext``, numbers ``mn`` with the
text's digits (:func:`autograd.notation.number_text`). No script, font or request needed.
"""

from __future__ import annotations

from html import escape

from .files import printable
from .notation import number_text
from .trace import Step

MATHML_NS = "http://www.w3.org/1998/Math/MathML"


def _name(name: str) -> str:
    tag = "mi" if len(name) == 1 else "mtext"
    return f"<{tag}>{escape(printable(name))}</{tag}>"


def _partial(top: str, bottom: str) -> str:
    """∂top/∂bottom as a fraction."""
    return (f"<mfrac><mrow><mo>∂</mo>{_name(top)}</mrow>"
            f"<mrow><mo>∂</mo>{_name(bottom)}</mrow></mfrac>")


def _number(x: float | None) -> str:
    # None: a node made as Value(data, children, op) recorded no local derivative
    return "<mtext>—</mtext>" if x is None else f"<mn>{escape(number_text(x))}</mn>"


def edge_mathml(step: Step, k: int, root: str = "L") -> str:
    """Edge ``k`` of ``step`` as one ``<math display="block">`` element; ``root`` names the
    output (``L``). Labels are escaped (characters XML cannot carry as ``\\x00``), so any
    label gives well-formed XML."""
    n, e = step.node.name, step.edges[k]
    p = e.parent.name
    mo = "<mo>{}</mo>".format
    parts = [
        _partial(root, p), mo("+="), _partial(root, n), mo("×"), _partial(n, p), mo("="),
        _number(step.grad), mo("×"), _number(e.local), mo("="), _number(e.added),
        '<mspace width="1em"/>', "<mo>(</mo>", _name(p), "<mtext>.grad</mtext>",
        _number(e.before), mo("→"), _number(e.after), "<mo>)</mo>",
    ]
    return f'<math xmlns="{MATHML_NS}" display="block"><mrow>{"".join(parts)}</mrow></math>'


def step_mathml(step: Step, root: str = "L") -> tuple[str, ...]:
    """Every edge of ``step`` as :func:`edge_mathml` writes it, in edge order."""
    return tuple(edge_mathml(step, k, root) for k in range(len(step.edges)))
