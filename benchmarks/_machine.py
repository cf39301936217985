"""What a benchmark ran on: one line every benchmark prints first (figures differ by CPU)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def _field(lines: list[str], name: str) -> str:
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(name)), "")


def cpu_flags() -> str:
    """The CPU's feature flags as /proc/cpuinfo lists them ("" where it cannot be read)."""
    return _field(_cpuinfo(), "flags")


def has_bf16_units(flags: str) -> bool:
    """Whether ``flags`` include bfloat16 instructions (AMX or AVX-512 BF16)."""
    return "amx_bf16" in flags or "avx512_bf16" in flags


def machine() -> str:
    """CPU model, cores, bf16 units, torch threads and versions."""
    import torch

    lines = _cpuinfo()
    model = _field(lines, "model name") or platform.processor() or "unknown CPU"
    flags = _field(lines, "flags")
    bf16 = "AMX" if "amx_bf16" in flags else "AVX-512 BF16" if "avx512_bf16" in flags else "no bf16 units"
    versions = (
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), Python {platform.python_version()}"
    )
    return f"machine: {model}, {os.cpu_count()} cores ({bf16}), {versions}"
