"""Argument checks shared by several modules (package-internal).

Each raises one ``ValueError`` that names the parameter, says what is allowed and shows what was
received, the message style of every xstyle error.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch


def check_int(value: Any, name: str, low: int) -> int:
    """``value`` as an ``int`` if it is an integer (not a bool) ``>= low``; else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    return int(value)


#: Seeds are whole numbers in [0, SEED_LIMIT): NumPy's legacy range, which scikit-learn's
#: ``random_state`` (probes, PCA, MDS) requires; torch.Generator.manual_seed takes more, but one
#: range for every seed keeps a seed usable everywhere (and ``seed + 3`` far from torch's 2**64).
SEED_LIMIT = 2**32


def check_seed(value: Any, name: str = "seed") -> int:
    """``value`` as an ``int`` if it is an integer (not a bool) in [0, 2**32); else one ValueError line."""
    if not isinstance(value, bool):
        try:
            seed = operator.index(value)
        except TypeError:
            pass
        else:
            if 0 <= seed < SEED_LIMIT:
                return seed
    raise ValueError(f"{name} must be an integer from 0 to {SEED_LIMIT - 1} (2**32 - 1); got {value!r}.")


def check_matrix(x: Any, name: str) -> np.ndarray:
    """A finite float64 array (N, D), N, D >= 1, from a tensor or array-like; else ValueError."""
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} must have shape (N, D) with N, D >= 1; got {a.shape}.")
    a = a.astype(np.float64, copy=False)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values; drop or impute those samples first.")
    return a


def check_finite_epoch(summary: Mapping[str, Any], *, epoch: int, hint: str) -> None:
    """Raise FloatingPointError naming the losses that are NaN or infinite in an epoch's summary.

    Trainers call it before writing the epoch's checkpoint, so a diverged run stops with one clear
    line (and the previous checkpoints stay the last good ones) instead of a JSON error.
    """
    bad = {
        k: v for k, v in summary.items() if isinstance(v, float) and not math.isfinite(v) and k != "seconds"
    }
    if bad:
        shown = ", ".join(f"{k} {v}" for k, v in bad.items())
        raise FloatingPointError(f"training diverged in epoch {epoch} ({shown}); {hint}")
