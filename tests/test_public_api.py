"""The public surface: what a learner imports from autograd, the extension API in
autograd.extend, and nn's namespaces."""

from __future__ import annotations

import builtins
import importlib

import autograd
import autograd.extend
import nn
from autograd import ops


def test_autograd_exports_what_a_learner_uses_and_no_extension_api():
    learner = {"Value", "no_grad", "backward_steps", "backward_trace", "explain", "step_through",
               "draw", "gradcheck", "check_nodes", "grad", "value_and_grad", "hessian",
               "detect_anomaly", "functional"}
    assert learner <= set(autograd.__all__)
    assert not {"Op", "declare", "apply", "Code", "Require"} & set(autograd.__all__)
    assert not set(autograd.__all__) & set(dir(builtins))
    assert callable(autograd.compile)  # an attribute, not in __all__ (the builtin's name)


def test_extend_is_the_extension_api():
    assert {"Op", "declare", "apply", "Code", "Require"} <= set(autograd.extend.__all__)
    assert autograd.extend.declare is ops.declare and autograd.extend.Code is ops.Code
    assert autograd.declare is autograd.extend.declare  # the old path still imports


def test_nn_namespaces_are_modules_with_the_top_level_names():
    for name, members in (("optim", ["SGD", "Adam", "AdamW", "RMSprop", "AdaGrad"]),
                          ("losses", ["mse_loss", "hinge_loss", "cross_entropy"]),
                          ("data", ["xor", "moons", "digits"])):
        module = importlib.import_module(f"nn.{name}")
        assert getattr(nn, name) is module
        for member in members:
            assert getattr(module, member) is getattr(nn, member), (name, member)
    from nn import MLP, Layer, Neuron  # micrograd's names

    assert issubclass(MLP, nn.Module) and issubclass(Layer, nn.Module)
    assert issubclass(Neuron, nn.Module)


def test_nn_has_one_way_to_each_name():
    """``__all__`` is the flat names; the submodules hold the same objects as aliases."""
    import types

    assert not [n for n in nn.__all__ if isinstance(getattr(nn, n), types.ModuleType)]
    for module in (nn.optim, nn.losses, nn.data, nn.functional):
        shared = set(nn.__all__) & set(vars(module))
        assert shared and all(getattr(module, n) is getattr(nn, n) for n in shared)
