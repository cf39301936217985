"""The style report's sections: figures, tables and captions from the results of its stages."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from xstyle.report._common import _FigureSaver
from xstyle.report.captions import FLAT_SWEEP_NOTE, text
from xstyle.report.writer import Report, Table, save_image_figure

if TYPE_CHECKING:
    from xstyle.report.style import StyleReportConfig


def _flat(values, *, tolerance: float = 0.01) -> bool:
    """Whether positive numbers all lie within ``tolerance`` (relative) of each other."""
    values = [float(v) for v in values]
    return bool(values) and min(values) > 0 and max(values) / min(values) - 1 < tolerance


def _cases_text(cases: dict[str, str | None]) -> str:
    """Which of image and baseline was closer, per total map, in words for the maps' caption."""
    words = {
        "image closer": "the image is closer to the target than its baseline (the map sums to +1)",
        "baseline closer": "the baseline is closer than the image (the map sums to -1)",
        "equal": "image and baseline are equally close",
    }
    parts = [
        f"for the {label} map {words.get(cases.get(name) or '', 'no baseline was used')}"
        for name, label in (("style:total", "total style"), ("content", "content"))
        if name in cases
    ]
    return "; ".join(parts) or "no map"


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


def _style_sections(report: Report, root: Path, p: str, c: StyleReportConfig, **r: Any) -> None:
    from xstyle.explain.style.faithfulness import UNIFORM_GAIN
    from xstyle.explain.style.maps import SIGN_CONVENTION

    save = _FigureSaver(root, p)
    transfer, maps, carriers, entries = r["transfer"], r["maps"], r["carriers"], r["entries"]
    decomposition, comparison, lowrank = r["decomposition"], r["comparison"], r["lowrank"]
    fingerprints, ablation, tradeoff = r["fingerprints"], r["ablation"], r["tradeoff"]
    final = transfer.final

    summary, explained = r["summary"], r["regions"]
    s = report.section(
        "Where this style lives",
        f"The answer first: where the style of {c.style} sits in the stylised {c.content} — which "
        "regions, which VGG19 layers, which channels and how many Gram eigencomponents — each with the "
        "check that says how far to trust it. The sections below give the details.",
    )
    s.figure(save(summary.plot(), "summary", "style.summary"))
    s.table(
        Table(
            columns=("question", "answer", "check"),
            rows=tuple(summary.rows()),
            **text("style.table_summary"),
        )
    )

    s = report.section(
        "Style transfer",
        f"The content photo {c.content} was stylised with {c.style} (Gatys et al. 2016, VGG19 "
        f"{c.weights} weights, {c.size} px, "
        + (
            "coarse-to-fine L-BFGS with "
            + " + ".join(f"{n} at {px} px" for px, n in transfer.config.schedule)
            + " evaluations"
            if len(transfer.config.schedule) > 1
            else f"single-scale L-BFGS with {transfer.config.level_steps[0]} evaluations"
        )
        + "). Every later section explains this result.",
    )
    s.figure(
        save(
            _image_panel(
                [r["content_full"], r["style_full"], transfer.image],
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
            f"{p}stylised",
            **text("style.stylised", width=transfer.image.shape[-1], height=transfer.image.shape[-2]),
            width=max(480, int(transfer.image.shape[-1])),
        )
    )
    s.figure(save(transfer.plot(), "transfer_losses", "style.transfer_losses", svg=True))
    s.table(
        Table(
            columns=("loss of the result", "value"),
            rows=(*_final_losses(final), ("seconds", transfer.timings.get("total"))),
            **text("style.table_final_losses"),
        )
    )

    s = report.section(
        "Where do the style and the content live?",
        f"Captum {maps.method.upper()} attributions of the style loss and the content loss of the "
        f"stylised image ({c.maps_size} px, {c.n_steps} integration steps). The style maps start from "
        "the content photo (the layout without the style) and the content map from the painting "
        "resized to the image (the style without the photo's shapes): evidence maps show which pixels "
        "move each loss from there to the stylised image's value.",
    )
    s.figure(
        save(
            maps.plot(),
            "style_content_maps",
            "style.style_content_maps",
            sign_convention=SIGN_CONVENTION,
            cases=_cases_text(maps.cases),
        )
    )
    regions = explained.regions
    verdict = " ".join(line[0].upper() + line[1:] + "." for line in explained.verdict_lines())
    s.figure(
        save(
            regions.plot(),
            "regions",
            "style.regions",
            n_regions=len(regions.style),
            share=100 * regions.style_share,
            verdict=verdict,
        )
    )
    s.figure(
        save(
            explained.plot(),
            "region_faithfulness",
            "style.region_faithfulness",
            uniform_gain=UNIFORM_GAIN,
            verdict=verdict,
        )
    )
    s.table(
        Table(
            columns=(
                "map",
                "filler",
                "loss at filler",
                "loss at image",
                "gain over random",
                "95 % CI",
                "passed",
                "best order",
                "spread",
                "verdict",
            ),
            rows=tuple(
                (
                    which,
                    test.filler,
                    test.losses["filler"],
                    test.losses["image"],
                    test.gain,
                    f"{test.gain_ci[0]:+.3f} to {test.gain_ci[1]:+.3f}",
                    test.passed,
                    test.best_gain,
                    test.spread,
                    test.verdict,
                )
                for which, test in (("style", explained.style_test), ("content", explained.content_test))
            ),
            **text("style.table_region_faithfulness"),
        )
    )
    s.table(
        Table(
            columns=("map", "loss at image", "loss at baseline", "completeness error", "edge/flat ratio"),
            rows=tuple(
                (
                    name,
                    maps.losses[name]["image"],
                    maps.losses[name]["baseline"],
                    maps.completeness.get(name),
                    maps.edges.get(name, {}).get("edge_to_flat"),
                )
                for name in maps.losses
            ),
            **text("style.table_attribution_numbers", style_percent=100 * maps.style_share),
        )
    )
    if maps.deletion or maps.randomisation:
        s.text(
            "Sanity checks: deletion/insertion curves remove (or add) pixels in the map's order and "
            "should change the loss faster than random orders; model randomisation re-initialises "
            "VGG19 block by block and the maps should stop resembling the trained network's maps."
        )
    for name, curve in maps.deletion.items():
        s.figure(
            save(
                curve.plot(title=name),
                f"deletion_{name}",
                "style.deletion",
                passed="yes" if curve.passed else "no",
                name=name,
            )
        )
    for name, check in maps.randomisation.items():
        s.figure(
            save(
                check.plot(),
                f"randomisation_{name}",
                "style.randomisation",
                threshold=check.threshold,
                passed="yes" if check.passed else "no",
                name=name,
            )
        )
    rows = [
        (name, "deletion/insertion", curve.deletion_auc, curve.random_deletion_auc, curve.passed)
        for name, curve in maps.deletion.items()
    ] + [
        (name, "randomisation", float(check.spearman_abs[-1]), check.threshold, check.passed)
        for name, check in maps.randomisation.items()
    ]
    if rows:
        s.table(
            Table(
                columns=("map", "check", "value", "reference", "passed"),
                rows=tuple(rows),
                **text("style.table_sanity_checks"),
            )
        )

    s = report.section(
        "Which channels and Gram entries carry the style?",
        f"Channel attributions ({carriers.method}) of the style and the content loss at each tapped "
        "layer, and the channel pairs whose Gram entries hold most of the style loss.",
    )
    s.figure(save(carriers.plot(), "channel_carriers", "style.channel_carriers"))
    top = carriers.top(8, kind="style")
    s.table(
        Table(
            columns=("layer", "channel", "style share", "content share", "score"),
            rows=tuple(
                (t["layer"], t["channel"], t["style_share"], t["content_share"], t["score"]) for t in top
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

    pictures = r.get("pictures") or []
    if pictures:
        first = pictures[0][0]
        s = report.section(
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

    s = report.section(
        "Gram spectra and low-rank styles",
        "The style image's Gram matrices decomposed into eigencomponents: how many directions in "
        "feature space hold the style, how the stylised result still differs from the style's "
        "statistics, and what a transfer with only the top-k components looks like.",
    )
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
    s.figure(
        save(fingerprints.plot(), "fingerprints", "style.fingerprints", n_images=len(fingerprints.names))
    )
    s.figure(save(fingerprints.plot(kind="agreement"), "statistics_agreement", "style.statistics_agreement"))

    head = ablation.summary.get("headline", {})
    s = report.section(
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

    s = report.section(
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
    s.table(
        Table(
            columns=("β/α", "content loss", "style loss", "SSIM to photo", "knee"),
            rows=tuple(
                (f"{r_:.3g}", cl, sl, ss, i == tradeoff.knee)  # one format for every ratio
                for i, (r_, cl, sl, ss) in enumerate(
                    zip(
                        tradeoff.ratios,
                        tradeoff.content_loss,
                        tradeoff.style_loss,
                        tradeoff.ssim,
                        strict=True,
                    )
                )
            ),
            **text("style.table_trade_off_sweep", balance=tradeoff.balance),
        )
    )
