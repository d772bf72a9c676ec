"""Numbers and node names as TeX and MathML show them, with the plain text's digits.

A number is written as the text views write it (:func:`autograd.trace.number_text`, six significant
digits), except that a zero never shows a sign: ``-0.0`` is ``0``.
"""

from __future__ import annotations

import re

from .trace import number_text

_TEX_SPECIAL = re.compile(r"([#$%&_{}])|(\\)|(~)|(\^)")
_EXPONENT = re.compile(r"^(-?[0-9.]+)e([+-])0*(\d+)$")


def tex_number(x: float) -> str:
    """``x`` in TeX with :func:`number_text`'s digits: ``1.5 \\times 10^{-7}``, ``\\infty``,
    ``\\mathrm{nan}``."""
    text = number_text(x)
    if text in ("inf", "-inf"):
        return text.replace("inf", r"\infty")
    if text == "nan":
        return r"\mathrm{nan}"
    match = _EXPONENT.match(text)
    if match:
        mantissa, sign, digits = match.groups()
        return rf"{mantissa} \times 10^{{{sign.replace('+', '')}{digits}}}"
    return text


def tex_factor(x: float) -> str:
    """:func:`tex_number`, in parentheses when negative (a factor or a later term)."""
    text = tex_number(x)
    return f"({text})" if text.startswith("-") else text


def tex_name(name: str) -> str:
    """A node name in TeX math: one character as itself, longer names upright
    (``\\mathrm{w1}``); TeX's special characters escaped."""
    escaped = _TEX_SPECIAL.sub(_escape, name)
    return escaped if len(name) == 1 else rf"\mathrm{{{escaped}}}"


def _escape(match: re.Match) -> str:
    special, backslash, tilde, caret = match.groups()
    if special:
        return "\\" + special
    if backslash:
        return r"\backslash{}"
    return r"\sim{}" if tilde else r"\hat{}"
