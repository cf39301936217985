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
        ({"batch_size": -1}, "batch_size"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_options_raise_one_clear_line(painter, kwargs, match):
    with pytest.raises(ValueError, match=match):
        prior_components(painter, ValueReader(), **kwargs)


class NormPainter(nn.Module):
    """A stand-in generator for the N(0, I) prior: paints every pixel with |z| / 20."""

    latent_dim = 100

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z.norm(dim=1) / 20).view(-1, 1, 1, 1).expand(-1, 1, 28, 28)


class NearIsSure(DigitClassifier):
    """A stand-in classifier: surely a 1 when |z| < 10, else a 7/8 blend."""

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return (x.mean(dim=(1, 2, 3)) * 20).unsqueeze(1).expand(-1, 128)

    def head(self, f: torch.Tensor) -> torch.Tensor:
        near = f[:, 0] < 10
        logits = torch.full((len(f), 10), -30.0)
        logits[near, 1] = 10.0
        logits[~near, 7], logits[~near, 8] = 0.1, 0.0
        return logits


def test_confidence_by_distance_bins_are_ordered_nearest_first():
    # |z| of 100-d latents has median ~9.97: the nearer half is sure, the farther half is not
    r = prior_components(NormPainter(), NearIsSure(), n_per_component=400, seed=0)
    c = r.confident_by_distance
    assert c[0] == 1.0 and c[-1] == 0.0 and np.all(np.diff(c) <= 0)
    assert r.distance_edges[1] < 10 < r.distance_edges[3]
    assert r.distance_summary().startswith("100.0 %") and r.distance_summary().endswith("0.0 %")
    assert r.counts[0, 1] + r.counts[0, 7] == 400


def test_too_few_samples_leave_empty_bins_as_none_in_json():
    import json

    r = prior_components(NormPainter(), NearIsSure(), n_per_component=2, seed=0, distance_bins=4)
    values = r.to_dict()["confident_by_distance"]
    assert None in values and len(values) == 4
    json.dumps(r.to_dict(), allow_nan=False)  # strict JSON: no NaN
    assert "–" in r.distance_summary()
