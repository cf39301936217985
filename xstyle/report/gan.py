"""The GAN report: measure and explain a DCGAN checkpoint (samples, quality, discriminator maps,
latent class attribution, mixture-prior components, probes, directions and traversals), or any
other generator.

The stages are one function each (:mod:`xstyle.report.gan_stages`, :mod:`xstyle.report.gan_any`
for any other generator), and so are the sections (:mod:`xstyle.report.gan_sections`); this module
holds the options, the plan, the builder and the choice between the two reports."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from xstyle._checks import check_int
from xstyle.report._common import ProgressCallback, _new_report, _Page, _ReportConfig, _Runner, _Stage
from xstyle.report.gan_any import ANY_SECTIONS, ANY_STAGES, load_report_generator
from xstyle.report.gan_sections import DCGAN_SECTIONS
from xstyle.report.gan_stages import DCGAN_STAGES, GANRun
from xstyle.report.writer import Report

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
    """Run the stages of the DCGAN on digits (or of any other generator), then add the sections
    and their figures in the "GAN figures" stage; returns the metrics."""
    digits = is_dcgan_on_digits(c.checkpoint)
    stages, sections = (DCGAN_STAGES, DCGAN_SECTIONS) if digits else (ANY_STAGES, ANY_SECTIONS)
    run = GANRun(c=c)
    for stage in stages:
        stage(runner, run)
    page = _Page(report, root, prefix)
    with runner.stage("GAN figures") as step:
        for section in sections:
            section(page, run)
        step("saved figures")
    return run.metrics


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
    from xstyle.models.shipped import is_shipped_spec, shipped_models

    name = spec.removeprefix("shipped:")
    if is_shipped_spec(spec) and name not in shipped_models("dcgan"):
        return False
    if not is_shipped_spec(spec) and not (spec.endswith(".pt") and Path(spec).is_file()):
        return False
    return load_checkpoint(spec).config.dataset == "mnist"
