"""See the carriers: feature visualisation of VGG19 channels and of a style's Gram eigencomponents.

Attribution and ablation name the channels that carry a style; this module shows what they look
for. Two optimisations of an image from noise, both under the same decorrelated parameterisation
(Olah, Mordvintsev and Schubert, "Feature Visualization", Distill 2017; the technique Lucid and
Lucent use):

* :func:`visualize_channels`: one image per channel that maximises the channel's mean activation;
* :func:`visualize_gram_components`: one texture per eigencomponent ``k`` of a style image's Gram
  matrix at a layer, synthesised so that its own Gram matches only ``A_k = λ_k v_k v_kᵀ`` (the
  seed's style loss with that rank-1 target).

The parameterisation: each image is an RGB spectrum (``torch.fft.irfft2``) whose coefficients are
scaled by ``1/frequency`` (so that plain gradient steps favour low frequencies, as natural images
do), its colours are mixed by the square root of ImageNet's colour correlation (so that the
parameters are decorrelated colour components) and a sigmoid maps it into [0, 1]. Each step sees
the image rolled by a random few pixels (and, optionally, rescaled by a few percent), so that a
result cannot rely on a fixed pixel grid. The images are optimised at the requested size: no
upsampling to 224 px.

Randomness comes only from ``seed``: the same seed gives the same images. Every entry point keeps
its hooks inside a :class:`~xstyle.hooks.FeatureTap` ``with`` block (the forward pass stops at the
layer) and restores the model's ``training`` and ``requires_grad`` flags (:func:`xstyle.hooks.frozen`).
Images are float RGB in [0, 1], shape (K, 3, H, W). No matplotlib is imported here; ``.plot()``
draws with :mod:`xstyle.explain.style.featurevis_plots`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from xstyle._checks import check_int, check_seed
from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle.data import describe_image, load_single_image
from xstyle.explain.style.featurevis_plots import ChannelVisualizationDisplay, GramComponentDisplay
from xstyle.explain.style.gram import _model_for, layer_spectrum
from xstyle.hooks import FeatureTap, device_of, frozen
from xstyle.images import ImageLike
from xstyle.losses import gram_matrix

__all__ = [
    "SIZE_RANGE",
    "ChannelVisualization",
    "GramComponentVisualization",
    "visualize_channels",
    "visualize_gram_components",
]

Progress = Callable[[str], None]

#: the image sizes (px, square) the optimisations accept
SIZE_RANGE: tuple[int, int] = (16, 512)

#: Square root of ImageNet's RGB colour correlation (rows: R, G, B; column 0 is the luminance
#: direction, columns 1 and 2 the two colour-opponent ones), the published numbers of Olah et al.
#: (2017). Divided by its largest column norm below, so that a unit step moves luminance most.
_COLOR_CORRELATION_SQRT = (
    (0.26, 0.09, 0.02),
    (0.27, 0.00, -0.05),
    (0.27, -0.09, 0.03),
)
#: standard deviation of the initial spectrum coefficients: a near-grey start (pixel std ~0.01
#: before the sigmoid, whatever the size, since the 1/f scale has unit RMS)
_INIT_SD = 0.01
#: Default optimisation: 48 Adam steps at lr 0.1 reach about 85% of the activation 128 steps at lr
#: 0.05 reach (relu3_1, caffe VGG19, 128 px) and show the same patterns, at 3/8 of the cost: one
#: step of 4 images at 128 px costs ~0.2 s (relu1_1) to ~3 s (relu5_1) on 2 busy CPU cores.
_STEPS = 48
_LR = 0.1
#: eigenvalues below this fraction of the largest count as 0 (a float32 Gram's rounding level)
_RANK_TOLERANCE = 1e-6


# -------------------------------------------------------------------------- parameterisation


def _color_matrix() -> torch.Tensor:
    m = torch.tensor(_COLOR_CORRELATION_SQRT, dtype=torch.float32)
    return m / m.norm(dim=0).max()


def _spectrum_scale(h: int, w: int) -> torch.Tensor:
    """(H, W//2 + 1) factors ``1 / max(f, 1/max(H, W))`` of an rfft2 grid, scaled to unit RMS.

    ``f`` is the radial frequency in cycles per pixel; the floor keeps the DC term finite. Unit RMS
    makes the pixel variance of a white spectrum the same at every size, so ``lr`` means the same.
    """
    fy = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    fx = torch.fft.rfftfreq(w, dtype=torch.float64)[None, :]
    scale = 1.0 / torch.sqrt(fy**2 + fx**2).clamp_min(1.0 / max(h, w))
    return (scale / scale.pow(2).mean().sqrt()).float()


class _FourierImages:
    """A batch of images (B, 3, H, W) in [0, 1] parameterised by 1/f-scaled, colour-decorrelated spectra.

    ``params`` (B, 3, H, W//2+1, 2) float32 (real and imaginary parts) is the leaf to optimise;
    calling the object renders the images (differentiably).
    """

    def __init__(self, batch: int, h: int, w: int, *, generator: torch.Generator, device: torch.device):
        self.h, self.w = h, w
        init = torch.randn(batch, 3, h, w // 2 + 1, 2, generator=generator) * _INIT_SD
        self.params = init.to(device).requires_grad_(True)
        self.scale = _spectrum_scale(h, w).to(device)
        self.color = _color_matrix().to(device)

    def __call__(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.params) * self.scale
        decorrelated = torch.fft.irfft2(spectrum, s=(self.h, self.w), norm="ortho")
        rgb = torch.einsum("ij,bjhw->bihw", self.color, decorrelated)
        return torch.sigmoid(rgb)


def _transform(
    images: torch.Tensor, generator: torch.Generator, *, jitter: int, scale: float
) -> torch.Tensor:
    """Roll the batch by a random (dy, dx) in [-jitter, jitter] px; rescale by a factor in
    [1 - scale, 1 + scale] (never below 16 px). All draws come from ``generator``."""
    if jitter:
        dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
        images = torch.roll(images, shifts=(dy, dx), dims=(2, 3))
    if scale:
        factor = 1.0 + (2.0 * float(torch.rand((), generator=generator)) - 1.0) * scale
        h, w = images.shape[-2:]
        new = (max(16, round(h * factor)), max(16, round(w * factor)))
        if new != (h, w):
            images = F.interpolate(images, size=new, mode="bilinear", align_corners=False)
    return images


# --------------------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class _Options:
    """The optimisation options both entry points share, checked (:meth:`checked`); their fields,
    in order, are the result's ``config``."""

    size: int
    steps: int
    lr: float
    jitter: int
    scale: float
    seed: int

    @classmethod
    def checked(cls, *, size: Any, steps: Any, lr: Any, jitter: Any, scale: Any, seed: Any) -> _Options:
        lo, hi = SIZE_RANGE
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not lo <= size <= hi:
            raise ValueError(f"size must be an integer from {lo} to {hi} (px); got {size!r}.")
        check_int(steps, "steps", 1)
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a finite number > 0; got {lr!r}.")
        check_int(jitter, "jitter", 0)
        if jitter > size // 4:
            raise ValueError(f"jitter must be at most size // 4 = {size // 4} px; got {jitter}.")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= 0.5:
            raise ValueError(f"scale must be a number from 0 (off) to 0.5; got {scale!r}.")
        check_seed(seed)
        return cls(int(size), int(steps), float(lr), int(jitter), float(scale), int(seed))

    def config(self) -> dict[str, Any]:
        """The options as the result's JSON-ready ``config``."""
        return asdict(self)

    def start(self, count: int, device: torch.device) -> tuple[_FourierImages, torch.Generator]:
        """``count`` initial images of ``size`` px and the generator (seeded with ``seed``) that drew
        them, which then draws every transformation of the optimisation."""
        generator = torch.Generator().manual_seed(self.seed)
        images = _FourierImages(count, self.size, self.size, generator=generator, device=device)
        return images, generator

    def optimise(
        self,
        images: _FourierImages,
        loss_fn: Callable[[torch.Tensor], torch.Tensor],
        *,
        generator: torch.Generator,
        say: Progress,
        label: str,
    ) -> None:
        """Adam on the spectrum: ``steps`` times, ``loss_fn(transformed images)`` (a scalar) goes down."""
        opt = torch.optim.Adam([images.params], lr=self.lr)
        every = max(1, self.steps // 4)
        for step in range(self.steps):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(_transform(images(), generator, jitter=self.jitter, scale=self.scale))
            loss.backward()
            opt.step()
            if (step + 1) % every == 0 or step + 1 == self.steps:
                say(f"{label}: step {step + 1}/{self.steps}")


def _check_indices(values: Any, *, param: str, what: str, count: int | None) -> tuple[int, ...]:
    """Whole numbers in [0, count) (count None: only >= 0), no duplicates, at least one."""
    items = [values] if isinstance(values, (int, np.integer)) and not isinstance(values, bool) else values
    try:
        items = list(items)
    except TypeError:
        raise ValueError(f"{param} must be a list of {what} indices; got {values!r}.") from None
    if not items:
        raise ValueError(f"{param} must list at least one {what} index; got an empty list.")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{param} must be whole numbers >= 0 ({what} indices); got {v!r}.")
        if count is not None and v >= count:
            raise ValueError(f"{param} must be {what} indices from 0 to {count - 1}; got {int(v)}.")
    if len(set(items)) != len(items):
        raise ValueError(f"{param} must not repeat an index; got {[int(v) for v in items]}.")
    return tuple(int(v) for v in items)


def _check_layer(model: nn.Module | None, layer: Any, weights: str) -> nn.Module:
    """The caller's model (``layer`` checked against it) or VGG19 with ``weights`` cut at ``layer``."""
    if not isinstance(layer, str):
        raise ValueError(f"layer must be one layer name (a string); got {layer!r}.")
    return _model_for(model, layer, weights=weights, param="layer")[0]


def _layer_outputs(tap: FeatureTap, images: torch.Tensor) -> dict[str, torch.Tensor]:
    """The tapped layers' outputs for ``images``, each checked to be feature maps (N, C, H, W)."""
    outputs = tap.run(images)
    for name, out in outputs.items():
        if not isinstance(out, torch.Tensor) or out.ndim != 4:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(f"layer {name!r} must output feature maps (N, C, H, W); got {shape}.")
    return outputs


def _layer_output(tap: FeatureTap, images: torch.Tensor, layer: str) -> torch.Tensor:
    return _layer_outputs(tap, images)[layer]


def _pre_activation(model: nn.Module, layer: str) -> str | None:
    """The name of the module feeding ``layer`` when ``layer`` is a (non-inplace) ``nn.ReLU`` right
    after it in an ``nn.Sequential`` (VGG19's ``convX_Y`` for ``reluX_Y``); else None."""
    modules = dict(model.named_modules())
    module = modules.get(layer)
    if not isinstance(module, nn.ReLU) or module.inplace:
        return None
    parent_name, _, child = layer.rpartition(".")
    parent = modules.get(parent_name)
    if not isinstance(parent, nn.Sequential):
        return None
    names = list(parent._modules)
    i = names.index(child)
    if i == 0:
        return None
    return f"{parent_name}.{names[i - 1]}" if parent_name else names[i - 1]


# ----------------------------------------------------------------------------------- channels


@dataclass(frozen=True, eq=False)
class ChannelVisualization(Plottable):
    """Images that maximise channels of one layer (:func:`visualize_channels`).

    Attributes:
        images: (K, 3, H, W) float32 RGB in [0, 1]; image i maximises ``channels[i]``.
        layer: the layer's name; channels: the K channel indices.
        activations: (K,) the mean activation of each channel on its final image (untransformed).
        initial_activations: (K,) the same on the initial (near-grey noise) images.
        config: size, steps, lr, jitter, scale, leak, seed.
        seconds: wall time of the whole call (model loading excluded).
        meta: the weights' name; ``optimised``: the layer whose output the optimiser saw (the
            pre-activation when ``leak > 0`` applied, else ``layer``).
    """

    display: ClassVar[type[ChannelVisualizationDisplay]] = ChannelVisualizationDisplay

    images: torch.Tensor
    layer: str
    channels: tuple[int, ...]
    activations: tuple[float, ...]
    initial_activations: tuple[float, ...]
    config: dict[str, Any]
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers (the images left out)."""
        return field_dict(self, skip=("images",))


def visualize_channels(
    model: nn.Module | None,
    layer: str,
    channels: int | Sequence[int],
    *,
    size: int = 128,
    steps: int = _STEPS,
    lr: float = _LR,
    jitter: int = 4,
    scale: float = 0.05,
    leak: float = 0.01,
    seed: int = 0,
    weights: str = "caffe",
    progress: Progress | None = None,
) -> ChannelVisualization:
    """Optimise one image per channel of ``layer`` to maximise that channel's mean activation.

    The K images are one batch (image i is scored only on ``channels[i]``), optimised with Adam on
    their 1/f-scaled, colour-decorrelated spectra (see the module docstring), each step on a
    randomly rolled (``jitter`` px) and rescaled (``1 ± scale``) copy.

    Args:
        model: a feature extractor taking (N, 3, H, W) RGB in [0, 1] (e.g. :func:`xstyle.load_vgg19`);
            its flags are restored afterwards. None: VGG19 with ``weights``, truncated at ``layer``.
        layer: a layer name of ``model`` (``list_layers(model)``; for VGG19, :data:`xstyle.LAYER_NAMES`)
            whose output is (N, C, H, W).
        channels: one channel index or several (0 .. C-1, no repeats).
        size: the images' side in px, from 16 to 512 (optimised at that size, never upsampled).
        steps: optimiser steps (>= 1); lr: Adam's learning rate on the spectrum.
        jitter: the largest random roll per step, in px (0 .. size // 4).
        scale: the largest random rescaling per step (0: off, up to 0.5).
        leak: when ``layer`` is an ``nn.ReLU`` right after another module of an ``nn.Sequential``
            (VGG19's ``reluX_Y`` after ``convX_Y``), the optimised objective is the mean of
            ``leaky_relu(pre-activation, leak)``: a channel silent on the near-grey start (many of
            relu5_1's are) then still gets a gradient instead of staying grey; once active it is
            the ReLU output's mean plus ``leak`` times the (small) negative part. In [0, 1); 0
            optimises the layer's output itself. ``activations`` always report the layer's output.
        seed: the initial spectra and every jitter draw; the same seed gives the same images.
        weights: the VGG19 weights when ``model`` is None (``"caffe"``: offline, the default).
        progress: called with a short message a few times during the optimisation.

    Returns:
        A :class:`ChannelVisualization` (images (K, 3, size, size) in [0, 1]).

    Raises:
        ValueError: an unknown layer, a channel out of range, an empty channel list, a size outside
            16..512, ``steps < 1`` or another bad option (one line naming the parameter).
    """
    options = _Options.checked(size=size, steps=steps, lr=lr, jitter=jitter, scale=scale, seed=seed)
    if isinstance(leak, bool) or not isinstance(leak, (int, float)) or not 0 <= leak < 1:
        raise ValueError(f"leak must be a number in [0, 1) (0: no leak); got {leak!r}.")
    wanted = _check_indices(channels, param="channels", what="channel", count=None)
    net = _check_layer(model, layer, weights)
    pre = _pre_activation(net, layer) if leak > 0 else None
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    device = device_of(net)
    images, gen = options.start(len(wanted), device)
    index = torch.tensor(wanted, device=device)
    rows = torch.arange(len(wanted), device=device)

    def objective(feats: torch.Tensor) -> torch.Tensor:
        return feats[rows, index].mean(dim=(1, 2))  # (K,) mean activation of channel i on image i

    def surrogate(x: torch.Tensor) -> torch.Tensor:
        outputs = _layer_outputs(tap, x)
        if pre is None:
            return -objective(outputs[layer]).sum()
        return -objective(F.leaky_relu(outputs[pre], leak)).sum()

    taps = [layer] if pre is None else [pre, layer]
    with frozen(net), FeatureTap(net, taps, detach=False, stop_after_last=True) as tap:
        with torch.no_grad():
            start = _layer_output(tap, images(), layer)
            _check_indices(wanted, param="channels", what=f"layer {layer!r} channel", count=start.shape[1])
            initial = objective(start)
        say(f"visualising {len(wanted)} channel(s) of {layer} at {options.size} px")
        options.optimise(images, surrogate, generator=gen, say=say, label=f"channels of {layer}")
        with torch.no_grad():
            final_images = images().detach()
            final = objective(_layer_output(tap, final_images, layer))
    return ChannelVisualization(
        images=final_images.cpu(),
        layer=layer,
        channels=wanted,
        activations=tuple(float(v) for v in final),
        initial_activations=tuple(float(v) for v in initial),
        config={**options.config(), "leak": float(leak)},
        seconds=time.perf_counter() - t0,
        meta={"weights": getattr(net, "weights_name", "custom"), "optimised": pre or layer},
    )


# ------------------------------------------------------------------------------- Gram components


@dataclass(frozen=True, eq=False)
class GramComponentVisualization(Plottable):
    """Textures that each match one eigencomponent of a style's Gram (:func:`visualize_gram_components`).

    With ``G = F Fᵀ / M`` the style image's Gram at ``layer`` (N channels, M positions) and
    ``G = Σ λ_k v_k v_kᵀ`` its eigen-decomposition (λ descending), texture i was optimised so that
    its own Gram ``G_i`` matches ``A_k = λ_k v_k v_kᵀ`` for ``k = components[i]`` alone.

    Attributes:
        images: (K, 3, H, W) float32 RGB in [0, 1]; style: the style image as analysed (1, 3, h, w).
        layer: the layer; components: the K eigencomponent indices (0 = largest eigenvalue).
        eigenvalues: (K,) λ_k of the mean-normalised Gram ``F Fᵀ / M``.
        energy_share: (K,) ``λ_k / Σλ``, the component's share of ``trace(G)`` (the channels' power).
        frobenius_share: (K,) ``λ_k² / ||G||_F²``, its share of what the style loss sees.
        losses: (K,) the seed's style loss ``1/(4N²M²) Σ(G_i − A_k)²`` of each final texture (with
            ``G`` and ``A`` both per position, i.e. as if the texture had the style image's size).
        initial_losses: (K,) the same for the initial (near-grey noise) images.
        relative_errors: (K,) ``||G_i − A_k||_F² / ||A_k||_F²`` (the optimised, scale-free form).
        alignment: (K,) ``v_kᵀ G_i v_k / trace(G_i)``, the share of texture i's channel power that
            lies along its component's direction (1: all of it; compare with ``energy_share``,
            the style's own share along that direction).
        config: size, steps, lr, jitter, scale, seed; seconds: wall time (model loading excluded).
        meta: weights and the style image's description.
    """

    display: ClassVar[type[GramComponentDisplay]] = GramComponentDisplay

    images: torch.Tensor
    style: torch.Tensor
    layer: str
    components: tuple[int, ...]
    eigenvalues: tuple[float, ...]
    energy_share: tuple[float, ...]
    frobenius_share: tuple[float, ...]
    losses: tuple[float, ...]
    initial_losses: tuple[float, ...]
    relative_errors: tuple[float, ...]
    alignment: tuple[float, ...]
    config: dict[str, Any]
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers (the images left out)."""
        out = field_dict(self, skip=("images", "style"))
        out["style_size_hw"] = [int(self.style.shape[-2]), int(self.style.shape[-1])]
        return out


def visualize_gram_components(
    model: nn.Module | None,
    layer: str,
    style_image: ImageLike,
    *,
    components: int | Sequence[int] = (0, 1, 2, 3),
    size: int = 128,
    steps: int = _STEPS,
    lr: float = _LR,
    jitter: int = 4,
    scale: float = 0.05,
    seed: int = 0,
    weights: str = "caffe",
    progress: Progress | None = None,
) -> GramComponentVisualization:
    """Synthesise one texture per Gram eigencomponent of ``style_image`` at ``layer``.

    The style image is resized so its long side is ``size``; its Gram ``G = F Fᵀ / M`` is
    eigen-decomposed (:func:`xstyle.explain.style.gram.layer_spectrum`, float64) and texture i is
    optimised, from the same kind of noise and with the same parameterisation and jitter as
    :func:`visualize_channels`, to minimise ``||G_i − A_k||_F² / ||A_k||_F²`` with the rank-1 target
    ``A_k = λ_k v_k v_kᵀ``. That is the seed's style loss ``1/(4N²M²) Σ(F Fᵀ − A)²`` divided by a
    constant per texture (Adam's steps do not depend on that constant); the seed-form value is
    recorded too.

    A component k > 0 usually has channels of both signs in ``v_k`` while ReLU features are >= 0,
    so its target cannot be met exactly: the texture shows what the network does when asked for
    that co-activation pattern alone, and ``relative_errors`` says how far it got.

    Args:
        model, layer, size, steps, lr, jitter, scale, seed, weights, progress: as in
            :func:`visualize_channels`.
        style_image: (1, 3, H, W) or (3, H, W) float RGB in [0, 1], a path or ``sample:NAME``.
        components: eigencomponent indices (0 = largest eigenvalue), each below the number of
            non-zero eigenvalues; one texture each.

    Returns:
        A :class:`GramComponentVisualization`.

    Raises:
        ValueError: bad options as in :func:`visualize_channels`; a component out of range, or one
            whose eigenvalue is 0.
    """
    options = _Options.checked(size=size, steps=steps, lr=lr, jitter=jitter, scale=scale, seed=seed)
    wanted = _check_indices(components, param="components", what="eigencomponent", count=None)
    style = load_single_image(style_image, size=options.size, param="style_image")
    net = _check_layer(model, layer, weights)
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    device = device_of(net)
    images, gen = options.start(len(wanted), device)

    with frozen(net), FeatureTap(net, [layer], detach=False, stop_after_last=True) as tap:
        with torch.no_grad():
            feats = _layer_output(tap, style.to(device), layer)
            n = feats.shape[1]
            spectrum = layer_spectrum(layer, gram_matrix(feats, normalize="mean")[0], feats[0, 0].numel())
        lam = spectrum.eigenvalues.clamp_min(0)
        _check_indices(wanted, param="components", what=f"layer {layer!r} eigencomponent", count=n)
        rank = int((lam > lam[0] * _RANK_TOLERANCE).sum())  # float32 Grams: smaller ones are noise
        for k in wanted:
            if k >= rank:
                raise ValueError(
                    f"components must be below the rank of the style's Gram at {layer!r} ({rank}: "
                    f"eigenvalue {k} is 0 to float32 precision); got {k}."
                )
        idx = torch.tensor(wanted)
        vecs = spectrum.eigenvectors[:, idx]  # (N, K) float64
        targets = (lam[idx][:, None, None] * vecs.T[:, :, None] * vecs.T[:, None, :]).float().to(device)
        norms = targets.pow(2).sum(dim=(1, 2))  # ||A_k||_F^2 = λ_k^2

        def grams(x: torch.Tensor) -> torch.Tensor:
            return gram_matrix(_layer_output(tap, x, layer), normalize="mean")  # (K, N, N)

        def sq_error(g: torch.Tensor) -> torch.Tensor:
            return (g - targets).pow(2).sum(dim=(1, 2))  # (K,)

        with torch.no_grad():
            initial = sq_error(grams(images()))
        say(f"synthesising {len(wanted)} Gram component(s) of {layer} at {options.size} px")
        options.optimise(
            images,
            lambda x: (sq_error(grams(x)) / norms).sum(),
            generator=gen,
            say=say,
            label=f"Gram components of {layer}",
        )
        with torch.no_grad():
            final_images = images().detach()
            final_grams = grams(final_images).double().cpu()
            final = (final_grams - targets.double().cpu()).pow(2).sum(dim=(1, 2))
            along = torch.einsum("nk,knm,mk->k", vecs, final_grams, vecs)
            power = torch.diagonal(final_grams, dim1=1, dim2=2).sum(1)
            alignment = torch.where(power > 0, along / power.clamp_min(1e-300), torch.zeros_like(power))
    seed_scale = 1.0 / (4.0 * n * n)  # the seed's 1/(4 N^2 M^2) on Grams divided by M
    total = float(lam.sum())
    fro = float(lam.pow(2).sum())
    return GramComponentVisualization(
        images=final_images.cpu(),
        style=style.detach().cpu(),
        layer=layer,
        components=wanted,
        eigenvalues=tuple(float(lam[k]) for k in wanted),
        energy_share=tuple(float(lam[k]) / total for k in wanted),
        frobenius_share=tuple(float(lam[k]) ** 2 / fro for k in wanted),
        losses=tuple(float(v) * seed_scale for v in final),
        initial_losses=tuple(float(v) * seed_scale for v in initial),
        relative_errors=tuple(float(v) for v in final / norms.double().cpu()),
        alignment=tuple(float(v) for v in alignment),
        config=options.config(),
        seconds=time.perf_counter() - t0,
        meta={"weights": getattr(net, "weights_name", "custom"), "style": describe_image(style_image)},
    )
