"""What the analyses that run many short transfers share (ablation, low-rank styles, the alpha/beta
trade-off): the single-scale config, the inputs and start image, and (``sweep_runs``) the runs
themselves: each optimised from the same start, measured and timed."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from xstyle.data import describe_image, load_single_image
from xstyle.hooks import frozen
from xstyle.images import ImageLike
from xstyle.losses import LossBreakdown
from xstyle.transfer import StyleObjective, TransferConfig, make_initial_image, optimise_image


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
        model = config.load_network()
    return content_img, style_img, model


def sweep_start(config: TransferConfig, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """The image every run of a sweep starts from: ``config.init``, drawn with ``config.seed``."""
    generator = torch.Generator().manual_seed(config.seed)
    return make_initial_image(config.init, content, style, generator=generator)


def sweep_meta(content: ImageLike, style: ImageLike) -> dict:
    """The ``meta`` of a sweep's result: descriptions of its content and style images."""
    return {"content": describe_image(content), "style": describe_image(style)}


@dataclass(eq=False)
class SweepRuns:
    """The runs of one sweep: the pair (``content``, ``style``: (1, 3, H, W) in [0, 1]), its
    objective and start, and what each run gave.

    Every run optimises the same start for ``config.steps[0]`` evaluations and is measured with the
    objective's own targets and weights (as they are when the run ends); ``timings`` holds
    ``setup`` (up to the first run), one entry per run and, from :meth:`fields`, ``total``.
    """

    content: torch.Tensor
    style: torch.Tensor
    objective: StyleObjective
    start: torch.Tensor
    config: TransferConfig
    meta: dict
    t0: float
    images: list[torch.Tensor] = field(default_factory=list)
    content_loss: list[float] = field(default_factory=list)
    style_loss: list[float] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def run(
        self, label: str, *, gram_targets: Mapping[str, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, LossBreakdown]:
        """One run recorded under ``label``; ``gram_targets`` replace the objective's style targets
        while it optimises (not while it is measured). Returns the image (1, 3, H, W) in [0, 1]
        and its style loss breakdown."""
        t1 = time.perf_counter()
        self.timings.setdefault("setup", t1 - self.t0)
        own = self.objective.gram_targets
        if gram_targets is not None:
            self.objective.gram_targets = dict(gram_targets)
        try:
            image = optimise_image(self.objective, self.start, steps=self.config.steps[0], config=self.config)
        finally:
            self.objective.gram_targets = own
        with torch.no_grad():
            _, c, s = self.objective(image)
        self.images.append(image)
        self.content_loss.append(float(c.total.sum()))
        self.style_loss.append(float(s.total.sum()))
        self.timings[label] = time.perf_counter() - t1
        return image, s

    def fields(self) -> dict[str, Any]:
        """The fields every sweep result shares: images, content_loss, style_loss, config, timings, meta."""
        self.timings["total"] = time.perf_counter() - self.t0
        return {
            "images": self.images,
            "content_loss": self.content_loss,
            "style_loss": self.style_loss,
            "config": self.config,
            "timings": self.timings,
            "meta": self.meta,
        }


@contextmanager
def sweep_runs(
    content: ImageLike, style: ImageLike, config: TransferConfig, model: nn.Module | None
) -> Iterator[SweepRuns]:
    """The :class:`SweepRuns` of a pair (images and network from :func:`sweep_inputs`, start from
    :func:`sweep_start`), with the network frozen inside the block (its flags restored after)."""
    t0 = time.perf_counter()
    content_img, style_img, net = sweep_inputs(content, style, config, model)
    with frozen(net):
        objective = StyleObjective(net, content_img, style_img, config)
        start = sweep_start(config, content_img, style_img)
        yield SweepRuns(content_img, style_img, objective, start, config, sweep_meta(content, style), t0)
