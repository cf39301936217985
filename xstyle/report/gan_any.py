"""The GAN report of any generator (the colour emoji DCGAN, the user's ``module:callable``):
samples and quality, discriminator maps, probes, directions and traversals, and for a conditional
one the label-versus-z analysis. Parts that need what the generator lacks (a classifier, a
discriminator, real images, labels) are skipped and say so.

:data:`ANY_STAGES` and :data:`ANY_SECTIONS` list one function per stage and per section, in order;
the latent-directions and style-versus-content ones are the DCGAN report's
(:mod:`xstyle.report.gan_stages`, :mod:`xstyle.report.gan_sections`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xstyle.report._common import _Page, _Runner
from xstyle.report.captions import text
from xstyle.report.gan_sections import latent_section, sample_grid, style_content_section
from xstyle.report.gan_stages import latent_stage, style_content_stage
from xstyle.report.writer import Table, save_image_figure

if TYPE_CHECKING:
    from xstyle.report.gan import GANReportConfig
    from xstyle.report.gan_stages import GANRun

__all__ = ["ANY_SECTIONS", "ANY_STAGES", "load_report_generator"]


def load_report_generator(c: GANReportConfig) -> tuple[Any, Any, Any]:
    """The :class:`~xstyle.models.generators.GeneratorSpec` of ``c.checkpoint`` (with
    ``c.generator_weights``), its classifier (``c.classifier`` or the spec's own) and the real
    held-out images to compare with (None where the generator has no data set)."""
    import xstyle.gan  # noqa: F401 - registers shipped:NAME and checkpoints
    from xstyle.gan.classifier import load_classifier
    from xstyle.gan.train import load_gan_data
    from xstyle.models.generators import get_generator

    spec = get_generator(c.checkpoint, weights=c.generator_weights)
    classifier = load_classifier(c.classifier) if c.classifier else spec.classifier
    dataset = spec.card.get("dataset") if isinstance(spec.card, dict) else None
    real = load_gan_data(dataset, "heldout") if dataset else None
    return spec, classifier, real


def _load(runner: _Runner, run: GANRun) -> None:
    with runner.stage("load DCGAN and classifier") as step:
        run.spec, run.classifier, run.real = load_report_generator(run.c)
        run.generator = run.spec
        step("loaded")
    run.metrics["generator"] = run.spec.to_dict()


def _samples(runner: _Runner, run: GANRun) -> None:
    """One row of samples per label (conditional) or eight rows, and the quality where it can be scored."""
    import torch

    from xstyle.gan.metrics import evaluate_generator

    c, spec = run.c, run.spec
    with runner.stage("samples and quality") as step:
        rows = min(spec.n_classes, 10) if spec.conditional else 8
        labels = torch.arange(rows).repeat_interleave(run.per_row) if spec.conditional else None
        run.samples = spec.synthesize(spec.sample_latent(rows * run.per_row, seed=c.seed, labels=labels))
        if run.classifier is not None and run.real is not None:
            run.quality = evaluate_generator(
                spec.generator, run.classifier, run.real, n_samples=c.n_quality, seed=c.seed
            )
            run.metrics["quality"] = run.quality.to_dict()
        else:
            run.skipped.append("quality (needs a classifier and real images)")
        step("scored samples" if run.quality else "no classifier or real images: quality skipped")


def _discriminator(runner: _Runner, run: GANRun) -> None:
    """Discriminator maps on real and generated images (of label 0 for a conditional discriminator)."""
    import torch

    from xstyle.explain.gan.gan_maps import discriminator_maps

    c, spec, real = run.c, run.spec, run.real
    with runner.stage("discriminator maps") as step:
        if spec.discriminator is None or real is None:
            run.skipped.append("discriminator maps (needs a discriminator and real images)")
            step("skipped")
            return
        label = 0 if getattr(spec.discriminator, "n_classes", 0) else None
        pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(c.seed))
        real_imgs = real.images[pick]
        if label is not None:
            real_imgs = real_imgs[real.labels[pick] == label]
        fake_labels = label if spec.conditional else None
        fake = spec.synthesize(spec.sample_latent(c.digits, seed=c.seed + 1, labels=fake_labels))
        run.d_maps = discriminator_maps(
            spec.discriminator.eval(),
            real_imgs[: c.digits],
            fake,
            n_steps=c.n_steps,
            sanity=c.sanity,
            seed=c.seed,
            progress=step,
            label=label,
        )
    run.metrics["discriminator"] = run.d_maps.to_dict()


def _digits_only(runner: _Runner, run: GANRun) -> None:
    """The DCGAN-on-digits stages (class attribution, prior components): skipped, and logged so."""
    for name in ("latent class attribution", "prior components"):
        with runner.stage(name) as step:
            step("digits only: skipped")


def _record_skipped(runner: _Runner, run: GANRun) -> None:
    run.metrics["skipped"] = run.skipped


#: the stages of any generator's report, in the order they run (the "GAN figures" stage follows them)
ANY_STAGES: tuple[Callable[[_Runner, GANRun], None], ...] = (
    _load,
    _samples,
    _discriminator,
    _digits_only,
    latent_stage,
    style_content_stage,
    _record_skipped,
)


def samples_section(page: _Page, run: GANRun) -> None:
    """Section "Samples and quality": the generator, its sample grid, its quality and what was skipped."""
    spec, quality = run.spec, run.quality
    rows = "one row per label" + (f" ({', '.join(spec.class_names[:10])})" if spec.class_names else "")
    s = page.report.section(
        "Samples and quality",
        f"Images from the generator {spec.name} ({spec.description or 'the user’s module'}): "
        f"{spec.channels} channel(s), {spec.image_size}×{spec.image_size} pixels, latent size "
        f"{spec.latent_dim}" + (f", {spec.n_classes} labels" if spec.conditional else "") + ".",
    )
    s.figure(
        save_image_figure(
            sample_grid(run.samples, per_row=run.per_row),
            page.root,
            f"{page.prefix}samples",
            **text("gan.any_samples", rows=f"; {rows}" if spec.conditional else ""),
            width=480,
        )
    )
    if quality is not None:
        s.table(
            Table(columns=("quantity", "value"), rows=_quality_rows(quality), **text("gan.table_quality"))
        )
    if run.skipped:
        s.table(
            Table(
                columns=("skipped", ""),
                rows=tuple((k, "") for k in run.skipped),
                **text("gan.any_skipped"),
            )
        )


def _quality_rows(quality: Any) -> tuple[tuple[str, Any], ...]:
    rows = [
        ("samples scored", quality.n_samples),
        (
            "Fréchet distance (classifier features, against held-out real images)",
            quality.frechet_distance,
        ),
        ("confident samples (max p ≥ 0.9), %", 100 * quality.confident_fraction),
        ("class balance (normalised entropy)", quality.balance_entropy),
    ]
    if quality.label_agreement is not None:
        rows.insert(1, ("classified as the requested label, %", 100 * quality.label_agreement))
    return tuple(rows)


def discriminator_section(page: _Page, run: GANRun) -> None:
    """Section "What does the discriminator look at?" (with a discriminator and real images only)."""
    save, d_maps = page.save, run.d_maps
    if d_maps is None:
        return
    s = page.report.section(
        "What does the discriminator look at?",
        f"Integrated Gradients of the discriminator's logit on {len(d_maps.real)} real held-out images "
        f"and {len(d_maps.fake)} generated ones (baseline: the empty canvas, the background colour).",
    )
    s.figure(save(d_maps.plot(), "discriminator_maps", "gan.discriminator_maps"))
    s.table(
        Table(
            columns=("images", "mean logit", "attribution on the foreground", "foreground fraction"),
            rows=tuple(
                (
                    kind,
                    float(getattr(d_maps, f"{kind}_logits").mean()),
                    d_maps.stroke_share[kind],
                    d_maps.ink_fraction[kind],
                )
                for kind in ("real", "fake")
            ),
            **text("gan.any_discriminator_numbers"),
        )
    )


#: the sections of any generator's report, in the order the report shows them
ANY_SECTIONS: tuple[Callable[[_Page, GANRun], None], ...] = (
    samples_section,
    discriminator_section,
    latent_section,
    style_content_section,
)
