"""Feature visualisation: known answers on stub networks, seeds, hooks, Gram components, errors, plots."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from torch import nn

from xstyle.data import load_single_image
from xstyle.explain.style.featurevis import (
    ChannelVisualization,
    GramComponentVisualization,
    visualize_channels,
    visualize_gram_components,
)
from xstyle.explain.style.featurevis_plots import ChannelVisualizationDisplay, GramComponentDisplay
from xstyle.explain.style.gram import layer_spectrum
from xstyle.hooks import FeatureTap, assert_no_hooks
from xstyle.losses import gram_matrix

FAST = {"size": 32, "steps": 40}


def _edge_net(*, vertical: bool = True, height: int = 9) -> nn.Sequential:
    """conv (3 -> 1) with one fixed oriented-edge filter, then ReLU.

    ``vertical``: a tall (``height`` x 3) filter ``[-1, 0, 1]`` per row on every colour, i.e. a
    detector of long vertical edges (horizontal intensity gradients); else the same filter rotated.
    """
    k = torch.ones(height, 1) * torch.tensor([[-1.0, 0.0, 1.0]]) / (2 * height)
    if not vertical:
        k = k.T.contiguous()
    conv = nn.Conv2d(3, 1, tuple(k.shape), padding=(k.shape[0] // 2, k.shape[1] // 2), bias=False)
    with torch.no_grad():
        conv.weight.copy_(k.expand(1, 3, *k.shape))
    return nn.Sequential(conv, nn.ReLU())


class _Centre(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - 0.5


def _texture_net(channels: int = 6) -> nn.Sequential:
    """Centre, a seeded bias-free conv (3 -> ``channels``, 5x5), ReLU (layer "2"): a Gram with
    structure, and silent on grey (so no constant component swamps the others)."""
    torch.manual_seed(0)
    return nn.Sequential(_Centre(), nn.Conv2d(3, channels, 5, padding=2, bias=False), nn.ReLU())


def _gradient_energy(images: torch.Tensor) -> tuple[float, float]:
    """(horizontal, vertical) mean squared finite differences of the images' luminance."""
    lum = images.mean(1)
    gx = (lum[..., :, 1:] - lum[..., :, :-1]).pow(2).mean()
    gy = (lum[..., 1:, :] - lum[..., :-1, :]).pow(2).mean()
    return float(gx), float(gy)


class _Bomb(nn.Module):
    """Identity that raises on its ``after``-th forward call."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after, self.calls = after, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls >= self.after:
            raise RuntimeError("boom")
        return x


# ---------------------------------------------------------------------------------- known answer


@pytest.mark.parametrize("vertical", [True, False])
def test_oriented_edge_channel_draws_edges_of_its_orientation(vertical):
    result = visualize_channels(_edge_net(vertical=vertical), "1", [0], size=32, steps=60, seed=0)
    gx, gy = _gradient_energy(result.images)
    along, across = (gx, gy) if vertical else (gy, gx)
    assert along > 2.0 * across, (gx, gy)
    assert result.activations[0] > 5 * result.initial_activations[0]


def test_channel_images_are_a_batch_in_unit_range():
    net = _texture_net()
    result = visualize_channels(net, "2", [0, 3, 5], **FAST)
    assert isinstance(result, ChannelVisualization)
    assert result.images.shape == (3, 3, 32, 32) and result.images.dtype == torch.float32
    assert 0 <= float(result.images.min()) and float(result.images.max()) <= 1
    assert result.channels == (0, 3, 5) and result.layer == "2"
    # each channel's activation went up, on its own image
    assert all(a > b for a, b in zip(result.activations, result.initial_activations, strict=True))
    with FeatureTap(net, "2") as tap:
        feats = tap.run(result.images)["2"]
    own = [float(feats[i, c].mean()) for i, c in enumerate(result.channels)]
    assert own == pytest.approx(list(result.activations), rel=1e-4)
    data = json.loads(json.dumps(result.to_dict()))
    config = {"size": 32, "steps": 40, "lr": 0.1, "jitter": 4, "scale": 0.05, "seed": 0, "leak": 0.01}
    assert data["config"] == config and data["meta"] == {"weights": "custom", "optimised": "1"}
    assert data["channels"] == [0, 3, 5] and len(data["activations"]) == 3 and data["seconds"] > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.layer = "1"  # type: ignore[misc]


def test_a_channel_silent_at_the_start_is_woken_by_the_leak():
    """A ReLU channel that is 0 on the grey start has no gradient; its leaky pre-activation has one."""
    conv = nn.Conv2d(3, 1, 3, padding=1)
    with torch.no_grad():
        conv.weight.fill_(1 / 27)  # mean brightness of a 3x3 patch
        conv.bias.fill_(-0.55)  # silent on the grey start (0.5 +- 0.01), active once brighter
    net = nn.Sequential(conv, nn.ReLU())
    plain = visualize_channels(net, "1", [0], size=32, steps=60, leak=0)
    assert plain.initial_activations == (0.0,) and plain.activations == (0.0,)
    assert plain.meta["optimised"] == "1"
    woken = visualize_channels(net, "1", [0], size=32, steps=60)
    assert woken.initial_activations == (0.0,) and woken.activations[0] > 0.02
    assert woken.meta["optimised"] == "0"
    # without the leak nothing moved: the images are the start (zero gradients, zero Adam steps)
    start = visualize_channels(net, "1", [0], size=32, steps=1, leak=0)
    assert torch.equal(plain.images, start.images)


# ------------------------------------------------------------------------------------------ seeds


def test_same_seed_same_images_other_seed_other_images():
    net = _texture_net()
    a = visualize_channels(net, "2", [0, 1], seed=3, **FAST)
    b = visualize_channels(net, "2", [0, 1], seed=3, **FAST)
    c = visualize_channels(net, "2", [0, 1], seed=4, **FAST)
    assert torch.equal(a.images, b.images)
    assert not torch.allclose(a.images, c.images, atol=1e-3)
    style = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    g1 = visualize_gram_components(net, "2", style, components=(0, 1), seed=7, **FAST)
    g2 = visualize_gram_components(net, "2", style, components=(0, 1), seed=7, **FAST)
    g3 = visualize_gram_components(net, "2", style, components=(0, 1), seed=8, **FAST)
    assert torch.equal(g1.images, g2.images)
    assert not torch.allclose(g1.images, g3.images, atol=1e-3)


# ------------------------------------------------------------------------------- hooks and flags


def test_no_hook_left_and_flags_restored():
    net = _texture_net()
    net.train()
    net.append(nn.Conv2d(6, 2, 1))
    net[3].bias.requires_grad_(False)  # a mixed state to restore exactly
    style = torch.rand(1, 3, 32, 32)
    visualize_channels(net, "2", [0], size=32, steps=2)
    visualize_gram_components(net, "2", style, components=(0,), size=32, steps=2)
    assert_no_hooks(net)
    assert all(m.training for m in net.modules())
    assert net[1].weight.requires_grad and net[3].weight.requires_grad and not net[3].bias.requires_grad
    assert net[1].weight.grad is None


@pytest.mark.parametrize("after", [1, 3])  # the first forward pass, or one inside the optimisation
@pytest.mark.parametrize("kind", ["channels", "gram"])
def test_no_hook_left_when_the_forward_raises(kind, after):
    net = _texture_net()
    net.insert(2, _Bomb(after))  # before the tapped ReLU, now "3" (modules after it never run)
    net.train()
    with pytest.raises(RuntimeError, match="boom"):
        if kind == "channels":
            visualize_channels(net, "3", [0], size=32, steps=5)
        else:
            visualize_gram_components(net, "3", torch.rand(1, 3, 32, 32), components=(0,), size=32, steps=5)
    assert_no_hooks(net)
    assert all(m.training for m in net.modules())
    assert all(p.requires_grad for p in net.parameters())


# ------------------------------------------------------------------------------- Gram components


def _gram_and_targets(net, layer, style, size, components):
    img = load_single_image(style, size=size)
    with torch.no_grad(), FeatureTap(net, layer) as tap:
        feats = tap.run(img)[layer]
    spec = layer_spectrum(layer, gram_matrix(feats, normalize="mean")[0], feats[0, 0].numel())
    lam, vec = spec.eigenvalues.clamp_min(0), spec.eigenvectors
    return spec, {k: lam[k] * torch.outer(vec[:, k], vec[:, k]) for k in components}


def _grams(net, layer, images):
    with torch.no_grad(), FeatureTap(net, layer) as tap:
        return gram_matrix(tap.run(images)[layer], normalize="mean").double()


@pytest.mark.parametrize("which", ["stub", "vgg"])
def test_gram_component_textures_match_their_own_component(which, request):
    if which == "stub":
        net, layer, style = _texture_net(), "2", "sample:starry_night"
    else:
        net, layer, style = request.getfixturevalue("caffe_vgg"), "relu1_1", "sample:great_wave"
    comps = (0, 1, 2)
    result = visualize_gram_components(net, layer, style, components=comps, size=32, steps=60, lr=0.1)
    assert isinstance(result, GramComponentVisualization)
    assert result.images.shape == (3, 3, 32, 32)
    assert 0 <= float(result.images.min()) and float(result.images.max()) <= 1
    assert all(f < 0.9 * i for f, i in zip(result.losses, result.initial_losses, strict=True))
    spec, targets = _gram_and_targets(net, layer, style, 32, comps)
    grams = _grams(net, layer, result.images)
    n = grams.shape[-1]
    for i, k in enumerate(comps):
        distance = {j: float((grams[i] - targets[j]).pow(2).sum()) for j in comps}
        # texture i's Gram is closer to its own rank-1 target A_k than to any other component's
        assert min(distance, key=distance.get) == k, (k, distance)
        # the recorded numbers are those of the final texture
        assert result.losses[i] == pytest.approx(distance[k] / (4 * n * n), rel=1e-3)
        assert result.relative_errors[i] == pytest.approx(
            distance[k] / float(targets[k].pow(2).sum()), rel=1e-3
        )
        v = spec.eigenvectors[:, k]
        assert result.alignment[i] == pytest.approx(float(v @ grams[i] @ v / grams[i].trace()), rel=1e-4)
    lam = spec.eigenvalues.clamp_min(0)
    assert result.eigenvalues[1] == pytest.approx(float(lam[1]))
    assert result.energy_share[0] == pytest.approx(float(lam[0] / lam.sum()))
    assert result.frobenius_share[1] == pytest.approx(float(lam[1] ** 2 / (lam**2).sum()))
    assert result.energy_share[0] > result.energy_share[1] > result.energy_share[2]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["components"] == [0, 1, 2] and data["meta"]["style"] == style
    assert max(data["style_size_hw"]) == 32 and data["config"]["lr"] == 0.1


# ----------------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layer": "relu9_1"}, r"layer must be a VGG19 layer name .*got 'relu9_1'\. Did you mean"),
        ({"layer": 3}, "layer must be one layer name"),
        ({"channels": []}, "channels must list at least one channel index; got an empty list"),
        ({"channels": [-1]}, r"channels must be whole numbers >= 0"),
        ({"channels": [1, 1]}, "channels must not repeat an index"),
        ({"size": 8}, r"size must be an integer from 16 to 512 \(px\); got 8"),
        ({"size": 1024}, r"size must be an integer from 16 to 512 \(px\); got 1024"),
        ({"steps": 0}, "steps must be an integer >= 1; got 0"),
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"jitter": 20, "size": 32}, r"jitter must be at most size // 4 = 8 px; got 20"),
        ({"scale": 0.9}, "scale must be a number from 0"),
        ({"seed": -1}, "seed must be an integer from 0"),
        ({"leak": 1.0}, r"leak must be a number in \[0, 1\)"),
    ],
)
def test_bad_options_raise_before_any_model_is_loaded(kwargs, match):
    args = {"layer": "relu1_1", "channels": [0], **kwargs}
    layer, channels = args.pop("layer"), args.pop("channels")
    with pytest.raises(ValueError, match=match):
        visualize_channels(None, layer, channels, **args)


def test_bad_layer_and_indices_on_a_given_model():
    net = _texture_net(channels=4)
    with pytest.raises(ValueError, match=r"layer must be a layer name from list_layers\(model\); got 'nope'"):
        visualize_channels(net, "nope", [0], size=32, steps=1)
    with pytest.raises(ValueError, match=r"channels must be layer '2' channel indices from 0 to 3; got 4\."):
        visualize_channels(net, "2", [0, 4], size=32, steps=1)
    style = torch.rand(1, 3, 32, 32)
    with pytest.raises(
        ValueError, match=r"components must be layer '2' eigencomponent indices from 0 to 3; got 9"
    ):
        visualize_gram_components(net, "2", style, components=(0, 9), size=32, steps=1)
    with pytest.raises(ValueError, match="components must list at least one eigencomponent index"):
        visualize_gram_components(net, "2", style, components=(), size=32, steps=1)
    pointwise = nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU())
    flat = torch.full((1, 3, 32, 32), 0.5)  # every position alike: a rank-1 Gram
    with pytest.raises(
        ValueError, match=r"components must be below the rank of the style's Gram at '1' \(1: "
    ):
        visualize_gram_components(pointwise, "1", flat, components=(1,), size=32, steps=1)
    with pytest.raises(ValueError, match="must output feature maps"):
        visualize_channels(nn.Sequential(nn.Flatten()), "0", [0], size=16, steps=1)


# ---------------------------------------------------------------------------------------- plots


def test_channel_display_draws_one_titled_image_per_channel():
    result = visualize_channels(_texture_net(), "2", [0, 2, 4, 5, 1, 3], size=16, steps=2)
    display = result.plot()
    assert isinstance(display, ChannelVisualizationDisplay)
    assert len(display.axes_) == 6 and display.ax_ is display.axes_[0]
    assert all(len(ax.images) == 1 for ax in display.axes_)
    titles = [ax.get_title() for ax in display.axes_]
    assert titles[1].startswith("2 ch 2\nmean act ")
    assert [t.split("\n")[0] for t in titles] == [f"2 ch {c}" for c in result.channels]
    assert display.axes_[0].images[0].get_array().shape == (16, 16, 3)
    # 6 images on a 5-column grid: the 4 spare axes are hidden, the figure has a title
    assert len(display.figure_.axes) == 10
    assert sum(ax.axison for ax in display.figure_.axes) == 0
    assert "What channels of 2 respond to" in display.figure_.get_suptitle()
    assert len(result.plot(ncols=2).figure_.axes) == 6
    with pytest.raises(ValueError, match="ncols must be an integer >= 1"):
        result.plot(ncols=0)


def test_gram_display_draws_the_style_then_one_texture_per_component():
    import matplotlib.pyplot as plt

    result = visualize_gram_components(
        _texture_net(), "2", "sample:starry_night", components=(0, 1, 2), size=16, steps=2
    )
    display = result.plot()
    assert isinstance(display, GramComponentDisplay)
    titles = [ax.get_title() for ax in display.axes_]
    assert len(titles) == 4 and titles[0] == "style\nsample:starry_night"
    assert [t.split("\n")[0] for t in titles[1:]] == ["2 component 0", "2 component 1", "2 component 2"]
    assert "% of trace, rel. err" in titles[1]
    assert all(len(ax.images) == 1 for ax in display.axes_)
    _, axes = plt.subplots(1, 3)
    own = result.plot(ax=axes, show_style=False)
    assert list(own.axes_) == list(axes) and own.figure_ is axes[0].figure
    assert [len(ax.images) for ax in axes] == [1, 1, 1]
    with pytest.raises(ValueError, match="ax must hold 4 Axes"):
        result.plot(ax=axes)


def test_public_names_are_exported():
    import xstyle.explain as explain
    import xstyle.explain.style as style

    for name in (
        "visualize_channels",
        "visualize_gram_components",
        "ChannelVisualization",
        "GramComponentVisualization",
        "ChannelVisualizationDisplay",
        "GramComponentDisplay",
    ):
        assert name in style.__all__ and name in explain.__all__
        assert getattr(explain, name) is getattr(style, name)
