"""The GAN report: measure and explain a DCGAN checkpoint (samples, quality, discriminator maps,
latent class attribution, mixture-prior components, probes, directions and traversals)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from xstyle._checks import check_int
from xstyle.report._common import ProgressCallback, _FigureSaver, _new_report, _ReportConfig, _Runner, _Stage
from xstyle.report.captions import text
from xstyle.report.writer import Report, Table, save_image_figure

__all__ = ["GANReportConfig", "build_gan_report", "is_dcgan_on_digits", "load_report_generator"]


@dataclass(frozen=True, kw_only=True)
class GANReportConfig(_ReportConfig):
    """Options of the GAN report (checkpoint and classifier default to the shipped ones)."""

    checkpoint: str | None = None  # DCGAN checkpoint or any generator spec; None: the shipped release
    generator_weights: str | None = None  # weights (a state dict file) for a module:callable generator
    classifier: str | None = None  # digit classifier; None: the shipped one
    n_quality: int = 1000  # generated digits scored (IS / Fréchet distance analogues)
    n_latent: int = 1500  # latent samples for probes and directions
    methods: tuple[str, ...] = ("interfacegan", "ganspace", "sefa")  # direction finders
    n_components: int = 5  # GANSpace / SeFa directions kept
    n_traverse: int = 24  # latents walked per traversal
    digits: int = 8  # real and generated digits mapped by the discriminator attribution
    n_attribution: int = 200  # latent samples for the class attribution
    n_prior: int = 300  # digits per latent-prior component (mixture priors only)
    n_steps: int = 16  # IG steps
    sanity: bool = True  # deletion/insertion curves and model randomisation
    conditional_checkpoint: str | None = None  # class-conditional DCGAN; None: the shipped one
    style_content: bool = True  # the conditional DCGAN's style-versus-content section
    n_style_z: int = 30  # latents of its z x label grid
    seed: int = 0

    _FAST: ClassVar[dict[str, Any]] = {
        "n_quality": 100,
        "n_latent": 100,
        "n_components": 2,
        "n_traverse": 4,
        "digits": 4,
        "n_attribution": 20,
        "n_steps": 4,
        "n_prior": 20,
        "n_style_z": 3,
    }
    #: the demo: fewer scored digits and latent samples (the full report's numbers are steadier)
    _DEMO: ClassVar[dict[str, Any]] = {
        "n_quality": 500,
        "n_latent": 600,
        "n_attribution": 100,
        "n_style_z": 15,
    }

    def __post_init__(self) -> None:
        object.__setattr__(self, "methods", tuple(self.methods))
        for name in (
            "n_quality",
            "n_components",
            "n_traverse",
            "digits",
            "n_attribution",
            "n_steps",
            "n_prior",
        ):
            check_int(getattr(self, name), name, 1)
        check_int(self.n_style_z, "n_style_z", 2)
        if self.n_quality < 2:
            raise ValueError(f"n_quality must be at least 2; got {self.n_quality}.")
        if isinstance(self.n_latent, bool) or not isinstance(self.n_latent, int) or self.n_latent < 50:
            raise ValueError(
                f"n_latent must be at least 50 latent samples (probes are 5-fold cross-validated); "
                f"got {self.n_latent!r}."
            )


def _gan_plan(c: GANReportConfig) -> list[_Stage]:
    n_dirs = (6 if "interfacegan" in c.methods else 0) + c.n_components * (
        ("ganspace" in c.methods) + ("sefa" in c.methods)
    )
    return [
        _Stage("load DCGAN and classifier", 1, 1),
        _Stage("samples and quality", 1, 1 + c.n_quality / 1000),
        _Stage("discriminator maps", 2 + (3 if c.sanity else 0), 1 + 0.1 * c.digits * c.n_steps / 8),
        _Stage("latent class attribution", 10, 1 + 0.03 * c.n_attribution * c.n_steps / 8),
        _Stage("prior components", 1, 1 + c.n_prior / 100),  # mixture priors only; else skipped
        _Stage("latent directions", 1, 5 + c.n_latent / 100 + n_dirs * c.n_traverse / 20),
        _Stage("style versus content (conditional DCGAN)", 5, (5 + c.n_style_z) if c.style_content else 0.1),
        _Stage("GAN figures", 1, 2 + n_dirs / 2),
    ]


def _gan_part(runner: _Runner, c: GANReportConfig, root: Path, report: Report, prefix: str) -> dict:
    import torch
    from torchvision.utils import make_grid

    from xstyle.data import load_digits
    from xstyle.explain.gan.gan_maps import discriminator_maps, latent_class_attribution
    from xstyle.explain.gan.prior import prior_components
    from xstyle.gan.classifier import evaluate_classifier, load_classifier
    from xstyle.gan.metrics import evaluate_generator
    from xstyle.gan.prior import draw_latents
    from xstyle.gan.shipped import shipped_classifier_path, shipped_gan_path
    from xstyle.gan.train import load_checkpoint

    p = prefix
    if not is_dcgan_on_digits(c.checkpoint):
        return _any_generator_part(runner, c, root, report, p)
    metrics: dict[str, Any] = {}
    with runner.stage("load DCGAN and classifier") as step:
        ckpt = load_checkpoint(c.checkpoint or shipped_gan_path())
        if ckpt.config.conditional:
            raise ValueError(
                f"the GAN report's checkpoint is the unconditional DCGAN; {c.checkpoint} is "
                "class-conditional: pass it as the conditional checkpoint (--conditional-checkpoint)."
            )
        classifier = load_classifier(c.classifier or shipped_classifier_path())
        heldout = load_digits("heldout")
        generator, discriminator = ckpt.sampler.eval(), ckpt.discriminator.eval()
        step("loaded")
    metrics["checkpoint"] = {
        "path": str(c.checkpoint or "shipped"),
        "epoch": ckpt.epoch,
        "prior": ckpt.config.prior,
    }

    with runner.stage("samples and quality") as step:
        gen = torch.Generator().manual_seed(c.seed)
        with torch.no_grad():
            grid_digits = generator(draw_latents(generator, 64, generator=gen))
        accuracy = evaluate_classifier(classifier, heldout)
        quality = evaluate_generator(generator, classifier, heldout, n_samples=c.n_quality, seed=c.seed)
        step("scored samples")
    metrics["classifier_heldout_accuracy"] = accuracy
    metrics["quality"] = quality.to_dict()

    with runner.stage("discriminator maps") as step:
        pick = torch.randperm(len(heldout), generator=gen)[: c.digits]
        with torch.no_grad():
            fake = generator(draw_latents(generator, c.digits, generator=gen))
        d_maps = discriminator_maps(
            discriminator,
            heldout.images[pick],
            fake,
            n_steps=c.n_steps,
            sanity=c.sanity,
            seed=c.seed,
            progress=step,
        )
    metrics["discriminator"] = d_maps.to_dict()

    with runner.stage("latent class attribution") as step:
        latent_classes = latent_class_attribution(
            generator, classifier, n=c.n_attribution, n_steps=c.n_steps, seed=c.seed, progress=step
        )
    metrics["latent_classes"] = latent_classes.to_dict()

    components = None
    with runner.stage("prior components") as step:
        if ckpt.config.prior != "normal":  # one Gaussian has no components to tell apart
            components = prior_components(generator, classifier, n_per_component=c.n_prior, seed=c.seed)
            metrics["prior_components"] = components.to_dict()
        step("classified each component's digits" if components else "N(0, I) prior: nothing to do")

    latent = _latent_stage(runner, c, generator, classifier, metrics)

    style = None
    with runner.stage("style versus content (conditional DCGAN)") as step:
        if c.style_content:
            style = _style_content(c, classifier, step)
            metrics["style_content"] = style.to_dict()
        step("z x label grid, shares, attribution, Gram, directions" if style else "skipped")

    with runner.stage("GAN figures") as step:
        grid = make_grid(grid_digits, nrow=8, normalize=True, value_range=(-1, 1), pad_value=1)
        grid = torch.nn.functional.interpolate(grid[None], scale_factor=2, mode="nearest")[0]
        _gan_sections(
            report,
            root,
            p,
            c,
            ckpt=ckpt,
            grid=grid[None],
            accuracy=accuracy,
            quality=quality,
            d_maps=d_maps,
            latent_classes=latent_classes,
            latent=latent,
            components=components,
        )
        if style is not None:
            _style_content_section(report, root, p, c, style)
        step("saved figures")
    return metrics


def _style_content(c: GANReportConfig, classifier, step, *, spec=None):
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


def _style_content_section(
    report: Report,
    root: Path,
    p: str,
    c: GANReportConfig,
    style,
    *,
    name: str | None = None,
    class_names: tuple[str, ...] = (),
) -> None:
    save = _FigureSaver(root, p)
    if name is None:
        name = c.conditional_checkpoint or "the shipped conditional DCGAN"
        s = report.section(
            "Style versus content: the label writes the digit, z the handwriting",
            f"{name} generates a digit from a latent z and a label. On a grid of {style.config['n_z']} "
            "latents times the ten labels (every z written as every digit), the numbers below measure "
            "which input carries what.",
        )
    else:
        s = report.section(
            "Style versus content: what the label carries and what z carries",
            f"{name} generates an image from a latent z and a label. On a grid of {style.config['n_z']} "
            f"latents times the {style.config['n_classes']} labels (every z drawn with every label), the "
            "numbers below split each measure's variance between z, the label and their interaction.",
        )
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
    gram = style.gram
    s.table(
        Table(
            columns=("quantity", "value"),
            rows=(
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
            ),
            **text("gan.table_style_numbers"),
        )
    )
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


def _class_count_figure(counts, title: str):
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


def _gan_sections(report: Report, root: Path, p: str, c: GANReportConfig, **r: Any) -> None:
    save = _FigureSaver(root, p)
    import numpy as np

    from xstyle.gan.plots import GANTrainingDisplay

    ckpt, quality, d_maps, latent_classes, latent = (
        r["ckpt"],
        r["quality"],
        r["d_maps"],
        r["latent_classes"],
        r["latent"],
    )
    name = "the shipped DCGAN" if c.checkpoint is None else f"the DCGAN checkpoint {c.checkpoint}"
    s = report.section(
        "DCGAN samples and quality",
        f"Digits from {name} (epoch {ckpt.epoch}), scored with xstyle's digit classifier. The "
        "Inception Score and Fréchet distance are MNIST analogues on the classifier's outputs and "
        "features: they compare xstyle runs with each other, not with ImageNet IS/FID numbers.",
    )
    s.figure(
        save_image_figure(
            r["grid"],
            root,
            f"{p}samples",
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
                ("classifier held-out accuracy", r["accuracy"]),
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

    components = r.get("components")
    if components is not None:
        pure = [int(k) for k in np.flatnonzero(components.pure)]
        s = report.section(
            "Which digit each latent component became",
            f"This DCGAN draws z from the prior '{components.prior}': {components.n_components} Gaussians "
            "with fixed, separated means. Training decides which digit each component turns into; "
            f"{components.n_per_component} latents from every component were generated and classified.",
        )
        s.figure(save(components.plot(), "prior_components", "gan.prior_components"))
        s.table(
            Table(
                columns=("quantity", "value"),
                rows=(
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
                ),
                **text("gan.table_prior_components"),
            )
        )

    s = report.section(
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

    s = report.section(
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

    _latent_section(report, root, p, c, latent)


def _latent_section(report: Report, root: Path, p: str, c: GANReportConfig, latent) -> None:
    save = _FigureSaver(root, p)
    measured = ", ".join(a for a in latent.samples.attributes)
    s = report.section(
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


def build_gan_report(
    config: GANReportConfig | None = None,
    *,
    root: str | os.PathLike,
    progress: ProgressCallback | None = None,
    title: str | None = None,
) -> Report:
    """Measure and explain a DCGAN checkpoint; figures go to ``root/figures/`` (see build_style_report)."""
    c = config or GANReportConfig()
    runner = _Runner(_gan_plan(c), progress)
    report = _new_report(
        title or "xstyle report: inside the DCGAN",
        _GAN_SUMMARY.replace("Part 2 opens", "This report opens"),
        c.seed,
        {"kind": "gan", "gan": c.to_dict()},
    )
    report.log = runner.log
    report.metrics = {"gan": _gan_part(runner, c, Path(root), report, "gan_")}
    return report


_GAN_SUMMARY = (
    "Part 2 opens a DCGAN trained on MNIST digits: sample quality, what the discriminator looks at, "
    "which latent dimensions decide the digit, and which latent directions change which attribute."
)


# ---------------------------------------------------------------------------- any generator


def is_dcgan_on_digits(spec: str | None) -> bool:
    """Whether the report's ``checkpoint`` names an xstyle DCGAN trained on MNIST digits (the
    digit report: classifier, held-out digits, class attribution, prior components); anything else
    (the colour emoji DCGAN, the user's ``module:callable``) gets the report of any generator."""
    if spec is None:
        return True
    import xstyle.gan  # noqa: F401 - registers shipped:NAME and checkpoints
    from xstyle.gan.train import load_checkpoint
    from xstyle.shipped import is_shipped_spec, shipped_models

    name = spec.removeprefix("shipped:")
    if is_shipped_spec(spec) and name not in shipped_models("dcgan"):
        return False
    if not is_shipped_spec(spec) and not (spec.endswith(".pt") and Path(spec).is_file()):
        return False
    return load_checkpoint(spec).config.dataset == "mnist"


def load_report_generator(c: GANReportConfig):
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


def _any_generator_part(runner: _Runner, c: GANReportConfig, root: Path, report: Report, p: str) -> dict:
    """The report of any generator: samples and quality, discriminator maps, probes, directions
    and traversals, and for a conditional one the label-versus-z analysis; parts that need what
    the generator lacks (a classifier, a discriminator, real images, labels) are skipped and say so."""
    import torch
    from torchvision.utils import make_grid

    from xstyle.explain.gan.gan_maps import discriminator_maps
    from xstyle.gan.metrics import evaluate_generator

    metrics: dict[str, Any] = {}
    skipped: list[str] = []
    with runner.stage("load DCGAN and classifier") as step:
        spec, classifier, real = load_report_generator(c)
        step("loaded")
    metrics["generator"] = spec.to_dict()
    with runner.stage("samples and quality") as step:
        rows = min(spec.n_classes, 10) if spec.conditional else 8
        per_row = 8
        labels = torch.arange(rows).repeat_interleave(per_row) if spec.conditional else None
        samples = spec.synthesize(spec.sample_latent(rows * per_row, seed=c.seed, labels=labels))
        quality = None
        if classifier is not None and real is not None:
            quality = evaluate_generator(spec.generator, classifier, real, n_samples=c.n_quality, seed=c.seed)
            metrics["quality"] = quality.to_dict()
        else:
            skipped.append("quality (needs a classifier and real images)")
        step("scored samples" if quality else "no classifier or real images: quality skipped")
    d_maps = None
    with runner.stage("discriminator maps") as step:
        if spec.discriminator is not None and real is not None:
            label = 0 if getattr(spec.discriminator, "n_classes", 0) else None
            pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(c.seed))
            real_imgs = real.images[pick]
            if label is not None:
                real_imgs = real_imgs[real.labels[pick] == label]
            fake_labels = label if spec.conditional else None
            fake = spec.synthesize(spec.sample_latent(c.digits, seed=c.seed + 1, labels=fake_labels))
            d_maps = discriminator_maps(
                spec.discriminator.eval(),
                real_imgs[: c.digits],
                fake,
                n_steps=c.n_steps,
                sanity=c.sanity,
                seed=c.seed,
                progress=step,
                label=label,
            )
            metrics["discriminator"] = d_maps.to_dict()
        else:
            skipped.append("discriminator maps (needs a discriminator and real images)")
            step("skipped")
    with runner.stage("latent class attribution") as step:
        step("digits only: skipped")
    with runner.stage("prior components") as step:
        step("digits only: skipped")
    latent = _latent_stage(runner, c, spec, classifier, metrics)
    style = None
    with runner.stage("style versus content (conditional DCGAN)") as step:
        if c.style_content and spec.conditional and classifier is not None:
            style = _style_content(c, classifier, step, spec=spec)
            metrics["style_content"] = style.to_dict()
        elif c.style_content:
            skipped.append("label versus z (needs a conditional generator and a classifier)")
        step("z x label grid, shares, directions" if style else "skipped")
    metrics["skipped"] = skipped
    with runner.stage("GAN figures") as step:
        grid = make_grid(samples, nrow=per_row, normalize=True, value_range=(-1, 1), pad_value=1)
        grid = torch.nn.functional.interpolate(grid[None], scale_factor=2, mode="nearest")
        _any_samples_section(report, root, p, spec, grid, quality, skipped)
        if d_maps is not None:
            _any_discriminator_section(report, root, p, d_maps)
        _latent_section(report, root, p, c, latent)
        if style is not None:
            _style_content_section(report, root, p, c, style, name=spec.name, class_names=spec.class_names)
        step("saved figures")
    return metrics


def _latent_stage(runner: _Runner, c: GANReportConfig, generator, classifier, metrics: dict):
    """The "latent directions" stage: probes, directions and traversals of ``generator`` (a DCGAN or
    any generator spec), recorded under ``metrics["latent"]``."""
    from xstyle.explain.gan.probes import explain_latent

    with runner.stage("latent directions") as step:
        latent = explain_latent(
            generator,
            classifier,
            n=c.n_latent,
            seed=c.seed,
            methods=c.methods,
            n_components=c.n_components,
            n_traverse=c.n_traverse,
        )
        step("probes, directions, traversals")
    metrics["latent"] = latent.to_dict()
    return latent


def _any_samples_section(report: Report, root: Path, p: str, spec, grid, quality, skipped: list[str]) -> None:
    rows = "one row per label" + (f" ({', '.join(spec.class_names[:10])})" if spec.class_names else "")
    s = report.section(
        "Samples and quality",
        f"Images from the generator {spec.name} ({spec.description or 'the user’s module'}): "
        f"{spec.channels} channel(s), {spec.image_size}×{spec.image_size} pixels, latent size "
        f"{spec.latent_dim}" + (f", {spec.n_classes} labels" if spec.conditional else "") + ".",
    )
    s.figure(
        save_image_figure(
            grid,
            root,
            f"{p}samples",
            **text("gan.any_samples", rows=f"; {rows}" if spec.conditional else ""),
            width=480,
        )
    )
    if quality is not None:
        rows_q = [
            ("samples scored", quality.n_samples),
            (
                "Fréchet distance (classifier features, against held-out real images)",
                quality.frechet_distance,
            ),
            ("confident samples (max p ≥ 0.9), %", 100 * quality.confident_fraction),
            ("class balance (normalised entropy)", quality.balance_entropy),
        ]
        if quality.label_agreement is not None:
            rows_q.insert(1, ("classified as the requested label, %", 100 * quality.label_agreement))
        s.table(Table(columns=("quantity", "value"), rows=tuple(rows_q), **text("gan.table_quality")))
    if skipped:
        s.table(
            Table(
                columns=("skipped", ""),
                rows=tuple((k, "") for k in skipped),
                **text("gan.any_skipped"),
            )
        )


def _any_discriminator_section(report: Report, root: Path, p: str, d_maps) -> None:
    save = _FigureSaver(root, p)
    s = report.section(
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
