"""Threads beside a busy process: 1 vs 2 torch threads, quiet vs one busy core, active vs passive waiting.

Users run a notebook beside a batch, or a report beside a training run. This measures what that
does to torch's default (one thread per core) on two workloads:

* ``transfer``: one evaluation of the Gatys objective (VGG19 forward + backward) at ``--size`` px;
* ``stylizer``: one forward pass of the real-time stylizer network at ``--size`` px.

Each case runs in a fresh process (OpenMP reads ``OMP_WAIT_POLICY`` once, when it starts): 1 or 2
threads, OpenMP waiting as it does by default (``OMP_WAIT_POLICY`` unset: GNU OpenMP spins a while,
then sleeps), ``ACTIVE`` (spinning) or ``PASSIVE`` (sleeping at once), with the machine quiet or
with one busy-loop process beside it; and ``xstyle``, what the CLI does (passive waiting and
``xstyle._threads.default_threads``: the idle cores). Rounds rotate the order of the cases;
medians of each case's per-round medians are printed, with the speed relative to one thread with
OpenMP's default waiting under the same load (above 1: faster).
Run: ``.venv/bin/python benchmarks/bench_threads.py`` (a few minutes), ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def _child(workload: str, threads: str, size: int, reps: int) -> None:
    """Time ``reps`` runs of ``workload`` in this process; print the JSON list of seconds."""
    import torch

    if threads == "xstyle":
        from xstyle._threads import default_threads

        torch.set_num_threads(default_threads())
    else:
        torch.set_num_threads(int(threads))
    gen = torch.Generator().manual_seed(0)
    if workload == "transfer":
        from xstyle.data import load_sample
        from xstyle.models.vgg import load_vgg19
        from xstyle.transfer import StyleObjective, TransferConfig

        config = TransferConfig(size=size, steps=(1,))
        content, style = load_sample("astronaut", size=size), load_sample("starry_night", size=size)
        model = load_vgg19("caffe", last_layer=config.deepest_layer)
        objective = StyleObjective(model, content, style, config)

        def run() -> None:
            x = content.clone().requires_grad_(True)
            objective(x)[0].sum().backward()

    else:
        from xstyle.stylizer import TransformNet

        net = TransformNet().eval()
        x = torch.rand(1, 3, size, size, generator=gen)

        def run() -> None:
            with torch.inference_mode():
                net(x)

    run()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"threads": torch.get_num_threads(), "seconds": times}))


def _run_case(workload: str, threads: str, policy: str, size: int, reps: int) -> tuple[int, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    if policy != "unset":
        env["OMP_WAIT_POLICY"] = policy
    cmd = [sys.executable, str(HERE), "--child", workload, threads, str(size), str(reps)]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["threads"], statistics.median(data["seconds"])


def _busy_loop() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=5, help="timed runs per case and round (median taken)")
    p.add_argument("--workloads", default="transfer,stylizer")
    p.add_argument("--quick", action="store_true", help="stylizer, 64 px, 1 round (a smoke run)")
    p.add_argument("--child", nargs=4, metavar=("W", "T", "S", "R"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        workload, threads, size, reps = args.child
        _child(workload, threads, int(size), int(reps))
        return 0
    sys.path.insert(0, str(HERE.parent))
    from _machine import machine

    print(machine())
    if args.quick:
        args.size, args.rounds, args.reps, args.workloads = 64, 1, 2, "stylizer"
    cases = [(t, pol) for t in ("1", "2") for pol in ("unset", "ACTIVE", "PASSIVE")] + [("xstyle", "PASSIVE")]
    loads = ("quiet", "one busy core")
    samples: dict[tuple, list[float]] = {}
    chosen: dict[tuple, int] = {}
    for workload in args.workloads.split(","):
        for load in loads:
            hog = _busy_loop() if load != "quiet" else None
            try:
                time.sleep(0.5 if hog else 0)
                for r in range(args.rounds):
                    order = cases[r % len(cases) :] + cases[: r % len(cases)]
                    for threads, policy in order:
                        n, seconds = _run_case(workload, threads, policy, args.size, args.reps)
                        samples.setdefault((workload, load, threads, policy), []).append(seconds)
                        chosen[(workload, load, threads, policy)] = n
            finally:
                if hog is not None:
                    hog.kill()
                    hog.wait()
    print(f"\n## {args.size} px, median of {args.rounds} rounds x {args.reps} runs (seconds per run)")
    head = ("workload", "load", "threads", "OpenMP wait", "median ms", "vs 1 thread")
    print(f"{head[0]:<9} {head[1]:<14} {head[2]:<12} {head[3]:<11} {head[4]:>10} {head[5]:>12}")
    for (workload, load, threads, policy), values in samples.items():
        med = statistics.median(values)
        base = statistics.median(samples[(workload, load, "1", "unset")])  # torch's default waiting
        label = f"xstyle ({chosen[(workload, load, threads, policy)]})" if threads == "xstyle" else threads
        print(f"{workload:<9} {load:<14} {label:<12} {policy:<11} {1000 * med:>10.1f} {base / med:>11.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
