"""One adapter over Captum: ``attribute(target, inputs, method=...)`` -> :class:`AttributionResult`.

Any :class:`~xstyle.explain.attribution.targets.Target` (or any ``f(inputs) -> (N,)`` module)
can be explained by every method below. While Captum runs, the target's networks are put in eval
mode with frozen parameters (no dropout noise, no weight gradients) and restored afterwards,
whatever happens; all randomness (GradientShap, NoiseTunnel, noise baselines) comes from ``seed``
and leaves the global RNGs of torch and NumPy untouched.

Input methods (attributions have the inputs' shape):
``ig`` (IntegratedGradients), ``saliency``, ``input_x_gradient``, ``gradient_shap``, ``deeplift``
(targets whose non-linearities DeepLift covers), ``occlusion``.
Layer methods (attributions have the layer output's shape, (N, C, H, W); sum over H, W for channel
scores): ``layer_ig`` (LayerIntegratedGradients), ``layer_conductance``, ``layer_gradcam``
(per-channel maps, ``attr_dim_summation=False``).
``noise_tunnel="smoothgrad" | "smoothgrad_sq" | "vargrad"`` wraps any input method in Captum's NoiseTunnel.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from xstyle._attribution_methods import (
    METHOD_SPECS,
    MethodSpec,
    input_methods,
    layer_methods,
    register_method,
)
from xstyle._checks import check_int, check_seed
from xstyle.hooks import CallProxy, frozen
from xstyle.rng import RandomStream

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from xstyle.explain.attribution.plots import AttributionDisplay

__all__ = [
    "INPUT_METHODS",
    "LAYER_METHODS",
    "METHODS",
    "METHOD_SPECS",
    "AttributionResult",
    "MethodSpec",
    "attribute",
    "input_methods",
    "layer_methods",
    "make_baseline",
    "register_method",
]

#: the built-in method names when this module loaded (the registry, :data:`METHOD_SPECS`, is the
#: source of truth: methods registered later are accepted too)
INPUT_METHODS: tuple[str, ...] = input_methods()
LAYER_METHODS: tuple[str, ...] = layer_methods()
METHODS: tuple[str, ...] = (*INPUT_METHODS, *LAYER_METHODS)
NOISE_TUNNELS = ("smoothgrad", "smoothgrad_sq", "vargrad")
BASELINES = ("blur", "black", "mean", "noise", "zeros")

#: default number of interpolated inputs per forward/backward pass: memory grows about linearly with
#: it while speed barely changes on a CPU (see benchmarks/bench_attribution.py)
DEFAULT_INTERNAL_BATCH_SIZE = 4


@dataclass(frozen=True, eq=False)
class AttributionResult:
    """Attributions of one target by one method.

    Attributes:
        attributions: the inputs' shape (N, ...) for input methods, the layer output's shape for
            layer methods (N, C, H, W). Signed; in units of the target's score.
        method: the method name (see :data:`METHODS`).
        target: the target's label.
        layer: the layer name for layer methods, else None.
        options: the method options used (n_steps, internal_batch_size, noise tunnel, ...).
        scores: (N,) the target at the inputs.
        baseline_scores: (N,) the target at the baselines (methods with baselines), else None.
        delta: (N,) Captum's convergence delta (sum of attributions minus the score difference) for
            methods that have one, else None.
        seconds: wall time of the Captum call.
    """

    attributions: torch.Tensor
    method: str
    target: str
    layer: str | None
    options: dict[str, Any]
    scores: torch.Tensor
    baseline_scores: torch.Tensor | None = None
    delta: torch.Tensor | None = None
    seconds: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)

    def completeness(self) -> float | None:
        """IG completeness error: max |sum(attr) - (f(x) - f(b))| / max |f(x) - f(b)| (None if n/a)."""
        if self.delta is None or self.baseline_scores is None:
            return None
        gap = (self.scores - self.baseline_scores).abs().max().item()
        return float(self.delta.abs().max().item() / max(gap, 1e-30))

    def maps(self) -> torch.Tensor:
        """Per-position maps (N, H, W): attributions summed over the channel dimension."""
        a = self.attributions
        if a.ndim != 4:
            raise ValueError(f"maps() needs (N, C, H, W) attributions; these have shape {tuple(a.shape)}.")
        return a.sum(1)

    def channel_scores(self) -> torch.Tensor:
        """(N, C): attributions summed over positions (for layer methods: one score per channel)."""
        a = self.attributions
        return a.flatten(2).sum(-1) if a.ndim > 2 else a

    def to_dict(self) -> dict[str, Any]:
        """JSON-able numbers (no tensors but the per-sample scores)."""
        return {
            "method": self.method,
            "target": self.target,
            "layer": self.layer,
            "options": {k: v for k, v in self.options.items() if isinstance(v, int | float | str | None)},
            "scores": self.scores.tolist(),
            "baseline_scores": None if self.baseline_scores is None else self.baseline_scores.tolist(),
            "delta": None if self.delta is None else self.delta.tolist(),
            "completeness_error": self.completeness(),
            "seconds": self.seconds,
            "shape": list(self.attributions.shape),
        }

    def plot(
        self, *, ax: Axes | None = None, image: torch.Tensor | None = None, index: int = 0, **kwargs
    ) -> AttributionDisplay:
        """Draw sample ``index``'s map (over ``image`` if given); returns an AttributionDisplay."""
        from xstyle.explain.attribution.plots import AttributionDisplay

        return AttributionDisplay.from_result(self, image=image, index=index).plot(ax=ax, **kwargs)


def make_baseline(
    inputs: torch.Tensor, *, kind: str = "blur", sigma: float | None = None, seed: int = 0
) -> torch.Tensor:
    """A reference input for attribution methods, same shape as ``inputs`` (N, C, H, W).

    ``"blur"``: a Gaussian blur of the inputs (sigma default min(H, W) / 16): keeps colours and layout,
    removes texture and edges, so attributions show what the detail contributes. ``"black"``: zeros
    (black for images in [0, 1]). ``"zeros"``: the same (for latents or [-1, 1] digits use ``"black"``
    only if zero means "nothing"). ``"mean"``: each sample's per-channel mean colour. ``"noise"``:
    uniform noise in [0, 1] from ``seed``.
    """
    if kind not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES} or a tensor; got {kind!r}.")
    if kind in ("black", "zeros"):
        return torch.zeros_like(inputs)
    if kind == "noise":
        gen = torch.Generator().manual_seed(check_seed(seed))
        return torch.rand(inputs.shape, generator=gen, dtype=inputs.dtype).to(inputs.device)
    if inputs.ndim != 4:
        raise ValueError(f"baseline {kind!r} needs image inputs (N, C, H, W); got {tuple(inputs.shape)}.")
    if kind == "mean":
        return inputs.mean(dim=(2, 3), keepdim=True).expand_as(inputs).clone()
    from torchvision.transforms.functional import gaussian_blur

    s = float(sigma) if sigma is not None else min(inputs.shape[-2:]) / 16
    if not s > 0:
        raise ValueError(f"sigma must be > 0; got {sigma!r}.")
    kernel = min(2 * round(3 * s) + 1, 2 * (min(inputs.shape[-2:]) // 2) - 1)
    return gaussian_blur(inputs, kernel_size=[kernel, kernel], sigma=[s, s])


@contextmanager
def _numpy_seed(seed: int) -> Iterator[None]:
    """Seed NumPy's global RNG (Captum's GradientShap draws from it) and restore it afterwards."""
    import numpy as np

    state = np.random.get_state()
    try:
        np.random.seed(seed % 2**32)
        yield
    finally:
        np.random.set_state(state)


def _networks_of(target: Callable) -> list[nn.Module]:
    if hasattr(target, "networks"):
        return list(target.networks())
    return [target] if isinstance(target, nn.Module) else []


def _resolve_baselines(baselines: Any, inputs: torch.Tensor, seed: int) -> torch.Tensor:
    if baselines is None:
        baselines = "blur" if inputs.ndim == 4 and inputs.shape[1] == 3 else "zeros"
    if isinstance(baselines, str):
        return make_baseline(inputs, kind=baselines, seed=seed)
    if not isinstance(baselines, torch.Tensor):
        raise TypeError(f"baselines must be a name {BASELINES} or a tensor; got {type(baselines).__name__}.")
    if baselines.shape != inputs.shape and baselines.shape != (1, *inputs.shape[1:]):
        raise ValueError(
            f"baselines must have the inputs' shape {tuple(inputs.shape)} or (1, ...); "
            f"got {tuple(baselines.shape)}."
        )
    return baselines.to(inputs.dtype).expand_as(inputs).clone()


def _check_method(method: str, layer: str | None, noise_tunnel: str | None) -> MethodSpec:
    spec = METHOD_SPECS.get(method) if isinstance(method, str) else None
    if spec is None:
        raise ValueError(f"method must be one of {', '.join(METHOD_SPECS)}; got {method!r}.")
    if spec.kind == "layer" and layer is None:
        raise ValueError(f"method {method!r} attributes to a layer: pass layer='relu3_1' (for example).")
    if spec.kind == "input" and layer is not None:
        raise ValueError(
            f"layer is only used by the layer methods {layer_methods()}; method {method!r} "
            "attributes to the inputs."
        )
    if noise_tunnel is not None:
        if noise_tunnel not in NOISE_TUNNELS:
            raise ValueError(f"noise_tunnel must be one of {NOISE_TUNNELS} or None; got {noise_tunnel!r}.")
        if spec.kind == "layer":
            raise ValueError("noise_tunnel wraps input methods only; use an input method such as 'ig'.")
    return spec


def attribute(
    target: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    *,
    method: str = "ig",
    baselines: str | torch.Tensor | None = None,
    layer: str | None = None,
    n_steps: int = 32,
    internal_batch_size: int | None = DEFAULT_INTERNAL_BATCH_SIZE,
    noise_tunnel: str | None = None,
    nt_samples: int = 8,
    nt_stdevs: float = 0.1,
    seed: int = 0,
    **method_options: Any,
) -> AttributionResult:
    """Explain ``target(inputs) -> (N,)`` with a Captum method.

    Args:
        target: a :class:`~xstyle.explain.attribution.targets.Target` (or any module/function returning (N,)).
        inputs: (N, ...) inputs; images (N, 3, H, W) in [0, 1], digits (N, 1, 28, 28) in [-1, 1]
            or latents (N, latent_dim).
        method: one of :data:`METHODS`.
        baselines: for methods with baselines: a name (see :func:`make_baseline`; default ``"blur"``
            for RGB images, ``"zeros"`` otherwise) or a tensor of the inputs' shape.
        layer: the layer of ``target.model`` for layer methods (e.g. ``"relu3_1"``).
        n_steps: integration steps (ig, layer_ig, layer_conductance).
        internal_batch_size: interpolated inputs per pass; bounds memory (None: all at once).
        noise_tunnel: wrap an input method in NoiseTunnel (``"smoothgrad"``, ...), with
            ``nt_samples`` noisy copies of standard deviation ``nt_stdevs``.
        seed: seeds GradientShap, NoiseTunnel and noise baselines (the global RNG is restored).
        method_options: passed to Captum's ``attribute`` (e.g. ``sliding_window_shapes`` for
            occlusion, ``n_samples`` for gradient_shap).
    """
    import captum.attr as ca

    spec = _check_method(method, layer, noise_tunnel)
    if not isinstance(inputs, torch.Tensor) or inputs.ndim < 2:
        raise ValueError("inputs must be a batched tensor (N, ...); add a batch dimension with x[None].")
    if not torch.isfinite(inputs).all():
        raise ValueError("inputs contain NaN or infinite values; clean them before attributing.")
    check_int(n_steps, "n_steps", 1)
    check_int(nt_samples, "nt_samples", 1)
    if internal_batch_size is not None:
        check_int(internal_batch_size, "internal_batch_size (or None)", 1)
    if spec.piecewise_linear_only and not getattr(target, "deeplift_ok", False):
        raise ValueError(
            f"method {method!r} does not cover the non-linearities of {getattr(target, 'label', target)!r} "
            "(Gram products, squared errors); use 'ig', 'gradient_shap' or 'saliency'."
        )
    if spec.piecewise_linear_only and not isinstance(target, nn.Module):
        raise ValueError(f"method {method!r} needs a target that is an nn.Module (an xstyle Target).")

    options: dict[str, Any] = {}
    kwargs: dict[str, Any] = {**spec.defaults, **method_options}
    if spec.prepare is not None:
        spec.prepare(tuple(inputs.shape), kwargs)
    for k in spec.recorded:  # tuples (window shapes) as text, so they reach the JSON
        if k in kwargs:
            options[k] = str(tuple(kwargs[k])) if isinstance(kwargs[k], tuple | list) else kwargs[k]
    inputs = inputs.detach().clone().requires_grad_(spec.needs_grad)
    base = _resolve_baselines(baselines, inputs, seed) if spec.baselines else None
    if spec.steps:
        kwargs["n_steps"] = n_steps
        # Captum needs at least one full input batch per pass
        per_pass = None if internal_batch_size is None else max(internal_batch_size, inputs.shape[0])
        kwargs["internal_batch_size"] = per_pass
        options.update(n_steps=n_steps, internal_batch_size=per_pass)
    if spec.baselines:
        kwargs["baselines"] = base
        options["baselines"] = baselines if isinstance(baselines, str) or baselines is None else "tensor"
    if spec.delta and noise_tunnel is None:
        kwargs["return_convergence_delta"] = True

    proxy: CallProxy | nullcontext = nullcontext()
    layer_module = None
    if layer is not None:
        model = getattr(target, "model", None)
        if model is None:
            raise ValueError("layer methods need a target with a .model whose layers can be named.")
        # Captum hooks the module it is given: one call of the layer (a reused module's "NAME:K")
        # passes through a fresh proxy module, so Captum sees exactly that call
        proxy = CallProxy(model, layer)
        layer, layer_module = proxy.layers[0], proxy.proxy

    networks = _networks_of(target)
    explainer_cls = getattr(ca, spec.captum_class)
    with frozen(*networks), _numpy_seed(seed), proxy:
        with torch.no_grad():  # one score per sample, checked before the (long) attribution
            scores = target(inputs.detach()).detach()
        if isinstance(proxy, CallProxy):
            proxy.check()
        if scores.ndim != 1 or scores.shape[0] != inputs.shape[0]:
            raise ValueError(
                f"the target gave scores of shape {tuple(scores.shape)} for inputs {tuple(inputs.shape)}; "
                f"it needs one score per sample: pass a batch (N, ...), e.g. add .unsqueeze(0)."
            )
        # Captum's random draws (noise tunnel, GradientShap's baselines) come from a seeded private stream
        with RandomStream(seed, device=inputs.device).active():
            explainer = (
                explainer_cls(target, layer_module) if layer_module is not None else explainer_cls(target)
            )
            if noise_tunnel is not None:
                explainer = ca.NoiseTunnel(explainer)
                kwargs.update(nt_type=noise_tunnel, nt_samples=nt_samples, stdevs=nt_stdevs)
                if spec.steps and internal_batch_size is not None:  # NoiseTunnel batches noisy copies
                    per_pass = max(1, internal_batch_size // inputs.shape[0])
                    kwargs["nt_samples_batch_size"] = per_pass
                    kwargs["internal_batch_size"] = max(internal_batch_size, per_pass * inputs.shape[0])
                options.update(noise_tunnel=noise_tunnel, nt_samples=nt_samples, nt_stdevs=nt_stdevs)
            start = time.perf_counter()
            out = explainer.attribute(inputs, **kwargs)
            seconds = time.perf_counter() - start
            with torch.no_grad():
                inputs = inputs.detach()
                base_scores = (
                    target(base).detach() if base is not None and not spec.baseline_distribution else None
                )
    delta = None
    if isinstance(out, tuple):
        out, delta = out
        delta = delta.detach().reshape(-1)
        if delta.numel() != inputs.shape[0]:  # GradientShap: one delta per sample and draw
            delta = delta.reshape(inputs.shape[0], -1).mean(1)
    return AttributionResult(
        attributions=out.detach(),
        method=method,
        target=str(getattr(target, "label", getattr(target, "__name__", type(target).__name__))),
        layer=layer,
        options=options,
        scores=scores,
        baseline_scores=base_scores,
        delta=delta,
        seconds=seconds,
    )
