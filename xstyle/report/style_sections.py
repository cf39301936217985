"""The style report's sections: figures, tables and captions from the results of its stages."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from xstyle.report.writer import Report, Table, save_figure, save_image_figure

if TYPE_CHECKING:
    from xstyle.report.style import StyleReportConfig


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


def _style_sections(report: Report, root: Path, p: str, c: StyleReportConfig, **r: Any) -> None:
    transfer, maps, carriers, entries = r["transfer"], r["maps"], r["carriers"], r["entries"]
    decomposition, comparison, lowrank = r["decomposition"], r["comparison"], r["lowrank"]
    fingerprints, ablation, tradeoff = r["fingerprints"], r["ablation"], r["tradeoff"]
    final = transfer.final

    s = report.section(
        "Style transfer",
        f"The content photo {c.content} was stylised with {c.style} (Gatys et al. 2016, VGG19 "
        f"{c.weights} weights, {c.size} px, "
        + (
            f"coarse-to-fine L-BFGS with {' + '.join(map(str, c.steps))} evaluations per level"
            if len(c.steps) > 1
            else f"single-scale L-BFGS with {c.steps[0]} evaluations"
        )
        + "). Every later section explains this result.",
    )
    s.figure(
        save_figure(
            _image_panel(
                [r["content_full"], r["style_full"], transfer.image],
                [f"content: {c.content}", f"style: {c.style}", "stylised"],
            ),
            root,
            f"{p}pair",
            title="Content, style and result",
            caption="Left: the photo whose layout (VGG19 relu4_2 features) the result keeps. Middle: the "
            "painting whose texture statistics (Gram matrices of relu1_1 .. relu5_1) it copies. Right: "
            "the optimised image, the content's layout drawn with the style's textures.",
        )
    )
    s.figure(
        save_image_figure(
            transfer.image,
            root,
            f"{p}stylised",
            title="Stylised result at full resolution",
            caption=f"The result as computed ({transfer.image.shape[-1]}×{transfer.image.shape[-2]} px), "
            "shown enlarged; the file is in figures/.",
            width=max(480, int(transfer.image.shape[-1])),
        )
    )
    s.figure(
        save_figure(
            transfer.plot(),
            root,
            f"{p}transfer_losses",
            svg=True,
            title="Loss curves of the transfer",
            caption="Total loss, unweighted content loss and beta-weighted style loss at every optimiser "
            "evaluation (log scale); dotted lines mark the move to the next pyramid level, where the "
            "losses jump because they are measured at a larger size. A falling style curve with a "
            "slowly rising content curve is a healthy run.",
        )
    )
    s.table(
        Table(
            columns=("loss of the result", "value"),
            rows=(*_final_losses(final), ("seconds", transfer.timings.get("total"))),
            title="Final losses",
            caption="Loss formulas (Gatys et al.): content ½Σ(F−P)², style Σ_l w_l/(4N²M²)Σ(G−A)², "
            "total αL_c + βL_s.",
        )
    )

    s = report.section(
        "Where do the style and the content live?",
        f"Captum {maps.method.upper()} attributions of the style loss and the content loss of the "
        f"stylised image ({c.analysis_size} px, black baseline, {c.n_steps} integration steps). "
        "Evidence maps show which pixels lower each loss compared with the baseline.",
    )
    s.figure(
        save_figure(
            maps.plot(),
            root,
            f"{p}style_content_maps",
            title="Style and content evidence",
            caption="Top row: the stylised image, the total style evidence, the content evidence and "
            "their difference (red: the style explains the pixel more, blue: the content does). "
            "Lower rows: the style evidence of each VGG19 layer; shallow layers respond to fine "
            "texture, deep layers to larger strokes. In the evidence maps red pixels lower the loss "
            "(they carry the style or content), blue ones raise it.",
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
            title="Attribution numbers",
            caption=f"Style wins on {100 * maps.style_share:.1f}% of the pixels. The completeness error "
            "(|sum of attributions − loss difference| relative) checks IG's integration; the "
            "edge/flat ratio is the evidence on the content's strongest edges over its flattest areas.",
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
            save_figure(
                curve.plot(title=name),
                root,
                f"{p}deletion_{name}",
                title=f"Deletion and insertion curves ({name})",
                caption="Normalised score (1 = the stylised image, 0 = the baseline) as a growing share "
                "of pixels is replaced in the map's order (solid) or in random orders (dashed). A map "
                "that finds the important pixels drops faster on deletion and rises faster on "
                f"insertion than random. Passed: {'yes' if curve.passed else 'no'}.",
            )
        )
    for name, check in maps.randomisation.items():
        s.figure(
            save_figure(
                check.plot(),
                root,
                f"{p}randomisation_{name}",
                title=f"Model randomisation ({name})",
                caption="Rank correlation between the trained network's map and the map after "
                "re-initialising more and more VGG19 blocks (top first). It should fall below the "
                f"threshold {check.threshold:g}; a map that stays similar reflects the image, not the "
                f"model. Passed: {'yes' if check.passed else 'no'}.",
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
                title="Sanity checks",
                caption="Deletion: area under the map's deletion curve vs random orders (lower is "
                "better; passing also needs the insertion curve to beat random orders, not shown). "
                "Randomisation: Spearman |map| correlation after randomising every block vs the "
                "threshold (lower is better).",
            )
        )

    s = report.section(
        "Which channels and Gram entries carry the style?",
        f"Channel attributions ({carriers.method}) of the style and the content loss at each tapped "
        "layer, and the channel pairs whose Gram entries hold most of the style loss.",
    )
    s.figure(
        save_figure(
            carriers.plot(),
            root,
            f"{p}channel_carriers",
            title="Channel carriers",
            caption="One dot per channel: its share of the style-loss attribution against its share of "
            "the content-loss attribution. Dots above the diagonal carry style more than content; "
            "layers after relu4_2 cannot affect the content loss, so their content shares are zero.",
        )
    )
    top = carriers.top(8, kind="style")
    s.table(
        Table(
            columns=("layer", "channel", "style share", "content share", "score"),
            rows=tuple(
                (t["layer"], t["channel"], t["style_share"], t["content_share"], t["score"]) for t in top
            ),
            title="Strongest style carriers",
            caption="Score (s − c)/(s + c) of the channel's shares: 1 = pure style, −1 = pure content.",
        )
    )
    s.figure(
        save_figure(
            entries.plot(),
            root,
            f"{p}gram_entries",
            title="Gram entries that carry the style loss",
            caption="Top row: each layer's style loss split over channel pairs (log scale; bright = "
            "large share). Below: for the largest pairs, the pixel attribution of that Gram entry's "
            "loss and the feature co-activation F_i·F_j whose sum is the entry.",
        )
    )
    s.table(
        Table(
            columns=("layer", "pair (i, j)", "contribution", "share of layer loss"),
            rows=tuple(
                (layer, f"({t['i']}, {t['j']})", t["contribution"], t["share"])
                for layer, rows_ in entries.top_pairs.items()
                for t in rows_
            ),
            title="Largest Gram-entry contributions",
        )
    )

    s = report.section(
        "Gram spectra and low-rank styles",
        "The style image's Gram matrices decomposed into eigencomponents: how many directions in "
        "feature space hold the style, how the stylised result still differs from the style's "
        "statistics, and what a transfer with only the top-k components looks like.",
    )
    s.figure(
        save_figure(
            decomposition.plot(),
            root,
            f"{p}gram_spectrum",
            svg=True,
            title="Gram eigenvalue spectra of the style",
            caption="Normalised eigenvalues λ_i/Σλ against their rank, one line per layer (log-log). "
            "A steep fall means a few feature directions hold most of the style energy.",
        )
    )
    s.figure(
        save_figure(
            decomposition.plot(kind="cumulative"),
            root,
            f"{p}gram_cumulative",
            svg=True,
            title="Cumulative energy",
            caption="Share of each Gram matrix's trace kept by its top-k components. Where a curve "
            "reaches 0.9 is the rank that holds 90% of that layer's style energy.",
        )
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
            title="Spectra",
            caption="Participation ratio (Σλ)²/Σλ² and entropy rank exp(H(λ/Σλ)): two effective "
            "numbers of components; k for 90%: the components holding 90% of the trace.",
        )
    )
    s.figure(
        save_figure(
            comparison.plot(),
            root,
            f"{p}gram_comparison",
            title="Style loss of the result, split by layer",
            caption="The stylised image's remaining style loss against the style per layer, split into "
            "the diagonal of the Gram matrix (channel energies) and the off-diagonal (channel "
            "co-activations). Tall bars show where the result still misses the style.",
        )
    )
    s.figure(
        save_figure(
            lowrank.plot(),
            root,
            f"{p}lowrank",
            title="Low-rank styles",
            caption=f"Transfers ({c.lowrank_steps} Adam steps, {c.analysis_size} px) whose Gram targets keep "
            "only the top-k eigencomponents, with their style loss measured against the full targets. "
            "When the curve flattens at small k, a few components already carry the look.",
        )
    )
    s.table(
        Table(
            columns=("k", "style loss vs full target", "content loss"),
            rows=tuple(
                ("full" if k is None else k, sl, cl)
                for k, sl, cl in zip(lowrank.ranks, lowrank.style_loss, lowrank.content_loss, strict=True)
            ),
            title="Low-rank sweep",
        )
    )
    s.figure(
        save_figure(
            fingerprints.plot(),
            root,
            f"{p}fingerprints",
            title="Style fingerprints",
            caption=f"{len(fingerprints.names)} images (photos, paintings and the stylised result) "
            "placed by their Gram fingerprints (PCA: close points have similar texture "
            "statistics). A successful transfer moves the result from the photos towards its painting.",
        )
    )
    s.figure(
        save_figure(
            fingerprints.plot(kind="agreement"),
            root,
            f"{p}statistics_agreement",
            title="Do style statistics agree?",
            caption="Spearman rank correlation between the pairwise distances of the images under each "
            "style statistic (Gram matrices, AdaIN mean/std, MMD with linear, polynomial and Gaussian "
            "kernels). Values near 1: the statistics rank styles alike.",
        )
    )

    head = ablation.summary.get("headline", {})
    s = report.section(
        "Channel ablation",
        f"Channels of {ablation.layer} removed ({ablation.mode} ablation) in the order of several "
        "rankings, and the resulting change of the stylised image's style and content losses.",
    )
    s.figure(
        save_figure(
            ablation.plot(),
            root,
            f"{p}ablation",
            title=f"Ablation curves ({ablation.layer})",
            caption="Relative change of the style loss (left) and the content loss (right) against "
            "the number of channels removed, per ranking (gram: channel energy in the style Gram; "
            "attribution / content_attribution: gradient × activation of the style / content loss; "
            "captum_ig, captum_style: Captum channel scores; random: a control). A ranking that "
            "finds style channels raises the style loss faster than random while leaving the "
            "content loss flat.",
        )
    )
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
            title="Ablation summary",
        )
    )

    s = report.section(
        "Style/content trade-off",
        f"One transfer per β/α ({c.tradeoff_steps} Adam steps, {c.analysis_size} px), from photo-like "
        "to painting-like, with the content loss, style loss and SSIM to the photo.",
    )
    s.figure(
        save_figure(
            tradeoff.plot(),
            root,
            f"{p}tradeoff",
            svg=True,
            title="Trade-off curve",
            caption="Style loss against content loss, one point per β/α, with the results below. The "
            "marked knee is where more style starts to cost much more content; the balance ratio r0 "
            "is where both ends of the trade-off weigh the same."
            + (
                " Here the losses hardly change across the sweep (under 1 %), so the knee means little:"
                " sweep wider ratios or run more steps."
                if _flat(tradeoff.content_loss) and _flat(tradeoff.style_loss)
                else ""
            ),
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
            title="Trade-off sweep",
            caption=f"Balance ratio r0 = {tradeoff.balance:.3g}.",
        )
    )
