"""User-declared ops go through the op table: they apply, step, check and differentiate."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import given, settings

from autograd import DomainError, Value, backward_steps, check_nodes, ops
from autograd.check import gradcheck
from autograd.extend import apply
from autograd.testing import expression_graphs, operands


@pytest.fixture
def declared(restore_op_table):
    """``ops.declare``, with what it declares taken out of the table afterwards."""
    return ops.declare


@pytest.fixture
def softsign(declared):
    return declared(
        "softsign",
        lambda x: x / (1 + abs(x)),
        lambda x, out: 1 / (1 + abs(x)) ** 2,
        derivative="1/(1 + |x|)²",
        safe=((-3.0, 3.0),),
    )


def test_softsign_is_in_the_table(softsign):
    assert ops.OPS["softsign"] is softsign and not softsign.builtin
    assert softsign.operands == ("x",) and softsign.symbol == "softsign"
    assert softsign.derivative == ("1/(1 + |x|)²",) and softsign.arity == 1


@pytest.mark.parametrize("x0", [-2.5, -0.3, 0.4, 1.7])
def test_softsign_matches_sympy_and_passes_gradcheck(softsign, x0):
    x = sp.Symbol("x", real=True)
    expr = x / (1 + sp.Abs(x)) * sp.tanh(x)
    v = Value(x0, label="v")
    y = apply(softsign, v) * v.tanh()
    y.backward()
    assert y.data == pytest.approx(float(expr.subs(x, x0)), rel=1e-12)
    assert v.grad == pytest.approx(float(sp.diff(expr, x).subs(x, x0)), rel=1e-12)
    assert gradcheck(lambda t: apply(softsign, t) * t.tanh(), [v]).ok


def test_softsign_steps_and_checks_like_a_builtin(softsign):
    x = Value(0.5, label="x")
    y = apply(softsign, x)
    y.label = "y"
    (step,) = list(backward_steps(y * 2.0))[1:]
    assert (step.node.op_name, step.node.symbol) == ("softsign", "softsign")
    assert step.edges[0].local == pytest.approx(1 / 1.5**2)
    assert check_nodes(y * 2.0).ok


def test_softsign_draws_like_a_builtin(softsign):
    draw = pytest.importorskip("autograd.drawing")
    y = apply(softsign, Value(0.5, label="x"))
    assert "softsign" in draw.draw(y).dot_source


def test_custom_op_in_generated_graphs(softsign):
    table = [softsign, ops.ADD, ops.MUL, ops.TANH]
    used = []

    @settings(max_examples=40)
    @given(expression_graphs(table=table))
    def check(g):
        used.extend(op for op, _ in g.steps if op is softsign)
        _, out = g.build()
        assert check_nodes(out).ok

    check()
    assert used


def test_operands_strategy_on_custom_op(declared):
    op = declared("logit", lambda p: math.log(p / (1 - p)), lambda p, out: 1 / (p * (1 - p)),
                  requires=(("0 < p < 1", lambda p: 0 < p < 1),), safe=((0.05, 0.95),))
    seen = []

    @settings(max_examples=30)
    @given(operands(op))
    def check(xs):
        seen.append(xs[0])
        assert gradcheck(lambda t: apply(op, t), [xs[0]]).ok

    check()
    assert seen and all(0.05 <= p <= 0.95 for p in seen)


def test_binary_custom_op_with_domain(declared):
    hypot = declared(
        "hypot",
        lambda a, b: math.sqrt(a * a + b * b),
        lambda a, b, out: (a / out, b / out),
        requires=(("a ≠ 0 or b ≠ 0", lambda a, b: a != 0 or b != 0),),
    )
    assert hypot.operands == ("a", "b") and len(hypot.safe) == 2
    a, b = Value(3.0, label="a"), Value(4.0, label="b")
    h = apply(hypot, a, b)
    h.backward()
    assert (h.data, a.grad, b.grad) == (5.0, 0.6, 0.8)
    assert gradcheck(lambda u, v: apply(hypot, u, v) * u, [a, b]).ok
    with pytest.raises(DomainError, match=r"hypot: needs a ≠ 0 or b ≠ 0.*label 'p'"):
        apply(hypot, Value(0.0, label="p"), 0.0)


def test_results_become_floats(declared):
    op = declared("floor_ish", lambda x: int(x), lambda x, out: 0)
    y = apply(op, Value(2.7))
    assert type(y.data) is float and y.data == 2.0 and y.local_grads == (0.0,)


def test_declare_rules(declared):
    declared("twice", lambda x: 2 * x, lambda x, out: 2.0)
    again = declared("twice", lambda x: 3 * x, lambda x, out: 3.0)  # a re-run notebook cell
    assert ops.OPS["twice"] is again and apply(again, Value(1.0)).data == 3.0
    with pytest.raises(ValueError, match="already declared"):
        ops.declare("tanh", math.tanh, lambda x, out: 1 - out * out)
    with pytest.raises(ValueError, match="1 or 2 operands"):
        ops.declare("three", lambda a, b, c: a, lambda a, b, c, out: (1, 0, 0))
    with pytest.raises(ValueError, match="derivative strings"):
        ops.declare("mismatch", lambda x: x, lambda x, out: 1.0, derivative=("1", "2"))


def test_a_name_value_uses_is_refused_and_nothing_changes(declared):
    before = dict(ops.OPS)
    for name in ("item", "backward", "data", "grad", "parents"):
        with pytest.raises(ValueError, match=f"would replace Value.{name}"):
            declared(name, lambda x: x, lambda x, out: 1.0)
    assert ops.OPS == before
    v = Value(2.0)
    assert v.item() == 2.0 and v.data == 2.0 and v.grad == 0.0 and v.parents == ()


def test_a_declared_op_is_a_method_at_once(declared):
    declared("cube", lambda x: x**3, lambda x, out: 3 * x**2)
    declared("hypot", lambda a, b: math.hypot(a, b), lambda a, b, out: (a / out, b / out))
    y = Value(2.0).cube()
    assert y.op is ops.OPS["cube"] and y.data == 8.0 and y.local_grads == (12.0,)
    h = Value(3.0).hypot(4.0)
    assert h.data == 5.0 and h.local_grads == (0.6, 0.8) and h.parents[1].data == 4.0


@pytest.mark.parametrize("name", ["soft sign", "2x", "x-y", "", "class", "lambda", "None", 3])
def test_a_name_that_is_no_identifier_is_refused_before_the_table_changes(declared, name):
    before, attributes = dict(ops.OPS), dict(vars(Value))
    with pytest.raises(ValueError, match="must be a Python identifier that is not a keyword") as e:
        declared(name, lambda x: x, lambda x, out: 1.0)
    assert repr(name) in str(e.value)
    assert ops.OPS == before and dict(vars(Value)) == attributes


def test_a_refused_replacement_keeps_the_earlier_op(declared):
    first = declared("twice", lambda x: 2 * x, lambda x, out: 2.0)
    method = Value.twice
    with pytest.raises(ValueError, match="1 or 2 operands"):
        declared("twice", lambda a, b, c: a, lambda a, b, c, out: (1, 0, 0))
    assert ops.OPS["twice"] is first and Value.twice is method
    assert Value(1.5).twice().data == 3.0


def test_the_method_runs_the_loaded_rule_not_the_file(declared, tmp_path, monkeypatch):
    """A module that declares an op is edited after import: the method keeps calling the
    functions that were loaded (it never reads the file again)."""
    marker = tmp_path / "ran"
    module = tmp_path / "myops.py"
    module.write_text("from autograd.extend import declare\n"
                      "op = declare('halve', lambda x: x / 2, lambda x, out: 0.5)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import myops  # noqa: F401

    module.write_text("from autograd.extend import declare\n"
                      f"op = declare('halve', lambda x: open({str(marker)!r}, 'w') and 7.0,\n"
                      "             lambda x, out: 0.25)\n")
    y = Value(3.0).halve()
    assert y.data == 1.5 and y.local_grads == (0.5,) and not marker.exists()
    monkeypatch.delitem(__import__("sys").modules, "myops")
