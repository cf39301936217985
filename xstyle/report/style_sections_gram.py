"""The style report's sections on channels and Gram matrices: which channels and Gram entries carry
the style, what the carriers look like, the Gram spectra with the low-rank styles and the
fingerprints, and the channel ablation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xstyle.report._common import _Page
from xstyle.report.captions import text
from xstyle.report.writer import Section, Table

if TYPE_CHECKING:
    from xstyle.report.style_stages import StyleRun

__all__ = ["ablation_section", "carriers_section", "pictures_section", "spectra_section"]


def carriers_section(page: _Page, run: StyleRun) -> None:
    """Section "Which channels and Gram entries carry the style?": channel attributions and Gram entries."""
    save, carriers, entries = page.save, run.carriers, run.entries
    s = page.report.section(
        "Which channels and Gram entries carry the style?",
        f"Channel attributions ({carriers.method}) of the style and the content loss at each tapped "
        "layer, and the channel pairs whose Gram entries hold most of the style loss.",
    )
    s.figure(save(carriers.plot(), "channel_carriers", "style.channel_carriers"))
    s.table(
        Table(
            columns=("layer", "channel", "style share", "content share", "score"),
            rows=tuple(
                (t["layer"], t["channel"], t["style_share"], t["content_share"], t["score"])
                for t in carriers.top(8, kind="style")
            ),
            **text("style.table_strongest_style_carriers"),
        )
    )
    s.figure(save(entries.plot(), "gram_entries", "style.gram_entries"))
    s.table(
        Table(
            columns=("layer", "pair (i, j)", "contribution", "share of layer loss"),
            rows=tuple(
                (layer, f"({t['i']}, {t['j']})", t["contribution"], t["share"])
                for layer, rows_ in entries.top_pairs.items()
                for t in rows_
            ),
            **text("style.table_largest_gram_entries"),
        )
    )


def _carrier_grid(pictures: list):
    """One row per layer: what its top carrier channels respond to, then its Gram components' textures."""
    import matplotlib.pyplot as plt

    cols = max(len(ch.channels) + (len(gc.components) if gc else 0) for ch, gc in pictures)
    fig, axes = plt.subplots(
        len(pictures), cols, figsize=(1.9 * cols, 2.1 * len(pictures)), layout="constrained", squeeze=False
    )
    for row, (channels, components) in zip(axes, pictures, strict=True):
        k = len(channels.channels)
        channels.plot(ax=row[:k])
        if components is not None:
            components.plot(ax=row[k : k + len(components.components)], show_style=False)
        for extra in row[k + (len(components.components) if components else 0) :]:
            extra.set_axis_off()
    return fig


def _carrier_rows(pictures: list) -> list[tuple]:
    """(layer, picture, final value, value at the start) per carrier picture."""
    rows: list[tuple] = []
    for channels, components in pictures:
        for c, a, a0 in zip(
            channels.channels, channels.activations, channels.initial_activations, strict=True
        ):
            rows.append((channels.layer, f"channel {c}", a, a0))
        if components is None:
            continue
        # the loss is the relative error times one constant per component: scale it back to the start
        for k, e, loss, loss0 in zip(
            components.components,
            components.relative_errors,
            components.losses,
            components.initial_losses,
            strict=True,
        ):
            rows.append((components.layer, f"Gram component {k}", e, e * loss0 / loss if loss > 0 else None))
    return rows


def pictures_section(page: _Page, run: StyleRun) -> None:
    """Section "What this style is made of": feature visualisation of the carriers (when any were asked)."""
    pictures = run.pictures
    if not pictures:
        return
    save, first = page.save, pictures[0][0]
    s = page.report.section(
        "What this style is made of",
        "Feature visualisation of the carriers: for each layer, images optimised to excite the "
        "channels that hold most of the style's Gram energy, then textures synthesised to match "
        "only one eigencomponent of the style's Gram matrix (Fourier-parameterised images with "
        "colour decorrelation, jitter and a fixed seed).",
    )
    s.figure(
        save(
            _carrier_grid(pictures),
            "carriers_visualised",
            "style.carriers_visualised",
            size=first.config["size"],
            steps=first.config["steps"],
            seed=first.config["seed"],
        )
    )
    s.table(
        Table(
            columns=("layer", "picture", "mean activation / relative error", "from noise"),
            rows=tuple(_carrier_rows(pictures)),
            **text("style.table_carriers_visualised"),
        )
    )


def spectra_section(page: _Page, run: StyleRun) -> None:
    """Section "Gram spectra and low-rank styles": the spectra, the low-rank sweep and the fingerprints."""
    s = page.report.section(
        "Gram spectra and low-rank styles",
        "The style image's Gram matrices decomposed into eigencomponents: how many directions in "
        "feature space hold the style, how the stylised result still differs from the style's "
        "statistics, and what a transfer with only the top-k components looks like.",
    )
    _spectra(page, s, run.decomposition, run.comparison)
    _lowrank(page, s, run)
    _fingerprints(page, s, run.fingerprints)


def _spectra(page: _Page, s: Section, decomposition: Any, comparison: Any) -> None:
    save = page.save
    s.figure(save(decomposition.plot(), "gram_spectrum", "style.gram_spectrum", svg=True))
    s.figure(
        save(decomposition.plot(kind="cumulative"), "gram_cumulative", "style.gram_cumulative", svg=True)
    )
    s.table(
        Table(
            columns=("layer", "channels", "participation ratio", "entropy rank", "top-1 energy", "k for 90%"),
            rows=tuple(
                (
                    name,
                    spec.n_channels,
                    spec.participation_ratio,
                    spec.entropy_rank,
                    spec.energy(1),
                    spec.components_for(0.9),
                )
                for name, spec in decomposition.spectra.items()
            ),
            **text("style.table_spectra"),
        )
    )
    s.figure(save(comparison.plot(), "gram_comparison", "style.gram_comparison"))


def _lowrank(page: _Page, s: Section, run: StyleRun) -> None:
    save, c, lowrank = page.save, run.c, run.lowrank
    s.figure(save(lowrank.plot(), "lowrank", "style.lowrank", steps=c.lowrank_steps, size=c.analysis_size))
    s.table(
        Table(
            columns=("k", "style loss vs full target", "content loss"),
            rows=tuple(
                ("full" if k is None else k, sl, cl)
                for k, sl, cl in zip(lowrank.ranks, lowrank.style_loss, lowrank.content_loss, strict=True)
            ),
            **text("style.table_lowrank_sweep"),
        )
    )


def _fingerprints(page: _Page, s: Section, fingerprints: Any) -> None:
    save = page.save
    s.figure(
        save(fingerprints.plot(), "fingerprints", "style.fingerprints", n_images=len(fingerprints.names))
    )
    s.figure(save(fingerprints.plot(kind="agreement"), "statistics_agreement", "style.statistics_agreement"))


def ablation_section(page: _Page, run: StyleRun) -> None:
    """Section "Channel ablation": channels of one layer removed in several orders, and what that does."""
    save, ablation = page.save, run.ablation
    head = ablation.summary.get("headline", {})
    s = page.report.section(
        "Channel ablation",
        f"Channels of {ablation.layer} removed ({ablation.mode} ablation) in the order of several "
        "rankings, and the resulting change of the stylised image's style and content losses.",
    )
    s.figure(save(ablation.plot(), "ablation", "style.ablation", layer=ablation.layer))
    s.table(
        Table(
            columns=("quantity", "value"),
            rows=(
                ("Spearman gram vs attribution ranking", ablation.rank_correlation),
                ("channels removed (headline)", head.get("count")),
                (
                    "top gram channels change style more than content",
                    head.get("gram_top_change_style_more_than_content"),
                ),
                ("style loss before", ablation.style_before),
                ("content loss before", ablation.content_before),
            ),
            **text("style.table_ablation_summary"),
        )
    )
