"""Planted composites: the style and content maps must put their evidence where the answer is.

A composite is a content photo with part of it replaced by the painting: its right half
(``halves``) or a square of a quarter of its area holding the whole painting, at a seeded random
position (``patch``). Content = the photo, style = the painting, so the style evidence belongs on the
painted part and the content evidence on the photo part. We measure the share of each map's
*positive* evidence (:data:`~xstyle.explain.style.maps.SIGN_CONVENTION`: pixels that bring the image
closer to the target than the baseline) on its part. docs/scripts/planted_composites.py measures
the same for every baseline; docs/measurements.md has the numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xstyle.data import load_sample
from xstyle.explain.style.maps import style_content_maps
from xstyle.images import resize_image

PAIRS = [("chelsea", "starry_night"), ("astronaut", "great_wave"), ("rocket", "composition_viii")]
KINDS = ("halves", "patch")
#: the share of the positive evidence a map must put on its part
ENOUGH = 0.6


def planted(photo: torch.Tensor, painting: torch.Tensor, kind: str, *, seed: int = 0):
    """(composite (1, 3, H, W), painted-part mask (H, W) bool)."""
    h, w = photo.shape[-2:]
    image, mask = photo.clone(), torch.zeros(h, w, dtype=torch.bool)
    if kind == "halves":
        image[..., w // 2 :] = resize_image(painting, (h, w))[..., w // 2 :]
        mask[:, w // 2 :] = True
        return image, mask
    side = min(h, w, round((h * w) ** 0.5 / 2))
    rng = np.random.default_rng(seed)
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    image[..., top : top + side, left : left + side] = resize_image(painting, (side, side))
    mask[top : top + side, left : left + side] = True
    return image, mask


def positive_share(evidence: torch.Tensor, part: torch.Tensor) -> float:
    positive = evidence.double().clamp_min(0)
    return float(positive[part].sum() / positive.sum())


def _maps(model, photo_name, painting_name, kind, size, *, n_steps=8, **options):
    photo, painting = load_sample(photo_name, size=size), load_sample(painting_name, size=size)
    image, painted = planted(photo, painting, kind)
    maps = style_content_maps(
        image, content=photo, style=painting, model=model, n_steps=n_steps, sanity=False, **options
    )
    return maps, painted


def _check_default(maps, painted):
    style_share = positive_share(maps.style_evidence["total"], painted)
    content_share = positive_share(maps.content_evidence, ~painted)
    assert style_share >= ENOUGH and content_share >= ENOUGH, (style_share, content_share)
    # the signs keep their meaning in both cases: each total is +1 or -1 as the case says
    for name, evidence in (("style:total", maps.style_evidence["total"]), ("content", maps.content_evidence)):
        expected = 1.0 if maps.cases[name] == "image closer" else -1.0
        assert float(evidence.sum()) == pytest.approx(expected, abs=1e-6), name


def test_the_sign_keeps_its_meaning_when_the_baseline_is_closer(caffe_vgg):
    """chelsea | Starry Night halves at 64 px against a blur of the composite: the blur is closer to
    the photo's content than the composite, the case in which the evidence used to flip sign (then
    only 21 % of the positive content evidence lay on the photo half)."""
    maps, painted = _maps(caffe_vgg, "chelsea", "starry_night", "halves", 64, baselines="blur")
    assert maps.cases["content"] == "baseline closer"
    assert float(maps.content_evidence.sum()) == pytest.approx(-1.0, abs=1e-6)
    # its positive pixels still pull towards the photo's content: most of them are on the photo
    assert positive_share(maps.content_evidence, ~painted) > 0.55
    data = maps.to_dict()["evidence"]["content"]
    assert data["case"] == "baseline closer" and data["baseline_loss"] < data["image_loss"]
    assert data["attribution_total"] > 0  # f(x) - f(b) > 0: the attributions push the loss up overall


def test_the_default_maps_find_a_painted_patch(caffe_vgg):
    maps, painted = _maps(caffe_vgg, "astronaut", "great_wave", "patch", 64)
    assert maps.options["baselines"] == "filler"
    assert 0.2 < float(painted.double().mean()) < 0.3  # a quarter of the picture
    _check_default(maps, painted)


@pytest.mark.slow
@pytest.mark.parametrize("size", [64, 128])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("photo", "painting"), PAIRS)
def test_the_default_maps_on_every_pair_kind_and_size(caffe_vgg, photo, painting, kind, size):
    maps, painted = _maps(caffe_vgg, photo, painting, kind, size, n_steps=16)
    _check_default(maps, painted)


def _on_its_reference(baseline: str, photo: torch.Tensor, painting: torch.Tensor):
    """(image, patch mask): the baseline's own picture with the painted patch pasted in, so that only
    the patch differs from the reference (for ``"blur"``: a flat grey picture, which blurring keeps)."""
    from xstyle.explain.attribution.engine import make_baseline

    patched, mask = planted(photo, painting, "patch")
    patch = patched[..., mask]  # (1, 3, P)
    if baseline in ("black", "noise"):
        reference = make_baseline(photo, kind=baseline, seed=0)
    else:  # "mean": a picture of the patch's mean colour has that mean; "blur": flat grey
        colour = patch.mean(-1) if baseline == "mean" else torch.full((1, 3), 0.5)
        reference = colour[..., None, None].expand_as(photo).clone()
    image = reference.clone()
    image[..., mask] = patch
    return image, mask


@pytest.mark.slow
@pytest.mark.parametrize("baseline", ["black", "mean", "noise", "blur"])
def test_the_other_baselines_answer_what_differs_from_their_reference(caffe_vgg, baseline):
    """black, mean and noise ask which pixels move the loss compared with an empty, flat or random
    picture, blur what the fine detail adds: on a picture that *is* that reference but for a painted
    patch, the style evidence lies on the patch. (On the photo with the same patch they spread it
    over the photo as well, docs/evidence.md: they answer this question, not "where the style is".)"""
    photo, painting = load_sample("chelsea", size=64), load_sample("starry_night", size=64)
    image, patch = _on_its_reference(baseline, photo, painting)
    maps = style_content_maps(
        image, content=photo, style=painting, model=caffe_vgg, baselines=baseline, n_steps=8, sanity=False
    )
    assert maps.cases["style:total"] == "image closer"
    share = positive_share(maps.style_evidence["total"], patch)
    assert share >= (0.99 if baseline != "blur" else 0.8), share
