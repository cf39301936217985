"""Every latent analysis on a generator that is not xstyle's DCGAN: a stub RGB generator whose
planted answer is known. z[0] sets the hue of a shape, the label sets the shape (a square or a
disc, so the foreground coverage); the other z dimensions barely matter. A linear-first and a
conv-first version (z as (B, D, 1, 1), as DCGAN-64 and PGGAN take it)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from xstyle.explain.gan.directions import (
    Direction,
    ganspace_directions,
    interfacegan_directions,
    sefa_directions,
)
from xstyle.explain.gan.measures import COLOUR_MEASURES
from xstyle.explain.gan.probes import explain_latent, find_directions, probe_layers, sample_latents
from xstyle.explain.gan.traversal import traverse
from xstyle.hooks import assert_no_hooks
from xstyle.models.generators import GeneratorSpec, wrap_generator

LATENT, CLASSES, SIZE, WIDTH = 6, 2, 16, 24


def _hsv_to_rgb(hue_deg: torch.Tensor) -> torch.Tensor:
    """Fully saturated, full value colours (B, 3) in [0, 1] of hues in degrees."""
    h = hue_deg[:, None] / 60.0
    k = (torch.tensor([5.0, 3.0, 1.0]) + h) % 6
    return 1 - torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def _masks() -> torch.Tensor:
    rows, cols = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    square = ((rows - 7.5).abs() < 4) & ((cols - 7.5).abs() < 4)
    disc = (rows - 7.5) ** 2 + (cols - 7.5) ** 2 < 6.5**2
    return torch.stack([square, disc]).float()  # (2, S, S): label 0 a small square, 1 a large disc


class Planted(nn.Module):
    """cat(z, one-hot y) -> first layer (``first``) -> ``act`` -> image (B, 3, 16, 16) in [-1, 1].

    The first layer maps z[0] onto a unit direction u with gain 6 and the other z dimensions with
    gain 0.3 onto random directions (so z[0] dominates its weight: SeFa's top eigenvector), and
    ignores the label; the hue is 60 + 40 tanh(<act, u> / 12) degrees (between yellow-red and
    green), the label picks the mask.
    """

    def __init__(self, *, conv_first: bool) -> None:
        super().__init__()
        torch.manual_seed(0)
        w = torch.zeros(LATENT + CLASSES, WIDTH)
        self.u = nn.Parameter(torch.nn.functional.normalize(torch.randn(WIDTH), dim=0), requires_grad=False)
        w[0] = 6 * self.u
        w[1:LATENT] = 0.3 * torch.nn.functional.normalize(torch.randn(LATENT - 1, WIDTH), dim=1)
        self.conv_first = conv_first
        if conv_first:
            self.first = nn.ConvTranspose2d(LATENT + CLASSES, WIDTH // 4, 2, bias=False)  # -> (W/4, 2, 2)
            self.first.weight.data = w.view(LATENT + CLASSES, WIDTH // 4, 2, 2)
        else:
            self.first = nn.Linear(LATENT + CLASSES, WIDTH, bias=False)
            self.first.weight.data = w.T.contiguous()
        self.act = nn.Identity()
        self.register_buffer("masks", _masks())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        labels = x[:, LATENT:].flatten(1).argmax(1)
        h = self.act(self.first(x)).flatten(1)
        hue = 60 + 40 * torch.tanh(h @ self.u / 12)
        colour = _hsv_to_rgb(hue)[:, :, None, None]
        mask = self.masks[labels][:, None]
        return (mask * colour + (1 - mask)) * 2 - 1


class ShapeClassifier(nn.Module):
    """Logits (B, 2): a disc covers more of the image than the square (any module returning logits)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coverage = torch.sigmoid((0.9 - ((x + 1) / 2).min(dim=1).values) * 50).mean(dim=(1, 2))
        return torch.stack([0.38 - coverage, coverage - 0.38], dim=1) * 50


@pytest.fixture(params=["linear-first", "conv-first"], scope="module")
def planted(request) -> GeneratorSpec:
    conv = request.param == "conv-first"
    spec = wrap_generator(Planted(conv_first=conv), latent_dim=LATENT, n_classes=CLASSES, stages=("act",))
    assert spec.latent_shape == ((LATENT, 1, 1) if conv else (LATENT,))
    return spec


E0 = np.eye(LATENT + CLASSES)[0]


def _cos(d: Direction) -> float:
    return abs(float(np.dot(d.vector[:LATENT], E0[:LATENT]))) / float(np.linalg.norm(d.vector))


def test_samples_are_rgb_and_measured_with_colour_measures(planted):
    s = sample_latents(planted, classifier=ShapeClassifier(), n=40, seed=0)
    assert s.images.shape == (40, 3, SIZE, SIZE) and set(s.activations) == {"act"}
    assert {"class", "confidence", "hue", "coverage", "symmetry"} <= set(s.attributes)
    # the planted hue: a monotone function of z[0]
    corr = np.corrcoef(s.z[:, 0].numpy(), s.attributes["hue"])[0, 1]
    assert corr > 0.95
    # the label sets the shape: the classifier reads it back
    assert np.array_equal(s.attributes["class"], s.z[:, LATENT:].argmax(1).numpy())
    assert_no_hooks(planted.generator)


def test_probes_read_hue_from_z(planted):
    s = sample_latents(planted, n=80, seed=1)
    table = probe_layers(s, attributes=["hue", "coverage"], cv=4)
    assert table.score_of("z", "hue") > 0.9 and table.score_of("act", "hue") > 0.9


def test_every_direction_method_recovers_z0(planted):
    s = sample_latents(planted, n=200, seed=2)
    (hue,) = interfacegan_directions(s.z, s.attributes, names=["hue"], random_state=0)
    assert _cos(hue) >= 0.95
    (pc0,) = ganspace_directions(s.activations["act"], s.z, n_components=1, random_state=0)
    assert _cos(pc0) >= 0.95
    eig0 = sefa_directions(planted.generator, n_components=1)[0]
    assert _cos(eig0) >= 0.95
    found = find_directions(planted, s, attributes=["hue"], conditional=(), n_components=1)
    assert [d.label for d in found] == ["interfacegan:hue", "ganspace:pc0", "sefa:eig0"]
    assert all(_cos(d) >= 0.95 for d in found)


def test_traversal_along_z0_moves_the_hue_only(planted):
    direction = Direction(E0, "planted", "hue", 1.0)
    t = traverse(planted, direction, n=12, seed=3, measures=["hue", "coverage", "symmetry"])
    assert t.target == "hue" and t.dominant == "hue" and t.slopes["hue"] > 0
    assert t.changes["coverage"] == pytest.approx(0.0, abs=1e-9)


def test_explain_latent_end_to_end_on_a_spec(planted):
    res = explain_latent(
        planted,
        ShapeClassifier(),
        n=80,
        seed=0,
        methods=["interfacegan", "sefa"],
        n_components=1,
        cv=3,
        n_traverse=6,
        alphas=(-1, 0, 1),
        measures=["hue", "coverage"],
    )
    named = {d.label: d for d in res.directions}
    assert _cos(named["interfacegan:hue"]) >= 0.95 and _cos(named["sefa:eig0"]) >= 0.95
    assert res.probes.score_of("z", "class") == pytest.approx(1.0)  # the label is in z's input


def test_a_generator_returning_no_images_is_refused():
    class Flat(nn.Module):
        latent_dim = 4

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 10)

        def forward(self, z):
            return self.fc(z)

    with pytest.raises(ValueError, match=r"must return an image batch \(B, C, H, W\)"):
        sample_latents(Flat(), n=4, seed=0)


def test_hue_helper_is_right():
    rgb = _hsv_to_rgb(torch.tensor([0.0, 60.0, 120.0]))
    assert torch.allclose(rgb, torch.tensor([[1.0, 0, 0], [1, 1, 0], [0, 1, 0]]))
    assert math.isclose(float(_masks()[0].sum()), 64.0)


def test_gan_style_splits_hue_to_z_and_shape_to_the_label(planted):
    from xstyle.explain.gan.gan_style import gan_style

    res = gan_style(
        planted,
        ShapeClassifier(),
        n_z=12,
        n_reverse=2,
        reverse_digit=1,
        n_attribution=4,
        n_steps=4,
        n_direction=20,
        n_walk=3,
        n_boot=10,
        sefa_components=1,
        ganspace_components=1,
        seed=0,
    )
    assert res.variance["hue"]["z"] >= 0.95
    assert res.variance["coverage"]["label"] >= 0.95
    assert res.agreement.tolist() == [1.0, 1.0]
    assert res.analogies.shape == (12, CLASSES, 3, SIZE, SIZE)
    assert res.gram == {}  # the stub classifier has no act1/act2 layers
    assert res.directions["sefa_0"]["measure"] == "hue"
    assert res.config["measures"] == list(COLOUR_MEASURES)
    assert_no_hooks(planted.generator)


def test_discriminator_maps_on_colour_images_and_a_conditional_discriminator():
    from xstyle.explain.gan.gan_maps import discriminator_maps

    class LeftRed(nn.Module):
        """D(x, y): the red minus blue of the left half, times (y + 1): the right half never counts."""

        def forward(self, x, labels):
            left = (x[:, 0, :, : SIZE // 2] - x[:, 2, :, : SIZE // 2]).sum(dim=(1, 2))
            return ((labels.float() + 1) * left)[:, None]

    spec = wrap_generator(Planted(conv_first=False), latent_dim=LATENT, n_classes=CLASSES)
    fake = spec.synthesize(spec.sample_latent(3, seed=0))
    real = spec.synthesize(spec.sample_latent(3, seed=1))
    res = discriminator_maps(LeftRed(), real, fake, n_steps=8, sanity=False, label=1)
    assert res.real_maps.shape == (3, SIZE, SIZE)
    assert float(res.real_maps[:, :, SIZE // 2 :].abs().max()) == 0.0
    assert float(res.real_maps[:, :, : SIZE // 2].abs().sum()) > 0
    assert res.completeness["real"] < 1e-3  # IG from the white canvas is complete for a linear D
