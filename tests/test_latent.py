"""Attributes of digits, linear probes and the layer x attribute table (xstyle.explain.gan.probes)."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from xstyle.explain.gan.probes import (
    ProbeResult,
    ProbeTableResult,
    explain_latent,
    fit_probe,
    measure_digits,
    probe_layers,
    sample_latents,
)
from xstyle.gan.classifier import DigitClassifier
from xstyle.gan.dcgan import Generator
from xstyle.hooks import assert_no_hooks

# ----------------------------------------------------------------------------------------- helpers


def bar(width: int, *, length: int = 16, shear: float = 0.0, size: int = 28) -> torch.Tensor:
    """A vertical bar (1, 1, size, size) in [-1, 1], ``width`` px wide, optionally sheared.

    ``shear`` > 0 moves the top to the right (the bar leans right).
    """
    img = -torch.ones(1, 1, size, size)
    top = (size - length) // 2
    for i, r in enumerate(range(top, top + length)):
        offset = round(shear * (length / 2 - i))
        left = (size - width) // 2 + offset
        img[0, 0, r, left : left + width] = 1.0
    return img


class InkGenerator(nn.Module):
    """z (B, 8) -> a fixed 6x12 bar whose brightness is sigmoid(z[:, 0]): ink depends on z[0] only."""

    latent_dim = 8

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 1, bias=False)
        with torch.no_grad():
            self.fc.weight.zero_()
            self.fc.weight[0, 0] = 1.0
        self.act0 = nn.Sigmoid()
        mask = torch.zeros(1, 1, 28, 28)
        mask[..., 8:20, 11:17] = 1
        self.register_buffer("mask", mask)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b = self.act0(self.fc(z)).view(-1, 1, 1, 1)
        return -1 + 2 * b * self.mask


@pytest.fixture(scope="module")
def tiny_gan():
    torch.manual_seed(0)
    return Generator().eval()


@pytest.fixture(scope="module")
def tiny_clf():
    torch.manual_seed(1)
    return DigitClassifier().eval()


# -------------------------------------------------------------------------------------- attributes


@pytest.mark.parametrize("width", [1, 2, 3, 4, 5, 6])
def test_thickness_and_width_of_a_bar(width):
    attrs = measure_digits(bar(width))
    assert attrs["thickness"][0] == pytest.approx(width, abs=0.05)
    assert attrs["width"][0] == pytest.approx(width, abs=0.05)  # sqrt(12 var) of a uniform band
    assert attrs["height"][0] == pytest.approx(16, abs=0.05)
    assert attrs["ink"][0] == pytest.approx(16 * width)
    assert attrs["slant"][0] == pytest.approx(0.0, abs=1e-9)


def test_slant_sign_follows_the_shear():
    right, left = measure_digits(bar(3, shear=0.4)), measure_digits(bar(3, shear=-0.4))
    assert right["slant"][0] == pytest.approx(0.4, abs=0.05)
    assert left["slant"][0] == pytest.approx(-0.4, abs=0.05)
    # a slanted bar is still about 3 px wide once the slant is removed
    assert right["width"][0] == pytest.approx(3, abs=0.5)


def test_measure_is_batched_consistently_and_handles_empty_images():
    images = torch.cat([bar(w) for w in (1, 3, 5)] + [-torch.ones(1, 1, 28, 28)])
    together = measure_digits(images, batch_size=2)
    for i in range(3):
        alone = measure_digits(images[i : i + 1])
        for name, value in alone.items():
            assert together[name][i] == pytest.approx(value[0])
    assert all(together[name][3] == 0 for name in ("ink", "thickness", "slant", "width", "height"))


def test_classifier_attributes_and_gram_energy(tiny_clf):
    images = torch.cat([bar(w) for w in (1, 3, 5)])
    tiny_clf.train()
    attrs = measure_digits(images, classifier=tiny_clf, style=True)
    assert tiny_clf.training  # restored
    assert list(attrs) == [
        "class",
        "confidence",
        "ink",
        "thickness",
        "slant",
        "width",
        "height",
        "gram_energy",
    ]
    assert attrs["class"].dtype == np.int64 and ((attrs["class"] >= 0) & (attrs["class"] <= 9)).all()
    assert ((attrs["confidence"] >= 0.1) & (attrs["confidence"] <= 1)).all()
    assert (attrs["gram_energy"] > 0).all()
    assert_no_hooks(tiny_clf)


@pytest.mark.parametrize(
    ("images", "kwargs", "match"),
    [
        (torch.zeros(2, 3, 28, 28), {}, "shape"),
        (torch.full((1, 1, 28, 28), float("nan")), {}, "NaN"),
        (torch.zeros(0, 1, 28, 28), {}, "empty"),
        (torch.zeros(1, 1, 28, 28), {"style": True}, "classifier"),
        (torch.zeros(1, 1, 28, 28), {"batch_size": 0}, "batch_size"),
    ],
)
def test_measure_rejects_bad_input(images, kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        measure_digits(images, **kwargs)
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------------------------------ probes


def test_probe_reads_separable_labels_perfectly_and_random_labels_at_chance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 10))
    w = np.zeros(10)
    w[3] = 1.0
    sep = fit_probe(x, (x @ w > 0).astype(int), random_state=0)
    assert isinstance(sep, ProbeResult)
    assert sep.score > 0.97 and len(sep.scores) == 5
    assert abs(sep.direction @ w) > 0.95 and sep.direction @ w > 0  # points to class 1
    assert np.linalg.norm(sep.direction) == pytest.approx(1)
    rand = fit_probe(x, rng.integers(0, 2, 400), random_state=0)
    assert abs(rand.score - 0.5) < 0.1
    assert rand.chance == pytest.approx(max(np.bincount(rng.integers(0, 2, 400))) / 400, abs=0.1)


def test_probe_regression_and_estimators():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 6)) * np.array([1, 2, 3, 4, 5, 6])
    y = 2 * x[:, 1] - x[:, 4] + 0.01 * rng.normal(size=300)
    res = fit_probe(x, y, kind="regression", cv=3)
    assert res.score > 0.99 and res.metric == "r2" and res.chance == 0
    assert res.coef[1] == pytest.approx(2, abs=0.02) and res.coef[4] == pytest.approx(-1, abs=0.02)
    assert res.intercept[0] == pytest.approx(0, abs=0.05)
    svc = fit_probe(x, (y > 0).astype(int), estimator="linear_svc", cv=3)
    assert svc.estimator == "linear_svc" and svc.score > 0.95
    multi = fit_probe(x, np.digitize(y, [-5, 0, 5]), cv=3)
    assert multi.coef.shape == (4, 6) and multi.classes == (0, 1, 2, 3)
    from sklearn.linear_model import Ridge

    custom = fit_probe(x, y, kind="regression", estimator=Ridge(alpha=0.1))
    assert custom.estimator == "Ridge"
    json.dumps(res.to_dict())


def test_probe_is_deterministic_for_a_seed():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(200, 5)), rng.integers(0, 3, 200)
    a, b = fit_probe(x, y, random_state=7), fit_probe(x, y, random_state=7)
    c = fit_probe(x, y, random_state=8)
    assert np.array_equal(a.scores, b.scores) and np.array_equal(a.coef, b.coef)
    assert not np.array_equal(a.scores, c.scores)


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "match"),
    [
        (np.zeros((10, 2)), np.zeros(10), {"kind": "ordinal"}, "kind must be one of"),
        (np.zeros((10, 2)), np.zeros(9), {}, "labels must have shape"),
        (np.ones((10, 2)), np.r_[np.zeros(5), np.ones(5)], {"cv": 11}, "too large"),
        (np.ones((10, 2)), np.r_[np.zeros(5), np.ones(5)], {"cv": 6}, "too large"),
        (np.ones((10, 2)), np.r_[np.zeros(5), np.ones(5)], {"cv": 1}, "cv must be"),
        (np.full((10, 2), np.nan), np.zeros(10), {}, "NaN"),
        (np.ones((10, 2)), np.r_[np.zeros(9), np.nan], {"kind": "regression"}, "NaN"),
        (np.ones((10, 2)), np.zeros(10), {}, "at least 2 classes"),
        (np.ones(10), np.zeros(10), {}, r"shape \(N, D\)"),
        (np.ones((10, 2)), np.r_[np.zeros(5), np.ones(5)], {"estimator": "ridge"}, "estimator must be"),
        (np.ones((10, 2)), np.arange(10.0), {"kind": "regression", "estimator": 3}, "estimator must be"),
    ],
)
def test_probe_rejects_bad_input(x, y, kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        fit_probe(x, y, **kwargs)
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------------------ samples and table


def test_sample_latents_is_seeded_and_taps_every_stage(tiny_gan, tiny_clf):
    a = sample_latents(tiny_gan, classifier=tiny_clf, n=12, seed=3, batch_size=5)
    b = sample_latents(tiny_gan, classifier=tiny_clf, n=12, seed=3)
    c = sample_latents(tiny_gan, classifier=tiny_clf, n=12, seed=4)
    assert a.z.shape == (12, 100) and a.images.shape == (12, 1, 28, 28)
    assert {k: tuple(v.shape) for k, v in a.activations.items()} == {
        "act0": (12, 12544),
        "act1": (12, 6272),
        "act2": (12, 12544),
        "tanh": (12, 784),
    }
    assert torch.allclose(a.activations["tanh"], a.images.flatten(1))
    for name in a.attributes:
        np.testing.assert_allclose(a.attributes[name], b.attributes[name], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a.attributes["ink"], c.attributes["ink"])
    summary = a.summary()
    assert sum(summary["class_counts"]) == 12 and set(summary["attributes"]) >= {"ink", "slant"}
    assert_no_hooks(tiny_gan)


def _break(module: nn.Module, monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("forced failure inside the forward pass")

    monkeypatch.setattr(module, "forward", boom)


@pytest.mark.parametrize("entry", ["sample_latents", "explain_latent"])
def test_errors_in_the_forward_pass_leave_no_hooks_and_restore_flags(entry, tiny_clf, monkeypatch):
    torch.manual_seed(0)
    g = Generator().train()
    g.bn1.eval()  # a submodule in another mode than its parent comes back in its own mode
    g.fc.weight.requires_grad_(False)
    _break(g.deconv2, monkeypatch)
    with pytest.raises(RuntimeError, match="forced failure"):
        if entry == "sample_latents":
            sample_latents(g, classifier=tiny_clf, n=4)
        else:
            explain_latent(g, tiny_clf, n=60, n_traverse=2)
    assert_no_hooks(g)
    assert g.training and not g.bn1.training and all(m.training for m in g.modules() if m is not g.bn1)
    assert not g.fc.weight.requires_grad and g.deconv1.weight.requires_grad


def test_probe_table_finds_ink_in_z0_of_a_constructed_generator():
    samples = sample_latents(InkGenerator(), n=300, seed=0)
    assert list(samples.activations) == ["act0"]
    table = probe_layers(samples, attributes=["ink", "height"], cv=3)
    assert isinstance(table, ProbeTableResult)
    assert table.stages == ("z", "act0") and table.scores.shape == (2, 2)
    # ink = 72 sigmoid(z0) is a monotone function of z0 and linear in act0 (= sigmoid(z0))
    assert table.score_of("z", "ink") > 0.85
    assert table.score_of("act0", "ink") == pytest.approx(1, abs=1e-6)
    with pytest.raises(ValueError, match=r"stage must be one of \['z', 'act0'.*got 'act9'"):
        table.score_of("act9", "ink")
    data = table.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["metrics"] == {"ink": "r2", "height": "r2"}
    display = table.plot()
    assert display.ax_ is not None and display.figure_ is display.ax_.figure


def test_probe_table_reduces_wide_stages_and_skips_constant_attributes(tiny_gan, tiny_clf):
    samples = sample_latents(tiny_gan, classifier=tiny_clf, n=60, seed=0)
    table = probe_layers(samples, attributes=["class", "ink"], n_components=16, cv=3)
    assert table.stages == ("z", "act0", "act1", "act2", "tanh")
    assert table.n_features == (100, 16, 16, 16, 16)
    assert np.isfinite(table.scores[:, 1]).all() and (table.scores[:, 1] <= 1).all()
    assert table.metrics == ("accuracy", "r2")
    # the random scorer calls every digit the same class: nothing to probe, recorded as None
    assert len(np.unique(samples.attributes["class"])) == 1
    assert np.isnan(table.scores[:, 0]).all()
    assert table.to_dict()["scores"]["z"]["class"] is None
    json.dumps(table.to_dict(), allow_nan=False)
    assert table.plot().figure_ is not None
    with pytest.raises(ValueError, match="attributes must be names"):
        probe_layers(samples, attributes=["colour"])
    with pytest.raises(ValueError, match="stages must be tapped"):
        probe_layers(samples, stages=["deconv9"])


@pytest.mark.slow
def test_explain_latent_end_to_end_is_deterministic(tiny_gan, tiny_clf):
    kwargs = dict(
        n=100,
        seed=5,
        attributes=("ink", "slant"),
        conditional=(("slant", "ink"),),
        n_components=2,
        n_traverse=4,
        alphas=(-1, 0, 1),
        cv=3,
    )
    a = explain_latent(tiny_gan, tiny_clf, **kwargs)
    b = explain_latent(tiny_gan, tiny_clf, **kwargs)
    da, db = a.to_dict(), b.to_dict()
    da.pop("timings"), db.pop("timings")
    assert json.dumps(da, allow_nan=False) == json.dumps(db, allow_nan=False)
    labels = [d.label for d in a.directions]
    assert labels == [
        "interfacegan:ink",
        "interfacegan:slant",
        "interfacegan-conditional:slant|ink",
        "ganspace:pc0",
        "ganspace:pc1",
        "sefa:eig0",
        "sefa:eig1",
    ]
    assert a.traversals[2].target == "slant"
    assert len(a.traversals) == len(a.directions) and a.samples.activations == {}
    assert set(da) == {"config", "samples", "probes", "directions", "traversals", "comparison", "alignment"}
    for kind in ("probes", "similarity"):
        assert a.plot(kind=kind).figure_ is not None
    with pytest.raises(ValueError, match="kind must be 'probes' or 'similarity'; got 'grid'"):
        a.plot(kind="grid")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"methods": ["gansp"]}, "methods must be"),
        ({"methods": []}, "methods must be"),
        ({"attributes": ["colour"]}, "attributes must be names"),
        ({"attributes": ["gram_energy"]}, "attributes must be names"),
        ({"n_components": 0}, "n_components must be"),
        ({"n": 1}, "n must be"),
    ],
)
def test_explain_latent_rejects_bad_options(kwargs, match, tiny_gan, tiny_clf):
    with pytest.raises(ValueError, match=match):
        explain_latent(tiny_gan, tiny_clf, **kwargs)


def test_find_directions_from_samples(tiny_gan, tiny_clf):
    from xstyle.explain.gan.probes import find_directions

    samples = sample_latents(tiny_gan, classifier=tiny_clf, n=60, seed=0, stages=["act0"])
    dirs = find_directions(
        tiny_gan, samples, attributes=("ink",), conditional=(("slant", "ink"),), n_components=1, cv=3
    )
    assert [d.label for d in dirs] == [
        "interfacegan:ink",
        "interfacegan-conditional:slant|ink",
        "ganspace:pc0",
        "sefa:eig0",
    ]
    assert [d.label for d in find_directions(tiny_gan, samples, methods=["sefa"], n_components=2)] == [
        "sefa:eig0",
        "sefa:eig1",
    ]
    shape_only = sample_latents(tiny_gan, n=60, seed=0, stages=())
    with pytest.raises(ValueError, match="samples lack the attributes \\['confidence'\\]"):
        find_directions(tiny_gan, shape_only, methods=["interfacegan"])
    with pytest.raises(ValueError, match="ganspace needs a tapped generator stage"):
        find_directions(tiny_gan, shape_only, methods=["ganspace"])
    with pytest.raises(ValueError, match="methods must be"):
        find_directions(tiny_gan, samples, methods=["pca"])
