"""The GAN report's sections on xstyle's DCGAN trained on digits, in order, and the two sections
every generator shares (latent directions; style versus content of a conditional generator).

:data:`DCGAN_SECTIONS` lists one function per section, each ``section(page, run)`` adding its
figures, tables and captions from the :class:`~xstyle.report.gan_stages.GANRun`; a section whose
results are missing (no mixture prior, no conditional run) adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xstyle.report._common import _Page
from xstyle.report.captions import text
from xstyle.report.writer import Section, Table, save_image_figure

if TYPE_CHECKING:
    from xstyle.report.gan_stages import GANRun

__all__ = ["DCGAN_SECTIONS", "latent_section", "sample_grid", "style_content_section"]


def sample_grid(samples: Any, *, per_row: int) -> Any:
    """The samples (N, C, H, W) in [-1, 1] as one grid image (1, C, H', W') in [0, 1], twice the size."""
    import torch
    from torchvision.utils import make_grid

    grid = make_grid(samples, nrow=per_row, normalize=True, value_range=(-1, 1), pad_value=1)
    return torch.nn.functional.interpolate(grid[None], scale_factor=2, mode="nearest")


def _class_count_figure(counts: Any, title: str) -> Any:
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(5, 2.6), layout="constrained")
    counts = np.asarray(counts)
    ax.bar(range(10), counts / max(counts.sum(), 1), color="tab:blue")
    ax.axhline(0.1, color="grey", linestyle=":", linewidth=1, label="even split (0.1)")
    ax.set_xticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("share of samples")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def samples_section(page: _Page, run: GANRun) -> None:
    """Section "DCGAN samples and quality": the sample grid, the class balance, training and the scores."""
    from xstyle.gan.plots import GANTrainingDisplay

    c, save, ckpt, quality = run.c, page.save, run.ckpt, run.quality
    name = "the shipped DCGAN" if c.checkpoint is None else f"the DCGAN checkpoint {c.checkpoint}"
    s = page.report.section(
        "DCGAN samples and quality",
        f"Digits from {name} (epoch {ckpt.epoch}), scored with xstyle's digit classifier. The "
        "Inception Score and Fréchet distance are MNIST analogues on the classifier's outputs and "
        "features: they compare xstyle runs with each other, not with ImageNet IS/FID numbers.",
    )
    s.figure(
        save_image_figure(
            sample_grid(run.samples, per_row=run.per_row),
            page.root,
            f"{page.prefix}samples",
            **text("gan.samples", prior=ckpt.config.prior, seed=c.seed),
            width=480,
        )
    )
    s.figure(
        save(
            _class_count_figure(quality.class_counts, "Predicted classes of the generated digits"),
            "class_balance",
            "gan.class_balance",
            n_samples=quality.n_samples,
        )
    )
    history = [h for h in ckpt.history if "d_loss" in h and "g_loss" in h and "epoch" in h]
    if history:
        s.figure(save(GANTrainingDisplay.from_result(history).plot(), "training", "gan.training"))
    s.table(
        Table(
            columns=("quantity", "value"),
            rows=(
                ("classifier held-out accuracy", run.accuracy),
                ("samples scored", quality.n_samples),
                ("Inception Score (MNIST analogue, 1..10)", quality.inception_score),
                ("Fréchet distance (classifier features)", quality.frechet_distance),
                ("confident samples (max p ≥ 0.9), %", 100 * quality.confident_fraction),
                ("mean confidence", quality.mean_confidence),
                ("class balance (normalised entropy)", quality.balance_entropy),
            ),
            **text("gan.table_quality"),
        )
    )


def prior_components_section(page: _Page, run: GANRun) -> None:
    """Section "Which digit each latent component became" (mixture priors only)."""
    save, components = page.save, run.components
    if components is None:
        return
    s = page.report.section(
        "Which digit each latent component became",
        f"This DCGAN draws z from the prior '{components.prior}': {components.n_components} Gaussians "
        "with fixed, separated means. Training decides which digit each component turns into; "
        f"{components.n_per_component} latents from every component were generated and classified.",
    )
    s.figure(save(components.plot(), "prior_components", "gan.prior_components"))
    s.table(
        Table(
            columns=("quantity", "value"),
            rows=_component_rows(components),
            **text("gan.table_prior_components"),
        )
    )


def _component_rows(components: Any) -> tuple[tuple[str, Any], ...]:
    import numpy as np

    pure = [int(k) for k in np.flatnonzero(components.pure)]
    return (
        (
            "components that became one digit (≥ 90 % of their samples): component → digit",
            ", ".join(f"{k} → {components.dominant[k]}" for k in pure) or "none",
        ),
        (
            "their confident share, %",
            100 * float(components.confident[pure].mean()) if pure else None,
        ),
        (
            "the other components' confident share, %",
            100 * float(np.delete(components.confident, pure).mean())
            if len(pure) < components.n_components
            else None,
        ),
        (
            "digits no component produces most",
            ", ".join(map(str, components.unowned_digits)) or "none",
        ),
        (
            f"confident share by distance to the mean ({len(components.confident_by_distance)} "
            "equal-count bins, nearest first)",
            components.distance_summary(),
        ),
    )


def discriminator_section(page: _Page, run: GANRun) -> None:
    """Section "What does the discriminator look at?": its maps, their sanity checks and numbers."""
    save, d_maps = page.save, run.d_maps
    s = page.report.section(
        "What does the discriminator look at?",
        f"Integrated Gradients of the discriminator's logit on {len(d_maps.real)} real held-out digits "
        f"and {len(d_maps.fake)} generated ones (baseline: an empty canvas).",
    )
    s.figure(save(d_maps.plot(), "discriminator_maps", "gan.discriminator_maps"))
    for kind, curve in d_maps.deletion.items():
        s.figure(
            save(
                curve.plot(title=f"D on {kind}"),
                f"d_deletion_{kind}",
                "gan.d_deletion",
                passed="yes" if curve.passed else "no",
                kind=kind,
            )
        )
    if d_maps.randomisation is not None:
        s.figure(
            save(
                d_maps.randomisation.plot(),
                "d_randomisation",
                "gan.d_randomisation",
                passed="yes" if d_maps.randomisation.passed else "no",
            )
        )
    _discriminator_table(s, d_maps)


def _discriminator_table(s: Section, d_maps: Any) -> None:
    s.table(
        Table(
            columns=("digits", "mean logit", "attribution on ink", "ink fraction", "completeness error"),
            rows=tuple(
                (
                    kind,
                    float(getattr(d_maps, f"{kind}_logits").mean()),
                    d_maps.stroke_share[kind],
                    d_maps.ink_fraction[kind],
                    d_maps.completeness.get(kind),
                )
                for kind in ("real", "fake")
            ),
            **text(
                "gan.table_discriminator_numbers",
                stroke_kinds=" and ".join(
                    k for k in ("real", "fake") if d_maps.stroke_share[k] > d_maps.ink_fraction[k]
                )
                or "neither kind",
            ),
        )
    )


def latent_classes_section(page: _Page, run: GANRun) -> None:
    """Section "Which latent dimensions decide the digit?": class attribution to z and its causal check."""
    c, save, latent_classes = run.c, page.save, run.latent_classes
    s = page.report.section(
        "Which latent dimensions decide the digit?",
        f"IG of the classifier's logit for the predicted class of G(z), attributed to the "
        f"{latent_classes.attribution.shape[1]} latent dimensions (baseline z = 0), over "
        f"{c.n_attribution} samples; then a causal check.",
    )
    s.figure(save(latent_classes.plot(), "latent_classes", "gan.latent_classes"))
    s.table(
        Table(
            columns=("class", "samples", "top dimensions", "logit gain (top)", "logit gain (random)"),
            rows=tuple(
                (
                    d,
                    int(latent_classes.counts[d]),
                    ", ".join(map(str, latent_classes.top_dims.get(d, []))),
                    latent_classes.causal.get(d, {}).get("top"),
                    latent_classes.causal.get(d, {}).get("random"),
                )
                for d in range(10)
            ),
            **text("gan.table_causal_check", causal_percent=100 * latent_classes.causal_passed),
        )
    )


def latent_section(page: _Page, run: GANRun) -> None:
    """Section "Latent directions": probes, the directions' similarity, traversals and what each does."""
    c, save, latent = run.c, page.save, run.latent
    measured = ", ".join(a for a in latent.samples.attributes)
    s = page.report.section(
        "Latent directions",
        f"{c.n_latent} latent samples: linear probes read attributes ({measured}) "
        "from z and each generator stage; the direction methods find "
        "directions (see the table); each direction is walked and its effect measured.",
    )
    s.figure(save(latent.plot(kind="probes"), "probes", "gan.probes"))
    s.figure(save(latent.plot(kind="similarity"), "direction_similarity", "gan.direction_similarity"))
    for i, trav in enumerate(latent.traversals):
        label = trav.direction.label
        s.figure(save(trav.plot(rows=4), f"traversal_{i:02d}_{label}", "gan.traversal", label=label))
    s.table(
        Table(
            columns=("direction", "changes most", "change (sd/σ)", "disentanglement", "class flips"),
            rows=tuple(
                (a["direction"], a["dominant_attribute"], a["change"], a["disentanglement"], a["flip_rate"])
                for a in latent.alignment()
            ),
            **text("gan.table_what_each_direction_does"),
        )
    )


def style_content_section(page: _Page, run: GANRun) -> None:
    """Section "Style versus content": what the label carries and what z carries (conditional runs only)."""
    style = run.style
    if style is None:
        return
    if run.spec is None:
        name = run.c.conditional_checkpoint or "the shipped conditional DCGAN"
        s = page.report.section(
            "Style versus content: the label writes the digit, z the handwriting",
            f"{name} generates a digit from a latent z and a label. On a grid of {style.config['n_z']} "
            "latents times the ten labels (every z written as every digit), the numbers below measure "
            "which input carries what.",
        )
    else:
        s = page.report.section(
            "Style versus content: what the label carries and what z carries",
            f"{run.spec.name} generates an image from a latent z and a label. On a grid of "
            f"{style.config['n_z']} latents times the {style.config['n_classes']} labels (every z drawn "
            "with every label), the numbers below split each measure's variance between z, the label "
            "and their interaction.",
        )
    save = page.save
    s.figure(save(style.plot_analogies(rows=10), "analogies", "gan.analogies"))
    s.figure(save(style.plot(), "style_content", "gan.style_content"))
    s.table(
        Table(
            columns=("measure", "share from z", "95 % interval", "share from label", "interaction"),
            rows=tuple(
                (m, v["z"], "{:.3f}–{:.3f}".format(*v["z_ci"]), v["label"], v["interaction"])
                for m, v in style.variance.items()
            ),
            **text("gan.table_style_shares"),
        )
    )
    class_names = run.spec.class_names if run.spec is not None else ()
    s.table(
        Table(
            columns=("quantity", "value"),
            rows=_style_numbers(style, class_names),
            **text("gan.table_style_numbers"),
        )
    )
    _style_probes_table(s, style)


def _style_numbers(style: Any, class_names: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """Content control (agreement per label), the IG shares on the label and the Gram view's ratios."""
    gram = style.gram
    return (
        *(
            (f"classified as requested, {class_names[d] if class_names else f'digit {d}'}", float(a))
            for d, a in enumerate(style.agreement)
        ),
        *(
            (
                f"IG share on the label: {k}",
                f"{v['label_share']:.3f} (completeness {v['completeness']:.2g})",
            )
            for k, v in style.attribution.items()
        ),
        *(
            (
                f"Gram ratio same z / same label, {k}",
                "{:.3f} ({:.3f}–{:.3f})".format(v["ratio"], *v["ratio_ci"]),
            )
            for k, v in gram.items()
        ),
        *(
            (f"feature ratio same z / same label, {k}", "{:.3f}".format(v["feature_ratio"]))
            for k, v in gram.items()
        ),
    )


def _style_probes_table(s: Section, style: Any) -> None:
    measures = [m for m in next(iter(style.probes.values())) if m != "class"]
    s.table(
        Table(
            columns=("stage", "class (label part)", *(f"{m}: z / label" for m in measures)),
            rows=tuple(
                (
                    stage,
                    v["class"]["label"],
                    *(f"{v[m]['z']:.2f} / {v[m]['label']:.2f}" for m in measures),
                )
                for stage, v in style.probes.items()
            ),
            **text("gan.table_style_probes"),
        )
    )


#: the DCGAN-on-digits sections in the order the report shows them
DCGAN_SECTIONS: tuple[Callable[[_Page, GANRun], None], ...] = (
    samples_section,
    prior_components_section,
    discriminator_section,
    latent_classes_section,
    latent_section,
    style_content_section,
)
