"""Training data of the stylizer: content photos, seeded random crops, and style-painting patches.

Content photos shipped by the dependencies (:data:`CONTENT_PHOTOS`, 13 photos, all offline):

* scikit-image: ``astronaut``, ``chelsea``, ``coffee``, ``rocket``, ``camera`` (grey),
  ``coins`` (grey), ``moon`` (grey), ``immunohistochemistry``, ``hubble_deep_field``, ``motorcycle``
  (the left view of ``stereo_motorcycle``);
* scikit-learn: ``china``, ``flower`` (CC BY 2.0); matplotlib: ``grace_hopper``.

Grey photos are repeated to three channels. A fixed subset, :data:`HELDOUT_PHOTOS`
(``chelsea``, ``china``, ``grace_hopper``), is never trained on and serves for evaluation; the
other ten are the training set. ``content_dir`` replaces the training set with the images of a
folder (for example COCO's ``train2014``) for better generalisation.

Crops: each sample picks a photo, a scale (the photo's short side resized to between
``crop_size`` and ``crop_size * max_scale`` px), a random square crop and a random horizontal flip,
all from a ``torch.Generator``, so a seed fixes the whole stream.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from xstyle.data import list_samples, load_sample
from xstyle.images import ImageError, load_image

__all__ = [
    "CONTENT_PHOTOS",
    "EAGER_LIMIT",
    "HELDOUT_PHOTOS",
    "IMAGE_EXTENSIONS",
    "ContentSet",
    "PhotoCrops",
    "load_content_photos",
    "load_folder",
    "random_crops",
]

#: (source, licence) of the photos that are not also sample images (those come from xstyle.data)
_OTHER_PHOTOS: dict[str, tuple[str, str]] = {
    "camera": ("scikit-image skimage.data.camera (grey)", "CC0"),
    "coins": ("scikit-image skimage.data.coins (grey)", "public domain (Walters Art Museum)"),
    "moon": ("scikit-image skimage.data.moon (grey)", "public domain"),
    "immunohistochemistry": ("scikit-image skimage.data.immunohistochemistry", "public domain"),
    "hubble_deep_field": ("scikit-image skimage.data.hubble_deep_field", "public domain (NASA)"),
    "motorcycle": ("scikit-image skimage.data.stereo_motorcycle (left view)", "CC0 (Middlebury)"),
}
#: the training order of the content photos (crops draw photos by index: the order is part of a seed)
_PHOTO_ORDER = (
    *("astronaut", "chelsea", "coffee", "rocket"),
    *_OTHER_PHOTOS,
    *("china", "flower", "grace_hopper"),
)
_SOURCES = {**{s.name: (s.source, s.license) for s in list_samples("photo")}, **_OTHER_PHOTOS}
#: name -> (source, licence) of every content photo the dependencies ship, in training order
CONTENT_PHOTOS: dict[str, tuple[str, str]] = {name: _SOURCES[name] for name in _PHOTO_ORDER}
#: photos kept out of training for evaluation (a fixed subset)
HELDOUT_PHOTOS: tuple[str, ...] = ("chelsea", "china", "grace_hopper")
log = logging.getLogger(__name__)

#: file suffixes read as images from a folder (lower case)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: folders with more images than this are read lazily by :func:`load_folder`
EAGER_LIMIT = 500


def _photo_array(name: str) -> np.ndarray | torch.Tensor:
    if name in {s.name for s in list_samples("photo")}:
        return load_sample(name)  # (1, 3, H, W) already
    import skimage.data

    if name == "motorcycle":
        return skimage.data.stereo_motorcycle()[0]
    return getattr(skimage.data, name)()


def load_content_photos(split: str = "train", *, max_side: int | None = 512) -> dict[str, torch.Tensor]:
    """The shipped content photos as name -> (1, 3, H, W) in [0, 1] (long side at most ``max_side``).

    ``split``: ``"train"`` (10 photos), ``"heldout"`` (:data:`HELDOUT_PHOTOS`) or ``"all"`` (13).
    """
    if split not in ("train", "heldout", "all"):
        raise ValueError(f"split must be 'train', 'heldout' or 'all'; got {split!r}.")
    names = [n for n in CONTENT_PHOTOS if split == "all" or (n in HELDOUT_PHOTOS) == (split == "heldout")]
    return {name: _fit(load_image(_photo_array(name), name=f"photo {name!r}"), max_side) for name in names}


def load_folder(
    folder: str | Path, *, max_side: int | None = 512, limit: int | None = None, lazy: bool | None = None
) -> dict[str, torch.Tensor | Path]:
    """The images of ``folder`` (sorted by name; sub-folders ignored) as name -> (1, 3, H, W).

    ``lazy``: return name -> path instead, and let :class:`PhotoCrops` read each photo when a crop
    draws it (for large folders such as COCO, which would not fit in memory). ``None`` (default):
    lazy for more than :data:`EAGER_LIMIT` images; an eager load checks every file before training.

    Raises:
        ValueError: the folder does not exist, holds no image, or (eager) an image cannot be read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(
            f"--content-dir {str(folder)!r} is not a folder; give a folder of photos (PNG, JPEG)."
        )
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(
            f"--content-dir {str(folder)!r} holds no images ({', '.join(IMAGE_EXTENSIONS)}); point it at a "
            "folder of photos such as COCO's train2014."
        )
    files = files[:limit] if limit is not None else files
    if lazy or (lazy is None and len(files) > EAGER_LIMIT):
        load_image(files[0])  # fail early on an unreadable first file
        return {p.name: p for p in files}
    return {p.name: _fit(load_image(p), max_side) for p in files}


def _fit(img: torch.Tensor, max_side: int | None) -> torch.Tensor:
    from xstyle.images import resize_image

    if max_side is not None and max(img.shape[-2:]) > max_side:
        return resize_image(img, max_side)
    return img


def random_crops(
    image: torch.Tensor,
    n: int,
    size: int,
    *,
    generator: torch.Generator,
    scale: tuple[float, float] = (1.0, 1.0),
    flip: bool = True,
) -> torch.Tensor:
    """``n`` random square crops (n, 3, size, size) of ``image`` (1, 3, H, W) in [0, 1].

    Each crop first rescales the image by a factor drawn uniformly from ``scale`` (raised where
    needed so that the short side is at least ``size``), then cuts a random square and flips it
    horizontally with probability 1/2 (``flip``). All draws come from ``generator``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}.")
    lo, hi = float(scale[0]), float(scale[1])
    if not 0 < lo <= hi:
        raise ValueError(f"scale must be two numbers 0 < lo <= hi; got {scale!r}.")
    h, w = image.shape[-2:]
    out = []
    for _ in range(n):
        factor = lo + float(torch.rand((), generator=generator)) * (hi - lo)
        factor = max(factor, size / min(h, w))
        nh, nw = max(size, round(h * factor)), max(size, round(w * factor))
        scaled = image
        if (nh, nw) != (h, w):
            scaled = F.interpolate(
                image, size=(nh, nw), mode="bilinear", align_corners=False, antialias=factor < 1
            )
        top = int(torch.randint(0, nh - size + 1, (), generator=generator))
        left = int(torch.randint(0, nw - size + 1, (), generator=generator))
        crop = scaled[..., top : top + size, left : left + size]
        if flip and bool(torch.rand((), generator=generator) < 0.5):
            crop = crop.flip(-1)
        out.append(crop)
    return torch.cat(out).clamp(0, 1)


@dataclass(frozen=True, eq=False)
class ContentSet:
    """Named photos (1, 3, H, W) in [0, 1] (or paths, read when drawn) and where they came from."""

    photos: dict[str, torch.Tensor | Path]
    source: str

    def __post_init__(self) -> None:
        if not self.photos:
            raise ValueError(f"{self.source}: the content set is empty.")

    def __len__(self) -> int:
        return len(self.photos)

    @property
    def names(self) -> list[str]:
        return list(self.photos)


class PhotoCrops:
    """A seeded stream of content batches: ``next_batch(b)`` -> (b, 3, size, size) in [0, 1].

    Each photo is first resized so that its short side is ``size * max_scale``; a crop then
    rescales it by a factor in ``[1 / max_scale, 1]`` (so the crop shows between the whole short
    side and ``1 / max_scale`` of it), cuts a random square and flips it at random. Photos are
    drawn uniformly. Photos given as paths are read when drawn; an unreadable one is logged and
    skipped (the next draw replaces it, so a run stays deterministic).
    """

    def __init__(
        self, content: ContentSet, size: int, *, generator: torch.Generator, max_scale: float = 1.5
    ) -> None:
        if max_scale < 1:
            raise ValueError(f"max_scale must be >= 1; got {max_scale!r}.")
        self.content = content
        self.size = size
        self.generator = generator
        self.max_scale = float(max_scale)
        self._images: list[torch.Tensor | Path] = [
            img if isinstance(img, Path) else self._prepare(img) for img in content.photos.values()
        ]

    def _prepare(self, img: torch.Tensor) -> torch.Tensor:
        from xstyle.images import resize_image

        short = round(self.size * self.max_scale)
        h, w = img.shape[-2:]
        return resize_image(img, (round(h * short / min(h, w)), round(w * short / min(h, w))))

    def _draw(self) -> torch.Tensor:
        for _ in range(100):
            i = int(torch.randint(0, len(self._images), (), generator=self.generator))
            item = self._images[i]
            if not isinstance(item, Path):
                return item
            try:
                return self._prepare(load_image(item))
            except ImageError as exc:
                log.warning("skipping content photo %s: %s", item, exc)
        raise ValueError("100 content photos in a row could not be read; check --content-dir.")

    def next_batch(self, batch_size: int) -> torch.Tensor:
        scale = (1.0 / self.max_scale, 1.0)
        return torch.cat(
            [
                random_crops(self._draw(), 1, self.size, generator=self.generator, scale=scale)
                for _ in range(batch_size)
            ]
        )
