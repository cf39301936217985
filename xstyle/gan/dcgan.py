"""The DCGAN of the design (the TensorFlow DCGAN tutorial for 28x28 MNIST digits), ported exactly.

Generator: z (B, 100) -> image (B, 1, 28, 28) in [-1, 1].
Discriminator: image (B, 1, 28, 28) -> one real/fake logit (B, 1).

Other sizes and colours (``image_size``, a multiple of 4, and ``channels``; e.g. 32x32 RGB emoji)
keep every layer and change only the sizes: the dense layer makes (256, S/4, S/4) instead of
(256, 7, 7), the last transposed convolution ``channels`` maps instead of one, the
discriminator's first convolution reads ``channels`` maps and its dense layer 128*(S/4)^2
features. The defaults build the 28x28 digit DCGAN exactly as before.

Class-conditional variant (``n_classes=10``; Mirza & Osindero 2014): the generator's input is
cat(z, one-hot y), (B, 110), so its first layer is Linear 110 -> 7*7*256 and the rest is unchanged;
every tool that feeds a generator latents drawn with :func:`xstyle.gan.prior.draw_latents` feeds it
this concatenation (the label carries the content, z the handwriting). The discriminator keeps its
two convolutions and adds a projection term (Miyato & Koyama 2018): logit = fc(h) + <embed(y), h>
for the flattened features h, with ``embed`` a bias-free Linear on the one-hot label.
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
    "N_DIGITS",
    "Discriminator",
    "Generator",
    "check_labels",
    "discriminator_loss",
    "generator_loss",
    "keras_init_",
    "one_hot",
]

#: Size of the latent vector z.
LATENT_DIM = 100
#: Classes of a conditional DCGAN (the digits 0..9).
N_DIGITS = 10
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


def _check_shape(image_size: int, channels: int) -> int:
    """The side of the first feature maps, image_size // 4; one line for a size or channels refused."""
    for name, value in (("image_size", image_size), ("channels", channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1; got {value!r}.")
    if image_size % 4 or image_size < 8:
        raise ValueError(
            f"image_size must be a multiple of 4 and at least 8 (e.g. 28, 32, 64); got {image_size}."
        )
    return image_size // 4


def check_labels(labels: torch.Tensor | int | None, n: int, n_classes: int) -> torch.Tensor:
    """Labels as an int64 tensor (n,) in [0, n_classes): one int for all, a sequence or a tensor;
    None gives balanced labels 0, 1, ..., n_classes - 1, 0, 1, ... Raises one line otherwise."""
    if labels is None:
        return torch.arange(n) % n_classes
    if isinstance(labels, bool) or not isinstance(labels, int | torch.Tensor | list | tuple):
        raise TypeError(f"labels must be an int or a sequence of ints in 0..{n_classes - 1}; got {labels!r}.")
    out = torch.full((n,), labels, dtype=torch.int64) if isinstance(labels, int) else torch.as_tensor(labels)
    if out.dtype.is_floating_point or out.dtype == torch.bool or out.shape != (n,):
        raise ValueError(
            f"labels must be {n} whole numbers in 0..{n_classes - 1} (one per latent); got shape "
            f"{tuple(out.shape)} of {out.dtype}."
        )
    if n and (int(out.min()) < 0 or int(out.max()) >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1}; got values from {int(out.min())} to {int(out.max())}."
        )
    return out.to(torch.int64)


def one_hot(labels: torch.Tensor, *, n_classes: int = N_DIGITS) -> torch.Tensor:
    """(B,) int labels -> (B, n_classes) float32 one-hot; a float (B, n_classes) input passes through."""
    if labels.dtype.is_floating_point:
        return labels
    return nn.functional.one_hot(labels.long(), n_classes).float()


class Generator(nn.Sequential):
    """z (B, 100) -> digits (B, 1, 28, 28) in [-1, 1]; conditional: cat(z, one-hot y) (B, 110) -> digits.

    With ``image_size=S`` and ``channels=C``: images (B, C, S, S) in [-1, 1].

    z comes from ``prior`` (:class:`xstyle.gan.prior.LatentPrior`; None: N(0, I), the design's), a
    plain attribute that travels with the model (not in its state dict); draw from it with
    :func:`xstyle.gan.prior.draw_latents` (which appends the one-hot labels for a conditional model).
    ``latent_dim`` is the size of z, ``n_classes`` 0 (unconditional) or the number of labels, and
    ``input_dim`` their sum.
    """

    def __init__(
        self,
        latent_dim: int = LATENT_DIM,
        *,
        prior: LatentPrior | None = None,
        n_classes: int = 0,
        image_size: int = 28,
        channels: int = 1,
    ) -> None:
        super().__init__()
        side = _check_shape(image_size, channels)
        self.latent_dim = latent_dim
        self.n_classes = n_classes
        self.prior = prior
        self.image_size = image_size
        self.channels = channels
        self.fc = nn.Linear(latent_dim + n_classes, side * side * 256, bias=False)
        self.bn0 = nn.BatchNorm1d(side * side * 256, **_BN)
        self.act0 = nn.LeakyReLU(_SLOPE)
        self.reshape = Reshape(256, side, side)
        self.deconv1 = nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False)
        self.bn1 = nn.BatchNorm2d(128, **_BN)
        self.act1 = nn.LeakyReLU(_SLOPE)
        self.deconv2 = nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64, **_BN)
        self.act2 = nn.LeakyReLU(_SLOPE)
        self.deconv3 = nn.ConvTranspose2d(64, channels, 5, stride=2, padding=2, output_padding=1, bias=False)
        self.tanh = nn.Tanh()
        keras_init_(self)

    @property
    def input_dim(self) -> int:
        """Width of the input: z, then the one-hot label of a conditional generator."""
        return self.latent_dim + self.n_classes

    @property
    def conditional(self) -> bool:
        return self.n_classes > 0


class Discriminator(nn.Sequential):
    """Digits (B, 1, 28, 28) in [-1, 1] -> real/fake logit (B, 1) (positive = real); with
    ``image_size=S`` and ``channels=C`` it reads images (B, C, S, S).

    Conditional (``n_classes > 0``): ``forward(x, labels)`` with labels (B,) ints or (B, n_classes)
    one-hot, and the projection term <embed(y), h> added to the logit.
    """

    def __init__(
        self, dropout: float = 0.3, *, n_classes: int = 0, image_size: int = 28, channels: int = 1
    ) -> None:
        super().__init__()
        side = _check_shape(image_size, channels)
        self.n_classes = n_classes
        self.image_size = image_size
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, 64, 5, stride=2, padding=2)
        self.act1 = nn.LeakyReLU(_SLOPE)
        self.drop1 = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(64, 128, 5, stride=2, padding=2)
        self.act2 = nn.LeakyReLU(_SLOPE)
        self.drop2 = nn.Dropout(dropout)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(128 * side * side, 1)
        if n_classes:
            self.embed = nn.Linear(n_classes, 128 * side * side, bias=False)
        keras_init_(self)

    @property
    def conditional(self) -> bool:
        return self.n_classes > 0

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if not self.n_classes:
            if labels is not None:
                raise ValueError("labels are for a conditional discriminator; this one is unconditional.")
            return super().forward(x)
        if labels is None:
            raise ValueError(
                "this discriminator is conditional: pass the images' labels, D(x, labels) with "
                f"labels (B,) in 0..{self.n_classes - 1}."
            )
        h = x
        for name, module in self.named_children():
            if name not in ("fc", "embed"):
                h = module(h)
        projection = (self.embed(one_hot(labels, n_classes=self.n_classes).to(h.dtype)) * h).sum(
            1, keepdim=True
        )
        return self.fc(h) + projection
