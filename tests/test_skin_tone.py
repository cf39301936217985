"""The skin-tone measure (xstyle.explain.gan.measures.skin_tone): planted patches of known colour,
and the real emoji data, where the five Fitzpatrick variants of one base emoji must come out in
order (tone 1 lightest .. tone 5 darkest)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from xstyle.data import _emoji_path, load_emoji
from xstyle.explain.gan.measures import (
    get_measure,
    lightness,
    list_measures,
    measure_images,
    skin_mask,
    skin_tone,
)

#: Noto's skin colours: the yellow default and the five Fitzpatrick tones (the mean colour of the
#: pixels that change across the tones of the waving hand), RGB 0..255
NOTO_SKIN = [(246, 193, 62), (241, 208, 175), (217, 180, 145), (182, 142, 114), (162, 115, 84), (116, 94, 86)]
#: colours that are not skin: white, grey, black, red, green, blue, purple
NOT_SKIN = [
    (255, 255, 255),
    (128, 128, 128),
    (0, 0, 0),
    (230, 30, 30),
    (40, 180, 60),
    (40, 80, 220),
    (150, 60, 200),
]


def _painted(colours: list[tuple[int, int, int]], *, size: int = 16, patch: int = 8) -> torch.Tensor:
    """White images (N, 3, size, size) in [-1, 1], each with a centred patch of one colour."""
    x = torch.ones(len(colours), 3, size, size)
    lo = (size - patch) // 2
    for i, rgb in enumerate(colours):
        x[i, :, lo : lo + patch, lo : lo + patch] = (
            torch.tensor(rgb, dtype=torch.float32)[:, None, None] / 255
        )
    return x * 2 - 1


def _lstar(rgb: tuple[int, int, int]) -> float:
    return float(lightness(torch.tensor(rgb, dtype=torch.float64).view(1, 3, 1, 1) / 255)[0, 0, 0])


def test_lightness_is_cielab_l_star():
    assert _lstar((255, 255, 255)) == pytest.approx(100.0, abs=1e-4)
    assert _lstar((0, 0, 0)) == pytest.approx(0.0, abs=1e-4)
    assert _lstar((119, 119, 119)) == pytest.approx(50.0, abs=0.1)  # sRGB 119 is L* 50


def test_a_painted_skin_patch_is_read_exactly_and_the_tones_come_in_order():
    values = skin_tone(_painted(NOTO_SKIN))
    assert values == pytest.approx([_lstar(c) for c in NOTO_SKIN], abs=1e-4)
    fitzpatrick = values[1:]
    assert np.all(np.diff(fitzpatrick) < 0)  # tone 1 lightest .. tone 5 darkest
    assert skin_mask(_painted(NOTO_SKIN)).flatten(1).sum(1).tolist() == [64] * len(NOTO_SKIN)


def test_other_colours_are_not_skin_and_fall_back_to_the_foreground_lightness():
    images = _painted(NOT_SKIN)
    assert int(skin_mask(images).sum()) == 0
    values = skin_tone(images)
    assert np.isfinite(values).all()
    # the white patch is the background, so the whole image is the foreground (lightness 100)
    assert values[1:] == pytest.approx([_lstar(c) for c in NOT_SKIN[1:]], abs=1e-4)
    assert values[0] == pytest.approx(100.0, abs=1e-4)


def test_skin_next_to_another_colour_reads_only_the_skin():
    x = _painted([NOTO_SKIN[4]])
    x[0, :, 4:12, 2:4] = torch.tensor([40, 80, 220], dtype=torch.float32)[:, None, None] / 255 * 2 - 1
    assert skin_tone(x)[0] == pytest.approx(_lstar(NOTO_SKIN[4]), abs=1e-4)


def test_a_few_skin_pixels_are_blended_with_the_foreground_and_never_nan():
    x = _painted([(40, 80, 220)], size=32, patch=16)  # blue foreground, no skin; 0.5 % of 1024 is 5.12
    x[0, :, 0, 0] = torch.tensor(NOTO_SKIN[1], dtype=torch.float32) / 255 * 2 - 1  # one skin pixel
    one = skin_tone(x)[0]
    blue, skin = _lstar((40, 80, 220)), _lstar(NOTO_SKIN[1])
    assert blue < one < skin
    noise = torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert np.isfinite(skin_tone(torch.cat([noise, -torch.ones(1, 3, 16, 16)]))).all()


def test_skin_tone_is_a_registered_rgb_measure():
    assert "skin_tone" in list_measures(channels=3)
    assert "skin_tone" not in list_measures(channels=1)
    assert get_measure("skin_tone").fn is skin_tone
    out = measure_images(_painted(NOTO_SKIN[1:3]), ["skin_tone", "hue"])
    assert out["skin_tone"] == pytest.approx([_lstar(c) for c in NOTO_SKIN[1:3]], abs=1e-4)
    grey = _painted(NOTO_SKIN[1:3])[:, :1]  # a grey image has no skin colour: one line, not a number
    with pytest.raises(
        ValueError, match=r"measure 'skin_tone' is for images with 3 channels; these have 1"
    ) as err:
        measure_images(grey, ["skin_tone"])
    assert "\n" not in str(err.value) and "ink" in str(err.value)


def _tone_sets(split: str) -> tuple[np.ndarray, list[list[int]]]:
    """skin_tone of the split's images, and per People & Body base emoji with all five Fitzpatrick
    variants the indices of tones 1..5 (the base emoji of an image is found by its pixels)."""
    data = load_emoji(split)
    with np.load(_emoji_path()) as f:
        group_of = {img.tobytes(): int(g) for img, g in zip(f["images"], f["group"], strict=True)}
    pixels = ((data.images + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    group = np.array([group_of[p.tobytes()] for p in pixels])
    tone, label = data.factors["skin_tone"].numpy(), data.labels.numpy()
    people = data.class_names.index("People & Body")
    sets = []
    for g in np.unique(group[label == people]):
        idx = [np.flatnonzero((group == g) & (tone == t)) for t in range(1, 6)]
        if all(len(i) for i in idx):
            sets.append([int(i[0]) for i in idx])
    return skin_tone(data.images), sets


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")
@pytest.mark.parametrize("split", ["heldout", "train"])
def test_skin_tone_orders_the_fitzpatrick_variants_of_real_emoji(split):
    values, sets = _tone_sets(split)
    assert len(sets) >= 40
    with np.errstate(invalid="ignore"):
        rhos = [spearmanr(np.arange(1, 6), -values[idx]).statistic for idx in sets]
    rhos = np.nan_to_num(rhos, nan=0.0)  # five equal values (no skin read) order nothing: 0
    assert float(np.mean(rhos)) >= 0.9
    assert np.isfinite(values).all()


@pytest.mark.slow
def test_gan_style_splits_skin_tone_on_the_shipped_emoji_dcgan():
    from xstyle.explain.gan.gan_style import gan_style
    from xstyle.models.generators import get_generator

    spec = get_generator("shipped:emoji-dcgan")
    res = gan_style(
        spec,
        spec.classifier,
        measures=["skin_tone", "brightness"],
        n_z=6,
        n_reverse=1,
        n_attribution=2,
        n_steps=4,
        n_direction=10,
        n_walk=1,
        n_boot=10,
        sefa_components=1,
        ganspace_components=0,
        seed=0,
    )
    shares = res.variance["skin_tone"]
    assert shares["z"] + shares["label"] + shares["interaction"] == pytest.approx(1.0)
    for key in ("z", "label"):
        lo, hi = shares[f"{key}_ci"]
        assert 0 <= lo <= hi <= 1
    assert res.config["measures"] == ["skin_tone", "brightness"]
    assert res.analogies.shape == (6, 9, 3, 32, 32)
