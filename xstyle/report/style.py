"""The style report: stylise a content photo with a painting and explain the result.

``build_style_report`` runs the plan of stages (transfer, Captum maps, channel carriers, Gram
entries, spectra, low-rank styles, fingerprints, ablation, trade-off, optionally a real-time
stylizer), one function each in :mod:`xstyle.report.style_stages`;
:mod:`xstyle.report.style_sections` turns the results into sections and figures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from xstyle._checks import check_int
from xstyle.report._common import ProgressCallback, _new_report, _Page, _ReportConfig, _Runner, _Stage
from xstyle.report.style_sections import add_style_sections
from xstyle.report.style_stages import STYLE_STAGES, StyleRun
from xstyle.report.writer import Report

__all__ = ["StyleReportConfig", "build_style_report"]


@dataclass(frozen=True, kw_only=True)
class StyleReportConfig(_ReportConfig):
    """Options of the style report. Defaults fit the demo's budget (minutes on a 2-core CPU)."""

    content: str = "sample:astronaut"  # content photo: a path or sample:NAME
    style: str = "sample:starry_night"  # style image: a path or sample:NAME
    size: int = 256  # long side of the stylised image, px
    #: L-BFGS evaluations per pyramid level (coarse to fine; at 256 px one level, see min_level)
    steps: tuple[int, ...] = (80,)
    #: long side of the style/content maps, their regions and the faithfulness test (>= 256 px keeps
    #: regions legible; at most ``size``: the maps explain the stylised image, never an upsampling)
    maps_size: int = 256
    regions: str = "slic"  # "slic" superpixels or a regular "grid"
    n_regions: int = 64  # regions asked for
    n_random: int = 8  # random region orders the faithfulness test compares against
    analysis_size: int = 128  # long side for channel, Gram-entry, ablation, low-rank and trade-off runs
    method: str = "ig"  # pixel attribution method (Captum)
    channel_method: str = "layer_ig"  # channel attribution method
    n_steps: int = 8  # integration steps of IG
    top_pairs: int = 2  # Gram pairs mapped per layer
    sanity: bool = True  # deletion/insertion curves and model randomisation
    deletion_steps: int = 12  # points of each deletion/insertion curve
    ranks: tuple[int | None, ...] = (1, 4, 16, 64, None)  # low-rank Gram targets (None = full)
    lowrank_steps: int = 30  # Adam evaluations per low-rank transfer
    ablation_layer: str = "relu3_1"  # layer whose channels are removed
    tradeoff_steps: int = 20  # Adam evaluations per trade-off transfer
    tradeoff_ratios: tuple[float, ...] | None = None  # beta/alpha; None: 7 around the balance ratio
    fingerprint_size: int = 128  # long side for the style fingerprints
    #: "what this style is made of": layers whose top carrier channels (by the style's Gram energy)
    #: and leading Gram eigencomponents are visualised; () leaves the section out
    carrier_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1")
    carrier_channels: int = 4  # top channels pictured per layer
    carrier_components: int = 2  # leading Gram eigencomponents pictured per layer
    carrier_size: int = 96  # long side of each picture, px (16 to 512)
    carrier_steps: int = 48  # Adam steps per picture
    fingerprint_samples: int | None = None  # sample photos/paintings compared (None: all 14)
    weights: str = "caffe"  # VGG19 weights
    #: the feature network (xstyle.models.list_networks()); None: VGG19 with ``weights``. On another
    #: network the VGG19 layer names above (carrier_layers, ablation_layer) become its own by position
    network: str | None = None
    #: arithmetic of the stylisation: "auto" = bfloat16 where the CPU has bf16 units, else float32
    precision: str = "auto"
    fast_model: str | None = None  # a real-time stylizer to explain too (path or shipped:NAME)
    seed: int = 0

    _FAST: ClassVar[dict[str, Any]] = {
        "size": 48,
        "steps": (3,),
        "maps_size": 48,
        "n_regions": 16,
        "n_random": 4,
        "analysis_size": 32,
        "n_steps": 2,
        "top_pairs": 1,
        "deletion_steps": 4,
        "ranks": (1, None),
        "lowrank_steps": 2,
        "tradeoff_steps": 2,
        "tradeoff_ratios": (1e2, 1e4, 1e6),
        "fingerprint_size": 32,
        "fingerprint_samples": 2,
        "carrier_layers": ("relu1_1",),
        "carrier_channels": 2,
        "carrier_components": 1,
        "carrier_size": 24,
        "carrier_steps": 2,
    }
    #: the demo (a few minutes): no deletion curves or randomisation check (the full report runs
    #: them), 64 evaluations, maps and the region test at 160 px with 32 regions, the channel,
    #: Gram-entry, ablation, low-rank and trade-off runs at 96 px, fewer ranks, ratios, fingerprints
    #: and carrier steps
    _DEMO: ClassVar[dict[str, Any]] = {
        "steps": (64,),
        "sanity": False,
        "maps_size": 160,
        "n_regions": 32,
        "n_random": 4,
        "analysis_size": 96,
        "ranks": (1, 8, None),
        "tradeoff_ratios": (1e2, 1e3, 1e4, 1e5, 1e6),
        "fingerprint_samples": 6,
        "carrier_steps": 32,
    }

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(int(s) for s in self.steps))
        object.__setattr__(self, "ranks", tuple(self.ranks))
        object.__setattr__(self, "carrier_layers", tuple(self.carrier_layers))
        if self.network is not None:
            from xstyle.models.registry import check_network_layers, translate_gatys_layers

            for name in ("carrier_layers", "ablation_layer"):
                object.__setattr__(self, name, translate_gatys_layers(self.network, getattr(self, name)))
                if getattr(self, name):
                    check_network_layers(self.network, getattr(self, name), param=name)
        elif self.carrier_layers:
            from xstyle.models.vgg import check_layer_names

            check_layer_names(self.carrier_layers, param="carrier_layers")
        for name in ("carrier_channels", "carrier_steps"):
            check_int(getattr(self, name), name, 1)
        check_int(self.carrier_components, "carrier_components", 0)
        if (
            isinstance(self.carrier_size, bool)
            or not isinstance(self.carrier_size, int)
            or not (16 <= self.carrier_size <= 512)
        ):
            raise ValueError(
                f"carrier_size must be a whole number of pixels, 16 to 512; got {self.carrier_size!r}."
            )
        if self.tradeoff_ratios is not None:
            object.__setattr__(self, "tradeoff_ratios", tuple(float(r) for r in self.tradeoff_ratios))
        for name in ("n_steps", "lowrank_steps", "tradeoff_steps", "deletion_steps", "top_pairs"):
            check_int(getattr(self, name), name, 1)
        for name in ("size", "maps_size", "analysis_size", "fingerprint_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 32:
                raise ValueError(f"{name} must be a whole number of pixels >= 32; got {value!r}.")
        if self.maps_size > self.size:
            raise ValueError(
                f"maps_size ({self.maps_size}) must be at most size ({self.size}): the maps explain the "
                "stylised image at its own resolution or below, never an upsampling of it."
            )
        if self.regions not in ("slic", "grid"):
            raise ValueError(f"regions must be 'slic' or 'grid'; got {self.regions!r}.")
        check_int(self.n_regions, "n_regions", 2)
        check_int(self.n_random, "n_random", 2)
        if self.n_regions > self.maps_size**2 // 4:
            raise ValueError(
                f"n_regions must be at most {self.maps_size**2 // 4} at maps_size {self.maps_size} "
                f"(regions of at least 4 pixels); got {self.n_regions}."
            )
        if not self.ranks:
            raise ValueError("ranks must list at least one k (whole numbers >= 1, None for full).")
        n = self.fingerprint_samples
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"fingerprint_samples must be a whole number >= 1 or None (all); got {n!r}.")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["ranks"] = ["full" if k is None else k for k in self.ranks]
        return out

    def _transfer_config(self) -> Any:
        """The :class:`~xstyle.transfer.TransferConfig` of the report's stylisation."""
        from xstyle.transfer import TransferConfig

        return TransferConfig(
            size=self.size,
            steps=self.steps,
            weights=self.weights,
            network=self.network,
            precision=self.precision,
            seed=self.seed,
        )


def _vgg_cost(size: int) -> float:
    """Estimated seconds of one VGG19 forward + backward at ``size`` px (2-core CPU)."""
    return 0.36 * (size / 128) ** 2


def _style_plan(c: StyleReportConfig) -> list[_Stage]:
    from xstyle.report.style_network import measures_network
    from xstyle.transfer import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS, TransferConfig

    n_style = len(GATYS_STYLE_LAYERS)
    schedule = TransferConfig(size=c.size, steps=c.steps).schedule
    transfer = sum(s * _vgg_cost(px) for px, s in schedule) + 2
    u = _vgg_cost(c.analysis_size)
    m = _vgg_cost(c.maps_size)
    maps_steps = n_style + 1 + (4 if c.sanity else 0)
    maps = (n_style + 1) * c.n_steps * m + (
        2 * 5 * c.n_steps * m + 2 * c.deletion_steps * m if c.sanity else 0
    )
    n_channel_layers = len(set(GATYS_STYLE_LAYERS) | set(GATYS_CONTENT_LAYERS))
    channels = 2 * n_channel_layers * c.n_steps * u
    entries = n_style * c.top_pairs * max(2, c.n_steps // 2) * u
    ratios = 7 if c.tradeoff_ratios is None else len(c.tradeoff_ratios)
    return [
        _Stage("load images and the network", 1, 3),
        _Stage("style transfer", sum(c.steps), transfer),
        # one forward pass through the style layers, on networks other than the default only
        *([_Stage("network statistics", 1, 1 + _vgg_cost(c.size) / 3)] if measures_network(c) else []),
        _Stage("style/content maps", maps_steps, maps),
        # 2 tests x (1 + n_random orders) curves of 9 points, forward passes only (~1/3 of forward+backward)
        _Stage("region faithfulness", 2, 2 * (c.n_random + 1) * 9 * m / 3),
        _Stage("channel carriers", n_channel_layers, channels),
        _Stage("Gram entries", n_style * c.top_pairs, entries),
        _Stage("Gram spectra", 2, 2 + 2 * _vgg_cost(c.size)),
        # forward + backward of a batch of pictures per step, through the layer only (~1/3 of VGG19)
        *(
            [
                _Stage(
                    "carriers visualised",
                    len(c.carrier_layers),
                    len(c.carrier_layers)
                    * (c.carrier_channels + c.carrier_components)
                    * c.carrier_steps
                    * _vgg_cost(c.carrier_size)
                    / 3,
                )
            ]
            if c.carrier_layers
            else []
        ),
        _Stage("low-rank styles", 1, len(c.ranks) * c.lowrank_steps * u + 1),
        _Stage("style fingerprints", 1, 20 * _vgg_cost(c.fingerprint_size) / 2 + 3),
        _Stage("channel ablation", 1, 3 + 50 * u),
        _Stage("trade-off sweep", 1, ratios * c.tradeoff_steps * u + 1),
        _Stage("style figures", 1, 8),
    ] + (
        # pixel maps (2 targets), discriminator maps, block ablation and the training curves
        [_Stage("real-time stylizer", 6, 5 + 3 * c.n_steps * _vgg_cost(c.size))] if c.fast_model else []
    )


def _style_part(runner: _Runner, c: StyleReportConfig, root: Path, report: Report, prefix: str) -> dict:
    """Run every style stage (:data:`~xstyle.report.style_stages.STYLE_STAGES`), add the sections
    and their figures, then the real-time stylizer's when asked; returns the metrics."""
    run = StyleRun(c=c)
    for stage in STYLE_STAGES:
        stage(runner, run)
    page = _Page(report, root, prefix)
    with runner.stage("style figures") as step:
        add_style_sections(page, run)
        step("saved figures")
    if c.fast_model:
        with runner.stage("real-time stylizer") as step:
            run.metrics["stylizer"] = _stylizer_part(page, run, step)
    return run.metrics


def _stylizer_part(page: _Page, run: StyleRun, step: Any) -> dict:
    """The fast model's section: the same photo at the same size, beside the optimisation result."""
    from xstyle.report.stylizer import add_stylizer_section

    c = run.c
    return add_stylizer_section(
        page.report,
        page.root,
        c.fast_model,
        run.content_full,
        vgg=run.model,
        optimisation=run.transfer.final,
        optimisation_style=c.style,
        n_steps=c.n_steps,
        prefix=f"{page.prefix}stylizer_",
        progress=step,
    )


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


_STYLE_SUMMARY = (
    "Part 1 stylises a photo with a painting (Gatys et al. 2016) and asks why the result looks the "
    "way it does: which pixels carry the style and which the content (Captum attributions, with "
    "sanity checks), which channels and Gram entries carry the style, how many Gram eigencomponents "
    "the style needs, what removing channels does, and how the style weight trades content for style."
)
