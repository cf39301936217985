"""What the GAN analyses measure on generated images, as data: a registry of named measures.

A measure maps an image batch (N, C, H, W) in [-1, 1] to one number per image (N,). The probes,
InterFaceGAN directions, traversals and the label-versus-z analysis read whichever measures they
are given; :func:`default_measures` chooses them per kind of image:

* grey digits (C = 1), the digit measures of :func:`~xstyle.explain.gan.probes.measure_digits`:
  ``ink``, ``thickness``, ``slant``, ``width``, ``height``;
* colour images (C = 3), colour and shape measures on the [0, 1] scale, over the *foreground* (the
  pixels farther than 0.1 in RGB from the background colour, the median of the border pixels;
  all pixels when there are none):

  ============== ==================================================================================
  ``hue``        the circular mean of the foreground's HSV hue weighted by its saturation, in
                 degrees [0, 360) (red 0, green 120, blue 240); 0 for a grey image
  ``saturation`` the mean HSV saturation of the foreground, [0, 1]
  ``brightness`` the mean luma (0.299 R + 0.587 G + 0.114 B) of the foreground, [0, 1]
  ``colourfulness`` Hasler & Süsstrunk (2003): sigma_rgyb + 0.3 mu_rgyb of rg = R - G and
                 yb = (R + G) / 2 - B over the whole image, on their 0..255 scale (>= 0)
  ``coverage``   the foreground's share of the pixels, [0, 1]
  ``symmetry``   left-right symmetry, 1 - mean |x - mirror(x)| over all pixels and channels, [0, 1]
  ============== ==================================================================================

One more RGB measure reads a known style factor of the emoji data, skin tone (registered, not a
default): ``skin_tone``, the mean CIELAB lightness L* (0 black .. 100 white) of the *skin-coloured*
pixels (:func:`skin_mask`: hue 5..50 degrees, saturation 0.12..0.85, value >= 0.2 and red at least
0.06 above blue, which holds for Noto's yellow default and its five Fitzpatrick tones, from
(241, 208, 175) to (116, 94, 86), and rejects white, grey, black, red, green and blue). It falls as
the Fitzpatrick tone rises (1 lightest .. 5 darkest). With fewer skin pixels than
:data:`SKIN_MIN_PIXELS` (a share of the image) the missing weight is the foreground's mean L*, so an
image without skin gets its foreground's lightness: finite, never NaN.

The user's own measures are callables ``f(images) -> (N,)`` (a tensor or an array), passed by name
in a mapping or registered with :func:`register_measure`; a classifier (any module returning
logits) adds ``class`` and ``confidence``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "COLOUR_MEASURES",
    "DATASET_MEASURES",
    "DIGIT_MEASURES",
    "Measure",
    "classify",
    "colour_measures",
    "dataset_measures",
    "default_measures",
    "digit_measures",
    "get_measure",
    "lightness",
    "list_measures",
    "measure_images",
    "register_measure",
    "skin_mask",
    "skin_tone",
]

#: the digit measures (grey images), in the order they are reported
DIGIT_MEASURES = ("ink", "thickness", "slant", "width", "height")
#: the colour and shape measures (RGB images)
COLOUR_MEASURES = ("hue", "saturation", "brightness", "colourfulness", "coverage", "symmetry")
#: the skin-colour box of :func:`skin_mask` (hue in degrees, saturation and value in [0, 1], and
#: the least red-minus-blue on [0, 1])
SKIN_HUE, SKIN_SATURATION, SKIN_MIN_VALUE, SKIN_RED_OVER_BLUE = (5.0, 50.0), (0.12, 0.85), 0.2, 0.06
#: the share of an image's pixels below which :func:`skin_tone` fills in the foreground's lightness
SKIN_MIN_PIXELS = 0.005
#: the measures of each training data set's images (``xstyle gan train --dataset``): the digits'
#: shape, the emoji's colour, shape and skin tone (their known style factor)
DATASET_MEASURES: dict[str, tuple[str, ...]] = {
    "mnist": DIGIT_MEASURES,
    "emoji": (*COLOUR_MEASURES, "skin_tone"),
}
_FOREGROUND = 0.1  # RGB distance (on [0, 1]) from the background colour that counts as foreground


@dataclass(frozen=True, eq=False)  # compared by identity: it holds a callable
class Measure:
    """A named measure: ``fn(images (N, C, H, W) in [-1, 1]) -> (N,)``; ``channels`` it accepts
    (None: any)."""

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor | np.ndarray]
    description: str = ""
    channels: tuple[int, ...] | None = None


_REGISTRY: dict[str, Measure] = {}


def register_measure(
    name: str,
    fn: Callable[[torch.Tensor], torch.Tensor | np.ndarray],
    *,
    description: str = "",
    channels: tuple[int, ...] | None = None,
) -> Measure:
    """Add a measure to the registry (replacing one of the same name); returns it."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a measure's name must be a word such as 'redness'; got {name!r}.")
    if not callable(fn):
        raise ValueError(f"measure {name!r} must be a callable images -> (N,); got {type(fn).__name__}.")
    measure = Measure(name, fn, description, channels)
    _REGISTRY[name] = measure
    return measure


def list_measures(*, channels: int | None = None) -> list[str]:
    """The registered measures' names (those that accept ``channels``, or all)."""
    return [
        n for n, m in _REGISTRY.items() if channels is None or m.channels is None or channels in m.channels
    ]


def get_measure(name: str) -> Measure:
    """The registered measure ``name``; one line naming the choices otherwise."""
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown measure {name!r}; the measures are {', '.join(_REGISTRY)} (or pass a callable)."
        )
    return _REGISTRY[name]


def default_measures(channels: int) -> tuple[str, ...]:
    """The measures the analyses use by default for images of ``channels`` channels."""
    return DIGIT_MEASURES if channels == 1 else COLOUR_MEASURES


def dataset_measures(dataset: str | None, *, channels: int) -> tuple[str, ...]:
    """The measures of a data set's images (:data:`DATASET_MEASURES`), or for an unknown data set
    (None, a user's generator) :func:`default_measures` of ``channels``."""
    return DATASET_MEASURES.get(dataset or "", default_measures(channels))


# ------------------------------------------------------------------------------- colour measures


def _rgb01(images: torch.Tensor) -> torch.Tensor:
    x = ((images.detach().to("cpu", torch.float64) + 1) / 2).clamp(0, 1)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x[:, :3]


def _foreground(x: torch.Tensor) -> torch.Tensor:
    """(N, H, W) bool: pixels farther than 0.1 from the border's median colour (all if none)."""
    border = torch.cat([x[:, :, 0], x[:, :, -1], x[:, :, :, 0], x[:, :, :, -1]], dim=2)  # (N, 3, 4S)
    background = border.median(dim=2).values[:, :, None, None]
    fg = (x - background).norm(dim=1) > _FOREGROUND
    empty = ~fg.flatten(1).any(dim=1)
    fg[empty] = True
    return fg


def _hsv(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hue in radians [0, 2 pi), saturation and value, each (N, H, W), of RGB (N, 3, H, W) in [0, 1]."""
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    value, argmax = x.max(dim=1)
    delta = value - x.min(dim=1).values
    safe = delta.clamp_min(1e-12)
    hue = torch.where(
        argmax == 0, ((g - b) / safe) % 6, torch.where(argmax == 1, (b - r) / safe + 2, (r - g) / safe + 4)
    )
    hue = torch.where(delta > 1e-12, hue * (math.pi / 3), torch.zeros_like(hue))
    saturation = torch.where(value > 1e-12, delta / value.clamp_min(1e-12), torch.zeros_like(value))
    return hue % (2 * math.pi), saturation, value


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.to(values.dtype)
    return (values * m).flatten(1).sum(1) / m.flatten(1).sum(1).clamp_min(1)


def colour_measures(images: torch.Tensor, names: Sequence[str] = COLOUR_MEASURES) -> dict[str, np.ndarray]:
    """The colour and shape measures ``names`` of images (N, C, H, W) in [-1, 1] (C = 1 is grey)."""
    x = _rgb01(images)
    fg = _foreground(x)
    hue, sat, _ = _hsv(x)
    out: dict[str, torch.Tensor] = {}
    for name in names:
        if name == "hue":
            w = (sat * fg).flatten(1)
            s = (w * hue.flatten(1).sin()).sum(1)
            c = (w * hue.flatten(1).cos()).sum(1)
            out[name] = torch.rad2deg(torch.atan2(s, c)) % 360
        elif name == "saturation":
            out[name] = _masked_mean(sat, fg)
        elif name == "brightness":
            luma = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
            out[name] = _masked_mean(luma, fg)
        elif name == "colourfulness":
            rgb = x * 255
            rg = (rgb[:, 0] - rgb[:, 1]).flatten(1)
            yb = (0.5 * (rgb[:, 0] + rgb[:, 1]) - rgb[:, 2]).flatten(1)
            sigma = (rg.var(1, unbiased=False) + yb.var(1, unbiased=False)).sqrt()
            mu = (rg.mean(1) ** 2 + yb.mean(1) ** 2).sqrt()
            out[name] = sigma + 0.3 * mu
        elif name == "coverage":
            out[name] = fg.flatten(1).double().mean(1)
        elif name == "symmetry":
            out[name] = 1 - (x - x.flip(-1)).abs().flatten(1).mean(1)
        else:
            raise ValueError(
                f"unknown colour measure {name!r}; the colour measures are {', '.join(COLOUR_MEASURES)}."
            )
    return {k: v.numpy() for k, v in out.items()}


# ------------------------------------------------------------------------------------ skin tone


def lightness(x: torch.Tensor) -> torch.Tensor:
    """CIELAB L* (N, H, W) in [0, 100] of sRGB images x (N, 3, H, W) in [0, 1] (D65 white)."""
    lin = torch.where(x <= 0.04045, x / 12.92, ((x.clamp_min(0) + 0.055) / 1.055) ** 2.4)
    y = 0.2126 * lin[:, 0] + 0.7152 * lin[:, 1] + 0.0722 * lin[:, 2]
    delta = 6.0 / 29.0
    f = torch.where(y > delta**3, y.clamp_min(delta**3) ** (1.0 / 3.0), y / (3 * delta**2) + 4.0 / 29.0)
    return 116.0 * f - 16.0


def skin_mask(images: torch.Tensor) -> torch.Tensor:
    """(N, H, W) bool: the skin-coloured pixels of images (N, 3, H, W) in [-1, 1].

    A pixel is skin-coloured when its HSV hue lies in :data:`SKIN_HUE` degrees (orange: between red
    and yellow), its saturation in :data:`SKIN_SATURATION`, its value is at least
    :data:`SKIN_MIN_VALUE` and its red exceeds its blue by :data:`SKIN_RED_OVER_BLUE` (on [0, 1]).
    """
    x = _rgb01(images)
    hue, sat, value = _hsv(x)
    hue = torch.rad2deg(hue)
    return (
        (hue >= SKIN_HUE[0])
        & (hue <= SKIN_HUE[1])
        & (sat >= SKIN_SATURATION[0])
        & (sat <= SKIN_SATURATION[1])
        & (value >= SKIN_MIN_VALUE)
        & (x[:, 0] - x[:, 2] >= SKIN_RED_OVER_BLUE)
    )


def skin_tone(images: torch.Tensor) -> np.ndarray:
    """Skin lightness (N,) in [0, 100] of images (N, 3, H, W) in [-1, 1]: the mean L* of the
    skin-coloured pixels (:func:`skin_mask`); lower is darker skin.

    Fallback, so the value is never NaN: with k skin pixels and fewer than m = max(1,
    :data:`SKIN_MIN_PIXELS` x H x W), the m - k missing pixels count with the foreground's mean L*
    (an image without skin gets its foreground's lightness).
    """
    x = _rgb01(images)
    light = lightness(x)
    mask = skin_mask(images).to(light.dtype)
    count = mask.flatten(1).sum(1)
    need = max(1.0, SKIN_MIN_PIXELS * x.shape[2] * x.shape[3])
    missing = (need - count).clamp_min(0)
    fill = _masked_mean(light, _foreground(x))
    total = (light * mask).flatten(1).sum(1) + missing * fill
    return (total / (count + missing)).numpy()


# -------------------------------------------------------------------------------- digit measures


def _stroke_thickness(ink: np.ndarray) -> np.ndarray:
    """Thickness in pixels of binary strokes (N, H, W) -> (N,); 0 for an empty image.

    The images are upsampled 2x (nearest) so that every stroke is an even number of fine pixels wide;
    then the ridge of the Euclidean distance transform (pixels no smaller than their 3x3 neighbours)
    of a w-pixel-wide stroke lies at distance exactly w fine pixels, i.e. 2w/2 = w coarse pixels.
    One batched distance transform: the batch axis gets a sampling step far larger than any image,
    and each image a background border, so every distance stays within its own image.
    """
    from scipy import ndimage

    fine = ink.repeat(2, axis=1).repeat(2, axis=2)
    fine = np.pad(fine, ((0, 0), (1, 1), (1, 1)), constant_values=False)
    big = 10.0 * (fine.shape[1] + fine.shape[2])
    dist = ndimage.distance_transform_edt(fine, sampling=(big, 1.0, 1.0))
    ridge = fine & (dist >= ndimage.maximum_filter(dist, size=(1, 3, 3), mode="constant", cval=0.0))
    count = ridge.sum(axis=(1, 2))
    total = (dist * ridge).sum(axis=(1, 2))
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def _moments(p: torch.Tensor) -> dict[str, torch.Tensor]:
    """Slant, width and height of intensity images p (N, H, W) in [0, 1], float64, from moments."""
    n, h, w = p.shape
    rows = torch.arange(h, dtype=p.dtype).view(1, h, 1)
    cols = torch.arange(w, dtype=p.dtype).view(1, 1, w)
    mass = p.sum(dim=(1, 2))
    safe = mass.clamp_min(1e-12)
    cr = (p * rows).sum(dim=(1, 2)) / safe
    cc = (p * cols).sum(dim=(1, 2)) / safe
    dr = rows - cr.view(n, 1, 1)
    dc = cols - cc.view(n, 1, 1)
    mu_rr = (p * dr * dr).sum(dim=(1, 2)) / safe
    mu_cc = (p * dc * dc).sum(dim=(1, 2)) / safe
    mu_rc = (p * dr * dc).sum(dim=(1, 2)) / safe
    ok = mu_rr > 1e-12
    # rows grow downwards: a digit leaning right has its ink further right where rows are small
    slant = torch.where(ok, -mu_rc / mu_rr.clamp_min(1e-12), torch.zeros_like(mu_rr))
    resid = torch.where(ok, mu_cc - mu_rc**2 / mu_rr.clamp_min(1e-12), mu_cc).clamp_min(0)
    empty = mass <= 1e-12
    zero = torch.zeros_like(mass)
    return {
        "slant": torch.where(empty, zero, slant),
        # pixels are unit squares: each adds 1/12 to a variance of pixel centres
        "width": torch.where(empty, zero, (12 * resid + 1).sqrt()),
        "height": torch.where(empty, zero, (12 * mu_rr + 1).sqrt()),
    }


def digit_measures(
    images: torch.Tensor, names: Sequence[str] = DIGIT_MEASURES, *, batch_size: int = 500
) -> dict[str, np.ndarray]:
    """The digit measures ``names`` of grey digits (N, 1, H, W) in [-1, 1] (-1 is background):
    ``ink`` in [0, H*W]; ``thickness``, ``width``, ``height`` in pixels; ``slant`` (tan of the lean)."""
    p = ((images.detach().to("cpu", torch.float64) + 1) / 2).clamp(0, 1)[:, 0]
    out: dict[str, np.ndarray] = {}
    if "ink" in names:
        out["ink"] = p.sum(dim=(1, 2)).numpy()
    if "thickness" in names:
        thick = [
            _stroke_thickness((p[i : i + batch_size] > 0.5).numpy()) for i in range(0, len(p), batch_size)
        ]
        out["thickness"] = np.concatenate(thick)
    if {"slant", "width", "height"} & set(names):
        moments = _moments(p)
        out.update({k: moments[k].numpy() for k in ("slant", "width", "height") if k in names})
    unknown = [n for n in names if n not in DIGIT_MEASURES]
    if unknown:
        raise ValueError(
            f"unknown digit measures {unknown}; the digit measures are {', '.join(DIGIT_MEASURES)}."
        )
    return out


def _digit_measure(name: str) -> Callable[[torch.Tensor], np.ndarray]:
    return lambda images: digit_measures(images, (name,))[name]


def _colour_measure(name: str) -> Callable[[torch.Tensor], np.ndarray]:
    return lambda images: colour_measures(images, (name,))[name]


_DESCRIPTIONS = {
    "ink": "summed ink of the digit",
    "thickness": "stroke thickness in pixels",
    "slant": "lean of the digit (tan of the angle)",
    "width": "width of the digit in pixels (from its second moments)",
    "height": "height of the digit in pixels (from its second moments)",
    "hue": "circular mean hue of the foreground, degrees",
    "saturation": "mean saturation of the foreground",
    "brightness": "mean luma of the foreground",
    "colourfulness": "Hasler-Süsstrunk colourfulness (0..255 scale)",
    "coverage": "share of pixels in the foreground",
    "symmetry": "left-right symmetry (1 = mirror-symmetric)",
}
for _name in DIGIT_MEASURES:
    register_measure(_name, _digit_measure(_name), description=_DESCRIPTIONS[_name], channels=(1,))
for _name in COLOUR_MEASURES:
    register_measure(_name, _colour_measure(_name), description=_DESCRIPTIONS[_name])
register_measure(
    "skin_tone",
    skin_tone,
    description="mean CIELAB lightness L* of the skin-coloured pixels (lower: darker skin)",
    channels=(3,),
)


# ------------------------------------------------------------------------------------ measuring

MeasureSpec = str | Callable[[torch.Tensor], torch.Tensor | np.ndarray]


def _named(measures: Sequence[MeasureSpec] | Mapping[str, MeasureSpec]) -> dict[str, MeasureSpec]:
    if isinstance(measures, Mapping):
        return dict(measures)
    if isinstance(measures, str):
        measures = [measures]
    out: dict[str, MeasureSpec] = {}
    for m in measures:
        name = m if isinstance(m, str) else getattr(m, "__name__", type(m).__name__)
        out[name] = m
    return out


def _as_values(name: str, value: object, n: int) -> np.ndarray:
    v = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    if v.shape != (n,) or v.dtype.kind not in "biuf":
        shape = getattr(v, "shape", None)
        raise ValueError(
            f"measure {name!r} must return one number per image, shape ({n},); got {shape} of {v.dtype}."
        )
    if v.dtype.kind == "f" and not np.isfinite(v).all():
        raise ValueError(
            f"measure {name!r} returned NaN or infinite values; it must give a finite number per image."
        )
    return v.astype(np.float64)


def measure_images(
    images: torch.Tensor,
    measures: Sequence[MeasureSpec] | Mapping[str, MeasureSpec] | None = None,
    *,
    classifier: torch.nn.Module | None = None,
    batch_size: int = 500,
) -> dict[str, np.ndarray]:
    """Measure images (N, C, H, W) in [-1, 1]: name -> (N,) float64 (``class`` int64).

    ``measures``: names from the registry and/or callables (a mapping gives them names; a callable's
    name is its ``__name__``); None: :func:`default_measures` for the images' channels. With a
    ``classifier`` (any module returning logits (N, K) of these images) ``class`` and ``confidence``
    come first. Raises one line for an unknown name or a measure that returns the wrong shape.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[0] == 0:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a batch (N, C, H, W) in [-1, 1] with N >= 1; got {shape}.")
    if not torch.isfinite(images).all():
        raise ValueError("images contain NaN or infinite values; pass finite images in [-1, 1].")
    named = _named(default_measures(images.shape[1]) if measures is None else measures)
    n = images.shape[0]
    out: dict[str, np.ndarray] = {}
    if classifier is not None:
        out.update(classify(classifier, images, batch_size=batch_size))
    digits = [k for k, m in named.items() if isinstance(m, str) and m in DIGIT_MEASURES]
    colours = [k for k, m in named.items() if isinstance(m, str) and m in COLOUR_MEASURES]
    batch: dict[str, np.ndarray] = {}
    if digits:
        if images.shape[1] != 1:
            raise ValueError(
                f"the digit measures {digits} are for grey images (N, 1, H, W); these have {images.shape[1]} "
                f"channels: use {', '.join(COLOUR_MEASURES)}."
            )
        batch.update(digit_measures(images, [named[k] for k in digits], batch_size=batch_size))
    if colours:
        batch.update(colour_measures(images, [named[k] for k in colours]))
    for name, m in named.items():
        if isinstance(m, str) and m in batch:
            out[name] = batch[m]
        elif isinstance(m, str):
            registered = get_measure(m)
            if registered.channels is not None and images.shape[1] not in registered.channels:
                fits = ", ".join(list_measures(channels=images.shape[1]))
                raise ValueError(
                    f"measure {m!r} is for images with {' or '.join(map(str, registered.channels))} "
                    f"channels; these have {images.shape[1]}: use {fits} (or pass a callable)."
                )
            out[name] = _as_values(name, registered.fn(images), n)
        elif callable(m):
            out[name] = _as_values(name, m(images), n)
        else:
            raise ValueError(
                f"measure {name!r} must be a name or a callable images -> (N,); got {type(m).__name__}."
            )
    return out


def classify(
    classifier: torch.nn.Module, images: torch.Tensor, *, batch_size: int = 500
) -> dict[str, np.ndarray]:
    """``class`` (N,) int64 and ``confidence`` (N,) (the largest softmax probability) of any module
    returning logits (N, K) of ``images``; its ``training`` flag is restored."""
    from xstyle.hooks import device_of, frozen

    device = device_of(classifier)
    probs = []
    with frozen(classifier), torch.no_grad():
        for first in range(0, images.shape[0], batch_size):
            x = images[first : first + batch_size].to(device=device, dtype=torch.float32)
            logits = classifier(x)
            if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != x.shape[0]:
                got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
                raise ValueError(f"the classifier must return logits (N, K) of the images; got {got}.")
            probs.append(torch.softmax(logits.float(), dim=1).cpu())
    conf, cls = torch.cat(probs).max(dim=1)
    return {"class": cls.numpy().astype(np.int64), "confidence": conf.double().numpy()}
