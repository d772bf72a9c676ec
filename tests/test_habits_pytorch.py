"""PyTorch habits on scalars, each test built from PyTorch's own snippets (its autograd
tutorial and the ``torch.autograd.grad`` reference); PyTorch itself is the oracle where it is
importable, the chain rule written with ``math`` elsewhere."""

from __future__ import annotations

import math

import pytest

import autograd
from autograd import Value, functional, grad


def tensors(torch, *xs: float):
    return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]


# ----------------------------------------------------------------- grad(..., allow_unused)
def test_an_unused_input_raises_as_in_torch_and_is_none_with_allow_unused():
    torch = pytest.importorskip("torch")
    ta, tb, tc = tensors(torch, 2.0, 3.0, 5.0)
    ty = ta * tb + ta.sin()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        torch.autograd.grad(ty, [ta, tc], retain_graph=True)
    t_ga, t_gc = torch.autograd.grad(ty, [ta, tc], allow_unused=True, retain_graph=True)
    t_zero = torch.autograd.grad(ty, [tc], materialize_grads=True)[0]

    a, b, c = Value(2.0, label="a"), Value(3.0, label="b"), Value(5.0, label="c")
    y = a * b + a.sin()
    with pytest.raises(ValueError, match=r"grad: inputs\[1\] = 5\.0 \(label 'c'\) was not used "
                                         r"to compute the outputs.*allow_unused=True"):
        grad(y, [a, c])
    ga, gc = grad(y, [a, c], allow_unused=True)
    assert t_gc is None and gc is None
    assert ga == t_ga.item() == 3.0 + math.cos(2.0)
    assert grad(y, [c], materialize_grads=True) == [t_zero.item()] == [0.0]
    (none,) = grad(y, [c], create_graph=True, allow_unused=True)
    assert none is None
    assert (a.grad, b.grad, c.grad) == (0.0, 0.0, 0.0)  # grad() writes no .grad


def test_the_refusal_comes_before_any_gradient_is_computed(monkeypatch):
    """Raised after the sort that finds the unused input, before one product is taken."""
    taken = []
    original = functional._product
    monkeypatch.setattr(functional, "_product", lambda g, local: taken.append(1) or original(
        g, local))
    x, unused = Value(0.5), Value(1.0)
    y = (x * x).tanh() * x
    with pytest.raises(ValueError, match=r"inputs\[0\] = 1\.0 was not used"):
        grad(y, [unused, x])
    assert taken == []
    assert grad(y, [x]) == [grad(lambda t: (t * t).tanh() * t)(0.5)]
    assert taken  # the pass itself does take products


def test_what_counts_as_used_follows_torch():
    """An output asked about itself is used; an interior node off the path and a leaf only
    read under no_grad are not."""
    torch = pytest.importorskip("torch")
    tx, tw, tu = tensors(torch, 0.7, -1.5, 4.0)
    th = tx * tw
    t_side = tx.exp()  # computed from x, but not on the way to the output
    with torch.no_grad():
        t_ng = tu * 2
    ty = th.tanh() + t_ng
    t_grads = torch.autograd.grad(ty, [ty, th, t_side, tu], allow_unused=True)

    x, w, u = Value(0.7, label="x"), Value(-1.5, label="w"), Value(4.0, label="u")
    h = x * w
    side = x.exp()
    with autograd.no_grad():
        ng = u * 2
    y = h.tanh() + ng
    grads = grad(y, [y, h, side, u], allow_unused=True)
    assert [g is None for g in grads] == [g is None for g in t_grads] == [False, False, True,
                                                                          True]
    assert grads[0] == 1.0 and math.isclose(grads[1], 1 - math.tanh(0.7 * -1.5) ** 2, rel_tol=1e-15)
    assert grads[:2] == pytest.approx([g.item() for g in t_grads[:2]], rel=1e-15)  # (libm ulps)
    with pytest.raises(ValueError, match=r"inputs\[2\] = 2\.01375270747047\d* was not used"):
        grad(y, [y, h, side])


def test_internal_callers_give_zero_for_an_unused_argument():
    """gradcheck, hvp (both modes), the function transforms: ∂f/∂b = 0 where f ignores b."""
    f = lambda a, b: a * a * a  # noqa: E731
    assert functional.grad(f, (0, 1))(2.0, 5.0) == (12.0, 0.0)
    assert functional.hvp(f, [2.0, 5.0], [1.0, 1.0]) == (12.0, 0.0)
    assert autograd.forward.hvp(f, [2.0, 5.0], [1.0, 1.0]) == (12.0, 0.0)
    assert autograd.gradcheck(f, [2.0, 5.0]).ok and autograd.gradcheck(f, [2.0, 5.0], order=2).ok
    assert autograd.check_nodes(f(Value(2.0), Value(5.0))).ok


def test_function_transforms_refuse_the_outputs_keywords():
    with pytest.raises(TypeError, match="allow_unused"):
        grad(lambda x: x, allow_unused=True)
    with pytest.raises(ValueError, match="materialize_grads=True needs allow_unused"):
        grad(Value(1.0), [Value(2.0)], allow_unused=False, materialize_grads=True)
