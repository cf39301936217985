"""The GAN report's stages on xstyle's DCGAN trained on digits, in the order they run, and the two
stages every generator shares (latent directions; style versus content of a conditional one).

Each stage is a function ``stage(runner, run)`` running one stage of ``_gan_plan`` (in
:mod:`xstyle.report.gan`), keeping its results on the :class:`GANRun` and its numbers in
``run.metrics``; :data:`DCGAN_STAGES` lists them in order. The report of any other generator has
its own list in :mod:`xstyle.report.gan_any`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xstyle.report._common import _Runner

if TYPE_CHECKING:
    from xstyle.report.gan import GANReportConfig

__all__ = ["DCGAN_STAGES", "GANRun", "latent_stage", "style_content_stage"]


@dataclass
class GANRun:
    """What the GAN report's stages computed so far (each stage fills its fields).

    ``ckpt``, ``heldout``, ``gen`` (the seeded random stream the samples and the discriminator's
    digits are drawn from, in that order), ``accuracy``, ``latent_classes`` and ``components``
    belong to the DCGAN on digits; ``spec``, ``real``, ``skipped`` to any other generator.
    """

    c: GANReportConfig
    metrics: dict[str, Any] = field(default_factory=dict)
    ckpt: Any = None
    spec: Any = None  # the GeneratorSpec of any other generator
    generator: Any = None  # what the analyses run: the DCGAN's sampler, or the spec
    discriminator: Any = None
    classifier: Any = None
    heldout: Any = None
    real: Any = None
    gen: Any = None
    samples: Any = None  # the sample grid's images, (N, C, H, W) in [-1, 1]
    per_row: int = 8
    accuracy: float | None = None
    quality: Any = None
    d_maps: Any = None
    latent_classes: Any = None
    components: Any = None
    latent: Any = None
    style: Any = None
    skipped: list[str] = field(default_factory=list)


def _load(runner: _Runner, run: GANRun) -> None:
    from xstyle.data import load_digits
    from xstyle.gan.classifier import load_classifier
    from xstyle.gan.train import load_checkpoint

    c = run.c
    with runner.stage("load DCGAN and classifier") as step:
        ckpt = load_checkpoint(c.checkpoint or "shipped:dcgan")
        if ckpt.config.conditional:
            raise ValueError(
                f"the GAN report's checkpoint is the unconditional DCGAN; {c.checkpoint} is "
                "class-conditional: pass it as the conditional checkpoint (--conditional-checkpoint)."
            )
        run.classifier = load_classifier(c.classifier or "shipped:digit-classifier")
        run.heldout = load_digits("heldout")
        run.generator, run.discriminator = ckpt.sampler.eval(), ckpt.discriminator.eval()
        run.ckpt = ckpt
        step("loaded")
    run.metrics["checkpoint"] = {
        "path": str(c.checkpoint or "shipped"),
        "epoch": ckpt.epoch,
        "prior": ckpt.config.prior,
    }


def _samples(runner: _Runner, run: GANRun) -> None:
    import torch

    from xstyle.gan.classifier import evaluate_classifier
    from xstyle.gan.metrics import evaluate_generator
    from xstyle.gan.prior import draw_latents

    c, generator = run.c, run.generator
    with runner.stage("samples and quality") as step:
        run.gen = torch.Generator().manual_seed(c.seed)
        with torch.no_grad():
            run.samples = generator(draw_latents(generator, 64, generator=run.gen))
        run.accuracy = evaluate_classifier(run.classifier, run.heldout)
        run.quality = evaluate_generator(
            generator, run.classifier, run.heldout, n_samples=c.n_quality, seed=c.seed
        )
        step("scored samples")
    run.metrics["classifier_heldout_accuracy"] = run.accuracy
    run.metrics["quality"] = run.quality.to_dict()


def _discriminator(runner: _Runner, run: GANRun) -> None:
    import torch

    from xstyle.explain.gan.gan_maps import discriminator_maps
    from xstyle.gan.prior import draw_latents

    c = run.c
    with runner.stage("discriminator maps") as step:
        pick = torch.randperm(len(run.heldout), generator=run.gen)[: c.digits]
        with torch.no_grad():
            fake = run.generator(draw_latents(run.generator, c.digits, generator=run.gen))
        run.d_maps = discriminator_maps(
            run.discriminator,
            run.heldout.images[pick],
            fake,
            n_steps=c.n_steps,
            sanity=c.sanity,
            seed=c.seed,
            progress=step,
        )
    run.metrics["discriminator"] = run.d_maps.to_dict()


def _latent_classes(runner: _Runner, run: GANRun) -> None:
    from xstyle.explain.gan.gan_maps import latent_class_attribution

    c = run.c
    with runner.stage("latent class attribution") as step:
        run.latent_classes = latent_class_attribution(
            run.generator, run.classifier, n=c.n_attribution, n_steps=c.n_steps, seed=c.seed, progress=step
        )
    run.metrics["latent_classes"] = run.latent_classes.to_dict()


def _prior_components(runner: _Runner, run: GANRun) -> None:
    from xstyle.explain.gan.prior import prior_components

    c = run.c
    with runner.stage("prior components") as step:
        if run.ckpt.config.prior != "normal":  # one Gaussian has no components to tell apart
            run.components = prior_components(
                run.generator, run.classifier, n_per_component=c.n_prior, seed=c.seed
            )
            run.metrics["prior_components"] = run.components.to_dict()
        step("classified each component's digits" if run.components else "N(0, I) prior: nothing to do")


def latent_stage(runner: _Runner, run: GANRun) -> None:
    """The "latent directions" stage: probes, directions and traversals of ``run.generator`` (a
    DCGAN or any generator spec), recorded under ``metrics["latent"]``."""
    from xstyle.explain.gan.probes import explain_latent

    c = run.c
    with runner.stage("latent directions") as step:
        run.latent = explain_latent(
            run.generator,
            run.classifier,
            n=c.n_latent,
            seed=c.seed,
            methods=c.methods,
            n_components=c.n_components,
            n_traverse=c.n_traverse,
        )
        step("probes, directions, traversals")
    run.metrics["latent"] = run.latent.to_dict()


def style_content_stage(runner: _Runner, run: GANRun) -> None:
    """The "style versus content" stage: label versus z in the conditional DCGAN (or in ``run.spec``
    when it is conditional); skipped, and said so, when asked off or impossible."""
    c = run.c
    any_generator = run.spec is not None
    with runner.stage("style versus content (conditional DCGAN)") as step:
        if c.style_content and (not any_generator or (run.spec.conditional and run.classifier is not None)):
            run.style = _style_content(c, run.classifier, step, spec=run.spec)
            run.metrics["style_content"] = run.style.to_dict()
        elif c.style_content:
            run.skipped.append("label versus z (needs a conditional generator and a classifier)")
        if any_generator:
            step("z x label grid, shares, directions" if run.style else "skipped")
        else:
            step("z x label grid, shares, attribution, Gram, directions" if run.style else "skipped")


def _colour_measures(spec: Any) -> tuple[str, ...] | None:
    """What the conditional analysis measures on a colour generator: its data set's measures (emoji:
    colour, shape and skin tone), else the colour measures; None for grey digits (the digit measures)."""
    from xstyle.explain.gan.measures import dataset_measures

    if spec is None or spec.channels == 1:
        return None
    dataset = spec.card.get("dataset") if isinstance(spec.card, dict) else None
    return dataset_measures(dataset, channels=spec.channels)


def _style_content(
    c: GANReportConfig, classifier: Any, step: Callable[[str], None], *, spec: Any = None
) -> Any:
    """Run :func:`~xstyle.explain.gan.gan_style.gan_style` on the conditional DCGAN (or on the
    conditional generator ``spec``)."""
    from xstyle.explain.gan.gan_style import gan_style
    from xstyle.gan.train import load_checkpoint

    if spec is None:
        name = c.conditional_checkpoint or "shipped:dcgan-conditional"
        ckpt = load_checkpoint(name)
        if not ckpt.config.conditional:
            raise ValueError(
                f"the conditional checkpoint {name} is unconditional; pass a DCGAN trained with "
                "`xstyle gan train --conditional` (or leave it out for shipped:dcgan-conditional)."
            )
        generator = ckpt.sampler
    else:
        generator = spec
    fast = c.n_style_z < 10
    n_classes = int(getattr(spec, "n_classes", 10) or 10)
    return gan_style(
        generator,
        classifier,
        measures=_colour_measures(spec),
        reverse_digit=min(7, n_classes - 1),
        n_z=c.n_style_z,
        n_attribution=6 if fast else 20,
        n_steps=c.n_steps,
        n_direction=20 if fast else 200,
        n_walk=4 if fast else 16,
        sefa_components=1 if fast else 3,
        ganspace_components=1 if fast else 2,
        n_boot=20 if fast else 200,
        seed=c.seed,
        progress=step,
    )


#: the DCGAN-on-digits stages in the order they run (the "GAN figures" stage follows them)
DCGAN_STAGES: tuple[Callable[[_Runner, GANRun], None], ...] = (
    _load,
    _samples,
    _discriminator,
    _latent_classes,
    _prior_components,
    latent_stage,
    style_content_stage,
)
