"""Run metadata written into model cards, checkpoints and reports: the versions that decide the numbers.

Light on purpose (no torch import at module level): :func:`versions` imports nothing it does not
report on.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CARD_VERSION_KEYS", "VERSION_KEYS", "versions"]

#: Everything :func:`versions` can record, in this order.
VERSION_KEYS: tuple[str, ...] = (
    "python",
    "platform",
    "xstyle",
    "torch",
    "torchvision",
    "captum",
    "numpy",
    "scikit-learn",
    "matplotlib",
)
#: What the training runs write into checkpoints and model cards (kept so the cards stay the same).
CARD_VERSION_KEYS: tuple[str, ...] = ("xstyle", "torch", "python")


def _version(name: str) -> str:
    import platform

    if name == "python":
        return platform.python_version()
    if name == "platform":
        return platform.platform()
    if name == "xstyle":
        from xstyle import __version__

        return __version__
    if name == "torch":  # the build's own string, with its local tag (e.g. +cu130)
        import torch

        return torch.__version__
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "not installed"


def versions(*, keys: Sequence[str] = VERSION_KEYS) -> dict[str, str]:
    """Versions of xstyle, Python and the packages that decide the numbers, as ``{key: version}``.

    ``keys`` picks and orders the entries (default :data:`VERSION_KEYS`; the training runs use
    :data:`CARD_VERSION_KEYS`).
    """
    unknown = [k for k in keys if k not in VERSION_KEYS]
    if unknown:
        raise ValueError(f"unknown version keys {unknown}; choose from {', '.join(VERSION_KEYS)}.")
    return {k: _version(k) for k in keys}
