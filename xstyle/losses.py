"""The losses of Gatys et al. (2016), exactly as the seed states them, with per-layer breakdowns.

* content loss, per layer: ``1/2 * sum((F - P)**2)`` (F: features of the image, P: of the content);
* Gram matrix: ``G = F F^T`` with F reshaped to (N, M), N channels, M = H*W positions;
* style loss, per layer: ``1/(4 N^2 M^2) * sum((G - A)**2)`` (A: Gram of the style image);
  the total style loss is ``sum_l w_l * E_l``;
* total loss: ``alpha * L_content + beta * L_style``;
* an optional transform of the features before the Gram matrices and the content loss,
  :func:`transform_features`: ``"softmax"`` over each layer's activations (SWAG, Wang, Li &
  Vasconcelos, CVPR 2021), which tames the peaky activations of residual networks;
* adversarial losses (BCE from logits) shared by the DCGAN and the stylizer's patch discriminator:
  :func:`discriminator_loss`, :func:`generator_loss`.

Scale: the content loss is a sum over positions, so it grows with the pixel count; the style loss
(the Gram divided by ``M^2``) does not. With the seed's formulas the same alpha/beta therefore
stylises a small image far more strongly than a large one. :class:`xstyle.transfer.TransferConfig`
compensates by default (``normalize="size"``): it keeps these formulas and multiplies the content
*weight* by ``(512 / L)**2`` (L: long side of the image), a weighting it applies, not a formula here;
these functions accept ``"size"`` and compute exactly what ``"seed"`` does.

``normalize="mean"`` is an option for users who want losses that do not grow with the image size:
content becomes the mean of the squared difference, and the Gram is divided by M.
Features are (B, C, H, W); each loss returns one value per sample of the batch, shape (B,).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "FEATURE_TRANSFORMS",
    "LossBreakdown",
    "content_loss",
    "discriminator_loss",
    "generator_loss",
    "gram_matrix",
    "style_loss",
    "total_loss",
    "transform_features",
]

#: "size" is the transfer's size-normalised *weighting* (see the module docstring); its formulas are "seed"'s
_NORMALIZE = ("seed", "mean", "size")


#: the feature transforms :func:`transform_features` knows (None: the features as they are)
FEATURE_TRANSFORMS: tuple[str | None, ...] = (None, "softmax")


def transform_features(
    features: Mapping[str, torch.Tensor], *, kind: str | None, temperature: float = 1.0
) -> dict[str, torch.Tensor]:
    """The features after ``kind`` (None: unchanged; the same dict's tensors), layer by layer.

    ``"softmax"``: for each sample and layer (B, C, H, W), a softmax over all C*H*W activations
    divided by ``temperature``, times C*H*W, so the result's mean is 1 (SWAG's softmax, scaled so
    that alpha and beta keep their magnitude; a constant factor changes no ranking). Computed in
    float32 or wider; the result is positive, and a peaky layer (one large activation) becomes
    sparse while a flat one becomes ~1 everywhere.
    """
    if kind is None:
        return dict(features)
    if kind != "softmax":
        raise ValueError(f"kind must be one of {FEATURE_TRANSFORMS}; got {kind!r}.")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature!r}.")
    out = {}
    for name, f in features.items():
        flat = f.flatten(1)
        if flat.dtype in (torch.float16, torch.bfloat16):
            flat = flat.float()
        out[name] = (torch.softmax(flat / temperature, dim=1) * flat.shape[1]).view(f.shape)
    return out


def _check_normalize(normalize: str) -> None:
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be one of {_NORMALIZE}; got {normalize!r}.")


def gram_matrix(features: torch.Tensor, *, normalize: str = "seed") -> torch.Tensor:
    """Gram matrix ``F F^T`` of features (B, C, H, W) -> (B, C, C), computed in float32 or wider.

    ``normalize="mean"`` divides by M = H*W; ``"seed"`` and ``"size"`` do not.
    """
    _check_normalize(normalize)
    if features.ndim != 4:
        raise ValueError(f"features must have shape (B, C, H, W); got {tuple(features.shape)}.")
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    if f.dtype in (torch.float16, torch.bfloat16):
        f = f.float()
    gram = f @ f.transpose(1, 2)
    return gram / (h * w) if normalize == "mean" else gram


def _layer_style_loss(
    gram: torch.Tensor, target: torch.Tensor, n: int, m: int, normalize: str
) -> torch.Tensor:
    diff = (gram - target.to(gram.dtype)).pow(2).sum(dim=(1, 2))
    if normalize != "mean":  # "seed" and "size"
        return diff / (4.0 * n * n * m * m)
    return diff / (4.0 * n * n)  # the Gram already carries 1/M


def _layer(features: Mapping[str, torch.Tensor], name: str, what: str) -> torch.Tensor:
    if name not in features:
        have = ", ".join(map(repr, features)) or "none"
        raise ValueError(
            f"features has no layer {name!r} that the {what} need (it has {have}); "
            "tap the same layers the targets were computed on."
        )
    return features[name]


def content_loss(
    features: Mapping[str, torch.Tensor],
    targets: Mapping[str, torch.Tensor],
    *,
    weights: Mapping[str, float] | None = None,
    normalize: str = "seed",
) -> LossBreakdown:
    """Content loss ``sum_l w_l * 1/2 * sum((F_l - P_l)**2)`` over the layers in ``targets``.

    A sum over positions: it grows with the pixel count (``normalize="mean"`` takes the mean instead).

    Args:
        features: layer -> (B, C, H, W) features of the image being optimised.
        targets: layer -> (1 or B, C, H, W) features of the content image.
        weights: layer -> weight (default 1 for every layer).
    """
    _check_normalize(normalize)
    parts = {}
    for name, target in targets.items():
        f = _layer(features, name, "content targets")
        if f.shape[1:] != target.shape[1:] or target.shape[0] not in (1, f.shape[0]):
            raise ValueError(
                f"content target {name!r} has shape {tuple(target.shape)} but the features have "
                f"{tuple(f.shape)}; compute both from images of the same size."
            )
        diff = (f - target.to(f.dtype)).float().pow(2)
        per_sample = diff.flatten(1).sum(1) * 0.5 if normalize != "mean" else diff.flatten(1).mean(1)
        parts[name] = per_sample * (1.0 if weights is None else float(weights[name]))
    return LossBreakdown.from_parts(parts)


def style_loss(
    features: Mapping[str, torch.Tensor],
    gram_targets: Mapping[str, torch.Tensor],
    *,
    weights: Mapping[str, float] | None = None,
    normalize: str = "seed",
) -> LossBreakdown:
    """Style loss ``sum_l w_l / (4 N_l^2 M_l^2) * sum((G_l - A_l)**2)``.

    Args:
        features: layer -> (B, C, H, W) features of the image being optimised.
        gram_targets: layer -> (1 or B, C, C) Gram matrices of the style image
            (:func:`gram_matrix` with the same ``normalize``).
        weights: layer -> w_l (default: 1 / number of layers, as Gatys et al.).
    """
    _check_normalize(normalize)
    parts = {}
    n_layers = len(gram_targets)
    for name, target in gram_targets.items():
        f = _layer(features, name, "Gram targets")
        _, c, h, w = f.shape
        if target.shape[-2:] != (c, c) or target.ndim not in (2, 3):
            raise ValueError(
                f"Gram target {name!r} has shape {tuple(target.shape)}; the layer's {c} channels need "
                f"(1, {c}, {c}) (xstyle.gram_matrix of the style image's features)."
            )
        loss = _layer_style_loss(gram_matrix(f, normalize=normalize), target, c, h * w, normalize)
        weight = 1.0 / n_layers if weights is None else float(weights[name])
        parts[name] = loss * weight
    return LossBreakdown.from_parts(parts)


def total_loss(content: LossBreakdown, style: LossBreakdown, *, alpha: float, beta: float) -> torch.Tensor:
    """``alpha * L_content + beta * L_style``, shape (B,)."""
    return alpha * content.total + beta * style.total


@dataclass(frozen=True, eq=False)
class LossBreakdown:
    """A loss and its weighted per-layer parts (each (B,)); ``total`` is their sum."""

    total: torch.Tensor
    per_layer: dict[str, torch.Tensor]

    @classmethod
    def from_parts(cls, parts: dict[str, torch.Tensor]) -> LossBreakdown:
        if not parts:
            raise ValueError("a loss needs at least one layer.")
        return cls(total=torch.stack(list(parts.values())).sum(0), per_layer=parts)

    def as_floats(self) -> dict[str, float]:
        """Batch-summed per-layer values as Python floats (for histories and JSON)."""
        return {name: float(v.detach().sum()) for name, v in self.per_layer.items()}


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Adversarial loss of a discriminator: BCE(real, 1) + BCE(fake, 0), from logits; a scalar."""
    return F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Adversarial (non-saturating) loss of a generator: BCE(fake, 1), from logits; a scalar."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
