"""``xstyle report style|gan|demo``: HTML + Markdown + JSON reports."""

from __future__ import annotations

import argparse
import logging
import sys

from xstyle.atomic import atomic_dir
from xstyle.cli._args import (
    NETWORK_HELP,
    UsageError,
    _direction_methods,
    _output_folder,
    _positive_int,
    _seed,
    _steps,
)
from xstyle.cli._options import _add_command, _add_group, _option, _pick

log = logging.getLogger("xstyle")


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


def _given(**options) -> dict:
    """The options the user gave (not None): the config's own defaults stand for the rest."""
    return {k: v for k, v in options.items() if v is not None}


# the StyleReportConfig fields set by the options of the same name
_STYLE_OPTIONS = (
    "content style size steps analysis_size method channel_method n_steps weights network precision "
    "fast_model seed"
).split()


def _style_report_config(args: argparse.Namespace):
    from xstyle.report.style import StyleReportConfig

    changes = _given(**_pick(args, *_STYLE_OPTIONS))
    if args.no_sanity:
        changes["sanity"] = False
    if args.fast:
        return StyleReportConfig.fast(**changes)
    demo = args.report_command == "demo"
    return StyleReportConfig.demo(**changes) if demo else StyleReportConfig(**changes)


def _gan_report_config(args: argparse.Namespace):
    from xstyle.report.gan import GANReportConfig

    methods = getattr(args, "methods", None)
    if methods is not None:
        methods = tuple(_direction_methods(methods))
    changes = _given(
        checkpoint=args.checkpoint,
        generator_weights=getattr(args, "generator_weights", None),
        classifier=args.classifier,
        conditional_checkpoint=args.conditional_checkpoint,
        n_latent=getattr(args, "n", None),
        n_quality=getattr(args, "n_quality", None),
        methods=methods,
        n_steps=getattr(args, "gan_n_steps", None),
        seed=args.seed,
    )
    if getattr(args, "no_sanity", False):
        changes["sanity"] = False
    if args.no_style_content:
        changes["style_content"] = False
    if args.fast:
        return GANReportConfig.fast(**changes)
    return GANReportConfig.demo(**changes) if args.report_command == "demo" else GANReportConfig(**changes)


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
    if gan is not None and not _digit_gan(gan):  # any other generator: its spec and weights load
        from xstyle.report.gan import load_report_generator

        load_report_generator(gan)
    elif gan is not None:
        from xstyle.gan.train import load_checkpoint

        if load_checkpoint(gan.checkpoint or "shipped:dcgan").config.conditional:
            raise UsageError(
                f"--checkpoint is the unconditional DCGAN; {gan.checkpoint} is class-conditional: pass "
                "it as --conditional-checkpoint."
            )
        if gan.style_content:
            cond = gan.conditional_checkpoint or "shipped:dcgan-conditional"
            if not load_checkpoint(cond).config.conditional:
                raise UsageError(
                    f"--conditional-checkpoint {cond} is unconditional; pass a DCGAN trained with "
                    "`xstyle gan train --conditional`."
                )
        if gan.classifier is None:
            from xstyle.models.shipped import resolve_shipped

            resolve_shipped("shipped:digit-classifier", "digit-classifier")  # installed?
        else:
            from xstyle.gan.classifier import load_classifier

            load_classifier(gan.classifier)


def _digit_gan(gan) -> bool:
    from xstyle.report.gan import is_dcgan_on_digits

    return is_dcgan_on_digits(gan.checkpoint)


def _cmd_report(args: argparse.Namespace) -> int:
    """``xstyle report style|gan|demo``: check the inputs first, then build and write atomically."""
    import xstyle.report.demo as demo_report
    import xstyle.report.gan as gan_report
    import xstyle.report.style as style_report

    kind = args.report_command

    def prepare():
        style = _style_report_config(args) if kind in ("style", "demo") else None
        gan = _gan_report_config(args) if kind in ("gan", "demo") else None
        _check_report_inputs(style=style, gan=gan)
        return style, gan

    def build(configs, root, progress):
        style, gan = configs
        if kind == "demo":
            return demo_report.build_demo_report(style, gan, root=root, progress=progress)
        build_one = style_report.build_style_report if kind == "style" else gan_report.build_gan_report
        return build_one(style or gan, root=root, progress=progress, title=args.title)

    return _run_report(args, prepare, build)


def add_parsers(sub) -> None:
    """Register ``xstyle report style|gan|demo``."""
    from xstyle._attribution_methods import image_methods, layer_methods  # torch-free: quick --help

    rsub = _add_group(
        sub, "report", "run the analyses and write an HTML + Markdown + JSON report with figures"
    )
    sanity_help = "skip deletion curves and randomisation checks"

    def common(p, name: str) -> None:
        _option(p, "--seed", _seed, help="random seed", shown="0")
        p.add_argument(
            "--fast", action="store_true", help="tiny sizes and steps (seconds; every section, for tests)"
        )
        _option(p, "--out", None, f"reports/{name}", "report folder, replaced atomically")

    # the options default to None: the report config's own default (shown) stands for an option not given
    def style_options(p) -> None:
        g = p.add_argument_group("style report options (defaults: xstyle.report.style.StyleReportConfig)")
        _option(g, "--content", help="content image", shown="sample:astronaut")
        _option(g, "--style", help="style image", shown="sample:starry_night")
        _option(g, "--size", _positive_int, help="stylised size, px", shown="256")
        _option(g, "--steps", _steps, help="L-BFGS evaluations per pyramid level", shown="80")
        _option(
            g,
            "--analysis-size",
            _positive_int,
            help="size of the attribution, ablation, low-rank and trade-off runs",
            shown="128",
        )
        _option(
            g, "--method", None, None, "pixel attribution method", shown="ig", choices=list(image_methods())
        )
        _option(
            g,
            "--channel-method",
            help="channel attribution method",
            shown="layer_ig",
            choices=list(layer_methods()),
        )
        _option(g, "--n-steps", _positive_int, help="IG steps", shown="8")
        _option(g, "--weights", help="VGG19 weights", shown="caffe")
        g.add_argument("--network", default=None, metavar="SPEC", help=NETWORK_HELP)
        _option(
            g,
            "--precision",
            help="arithmetic of the stylisation: auto = bfloat16 where the CPU has bf16 units, float32 "
            "elsewhere",
            shown="auto",
            choices=("auto", "float32", "bfloat16"),
        )
        g.add_argument("--no-sanity", action="store_true", help=sanity_help)
        g.add_argument(
            "--fast-model",
            default=None,
            metavar="M",
            help="also explain this real-time stylizer (a file from `xstyle stylizer train` or "
            "shipped:NAME) on the same photo",
        )

    def gan_options(p, *, full: bool) -> None:
        g = p.add_argument_group("GAN report options (defaults: xstyle.report.gan.GANReportConfig)")
        g.add_argument(
            "--checkpoint",
            default=None,
            help="the generator: a DCGAN checkpoint, shipped:NAME (e.g. shipped:emoji-dcgan) or your "
            "module:callable / DIR:entry (default: the shipped MNIST DCGAN)",
        )
        g.add_argument(
            "--generator-weights",
            default=None,
            metavar="FILE",
            help="a state dict for a module:callable generator (loaded weights-only, checked key by key)",
        )
        g.add_argument("--classifier", default=None, help="digit classifier (default: the shipped one)")
        g.add_argument(
            "--conditional-checkpoint",
            default=None,
            help="class-conditional DCGAN for the style-versus-content section (default: the shipped one)",
        )
        g.add_argument("--no-style-content", action="store_true", help="skip the conditional DCGAN's section")
        if full:
            _option(g, "-n", _positive_int, help="latent samples for probes", shown="1500")
            _option(g, "--n-quality", _positive_int, help="digits scored", shown="1000")
            _option(g, "--methods", help="direction finders", shown="interfacegan,ganspace,sefa")
            _option(
                g,
                "--n-steps",
                _positive_int,
                help="IG steps",
                shown="16",
                dest="gan_n_steps",
                metavar="N_STEPS",
            )
            g.add_argument("--no-sanity", action="store_true", help=sanity_help)

    p = _add_command(rsub, "style", _cmd_report, "stylise a photo with a painting and explain the result")
    style_options(p)
    p.add_argument("--title", default=None, help="page title")
    common(p, "style")

    p = _add_command(rsub, "gan", _cmd_report, "measure and explain a DCGAN checkpoint")
    gan_options(p, full=True)
    p.add_argument("--title", default=None, help="page title")
    common(p, "gan")

    p = _add_command(rsub, "demo", _cmd_report, "both reports on the embedded samples and the shipped DCGAN")
    style_options(p)
    gan_options(p, full=False)
    common(p, "demo")
