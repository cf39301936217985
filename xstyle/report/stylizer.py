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

from xstyle.report._common import _FigureSaver
from xstyle.report.captions import text

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
    from xstyle.report.writer import Table, save_image_figure
    from xstyle.stylizer.plots import StylizerTrainingDisplay
    from xstyle.stylizer.train import load_stylizer

    save = _FigureSaver(Path(root), prefix)
    stylizer = load_stylizer(model)
    vgg = vgg if vgg is not None else stylizer.config.load_network(last_layer="relu5_1")
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
            **text("stylizer.output"),
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
            **text("stylizer.table_versus_optimisation"),
        )
    )
    section.figure(save(result.attribution.plot(), "attribution", "stylizer.attribution"))
    section.figure(save(result.discriminator.plot(), "discriminator", "stylizer.discriminator"))
    section.figure(save(result.ablation.plot(), "ablation", "stylizer.ablation"))
    steps = stylizer.state.get("steps") or []
    if steps:
        section.figure(
            save(StylizerTrainingDisplay.from_result(steps).plot(), "training", "stylizer.training")
        )
    return {"model": str(model), **result.to_dict()}
