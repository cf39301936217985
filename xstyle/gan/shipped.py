"""The models the project trained and ships inside the package (see their model cards, ``*.json``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shipped_classifier_path", "shipped_gan_path"]


def _asset(name: str, what: str, command: str) -> Path:
    path = Path(str(resources.files("xstyle") / "assets" / "gan" / name))
    if not path.is_file():
        raise ValueError(
            f"the shipped {what} {path} is missing from this install; create one with `{command}`."
        )
    return path


def shipped_gan_path() -> Path:
    """Path of the shipped DCGAN release (float16 weights, about 5 MB)."""
    return _asset("dcgan_mnist.pt", "DCGAN checkpoint", "xstyle gan train --out runs/gan")


def shipped_classifier_path() -> Path:
    """Path of the shipped digit classifier."""
    return _asset("digit_classifier.pt", "digit classifier", "xstyle gan train-classifier -o clf.pt")
