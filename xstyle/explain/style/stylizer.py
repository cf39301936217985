"""Explaining a trained stylizer with the tools of the optimisation transfer.

* :func:`evaluate_stylizer` — style loss, content loss and SSIM to the content of the stylizer's
  outputs on (held-out) photos, the numbers the benchmark sets against the optimisation transfer;
* :func:`stylizer_pixel_maps` — Captum attributions of the *output's* style loss and content loss
  to the *input* pixels, through the existing targets (:class:`StyleLossTarget`,
  :class:`ContentLossTarget`) composed with the stylizer (:class:`StylizedLossTarget`) and the
  existing adapter :func:`~xstyle.explain.attribution.engine.attribute`;
* :func:`discriminator_patch_maps` — which patches the patch discriminator finds "in style": its
  native logit map on the output, the photo and the painting, and an IG map of its mean logit;
* :func:`ablate_blocks` — which residual blocks (and channels) carry the style: each block's
  residual branch is zero-ablated with :class:`~xstyle.hooks.Intervention` and the change of the
  style and content losses is measured;
* :func:`explain_stylizer` — all of the above for one photo (the CLI's ``stylizer explain``).

Every function leaves the networks as found (mode and ``requires_grad``) and no hook behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle._stats import ssim
from xstyle.explain.attribution.engine import attribute
from xstyle.explain.attribution.targets import (
    GATYS_CONTENT_LAYERS,
    GATYS_STYLE_LAYERS,
    ContentLossTarget,
    ModelTarget,
    StyleLossTarget,
    Target,
)
from xstyle.explain.style.stylizer_plots import (
    BlockAblationDisplay,
    DiscriminatorPatchDisplay,
    StylizerAttributionDisplay,
)
from xstyle.hooks import Intervention, frozen
from xstyle.images import check_rgb
from xstyle.stylizer.model import PatchDiscriminator, TransformNet
from xstyle.transfer import StyleObjective, TransferConfig

if TYPE_CHECKING:
    from xstyle.explain.style.stylizer_plots import (
        BlockAblationDisplay,
        DiscriminatorPatchDisplay,
        StylizerAttributionDisplay,
    )

__all__ = [
    "BlockAblationResult",
    "DiscriminatorPatchResult",
    "PatchDiscriminatorTarget",
    "StylizedLossTarget",
    "StylizerAttributionResult",
    "StylizerEvaluation",
    "StylizerExplanation",
    "ablate_blocks",
    "discriminator_patch_maps",
    "evaluate_stylizer",
    "explain_stylizer",
    "image_losses",
    "stylizer_pixel_maps",
]

Progress = Callable[[str], None]


def _losses(objective: StyleObjective, image: torch.Tensor) -> dict[str, float]:
    """``{"content", "style", "style_<layer>"...}`` of ``image`` (1, 3, H, W) under ``objective``."""
    with torch.no_grad():
        _, c, s = objective(image)
    return {"content": float(c.total.sum()), "style": float(s.total.sum())} | {
        f"style_{k}": v for k, v in s.as_floats().items()
    }


def image_losses(
    image: torch.Tensor,
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    vgg: nn.Module,
    normalize: str = "seed",
    content_layers: Sequence[str] = GATYS_CONTENT_LAYERS,
    style_layers: Sequence[str] = GATYS_STYLE_LAYERS,
) -> dict[str, float]:
    """Content and style loss of ``image`` against ``content`` and ``style`` (Gatys formulas by default).

    The losses are :class:`~xstyle.transfer.StyleObjective`'s, so ``normalize="seed"`` gives the
    numbers :class:`~xstyle.transfer.TransferResult` reports (``final``): a stylizer's output and an
    optimisation result compare directly. Returns ``{"content", "style", "style_<layer>"...}`` as floats.

    ``vgg`` is a VGG19 extractor and the layers are its names (``relu4_2``...), each counted once;
    with ``content_layers=()`` only the style is measured (``content`` is 0).
    """
    config = TransferConfig(
        normalize=normalize,
        content_layers=tuple(dict.fromkeys(content_layers)),
        style_layers=tuple(dict.fromkeys(style_layers)),
    )
    return _losses(StyleObjective(vgg, content, style, config), image)


@dataclass(frozen=True, eq=False)
class StylizerEvaluation:
    """Losses of a stylizer's outputs on named photos.

    Attributes:
        per_image: name -> {"content", "style", "ssim", "seconds", "style_<layer>"...}.
        mean: the mean of each number over the photos.
        images: name -> (1, 3, H, W) output (kept when asked for).
    """

    per_image: dict[str, dict[str, float]]
    mean: dict[str, float]
    size: int
    normalize: str
    images: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return field_dict(self, "size", "normalize", "mean", "per_image")


def evaluate_stylizer(
    net: nn.Module,
    photos: Mapping[str, torch.Tensor],
    style: torch.Tensor,
    *,
    vgg: nn.Module,
    size: int = 256,
    normalize: str = "seed",
    keep_images: bool = False,
) -> StylizerEvaluation:
    """Stylise each photo (resized so its long side is ``size``) and measure losses and SSIM.

    Args:
        net: the stylizer.
        photos: name -> (1, 3, H, W) in [0, 1] (e.g. ``load_content_photos("heldout")``).
        style: (1, 3, H, W) the painting at the size the losses should use (the optimisation
            transfer resizes it to ``size``; do the same to compare).
        vgg: the loss network.
    """
    from xstyle.images import resize_image

    if not photos:
        raise ValueError("photos must hold at least one image.")
    per_image, images = {}, {}
    with frozen(net, vgg):
        for name, photo in photos.items():
            check_rgb(photo, name=f"photos[{name!r}]", single=True)
            x = resize_image(photo, size)
            t0 = time.perf_counter()
            with torch.no_grad():
                y = net(x)
            seconds = time.perf_counter() - t0
            row = image_losses(y, x, style, vgg=vgg, normalize=normalize)
            row["ssim"] = ssim(y, x)
            row["seconds"] = seconds
            per_image[name] = row
            if keep_images:
                images[name] = y
    keys = next(iter(per_image.values())).keys()
    mean = {k: sum(r[k] for r in per_image.values()) / len(per_image) for k in keys}
    return StylizerEvaluation(per_image=per_image, mean=mean, size=size, normalize=normalize, images=images)


class StylizedLossTarget(Target):
    """``inner(net(x))``: a loss target of the stylizer's *output* as a function of its *input* x.

    ``inner`` is a :class:`StyleLossTarget` or :class:`ContentLossTarget` (or any image target);
    :attr:`model` is the stylizer, so layer methods name its layers (``"res2"``, ``"up1"``, ...).
    """

    def __init__(self, net: nn.Module, inner: Target) -> None:
        super().__init__()
        self.model = net
        self.inner = inner

    @property
    def label(self) -> str:
        return f"{self.inner.label} of the stylizer output"

    def networks(self) -> list[nn.Module]:
        return [self.model, *self.inner.networks()]

    def with_model(self, model: nn.Module) -> StylizedLossTarget:
        return StylizedLossTarget(model, self.inner)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.inner(self.model(inputs))


class PatchDiscriminatorTarget(ModelTarget):
    """The patch discriminator's mean logit over its map, (N,) (positive = "in style")."""

    @property
    def label(self) -> str:
        return "patch discriminator mean logit"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images).flatten(1).mean(1)


def _evidence(attributions: torch.Tensor) -> torch.Tensor:
    """(H, W) share of the loss reduction from the baseline to the input (sums to 1)."""
    raw = -attributions[0].sum(0).double()
    total = raw.sum()
    return raw if abs(float(total)) < 1e-300 else raw / total


@dataclass(frozen=True, eq=False)
class StylizerAttributionResult(Plottable):
    """Pixel attributions of the output's style and content losses to the stylizer's input.

    Attributes:
        content: (1, 3, H, W) the input photo; output: its stylisation.
        style_map, content_map: (H, W) raw attributions (summed over colour) of the style and the
            content loss of the output (negative = the input pixel lowers the loss vs the baseline).
        style_evidence, content_evidence: (H, W) the same as shares of the loss reduction (sum 1).
        dominance: style_evidence - content_evidence (> 0 where the pixel does more for the style).
        losses: {"style"|"content": {"image", "baseline"}}; completeness: IG completeness errors.
    """

    display: ClassVar[type[StylizerAttributionDisplay]] = StylizerAttributionDisplay

    content: torch.Tensor
    output: torch.Tensor
    style_map: torch.Tensor
    content_map: torch.Tensor
    style_evidence: torch.Tensor
    content_evidence: torch.Tensor
    dominance: torch.Tensor
    losses: dict[str, dict[str, float | None]]
    completeness: dict[str, float | None]
    method: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "size": list(self.content.shape[-2:]),
            "losses": self.losses,
            "completeness_error": self.completeness,
            "style_wins_fraction": float((self.dominance > 0).double().mean()),
            "seconds": self.seconds,
        }


def stylizer_pixel_maps(
    net: nn.Module,
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    vgg: nn.Module,
    method: str = "ig",
    baselines: str | torch.Tensor = "blur",
    n_steps: int = 16,
    normalize: str = "seed",
    seed: int = 0,
    **attribute_options: Any,
) -> StylizerAttributionResult:
    """Attribute the style loss and the content loss of ``net(content)`` to the pixels of ``content``.

    Args:
        net: the stylizer; content: (1, 3, H, W) photo in [0, 1]; style: (1, 3, H', W') painting.
        vgg: the loss network. method/baselines/n_steps: see
            :func:`~xstyle.explain.attribution.engine.attribute`.
    The content loss compares the output with the (unchanged) photo, so the baseline's score is the
    content loss of the stylised baseline against the photo.

    Baseline: a blur of the photo (default), not black. The stylizer's first instance normalisation
    removes the scale and offset of its input, so ``net(a * x) == net(x)`` for every ``a > 0``: on
    the straight path from a black (or flat-colour) baseline the output does not change until the
    very start, and integrated gradients cannot account for the difference (completeness fails).
    A blur changes the image's structure, not its scale.
    """
    check_rgb(content, name="content", single=True)
    check_rgb(style, name="style", single=True)
    start = time.perf_counter()
    style_t = StylizedLossTarget(net, StyleLossTarget(vgg, style, normalize=normalize))
    content_t = StylizedLossTarget(net, ContentLossTarget(vgg, content, normalize=normalize))
    opts = dict(method=method, baselines=baselines, n_steps=n_steps, seed=seed, **attribute_options)
    s_res = attribute(style_t, content, **opts)
    c_res = attribute(content_t, content, **opts)
    with frozen(net), torch.no_grad():
        output = net(content)
    s_ev, c_ev = _evidence(s_res.attributions), _evidence(c_res.attributions)

    def losses(res) -> dict[str, float | None]:
        base = None if res.baseline_scores is None else float(res.baseline_scores[0])
        return {"image": float(res.scores[0]), "baseline": base}

    return StylizerAttributionResult(
        content=content.detach(),
        output=output,
        style_map=s_res.attributions[0].sum(0),
        content_map=c_res.attributions[0].sum(0),
        style_evidence=s_ev,
        content_evidence=c_ev,
        dominance=s_ev - c_ev,
        losses={"style": losses(s_res), "content": losses(c_res)},
        completeness={"style": s_res.completeness(), "content": c_res.completeness()},
        method=method,
        seconds=time.perf_counter() - start,
    )


@dataclass(frozen=True, eq=False)
class DiscriminatorPatchResult(Plottable):
    """Where the patch discriminator sees the style.

    Attributes:
        images: {"output", "content", "style"} -> (1, 3, H, W) the judged images.
        probability: same keys -> (h, w) sigmoid of the logit map (1 = "a patch of the painting").
        mean_probability: same keys -> mean of that map.
        pixel_map: (H, W) IG attribution of the mean logit of the output to its pixels (positive =
            the pixel makes the output look more like the painting to D); None if not computed.
    """

    display: ClassVar[type[DiscriminatorPatchDisplay]] = DiscriminatorPatchDisplay

    images: dict[str, torch.Tensor]
    probability: dict[str, torch.Tensor]
    mean_probability: dict[str, float]
    pixel_map: torch.Tensor | None
    completeness: float | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_probability": self.mean_probability,
            "map_size": {k: list(v.shape) for k, v in self.probability.items()},
            "completeness_error": self.completeness,
            "seconds": self.seconds,
        }


def discriminator_patch_maps(
    discriminator: nn.Module,
    output: torch.Tensor,
    *,
    content: torch.Tensor | None = None,
    style: torch.Tensor | None = None,
    attribution: bool = True,
    n_steps: int = 16,
    baselines: str | torch.Tensor = "blur",
    seed: int = 0,
) -> DiscriminatorPatchResult:
    """Judge ``output`` (and optionally the photo and the painting) patch by patch.

    The patch discriminator's logit map is its own patch-level explanation (each logit sees one
    receptive field, about 46 px); ``attribution`` adds an IG map of the output's mean logit to
    its pixels (default baseline: a blur, which asks what the fine texture contributes).

    Args:
        discriminator: the stylizer's patch discriminator (logits (B, 1, h, w)).
        output, content, style: (1, 3, H, W) RGB images in [0, 1]; ``content`` and ``style``
            (optional) are judged too, for comparison.

    Returns:
        A :class:`DiscriminatorPatchResult`: per image an (h, w) probability map in [0, 1] and its
        mean, and the output's (H, W) pixel map (None without ``attribution``).
    """
    check_rgb(output, name="output", single=True)
    start = time.perf_counter()
    images = {"output": output}
    for name, img in (("content", content), ("style", style)):
        if img is not None:
            check_rgb(img, name=name, single=True)
            images[name] = img
    probability, mean_p = {}, {}
    with frozen(discriminator), torch.no_grad():
        for name, img in images.items():
            p = discriminator(img)[0, 0].sigmoid()
            probability[name], mean_p[name] = p, float(p.mean())
    pixel_map, completeness = None, None
    if attribution:
        res = attribute(
            PatchDiscriminatorTarget(discriminator),
            output,
            method="ig",
            baselines=baselines,
            n_steps=n_steps,
            seed=seed,
        )
        pixel_map, completeness = res.attributions[0].sum(0), res.completeness()
    return DiscriminatorPatchResult(
        images={k: v.detach() for k, v in images.items()},
        probability=probability,
        mean_probability=mean_p,
        pixel_map=pixel_map,
        completeness=completeness,
        seconds=time.perf_counter() - start,
    )


@dataclass(frozen=True, eq=False)
class BlockAblationResult(Plottable):
    """Which residual blocks and channels carry the style.

    Attributes:
        baseline: {"style", "content"} losses of the intact output.
        blocks: block -> {"style", "content", "style_change", "content_change"} with the block's
            residual branch zero-ablated (relative changes: (after - before) / before).
        images: "intact" and each block -> (1, 3, H, W) output.
        channel_style_change: block -> (C,) relative style-loss change when one channel of the
            block's branch is zero-ablated (empty if channels were not ablated).
    """

    display: ClassVar[type[BlockAblationDisplay]] = BlockAblationDisplay

    baseline: dict[str, float]
    blocks: dict[str, dict[str, float]]
    images: dict[str, torch.Tensor]
    channel_style_change: dict[str, torch.Tensor]
    content: torch.Tensor
    seconds: float

    def top_channels(self, n: int = 5) -> list[dict[str, Any]]:
        """The ``n`` channels whose ablation raises the style loss most, over all blocks."""
        rows = [
            {"block": b, "channel": i, "style_change": float(v)}
            for b, values in self.channel_style_change.items()
            for i, v in enumerate(values.tolist())
        ]
        return sorted(rows, key=lambda r: -r["style_change"])[:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "blocks": self.blocks,
            "top_channels": self.top_channels(10),
            "seconds": self.seconds,
        }


def ablate_blocks(
    net: TransformNet,
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    vgg: nn.Module,
    blocks: Sequence[str] | None = None,
    channels: bool = True,
    normalize: str = "seed",
    progress: Progress | None = None,
) -> BlockAblationResult:
    """Zero-ablate each residual block's branch (the block becomes the identity) and, with
    ``channels``, each channel of each branch, measuring the output's style and content losses.

    With instance normalisation at the end of each branch a channel's spatial mean is near zero,
    so zero ablation is close to mean ablation.

    Args:
        net: the stylizer's transform network.
        content: the photo, (1, 3, H, W) RGB in [0, 1].
        style: the painting, (1, 3, H', W') RGB in [0, 1] (its Gram matrices are the style target).
        vgg: the VGG19 extractor of the style and content losses.
        blocks: residual blocks to ablate (default: all).

    Returns:
        A :class:`BlockAblationResult`: the losses per ablated block, (1, 3, H, W) outputs and,
        with ``channels``, a (C,) relative style-loss change per channel of each block.
    """
    check_rgb(content, name="content", single=True)
    check_rgb(style, name="style", single=True)
    say = progress or (lambda _m: None)
    names = list(blocks) if blocks is not None else list(getattr(net, "block_names", []))
    if not names:
        raise ValueError("blocks must name at least one residual block (the stylizer has none).")
    known = getattr(net, "block_names", names)
    for name in names:
        if name not in known:
            raise ValueError(f"blocks must be residual blocks of the stylizer {known}; got {name!r}.")
    start = time.perf_counter()

    def run(edits: dict | None) -> tuple[torch.Tensor, dict[str, float]]:
        with torch.no_grad():
            if edits:
                with Intervention(net, edits):
                    y = net(content)
            else:
                y = net(content)
        return y, _losses(objective, y)

    def rel(after: float, before: float) -> float:
        return (after - before) / before if before else float("nan")

    with frozen(net, vgg):
        objective = StyleObjective(vgg, content, style, TransferConfig(normalize=normalize))
        y0, base = run(None)
        baseline = {"style": base["style"], "content": base["content"]}
        images = {"intact": y0}
        results, per_channel = {}, {}
        for name in names:
            say(f"ablating {name}")
            y, after = run({f"{name}.branch": {"mask": 1.0}})
            images[name] = y
            results[name] = {
                "style": after["style"],
                "content": after["content"],
                "style_change": rel(after["style"], base["style"]),
                "content_change": rel(after["content"], base["content"]),
            }
            if channels:
                n_ch = net.get_submodule(f"{name}.branch.conv2").out_channels
                changes = torch.zeros(n_ch)
                for ch in range(n_ch):
                    mask = torch.zeros(n_ch)
                    mask[ch] = 1
                    _, a = run({f"{name}.branch": {"mask": mask}})
                    changes[ch] = rel(a["style"], base["style"])
                per_channel[name] = changes
    return BlockAblationResult(
        baseline=baseline,
        blocks=results,
        images=images,
        channel_style_change=per_channel,
        content=content.detach(),
        seconds=time.perf_counter() - start,
    )


@dataclass(frozen=True, eq=False)
class StylizerExplanation:
    """Everything :func:`explain_stylizer` computed for one photo."""

    evaluation: StylizerEvaluation
    attribution: StylizerAttributionResult
    discriminator: DiscriminatorPatchResult
    ablation: BlockAblationResult
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluation": self.evaluation.to_dict(),
            "attribution": self.attribution.to_dict(),
            "discriminator": self.discriminator.to_dict(),
            "ablation": self.ablation.to_dict(),
            "seconds": self.seconds,
        }


def explain_stylizer(
    net: TransformNet,
    discriminator: PatchDiscriminator,
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    vgg: nn.Module,
    n_steps: int = 16,
    channels: bool = True,
    progress: Progress | None = None,
) -> StylizerExplanation:
    """Evaluate, attribute, judge and ablate the stylizer on one photo (1, 3, H, W).

    ``style`` is the painting at the size the losses should use (e.g. the photo's long side).
    """
    say = progress or (lambda _m: None)
    check_rgb(content, name="content", single=True)
    start = time.perf_counter()
    say("evaluating")
    evaluation = evaluate_stylizer(
        net, {"content": content}, style, vgg=vgg, size=max(content.shape[-2:]), keep_images=True
    )
    output = evaluation.images["content"]
    say("attributing the style and content losses to the input pixels")
    attribution = stylizer_pixel_maps(net, content, style, vgg=vgg, n_steps=n_steps)
    say("discriminator patch maps")
    disc = discriminator_patch_maps(discriminator, output, content=content, style=style, n_steps=n_steps)
    say("block ablation")
    ablation = ablate_blocks(net, content, style, vgg=vgg, channels=channels, progress=say)
    return StylizerExplanation(
        evaluation=evaluation,
        attribution=attribution,
        discriminator=disc,
        ablation=ablation,
        seconds=time.perf_counter() - start,
    )
