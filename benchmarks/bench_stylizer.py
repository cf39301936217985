"""Real-time stylizer: speed against the optimisation transfer, and how close its quality gets.

Speed: images per second of one forward pass at 256x256 and 512x512 (batch 1, median over
``--rounds`` after a warm-up), in float32, and in bfloat16 at ``--bf16-sizes`` (CPU autocast; only
CPUs with bf16 units gain from it: on this project's AVX2 CPU it is about 100x slower).
The speed-up (``--speedup``) is the time of the optimisation transfer (``style_transfer`` with the
default coarse-to-fine L-BFGS schedule) for the same content/style pair at 256 px divided by the
stylizer's time.

Quality (``--quality``): on the held-out photos (never trained on), the style loss and content loss
(Gatys formulas, caffe VGG19, the optimisation transfer's ``final`` numbers) and SSIM to the photo
of the stylizer's output against the optimisation result, each at ``--quality-size`` px with the
painting resized the same way. ``--compare M2`` adds a second stylizer (e.g. trained with
``--adv-weight 0``: the ablation of the adversarial term) to the table and the figure.

Run: ``.venv/bin/python benchmarks/bench_stylizer.py --model runs/stylizer_starry/model.pt --quality``
(speed alone takes seconds; the quality part runs one optimisation per photo, a few minutes).
Without ``--model`` the speed of an untrained default network is measured (weights do not change it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from _machine import machine


def _time_forward(net, size: int, *, rounds: int, precision: str) -> float:
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bfloat16" else nullcontext()
    times = []
    with torch.inference_mode(), ctx:
        net(x)  # warm-up
        for _ in range(rounds):
            t0 = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def speed(net, sizes: list[int], rounds: int, bf16_sizes: list[int]) -> dict:
    out = {}
    for size in sizes:
        for precision in ("float32", "bfloat16"):
            if precision == "bfloat16" and size not in bf16_sizes:
                continue
            # bfloat16 without bf16 units is ~100x slower: a couple of rounds say enough
            n = rounds if precision == "float32" else max(1, rounds // 5)
            seconds = _time_forward(net, size, rounds=n, precision=precision)
            out[f"{size}px_{precision}"] = {"seconds": seconds, "images_per_second": 1.0 / seconds}
            print(f"  {size:>4} px  {precision:<9} {1.0 / seconds:7.2f} images/s  ({seconds * 1000:.0f} ms)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="stylizer .pt (default: an untrained network)")
    parser.add_argument("--compare", default=None, help="a second stylizer for the quality table")
    parser.add_argument("--label", default="stylizer", help="name of --model in the table")
    parser.add_argument("--compare-label", default="stylizer (compare)", help="name of --compare")
    parser.add_argument("--style", default=None, help="painting (default: the model's own)")
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--bf16-sizes", default="256", help="sizes also timed in bfloat16 ('' for none)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--speedup", action="store_true", help="time one optimisation transfer at 256 px")
    parser.add_argument("--quality", action="store_true", help="losses and SSIM against the optimisation")
    parser.add_argument("--quality-size", type=int, default=256)
    parser.add_argument("--photos", default=None, help="comma-separated held-out photo names (default all)")
    parser.add_argument("--figure", default=None, help="write the side-by-side figure here (.png)")
    parser.add_argument("--json", default=None, help="write the numbers here")
    parser.add_argument("--quick", action="store_true", help="64 px, 2 rounds, no bf16 (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.rounds, args.bf16_sizes = "64", 2, ""
    print(machine())
    if args.threads:
        torch.set_num_threads(args.threads)

    from xstyle.data import resolve_image
    from xstyle.images import resize_image
    from xstyle.stylizer import TransformNet, load_content_photos, load_stylizer

    model = load_stylizer(args.model) if args.model else None
    net = model.net if model is not None else TransformNet().eval()
    n_params = sum(p.numel() for p in net.parameters())
    print(
        f"stylizer: {args.model or 'untrained default'} ({n_params:,} parameters), "
        f"{torch.get_num_threads()} threads"
    )
    sizes = [int(s) for s in args.sizes.split(",")]
    bf16 = [int(s) for s in args.bf16_sizes.split(",") if s]
    results: dict = {
        "threads": torch.get_num_threads(),
        "parameters": n_params,
        "speed": speed(net, sizes, args.rounds, bf16),
    }

    style = None
    if args.style is not None:
        style = resolve_image(args.style)
    elif model is not None:
        style = model.style
    if (args.speedup or args.quality) and style is None:
        print("--speedup/--quality need --model or --style", file=sys.stderr)
        return 2

    from xstyle.transfer import TransferConfig, style_transfer

    config = TransferConfig(size=args.quality_size)
    if args.speedup:
        photo = resize_image(load_content_photos("heldout")["chelsea"], 256)
        t0 = time.perf_counter()
        style_transfer(photo, resize_image(style, 256), config=TransferConfig(size=256))
        opt_seconds = time.perf_counter() - t0
        fast = results["speed"]["256px_float32"]["seconds"]
        results["speedup_256px"] = {
            "optimisation_seconds": opt_seconds,
            "stylizer_seconds": fast,
            "ratio": opt_seconds / fast,
        }
        print(
            f"  optimisation transfer at 256 px: {opt_seconds:.1f} s -> "
            f"stylizer is {opt_seconds / fast:,.0f}x faster"
        )

    if args.quality:
        if model is None:
            print("--quality needs --model", file=sys.stderr)
            return 2
        from xstyle._stats import ssim
        from xstyle.explain.style.stylizer import evaluate_stylizer, image_losses
        from xstyle.models.vgg import load_vgg19

        vgg = load_vgg19("caffe", last_layer="relu5_1")
        photos = load_content_photos("heldout")
        if args.photos:
            photos = {k: photos[k] for k in args.photos.split(",")}
        size = args.quality_size
        style_q = resize_image(style, size)
        methods = {args.label: model}
        if args.compare:
            methods[args.compare_label] = load_stylizer(args.compare)
        table, outputs = {}, {}
        for label, m in methods.items():
            ev = evaluate_stylizer(m.net, photos, style_q, vgg=vgg, size=size, keep_images=True)
            table[label] = ev.per_image
            outputs[label] = ev.images
        table["optimisation"], outputs["optimisation"] = {}, {}
        for name, photo in photos.items():
            x = resize_image(photo, size)
            t0 = time.perf_counter()
            res = style_transfer(x, style_q, config=config)
            row = image_losses(res.image, x, style_q, vgg=vgg)
            row["ssim"], row["seconds"] = ssim(res.image, x), time.perf_counter() - t0
            table["optimisation"][name], outputs["optimisation"][name] = row, res.image
        print(f"\nquality at {size} px (Gatys losses; lower is better; SSIM to the photo):")
        print(f"  {'photo':<14} {'method':<24} {'style':>11} {'content':>11} {'SSIM':>6} {'seconds':>8}")
        for name in photos:
            for label in table:
                r = table[label][name]
                print(
                    f"  {name:<14} {label:<24} {r['style']:11.4g} {r['content']:11.4g} "
                    f"{r['ssim']:6.3f} {r['seconds']:8.2f}"
                )
        summary = {}
        for label in methods:
            ratios = [table[label][n]["style"] / table["optimisation"][n]["style"] for n in photos]
            c_ratios = [table[label][n]["content"] / table["optimisation"][n]["content"] for n in photos]
            summary[label] = {
                "style_ratio_median": statistics.median(ratios),
                "content_ratio_median": statistics.median(c_ratios),
            }
            print(
                f"  {label}: style loss {summary[label]['style_ratio_median']:.2f}x and content loss "
                f"{summary[label]['content_ratio_median']:.2f}x the optimisation's (median over photos)"
            )
        results["quality"] = {"size": size, "table": table, "summary": summary}
        if args.figure:
            import matplotlib

            matplotlib.use("Agg")
            from xstyle.explain.style.stylizer_plots import StylizerComparisonDisplay

            shown = {k: resize_image(v, size) for k, v in photos.items()}
            d = StylizerComparisonDisplay.from_images(shown, outputs, table).plot()
            d.figure_.savefig(args.figure, dpi=110)
            print(f"wrote {args.figure}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
