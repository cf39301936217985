"""``xstyle report style|gan|demo``: HTML + Markdown + JSON reports."""

from __future__ import annotations

import argparse
import logging
import sys

from xstyle.atomic import atomic_dir
from xstyle.cli._args import (
    UsageError,
    _output_folder,
    _positive_int,
    _seed,
    _steps,
)

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


def _style_report_config(args: argparse.Namespace):
    from xstyle.report.style import StyleReportConfig

    changes = _given(
        content=args.content,
        style=args.style,
        size=args.size,
        steps=args.steps,
        analysis_size=args.analysis_size,
        method=args.method,
        channel_method=args.channel_method,
        n_steps=args.n_steps,
        weights=args.weights,
        fast_model=args.fast_model,
        seed=args.seed,
    )
    if args.no_sanity:
        changes["sanity"] = False
    return StyleReportConfig.fast(**changes) if args.fast else StyleReportConfig(**changes)


def _gan_report_config(args: argparse.Namespace):
    from xstyle.report.gan import GANReportConfig

    methods = None
    if getattr(args, "methods", None) is not None:
        from xstyle.explain.latent.probes import METHODS

        methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
        if not methods or any(m not in METHODS for m in methods):
            raise UsageError(
                f"--methods must be a comma-separated subset of {','.join(METHODS)}; got {args.methods!r}."
            )
    changes = _given(
        checkpoint=args.checkpoint,
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

        if load_checkpoint(gan.checkpoint or shipped_gan_path()).config.conditional:
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
            shipped_classifier_path()
        else:
            from xstyle.gan.classifier import load_classifier

            load_classifier(gan.classifier)


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
        g = p.add_argument_group("style report options (defaults: xstyle.report.style.StyleReportConfig)")
        g.add_argument("--content", default=None, help="content image (default sample:astronaut)")
        g.add_argument("--style", default=None, help="style image (default sample:starry_night)")
        g.add_argument("--size", type=_positive_int, default=None, help="stylised size, px (default 256)")
        g.add_argument(
            "--steps", type=_steps, default=None, help="L-BFGS evaluations per pyramid level (default 80)"
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
            choices=list(image_methods()),
            help="pixel attribution method (default ig)",
        )
        g.add_argument(
            "--channel-method", default=None, choices=list(layer_methods()), help="(default layer_ig)"
        )
        g.add_argument("--n-steps", type=_positive_int, default=None, help="IG steps (default 8)")
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
        g = p.add_argument_group("GAN report options (defaults: xstyle.report.gan.GANReportConfig)")
        g.add_argument("--checkpoint", default=None, help="DCGAN checkpoint (default: the shipped one)")
        g.add_argument("--classifier", default=None, help="digit classifier (default: the shipped one)")
        g.add_argument(
            "--conditional-checkpoint",
            default=None,
            help="class-conditional DCGAN for the style-versus-content section (default: the shipped one)",
        )
        g.add_argument("--no-style-content", action="store_true", help="skip the conditional DCGAN's section")
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
