"""The four attribution questions: style-vs-content maps, channel carriers, Gram entries, the GAN."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from xstyle.explain.gan.gan_maps import discriminator_maps, latent_class_attribution
from xstyle.explain.style.maps import channel_carriers, edge_mass, style_content_maps


@pytest.fixture(scope="module")
def stylised_pair():
    """(stylised, content, style) at 32 px: the content photo with the painting's texture pasted over its
    right half, so the right half should carry the style and the left half the content."""
    from xstyle.data import load_sample

    content = load_sample("chelsea", size=40)
    style = load_sample("starry_night", size=40)
    h, w = content.shape[-2:]
    stylised = content.clone()
    stylised[..., w // 2 :] = style[..., :h, : w - w // 2]
    return stylised, content, style


@pytest.mark.slow
def test_style_content_maps(caffe_vgg, stylised_pair):
    stylised, content, style = stylised_pair
    r = style_content_maps(
        stylised, content=content, style=style, model=caffe_vgg, n_steps=8, deletion_steps=6
    )
    h, w = content.shape[-2:]
    assert r.options["baselines"] == "filler"  # the default
    for name, ev in r.style_evidence.items():
        assert ev.shape == (h, w)
        # the sign convention: +1 when the image is closer to the target than its baseline, else -1
        expected = 1.0 if r.cases[f"style:{name}"] == "image closer" else -1.0
        assert float(ev.sum()) == pytest.approx(expected, abs=1e-6), name
    expected = 1.0 if r.cases["content"] == "image closer" else -1.0
    assert float(r.content_evidence.sum()) == pytest.approx(expected, abs=1e-6)
    assert torch.allclose(r.dominance, r.style_evidence["total"] - r.content_evidence)
    # the pasted painting half carries the style evidence, the photo half the content evidence
    half = w // 2
    assert float(r.style_evidence["total"][:, half:].sum()) > 0.7
    assert float(r.content_evidence[:, :half].sum()) > float(r.content_evidence[:, half:].sum())
    assert r.dominance[:, half:].mean() > 0 > r.dominance[:, :half].mean()
    for summary in r.edges.values():
        assert sum(summary["shares"]) == pytest.approx(1.0)
    assert set(r.deletion) == {"style:total", "content"} == set(r.randomisation)
    assert r.randomisation["style:total"].stages[0] == "conv5"
    assert all(err is not None and err < 0.5 for err in r.completeness.values())
    d = r.to_dict()
    for name, entry in d["evidence"].items():
        if name == "sign_convention":
            assert entry.startswith("Evidence is minus the attribution of the loss")
            continue
        assert entry["image_loss"] == d["losses"][name]["image"]
        assert entry["baseline_loss"] == d["losses"][name]["baseline"]
        closer = entry["image_loss"] < entry["baseline_loss"]
        assert entry["case"] == ("image closer" if closer else "baseline closer"), name
    assert d["losses"]["style:total"]["image"] == pytest.approx(
        sum(
            d["losses"][f"style:{k}"]["image"]
            for k in ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
        ),
        rel=1e-5,
    )
    r.plot()


def test_style_content_maps_rejects_mismatched_sizes(caffe_vgg, stylised_pair):
    stylised, content, style = stylised_pair
    with pytest.raises(ValueError, match="must have the same size"):
        style_content_maps(stylised[..., :20], content=content, style=style, model=caffe_vgg, sanity=False)


def test_channel_carriers(caffe_vgg, stylised_pair):
    stylised, content, style = stylised_pair
    r = channel_carriers(stylised, content=content, style=style, model=caffe_vgg, n_steps=4)
    assert list(r.score) == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
    # relu5_1 comes after the content layer relu4_2: it cannot carry content
    assert torch.count_nonzero(r.content_scores["relu5_1"]) == 0
    assert torch.all(r.score["relu5_1"][r.style_scores["relu5_1"] != 0] == 1)
    for layer, score in r.score.items():
        assert score.min() >= -1 and score.max() <= 1, layer
    rows = [t for t in r.table if t["layer"] == "relu3_1"]
    assert sum(t["style_share"] for t in rows) == pytest.approx(1.0)
    assert sum(t["content_share"] for t in rows) == pytest.approx(1.0)
    top = r.top(5, kind="content")
    assert all(t["score"] < 0 for t in top)
    assert len(r.table) == sum(len(v) for v in r.score.values())
    r.plot()


def test_edge_mass_finds_edges():
    image = torch.zeros(1, 3, 32, 32)
    image[..., 16:] = 1.0  # one vertical edge
    from skimage.filters import sobel

    edges = torch.from_numpy(sobel(image[0].mean(0).numpy()))
    on_edges = edge_mass(edges, image)
    assert on_edges["shares"][-1] == pytest.approx(1.0)
    flat = edge_mass(torch.ones(32, 32), image)
    assert flat["shares"] == pytest.approx([0.25] * 4)


def test_discriminator_maps():
    from xstyle.gan.dcgan import Discriminator

    torch.manual_seed(0)
    d = Discriminator()
    real = torch.full((3, 1, 28, 28), -1.0)
    real[:, :, 8:20, 12:16] = 1.0  # a bar of ink
    fake = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    r = discriminator_maps(d, real, fake, n_steps=16)
    assert r.real_maps.shape == (3, 28, 28)
    with torch.no_grad():
        assert torch.allclose(r.real_logits, d.eval()(real)[:, 0])
    # the all -1 baseline: the background contributes nothing, so all mass is on the ink
    assert r.stroke_share["real"] == pytest.approx(1.0)
    assert r.ink_fraction["real"] == pytest.approx(48 / 784)
    assert r.completeness["real"] < 0.05
    assert r.randomisation.stages == ["fc", "conv2", "conv1"]
    r.plot(n=3)


class OneDimGenerator(nn.Module):
    """Ink intensity is z[:, 3]: the digit image is uniform, tanh(z3)."""

    latent_dim = 8

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Linear(1, 1)
        with torch.no_grad():
            self.scale.weight.fill_(1.0)
            self.scale.bias.zero_()

    def forward(self, z):
        return torch.tanh(self.scale(z[:, 3:4]))[:, :, None, None].expand(-1, 1, 28, 28)


class InkClassifier(nn.Module):
    """Class 1 logit = mean ink, class 0 = -mean ink, others 0."""

    def forward(self, x):
        m = x.flatten(1).mean(1)
        return torch.cat([torch.stack([-m, m], 1), torch.zeros(len(x), 8)], 1)


def test_latent_class_attribution_finds_the_deciding_dimension():
    r = latent_class_attribution(OneDimGenerator(), InkClassifier(), n=40, n_steps=16, top=1, seed=0)
    assert r.counts.sum() == 40 and set(np.nonzero(r.counts)[0]) == {0, 1}
    assert r.top_dims[0] == [3] and r.top_dims[1] == [3]
    assert np.isnan(r.attribution[5]).all()
    assert r.causal[1]["top"] > r.causal[1]["random"]
    assert r.causal_passed == 1.0
    assert r.completeness < 0.01
    again = latent_class_attribution(OneDimGenerator(), InkClassifier(), n=40, n_steps=16, top=1, seed=0)
    assert np.array_equal(np.nan_to_num(again.attribution), np.nan_to_num(r.attribution))
    r.plot()
