"""Shared argument types and checks of the ``xstyle`` CLI: torch-free, imported by every command group."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from xstyle.atomic import check_new_files, check_output_dir, check_writable
from xstyle.cli._options import _option


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


def _whole(text: str, *, low: int, high: int | None = None, expected: str) -> int:
    """A whole number in [low, high) (argparse type); ``expected`` describes the allowed range."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low or (high is not None and value >= high):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole(text, low=1, expected="a number > 0")


def _nonneg_int(text: str) -> int:
    """A whole number >= 0 (for step counts where 0 means "skip")."""
    return _whole(text, low=0, expected="a whole number >= 0 (0 skips)")


def _seed(text: str) -> int:
    """A --seed: a whole number in [0, 2**32), the range every seeded library here accepts."""
    from xstyle._checks import SEED_LIMIT

    return _whole(
        text, low=0, high=SEED_LIMIT, expected=f"a whole number from 0 to {SEED_LIMIT - 1} (2**32 - 1)"
    )


def _digit(text: str) -> int:
    """A digit label 0..9 (argparse type)."""
    if text.strip() not in tuple("0123456789"):
        raise argparse.ArgumentTypeError(f"must be a digit from 0 to 9; got {text!r}")
    return int(text)


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


def _positive_float(text: str) -> float:
    value = _nonneg_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
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


def _number_list(convert, *, what: str, like: str, least: int = 1, name: str):
    """An argparse type for ``least`` or more comma-separated numbers > 0 (``convert``: int or float)."""

    def parse(text: str) -> tuple:
        try:
            values = tuple(convert(s) for s in text.split(",") if s.strip())
        except ValueError:
            message = f"expected comma-separated {what} like {like}; got {text!r}"
            raise argparse.ArgumentTypeError(message) from None
        bad = [v for v in values if v <= 0 or (isinstance(v, float) and not math.isfinite(v))]
        if len(values) < least or bad:
            at_least = f"at least {least} " if least > 1 else ""
            raise argparse.ArgumentTypeError(f"expected {at_least}{what} > 0 like {like}; got {text!r}")
        return values

    parse.__name__ = name
    return parse


_int_list = _number_list(int, what="whole numbers", like="1,2,4", name="_int_list")
_ratios = _number_list(float, what="numbers", like="1e2,1e3,1e4", least=3, name="_ratios")


def _ranks(text: str) -> tuple[int | None, ...]:
    parts = [s.strip() for s in text.split(",") if s.strip()]
    try:
        values = tuple(None if s == "full" else int(s) for s in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ranks like 1,4,16,full; got {text!r}") from None
    if not values or any(v is not None and v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected ranks > 0 or 'full', like 1,4,16,full; got {text!r}")
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


WEIGHTS_HELP = "VGG19 weights: caffe (default), imagenet, random (control) or a state-dict path"


def _add_image_pair(p: argparse.ArgumentParser) -> None:
    """--content and --style, both required (a path or sample:NAME)."""
    p.add_argument("--content", required=True, help="content image: a path or sample:NAME")
    p.add_argument("--style", required=True, help="style image: a path or sample:NAME")


def _add_gan_models(p: argparse.ArgumentParser, *, checkpoint: bool = True) -> None:
    """--checkpoint (unless ``checkpoint=False``) and --classifier, both defaulting to the shipped ones."""
    if checkpoint:
        p.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: shipped)")
    p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")


NETWORK_HELP = (
    "feature network: vgg19-caffe, vgg19-imagenet, vgg19-random, efficientnet-lite0 (offline), "
    "resnet18-random, torchvision:NAME, or your own package.module:callable or DIR:entry (a folder "
    "with hubconf.py; runs that code) (default: VGG19 with --weights)"
)


def _add_network(p) -> None:
    """--network SPEC and --network-weights FILE (the feature network; see xstyle.models)."""
    p.add_argument("--network", default=None, metavar="SPEC", help=NETWORK_HELP)
    p.add_argument(
        "--network-weights",
        default=None,
        metavar="FILE",
        help="state dict for --network, loaded weights-only and checked key by key (never runs code)",
    )


def _network_options(args: argparse.Namespace) -> dict:
    """``network=`` and ``network_weights=`` for a TransferConfig, from --network/--network-weights."""
    return {
        "network": getattr(args, "network", None),
        "network_weights": getattr(args, "network_weights", None),
    }


def _add_run_tail(p: argparse.ArgumentParser, *, seed_help: str, weights: bool = False) -> None:
    """[--weights, --network, --network-weights], --seed and the --out folder (replaced atomically)."""
    if weights:
        p.add_argument("--weights", default="caffe", help=WEIGHTS_HELP)
        _add_network(p)
    _option(p, "--seed", _seed, 0, seed_help)
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")


def _add_digit(
    p: argparse.ArgumentParser, *, what: str = "latents of this digit only (default: all, balanced)"
) -> None:
    """--digit for a conditional DCGAN (None: every digit)."""
    p.add_argument("--digit", type=_digit, default=None, help=f"conditional DCGAN: {what}")


def _add_direction_methods(p: argparse.ArgumentParser) -> None:
    """--methods (the direction finders) and --components (GANSpace / SeFa directions kept)."""
    _option(p, "--methods", None, "interfacegan,ganspace,sefa", "comma-separated direction finders")
    _option(p, "--components", _positive_int, 5, "GANSpace / SeFa directions kept")


def _direction_methods(text: str) -> list[str]:
    """A --methods value: a comma-separated subset of the direction finders (checked after parsing,
    as it imports the library)."""
    from xstyle.explain.gan.probes import METHODS

    methods = [m.strip() for m in text.split(",") if m.strip()]
    if not methods or any(m not in METHODS for m in methods):
        raise UsageError(f"--methods must be a comma-separated subset of {','.join(METHODS)}; got {text!r}.")
    return methods


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


def _command_name(args: argparse.Namespace) -> str:
    """'gan sample', 'transfer', ...: sub-command groups store their choice as `<group>_command`."""
    sub = next((v for k, v in vars(args).items() if k.endswith("_command") and v), None)
    return " ".join(filter(None, [args.command, sub]))


def _size_options(command: str) -> list[tuple[str, str, object, str]]:
    """The size-like options of ``command``: (flag, attribute, need, what it pays for). ``need`` is
    ``bytes(value, args)`` (xstyle._limits estimates) or an int, a fixed maximum. Epochs and step
    counts cost time, not memory, and are not listed."""
    from xstyle import _limits as lim
    from xstyle.stylizer.model import MAX_BLOCKS

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
        "gan sample": [("-n", "n", lambda v, a: lim.generate_bytes(v), "generating the digits and a grid")],
        "gan eval": [("--n-samples", "n_samples", lambda v, a: lim.gan_eval_bytes(v), "the scored digits")],
        "explain attribution": [("--size", "size", vgg(batch=4), ig)],
        "explain gan-attribution": [
            ("--digits", "digits", per_item(gen + grad), "generating and attributing the digits"),
            ("-n", "n", per_item(gen + grad), "attributing the latents"),
        ],
        "explain gan-style": [
            ("--n-z", "n_z", per_item(10 * lim.PROBE_BYTES_PER_LATENT), "the z x label grid and its stages"),
            ("--n-attribution", "n_attribution", per_item(gen + grad), "attributing the inputs"),
            ("--n-direction", "n_direction", per_item(10 * gen), "the digits of the directions"),
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
            # ArchConfig's bound, checked here to name the option
            ("--residual-blocks", "residual_blocks", MAX_BLOCKS, "the shipped stylizers use 3"),
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


def write_outputs(
    out: Path,
    *,
    json: dict[str, object] | None = None,
    figures: dict[str, object] | None = None,
    images: dict[str, object] | None = None,
    dpi: int = 110,
    summary: str | None = None,
    note: str = "",
) -> list[str]:
    """Write an output command's files into the folder ``out`` at once and say what was written.

    ``json``: name -> data (``write_json``); ``figures``: name -> a display (``.figure_``) or a
    function returning one, called only when its turn comes so one figure is open at a time;
    ``images``: name -> an image (``save_image``). Names may hold sub-folders (``traversals/01.png``).
    Everything lands in a temporary folder that replaces ``out`` whole (``atomic_dir``: all or
    nothing), then one line is printed: ``wrote OUT/ (SUMMARY)NOTE``, the names by default. Returns
    the names in the order written.
    """
    from xstyle.atomic import atomic_dir, write_json

    written: list[str] = []
    with atomic_dir(out) as tmp:

        def target(name: str) -> Path:
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            written.append(name)
            return path

        for name, data in (json or {}).items():
            write_json(data, target(name))
        if figures:
            import matplotlib.pyplot as plt

            for name, display in figures.items():
                if not hasattr(display, "figure_"):
                    display = display()
                display.figure_.savefig(target(name), dpi=dpi)
                plt.close(display.figure_)
        if images:
            from xstyle.images import save_image

            for name, image in images.items():
                save_image(image, target(name))
    print(f"wrote {out}/ ({', '.join(written) if summary is None else summary}){note}")
    return written


def traversal_figures(traversals) -> dict:
    """``traversals/NN_<direction>.png`` -> that traversal's ``plot`` (called when it is written)."""
    import re

    return {
        f"traversals/{i:02d}_{re.sub(r'[^A-Za-z0-9]+', '-', t.direction.label).strip('-')}.png": t.plot
        for i, t in enumerate(traversals)
    }
