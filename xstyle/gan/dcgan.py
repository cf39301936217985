"""The DCGAN of the design (the TensorFlow DCGAN tutorial for 28x28 MNIST digits), ported exactly.

Generator: z (B, 100) -> image (B, 1, 28, 28) in [-1, 1].
Discriminator: image (B, 1, 28, 28) -> one real/fake logit (B, 1).
Every stage is a named, non-inplace submodule so :class:`~xstyle.hooks.FeatureTap` can tap it:
``fc, bn0, act0, reshape, deconv1, bn1, act1, deconv2, bn2, act2, deconv3, tanh`` and
``conv1, act1, drop1, conv2, act2, drop2, flatten, fc``.

Keras' ``padding='same'`` with stride 2 and a 5x5 kernel pads 2 before and 2 (conv) / 1 (transposed)
after; PyTorch reproduces it with ``padding=2`` (conv) and ``padding=2, output_padding=1``
(transposed conv). BatchNorm uses Keras' defaults (momentum 0.99 -> PyTorch 0.01, eps 1e-3);
LeakyReLU Keras' default slope 0.3. Weights start as in Keras (Glorot-uniform, zero biases):
PyTorch's own default would give the last transposed convolution weights about three times
larger, saturate the tanh at initialisation and, in our runs, collapse training to one striped
pattern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from xstyle.losses import discriminator_loss, generator_loss  # re-exported: public here since 0.1

if TYPE_CHECKING:
    from xstyle.gan.prior import LatentPrior

__all__ = [
    "LATENT_DIM",
    "Discriminator",
    "Generator",
    "discriminator_loss",
    "generator_loss",
    "keras_init_",
]

#: Size of the latent vector z.
LATENT_DIM = 100
_SLOPE = 0.3  # Keras LeakyReLU default
_BN = dict(momentum=0.01, eps=1e-3)  # Keras BatchNormalization defaults


class Reshape(nn.Module):
    """Reshape (B, C*H*W) to (B, C, H, W)."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], *self.shape)


def keras_init_(module: nn.Module) -> None:
    """Initialise like Keras: Glorot-uniform weights and zero biases for dense and conv layers."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class Generator(nn.Sequential):
    """z (B, 100) -> digits (B, 1, 28, 28) in [-1, 1].

    z comes from ``prior`` (:class:`xstyle.gan.prior.LatentPrior`; None: N(0, I), the design's), a
    plain attribute that travels with the model (not in its state dict); draw from it with
    :func:`xstyle.gan.prior.draw_latents`.
    """

    def __init__(self, latent_dim: int = LATENT_DIM, *, prior: LatentPrior | None = None) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.prior = prior
        self.fc = nn.Linear(latent_dim, 7 * 7 * 256, bias=False)
        self.bn0 = nn.BatchNorm1d(7 * 7 * 256, **_BN)
        self.act0 = nn.LeakyReLU(_SLOPE)
        self.reshape = Reshape(256, 7, 7)
        self.deconv1 = nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False)
        self.bn1 = nn.BatchNorm2d(128, **_BN)
        self.act1 = nn.LeakyReLU(_SLOPE)
        self.deconv2 = nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64, **_BN)
        self.act2 = nn.LeakyReLU(_SLOPE)
        self.deconv3 = nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False)
        self.tanh = nn.Tanh()
        keras_init_(self)


class Discriminator(nn.Sequential):
    """Digits (B, 1, 28, 28) in [-1, 1] -> real/fake logit (B, 1) (positive = real)."""

    def __init__(self, dropout: float = 0.3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 5, stride=2, padding=2)
        self.act1 = nn.LeakyReLU(_SLOPE)
        self.drop1 = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(64, 128, 5, stride=2, padding=2)
        self.act2 = nn.LeakyReLU(_SLOPE)
        self.drop2 = nn.Dropout(dropout)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(128 * 7 * 7, 1)
        keras_init_(self)
