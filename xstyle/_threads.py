"""How many threads a command's torch work uses: the idle cores, never fewer than one.

torch's default is one intra-op thread per core. Beside another busy process that collapses: every
parallel region waits for the thread that shares its core with the other process, so a 256 px
transfer on two threads beside one busy core ran far slower than on one thread
(``benchmarks/bench_threads.py``; the table is in docs/performance.md). The CLI therefore counts
the cores that are busy when it starts (a short sample of ``/proc/stat``) and takes the rest;
``xstyle --threads N`` overrides it. When a core is busy it also asks OpenMP to sleep rather than
spin while a thread waits (``OMP_WAIT_POLICY=PASSIVE``, unless the user set it): spinning threads
steal the core that the other process and their own slowest thread need. On a quiet machine
OpenMP's default (spin a while, then sleep) is faster and is left alone.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["busy_cores", "configure_threads", "default_threads", "passive_waiting", "usable_cores"]

#: a core busier than this (fraction of the sample) counts as taken by another process
BUSY_THRESHOLD = 0.5


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _cpu_times() -> list[tuple[int, int]]:
    """(busy, total) jiffies of each core from /proc/stat; [] where it cannot be read."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        name, _, rest = line.partition(" ")
        if name.startswith("cpu") and name != "cpu":
            values = [int(v) for v in rest.split()]
            idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
            total = sum(values[:8])  # user .. steal (guest time is already counted in user)
            out.append((total - idle, total))
    return out


def busy_cores(*, interval: float = 0.1) -> int:
    """How many cores other processes keep busy: cores over :data:`BUSY_THRESHOLD` busy during
    ``interval`` seconds (0 where ``/proc/stat`` cannot be read, e.g. off Linux)."""
    before = _cpu_times()
    if not before:
        return 0
    time.sleep(interval)
    after = _cpu_times()
    busy = 0
    for (b0, t0), (b1, t1) in zip(before, after, strict=False):
        if t1 > t0 and (b1 - b0) / (t1 - t0) > BUSY_THRESHOLD:
            busy += 1
    return busy


def default_threads(*, cores: int | None = None, busy: int | None = None) -> int:
    """The idle cores: ``cores - busy`` (defaults: :func:`usable_cores`, :func:`busy_cores`), at least 1."""
    cores = usable_cores() if cores is None else cores
    busy = busy_cores() if busy is None else busy
    return max(1, min(cores, math.floor(cores - busy)))


def configure_threads(*, threads: int | None = None, busy: int | None = None) -> int:
    """Set torch's intra-op threads to ``threads`` (None: :func:`default_threads`, given ``busy``
    cores or sampling them); returns the number."""
    import torch

    cores = usable_cores()
    n = default_threads(cores=cores, busy=busy) if threads is None else int(threads)
    if not 1 <= n <= cores:
        raise ValueError(
            f"--threads must be between 1 and {cores} (the cores this process may use); got {threads!r}."
        )
    torch.set_num_threads(n)
    return n


@contextmanager
def passive_waiting(*, when: bool = True) -> Iterator[bool]:
    """``OMP_WAIT_POLICY=PASSIVE`` (unless set already) for this block and the processes it starts,
    ``when`` other processes keep cores busy (on a quiet machine OpenMP's default is faster).

    OpenMP reads the variable once, when torch is first imported: it takes effect in this process
    only if torch is not imported yet, and always in worker processes started inside the block.
    Yields whether it takes effect here; the environment is restored on exit.
    """
    before = os.environ.get("OMP_WAIT_POLICY")
    if when:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        yield when and before is None and "torch" not in sys.modules
    finally:
        if when and before is None:
            os.environ.pop("OMP_WAIT_POLICY", None)
