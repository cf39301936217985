"""The β/α trade-off sweep, SSIM and knee detection."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xstyle._stats import ssim
from xstyle.explain.style import _sweep as sweep_module
from xstyle.explain.style import tradeoff as tradeoff_module
from xstyle.explain.style.tradeoff import AUTO_GRID, balance_ratio, find_knee, tradeoff_sweep
from xstyle.hooks import assert_no_hooks
from xstyle.models.vgg import load_vgg19
from xstyle.transfer import StyleObjective, TransferConfig


def test_knee_of_a_synthetic_l_curve():
    # steep drop of the style loss until index 3, then a long flat tail: the knee is index 3
    content = 10.0 ** np.array([0.0, 0.1, 0.2, 0.3, 1.0, 2.0, 3.0])
    style = 10.0 ** np.array([3.0, 2.0, 1.0, 0.3, 0.2, 0.1, 0.0])
    assert find_knee(content, style, log=True) == 3
    # linear coordinates: a sharp corner at (1, 1) between two straight legs
    x = [0.0, 0.5, 1.0, 4.0, 8.0]
    y = [10.0, 5.5, 1.0, 0.6, 0.2]
    assert find_knee(x, y, log=False) == 2
    # the knee does not depend on the units of either axis
    assert find_knee(content * 1e9, style * 1e-3, log=True) == 3


def test_knee_rejects_bad_input():
    with pytest.raises(ValueError, match="length >= 3"):
        find_knee([1, 2], [2, 1])
    with pytest.raises(ValueError, match="> 0 with log=True"):
        find_knee([0, 1, 2], [3, 2, 1], log=True)
    with pytest.raises(ValueError, match="finite"):
        find_knee([1, np.nan, 2], [3, 2, 1], log=False)


def test_ssim_of_identical_images_is_one(tiny_images):
    content, _ = tiny_images
    assert ssim(content, content) == pytest.approx(1.0)
    assert ssim(content, torch.rand_like(content, generator=torch.Generator().manual_seed(0))) < 0.5
    with pytest.raises(ValueError, match="same shape"):
        ssim(content, content[..., :20])


def test_sweep_trades_content_for_style_and_reuses_targets(caffe_vgg, tiny_images, monkeypatch):
    content, style = tiny_images
    built = []

    class CountingObjective(StyleObjective):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    for module in (tradeoff_module, sweep_module):  # the balance ratio's and the sweep runs'
        monkeypatch.setattr(module, "StyleObjective", CountingObjective)
    config = TransferConfig(size=32, steps=(8,))
    r0 = balance_ratio(content, style, config=config, model=caffe_vgg)
    built.clear()
    ratios = (r0 * 10, r0 / 100, r0)
    result = tradeoff_sweep(content, style, ratios=ratios, config=config, model=caffe_vgg)
    assert len(built) == 1  # one objective: content targets and Gram targets computed once
    assert result.ratios == tuple(sorted(ratios)) and result.balance == pytest.approx(r0)
    assert len(result.images) == len(result.ssim) == len(result.content_loss) == 3
    # more style weight: lower style loss, higher content loss, less structural similarity
    assert result.style_loss[-1] < result.style_loss[0]
    assert result.content_loss[-1] > result.content_loss[0]
    assert result.ssim[-1] < result.ssim[0] <= 1.0
    assert result.knee in (0, 1, 2) and result.knee_ratio in result.ratios
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["knee_ratio"] == result.knee_ratio
    display = result.plot()
    assert display.ax_ is not None and display.figure_ is not None
    assert result.plot(thumbnails=False).figure_ is not None


def test_default_grid_is_centred_on_the_balance_ratio(caffe_vgg, tiny_images):
    content, style = tiny_images
    config = TransferConfig(size=32, steps=(1,))
    r0 = balance_ratio(content, style, config=config, model=caffe_vgg)
    assert r0 > 0
    result = tradeoff_sweep(content, style, config=config, model=caffe_vgg)
    assert len(result.ratios) == len(AUTO_GRID)
    assert np.allclose(np.log10(result.ratios) - np.log10(r0), AUTO_GRID)
    with pytest.raises(ValueError, match="balance ratio is undefined"):
        tradeoff_sweep(content, content, config=config, model=caffe_vgg)


def test_sweep_rejects_bad_input(caffe_vgg, tiny_images):
    content, style = tiny_images
    kw = {"model": caffe_vgg}
    with pytest.raises(ValueError, match="ratios must be one or more finite numbers > 0"):
        tradeoff_sweep(content, style, ratios=(0, 1e3), config=TransferConfig(size=32, steps=(1,)), **kw)
    with pytest.raises(ValueError, match="one pyramid level"):
        tradeoff_sweep(content, style, config=TransferConfig(size=32, steps=(1, 1)), **kw)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        tradeoff_sweep(content, style, config=TransferConfig(size=32, steps=(1,), alpha=0.0), **kw)


def test_forced_error_leaves_no_hook_and_restores_flags(tiny_images):
    content, style = tiny_images
    model = load_vgg19("random", last_layer="relu5_1", seed=0)
    model.train()
    model.conv1_1.weight.requires_grad_(True)

    def boom(module, args):
        raise RuntimeError("boom")

    handle = model.conv4_1.register_forward_pre_hook(boom)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            tradeoff_sweep(content, style, config=TransferConfig(size=32, steps=(1,)), model=model)
    finally:
        handle.remove()
    assert_no_hooks(model)
    assert model.training
    assert model.conv1_1.weight.requires_grad and not model.conv1_2.weight.requires_grad
