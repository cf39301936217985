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

Layers are named as ``named_modules()`` names them. A module that runs more than once in one forward
pass (torchvision's ResNet calls one ``relu`` module two or three times per block) is named per
call, ``"layer1.0.relu:0"``, ``"layer1.0.relu:1"`` (calls counted from 0 within each forward pass);
its plain name is refused with one line naming the per-call names, never silently resolved to one
call. :func:`list_calls` lists every call a forward pass makes, in execution order.
"""

from __future__ import annotations

import difflib
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType

import torch
from torch import nn

__all__ = [
    "CallProxy",
    "FeatureTap",
    "Intervention",
    "StopForward",
    "assert_no_hooks",
    "device_of",
    "frozen",
    "list_calls",
    "list_layers",
    "resolve_layers",
    "split_call",
]


class StopForward(Exception):
    """Raised inside a forward pass by :class:`FeatureTap` after its last tapped layer ran."""


def list_layers(model: nn.Module) -> list[str]:
    """Return the names of every submodule of ``model`` in registration order (``""`` excluded)."""
    return [name for name, _ in model.named_modules() if name]


def split_call(layer: str) -> tuple[str, int | None]:
    """``"layer1.0.relu:1"`` -> ``("layer1.0.relu", 1)``; a plain name -> ``(name, None)``."""
    name, sep, call = layer.rpartition(":")
    if sep and call.isdigit() and name:
        return name, int(call)
    return layer, None


def resolve_layers(model: nn.Module, layers: str | Iterable[str], *, param: str = "layers") -> list[str]:
    """Check that every name in ``layers`` is a submodule of ``model``; return them as a list.

    A name may carry a call index, ``"NAME:K"`` (the K-th call, from 0, of a module that runs more
    than once per forward pass); whether that call happens is checked when the model runs.

    Raises:
        ValueError: naming the parameter, the bad name, close matches and where to find valid names.
    """
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ValueError(f"{param} must name at least one layer; got an empty list.")
    known = dict(model.named_modules())
    for name in names:
        module_name = split_call(name)[0] if isinstance(name, str) else name
        if not isinstance(name, str) or not name or module_name not in known or not module_name:
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


#: module calls per forward pass, per model, learnt from a full pass (see FeatureTap.run)
_CALL_COUNTS: weakref.WeakKeyDictionary[nn.Module, dict[str, int]] = weakref.WeakKeyDictionary()


def list_calls(model: nn.Module, *inputs: torch.Tensor, **kwargs) -> list[str]:
    """Every module call of one forward pass ``model(*inputs, **kwargs)``, in execution order.

    A module that runs once appears under its name; one that runs ``n > 1`` times appears as
    ``"NAME:0"`` .. ``"NAME:n-1"``. Containers appear when their forward ends (after their
    children). Runs without gradients, in the model's current mode; no hook is left behind.
    """
    order: list[tuple[str, int]] = []
    counts: dict[str, int] = {}
    handles = []

    def make_hook(name: str):
        def hook(module, args, output):
            order.append((name, counts.get(name, 0)))
            counts[name] = counts.get(name, 0) + 1

        return hook

    try:
        for name, module in model.named_modules():
            if name:
                handles.append(module.register_forward_hook(make_hook(name)))
        with torch.no_grad():
            model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    _CALL_COUNTS[model] = dict(counts)
    return [name if counts[name] == 1 else f"{name}:{call}" for name, call in order]


def _runs_each_module_once(model: nn.Module) -> bool:
    """True for a flat ``nn.Sequential`` of distinct leaf modules (VGG19Features): no module can rerun."""
    if not isinstance(model, nn.Sequential):
        return False
    children = list(model.children())
    return len({id(c) for c in children}) == len(children) and all(
        next(c.children(), None) is None for c in children
    )


def _reused_message(name: str, count: int, *, param: str = "layers") -> str:
    return (
        f"{param}: layer {name!r} runs {count} times in one forward pass (a reused module, as "
        f"torchvision's ResNet reuses its 'relu'), so its output is ambiguous; name one call: "
        f"{name + ':0'!r} .. {f'{name}:{count - 1}'!r} (xstyle.hooks.list_calls lists them), or tap "
        "a graph node of torchvision's create_feature_extractor."
    )


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
        layers: names of the layers to record (``list_layers(model)`` lists them); a module that
            runs more than once per forward pass is named per call, ``"NAME:K"`` (K from 0).
        detach: store detached outputs (default) or keep them in the autograd graph.
        stop_after_last: raise :class:`StopForward` after the last tapped layer in execution
            order ran; :meth:`run` catches it, so layers after it cost nothing.

    The recorded tensors live in :attr:`features` (a dict, name -> tensor, replaced by each
    forward pass). Hooks are registered on ``__enter__`` and removed on ``__exit__``.

    :meth:`run` refuses, in one line, what would silently record the wrong tensor: the plain name
    of a module that runs more than once (with ``stop_after_last`` the first run on a model is a
    full pass that counts every module's calls, remembered for the model), and an output that
    the forward pass later changed in place (``out += identity`` on a tapped batch norm's output).
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
        self._calls: dict[str, int] = {}
        self._versions: dict[str, int] = {}
        self._stop = stop_after_last

    def _register_on(self, modules: Mapping[str, nn.Module]) -> None:
        wanted = set(self.layers)
        by_module: dict[str, list[tuple[str, int | None]]] = {}
        for layer in self.layers:
            name, call = split_call(layer)
            by_module.setdefault(name, []).append((layer, call))

        def make_hook(name: str, entries: list[tuple[str, int | None]]):
            def hook(module: nn.Module, args, output):
                call = self._calls.get(name, 0)
                self._calls[name] = call + 1
                for layer, want in entries:
                    if want == call or (want is None and call == 0):
                        self.features[layer] = output.detach() if self.detach else output
                        if isinstance(output, torch.Tensor):
                            self._versions[layer] = output._version
                if self._stop and wanted.issubset(self.features):
                    raise StopForward
                return None

            return hook

        def new_pass(module: nn.Module, args) -> None:
            self._calls.clear()  # calls are counted per forward pass of the whole model

        self._handles.append(self.model.register_forward_pre_hook(new_pass))
        for name, entries in by_module.items():
            self._handles.append(modules[name].register_forward_hook(make_hook(name, entries)))

    def _needs_count(self) -> bool:
        """Whether ``run`` must learn the model's call counts with a full pass first."""
        if not self.stop_after_last or self.model in _CALL_COUNTS or _runs_each_module_once(self.model):
            return False
        return any(split_call(layer)[1] is None for layer in self.layers)

    def run(self, *inputs: torch.Tensor, **kwargs) -> dict[str, torch.Tensor]:
        """Run ``model(*inputs, **kwargs)`` and return the recorded features (name -> tensor).

        With ``stop_after_last`` the pass ends early once every tapped layer has run.

        Raises:
            ValueError: a tapped plain name ran more than once, or a tapped output was changed in
                place later in the pass (one line each, naming the fix).
            RuntimeError: a tapped layer (or call) did not run.
        """
        if not self._handles:
            raise RuntimeError("FeatureTap.run() must be called inside its `with` block.")
        self.features, self._calls, self._versions = {}, {}, {}
        counting = self._needs_count()
        counts: dict[str, int] = {}
        extra = []
        if counting:  # one full pass that counts every module's calls (remembered per model)

            def make_counter(name: str):
                def count(module, args, output):
                    counts[name] = counts.get(name, 0) + 1

                return count

            extra = [m.register_forward_hook(make_counter(n)) for n, m in self.model.named_modules() if n]
        self._stop = self.stop_after_last and not counting
        try:
            self.model(*inputs, **kwargs)
        except StopForward:
            pass
        finally:
            for handle in extra:
                handle.remove()
            self._stop = self.stop_after_last
        if counting:
            _CALL_COUNTS[self.model] = counts
        known = _CALL_COUNTS.get(self.model, {}) if self.stop_after_last else {}
        for layer in self.layers:
            name, call = split_call(layer)
            runs = max(self._calls.get(name, 0), known.get(name, 0))
            if call is None and runs > 1:
                raise ValueError(_reused_message(name, runs))
            if layer not in self.features:
                if call is not None and runs:
                    raise RuntimeError(
                        f"layer {layer!r} did not run: {name!r} runs {runs} time(s) per forward pass "
                        f"(calls {name}:0 .. {name}:{runs - 1})."
                    )
                raise RuntimeError(f"layers {[layer]} did not run during the forward pass.")
            out = self.features[layer]
            if isinstance(out, torch.Tensor) and out._version != self._versions.get(layer, out._version):
                raise ValueError(
                    f"the output of layer {layer!r} was changed in place later in the forward pass "
                    "(e.g. `out += identity` or an in-place activation), so its recorded value would "
                    "be wrong; tap the layer whose output is final (e.g. the activation after it)."
                )
        return {name: self.features[name] for name in self.layers}


class Intervention(_HookContext):
    """Edit named layers' outputs per channel: ``y = x * (1 - m) + v * m + b``.

    ``edits`` maps a layer name to a dict with any of the keys ``mask`` (``m``), ``value``
    (``v``) and ``bias`` (``b``). Each is a scalar or a 1-D tensor with one entry per channel
    (dimension 1 of the layer's output), broadcast over the batch and spatial positions.
    ``m = 1, v = 0`` zero-ablates a channel; ``m = 1, v = mean`` mean-ablates it.

    A layer named per call, ``"NAME:K"``, is edited at its K-th call of each forward pass only; a
    plain name edits every call of its module.

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
        calls: dict[str, int] = {}

        def reset(module: nn.Module, args) -> None:
            calls.clear()  # calls are counted per forward pass of the whole model

        self._handles.append(self.model.register_forward_pre_hook(reset))

        def make_hook(layer: str):
            spec = self.edits[layer]
            name, want = split_call(layer)

            def hook(module: nn.Module, args, output: torch.Tensor):
                call = calls.get(layer, 0)
                calls[layer] = call + 1
                if want is not None and call != want:
                    return None
                y = output
                if "mask" in spec:
                    m = self._per_channel(spec["mask"], output, name, "mask")
                    v = self._per_channel(spec.get("value", torch.tensor(0.0)), output, name, "value")
                    y = y * (1 - m) + v * m
                if "bias" in spec:
                    y = y + self._per_channel(spec["bias"], output, name, "bias")
                return y

            return hook

        for layer in self.layers:
            self._handles.append(modules[split_call(layer)[0]].register_forward_hook(make_hook(layer)))


class CallProxy(_HookContext):
    """Route one call of a layer through :attr:`proxy`, a fresh ``nn.Identity``, inside the block.

    Hooks put on :attr:`proxy` (Captum's layer methods register theirs on the module they are
    given) then see exactly that call: ``"NAME:K"`` is the K-th call of each forward pass of
    ``model``, a plain name its only call. Whatever the proxy's hooks return becomes the layer's
    output. :meth:`check` raises the one-line per-call message when a plain-named module ran
    more than once in a forward pass (call it after a forward pass).
    """

    def __init__(self, model: nn.Module, layer: str) -> None:
        (name,) = resolve_layers(model, layer, param="layer")
        super().__init__(model, [name])
        self.proxy = nn.Identity()
        self.max_calls = 0

    def _register_on(self, modules: Mapping[str, nn.Module]) -> None:
        name, want = split_call(self.layers[0])
        calls = [0]

        def reset(module: nn.Module, args) -> None:
            calls[0] = 0

        def hook(module: nn.Module, args, output):
            call = calls[0]
            calls[0] += 1
            self.max_calls = max(self.max_calls, calls[0])
            return self.proxy(output) if call == (want or 0) else None

        self._handles.append(self.model.register_forward_pre_hook(reset))
        self._handles.append(modules[name].register_forward_hook(hook))

    def check(self) -> None:
        """Raise ValueError if the plain-named layer ran more than once per forward pass."""
        name, want = split_call(self.layers[0])
        if want is None and self.max_calls > 1:
            raise ValueError(_reused_message(name, self.max_calls, param="layer"))
