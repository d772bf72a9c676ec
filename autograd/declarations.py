"""The typed declarations of Value's table methods, for mypy, editors and ``help``.

Value gets its methods and operators from the op table when it is imported (closures over
each entry, see :mod:`autograd.value`); a type checker or an editor reads the class body
instead. :func:`declarations` gives one ``ClassVar`` line per method and operator of the
built-in entries, and ``python -m autograd ops --write`` puts them in ``value.py`` between
the two marker lines (a test fails when the block there is stale). Ops declared at run time
(``autograd.extend.declare``) get their methods all the same, without a declaration.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from . import ops
from .files import write_atomic

BEGIN = "    # ---- generated from the op table by `python -m autograd ops --write`; do not edit"
END = "    # ---- end of the generated declarations"
VALUE_PY = Path(__file__).with_name("value.py")

_SIGNATURE = {1: "[Value]", 2: "[Value, Value | float]"}


def declarations() -> str:
    """The block, marker lines included: ``name: ClassVar[Callable[[Value, ...], Value]]`` for
    each method, operator and reflected operator of a built-in entry, and ``...`` parameters
    for a family's method (``x.leaky_relu(0.2)``)."""
    lines = [BEGIN]
    for op in ops.OPS.values():
        if not op.builtin or op.arity not in _SIGNATURE:
            continue
        names = [op.method] if op.method else []
        if op.operator:
            names.append(f"__{op.operator}__")
            if op.arity == 2:
                names.append(f"__r{op.operator}__")
        for name in names:
            lines.append(f"    {name}: ClassVar[Callable[{_SIGNATURE[op.arity]}, Value]]"
                         f"  # {op.name}; ∂: {'; '.join(op.derivative)}")
    for name, (factory, _) in ops.FAMILIES.items():
        if name not in ops.FAMILY_CONSTANT_OF:  # (a constant operand is its op's operator)
            params = ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}"
                               for p in inspect.signature(factory).parameters.values())
            lines.append(f"    {name}: ClassVar[Callable[..., Value]]  # x.{name}({params})")
    lines.append(END)
    return "\n".join(lines) + "\n"


def with_declarations(source: str) -> str:
    """``source`` (value.py's text) with the block between the markers replaced by
    :func:`declarations`; ValueError when the markers are missing."""
    start, end = source.find(BEGIN + "\n"), source.find(END + "\n")
    if start < 0 or end < start:
        raise ValueError(f"{VALUE_PY}: the marker lines of the generated declarations are "
                         "missing")
    return source[:start] + declarations() + source[end + len(END) + 1 :]


def write(path: Path = VALUE_PY) -> bool:
    """Bring the declarations in ``path`` up to date; whether the file changed."""
    source = path.read_text(encoding="utf-8")
    updated = with_declarations(source)
    if updated != source:
        write_atomic(path, updated.encode("utf-8"))
    return updated != source
