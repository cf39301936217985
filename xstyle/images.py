"""Image input and output: every image crosses xstyle's API as float RGB in [0, 1], (N, 3, H, W).

:func:`load_image` accepts a path, a PIL image, a numpy array or a tensor; grayscale, RGBA,
palette, 16-bit and EXIF-rotated files are converted; non-images, corrupt, empty, too small or
too large inputs raise :class:`ImageError` with one clear line each.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from xstyle._limits import IMAGE_BYTES_PER_PX, check_memory
from xstyle.atomic import atomic_path

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MIN_SIDE",
    "ImageError",
    "ImageLike",
    "check_rgb",
    "image_write_problem",
    "load_image",
    "resize_image",
    "save_image",
    "to_pil",
]

#: Smallest accepted side, in pixels (VGG19 pools four times before relu5_1).
MIN_SIDE = 16
#: Default limit on width * height of an input (about 50 megapixels).
DEFAULT_MAX_PIXELS = 50_000_000

_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_NP_DTYPES = ("float16", "float32", "float64", "uint8", "uint16", "int16", "int32", "int64")
_TORCH_UINT16 = getattr(torch, "uint16", None)  # torch >= 2.3
_TORCH_INT_DTYPES = tuple(
    d for d in (torch.uint8, _TORCH_UINT16, torch.int16, torch.int32, torch.int64) if d is not None
)

ImageLike = str | os.PathLike | Image.Image | np.ndarray | torch.Tensor

log = logging.getLogger(__name__)


class ImageError(ValueError):
    """An input is not a usable image; the message says what was wrong and what to do."""


def _check_size(h: int, w: int, what: str, max_pixels: int) -> None:
    if h == 0 or w == 0:
        raise ImageError(f"{what} is empty (size {w}x{h}); give a non-empty image.")
    if min(h, w) < MIN_SIDE:
        raise ImageError(f"{what} is too small ({w}x{h}); each side must be at least {MIN_SIDE} px.")
    if h * w > max_pixels:
        raise ImageError(
            f"{what} is too large ({w}x{h} = {h * w:,} px); the limit is {max_pixels:,} px "
            "(raise max_pixels if you mean it, or shrink the file)."
        )


def _bomb_error(exc: Exception, what: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageError:
    """xstyle's one line for PIL's ``DecompressionBombError`` (raised before xstyle sees the size).

    PIL's message has the pixel count: when ``max_pixels`` would refuse the image too, only xstyle's
    limit is named; otherwise the line says it is PIL's limit and how to lift it.
    """
    found = re.search(r"\((\d+) pixels\)", str(exc))
    pixels = int(found.group(1)) if found else None
    if pixels is None or pixels > max_pixels:
        shown = f"{pixels:,} px" if pixels is not None else "over PIL's decompression-bomb limit"
        return ImageError(
            f"{what} is too large ({shown}); the limit is {max_pixels:,} px "
            "(raise max_pixels if you mean it, or shrink the file)."
        )
    return ImageError(
        f"{what} is too large for PIL ({pixels:,} px, over its decompression-bomb limit) though "
        f"within max_pixels ({max_pixels:,}); raise PIL.Image.MAX_IMAGE_PIXELS if you trust it."
    )


def _load_image_bytes(data: bytes, *, what: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> torch.Tensor:
    """:func:`load_image` (no resizing) for the bytes of an image file (e.g. shipped to a batch worker).

    The size is checked against ``max_pixels`` from the header, before any pixel is decoded; PIL's
    decompression-bomb warning and error become xstyle's one line. Raises :class:`ImageError`.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                _check_size(img.height, img.width, what, max_pixels)
                img.load()
                return _from_pil(img, what, max_pixels)
    except UnidentifiedImageError:
        raise ImageError(f"{what} is not a readable image (UnidentifiedImageError).") from None
    except Image.DecompressionBombError as exc:
        raise _bomb_error(exc, what, max_pixels) from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ImageError):
            raise
        raise ImageError(f"{what} is not a readable image ({type(exc).__name__}).") from None


def _from_pil(img: Image.Image, what: str, max_pixels: int) -> torch.Tensor:
    _check_size(img.height, img.width, what, max_pixels)
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max(initial=0) > 255 or img.mode.startswith("I;16") else 255.0
        arr = np.clip(arr / peak, 0, 1)
        return torch.from_numpy(np.repeat(arr[None], 3, 0)).float().unsqueeze(0)
    if img.mode == "F":
        arr = np.clip(np.asarray(img, dtype=np.float32), 0, 1)
        return torch.from_numpy(np.repeat(arr[None], 3, 0)).unsqueeze(0)
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)  # transparent areas become white
    img = img.convert("RGB")
    arr = np.asarray(img, dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)


def _from_array(arr: np.ndarray | torch.Tensor, what: str, max_pixels: int) -> torch.Tensor:
    channels_last = isinstance(arr, np.ndarray)
    if channels_last:
        dtype_ok = arr.dtype.name in _NP_DTYPES
    else:
        dtype_ok = arr.is_floating_point() or arr.dtype in _TORCH_INT_DTYPES
    if not dtype_ok:
        raise ImageError(
            f"{what} has dtype {arr.dtype}; images must be float in [0, 1], uint8 (0..255) or "
            "uint16 (0..65535): convert the array first."
        )
    sixteen_bit = arr.dtype.name == "uint16" if channels_last else arr.dtype == _TORCH_UINT16
    if channels_last:
        # Native byte order, non-negative strides and no uint16 (which torch < 2.3 lacks).
        native = arr.dtype.newbyteorder("=")
        contiguous = np.ascontiguousarray(arr, dtype=np.int32 if sixteen_bit else native)
        t = torch.from_numpy(contiguous if contiguous.flags.writeable else contiguous.copy())
    else:
        t = arr.detach()
        if sixteen_bit:
            t = t.to(torch.int32)
    if t.ndim == 2:
        t = t.unsqueeze(0 if not channels_last else -1)
    if t.ndim == 3 and channels_last:
        t = t.permute(2, 0, 1)
    if t.ndim == 3:
        t = t.unsqueeze(0)
    if t.ndim != 4 or t.shape[1] not in (1, 3, 4):
        layout = "(H, W[, C])" if channels_last else "(N, C, H, W) or (C, H, W)"
        raise ImageError(f"{what} has shape {tuple(arr.shape)}; expected {layout} with 1, 3 or 4 channels.")
    _check_size(t.shape[2], t.shape[3], what, max_pixels)
    if t.dtype == torch.uint8:
        t = t.float() / 255
    elif sixteen_bit or (not t.is_floating_point() and t.max() > 255):
        t = t.float() / 65535
    elif not t.is_floating_point():
        t = t.float() / 255
    t = t.float()
    if not torch.isfinite(t).all():
        raise ImageError(
            f"{what} contains NaN or infinite values; replace them (e.g. numpy.nan_to_num) first."
        )
    if t.min() < -1e-6 or t.max() > 1 + 1e-6:
        raise ImageError(
            f"{what} has values in [{float(t.min()):.3g}, {float(t.max()):.3g}]; "
            "float images must lie in [0, 1] (divide 0..255 data by 255, or pass uint8)."
        )
    if t.shape[1] == 4:
        alpha = t[:, 3:4]
        t = t[:, :3] * alpha + (1 - alpha)  # composite on white
    elif t.shape[1] == 1:
        t = t.expand(-1, 3, -1, -1)
    return t.clamp(0, 1).contiguous()


def load_image(
    source: ImageLike,
    *,
    size: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str | None = None,
) -> torch.Tensor:
    """Load an image as float RGB in [0, 1], shape (1, 3, H, W) (or (N, 3, H, W) for a batch tensor).

    Args:
        source: a file path, a PIL image, a numpy array (H, W[, C]) or a tensor ([N,] C, H, W);
            uint8 (0..255), uint16 (0..65535) or float in [0, 1]. Alpha is composited on white.
        size: if given, resize so that the long side is ``size`` px (aspect ratio kept).
        max_pixels: refuse inputs with more than this many pixels.
        name: how the input is called in error messages (default: the path or the type).

    A file with several frames (an animated GIF, PNG or WebP, a multi-page TIFF) gives its first
    frame, and a warning on the ``xstyle.images`` logger says so ("used frame 1 of N").

    Raises:
        ImageError: missing, empty, corrupt, non-image, too small or too large input (one line;
            PIL's own DecompressionBombWarning is not shown: xstyle's ``max_pixels`` decides).
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        what = name or f"image file {str(path)!r}"
        if not path.exists():
            raise ImageError(f"{what} does not exist.")
        if path.is_dir():
            raise ImageError(f"{what} is a folder; give an image file (PNG, JPEG, ...).")
        if path.stat().st_size == 0:
            raise ImageError(f"{what} is empty (0 bytes).")
        try:
            # PIL warns (two lines on stderr) about images over its MAX_IMAGE_PIXELS; xstyle's own
            # max_pixels check below refuses or accepts them with one line instead
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(path) as img:
                    _check_size(img.height, img.width, what, max_pixels)
                    frames = getattr(img, "n_frames", 1) if getattr(img, "is_animated", False) else 1
                    if frames > 1:
                        log.warning("%s has %d frames; used frame 1 of %d.", what, frames, frames)
                    img.load()
                    tensor = _from_pil(img, what, max_pixels)
        except UnidentifiedImageError:
            raise ImageError(f"{what} is not an image PIL can read (PNG, JPEG, BMP, TIFF, ...).") from None
        except PermissionError:
            raise ImageError(f"{what} cannot be read (permission denied); check its permissions.") from None
        except (OSError, SyntaxError, ValueError) as exc:
            if isinstance(exc, ImageError):
                raise
            raise ImageError(f"{what} is corrupt or truncated ({exc}).") from None
        except Image.DecompressionBombError as exc:
            raise _bomb_error(exc, what, max_pixels) from None
    elif isinstance(source, Image.Image):
        tensor = _from_pil(source, name or "PIL image", max_pixels)
    elif isinstance(source, (np.ndarray, torch.Tensor)):
        tensor = _from_array(source, name or f"{type(source).__name__} image", max_pixels)
    else:
        raise ImageError(
            f"{name or 'image'} must be a path, PIL image, numpy array or tensor; "
            f"got {type(source).__name__}."
        )
    return resize_image(tensor, size) if size is not None else tensor


def check_rgb(image: torch.Tensor, *, name: str, single: bool = False, tolerance: float = 1e-3) -> None:
    """Raise one clear line unless ``image`` is a float RGB batch (N, 3, H, W) with finite values in [0, 1].

    ``single=True`` also requires N == 1. Values up to ``tolerance`` outside [0, 1] (rounding) pass.
    Raises TypeError for a non-tensor or a non-float dtype, ValueError otherwise.
    """
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (N, 3, H, W); got {type(image).__name__}.")
    shape = tuple(image.shape)
    if image.ndim != 4 or image.shape[1] != 3 or (single and image.shape[0] != 1):
        want = "(1, 3, H, W)" if single else "(N, 3, H, W)"
        hint = (
            " Add a batch dimension with .unsqueeze(0)."
            if image.ndim == 3 and image.shape[0] == 3
            else " Load files with xstyle.load_image (it converts grey, RGBA and palette images to RGB)."
        )
        raise ValueError(f"{name} must have shape {want} (RGB in [0, 1]); got {shape}.{hint}")
    if not image.is_floating_point():
        raise TypeError(
            f"{name} must be a float tensor in [0, 1]; got {image.dtype} (divide 0..255 pixels by 255)."
        )
    if image.numel() and not torch.isfinite(image).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    if image.numel():
        low, high = float(image.min()), float(image.max())
        if low < -tolerance or high > 1 + tolerance:
            raise ValueError(
                f"{name} must have values in [0, 1]; got [{low:.3g}, {high:.3g}]"
                + (" (divide 0..255 pixels by 255)." if high > 2 else ".")
            )


def resize_image(image: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Resize (N, 3, H, W) so that the long side is ``size`` px, or to exactly (H, W) for a tuple.

    Uses antialiased bilinear interpolation; the result is clamped to [0, 1].
    """
    if not isinstance(image, torch.Tensor) or image.ndim != 4:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ImageError(f"image must have shape (N, 3, H, W); got {shape}.")
    h, w = image.shape[-2:]
    if not isinstance(size, int) and (
        len(size) != 2 or not all(isinstance(v, int) and v >= MIN_SIDE for v in size)
    ):
        raise ImageError(f"size must be an int or an (H, W) pair of ints >= {MIN_SIDE}; got {size!r}.")
    if isinstance(size, int):
        if size < MIN_SIDE:
            raise ImageError(f"size must be at least {MIN_SIDE} px; got {size}.")
        scale = size / max(h, w)
        new = (max(MIN_SIDE, round(h * scale)), max(MIN_SIDE, round(w * scale)))
    else:
        new = (int(size[0]), int(size[1]))
    if new == (h, w):
        return image
    long_side, n = max(new), image.shape[0]  # the result and interpolate's copy, before allocating them
    check_memory(
        "size",
        long_side,
        lambda s: n * IMAGE_BYTES_PER_PX * new[0] * new[1] * (s / long_side) ** 2,
        what=f"{n} resized image(s)",
    )
    out = F.interpolate(image, size=new, mode="bilinear", align_corners=False, antialias=True)
    return out.clamp(0, 1)


def to_pil(image: torch.Tensor) -> Image.Image:
    """Convert (3, H, W) or (1, 3, H, W) float RGB in [0, 1] to an 8-bit PIL image.

    Values slightly outside [0, 1] are clipped; NaN, or a range beyond [-0.5, 1.5] (such as 0..255),
    raises ValueError.
    """
    if image.ndim == 4:
        if image.shape[0] != 1:
            raise ValueError(f"to_pil takes one image; got a batch of {image.shape[0]}.")
        image = image[0]
    check_rgb(image[None], name="the image", single=True, tolerance=0.5)  # overshoot is clipped
    arr = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr)


def save_image(image: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write an image atomically (temporary file in the same folder, then rename).

    ``image`` is (3, H, W) or (1, 3, H, W) float RGB in [0, 1] (slight overshoot is clipped; see
    :func:`to_pil`). The format follows the suffix (PNG, JPEG, ...). Returns the path.
    """
    path = Path(path)
    problem = image_write_problem(path)
    if problem is not None:
        raise ImageError(f"cannot write {str(path)!r}: {problem}")
    fmt = Image.registered_extensions()[path.suffix.lower()]
    pil = to_pil(image)
    with atomic_path(path) as tmp:
        pil.save(tmp, format=fmt)
    return path


@functools.cache
def _writes_rgb(fmt: str) -> str | None:
    """None if PIL can write an 8-bit RGB image as ``fmt`` (tried once on a 1x1 image, in memory);
    else PIL's reason, e.g. XBM's "cannot write mode RGB as XBM" (it is 1-bit only)."""
    try:
        Image.new("RGB", (1, 1)).save(io.BytesIO(), format=fmt)
    except (OSError, ValueError, KeyError) as exc:  # what PIL's writers raise for a mode they lack
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def image_write_problem(path: str | os.PathLike) -> str | None:
    """Why :func:`save_image` could not write ``path`` (one phrase), or None if it can.

    The suffix must name a format PIL knows (``.png``, ``.jpg``, ...), can write (PSD, for one, is
    read-only), and can write as 8-bit RGB (XBM is 1-bit only). Checked from the name alone, so
    commands call it before any work.
    """
    suffix = Path(path).suffix
    fmt = Image.registered_extensions().get(suffix.lower())
    if fmt is None:
        return f"unknown image suffix {suffix!r}; use .png or .jpg."
    if fmt.upper() not in Image.SAVE:
        return f"{fmt} images can be read but not written; use .png or .jpg."
    reason = _writes_rgb(fmt)
    if reason is not None:
        return f"PIL cannot write 8-bit RGB images as {fmt} ({reason}); use .png or .jpg."
    return None
