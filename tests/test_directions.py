"""Latent directions (InterFaceGAN, GANSpace, SeFa), their comparison, and traversals."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from xstyle.explain.gan.directions import (
    Direction,
    DirectionComparison,
    compare_directions,
    conditional_direction,
    ganspace_directions,
    interfacegan_directions,
    sefa_directions,
)
from xstyle.explain.gan.probes import sample_latents
from xstyle.explain.gan.traversal import TraversalResult, traverse
from xstyle.gan.classifier import DigitClassifier
from xstyle.gan.dcgan import Generator
from xstyle.hooks import assert_no_hooks


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


def unit(i: int, d: int = 8) -> np.ndarray:
    e = np.zeros(d)
    e[i] = 1.0
    return e


class LinearStageGenerator(nn.Module):
    """A first stage ``act0 = W z`` with W of known singular values (5, 4, 3, 2, 1, ...), then a bar."""

    latent_dim = 6

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        u, _ = torch.linalg.qr(torch.randn(40, 6, generator=g, dtype=torch.float64))
        v, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))
        self.singular = torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0, 0.5], dtype=torch.float64)
        self.fc = nn.Linear(6, 40, bias=False)
        with torch.no_grad():
            self.fc.weight.copy_((u * self.singular) @ v.T)
        self.act0 = nn.Identity()
        self.v = v

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.act0(self.fc(z))
        img = -torch.ones(z.shape[0], 1, 28, 28)
        img[:, 0, 8:20, 12:16] = torch.tanh(h[:, :1]).view(-1, 1, 1).float()
        return img


# ------------------------------------------------------------------------------------------ Direction


def test_direction_is_normalised_read_only_and_validated():
    d = Direction(torch.tensor([3.0, 4.0]), "manual", "x", 1)
    assert np.allclose(d.vector, [0.6, 0.8]) and d.label == "manual:x" and isinstance(d.score, float)
    with pytest.raises(ValueError):
        d.vector[0] = 1.0
    json.dumps(d.to_dict())
    for bad, match in [(np.zeros(3), "must not be zero"), (np.ones((2, 2)), "1-D"), ([np.nan, 1], "finite")]:
        with pytest.raises(ValueError, match=match):
            Direction(bad, "manual", "x", 0)


# ------------------------------------------------------------------------------------------ SeFa


def test_sefa_returns_the_top_right_singular_vectors():
    torch.manual_seed(0)
    layer = nn.Linear(7, 30, bias=False)
    dirs = sefa_directions(layer, n_components=7)
    _, s, vh = torch.linalg.svd(layer.weight.detach().double())
    for k, d in enumerate(dirs):
        assert abs(float(torch.tensor(d.vector) @ vh[k])) == pytest.approx(1, abs=1e-8)
        assert d.source == f"eig{k}" and d.method == "sefa"
        assert d.score == pytest.approx(float(s[k] ** 2 / (s**2).sum()))
    assert sum(d.score for d in dirs) == pytest.approx(1)
    assert [d.score for d in dirs] == sorted((d.score for d in dirs), reverse=True)
    # a weight tensor gives the same answer; the DCGAN's first Linear is found by itself
    same = sefa_directions(layer.weight, n_components=3)
    assert all(np.allclose(a.vector, b.vector) for a, b in zip(dirs, same, strict=False))
    torch.manual_seed(0)
    gan = Generator()
    assert np.allclose(
        sefa_directions(gan, n_components=1)[0].vector, sefa_directions(gan.fc, n_components=1)[0].vector
    )


def test_sefa_folds_batchnorm_and_rejects_bad_input():
    torch.manual_seed(0)
    gan = Generator()
    with torch.no_grad():
        gan.bn0.weight.copy_(torch.rand(12544) * 3)
    plain = sefa_directions(gan, n_components=2)
    folded = sefa_directions(gan, n_components=2, fold_batchnorm=True)
    assert abs(plain[0].vector @ folded[0].vector) < 0.999
    with pytest.raises(ValueError, match="exceeds the latent size"):
        sefa_directions(gan, n_components=101)
    with pytest.raises(ValueError, match="BatchNorm1d"):
        sefa_directions(nn.Linear(3, 4), fold_batchnorm=True)
    with pytest.raises(ValueError, match=r"no nn\.Linear or convolution"):
        sefa_directions(nn.Sequential(nn.ReLU(), nn.Tanh()))
    with pytest.raises(ValueError, match="matrix"):
        sefa_directions(torch.ones(3))


# ---------------------------------------------------------------------------------------- GANSpace


def test_ganspace_on_a_linear_stage_recovers_the_singular_directions():
    gen = LinearStageGenerator()
    samples = sample_latents(gen, n=3000, seed=0)
    dirs = ganspace_directions(samples.activations["act0"], samples.z, n_components=3)
    # act0 = W z with z ~ N(0, I): PCA axes are W's left singular vectors, carried back to v_k
    for k, d in enumerate(dirs):
        assert abs(d.vector @ gen.v[:, k].numpy()) > 0.95
        assert d.source == f"pc{k}"
    expected = gen.singular**2 / (gen.singular**2).sum()
    assert [d.score for d in dirs] == pytest.approx(expected[:3].tolist(), abs=0.03)
    sefa = sefa_directions(gen, n_components=3)
    cmp = compare_directions(dirs + sefa)
    for k in range(3):
        assert abs(cmp.cosine[k, 3 + k]) > 0.95
    with pytest.raises(ValueError, match="same N"):
        ganspace_directions(samples.activations["act0"][:10], samples.z)
    with pytest.raises(ValueError, match="too large"):
        ganspace_directions(samples.activations["act0"], samples.z, n_components=41)


# ------------------------------------------------------------------------------------ InterFaceGAN


def test_interfacegan_finds_e0_for_ink_of_a_constructed_generator():
    samples = sample_latents(InkGenerator(), n=600, seed=0)
    (ink,) = interfacegan_directions(samples.z, samples.attributes, names=["ink"])
    assert ink.method == "interfacegan" and ink.source == "ink"
    assert ink.vector @ unit(0) > 0.9  # points towards more ink
    assert ink.score > 0.95


def test_interfacegan_recovers_a_planted_normal_and_class_boundaries():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(800, 10))
    w = rng.normal(size=10)
    w /= np.linalg.norm(w)
    attrs = {"a": z @ w + 0.1 * rng.normal(size=800), "class": (z[:, 2] > 0.5).astype(np.int64)}
    dirs = interfacegan_directions(z, attrs, digits=[1], random_state=0)
    assert [d.source for d in dirs] == ["a", "class=1"]
    assert dirs[0].vector @ w > 0.95
    assert dirs[1].vector @ unit(2, 10) > 0.9 and dirs[1].score > 0.9
    again = interfacegan_directions(z, attrs, digits=[1], random_state=0)
    assert all(np.array_equal(a.vector, b.vector) for a, b in zip(dirs, again, strict=True))


@pytest.mark.parametrize(
    ("attrs", "kwargs", "match"),
    [
        ({"a": np.arange(100.0)}, {"names": ["b"]}, "names must be numeric attributes"),
        ({"a": np.r_[np.arange(99.0), np.nan]}, {}, "NaN"),
        ({"a": np.arange(99.0)}, {}, "shape"),
        ({"a": np.ones(100)}, {}, "does not separate"),
        ({"a": np.arange(100.0)}, {"fraction": 0.7}, "fraction"),
        ({"a": np.arange(100.0)}, {"digits": [3]}, "attributes\\['class'\\]"),
    ],
)
def test_interfacegan_rejects_bad_input(attrs, kwargs, match):
    z = np.random.default_rng(0).normal(size=(100, 4))
    with pytest.raises(ValueError, match=match):
        interfacegan_directions(z, attrs, **kwargs)


def test_conditional_direction_is_orthogonal_to_the_conditions():
    rng = np.random.default_rng(1)
    a, b, c = (Direction(rng.normal(size=8), "interfacegan", name, 0.9) for name in ("a", "b", "c"))
    ab = conditional_direction(a, b)
    assert abs(ab.vector @ b.vector) < 1e-12
    expected = a.vector - (a.vector @ b.vector) * b.vector
    assert np.allclose(ab.vector, expected / np.linalg.norm(expected))
    assert ab.source == "a|b" and ab.method == "interfacegan-conditional"
    assert ab.score == pytest.approx(np.linalg.norm(expected))
    abc = conditional_direction(a, b, c)
    assert abs(abc.vector @ b.vector) < 1e-12 and abs(abc.vector @ c.vector) < 1e-12
    with pytest.raises(ValueError, match="span"):
        conditional_direction(a, a)
    with pytest.raises(ValueError, match="at least one"):
        conditional_direction(a)
    with pytest.raises(ValueError, match="same size"):
        conditional_direction(a, Direction(np.ones(3), "m", "d", 0))


# -------------------------------------------------------------------------------------- comparison


def test_compare_directions_matches_unsupervised_to_named():
    e = [Direction(unit(i), "interfacegan", name, 0.9) for i, name in enumerate(["ink", "slant"])]
    pc = Direction(unit(1) + 0.2 * unit(3), "ganspace", "pc0", 0.3)
    eig = Direction(-unit(0), "sefa", "eig0", 0.5)
    cmp = compare_directions([*e, pc, eig])
    assert isinstance(cmp, DirectionComparison)
    assert np.allclose(np.diag(cmp.cosine), 1) and np.allclose(cmp.cosine, cmp.cosine.T)
    assert [m["attribute"] for m in cmp.matches] == ["slant", "ink"]
    assert cmp.matches[1]["cosine"] == pytest.approx(-1)
    assert {tuple(c["methods"]) for c in cmp.cross_method} == {
        ("interfacegan", "ganspace"),
        ("interfacegan", "sefa"),
        ("ganspace", "sefa"),
    }
    json.dumps(cmp.to_dict(), allow_nan=False)
    display = cmp.plot()
    assert display.figure_ is display.ax_.figure
    with pytest.raises(ValueError, match="empty"):
        compare_directions([])
    with pytest.raises(ValueError, match="same size"):
        compare_directions([e[0], Direction(np.ones(3), "m", "x", 0)])


# -------------------------------------------------------------------------------------- traversals


def test_traversal_slope_of_ink_along_e0_is_positive_and_zero_along_e1():
    gen = InkGenerator()
    along = traverse(gen, Direction(unit(0), "manual", "ink", 1), n=10, seed=0)
    across = traverse(gen, Direction(unit(1), "manual", "ink", 1), n=10, seed=0)
    assert isinstance(along, TraversalResult)
    assert along.slopes["ink"] > 5  # ink = 72 sigmoid(z0): about 72/4 per sigma near 0
    assert np.all(np.diff(along.means["ink"]) > 0)
    assert across.slopes["ink"] == pytest.approx(0, abs=1e-9)
    assert all(v == pytest.approx(0, abs=1e-9) for v in across.changes.values())
    assert along.target == "ink" and across.disentanglement == 0
    assert along.flip_rate is None  # no classifier
    assert along.images.shape == (8, 7, 1, 28, 28)
    json.dumps(along.to_dict(), allow_nan=False)
    display = along.plot(rows=3)
    assert display.images.shape == (3, 7, 28, 28) and display.figure_ is not None


def test_traversal_flip_rate_disentanglement_and_determinism():
    torch.manual_seed(0)
    gen = Generator().eval()
    torch.manual_seed(1)
    clf = DigitClassifier().eval()
    d = Direction(torch.randn(100), "sefa", "eig0", 0.1)
    a = traverse(gen, d, classifier=clf, n=6, seed=2, alphas=(-2, 2))
    b = traverse(gen, d, classifier=clf, n=6, seed=2, alphas=(-2, 2))
    assert a.to_dict() == b.to_dict()
    assert 0 <= a.flip_rate <= 1 and a.flip_rate_per_step.shape == (2,)
    assert a.target is None and a.dominant in a.changes
    assert a.disentanglement == pytest.approx(a.changes[a.dominant] / sum(a.changes.values()))
    assert "confidence" in a.slopes and "class" not in a.slopes
    z = torch.randn(3, 100)
    c = traverse(gen, d, z=z, alphas=(0, 1))
    assert c.n_samples == 3


def test_traversal_error_in_the_forward_pass_leaves_no_hooks(monkeypatch):
    torch.manual_seed(0)
    g = Generator().train()
    g.deconv1.weight.requires_grad_(False)

    def boom(*args, **kwargs):
        raise RuntimeError("forced failure inside the forward pass")

    monkeypatch.setattr(g.deconv3, "forward", boom)
    with pytest.raises(RuntimeError, match="forced failure"):
        traverse(g, Direction(torch.ones(100), "m", "x", 0), n=2)
    assert_no_hooks(g)
    assert g.training and not g.deconv1.weight.requires_grad and g.fc.weight.requires_grad


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"direction": Direction(np.ones(5), "m", "x", 0)}, "latent size"),
        ({"direction": np.ones(8)}, "must be a Direction"),
        ({"alphas": (1, 1)}, "2 distinct"),
        ({"z": torch.ones(2, 3)}, "z must have shape"),
        ({"n": 0}, "n must be"),
    ],
)
def test_traversal_rejects_bad_input(kwargs, match):
    options = {"direction": Direction(unit(0), "m", "x", 0), **kwargs}
    with pytest.raises(ValueError, match=match):
        traverse(InkGenerator(), options.pop("direction"), **options)
