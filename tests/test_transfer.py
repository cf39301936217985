import pytest
import torch

from xstyle.data import load_sample
from xstyle.hooks import assert_no_hooks
from xstyle.models.vgg import load_vgg19
from xstyle.transfer import StyleObjective, TransferConfig, TransferStep, style_transfer


def _cfg(**kw):
    base = dict(size=32, steps=(6,), seed=0, min_level=16)  # tiny images: keep every pyramid level
    base.update(kw)
    return TransferConfig(**base)


def test_config_defaults_follow_gatys():
    cfg = TransferConfig()
    assert cfg.content_layers == ("relu4_2",)
    assert cfg.style_layers == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    assert cfg.weights == "caffe" and cfg.optimizer == "lbfgs" and cfg.init == "content"
    assert cfg.deepest_layer == "relu5_1"
    assert TransferConfig(size=512, steps=(1, 2, 3), min_level=16).level_sizes == (128, 256, 512)


def test_coarse_levels_under_min_level_merge_into_the_first_kept_level():
    """Below 256 px the deep style layers see the whole picture, so coarse levels under
    ``min_level`` are merged (their evaluations move to the first level that runs)."""
    assert TransferConfig(size=512).schedule == ((256, 150), (512, 30))  # the default: unchanged
    assert TransferConfig(size=256).schedule == ((256, 180),)  # single-scale, same evaluations
    assert TransferConfig(size=128).schedule == ((128, 180),)
    cfg = TransferConfig(size=1024, steps=(10, 20, 30, 40))  # 128, 256, 512, 1024 px
    assert cfg.schedule == ((256, 30), (512, 30), (1024, 40))
    assert cfg.level_sizes == (256, 512, 1024) and cfg.level_steps == (30, 30, 40)
    assert TransferConfig(size=512, steps=(1, 2, 3), min_level=512).schedule == ((512, 6),)
    assert sum(TransferConfig(size=300, steps=(5, 7)).level_steps) == 12


def test_the_merged_schedule_is_what_runs(caffe_vgg, tiny_images):
    content, style = tiny_images
    res = style_transfer(content, style, config=TransferConfig(size=32, steps=(2, 3)), model=caffe_vgg)
    assert [h.level for h in res.history] == [0] * 5 and {h.size for h in res.history} == {32}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(style_layers=("relu9_1",)), r"got 'relu9_1'. Did you mean"),
        (dict(content_layers=("conv4_9",)), "content_layers must be VGG19 layer names"),
        (dict(optimizer="sgd"), r"optimizer must be one of \('lbfgs', 'adam'\)"),
        (dict(init="zeros"), "init must be one of"),
        (dict(beta=-1.0), "beta must be a finite number >= 0"),
        (dict(alpha=float("nan")), "alpha must be a finite number"),
        (dict(size=64, steps=(1, 1, 1, 1)), "coarsest would be 8 px"),
        (dict(style_weights=(1.0,)), "one weight per style layer"),
        (dict(steps=(-1,)), "non-negative"),
        (dict(steps=(0,)), r"runs no evaluation at any level"),
        (dict(size=64, steps=(0, 0)), r"runs no evaluation at any level"),
        (dict(precision="float16"), "precision must be one of"),
        (dict(min_level=8), r"min_level must be a whole number of pixels >= 16; got 8"),
    ],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TransferConfig(**kwargs)


def test_objective_matches_loss_functions(caffe_vgg, tiny_images):
    from xstyle.hooks import FeatureTap
    from xstyle.losses import content_loss, gram_matrix, style_loss

    content, style = tiny_images
    cfg = _cfg(alpha=2.0, beta=3.0)
    obj = StyleObjective(caffe_vgg, content, style, cfg)
    x = torch.rand(1, 3, *content.shape[-2:], generator=torch.Generator().manual_seed(0))
    total, c, s = obj(x)
    layers = list(cfg.content_layers + cfg.style_layers)
    with FeatureTap(caffe_vgg, layers) as tap:
        fx, fc, fs = tap.run(x), tap.run(content), tap.run(style)
    c_ref = content_loss(fx, {n: fc[n] for n in cfg.content_layers}).total
    s_ref = style_loss(fx, {n: gram_matrix(fs[n]) for n in cfg.style_layers}).total
    assert torch.allclose(c.total, c_ref, rtol=1e-5)
    assert torch.allclose(s.total, s_ref, rtol=1e-5)
    # the default normalize="size" weighs the content by (512 / 32)**2 at 32 px
    assert obj.alpha == 2.0 * (512 / 32) ** 2
    assert torch.allclose(total, obj.alpha * c_ref + 3 * s_ref, rtol=1e-5)
    assert_no_hooks(caffe_vgg)


def test_transfer_lowers_the_loss_and_returns_an_image(caffe_vgg, tiny_images):
    content, style = tiny_images
    seen: list[TransferStep] = []
    res = style_transfer(content, style, config=_cfg(steps=(12,)), model=caffe_vgg, callbacks=[seen.append])
    assert res.image.shape == content.shape
    assert 0 <= float(res.image.min()) and float(res.image.max()) <= 1
    assert len(res.history) == len(seen) == 12
    assert res.history[-1].total < 0.5 * res.history[0].total
    assert res.final["style"] < res.history[0].style
    assert set(res.final["style_per_layer"]) == set(TransferConfig().style_layers)
    assert res.timings["total"] > 0
    assert not torch.equal(res.image, content)
    assert_no_hooks(caffe_vgg)


def test_pyramid_levels_run_coarse_to_fine(caffe_vgg):
    from xstyle.data import load_sample

    content, style = load_sample("chelsea", size=64), load_sample("great_wave", size=64)
    res = style_transfer(content, style, config=_cfg(size=64, steps=(4, 3)), model=caffe_vgg)
    assert [h.level for h in res.history] == [0] * 4 + [1] * 3
    assert [h.size for h in res.history][::3] == [32, 32, 64]
    assert res.image.shape[-1] == 64


def test_same_seed_same_image_noise_init(caffe_vgg, tiny_images):
    content, style = tiny_images
    a = style_transfer(content, style, config=_cfg(init="noise", seed=5), model=caffe_vgg).image
    b = style_transfer(content, style, config=_cfg(init="noise", seed=5), model=caffe_vgg).image
    c = style_transfer(content, style, config=_cfg(init="noise", seed=6), model=caffe_vgg).image
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_a_warm_start_is_where_the_first_level_begins(caffe_vgg):
    """``start=`` replaces ``config.init``: starting from the style image resized to the first
    level is exactly ``init="style"`` (same evaluations, same losses), and differs from the photo."""
    content, style = load_sample("chelsea", size=64), load_sample("great_wave", size=64)
    cfg = _cfg(size=64, steps=(3, 2))  # two levels: the start is resized to the 32 px one
    warm = style_transfer(content, style, config=cfg, model=caffe_vgg, start=style)
    as_init = style_transfer(
        content, style, config=_cfg(size=64, steps=(3, 2), init="style"), model=caffe_vgg
    )
    photo = style_transfer(content, style, config=cfg, model=caffe_vgg)
    assert [h.total for h in warm.history] == [h.total for h in as_init.history]
    assert torch.equal(warm.image, as_init.image)
    assert warm.history[0].total != photo.history[0].total
    assert warm.meta["start"] == "image" and photo.meta["start"] == "content"
    with pytest.raises(ValueError, match="not batches"):
        style_transfer(content, style, config=cfg, model=caffe_vgg, start=style.repeat(2, 1, 1, 1))
    assert_no_hooks(caffe_vgg)


def test_a_warm_start_of_another_shape_is_fitted_and_follows_preserve_color(caffe_vgg):
    """A tall start on a wide content is stretched to the content's shape; with ``preserve_color``
    the optimisation runs on luminance, so a colourful start counts only by its luminance."""
    from xstyle.transfer import _luminance

    content, style = load_sample("chelsea", size=48), load_sample("great_wave", size=48)
    tall = load_sample("starry_night", size=48).transpose(-1, -2)
    assert tall.shape[-2:] != content.shape[-2:]
    res = style_transfer(content, style, config=_cfg(size=48, steps=(2,)), model=caffe_vgg, start=tall)
    assert res.meta["size_hw"] == list(content.shape[-2:])
    grey = _luminance(tall).expand(-1, 3, -1, -1)
    cfg = _cfg(size=48, steps=(2,), preserve_color=True)
    colour = style_transfer(content, style, config=cfg, model=caffe_vgg, start=tall)
    as_grey = style_transfer(content, style, config=cfg, model=caffe_vgg, start=grey)
    assert [h.total for h in colour.history] == pytest.approx([h.total for h in as_grey.history], rel=1e-5)


def test_adam_and_style_init(caffe_vgg, tiny_images):
    content, style = tiny_images
    res = style_transfer(
        content, style, config=_cfg(optimizer="adam", init="style", steps=(8,)), model=caffe_vgg
    )
    assert res.history[-1].total < res.history[0].total


def test_preserve_color_keeps_content_chroma(caffe_vgg, tiny_images):
    from xstyle.transfer import _luminance, _with_luminance

    content, style = tiny_images
    res = style_transfer(content, style, config=_cfg(preserve_color=True), model=caffe_vgg)
    # re-inserting the result's own luminance into the content gives back the result
    again = _with_luminance(content, _luminance(res.image))
    assert float((again - res.image).abs().max()) < 1e-5
    # and the luminance did change (the style was transferred)
    assert (_luminance(res.image) - _luminance(content)).abs().mean() > 1e-3


def test_failing_callback_leaves_no_hook_and_restores_model(tiny_images):
    model = load_vgg19("random", last_layer="relu5_1")
    model.train()
    model.relu1_1.eval()  # a submodule in another mode than its parent comes back in its own mode
    model.conv1_1.weight.requires_grad_(True)

    def explode(step):
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        style_transfer(*tiny_images, config=_cfg(), model=model, callbacks=[explode])
    assert_no_hooks(model)
    assert model.training and model.conv1_2.training and not model.relu1_1.training
    assert model.conv1_1.weight.requires_grad and not model.conv1_2.weight.requires_grad


def test_result_serialises_and_plots(caffe_vgg, tiny_images):
    import json

    res = style_transfer(*tiny_images, config=_cfg(steps=(3,)), model=caffe_vgg)
    data = json.loads(json.dumps(res.to_dict()))
    assert data["config"]["steps"] == [3] and len(data["history"]) == 3
    display = res.plot()
    assert display.figure_ is not None and len(display.ax_.lines) == 3


def test_random_weights_barely_stylise_compared_with_caffe(caffe_vgg, random_vgg):
    """The control: with random VGG19 weights the same run changes the picture much less."""
    from xstyle.data import load_sample

    content, style = load_sample("chelsea", size=48), load_sample("starry_night", size=48)
    cfg = _cfg(size=48, steps=(15,))
    trained = style_transfer(content, style, config=cfg, model=caffe_vgg).image
    control = style_transfer(content, style, config=cfg, model=random_vgg).image
    change = lambda img: float((img - content).abs().mean())  # noqa: E731
    assert change(trained) > 2 * change(control)


@pytest.mark.parametrize("upsample", ["image", "residual"])
def test_upsample_modes_start_the_fine_level_differently(caffe_vgg, upsample):
    from xstyle.data import load_sample

    content, style = load_sample("chelsea", size=64), load_sample("great_wave", size=64)
    res = style_transfer(
        content, style, config=_cfg(size=64, steps=(5, 0), upsample=upsample), model=caffe_vgg
    )
    coarse = style_transfer(content, style, config=_cfg(size=32, steps=(5,)), model=caffe_vgg).image
    # with 0 fine steps the result is just the carried-up coarse result
    blurred = torch.nn.functional.interpolate(coarse, size=res.image.shape[-2:], mode="bilinear")
    if upsample == "image":
        assert torch.allclose(res.image, blurred.clamp(0, 1), atol=1e-5)
    else:  # the content's fine detail survives: closer to the content than the blurred result is
        assert (res.image - content).abs().mean() < (blurred - content).abs().mean()


@pytest.mark.slow
def test_single_scale_lbfgs_recovers_from_divergence(caffe_vgg):
    """At 128 px a one-level L-BFGS run overshoots after a few evaluations (it used to end near 1e16,
    60x above its start); the restart from the best image keeps the loss falling (the history also
    lists the line search's trial points, so only the result is compared)."""
    from xstyle.data import load_sample

    content, style = load_sample("chelsea", size=128), load_sample("starry_night", size=128)
    result = style_transfer(content, style, config=TransferConfig(size=128, steps=(12,)), model=caffe_vgg)
    losses = [step.total for step in result.history]
    assert len(losses) <= 12
    assert result.final["total"] < 0.5 * losses[0]


@pytest.mark.slow
def test_lbfgs_falls_back_to_a_line_search_where_every_restart_overshoots(caffe_vgg):
    """On sample:china the line-search-free L-BFGS overshoots on its first quasi-Newton step even
    at an eighth of the step size (it used to return the photo unchanged, style loss 100x the
    result's); the strong-Wolfe restart makes it stylise like any other photo."""
    from xstyle.data import load_sample

    content, style = load_sample("china", size=128), load_sample("starry_night", size=128)
    result = style_transfer(content, style, config=TransferConfig(size=128, steps=(16,)), model=caffe_vgg)
    losses = [step.total for step in result.history]
    assert len(losses) <= 16
    assert result.final["total"] < 0.2 * losses[0]
    assert float((result.image - content).abs().mean()) > 0.01


def test_initial_image_kinds_and_seeded_noise(tiny_images):
    from xstyle.transfer import make_initial_image

    content, style = tiny_images
    assert torch.equal(make_initial_image("content", content, style, generator=torch.Generator()), content)
    styled = make_initial_image("style", content, style[..., :20, :], generator=torch.Generator())
    assert styled.shape == content.shape  # resized to the content's size
    a = make_initial_image("noise", content, style, generator=torch.Generator().manual_seed(4))
    b = make_initial_image("noise", content, style, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and a.shape == content.shape and 0 <= a.min() and a.max() <= 1
    with pytest.raises(ValueError, match="kind must be 'content', 'style' or 'noise'; got 'photo'"):
        make_initial_image("photo", content, style, generator=torch.Generator())


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimise_image_lowers_the_loss_and_counts_evaluations(caffe_vgg, tiny_images, optimizer):
    from xstyle.transfer import optimise_image

    content, style = tiny_images
    cfg = _cfg(optimizer=optimizer)
    objective = StyleObjective(caffe_vgg, content, style, cfg)
    seen = []
    out = optimise_image(objective, content, steps=8, config=cfg, on_step=lambda *a: seen.append(a[-1]))
    assert seen == list(range(8))
    with torch.no_grad():
        before, after = float(objective(content)[0].sum()), float(objective(out)[0].sum())
    assert after < before and out.shape == content.shape and 0 <= out.min() and out.max() <= 1
    assert torch.equal(optimise_image(objective, content, steps=0, config=cfg), content)  # no callback needed


def test_cli_passes_min_level():
    from xstyle.cli import build_parser
    from xstyle.cli.transfer import _config_from

    parser = build_parser()
    args = parser.parse_args(["transfer", "a.png", "b.png", "-o", "o.png"])
    assert _config_from(args).min_level == 256
    args = parser.parse_args(["transfer", "a.png", "b.png", "-o", "o.png", "--min-level", "16"])
    assert _config_from(args).min_level == 16
