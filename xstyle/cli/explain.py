"""``xstyle explain gram|ablation|tradeoff|attribution|gan-attribution|latent``."""

from __future__ import annotations

import argparse
import logging
import sys

from xstyle import __version__
from xstyle.cli._args import (
    UsageError,
    _add_digit,
    _add_direction_methods,
    _add_gan_models,
    _add_image_pair,
    _add_run_tail,
    _digit,
    _direction_methods,
    _int_list,
    _network_options,
    _nonneg_int,
    _output_folder,
    _positive_int,
    _ranks,
    _ratios,
    traversal_figures,
    write_outputs,
)
from xstyle.cli._options import _add_command, _add_group, _option, _pick
from xstyle.cli.explain_carriers import add_carriers_parser
from xstyle.cli.explain_networks import add_networks_parser
from xstyle.cli.gan import _check_digit, _classifier, _digits_from, _gan_checkpoint
from xstyle.cli.transfer import _run_transfer

log = logging.getLogger("xstyle")


def _cmd_explain_latent(args: argparse.Namespace) -> int:
    """Probe, find, traverse and compare latent directions of the DCGAN; write figures and JSON."""

    from xstyle.explain.gan.probes import explain_latent

    methods = _direction_methods(args.methods)
    if args.n < 50:
        raise UsageError(
            f"-n must be at least 50 latent samples (probes are 5-fold cross-validated); got {args.n}."
        )
    out = _output_folder(args.out)
    ckpt = _gan_checkpoint(args.checkpoint)
    _check_digit(args.digit, ckpt)
    generator = ckpt.sampler
    classifier = _classifier(args.classifier, ckpt.config.dataset)
    result = explain_latent(
        generator,
        classifier,
        n=args.n,
        seed=args.seed,
        methods=methods,
        n_components=args.components,
        style=args.style,
        n_traverse=args.n_traverse,
        labels=args.digit,
    )
    data = {
        "xstyle_version": __version__,
        "checkpoint": args.checkpoint or "shipped",
        "classifier": args.classifier or "shipped",
        **result.to_dict(),
    }
    write_outputs(
        out,
        json={"latent.json": data},
        figures={
            "probes.png": lambda: result.plot(kind="probes"),
            "similarity.png": lambda: result.plot(kind="similarity"),
            **traversal_figures(result.traversals),
        },
        dpi=120,
        summary=f"latent.json, probes.png, similarity.png, {len(result.traversals)} traversals",
    )
    pr = result.probes
    read = "; ".join(
        f"{a} {pr.metrics[j]} z {pr.scores[0, j]:.2f} -> {pr.stages[-1]} {pr.scores[-1, j]:.2f}"
        for j, a in enumerate(pr.attributes)
        if a in ("class", "ink")
    )
    print(f"probes: {read}")
    return 0


def _add_latent_parsers(esub) -> None:
    p = _add_command(
        esub,
        "latent",
        _cmd_explain_latent,
        "linear probes, InterFaceGAN/GANSpace/SeFa directions and traversals of the DCGAN's latents",
    )
    _add_gan_models(p)
    _option(p, "-n", _positive_int, 2000, "latent samples to measure")
    _add_direction_methods(p)
    _option(p, "--n-traverse", _positive_int, 24, "latents per traversal")
    p.add_argument("--style", action="store_true", help="also measure the digits' Gram energy")
    _add_digit(p)
    _add_run_tail(p, seed_help="seeds latents, folds and traversals")


def _cmd_explain_gram(args: argparse.Namespace) -> int:
    """Gram spectra of the style, its loss split against --with, low-rank styles, fingerprints."""
    from xstyle.data import list_samples, resolve_image
    from xstyle.explain.style.fingerprint import style_fingerprints
    from xstyle.explain.style.gram import compare_grams, decompose_gram
    from xstyle.explain.style.lowrank import lowrank_style_sweep
    from xstyle.transfer import TransferConfig

    out = _output_folder(args.out)
    style = resolve_image(args.style, size=args.size)
    other = resolve_image(getattr(args, "with"), size=args.size) if getattr(args, "with") else None
    content = resolve_image(args.content, size=args.lowrank_size) if args.lowrank_steps else None
    config = TransferConfig(
        size=args.lowrank_size,
        steps=(max(args.lowrank_steps, 1),),
        optimizer="adam",  # single-scale L-BFGS from the content diverges at >= 128 px
        weights=args.weights,
        seed=args.seed,
        **_network_options(args),
    )
    model = config.load_network()  # VGG19: truncated after relu5_1
    decomposition = decompose_gram(style, model=model)
    comparison = compare_grams(other, style, model=model) if other is not None else None
    lowrank = None
    if content is not None:
        lowrank = lowrank_style_sweep(content, args.style, ranks=args.ranks, config=config, model=model)
    images: dict = {s.name: f"sample:{s.name}" for s in list_samples()}
    kinds = {s.name: s.kind for s in list_samples()}
    for name, image in (("style", args.style), ("with", getattr(args, "with"))):
        if image and not (image.startswith("sample:") and image[7:] in images):
            images[name], kinds[name] = image, "other"
    if lowrank is not None:
        for k, image in zip(lowrank.ranks, lowrank.images, strict=True):
            name = f"stylised k={'full' if k is None else k}"
            images[name], kinds[name] = image, "stylised"
    fingerprints = style_fingerprints(
        images, kinds=kinds, model=model, size=args.fingerprint_size, seed=args.seed
    )
    data = {
        "xstyle_version": __version__,
        "style": args.style,
        "with": getattr(args, "with"),
        "weights": args.weights,
        "network": config.network_name,
        "size": args.size,
        "decomposition": decomposition.to_dict(),
        "comparison": comparison.to_dict() if comparison is not None else None,
        "lowrank": lowrank.to_dict() if lowrank is not None else None,
        "fingerprints": fingerprints.to_dict(),
    }
    figures = {
        "spectrum.png": decomposition.plot,
        "cumulative_energy.png": lambda: decomposition.plot(kind="cumulative"),
        "fingerprints.png": fingerprints.plot,
        "statistics_agreement.png": lambda: fingerprints.plot(kind="agreement"),
    }
    if comparison is not None:
        figures["comparison.png"] = comparison.plot
    if lowrank is not None:
        figures["lowrank.png"] = lowrank.plot
    write_outputs(out, json={"gram.json": data}, figures=figures, images={"style.png": style})
    pr = ", ".join(f"{n} {s.participation_ratio:.1f}" for n, s in decomposition.spectra.items())
    print(f"participation ratio: {pr}")
    return 0


def _adam_transfer_setup(args: argparse.Namespace):
    """The --out folder, a single-scale Adam transfer config of --size/--steps/--weights/--seed, the
    --content and --style images at that size and VGG19 (ablation and tradeoff share them)."""
    from xstyle.data import resolve_image
    from xstyle.transfer import TransferConfig

    out = _output_folder(args.out)
    config = TransferConfig(
        size=args.size,
        steps=(args.steps,),
        optimizer="adam",
        weights=args.weights,
        seed=args.seed,
        **_network_options(args),
    )
    content = resolve_image(args.content, size=config.size)
    style = resolve_image(args.style, size=config.size)
    model = config.load_network()
    return out, config, content, style, model


def _cmd_explain_ablation(args: argparse.Namespace) -> int:
    """Ablation curves of one layer's channels under gram, attribution and random rankings."""
    from xstyle.explain.style.ablation import ablation_curves
    from xstyle.models.registry import check_network_layers
    from xstyle.transfer import TransferConfig

    network = TransferConfig(weights=args.weights, **_network_options(args)).network_name
    check_network_layers(network, args.layer, param="--layer")
    out, config, content, style, model = _adam_transfer_setup(args)
    result = ablation_curves(
        content,
        style,
        config=config,
        model=model,
        **_pick(args, "layer", "counts", "mode", "rerun_steps", "seed"),
    )
    data = {
        "xstyle_version": __version__,
        "content": args.content,
        "style": args.style,
        "attribution_method": "attribution: gradient x activation of the style loss (|sum A dL/dA| per "
        "channel); captum_ig: |LayerIntegratedGradients| of the style loss per channel",
        **result.to_dict(),
    }
    write_outputs(
        out,
        json={"ablation.json": data},
        figures={"ablation_curve.png": result.plot},
        images={"reference.png": result.image},
    )
    head = result.summary["headline"]
    rho = result.rank_correlation
    print(
        f"gram vs attribution ranking: Spearman {'n/a' if rho is None else f'{rho:.2f}'}; "
        f"top {head['count']} gram channels change style more than content: "
        f"{head.get('gram_top_change_style_more_than_content')}"
    )
    return 0


def _cmd_explain_tradeoff(args: argparse.Namespace) -> int:
    """Sweep beta/alpha; content loss, style loss and SSIM per result; the knee of the curve."""
    from xstyle.explain.style.tradeoff import tradeoff_sweep

    out, config, content, style, model = _adam_transfer_setup(args)
    result = tradeoff_sweep(content, style, ratios=args.ratios, config=config, model=model)
    data = {"xstyle_version": __version__, "content": args.content, "style": args.style, **result.to_dict()}
    images = {
        f"images/ratio_{ratio:.3e}.png": image
        for ratio, image in zip(result.ratios, result.images, strict=True)
    }
    write_outputs(
        out,
        json={"tradeoff.json": data},
        figures={"tradeoff.png": result.plot},
        images=images,
        summary="tradeoff.json, tradeoff.png, images/",
    )
    knee = result.knee_ratio
    print(
        f"knee at beta/alpha = {'n/a' if knee is None else f'{knee:.3g}'} "
        f"(balance ratio {result.balance:.3g})"
    )
    return 0


def _add_gram_parsers(esub) -> None:
    p = _add_command(
        esub, "gram", _cmd_explain_gram, "Gram spectra, loss split, low-rank styles and style fingerprints"
    )
    p.add_argument("--style", required=True, help="style image: a path or sample:NAME")
    p.add_argument(
        "--with", default=None, metavar="IMG", help="second image (e.g. a stylised result) to compare"
    )
    _option(p, "--size", _positive_int, 256, "long side for the spectra")
    _option(p, "--content", None, "sample:chelsea", "content of the low-rank transfers")
    _option(p, "--ranks", _ranks, (1, 4, 16, 64, None), "low-rank k values")
    _option(p, "--lowrank-steps", _nonneg_int, 30, "evaluations per low-rank transfer; 0 skips")
    _option(p, "--lowrank-size", _positive_int, 128, "low-rank size px")
    _option(p, "--fingerprint-size", _positive_int, 128, "size for fingerprints")
    _add_run_tail(p, seed_help="random seed of the transfers", weights=True)

    p = _add_command(
        esub, "ablation", _cmd_explain_ablation, "ablate channels of one layer; loss curves by ranking"
    )
    _add_image_pair(p)
    p.add_argument("--layer", required=True, help="VGG19 layer, e.g. relu3_1")
    _add_transfer_size(p, steps_help="evaluations of the reference transfer")
    p.add_argument(
        "--counts",
        type=_int_list,
        help="channels removed, e.g. 1,2,4,8 (default: powers of 2 up to half the layer)",
    )
    _option(
        p,
        "--mode",
        None,
        "zero",
        "what an ablated channel is set to: zero, or its mean over the image",
        choices=("zero", "mean"),
    )
    _option(
        p,
        "--rerun-steps",
        _nonneg_int,
        0,
        "also re-run a transfer of this many evaluations per point, slow; 0 = none",
    )
    _add_run_tail(p, seed_help="random seed of the transfers", weights=True)

    p = _add_command(
        esub,
        "tradeoff",
        _cmd_explain_tradeoff,
        "sweep beta/alpha: content loss, style loss, SSIM and the knee",
    )
    _add_image_pair(p)
    _add_transfer_size(p, steps_help="evaluations per transfer")
    p.add_argument(
        "--ratios",
        type=_ratios,
        default=None,
        help="beta/alpha grid, e.g. 1e-2,1e-1,1,10 (default: 7 ratios half a decade apart, r0/100 to 10*r0, "
        "around the pair's balance ratio r0)",
    )
    _add_run_tail(p, seed_help="random seed of the transfers", weights=True)


def _add_transfer_size(p: argparse.ArgumentParser, *, steps_help: str) -> None:
    """--size (128 px) and --steps (30 evaluations) of ablation's and tradeoff's transfers."""
    _option(p, "--size", _positive_int, 128, "long side in px")
    _option(p, "--steps", _positive_int, 30, steps_help)


def _cmd_explain_attribution(args: argparse.Namespace) -> int:
    """Style-vs-content maps, channel carriers and Gram-entry maps of a stylised image."""
    from tqdm.auto import tqdm

    from xstyle._attribution_methods import image_methods, layer_methods
    from xstyle.data import resolve_image
    from xstyle.explain.style.maps import (
        channel_carriers,
        gram_entry_attribution,
        style_content_maps,
    )
    from xstyle.images import resize_image
    from xstyle.transfer import TransferConfig

    if args.method not in image_methods():
        allowed = ", ".join(image_methods())
        raise UsageError(f"--method must be one of {allowed}; got {args.method!r}.")
    if args.regions != "none" and args.n_regions > args.size**2 // 4:
        raise UsageError(
            f"--n-regions must be at most {args.size**2 // 4} at --size {args.size} (regions of at least "
            f"4 pixels); got {args.n_regions}."
        )
    if args.channel_method not in layer_methods():
        raise UsageError(
            f"--channel-method must be one of {', '.join(layer_methods())}; got {args.channel_method!r}."
        )
    out = _output_folder(args.out)
    content = resolve_image(args.content, size=args.size)
    style = resolve_image(args.style, size=args.size)
    config = TransferConfig(
        size=args.size, steps=(args.steps,), seed=args.seed, weights=args.weights, **_network_options(args)
    )
    model = config.load_network(last_layer="relu5_1")  # VGG19: relu5_1, the deepest Gatys layer
    if args.stylized is not None:
        stylized = resize_image(resolve_image(args.stylized), tuple(content.shape[-2:]))
        transfer = None
    else:
        transfer, _, _ = _run_transfer(args.content, args.style, config, quiet=args.quiet)
        stylized = resize_image(transfer.image, tuple(content.shape[-2:]))
    stages = ["maps", "channels", "gram entries"]
    with tqdm(
        total=len(stages), desc="attribution", unit="stage", disable=args.quiet, file=sys.stderr
    ) as bar:

        def progress(message: str) -> None:
            bar.set_postfix_str(message, refresh=True)
            log.info(message)

        common = dict(
            content=content, style=style, model=model, n_steps=args.n_steps, seed=args.seed, progress=progress
        )
        maps = style_content_maps(
            stylized, method=args.method, sanity=not args.no_sanity, baselines=args.baseline, **common
        )
        bar.update(1)
        carriers = channel_carriers(stylized, method=args.channel_method, **common)
        bar.update(1)
        del common["content"]
        entries = gram_entry_attribution(
            stylized,
            method=args.method,
            top_k=args.top_pairs,
            **{**common, "n_steps": max(2, args.n_steps // 2)},
        )
        bar.update(1)
    regions = explained = None
    if args.regions != "none" and args.no_sanity:
        from xstyle.explain.style.regions import region_evidence

        regions = region_evidence(
            maps.style_evidence["total"],
            maps.content_evidence,
            maps.image,
            method=args.regions,
            n_regions=args.n_regions,
        )
    elif args.regions != "none":
        from xstyle.explain.style.faithfulness import explain_regions

        explained = explain_regions(
            maps, model=model, style=style, method=args.regions, n_regions=args.n_regions, seed=args.seed
        )
        regions = explained.regions
    figures = {
        "style_content.png": maps.plot,
        "channels.png": carriers.plot,
        "gram_entries.png": entries.plot,
    }
    if regions is not None:
        figures["regions.png"] = regions.plot
    if explained is not None:
        figures["faithfulness.png"] = explained.plot
    for name, curve in maps.deletion.items():
        figures[f"deletion_{name.replace(':', '_')}.png"] = lambda c=curve, t=name: c.plot(title=t)
    for name, check in maps.randomisation.items():
        figures[f"randomisation_{name.replace(':', '_')}.png"] = check.plot
    data = {
        "xstyle_version": __version__,
        "content": args.content,
        "style": args.style,
        "stylized": args.stylized,
        "weights": args.weights,
        "network": config.network_name,
        "size": args.size,
        "seed": args.seed,
        "transfer": None
        if transfer is None
        else {"steps": args.steps, "losses": transfer.to_dict().get("final")},
        "style_content": maps.to_dict(),
        "channels": carriers.to_dict(),
        "gram_entries": entries.to_dict(),
        "regions": None if regions is None else regions.to_dict(),
        "faithfulness": None if explained is None else explained.to_dict()["faithfulness"],
    }
    write_outputs(
        out,
        json={"attribution.json": data},
        figures=figures,
        images={"stylized.png": stylized},
        summary="style_content.png, channels.png, gram_entries.png, attribution.json, ...",
    )
    if explained is not None:
        for line in explained.verdict_lines():
            print(f"regions.png, {line}")
    elif regions is not None:
        print("regions.png: no verdict (--no-sanity skips the region test that says if a map can answer)")
    return 0


def _cmd_explain_gan_attribution(args: argparse.Namespace) -> int:
    """Discriminator maps on real and generated images (of one label for a conditional DCGAN); the
    latent dimensions that decide the classifier's class."""
    import torch

    from xstyle.explain.gan.gan_maps import discriminator_maps, latent_class_attribution
    from xstyle.gan.prior import draw_latents

    out = _output_folder(args.out)
    ckpt = _gan_checkpoint(args.checkpoint)
    _check_digit(args.digit, ckpt)
    classifier = _classifier(args.classifier, ckpt.config.dataset)
    real = _digits_from(args.data, split="heldout", dataset=ckpt.config.dataset)
    # a conditional discriminator judges (image, label) pairs: map real and generated images of one label
    label = (args.digit or 0) if ckpt.config.conditional else None
    gen = torch.Generator().manual_seed(args.seed)
    pick = torch.randperm(len(real), generator=gen)
    if label is not None:
        pick = pick[real.labels[pick] == label]
    real_digits = real.images[pick[: args.digits]]
    if not len(real_digits):
        raise UsageError(f"{real.source} holds no image of label {label} to map; pick another --digit.")
    generator, discriminator = ckpt.sampler.eval(), ckpt.discriminator.eval()
    with torch.no_grad():
        fake_digits = generator(draw_latents(generator, len(real_digits), generator=gen, labels=label))
    progress = log.info
    d_maps = discriminator_maps(
        discriminator,
        real_digits,
        fake_digits,
        n_steps=args.n_steps,
        sanity=not args.no_sanity,
        seed=args.seed,
        progress=progress,
        label=label,
    )
    latent = latent_class_attribution(
        generator, classifier, n=args.n, n_steps=args.n_steps, seed=args.seed, progress=progress
    )
    figures = {"discriminator.png": d_maps.plot, "latent_classes.png": latent.plot}
    for name, curve in d_maps.deletion.items():
        figures[f"deletion_{name}.png"] = lambda c=curve, t=f"D on {name}": c.plot(title=t)
    if d_maps.randomisation is not None:
        figures["randomisation.png"] = d_maps.randomisation.plot
    data = {
        "xstyle_version": __version__,
        "checkpoint": str(args.checkpoint or "shipped"),
        "seed": args.seed,
        "label": label,
        "discriminator": d_maps.to_dict(),
        "latent": latent.to_dict(),
    }
    write_outputs(
        out,
        json={"gan_attribution.json": data},
        figures=figures,
        summary="discriminator.png, latent_classes.png, gan_attribution.json, ...",
    )
    return 0


def _cmd_explain_gan_style(args: argparse.Namespace) -> int:
    """Style (z) versus content (the label) in a class-conditional DCGAN."""
    from xstyle.explain.gan.gan_style import gan_style
    from xstyle.explain.gan.measures import DATASET_MEASURES
    from xstyle.gan.train import load_checkpoint

    out = _output_folder(args.out)
    ckpt = load_checkpoint(args.checkpoint or "shipped:dcgan-conditional")
    if not ckpt.config.conditional:
        raise UsageError(
            f"explain gan-style needs a class-conditional DCGAN; {ckpt.path} is unconditional "
            "(use shipped:dcgan-conditional or train one with `xstyle gan train --conditional`)."
        )
    classifier = _classifier(args.classifier, ckpt.config.dataset)
    _check_digit(args.digit, ckpt)
    result = gan_style(
        ckpt.sampler,
        classifier,
        reverse_digit=args.digit,
        measures=None if ckpt.config.dataset == "mnist" else DATASET_MEASURES.get(ckpt.config.dataset),
        progress=log.info,
        **_pick(args, "n_z", "n_attribution", "n_steps", "n_direction", "n_boot", "seed"),
    )
    data = {
        "xstyle_version": __version__,
        "checkpoint": str(args.checkpoint or "shipped:dcgan-conditional"),
        **result.to_dict(),
    }
    write_outputs(
        out,
        json={"gan_style.json": data},
        figures={"analogies.png": lambda: result.plot_analogies(rows=10), "gan_style.png": result.plot},
    )
    shares = ", ".join(f"{m} {100 * z:.0f} %" for m, z in result.z_shares().items())
    style = "the handwriting" if ckpt.config.dataset == "mnist" else "the style"
    print(f"variance explained by z ({style}): {shares}")
    return 0


def _add_attribution_parsers(esub) -> None:
    from xstyle._attribution_methods import image_methods, layer_methods  # torch-free: quick --help

    p = _add_command(
        esub,
        "attribution",
        _cmd_explain_attribution,
        "Captum maps: where the style and the content are (pixels, channels, Gram entries)",
    )
    _option(p, "--content", None, "sample:astronaut", "content image")
    _option(p, "--style", None, "sample:starry_night", "style image")
    p.add_argument(
        "--stylized",
        default=None,
        metavar="IMG",
        help="the stylised image to explain (default: run a transfer of --steps evaluations)",
    )
    _option(p, "--steps", _positive_int, 60, "transfer evaluations without --stylized")
    _option(p, "--method", None, "ig", f"pixel method: {', '.join(image_methods())}")
    _option(p, "--channel-method", None, "layer_ig", f"channel method: {', '.join(layer_methods())}")
    _option(p, "--n-steps", _positive_int, 16, "integration steps")
    _option(p, "--top-pairs", _positive_int, 2, "Gram pairs mapped per layer")
    _option(p, "--size", _positive_int, 128, "long side in px")
    _option(
        p,
        "--regions",
        None,
        "slic",
        "sum the style and content maps over SLIC superpixels or a grid",
        choices=("slic", "grid", "none"),
    )
    _option(p, "--n-regions", _positive_int, 64, "regions asked for")
    _option(
        p,
        "--baseline",
        None,
        "filler",
        "attribution baseline: filler = the photo for the style maps and the painting for the content map, "
        "the baselines the region faithfulness test checks",
        choices=("filler", "black", "blur", "mean", "noise"),
    )
    p.add_argument(
        "--no-sanity",
        action="store_true",
        help="skip the region faithfulness test, deletion curves and randomisation checks",
    )
    _add_run_tail(p, seed_help="seeds the baselines and controls", weights=True)

    p = _add_command(
        esub,
        "gan-attribution",
        _cmd_explain_gan_attribution,
        "discriminator maps and the latent dimensions behind each class",
    )
    _add_gan_models(p)
    _option(p, "--data", None, "sample", "real digits: 'sample' or 'mnist:ROOT' (MNIST only)")
    _option(p, "--digits", _positive_int, 16, "real and generated images mapped")
    _add_digit(
        p, what="its discriminator judges (image, label) pairs: map the images of this label (default 0)"
    )
    _option(p, "-n", _positive_int, 200, "latent samples for the class attribution")
    _option(p, "--n-steps", _positive_int, 32, "integration steps")
    p.add_argument("--no-sanity", action="store_true", help="skip deletion curves and randomisation checks")
    _add_run_tail(p, seed_help="seeds the latents and controls")

    p = _add_command(
        esub,
        "gan-style",
        _cmd_explain_gan_style,
        "conditional DCGAN: which input carries the digit (the label) and which the handwriting (z)",
    )
    _add_gan_models(p)
    _option(p, "--n-z", _positive_int, 50, "latents of the z x label grid, >= 2")
    _option(p, "--digit", _digit, 7, "digit of the reverse analogy row")
    _option(p, "--n-attribution", _positive_int, 30, "grid inputs attributed with IG")
    _option(p, "--n-steps", _positive_int, 32, "integration steps")
    _option(p, "--n-direction", _positive_int, 300, "latents per label for the directions")
    _option(p, "--n-boot", _positive_int, 200, "bootstrap resamples, >= 10")
    _add_run_tail(p, seed_help="seeds the latents and the bootstrap")


def add_parsers(sub) -> None:
    """Register the ``xstyle explain ...`` commands (one function per analysis family)."""
    esub = _add_group(sub, "explain", "attribution, Gram spectra, ablation, latent directions")
    _add_attribution_parsers(esub)
    add_carriers_parser(esub)
    add_networks_parser(esub)
    _add_gram_parsers(esub)
    _add_latent_parsers(esub)
