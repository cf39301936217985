"""What a benchmark ran on: one line every benchmark prints first (figures differ by CPU)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_flags() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    return next((line for line in info.splitlines() if line.startswith("flags")), "")


def machine() -> str:
    """CPU model, cores, bf16 units, torch threads and versions."""
    import torch

    model = platform.processor() or "unknown CPU"
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        model = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    flags = cpu_flags()
    bf16 = "AMX" if "amx_bf16" in flags else "AVX-512 BF16" if "avx512_bf16" in flags else "no bf16 units"
    versions = (
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), Python {platform.python_version()}"
    )
    return f"machine: {model}, {os.cpu_count()} cores ({bf16}), {versions}"
