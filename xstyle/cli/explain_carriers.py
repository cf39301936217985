"""``xstyle explain carriers``: what a style is made of, as pictures (feature visualisation)."""

from __future__ import annotations

import argparse

from xstyle import __version__
from xstyle.cli._args import UsageError, _layers, _output_folder, _positive_int, _seed, write_outputs


def _cmd_explain_carriers(args: argparse.Namespace) -> int:
    """Images that excite the style's top carrier channels and textures of its Gram eigencomponents."""
    from xstyle.explain.style.featurevis import SIZE_RANGE, visualize_channels, visualize_gram_components

    lo, hi = SIZE_RANGE
    if not lo <= args.size <= hi:  # before any model or image loads
        raise UsageError(f"--size must be {lo} to {hi} px; got {args.size}.")
    from xstyle.data import resolve_image
    from xstyle.explain.style.gram import decompose_gram
    from xstyle.models.vgg import LAYER_NAMES, check_layer_names, load_vgg19

    check_layer_names(args.layers, param="--layers")
    out = _output_folder(args.out)
    style = resolve_image(args.style, size=args.size)
    model = load_vgg19(args.weights, last_layer=max(args.layers, key=LAYER_NAMES.index))
    spectra = decompose_gram(style, layers=args.layers, model=model)
    common = dict(size=args.size, steps=args.steps, seed=args.seed, weights=args.weights)
    figures, data = {}, {"xstyle_version": __version__, "style": args.style, "layers": {}}
    for layer in args.layers:
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
        summary=f"channels_*.png, gram_components_*.png ({len(args.layers)} layers), carriers.json",
    )
    return 0


def add_carriers_parser(esub) -> None:
    p = esub.add_parser(
        "carriers",
        help="see a style's carriers: images exciting its top channels, textures of its Gram components",
    )
    p.add_argument("--style", default="sample:great_wave", help="style image (default sample:great_wave)")
    p.add_argument(
        "--layers",
        type=_layers,
        default=("relu1_1", "relu2_1", "relu3_1"),
        help="comma-separated VGG19 layers (default relu1_1,relu2_1,relu3_1)",
    )
    p.add_argument(
        "--channels",
        type=_positive_int,
        default=4,
        help="top channels (by Gram energy) per layer (default 4)",
    )
    p.add_argument(
        "--components",
        type=_positive_int,
        default=4,
        help="leading Gram eigencomponents per layer (default 4)",
    )
    p.add_argument("--size", type=_positive_int, default=128, help="image size, 16 to 512 px (default 128)")
    p.add_argument(
        "--steps", type=_positive_int, default=48, help="optimisation steps per image (default 48)"
    )
    p.add_argument("--weights", default="caffe", help="VGG19 weights (default caffe)")
    p.add_argument("--seed", type=_seed, default=0, help="seeds the images and the jitter (default 0)")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.set_defaults(func=_cmd_explain_carriers)
