"""Memory bounds of size-like settings (package-internal).

A size the machine cannot hold (``--size 100000``, ``n_samples=10**9``) must end in one line that
says what to make smaller, before anything is allocated, not in a traceback or the OOM killer
minutes later. :func:`available_memory` reads what the machine can hold for one run; the ``*_bytes``
functions estimate what a setting asks for; :func:`check_memory` compares the two and names the
largest value that fits. :func:`check_maximum` is for settings whose memory is impractical to
estimate but whose sane range is known.

The bound is the machine's memory (physical, or the container's limit, or ``ulimit -v``), not what
happens to be free at the moment: a setting valid on a machine stays valid however busy it is, and
a run that then finds the memory taken by others ends in the CLI's one-line out-of-memory message.

The per-unit estimates are float32 on the CPU: the growth of peak RSS (``ru_maxrss``) between two
sizes, measured once by hand on the development machine (the figures in the comments below; no
script in the repository reruns them), rounded up by about 1.5x so a run they pass rarely runs out.
Needs below :data:`ALWAYS_FITS` return at once without reading the machine, so the check costs
nothing where small sizes are checked in a loop (latents per training step, resized photos).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

try:
    import resource
except ImportError:  # not a POSIX system: no ulimit to read
    resource = None  # type: ignore[assignment]

#: used when no source of free memory can be read (not Linux, no sysconf)
FALLBACK_AVAILABLE = 8 << 30
#: models, weights and buffers of a run that do not grow with its size settings
BASE_BYTES = 256 << 20
#: a need this small fits on any machine xstyle runs on (torch alone takes more): not checked
ALWAYS_FITS = 512 << 20

# per pixel of the largest image of a run (long side ** 2: the aspect ratio is unknown up front)
VGG19_TRAIN_BYTES_PER_PX = 4096  # VGG19 to relu5_1, forward + backward (L-BFGS): 3.4 KB measured
VGG19_FORWARD_BYTES_PER_PX = 1024  # VGG19 to relu5_1, no gradients: 0.4-0.6 KB measured
STYLIZER_FORWARD_BYTES_PER_PX = 1024  # the shipped stylizer, no gradients: 0.5-0.6 KB measured
STYLIZER_TRAIN_BYTES_PER_PX = 8192  # a training crop: stylizer + VGG19 + discriminator gradients
STYLIZER_EXPLAIN_BYTES_PER_PX = 24576  # IG through stylizer + VGG19, 4 inputs a pass: 17 KB measured
IMAGE_BYTES_PER_PX = 24  # an RGB float32 image and the copy made when it is resized

# a batch worker process: Python, torch, VGG19 to relu5_1, the digit classifier and held-out
# digits loaded once (worker_setup): 0.7 GB peak RSS measured for pairs and checkpoints together
WORKER_BYTES = 1 << 30

# per digit or latent of the DCGAN (28 x 28 digits, 100-dimensional latents)
GENERATE_BYTES_PER_DIGIT = 256 << 10  # one forward pass of the generator over all of them: 180 KB
EVAL_BYTES_PER_DIGIT = 4 << 10  # kept per scored digit (z, digit, classifier outputs): 3 KB
GRADIENT_BYTES_PER_DIGIT = 512 << 10  # IG through D, or G and the classifier: 210-290 KB
PROBE_BYTES_PER_LATENT = 256 << 10  # tapped stages (float64 for the probes): 140 KB
LATENT_BYTES = 4  # per latent coordinate (float32)


def _meminfo_total() -> int | None:
    """MemTotal of /proc/meminfo (the machine's physical memory), in bytes."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _sysconf_total() -> int | None:
    """Physical pages times the page size (POSIX systems without /proc/meminfo)."""
    try:
        pages, page = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None
    return pages * page if pages > 0 and page > 0 else None


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None  # also "max": no limit


def _cgroup_limit() -> int | None:
    """The container's memory limit (cgroup v2, then v1), if there is one."""
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        limit = _read_int(limit_file)
        if limit is not None and limit < 1 << 60:  # v1 writes ~2**63 for none
            return limit
    return None


def _address_space_headroom() -> int | None:
    """What ``ulimit -v`` (RLIMIT_AS) still allows this process, if it is set."""
    if resource is None:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    used = None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                used = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return max(soft - (used or 0), 0)


def available_memory() -> int:
    """Bytes the machine can hold for one run: the least of its physical memory (MemTotal, else
    physical pages), the container's limit and what ``ulimit -v`` still allows; a fallback of
    8 GiB when none can be read."""
    machine = _meminfo_total() or _sysconf_total()
    limits = [b for b in (machine, _cgroup_limit(), _address_space_headroom()) if b is not None]
    return min(limits) if limits else FALLBACK_AVAILABLE


def format_bytes(n: float) -> str:
    """``n`` bytes in decimal units, e.g. '80 GB', '1.5 TB', '300 MB'."""
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{max(n, 0) / 1e3:.0f} kB"


def _round_down(value: int) -> int:
    """``value`` rounded down to two significant digits (2290 -> 2200), a suggestion to type."""
    scale = 10 ** max(len(str(value)) - 2, 0)
    return value // scale * scale


def largest_fitting(need: Callable[[int], float], value: int, available: float) -> int:
    """The largest v in [1, value] with ``need(v) <= available`` (need grows with v); 0 if none."""
    if need(1) > available:
        return 0
    low, high = 1, value  # need(low) fits; bisect for the last v that does
    while low < high:
        mid = (low + high + 1) // 2
        if need(mid) <= available:
            low = mid
        else:
            high = mid - 1
    return low


def check_memory(
    name: str, value: int, need: Callable[[int], float], *, what: str, available: int | None = None
) -> None:
    """Raise one ValueError line if ``need(value)`` bytes will not fit in the available memory.

    Args:
        name: the setting as the user wrote it: ``"--size"`` on the command line, ``"size"`` in Python.
        value: its value.
        need: bytes a value needs (grows with the value).
        what: what the memory is for, e.g. ``"VGG19 features"``.
        available: bytes to compare with (default: :func:`available_memory`).

    The message names the setting and its value, the estimate, the available memory and the largest
    value that fits, e.g. "--size 100000 would need about 41 TB for VGG19 features; this machine has
    24 GB of memory; use --size 2400 or less."
    """
    needed = need(value)
    if available is None and needed <= ALWAYS_FITS:
        return
    free = available_memory() if available is None else available
    if needed <= free:
        return
    fits = largest_fitting(need, value, free)
    fix = (
        f"use {name} {_round_down(fits)} or less"
        if fits
        else "free some memory (close other programs) or use a machine with more"
    )
    raise ValueError(
        f"{name} {value} would need about {format_bytes(needed)} for {what}; this machine has "
        f"{format_bytes(free)} of memory; {fix}."
    )


def check_maximum(name: str, value: int, maximum: int, *, why: str) -> None:
    """Raise one ValueError line if ``value`` is above a fixed ``maximum`` (``why``: its reason)."""
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum} ({why}); got {value}.")


# --------------------------------------------------------------------------------------- estimates


def vgg19_bytes(size: int, *, batch: int = 1, backward: bool = True) -> float:
    """A VGG19 pass (to relu5_1) over ``batch`` images of long side ``size`` (square, the worst case)."""
    per_px = VGG19_TRAIN_BYTES_PER_PX if backward else VGG19_FORWARD_BYTES_PER_PX
    return BASE_BYTES + batch * size * size * (per_px + IMAGE_BYTES_PER_PX)


def stylizer_bytes(size: int) -> float:
    """Stylising one image of long side ``size`` (no gradients)."""
    return BASE_BYTES + size * size * (STYLIZER_FORWARD_BYTES_PER_PX + IMAGE_BYTES_PER_PX)


def generate_bytes(n: int) -> float:
    """Generating ``n`` DCGAN digits in one pass (latents, activations, digits, a grid of them)."""
    return BASE_BYTES + n * GENERATE_BYTES_PER_DIGIT


def gan_eval_bytes(n: int) -> float:
    """Scoring ``n`` generated digits (batched passes; the digits and their scores are kept)."""
    return BASE_BYTES + n * EVAL_BYTES_PER_DIGIT


def latent_bytes(n: int, latent_dim: int = 100) -> float:
    """``n`` latents of ``latent_dim`` float32 coordinates (and one temporary copy)."""
    return 2 * n * latent_dim * LATENT_BYTES


def batch_worker_bytes(
    *, pair_size: int | None = None, painting_size: int | None = None, checkpoint_digits: int | None = None
) -> float:
    """One batch worker: its process and models (:data:`WORKER_BYTES`) and its largest task: a pair
    stylised at ``pair_size`` (VGG19 with gradients), a painting analysed at ``painting_size``, a
    checkpoint scored on ``checkpoint_digits`` digits (None: no item of that kind)."""
    task = 0.0
    if pair_size:
        task = max(task, vgg19_bytes(pair_size) - BASE_BYTES)
    if painting_size:
        task = max(task, vgg19_bytes(painting_size, backward=False) - BASE_BYTES)
    if checkpoint_digits:
        task = max(task, generate_bytes(checkpoint_digits) - BASE_BYTES)
    return WORKER_BYTES + task
