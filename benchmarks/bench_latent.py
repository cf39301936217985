"""Latent probes: time to generate and measure N digits and to fit the layer x attribute probe table.

Phases, each timed over ``--rounds`` rounds (median printed):

* ``generate + tap``: N digits from seeded latents with every DCGAN stage tapped by FeatureTap;
* ``measure (batched)``: every attribute of the N digits at once (one batched distance transform,
  moments in torch) -- and, for comparison, ``measure (per digit)``: the same call digit by digit,
  the loop a straightforward implementation would write;
* ``probe table``: cross-validated probes of every attribute on z and every stage (PCA to 128).

Uses a seeded random DCGAN and classifier unless ``--checkpoint`` / ``--classifier`` are given, so
it runs without the shipped weights. Run: ``.venv/bin/python benchmarks/bench_latent.py`` (N=2000),
or ``--quick`` for a smoke run (N=200, one round).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _machine import machine

from xstyle.explain.gan.probes import generate, measure_digits, probe_layers, sample_latents
from xstyle.gan.classifier import DigitClassifier, load_classifier
from xstyle.gan.dcgan import Generator
from xstyle.gan.prior import draw_latents
from xstyle.gan.train import load_checkpoint


def timed(fn, rounds: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-digit", type=int, default=200, help="digits for the per-digit baseline")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--classifier", default=None)
    parser.add_argument("--quick", action="store_true", help="N=200, one round (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.n, args.rounds, args.per_digit = 200, 1, 20
    print(machine())
    torch.manual_seed(0)
    gen = load_checkpoint(args.checkpoint).sampler if args.checkpoint else Generator().eval()
    clf = load_classifier(args.classifier) if args.classifier else DigitClassifier().eval()
    z = draw_latents(gen, args.n, generator=torch.Generator().manual_seed(0))  # from the model's own prior
    stages = ["act0", "act1", "act2", "tanh"]
    t_gen, (images, _) = timed(lambda: generate(gen, z, stages=stages), args.rounds)
    t_meas, _ = timed(lambda: measure_digits(images, classifier=clf), args.rounds)
    few = images[: args.per_digit]
    t_loop, _ = timed(lambda: [measure_digits(few[i : i + 1], classifier=clf) for i in range(len(few))], 1)
    t_loop *= args.n / len(few)
    samples = sample_latents(gen, classifier=clf, n=args.n, seed=0)
    t_probe, _ = timed(lambda: probe_layers(samples), 1)
    print(f"N = {args.n} digits, torch threads = {torch.get_num_threads()}")
    print(f"{'generate + tap':<28}{t_gen:8.2f} s")
    print(f"{'measure (batched)':<28}{t_meas:8.2f} s")
    print(f"{'measure (per digit, est.)':<28}{t_loop:8.2f} s   ratio {t_loop / t_meas:5.1f}x")
    print(f"{'probe table (5 x 7, cv=5)':<28}{t_probe:8.2f} s")


if __name__ == "__main__":
    main()
