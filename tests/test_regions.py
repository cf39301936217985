"""Region-level evidence (xstyle.explain.style.regions): segmentation, aggregation, planted answers."""

import numpy as np
import pytest
import torch

from xstyle.explain.style.regions import region_evidence, segment


def _image(h=32, w=48):
    """A smooth photo crop (SLIC needs edges to follow; noise merges into one superpixel)."""
    from xstyle import load_sample

    return load_sample("chelsea", size=max(h, w) * 2)[..., :h, :w].contiguous()


@pytest.mark.parametrize("method", ["slic", "grid"])
def test_segments_cover_the_image_with_consecutive_labels(method):
    seg = segment(_image(), method=method, n_regions=12)
    assert seg.shape == (32, 48) and seg.dtype == torch.int64
    labels = torch.unique(seg)
    assert labels.tolist() == list(range(len(labels)))
    assert 4 <= len(labels) <= 30


def test_grid_cells_are_regular():
    seg = segment(_image(), method="grid", n_regions=6)  # 32 x 48: 2 rows of 3 cells of 16 x 16
    assert len(torch.unique(seg)) == 6
    assert torch.equal(torch.bincount(seg.ravel()), torch.full((6,), 256))


def test_slic_follows_a_colour_edge():
    img = torch.zeros(1, 3, 32, 32)
    img[..., :, 16:] = 1.0  # black left half, white right half
    seg = segment(img, method="slic", n_regions=8)
    left, right = set(seg[:, :16].unique().tolist()), set(seg[:, 16:].unique().tolist())
    assert not left & right  # no superpixel straddles the edge


def test_evidence_is_summed_per_region_and_planted_halves_win():
    img = _image(32, 32)
    style = torch.zeros(32, 32)
    style[:, :16] = 1.0  # all style evidence on the left
    content = torch.zeros(32, 32)
    content[:, 16:] = 1.0  # all content evidence on the right
    r = region_evidence(style, content, img, method="grid", n_regions=4)
    assert r.style.sum() == pytest.approx(1.0) and r.content.sum() == pytest.approx(1.0)
    assert r.area.tolist() == [0.25] * 4
    dom = r.dominance_map()
    assert (dom[:, :16] > 0).all() and (dom[:, 16:] < 0).all()
    assert r.style_share == pytest.approx(0.5)
    assert {t["region"] for t in r.top(2, kind="style")} == {0, 2}
    assert r.to_dict()["n_regions"] == 4


def test_region_display_draws_the_dominance_with_a_labelled_colour_scale():
    import matplotlib.pyplot as plt

    img = _image(32, 32)
    style = torch.zeros(32, 32)
    style[:, :16] = 1.0
    r = region_evidence(style, torch.ones(32, 32), img, method="grid", n_regions=4)
    d = r.plot()
    overlay = d.ax_.images[1].get_array()
    assert overlay[0, 0] > 0 > overlay[0, -1]
    assert "style share" in d.figure_.axes[-1].get_ylabel()
    plt.close("all")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "watershed"}, "region method must be one of slic, grid"),
        ({"n_regions": 0}, "n_regions must be"),
        ({"n_regions": 10**7}, "n_regions must be at most the number of pixels"),
        ({"compactness": -1}, "compactness must be a finite number > 0"),
    ],
)
def test_bad_region_options_get_one_line(kwargs, match):
    m = torch.zeros(16, 16)
    with pytest.raises(ValueError, match=match):
        region_evidence(m, m, _image(16, 16), **kwargs)


def test_slic_on_noise_falls_back_to_the_grid_and_says_so():
    noise = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    m = torch.ones(32, 32)
    r = region_evidence(m, m, noise, method="slic", n_regions=16)
    assert r.method == "grid" and len(r.style) == 16


def test_maps_must_match_the_image():
    with pytest.raises(ValueError, match=r"style_map must be an \(H, W\) map of the image's size"):
        region_evidence(torch.zeros(8, 8), torch.zeros(16, 16), _image(16, 16))
    with pytest.raises(ValueError, match="content_map contains NaN"):
        region_evidence(torch.zeros(16, 16), torch.full((16, 16), float("nan")), _image(16, 16))


@pytest.mark.slow
def test_a_planted_texture_gets_the_style_and_the_photo_the_content(caffe_vgg):
    """A stylised image whose left half is a crop of the painting and whose right half is the photo:
    the left regions carry the style evidence, the right ones the content evidence."""
    from xstyle import load_sample
    from xstyle.explain.style.maps import style_content_maps

    content = load_sample("chelsea", size=64)[..., :40, 12:52].contiguous()
    style = load_sample("starry_night", size=64)[..., :40, :40].contiguous()
    planted = content.clone()
    planted[..., :, :20] = style[..., :, :20]
    maps = style_content_maps(planted, content=content, style=style, model=caffe_vgg, n_steps=8, sanity=False)
    r = region_evidence(
        maps.style_evidence["total"], maps.content_evidence, planted, method="grid", n_regions=4
    )
    left, right = r.dominance[[0, 2]], r.dominance[[1, 3]]
    assert left.mean() > 0 > right.mean(), r.dominance
    assert np.isfinite(r.style).all()


@pytest.fixture(scope="module")
def planted_maps(caffe_vgg):
    """A 40 x 40 image whose left half is a crop of the painting and whose right half is the photo,
    with its style map against the photo and its content map against a blur (the tests' fillers)."""
    from xstyle import load_sample
    from xstyle.explain.style.maps import style_content_maps

    content = load_sample("chelsea", size=64)[..., :40, 12:52].contiguous()
    style = load_sample("starry_night", size=64)[..., :40, :40].contiguous()
    planted = content.clone()
    planted[..., :, :20] = style[..., :, :20]
    maps = style_content_maps(
        planted, content=content, style=style, model=caffe_vgg, n_steps=16, sanity=False, baselines="filler"
    )
    regions = region_evidence(
        maps.style_evidence["total"], maps.content_evidence, planted, method="grid", n_regions=16
    )
    return regions, content, style, maps


@pytest.mark.slow
@pytest.mark.parametrize("which", ["style", "content"])
def test_faithfulness_beats_random_on_the_planted_map_and_the_inverted_map_fails(
    planted_maps, caffe_vgg, which
):
    import dataclasses

    from xstyle.explain.style.faithfulness import region_faithfulness

    regions, content, style, _ = planted_maps
    kw = dict(model=caffe_vgg, content=content, style=style, which=which, steps=8, n_random=10)
    good = region_faithfulness(regions, **kw)
    assert good.passed and good.gain_ci[0] > 0
    assert good.curve[0] == pytest.approx(1.0) and good.curve[-1] == pytest.approx(0.0)
    inverted = dataclasses.replace(regions, style=-regions.style, content=-regions.content)
    bad = region_faithfulness(inverted, **kw)
    assert not bad.passed and bad.gain < good.gain
    # the verdicts: the planted map finds its half, the inverted one is worse than random
    assert good.verdict == "localised" and bad.verdict == "failed"
    assert good.best_gain_ci[0] > 0 and good.spread > 0  # the halves differ: some order can beat random
    assert bad.verdict_line().startswith(f"{which} map: failed, ")
    assert good.to_dict()["verdict"] == "localised"
    assert good.to_dict()["steps"] == 8 and good.to_dict()["n_random"] == 10
    d = good.plot()
    assert len(d.ax_.lines) == 11 and "passes" in d.ax_.get_title()
    import matplotlib.pyplot as plt

    plt.close("all")


def test_faithfulness_refuses_bad_options(caffe_vgg):
    from xstyle.explain.style.faithfulness import region_faithfulness

    img = _image(16, 16)
    r = region_evidence(torch.ones(16, 16), torch.ones(16, 16), img, method="grid", n_regions=4)
    kw = dict(model=caffe_vgg, content=img, style=img)
    with pytest.raises(ValueError, match="which must be 'style' or 'content'"):
        region_faithfulness(r, which="texture", **kw)
    with pytest.raises(ValueError, match="n_random must be"):
        region_faithfulness(r, n_random=1, **kw)
    with pytest.raises(ValueError, match="must have the stylised image's size"):
        region_faithfulness(r, model=caffe_vgg, content=_image(8, 8), style=img)


@pytest.mark.slow
def test_explain_regions_tests_both_maps_and_a_shuffled_map_fails(planted_maps, caffe_vgg):
    import dataclasses

    import matplotlib.pyplot as plt

    from xstyle.explain.style.faithfulness import explain_regions, region_faithfulness

    regions, content, style, maps = planted_maps
    assert maps.options["baselines"] == "filler"
    result = explain_regions(maps, model=caffe_vgg, style=style, method="grid", n_regions=16, n_random=10)
    assert result.passed == {"style": True, "content": True}
    assert result.verdict == {"style": "localised", "content": "localised"}
    assert [line.split(":")[0] for line in result.verdict_lines()] == ["style map", "content map"]
    assert np.allclose(result.regions.style, regions.style)  # the same regions as the fixture's
    data = result.to_dict()
    assert data["baselines"] == "filler" and data["passed"] == {"style": True, "content": True}
    assert data["verdict"] == result.verdict and data["sign_convention"].startswith("Evidence is")
    assert data["faithfulness"]["style"]["gain_ci"][0] > 0 and data["regions"]["n_regions"] == 16
    shuffled = dataclasses.replace(regions, style=np.random.default_rng(3).permutation(regions.style))
    control = region_faithfulness(shuffled, model=caffe_vgg, content=content, style=style, n_random=10)
    assert not control.passed and control.gain < result.style_test.gain
    d = result.plot()
    assert d.axes_.shape == (1, 3) and "style map passes" in d.figure_._suptitle.get_text()
    plt.close("all")


def _test_result(**numbers):
    from xstyle.explain.style.faithfulness import RegionFaithfulnessResult

    curve = np.linspace(1, 0, 5)
    base = dict(which="style", filler="content photo", fractions=np.linspace(0, 1, 5), curve=curve)
    base |= dict(random=np.stack([curve, curve]), random_fractions=np.stack([np.linspace(0, 1, 5)] * 2))
    base |= dict(area=0.5, random_area=0.5, losses={"filler": 2.0, "image": 1.0})
    return RegionFaithfulnessResult(**base, **numbers)


@pytest.mark.parametrize(
    ("numbers", "verdict"),
    [
        # passes: the map finds the regions that carry its loss
        (
            dict(gain=0.1, gain_ci=(0.05, 0.15), passed=True, best_gain=0.2, best_gain_ci=(0.1, 0.3)),
            "localised",
        ),
        # no order of the regions beats random by UNIFORM_GAIN: the picture is evenly stylised
        (
            dict(gain=0.01, gain_ci=(-0.01, 0.03), passed=False, best_gain=0.02, best_gain_ci=(0.01, 0.03)),
            "uniform",
        ),
        (
            dict(gain=0.0, gain_ci=(-0.02, 0.02), passed=False, best_gain=0.1, best_gain_ci=(-0.1, 0.3)),
            "uniform",
        ),
        # the regions differ (the best order passes by more than UNIFORM_GAIN) and the map missed them
        (
            dict(gain=0.01, gain_ci=(-0.01, 0.03), passed=False, best_gain=0.2, best_gain_ci=(0.1, 0.3)),
            "failed",
        ),
        # worse than random
        (
            dict(gain=-0.2, gain_ci=(-0.3, -0.1), passed=False, best_gain=0.0, best_gain_ci=(-0.1, 0.1)),
            "failed",
        ),
    ],
)
def test_the_verdict_reads_the_map_and_the_best_order(numbers, verdict):
    r = _test_result(spread=0.05, **numbers)
    assert r.verdict == verdict
    line = r.verdict_line()
    assert line.startswith(f"style map: {verdict}, ") and f"gain over random {numbers['gain']:+.3f}" in line
    assert "random orders' spread 0.050" in line and "\n" not in line
    assert r.to_dict()["verdict"] == verdict and r.to_dict()["best_gain"] == numbers["best_gain"]


def test_region_shares_keep_the_sign_of_a_map_that_sums_to_minus_one():
    """SIGN_CONVENTION: a map whose baseline was closer sums to -1; its regions keep their signs."""
    content = torch.zeros(16, 16, dtype=torch.float64)
    content[:, :8] = 1.0 / 128  # the left half pulls towards the target ...
    content[:, 8:] = -3.0 / 128  # ... the right half pushes away three times as hard
    r = region_evidence(torch.ones(16, 16), content, _image(16, 16), method="grid", n_regions=4)
    assert r.content.sum() == pytest.approx(-1.0)
    assert r.content[[0, 2]] == pytest.approx([0.25, 0.25]) and r.content[[1, 3]] == pytest.approx(
        [-0.75, -0.75]
    )
    assert r.style.sum() == pytest.approx(1.0)
