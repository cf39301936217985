"""Safe loading of xstyle's own checkpoint files: ``torch.load(weights_only=True)`` and a format tag.

Nothing in a file is executed: a pickle that would build an object or call a function is refused by
PyTorch's weights-only unpickler, and the refusal becomes one clear ``ValueError`` line.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import torch

__all__ = ["cast_floats", "first_line", "load_tagged_state", "load_weights_only"]


def cast_floats(state: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """A copy of a state dict with its floating-point tensors cast to ``dtype`` (others as they are).

    Releases store weights in float16 (half the size); loaders cast them back to float32.
    """
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}


def first_line(exc: BaseException, *, limit: int = 160) -> str:
    """The first line of an exception's message (its type name when the message is empty).

    A line longer than ``limit`` characters is cut after its last whole sentence that fits, else
    after its last whole word, and ends in "..." then — never in the middle of a word.
    """
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0]
    if len(line) <= limit:
        return line
    head = line[: limit + 1]
    cut = head.rfind(". ")
    if cut > limit // 3:
        return head[: cut + 1]
    cut = head.rfind(" ")
    return (head[:cut] if cut > 0 else line[:limit]).rstrip(" ,;:") + "..."


_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since PyTorch 1.6
_PICKLE_PROTO = b"\x80"  # the legacy format starts with a pickle protocol opcode
# Every wording torch's weights-only unpickler (torch/_weights_only_unpickler.py) uses for a global
# it refuses to import, call or build; group 1 names it. Blocked modules (os, posix, nt, sys) have
# their own wording, without "WeightsUnpickler error:", e.g. the classic os.system pickle's
# "Trying to load unsupported GLOBAL posix.system whose module posix is blocked."
_REFUSED_GLOBAL = (
    re.compile(r"unsupported GLOBAL ([\w.]+) whose module [\w.]+ is blocked", re.IGNORECASE),
    re.compile(r"Unsupported global: GLOBAL ([\w.]+)"),
    re.compile(r"Unsupported class ([\w.]+)"),  # torch < 2.4
    re.compile(r"call reduce for unrecognized function <?(?:built-in )?(?:function |method )?([\w.]+)"),
    re.compile(r"Can only (?:create new object|build) .*? but got <class '([\w.]+)'>"),
)


def load_weights_only(
    path: str | os.PathLike, *, what: str, made_by: str, map_location: str | torch.device = "cpu"
) -> Any:
    """``torch.load(path, weights_only=True)`` whose failures are one ``ValueError`` line each.

    The line says which of three things went wrong and what to pass instead (a .pt file written by
    ``made_by``): the file is not a PyTorch file at all (a model card, an image, text), its pickle
    would call or build something a weights-only load never runs (named; nothing was run), or it is
    a damaged PyTorch file. ``path`` must exist (callers check and word that themselves).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(4)
    if not (head.startswith(_ZIP_MAGIC) or head.startswith(_PICKLE_PROTO)):
        raise ValueError(
            f"{what} {str(path)!r} is not a PyTorch file (torch.save writes a zip archive); "
            f"give a .pt file written by `{made_by}`."
        )
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = next((m for m in (r.search(str(exc)) for r in _REFUSED_GLOBAL) if m), None)
        if found:
            raise ValueError(
                f"{what} {str(path)!r} could not be loaded safely with weights_only=True: its pickle "
                f"calls or builds {found.group(1)}, which was not run; give a .pt file written by "
                f"`{made_by}`."
            ) from None
        detail = re.search(r"WeightsUnpickler error:\s*(.+)", str(exc))
        reason = detail.group(1).strip()[:120] if detail else type(exc).__name__
        raise ValueError(
            f"{what} {str(path)!r} could not be loaded safely with weights_only=True ({reason}); "
            f"the file may be damaged; give a .pt file written by `{made_by}`."
        ) from None
    except Exception as exc:  # a truncated archive, a foreign pickle: many ways, one line
        raise ValueError(
            f"{what} {str(path)!r} could not be loaded safely with weights_only=True "
            f"({type(exc).__name__}: {first_line(exc, limit=100)}); the file may be damaged; give a "
            f".pt file written by `{made_by}`."
        ) from None


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
    state = load_weights_only(path, what=what, made_by=made_by, map_location=map_location)
    if not isinstance(state, dict) or state.get("format") not in formats:
        raise ValueError(f"{what} {str(path)!r} is not {kind} (written by `{made_by}`).")
    return state
