"""Gatys et al. style transfer, instrumented with :class:`~xstyle.hooks.FeatureTap`.

``style_transfer(content, style, config=config)`` optimises an image so that its VGG19 features match
the content image's at the content layers and its Gram matrices match the style image's at the
style layers (Gatys, Ecker & Bethge, CVPR 2016). Defaults follow the paper: content ``relu4_2``,
style ``relu1_1 .. relu5_1`` with equal weights, L-BFGS, initialisation from the content.

Weighting across sizes: the seed's content loss ``1/2 sum((F - P)**2)`` is a sum over positions
and grows with the pixel count, while its Gram style loss ``1/(4 N^2 M^2) sum((G - A)**2)`` does
not, so with the paper's formulas one alpha/beta stylises a 256 px image far more than a 512 px
one. The default ``normalize="size"`` keeps the formulas and multiplies the content weight by
``(512 / L)**2`` (L: long side of the output; ``xstyle._defaults.NORMALIZE_REFERENCE_SIZE``):
alpha and beta mean at every size what they mean at 512 px under the seed's formulas, and a
512 px run is identical to ``normalize="seed"`` (the paper's formulas, unscaled). ``"mean"``
averages instead of summing (see :mod:`xstyle.losses`). The effective content weight is recorded
in every :class:`TransferStep` and in :attr:`TransferResult.final`.

Convention note: the official PyTorch tutorial taps the *conv* layers (``conv_4`` for content,
``conv_1 .. conv_5`` for style), i.e. before the ReLU, and normalises its Gram by the number of
elements. xstyle taps the ReLU outputs as the paper does and uses the paper's normalisation
(``1/(4 N^2 M^2)``); pass ``content_layers``/``style_layers`` to change this.

Speed: the network is truncated after the deepest needed layer and the targets are computed once.
The default schedule optimises coarse-to-fine (Gatys et al. 2017, "Controlling Perceptual
Factors"): a half-resolution level first, whose *change* to the content is upsampled and added to
the full-resolution content to start the last level. On this project's 2-core CPU this costs about
as much per unit of loss as single-scale optimisation (see docs/performance.md) but
gives the larger, painterly strokes of a classic stylisation at 512 px; ``steps=(n,)`` gives plain
single-scale Gatys.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F

from xstyle import _defaults as D
from xstyle._checks import check_seed
from xstyle._defaults import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS
from xstyle._json import field_dict
from xstyle._limits import check_memory, vgg19_bytes
from xstyle._plotting import Plottable
from xstyle._precision import PRECISIONS, resolve_precision
from xstyle.hooks import FeatureTap, frozen
from xstyle.images import ImageLike, resize_image
from xstyle.losses import (
    FEATURE_TRANSFORMS,
    LossBreakdown,
    content_loss,
    gram_matrix,
    style_loss,
    transform_features,
)
from xstyle.models.registry import check_network_layers, deepest, get_network, network_defaults
from xstyle.models.vgg import LAYER_NAMES, WEIGHT_SOURCES, VGG19Features
from xstyle.transfer_plots import TransferLossDisplay

__all__ = [
    "GATYS_CONTENT_LAYERS",
    "GATYS_STYLE_LAYERS",
    "StyleObjective",
    "TransferConfig",
    "TransferResult",
    "TransferStep",
    "make_initial_image",
    "optimise_image",
    "style_transfer",
]

log = logging.getLogger(__name__)

_OPTIMIZERS = ("lbfgs", "adam")
_DIVERGED = 10.0  # an L-BFGS evaluation this many times above the best loss so far counts as divergence
#: largest alpha or beta: caffe-VGG19 losses reach ~1e13 (2048 px), so weight * loss stays < 1e33,
#: well inside float32 (3.4e38); 1e28 already gives an inf loss at 64 px
MAX_LOSS_WEIGHT = 1e20


class _Diverged(Exception):
    """Raised inside the L-BFGS closure to abandon a diverging run."""


class _Exhausted(Exception):
    """Raised inside the closure when a line search asks for more evaluations than ``steps``."""


_INITS = ("content", "noise", "style")
_PRECISIONS = PRECISIONS


@dataclass(frozen=True, kw_only=True)
class TransferConfig:
    """Everything that decides a style transfer. Images are resized so their long side is ``size``.

    ``steps`` is one number of optimiser evaluations (closure calls) per pyramid level, coarsest
    first; its length sets the number of levels, each twice the size of the one before and the
    last at ``size``. ``steps=(300,)`` is plain single-scale Gatys. Coarse levels smaller than
    ``min_level`` px are merged into the first level that is not (their evaluations move there):
    at 512 px the default ``(150, 30)`` runs 256 then 512 px, at 256 px one level of 180.

    ``normalize`` decides how the losses are weighted: ``"size"`` (default) multiplies the content
    weight by ``(512 / size)**2`` so that alpha/beta give the same balance at every size (what they
    give at 512 px with the paper's formulas); ``"seed"`` uses the paper's formulas unscaled (the
    content term grows with the pixel count, so small images get more style); ``"mean"`` uses mean
    content loss and Grams divided by M (:mod:`xstyle.losses`). :meth:`content_weight` gives the
    effective alpha.
    """

    #: None: the network's defaults (VGG19: Gatys et al.'s relu4_2 and relu1_1 .. relu5_1)
    content_layers: tuple[str, ...] | None = None
    style_layers: tuple[str, ...] | None = None
    #: per style layer w_l; None = 1 / number of style layers (Gatys et al.)
    style_weights: tuple[float, ...] | None = None
    alpha: float = D.TRANSFER_ALPHA  # content weight
    beta: float = D.TRANSFER_BETA  # style weight (alpha/beta = 1e-4, a classic strong stylisation)
    size: int = D.TRANSFER_SIZE  # long side of the output, px
    steps: tuple[int, ...] = D.TRANSFER_STEPS  # evaluations per pyramid level, coarsest first
    optimizer: str = D.TRANSFER_OPTIMIZER  # "lbfgs" (Gatys) or "adam"
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam (on the [0, 1] pixel scale)
    init: str = D.TRANSFER_INIT  # "content", "noise" (seeded uniform) or "style"
    pooling: str = D.TRANSFER_POOLING  # "max" or "avg" (Gatys et al. prefer avg for smoother images)
    weights: str = D.TRANSFER_WEIGHTS  # VGG19 weight source, see xstyle.models.vgg.WEIGHT_SOURCES
    #: the feature network (xstyle.models.list_networks(), "torchvision:NAME", "module:callable");
    #: None: VGG19 with ``weights``
    network: str | None = None
    network_weights: str | None = None  # a state dict file for ``network`` (loaded weights-only)
    #: applied to the features before the Gram matrices and the content loss: None, or "softmax"
    #: over each layer's C*H*W activations at ``feature_temperature`` (SWAG, Wang et al. 2021)
    feature_transform: str | None = None
    feature_temperature: float = 1.0
    preserve_color: bool = False  # luminance-only transfer (Gatys et al. 2017)
    #: arithmetic of the network: "bfloat16" autocasts VGG19 (losses stay float32); it pays off
    #: only on CPUs with bf16 units (AMX/AVX512-BF16) or GPUs, and is far slower without them;
    #: "auto" takes bfloat16 where the hardware has bf16 units, float32 elsewhere (xstyle._precision)
    precision: str = D.TRANSFER_PRECISION
    #: how a coarse result initialises the next level: "image" (upsample it) or "residual"
    #: (upsample its difference to the content and add it to the finer content)
    upsample: str = "residual"
    #: "size": seed formulas, content weight * (512 / size)**2 (same balance at every size);
    #: "seed": the paper's formulas unscaled; "mean": mean content loss, Gram / M
    normalize: str = D.TRANSFER_NORMALIZE
    #: smallest coarse level (px); coarser levels are merged into the first one this size or more
    #: (below ~256 px the deep style layers see the whole picture and copy the painting's layout)
    min_level: int = D.TRANSFER_MIN_LEVEL
    seed: int = D.TRANSFER_SEED

    def __post_init__(self) -> None:
        steps = (self.steps,) if isinstance(self.steps, int) else tuple(int(s) for s in self.steps)
        object.__setattr__(self, "steps", steps)
        self._resolve_network()
        if not steps or any(s < 0 for s in steps):
            raise ValueError(f"steps must be one or more non-negative integers; got {self.steps!r}.")
        if not any(steps):
            raise ValueError(
                f"steps={steps} runs no evaluation at any level, so the result would be the starting "
                "image; give at least one level some evaluations (e.g. steps=(300,) or (150, 30))."
            )
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise TypeError(f"size must be a whole number of pixels (int); got {self.size!r}.")
        if self.size < 16:
            raise ValueError(f"size must be at least 16 px; got {self.size}.")
        if isinstance(self.min_level, bool) or not isinstance(self.min_level, int) or self.min_level < 16:
            raise ValueError(
                f"min_level must be a whole number of pixels >= 16; got {self.min_level!r} "
                "(16 keeps every pyramid level)."
            )
        if self.size // 2 ** (len(steps) - 1) < 16:
            raise ValueError(
                f"steps={steps} asks for {len(steps)} pyramid levels, but the coarsest would be "
                f"{self.size // 2 ** (len(steps) - 1)} px (< 16); use fewer levels or a larger size."
            )
        for name, allowed in (
            ("optimizer", _OPTIMIZERS),
            ("init", _INITS),
            ("precision", _PRECISIONS),
            ("pooling", ("max", "avg")),
            ("normalize", D.TRANSFER_NORMALIZE_CHOICES),
            ("upsample", ("image", "residual")),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}; got {getattr(self, name)!r}.")
        for name in ("content_layers", "style_layers"):
            if getattr(self, name) or name == "style_layers":  # no content layers: texture synthesis
                check_network_layers(self.network_name, getattr(self, name), param=name)
        if self.feature_transform not in FEATURE_TRANSFORMS:
            raise ValueError(
                f"feature_transform must be one of {FEATURE_TRANSFORMS}; got {self.feature_transform!r}."
            )
        if not (math.isfinite(self.feature_temperature) and self.feature_temperature > 0):
            raise ValueError(
                f"feature_temperature must be a positive number; got {self.feature_temperature!r}."
            )
        if self.style_weights is not None and len(self.style_weights) != len(self.style_layers):
            raise ValueError(
                f"style_weights needs one weight per style layer ({len(self.style_layers)}); "
                f"got {len(self.style_weights)}."
            )
        for name in ("alpha", "beta"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
            if value > MAX_LOSS_WEIGHT:
                raise ValueError(
                    f"{name} must be at most 1e20 (a larger weight times the loss overflows float32 to "
                    f"inf); got {value:g}. Only beta/alpha matters: scale both down."
                )
        if self.alpha == 0 and self.beta == 0:
            raise ValueError(
                "alpha and beta are both 0, so there is nothing to optimise; give beta > 0 (style) "
                "and/or alpha > 0 (content)."
            )
        object.__setattr__(self, "seed", check_seed(self.seed))
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number; got {self.lr!r}.")

    @property
    def schedule(self) -> tuple[tuple[int, int], ...]:
        """The levels that run, coarsest first: ``(long side px, evaluations)`` pairs.

        Levels of ``steps`` whose long side is below ``min(min_level, size)`` are merged into the
        first level that is not: their evaluations are added to it.
        """
        n = len(self.steps)
        nominal = [max(16, round(self.size / 2 ** (n - 1 - i))) for i in range(n)]
        floor = min(self.min_level, self.size)
        moved = sum(s for px, s in zip(nominal, self.steps, strict=True) if px < floor)
        kept = [(px, s) for px, s in zip(nominal, self.steps, strict=True) if px >= floor]
        kept[0] = (kept[0][0], kept[0][1] + moved)
        return tuple(kept)

    @property
    def level_sizes(self) -> tuple[int, ...]:
        """Long side of each pyramid level that runs, coarsest first (see :attr:`schedule`)."""
        return tuple(px for px, _ in self.schedule)

    @property
    def level_steps(self) -> tuple[int, ...]:
        """Evaluations of each pyramid level that runs, coarsest first (see :attr:`schedule`)."""
        return tuple(s for _, s in self.schedule)

    def _resolve_network(self) -> None:
        """Check ``network``/``weights`` and fill in the network's default layers (None)."""
        if self.network is not None and (not isinstance(self.network, str) or not self.network.strip()):
            raise ValueError(
                f"network must be a network name (xstyle.models.list_networks()); got {self.network!r}."
            )
        if self.network is not None and self.weights != D.TRANSFER_WEIGHTS:
            raise ValueError(
                f"weights={self.weights!r} chooses VGG19's weights; with network={self.network!r} give "
                "network_weights=FILE instead (or network='vgg19-imagenet', 'vgg19-random')."
            )
        if self.network_weights is not None and self.network is None:
            raise ValueError("network_weights needs network= (for VGG19 give weights=FILE).")
        defaults = ((), ())
        if self.content_layers is None or self.style_layers is None:
            defaults = network_defaults(self.network_name)
        for name, default in zip(("content_layers", "style_layers"), defaults, strict=True):
            layers = getattr(self, name)
            layers = default if layers is None else layers
            object.__setattr__(self, name, (layers,) if isinstance(layers, str) else tuple(layers))

    @property
    def network_name(self) -> str:
        """The network's spec: ``network``, else ``"vgg19-<weights>"`` (``"vgg19"`` for a weights file)."""
        if self.network is not None:
            return self.network
        return f"vgg19-{self.weights}" if self.weights in WEIGHT_SOURCES else "vgg19"

    def load_network(self, *, last_layer: str | None = None):
        """Build the network (RGB (N, 3, H, W) in [0, 1], eval mode, frozen); VGG19 is truncated
        after ``last_layer`` (default :attr:`deepest_layer`)."""
        file = self.network_weights if self.network is not None else None
        if self.network is None and self.weights not in WEIGHT_SOURCES:
            file = self.weights
        return get_network(
            self.network_name, weights=file, pooling=self.pooling, last_layer=last_layer or self.deepest_layer
        )

    @property
    def deepest_layer(self) -> str:
        layers = (*self.content_layers, *self.style_layers)
        if self.network_name.startswith("vgg19"):
            return max(layers, key=LAYER_NAMES.index)
        return deepest(self.network_name, layers)

    def content_weight(self, long_side: int | None = None) -> float:
        """The effective content weight for an image whose long side is ``long_side`` px
        (default ``size``): ``alpha * (512 / long_side)**2`` under ``normalize="size"``, else ``alpha``.

        (Coarse pyramid levels of :func:`style_transfer` additionally scale it by the pixel ratio
        to the full size under ``"seed"`` and ``"size"``.)
        """
        return self.alpha * _size_factor(self.normalize, self.size if long_side is None else long_side)

    def to_dict(self) -> dict:
        return asdict(self)


def _size_factor(normalize: str, long_side: int) -> float:
    """``(NORMALIZE_REFERENCE_SIZE / long_side)**2`` under ``normalize="size"``, 1 otherwise."""
    if normalize != "size":
        return 1.0
    if long_side <= 0:
        raise ValueError(f"long_side must be a positive number of pixels; got {long_side!r}.")
    return (D.NORMALIZE_REFERENCE_SIZE / long_side) ** 2


class StyleObjective:
    """The Gatys objective for one content/style pair at one resolution.

    Content features and style Gram matrices are computed once, without gradients. Calling the
    objective on an image batch (B, 3, H, W) in [0, 1] returns ``(total, content, style)``:
    ``total`` of shape (B,) and two :class:`~xstyle.losses.LossBreakdown` (per-layer parts).

    Args:
        model: a VGG19 feature extractor (truncation after ``config.deepest_layer`` saves time).
        content: (1, 3, H, W) content image in [0, 1].
        style: (1, 3, H', W') style image in [0, 1].
        config: layers, weights, alpha/beta and normalisation.
        content_scale: multiplies ``alpha``; the objective's ``alpha`` attribute is the product,
            the effective content weight. None (default): ``(512 / L)**2`` under
            ``config.normalize="size"`` (L: long side of ``content``), 1 otherwise.
            :func:`style_transfer` passes each pyramid level's own factor.
        precision: ``"float32"``, ``"bfloat16"`` (autocast around the network; losses in float32)
            or ``"auto"`` (bfloat16 where the CPU has bf16 units; :mod:`xstyle._precision`).
    """

    def __init__(
        self,
        model: VGG19Features,
        content: torch.Tensor,
        style: torch.Tensor,
        config: TransferConfig,
        *,
        content_scale: float | None = None,
        precision: str = "float32",
    ) -> None:
        self.model = model
        self.config = config
        if content_scale is None:
            content_scale = _size_factor(config.normalize, max(content.shape[-2:]))
        self.content_scale = float(content_scale)
        self.alpha = config.alpha * self.content_scale
        self.beta = config.beta
        self.device_type = content.device.type  # autocast and "auto" follow the images' device
        self.precision = resolve_precision(precision, device=self.device_type)
        self.layers = list(dict.fromkeys((*config.content_layers, *config.style_layers)))
        weights = config.style_weights or [1.0 / len(config.style_layers)] * len(config.style_layers)
        self.style_weights = dict(zip(config.style_layers, map(float, weights), strict=True))
        with torch.no_grad():
            c_feats = self.features(content)
            s_feats = self.features(style)
        transform = dict(kind=config.feature_transform, temperature=config.feature_temperature)
        c_feats = transform_features(c_feats, **transform)
        s_feats = transform_features(s_feats, **transform)
        self.content_targets = {n: c_feats[n].float() for n in config.content_layers}
        self.gram_targets = {
            n: gram_matrix(s_feats[n], normalize=config.normalize) for n in config.style_layers
        }

    def _autocast(self):
        if self.precision == "bfloat16":
            return torch.autocast(self.device_type, dtype=torch.bfloat16)
        return nullcontext()

    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Features of the objective's layers for (B, 3, H, W) images, kept in the autograd graph."""
        with FeatureTap(self.model, self.layers, detach=False, stop_after_last=True) as tap, self._autocast():
            return tap.run(image)

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, LossBreakdown, LossBreakdown]:
        cfg = self.config
        feats = self.features(image)
        feats = transform_features(feats, kind=cfg.feature_transform, temperature=cfg.feature_temperature)
        if self.config.content_layers:
            c = content_loss(feats, self.content_targets, normalize=self.config.normalize)
        else:
            zero = torch.zeros(image.shape[0])
            c = LossBreakdown(total=zero, per_layer={})
        s = style_loss(feats, self.gram_targets, weights=self.style_weights, normalize=self.config.normalize)
        return self.alpha * c.total + self.beta * s.total, c, s


@dataclass(frozen=True)
class TransferStep:
    """One optimiser evaluation: its level (0 = coarsest), size, evaluation index and losses.

    ``content`` and ``style`` are the unweighted losses; ``total`` is
    ``content_weight * content + style_weight * style``, with ``content_weight`` the effective
    content weight at this level (alpha times the level's scale, see :class:`TransferConfig`) and
    ``style_weight`` beta (None where a caller built the step without them).
    """

    level: int
    size: int
    step: int
    total: float
    content: float
    style: float
    content_per_layer: dict[str, float]
    style_per_layer: dict[str, float]
    content_weight: float | None = None
    style_weight: float | None = None


@dataclass(frozen=True, eq=False)
class TransferResult(Plottable):
    """Outcome of :func:`style_transfer`.

    Attributes:
        image: (1, 3, H, W) stylised image, float RGB in [0, 1].
        history: one :class:`TransferStep` per optimiser evaluation, all levels in order.
        final: losses of ``image`` at full size (float32): total, content, style and per layer,
            and the weights of the total: ``content_weight`` (effective alpha, see
            :meth:`TransferConfig.content_weight`) and ``style_weight`` (beta).
        timings: seconds per level (``level0``, ...), ``setup`` and ``total``.
        config: the :class:`TransferConfig` used.
    """

    display: ClassVar[type[TransferLossDisplay]] = TransferLossDisplay

    image: torch.Tensor
    history: list[TransferStep]
    final: dict
    timings: dict[str, float]
    config: TransferConfig
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready summary: config, final losses, timings and the loss history."""
        history = [asdict(s) for s in self.history]
        return field_dict(self, "config", "final", "timings", "meta", history=history)


#: RGB -> YIQ (NTSC); Y is the luminance Gatys et al. (2017) transfer alone to keep colours
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def _luminance(image: torch.Tensor) -> torch.Tensor:
    """Y channel of (B, 3, H, W) RGB, shape (B, 1, H, W)."""
    return torch.einsum("c,bchw->bhw", _RGB_TO_YIQ[0], image).unsqueeze(1)


def _with_luminance(content: torch.Tensor, luminance: torch.Tensor) -> torch.Tensor:
    """Replace the YIQ luminance of ``content`` by ``luminance`` (B, 1, H, W) and return RGB in [0, 1]."""
    yiq = torch.einsum("dc,bchw->bdhw", _RGB_TO_YIQ, content)
    yiq = torch.cat([luminance, yiq[:, 1:]], dim=1)
    return torch.einsum("dc,bchw->bdhw", torch.linalg.inv(_RGB_TO_YIQ), yiq).clamp(0, 1)


def _luminance_pair(content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Grey (3-channel) luminance images; the style's luminance matched to the content's mean/std."""
    lc, ls = _luminance(content), _luminance(style)
    ls = (ls - ls.mean()) * (lc.std() / ls.std().clamp_min(1e-6)) + lc.mean()
    return _grey(lc), _grey(ls)


def _grey(luminance: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) luminance -> the 3-channel grey image (N, 3, H, W) in [0, 1]."""
    return luminance.expand(-1, 3, -1, -1).clamp(0, 1)


def make_initial_image(
    kind: str, content: torch.Tensor, style: torch.Tensor, *, generator: torch.Generator
) -> torch.Tensor:
    """The image an optimisation starts from, (1, 3, H, W) in [0, 1] at the content's size.

    ``kind`` is ``"content"`` (a copy of ``content``), ``"style"`` (``style`` resized to the
    content's H, W) or ``"noise"`` (uniform noise drawn from ``generator``).
    """
    if kind == "content":
        return content.clone()
    if kind == "style":
        return resize_image(style, tuple(content.shape[-2:]))
    if kind == "noise":
        return torch.rand(content.shape, generator=generator)
    raise ValueError(f"kind must be 'content', 'style' or 'noise'; got {kind!r}.")


def optimise_image(
    objective: StyleObjective,
    image: torch.Tensor,
    *,
    steps: int,
    config: TransferConfig,
    on_step: Callable[[torch.Tensor, LossBreakdown, LossBreakdown, int], None] | None = None,
) -> torch.Tensor:
    """Minimise ``objective`` over the pixels of ``image`` for ``steps`` loss evaluations.

    Args:
        objective: the Gatys loss of one content/style pair (:class:`StyleObjective`).
        image: the start, (1, 3, H, W) in [0, 1]; not modified.
        steps: loss evaluations (L-BFGS counts its line-search evaluations too).
        config: ``optimizer`` (``"lbfgs"`` or ``"adam"``) and ``lr`` are used.
        on_step: called after each evaluation with ``(total loss, content breakdown, style
            breakdown, evaluation index)``.

    Returns:
        The optimised image, (1, 3, H, W) in [0, 1], detached: the last step's image, clamped (the
        best image seen when a line search is cut off at ``steps``). L-BFGS runs without a line
        search and, should it overshoot, restarts from the best image with a strong-Wolfe search.

    Raises:
        FloatingPointError: at the first evaluation whose loss is inf or NaN (one line naming
            alpha and beta), instead of optimising on and returning a spoilt image.
    """
    x = image.detach().clone().requires_grad_(True)
    if steps == 0:
        return x.detach()
    evals = 0
    best: tuple[float, torch.Tensor] = (math.inf, x.detach().clone())
    guard = False  # raise _Diverged on overshoots: set by the L-BFGS loop below (its fast pass only)

    def closure() -> torch.Tensor:
        nonlocal evals, best
        if evals >= steps:
            raise _Exhausted  # a line search may ask for a few evaluations past max_eval
        with torch.no_grad():
            x.clamp_(0, 1)
        opt.zero_grad(set_to_none=True)
        total, c, s = objective(x)
        loss = total.sum()
        value = float(loss.detach())
        if not math.isfinite(value):  # stop now: an inf/NaN loss only spoils the image from here on
            beta = getattr(objective, "beta", config.beta)
            raise FloatingPointError(
                f"the style-transfer loss became {value} at evaluation {evals + 1} (alpha {config.alpha:g}, "
                f"beta {beta:g}); lower alpha and beta (only beta/alpha matters), or check the VGG weights."
            )
        if guard and value > _DIVERGED * best[0]:
            raise _Diverged  # L-BFGS overshot (its curvature pairs go stale under clamping): restart
        loss.backward()
        if on_step is not None:
            on_step(loss.detach(), c, s, evals)
        evals += 1
        if value < best[0]:
            best = (value, x.detach().clone())
        return loss

    if config.optimizer == "lbfgs":
        # one call runs exactly `steps` evaluations unless L-BFGS converges (tolerances) earlier.
        # The fast path is the tutorial's line-search-free L-BFGS; when it overshoots (on some photos
        # its first quasi-Newton step is 100x too long), the run restarts from the best image with a
        # fresh history and a strong-Wolfe line search, which only accepts steps that lower the loss.
        for guard in (True, False):
            left = steps - evals
            if left <= 0:
                break
            opt = torch.optim.LBFGS(
                [x],
                lr=config.lr or 1.0,
                max_iter=left,
                max_eval=left,
                history_size=50,
                line_search_fn=None if guard else "strong_wolfe",
            )
            try:
                opt.step(closure)
                break
            except _Exhausted:
                with torch.no_grad():
                    x.copy_(best[1])  # the line search stopped at a trial point: keep the best image
                break
            except _Diverged:
                log.info("L-BFGS diverged after %d evaluations; restarting from the best image", evals)
                with torch.no_grad():
                    x.copy_(best[1])
    else:
        opt = torch.optim.Adam([x], lr=config.lr or 0.02)
        for _ in range(steps):
            opt.step(closure)
    with torch.no_grad():
        x.clamp_(0, 1)
    return x.detach()


def style_transfer(
    content: ImageLike,
    style: ImageLike,
    *,
    config: TransferConfig | None = None,
    model: VGG19Features | None = None,
    start: ImageLike | None = None,
    callbacks: Sequence[Callable[[TransferStep], None]] = (),
) -> TransferResult:
    """Stylise ``content`` with the style of ``style`` (Gatys et al. 2016).

    Args:
        content: content image: path, ``sample:NAME``, PIL, array or (1, 3, H, W) tensor in [0, 1].
        style: style image, same forms; it is resized so its long side equals ``config.size``.
        config: a :class:`TransferConfig` (defaults: Gatys layers, caffe weights, 512 px, losses
            weighted so that alpha/beta give the same balance at every size).
        model: a VGG19 extractor to reuse (its weights must match ``config.weights``); by default
            one is loaded and truncated after the deepest needed layer.
        start: a warm start: the image the first level starts from instead of ``config.init``
            (e.g. a real-time stylizer's output for this painting, :func:`xstyle.stylizer.train.stylize`),
            in the same forms as ``content``; resized to the first level's height and width (a
            start of another aspect ratio is stretched to the content's).
        callbacks: called with a :class:`TransferStep` after every optimiser evaluation
            (progress bars, logging, early inspection).

    Returns:
        A :class:`TransferResult` with the (1, 3, H, W) image in [0, 1] and its loss history.
    """
    from xstyle.data import resolve_image

    config = config or TransferConfig()
    # before any image is resized to it (not in TransferConfig: a config only describes a run)
    check_memory("size", config.size, vgg19_bytes, what="VGG19 features and their gradients")
    t_start = time.perf_counter()
    content_img = resolve_image(content, size=config.size)
    style_img = resolve_image(style, size=config.size)
    start_img = None if start is None else resolve_image(start, size=config.size).to(content_img.device)
    if any(img is not None and img.shape[0] != 1 for img in (content_img, style_img, start_img)):
        raise ValueError("style_transfer takes one content, style and start image, not batches.")
    colour_content = content_img
    if config.preserve_color:
        content_img, style_img = _luminance_pair(content_img, style_img)
        if start_img is not None:  # the optimisation runs on luminance: so does its start
            start_img = _grey(_luminance(start_img))
    if model is None:
        model = config.load_network()
    gen = torch.Generator().manual_seed(config.seed)
    precision = resolve_precision(config.precision, device=content_img.device.type)
    timings: dict[str, float] = {"setup": time.perf_counter() - t_start}
    history: list[TransferStep] = []
    full_pixels = content_img.shape[-2] * content_img.shape[-1]
    full_factor = _size_factor(config.normalize, max(content_img.shape[-2:]))
    image: torch.Tensor | None = None
    c_prev = content_img  # content of the previous (coarser) level
    # leave the caller's model as found: every training flag and requires_grad restored on exit
    with frozen(model):
        for level, (size, steps) in enumerate(config.schedule):
            t0 = time.perf_counter()
            last = level == len(config.schedule) - 1
            c_lvl = content_img if last else resize_image(content_img, size)
            s_lvl = style_img if last else resize_image(style_img, size)
            # content loss is a sum over positions: scale alpha so the balance holds at every level
            # ("seed"), and to the reference size's balance ("size": times (512 / L)**2, L the output's
            # long side, so a 512 px run is exactly "seed"'s and a 256 px one gets 4x the content weight)
            scale = 1.0
            if config.normalize in ("seed", "size"):
                scale = full_pixels / (c_lvl.shape[-2] * c_lvl.shape[-1]) * full_factor
            objective = StyleObjective(
                model,
                c_lvl,
                s_lvl,
                config,
                content_scale=scale,
                precision=precision,
            )
            if image is None and start_img is not None:
                image = resize_image(start_img, tuple(c_lvl.shape[-2:]))
            elif image is None:
                image = make_initial_image(config.init, c_lvl, s_lvl, generator=gen)
            elif config.upsample == "residual":
                # carry the coarse level's *change* to the content up, keep the content's fine detail
                delta = image - c_prev
                delta = F.interpolate(delta, size=c_lvl.shape[-2:], mode="bilinear", align_corners=False)
                image = (c_lvl + delta).clamp(0, 1)
            else:
                image = F.interpolate(image, size=c_lvl.shape[-2:], mode="bilinear", align_corners=False)
            c_prev = c_lvl

            def record(
                loss, c, s, step, _level=level, _size=size, _weights=(objective.alpha, objective.beta)
            ):
                entry = TransferStep(
                    level=_level,
                    size=_size,
                    step=step,
                    total=float(loss),
                    content=float(c.total.detach().sum()),
                    style=float(s.total.detach().sum()),
                    content_per_layer=c.as_floats(),
                    style_per_layer=s.as_floats(),
                    content_weight=_weights[0],
                    style_weight=_weights[1],
                )
                history.append(entry)
                for callback in callbacks:
                    callback(entry)

            image = optimise_image(objective, image, steps=steps, config=config, on_step=record)
            timings[f"level{level}"] = time.perf_counter() - t0
            log.info(
                "level %d (%d px): %d evaluations in %.1f s", level, size, steps, timings[f"level{level}"]
            )
        assert image is not None
        final_objective = StyleObjective(model, content_img, style_img, config)
        with torch.no_grad():
            total, c, s = final_objective(image)
    final = {
        "total": float(total.sum()),
        "content": float(c.total.sum()),
        "style": float(s.total.sum()),
        "content_per_layer": c.as_floats(),
        "style_per_layer": s.as_floats(),
        "content_weight": final_objective.alpha,
        "style_weight": final_objective.beta,
    }
    if config.preserve_color:
        image = _with_luminance(colour_content, _luminance(image))
    timings["total"] = time.perf_counter() - t_start
    # the arithmetic used ("auto" resolved); the final losses are always scored in float32
    meta = {
        "weights": str(config.weights),
        "network": config.network_name,
        "size_hw": list(image.shape[-2:]),
        "precision": precision,
        "start": "image" if start is not None else config.init,
    }
    if config.normalize == "size":
        meta["normalize_reference_size"] = D.NORMALIZE_REFERENCE_SIZE
    return TransferResult(
        image=image, history=history, final=final, timings=timings, config=config, meta=meta
    )
