import pytest
import torch

from xstyle.losses import content_loss, gram_matrix, style_loss, total_loss


def test_gram_matches_hand_computation():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)  # 2 channels, M = 2 positions
    g = gram_matrix(f)
    assert torch.equal(g[0], torch.tensor([[5.0, 11.0], [11.0, 25.0]]))
    assert torch.allclose(gram_matrix(f, normalize="mean")[0], g[0] / 2)


def test_gram_is_symmetric_psd():
    f = torch.randn(3, 8, 5, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    g = gram_matrix(f)
    assert torch.allclose(g, g.transpose(1, 2))
    assert torch.linalg.eigvalsh(g).min() > -1e-9


def test_content_loss_is_half_sum_of_squares():
    f = {"a": torch.tensor([1.0, 2.0, 3.0]).view(1, 1, 1, 3)}
    p = {"a": torch.tensor([0.0, 0.0, 1.0]).view(1, 1, 1, 3)}
    out = content_loss(f, p)
    assert out.total.item() == pytest.approx(0.5 * (1 + 4 + 4))
    assert out.per_layer["a"].item() == pytest.approx(4.5)


def test_style_loss_seed_normalisation():
    # N = 2 channels, M = 2 positions; G - A computed by hand
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)
    a = torch.tensor([[[4.0, 10.0], [10.0, 25.0]]])
    diff = 1 + 1 + 1 + 0  # (5-4)^2 + (11-10)^2 * 2 + 0
    out = style_loss({"x": f}, {"x": a}, weights={"x": 1.0})
    assert out.total.item() == pytest.approx(diff / (4 * 2**2 * 2**2))


def test_style_loss_default_weights_and_parts_sum_to_total():
    gen = torch.Generator().manual_seed(0)
    feats = {n: torch.rand(2, 4, 6, 6, generator=gen, dtype=torch.float64) for n in ("a", "b", "c")}
    targets = {n: gram_matrix(torch.rand(1, 4, 6, 6, generator=gen, dtype=torch.float64)) for n in feats}
    out = style_loss(feats, targets)
    assert out.total.shape == (2,)
    assert torch.allclose(sum(out.per_layer.values()), out.total)
    single = style_loss({"a": feats["a"]}, {"a": targets["a"]}, weights={"a": 1.0})
    assert torch.allclose(out.per_layer["a"], single.total / 3)  # w_l = 1/3


def test_total_loss_combines_alpha_beta():
    f = {"a": torch.ones(1, 2, 2, 2)}
    c = content_loss(f, {"a": torch.zeros(1, 2, 2, 2)})
    s = style_loss(f, {"a": torch.zeros(1, 2, 2)})
    assert total_loss(c, s, alpha=2.0, beta=3.0).item() == pytest.approx(
        2 * c.total.item() + 3 * s.total.item()
    )


def test_identical_images_have_zero_loss():
    f = {"a": torch.rand(1, 3, 4, 4)}
    assert content_loss(f, f).total.item() == 0
    assert style_loss(f, {"a": gram_matrix(f["a"])}).total.item() == pytest.approx(0, abs=1e-10)


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="normalize must be one of"):
        gram_matrix(torch.rand(1, 2, 2, 2), normalize="sum")
    with pytest.raises(ValueError, match=r"shape \(B, C, H, W\)"):
        gram_matrix(torch.rand(2, 2, 2))
