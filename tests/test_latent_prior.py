"""prior_components: which digit each component of a latent prior became (known answers on stubs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from xstyle.explain import PriorComponentsResult, prior_components
from xstyle.gan.classifier import DigitClassifier
from xstyle.gan.dcgan import Generator
from xstyle.gan.prior import LatentPrior


class ComponentPainter(nn.Module):
    """A stand-in generator: paints every pixel with (its latent's component + 1) / 10."""

    latent_dim = 100

    def __init__(self, prior: LatentPrior) -> None:
        super().__init__()
        self.prior = prior
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        k = self.prior.component_of(z).float()
        return (self.scale * (k + 1) / 10).view(-1, 1, 1, 1).expand(-1, 1, 28, 28)


class ValueReader(DigitClassifier):
    """A stand-in classifier: component 0 -> surely 3, component 1 -> surely 5, component 2 -> 7 or 8."""

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return (x.mean(dim=(1, 2, 3)) * 10 - 1).round().unsqueeze(1).expand(-1, 128)

    def head(self, f: torch.Tensor) -> torch.Tensor:
        k = f[:, 0].long()
        logits = torch.full((len(k), 10), -30.0)
        logits[k == 0, 3] = 10.0
        logits[k == 1, 5] = 10.0
        logits[k == 2, 7] = 0.1  # p(7) = 0.52, p(8) = 0.48: a blend, not confident
        logits[k == 2, 8] = 0.0
        return logits


@pytest.fixture
def painter():
    # means 20 apart from each other: every latent's nearest mean is its own component
    return ComponentPainter(LatentPrior.parse("mixture:3:20:1"))


def test_components_report_the_digit_each_became_and_how_confident(painter):
    r = prior_components(painter, ValueReader(), n_per_component=40, seed=0)
    assert isinstance(r, PriorComponentsResult) and r.prior == "mixture:3:20:1"
    assert r.counts.shape == (3, 10) and r.counts.sum(axis=1).tolist() == [40, 40, 40]
    assert r.counts[0, 3] == 40 and r.counts[1, 5] == 40 and r.counts[2, 7] == 40
    assert r.dominant.tolist() == [3, 5, 7] and r.pure.all()
    assert r.confident.tolist() == [1.0, 1.0, 0.0]  # component 2 makes 7/8 blends
    assert r.unowned_digits == [0, 1, 2, 4, 6, 8, 9]
    # each distance quarter mixes the components: about two thirds confident, edges increasing
    assert len(r.confident_by_distance) == 4 and np.all(np.diff(r.distance_edges) > 0)
    assert r.distance_edges[0] == 0 and np.all(
        (r.confident_by_distance > 0.3) & (r.confident_by_distance < 0.95)
    )
    assert r.to_dict()["dominant"] == [3, 5, 7]


def test_same_seed_same_numbers_and_flags_restored(painter):
    clf = ValueReader()
    painter.train()
    clf.train()
    painter.scale.requires_grad_(True)
    a = prior_components(painter, clf, n_per_component=20, seed=3)
    b = prior_components(painter, clf, n_per_component=20, seed=3)
    c = prior_components(painter, clf, n_per_component=20, seed=4)
    assert np.array_equal(a.distance_edges, b.distance_edges) and np.array_equal(a.counts, b.counts)
    assert not np.array_equal(a.distance_edges, c.distance_edges)
    assert painter.training and clf.training and painter.scale.requires_grad


def test_normal_prior_is_one_component_and_distance_is_the_latent_norm():
    torch.manual_seed(0)
    r = prior_components(Generator(), DigitClassifier(), n_per_component=30, seed=0, distance_bins=2)
    assert r.prior == "normal" and r.counts.shape == (1, 10) and r.counts.sum() == 30
    # |z| of 100-d standard normal latents lies near 10
    assert 8 < r.distance_edges[1] < 12 and len(r.confident_by_distance) == 2


def test_plot_one_row_per_component(painter):
    display = prior_components(painter, ValueReader(), n_per_component=10).plot()
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert labels == ["0 (100 % conf.)", "1 (100 % conf.)", "2 (0 % conf.)"]
    assert display.figure_ is display.ax_.figure


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_per_component": 0}, "n_per_component"),
        ({"distance_bins": 0}, "distance_bins"),
        ({"seed": 0, "batch_size": -1}, "batch_size"),
    ],
)
def test_bad_options_raise_one_clear_line(painter, kwargs, match):
    with pytest.raises(ValueError, match=match):
        prior_components(painter, ValueReader(), **kwargs)
