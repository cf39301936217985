"""The content/style balance of one alpha/beta across image sizes (TransferConfig.normalize)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from xstyle import _defaults as D
from xstyle.data import load_sample
from xstyle.images import resize_image
from xstyle.transfer import StyleObjective, TransferConfig, style_transfer


def _weighted_content(model, size: int, normalize: str) -> float:
    """alpha_eff * L_content of the style image (resized to the content) at long side ``size``."""
    content, style = load_sample("chelsea", size=size), load_sample("great_wave", size=size)
    objective = StyleObjective(model, content, style, TransferConfig(size=size, normalize=normalize))
    with torch.no_grad():
        _, c, _ = objective(resize_image(style, tuple(content.shape[-2:])))
    return objective.alpha * float(c.total)


@pytest.mark.slow
def test_size_weighting_keeps_the_content_term_size_independent(caffe_vgg):
    """Under "size" the weighted content term of one image pair stays within 25% from 64 to 256 px;
    under "seed" it grows 3-5x per doubling of the side. Measured (chelsea vs great_wave): "size"
    max/min 1.10 over 64-256 px and 1.13 over 128-512 px; "seed" x4.3 (64->128), x3.7 (128->256)."""
    sizes = (64, 128, 256)
    seed = [_weighted_content(caffe_vgg, s, "seed") for s in sizes]
    size = [_weighted_content(caffe_vgg, s, "size") for s in sizes]
    for small, large in itertools.pairwise(seed):
        assert 3.0 < large / small < 5.0, seed  # a sum over positions: ~ the pixel count
    assert max(size) / min(size) < 1.25, size


def test_the_reference_size_is_the_seed_and_smaller_sizes_get_more_content_weight():
    assert D.TRANSFER_NORMALIZE == "size" and TransferConfig().normalize == "size"
    ref = D.NORMALIZE_REFERENCE_SIZE
    assert TransferConfig(size=ref, alpha=3.0).content_weight() == 3.0
    assert TransferConfig(size=ref, alpha=3.0, normalize="seed").content_weight() == 3.0
    assert TransferConfig(size=256, alpha=3.0).content_weight() == 12.0
    assert TransferConfig(size=1024, alpha=3.0).content_weight() == 0.75
    assert TransferConfig(size=256, alpha=3.0, normalize="seed").content_weight() == 3.0
    assert TransferConfig(size=256, alpha=3.0, normalize="mean").content_weight() == 3.0


@pytest.mark.slow
def test_size_is_the_seed_formulas_with_a_scaled_alpha(caffe_vgg):
    """A 64 px run under "size" is exactly a "seed" run with alpha * (512/64)**2, pyramid included;
    the effective weights are recorded per step and in the result's JSON."""
    content, style = load_sample("chelsea", size=64), load_sample("great_wave", size=64)
    kw = dict(size=64, steps=(3, 3), beta=1e4, seed=0, min_level=16)
    a = style_transfer(content, style, config=TransferConfig(**kw, alpha=1.0), model=caffe_vgg)
    b = style_transfer(
        content, style, config=TransferConfig(**kw, alpha=64.0, normalize="seed"), model=caffe_vgg
    )
    assert torch.equal(a.image, b.image)
    assert [h.total for h in a.history] == [h.total for h in b.history]
    coarse = resize_image(content, 32)  # level 0, as style_transfer resizes it
    pixel_ratio = content.shape[-2] * content.shape[-1] / (coarse.shape[-2] * coarse.shape[-1])
    weights = [h.content_weight for h in a.history]
    assert weights[:3] == [pytest.approx(64.0 * pixel_ratio)] * 3 and weights[3:] == [64.0] * 3
    assert {h.style_weight for h in a.history} == {1e4}
    data = a.to_dict()
    assert data["config"]["normalize"] == "size"
    assert data["final"]["content_weight"] == 64.0 and data["final"]["style_weight"] == 1e4
    assert data["history"][-1]["content_weight"] == 64.0
    assert data["meta"]["normalize_reference_size"] == 512
    assert a.final["total"] == pytest.approx(64.0 * a.final["content"] + 1e4 * a.final["style"], rel=1e-5)


def test_bad_normalize_is_one_line_listing_the_choices():
    with pytest.raises(ValueError) as err:
        TransferConfig(normalize="sum")
    message = str(err.value)
    assert message == "normalize must be one of ('size', 'seed', 'mean'); got 'sum'."
    assert "\n" not in message


def test_cli_passes_normalize():
    from xstyle.cli import build_parser
    from xstyle.cli.transfer import _config_from

    parser = build_parser()
    args = parser.parse_args(["transfer", "a.png", "b.png", "-o", "o.png"])
    assert _config_from(args).normalize == "size"
    args = parser.parse_args(["transfer", "a.png", "b.png", "-o", "o.png", "--normalize", "seed"])
    assert _config_from(args).normalize == "seed"


#: the slow test's runs: single-scale L-BFGS from the content, chelsea x great_wave, default alpha/beta
SLOW_SIZES, SLOW_STEPS = (256, 512), (30,)
SSIM_SIZE = 256  # both results are compared with the content at this long side


def _run(model, size: int, normalize: str) -> tuple[float, float]:
    """(content SSIM at SSIM_SIZE px, log10 of the weighted style/content ratio) of a short transfer."""
    from xstyle._stats import ssim

    content = load_sample("chelsea", size=size)
    config = TransferConfig(size=size, steps=SLOW_STEPS, normalize=normalize)
    result = style_transfer(content, load_sample("great_wave", size=size), config=config, model=model)
    final = result.final
    odds = final["style_weight"] * final["style"] / (final["content_weight"] * final["content"])
    small = load_sample("chelsea", size=SSIM_SIZE)
    return ssim(resize_image(result.image, tuple(small.shape[-2:])), small), math.log10(odds)


@pytest.mark.slow
def test_one_alpha_beta_gives_one_balance_at_256_and_512_px(caffe_vgg):
    """The same alpha/beta at 256 and 512 px: under "size" the weighted style/content ratio
    beta*L_s / (alpha_eff*L_c) at the end differs by at most 0.25 decades and the content SSIM
    (both results at 256 px against the content at 256 px) by at most 0.15; under "seed" (the
    control) the ratio at 256 px is more than 0.45 decades above the one at 512 px (the weighting
    alone makes it log10(4) = 0.6; at 512 px "seed" and "size" are the same run).

    Measured (2 cores, 30 evaluations; the style share beta*L_s / total in brackets): "size"
    0.677 vs 0.630 decades (share 0.826 vs 0.810), SSIM 0.470 vs 0.579 (the 512 px result
    downsampled loses fine strokes; at their own sizes 0.470 vs 0.332); "seed" at 256 px 1.254
    decades (share 0.947), SSIM 0.469: after 30 evaluations SSIM hardly depends on the weighting,
    so it has no control. The ratio, not the share, is compared because under "seed" the share
    saturates near 1. One
    512 px evaluation costs ~2.5 s on a 2-core CPU, so this test takes about 2 minutes.
    """
    (ssim_small, ratio_small), (ssim_large, ratio_large) = (_run(caffe_vgg, s, "size") for s in SLOW_SIZES)
    assert abs(ratio_small - ratio_large) <= 0.25, (ratio_small, ratio_large)
    assert abs(ssim_small - ssim_large) <= 0.15, (ssim_small, ssim_large)
    _, seed_small = _run(caffe_vgg, SLOW_SIZES[0], "seed")
    assert seed_small - ratio_large > 0.45, (seed_small, ratio_large)
    assert seed_small - ratio_large > abs(ratio_small - ratio_large) + 0.3
