"""PyTorch habits on scalars, each test built from PyTorch's own snippets (its autograd
tutorial and the ``torch.autograd.grad`` reference); PyTorch itself is the oracle where it is
importable, the chain rule written with ``math`` elsewhere."""

from __future__ import annotations

import math

import pytest

import autograd
import nn
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


# ----------------------------------------------------- grad_fn, requires_grad, constants
def tutorial_network(torch=None):
    """The tutorial's one-layer network, one output: z = x·w + b, BCE-with-logits against 0."""
    x, y = [1.0] * 5, 0.0
    ws = [0.3, -0.2, 0.5, 0.1, -0.4]
    if torch is not None:
        w = torch.tensor(ws, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(0.25, dtype=torch.float64, requires_grad=True)
        z = torch.matmul(torch.tensor(x, dtype=torch.float64), w) + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            z, torch.tensor(y, dtype=torch.float64))
        return w, b, z, loss
    from nn.losses import binary_cross_entropy_with_logits

    w = [Value(v, label=f"w{i}") for i, v in enumerate(ws)]
    b = Value(0.25, label="b")
    z = sum((xi * wi for xi, wi in zip(x, w)), b)
    loss = binary_cross_entropy_with_logits(z, y)
    return w, b, z, loss


def test_grad_fn_names_the_op_and_is_none_on_a_leaf():
    torch = pytest.importorskip("torch")
    tw, tb, tz, tloss = tutorial_network(torch)
    w, b, z, loss = tutorial_network()
    assert type(tz.grad_fn).__name__ == "AddBackward0" and tw.grad_fn is None
    assert z.grad_fn.name == "add" and z.grad_fn is z.op and b.grad_fn is None
    assert loss.grad_fn is not None and loss.grad_fn.name in autograd.ops.OPS
    tloss.backward()
    loss.backward()
    assert [v.grad for v in w] == pytest.approx(tw.grad.tolist(), rel=1e-15)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-15)
    # ∂L/∂b = σ(z) − y with z = Σw + b
    assert math.isclose(b.grad, 1 / (1 + math.exp(-(sum(v.data for v in w) + 0.25))),
                        rel_tol=1e-15)


def test_requires_grad_and_detach_as_in_the_tutorial():
    torch = pytest.importorskip("torch")
    tw, tb, tz, _ = tutorial_network(torch)
    w, b, z, _ = tutorial_network()
    assert z.requires_grad is tz.requires_grad is True
    assert w[0].requires_grad is tw.requires_grad is True
    z_det, tz_det = z.detach(), tz.detach()
    assert z_det.requires_grad is tz_det.requires_grad is False
    assert z_det.data == z.data and z_det.is_leaf and z_det.grad_fn is None


def test_exclusion_from_the_dag():
    """The tutorial: a = x + y of tensors that need no gradient does not require one,
    b = x + z does."""
    torch = pytest.importorskip("torch")
    tx, ty = torch.rand(()), torch.rand(())
    tz = torch.rand((), requires_grad=True)
    x, y = Value(0.2, requires_grad=False), Value(0.9, requires_grad=False)
    z = Value(0.4)
    assert (x + y).requires_grad is (tx + ty).requires_grad is False
    assert (x + z).requires_grad is (tx + tz).requires_grad is True
    assert ((x + y) * (x * y).exp()).requires_grad is False  # deeper, still constants only


def test_a_constant_leaf_keeps_its_grad_through_backward():
    """Value(x, requires_grad=False): backward and assignments leave its grad at 0.0; the
    others get the chain rule's numbers (here L = tanh(c·w) + c·w, c = 2, w = 0.3)."""
    c, w = Value(2.0, label="c", requires_grad=False), Value(0.3, label="w")
    loss = (c * w).tanh() + c * w
    assert (c * w).grad_fn.name == "mul" and loss.requires_grad and not c.requires_grad
    other = Value(2.0)
    assert other.requires_grad_(False) is other and not other.requires_grad
    loss.backward()
    loss.backward()  # leaves accumulate; the constant does not
    assert c.grad == 0.0 and type(c.grad) is float
    assert math.isclose(w.grad, 2 * (2.0 * (1 - math.tanh(0.6) ** 2) + 2.0), rel_tol=1e-15)
    c.grad = 5.0
    assert c.grad == 0.0
    assert "requires_grad=False" in repr(c) and "requires_grad" not in repr(w)
    # grad() still answers for it: a derivative is read, nothing is written
    assert grad(loss, [c]) == [pytest.approx(0.3 * (1 - math.tanh(0.6) ** 2) + 0.3, rel=1e-15)]
    # back to an ordinary leaf: grads flow again, from 0.0
    assert c.requires_grad_() is c and c.requires_grad and c.grad == 0.0
    loss.backward()
    assert math.isclose(c.grad, 0.3 * (1 - math.tanh(0.6) ** 2) + 0.3, rel_tol=1e-15)


def test_freezing_parameters_by_assignment_as_in_the_finetuning_tutorial():
    """``for p in model.parameters(): p.requires_grad = False``, then unfreeze the last
    layer: backward leaves the frozen grads at 0.0 and gives the last layer the numbers an
    unfrozen copy of the model gets."""
    import copy

    from nn import MLP

    model = MLP(2, [3, 1], rng=7)
    twin = copy.deepcopy(model)
    for param in model.parameters():
        param.requires_grad = False
    for param in model.layers[-1].parameters():
        param.requires_grad = True
    model([0.5, -1.5]).backward()
    twin([0.5, -1.5]).backward()
    frozen = model.layers[0].parameters()
    assert all(p.grad == 0.0 and not p.requires_grad for p in frozen)
    assert any(p.grad != 0.0 for p in twin.layers[0].parameters())
    assert [p.grad for p in model.layers[-1].parameters()] == [
        p.grad for p in twin.layers[-1].parameters()]


def test_only_a_leaf_changes_its_flag():
    x = Value(1.5, label="x")
    h = x * x
    h.label = "h"
    assert h.requires_grad_(True) is h  # already true: nothing to change, as in PyTorch
    with pytest.raises(ValueError, match=r"requires_grad_\(False\) on Value\(data=2\.25.*"
                                         r"label='h'\), made by Op\('mul'\).*detach\(\)"):
        h.requires_grad_(False)
    assert h.requires_grad and x.requires_grad and type(h) is Value

    class Mine(Value):  # a user's subclass keeps its class
        __slots__ = ()

    mine = Mine(2.0)
    assert mine.requires_grad_(True) is mine
    with pytest.raises(ValueError, match=r"Mine: only a Value leaf's flag changes"):
        mine.requires_grad_(False)
    assert type(mine) is Mine and mine.requires_grad


def test_constants_cost_ordinary_nodes_nothing():
    """The flag lives in the class of the few constant leaves: a Value and a constant are
    the same size, and a constant adds no slot."""
    import sys

    from autograd.value import Constant

    assert Constant.__slots__ == () and Constant.__mro__[1] is Value
    assert sys.getsizeof(Value(1.0, requires_grad=False)) == sys.getsizeof(Value(1.0))
    assert type(Value(1.0) * 2) is Value


@pytest.mark.parametrize("make", [
    lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda ps: nn.Adam(ps, lr=0.1, weight_decay=0.1),
    lambda ps: nn.AdamW(ps, lr=0.1),
    lambda ps: nn.AdaGrad(ps, lr=0.1, weight_decay=0.1),
    lambda ps: nn.RMSprop(ps, lr=0.1, weight_decay=0.1),
], ids=["SGD", "Adam", "AdamW", "AdaGrad", "RMSprop"])
def test_an_optimizer_leaves_a_frozen_parameter_alone(make):
    """As torch.optim skips a parameter whose grad is None: a frozen parameter moves neither
    by weight decay nor by momentum built up before it was frozen, and the others move as
    under an optimizer that never held it."""
    def run(freeze_at: int | None) -> tuple[list[str], list[float]]:
        model = nn.MLP(2, [3, 1], rng=0)
        ps = model.parameters()
        opt = make(ps[1:] if freeze_at is None else ps)  # None: the optimizer never holds it
        track = []
        for step in range(6):
            if step == freeze_at:
                ps[0].requires_grad = False
            opt.zero_grad()
            ((model([0.5, -1.5]) - 1.0) ** 2).backward()
            opt.step()
            track.append(ps[0].data)
        return [repr(p.data) for p in ps[1:]], track

    start = nn.MLP(2, [3, 1], rng=0).parameters()[0].data
    others, track = run(freeze_at=0)
    assert track == [start] * 6
    assert others == run(freeze_at=None)[0]
    _, track = run(freeze_at=3)
    assert len(set(track[:3])) == 3 and start not in track  # it moved for three steps
    assert track[3:] == [track[2]] * 3  # then stayed, momentum and decay notwithstanding
