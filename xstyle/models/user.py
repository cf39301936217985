"""The user's own network: ``package.module:callable`` or a local ``hubconf.py``, ``DIR:entry``.

``callable()`` (or the hub entry) is called without arguments and returns an ``nn.Module`` that takes
ImageNet-normalised RGB, or a :class:`~xstyle.models.registry.NetworkSpec` declaring its own
normalisation and layers. Importing and calling it runs the user's code, which is what naming it
asks for; a weights file (``weights=FILE``, ``--network-weights``) is only ever loaded with
``torch.load(weights_only=True)`` and checked key by key. xstyle works on a copy of the module.
"""

from __future__ import annotations

import importlib
from pathlib import Path

__all__ = ["user_spec"]

_FORM = "'package.module:callable' (importable) or 'DIR:entry' (a folder with hubconf.py)"


def _load(spec: str):
    from xstyle.models.registry import NetworkError

    where, _, entry = spec.rpartition(":")
    if not where or not entry.isidentifier():
        raise NetworkError(f"network {spec!r} is not of the form {_FORM}.")
    folder = Path(where).expanduser()
    if folder.is_dir():
        if not (folder / "hubconf.py").is_file():
            raise NetworkError(
                f"network {spec!r}: the folder {where!r} has no hubconf.py; the form is {_FORM}."
            )
        import torch

        try:
            return torch.hub.load(str(folder), entry, source="local")
        except Exception as exc:
            raise NetworkError(
                f"network {spec!r}: hubconf entry {entry!r} failed ({type(exc).__name__}: {exc})."
            ) from None
    try:
        module = importlib.import_module(where)
    except ImportError as exc:
        raise NetworkError(
            f"network {spec!r}: cannot import {where!r} ({exc}); the form is {_FORM}, with the module on "
            "the Python path."
        ) from None
    func = getattr(module, entry, None)
    if not callable(func):
        raise NetworkError(f"network {spec!r}: module {where!r} has no callable {entry!r}.")
    try:
        return func()
    except Exception as exc:
        raise NetworkError(
            f"network {spec!r}: {where}.{entry}() failed ({type(exc).__name__}: {exc})."
        ) from None


def user_spec(spec: str):
    """The :class:`~xstyle.models.registry.NetworkSpec` of the user's ``module:callable`` (called once)."""
    from dataclasses import replace

    from torch import nn

    from xstyle.models.registry import NetworkError, NetworkSpec, load_checked_state

    made = _load(spec)
    if isinstance(made, NetworkSpec):
        return replace(made, name=spec, family="user") if made.family != "vgg19" else made
    if not isinstance(made, nn.Module):
        raise NetworkError(
            f"network {spec!r} returned a {type(made).__name__}, not a torch.nn.Module or an xstyle "
            "NetworkSpec; return the network (e.g. torchvision.models.resnet18())."
        )

    def factory(*, weights: str | None = None, seed: int = 0):
        if weights == "random":
            raise NetworkError(
                f"network {spec!r}: weights='random' is for xstyle's own networks; your callable "
                "decides the initialisation (or give weights=FILE)."
            )
        if weights is not None:
            import copy

            module = copy.deepcopy(made)  # the user's module is never changed
            load_checked_state(module, weights, network=spec)
            return module
        return made

    return NetworkSpec(
        name=spec,
        family="user",
        factory=factory,
        description=f"the user's network {spec} ({type(made).__name__})",
    )
