"""Sample images that work offline, addressable as ``sample:NAME``.

* Photos (content): scikit-image's ``astronaut``, ``chelsea``, ``coffee``, ``rocket``;
  scikit-learn's ``china`` and ``flower`` (CC BY 2.0); matplotlib's ``grace_hopper``.
* Paintings (style): seven public-domain paintings shipped in ``xstyle/assets/paintings/``
  (see ``PROVENANCE.md`` there): ``starry_night``, ``great_wave``, ``composition_viii``,
  ``village_street_auvers``, ``poppies``, ``bal_du_moulin``, ``harvesters``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from xstyle.images import ImageError, ImageLike, load_image

__all__ = ["SAMPLE_PREFIX", "Sample", "list_samples", "load_sample", "painting_path", "resolve_image"]

SAMPLE_PREFIX = "sample:"


@dataclass(frozen=True)
class Sample:
    """A named sample image: ``kind`` is ``"photo"`` or ``"painting"``."""

    name: str
    kind: str
    title: str
    source: str
    license: str


_PHOTOS = {
    "astronaut": (
        "Eileen Collins, NASA astronaut",
        "scikit-image skimage.data.astronaut",
        "public domain (NASA)",
    ),
    "chelsea": ("Chelsea the cat", "scikit-image skimage.data.chelsea", "CC0 (Stefan van der Walt)"),
    "coffee": ("A cup of coffee", "scikit-image skimage.data.coffee", "CC0 (Rachel Michetti)"),
    "rocket": ("Falcon 9 launch", "scikit-image skimage.data.rocket", "public domain (SpaceX)"),
    "china": ("Temple in China", "scikit-learn load_sample_image('china.jpg')", "CC BY 2.0"),
    "flower": ("Flower", "scikit-learn load_sample_image('flower.jpg')", "CC BY 2.0"),
    "grace_hopper": ("Grace Hopper", "matplotlib sample data grace_hopper.jpg", "public domain"),
}

_PAINTINGS = {
    "starry_night": "The Starry Night, Vincent van Gogh, 1889",
    "great_wave": "The Great Wave off Kanagawa, Katsushika Hokusai, 1823-1829",
    "composition_viii": "Composition VIII, Wassily Kandinsky, 1923",
    "village_street_auvers": "Village Street in Auvers, Vincent van Gogh, 1890",
    "poppies": "Poppies, Katsushika Hokusai, 1833-1834",
    "bal_du_moulin": "Bal du moulin de la Galette, Pierre-Auguste Renoir, 1876",
    "harvesters": "The Harvesters, Pieter Bruegel the Elder, 1565",
}


def list_samples(kind: str | None = None) -> list[Sample]:
    """All sample images (optionally only ``"photo"`` or ``"painting"``), photos first."""
    if kind not in (None, "photo", "painting"):
        raise ValueError(f"kind must be None, 'photo' or 'painting'; got {kind!r}.")
    out = [Sample(n, "photo", t, s, lic) for n, (t, s, lic) in _PHOTOS.items()]
    out += [
        Sample(n, "painting", t, f"xstyle/assets/paintings/{n}.jpg (see PROVENANCE.md)", "public domain")
        for n, t in _PAINTINGS.items()
    ]
    return [s for s in out if kind is None or s.kind == kind]


def _photo_array(name: str) -> np.ndarray:
    if name in ("astronaut", "chelsea", "coffee", "rocket"):
        import skimage.data

        return getattr(skimage.data, name)()
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        return np.asarray(Image.open(fh).convert("RGB"))


def painting_path(name: str) -> Path:
    """Path of a shipped painting file."""
    return Path(str(resources.files("xstyle") / "assets" / "paintings" / f"{name}.jpg"))


def load_sample(name: str, *, size: int | None = None) -> torch.Tensor:
    """Load sample ``name`` (with or without the ``sample:`` prefix) as (1, 3, H, W) in [0, 1].

    Raises:
        ImageError: (a ValueError) unknown name; the message lists close matches and ``xstyle samples``.
    """
    key = name.removeprefix(SAMPLE_PREFIX)
    if key in _PAINTINGS:
        return load_image(painting_path(key), size=size, name=f"sample:{key}")
    if key in _PHOTOS:
        return load_image(_photo_array(key), size=size, name=f"sample:{key}")
    names = [*_PHOTOS, *_PAINTINGS]
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join('sample:' + c for c in close)}?" if close else ""
    raise ImageError(f"unknown sample {name!r}; samples are {', '.join(names)} (see `xstyle samples`).{hint}")


def resolve_image(
    source: ImageLike, *, size: int | None = None, max_pixels: int | None = None
) -> torch.Tensor:
    """Load ``sample:NAME`` strings with :func:`load_sample` and anything else with :func:`load_image`."""
    if isinstance(source, str) and source.startswith(SAMPLE_PREFIX):
        return load_sample(source, size=size)
    kwargs = {} if max_pixels is None else {"max_pixels": max_pixels}
    return load_image(source, size=size, **kwargs)
