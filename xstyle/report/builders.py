"""Report builders: run the analyses of a style pair or a DCGAN and fill a :class:`Report`.

``build_style_report`` stylises a content photo with a painting and explains the result (Captum
maps, channel carriers, Gram entries, sanity checks, Gram spectra, low-rank styles, fingerprints,
channel ablation and the beta/alpha trade-off); ``build_gan_report`` measures a DCGAN checkpoint
(samples, quality, discriminator maps, latent class attribution, the digits of a mixture
prior's components, probes, directions and traversals); ``build_demo_report`` does both.
Each saves its figures under ``root/figures/`` and returns the
:class:`~xstyle.report.writer.Report`; :func:`~xstyle.report.writer.write_report` turns it into
``index.html``, ``report.md`` and ``metrics.json``.

Progress goes to an optional callback (one :class:`ProgressEvent` per stage start, step and end,
with each stage's estimated share of the whole run); nothing here prints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from xstyle._checks import check_int
from xstyle.report.writer import Report, Table, save_figure, save_image_figure, versions

__all__ = [
    "GANReportConfig",
    "ProgressEvent",
    "StyleReportConfig",
    "build_demo_report",
    "build_gan_report",
    "build_style_report",
]


# ------------------------------------------------------------------------------------- configs


@dataclass(frozen=True, kw_only=True)
class StyleReportConfig:
    """Options of the style report. Defaults fit the demo's budget (minutes on a 2-core CPU)."""

    content: str = "sample:astronaut"  # content photo: a path or sample:NAME
    style: str = "sample:starry_night"  # style image: a path or sample:NAME
    size: int = 192  # long side of the stylised image, px
    steps: tuple[int, ...] = (100, 20)  # L-BFGS evaluations per pyramid level (coarse to fine)
    analysis_size: int = 128  # long side for attribution, ablation, low-rank and trade-off runs
    method: str = "ig"  # pixel attribution method (Captum)
    channel_method: str = "layer_ig"  # channel attribution method
    n_steps: int = 12  # integration steps of IG
    top_pairs: int = 2  # Gram pairs mapped per layer
    sanity: bool = True  # deletion/insertion curves and model randomisation
    deletion_steps: int = 12  # points of each deletion/insertion curve
    ranks: tuple[int | None, ...] = (1, 4, 16, 64, None)  # low-rank Gram targets (None = full)
    lowrank_steps: int = 30  # Adam evaluations per low-rank transfer
    ablation_layer: str = "relu3_1"  # layer whose channels are removed
    tradeoff_steps: int = 30  # Adam evaluations per trade-off transfer
    tradeoff_ratios: tuple[float, ...] | None = None  # beta/alpha; None: 7 around the balance ratio
    fingerprint_size: int = 128  # long side for the style fingerprints
    fingerprint_samples: int | None = None  # sample photos/paintings compared (None: all 14)
    weights: str = "caffe"  # VGG19 weights
    fast_model: str | None = None  # a real-time stylizer to explain too (path or shipped:NAME)
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(int(s) for s in self.steps))
        object.__setattr__(self, "ranks", tuple(self.ranks))
        if self.tradeoff_ratios is not None:
            object.__setattr__(self, "tradeoff_ratios", tuple(float(r) for r in self.tradeoff_ratios))
        for name in ("n_steps", "lowrank_steps", "tradeoff_steps", "deletion_steps", "top_pairs"):
            check_int(getattr(self, name), name, 1)
        for name in ("size", "analysis_size", "fingerprint_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 32:
                raise ValueError(f"{name} must be a whole number of pixels >= 32; got {value!r}.")
        if not self.ranks:
            raise ValueError("ranks must list at least one k (whole numbers >= 1, None for full).")
        n = self.fingerprint_samples
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"fingerprint_samples must be a whole number >= 1 or None (all); got {n!r}.")

    @classmethod
    def fast(cls, **changes: Any) -> StyleReportConfig:
        """A tiny configuration (seconds, for tests): every section and figure, little computation."""
        tiny = dict(
            size=48,
            steps=(3,),
            analysis_size=32,
            n_steps=2,
            top_pairs=1,
            deletion_steps=4,
            ranks=(1, None),
            lowrank_steps=2,
            tradeoff_steps=2,
            tradeoff_ratios=(1e2, 1e4, 1e6),
            fingerprint_size=32,
            fingerprint_samples=2,
        )
        return cls(**{**tiny, **changes})

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ranks"] = ["full" if k is None else k for k in self.ranks]
        return out


@dataclass(frozen=True, kw_only=True)
class GANReportConfig:
    """Options of the GAN report (checkpoint and classifier default to the shipped ones)."""

    checkpoint: str | None = None  # DCGAN checkpoint; None: the shipped release
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
    seed: int = 0

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
        if self.n_quality < 2:
            raise ValueError(f"n_quality must be at least 2; got {self.n_quality}.")
        if isinstance(self.n_latent, bool) or not isinstance(self.n_latent, int) or self.n_latent < 50:
            raise ValueError(
                f"n_latent must be at least 50 latent samples (probes are 5-fold cross-validated); "
                f"got {self.n_latent!r}."
            )

    @classmethod
    def fast(cls, **changes: Any) -> GANReportConfig:
        """A tiny configuration (seconds, for tests) that still draws every figure."""
        tiny = dict(
            n_quality=100,
            n_latent=100,
            n_components=2,
            n_traverse=4,
            digits=4,
            n_attribution=20,
            n_steps=4,
            n_prior=20,
        )
        return cls(**{**tiny, **changes})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report of a builder.

    Attributes:
        kind: ``"start"`` (a stage begins), ``"advance"`` (one step of it done), ``"end"``.
        stage: the stage's name; index: its number (0-based) of ``n_stages``.
        done, total: steps of the stage done so far and expected (``done`` may pass ``total`` when
            the estimate was low).
        share: the stage's estimated share of the whole run's time (all shares sum to 1).
        message: what the step did; seconds: the stage's time (``"end"`` only).
    """

    kind: str
    stage: str
    index: int
    n_stages: int
    done: int
    total: int
    share: float
    message: str = ""
    seconds: float | None = None


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass
class _Stage:
    name: str
    total: int  # expected steps
    cost: float  # estimated relative cost (seconds on the reference machine)


@dataclass
class _Runner:
    """Runs a fixed plan of stages, reporting progress and recording the log of what ran."""

    plan: list[_Stage]
    progress: ProgressCallback | None
    log: list[dict[str, Any]] = field(default_factory=list)
    _next: int = 0

    def _emit(self, **kw: Any) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent(n_stages=len(self.plan), **kw))

    @contextmanager
    def stage(self, name: str) -> Iterator[Callable[[str], None]]:
        index = next(i for i, s in enumerate(self.plan) if s.name == name)
        spec = self.plan[index]
        whole = sum(s.cost for s in self.plan) or 1.0
        share = spec.cost / whole
        done = 0
        self._emit(kind="start", stage=name, index=index, done=0, total=spec.total, share=share)

        def advance(message: str = "") -> None:
            nonlocal done
            done += 1
            self._emit(
                kind="advance",
                stage=name,
                index=index,
                done=done,
                total=spec.total,
                share=share,
                message=message,
            )

        t0 = time.perf_counter()
        try:
            yield advance
        except BaseException as exc:
            self.log.append(
                {
                    "stage": name,
                    "seconds": round(time.perf_counter() - t0, 2),
                    "status": "failed",
                    "detail": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                }
            )
            raise
        seconds = time.perf_counter() - t0
        self.log.append({"stage": name, "seconds": round(seconds, 2), "status": "ok", "detail": ""})
        self._emit(
            kind="end",
            stage=name,
            index=index,
            done=done,
            total=spec.total,
            share=share,
            seconds=seconds,
        )


def _flat(values, *, tolerance: float = 0.01) -> bool:
    """Whether positive numbers all lie within ``tolerance`` (relative) of each other."""
    values = [float(v) for v in values]
    return bool(values) and min(values) > 0 and max(values) / min(values) - 1 < tolerance


def _vgg_cost(size: int) -> float:
    """Estimated seconds of one VGG19 forward + backward at ``size`` px (2-core CPU)."""
    return 0.36 * (size / 128) ** 2


def _style_plan(c: StyleReportConfig) -> list[_Stage]:
    from xstyle.transfer import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS

    n_style = len(GATYS_STYLE_LAYERS)
    levels = [c.size // 2 ** (len(c.steps) - 1 - i) for i in range(len(c.steps))]
    transfer = sum(s * _vgg_cost(px) for s, px in zip(c.steps, levels, strict=True)) + 2
    u = _vgg_cost(c.analysis_size)
    maps_steps = n_style + 1 + (4 if c.sanity else 0)
    maps = (n_style + 1) * c.n_steps * u + (
        2 * 5 * c.n_steps * u + 2 * c.deletion_steps * u if c.sanity else 0
    )
    n_channel_layers = len(set(GATYS_STYLE_LAYERS) | set(GATYS_CONTENT_LAYERS))
    channels = 2 * n_channel_layers * c.n_steps * u
    entries = n_style * c.top_pairs * max(2, c.n_steps // 2) * u
    ratios = 7 if c.tradeoff_ratios is None else len(c.tradeoff_ratios)
    return [
        _Stage("load images and VGG19", 1, 3),
        _Stage("style transfer", sum(c.steps), transfer),
        _Stage("style/content maps", maps_steps, maps),
        _Stage("channel carriers", n_channel_layers, channels),
        _Stage("Gram entries", n_style * c.top_pairs, entries),
        _Stage("Gram spectra", 2, 2 + 2 * _vgg_cost(c.size)),
        _Stage("low-rank styles", 1, len(c.ranks) * c.lowrank_steps * u + 1),
        _Stage("style fingerprints", 1, 20 * _vgg_cost(c.fingerprint_size) / 2 + 3),
        _Stage("channel ablation", 1, 3 + 50 * u),
        _Stage("trade-off sweep", 1, ratios * c.tradeoff_steps * u + 1),
        _Stage("style figures", 1, 8),
    ] + (
        # pixel maps (2 targets), discriminator maps, block ablation and the training curves
        [_Stage("real-time stylizer", 6, 5 + 3 * c.n_steps * _vgg_cost(c.size))] if c.fast_model else []
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
        _Stage("GAN figures", 1, 2 + n_dirs / 2),
    ]


# ---------------------------------------------------------------------------------- style report


def _final_losses(final: dict) -> list[tuple[str, Any]]:
    rows = [(k, final[k]) for k in ("total", "content", "style") if k in final]
    for layer, value in (final.get("style_per_layer") or {}).items():
        rows.append((f"style {layer}", value))
    return rows


def _style_part(runner: _Runner, c: StyleReportConfig, root: Path, report: Report, prefix: str) -> dict:
    """Run every style analysis, save its figures, add its sections; returns its metrics."""
    from xstyle.data import resolve_image
    from xstyle.explain.ablation import ablation_curves
    from xstyle.explain.gram import compare_grams, decompose_gram, lowrank_style_sweep, style_fingerprints
    from xstyle.explain.style_attribution import channel_carriers, gram_entry_attribution, style_content_maps
    from xstyle.explain.tradeoff import tradeoff_sweep
    from xstyle.images import resize_image
    from xstyle.models.vgg import load_vgg19
    from xstyle.transfer import GATYS_STYLE_LAYERS, TransferConfig, style_transfer

    p = prefix
    metrics: dict[str, Any] = {}
    with runner.stage("load images and VGG19") as step:
        config = TransferConfig(size=c.size, steps=c.steps, weights=c.weights, seed=c.seed)
        content_full = resolve_image(c.content, size=c.size)
        style_full = resolve_image(c.style, size=c.size)
        model = load_vgg19(c.weights, pooling=config.pooling, last_layer=config.deepest_layer)
        step("loaded")

    with runner.stage("style transfer") as step:
        transfer = style_transfer(
            content_full, style_full, config=config, model=model, callbacks=[lambda s: step(f"{s.size}px")]
        )
    metrics["transfer"] = transfer.to_dict()

    # the analyses run at a smaller size (cost grows with the pixel count)
    content = resolve_image(c.content, size=c.analysis_size)
    style = resolve_image(c.style, size=c.analysis_size)
    stylized = resize_image(transfer.image, tuple(content.shape[-2:]))
    common = dict(content=content, style=style, model=model, n_steps=c.n_steps, seed=c.seed)
    with runner.stage("style/content maps") as step:
        maps = style_content_maps(
            stylized,
            method=c.method,
            sanity=c.sanity,
            deletion_steps=c.deletion_steps,
            progress=step,
            **common,
        )
    with runner.stage("channel carriers") as step:
        carriers = channel_carriers(stylized, method=c.channel_method, progress=step, **common)
    with runner.stage("Gram entries") as step:
        entries = gram_entry_attribution(
            stylized,
            style=style,
            model=model,
            method=c.method,
            top_k=c.top_pairs,
            n_steps=max(2, c.n_steps // 2),
            seed=c.seed,
            progress=step,
        )
    metrics["style_content"] = maps.to_dict()
    metrics["channels"] = carriers.to_dict()
    metrics["gram_entries"] = entries.to_dict()

    with runner.stage("Gram spectra") as step:
        decomposition = decompose_gram(style_full, model=model)
        step("decomposed the style's Grams")
        comparison = compare_grams(transfer.image, style_full, model=model)
        step("compared the stylised image's Grams with the style's")
    metrics["gram_spectra"] = decomposition.to_dict()
    metrics["gram_comparison"] = comparison.to_dict()

    adam = TransferConfig(
        size=c.analysis_size, steps=(c.lowrank_steps,), optimizer="adam", weights=c.weights, seed=c.seed
    )
    with runner.stage("low-rank styles") as step:
        lowrank = lowrank_style_sweep(content, style, ranks=c.ranks, config=adam, model=model)
        step("swept ranks")
    metrics["lowrank"] = lowrank.to_dict()

    with runner.stage("style fingerprints") as step:
        samples = _fingerprint_samples(c)
        images: dict[str, Any] = {s.name: f"sample:{s.name}" for s in samples}
        kinds = {s.name: s.kind for s in samples}
        for name, image in (("content", c.content), ("style", c.style)):
            if not (image.startswith("sample:") and image[7:] in images):
                images[name], kinds[name] = image, "other"
        images["stylised"], kinds["stylised"] = transfer.image, "stylised"
        fingerprints = style_fingerprints(
            images, kinds=kinds, model=model, size=c.fingerprint_size, seed=c.seed
        )
        step("compared styles")
    metrics["fingerprints"] = fingerprints.to_dict()

    with runner.stage("channel ablation") as step:
        layer = c.ablation_layer
        extra = {}
        if layer in carriers.style_scores:
            extra["captum_style"] = carriers.style_scores[layer].abs()
        ablation = ablation_curves(
            content,
            style,
            layer=layer,
            image=stylized,
            scores=extra,
            config=replace(adam, steps=(1,)),
            model=model,
            seed=c.seed,
        )
        step("ablated channels")
    metrics["ablation"] = ablation.to_dict()

    with runner.stage("trade-off sweep") as step:
        tradeoff = tradeoff_sweep(
            content,
            style,
            ratios=c.tradeoff_ratios,
            config=replace(adam, steps=(c.tradeoff_steps,)),
            model=model,
        )
        step("swept beta/alpha")
    metrics["tradeoff"] = tradeoff.to_dict()

    with runner.stage("style figures") as step:
        _style_sections(
            report,
            root,
            p,
            c,
            transfer=transfer,
            content_full=content_full,
            style_full=style_full,
            maps=maps,
            carriers=carriers,
            entries=entries,
            decomposition=decomposition,
            comparison=comparison,
            lowrank=lowrank,
            fingerprints=fingerprints,
            ablation=ablation,
            tradeoff=tradeoff,
            style_layers=GATYS_STYLE_LAYERS,
        )
        step("saved figures")
    if c.fast_model:
        with runner.stage("real-time stylizer") as step:
            metrics["stylizer"] = _stylizer_part(c, root, report, p, transfer, content_full, model, step)
    return metrics


def _stylizer_part(c, root, report, p, transfer, content, vgg, step) -> dict:
    """The fast model's section: the same photo at the same size, beside the optimisation result."""
    from xstyle.report.stylizer import add_stylizer_section

    return add_stylizer_section(
        report,
        root,
        c.fast_model,
        content,
        vgg=vgg,
        optimisation=transfer.final,
        optimisation_style=c.style,
        n_steps=c.n_steps,
        prefix=f"{p}stylizer_",
        progress=step,
    )


def _fingerprint_samples(c: StyleReportConfig) -> list:
    """The sample photos and paintings compared with the result (alternating kinds when limited)."""
    from xstyle.data import list_samples

    used = {c.content[7:], c.style[7:]}
    photos = [s for s in list_samples("photo") if s.name not in used]
    paintings = [s for s in list_samples("painting") if s.name not in used]
    mixed = [s for pair in zip(photos, paintings, strict=False) for s in pair]
    mixed += photos[len(paintings) :] + paintings[len(photos) :]
    picked = mixed if c.fingerprint_samples is None else mixed[: c.fingerprint_samples]
    chosen = {s.name for s in picked} | used
    return [s for s in list_samples() if s.name in chosen]


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


# ------------------------------------------------------------------------------------ GAN report


def _gan_part(runner: _Runner, c: GANReportConfig, root: Path, report: Report, prefix: str) -> dict:
    import torch
    from torchvision.utils import make_grid

    from xstyle.data import load_digits
    from xstyle.explain.gan_attribution import discriminator_maps, latent_class_attribution
    from xstyle.explain.latent import explain_latent
    from xstyle.explain.latent_prior import prior_components
    from xstyle.gan.classifier import evaluate_classifier, load_classifier
    from xstyle.gan.metrics import evaluate_generator
    from xstyle.gan.prior import draw_latents
    from xstyle.gan.shipped import shipped_classifier_path, shipped_gan_path
    from xstyle.gan.train import load_checkpoint

    p = prefix
    metrics: dict[str, Any] = {}
    with runner.stage("load DCGAN and classifier") as step:
        ckpt = load_checkpoint(c.checkpoint or shipped_gan_path())
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
        step("saved figures")
    return metrics


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
            title="64 generated digits",
            caption=f"G(z) for 64 latents z drawn from the prior '{ckpt.config.prior}' with seed {c.seed}, "
            "drawn like MNIST: white ink "
            "on black. Look for recognisable, varied digits with clean strokes.",
            width=480,
        )
    )
    s.figure(
        save_figure(
            _class_count_figure(quality.class_counts, "Predicted classes of the generated digits"),
            root,
            f"{p}class_balance",
            title="Class balance",
            caption=f"Share of the {quality.n_samples} generated digits the classifier assigns to each "
            "class. A GAN that covers all digits evenly stays near the dotted line; missing bars are "
            "dropped modes.",
        )
    )
    history = [h for h in ckpt.history if "d_loss" in h and "g_loss" in h and "epoch" in h]
    if history:
        s.figure(
            save_figure(
                GANTrainingDisplay.from_result(history).plot(),
                root,
                f"{p}training",
                title="Training history",
                caption="Discriminator and generator losses per epoch and, where measured, the Fréchet "
                "distance to held-out digits (lower is better). Losses of a GAN do not fall steadily; "
                "the distance is the quality signal.",
            )
        )
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
            title="Quality",
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
        s.figure(
            save_figure(
                components.plot(),
                root,
                f"{p}prior_components",
                title="Prior components and digits",
                caption="Share of each component's digits the classifier assigns to each digit, with the "
                "component's confident share (max p ≥ 0.9). One bright cell per row: the component became "
                "one digit; two cells: the generator splits it between two digits, and the blends near "
                "that split are the unconfident samples.",
            )
        )
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
                title="Prior components",
                caption="If confidence hardly falls with the distance to the component's mean, a narrower "
                "prior (truncation) would not make the digits more recognisable.",
            )
        )

    s = report.section(
        "What does the discriminator look at?",
        f"Integrated Gradients of the discriminator's logit on {len(d_maps.real)} real held-out digits "
        f"and {len(d_maps.fake)} generated ones (baseline: an empty canvas).",
    )
    s.figure(
        save_figure(
            d_maps.plot(),
            root,
            f"{p}discriminator_maps",
            title="Discriminator attributions",
            caption="Digits with their logit D (above) and the attribution map below each: red pixels "
            "push D towards 'real', blue towards 'fake'. Maps concentrated on the strokes mean D "
            "judges the ink; mass on the background means it judges the empty paper.",
        )
    )
    for kind, curve in d_maps.deletion.items():
        s.figure(
            save_figure(
                curve.plot(title=f"D on {kind}"),
                root,
                f"{p}d_deletion_{kind}",
                title=f"Deletion and insertion curves (D on a {kind} digit)",
                caption="D's normalised logit as pixels are blanked (deletion) or restored (insertion) "
                "in the map's order (solid) or random orders (dashed). Faster than random = the map "
                f"found what D uses. Passed: {'yes' if curve.passed else 'no'}.",
            )
        )
    if d_maps.randomisation is not None:
        s.figure(
            save_figure(
                d_maps.randomisation.plot(),
                root,
                f"{p}d_randomisation",
                title="Model randomisation (discriminator)",
                caption="Rank correlation of the map with the trained D's map as D's layers are "
                "re-initialised from the top; it should fall below the threshold "
                f"(passed: {'yes' if d_maps.randomisation.passed else 'no'}).",
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
            title="Discriminator numbers",
            caption="When the attribution share on ink is above the ink fraction, the map favours "
            "the strokes over the paper; here it is for "
            + (
                " and ".join(k for k in ("real", "fake") if d_maps.stroke_share[k] > d_maps.ink_fraction[k])
                or "neither kind"
            )
            + " digits.",
        )
    )

    s = report.section(
        "Which latent dimensions decide the digit?",
        f"IG of the classifier's logit for the predicted class of G(z), attributed to the "
        f"{latent_classes.attribution.shape[1]} latent dimensions (baseline z = 0), over "
        f"{c.n_attribution} samples; then a causal check.",
    )
    s.figure(
        save_figure(
            latent_classes.plot(),
            root,
            f"{p}latent_classes",
            title="Latent attribution per class",
            caption="Rows are predicted classes, columns latent dimensions; colour is the mean "
            "attribution (red raises the class logit). Dimensions that light up for one row only "
            "are class-specific.",
        )
    )
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
            title="Causal check",
            caption="Moving z along its top-attributed dimensions should raise the class logit more "
            f"than moving random ones; it does for {100 * latent_classes.causal_passed:.0f}% of the "
            "predicted classes.",
        )
    )

    s = report.section(
        "Latent directions",
        f"{c.n_latent} latent samples: linear probes read attributes (class, ink, thickness, slant, "
        "width, height, confidence) from z and each generator stage; the direction methods find "
        "directions (see the table); each direction is walked and its effect measured.",
    )
    s.figure(
        save_figure(
            latent.plot(kind="probes"),
            root,
            f"{p}probes",
            title="Linear probes",
            caption="Cross-validated accuracy (class) or R² (other attributes) of a linear probe from "
            "z and from each generator stage. Rising scores along the rows show where the generator "
            "makes an attribute explicit.",
        )
    )
    s.figure(
        save_figure(
            latent.plot(kind="similarity"),
            root,
            f"{p}direction_similarity",
            title="Agreement between direction finders",
            caption="Cosine similarity between every pair of directions (red: same way, blue: opposite). "
            "A bright off-block cell means an unsupervised method (GANSpace, SeFa) rediscovered a "
            "named attribute (InterFaceGAN).",
        )
    )
    for i, trav in enumerate(latent.traversals):
        label = trav.direction.label
        s.figure(
            save_figure(
                trav.plot(rows=4),
                root,
                f"{p}traversal_{i:02d}_{label}",
                title=f"Traversal along {label}",
                caption="Each row is one of 4 latents moved along the direction in steps of σ (columns; the "
                "middle column is the unchanged digit). The title names the attribute that changes "
                "most and how often the digit's class flips.",
            )
        )
    s.table(
        Table(
            columns=("direction", "changes most", "change (sd/σ)", "disentanglement", "class flips"),
            rows=tuple(
                (a["direction"], a["dominant_attribute"], a["change"], a["disentanglement"], a["flip_rate"])
                for a in latent.alignment()
            ),
            title="What each direction does",
            caption="Disentanglement: the intended (or dominant) attribute's share of all attribute "
            "changes, 1 = it changes nothing else.",
        )
    )


# --------------------------------------------------------------------------------- entry points


def _new_report(title: str, summary: str, seed: int, config: dict[str, Any]) -> Report:
    return Report(title=title, summary=summary, config=config, versions=versions(), seed=seed)


def build_style_report(
    config: StyleReportConfig | None = None,
    *,
    root: str | os.PathLike,
    progress: ProgressCallback | None = None,
    title: str | None = None,
) -> Report:
    """Stylise ``config.content`` with ``config.style``, explain the result; figures go to ``root``.

    Args:
        config: the options (default :class:`StyleReportConfig`).
        root: the report folder (figures are written to ``root/figures/``); usually the temporary
            folder of :func:`xstyle.atomic.atomic_dir`.
        progress: called with a :class:`ProgressEvent` at each stage start, step and end.
        title: the page title (default names the pair).
    Returns:
        The :class:`Report`; pass it to :func:`~xstyle.report.writer.write_report`.
    """
    c = config or StyleReportConfig()
    root = Path(root)
    runner = _Runner(_style_plan(c), progress)
    report = _new_report(
        title or f"xstyle report: {c.content} in the style of {c.style}",
        _STYLE_SUMMARY.replace("Part 1 stylises", "This report stylises"),
        c.seed,
        {"kind": "style", "style": c.to_dict()},
    )
    report.log = runner.log
    report.metrics = {"style": _style_part(runner, c, root, report, "style_")}
    return report


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


def build_demo_report(
    style: StyleReportConfig | None = None,
    gan: GANReportConfig | None = None,
    *,
    root: str | os.PathLike,
    progress: ProgressCallback | None = None,
    title: str = "xstyle demo report: style transfer and a DCGAN, explained",
) -> Report:
    """Both reports in one page (the style part first); one plan, so progress covers the whole run."""
    s, g = style or StyleReportConfig(), gan or GANReportConfig()
    runner = _Runner(_style_plan(s) + _gan_plan(g), progress)
    report = _new_report(
        title,
        _STYLE_SUMMARY + "\n\n" + _GAN_SUMMARY,
        s.seed,
        {"kind": "demo", "style": s.to_dict(), "gan": g.to_dict()},
    )
    report.log = runner.log
    metrics = {"style": _style_part(runner, s, Path(root), report, "style_")}
    metrics["gan"] = _gan_part(runner, g, Path(root), report, "gan_")
    report.metrics = metrics
    return report


_STYLE_SUMMARY = (
    "Part 1 stylises a photo with a painting (Gatys et al. 2016) and asks why the result looks the "
    "way it does: which pixels carry the style and which the content (Captum attributions, with "
    "sanity checks), which channels and Gram entries carry the style, how many Gram eigencomponents "
    "the style needs, what removing channels does, and how the style weight trades content for style."
)
_GAN_SUMMARY = (
    "Part 2 opens a DCGAN trained on MNIST digits: sample quality, what the discriminator looks at, "
    "which latent dimensions decide the digit, and which latent directions change which attribute."
)
