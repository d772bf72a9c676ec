"""The generated parts of ``value.py``: typed declarations and the built-in entries' methods.

Value gets its methods and operators from the op table when it is imported (see
:mod:`autograd.value`); a type checker or an editor reads the class body instead.
:func:`declarations` gives one ``ClassVar`` line per method and operator of the built-in
entries. :func:`methods` writes, for each built-in one- or two-operand entry, a plain function
that applies it: the entry's forward and local rule inlined as ordinary code where they are
lambdas of ``ops.py`` (read here, when generating, never when the engine runs), else called by
their public path (``ops.TANH.forward(x)``). ``python -m autograd ops --write`` puts both
blocks in ``value.py`` between their marker lines (a test fails when either is stale). Ops
declared at run time (``autograd.extend.declare``) get their methods all the same, as closures
over the entry, without a declaration.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
from collections.abc import Callable
from pathlib import Path
from types import CodeType

from . import ops, value
from .files import write_atomic
from .value import method_doc

BEGIN = "    # ---- generated from the op table by `python -m autograd ops --write`; do not edit"
END = "    # ---- end of the generated declarations"
METHODS_BEGIN = ("# ---- methods generated from ops.py by `python -m autograd ops --write`; "
                 "do not edit")
METHODS_END = "# ---- end of the generated methods"
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


# ---------------------------------------------------------------------- the methods
_TEMPLATE = {
    1: '''\
def {function}(self: Value) -> Value:
    """{doc}"""
    {x} = self.data
{check}    try:
        out = {forward}
        {locals} = {local}
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.{entry}, err, (self,)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = d
        node._b = None
        node.op = ops.{entry}
    else:
        node._a = node._b = node.op = None
    return node
''',
    2: '''\
def {function}(self: Value, other: Operand) -> Value:
    """{doc}"""
    if not isinstance(other, Value):
        other = _constant(other)
    {a} = self.data
    {b} = other.data
{check}    try:
        out = {forward}
        {locals} = {local}
    except (ArithmeticError, ValueError) as err:
        raise _failure(ops.{entry}, err, (self, other)) from None
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node._label = None
    if _enabled():
        node._a = self
        node._da = da
        node._b = other
        node._db = db
        node.op = ops.{entry}
    else:
        node._a = node._b = node.op = None
    return node
''',
}
"""A method as :func:`autograd.value._unary` and ``_binary`` make it at run time, with the
rules written in. ``d`` / ``da, db``: the local derivatives."""

_LOCALS = {1: ("d",), 2: ("da", "db")}
_TAKEN = {"self", "other", "out", "node", "err", "d", "da", "db"}  # the template's own names


def _entry_name(op: ops.Op) -> str | None:
    """The public name ``ops.py`` gives the entry (``ADD``), or None."""
    return next((k for k, v in vars(ops).items() if v is op and not k.startswith("_")), None)


def _lambda_node(fn: Callable, lambdas: list[ast.Lambda]) -> ast.Lambda | None:
    """The lambda of ``ops.py`` that compiled to ``fn``: one on ``fn``'s first line, with
    its parameters, whose code compiles to ``fn``'s instructions and names (several lambdas
    can share a line)."""
    code = getattr(fn, "__code__", None)
    if code is None or fn.__name__ != "<lambda>" or code.co_filename != ops.__file__:
        return None
    params = list(code.co_varnames[: code.co_argcount])
    return next((n for n in lambdas
                 if n.lineno == code.co_firstlineno and [a.arg for a in n.args.args] == params
                 and _compiled(n) == (code.co_code, code.co_names)), None)


def _compiled(node: ast.Lambda) -> tuple[bytes, tuple[str, ...]]:
    """The instructions and names the lambda ``node`` compiles to."""
    outer = compile(ast.Expression(body=node), ops.__file__, "eval")
    inner = next(c for c in outer.co_consts if isinstance(c, CodeType))
    return inner.co_code, inner.co_names


def _inlined(fn: Callable, names: tuple[str, ...], lambdas: list[ast.Lambda],
             taken: set[str]) -> ast.expr | None:
    """The body of the lambda ``fn`` over ``names`` (its parameters renamed), each other name
    it reads written as ``value.py`` reaches it (``ops.ratio``, a builtin); None when ``fn``
    is no plain lambda of ``ops.py`` or reads a name ``value.py`` cannot reach (a closure's,
    a private one, a builtin that ``taken`` shadows)."""
    node = _lambda_node(fn, lambdas)
    if node is None or fn.__closure__ or fn.__code__.co_argcount != len(names) or (
            node.args.vararg or node.args.kwarg or node.args.kwonlyargs or node.args.defaults):
        return None
    rename = dict(zip((a.arg for a in node.args.args), names))
    body = ast.parse(ast.unparse(node.body), mode="eval").body  # a copy to rename in
    for n in ast.walk(body):
        if isinstance(n, (ast.Lambda, ast.comprehension, ast.NamedExpr)):
            return None  # names of its own
        if not isinstance(n, ast.Name):
            continue
        if n.id in rename:
            n.id = rename[n.id]
        elif n.id in vars(ops):
            if n.id.startswith("_"):
                return None
            n.id = f"ops.{n.id}"
        elif not hasattr(builtins, n.id) or n.id in taken:
            return None
    return body


def _rule_call(op: ops.Op, entry: str, rule: str, args: str) -> str:
    """A call of a rule that is not inlined, by a public path: ``abs(x)`` for a builtin,
    ``ops.TANH.forward(x)`` otherwise."""
    fn = getattr(op, rule)
    name = getattr(fn, "__name__", "")
    if getattr(builtins, name, None) is fn:
        return f"{name}({args})"
    return f"ops.{entry}.{rule}({args})"


def _function_name(op: ops.Op) -> str:
    """The entry's name, with a trailing underscore where it would shadow a builtin."""
    return op.name + "_" if hasattr(builtins, op.name) or keyword.iskeyword(op.name) else op.name


def _method_source(op: ops.Op, entry: str, lambdas: list[ast.Lambda], taken: set[str]) -> str:
    """The source of the function that applies ``op`` to Values (see :data:`_TEMPLATE`)."""
    n = op.arity
    names = op.operands
    if _TAKEN & set(names):
        raise ValueError(f"{op.name}: operand names {names} clash with the template's")
    args = ", ".join(names)
    forward = _inlined(op.forward, names, lambdas, taken)
    local = _inlined(op.local, (*names, "out"), lambdas, taken)
    if isinstance(local, ast.Tuple) and len(local.elts) == n:
        local_text, targets = ", ".join(map(ast.unparse, local.elts)), ", ".join(_LOCALS[n])
    else:
        local_text = (ast.unparse(local) if local is not None
                      else _rule_call(op, entry, "local", f"{args}, out"))
        targets = "(d,)" if n == 1 else "da, db"
    doc = method_doc(op)
    if '"""' in doc or "\\" in doc:
        raise ValueError(f"{op.name}: its derivative text cannot go in a docstring: {doc!r}")
    operands = "(self,)" if n == 1 else "(self, other)"
    return _TEMPLATE[n].format(
        function=_function_name(op),
        doc=doc,
        x=names[0],
        a=names[0],
        b=names[-1],
        check=f"    ops.{entry}.check({operands}, ({args}{',' if n == 1 else ''}))\n"
        if op.requires else "",
        forward=ast.unparse(forward) if forward is not None
        else _rule_call(op, entry, "forward", args),
        locals=targets,
        local=local_text,
        entry=entry,
    )


def methods() -> str:
    """The block, marker lines included: one function per built-in one- or two-operand entry
    that ``ops.py`` names, and ``_GENERATED``, those functions by entry."""
    lambdas = [n for n in ast.walk(ast.parse(Path(ops.__file__).read_text(encoding="utf-8")))
               if isinstance(n, ast.Lambda)]
    generated = getattr(value, "_GENERATED", {})
    taken = {k for k, v in vars(value).items() if v not in generated.values()}
    functions, table = [], []
    for op in ops.OPS.values():
        entry = _entry_name(op)
        if op.builtin and op.arity in _TEMPLATE and entry is not None:
            functions.append(_method_source(op, entry, lambdas, taken))
            table.append(f"    ops.{entry}: {_function_name(op)},\n")
    return (METHODS_BEGIN + "\n" + "\n\n".join(functions) + "\n\n"
            + "_GENERATED: dict[Op, Callable[..., Value]] = {\n" + "".join(table) + "}\n"
            + '"""The functions above by entry (the entries\' methods and operators)."""\n'
            + METHODS_END + "\n")


# ---------------------------------------------------------------------- writing value.py
def _replaced(source: str, begin: str, end: str, block: str) -> str:
    start, stop = source.find(begin + "\n"), source.find(end + "\n")
    if start < 0 or stop < start:
        raise ValueError(f"{VALUE_PY}: the marker lines {begin!r} and {end!r} are missing")
    return source[:start] + block + source[stop + len(end) + 1 :]


def with_declarations(source: str) -> str:
    """``source`` (value.py's text) with the blocks between the markers replaced by
    :func:`declarations` and :func:`methods`; ValueError when the markers are missing."""
    source = _replaced(source, BEGIN, END, declarations())
    return _replaced(source, METHODS_BEGIN, METHODS_END, methods())


def write(path: Path = VALUE_PY) -> bool:
    """Bring the generated blocks in ``path`` up to date; whether the file changed."""
    source = path.read_text(encoding="utf-8")
    updated = with_declarations(source)
    if updated != source:
        write_atomic(path, updated.encode("utf-8"))
    return updated != source
