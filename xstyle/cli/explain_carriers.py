"""``xstyle explain carriers``: what a style is made of, as pictures (feature visualisation)."""

from __future__ import annotations

import argparse

from xstyle import __version__
from xstyle.cli._args import (
    UsageError,
    _add_run_tail,
    _layers,
    _network_options,
    _output_folder,
    _positive_int,
    write_outputs,
)
from xstyle.cli._options import _add_command, _option


def _cmd_explain_carriers(args: argparse.Namespace) -> int:
    """Images that excite the style's top carrier channels and textures of its Gram eigencomponents."""
    from xstyle.explain.style.featurevis import SIZE_RANGE, visualize_channels, visualize_gram_components

    lo, hi = SIZE_RANGE
    if not lo <= args.size <= hi:  # before any model or image loads
        raise UsageError(f"--size must be {lo} to {hi} px; got {args.size}.")
    from xstyle.data import resolve_image
    from xstyle.explain.style.gram import decompose_gram
    from xstyle.models.registry import check_network_layers, deepest, network_defaults
    from xstyle.transfer import TransferConfig

    config = TransferConfig(weights=args.weights, **_network_options(args))
    layers = args.layers or network_defaults(config.network_name)[1][:3]  # VGG19: relu1_1 .. relu3_1
    check_network_layers(config.network_name, layers, param="--layers")
    out = _output_folder(args.out)
    style = resolve_image(args.style, size=args.size)
    model = config.load_network(last_layer=deepest(config.network_name, layers))
    spectra = decompose_gram(style, layers=layers, model=model)
    common = dict(size=args.size, steps=args.steps, seed=args.seed, weights=args.weights)
    figures, data = {}, {"xstyle_version": __version__, "style": args.style, "layers": {}}
    data["network"] = config.network_name
    for layer in layers:
        share = spectra.spectra[layer].channel_share
        top = [int(i) for i in share.argsort(descending=True)[: args.channels]]
        channels = visualize_channels(model, layer, top, **common)
        components = visualize_gram_components(
            model, layer, style, components=tuple(range(min(args.components, share.numel()))), **common
        )
        figures[f"channels_{layer}.png"] = channels.plot
        figures[f"gram_components_{layer}.png"] = components.plot
        data["layers"][layer] = {
            "top_channels_by_gram_share": {str(c): float(share[c]) for c in top},
            "channels": channels.to_dict(),
            "gram_components": components.to_dict(),
        }
    write_outputs(
        out,
        json={"carriers.json": data},
        figures=figures,
        summary=f"channels_*.png, gram_components_*.png ({len(layers)} layers), carriers.json",
    )
    return 0


def add_carriers_parser(esub) -> None:
    p = _add_command(
        esub,
        "carriers",
        _cmd_explain_carriers,
        "see a style's carriers: images exciting its top channels, textures of its Gram components",
    )
    _option(p, "--style", None, "sample:great_wave", "style image")
    _option(
        p,
        "--layers",
        _layers,
        None,
        "comma-separated layers of the network",
        shown="the network's first three style layers; VGG19: relu1_1,relu2_1,relu3_1",
    )
    _option(p, "--channels", _positive_int, 4, "top channels (by Gram energy) per layer")
    _option(p, "--components", _positive_int, 4, "leading Gram eigencomponents per layer")
    _option(p, "--size", _positive_int, 128, "image size, 16 to 512 px")
    _option(p, "--steps", _positive_int, 48, "optimisation steps per image")
    _add_run_tail(p, seed_help="seeds the images and the jitter", weights=True)
