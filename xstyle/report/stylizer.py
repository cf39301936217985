"""The stylizer's part of a style report (``xstyle report style --fast-model M``).

:func:`add_stylizer_section` runs :func:`~xstyle.explain.style.stylizer.explain_stylizer` on one photo,
saves its figures under ``root/figures/`` and appends one section (figures, a table of numbers and
how to read them) to a :class:`~xstyle.report.writer.Report`; it returns the metrics to store.
The report builder calls it after the optimisation part, with the same photo, so the stylizer's
losses stand beside the optimisation result's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["add_stylizer_section"]


def add_stylizer_section(
    report: Any,
    root: str | Path,
    model: str | Path,
    content: torch.Tensor,
    *,
    vgg: nn.Module | None = None,
    optimisation: dict[str, float] | None = None,
    optimisation_style: str | None = None,
    n_steps: int = 32,
    channels: bool = True,
    prefix: str = "stylizer_",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Explain the stylizer ``model`` on ``content`` (1, 3, H, W) and add a section to ``report``.

    Args:
        report: a :class:`~xstyle.report.writer.Report`.
        root: the report folder (figures go to ``root/figures/``).
        model: a stylizer file written by ``xstyle stylizer train``.
        vgg: the loss network (default: ``load_vgg19`` with the model's weights).
        optimisation: the optimisation transfer's ``{"style", "content"}`` losses on the same photo
            and painting size (:attr:`TransferResult.final`), shown side by side when given.
        optimisation_style: the painting the optimisation used (a path or ``sample:NAME``); its
            losses are shown only when the stylizer was trained on the same one (or when None).
    """
    from xstyle.explain.style.stylizer import explain_stylizer
    from xstyle.images import resize_image
    from xstyle.models.vgg import load_vgg19
    from xstyle.report.writer import Table, save_figure, save_image_figure
    from xstyle.stylizer.plots import StylizerTrainingDisplay
    from xstyle.stylizer.train import load_stylizer

    stylizer = load_stylizer(model)
    vgg = vgg if vgg is not None else load_vgg19(stylizer.config.weights, last_layer="relu5_1")
    style = resize_image(stylizer.style, max(content.shape[-2:]))
    result = explain_stylizer(
        stylizer.net,
        stylizer.discriminator,
        content,
        style,
        vgg=vgg,
        n_steps=n_steps,
        channels=channels,
        progress=progress,
    )
    section = report.section(
        "Real-time stylizer",
        f"A feed-forward network trained for this painting ({stylizer.meta.get('style_name', 'style')}; "
        f"{stylizer.epoch} epochs, {stylizer.state.get('step', '?')} steps) stylises the photo in one pass. "
        "The same losses, attributions and hooks explain it.",
    )
    section.figure(
        save_image_figure(
            result.evaluation.images["content"],
            root,
            f"{prefix}output",
            title="Stylizer output",
            caption="The photo after one forward pass of the stylizer.",
        )
    )
    row = result.evaluation.per_image["content"]
    rows = [("stylizer", row["style"], row["content"], row["ssim"], row["seconds"])]
    if optimisation_style is not None and stylizer.meta.get("style_name") != optimisation_style:
        optimisation = None  # another painting: the losses would not compare
    if optimisation:
        rows.append(("optimisation", optimisation.get("style"), optimisation.get("content"), None, None))
    section.table(
        Table(
            columns=("method", "style loss", "content loss", "SSIM to photo", "seconds"),
            rows=tuple(rows),
            title="Stylizer against the optimisation transfer",
            caption="Gatys losses on caffe VGG19 at the photo's size (lower is better).",
        )
    )
    section.figure(
        save_figure(
            result.attribution.plot(),
            root,
            f"{prefix}attribution",
            title="Which input pixels make the output's style and content",
            caption="Integrated gradients of the output's style loss and content loss with respect to the "
            "stylizer's input (baseline: a blur of the photo, since instance normalisation makes the "
            "stylizer blind to the input's scale). Evidence maps sum to 1; red in the last panel: the pixel "
            "does more for the style than for the content.",
        )
    )
    section.figure(
        save_figure(
            result.discriminator.plot(),
            root,
            f"{prefix}discriminator",
            title="Which patches the discriminator finds in style",
            caption="The patch discriminator's probability that each patch (about 46 px) comes from the "
            "painting, over the output, the photo and the painting; right: IG of its mean logit.",
        )
    )
    section.figure(
        save_figure(
            result.ablation.plot(),
            root,
            f"{prefix}ablation",
            title="Which residual blocks carry the style",
            caption="Each block's residual branch zero-ablated with Intervention (the block becomes the "
            "identity): change of the style and content losses, the ablated outputs and, below, the "
            "style-loss change per ablated channel.",
        )
    )
    steps = stylizer.state.get("steps") or []
    if steps:
        section.figure(
            save_figure(
                StylizerTrainingDisplay.from_result(steps).plot(),
                root,
                f"{prefix}training",
                title="Training curves",
                caption="Per-step losses (thin) and their trailing mean (thick).",
            )
        )
    return {"model": str(model), **result.to_dict()}
