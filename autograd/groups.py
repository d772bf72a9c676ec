"""Which parameters belong together, for the viewers' ``collapse`` (one box per neuron).

A grouping maps each parameter (a leaf Value) to the dotted path of the module that holds
it, such as ``layers.1.neurons.0``; the viewers never read it from labels. Pass one as
``draw(..., groups=model.module_paths())`` (or to ``step_through``). With ``groups=None``
they use :func:`default_groups`: whatever the libraries that registered a provider with
:func:`register_groups` report (``nn`` reports the modules that named their parameters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from .value import Value

Groups = Mapping[Value, str]

_providers: list[Callable[[], Groups]] = []


def register_groups(provider: Callable[[], Groups]) -> None:
    """Have :func:`default_groups` ask ``provider()`` for {parameter: module path}."""
    if provider not in _providers:
        _providers.append(provider)


def merge_groups(groupings: Iterable[Groups]) -> dict[Value, str]:
    """The groupings as one; a parameter they place differently takes the longer path (the
    outer model's), then the first in sort order, so the result does not depend on order."""
    merged: dict[Value, str] = {}
    for groups in groupings:
        for p, path in groups.items():
            old = merged.get(p)
            if old is None or (-len(path), path) < (-len(old), old):
                merged[p] = path
    return merged


def default_groups() -> dict[Value, str]:
    """What every provider registered with :func:`register_groups` reports, merged."""
    return merge_groups(provider() for provider in _providers)


def check_groups(groups: object, where: str) -> Groups:
    """``groups`` if it is a mapping of Values to str (checked for the nodes in ``where``'s
    graph when used), else TypeError; None gives :func:`default_groups`."""
    if groups is None:
        return default_groups()
    if not isinstance(groups, Mapping):
        raise TypeError(f"{where}: groups must map parameters (Values) to module paths "
                        f"(str), such as model.module_paths(); got {type(groups).__name__}")
    return groups
