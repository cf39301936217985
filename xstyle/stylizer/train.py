"""Training of a feed-forward stylizer: perceptual + total-variation + adversarial losses.

One step (:meth:`StylizerTrainer.train_step`) draws a batch of content crops x, stylises them,
y = T(x), and computes, per sample,

* the content loss of y against x at the content layers (Gatys: ``relu4_2``) and the Gram style
  loss of y against the painting at the style layers (``relu1_1 .. relu5_1``), both with
  :func:`xstyle.losses.content_loss` / :func:`xstyle.losses.style_loss` on the same VGG19
  (``load_vgg19("caffe")``) as the optimisation transfer. ``normalize="mean"`` by default: the
  losses do not grow with the crop size, so a model trained on 128 px crops and one trained on
  256 px crops use the same weights alpha and beta (and the numbers compare across sizes);
* a total-variation loss (mean squared difference of neighbouring pixels);
* the adversarial loss ``BCE(D(patches of y), 1)`` of a :class:`~xstyle.stylizer.model.PatchDiscriminator`
  that learns to tell patches of the painting (random crops with flips and scales: "real") from
  patches of stylised crops ("fake"): the discriminator judges the *style*.

The stylizer minimises ``alpha*content + beta*style + tv_weight*tv + adv_weight*adversarial``
(Adam); the discriminator minimises ``BCE(D(real), 1) + BCE(D(fake), 0)`` (Adam), the losses of
:mod:`xstyle.gan.dcgan`. ``adv_weight=0`` gives Johnson et al.'s purely perceptual training (the
discriminator is then neither run nor trained): the ablation of the adversarial term.

Scales (caffe VGG19, ``normalize="mean"``, 128 px crops, after 100 steps): content loss ~4e5, style
loss ~1.5e9 (the Gatys per-layer weights let ``relu4_1`` dominate; ``relu1_1`` counts for ~1e-5 of
it), TV ~0.01, adversarial BCE ~1.5. The defaults (alpha 1, beta 2e-4, tv_weight 1e7,
adv_weight 5e4) then give about 45 % content, 35 % style, 10 % TV and 10 % adversarial of the
objective. Because the style loss is blind to pixel-level texture, the TV term (and the patch
discriminator) are what act on it; a lower TV weight (1e5) left a visible fine grid in 100-step runs.

Determinism: initialisation from a private :class:`~xstyle.rng.RandomStream` seeded with ``seed``
(the caller's global random state is left alone; training steps run from the stream too, should a
layer ever draw from it); crops, patches and flips from ``torch.Generator`` objects whose states go
into every checkpoint, so a resumed run ends with exactly the weights of an uninterrupted one (on
the CPU). Checkpoints are ``epoch_NNNN.pt`` (state dicts, optimiser and generator states, the style
image as 8-bit pixels, history; loaded with ``weights_only=True``) plus ``epoch_NNNN.json``, each
written atomically.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from xstyle._checkpoint_fields import MISSING, FileKind, SavedConfigMixin, expected_state
from xstyle._checks import check_finite_epoch, check_int
from xstyle._resume import Resumable, refuse_mismatch, write_checkpoint
from xstyle.hooks import FeatureTap, frozen
from xstyle.images import check_rgb
from xstyle.losses import content_loss, discriminator_loss, generator_loss, gram_matrix, style_loss
from xstyle.models.registry import check_network_layers, deepest, get_network, translate_gatys_layers
from xstyle.models.shipped import is_shipped_spec, resolve_shipped, shipped_models
from xstyle.models.vgg import LAYER_NAMES, WEIGHT_SOURCES, VGG19Features
from xstyle.rng import RandomStream
from xstyle.safeload import cast_floats
from xstyle.stylizer.data import ContentSet, PhotoCrops, random_crops
from xstyle.stylizer.model import ArchConfig, PatchDiscriminator, TransformNet

__all__ = [
    "RELEASE_FORMAT",
    "TRAIN_FORMAT",
    "PerceptualLoss",
    "Stylizer",
    "StylizerConfig",
    "StylizerStep",
    "StylizerTrainer",
    "export_stylizer",
    "load_stylizer",
    "shipped_stylizers",
    "stylize",
    "total_variation",
]

log = logging.getLogger(__name__)

TRAIN_FORMAT = "xstyle.stylizer/1"
RELEASE_FORMAT = "xstyle.stylizer-release/1"
#: what loading names such a file, and the formats it may carry
_STYLIZER_FILE = FileKind(
    "model", "an xstyle stylizer", "xstyle stylizer train", (TRAIN_FORMAT, RELEASE_FORMAT)
)
_MAX_STYLE_SIDE = 8192  # the painting a checkpoint stores, px (config.style_size: 512 by default)
_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
_CONTENT_LAYERS = ("relu4_2",)


@dataclass(frozen=True, kw_only=True)
class StylizerConfig(SavedConfigMixin):
    """Hyper-parameters of a stylizer run. Defaults: 256 px crops, ~30 min on a 2-core CPU."""

    epochs: int = 8
    steps_per_epoch: int = 50  # optimisation steps per epoch (an epoch is a checkpoint period)
    batch_size: int = 2  # content crops per step
    crop_size: int = 256  # side of the square content crops, px
    max_scale: float = 1.5  # crops cover between 1/max_scale and all of a photo's short side
    style_size: int = 512  # long side of the painting for the Gram targets and the real patches
    style_scale: tuple[float, float] = (0.8, 1.25)  # rescaling range of the real patches
    patch_size: int = 64  # side of the discriminator's patches, px
    patches_per_image: int = 4  # patches per stylised crop (and as many real ones)
    lr: float = 1e-3  # Adam learning rate of the stylizer
    lr_d: float = 2e-4  # Adam learning rate of the discriminator
    betas_d: tuple[float, float] = (0.5, 0.999)  # Adam betas of the discriminator (DCGAN practice)
    alpha: float = 1.0  # content weight
    beta: float = 2e-4  # style weight (units: content ~1e5, style ~1e9 with caffe VGG19, see README)
    tv_weight: float = 1e7  # total-variation weight (TV of [0, 1] images is ~0.005-0.05)
    adv_weight: float = 5e4  # adversarial weight (BCE ~0.7); 0 = purely perceptual, no discriminator
    content_layers: tuple[str, ...] = _CONTENT_LAYERS
    style_layers: tuple[str, ...] = _STYLE_LAYERS
    normalize: str = "mean"  # "mean" (size-independent) or "seed" (the Gatys formulas)
    weights: str = "caffe"  # VGG19 weights for the losses
    #: the loss network (xstyle.models.list_networks()); None: VGG19 with ``weights``. On another
    #: network the default (VGG19) layer names become its own by position
    network: str | None = None
    arch: ArchConfig = field(default_factory=ArchConfig)
    seed: int = 0
    checkpoint_every: int = 1  # epochs between checkpoints (the last epoch is always saved)
    out_dir: str | None = None  # where checkpoints go (None: nothing on disk)

    def __post_init__(self) -> None:
        if isinstance(self.arch, dict):
            object.__setattr__(self, "arch", ArchConfig.from_dict(self.arch))
        for name in ("style_scale", "betas_d", "content_layers", "style_layers"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in (
            "epochs",
            "steps_per_epoch",
            "batch_size",
            "crop_size",
            "style_size",
            "patch_size",
            "patches_per_image",
            "checkpoint_every",
        ):
            check_int(getattr(self, name), name, 0 if name == "epochs" else 1)
        if self.crop_size < 16:
            raise ValueError(f"crop_size must be at least 16 px; got {self.crop_size}.")
        if self.patch_size > self.crop_size:
            raise ValueError(
                f"patch_size ({self.patch_size}) must not exceed crop_size ({self.crop_size}); "
                "use smaller patches or larger crops."
            )
        if self.patch_size < 16:
            raise ValueError(f"patch_size must be at least 16 px; got {self.patch_size}.")
        for name in ("alpha", "beta", "tv_weight", "adv_weight"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
        if self.alpha == 0 and self.beta == 0:
            raise ValueError(
                "alpha and beta are both 0, so the stylizer would learn neither content nor style; "
                "give beta > 0 (style) and/or alpha > 0 (content)."
            )
        for name in ("lr", "lr_d"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value < 1):
                raise ValueError(f"{name} must be a number in (0, 1); got {value!r}.")
        if not self.max_scale >= 1:
            raise ValueError(f"max_scale must be >= 1; got {self.max_scale!r}.")
        if len(self.style_scale) != 2 or not 0 < self.style_scale[0] <= self.style_scale[1]:
            raise ValueError(f"style_scale must be two numbers 0 < lo <= hi; got {self.style_scale!r}.")
        if self.normalize not in ("seed", "mean"):
            raise ValueError(f"normalize must be 'seed' or 'mean'; got {self.normalize!r}.")
        if self.network is not None:
            for name in ("content_layers", "style_layers"):
                layers = translate_gatys_layers(self.network, getattr(self, name))
                object.__setattr__(self, name, tuple(layers))
        for name in ("content_layers", "style_layers"):
            check_network_layers(self.network_name, getattr(self, name), param=name)

    @property
    def network_name(self) -> str:
        """The loss network's spec (``network``, else VGG19 with ``weights``)."""
        if self.network is not None:
            return self.network
        return f"vgg19-{self.weights}" if self.weights in WEIGHT_SOURCES else "vgg19"

    @property
    def deepest_layer(self) -> str:
        if self.network is None:
            return max((*self.content_layers, *self.style_layers), key=LAYER_NAMES.index)
        return deepest(self.network, (*self.content_layers, *self.style_layers))

    def load_network(self, *, last_layer: str | None = None):
        """The loss network; VGG19 truncated after ``last_layer`` (default :attr:`deepest_layer`)."""
        file = None if self.network is not None or self.weights in WEIGHT_SOURCES else self.weights
        return get_network(self.network_name, weights=file, last_layer=last_layer or self.deepest_layer)


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of horizontally and vertically neighbouring pixels, per image (B,)."""
    dx = (images[..., :, 1:] - images[..., :, :-1]).pow(2).flatten(1).mean(1)
    dy = (images[..., 1:, :] - images[..., :-1, :]).pow(2).flatten(1).mean(1)
    return dx + dy


class PerceptualLoss:
    """Content and style losses of stylised images, from xstyle.losses on a VGG19.

    Args:
        vgg: a VGG19 extractor (truncated at or after the deepest layer).
        style: (1, 3, H, W) painting in [0, 1]; its Gram matrices are computed once.
    ``loss(stylised, content)`` returns ``{"content": (B,), "style": (B,), "style_per_layer": {...}}``
    with gradients flowing into ``stylised``.
    """

    def __init__(
        self,
        vgg: nn.Module,
        style: torch.Tensor,
        *,
        content_layers: Sequence[str] = _CONTENT_LAYERS,
        style_layers: Sequence[str] = _STYLE_LAYERS,
        normalize: str = "mean",
    ) -> None:
        self.vgg = vgg
        self.content_layers = list(content_layers)
        self.style_layers = list(style_layers)
        self.layers = list(dict.fromkeys([*self.content_layers, *self.style_layers]))
        self.normalize = normalize
        self.style_weights = {n: 1.0 / len(self.style_layers) for n in self.style_layers}
        with torch.no_grad(), FeatureTap(vgg, self.style_layers, stop_after_last=True) as tap:
            feats = tap.run(style)
        self.grams = {n: gram_matrix(feats[n], normalize=normalize) for n in self.style_layers}

    def content_features(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.no_grad(), FeatureTap(self.vgg, self.content_layers, stop_after_last=True) as tap:
            return tap.run(content)

    def __call__(self, stylised: torch.Tensor, content: torch.Tensor) -> dict[str, Any]:
        targets = self.content_features(content)
        with FeatureTap(self.vgg, self.layers, detach=False, stop_after_last=True) as tap:
            feats = tap.run(stylised)
        c = content_loss(feats, targets, normalize=self.normalize)
        s = style_loss(feats, self.grams, weights=self.style_weights, normalize=self.normalize)
        return {"content": c.total, "style": s.total, "style_per_layer": s.per_layer}


@dataclass(frozen=True)
class StylizerStep:
    """One optimisation step: epoch (1-based), global step, losses (batch means) and D outputs."""

    epoch: int
    step: int
    total: float
    content: float
    style: float
    tv: float
    adversarial: float  # BCE(D(fake), 1); 0 without the adversarial term
    d_loss: float  # BCE(D(real), 1) + BCE(D(fake), 0); 0 without it
    d_real: float  # mean sigmoid(D(real patches))
    d_fake: float  # mean sigmoid(D(fake patches))
    seconds: float


@dataclass(eq=False)
class Stylizer:
    """A loaded stylizer: the network, its discriminator, the painting, config and history."""

    net: TransformNet
    discriminator: PatchDiscriminator
    style: torch.Tensor  # (1, 3, H, W) in [0, 1] at config.style_size
    config: StylizerConfig
    epoch: int
    history: list[dict]
    meta: dict = field(default_factory=dict)
    path: Path | None = None
    state: dict = field(default_factory=dict, repr=False)


def _to_uint8(image: torch.Tensor) -> torch.Tensor:
    return (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)


class StylizerTrainer(Resumable):
    """Train one stylizer for one painting.

    Example::

        from xstyle.stylizer import StylizerConfig, StylizerTrainer, load_content_photos
        photos = ContentSet(load_content_photos("train"), "shipped photos")
        trainer = StylizerTrainer(photos, load_sample("starry_night", size=512),
                                  config=StylizerConfig(epochs=8, out_dir="runs/starry"))
        trainer.fit(callbacks=[print])        # StylizerStep per step
        trainer.net                           # the trained TransformNet

    Args:
        content: training photos.
        style: (1, 3, H, W) painting in [0, 1]; resized so its long side is ``config.style_size``.
        config: hyper-parameters.
        resume: a checkpoint to continue from (seed, batch and crop sizes must match): its path, or
            the :class:`Stylizer` :func:`load_stylizer` already returned for it.
        vgg: the loss network (default ``load_vgg19(config.weights)`` truncated after the deepest layer).
        style_name: how the painting is called in metadata (e.g. ``sample:starry_night``).
    """

    RESUMABLE: ClassVar[dict[str, tuple[str, ...]]] = {
        "modules": ("net", "discriminator"),
        "optimisers": ("opt_g", "opt_d"),
        "generators": ("crop_rng", "patch_rng"),
    }

    def __init__(
        self,
        content: ContentSet,
        style: torch.Tensor,
        *,
        config: StylizerConfig | None = None,
        resume: str | Path | Stylizer | None = None,
        vgg: VGG19Features | None = None,
        style_name: str = "style",
    ) -> None:
        from xstyle.images import resize_image

        self.config = cfg = config or StylizerConfig()
        self.content = content
        if not isinstance(style, torch.Tensor) or style.ndim != 4 or style.shape[:2] != (1, 3):
            raise ValueError("style must be one RGB image of shape (1, 3, H, W) in [0, 1].")
        self.style = resize_image(style, cfg.style_size)
        self.style_name = style_name
        self.vgg = vgg if vgg is not None else cfg.load_network()
        self.loss = PerceptualLoss(
            self.vgg,
            self.style,
            content_layers=cfg.content_layers,
            style_layers=cfg.style_layers,
            normalize=cfg.normalize,
        )
        self.rng = RandomStream(cfg.seed)
        with self.rng.active():
            self.net = TransformNet(cfg.arch)
            self.discriminator = PatchDiscriminator(cfg.arch)
        self.opt_g = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=cfg.lr_d, betas=cfg.betas_d)
        self.crop_rng = torch.Generator().manual_seed(cfg.seed + 1)
        self.patch_rng = torch.Generator().manual_seed(cfg.seed + 2)
        self.crops = PhotoCrops(content, cfg.crop_size, generator=self.crop_rng, max_scale=cfg.max_scale)
        self.epoch = 0
        self.step = 0
        self.history: list[dict] = []  # one summary per epoch
        self.steps: list[dict] = []  # one entry per step (loss curves)
        self.seconds = 0.0
        if resume is not None:
            self._restore(resume if isinstance(resume, Stylizer) else load_stylizer(resume))

    def _restore(self, ckpt: Stylizer) -> None:
        if ckpt.state.get("format") != TRAIN_FORMAT:
            raise ValueError(
                f"cannot resume from {str(ckpt.path)!r}: it is a release (weights only); resume from an "
                "epoch_NNNN.pt checkpoint written by `xstyle stylizer train`."
            )
        refuse_mismatch(
            ckpt.config, self.config, ("seed", "batch_size", "crop_size", "steps_per_epoch", "arch")
        )
        if ckpt.meta.get("style_name") not in (None, self.style_name):
            raise ValueError(
                f"cannot resume: the checkpoint was trained on style {ckpt.meta['style_name']!r}, "
                f"this run asks for {self.style_name!r}; use the same --style."
            )
        s = ckpt.state
        self.unpack_state(s)
        self.epoch, self.step = ckpt.epoch, int(s["step"])
        self.history, self.steps = list(ckpt.history), list(s.get("steps", []))
        self.seconds = float(s.get("seconds", 0.0))

    def _patches(self, images: torch.Tensor) -> torch.Tensor:
        """``patches_per_image`` random patches of each image (no rescaling, no flips), stacked."""
        k, p = self.config.patches_per_image, self.config.patch_size
        out = []
        h, w = images.shape[-2:]
        for img in images:
            for _ in range(k):
                top = int(torch.randint(0, h - p + 1, (), generator=self.patch_rng))
                left = int(torch.randint(0, w - p + 1, (), generator=self.patch_rng))
                out.append(img[:, top : top + p, left : left + p])
        return torch.stack(out)

    def train_step(self) -> dict[str, float]:
        """One step of both networks; returns the batch means of every loss and D output."""
        with self.rng.active():
            return self._step()

    def _step(self) -> dict[str, float]:
        cfg = self.config
        x = self.crops.next_batch(cfg.batch_size)
        y = self.net(x)
        losses = self.loss(y, x)
        tv = total_variation(y)
        perceptual = cfg.alpha * losses["content"] + cfg.beta * losses["style"] + cfg.tv_weight * tv
        g_loss = perceptual.mean()
        adversarial = d_loss = d_real = d_fake = torch.zeros(())
        g_params = list(self.net.parameters())
        if cfg.adv_weight > 0:
            d = self.discriminator
            fake = self._patches(y)
            n_real = fake.shape[0]
            real = random_crops(
                self.style, n_real, cfg.patch_size, generator=self.patch_rng, scale=cfg.style_scale
            )
            fake_logits = d(fake)
            adversarial = generator_loss(fake_logits)
            g_loss = g_loss + cfg.adv_weight * adversarial
            g_grads = torch.autograd.grad(g_loss, g_params)
            real_logits, fake_logits_d = d(real), d(fake.detach())
            d_loss = discriminator_loss(real_logits, fake_logits_d)
            d_params = list(d.parameters())
            d_grads = torch.autograd.grad(d_loss, d_params)
            for p, grad in zip(d_params, d_grads, strict=True):
                p.grad = grad
            self.opt_d.step()
            d_real, d_fake = real_logits.detach().sigmoid().mean(), fake_logits_d.detach().sigmoid().mean()
        else:
            g_grads = torch.autograd.grad(g_loss, g_params)
        for p, grad in zip(g_params, g_grads, strict=True):
            p.grad = grad
        self.opt_g.step()
        values = torch.stack(
            [
                g_loss.detach(),
                losses["content"].detach().mean(),
                losses["style"].detach().mean(),
                tv.detach().mean(),
                adversarial.detach(),
                d_loss.detach(),
                d_real,
                d_fake,
            ]
        ).tolist()
        keys = ("total", "content", "style", "tv", "adversarial", "d_loss", "d_real", "d_fake")
        return dict(zip(keys, values, strict=True))

    def fit(
        self,
        *,
        epochs: int | None = None,
        callbacks: Sequence[Callable[[StylizerStep], None]] = (),
        epoch_callbacks: Sequence[Callable[[int, dict], None]] = (),
        max_seconds: float | None = None,
    ) -> list[dict]:
        """Train until ``epochs`` (default ``config.epochs``) epochs in total have run.

        ``callbacks`` get every :class:`StylizerStep`; ``epoch_callbacks`` get ``(epoch, summary)``
        before the epoch's checkpoint is written and may add entries to ``summary``.
        ``max_seconds``: a time budget for this call; no epoch starts that would, at the pace of the
        last one, end past it (the first always runs), and the last epoch run is checkpointed.
        (The number of epochs then depends on the machine's speed; the checkpoint records it.)
        Returns the per-epoch history.
        """
        cfg = self.config
        total = cfg.epochs if epochs is None else epochs
        self.net.train()
        self.discriminator.train()
        t_fit = time.perf_counter()
        last_epoch_seconds = 0.0
        while self.epoch < total:
            t_epoch = time.perf_counter()
            ran = last_epoch_seconds > 0  # at least one epoch runs in every call
            if max_seconds is not None and ran and t_epoch - t_fit + last_epoch_seconds > max_seconds:
                log.info("time budget of %.0f s reached after epoch %d", max_seconds, self.epoch)
                break
            sums: dict[str, float] = {}
            for _ in range(cfg.steps_per_epoch):
                t0 = time.perf_counter()
                values = self.train_step()
                dt = time.perf_counter() - t0
                self.step += 1
                self.seconds += dt
                for k, v in values.items():
                    sums[k] = sums.get(k, 0.0) + v
                entry = StylizerStep(self.epoch + 1, self.step, seconds=dt, **values)
                self.steps.append(asdict(entry))
                for callback in callbacks:
                    callback(entry)
            self.epoch += 1
            summary = {"epoch": self.epoch, "step": self.step}
            summary.update({k: v / cfg.steps_per_epoch for k, v in sums.items()})
            summary["seconds"] = last_epoch_seconds = time.perf_counter() - t_epoch
            summary["steps_per_second"] = cfg.steps_per_epoch / summary["seconds"]
            check_finite_epoch(
                summary,
                epoch=self.epoch,
                hint="lower the learning rate (--lr) or the loss weights, or resume from an earlier "
                "checkpoint.",
            )
            self.history.append(summary)
            log.info(
                "epoch %d: total %.4g style %.4g content %.4g",
                self.epoch,
                summary["total"],
                summary["style"],
                summary["content"],
            )
            for callback in epoch_callbacks:
                callback(self.epoch, summary)
            out_of_time = max_seconds is not None and (
                time.perf_counter() - t_fit + last_epoch_seconds > max_seconds
            )
            if cfg.out_dir is not None and (
                self.epoch % cfg.checkpoint_every == 0 or self.epoch == total or out_of_time
            ):
                self.save_checkpoint(Path(cfg.out_dir) / f"epoch_{self.epoch:04d}.pt")
        self.net.eval()
        self.discriminator.eval()
        return self.history

    def _meta(self) -> dict:
        return {
            "style_name": self.style_name,
            "content_source": self.content.source,
            "content_photos": self.content.names[:50],
            "n_content_photos": len(self.content),
        }

    def save_checkpoint(self, path: str | Path, *, metrics: dict | None = None) -> Path:
        """Write ``path`` (.pt) and its JSON metadata atomically; returns the .pt path."""
        path = Path(path)
        state = {
            "format": TRAIN_FORMAT,
            **self.pack_state(),
            "style": _to_uint8(self.style),
            "epoch": self.epoch,
            "step": self.step,
            "seconds": self.seconds,
            "config": self.config.to_dict(),
            "history": self.history,
            "steps": self.steps,
            "meta": self._meta(),
        }
        _write(path, state, metrics)
        return path


def _write(path: Path, state: dict, metrics: dict | None) -> None:
    card = {
        "format": state["format"],
        "epoch": state["epoch"],
        "step": state["step"],
        "training_seconds": state.get("seconds"),
        "config": state["config"],
        "meta": state["meta"],
        "metrics": metrics or {},
        "history": state["history"],
    }
    write_checkpoint(path, state, card)


def shipped_stylizers() -> dict[str, Path]:
    """The stylizers the project trained and ships: name -> release path (model card beside it)."""
    return {name: m.path for name, m in shipped_models("stylizer").items()}


def load_stylizer(path: str | Path) -> Stylizer:
    """Load a stylizer checkpoint or release (``weights_only=True``; nothing in the file runs).

    ``path`` may also be ``"shipped:NAME"`` for a stylizer shipped with xstyle
    (:func:`shipped_stylizers` lists them).

    Every field is checked before it is used (config settings, the weights' names, shapes and
    finiteness, the painting, epoch, step, history, metadata, and in a trainer checkpoint the
    optimiser and random-generator states a resume loads).

    Raises:
        ValueError: one line: missing file, not loadable safely, not a stylizer, wrong architecture,
            or a bad field (named).
    """
    if is_shipped_spec(path):
        path = resolve_shipped(path, "stylizer", what="model")
    path = Path(path)
    state, check = _STYLIZER_FILE.open(path)
    config = check.config(StylizerConfig, state.get("config", MISSING))
    weights = {  # checked against the architecture built on the meta device: nothing allocated
        name: check.state_dict(
            state.get(name, MISSING),
            name,
            expected_state(lambda build=build: build(config.arch)),
            kind="the stylizer architecture",
        )
        for name, build in (("net", TransformNet), ("discriminator", PatchDiscriminator))
    }
    style = state.get("style", MISSING)
    if not (
        isinstance(style, torch.Tensor)
        and style.dtype == torch.uint8
        and style.ndim == 4
        and style.shape[:2] == (1, 3)
        and 1 <= min(style.shape[2:]) <= max(style.shape[2:]) <= _MAX_STYLE_SIDE
    ):
        check.fail("style", f"a uint8 image tensor (1, 3, H, W), sides of 1 to {_MAX_STYLE_SIDE} px", style)
    epoch = check.integer(state.get("epoch", 0), "epoch")
    check.integer(state.get("step", 0), "step")
    check.number(state.get("seconds"), "seconds", optional=True)
    history = check.records(state.get("history", []), "history")
    meta = check.json_value(state.get("meta", {}), "meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("style_name", ""), str):
        check.fail("meta", "a dict with a string 'style_name'", meta)
    if "steps" in state:
        check.records(state["steps"], "steps")
    net, disc = TransformNet(config.arch), PatchDiscriminator(config.arch)
    if state["format"] == TRAIN_FORMAT:
        check.resume_state(
            state, optimisers={"opt_g": net, "opt_d": disc}, generators=("crop_rng", "patch_rng", "torch_rng")
        )
    net.load_state_dict(cast_floats(weights["net"], torch.float32))  # releases may store float16
    disc.load_state_dict(cast_floats(weights["discriminator"], torch.float32))
    net.eval()
    disc.eval()
    return Stylizer(
        net=net,
        discriminator=disc,
        style=style.float().div(255),
        config=config,
        epoch=epoch,
        history=history,
        meta=dict(meta),
        path=path,
        state=state,
    )


def export_stylizer(checkpoint: str | Path, path: str | Path, *, metrics: dict | None = None) -> Path:
    """Write the weights of a checkpoint as a release (no optimiser state) with a JSON model card."""
    ckpt = load_stylizer(checkpoint)
    state = {
        "format": RELEASE_FORMAT,
        "net": ckpt.net.state_dict(),
        "discriminator": ckpt.discriminator.state_dict(),
        "style": ckpt.state["style"],
        "epoch": ckpt.epoch,
        "step": int(ckpt.state.get("step", 0)),
        "seconds": ckpt.state.get("seconds"),
        "config": ckpt.config.to_dict(),
        "history": ckpt.history,
        "meta": ckpt.meta,
    }
    path = Path(path)
    _write(path, state, metrics)
    return path


def stylize(net: nn.Module, images: torch.Tensor, *, batch_size: int = 4) -> torch.Tensor:
    """Stylise (N, 3, H, W) images in [0, 1] with ``net`` (no gradients); the net's mode is restored."""
    check_rgb(images, name="images")
    with frozen(net), torch.no_grad():
        return torch.cat([net(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])
