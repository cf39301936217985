"""``xstyle stylizer train|apply|explain``: feed-forward (real-time) stylizers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from xstyle import __version__
from xstyle.atomic import atomic_path, check_new_files, check_writable
from xstyle.cli._args import (
    NETWORK_HELP,
    UsageError,
    _add_overwrite,
    _checkpoint_folder,
    _is_image_name,
    _nonneg_float,
    _output_file,
    _output_folder,
    _positive_int,
    _seed,
    _unit_float,
    write_outputs,
)
from xstyle.cli._options import _add_command, _add_group, _option, _pick


def _stylizer_style(spec: str, size: int):
    from xstyle.data import resolve_image

    return resolve_image(spec, size=size)


def _stylizer_card_command(args: argparse.Namespace) -> str:
    return "xstyle " + " ".join(args.argv)


# the StylizerConfig fields set by the options of the same name
_CONFIG_OPTIONS = (
    "epochs steps_per_epoch batch_size crop_size style_size lr alpha beta tv_weight adv_weight seed "
    "checkpoint_every weights network"
).split()


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
        **_pick(args, *_CONFIG_OPTIONS),
        patch_size=min(args.patch_size, args.crop_size),
        arch=ArchConfig(n_residual=args.residual_blocks),
        out_dir=str(out),
    )
    # validate every input before any long work starts (the photos take seconds to load)
    from xstyle.stylizer import load_stylizer

    style = _stylizer_style(args.style, config.style_size)
    # a bad --resume file is named now, not after the photos load (and is loaded only once)
    resume = load_stylizer(args.resume) if args.resume is not None else None
    vgg = config.load_network()
    if args.content_dir is not None:
        content = ContentSet(load_folder(args.content_dir), f"folder {args.content_dir}")
    else:
        content = ContentSet(load_content_photos("train"), "xstyle shipped photos (train split)")
    heldout = load_content_photos("heldout")
    trainer = StylizerTrainer(content, style, config=config, resume=resume, style_name=args.style, vgg=vgg)
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
    from xstyle.explain.style.stylizer import evaluate_stylizer
    from xstyle.images import resize_image
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
    import matplotlib.pyplot as plt
    import torch

    from xstyle.images import resize_image, save_image
    from xstyle.stylizer import stylize
    from xstyle.stylizer.plots import StylizerTrainingDisplay

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
    from xstyle.data import resolve_image
    from xstyle.explain.style.stylizer import explain_stylizer
    from xstyle.images import resize_image
    from xstyle.stylizer import load_stylizer
    from xstyle.stylizer.plots import StylizerTrainingDisplay

    out = _output_folder(args.out)
    model = load_stylizer(args.model)
    content = resolve_image(args.content, size=args.size)
    style = resize_image(model.style, max(content.shape[-2:]))
    vgg = model.config.load_network(last_layer="relu5_1")  # VGG19: up to relu5_1

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
    figures = {
        "attribution.png": result.attribution.plot,
        "discriminator.png": result.discriminator.plot,
        "ablation.png": result.ablation.plot,
    }
    steps = model.state.get("steps") or []
    if steps:
        figures["training.png"] = lambda: StylizerTrainingDisplay.from_steps(steps).plot()
    data = {"xstyle_version": __version__, "model": str(args.model), "content": args.content}
    blocks = ", ".join(f"{b} {v['style_change']:+.0%}" for b, v in result.ablation.blocks.items())
    write_outputs(
        out,
        json={"explanation.json": data | result.to_dict()},
        figures=figures,
        images={"content.png": content, "stylized.png": result.evaluation.images["content"]},
        summary="explanation.json, attribution.png, discriminator.png, ablation.png",
        note=f"; style-loss change per ablated block: {blocks}",
    )
    return 0


def add_parsers(sub) -> None:
    """Register ``xstyle stylizer train|apply|explain`` (real-time style transfer)."""
    ssub = _add_group(sub, "stylizer", "train, apply and explain feed-forward (real-time) stylizers")
    model_help = "shipped:starry_night, shipped:great_wave, or model.pt / epoch_NNNN.pt from `stylizer train`"

    p = _add_command(
        ssub,
        "train",
        _cmd_stylizer_train,
        "train a stylizer for one painting; checkpoints and model.pt go to --out",
    )
    p.add_argument("--style", required=True, help="the painting: a path or sample:NAME")
    p.add_argument(
        "--content-dir", default=None, help="folder of training photos (default: the shipped photos)"
    )
    p.add_argument("--out", required=True, help="output folder")
    for flag, type_, default, what in (
        ("--epochs", _positive_int, 8, "epochs"),
        ("--steps-per-epoch", _positive_int, 50, "steps per epoch"),
        ("--batch-size", _positive_int, 2, "crops per step"),
        ("--crop-size", _positive_int, 256, "content crop side, px"),
        ("--style-size", _positive_int, 512, "painting long side, px"),
        ("--patch-size", _positive_int, 64, "discriminator patch side"),
        ("--residual-blocks", _positive_int, 3, "residual blocks"),
        ("--lr", _unit_float, 1e-3, "Adam learning rate"),
        ("--alpha", _nonneg_float, 1.0, "content weight"),
        ("--beta", _nonneg_float, 2e-4, "style weight"),
        ("--tv-weight", _nonneg_float, 1e7, "total-variation weight"),
        ("--adv-weight", _nonneg_float, 5e4, "adversarial weight; 0 = none"),
        ("--weights", None, "caffe", "VGG19 weights of the losses"),
        ("--seed", _seed, 0, "seeds weights, crops and batches"),
        ("--checkpoint-every", _positive_int, 1, "epochs between checkpoints"),
    ):
        _option(p, flag, type_, default, what)
    p.add_argument("--network", default=None, metavar="SPEC", help=f"loss {NETWORK_HELP}")
    p.add_argument("--resume", default=None, help="continue from this checkpoint (epoch_NNNN.pt)")
    p.add_argument(
        "--max-minutes",
        type=_nonneg_float,
        default=None,
        help="time budget: start no epoch that would end past it (the last one is checkpointed; "
        "default: no limit)",
    )
    _option(p, "--eval-size", _positive_int, 256, "long side of the held-out evaluation, px")
    _add_overwrite(p)

    p = _add_command(
        ssub, "apply", _cmd_stylizer_apply, "stylise images or folders of images with a trained stylizer"
    )
    p.add_argument("--model", required=True, help=model_help)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or sample:NAME")
    p.add_argument("-o", "--output", required=True, help="an image file (one input) or a folder")
    p.add_argument(
        "--size",
        type=_positive_int,
        default=None,
        help="resize inputs to this long side, px (default: keep their size)",
    )
    _add_overwrite(p)

    p = _add_command(
        ssub,
        "explain",
        _cmd_stylizer_explain,
        "attributions, discriminator patches and block ablation of a stylizer",
    )
    p.add_argument("--model", required=True, help=model_help)
    p.add_argument("--content", required=True, help="photo: a path or sample:NAME")
    p.add_argument("--out", required=True, help="output folder (written atomically)")
    _option(p, "--size", _positive_int, 256, "long side of the photo, px")
    _option(p, "--n-steps", _positive_int, 32, "IG steps")
    p.add_argument("--no-channels", action="store_true", help="skip the per-channel ablation (faster)")
