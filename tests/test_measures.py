"""Measures as data: planted colours and shapes, the digit measures unchanged, user callables."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xstyle.explain.gan._common import measure_digits
from xstyle.explain.gan.measures import (
    COLOUR_MEASURES,
    DIGIT_MEASURES,
    default_measures,
    list_measures,
    measure_images,
    register_measure,
)


def patch(
    colour: tuple[float, float, float], *, size: int = 32, box: tuple[int, int, int, int] = (8, 24, 8, 24)
):
    """A white image (1, 3, size, size) in [-1, 1] with a box of ``colour`` (RGB in [0, 1])."""
    x = torch.ones(1, 3, size, size)
    r0, r1, c0, c1 = box
    x[0, :, r0:r1, c0:c1] = torch.tensor(colour)[:, None, None]
    return x * 2 - 1


def test_hue_saturation_brightness_of_planted_colours():
    images = torch.cat([patch((1, 0, 0)), patch((0, 1, 0)), patch((0, 0, 1)), patch((0.5, 0.5, 0.5))])
    m = measure_images(images, ["hue", "saturation", "brightness", "coverage"])
    assert np.allclose(m["hue"][:3], [0, 120, 240], atol=1e-6)
    assert np.allclose(m["saturation"], [1, 1, 1, 0])
    assert np.allclose(m["brightness"], [0.299, 0.587, 0.114, 0.5])
    assert np.allclose(m["coverage"], 16 * 16 / 32**2)


def test_hue_is_a_circular_mean():
    # half the box at 350 degrees, half at 10 degrees: the circular mean is 0 (the plain mean is 180)
    x = torch.ones(1, 3, 32, 32)
    x[0, :, 8:24, 8:16] = torch.tensor([1.0, 0.0, 1 / 6])[:, None, None]  # hue 350
    x[0, :, 8:24, 16:24] = torch.tensor([1.0, 1 / 6, 0.0])[:, None, None]  # hue 10
    hue = measure_images(x * 2 - 1, ["hue"])["hue"][0]
    assert min(hue, 360 - hue) < 1e-6


def test_symmetry_and_colourfulness():
    sym = patch((1, 0, 0), box=(8, 24, 8, 24))
    lopsided = patch((1, 0, 0), box=(8, 24, 0, 8))
    grey = patch((0.3, 0.3, 0.3))
    m = measure_images(torch.cat([sym, lopsided, grey]), ["symmetry", "colourfulness"])
    assert m["symmetry"][0] == pytest.approx(1.0) and m["symmetry"][1] < 0.9
    assert m["colourfulness"][2] == pytest.approx(0.0, abs=1e-9)
    rgb = (sym[0] + 1) / 2 * 255
    rg, yb = rgb[0] - rgb[1], 0.5 * (rgb[0] + rgb[1]) - rgb[2]
    expected = (rg.var(unbiased=False) + yb.var(unbiased=False)).sqrt() + 0.3 * (
        rg.mean() ** 2 + yb.mean() ** 2
    ).sqrt()
    assert m["colourfulness"][0] == pytest.approx(float(expected))


def test_defaults_per_channels_and_digit_measures_unchanged():
    assert default_measures(1) == DIGIT_MEASURES and default_measures(3) == COLOUR_MEASURES
    assert set(COLOUR_MEASURES) <= set(list_measures(channels=3)) and "ink" not in list_measures(channels=3)
    digits = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    new, old = measure_images(digits), measure_digits(digits)
    assert list(new) == list(DIGIT_MEASURES)
    for name in DIGIT_MEASURES:
        assert np.array_equal(new[name], old[name])


def test_user_callables_by_name_and_registered():
    images = torch.cat([patch((1, 0, 0)), patch((0, 0, 1))])

    def redness(x):
        return ((x[:, 0] + 1) / 2).mean(dim=(1, 2))

    m = measure_images(images, {"red": redness, "cov": "coverage"})
    assert list(m) == ["red", "cov"] and m["red"][0] > m["red"][1]
    register_measure("redness_test", redness)
    assert np.allclose(measure_images(images, ["redness_test"])["redness_test"], m["red"])


@pytest.mark.parametrize(
    "measures, match",
    [
        (
            {"bad": lambda x: torch.zeros(len(x), 3)},
            r"measure 'bad' must return one number per image, shape \(2,\)",
        ),
        ({"nan": lambda x: torch.full((len(x),), float("nan"))}, "returned NaN"),
        (["nope"], "unknown measure 'nope'"),
        (["ink"], "digit measures .* are for grey images"),
    ],
)
def test_bad_measures_are_one_line(measures, match):
    with pytest.raises(ValueError, match=match) as info:
        measure_images(torch.cat([patch((1, 0, 0)), patch((0, 0, 1))]), measures)
    assert "\n" not in str(info.value)


def test_any_classifier_adds_class_and_confidence():
    class Redness(torch.nn.Module):
        def forward(self, x):
            r = (x[:, 0] - x[:, 2]).mean(dim=(1, 2))
            return torch.stack([-10 * r, 10 * r], dim=1)

    m = measure_images(torch.cat([patch((1, 0, 0)), patch((0, 0, 1))]), ["hue"], classifier=Redness())
    assert list(m)[:2] == ["class", "confidence"] and m["class"].tolist() == [1, 0]
