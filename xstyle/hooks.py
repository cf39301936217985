"""Forward hooks that observe and edit named layers, and never outlive their ``with`` block.

Two context managers carry every observation and edit xstyle makes inside a network:

* :class:`FeatureTap` records the outputs of named layers (and can stop the forward pass once the
  deepest tapped layer has run, so the rest of the network costs nothing);
* :class:`Intervention` rewrites named layers' outputs per channel, ``y = x*(1-m) + v*m + b``,
  for ablations and causal tests.

Both register their hooks in ``__enter__`` and remove every handle in ``__exit__`` (also when the
forward pass raised), and never swallow an exception. The hook handling follows zennit's
``Composite.context`` and Captum's try/finally pattern.

:func:`frozen` is the same promise for the model's own state: eval mode and no parameter gradients
inside the block, and every submodule's ``training`` flag and parameter's ``requires_grad`` as the
caller left them afterwards (torchvision's ``feature_extraction`` restores the training flag the
same way).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType

import torch
from torch import nn

__all__ = [
    "FeatureTap",
    "Intervention",
    "StopForward",
    "assert_no_hooks",
    "device_of",
    "frozen",
    "list_layers",
    "resolve_layers",
]


class StopForward(Exception):
    """Raised inside a forward pass by :class:`FeatureTap` after its last tapped layer ran."""


def list_layers(model: nn.Module) -> list[str]:
    """Return the names of every submodule of ``model`` in registration order (``""`` excluded)."""
    return [name for name, _ in model.named_modules() if name]


def resolve_layers(model: nn.Module, layers: str | Iterable[str], *, param: str = "layers") -> list[str]:
    """Check that every name in ``layers`` is a submodule of ``model``; return them as a list.

    Raises:
        ValueError: naming the parameter, the bad name, close matches and where to find valid names.
    """
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ValueError(f"{param} must name at least one layer; got an empty list.")
    known = dict(model.named_modules())
    for name in names:
        if not isinstance(name, str) or not name or name not in known:
            # a model may know why a name is missing (VGG19Features: truncated before that layer)
            explain = getattr(model, "missing_layer_message", None)
            message = explain(name, param=param) if callable(explain) and isinstance(name, str) else None
            if message:
                raise ValueError(message)
            close = difflib.get_close_matches(str(name), [n for n in known if n], n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            what = "a layer name" if isinstance(layers, str) else "names"
            raise ValueError(f"{param} must be {what} from list_layers(model); got {name!r}.{hint}")
    return names


def assert_no_hooks(model: nn.Module) -> None:
    """Raise ``AssertionError`` if any submodule of ``model`` still carries a forward hook.

    A test helper: xstyle's public entry points promise to leave no hook behind.
    """
    for name, module in model.named_modules():
        hooks = (
            module._forward_hooks,
            module._forward_pre_hooks,
            module._backward_hooks,
            getattr(module, "_forward_hooks_with_kwargs", {}),
            getattr(module, "_forward_pre_hooks_with_kwargs", {}),
            getattr(module, "_backward_pre_hooks", {}),
        )
        if any(len(h) for h in hooks):
            raise AssertionError(f"module {name or '<root>'!r} still carries hooks")


def device_of(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (the CPU for a model without parameters)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """Eval mode and ``requires_grad=False`` for every parameter of ``modules`` inside the block.

    On exit, also when the block raises, each submodule gets back its own ``training`` flag (a
    caller may keep, say, dropout in train mode inside an otherwise evaluated model) and each
    parameter its own ``requires_grad``. Gradients with respect to inputs still flow.
    """
    for module in modules:
        if not isinstance(module, nn.Module):
            raise TypeError(f"frozen() takes torch.nn.Module objects; got {type(module).__name__}.")
    modes = [(m, m.training) for module in modules for m in module.modules()]
    flags = [(p, p.requires_grad) for module in modules for p in module.parameters()]
    try:
        for module in modules:
            module.eval()
        for p, _ in flags:
            p.requires_grad_(False)
        yield
    finally:
        for m, mode in modes:
            m.training = mode
        for p, flag in flags:
            p.requires_grad_(flag)


class _HookContext:
    """Shared handle bookkeeping: subclasses fill ``self._handles`` in ``_register``."""

    def __init__(self, model: nn.Module, layers: Sequence[str]) -> None:
        self.model = model
        self.layers = list(layers)
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def _register(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __enter__(self):
        if self._handles:
            raise RuntimeError(f"{type(self).__name__} is already active; it is not re-entrant.")
        modules = dict(self.model.named_modules())
        try:
            self._register_on(modules)
        except BaseException:
            self._remove()
            raise
        return self

    def _register_on(self, modules: Mapping[str, nn.Module]) -> None:  # pragma: no cover
        raise NotImplementedError

    def _remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self._remove()
        return False


class FeatureTap(_HookContext):
    """Record the outputs of named layers during forward passes.

    Example::

        with FeatureTap(vgg, ["relu1_1", "relu4_2"], stop_after_last=True) as tap:
            tap.run(image)            # image: (N, 3, H, W), RGB in [0, 1]
        feats = tap.features          # {"relu1_1": (N, 64, H, W), "relu4_2": (N, 512, H/8, W/8)}

    Args:
        model: any ``nn.Module``; layers are addressed by ``named_modules()`` names.
        layers: names of the layers to record (``list_layers(model)`` lists them).
        detach: store detached outputs (default) or keep them in the autograd graph.
        stop_after_last: raise :class:`StopForward` after the last tapped layer in execution
            order ran; :meth:`run` catches it, so layers after it cost nothing.

    The recorded tensors live in :attr:`features` (a dict, name -> tensor, replaced by each
    forward pass). Hooks are registered on ``__enter__`` and removed on ``__exit__``.
    """

    def __init__(
        self,
        model: nn.Module,
        layers: str | Iterable[str],
        *,
        detach: bool = True,
        stop_after_last: bool = False,
    ) -> None:
        super().__init__(model, resolve_layers(model, layers))
        self.detach = detach
        self.stop_after_last = stop_after_last
        self.features: dict[str, torch.Tensor] = {}

    def _register_on(self, modules: Mapping[str, nn.Module]) -> None:
        wanted = set(self.layers)

        def make_hook(name: str):
            def hook(module: nn.Module, args, output):
                self.features[name] = output.detach() if self.detach else output
                if self.stop_after_last and wanted.issubset(self.features):
                    raise StopForward
                return None

            return hook

        for name in self.layers:
            self._handles.append(modules[name].register_forward_hook(make_hook(name)))

    def run(self, *inputs: torch.Tensor, **kwargs) -> dict[str, torch.Tensor]:
        """Run ``model(*inputs, **kwargs)`` and return the recorded features (name -> tensor).

        With ``stop_after_last`` the pass ends early once every tapped layer has run.
        """
        if not self._handles:
            raise RuntimeError("FeatureTap.run() must be called inside its `with` block.")
        self.features = {}
        try:
            self.model(*inputs, **kwargs)
        except StopForward:
            pass
        missing = [n for n in self.layers if n not in self.features]
        if missing:
            raise RuntimeError(f"layers {missing} did not run during the forward pass.")
        return {name: self.features[name] for name in self.layers}


class Intervention(_HookContext):
    """Edit named layers' outputs per channel: ``y = x * (1 - m) + v * m + b``.

    ``edits`` maps a layer name to a dict with any of the keys ``mask`` (``m``), ``value``
    (``v``) and ``bias`` (``b``). Each is a scalar or a 1-D tensor with one entry per channel
    (dimension 1 of the layer's output), broadcast over the batch and spatial positions.
    ``m = 1, v = 0`` zero-ablates a channel; ``m = 1, v = mean`` mean-ablates it.

    Example::

        mask = torch.zeros(64); mask[[3, 7]] = 1
        with Intervention(vgg, {"relu1_1": {"mask": mask}}):
            out = vgg(image)
    """

    _KEYS = ("mask", "value", "bias")

    def __init__(self, model: nn.Module, edits: Mapping[str, Mapping[str, float | torch.Tensor]]) -> None:
        if not isinstance(edits, Mapping) or not edits:
            raise ValueError(
                f"edits must be a non-empty dict {{layer: {{'mask'|'value'|'bias': tensor}}}}; got {edits!r}."
            )
        super().__init__(model, resolve_layers(model, list(edits), param="edits"))
        self.edits: dict[str, dict[str, torch.Tensor]] = {}
        for name, spec in edits.items():
            unknown = set(spec) - set(self._KEYS)
            if unknown:
                raise ValueError(
                    f"edits[{name!r}] has unknown keys {sorted(unknown)}; allowed: {list(self._KEYS)}."
                )
            if "value" in spec and "mask" not in spec:
                raise ValueError(
                    f"edits[{name!r}] gives a 'value' without a 'mask': the value only replaces the "
                    "masked channels (y = x*(1-m) + v*m + b); add 'mask' (1 for the channels to set)."
                )
            self.edits[name] = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in spec.items()}
            for key, value in self.edits[name].items():
                if value.ndim > 1:
                    raise ValueError(
                        f"edits[{name!r}][{key!r}] must be a scalar or a 1-D per-channel tensor; "
                        f"got shape {tuple(value.shape)}."
                    )

    @staticmethod
    def _per_channel(value: torch.Tensor, output: torch.Tensor, name: str, key: str) -> torch.Tensor:
        value = value.to(device=output.device, dtype=output.dtype)
        if value.ndim == 0:
            return value
        if output.ndim < 2 or value.shape[0] != output.shape[1]:
            raise ValueError(
                f"edits[{name!r}][{key!r}] has {value.shape[0]} entries but layer {name!r} "
                f"outputs {output.shape[1] if output.ndim > 1 else 'no'} channels."
            )
        return value.view(1, -1, *([1] * (output.ndim - 2)))

    def _register_on(self, modules: Mapping[str, nn.Module]) -> None:
        def make_hook(name: str):
            spec = self.edits[name]

            def hook(module: nn.Module, args, output: torch.Tensor):
                y = output
                if "mask" in spec:
                    m = self._per_channel(spec["mask"], output, name, "mask")
                    v = self._per_channel(spec.get("value", torch.tensor(0.0)), output, name, "value")
                    y = y * (1 - m) + v * m
                if "bias" in spec:
                    y = y + self._per_channel(spec["bias"], output, name, "bias")
                return y

            return hook

        for name in self.layers:
            self._handles.append(modules[name].register_forward_hook(make_hook(name)))
