"""The style report's sections, in order: :data:`STYLE_SECTIONS` lists one function per section,
each ``section(page, run)`` adding its figures, tables and captions from the results on the
:class:`~xstyle.report.style_stages.StyleRun`. A new section is one function and one entry.

This module holds the answer first, the transfer and the trade-off; the maps, the channel and Gram
sections and the network's are in ``style_sections_maps.py``, ``style_sections_gram.py`` and
``style_network.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xstyle.report._common import _Page
from xstyle.report.captions import FLAT_SWEEP_NOTE, text
from xstyle.report.style_network import network_section
from xstyle.report.style_sections_gram import (
    ablation_section,
    carriers_section,
    pictures_section,
    spectra_section,
)
from xstyle.report.style_sections_maps import maps_section
from xstyle.report.writer import Table, save_image_figure

if TYPE_CHECKING:
    from xstyle.report.style import StyleReportConfig
    from xstyle.report.style_stages import StyleRun

__all__ = ["STYLE_SECTIONS", "add_style_sections"]


def _flat(values, *, tolerance: float = 0.01) -> bool:
    """Whether positive numbers all lie within ``tolerance`` (relative) of each other."""
    values = [float(v) for v in values]
    return bool(values) and min(values) > 0 and max(values) / min(values) - 1 < tolerance


def _final_losses(final: dict) -> list[tuple[str, Any]]:
    rows = [(k, final[k]) for k in ("total", "content", "style") if k in final]
    for layer, value in (final.get("style_per_layer") or {}).items():
        rows.append((f"style {layer}", value))
    return rows


def _image_panel(images: list, titles: list[str]):
    """A matplotlib figure with images (1, 3, H, W) in [0, 1] side by side."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(images), figsize=(3.4 * len(images), 3.6), layout="constrained")
    for ax, image, title in zip(axes, images, titles, strict=True):
        ax.imshow(image[0].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy())
        ax.set_title(title if len(title) < 40 else title[:37] + "...", fontsize=9)
        ax.axis("off")
    return fig


def _network_words(c: StyleReportConfig) -> str:
    """How the text names the report's network: "VGG19 caffe weights" or "the network NAME"."""
    if c.network is None:
        return f"VGG19 {c.weights} weights"
    return f"the network {c._transfer_config().network_name}"


def summary_section(page: _Page, run: StyleRun) -> None:
    """Section "Where this style lives": the answer first, with the check behind each part of it."""
    c, save = run.c, page.save
    s = page.report.section(
        "Where this style lives",
        f"The answer first: where the style of {c.style} sits in the stylised {c.content} — which "
        f"regions, which layers of {'VGG19' if c.network is None else _network_words(c)}, which channels "
        "and how many Gram eigencomponents — each with the check that says how far to trust it. The "
        "sections below give the details.",
    )
    s.figure(save(run.summary.plot(), "summary", "style.summary"))
    s.table(
        Table(
            columns=("question", "answer", "check"),
            rows=tuple(run.summary.rows()),
            **text("style.table_summary"),
        )
    )


def _schedule_text(transfer: Any) -> str:
    schedule = transfer.config.schedule
    if len(schedule) > 1:
        return (
            "coarse-to-fine L-BFGS with "
            + " + ".join(f"{n} at {px} px" for px, n in schedule)
            + " evaluations"
        )
    return f"single-scale L-BFGS with {transfer.config.level_steps[0]} evaluations"


def transfer_section(page: _Page, run: StyleRun) -> None:
    """Section "Style transfer": the pair, the stylised image, the loss curves and the final losses."""
    c, save, root, transfer = run.c, page.save, page.root, run.transfer
    s = page.report.section(
        "Style transfer",
        f"The content photo {c.content} was stylised with {c.style} (Gatys et al. 2016, "
        f"{_network_words(c)}, {c.size} px, {_schedule_text(transfer)}). Every later section explains "
        "this result.",
    )
    s.figure(
        save(
            _image_panel(
                [run.content_full, run.style_full, transfer.image],
                [f"content: {c.content}", f"style: {c.style}", "stylised"],
            ),
            "pair",
            "style.pair",
        )
    )
    s.figure(
        save_image_figure(
            transfer.image,
            root,
            f"{page.prefix}stylised",
            **text("style.stylised", width=transfer.image.shape[-1], height=transfer.image.shape[-2]),
            width=max(480, int(transfer.image.shape[-1])),
        )
    )
    s.figure(save(transfer.plot(), "transfer_losses", "style.transfer_losses", svg=True))
    s.table(
        Table(
            columns=("loss of the result", "value"),
            rows=(*_final_losses(transfer.final), ("seconds", transfer.timings.get("total"))),
            **text("style.table_final_losses"),
        )
    )


def tradeoff_section(page: _Page, run: StyleRun) -> None:
    """Section "Style/content trade-off": one transfer per beta/alpha, with the losses and SSIM of each."""
    c, save, tradeoff = run.c, page.save, run.tradeoff
    s = page.report.section(
        "Style/content trade-off",
        f"One transfer per β/α ({c.tradeoff_steps} Adam steps, {c.analysis_size} px), from photo-like "
        "to painting-like, with the content loss, style loss and SSIM to the photo.",
    )
    flat = _flat(tradeoff.content_loss) and _flat(tradeoff.style_loss)
    s.figure(
        save(
            tradeoff.plot(), "tradeoff", "style.tradeoff", svg=True, flat_note=FLAT_SWEEP_NOTE if flat else ""
        )
    )
    columns = (tradeoff.ratios, tradeoff.content_loss, tradeoff.style_loss, tradeoff.ssim)
    s.table(
        Table(
            columns=("β/α", "content loss", "style loss", "SSIM to photo", "knee"),
            rows=tuple(
                (f"{r:.3g}", cl, sl, ss, i == tradeoff.knee)  # one format for every ratio
                for i, (r, cl, sl, ss) in enumerate(zip(*columns, strict=True))
            ),
            **text("style.table_trade_off_sweep", balance=tradeoff.balance),
        )
    )


#: the sections in the order the report shows them
STYLE_SECTIONS: tuple[Callable[[_Page, StyleRun], None], ...] = (
    summary_section,
    transfer_section,
    network_section,
    maps_section,
    carriers_section,
    pictures_section,
    spectra_section,
    ablation_section,
    tradeoff_section,
)


def add_style_sections(page: _Page, run: StyleRun) -> None:
    """Add every section of :data:`STYLE_SECTIONS` to ``page.report``, in order."""
    for section in STYLE_SECTIONS:
        section(page, run)
