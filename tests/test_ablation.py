"""Causal channel ablation: the ablation logic, rankings, curves, errors and hook hygiene."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xstyle.data import load_sample
from xstyle.explain.style.ablation import ablate_channels, ablation_curves, channel_scores
from xstyle.explain.style.gram import decompose_gram
from xstyle.hooks import FeatureTap, assert_no_hooks
from xstyle.losses import gram_matrix
from xstyle.models.vgg import load_vgg19
from xstyle.transfer import TransferConfig

CONFIG = TransferConfig(size=32, steps=(2,))


def _constant_channel_model():
    """A random VGG19 up to relu2_1 whose relu1_1 channel 0 is 1 everywhere, for every input."""
    model = load_vgg19("random", last_layer="relu2_1", seed=0)
    with torch.no_grad():
        model.conv1_1.weight[0].zero_()
        model.conv1_1.bias[0] = 1.0
    return model


def test_mean_ablating_a_constant_channel_changes_nothing(tiny_images):
    content, style = tiny_images
    model = _constant_channel_model()
    config = TransferConfig(
        size=32, steps=(2,), style_layers=("relu1_1", "relu2_1"), content_layers=("relu2_1",)
    )
    mean = ablate_channels(
        content, style, layer="relu1_1", channels=[0], mode="mean", config=config, model=model
    )
    assert mean.style_after == mean.style_before and mean.content_after == mean.content_before
    assert mean.style_per_layer_after == mean.style_per_layer_before
    assert mean.layer_norm_after == mean.layer_norm_before
    # zero-ablating the same channel does change the losses (the test above is not vacuous)
    zero = ablate_channels(
        content, style, layer="relu1_1", channels=[0], mode="zero", config=config, model=model
    )
    assert zero.style_after != zero.style_before and zero.content_after != zero.content_before
    assert zero.layer_norm_after < zero.layer_norm_before


def test_zero_ablating_every_channel_zeroes_the_layer(caffe_vgg, tiny_images):
    content, style = tiny_images
    result = ablate_channels(
        content, style, layer="relu1_1", channels=range(64), config=CONFIG, model=caffe_vgg
    )
    assert result.layer_norm_before > 0 and result.layer_norm_after == 0.0
    # the image's Gram at relu1_1 is then 0, so that layer's loss is w * ||A||^2 / (4 N^2 M^2)
    s = load_sample("starry_night", size=32)
    with torch.no_grad(), FeatureTap(caffe_vgg, ["relu1_1"]) as tap:
        a = gram_matrix(tap.run(s)["relu1_1"]).double()
    m = content.shape[-2] * content.shape[-1]
    expected = 0.2 * float((a**2).sum()) / (4 * 64**2 * m**2)
    assert result.style_per_layer_after["relu1_1"] == pytest.approx(expected, rel=1e-5)
    # every later layer sees zeros from relu1_1 on: the image's features no longer depend on it
    json.loads(json.dumps(result.to_dict(), allow_nan=False))


def test_gram_ranking_curve_is_monotone_on_a_constructed_example(caffe_vgg):
    """Image = content = style, one style layer: removing channels only removes matched Gram rows.

    The loss after zero-ablating a set S is then w/(4N^2M^2) * (||A||^2 - ||A[~S, ~S]||^2): it
    grows with every channel removed, and the top Gram-energy channels remove the most.
    """
    style = load_sample("starry_night", size=32)
    config = TransferConfig(size=32, steps=(2,), style_layers=("relu1_1",), content_layers=("relu1_1",))
    counts = (1, 2, 4, 8, 16, 32, 64)
    result = ablation_curves(
        style, style, layer="relu1_1", counts=counts, image=style, config=config, model=caffe_vgg
    )
    assert result.style_before == 0.0 and result.content_before == 0.0
    gram_curve = np.array(result.style_after["gram"])
    assert (np.diff(gram_curve) >= 0).all() and gram_curve[0] > 0
    assert (gram_curve >= np.array(result.style_after["random"]) - 1e-9 * gram_curve).all()
    with torch.no_grad(), FeatureTap(caffe_vgg, ["relu1_1"]) as tap:
        a = gram_matrix(tap.run(style)["relu1_1"])[0].double()
    m = style.shape[-2] * style.shape[-1]
    for k, after in zip(counts, gram_curve, strict=True):
        keep = torch.ones(64, dtype=torch.bool)
        keep[result.orders["gram"][:k]] = False
        expected = float((a**2).sum() - (a[keep][:, keep] ** 2).sum()) / (4 * 64**2 * m**2)
        assert after == pytest.approx(expected, rel=1e-4)
    # relative changes are undefined from a zero baseline and say so (None in JSON, no NaN)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["summary"]["per_ranking"]["gram"][0]["style_relative_change"] is None


@pytest.mark.slow
def test_scores_rankings_and_correlation(caffe_vgg, tiny_images):
    content, style = tiny_images
    scores = channel_scores(content, style, layer="relu2_1", config=CONFIG, model=caffe_vgg)
    assert set(scores) == {"gram", "attribution", "captum_ig", "content_attribution"}
    assert all(v.shape == (128,) and (v >= 0).all() for v in scores.values())
    assert float(scores["attribution"].sum()) > 0 and float(scores["content_attribution"].sum()) > 0
    # the gram score is the style image's Gram energy share (xstyle.explain.style.gram)
    share = (
        decompose_gram(style, model=caffe_vgg, layers=["relu2_1"], size=32).spectra["relu2_1"].channel_share
    )
    assert torch.allclose(scores["gram"], share.float(), rtol=1e-4, atol=1e-9)
    mine = list(range(127, -1, -1))
    result = ablation_curves(
        content,
        style,
        layer="relu2_1",
        counts=(1, 4),
        scores={"attribution": scores["gram"]},  # e.g. Captum scores; here the gram ones
        rankings={"mine": mine},
        config=CONFIG,
        model=caffe_vgg,
    )
    assert result.rank_correlation == pytest.approx(1.0)
    assert result.orders["mine"] == mine and "mine" not in result.scores
    assert result.orders["attribution"] == result.orders["gram"]
    assert set(result.style_after) == {
        "gram",
        "attribution",
        "captum_ig",
        "content_attribution",
        "random",
        "mine",
    }
    rho = result.meta["rank_correlations"]
    assert set(rho) == {"gram_vs_attribution", "gram_vs_captum_ig", "attribution_vs_captum_ig"}
    assert rho["gram_vs_attribution"] == pytest.approx(result.rank_correlation)
    again = ablation_curves(content, style, layer="relu2_1", counts=(1, 4), config=CONFIG, model=caffe_vgg)
    assert (
        again.orders["random"]
        == ablation_curves(
            content, style, layer="relu2_1", counts=(1,), config=CONFIG, model=caffe_vgg
        ).orders["random"]
    )  # seeded
    head = again.summary["headline"]
    assert head["count"] == 4 and isinstance(head["gram_top_change_style_more_than_content"], bool)
    json.loads(json.dumps(again.to_dict(), allow_nan=False))
    display = again.plot()
    assert len(display.axes_) == 2 and display.figure_ is not None


def test_rerun_transfers_through_the_ablated_network(caffe_vgg, tiny_images):
    content, style = tiny_images
    result = ablate_channels(
        content, style, layer="relu3_1", channels=range(64), config=CONFIG, model=caffe_vgg, rerun_steps=2
    )
    assert set(result.rerun) == {"steps", "ablated", "intact"}
    assert result.rerun["ablated"]["style"] != result.rerun["intact"]["style"]


def test_bad_input_is_refused(caffe_vgg, tiny_images):
    content, style = tiny_images
    kw = {"config": CONFIG, "model": caffe_vgg}
    with pytest.raises(ValueError, match=r"got 'relu9_1'.*Did you mean"):
        ablate_channels(content, style, layer="relu9_1", channels=[0], config=CONFIG)
    with pytest.raises(ValueError, match="at or before the deepest loss layer"):
        ablate_channels(content, style, layer="relu5_2", channels=[0], **kw)
    with pytest.raises(ValueError, match=r"channel indices in 0\.\.63; got 64"):
        ablate_channels(content, style, layer="relu1_1", channels=[64], **kw)
    with pytest.raises(ValueError, match="mode must be one of"):
        ablate_channels(content, style, layer="relu1_1", channels=[0], mode="noise", **kw)
    with pytest.raises(ValueError, match="one pyramid level"):
        ablate_channels(
            content, style, layer="relu1_1", channels=[0], config=TransferConfig(size=32, steps=(1, 1))
        )
    with pytest.raises(ValueError, match=r"counts must be numbers of channels in 1\.\.64"):
        ablation_curves(content, style, layer="relu1_1", counts=(65,), **kw)
    with pytest.raises(ValueError, match="one value per channel"):
        ablation_curves(content, style, layer="relu1_1", counts=(1,), scores={"x": torch.ones(3)}, **kw)


@pytest.mark.parametrize("entry", ["ablate", "curves", "scores"])
def test_forced_error_leaves_no_hook_and_restores_flags(tiny_images, entry):
    content, style = tiny_images
    model = load_vgg19("random", last_layer="relu5_1", seed=0)
    model.train()
    model.conv1_1.weight.requires_grad_(True)
    kw = {"layer": "relu2_1", "config": CONFIG, "model": model, "image": content}
    calls = {
        "ablate": lambda: ablate_channels(content, style, channels=[0], **kw),
        "curves": lambda: ablation_curves(content, style, counts=(1,), **kw),
        "scores": lambda: channel_scores(content, style, **kw),
    }
    state = {"n": 0}

    def boom_late(module, args):  # fail after the setup's six passes: inside the ablation itself
        state["n"] += 1
        if state["n"] > 6:
            raise RuntimeError("boom")

    handle = model.conv3_1.register_forward_pre_hook(boom_late)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            calls[entry]()
    finally:
        handle.remove()
    assert_no_hooks(model)
    assert model.training
    assert model.conv1_1.weight.requires_grad and not model.conv1_2.weight.requires_grad
