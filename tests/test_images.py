"""Tests for xstyle.images: loading every supported input, the output contract, errors, resize and save."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch
from PIL import Image

from xstyle.images import (
    DEFAULT_MAX_PIXELS,
    MIN_SIDE,
    ImageError,
    load_image,
    resize_image,
    save_image,
    to_pil,
)

H, W = 24, 40  # a small landscape image used throughout


def _rgb_array(h: int = H, w: int = W) -> np.ndarray:
    """A deterministic RGB uint8 gradient, distinct in every channel."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) % 256], axis=-1).astype(np.uint8)


def _assert_contract(t: torch.Tensor, h: int, w: int, n: int = 1) -> None:
    assert isinstance(t, torch.Tensor)
    assert t.shape == (n, 3, h, w)
    assert t.dtype == torch.float32
    assert float(t.min()) >= 0.0
    assert float(t.max()) <= 1.0


# --------------------------------------------------------------------------- files of every kind


def test_load_rgb_png_exact_values(tmp_path: Path) -> None:
    arr = _rgb_array()
    path = tmp_path / "rgb.png"
    Image.fromarray(arr).save(path)
    t = load_image(path)
    _assert_contract(t, H, W)
    expected = torch.from_numpy(arr).permute(2, 0, 1).float() / 255
    torch.testing.assert_close(t[0], expected)


def test_load_accepts_str_path(tmp_path: Path) -> None:
    path = tmp_path / "rgb.png"
    Image.fromarray(_rgb_array()).save(path)
    torch.testing.assert_close(load_image(str(path)), load_image(path))


def test_load_grayscale_png_repeats_channel(tmp_path: Path) -> None:
    gray = np.tile(np.arange(W, dtype=np.uint8) * 6, (H, 1))
    path = tmp_path / "gray.png"
    Image.fromarray(gray, mode="L").save(path)
    t = load_image(path)
    _assert_contract(t, H, W)
    torch.testing.assert_close(t[0, 0], torch.from_numpy(gray).float() / 255)
    assert torch.equal(t[0, 0], t[0, 1])
    assert torch.equal(t[0, 0], t[0, 2])


def test_load_rgba_png_composites_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((H, W, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # red everywhere ...
    rgba[:, : W // 2, 3] = 255  # ... opaque on the left half
    rgba[:, W // 2 :, 3] = 0  # ... fully transparent on the right half
    rgba[0, 0] = (0, 0, 255, 128)  # half-transparent blue
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba, mode="RGBA").save(path)
    t = load_image(path)
    _assert_contract(t, H, W)
    torch.testing.assert_close(t[0, :, 5, 5], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(t[0, :, 5, W - 1], torch.ones(3))  # transparent -> white
    # 50 % blue over white: R = G = 1 - 128/255, B = 1
    half = 1 - 128 / 255
    torch.testing.assert_close(t[0, :, 0, 0], torch.tensor([half, half, 1.0]), atol=2 / 255, rtol=0)


def test_load_palette_png(tmp_path: Path) -> None:
    img = Image.new("P", (W, H), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0, 0, 0] * 254)
    img.paste(1, (0, 0, W // 2, H))  # left half uses palette entry 1 (blue)
    path = tmp_path / "palette.png"
    img.save(path)
    assert Image.open(path).mode == "P"
    t = load_image(path)
    _assert_contract(t, H, W)
    torch.testing.assert_close(t[0, :, 0, 0], torch.tensor([0.0, 0.0, 1.0]))
    torch.testing.assert_close(t[0, :, 0, W - 1], torch.tensor([1.0, 0.0, 0.0]))


def test_load_palette_png_with_transparency_becomes_white(tmp_path: Path) -> None:
    img = Image.new("P", (W, H), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0, 0, 0] * 254)
    img.paste(1, (0, 0, W // 2, H))
    path = tmp_path / "palette_t.png"
    img.save(path, transparency=0)  # palette entry 0 (red, right half) is transparent
    t = load_image(path)
    torch.testing.assert_close(t[0, :, 0, W - 1], torch.ones(3))
    torch.testing.assert_close(t[0, :, 0, 0], torch.tensor([0.0, 0.0, 1.0]))


def test_load_16bit_grayscale_png(tmp_path: Path) -> None:
    arr = np.zeros((H, W), dtype=np.uint16)
    arr[:, :10] = 65535
    arr[:, 10:20] = 32768
    arr[:, 20:30] = 200  # a dark 16-bit value must not be read as 8-bit
    path = tmp_path / "gray16.png"
    Image.fromarray(arr).save(path)
    assert Image.open(path).mode.startswith("I")
    t = load_image(path)
    _assert_contract(t, H, W)
    assert float(t[0, 0, 0, 0]) == pytest.approx(1.0)
    assert float(t[0, 0, 0, 15]) == pytest.approx(0.5, abs=1e-4)
    assert float(t[0, 0, 0, 25]) == pytest.approx(200 / 65535, abs=1e-6)
    assert float(t[0, 0, 0, 35]) == 0.0
    assert torch.equal(t[0, 0], t[0, 2])


@pytest.mark.parametrize("orientation, corner", [(6, (0, -1)), (8, (-1, 0))])
def test_load_jpeg_applies_exif_orientation(
    tmp_path: Path, orientation: int, corner: tuple[int, int]
) -> None:
    arr = np.zeros((H, W, 3), dtype=np.uint8)
    arr[:8, :8] = (255, 0, 0)  # mark the stored top-left corner red
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"rot{orientation}.jpg"
    Image.fromarray(arr).save(path, exif=exif, quality=95)
    t = load_image(path)
    _assert_contract(t, W, H)  # height and width swapped
    # 6: rotate 90 deg clockwise -> stored top-left lands top-right; 8: counter-clockwise -> bottom-left
    r, c = corner
    red = t[0, :, r, c]
    assert red[0] > 0.8 and red[1] < 0.2 and red[2] < 0.2, red
    assert float(t[0, :, 0, 0].max()) < 0.2  # the displayed top-left corner is black in both cases
    # the result matches what PIL's exif_transpose produces
    from PIL import ImageOps

    ref = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    torch.testing.assert_close(t[0], torch.from_numpy(ref.copy()).permute(2, 0, 1).float() / 255)


def test_load_pil_image_directly() -> None:
    img = Image.fromarray(_rgb_array())
    t = load_image(img)
    _assert_contract(t, H, W)
    torch.testing.assert_close(t, load_image(_rgb_array()))


def test_load_pil_la_and_pa_alpha_is_composited() -> None:
    la = Image.new("LA", (W, H), (0, 0))  # black, fully transparent
    torch.testing.assert_close(load_image(la)[0, :, 0, 0], torch.ones(3))
    pa = Image.new("PA", (W, H), (0, 0))
    pa.putpalette([255, 0, 0] * 256)
    torch.testing.assert_close(load_image(pa)[0, :, 0, 0], torch.ones(3))


def test_load_gray_with_transparency_key_is_composited() -> None:
    img = Image.new("L", (W, H), 0)
    img.info["transparency"] = 0
    torch.testing.assert_close(load_image(img)[0, :, 0, 0], torch.ones(3))


def test_load_with_size_resizes_long_side(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.fromarray(_rgb_array(60, 120)).save(path)
    t = load_image(path, size=32)
    _assert_contract(t, 16, 32)


# --------------------------------------------------------------------------- file errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"nope\.png.*does not exist"):
        load_image(tmp_path / "nope.png")


def test_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="is a folder; give an image file"):
        load_image(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match=r"is empty \(0 bytes\)"):
        load_image(path)


def test_text_file_renamed_png(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("this is not an image\n" * 20)
    with pytest.raises(ImageError, match="is not an image PIL can read"):
        load_image(path)


def test_truncated_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "cut.png"
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="corrupt or truncated") as info:
        load_image(path)
    assert "\n" not in str(info.value)


def test_custom_name_in_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"^content image does not exist"):
        load_image(tmp_path / "x.png", name="content image")


def test_file_too_small(tmp_path: Path) -> None:
    path = tmp_path / "tiny.png"
    Image.fromarray(_rgb_array(10, 40)).save(path)
    with pytest.raises(ImageError, match=rf"too small \(40x10\); each side must be at least {MIN_SIDE} px"):
        load_image(path)


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "large.png"
    Image.fromarray(_rgb_array()).save(path)
    with pytest.raises(ImageError, match=r"too large \(40x24 = 960 px\); the limit is 500 px.*max_pixels"):
        load_image(path, max_pixels=500)
    assert load_image(path, max_pixels=960).shape == (1, 3, H, W)  # the limit is inclusive


def test_default_max_pixels_is_generous() -> None:
    assert DEFAULT_MAX_PIXELS >= 4096 * 4096


# --------------------------------------------------------------------------- arrays and tensors


def test_numpy_uint8_hw3() -> None:
    arr = _rgb_array()
    t = load_image(arr)
    _assert_contract(t, H, W)
    torch.testing.assert_close(t[0], torch.from_numpy(arr).permute(2, 0, 1).float() / 255)


def test_numpy_uint8_hw_gray() -> None:
    arr = np.full((H, W), 51, dtype=np.uint8)
    t = load_image(arr)
    _assert_contract(t, H, W)
    torch.testing.assert_close(t, torch.full((1, 3, H, W), 0.2))


def test_numpy_uint8_hw4_alpha() -> None:
    arr = np.zeros((H, W, 4), dtype=np.uint8)
    arr[..., 3] = 255
    arr[:, W // 2 :, 3] = 0
    t = load_image(arr)
    _assert_contract(t, H, W)
    assert float(t[0, :, :, : W // 2].max()) == 0.0  # opaque black
    assert float(t[0, :, :, W // 2 :].min()) == 1.0  # transparent -> white


def test_numpy_float_inputs() -> None:
    arr = np.linspace(0, 1, H * W * 3, dtype=np.float64).reshape(H, W, 3)
    t = load_image(arr)
    _assert_contract(t, H, W)
    torch.testing.assert_close(t[0], torch.from_numpy(arr).permute(2, 0, 1).float())
    gray = np.full((H, W), 0.25, dtype=np.float32)
    torch.testing.assert_close(load_image(gray), torch.full((1, 3, H, W), 0.25))
    rgba = np.concatenate([np.zeros((H, W, 3)), np.full((H, W, 1), 0.5)], axis=-1).astype(np.float32)
    torch.testing.assert_close(load_image(rgba), torch.full((1, 3, H, W), 0.5))


def test_numpy_uint16() -> None:
    arr = np.zeros((H, W), dtype=np.uint16)
    arr[:, :10] = 65535
    arr[:, 10:20] = 32768
    t = load_image(arr)
    _assert_contract(t, H, W)
    assert float(t[0, 0, 0, 0]) == 1.0
    assert float(t[0, 1, 0, 15]) == pytest.approx(0.5, abs=1e-4)
    dark = np.full((H, W, 3), 255, dtype=np.uint16)  # 16-bit data stays 16-bit even when dark
    assert float(load_image(dark).max()) == pytest.approx(255 / 65535)


def test_numpy_flipped_and_big_endian_arrays() -> None:
    arr = _rgb_array()
    flipped = np.fliplr(arr)  # negative strides
    torch.testing.assert_close(load_image(flipped), load_image(arr).flip(-1))
    big = (arr.astype(np.float32) / 255).astype(">f4")
    torch.testing.assert_close(load_image(big), load_image(arr))
    big16 = np.full((H, W), 65535, dtype=">u2")
    assert float(load_image(big16).min()) == 1.0


def test_numpy_read_only_array_loads_without_warning(recwarn: pytest.WarningsRecorder) -> None:
    arr = _rgb_array()
    arr.flags.writeable = False
    _assert_contract(load_image(arr), H, W)
    assert not [w for w in recwarn if "writable" in str(w.message)]


def test_torch_chw_and_batch() -> None:
    x = torch.rand(3, H, W)
    t = load_image(x)
    _assert_contract(t, H, W)
    torch.testing.assert_close(t[0], x)
    batch = torch.rand(2, 3, H, W)
    out = load_image(batch)
    _assert_contract(out, H, W, n=2)
    torch.testing.assert_close(out, batch)


def test_torch_uint8_gray_and_grad() -> None:
    x = torch.full((1, H, W), 255, dtype=torch.uint8)
    torch.testing.assert_close(load_image(x), torch.ones(1, 3, H, W))
    g = torch.rand(1, 3, H, W, requires_grad=True)
    out = load_image(g)
    assert not out.requires_grad
    torch.testing.assert_close(out, g.detach())


def test_input_array_is_not_modified_or_aliased() -> None:
    x = torch.rand(1, 3, H, W)
    before = x.clone()
    out = load_image(x)
    out.zero_()
    assert torch.equal(x, before)


@pytest.mark.parametrize(
    "arr, pattern",
    [
        (np.zeros((H, W, 3), dtype=bool), r"dtype bool; images must be float in \[0, 1\], uint8"),
        (np.zeros((H, W, 3), dtype=np.int8), r"dtype int8; images must be float"),
        (np.zeros((H, W, 3), dtype=np.complex64), r"dtype complex64"),
        (np.full((H, W, 3), "a"), r"dtype <U1"),
        (torch.zeros(3, H, W, dtype=torch.bool), r"dtype torch\.bool"),
    ],
)
def test_wrong_dtype(arr: object, pattern: str) -> None:
    with pytest.raises(ImageError, match=pattern):
        load_image(arr)


@pytest.mark.parametrize("bad", [1.5, -0.25])
def test_float_out_of_range(bad: float) -> None:
    arr = np.full((H, W, 3), 0.5, dtype=np.float32)
    arr[0, 0, 0] = bad
    with pytest.raises(ImageError, match=r"has values in \[.*\]; float images must lie in \[0, 1\]"):
        load_image(arr)


def test_float_0_255_data_is_refused_with_hint() -> None:
    with pytest.raises(ImageError, match=r"divide 0\.\.255 data by 255"):
        load_image(_rgb_array().astype(np.float32))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf(bad: float) -> None:
    arr = np.full((H, W, 3), 0.5, dtype=np.float32)
    arr[3, 3, 1] = bad
    with pytest.raises(ImageError, match="contains NaN or infinite values; replace them"):
        load_image(arr)


@pytest.mark.parametrize(
    "arr, pattern",
    [
        (
            np.zeros((20, 20, 5), dtype=np.uint8),
            r"shape \(20, 20, 5\); expected \(H, W\[, C\]\) with 1, 3 or 4 channels",
        ),
        (np.zeros((20, 20, 2), dtype=np.uint8), r"shape \(20, 20, 2\)"),
        (np.zeros((2, 20, 20, 3), dtype=np.uint8), r"shape \(2, 20, 20, 3\)"),
        (np.zeros(20, dtype=np.uint8), r"shape \(20,\)"),
        (torch.zeros(5, 20, 20), r"shape \(5, 20, 20\); expected \(N, C, H, W\) or \(C, H, W\)"),
        (torch.zeros(1, 1, 3, 20, 20), r"shape \(1, 1, 3, 20, 20\)"),
    ],
)
def test_wrong_shape(arr: object, pattern: str) -> None:
    with pytest.raises(ImageError, match=pattern):
        load_image(arr)


@pytest.mark.parametrize("source", [42, 3.5, None, [[0.1, 0.2]], b"bytes"])
def test_wrong_type(source: object) -> None:
    pattern = rf"must be a path, PIL image, numpy array or tensor; got {type(source).__name__}"
    with pytest.raises(ImageError, match=pattern):
        load_image(source)


def test_array_too_small_too_large_and_empty() -> None:
    with pytest.raises(ImageError, match=r"ndarray image is too small \(40x15\)"):
        load_image(np.zeros((15, 40, 3), dtype=np.uint8))
    with pytest.raises(ImageError, match=r"Tensor image is too large \(40x24 = 960 px\)"):
        load_image(torch.zeros(3, H, W), max_pixels=100)
    with pytest.raises(ImageError, match=r"is empty \(size 0x0\)"):
        load_image(np.zeros((0, 0, 3), dtype=np.uint8))
    with pytest.raises(ImageError, match="PIL image is too small"):
        load_image(Image.new("RGB", (8, 40)))


def test_error_messages_are_one_line(tmp_path: Path) -> None:
    cases = [tmp_path / "missing.png", tmp_path, np.zeros((H, W, 3), dtype=bool), 7, np.zeros((4, 4, 3))]
    for source in cases:
        with pytest.raises(ImageError) as info:
            load_image(source)
        assert "\n" not in str(info.value)


def test_image_error_is_a_value_error() -> None:
    assert issubclass(ImageError, ValueError)


# --------------------------------------------------------------------------- resize


@pytest.mark.parametrize(
    "shape, size, expected",
    [
        ((60, 120), 32, (16, 32)),
        ((100, 50), 64, (64, 32)),
        ((48, 48), 20, (20, 20)),
        ((30, 90), 300, (100, 300)),
    ],
)
def test_resize_keeps_aspect_ratio(shape: tuple[int, int], size: int, expected: tuple[int, int]) -> None:
    x = torch.rand(1, 3, *shape)
    out = resize_image(x, size)
    assert out.shape == (1, 3, *expected)
    assert max(out.shape[-2:]) == size
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_resize_never_goes_below_min_side() -> None:
    out = resize_image(torch.rand(1, 3, 20, 200), 32)
    assert out.shape == (1, 3, MIN_SIDE, 32)


def test_resize_constant_image_stays_constant() -> None:
    out = resize_image(torch.full((1, 3, 40, 80), 0.3), 16)
    torch.testing.assert_close(out, torch.full((1, 3, 16, 16), 0.3))  # 8 px high is raised to MIN_SIDE


def test_resize_same_size_returns_input_and_tuple_is_exact() -> None:
    x = torch.rand(1, 3, 32, 48)
    assert resize_image(x, 48) is x
    assert resize_image(x, (20, 30)).shape == (1, 3, 20, 30)


@pytest.mark.parametrize("size", [15, 8, 0, -1])
def test_resize_refuses_small_size(size: int) -> None:
    with pytest.raises(ImageError, match=rf"size must be at least {MIN_SIDE} px; got {size}"):
        resize_image(torch.rand(1, 3, 32, 32), size)


def test_load_image_refuses_small_size() -> None:
    with pytest.raises(ImageError, match="size must be at least 16 px; got 4"):
        load_image(_rgb_array(), size=4)


# --------------------------------------------------------------------------- to_pil and save


def test_to_pil() -> None:
    x = load_image(_rgb_array())
    pil = to_pil(x)
    assert pil.mode == "RGB" and pil.size == (W, H)
    np.testing.assert_array_equal(np.asarray(pil), _rgb_array())
    assert to_pil(x[0]).size == (W, H)
    with pytest.raises(ValueError, match="to_pil takes one image; got a batch of 2"):
        to_pil(torch.rand(2, 3, H, W))


def test_save_png_round_trip(tmp_path: Path) -> None:
    x = torch.rand(1, 3, H, W)
    path = tmp_path / "out.png"
    assert save_image(x, path) == path
    back = load_image(path)
    _assert_contract(back, H, W)
    assert float((back - x).abs().max()) <= 0.5 / 255 + 1e-6  # 8-bit quantisation only
    torch.testing.assert_close(back, (x * 255).round() / 255)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no leftover temp file


def test_save_jpeg_and_nested_folder(tmp_path: Path) -> None:
    x = torch.full((1, 3, H, W), 0.5)
    path = tmp_path / "a" / "b" / "out.JPG"
    save_image(x, str(path))
    with Image.open(path) as img:
        assert img.format == "JPEG"
    assert float((load_image(path) - x).abs().max()) < 0.02
    assert list(path.parent.glob("*.tmp")) == []


def test_save_overwrites_atomically(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    save_image(torch.zeros(1, 3, H, W), path)
    save_image(torch.ones(1, 3, H, W), path)
    assert float(load_image(path).min()) == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_save_failure_keeps_previous_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.png"
    save_image(torch.zeros(1, 3, H, W), path)
    before = path.read_bytes()

    def broken_save(self: PIL.Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        Path(fp).write_bytes(b"partial")  # write something first, like a crash mid-write
        raise OSError("disk full")

    monkeypatch.setattr(PIL.Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_image(torch.ones(1, 3, H, W), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_save_failure_with_no_previous_file_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_save(self: PIL.Image.Image, *args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(PIL.Image.Image, "save", broken_save)
    with pytest.raises(RuntimeError, match="boom"):
        save_image(torch.rand(1, 3, H, W), tmp_path / "new.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["out.xyz", "out"])  # read-only .psd: tests/test_early_checks.py
def test_save_unknown_suffix(tmp_path: Path, name: str) -> None:
    suffix = Path(name).suffix
    with pytest.raises(ImageError, match=rf"unknown image suffix '{suffix}'; use \.png or \.jpg"):
        save_image(torch.rand(1, 3, H, W), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_saved_files_get_normal_permissions(tmp_path):
    import os

    from xstyle.atomic import write_json

    umask = os.umask(0o022)
    try:
        write_json({"a": 1}, tmp_path / "x.json")
        save_image(torch.rand(1, 3, 16, 16), tmp_path / "x.png")
    finally:
        os.umask(umask)
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "x.png").stat().st_mode & 0o777 == 0o644
