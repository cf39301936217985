"""Gram decompositions, loss splits, low-rank styles, style statistics and fingerprints."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from xstyle.explain.style.fingerprint import (
    STYLE_STATISTICS,
    mmd_squared,
    style_distances,
    style_fingerprints,
)
from xstyle.explain.style.gram import (
    GramDecomposition,
    compare_feature_grams,
    compare_grams,
    decompose_features,
    decompose_gram,
    truncate_gram,
)
from xstyle.explain.style.lowrank import lowrank_style_sweep
from xstyle.hooks import FeatureTap, assert_no_hooks
from xstyle.losses import gram_matrix, style_loss
from xstyle.models.vgg import load_vgg19
from xstyle.transfer import GATYS_STYLE_LAYERS, TransferConfig, style_transfer


@pytest.fixture(scope="module")
def fresh_vgg():
    """A random VGG19 the tests may hook and flag (flags are reset by each test that changes them)."""
    return load_vgg19("random", last_layer="relu5_1", seed=1)


def _features(model, image, layers=GATYS_STYLE_LAYERS):
    with torch.no_grad(), FeatureTap(model, layers) as tap:
        return tap.run(image)


# ------------------------------------------------------------------------------ decomposition


def test_spectrum_identities_on_real_features(caffe_vgg, tiny_images):
    _, style = tiny_images
    result = decompose_gram(style, model=caffe_vgg)
    assert isinstance(result, GramDecomposition) and result.layers == GATYS_STYLE_LAYERS
    feats = _features(caffe_vgg, style)
    for name, sp in result.spectra.items():
        gram = gram_matrix(feats[name])[0].double()
        c = gram.shape[0]
        assert sp.n_channels == c and sp.eigenvectors.shape == (c, c)
        # eigenvalues sum to the trace, descend, and rebuild the Gram
        assert float(sp.eigenvalues.sum()) == pytest.approx(float(gram.trace()), rel=1e-9)
        assert (sp.eigenvalues[:-1] >= sp.eigenvalues[1:]).all()
        assert torch.allclose(sp.reconstruct(), gram, rtol=0, atol=1e-9 * float(gram.abs().max()))
        assert float(sp.channel_share.sum()) == pytest.approx(1.0, abs=1e-12)
        assert float(sp.channel_power.sum()) == pytest.approx(1.0, abs=1e-12)
        assert float(sp.cumulative_energy[-1]) == pytest.approx(1.0, abs=1e-9)
        assert 1.0 <= sp.participation_ratio <= c and 1.0 <= sp.entropy_rank <= c
        assert sp.energy(1) <= sp.energy(4) <= sp.energy(c) == pytest.approx(1.0)
        k90 = sp.components_for(0.9)
        assert sp.energy(k90) >= 0.9 - 1e-12 and (k90 == 1 or sp.energy(k90 - 1) < 0.9)
    json.loads(json.dumps(result.to_dict(), allow_nan=False))


def test_rank_one_and_isotropic_grams():
    gen = torch.Generator().manual_seed(0)
    u, v = (
        torch.rand(8, 1, generator=gen, dtype=torch.float64),
        torch.rand(1, 36, generator=gen, dtype=torch.float64),
    )
    rank1 = (u @ v).view(1, 8, 6, 6)
    sp = decompose_features({"x": rank1}).spectra["x"]
    assert sp.participation_ratio == pytest.approx(1.0, abs=1e-9)
    assert sp.entropy_rank == pytest.approx(1.0, abs=1e-6)
    assert sp.energy(1) == pytest.approx(1.0, abs=1e-9) and sp.components_for(0.99) == 1
    # orthogonal rows of equal norm: every component carries the same energy
    q, _ = torch.linalg.qr(torch.randn(36, 8, generator=gen, dtype=torch.float64))
    iso = q.T.reshape(1, 8, 6, 6) * 3.0
    sp = decompose_features({"x": iso}).spectra["x"]
    assert sp.participation_ratio == pytest.approx(8.0, rel=1e-9)
    assert sp.entropy_rank == pytest.approx(8.0, rel=1e-9)
    assert sp.energy(4) == pytest.approx(0.5, rel=1e-9)


def test_decompose_rejects_bad_input(caffe_vgg, tiny_images):
    _, style = tiny_images
    with pytest.raises(ValueError, match=r"got 'relu9_1'.*Did you mean"):
        decompose_gram(style, model=caffe_vgg, layers=["relu9_1"])
    with pytest.raises(ValueError, match=r"got 'relu9_1'.*Did you mean"):
        decompose_gram(style, layers=["relu9_1"])  # checked before any weights load
    with pytest.raises(ValueError, match="top_k must be whole numbers"):
        decompose_gram(style, model=caffe_vgg, top_k=(0,))
    with pytest.raises(ValueError, match="one image"):
        decompose_gram(torch.cat([style, style]), model=caffe_vgg)
    with pytest.raises(ValueError, match="is zero"):
        decompose_features({"x": torch.zeros(1, 4, 5, 5)})


# --------------------------------------------------------------------------------- comparison


def test_diagonal_plus_off_diagonal_is_the_style_loss(caffe_vgg, tiny_images):
    content, style = tiny_images
    result = compare_grams(content, style, model=caffe_vgg)
    fa, fb = _features(caffe_vgg, content), _features(caffe_vgg, style)
    expected = style_loss(fa, {n: gram_matrix(f) for n, f in fb.items()})
    assert result.total == pytest.approx(float(expected.total), rel=1e-5)
    for name, part in result.per_layer.items():
        assert part.loss == pytest.approx(float(expected.per_layer[name]), rel=1e-5)
        assert part.diagonal + part.off_diagonal == pytest.approx(part.loss, rel=1e-5)
        assert float(part.channel_contribution.sum()) == pytest.approx(part.loss, rel=1e-5)
        assert part.diagonal > 0 and part.off_diagonal > 0
    assert compare_feature_grams(fa, fb).total == pytest.approx(result.total, rel=1e-12)
    json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert compare_grams(style, style, model=caffe_vgg).total == 0.0


# ------------------------------------------------------------------------ MMD and statistics


def test_gram_style_loss_is_a_constant_times_squared_mmd_with_kernel_xty_squared():
    """Li et al. (2017): 1/(4 N^2 M^2) ||G - A||^2 = 1/(4 N^2) * MMD^2 with k(x, y) = (x^T y)^2."""
    gen = torch.Generator().manual_seed(3)
    n, h, w = 6, 4, 5
    fa = torch.randn(1, n, h, w, generator=gen, dtype=torch.float64).relu()
    fb = torch.randn(1, n, h, w, generator=gen, dtype=torch.float64).relu() * 1.7
    loss = style_loss({"l": fa}, {"l": gram_matrix(fb)}, weights={"l": 1.0}, normalize="seed").total
    x, y = fa[0].flatten(1).T, fb[0].flatten(1).T  # positions as samples: (M, N)
    mmd2 = mmd_squared(x, y, kernel="poly", degree=2, offset=0.0)
    assert float(loss) == pytest.approx(float(mmd2) / (4 * n * n), rel=1e-12)
    # the linear kernel compares channel means only
    lin = mmd_squared(x, y, kernel="linear")
    assert float(lin) == pytest.approx(float(((x.mean(0) - y.mean(0)) ** 2).sum()), rel=1e-12)
    # a Gaussian MMD is 0 for identical samples and positive otherwise
    assert float(mmd_squared(x, x, kernel="gaussian")) == pytest.approx(0.0, abs=1e-12)
    assert float(mmd_squared(x, y, kernel="gaussian", bandwidth=2.0)) > 0


def test_style_distances_closed_forms_match_explicit_kernels():
    gen = torch.Generator().manual_seed(4)
    n = 5
    fa = {"l": torch.randn(1, n, 4, 4, generator=gen, dtype=torch.float64)}
    fb = {"l": torch.randn(1, n, 4, 4, generator=gen, dtype=torch.float64) + 0.5}
    d = style_distances(fa, fb)
    assert set(d) == set(STYLE_STATISTICS)
    x, y = fa["l"][0].flatten(1).T, fb["l"][0].flatten(1).T
    poly = mmd_squared(x / math.sqrt(n), y / math.sqrt(n), kernel="poly", degree=2, offset=1.0)
    assert d["mmd_poly"]["l"] == pytest.approx(float(poly), rel=1e-10)
    assert d["mmd_linear"]["l"] == pytest.approx(float(mmd_squared(x, y, kernel="linear")) / n, rel=1e-10)
    # for equal sizes the Gram statistic is the seed's style loss
    seed = style_loss(fa, {"l": gram_matrix(fb["l"])}, weights={"l": 1.0}).total
    assert d["gram"]["l"] == pytest.approx(float(seed), rel=1e-10)
    assert d["gram"]["total"] == d["gram"]["l"]  # one layer, weight 1
    same = style_distances(fa, fa)
    assert all(abs(same[s]["total"]) < 1e-10 for s in STYLE_STATISTICS)


def test_mmd_rejects_bad_input():
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="kernel must be one of"):
        mmd_squared(x, x, kernel="rbf")
    with pytest.raises(ValueError, match="same d"):
        mmd_squared(x, torch.zeros(3, 4))


def test_fingerprints_distances_agreement_and_embedding(caffe_vgg, tiny_images):
    content, style = tiny_images
    images = {"chelsea": content, "starry": style, "wave": "sample:great_wave"}
    result = style_fingerprints(images, model=caffe_vgg, size=32, kinds={"chelsea": "photo"})
    assert result.kinds == ["photo", "other", "painting"]
    g = result.distances["gram"]
    assert np.allclose(g, g.T) and np.all(np.diag(g) == 0) and (g[~np.eye(3, dtype=bool)] > 0).all()
    # the Gram fingerprint distance is the seed's style loss between equal-size images
    feats = {n: _features(caffe_vgg, _resized(im, 32)) for n, im in images.items()}
    pair = style_distances(feats["starry"], feats["wave"])
    assert g[1, 2] == pytest.approx(pair["gram"]["total"], rel=1e-6)
    assert np.allclose(np.diag(result.agreement), 1.0)
    # three points span a plane: PCA keeps every distance (squared embedding distance = Gram distance)
    e = result.embedding
    assert e.shape == (3, 2)
    assert np.sum((e[1] - e[2]) ** 2) == pytest.approx(g[1, 2], rel=1e-4)
    mds = style_fingerprints(images, model=caffe_vgg, size=32, method="mds", seed=1)
    assert mds.embedding.shape == (3, 2) and mds.explained is None
    json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert result.plot().figure_ is not None and result.plot(kind="agreement").figure_ is not None
    with pytest.raises(ValueError, match="method must be"):
        style_fingerprints(images, model=caffe_vgg, method="tsne")
    with pytest.raises(ValueError, match="at least 3 images"):
        style_fingerprints({"a": content, "b": style}, model=caffe_vgg)


def _resized(image, size):
    from xstyle.data import resolve_image

    return resolve_image(image, size=size)


# ------------------------------------------------------------------------------------ low rank


def test_truncate_gram_keeps_top_components():
    gen = torch.Generator().manual_seed(5)
    f = torch.randn(1, 6, 3, 3, generator=gen, dtype=torch.float64)
    g = gram_matrix(f)
    assert truncate_gram(g, None) is g and truncate_gram(g, 6) is g and truncate_gram(g, 60) is g
    t2 = truncate_gram(g, 2)
    assert torch.linalg.matrix_rank(t2[0]) == 2
    sp = decompose_features({"l": f}).spectra["l"]
    assert torch.allclose(t2[0], sp.reconstruct(2), atol=1e-10)
    with pytest.raises(ValueError, match="k must be"):
        truncate_gram(g, 0)


def test_lowrank_full_rank_reproduces_the_full_target_transfer(caffe_vgg, tiny_images):
    content, style = tiny_images
    config = TransferConfig(size=32, steps=(3,))
    result = lowrank_style_sweep(content, style, ranks=(1, 512, None), config=config, model=caffe_vgg)
    assert result.ranks == (1, 512, None)
    # k >= C keeps every target exactly: the same image and loss as the full targets ...
    assert torch.equal(result.images[1], result.images[2])
    assert result.style_loss[1] == result.style_loss[2]
    # ... and as plain single-scale style transfer with the same config
    plain = style_transfer(content, style, config=config, model=caffe_vgg)
    assert torch.equal(plain.image, result.images[2])
    assert result.style_loss[2] == pytest.approx(plain.final["style"], rel=1e-6)
    energy = result.retained_energy
    assert all(0 < energy[0][n] <= 1 for n in energy[0]) and all(v == 1.0 for v in energy[2].values())
    assert result.style_loss[0] != result.style_loss[2]
    json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert result.plot().figure_ is not None
    with pytest.raises(ValueError, match="one pyramid level"):
        lowrank_style_sweep(content, style, config=TransferConfig(size=32, steps=(2, 2)), model=caffe_vgg)
    with pytest.raises(ValueError, match="ranks must be whole numbers"):
        lowrank_style_sweep(content, style, ranks=(0,), config=config, model=caffe_vgg)


# ------------------------------------------------------------------------------ hooks and flags


def _boom(module, args):
    raise RuntimeError("boom")


@pytest.mark.parametrize("entry", ["decompose", "compare", "lowrank", "fingerprints"])
def test_forced_error_leaves_no_hook_and_restores_flags(fresh_vgg, tiny_images, entry):
    content, style = tiny_images
    model = fresh_vgg
    model.train()
    model.conv1_1.weight.requires_grad_(True)
    calls = {
        "decompose": lambda: decompose_gram(style, model=model),
        "compare": lambda: compare_grams(content, style, model=model),
        "lowrank": lambda: lowrank_style_sweep(
            content, style, ranks=(1,), config=TransferConfig(size=32, steps=(1,)), model=model
        ),
        "fingerprints": lambda: style_fingerprints(
            {"a": content, "b": style, "c": content}, model=model, size=32
        ),
    }
    handle = model.conv2_1.register_forward_pre_hook(_boom)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            calls[entry]()
    finally:
        handle.remove()
    assert_no_hooks(model)
    assert model.training
    assert model.conv1_1.weight.requires_grad and not model.conv1_2.weight.requires_grad
    model.eval()
    model.requires_grad_(False)


def test_results_plot(caffe_vgg, tiny_images):
    content, style = tiny_images
    dec = decompose_gram(style, model=caffe_vgg)
    for kind in ("spectrum", "cumulative"):
        display = dec.plot(kind=kind)
        assert display.ax_ is not None and display.figure_ is display.ax_.figure
    assert compare_grams(content, style, model=caffe_vgg).plot().figure_ is not None
    with pytest.raises(ValueError, match="kind must be"):
        dec.plot(kind="pie")
