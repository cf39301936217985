"""The registry of attribution methods: one named, frozen spec per Captum method.

Torch-free, so the CLI can list the methods in ``--help`` without importing torch. The engine
(:func:`xstyle.explain.attribution.engine.attribute`) reads a spec and nothing else to decide how to
call Captum: which class, whether it takes baselines, returns a convergence delta, integrates over
``n_steps``, needs input gradients, and which default keyword options it gets. A new method is one
:func:`register_method` call (the way zennit registers composites and Captum keeps one class per
method); the CLI's choices and the engine's checks follow from the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "METHOD_SPECS",
    "MethodSpec",
    "image_methods",
    "input_methods",
    "layer_methods",
    "register_method",
]


def _occlusion_window(shape: tuple[int, ...], kwargs: dict[str, Any]) -> None:
    """Occlusion's default window: an 8 x 8 grid of non-overlapping patches on images (N, C, H, W),
    one element at a time on other inputs."""
    if "sliding_window_shapes" in kwargs:
        return
    if len(shape) == 4:
        side = max(1, min(shape[-2:]) // 8)
        kwargs["sliding_window_shapes"] = (shape[1], side, side)
        kwargs.setdefault("strides", (shape[1], side, side))
    else:
        kwargs["sliding_window_shapes"] = (1,) * (len(shape) - 1)
    kwargs.setdefault("perturbations_per_eval", 16)


@dataclass(frozen=True)
class MethodSpec:
    """How to run one Captum method.

    Attributes:
        name: the name users pass (``method="ig"``).
        captum_class: the class in ``captum.attr``.
        kind: ``"input"`` (attributions have the inputs' shape) or ``"layer"`` (the layer output's).
        baselines: the method takes reference inputs.
        delta: the method returns Captum's convergence delta and it is a completeness check
            (sum of attributions minus the score difference).
        steps: the method integrates over ``n_steps`` interpolated inputs (batched by
            ``internal_batch_size``).
        needs_grad: the inputs need gradients (False for perturbation methods).
        baseline_distribution: the baselines are a distribution sampled from (GradientShap), so no
            single baseline score is recorded.
        piecewise_linear_only: the method's rules cover only piecewise-linear targets (DeepLift:
            no Gram products or squared errors); the engine asks the target (``deeplift_ok``).
        defaults: keyword options passed to Captum unless the caller gives them.
        recorded: the option names copied into the result's ``options``.
        prepare: ``f(input_shape, kwargs)`` filling shape-dependent defaults in place, or None.
    """

    name: str
    captum_class: str
    kind: Literal["input", "layer"]
    baselines: bool = False
    delta: bool = False
    steps: bool = False
    needs_grad: bool = True
    baseline_distribution: bool = False
    piecewise_linear_only: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)
    recorded: tuple[str, ...] = ()
    prepare: Callable[[tuple[int, ...], dict[str, Any]], None] | None = None


_REGISTRY: dict[str, MethodSpec] = {}

#: name -> spec, in registration order (read-only view of the registry)
METHOD_SPECS: Mapping[str, MethodSpec] = MappingProxyType(_REGISTRY)


def register_method(spec: MethodSpec, *, replace: bool = False) -> MethodSpec:
    """Add ``spec`` to the registry (``replace=True`` to redefine a name); returns it."""
    if not isinstance(spec, MethodSpec):
        raise TypeError(f"register_method takes a MethodSpec; got {type(spec).__name__}.")
    if spec.kind not in ("input", "layer"):
        raise ValueError(f"MethodSpec.kind must be 'input' or 'layer'; got {spec.kind!r}.")
    if spec.name in _REGISTRY and not replace:
        raise ValueError(f"attribution method {spec.name!r} is already registered; pass replace=True.")
    _REGISTRY[spec.name] = spec
    return spec


def input_methods() -> tuple[str, ...]:
    """Names of the methods whose attributions have the inputs' shape."""
    return tuple(n for n, s in _REGISTRY.items() if s.kind == "input")


def layer_methods() -> tuple[str, ...]:
    """Names of the methods that attribute to a layer's output."""
    return tuple(n for n, s in _REGISTRY.items() if s.kind == "layer")


def image_methods() -> tuple[str, ...]:
    """Input methods that serve any target, including the Gram-based style losses (pixel maps)."""
    return tuple(n for n, s in _REGISTRY.items() if s.kind == "input" and not s.piecewise_linear_only)


for _spec in (
    MethodSpec("ig", "IntegratedGradients", "input", baselines=True, delta=True, steps=True),
    MethodSpec("saliency", "Saliency", "input"),
    MethodSpec("input_x_gradient", "InputXGradient", "input"),
    # its delta is an expectation over random baselines, not a completeness check
    MethodSpec(
        "gradient_shap",
        "GradientShap",
        "input",
        baselines=True,
        baseline_distribution=True,
        defaults={"n_samples": 8, "stdevs": 0.0},
        recorded=("n_samples",),
    ),
    MethodSpec("deeplift", "DeepLift", "input", baselines=True, delta=True, piecewise_linear_only=True),
    MethodSpec(
        "occlusion",
        "Occlusion",
        "input",
        baselines=True,
        needs_grad=False,
        recorded=("sliding_window_shapes",),
        prepare=_occlusion_window,
    ),
    MethodSpec("layer_ig", "LayerIntegratedGradients", "layer", baselines=True, delta=True, steps=True),
    MethodSpec("layer_conductance", "LayerConductance", "layer", baselines=True, delta=True, steps=True),
    # per-channel maps: the channel dimension is kept
    MethodSpec("layer_gradcam", "LayerGradCam", "layer", defaults={"attr_dim_summation": False}),
):
    register_method(_spec)
del _spec
