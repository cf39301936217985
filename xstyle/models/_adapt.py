"""Make any image network an xstyle feature network: a copy that takes RGB in [0, 1].

:func:`adapt` copies the caller's module (it is never mutated), turns in-place activations off
in the copy (in-place ReLU/ReLU6 break several Captum methods and rewrite tapped outputs), and
gives the copy the network's input normalisation: ``(x - mean) / std`` before its own forward, so
every xstyle API keeps taking RGB images (N, 3, H, W) in [0, 1]. Layer names stay the module's
own ``named_modules()`` names.

:func:`probe_calls` runs one small forward pass and records each module call in execution order
with its output shape; :func:`default_layers` picks Gatys-like content and style layers from it.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["ModuleCall", "adapt", "default_layers", "probe_calls"]


class _Preprocessed:
    """Mixin put in front of a copied module's class: normalise, check, then the module's forward."""

    _xstyle_base: type[nn.Module]

    def forward(self, x: torch.Tensor, *args, **kwargs):
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"the network takes RGB images (N, 3, H, W) in [0, 1]; got {shape} "
                "(load files with xstyle.load_image, which converts grey and RGBA to RGB)."
            )
        mean, std = self.xstyle_mean, self.xstyle_std
        x = (x - mean.to(x.dtype)) / std.to(x.dtype)
        return self._xstyle_base.forward(self, x, *args, **kwargs)


@functools.cache
def _preprocessed_class(cls: type[nn.Module]) -> type[nn.Module]:
    return type(cls.__name__, (_Preprocessed, cls), {"__module__": cls.__module__, "_xstyle_base": cls})


def adapt(
    module: nn.Module,
    *,
    mean: Sequence[float],
    std: Sequence[float],
    copy_module: bool = True,
) -> nn.Module:
    """A copy of ``module`` that takes RGB (N, 3, H, W) in [0, 1], in eval mode, parameters frozen.

    Args:
        module: any ``nn.Module`` taking normalised images (not a TorchScript module).
        mean, std: per RGB channel on the [0, 1] scale; the copy computes ``(x - mean) / std``.
        copy_module: False adapts ``module`` itself (only for a module xstyle has just built).

    The copy keeps the module's class (a subclass of it), attributes and layer names; in-place
    activations (``inplace=True``) become out-of-place; ``mean``/``std`` are non-persistent
    buffers (``xstyle_mean``, ``xstyle_std``), so ``state_dict()`` keys do not change.
    """
    if isinstance(module, torch.jit.ScriptModule):
        raise ValueError(
            "network: a TorchScript module cannot be tapped by name (forward hooks do not run in "
            "scripted code); pass the Python nn.Module instead."
        )
    if not isinstance(module, nn.Module):
        raise TypeError(f"network must be a torch.nn.Module; got {type(module).__name__}.")
    net = copy.deepcopy(module) if copy_module else module
    for sub in net.modules():
        if getattr(sub, "inplace", False) is True:
            sub.inplace = False
    if not isinstance(net, _Preprocessed):
        net.__class__ = _preprocessed_class(type(net))
    param = next(net.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    for name, value in (("xstyle_mean", mean), ("xstyle_std", std)):
        tensor = torch.tensor([float(v) for v in value], dtype=torch.float32, device=device).view(1, 3, 1, 1)
        net.register_buffer(name, tensor, persistent=False)
    net.eval()
    net.requires_grad_(False)
    return net


@dataclass(frozen=True)
class ModuleCall:
    """One module call of a forward pass: its tap name, the module's class and output shape."""

    name: str
    kind: str
    shape: tuple[int, ...] | None
    leaf: bool


#: activation classes by name (torch's own are recognised by their module, others by these words)
_ACTIVATION_WORDS = ("relu", "swish", "silu", "gelu", "elu", "mish", "hardswish", "act", "sigmoid", "tanh")


def _is_activation(module: nn.Module) -> bool:
    cls = type(module)
    if any(c.__module__ == "torch.nn.modules.activation" for c in cls.__mro__[:-1]):
        return True
    return any(word in cls.__name__.lower() for word in _ACTIVATION_WORDS)


def probe_calls(model: nn.Module, *, size: int = 64) -> list[ModuleCall]:
    """Every module call of one forward pass of a (1, 3, size, size) grey image, in execution order.

    Modules that run more than once get per-call names ``"NAME:K"`` (as :class:`~xstyle.hooks.FeatureTap`
    takes them). Runs without gradients; no hook is left behind; the model's flags are unchanged.
    """
    from xstyle.hooks import device_of, frozen

    records: list[tuple[str, int, nn.Module, tuple[int, ...] | None]] = []
    counts: dict[str, int] = {}
    handles = []

    def make_hook(name: str):
        def hook(module, args, output):
            shape = tuple(output.shape) if isinstance(output, torch.Tensor) else None
            records.append((name, counts.get(name, 0), module, shape))
            counts[name] = counts.get(name, 0) + 1

        return hook

    try:
        for name, module in model.named_modules():
            if name:
                handles.append(module.register_forward_hook(make_hook(name)))
        x = torch.full((1, 3, size, size), 0.5, device=device_of(model))
        with frozen(model), torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return [
        ModuleCall(
            name=name if counts[name] == 1 else f"{name}:{call}",
            kind=type(module).__name__,
            shape=shape,
            leaf=next(module.children(), None) is None,
        )
        for name, call, module, shape in records
    ]


def default_layers(model: nn.Module, calls: Sequence[ModuleCall]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Gatys-like ``(content_layers, style_layers)`` from a probe's calls.

    The activation outputs (N, C, H, W) are grouped by resolution (in order of first appearance,
    1 x 1 maps left out); the style layers are
    the first activation of each of the first five groups (VGG19: ``relu1_1 .. relu5_1``), the
    content layer the second activation of the fourth group, or its first where it has one
    (VGG19: ``relu4_2``); with fewer groups, the deepest group's. Networks without activation
    modules fall back to every leaf module's 4-D output.
    """
    modules = dict(model.named_modules())
    from xstyle.hooks import split_call

    def usable(call: ModuleCall, *, act: bool) -> bool:
        if call.shape is None or len(call.shape) != 4 or not call.leaf:
            return False
        return not act or _is_activation(modules[split_call(call.name)[0]])

    picked = [c for c in calls if usable(c, act=True)] or [c for c in calls if usable(c, act=False)]
    if not picked:
        raise ValueError(
            "network: no layer outputs (N, C, H, W) feature maps, so there is nothing to take a Gram "
            "matrix of; name the layers (content_layers=, style_layers=)."
        )
    by_size: dict[tuple[int, ...], list[str]] = {}
    for call in picked:
        assert call.shape is not None
        by_size.setdefault(tuple(call.shape[-2:]), []).append(call.name)
    # resolutions in order of first appearance; 1 x 1 maps (squeeze-excitation gates) are no texture
    groups = [names for hw, names in by_size.items() if hw[0] * hw[1] > 1] or list(by_size.values())
    style = tuple(group[0] for group in groups[:5])
    content_group = groups[min(3, len(groups) - 1)]
    content = (content_group[1] if len(content_group) > 1 else content_group[0],)
    return content, style
