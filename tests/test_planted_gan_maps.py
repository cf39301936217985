"""Planted answers for the GAN attributions: a discriminator that only looks at a known window, and
one whose logit is "ink on the left minus ink on the right" (the sign of the maps)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from xstyle.explain.gan.gan_maps import discriminator_maps

WINDOW = (slice(8, 16), slice(10, 18))  # rows, columns the stub critic reads


class WindowCritic(nn.Module):
    """A nonlinear critic of the 8 x 8 window WINDOW only: everything outside it cannot matter."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(64, 16)
        self.out = nn.Linear(16, 1)
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        window = x[:, 0, WINDOW[0], WINDOW[1]].flatten(1)
        return self.out(torch.tanh(self.hidden(window)))


class LeftMinusRight(nn.Module):
    """Logit = mean ink on the left half minus mean ink on the right half (ink = value + 1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ink = x[:, 0] + 1
        return (ink[..., :14].mean((1, 2)) - ink[..., 14:].mean((1, 2)))[:, None]


def _digits(n: int, seed: int) -> torch.Tensor:
    """(n, 1, 28, 28) in [-1, 1]: random strokes of ink all over the canvas."""
    gen = torch.Generator().manual_seed(seed)
    digits = torch.full((n, 1, 28, 28), -1.0)
    digits[torch.rand(digits.shape, generator=gen) < 0.3] = 1.0
    return digits


def test_the_evidence_falls_on_the_window_the_critic_reads():
    critic = WindowCritic()
    real, fake = _digits(3, 1), _digits(3, 2)
    inside = torch.zeros(28, 28, dtype=torch.bool)
    inside[WINDOW] = True
    # ink outside the window in every digit: a map that followed the ink would put mass there
    assert all(float(((d[0] > 0) & ~inside).double().mean()) > 0.2 for d in torch.cat([real, fake]))
    r = discriminator_maps(critic, real, fake, n_steps=32, sanity=False)
    for maps in (r.real_maps, r.fake_maps):
        assert torch.count_nonzero(maps[:, ~inside]) == 0
        assert float(maps[:, inside].abs().sum()) > 0
    assert r.completeness["real"] < 0.05 and r.completeness["fake"] < 0.05
    # against the empty (-1) canvas only ink can carry evidence, and only the window's ink does
    assert r.stroke_share["real"] == pytest.approx(1.0)
    assert critic.training  # the caller's flags come back as they were


def test_the_sign_says_which_way_a_pixel_pushes_the_logit():
    real = torch.full((2, 1, 28, 28), -1.0)
    real[:, :, 10:18, 3:9] = 1.0  # ink on the left: pushes towards "real"
    real[:, :, 10:18, 20:24] = 1.0  # ink on the right: pushes towards "fake"
    r = discriminator_maps(LeftMinusRight(), real, real.clone(), n_steps=8, sanity=False)
    left, right = r.real_maps[:, 10:18, 3:9], r.real_maps[:, 10:18, 20:24]
    assert bool((left > 0).all()) and bool((right < 0).all())
    # the map is exact for a linear logit: each ink pixel moves it by 2 / (28 * 14)
    assert float(left[0, 0, 0]) == pytest.approx(2 / (28 * 14), rel=1e-4)
    assert float(r.real_maps.sum(dim=(1, 2))[0]) == pytest.approx(float(r.real_logits[0]), abs=1e-5)
