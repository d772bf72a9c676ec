"""Neural networks on top of ``autograd.Value``: layers, losses, optimizers, data, training.

Every public name is imported from ``nn`` itself (``nn.MLP``, ``nn.SGD``, ``nn.mse_loss``,
``nn.moons``, ``nn.fit``): that is the one way, and ``__all__`` lists exactly those names.
The submodules are where each name is defined (``nn.optim``, ``nn.losses``, ``nn.data``,
``nn.functional``, ``nn.init``); ``nn.optim.SGD`` is the same object as ``nn.SGD``, kept as
an alias for PyTorch habits (``torch.optim.SGD``), as is ``nn.functional.softmax``.

>>> from nn import MLP
>>> model = MLP(2, [16, 16, 1])          # micrograd's demo network: 337 parameters
>>> score = model([0.5, -1.0])           # one Value (the last layer has one neuron)
"""

import sys


def _check_engine() -> None:
    """Fail early and clearly when ``import autograd`` finds another package of that name."""
    try:
        import autograd
        from autograd.ops import Op  # noqa: F401
    except ImportError as err:
        where = getattr(sys.modules.get("autograd"), "__file__", None)
        raise ImportError(_shadowed(f"{where or 'no such package'} ({err})")) from None
    if not hasattr(autograd, "linear") or not hasattr(autograd, "Value"):
        raise ImportError(_shadowed(str(autograd.__file__)))


def _shadowed(found: str) -> str:
    return (
        "nn needs this project's scalar engine `autograd` (with autograd.Value, autograd.ops "
        f"and autograd.linear), but `import autograd` found {found}. HIPS autograd installs a "
        "package of the same name and the two overwrite each other's files, so uninstalling "
        "either one deletes files of the other. Reinstall cleanly with "
        "`pip uninstall -y autograd stepgrad && pip install stepgrad` (in a checkout: "
        "`pip install -e .`), or use a fresh virtual environment; keep HIPS autograd in an "
        "environment of its own."
    )


_check_engine()

from . import data, functional, init, losses, optim  # noqa: E402, F401 (where names live)
from .data import batches, digits, moons, standardize, train_test_split, xor  # noqa: E402
from .functional import log_softmax, softmax  # noqa: E402
from .io import load, save, to_torch  # noqa: E402
from .layers import MLP, Layer, Neuron  # noqa: E402
from .losses import (  # noqa: E402
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l1_penalty,
    l2_penalty,
    mse_loss,
)
from .module import Module  # noqa: E402
from .optim import (  # noqa: E402
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    ExponentialLR,
    LinearLR,
    RMSprop,
    StepLR,
)
from .record import Recording  # noqa: E402
from .train import (  # noqa: E402
    DivergenceError,
    History,
    TrainingInterrupted,
    evaluate,
    fit,
    predict,
)

__all__ = [
    "MLP",
    "SGD",
    "AdaGrad",
    "Adam",
    "AdamW",
    "DivergenceError",
    "ExponentialLR",
    "History",
    "Layer",
    "LinearLR",
    "Module",
    "Neuron",
    "RMSprop",
    "Recording",
    "StepLR",
    "TrainingInterrupted",
    "batches",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "digits",
    "evaluate",
    "fit",
    "hinge_loss",
    "l1_penalty",
    "l2_penalty",
    "load",
    "log_softmax",
    "moons",
    "mse_loss",
    "predict",
    "save",
    "softmax",
    "standardize",
    "to_torch",
    "train_test_split",
    "xor",
]
