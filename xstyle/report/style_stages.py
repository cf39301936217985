"""The style report's stages: what each computes, in the order they run.

Each stage is a function ``stage(runner, run)`` that runs one stage of the plan (``_style_plan``
in :mod:`xstyle.report.style`), keeps its results on the :class:`StyleRun` and records their
numbers in ``run.metrics``; :data:`STYLE_STAGES` lists them in order, so a new analysis is one
more function and one more entry. :mod:`xstyle.report.style_sections` turns the run into sections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from xstyle.report._common import _Runner

if TYPE_CHECKING:
    from xstyle.report.style import StyleReportConfig

__all__ = ["STYLE_STAGES", "StyleRun"]


@dataclass
class StyleRun:
    """What the style report's stages computed so far (each stage fills its fields).

    ``*_full`` images are at ``size``, ``*_m`` at ``maps_size`` and ``content``/``style``/``stylized``
    at ``analysis_size``, all (1, 3, H, W) in [0, 1]; the other fields are the analyses' results.
    """

    c: StyleReportConfig
    metrics: dict[str, Any] = field(default_factory=dict)
    config: Any = None  # the TransferConfig of the stylisation
    model: Any = None
    content_full: Any = None
    style_full: Any = None
    transfer: Any = None
    content_m: Any = None
    style_m: Any = None
    maps: Any = None
    regions: Any = None
    content: Any = None
    style: Any = None
    stylized: Any = None
    carriers: Any = None
    entries: Any = None
    decomposition: Any = None
    comparison: Any = None
    pictures: list[tuple[Any, Any]] = field(default_factory=list)
    network: Any = None  # the NetworkCard of the feature network
    adam: Any = None  # the TransferConfig of the Adam runs at analysis_size
    lowrank: Any = None
    fingerprints: Any = None
    ablation: Any = None
    summary: Any = None
    tradeoff: Any = None


def _load(runner: _Runner, run: StyleRun) -> None:
    from xstyle.data import resolve_image

    c = run.c
    with runner.stage("load images and the network") as step:
        run.config = c._transfer_config()
        run.content_full = resolve_image(c.content, size=c.size)
        run.style_full = resolve_image(c.style, size=c.size)
        run.model = run.config.load_network()
        step("loaded")


def _transfer(runner: _Runner, run: StyleRun) -> None:
    from xstyle.transfer import style_transfer

    with runner.stage("style transfer") as step:
        run.transfer = style_transfer(
            run.content_full,
            run.style_full,
            config=run.config,
            model=run.model,
            callbacks=[lambda s: step(f"{s.size}px")],
        )
    run.metrics["transfer"] = run.transfer.to_dict()


def _network(runner: _Runner, run: StyleRun) -> None:
    """The feature network's card, and on a network other than the default its per-depth
    activation statistics on the style image (:func:`~xstyle.report.style_network.network_card`)."""
    from xstyle.report.style_network import measures_network, network_card

    if not measures_network(run.c):
        run.network = network_card(run.config)
        run.metrics["network"] = run.network.to_dict()
        return
    with runner.stage("network statistics") as step:
        run.network = network_card(run.config, model=run.model, style=run.style_full)
        step("measured the style layers")
    run.metrics["network"] = run.network.to_dict()


def _maps(runner: _Runner, run: StyleRun) -> None:
    """Style/content maps at ``maps_size`` with the fillers as baselines (the region test checks those)."""
    from xstyle.data import resolve_image
    from xstyle.explain.style.maps import style_content_maps
    from xstyle.images import resize_image

    c = run.c
    run.content_m = resolve_image(c.content, size=c.maps_size)
    run.style_m = resolve_image(c.style, size=c.maps_size)
    with runner.stage("style/content maps") as step:
        run.maps = style_content_maps(
            resize_image(run.transfer.image, tuple(run.content_m.shape[-2:])),
            content=run.content_m,
            style=run.style_m,
            model=run.model,
            method=c.method,
            baselines="filler",
            n_steps=c.n_steps,
            sanity=c.sanity,
            deletion_steps=c.deletion_steps,
            seed=c.seed,
            progress=step,
        )
    run.metrics["style_content"] = run.maps.to_dict()


def _regions(runner: _Runner, run: StyleRun) -> None:
    from xstyle.explain.style.faithfulness import explain_regions

    c = run.c
    with runner.stage("region faithfulness") as step:
        run.regions = explain_regions(
            run.maps,
            model=run.model,
            style=run.style_m,
            method=c.regions,
            n_regions=c.n_regions,
            n_random=c.n_random,
            seed=c.seed,
        )
        step(f"style map {'passes' if run.regions.style_test.passed else 'fails'}")
        step(f"content map {'passes' if run.regions.content_test.passed else 'fails'}")
    run.metrics["regions"] = run.regions.to_dict()


def _analysis_inputs(runner: _Runner, run: StyleRun) -> None:
    """The pair and the result at ``analysis_size`` (the later analyses' cost grows with the pixels),
    and the Adam configuration of their transfers; no stage of its own."""
    from xstyle.data import resolve_image
    from xstyle.images import resize_image
    from xstyle.transfer import TransferConfig

    c = run.c
    run.content = resolve_image(c.content, size=c.analysis_size)
    run.style = resolve_image(c.style, size=c.analysis_size)
    run.stylized = resize_image(run.transfer.image, tuple(run.content.shape[-2:]))
    run.adam = TransferConfig(
        size=c.analysis_size,
        steps=(c.lowrank_steps,),
        optimizer="adam",
        weights=c.weights,
        network=c.network,
        seed=c.seed,
    )


def _channel_carriers(runner: _Runner, run: StyleRun) -> None:
    from xstyle.explain.style.maps import channel_carriers

    c = run.c
    with runner.stage("channel carriers") as step:
        run.carriers = channel_carriers(
            run.stylized,
            content=run.content,
            style=run.style,
            model=run.model,
            n_steps=c.n_steps,
            seed=c.seed,
            method=c.channel_method,
            progress=step,
        )
    run.metrics["channels"] = run.carriers.to_dict()


def _gram_entries(runner: _Runner, run: StyleRun) -> None:
    from xstyle.explain.style.maps import gram_entry_attribution

    c = run.c
    with runner.stage("Gram entries") as step:
        run.entries = gram_entry_attribution(
            run.stylized,
            style=run.style,
            model=run.model,
            method=c.method,
            top_k=c.top_pairs,
            n_steps=max(2, c.n_steps // 2),
            seed=c.seed,
            progress=step,
        )
    run.metrics["gram_entries"] = run.entries.to_dict()


def _gram_spectra(runner: _Runner, run: StyleRun) -> None:
    from xstyle.explain.style.gram import compare_grams, decompose_gram

    with runner.stage("Gram spectra") as step:
        run.decomposition = decompose_gram(run.style_full, model=run.model)
        step("decomposed the style's Grams")
        run.comparison = compare_grams(run.transfer.image, run.style_full, model=run.model)
        step("compared the stylised image's Grams with the style's")
    run.metrics["gram_spectra"] = run.decomposition.to_dict()
    run.metrics["gram_comparison"] = run.comparison.to_dict()


def _carriers_visualised(runner: _Runner, run: StyleRun) -> None:
    """Per carrier layer: a ChannelVisualization of its top channels by the style's Gram energy and
    a GramComponentVisualization of its leading eigencomponents (None when none are asked)."""
    if not run.c.carrier_layers:
        return
    with runner.stage("carriers visualised") as step:
        run.pictures = _visualise_carriers(run, step)
    run.metrics["carriers_visualised"] = {
        ch.layer: {"channels": ch.to_dict(), "gram_components": gc.to_dict() if gc else None}
        for ch, gc in run.pictures
    }


def _visualise_carriers(run: StyleRun, step: Callable[[str], None]) -> list[tuple[Any, Any]]:
    from xstyle.data import resolve_image
    from xstyle.explain.style.featurevis import visualize_channels, visualize_gram_components
    from xstyle.explain.style.gram import decompose_gram

    c, model = run.c, run.model
    style = resolve_image(c.style, size=c.carrier_size)
    missing = [layer for layer in c.carrier_layers if layer not in run.decomposition.spectra]
    spectra = dict(run.decomposition.spectra)
    if missing:  # layers outside the Gatys style layers: decompose them too
        spectra.update(decompose_gram(run.style_full, layers=missing, model=model).spectra)
    common = dict(size=c.carrier_size, steps=c.carrier_steps, seed=c.seed, weights=c.weights)
    out = []
    for layer in c.carrier_layers:
        share = spectra[layer].channel_share
        top = [int(i) for i in share.argsort(descending=True)[: c.carrier_channels]]
        channels = visualize_channels(model, layer, top, **common)
        n = min(c.carrier_components, share.numel())
        components = (
            visualize_gram_components(model, layer, style, components=tuple(range(n)), **common)
            if n
            else None
        )
        out.append((channels, components))
        step(layer)
    return out


def _lowrank(runner: _Runner, run: StyleRun) -> None:
    from xstyle.explain.style.lowrank import lowrank_style_sweep

    with runner.stage("low-rank styles") as step:
        run.lowrank = lowrank_style_sweep(
            run.content, run.style, ranks=run.c.ranks, config=run.adam, model=run.model
        )
        step("swept ranks")
    run.metrics["lowrank"] = run.lowrank.to_dict()


def _fingerprints(runner: _Runner, run: StyleRun) -> None:
    from xstyle.explain.style.fingerprint import style_fingerprints

    c = run.c
    with runner.stage("style fingerprints") as step:
        samples = _fingerprint_samples(c)
        images: dict[str, Any] = {s.name: f"sample:{s.name}" for s in samples}
        kinds = {s.name: s.kind for s in samples}
        for name, image in (("content", c.content), ("style", c.style)):
            if not (image.startswith("sample:") and image[7:] in images):
                images[name], kinds[name] = image, "other"
        images["stylised"], kinds["stylised"] = run.transfer.image, "stylised"
        run.fingerprints = style_fingerprints(
            images, kinds=kinds, model=run.model, size=c.fingerprint_size, seed=c.seed
        )
        step("compared styles")
    run.metrics["fingerprints"] = run.fingerprints.to_dict()


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


def _ablation(runner: _Runner, run: StyleRun) -> None:
    from xstyle.explain.style.ablation import ablation_curves

    c = run.c
    with runner.stage("channel ablation") as step:
        extra = {}
        if c.ablation_layer in run.carriers.style_scores:
            extra["captum_style"] = run.carriers.style_scores[c.ablation_layer].abs()
        run.ablation = ablation_curves(
            run.content,
            run.style,
            layer=c.ablation_layer,
            image=run.stylized,
            scores=extra,
            config=replace(run.adam, steps=(1,)),
            model=run.model,
            seed=c.seed,
        )
        step("ablated channels")
    run.metrics["ablation"] = run.ablation.to_dict()


def _summary(runner: _Runner, run: StyleRun) -> None:
    """The one-figure answer from the results so far; no stage of its own (no network passes)."""
    from xstyle.explain.style.summary import summarise_style

    run.summary = summarise_style(
        regions=run.regions,
        maps=run.maps,
        carriers=run.carriers,
        decomposition=run.decomposition,
        ablation=run.ablation,
    )
    run.metrics["summary"] = run.summary.to_dict()


def _tradeoff(runner: _Runner, run: StyleRun) -> None:
    from xstyle.explain.style.tradeoff import tradeoff_sweep

    c = run.c
    with runner.stage("trade-off sweep") as step:
        run.tradeoff = tradeoff_sweep(
            run.content,
            run.style,
            ratios=c.tradeoff_ratios,
            config=replace(run.adam, steps=(c.tradeoff_steps,)),
            model=run.model,
        )
        step("swept beta/alpha")
    run.metrics["tradeoff"] = run.tradeoff.to_dict()


#: the stages in the order they run (each reads what the ones before it left on the run)
STYLE_STAGES: tuple[Callable[[_Runner, StyleRun], None], ...] = (
    _load,
    _transfer,
    _network,
    _maps,
    _regions,
    _analysis_inputs,
    _channel_carriers,
    _gram_entries,
    _gram_spectra,
    _carriers_visualised,
    _lowrank,
    _fingerprints,
    _ablation,
    _summary,
    _tradeoff,
)
