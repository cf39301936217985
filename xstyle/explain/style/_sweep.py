"""The single-scale transfer config shared by the analyses that run many short transfers
(ablation, low-rank styles, the alpha/beta trade-off)."""

from __future__ import annotations

import torch
from torch import nn

from xstyle.data import describe_image, load_single_image
from xstyle.images import ImageLike
from xstyle.models.vgg import load_vgg19
from xstyle.transfer import TransferConfig, make_initial_image


def sweep_config(config: TransferConfig | None, *, steps: int, what: str) -> TransferConfig:
    """``config``, checked to have one pyramid level; None gives the sweeps' default,
    ``TransferConfig(size=128, steps=(steps,), optimizer="adam")`` (single-scale L-BFGS from the
    content diverges at >= 128 px with the seed's losses; Adam descends steadily).

    ``what`` names the analysis in the error (``"ablations"``, ``"a low-rank sweep"``).
    """
    if config is None:
        return TransferConfig(size=128, steps=(steps,), optimizer="adam")
    if len(config.steps) != 1:
        raise ValueError(
            f"config.steps must have one pyramid level for {what}; got {config.steps}. "
            f"Hint: TransferConfig(steps=({sum(config.steps)},))."
        )
    return config


def sweep_inputs(
    content: ImageLike, style: ImageLike, config: TransferConfig, model: nn.Module | None
) -> tuple[torch.Tensor, torch.Tensor, nn.Module]:
    """(content, style, network) of a sweep: both images (1, 3, H, W) in [0, 1] with their long
    side at ``config.size``, and ``model`` or the VGG19 that ``config`` names (truncated after its
    deepest layer)."""
    content_img = load_single_image(content, size=config.size, param="content")
    style_img = load_single_image(style, size=config.size, param="style")
    if model is None:
        model = load_vgg19(config.weights, pooling=config.pooling, last_layer=config.deepest_layer)
    return content_img, style_img, model


def sweep_start(config: TransferConfig, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """The image every run of a sweep starts from: ``config.init``, drawn with ``config.seed``."""
    generator = torch.Generator().manual_seed(config.seed)
    return make_initial_image(config.init, content, style, generator=generator)


def sweep_meta(content: ImageLike, style: ImageLike) -> dict:
    """The ``meta`` of a sweep's result: descriptions of its content and style images."""
    return {"content": describe_image(content), "style": describe_image(style)}
