"""Targets, the Captum adapter and the sanity checks, on tiny models where the right answer is known."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from xstyle.explain.attribution.engine import METHODS, attribute, make_baseline
from xstyle.explain.attribution.sanity import deletion_insertion, randomisation_check
from xstyle.explain.attribution.targets import (
    ChannelTarget,
    ClassTarget,
    ContentLossTarget,
    DiscriminatorTarget,
    GramEntryTarget,
    StyleLossTarget,
    Target,
)
from xstyle.hooks import assert_no_hooks
from xstyle.losses import gram_matrix
from xstyle.transfer import StyleObjective, TransferConfig


class RegionNet(nn.Module):
    """conv (1x1, so no spatial mixing) + ReLU; the target reads only the top-left 4x4 region."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 1)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.conv(x))


class RegionTarget(Target):
    deeplift_ok = True

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def with_model(self, model):
        return RegionTarget(model)

    def forward(self, x):
        return self.model(x)[:, :, :4, :4].pow(2).flatten(1).sum(1)


def _region_share(attr: torch.Tensor) -> float:
    mass = attr.abs().sum(dim=(0, 1))
    return float(mass[:4, :4].sum() / mass.sum())


# ------------------------------------------------------------------------------------------ targets


def test_style_target_matches_the_transfer_objective(caffe_vgg, tiny_images):
    content, style = tiny_images
    config = TransferConfig(size=32)
    objective = StyleObjective(caffe_vgg, content, style, config)
    _, _, s = objective(content)
    target = StyleLossTarget(caffe_vgg, style)
    assert torch.allclose(target(content), s.total, rtol=1e-5)
    parts = sum(target.layer(name)(content) for name in target.layers)
    assert torch.allclose(parts, target(content), rtol=1e-5)


def test_targets_compose(caffe_vgg, tiny_images):
    content, style = tiny_images
    s, c = StyleLossTarget(caffe_vgg, style), ContentLossTarget(caffe_vgg, content)
    x = content.flip(-1)
    both = 1e4 * s + c
    assert torch.allclose(both(x), 1e4 * s(x) + c(x), rtol=1e-5)
    assert torch.allclose((s - c)(x), s(x) - c(x), rtol=1e-5)
    assert torch.allclose((-c)(x), -c(x))
    assert c(content).item() == pytest.approx(0.0, abs=1e-6)  # the content scores zero against itself
    assert "style loss" in both.label and "content loss" in both.label


def test_gram_entry_parts_sum_to_the_layer_loss(caffe_vgg, tiny_images):
    from xstyle.explain.style.maps import gram_entry_attribution

    content, style = tiny_images
    result = gram_entry_attribution(
        content, style=style, model=caffe_vgg, layers=["relu1_1", "relu2_1"], top_k=2, n_steps=2
    )
    target = StyleLossTarget(caffe_vgg, style, layers=["relu1_1", "relu2_1"])
    for layer, matrix in result.contributions.items():
        assert float(matrix.sum()) == pytest.approx(float(target.layer(layer)(content)), rel=1e-4)
        top = result.top_pairs[layer][0]
        entry = GramEntryTarget(caffe_vgg, layer, top["i"], top["j"], style=style)(content)
        assert float(entry) * target.weights[layer] == pytest.approx(top["contribution"], rel=1e-4)
        assert top["contribution"] >= result.top_pairs[layer][1]["contribution"]
        assert result.maps[(layer, top["i"], top["j"])].shape == content.shape[-2:]
    g = gram_matrix(_features(caffe_vgg, content, "relu1_1"))[0]
    assert GramEntryTarget(caffe_vgg, "relu1_1", 3, 5)(content).item() == pytest.approx(
        float(g[3, 5]), rel=1e-5
    )


def _features(model, image, layer):
    from xstyle.hooks import FeatureTap

    with FeatureTap(model, [layer], stop_after_last=True) as tap:
        return tap.run(image)[layer]


def test_channel_and_gan_targets():
    from xstyle.gan.classifier import DigitClassifier
    from xstyle.gan.dcgan import Discriminator, Generator

    torch.manual_seed(0)
    g, d, clf = Generator().eval(), Discriminator().eval(), DigitClassifier().eval()
    z = torch.randn(3, 100)
    with torch.no_grad():
        assert torch.allclose(ClassTarget(g, clf, 7)(z), clf(g(z))[:, 7])
        digits = g(z)
        assert torch.allclose(DiscriminatorTarget(d)(digits), d(digits)[:, 0])
        assert torch.allclose(
            ChannelTarget(g, "deconv2", 5)(z), _features(g, z, "deconv2")[:, 5].mean(dim=(1, 2))
        )


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda m, s: StyleLossTarget(m, s, layers=["relu9_1"]), "Did you mean"),
        (lambda m, s: GramEntryTarget(m, "relu1_1", 64, 0), r"i must be a channel index in \[0, 64\)"),
        (lambda m, s: ChannelTarget(m, "relu1_1", -1), "channel must be a non-negative integer"),
        (lambda m, s: StyleLossTarget(m, s[0, 0]), r"style must have shape \(N, 3, H, W\)"),
    ],
)
def test_target_errors_are_one_line(caffe_vgg, tiny_images, build, match):
    with pytest.raises(ValueError, match=match) as info:
        build(caffe_vgg, tiny_images[1])
    assert "\n" not in str(info.value)


def test_class_target_rejects_bad_digit():
    from xstyle.gan.classifier import DigitClassifier
    from xstyle.gan.dcgan import Generator

    with pytest.raises(ValueError, match="digit must be an integer class in 0-9; got 10"):
        ClassTarget(Generator(), DigitClassifier(), 10)


# ------------------------------------------------------------------------------------------ adapter


@pytest.mark.parametrize(
    "method", ["ig", "saliency", "input_x_gradient", "gradient_shap", "deeplift", "occlusion"]
)
def test_attribution_lands_on_the_region_the_target_reads(method):
    target = RegionTarget(RegionNet())
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    options = {"sliding_window_shapes": (3, 2, 2), "strides": (3, 2, 2)} if method == "occlusion" else {}
    result = attribute(target, x, method=method, baselines="black", n_steps=16, **options)
    assert result.attributions.shape == x.shape
    assert _region_share(result.attributions) > 0.99
    if method == "ig":
        assert result.completeness() < 1e-2  # 16 steps across ReLU kinks
        total = float(result.attributions.sum())
        assert total == pytest.approx(float(result.scores[0] - result.baseline_scores[0]), rel=1e-2)


def test_noise_tunnel_and_layer_methods():
    target = RegionTarget(RegionNet())
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    smooth = attribute(target, x, method="ig", noise_tunnel="smoothgrad", nt_samples=3, n_steps=4)
    assert smooth.attributions.shape == x.shape and smooth.options["noise_tunnel"] == "smoothgrad"
    for method in ("layer_ig", "layer_conductance", "layer_gradcam"):
        result = attribute(target, x, method=method, layer="act", baselines="black", n_steps=8)
        assert result.attributions.shape == (2, 4, 16, 16)
        assert result.channel_scores().shape == (2, 4)
        if method == "layer_gradcam":  # Grad-CAM spreads the mean gradient over every position
            continue
        outside = result.attributions[..., 4:, :].abs().sum() + result.attributions[..., :4, 4:].abs().sum()
        assert float(outside) < 1e-6 * max(float(result.attributions.abs().sum()), 1.0)
    layer_ig = attribute(target, x, method="layer_ig", layer="act", baselines="black", n_steps=32)
    assert layer_ig.completeness() < 1e-2


def test_internal_batch_size_does_not_change_the_result():
    target = RegionTarget(RegionNet())
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    a = attribute(target, x, method="ig", n_steps=8, internal_batch_size=1).attributions
    b = attribute(target, x, method="ig", n_steps=8, internal_batch_size=8).attributions
    assert torch.allclose(a, b, atol=1e-6)


def test_random_methods_are_seeded_and_leave_the_global_rng_alone():
    target = RegionTarget(RegionNet())
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = attribute(target, x, method="gradient_shap", baselines="noise", seed=1, n_samples=4).attributions
    assert torch.equal(torch.get_rng_state(), state)
    b = attribute(target, x, method="gradient_shap", baselines="noise", seed=1, n_samples=4).attributions
    c = attribute(target, x, method="gradient_shap", baselines="noise", seed=2, n_samples=4).attributions
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "lime"}, "method must be one of ig, saliency"),
        ({"method": "layer_ig"}, "pass layer="),
        ({"method": "ig", "layer": "act"}, "layer is only used by the layer methods"),
        ({"method": "layer_ig", "layer": "conv9"}, "layer must be a layer name from"),
        ({"noise_tunnel": "blur"}, "noise_tunnel must be one of"),
        ({"baselines": "grey"}, "baseline must be one of"),
        ({"n_steps": 0}, "n_steps must be an integer >= 1"),
        ({"internal_batch_size": 0}, r"internal_batch_size \(or None\) must be an integer >= 1"),
    ],
)
def test_adapter_errors_name_what_exists(kwargs, match):
    target = RegionTarget(RegionNet())
    with pytest.raises(ValueError, match=match) as info:
        attribute(target, torch.rand(1, 3, 8, 8), **kwargs)
    assert "\n" not in str(info.value)


def test_deeplift_is_refused_for_gram_targets(caffe_vgg, tiny_images):
    with pytest.raises(ValueError, match="does not cover the non-linearities"):
        attribute(StyleLossTarget(caffe_vgg, tiny_images[1]), tiny_images[0], method="deeplift")


def test_nan_inputs_are_refused():
    with pytest.raises(ValueError, match="NaN"):
        attribute(RegionTarget(RegionNet()), torch.full((1, 3, 8, 8), float("nan")))


def test_baselines():
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    blur = make_baseline(x, kind="blur")
    assert blur.shape == x.shape and blur.std() < x.std()  # smoother than the image
    assert torch.allclose(blur.mean(dim=(2, 3)), x.mean(dim=(2, 3)), atol=0.05)
    assert torch.equal(make_baseline(x, kind="black"), torch.zeros_like(x))
    assert torch.allclose(make_baseline(x, kind="mean")[:, :, 0, 0], x.mean(dim=(2, 3)))
    assert torch.equal(make_baseline(x, kind="noise", seed=3), make_baseline(x, kind="noise", seed=3))


# ---------------------------------------------------- models are left as found, hooks never leak


class Boom(RuntimeError):
    pass


def _arm(model: nn.Module, layer: str) -> None:
    def explode(*_args, **_kwargs):
        raise Boom("forced failure")

    model.get_submodule(layer).forward = explode


def test_attribute_restores_flags_and_hooks_even_on_error():
    net = RegionNet().train()
    net.conv.weight.requires_grad_(True)
    net.conv.bias.requires_grad_(False)
    target = RegionTarget(net)
    x = torch.rand(1, 3, 8, 8)
    attribute(target, x, method="layer_ig", layer="act", n_steps=4)
    assert net.training and net.conv.weight.requires_grad and not net.conv.bias.requires_grad
    _arm(net, "act")
    for method, layer in (("ig", None), ("layer_ig", "act"), ("saliency", None)):
        with pytest.raises(Boom):
            attribute(target, x, method=method, layer=layer, n_steps=4)
        assert_no_hooks(net)
        assert net.training and net.conv.weight.requires_grad and not net.conv.bias.requires_grad


def test_analyses_leave_no_hooks_on_error(random_vgg, tiny_images):
    from xstyle.explain.style.maps import channel_carriers, gram_entry_attribution, style_content_maps

    content, style = tiny_images
    vgg = copy.deepcopy(random_vgg)
    targets = StyleLossTarget(vgg, style), ContentLossTarget(vgg, content)
    _arm(vgg, "relu3_1")
    calls = [
        lambda: style_content_maps(content, content=content, style=style, model=vgg, n_steps=2),
        lambda: channel_carriers(content, content=content, style=style, model=vgg, n_steps=2),
        lambda: gram_entry_attribution(content, style=style, model=vgg, n_steps=2),
        lambda: deletion_insertion(targets[1], content, content[0, 0], baseline=torch.zeros_like(content)),
        lambda: randomisation_check(targets[0], content, n_steps=2),
    ]
    for call in calls:
        with pytest.raises(Boom):
            call()
        assert_no_hooks(vgg)
        assert not vgg.training


def test_gan_analyses_leave_no_hooks_on_error():
    from xstyle.explain.gan.gan_maps import discriminator_maps, latent_class_attribution
    from xstyle.gan.classifier import DigitClassifier
    from xstyle.gan.dcgan import Discriminator, Generator

    torch.manual_seed(0)
    g, d, clf = Generator().train(), Discriminator().train(), DigitClassifier().train()
    digits = torch.rand(2, 1, 28, 28) * 2 - 1
    _arm(d, "act2")
    with pytest.raises(Boom):
        discriminator_maps(d, digits, digits, n_steps=2)
    _arm(g, "act1")
    with pytest.raises(Boom):
        latent_class_attribution(g, clf, n=4, n_steps=2)
    for net in (g, d, clf):
        assert_no_hooks(net)
        assert net.training and all(p.requires_grad for p in net.parameters())


# ------------------------------------------------------------------------------------------- sanity


def test_deletion_insertion_rewards_the_true_map():
    target = RegionTarget(RegionNet())
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0)) + 0.5
    truth = torch.zeros(16, 16)
    truth[:4, :4] = 1 + torch.arange(16.0).reshape(4, 4)
    good = deletion_insertion(target, x, truth, baseline=torch.zeros_like(x), steps=8)
    bad = deletion_insertion(target, x, -truth, baseline=torch.zeros_like(x), steps=8)
    assert good.passed and not bad.passed
    assert good.deletion[0] == pytest.approx(1.0) and good.deletion[-1] == pytest.approx(0.0, abs=1e-6)
    assert good.deletion_auc < good.random_deletion_auc < bad.deletion_auc + 1e-9
    with pytest.raises(ValueError, match="saliency must be an"):
        deletion_insertion(target, x, truth[:8], baseline=torch.zeros_like(x))
    batched = deletion_insertion(target, x, truth[None], baseline=torch.zeros_like(x), steps=8)
    assert (batched.deletion == good.deletion).all()  # maps() of one image, (1, H, W), works as is


class InputOnlyTarget(RegionTarget):
    """Ignores the network: any map of it must fail the randomisation check."""

    def with_model(self, model):
        return InputOnlyTarget(model)

    def forward(self, x):
        return x[:, :, :4, :4].pow(2).flatten(1).sum(1) + 0 * self.model(x).sum()


def test_randomisation_check_passes_model_dependent_maps_and_fails_others():
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    net = RegionNet()
    before = copy.deepcopy(net.state_dict())

    class Deep(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.conv1_1 = nn.Conv2d(3, 8, 3, padding=1)
            self.act = nn.ReLU()
            self.conv2_1 = nn.Conv2d(8, 4, 3, padding=1)

        def forward(self, x):
            return self.conv2_1(self.act(self.conv1_1(x)))

    class Full(RegionTarget):
        def with_model(self, model):
            return Full(model)

        def forward(self, x):
            return self.model(x).pow(2).flatten(1).sum(1)

    deep = Deep()
    passes = randomisation_check(Full(deep), x, method="saliency")
    fails = randomisation_check(InputOnlyTarget(net), x, method="saliency")
    assert passes.stages == ["conv2", "conv1"]
    assert passes.passed and passes.spearman_abs[-1] < 0.5
    assert not fails.passed and fails.spearman_abs[-1] == pytest.approx(1.0)
    for k, v in before.items():  # the caller's network is untouched
        assert torch.equal(net.state_dict()[k], v)


def test_every_method_is_listed():
    assert set(METHODS) == {
        "ig",
        "saliency",
        "input_x_gradient",
        "gradient_shap",
        "deeplift",
        "occlusion",
        "layer_ig",
        "layer_conductance",
        "layer_gradcam",
    }


def test_a_registered_method_runs_through_attribute_and_is_listed(monkeypatch):
    """A new method is one MethodSpec: attribute() runs it and the name lists follow."""
    import xstyle._attribution_methods as registry
    from xstyle.explain.attribution import MethodSpec, register_method

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "METHOD_SPECS", registry.MappingProxyType(registry._REGISTRY))
    monkeypatch.setattr("xstyle.explain.attribution.engine.METHOD_SPECS", registry.METHOD_SPECS)
    spec = register_method(
        MethodSpec("guided_backprop", "GuidedBackprop", "input", piecewise_linear_only=True)
    )
    assert "guided_backprop" in registry.input_methods() and "guided_backprop" not in registry.image_methods()
    target = RegionTarget(RegionNet())
    target.deeplift_ok = True  # ReLU network: the guided rules apply
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    result = attribute(target, x, method=spec.name)
    assert result.method == "guided_backprop" and result.attributions.shape == x.shape
    assert _region_share(result.attributions) > 0.99
    with pytest.raises(ValueError, match="already registered"):
        register_method(MethodSpec("ig", "IntegratedGradients", "input"))
    with pytest.raises(ValueError, match="kind must be 'input' or 'layer'"):
        register_method(MethodSpec("x", "Saliency", "output"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method must be one of ig, saliency"):
        attribute(target, x, method="lrp")


def test_registry_drives_the_options_and_completeness():
    """The spec decides: gradient_shap has no completeness check and no single baseline score;
    occlusion records its window; layer_gradcam keeps its channels."""
    target = RegionTarget(RegionNet())
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    shap = attribute(target, x, method="gradient_shap", baselines="black")
    assert shap.delta is None and shap.baseline_scores is None and shap.options["n_samples"] == 8
    occ = attribute(target, x, method="occlusion", baselines="black")
    assert occ.options["sliding_window_shapes"] == "(3, 2, 2)" and occ.completeness() is None
    cam = attribute(target, x, method="layer_gradcam", layer="conv")
    assert cam.attributions.shape == (2, 4, 16, 16)


def test_attribution_result_plots_over_its_image():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    result = attribute(RegionTarget(RegionNet()), x, method="saliency")
    display = result.plot(image=x)
    assert display.figure_.axes
    plt.close(display.figure_)


def test_a_target_without_one_score_per_sample_is_refused_before_attribution():
    from xstyle.explain.attribution.targets import Target

    class Total(Target):  # sums over the batch too: a common slip
        def __init__(self):
            super().__init__()
            self.model = RegionNet()

        def forward(self, x):
            return self.model(x).sum()

    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with pytest.raises(
        ValueError, match=r"scores of shape \(\) for inputs \(2, 3, 16, 16\).*one score per sample"
    ):
        attribute(Total(), x, method="ig", n_steps=4)
