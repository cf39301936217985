"""IntegratedGradients of the style loss: xstyle's Captum adapter against a hand-written IG loop.

Both compute IG of the Gatys style loss (relu1_1..relu5_1, caffe VGG19) of one image against a black
baseline with the same number of steps and the same batch of interpolated images per pass; the
hand-written loop runs the network layer by layer in plain torch (no hooks, no Captum). Cases are
interleaved in one process and their order rotates every round; medians are printed with the ratio.
Peak memory (growth of the resident set during one attribution, sampled every 2 ms) is measured in
a fresh subprocess per internal batch size.

    python benchmarks/bench_attribution.py            # 256 px, 64 steps, 3 rounds
    python benchmarks/bench_attribution.py --quick    # 96 px, 16 steps, 2 rounds
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import threading
import time

import torch
from _machine import machine

from xstyle.data import load_sample
from xstyle.explain.attribution.engine import attribute
from xstyle.explain.attribution.targets import GATYS_STYLE_LAYERS, StyleLossTarget
from xstyle.losses import gram_matrix
from xstyle.models.vgg import load_vgg19


def hand_written_ig(model, grams, weights, x, baseline, *, steps: int, batch: int) -> torch.Tensor:
    """Riemann (midpoint) IG in plain torch: layer-by-layer forward, autograd.grad per chunk."""
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    total = torch.zeros_like(x)
    for chunk in alphas.split(batch):
        xs = (baseline + chunk[:, None, None, None] * (x - baseline)).requires_grad_(True)
        h = (xs - model.mean) / model.std
        loss = torch.zeros(len(xs))
        wanted = set(grams)
        for name, layer in model.named_children():
            h = layer(h)
            if name in wanted:
                _, c, hh, ww = h.shape
                g = gram_matrix(h)
                loss = loss + weights[name] * (g - grams[name]).pow(2).sum((1, 2)) / (
                    4 * c * c * (hh * ww) ** 2
                )
                wanted = wanted - {name}
                if not wanted:
                    break
        (grad,) = torch.autograd.grad(loss.sum(), xs)
        total += grad.sum(0, keepdim=True)
    return (x - baseline) * total / steps


def _setup(size: int):
    model = load_vgg19("caffe", last_layer="relu5_1")
    for p in model.parameters():
        p.requires_grad_(False)
    x = load_sample("astronaut", size=size)
    style = load_sample("starry_night", size=size)
    target = StyleLossTarget(model, style)
    return model, x, target


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _memory_child(size: int, steps: int, batch: int) -> None:
    """Print the peak growth of the resident set during one attribution (sampled every 2 ms)."""
    _, x, target = _setup(size)
    base = torch.zeros_like(x)
    before = _rss_mib()
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_mib())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        attribute(target, x, method="ig", baselines=base, n_steps=steps, internal_batch_size=batch)
    finally:
        done.set()
        sampler.join()
    print(f"{peak - before:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--batch", type=int, default=4, help="interpolated images per pass (both cases)")
    parser.add_argument("--memory-batches", default="1,8,32")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    print(machine())
    size = args.size or (48 if args.quick else 256)
    steps = args.steps or (4 if args.quick else 64)
    rounds = args.rounds or (2 if args.quick else 3)
    if args.memory_child is not None:
        _memory_child(size, steps, args.memory_child)
        return

    model, x, target = _setup(size)
    base = torch.zeros_like(x)
    weights = {n: 1.0 / len(GATYS_STYLE_LAYERS) for n in GATYS_STYLE_LAYERS}

    def run_xstyle():
        return attribute(
            target, x, method="ig", baselines=base, n_steps=steps, internal_batch_size=args.batch
        ).attributions

    def run_hand():
        return hand_written_ig(model, target.grams, weights, x, base, steps=steps, batch=args.batch)

    cases = {"xstyle (Captum IG)": run_xstyle, "hand-written IG loop": run_hand}
    times: dict[str, list[float]] = {name: [] for name in cases}
    outputs = {}
    names = list(cases)
    print(
        f"IG of the style loss, {tuple(x.shape[-2:])} px, {steps} steps, {args.batch} images per pass, "
        f"{torch.get_num_threads()} threads, {rounds} rounds"
    )
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            start = time.perf_counter()
            outputs[name] = cases[name]()
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, t in med.items():
        print(f"  {name:<22} median {t:7.2f} s   runs {', '.join(f'{v:.2f}' for v in times[name])}")
    print(f"  ratio xstyle / hand-written: {med[names[0]] / med[names[1]]:.3f}")
    a, b = (outputs[name] for name in names)
    with torch.no_grad():
        f_x, f_b = float(target(x)), float(target(base))
    for name, attr in zip(names, (a, b), strict=True):
        # the style loss dips far below both ends along the path from black, so the sum of the
        # attributions is a near-cancellation: measure its error against the loss scale f(b)
        err = abs(float(attr.sum()) - (f_x - f_b)) / abs(f_b)
        print(f"  {name}: |sum(attr) - (f(x) - f(b))| = {100 * err:.3f}% of f(b)")
    print("peak memory growth during one xstyle IG (fresh process each):")
    memory_batches = "1,4" if args.quick else args.memory_batches
    for batch in (int(b) for b in memory_batches.split(",")):
        cmd = [
            sys.executable,
            __file__,
            "--memory-child",
            str(batch),
            "--size",
            str(size),
            "--steps",
            str(steps),
        ]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        print(f"  internal_batch_size {batch:>3}: +{out} MiB")


if __name__ == "__main__":
    main()
