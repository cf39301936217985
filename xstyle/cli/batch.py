"""``xstyle batch pairs|paintings|checkpoints|manifest|report``: explain collections at once."""

from __future__ import annotations

import argparse
import sys

from xstyle.cli._args import NETWORK_HELP, UsageError, _positive_int, _seed
from xstyle.cli._options import _add_command, _add_group, _option, _pick

#: How long ``--ray HOST:PORT`` may take to answer before the batch is refused.
_RAY_TIMEOUT_S = 2.0


def _sources(text: str) -> str | list[str]:
    """A folder, or comma-separated paths / sample:NAME / shipped:NAME specs."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected a folder or comma-separated paths; got {text!r}")
    return parts if len(parts) > 1 or ":" in parts[0] else parts[0]


def _items(args: argparse.Namespace) -> list:
    from xstyle.batch.items import checkpoint_items, painting_items, pair_items, read_manifest

    try:
        if args.batch_command == "pairs":
            return pair_items(args.content, args.style)
        if args.batch_command == "paintings":
            return painting_items(args.paintings)
        if args.batch_command == "checkpoints":
            return checkpoint_items(args.checkpoints)
        return read_manifest(args.manifest)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _engine(args: argparse.Namespace, n_items: int, settings, kinds: set[str]):
    """The engine of ``--ray``/``--workers``/``--threads``, checked before anything is written: the
    address's form and (for a cluster) that it answers within 2 s; workers and threads no more than
    this machine's cores (or, on a cluster, its CPUs once connected) and workers its memory."""
    import os

    from xstyle._limits import available_memory, batch_worker_bytes
    from xstyle.batch._jobs import check_worker_counts
    from xstyle.batch.engines import LocalEngine, RayEngine
    from xstyle.batch.ray_engine import check_ray_address, parse_ray_address

    names = ("--workers", "--threads")
    try:
        if args.ray is not None:
            check_ray_address(args.ray, timeout=_RAY_TIMEOUT_S, what="--ray")
        workers = args.workers
        if args.ray is None or parse_ray_address(args.ray)[0] == "local":  # this machine's cores and memory
            cores = os.cpu_count() or 1
            per_worker = batch_worker_bytes(
                pair_size=settings.size if "pair" in kinds else None,
                painting_size=settings.painting_size if "painting" in kinds else None,
                checkpoint_digits=max(settings.gan_samples, settings.probe_samples)
                if "checkpoint" in kinds
                else None,
            )
            check_worker_counts(workers, args.threads, cores=cores, per_worker_bytes=per_worker, names=names)
            if workers is None:  # the default (one per core, per item) stays within the memory too
                fits = max(1, int(available_memory() // per_worker))
                workers = fits if fits < min(cores, max(n_items, 1)) else None
        if args.ray is None:
            return LocalEngine(workers=workers, threads=args.threads, n_jobs=n_items)
        return RayEngine(address=args.ray, workers=workers, threads=args.threads, n_jobs=n_items)
    except (ImportError, ValueError) as err:
        raise UsageError(str(err)) from None


def _bar(quiet: bool, total: int):
    """``(close, progress)``: a progress callback drawing one bar of items (done / failed / left and
    the time left), opened at the run's first call, so a batch refused before it starts prints only
    its one-line error; ``close()`` ends the bar, if any."""
    bars: list = []

    def progress(p) -> None:
        if not bars:
            from tqdm.auto import tqdm

            bars.append(tqdm(total=total, desc="batch", unit="item", disable=quiet, file=sys.stderr))
        bar = bars[0]
        bar.n = p.done + p.failed
        bar.set_postfix_str(f"done {p.done}, failed {p.failed}, left {p.left}", refresh=False)
        bar.refresh()
        if p.last is not None and p.last.status == "failed":
            bar.write(f"  failed: {p.last.id}: {p.last.error}", file=sys.stderr)

    def close() -> None:
        for bar in bars:
            bar.close()

    return close, progress


def _cmd_batch(args: argparse.Namespace) -> int:
    from xstyle.atomic import hold_output
    from xstyle.batch.runner import pending_items, run_batch
    from xstyle.batch.tasks import BatchSettings

    items = _items(args)
    settings = BatchSettings(
        **_pick(args, "size", "steps", "painting_size", "gan_samples", "probe_samples", "weights", "seed"),
        network=args.network,
        classifier=None if args.classifier == "auto" else args.classifier,
        maps_size=min(args.maps_size or args.size, args.size),
        n_steps=args.ig_steps,
    )
    if settings.classifier not in (None, "none") and any(i.kind == "checkpoint" for i in items):
        from xstyle.gan.classifier import load_classifier

        load_classifier(settings.classifier)  # a missing or wrong file: one line before --out is made
    todo = pending_items(items, args.out)  # a resumed batch: size the engine for what is left
    engine = _engine(args, len(todo), settings, {i.kind for i in todo} or {i.kind for i in items})
    with hold_output(args.out, what="--out"):  # one run per folder, until its report is written too
        close_bar, progress = _bar(args.quiet, len(items))
        try:
            result = run_batch(
                items,
                args.out,
                settings=settings,
                engine=engine,
                collection=args.batch_command,
                progress=progress,
                what="--out",
            )
        finally:
            close_bar()
        done, skipped, failed = result.count("done"), result.count("skipped"), result.count("failed")
        line = f"wrote {args.out}/ ({done} done, {failed} failed"
        line += f", {skipped} done by an earlier run)" if skipped else ")"
        if not args.no_report:
            from xstyle.report.collection import build_collection_report

            report = build_collection_report(args.out)
            line += f"; report: {report}/index.html"
    print(line)
    for status in result.failed:
        print(f"  failed: {status.id}: {status.error}")
    return 1 if failed else 0


def _cmd_batch_report(args: argparse.Namespace) -> int:
    from xstyle.report.collection import build_collection_report

    report = build_collection_report(args.folder)
    print(f"wrote {report}/ (index.html, report.md, metrics.json, figures/)")
    return 0


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="batch folder (created; rerun the same command to resume)")
    g = p.add_argument_group("where it runs")
    g.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run on a Ray cluster: auto (the running one), local (start one here) or HOST:PORT / "
        "ray://HOST:PORT (needs pip install 'xstyle[ray]'); default: local worker processes",
    )
    g.add_argument("--workers", type=_positive_int, help="worker processes or actors (default: one per core)")
    g.add_argument(
        "--threads", type=_positive_int, help="torch threads per worker (default: cores / workers)"
    )
    # BatchSettings' defaults, from the torch-free module it reads them from (--help stays quick)
    from xstyle import _defaults as d

    g = p.add_argument_group("what each item computes")
    for flag, default, what in (
        ("--size", d.BATCH_SIZE, "long side of stylised pairs, px"),
        ("--steps", d.BATCH_STEPS, "L-BFGS evaluations per pair"),
        ("--maps-size", None, "long side of the style/content maps (default --size)"),
        ("--ig-steps", d.BATCH_IG_STEPS, "integrated-gradients steps"),
        ("--painting-size", d.BATCH_PAINTING_SIZE, "long side paintings are analysed at"),
        ("--gan-samples", d.BATCH_GAN_SAMPLES, "images scored per checkpoint"),
        ("--probe-samples", d.BATCH_PROBE_SAMPLES, "images probed per checkpoint"),
    ):
        _option(g, flag, _positive_int, default, what)
    _option(g, "--weights", None, d.TRANSFER_WEIGHTS, "VGG19 weights")
    g.add_argument("--network", default=None, metavar="SPEC", help=NETWORK_HELP)
    g.add_argument(
        "--classifier",
        default="auto",
        metavar="SPEC",
        help="what scores each checkpoint's images: auto (its data set's shipped classifier: digits or "
        "emoji), none (measures only), or shipped:NAME / a .pt file (default auto)",
    )
    _option(g, "--seed", _seed, d.BATCH_SEED, "batch seed; each item derives its own")
    p.add_argument("--no-report", action="store_true", help="skip the collection report (build it later)")
    p.set_defaults(func=_cmd_batch)


def add_parsers(sub) -> None:
    bsub = _add_group(
        sub,
        "batch",
        "explain a collection: content x style folders, paintings, checkpoints or a manifest",
        metavar="COLLECTION",
        description="Run one independent task per item (locally or on Ray), one result folder each, "
        "resumable, then a collection report. Exit 1 when some items failed (they are listed).",
    )
    listed = "or paths/sample:NAME, comma-separated"
    q = bsub.add_parser("pairs", help="every content photo x every style: transfer, losses, SSIM, maps")
    q.add_argument("content", type=_sources, help=f"folder of content photos, {listed}")
    q.add_argument("style", type=_sources, help=f"folder of style images, {listed}")
    _add_run_options(q)
    q = bsub.add_parser("paintings", help="per painting: Gram spectra, fingerprint, carrier channels")
    q.add_argument("paintings", type=_sources, help=f"folder of paintings, {listed}")
    _add_run_options(q)
    q = bsub.add_parser("checkpoints", help="per GAN checkpoint: quality and probes")
    q.add_argument("checkpoints", type=_sources, help="folder of .pt checkpoints, or paths/shipped:NAME")
    _add_run_options(q)
    q = bsub.add_parser("manifest", help="items listed in a CSV or JSON file (kind, content, style, ...)")
    q.add_argument("manifest", help="a .csv or .json manifest")
    _add_run_options(q)
    q = _add_command(bsub, "report", _cmd_batch_report, "(re)build the collection report of a batch folder")
    q.add_argument("folder", help="a batch folder")
