"""Style versus content in a conditional DCGAN (xstyle.explain.gan.gan_style), on planted stubs
where the answer is known: the label sets a stroke's slant, z[0] its length."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from xstyle.explain.gan.gan_style import gan_style, two_way_shares
from xstyle.explain.gan.measures import _moments
from xstyle.gan.dcgan import Generator
from xstyle.gan.prior import with_labels
from xstyle.hooks import assert_no_hooks

R = (torch.arange(28.0) - 13.5).view(1, 28, 1)
C = (torch.arange(28.0) - 13.5).view(1, 1, 28)


class PlantedGenerator(nn.Module):
    """Conditional stub: the label sets the stroke's slant, z[0] its length (ink, height)."""

    latent_dim, n_classes, input_dim, prior = 4, 10, 14, None

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(14, 8, bias=False)
        with torch.no_grad():
            self.fc.weight.zero_()
            self.fc.weight[0, 0] = 3.0  # SeFa's and GANSpace's top z direction: z[0]
            self.fc.weight[1, 1] = 1.0  # a weaker second one (GANSpace asks for two components)
        self.act0, self.act1, self.act2, self.tanh = (
            nn.Identity(),
            nn.Identity(),
            nn.Identity(),
            nn.Identity(),
        )

    def forward(self, w):
        z, y = w[:, :4], w[:, 4:]
        self.act0(torch.cat([self.fc(w), y], 1))
        label = (y * torch.arange(10.0)).sum(1)
        slant = ((label - 4.5) / 6).view(-1, 1, 1)
        half = (5 + 2 * torch.tanh(z[:, 0])).view(-1, 1, 1)
        ink = torch.exp(-((C + slant * R) ** 2) / 8) * torch.sigmoid(3 * (half - R.abs()))
        ink = self.act2(self.act1(ink))
        return self.tanh(2 * ink - 1).unsqueeze(1)


class PlantedClassifier(nn.Module):
    """Reads the digit off the stroke's slant (the nearest of ``centres``); two conv stages to tap."""

    def __init__(self, centres):
        super().__init__()
        self.register_buffer("centres", torch.as_tensor(centres, dtype=torch.float32))
        torch.manual_seed(0)
        self.conv1, self.act1 = nn.Conv2d(1, 4, 3, padding=1), nn.ReLU()
        self.conv2, self.act2 = nn.Conv2d(4, 4, 3, padding=1), nn.ReLU()

    def forward(self, x):
        self.act2(self.conv2(self.act1(self.conv1(x))))
        slant = _moments(((x + 1) / 2).clamp(0, 1)[:, 0].double())["slant"].float()
        return -1e4 * (slant[:, None] - self.centres) ** 2


def planted_models():

    g = PlantedGenerator()
    with torch.no_grad():
        x = g(with_labels(torch.zeros(10, 4), torch.arange(10)))
    centres = _moments(((x + 1) / 2).clamp(0, 1)[:, 0].double())["slant"].float()
    return g, PlantedClassifier(centres)


#: a small run of the whole analysis (a few seconds on the stubs)
SMALL = dict(
    n_z=12, n_reverse=4, n_attribution=10, n_steps=8, n_direction=60, n_walk=4, sefa_components=1, n_boot=20
)


@pytest.fixture(scope="module")
def planted():
    g, clf = planted_models()
    result = gan_style(g, clf, **SMALL)
    return g, clf, result


def test_two_way_shares_split_planted_rows_and_columns():
    rows = np.arange(6.0)[:, None] * np.ones((1, 4))
    cols = np.ones((6, 1)) * np.arange(4.0)[None]
    assert two_way_shares(rows) == pytest.approx({"z": 1.0, "label": 0.0, "interaction": 0.0})
    assert two_way_shares(cols) == pytest.approx({"z": 0.0, "label": 1.0, "interaction": 0.0})
    mixed = two_way_shares(rows + 2 * cols + np.random.default_rng(0).normal(size=(6, 4)))
    assert sum(mixed.values()) == pytest.approx(1.0)
    assert two_way_shares(np.ones((3, 3))) == {"z": 0.0, "label": 0.0, "interaction": 0.0}
    with pytest.raises(ValueError, match="rows >= 2, columns >= 2"):
        two_way_shares(np.ones((1, 4)))


@pytest.mark.slow
def test_a_measure_driven_by_z_gets_a_z_share_near_1_and_one_driven_by_the_label_near_0(planted):
    _, _, r = planted
    assert r.variance["ink"]["z"] > 0.95 and r.variance["height"]["z"] > 0.95
    assert r.variance["slant"]["z"] < 0.05 and r.variance["slant"]["label"] > 0.95
    lo, hi = r.variance["ink"]["z_ci"]
    assert lo <= r.variance["ink"]["z"] + 1e-9 and hi >= r.variance["ink"]["z"] - 1e-9
    assert r.agreement.tolist() == [1.0] * 10  # the classifier reads every requested digit
    # attribution: the length-driven ink sits on z, the label-driven slant mostly on the label
    assert r.attribution["ink"]["label_share"] < 0.1
    assert r.attribution["slant"]["label_share"] > 0.5
    assert r.attribution["ink"]["completeness"] < 0.05


@pytest.mark.slow
def test_a_planted_style_direction_is_recovered_under_every_label_and_flips_no_class(planted):
    _, _, r = planted
    ink = r.directions["ink"]
    assert ink["mean_cosine"] >= 0.95  # the same direction under every label
    assert (ink["slope"] > 0).all() and ink["flip_rate"].tolist() == [0.0] * 10
    assert r.directions["sefa_0"]["flip_rate"].tolist() == [0.0] * 10  # SeFa's top direction is z[0]
    assert r.directions["ganspace_0"]["mean_cosine"] >= 0.95  # the first stage's top PC is z[0] too
    assert r.directions["ganspace_0"]["flip_rate"].tolist() == [0.0] * 10


@pytest.mark.slow
def test_the_stages_show_where_the_label_enters(planted):
    _, _, r = planted
    assert r.mixing["act0"]["z"] > r.mixing["act0"]["label"]  # fc mixes mostly z
    assert r.mixing["tanh"]["label"] > r.mixing["tanh"]["z"]  # the image's variation is mostly slant
    for shares in r.mixing.values():
        assert sum(shares.values()) == pytest.approx(1.0)
    # probes fed one input's variation: the label's part of the first stage reads the class and the
    # slant; z's part reads the length-driven ink and height
    first = r.probes["act0"]
    assert first["class"]["label"] > 0.95 and first["slant"]["label"] > 0.9
    assert first["ink"]["z"] > 0.9 and first["height"]["z"] > 0.9


@pytest.mark.slow
def test_result_numbers_json_and_figures(planted):
    import matplotlib.pyplot as plt

    _, _, r = planted
    data = json.loads(json.dumps(r.to_dict()))
    assert set(data["variance"]) == {"slant", "thickness", "width", "height", "ink"}
    assert data["config"]["n_z"] == 12 and len(data["agreement"]) == 10
    assert r.analogies.shape == (12, 10, 1, 28, 28) and r.reverse.shape == (4, 1, 28, 28)
    d = r.plot()
    assert len(d.axes_) == 5 and d.axes_[0].get_title().startswith("Variance")
    a = r.plot_analogies(rows=3)
    assert [t.get_text() for t in a.ax_.get_xticklabels()] == [str(i) for i in range(10)]
    assert len(a.ax_.get_yticklabels()) == 3
    plt.close("all")


@pytest.mark.slow
def test_gan_style_is_seeded(planted):
    g, clf, r = planted
    again = gan_style(g, clf, **SMALL)
    strip = lambda d: {k: v for k, v in d.items() if k != "timings"}  # noqa: E731
    assert strip(again.to_dict()) == strip(r.to_dict())
    assert again.variance == r.variance and again.gram == r.gram


def test_an_unconditional_generator_and_bad_options_are_refused():
    _, clf = planted_models()
    with pytest.raises(ValueError, match="needs a class-conditional DCGAN"):
        gan_style(Generator(), clf)
    g = PlantedGenerator()
    with pytest.raises(ValueError, match="n_z must be"):
        gan_style(g, clf, n_z=1)
    with pytest.raises(ValueError, match=r"reverse_digit must be a digit in 0\.\.9"):
        gan_style(g, clf, reverse_digit=10)


def test_hooks_are_removed_and_flags_restored_when_the_classifier_raises():
    g, clf = planted_models()
    g.train()
    clf.train()

    class Boom(RuntimeError):
        pass

    calls = {"n": 0}
    original = clf.forward

    def flaky(x):
        calls["n"] += 1
        if calls["n"] > 2:  # after the grid's probabilities, inside the attribution
            raise Boom("stop")
        return original(x)

    clf.forward = flaky
    with pytest.raises(Boom):
        gan_style(
            g, clf, n_z=3, n_attribution=2, n_steps=2, n_direction=10, n_walk=1, sefa_components=0, n_boot=10
        )
    assert g.training and clf.training
    assert_no_hooks(g)
    assert_no_hooks(clf)
