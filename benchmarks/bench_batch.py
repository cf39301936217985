"""Batch throughput: items per hour on a fixed small collection, local worker processes against Ray.

Cases (each a fresh batch folder, the same collection and settings):

* ``local 1x{cores}``: one worker process with every core's threads;
* ``local {cores}x1``: one worker per core, one thread each;
* ``ray 1x{cores}`` and ``ray {cores}x1``: the same workers as Ray actors on a local Ray cluster
  (started once, before the rounds; its start-up time is printed apart).

Every engine is started once and kept for all its runs (as a long batch would use it): the first
run of each case is its cold start (worker processes or actors start, import torch and load VGG19)
and is printed apart; the medians come from the warm rounds after it. Each round runs every case
once, the order rotated round by round (the machine is shared and noisy; a fixed order flatters
whichever case runs second). Printed: the machine, the median wall time and
items/hour per case, Ray's overhead at equal workers, per-item time, the peak memory of a worker
(its maximum resident set), the bytes shipped per task (payload out, result back), and what the
throughput would be on N machines from those figures.

Run: ``.venv/bin/python benchmarks/bench_batch.py`` (about 10 minutes on 2 cores), ``--quick`` for
a smoke run. Needs Ray (``pip install 'xstyle[ray]'``; the dev extras have it) for its Ray cases.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _machine import machine

from xstyle.batch.engines import LocalEngine, RayEngine
from xstyle.batch.items import pair_items
from xstyle.batch.runner import run_batch
from xstyle.batch.tasks import BatchSettings, run_item

CONTENTS = ["sample:chelsea", "sample:astronaut", "sample:coffee", "sample:rocket"]
STYLES = ["sample:great_wave", "sample:starry_night"]


def measured_item(state, payload):
    """run_item, plus the worker's peak resident memory (MiB) so far."""
    value = run_item(state, payload)
    value["numbers"]["_worker_max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return value


def _run(case: str, items, settings, root: Path, engines: dict):
    out = root / case.replace(" ", "_")
    shutil.rmtree(out, ignore_errors=True)
    engine = engines[case]
    t0 = time.perf_counter()
    result = run_batch(items, out, settings=settings, engine=engine)
    seconds = time.perf_counter() - t0
    assert result.count("failed") == 0, [s.error for s in result.failed]
    return seconds, result, max(_rss(out, items))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 tiny items, 1 round (a smoke run)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    settings = BatchSettings(size=64, steps=20, maps_size=64, n_steps=4)
    items = pair_items(CONTENTS, STYLES)
    rounds = args.rounds
    if args.quick:
        items, rounds = items[:2], 1
        settings = BatchSettings(size=32, steps=3, maps_size=32, n_steps=2)
    print(machine())
    print(
        f"collection: {len(items)} pairs at {settings.size} px, {settings.steps} L-BFGS evaluations, "
        f"maps with {settings.n_steps} IG steps; {rounds} rounds, order rotated"
    )

    import xstyle.batch.runner as runner_module

    runner_module.run_item = measured_item  # the worker's peak memory rides along with each result

    shapes = [(1, cores), (cores, 1)] if cores > 1 else [(1, 1)]
    engines: dict = {}
    for w, t in shapes:
        engines[f"local {w}x{t}"] = LocalEngine(workers=w, threads=t)
    ray_started = None
    if not args.no_ray:
        try:
            import ray

            t0 = time.perf_counter()
            # every case's actors stay alive between its runs, and only one case runs at a time: give
            # the cluster enough CPU slots for all of them (Ray would otherwise queue the second case's
            # actors behind the first case's forever)
            ray.init(num_cpus=cores * len(shapes), include_dashboard=False, log_to_driver=False)
            ray_started = time.perf_counter() - t0
            for w, t in shapes:
                engines[f"ray {w}x{t}"] = RayEngine(address="auto", workers=w, threads=t)
        except ImportError:
            print("Ray is not installed: its cases are skipped (pip install 'xstyle[ray]')")
    if ray_started is not None:
        print(f"local Ray cluster started in {ray_started:.1f} s (not counted below)")
    cases = list(engines)
    times: dict[str, list[float]] = {c: [] for c in cases}
    results: dict[str, list] = {c: [] for c in cases}
    peak: dict[str, float] = dict.fromkeys(cases, 0.0)
    cold: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for case in cases:  # start every engine once; its first run is the cold start
            engines[case].__enter__()
            cold[case], _, _ = _run(case, items, settings, root, engines)
            print(f"  cold start: {case:<12} {cold[case]:7.1f} s (not in the medians)", flush=True)
        for r in range(rounds):
            order = cases[r % len(cases) :] + cases[: r % len(cases)]
            for case in order:
                seconds, result, rss = _run(case, items, settings, root, engines)
                times[case].append(seconds)
                peak[case] = max(peak[case], rss)
                results[case].append(result)
                print(f"  round {r + 1}: {case:<12} {seconds:7.1f} s", flush=True)
    for engine in engines.values():
        engine.__exit__(None, None, None)
    print()
    print(f"{'case':<12} {'median s':>9} {'items/h':>8} {'s/item (in worker)':>19} {'peak MiB/worker':>16}")
    rate = {}
    for case in cases:
        med = statistics.median(times[case])
        rate[case] = len(items) / med * 3600
        per_item = statistics.median(s.seconds for res in results[case] for s in res.items)
        rss = peak[case]
        print(f"{case:<12} {med:9.1f} {rate[case]:8.0f} {per_item:19.2f} {rss:16.0f}")
    for w, t in shapes:
        local, ray_case = f"local {w}x{t}", f"ray {w}x{t}"
        if ray_case in rate:
            print(f"Ray overhead at {w}x{t}: {100 * (rate[local] / rate[ray_case] - 1):+.1f} % wall time")
    any_result = results[cases[0]][0]
    shipped_in = statistics.median(s.bytes_in for s in any_result.items)
    shipped_out = statistics.median(s.bytes_out for s in any_result.items)
    print(
        f"bytes shipped per task: {shipped_in / 1024:.1f} KiB out (payload), "
        + f"{shipped_out / 1024:.1f} KiB back"
    )
    best = max(rate, key=rate.get)
    print(
        f"scaling: the best case ({best}) makes {rate[best]:.0f} items/h per {cores}-core machine; items are "
        f"independent and ship {(shipped_in + shipped_out) / 1024:.0f} KiB each, so N such machines on a Ray "
        f"cluster should approach N x {rate[best]:.0f} items/h until the driver's writes "
        "(one small folder per item) or the network become the limit."
    )
    if ray_started is not None:
        import ray

        ray.shutdown()


def _rss(folder: Path, items) -> list[float]:
    import json

    out = []
    for item in items:
        data = json.loads((folder / "items" / item.id / "result.json").read_text())
        out.append(float(data["numbers"].get("_worker_max_rss_mib", 0.0)))
    return out


if __name__ == "__main__":
    main()
