"""The stylizer's networks, data, explanations and displays, on tiny sizes."""

import pytest
import torch

from xstyle.explain.style.stylizer import (
    PatchDiscriminatorTarget,
    StylizedLossTarget,
    ablate_blocks,
    discriminator_patch_maps,
    evaluate_stylizer,
    explain_stylizer,
    stylizer_pixel_maps,
)
from xstyle.hooks import FeatureTap, Intervention, assert_no_hooks, list_layers
from xstyle.stylizer import (
    CONTENT_PHOTOS,
    HELDOUT_PHOTOS,
    ArchConfig,
    ContentSet,
    PatchDiscriminator,
    PhotoCrops,
    TransformNet,
    random_crops,
    stylize,
    total_variation,
)

TINY = ArchConfig(channels=(4, 8, 8), n_residual=2, outer_kernel=3, disc_channels=(8, 8))


@pytest.fixture
def nets():
    torch.manual_seed(0)
    return TransformNet(TINY), PatchDiscriminator(TINY)


@pytest.fixture
def pair():
    from xstyle.data import load_sample

    return load_sample("chelsea", size=32), load_sample("starry_night", size=32)


def test_transform_net_shapes_range_names_and_odd_sizes(nets):
    net, disc = nets
    for shape in ((2, 3, 32, 32), (1, 3, 30, 45)):
        with torch.no_grad():
            y = net(torch.rand(shape))
        assert y.shape == shape and 0 <= float(y.min()) and float(y.max()) <= 1
    names = list_layers(net)
    for name in ("conv_in", "down1", "down2", "res1", "res2", "res1.branch", "up1", "up2", "conv_out"):
        assert name in names
    assert net.block_names == ["res1", "res2"]
    assert not any(getattr(m, "inplace", False) for m in net.modules())
    assert not any(getattr(m, "inplace", False) for m in disc.modules())
    logits = disc(torch.rand(3, 3, 32, 32))
    assert logits.shape == (3, 1, 8, 8)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        net(torch.rand(1, 1, 32, 32))


def test_default_stylizer_is_small():
    net, disc = TransformNet(), PatchDiscriminator()
    n = sum(p.numel() for p in net.parameters()) + sum(p.numel() for p in disc.parameters())
    assert n * 4 < 3_000_000  # float32 bytes: far under the 10 MB budget


def test_ablating_a_residual_branch_makes_the_block_the_identity(nets):
    net, _ = nets
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad(), FeatureTap(net, ["down2", "res1"]) as tap:
        tap.run(x)
        with Intervention(net, {"res1.branch": {"mask": 1.0}}):
            feats = tap.run(x)
    assert torch.equal(feats["down2"], feats["res1"])
    assert_no_hooks(net)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [(dict(channels=(4, 8)), "channels"), (dict(n_residual=-1), "n_residual"), (dict(outer_kernel=4), "odd")],
)
def test_arch_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ArchConfig(**kwargs)


def test_content_photos_are_at_least_ten_with_a_fixed_heldout_split():
    from xstyle.stylizer import load_content_photos

    assert len(CONTENT_PHOTOS) >= 13
    train = load_content_photos("train", max_side=64)
    held = load_content_photos("heldout", max_side=64)
    assert len(train) >= 10 and set(held) == set(HELDOUT_PHOTOS)
    assert not set(train) & set(held)
    for img in [*train.values(), *held.values()]:
        assert img.ndim == 4 and img.shape[:2] == (1, 3) and max(img.shape[-2:]) == 64
    with pytest.raises(ValueError, match="split"):
        load_content_photos("test")


def test_crops_are_seeded_scaled_and_flipped(pair):
    content, _ = pair
    big = torch.rand(1, 3, 50, 70)
    a = random_crops(big, 4, 24, generator=torch.Generator().manual_seed(1), scale=(0.5, 1.0))
    b = random_crops(big, 4, 24, generator=torch.Generator().manual_seed(1), scale=(0.5, 1.0))
    assert a.shape == (4, 3, 24, 24) and torch.equal(a, b)
    small = random_crops(torch.rand(1, 3, 10, 12), 2, 24, generator=torch.Generator().manual_seed(0))
    assert small.shape == (2, 3, 24, 24)  # upscaled to fit
    crops = PhotoCrops(ContentSet({"c": content}, "t"), 16, generator=torch.Generator().manual_seed(0))
    assert crops.next_batch(3).shape == (3, 3, 16, 16)
    with pytest.raises(ValueError, match="empty"):
        ContentSet({}, "nothing")


def test_folder_content(tmp_path):
    from xstyle.images import save_image
    from xstyle.stylizer import load_folder

    with pytest.raises(ValueError, match="not a folder"):
        load_folder(tmp_path / "nope")
    with pytest.raises(ValueError, match="holds no images"):
        load_folder(tmp_path)
    save_image(torch.rand(1, 3, 20, 30), tmp_path / "a.png")
    assert list(load_folder(tmp_path)) == ["a.png"]
    (tmp_path / "b.jpg").write_text("not an image")
    with pytest.raises(ValueError, match=r"b\.jpg"):
        load_folder(tmp_path)  # an eager load checks every file
    lazy = load_folder(tmp_path, lazy=True)
    assert lazy == {"a.png": tmp_path / "a.png", "b.jpg": tmp_path / "b.jpg"}
    crops = PhotoCrops(ContentSet(lazy, "folder"), 16, generator=torch.Generator().manual_seed(0))
    assert crops.next_batch(4).shape == (4, 3, 16, 16)  # the unreadable file is skipped


def test_total_variation():
    flat = torch.full((2, 3, 8, 8), 0.3)
    assert torch.equal(total_variation(flat), torch.zeros(2))
    noisy = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    assert float(total_variation(noisy)[0]) > 0.05


def test_stylize_restores_mode_and_needs_rgb(nets):
    net, _ = nets
    net.train()
    out = stylize(net, torch.rand(3, 3, 16, 16), batch_size=2)
    assert out.shape == (3, 3, 16, 16) and net.training and not out.requires_grad
    with pytest.raises(ValueError, match="images must have shape"):
        stylize(net, torch.rand(3, 16, 16))


def _flags(*modules):
    return [(m.training, [p.requires_grad for p in m.parameters()]) for m in modules]


def test_pixel_maps_complete_and_leave_models_as_found(nets, pair, random_vgg):
    net, _ = nets
    content, style = pair
    net.train()
    before = _flags(net, random_vgg)
    res = stylizer_pixel_maps(net, content, style, vgg=random_vgg, n_steps=24)
    assert _flags(net, random_vgg) == before
    hw = tuple(content.shape[-2:])
    assert res.style_evidence.shape == hw and res.dominance.shape == hw
    assert abs(float(res.style_evidence.sum()) - 1) < 1e-6
    for name in ("style", "content"):  # IG's completeness error is reported (a float) for both maps
        assert isinstance(res.completeness[name], float) and res.completeness[name] >= 0
        assert res.losses[name]["baseline"] is not None
    assert res.to_dict()["size"] == list(hw)
    assert_no_hooks(net)
    assert_no_hooks(random_vgg)
    res.plot()


def test_stylized_target_is_the_loss_of_the_output(nets, pair, random_vgg):
    from xstyle.explain.attribution.targets import StyleLossTarget

    net, _ = nets
    content, style = pair
    inner = StyleLossTarget(random_vgg, style)
    target = StylizedLossTarget(net, inner)
    with torch.no_grad():
        assert torch.allclose(target(content), inner(net(content)))
    assert target.networks()[0] is net and target.with_model(net).inner is inner


def test_discriminator_maps(nets, pair):
    _, disc = nets
    content, style = pair
    res = discriminator_patch_maps(disc, content, content=content, style=style, n_steps=8)
    assert set(res.probability) == {"output", "content", "style"}
    h, w = content.shape[-2:]
    assert res.probability["output"].shape == (h // 4, w // 4)
    assert res.pixel_map.shape == (h, w)
    assert 0 <= res.mean_probability["style"] <= 1
    with torch.no_grad():
        assert PatchDiscriminatorTarget(disc)(content).shape == (1,)
    assert_no_hooks(disc)
    res.plot()


def test_block_ablation(nets, pair, random_vgg):
    net, _ = nets
    content, style = pair
    res = ablate_blocks(net, content, style, vgg=random_vgg)
    assert set(res.blocks) == {"res1", "res2"} and set(res.images) == {"intact", "res1", "res2"}
    assert res.channel_style_change["res1"].shape == (8,)
    assert len(res.top_channels(3)) == 3
    assert not torch.equal(res.images["intact"], res.images["res1"])
    assert_no_hooks(net)
    with pytest.raises(ValueError, match="residual blocks"):
        ablate_blocks(net, content, style, vgg=random_vgg, blocks=["up1"])
    res.plot()


def test_evaluate_and_explain(nets, pair, random_vgg):
    net, disc = nets
    content, style = pair
    ev = evaluate_stylizer(net, {"a": content, "b": content}, style, vgg=random_vgg, size=32)
    assert set(ev.per_image) == {"a", "b"} and -1 <= ev.mean["ssim"] <= 1
    assert ev.mean["style"] > 0 and ev.to_dict()["size"] == 32
    full = explain_stylizer(net, disc, content, style, vgg=random_vgg, n_steps=4, channels=False)
    assert set(full.to_dict()) == {"evaluation", "attribution", "discriminator", "ablation", "seconds"}


class _Boom(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("boom")


@pytest.mark.parametrize("entry", ["pixel_maps", "disc", "ablation", "evaluate"])
def test_hooks_never_leak_on_error(nets, pair, random_vgg, entry):
    """Force an error inside the forward pass of each public entry point; no hook may remain."""
    net, disc = nets
    content, style = pair
    net.res2.branch.act = _Boom()  # raise inside the stylizer
    disc.head = _Boom()
    net.train()
    with pytest.raises(RuntimeError, match="boom"):
        if entry == "pixel_maps":
            stylizer_pixel_maps(net, content, style, vgg=random_vgg, n_steps=2)
        elif entry == "disc":
            discriminator_patch_maps(disc, content)
        elif entry == "ablation":
            ablate_blocks(net, content, style, vgg=random_vgg)
        else:
            evaluate_stylizer(net, {"a": content}, style, vgg=random_vgg, size=32)
    for model in (net, disc, random_vgg):
        assert_no_hooks(model)
    assert net.training
    assert all(p.requires_grad for p in net.parameters())


def test_displays_from_steps():
    from xstyle.explain.style.stylizer_plots import StylizerComparisonDisplay
    from xstyle.stylizer.plots import StylizerTrainingDisplay

    steps = [
        dict(
            step=i + 1,
            content=1.0 / (i + 1),
            style=2.0,
            tv=0.1,
            adversarial=0.7,
            d_loss=1.3,
            d_real=0.5,
            d_fake=0.5,
        )
        for i in range(30)
    ]
    d = StylizerTrainingDisplay.from_steps(steps).plot()
    assert len(d.axes_) == 3 and d.figure_ is not None
    no_adv = [dict(s, adversarial=0.0, d_loss=0.0) for s in steps]
    StylizerTrainingDisplay.from_steps(no_adv).plot()
    with pytest.raises(ValueError, match="empty"):
        StylizerTrainingDisplay.from_steps([])
    img = torch.rand(1, 3, 8, 8)
    c = StylizerComparisonDisplay.from_images(
        {"a": img}, {"fast": {"a": img}}, {"fast": {"a": {"style": 1.0, "content": 2.0, "ssim": 0.5}}}
    ).plot()
    assert c.axes_.shape == (1, 2)


def test_report_section(tmp_path, pair, random_vgg):
    from xstyle.report.stylizer import add_stylizer_section
    from xstyle.report.writer import Report, write_report
    from xstyle.stylizer import StylizerConfig, StylizerTrainer

    content, style = pair
    cfg = StylizerConfig(
        epochs=1,
        steps_per_epoch=1,
        batch_size=1,
        crop_size=32,
        style_size=32,
        patch_size=16,
        arch=TINY,
        out_dir=str(tmp_path / "run"),
    )
    StylizerTrainer(ContentSet({"c": content}, "t"), style, config=cfg, vgg=random_vgg).fit()
    report = Report(title="t")
    root = tmp_path / "report"
    metrics = add_stylizer_section(
        report,
        root,
        tmp_path / "run" / "epoch_0001.pt",
        content,
        vgg=random_vgg,
        n_steps=2,
        channels=False,
        optimisation={"style": 1.0, "content": 2.0},
    )
    assert report.sections[0].title == "Real-time stylizer" and len(report.figures) == 5
    assert all((root / f.path).exists() for f in report.figures)
    assert "ablation" in metrics
    write_report(report, root)


def test_image_losses_are_the_numbers_a_transfer_reports(caffe_vgg, tiny_images):
    from xstyle.explain.style.stylizer import image_losses
    from xstyle.transfer import TransferConfig, style_transfer

    content, style = tiny_images
    config = TransferConfig(size=32, steps=(3,), normalize="seed", optimizer="adam")
    result = style_transfer(content, style, config=config, model=caffe_vgg)
    losses = image_losses(result.image, content, style, vgg=caffe_vgg, normalize="seed")
    assert losses["content"] == pytest.approx(result.final["content"], rel=1e-5)
    assert losses["style"] == pytest.approx(result.final["style"], rel=1e-5)
    assert losses["style_relu3_1"] == pytest.approx(result.final["style_per_layer"]["relu3_1"], rel=1e-5)
    with pytest.raises(ValueError, match="normalize"):
        image_losses(result.image, content, style, vgg=caffe_vgg, normalize="bogus")
