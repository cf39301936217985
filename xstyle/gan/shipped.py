"""The models the project trained and ships inside the package (see their model cards, ``*.json``).

Thin helpers over the registry in :mod:`xstyle.shipped` (``shipped:dcgan``, ``shipped:digit-classifier``).
"""

from __future__ import annotations

from pathlib import Path

from xstyle.shipped import resolve_shipped

__all__ = ["shipped_classifier_path", "shipped_conditional_gan_path", "shipped_gan_path"]


def shipped_gan_path() -> Path:
    """Path of the shipped DCGAN release (float16 weights, about 5 MB): ``shipped:dcgan``."""
    return resolve_shipped("shipped:dcgan", "dcgan")


def shipped_conditional_gan_path() -> Path:
    """Path of the shipped class-conditional DCGAN release: ``shipped:dcgan-conditional``."""
    return resolve_shipped("shipped:dcgan-conditional", "dcgan")


def shipped_classifier_path() -> Path:
    """Path of the shipped digit classifier: ``shipped:digit-classifier``."""
    return resolve_shipped("shipped:digit-classifier", "digit-classifier")
