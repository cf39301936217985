"""The ``xstyle`` command line. ``main(argv)`` returns an exit code: 0 ok, 2 bad input, 130 interrupted.

Subcommands call the public API only. User errors print one line (``xstyle: error: ...``) on
stderr, write nothing and exit with 2.
"""

from __future__ import annotations

import argparse
import logging
import math
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from xstyle import __version__

__all__ = ["main"]

log = logging.getLogger("xstyle")


class UsageError(ValueError):
    """Bad command-line input found after parsing."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value


def _nonneg_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _steps(text: str) -> tuple[int, ...]:
    try:
        steps = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected evaluations per pyramid level like '300' or '100,60,20', got {text!r}"
        ) from None
    if not steps or any(s < 0 for s in steps):
        raise argparse.ArgumentTypeError(f"steps must be non-negative, got {text!r}")
    return steps


def _layers(text: str) -> tuple[str, ...]:
    layers = tuple(s.strip() for s in text.split(",") if s.strip())
    if not layers:
        raise argparse.ArgumentTypeError("expected comma-separated layer names like relu1_1,relu2_1")
    return layers


def _add_transfer_options(p: argparse.ArgumentParser) -> None:
    from xstyle.transfer import TransferConfig

    d = TransferConfig()
    size, steps = d.size, d.steps
    g = p.add_argument_group("style transfer options")
    g.add_argument(
        "--size", type=_positive_int, default=size, help=f"long side of the output in px (default {size})"
    )
    g.add_argument(
        "--steps",
        type=_steps,
        default=steps,
        help="optimiser evaluations per pyramid level, coarsest first, e.g. 300 or 100,60,20 "
        f"(default {','.join(map(str, steps))})",
    )
    g.add_argument(
        "--alpha", type=_nonneg_float, default=d.alpha, help=f"content weight (default {d.alpha:g})"
    )
    g.add_argument("--beta", type=_nonneg_float, default=d.beta, help=f"style weight (default {d.beta:g})")
    g.add_argument(
        "--content-layers",
        type=_layers,
        default=d.content_layers,
        metavar="L1,L2",
        help=f"VGG19 content layers (default {','.join(d.content_layers)})",
    )
    g.add_argument(
        "--style-layers",
        type=_layers,
        default=d.style_layers,
        metavar="L1,L2",
        help=f"VGG19 style layers (default {','.join(d.style_layers)})",
    )
    g.add_argument(
        "--weights",
        default=d.weights,
        help="VGG19 weights: caffe (default, offline), imagenet (torchvision; needs a network or "
        "a cached file), random (control) or a path to a state dict",
    )
    g.add_argument("--optimizer", choices=("lbfgs", "adam"), default=d.optimizer, help="default lbfgs")
    g.add_argument("--init", choices=("content", "noise", "style"), default=d.init, help="default content")
    g.add_argument("--pooling", choices=("max", "avg"), default=d.pooling, help="default max")
    g.add_argument(
        "--precision",
        choices=("float32", "bfloat16"),
        default=d.precision,
        help="network arithmetic (bfloat16 pays off only on CPUs with bf16 units or GPUs)",
    )
    g.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    g.add_argument(
        "--preserve-color",
        action="store_true",
        help="transfer luminance only and keep the content's colours (Gatys et al. 2017)",
    )


def _config_from(args: argparse.Namespace):
    from xstyle.transfer import TransferConfig

    return TransferConfig(
        size=args.size,
        steps=args.steps,
        alpha=args.alpha,
        beta=args.beta,
        content_layers=args.content_layers,
        style_layers=args.style_layers,
        weights=args.weights,
        optimizer=args.optimizer,
        init=args.init,
        pooling=args.pooling,
        precision=args.precision,
        seed=args.seed,
        preserve_color=args.preserve_color,
    )


def _run_transfer(content, style, config, *, quiet: bool):
    """Load images, show a progress bar; return (TransferResult, content image, style image)."""
    from tqdm.auto import tqdm

    from xstyle.data import resolve_image
    from xstyle.models.vgg import load_vgg19
    from xstyle.transfer import style_transfer

    # validate everything the user gave before any long work starts
    content_img = resolve_image(content, size=config.size)
    style_img = resolve_image(style, size=config.size)
    model = load_vgg19(config.weights, pooling=config.pooling, last_layer=config.deepest_layer)
    with tqdm(
        total=sum(config.steps), desc="style transfer", unit="eval", disable=quiet, file=sys.stderr
    ) as bar:

        def progress(step):
            bar.update(1)
            bar.set_postfix(level=f"{step.size}px", loss=f"{step.total:.3g}", refresh=False)

        result = style_transfer(content_img, style_img, config, model=model, callbacks=[progress])
    return result, content_img, style_img


def _write_transfer_outputs(result, image_path: Path, *, content: str, style: str) -> Path:
    from xstyle.atomic import write_json
    from xstyle.images import save_image

    data = {"xstyle_version": __version__, "content": content, "style": style, **result.to_dict()}
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
    from PIL import Image

    out = Path(args.output)
    if Image.registered_extensions().get(out.suffix.lower()) is None:
        raise UsageError(f"-o/--output must end in an image suffix such as .png or .jpg; got {str(out)!r}.")
    if out.exists() and out.is_dir():
        raise UsageError(f"-o/--output {str(out)!r} is a folder; give an image file name like out.png.")
    config = _config_from(args)
    result, _, _ = _run_transfer(args.content, args.style, config, quiet=args.quiet)
    json_path = _write_transfer_outputs(result, out, content=args.content, style=args.style)
    print(
        f"wrote {out} and {json_path} "
        f"(total loss {result.final['total']:.4g}, {result.timings['total']:.1f} s)"
    )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """Stylise a sample photo with a sample painting into a fresh report folder (atomic)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from xstyle.images import save_image

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} exists and is not a folder.")
    config = _config_from(args)
    result, content_img, style_img = _run_transfer(args.content, args.style, config, quiet=args.quiet)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        save_image(content_img, tmp / "content.png")
        save_image(style_img, tmp / "style.png")
        _write_transfer_outputs(result, tmp / "stylised.png", content=args.content, style=args.style)
        display = result.plot()
        display.figure_.savefig(tmp / "losses.png", dpi=120)
        plt.close(display.figure_)
        old = out.with_name(f".{out.name}.old")
        if out.exists():
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"wrote {out}/ (stylised.png, stylised.json, losses.png, content.png, style.png)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``xstyle`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="xstyle",
        description="Explain neural style transfer and GANs. Images are paths or sample:NAME "
        "(see `xstyle samples`).",
    )
    parser.add_argument("--version", action="version", version=f"xstyle {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what runs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("samples", help="list the sample photos and paintings")
    p.add_argument("--kind", choices=("photo", "painting"), default=None)
    p.set_defaults(func=_cmd_samples)

    p = sub.add_parser("transfer", help="stylise an image (Gatys et al.); writes OUT and OUT.json")
    p.add_argument("content", metavar="CONTENT", help="content image: a path or sample:NAME")
    p.add_argument("style", metavar="STYLE", help="style image: a path or sample:NAME")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="output image (.png, .jpg)")
    _add_transfer_options(p)
    p.set_defaults(func=_cmd_transfer)

    p = sub.add_parser("demo", help="stylise a sample photo with a sample painting into reports/demo/")
    p.add_argument("--content", default="sample:astronaut", help="default sample:astronaut")
    p.add_argument("--style", default="sample:starry_night", help="default sample:starry_night")
    p.add_argument("--out", default="reports/demo", help="output folder (default reports/demo)")
    _add_transfer_options(p)
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    from xstyle.images import ImageError
    from xstyle.models.vgg import WeightsError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, bad usage exits 2
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s"
    )
    try:
        return args.func(args)
    except (UsageError, ImageError, WeightsError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"xstyle {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"xstyle {args.command}: interrupted; nothing was written.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
