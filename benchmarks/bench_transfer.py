"""Style-transfer speed: xstyle against the PyTorch-tutorial way, side by side in one process.

Two measurements, each case interleaved with the others and the order rotated every round (the
machine is shared and noisy; a fixed order flatters whichever case runs second):

1. per step — one optimiser evaluation (forward + backward) at each size, for the tutorial
   baseline (full VGG19 with loss modules inserted), xstyle in float32 and xstyle in bfloat16;
   medians, ratios against the baseline, GFLOP per step (counted by torch's FlopCounterMode) and
   achieved GFLOP/s. Like is compared with like: xstyle runs with ``normalize="seed"`` (the paper's
   formulas, as the tutorial baseline computes them), and the losses of baseline and xstyle are
   checked equal (1e-4 relative).
2. time to quality — at 512 px, the reference (100 float32 L-BFGS evaluations at full resolution,
   tutorial way) against xstyle's default schedule (coarse-to-fine); both final images are scored
   with the same float32 objective at 512 px.

Run: ``.venv/bin/python benchmarks/bench_transfer.py`` (about 15 minutes on 2 cores), or
``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))

from _machine import cpu_flags, has_bf16_units, machine
from tutorial_baseline import build_tutorial_model, run_tutorial_transfer, tutorial_losses

from xstyle._precision import resolve_precision
from xstyle.data import resolve_image
from xstyle.models.vgg import load_vgg19
from xstyle.transfer import StyleObjective, TransferConfig, style_transfer


def _step(fn, image):
    x = image.clone().requires_grad_(True)
    total = fn(x)
    total.sum().backward()
    return total


def _time(fn, image, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        _step(fn, image)
        times.append(time.perf_counter() - t0)
    return min(times)


def _gflop(fn, image):
    with FlopCounterMode(display=False) as counter:
        _step(fn, image)
    return counter.get_total_flops() / 1e9


def per_step(content_src, style_src, *, sizes, rounds, reps, bf16_sizes, alpha, beta):
    cfg_base = dict(alpha=alpha, beta=beta, steps=(1,))
    rows = []
    for size in sizes:
        content = resolve_image(content_src, size=size)
        style = resolve_image(style_src, size=size)
        # the paper's formulas unscaled, as the baseline computes them (the default "size" scales alpha)
        cfg = TransferConfig(size=size, normalize="seed", **cfg_base)
        tut_model, cls, sls = build_tutorial_model(
            content, style, content_layers=cfg.content_layers, style_layers=cfg.style_layers
        )
        model = load_vgg19(cfg.weights, last_layer=cfg.deepest_layer)
        obj_fp32 = StyleObjective(model, content, style, cfg)
        cases = {
            "tutorial fp32 (full VGG19)": lambda x, m=tut_model, c=cls, s=sls: tutorial_losses(
                m, c, s, x, alpha=alpha, beta=beta
            )[0],
            "xstyle fp32": lambda x, o=obj_fp32: o(x)[0],
        }
        if size in bf16_sizes:
            obj_bf16 = StyleObjective(model, content, style, cfg, precision="bfloat16")
            cases["xstyle bf16 (autocast)"] = lambda x, o=obj_bf16: o(x)[0]
        # the same image for all: content plus a little seeded noise
        gen = torch.Generator().manual_seed(0)
        image = (content + 0.05 * torch.randn(content.shape, generator=gen)).clamp(0, 1)
        with torch.no_grad():
            ref = float(cases["tutorial fp32 (full VGG19)"](image))
            values = {name: float(fn(image)) for name, fn in cases.items()}
        rel = {name: abs(v - ref) / abs(ref) for name, v in values.items()}
        if rel["xstyle fp32"] > 1e-4:
            raise SystemExit(f"losses differ: tutorial {ref} vs xstyle {values['xstyle fp32']}")
        flops = {name: _gflop(fn, image) for name, fn in cases.items()}
        samples = {name: [] for name in cases}
        names = list(cases)
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                samples[name].append(_time(cases[name], image, reps))
        base = statistics.median(samples[names[0]])
        for name in names:
            med = statistics.median(samples[name])
            rows.append((size, name, med, base / med, flops[name], flops[name] / med, rel[name]))
    print("\n## Per step (one forward + backward), median of rounds")
    print(
        f"{'size':>5}  {'case':<28} {'median s':>9} {'speed-up':>9} {'GFLOP':>7} {'GFLOP/s':>8} "
        f"{'loss rel.diff':>13}"
    )
    for size, name, med, ratio, gf, gfs, rel in rows:
        print(f"{size:>5}  {name:<28} {med:>9.3f} {ratio:>8.2f}x {gf:>7.1f} {gfs:>8.1f} {rel:>13.1e}")
    return rows


def _variant(spec: str, config: TransferConfig) -> tuple[TransferConfig, str | None]:
    """``"PRECISION:S1,S2[:stylizer:NAME]"`` (``bfloat16:150,60``, ``bfloat16:60:stylizer:starry_night``)
    -> (``config`` with that precision and schedule, the stylizer to warm-start from or None)."""
    precision, _, rest = spec.partition(":")
    steps, _, start = rest.partition(":")
    if precision not in ("float32", "bfloat16") or not steps or (start and not start.startswith("stylizer:")):
        raise SystemExit(
            f"--variants takes PRECISION:STEPS[:stylizer:NAME] like bfloat16:150,60; got {spec!r}"
        )
    cfg = TransferConfig(
        **{**config.to_dict(), "precision": precision, "steps": tuple(int(s) for s in steps.split(","))}
    )
    return cfg, start.removeprefix("stylizer:") or None


def _warm_start(content: torch.Tensor, name: str) -> torch.Tensor:
    """The shipped stylizer ``name``'s output for ``content`` (its time counts in the case's)."""
    from xstyle.stylizer.train import load_stylizer, stylize

    return stylize(load_stylizer(f"shipped:{name}").net, content)


def time_to_quality(
    content_src, style_src, *, size, ref_steps, rounds, config, variants=(), with_default=True
):
    content = resolve_image(content_src, size=size)
    style = resolve_image(style_src, size=size)
    model = load_vgg19(config.weights, last_layer=config.deepest_layer)
    judge = StyleObjective(model, content, style, TransferConfig(**{**config.to_dict(), "steps": (1,)}))

    def score(img):
        with torch.no_grad():
            total, c, s = judge(img)
        return float(total), float(c.total), float(s.total)

    def reference():
        return run_tutorial_transfer(
            content,
            style,
            steps=ref_steps,
            alpha=config.alpha,
            beta=config.beta,
            content_layers=config.content_layers,
            style_layers=config.style_layers,
        )

    def xstyle(cfg=config, stylizer=None):
        start = None if stylizer is None else _warm_start(content, stylizer)
        return style_transfer(content, style, config=cfg, model=model, start=start).image

    cases = {f"reference: {ref_steps} L-BFGS evals at {size} px (tutorial)": reference}
    if with_default or not variants:
        cases[f"xstyle default schedule {config.steps} @ {config.level_sizes}"] = xstyle
    for spec in variants:
        cfg, stylizer = _variant(spec, config)
        warm = f" from the {stylizer} stylizer" if stylizer else ""
        cases[f"xstyle {cfg.precision} {cfg.steps} @ {cfg.level_sizes}{warm}"] = partial(
            xstyle, cfg, stylizer
        )
    names = list(cases)
    times = {n: [] for n in names}
    losses = {}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            t0 = time.perf_counter()
            img = cases[name]()
            times[name].append(time.perf_counter() - t0)
            losses[name] = score(img)
    print(f"\n## Time to quality at {size} px (float32 scoring, same weights and layers), median of {rounds}")
    print(f"{'case':<62} {'median s':>9} {'total loss':>12} {'content':>11} {'style':>11}")
    for name in names:
        t, (tot, c, s) = statistics.median(times[name]), losses[name]
        print(f"{name:<62} {t:>9.1f} {tot:>12.4g} {c:>11.4g} {s:>11.4g}")
    ref_t, ref_l = statistics.median(times[names[0]]), losses[names[0]][0]
    for name in names[1:]:
        x_t, x_l = statistics.median(times[name]), losses[name][0]
        print(f"{name}: {ref_t / x_t:.2f}x sooner; final loss / reference's = {x_l / ref_l:.3f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--content", default="sample:astronaut")
    p.add_argument("--style", default="sample:starry_night")
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--reps", type=int, default=2, help="repetitions per round (min taken)")
    p.add_argument("--quality-rounds", type=int, default=2)
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-steps", action="store_true", help="only the time-to-quality comparison")
    p.add_argument(
        "--skip-default", action="store_true", help="leave the default schedule out of the comparison"
    )
    p.add_argument(
        "--variants",
        nargs="*",
        default=[],
        metavar="PRECISION:STEPS",
        help="more xstyle schedules for the time-to-quality comparison, e.g. bfloat16:150,60, or "
        "bfloat16:60:stylizer:starry_night to start from a shipped stylizer's output",
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes and one round (smoke test)")
    args = p.parse_args(argv)
    print(machine())
    torch.manual_seed(0)
    config = TransferConfig()
    if args.quick:
        args.sizes, args.rounds, args.reps, args.quality_rounds = [64], 2, 1, 1
    has_bf16 = has_bf16_units(cpu_flags())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU bf16 units: {has_bf16}")
    print(f'precision="auto" (the CLI\'s default) runs {resolve_precision("auto")} on this machine')
    common = dict(content_src=args.content, style_src=args.style, alpha=config.alpha, beta=config.beta)
    bf16_sizes = set(args.sizes) if has_bf16 else set()
    if not args.skip_steps:
        per_step(sizes=args.sizes, rounds=args.rounds, reps=args.reps, bf16_sizes=bf16_sizes, **common)
    if not has_bf16 and not args.quick and not args.skip_steps:
        # without bf16 units PyTorch emulates bf16 (tens of times slower): measure it once, small
        print("(no bf16 units: bf16 measured at 128 px only, 3 rounds)")
        per_step(sizes=[128], rounds=3, reps=1, bf16_sizes={128}, **common)
    if not args.skip_quality:
        if args.quick:
            config = TransferConfig(size=64, steps=(4, 2))
            time_to_quality(
                args.content,
                args.style,
                size=64,
                ref_steps=6,
                rounds=1,
                config=config,
                variants=args.variants or ["float32:3,2", "float32:3:stylizer:starry_night"],
            )
        else:
            time_to_quality(
                args.content,
                args.style,
                size=config.size,
                ref_steps=100,
                rounds=args.quality_rounds,
                config=config,
                variants=args.variants,
                with_default=not args.skip_default,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
