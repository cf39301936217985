"""``xstyle probe attributes|directions|traverse|components|dynamics``: latent probes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xstyle import __version__
from xstyle.cli._args import (
    UsageError,
    _add_digit,
    _add_direction_methods,
    _add_gan_models,
    _add_run_tail,
    _direction_methods,
    _layers,
    _nonneg_float,
    _output_folder,
    _positive_int,
    traversal_figures,
    write_outputs,
)
from xstyle.cli._options import _add_command, _add_group, _option
from xstyle.cli.gan import _check_digit, _classifier, _gan_checkpoint


def _probe_check(args: argparse.Namespace) -> Path:
    """Check the options every ``probe`` command shares; returns the output folder."""
    if args.n < 50:
        raise UsageError(
            f"--n-samples must be at least 50 (the probes are 5-fold cross-validated); got {args.n}."
        )
    return _output_folder(args.out)


def _write_probe(
    args: argparse.Namespace, out: Path, name: str, body: dict, figures: dict, *, ckpt=None, **kwargs
) -> None:
    """Write ``NAME.json`` (what every probe command records, then ``body``) and ``figures`` into
    ``out`` (``write_outputs``; ``kwargs``: its summary or note). ``ckpt``: the checkpoint probed,
    or None for a run's checkpoints (``--run-dir``)."""
    where = (
        {"run_dir": args.run_dir}
        if ckpt is None
        else {"checkpoint": args.checkpoint or "shipped", "epoch": ckpt.epoch}
    )
    data = {
        "xstyle_version": __version__,
        "command": f"probe {args.probe_command}",
        "classifier": args.classifier or "shipped",
        "digit": getattr(args, "digit", None),
        **where,
        **body,
    }
    write_outputs(out, json={f"{name}.json": data}, figures=figures, **kwargs)


def _probe_directions(args: argparse.Namespace, methods: list[str]):
    """Load the models, sample and measure latents, find the directions (shared by directions/traverse)."""
    from xstyle.explain.gan.probes import find_directions, sample_latents

    ckpt = _gan_checkpoint(args.checkpoint)
    classifier = _classifier(args.classifier, ckpt.config.dataset)
    # GANSpace reads the first stage only; the other methods need no activations
    stages = ["act0"] if "ganspace" in methods else []
    _check_digit(args.digit, ckpt)
    samples = sample_latents(
        ckpt.sampler, classifier=classifier, n=args.n, seed=args.seed, stages=stages, labels=args.digit
    )
    directions = find_directions(
        ckpt.sampler, samples, methods=methods, n_components=args.components, random_state=args.seed
    )
    return ckpt, classifier, samples, directions


def _cmd_probe_attributes(args: argparse.Namespace) -> int:
    """The layer x attribute probe table of a DCGAN checkpoint: probes.json and probes.png."""
    import time

    from xstyle.explain.gan.probes import probe_layers, sample_latents

    out = _probe_check(args)
    ckpt = _gan_checkpoint(args.checkpoint)
    classifier = _classifier(args.classifier, ckpt.config.dataset)
    t0 = time.perf_counter()
    _check_digit(args.digit, ckpt)
    samples = sample_latents(
        ckpt.sampler, classifier=classifier, n=args.n, seed=args.seed, style=args.style, labels=args.digit
    )
    table = probe_layers(samples, n_components=args.pca, random_state=args.seed)
    body = {
        "config": {"n": args.n, "seed": args.seed, "style": args.style, "pca": args.pca},
        "samples": samples.summary(),
        "probes": table.to_dict(),
        "seconds": time.perf_counter() - t0,
    }
    _write_probe(args, out, "probes", body, {"probes.png": table.plot()}, ckpt=ckpt)
    for j, attr in enumerate(table.attributes):
        row = " ".join(f"{s} {table.scores[i, j]:.2f}" for i, s in enumerate(table.stages))
        print(f"  {attr} ({table.metrics[j]}): {row}")
    return 0


def _cmd_probe_directions(args: argparse.Namespace) -> int:
    """InterFaceGAN/GANSpace/SeFa directions and their cosine comparison: directions.json, similarity.png."""
    from xstyle.explain.gan.directions import compare_directions

    methods = _direction_methods(args.methods)
    out = _probe_check(args)
    ckpt, _, samples, directions = _probe_directions(args, methods)
    comparison = compare_directions(directions)
    body = {
        "config": {"n": args.n, "seed": args.seed, "methods": methods, "n_components": args.components},
        "samples": samples.summary(),
        "directions": [d.to_dict() for d in directions],
        "comparison": comparison.to_dict(),
    }
    figures = {"similarity.png": comparison.plot()}
    summary = f"directions.json, similarity.png; {len(directions)} directions"
    _write_probe(args, out, "directions", body, figures, ckpt=ckpt, summary=summary)
    for m in comparison.matches:
        print(f"  {m['direction']} ~ {m['attribute']} (cos {m['cosine']:+.2f})")
    return 0


def _cmd_probe_traverse(args: argparse.Namespace) -> int:
    """Traversal grids along each direction and what they change: traversals.json, traversals/*.png."""
    import numpy as np

    from xstyle.explain.gan.probes import traversal_alignment
    from xstyle.explain.gan.traversal import traverse

    methods = _direction_methods(args.methods)
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
            labels=args.digit,
            seed=args.seed + 1,
            alphas=alphas,
            scales=scales,
            rows=args.rows,
        )
        for d in directions
    ]
    alignment = traversal_alignment(traversals)
    body = {
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
    summary = f"traversals.json, {len(traversals)} grids in traversals/"
    _write_probe(args, out, "traversals", body, traversal_figures(traversals), ckpt=ckpt, summary=summary)
    for a in alignment:
        print(f"  {a['direction']}: moves {a['dominant_attribute']} most ({a['change']:.2f} sd/sigma)")
    return 0


def _cmd_probe_dynamics(args: argparse.Namespace) -> int:
    """Probe scores across the checkpoints of a training run: dynamics.json and dynamics.png."""
    from xstyle.explain.gan.dynamics import find_checkpoints, probe_dynamics

    out = _probe_check(args)
    if not 0 < args.threshold <= 1:
        raise UsageError(f"--threshold must lie in (0, 1]; got {args.threshold}.")
    paths = find_checkpoints(args.run_dir) if args.run_dir else list(args.checkpoints)
    dataset = _gan_checkpoint(str(paths[0])).config.dataset if paths else "mnist"
    classifier = _classifier(args.classifier, dataset)

    def progress(epoch: int, seconds: float) -> None:
        if not args.quiet:
            print(f"  epoch {epoch}: probed in {seconds:.1f} s", file=sys.stderr)

    result = probe_dynamics(
        paths, classifier, n=args.n, seed=args.seed, stages=args.stages, progress=progress
    )
    epochs = ", ".join(str(int(e)) for e in result.epochs)
    body, figures = result.to_dict(threshold=args.threshold), {"dynamics.png": result.plot()}
    _write_probe(
        args, out, "dynamics", body, figures, summary=f"dynamics.json, dynamics.png; epochs {epochs}"
    )
    readable = result.readable_epochs(threshold=args.threshold)
    for stage in ("z", result.stages[-1]):
        row = ", ".join(f"{a} {'never' if e is None else e}" for a, e in readable[stage].items())
        print(f"  readable from {stage} (normalised score >= {args.threshold:g}) at epoch: {row}")
    return 0


def _cmd_probe_components(args: argparse.Namespace) -> int:
    """Which digit each component of the latent prior became: components.json and components.png."""
    from xstyle.explain.gan.prior import prior_components

    out = _output_folder(args.out)
    ckpt = _gan_checkpoint(args.checkpoint)
    result = prior_components(
        ckpt.sampler,
        _classifier(args.classifier, ckpt.config.dataset),
        n_per_component=args.n,
        seed=args.seed,
    )
    body, figures = {"components": result.to_dict()}, {"components.png": result.plot()}
    note = f"; prior {result.prior}, {args.n} digits per component"
    _write_probe(args, out, "components", body, figures, ckpt=ckpt, note=note)
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


def add_parsers(sub) -> None:
    """Register ``xstyle probe attributes|directions|traverse|components|dynamics`` (latent probes)."""
    psub = _add_group(
        sub, "probe", "latent probes: attribute table, directions, traversals, prior components, dynamics"
    )

    def common(
        p: argparse.ArgumentParser,
        *,
        n: int,
        checkpoint: bool = True,
        n_flag: str = "--n-samples",
        n_help: str = "latent samples to measure, >= 50",
        seed_help: str = "seeds latents, folds and PCA",
    ) -> None:
        _add_gan_models(p, checkpoint=checkpoint)
        _option(p, ("-n", n_flag), _positive_int, n, n_help, dest="n")
        _add_run_tail(p, seed_help=seed_help)

    p = _add_command(
        psub, "attributes", _cmd_probe_attributes, "the layer x attribute table of linear probes (+ heatmap)"
    )
    common(p, n=2000)
    _add_digit(p)
    _option(p, "--pca", _positive_int, 128, "PCA components per stage")
    p.add_argument("--style", action="store_true", help="also probe the digits' Gram energy")

    p = _add_command(
        psub, "directions", _cmd_probe_directions, "InterFaceGAN/GANSpace/SeFa directions, compared by cosine"
    )
    common(p, n=2000)
    _add_digit(p)
    _add_direction_methods(p)

    p = _add_command(
        psub,
        "traverse",
        _cmd_probe_traverse,
        "traversal grids along each direction and what each one changes",
    )
    common(p, n=2000)
    _add_digit(p)
    _add_direction_methods(p)
    _option(p, "--steps", _positive_int, 7, "steps from -sigma to +sigma")
    _option(p, "--sigma", _nonneg_float, 3.0, "reach of the walk in sigmas")
    _option(p, "--n-traverse", _positive_int, 24, "latents per traversal")
    _option(p, "--rows", _positive_int, 8, "latents shown per grid")

    p = _add_command(
        psub, "components", _cmd_probe_components, "which digit each component of the latent prior became"
    )
    common(p, n=500, n_flag="--per-component", n_help="digits per component", seed_help="seeds the latents")

    p = _add_command(
        psub, "dynamics", _cmd_probe_dynamics, "probe scores across a training run's checkpoints"
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--run-dir", default=None, help="folder of epoch_NNNN.pt files (gan train --out)")
    where.add_argument("--checkpoints", nargs="+", metavar="CKPT", help="checkpoint files, any order")
    common(p, n=1000, checkpoint=False)
    p.add_argument("--stages", type=_layers, default=None, help="generator stages, comma-separated (all)")
    _option(p, "--threshold", _nonneg_float, 0.5, "chance-normalised score that counts as readable")
