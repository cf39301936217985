"""Tests for xstyle.data: the offline sample images and ``sample:NAME`` resolution."""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from xstyle.data import SAMPLE_PREFIX, Sample, list_samples, load_sample, painting_path, resolve_image
from xstyle.images import ImageError

PAINTINGS = [
    "starry_night",
    "great_wave",
    "composition_viii",
    "village_street_auvers",
    "poppies",
    "bal_du_moulin",
    "harvesters",
]
PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "china", "flower", "grace_hopper"]


def _assert_image(t: torch.Tensor, long_side: int) -> None:
    assert t.ndim == 4 and t.shape[:2] == (1, 3)
    assert max(t.shape[-2:]) == long_side
    assert min(t.shape[-2:]) >= 16
    assert t.dtype == torch.float32
    assert 0.0 <= float(t.min()) and float(t.max()) <= 1.0
    assert float(t.std()) > 0.01  # a real picture, not a blank


# --------------------------------------------------------------------------- list_samples


def test_list_samples_counts_and_unique_names() -> None:
    samples = list_samples()
    assert all(isinstance(s, Sample) for s in samples)
    names = [s.name for s in samples]
    assert len(names) == len(set(names)) == 14
    assert sorted(s.name for s in samples if s.kind == "photo") == sorted(PHOTOS)
    assert sorted(s.name for s in samples if s.kind == "painting") == sorted(PAINTINGS)
    assert [s.kind for s in samples] == ["photo"] * 7 + ["painting"] * 7  # photos first
    assert all(s.title and s.source and s.license for s in samples)


def test_list_samples_by_kind() -> None:
    paintings = list_samples("painting")
    assert [s.name for s in paintings] == PAINTINGS
    assert {s.kind for s in paintings} == {"painting"}
    assert all(s.license == "public domain" for s in paintings)
    photos = list_samples("photo")
    assert [s.name for s in photos] == PHOTOS
    assert {s.kind for s in photos} == {"photo"}


@pytest.mark.parametrize("kind", ["paintings", "Photo", "", 3])
def test_list_samples_bad_kind(kind: object) -> None:
    with pytest.raises(ValueError, match=r"kind must be None, 'photo' or 'painting'; got"):
        list_samples(kind)  # type: ignore[arg-type]


def test_sample_is_frozen() -> None:
    s = list_samples()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- load_sample


def test_load_sample_with_prefix() -> None:
    t = load_sample("sample:starry_night", size=64)
    _assert_image(t, 64)
    assert t.shape[-1] > t.shape[-2]  # landscape


def test_load_sample_without_prefix() -> None:
    t = load_sample("chelsea", size=32)
    _assert_image(t, 32)
    torch.testing.assert_close(t, load_sample(SAMPLE_PREFIX + "chelsea", size=32))


def test_load_sample_full_size_painting_is_at_most_512() -> None:
    t = load_sample("great_wave")
    assert max(t.shape[-2:]) <= 512
    assert min(t.shape[-2:]) >= 16


@pytest.mark.parametrize("name", PHOTOS + PAINTINGS)
def test_every_sample_loads(name: str) -> None:
    _assert_image(load_sample(name, size=32), 32)


@pytest.mark.parametrize(
    "name, suggestion",
    [
        ("sample:stary_night", "sample:starry_night"),
        ("chelsae", "sample:chelsea"),
        ("great-wave", "great_wave"),
    ],
)
def test_unknown_sample_suggests_close_match(name: str, suggestion: str) -> None:
    with pytest.raises(ImageError, match=rf"unknown sample '{name}'.*Did you mean .*{suggestion}") as info:
        load_sample(name)
    message = str(info.value)
    assert "\n" not in message
    assert "xstyle samples" in message


def test_unknown_sample_without_close_match_lists_samples() -> None:
    with pytest.raises(ImageError, match=r"unknown sample 'zzzzqqq'; samples are astronaut, chelsea") as info:
        load_sample("zzzzqqq")
    assert "Did you mean" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_painting_path_points_to_shipped_files() -> None:
    for name in PAINTINGS:
        path = painting_path(name)
        assert path.is_file(), path
        assert path.suffix == ".jpg"
        with Image.open(path) as img:
            assert img.format == "JPEG"
            assert max(img.size) <= 512


def test_provenance_ships_beside_paintings() -> None:
    provenance = resources.files("xstyle") / "assets" / "paintings" / "PROVENANCE.md"
    assert provenance.is_file()
    text = provenance.read_text(encoding="utf-8")
    assert "public domain" in text.lower()
    for name in PAINTINGS:
        assert f"{name}.jpg" in text, name


# --------------------------------------------------------------------------- resolve_image


def test_resolve_image_sample_string() -> None:
    t = resolve_image("sample:poppies", size=48)
    _assert_image(t, 48)
    torch.testing.assert_close(t, load_sample("poppies", size=48))


def test_resolve_image_paths(tmp_path: Path) -> None:
    arr = np.zeros((30, 60, 3), dtype=np.uint8)
    arr[:, :30] = 255
    path = tmp_path / "half.png"
    Image.fromarray(arr).save(path)
    for source in (path, str(path)):
        t = resolve_image(source)
        assert t.shape == (1, 3, 30, 60)
        assert float(t[0, :, :, :30].min()) == 1.0 and float(t[0, :, :, 30:].max()) == 0.0
    assert resolve_image(path, size=32).shape == (1, 3, 16, 32)


def test_resolve_image_tensor_and_array() -> None:
    x = torch.rand(1, 3, 20, 24)
    torch.testing.assert_close(resolve_image(x), x)
    assert resolve_image(x, size=48).shape == (1, 3, 40, 48)
    assert resolve_image(np.zeros((20, 20, 3), dtype=np.uint8)).shape == (1, 3, 20, 20)


def test_resolve_image_max_pixels_and_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"too large \(24x20 = 480 px\); the limit is 100 px"):
        resolve_image(torch.rand(1, 3, 20, 24), max_pixels=100)
    with pytest.raises(ImageError, match=r"does not exist"):
        resolve_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match=r"Did you mean sample:starry_night"):
        resolve_image("sample:stary_night")


def test_load_single_image_accepts_one_image_and_names_a_batch():
    from xstyle.data import describe_image, load_single_image

    img = load_sample("chelsea", size=32)
    assert torch.equal(load_single_image(img[0]), img)  # (3, H, W) gets its batch axis
    assert load_single_image("sample:chelsea", size=32).shape == img.shape
    with pytest.raises(ValueError, match="content must be one image \\(1, 3, H, W\\); got a batch of 2"):
        load_single_image(img.repeat(2, 1, 1, 1), param="content")
    assert describe_image("sample:chelsea") == "sample:chelsea"
    assert describe_image(img) == f"tensor {tuple(img.shape)}" and img.shape[:2] == (1, 3)
