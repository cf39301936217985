"""``xstyle explain networks``: which network carries style, and why (the same pairs, side by side)."""

from __future__ import annotations

import argparse
import sys

from xstyle import __version__
from xstyle.cli._args import UsageError, _output_folder, _positive_float, _positive_int, _seed, write_outputs
from xstyle.cli._options import _add_command, _option

#: the photo x painting pairs of docs/networks.md
DEFAULT_PAIRS = (
    "sample:chelsea,sample:starry_night",
    "sample:coffee,sample:great_wave",
    "sample:astronaut,sample:composition_viii",
)
_NETWORKS = "vgg19-caffe,efficientnet-lite0,resnet18-random"


def _pair(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(f"expected CONTENT,STYLE (two images); got {text!r}")
    return parts[0], parts[1]


def _cmd_explain_networks(args: argparse.Namespace) -> int:
    """Activation statistics per depth, transfers and the cross-judging tables of several networks."""
    from tqdm.auto import tqdm

    from xstyle.data import resolve_image
    from xstyle.explain.style.networks import compare_networks
    from xstyle.models.registry import get_network_spec

    networks = [n.strip() for n in args.networks.split(",") if n.strip()]
    if len(networks) < 2 or len(set(networks)) != len(networks):
        raise UsageError(f"--networks must name two or more distinct networks; got {args.networks!r}.")
    for name in networks:
        get_network_spec(name)  # an unknown name or a bad module:callable: one line, before any work
    pairs = args.pair or [_pair(p) for p in DEFAULT_PAIRS]
    out = _output_folder(args.out)
    for content, style in pairs:
        resolve_image(content, size=args.size)
        resolve_image(style, size=args.size)
    with tqdm(
        total=len(networks) + 1, desc="networks", unit="stage", disable=args.quiet, file=sys.stderr
    ) as bar:

        def progress(message: str) -> None:
            bar.set_postfix_str(message, refresh=False)
            bar.update(1 if bar.n < bar.total else 0)

        result = compare_networks(
            pairs,
            networks=networks,
            size=args.size,
            steps=args.steps,
            style_factor=args.style_factor,
            feature_transform=args.feature_transform,
            feature_temperature=args.feature_temperature,
            seed=args.seed,
            progress=progress,
        )
    data = {"xstyle_version": __version__, "pairs": [list(p) for p in pairs], **result.to_dict()}
    write_outputs(
        out,
        json={"networks.json": data},
        figures={
            "statistics.png": lambda: result.plot(kind="statistics"),
            "transfers.png": lambda: result.plot(kind="transfers"),
            "judging_style.png": lambda: result.plot(kind="judging"),
            "judging_content.png": lambda: result.plot(kind="judging", judged="content"),
        },
        summary="networks.json, statistics.png, transfers.png, judging_style.png, judging_content.png",
    )
    print("relative Gram distance to the painting (rows: transfer by; columns: judged by)")
    print(result.table("style"))
    return 0


def add_networks_parser(esub) -> None:
    p = _add_command(
        esub,
        "networks",
        _cmd_explain_networks,
        "which network carries style: activation statistics per depth, transfers, cross-judging",
    )
    p.add_argument(
        "--pair",
        type=_pair,
        action="append",
        metavar="CONTENT,STYLE",
        help="a photo and a painting (paths or sample:NAME); repeat for more pairs "
        f"(default: {'; '.join(DEFAULT_PAIRS)})",
    )
    _option(p, "--networks", None, _NETWORKS, "comma-separated network specs (see xstyle transfer --network)")
    _option(p, "--size", _positive_int, 128, "long side of the images and transfers, px")
    _option(p, "--steps", _positive_int, 50, "L-BFGS evaluations per transfer")
    _option(
        p, "--style-factor", _positive_float, 100.0, "the style's weight over each network's balance point"
    )
    _option(
        p,
        "--feature-transform",
        None,
        None,
        "softmax over each layer's activations before the Gram matrices and the content loss (SWAG)",
        shown="none",
        choices=("softmax",),
    )
    _option(p, "--feature-temperature", _positive_float, 1.0, "temperature of the softmax")
    _option(p, "--seed", _seed, 0, "seeds the transfers")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
