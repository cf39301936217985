"""``xstyle samples``, ``xstyle transfer`` and ``xstyle demo``: Gatys et al. style transfer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from xstyle import __version__
from xstyle.cli._args import (
    UsageError,
    _add_network,
    _add_overwrite,
    _layers,
    _nonneg_float,
    _output_file,
    _output_folder,
    _positive_float,
    _positive_int,
    _seed,
    _steps,
    write_outputs,
)
from xstyle.cli._options import _add_command, _option, _pick

if TYPE_CHECKING:
    import torch


def _add_transfer_options(p: argparse.ArgumentParser) -> None:
    # TransferConfig's defaults, from the torch-free module it reads them from (--help stays quick)
    from xstyle import _defaults as d

    g = p.add_argument_group("style transfer options")
    _option(g, "--size", _positive_int, d.TRANSFER_SIZE, "long side of the output in px")
    _option(
        g,
        "--steps",
        _steps,
        d.TRANSFER_STEPS,
        "optimiser evaluations per pyramid level, coarsest first, e.g. 300 or 100,60,20; levels under "
        "--min-level px are merged into the first one that is not",
    )
    _option(
        g,
        "--min-level",
        _positive_int,
        d.TRANSFER_MIN_LEVEL,
        "smallest coarse pyramid level in px: smaller ones copy the painting's layout; 16 keeps every level",
        metavar="PX",
    )
    _option(g, "--alpha", _nonneg_float, d.TRANSFER_ALPHA, "content weight")
    _option(g, "--beta", _nonneg_float, d.TRANSFER_BETA, "style weight")
    g.add_argument(
        "--normalize",
        choices=d.TRANSFER_NORMALIZE_CHOICES,
        default=d.TRANSFER_NORMALIZE,
        help=f"loss weighting: size (default) = the paper's losses with the content weight scaled by "
        f"({d.NORMALIZE_REFERENCE_SIZE}/SIZE)^2, so --alpha/--beta give the same balance at every size "
        f"(what they give at {d.NORMALIZE_REFERENCE_SIZE} px); seed = the paper's losses unscaled "
        "(the content term grows with the pixel count: smaller images get more style); "
        "mean = mean content loss and Grams divided by the positions",
    )
    for kind, layers in (("content", d.GATYS_CONTENT_LAYERS), ("style", d.GATYS_STYLE_LAYERS)):
        _option(
            g,
            f"--{kind}-layers",
            _layers,
            None,
            f"{kind} layers of the network",
            shown=f"the network's own; VGG19: {','.join(layers)}",
            metavar="L1,L2",
        )
    g.add_argument(
        "--weights",
        default=d.TRANSFER_WEIGHTS,
        help="VGG19 weights: caffe (default, offline), imagenet (torchvision; needs a network or "
        "a cached file), random (control) or a path to a state dict",
    )
    _add_network(g)
    _option(
        g,
        "--feature-transform",
        None,
        None,
        "transform of the features before the Gram matrices and the content loss: softmax over each "
        "layer's activations (SWAG; tames the peaky activations of residual networks)",
        shown="none",
        choices=("softmax",),
    )
    _option(g, "--feature-temperature", _positive_float, 1.0, "temperature of --feature-transform softmax")
    _option(g, "--optimizer", None, d.TRANSFER_OPTIMIZER, choices=("lbfgs", "adam"))
    _option(g, "--init", None, d.TRANSFER_INIT, choices=("content", "noise", "style"))
    _option(g, "--pooling", None, d.TRANSFER_POOLING, choices=("max", "avg"))
    _option(
        g,
        "--precision",
        None,
        d.CLI_PRECISION,
        "network arithmetic: auto = bfloat16 where the CPU has bf16 units (AMX, AVX-512 BF16) or on a "
        "GPU with bf16, float32 elsewhere (bfloat16 is emulated and far slower without them); the "
        "JSON records the one used",
        choices=("auto", "float32", "bfloat16"),
    )
    _option(g, "--seed", _seed, d.TRANSFER_SEED, "random seed")
    g.add_argument(
        "--preserve-color",
        action="store_true",
        help="transfer luminance only and keep the content's colours (Gatys et al. 2017)",
    )


# the TransferConfig fields set by the options of the same name
_CONFIG_OPTIONS = (
    "size steps alpha beta content_layers style_layers weights optimizer init pooling precision normalize "
    "min_level seed preserve_color network network_weights feature_transform feature_temperature"
).split()


def _config_from(args: argparse.Namespace):
    from xstyle.transfer import TransferConfig

    return TransferConfig(**_pick(args, *_CONFIG_OPTIONS))


def _start_image(spec: str | None, content_img: torch.Tensor) -> torch.Tensor | None:
    """The warm start of ``--start``: None, an image spec, or ``stylizer:NAME`` (a shipped stylizer's
    name or a stylizer file) applied to ``content_img`` (1, 3, H, W) in [0, 1]; (1, 3, h, w) in [0, 1]."""
    if spec is None:
        return None
    from xstyle.data import resolve_image

    if not spec.startswith("stylizer:"):
        return resolve_image(spec, name=f"--start image {spec!r}")
    from xstyle.stylizer.train import load_stylizer, shipped_stylizers, stylize

    name, shipped = spec.removeprefix("stylizer:"), shipped_stylizers()
    if name not in shipped and not Path(name).is_file():
        raise UsageError(
            f"--start stylizer:NAME takes a shipped stylizer ({', '.join(sorted(shipped))}) or a "
            f"stylizer file written by `xstyle stylizer train`; got {name!r} (`xstyle models --kind "
            "stylizer` lists them)."
        )
    return stylize(load_stylizer(f"shipped:{name}" if name in shipped else name).net, content_img)


def _run_transfer(content, style, config, *, quiet: bool, start: str | None = None):
    """Load images, show a progress bar; return (TransferResult, content image, style image)."""
    from tqdm.auto import tqdm

    from xstyle.data import resolve_image
    from xstyle.transfer import style_transfer

    # validate everything the user gave before any long work starts
    content_img = resolve_image(content, size=config.size)
    style_img = resolve_image(style, size=config.size)
    start_img = _start_image(start, content_img)
    model = config.load_network()
    with tqdm(
        total=sum(config.steps), desc="style transfer", unit="eval", disable=quiet, file=sys.stderr
    ) as bar:

        def progress(step):
            bar.update(1)
            bar.set_postfix(level=f"{step.size}px", loss=f"{step.total:.3g}", refresh=False)

        result = style_transfer(
            content_img, style_img, config=config, model=model, start=start_img, callbacks=[progress]
        )
    return result, content_img, style_img


def _transfer_data(result, *, content: str, style: str, start: str | None = None) -> dict:
    """The JSON written beside a stylised image (``start``: the ``--start`` spec, if any)."""
    data = {"xstyle_version": __version__, "content": content, "style": style, **result.to_dict()}
    return data if start is None else {**data, "start": start}


def _write_transfer_outputs(
    result, image_path: Path, *, content: str, style: str, start: str | None = None
) -> Path:
    from xstyle.atomic import write_json
    from xstyle.images import save_image

    data = _transfer_data(result, content=content, style=style, start=start)
    json_path = image_path.with_suffix(".json")
    save_image(result.image, image_path)
    write_json(data, json_path)
    return json_path


def _cmd_samples(args: argparse.Namespace) -> int:
    from xstyle.data import list_samples

    for s in list_samples(args.kind):
        print(f"sample:{s.name:<24} {s.kind:<9} {s.title}  [{s.license}]")
    return 0


def _cmd_transfer(args: argparse.Namespace) -> int:
    out = _output_file(args.output, "-o/--output", image=True, overwrite=args.overwrite, siblings=(".json",))
    config = _config_from(args)
    result, _, _ = _run_transfer(args.content, args.style, config, quiet=args.quiet, start=args.start)
    json_path = _write_transfer_outputs(result, out, content=args.content, style=args.style, start=args.start)
    print(
        f"wrote {out} and {json_path} "
        f"(total loss {result.final['total']:.4g}, {result.timings['total']:.1f} s)"
    )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """Stylise a sample photo with a sample painting into a fresh report folder (atomic)."""
    out = _output_folder(args.out)
    config = _config_from(args)
    result, content_img, style_img = _run_transfer(args.content, args.style, config, quiet=args.quiet)
    write_outputs(
        out,
        json={"stylised.json": _transfer_data(result, content=args.content, style=args.style)},
        figures={"losses.png": result.plot},
        images={"stylised.png": result.image, "content.png": content_img, "style.png": style_img},
        dpi=120,
        summary="stylised.png, stylised.json, losses.png, content.png, style.png",
    )
    return 0


def add_parsers(sub) -> None:
    """Register ``xstyle samples|transfer|demo``."""
    p = _add_command(
        sub,
        "samples",
        _cmd_samples,
        "list the sample photos and paintings",
        description="List the sample photos and paintings, usable as sample:NAME wherever an image "
        "is asked for.",
    )
    p.add_argument("--kind", choices=("photo", "painting"), help="list only photos or paintings")

    p = _add_command(
        sub, "transfer", _cmd_transfer, "stylise an image (Gatys et al.); writes OUT and OUT.json"
    )
    p.add_argument("content", metavar="CONTENT", help="content image: a path or sample:NAME")
    p.add_argument("style", metavar="STYLE", help="style image: a path or sample:NAME")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="output image (.png, .jpg)")
    p.add_argument(
        "--start",
        default=None,
        metavar="IMAGE",
        help="warm start: the image the optimisation starts from instead of --init (a path or "
        "sample:NAME), or stylizer:NAME to start from a real-time stylizer's output (a shipped "
        "painting's name, see `xstyle models --kind stylizer`, or a stylizer file); resized to the "
        "content's shape",
    )
    _add_transfer_options(p)
    _add_overwrite(p)

    p = _add_command(
        sub, "demo", _cmd_demo, "stylise a sample photo with a sample painting into reports/transfer_demo/"
    )
    _option(p, "--content", None, "sample:astronaut")
    _option(p, "--style", None, "sample:starry_night")
    # not reports/demo: that is the full demo report of `make demo` (`xstyle report demo`)
    _option(p, "--out", None, "reports/transfer_demo", "output folder")
    _add_transfer_options(p)
