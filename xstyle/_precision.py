"""The arithmetic of a run: ``precision="auto"`` picks bfloat16 only where the hardware computes it.

bfloat16 autocast halves the memory traffic of VGG19's convolutions, but only CPUs with bf16
units (Intel AMX, AVX-512 BF16) or a CUDA device with bf16 support compute it natively; elsewhere
PyTorch emulates it, tens of times slower than float32. ``benchmarks/bench_transfer.py`` measures
both on the machine at hand (speed per step and the final loss scored in float32) and
docs/performance.md keeps the table. The losses are always summed in float32.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["PRECISIONS", "bf16_units", "resolve_precision"]

#: the values a ``precision`` option takes
PRECISIONS: tuple[str, ...] = ("auto", "float32", "bfloat16")


@cache
def _cpu_flags() -> frozenset[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@cache
def bf16_units(*, device: str = "cpu") -> str | None:
    """The bf16 hardware of ``device`` (a torch device type: "cpu", "cuda", ...): ``"AMX"``,
    ``"AVX-512 BF16"``, ``"CUDA"`` or None where bf16 would be emulated (or is not known to pay)."""
    import torch

    if device == "cuda":
        return "CUDA" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else None
    if device != "cpu":
        return None  # other accelerators: float32 unless asked for explicitly
    flags = _cpu_flags()
    cpu = getattr(torch, "cpu", None)
    if "amx_bf16" in flags or (cpu is not None and getattr(cpu, "_is_amx_tile_supported", bool)()):
        return "AMX"
    if "avx512_bf16" in flags or (cpu is not None and getattr(cpu, "_is_avx512_bf16_supported", bool)()):
        return "AVX-512 BF16"
    return None


def resolve_precision(precision: str, *, device: str = "cpu") -> str:
    """``"float32"`` or ``"bfloat16"``: ``precision`` itself, or for ``"auto"`` bfloat16 where
    :func:`bf16_units` finds bf16 hardware on ``device`` and float32 elsewhere."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}.")
    if precision != "auto":
        return precision
    return "bfloat16" if bf16_units(device=device) is not None else "float32"
