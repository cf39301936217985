"""Safe loading of xstyle's own checkpoint files: ``torch.load(weights_only=True)`` and a format tag.

Nothing in a file is executed: a pickle that would build an object or call a function is refused by
PyTorch's weights-only unpickler, and the refusal becomes one clear ``ValueError`` line.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import torch

__all__ = ["cast_floats", "first_line", "load_tagged_state"]


def cast_floats(state: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """A copy of a state dict with its floating-point tensors cast to ``dtype`` (others as they are).

    Releases store weights in float16 (half the size); loaders cast them back to float32.
    """
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}


def first_line(exc: BaseException, *, limit: int = 160) -> str:
    """The first line of an exception's message (its type name when the message is empty)."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


def load_tagged_state(
    path: str | os.PathLike,
    *,
    formats: Collection[str],
    what: str,
    kind: str,
    made_by: str,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Load ``path`` with ``weights_only=True`` and check its ``"format"`` tag is one of ``formats``.

    Args:
        what: how errors name the file, e.g. ``"checkpoint"`` or ``"model"``.
        kind: what the file should be, e.g. ``"an xstyle DCGAN checkpoint"``.
        made_by: the command that writes such files, for the error messages.
    Raises:
        ValueError: one line: the file is missing, cannot be loaded safely, or is not of the format.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} {str(path)!r} does not exist (give a .pt file written by `{made_by}`).")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise ValueError(
            f"{what} {str(path)!r} could not be loaded safely with weights_only=True ({first_line(exc)})."
        ) from None
    if not isinstance(state, dict) or state.get("format") not in formats:
        raise ValueError(f"{what} {str(path)!r} is not {kind} (written by `{made_by}`).")
    return state
