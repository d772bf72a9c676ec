"""Habits users bring from micrograd, PyTorch, JAX and HIPS autograd.

micrograd's lecture snippets below are written out from its API (``Value(data, _children,
_op, label)``, ``_prev``, ``_op``, ``_backward``); expected numbers come from the chain rule
written by hand with the ``math`` module.
"""

from __future__ import annotations

import math

import pytest

import autograd
from autograd import Value, backward_trace, explain, grad
from autograd import math as amath
from autograd.functional import hessian, value_and_grad


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# ---------------------------------------------------------------------------- micrograd
def lecture_neuron(activation=Value.tanh):
    """The lecture's neuron: o = tanh(x1·w1 + x2·w2 + b), or another ``activation`` of n."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = activation(n)
    o.label = "o"
    return (x1, x2, w1, w2, b), (x1w1, x2w2, x1w1x2w2, n, o)


def neuron_formula():
    """∂o/∂x1 etc. by hand: do/dn = 1 − tanh²(n), then the products of the weights."""
    n = 2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432
    dn = 1 - math.tanh(n) ** 2
    return {"x1": dn * -3.0, "x2": dn * 1.0, "w1": dn * 2.0, "w2": dn * 0.0, "b": dn}


def test_micrograd_constructor_with_children_and_op():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = Value(a.data * b.data, (a, b), "*", label="c")
    assert c.data == -6.0 and c.label == "c"
    assert c.parents == (a, b) and c._prev == {a, b} and c._op == "*"
    assert not c.is_leaf
    leaf = Value(1.5, (), "", "x")  # micrograd's positional order
    assert leaf.is_leaf and leaf.label == "x" and leaf._op == ""
    with pytest.raises(TypeError, match="children must be Values"):
        Value(1.0, (a, 2.0), "+")


def test_manual_backward_cell_by_cell_as_in_the_lecture():
    leaves, (x1w1, x2w2, x1w1x2w2, n, o) = lecture_neuron()
    o.grad = 1.0
    o._backward()
    assert close(n.grad, 1 - math.tanh(n.data) ** 2)
    assert leaves[0].grad == 0.0  # one node at a time: nothing further up moved yet
    n._backward()
    x1w1x2w2._backward()
    x2w2._backward()
    x1w1._backward()
    for leaf in leaves[:4]:
        leaf._backward()  # a leaf's _backward does nothing, as in micrograd
    expected = neuron_formula()
    for leaf in leaves:
        assert close(leaf.grad, expected[leaf.label]), leaf.label


def test_the_lecture_topological_sort_with_prev_and_backward():
    leaves, nodes = lecture_neuron()
    o = nodes[-1]
    topo, visited = [], set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(o)
    o.grad = 1.0
    for node in reversed(topo):
        node._backward()
    by_hand = {leaf.label: leaf.grad for leaf in leaves}
    for leaf in leaves:
        leaf.grad = 0.0
    o.backward()
    assert by_hand == {leaf.label: leaf.grad for leaf in leaves}
    expected = neuron_formula()
    assert all(close(by_hand[k], expected[k]) for k in expected)


def micrograd_exp(self: Value) -> Value:
    """exp written the micrograd way: a closure that pushes out.grad into self."""
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


def micrograd_mul(self: Value, other: Value) -> Value:
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


def test_a_micrograd_style_custom_op_is_run_by_backward():
    x, w = Value(0.5, label="x"), Value(-1.5, label="w")
    y = micrograd_exp(micrograd_mul(x, w)).tanh() * 3 + x  # mixed with built-in ops
    y.backward()
    # y = 3·tanh(e^(xw)) + x
    u = math.exp(0.5 * -1.5)
    dy_du = 3 * (1 - math.tanh(u) ** 2)
    assert close(x.grad, dy_du * u * -1.5 + 1)
    assert close(w.grad, dy_du * u * 0.5)
    # interior grads are recomputed on a second call, leaves accumulate (as for built-ins)
    y.backward()
    assert close(x.grad, 2 * (dy_du * u * -1.5 + 1)) and close(w.grad, 2 * dy_du * u * 0.5)


def test_a_closure_node_over_the_same_parent_twice():
    a = Value(3.0, label="a")
    sq = micrograd_mul(a, a)  # a·a: the closure adds both terms into a
    sq.backward()
    assert a.grad == 6.0
    assert sq.parents == (a, a)


def test_backward_refuses_a_closure_node_without_backward_before_writing():
    a, b = Value(2.0, label="a"), Value(5.0, label="b")
    a.grad, b.grad = 7.0, 9.0
    node = Value(a.data + b.data, (a, b), "+")
    out = (node * b).tanh()
    with pytest.raises(TypeError, match=r"has no local derivatives: assign a function to its "
                                        r"_backward"):
        out.backward()
    assert (a.grad, b.grad, out.grad, node.grad) == (7.0, 9.0, 0.0, 0.0)
    with pytest.raises(TypeError, match="_backward"):
        list(out.backward_steps())
    assert (a.grad, b.grad) == (7.0, 9.0)


def test_backward_is_assignable_only_on_closure_nodes():
    a = Value(2.0)
    with pytest.raises(AttributeError, match=r"only on a node made as Value\(data, children"):
        (a * a)._backward = lambda: None
    with pytest.raises(AttributeError):
        a._backward = lambda: None
    node = Value(4.0, (a,), "sq")
    with pytest.raises(TypeError, match="must be callable"):
        node._backward = 3


def test_closure_node_under_no_grad_records_nothing():
    a = Value(2.0)
    with autograd.no_grad():
        node = Value(4.0, (a,), "sq")
    assert node.is_leaf and node._op == ""


def test_drawing_a_closure_node_shows_its_edges_unlabelled():
    pytest.importorskip("graphviz")
    x = Value(0.5, label="x")
    e = micrograd_exp(x)
    y = e * 3
    y.label = "y"
    y.backward()
    before = (x.grad, e.grad, y.grad)
    d = autograd.draw(y)
    edges = [ln.strip() for ln in d.dot_source.splitlines() if "->" in ln]
    assert len(edges) == 3
    closure_edges = [ln for ln in edges if "label" not in ln]
    assert len(closure_edges) == 1  # x → exp has no local derivative to show
    assert sum(1 for ln in edges if "label=" in ln) == 2  # the × node's two edges
    assert 'label="exp|' in d.dot_source
    rows = {ln.split()[0]: ln for ln in d.table().splitlines()}
    assert rows["n2"].split()[2] == "exp" and rows["n2"].endswith("n0")  # no "×local"
    assert rows["n3"].endswith("n2 ×3, n1 ×1.649")
    assert "text/html" in d._repr_mimebundle_()  # displays (a picture or the table)
    assert (x.grad, e.grad, y.grad) == before


def test_trace_of_a_closure_node_records_what_backward_leaves_and_writes_nothing():
    def build():
        x = Value(0.5, label="x")
        e = micrograd_exp(x)
        e.label = "e"
        return x, e * 3

    x, y = build()
    y.backward()
    expected = x.grad
    x2, y2 = build()
    trace = backward_trace(y2)
    assert x2.grad == 0.0 and y2.grad == 0.0  # looking runs the closure on saved grads
    assert expected == 3 * math.exp(0.5)
    step = trace.step_of("e")
    (edge,) = step.edges
    assert edge.local is None and edge.added is None  # the closure records no local
    assert (edge.before, edge.after) == (0.0, expected)
    text = str(trace)
    assert "—" in text
    again = autograd.Trace.from_json(trace.to_json())
    assert again.step_of("e").edges[0].local is None


def test_higher_order_through_a_closure_node_is_a_clear_error():
    x = Value(0.5, label="x")
    y = micrograd_exp(x) * 3
    with pytest.raises(TypeError, match="has only a _backward closure"):
        grad(y, [x], create_graph=True)
    with pytest.raises(TypeError, match="has only a _backward closure"):
        grad(y, [x])
    y.backward()
    with pytest.raises(ValueError, match="records no local derivative"):
        explain(x, y)


def test_item_and_format_read_data():
    v = Value(2.0 / 3.0, label="v")
    assert v.item() == 2.0 / 3.0 and type(v.item()) is float
    assert format(v, ".4f") == "0.6667"
    assert f"{v:.2e}" == "6.67e-01"
    assert f"{v}" == repr(v) == str(v)


# ---------------------------------------------------------------------------- JAX, HIPS, torch
def test_grad_of_a_function_as_in_jax_and_hips_autograd():
    f = lambda x: x.sin() * x  # noqa: E731
    df = grad(f)
    assert callable(df)
    assert close(df(0.7), math.cos(0.7) * 0.7 + math.sin(0.7))
    d2f = grad(grad(f))  # f'' = 2cos x − x sin x
    assert close(d2f(0.7), 2 * math.cos(0.7) - 0.7 * math.sin(0.7))
    g = lambda x, y: x * x * y  # noqa: E731
    assert grad(g, 1)(3.0, 2.0) == 9.0
    assert grad(g, (0, 1))(3.0, 2.0) == (12.0, 9.0)


def test_grad_of_outputs_and_inputs_as_in_torch_still_works():
    x, y = Value(3.0), Value(2.0)
    z = x * x * y
    assert grad(z, [x, y]) == [12.0, 9.0]
    (gx,) = grad(z, x, create_graph=True)
    assert grad(gx, [x]) == [4.0]  # ∂(2xy)/∂x = 2y


def test_grad_tells_a_function_from_outputs():
    with pytest.raises(TypeError, match="takes no grad_outputs or create_graph"):
        grad(lambda x: x, create_graph=True)
    with pytest.raises(TypeError, match="inputs missing"):
        grad(Value(1.0))


def test_math_module_on_a_value_inside_grad_fails_loudly():
    with pytest.raises(TypeError, match=r"x\.exp\(\)"):
        grad(lambda x: math.exp(x))(1.0)
    with pytest.raises(TypeError, match="from autograd import math"):
        value_and_grad(lambda x: x * math.sin(x))(1.0)
    with pytest.raises(TypeError, match="no gradient would flow"):
        hessian(lambda x: float(x) * x)(1.0)
    with pytest.raises(TypeError):  # a Value passed in, or a closed-over one
        w = Value(2.0)
        grad(lambda x: x * math.exp(w))(w)


def test_float_of_a_value_works_outside_transforms_and_in_the_library():
    v = Value(1.25)
    assert float(v) == 1.25 and math.exp(Value(0.0)) == 1.0
    # the library's own rules read numbers with float() while a transform runs (1/x at
    # second order): d²/dx² 1/x = 2/x³
    assert grad(grad(lambda x: 1 / x))(2.0) == 0.25
    assert float(v) == 1.25  # and the guard is off again afterwards


def test_autograd_math_takes_floats_and_values():
    for name, rule in [("exp", math.exp), ("log", lambda t: 1 / t), ("sin", math.cos),
                       ("cos", lambda t: -math.sin(t)), ("tanh", lambda t: 1 - math.tanh(t) ** 2),
                       ("sqrt", lambda t: 0.5 / math.sqrt(t))]:
        f = getattr(amath, name)
        assert f(0.8) == getattr(math, name)(0.8)
        node = f(Value(0.8))
        assert isinstance(node, Value) and node.op.name == name
        assert close(grad(f)(0.8), rule(0.8)), name
    assert close(amath.sigmoid(0.3), 1 / (1 + math.exp(-0.3)))
    assert (amath.pi, amath.e, amath.tau) == (math.pi, math.e, math.tau)
    # the stdlib module's name is not dragged into `from autograd import *`
    assert "math" not in autograd.__all__
    with pytest.raises(AttributeError):
        amath.atan  # noqa: B018  not in the op table: a loud miss, not a silent constant


def test_changing_only_the_import_makes_a_math_function_differentiable():
    def f(x, m):
        return m.exp(-x) * m.sin(x)

    with pytest.raises(TypeError):
        grad(lambda x: f(x, math))(0.4)
    expected = math.exp(-0.4) * (math.cos(0.4) - math.sin(0.4))
    assert close(grad(lambda x: f(x, amath))(0.4), expected)


# ------------------------------------------------------------------------- HIPS autograd
def test_autograd_numpy_import_fails_and_points_at_math() -> None:
    """HIPS users write ``import autograd.numpy as np``; arrays are out of scope here."""
    with pytest.raises(ImportError, match=r"scalars only.*autograd\.math"):
        import autograd.numpy  # noqa: F401
    assert amath.exp(Value(1.0)).data == math.exp(1.0)


def test_pytorch_keywords_and_detach_retain_grad():
    """PyTorch's ``y.backward(retain_graph=True)`` twice, ``x.retain_grad()``, ``x.detach()``
    and ``torch.autograd.grad(..., retain_graph=True)``: the engine frees no graph, so the
    numbers are the usual ones (here d/dx x³ = 3x² at 2, twice accumulated on the leaf)."""
    import autograd

    x = Value(2.0, label="x")
    h = x * x
    assert h.retain_grad() is None
    y = h * x
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    assert x.grad == 2 * 3 * 2.0**2 and h.grad == 2.0
    (g,) = autograd.grad(y, [x], retain_graph=True)
    assert g == 12.0
    d = h.detach()
    assert d.data == 4.0 and d.label == h.label and d.is_leaf
    z = d * x
    z.backward()
    assert d.grad == 0.0 and h.grad == 2.0  # a constant: nothing flowed into it or through it


def test_hips_math_abs_and_top_level_jacobian():
    """HIPS: ``np.abs`` inside a differentiated function, ``from autograd import jacobian``."""
    import math as stdlib

    from autograd import grad, jacobian
    from autograd import math as amath

    f = lambda t: amath.abs(t) * amath.tanh(t)  # noqa: E731
    assert amath.abs(-1.5) == 1.5
    assert grad(f)(-0.7) == pytest.approx(-stdlib.tanh(-0.7) + 0.7 * (1 - stdlib.tanh(-0.7) ** 2),
                                          rel=1e-15)
    assert jacobian(lambda a, b: [a * b, a + b], (0, 1))(2.0, 3.0) == ((3.0, 2.0), (1.0, 1.0))
