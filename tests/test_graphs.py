"""Random expression graphs: engine gradients vs sympy's exact gradients (and PyTorch)."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import given, settings

from autograd.testing import expression_graphs
from tests.oracles import close, sympy_form, torch_form


def sympy_gradients(graph):
    syms = sp.symbols(f"x0:{len(graph.inputs)}", real=True)
    out = graph.evaluate(syms, sympy_form)
    point = {s: sp.Float(x, 30) for s, x in zip(syms, graph.inputs)}
    value = float(sp.sympify(out).xreplace(point).evalf(30))
    grads = [float(sp.diff(out, s).xreplace(point).evalf(30)) for s in syms]
    return value, grads


@pytest.mark.once
@settings(max_examples=2000)
@given(expression_graphs())
def test_gradients_equal_sympy(graph):
    leaves, out = graph.build()
    out.backward()
    value, grads = sympy_gradients(graph)
    assert close(out.data, value, 1e-9)
    for leaf, exact in zip(leaves, grads):
        assert close(leaf.grad, exact, 1e-9), (leaf.label, leaf.grad, exact)


def test_gradients_equal_pytorch_float64():
    torch = pytest.importorskip("torch")

    def call(op, *args):
        return torch_form(torch, op, *args)

    @settings(max_examples=300)
    @given(expression_graphs())
    def check(graph):
        leaves, out = graph.build()
        out.backward()
        xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in graph.inputs]
        y = graph.evaluate(xs, call)
        if not y.requires_grad:  # output does not depend on inputs
            return
        y.backward()
        assert math.isclose(out.data, y.item(), rel_tol=1e-12, abs_tol=1e-12)
        for leaf, x in zip(leaves, xs):
            want = 0.0 if x.grad is None else x.grad.item()
            assert math.isclose(leaf.grad, want, rel_tol=1e-9, abs_tol=1e-12)

    check()
