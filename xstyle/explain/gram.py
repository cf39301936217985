"""What a style is inside VGG19: Gram spectra, loss splits, low-rank styles and style statistics.

Gatys et al. (2016) describe a style by the Gram matrices ``G_l = F_l F_l^T`` of a few VGG19 layers
(``F_l``: N_l channels x M_l positions). This module takes those matrices apart:

* :func:`decompose_gram` / :func:`decompose_features`: per layer the eigenvalues (descending) and
  eigenvectors of ``G_l`` (``torch.linalg.eigh`` in float64), the effective rank (participation
  ratio and entropy), the energy captured by the top-k components and each channel's share of the
  Gram energy (:class:`GramDecomposition`);
* :func:`compare_grams`: the seed's style loss between two images split, per layer, into its
  diagonal (channel power) and off-diagonal (channel co-activation) parts and per-channel
  contributions (:class:`GramComparison`);
* :func:`lowrank_style_sweep`: style transfer with every Gram target truncated to its top-k
  eigencomponents, for a sweep of k; each result's style loss is measured against the *full*
  target (:class:`LowRankResult`);
* :func:`style_distances`, :func:`mmd_squared` and :func:`style_fingerprints`: alternative style
  statistics (AdaIN channel mean/std, MMD with linear, polynomial and Gaussian kernels) next to the
  Gram loss, their agreement (Spearman rank correlation of distances over image pairs) and a 2-D
  map of the images' Gram "fingerprints" (:class:`FingerprintResult`).

The MMD identity (Li et al., "Demystifying Neural Style Transfer", IJCAI 2017): with ``x_i`` the
columns of ``F`` (one N-vector per position) and the kernel ``k(x, y) = (x^T y)^2``, the biased
MMD estimate is ``MMD^2 = ||G - A||_F^2 / M^2``, so the seed's layer loss
``||G - A||_F^2 / (4 N^2 M^2)`` equals ``MMD^2 / (4 N^2)`` (equal sizes M of both images).

Images are float RGB in [0, 1], shape (1, 3, H, W) (or anything :func:`xstyle.data.resolve_image`
takes: paths, ``sample:NAME``, arrays). No matplotlib is imported here; ``.plot()`` methods
import :mod:`xstyle.explain.plots_style` lazily.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_seed
from xstyle._stats import rank_correlation
from xstyle.data import describe_image, load_single_image
from xstyle.hooks import FeatureTap, frozen, resolve_layers
from xstyle.images import ImageLike
from xstyle.losses import gram_matrix, style_loss
from xstyle.models.vgg import LAYER_NAMES, check_layer_names, load_vgg19
from xstyle.transfer import (
    GATYS_STYLE_LAYERS,
    StyleObjective,
    TransferConfig,
    make_initial_image,
    optimise_image,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from xstyle.explain.plots_style import (
        FingerprintDisplay,
        GramComparisonDisplay,
        GramSpectrumDisplay,
        LowRankDisplay,
        StatisticsAgreementDisplay,
    )

__all__ = [
    "STYLE_STATISTICS",
    "FingerprintResult",
    "GramComparison",
    "GramDecomposition",
    "LayerComparison",
    "LayerSpectrum",
    "LowRankResult",
    "compare_feature_grams",
    "compare_grams",
    "decompose_features",
    "decompose_gram",
    "layer_spectrum",
    "lowrank_style_sweep",
    "mmd_squared",
    "style_distances",
    "style_fingerprints",
    "truncate_gram",
]

#: The style statistics :func:`style_distances` computes, in this order.
STYLE_STATISTICS: tuple[str, ...] = ("gram", "adain", "mmd_linear", "mmd_poly", "mmd_gaussian")
_KERNELS = ("linear", "poly", "gaussian")
_DEFAULT_TOP_K = (1, 4, 16, 64)
_ENERGY_LEVELS = (0.5, 0.9, 0.99)


# ------------------------------------------------------------------------------------------ helpers


def _model_for(
    model: nn.Module | None, layers: Sequence[str], *, weights: str, pooling: str = "max", param: str
) -> nn.Module:
    """The caller's model (layers checked against it) or a VGG19 truncated after the deepest layer."""
    if model is not None:
        resolve_layers(model, layers, param=param)
        return model
    names = check_layer_names(layers, param=param)
    return load_vgg19(weights, pooling=pooling, last_layer=max(names, key=LAYER_NAMES.index))


def _features(model: nn.Module, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
    with torch.no_grad(), FeatureTap(model, layers, stop_after_last=True) as tap:
        return tap.run(image)


def _check_top_k(top_k: Sequence[int]) -> tuple[int, ...]:
    ks = tuple(top_k)
    if any(not isinstance(k, (int, np.integer)) or k < 1 for k in ks):
        raise ValueError(f"top_k must be whole numbers >= 1, e.g. (1, 4, 16, 64); got {top_k!r}.")
    return tuple(int(k) for k in ks)


# ------------------------------------------------------------------------------------ decomposition


@dataclass(frozen=True, eq=False)
class LayerSpectrum:
    """Eigen-decomposition of one layer's Gram matrix ``G = F F^T`` (C x C, symmetric PSD).

    Attributes:
        layer: layer name; ``n_channels`` = C, ``n_positions`` = M = H*W.
        eigenvalues: (C,) float64, descending; they sum to ``trace(G)`` (tiny negatives from
            rounding are kept here and clipped to 0 in the derived numbers).
        eigenvectors: (C, C) float64, column i belongs to eigenvalue i; ``V diag(λ) V^T = G``.
        participation_ratio: ``(Σλ)^2 / Σλ^2``, in [1, C]; 1 for a rank-1 Gram.
        entropy_rank: ``exp(H(p))`` with ``p = λ / Σλ`` (Roy & Vetterli's effective rank), in [1, C].
        cumulative_energy: (C,) fraction of ``trace(G)`` captured by the top 1..C components.
        channel_share: (C,) each channel's share of the Gram energy ``||G||_F^2`` (row i's
            ``Σ_j G_ij^2``; sums to 1); this is what the style loss sees.
        channel_power: (C,) each channel's share of ``trace(G)`` (its own power ``G_ii``; sums to 1).
    """

    layer: str
    n_channels: int
    n_positions: int
    eigenvalues: torch.Tensor
    eigenvectors: torch.Tensor
    participation_ratio: float
    entropy_rank: float
    cumulative_energy: torch.Tensor
    channel_share: torch.Tensor
    channel_power: torch.Tensor

    def energy(self, k: int) -> float:
        """Fraction of ``trace(G)`` captured by the top ``k`` components (k >= C gives 1)."""
        if k < 1:
            raise ValueError(f"k must be >= 1; got {k}.")
        return float(self.cumulative_energy[min(k, self.n_channels) - 1])

    def components_for(self, fraction: float) -> int:
        """Smallest number of components whose energy reaches ``fraction`` (in (0, 1])."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must lie in (0, 1]; got {fraction}.")
        idx = int(
            torch.searchsorted(self.cumulative_energy, torch.tensor(fraction - 1e-12, dtype=torch.float64))
        )
        return min(idx + 1, self.n_channels)

    def reconstruct(self, k: int | None = None) -> torch.Tensor:
        """``V_k diag(λ_k) V_k^T`` (C, C) float64 from the top ``k`` components (None: all)."""
        k = self.n_channels if k is None else min(int(k), self.n_channels)
        v = self.eigenvectors[:, :k]
        return (v * self.eigenvalues[:k]) @ v.T

    def to_dict(self, *, top_k: Sequence[int] = _DEFAULT_TOP_K) -> dict:
        order = torch.argsort(self.channel_share, descending=True)[:10]
        return {
            "n_channels": self.n_channels,
            "n_positions": self.n_positions,
            "eigenvalues": [float(v) for v in self.eigenvalues],
            "participation_ratio": self.participation_ratio,
            "entropy_rank": self.entropy_rank,
            "energy_top_k": {str(k): self.energy(k) for k in top_k},
            "components_for_energy": {str(f): self.components_for(f) for f in _ENERGY_LEVELS},
            "channel_share": [float(v) for v in self.channel_share],
            "top_channels": [int(i) for i in order],
        }


def layer_spectrum(layer: str, gram: torch.Tensor, n_positions: int) -> LayerSpectrum:
    """Eigen-decompose one layer's Gram matrix.

    Args:
        layer: the layer's name (kept in the result).
        gram: (C, C) symmetric positive semi-definite ``F Fᵀ`` of that layer (any float dtype;
            computed in float64).
        n_positions: the number of feature positions M = H·W the Gram summed over (metadata; 1
            when the Gram is a target whose positions are unknown).

    Returns:
        A :class:`LayerSpectrum`: eigenvalues (C,) descending, eigenvectors (C, C) as columns,
        cumulative energy, participation ratio, entropy rank and per-channel shares.

    Raises:
        ValueError: the matrix is zero (every channel silent), so its spectrum is undefined.
    """
    g = gram.double()
    g = 0.5 * (g + g.T)  # exact symmetry for eigh
    evals, evecs = torch.linalg.eigh(g)
    evals, evecs = evals.flip(0), evecs.flip(1)
    lam = evals.clamp_min(0)
    total = lam.sum()
    if total <= 0:
        raise ValueError(
            f"the Gram matrix of layer {layer!r} is zero (all channels silent); its spectrum is undefined. "
            "Use a non-blank image or another layer."
        )
    p = lam / total
    pr = float(total**2 / (lam**2).sum())
    nz = p[p > 0]
    entropy_rank = float(torch.exp(-(nz * nz.log()).sum()))
    row = (g**2).sum(1)
    diag = torch.diagonal(g).clamp_min(0)
    return LayerSpectrum(
        layer=layer,
        n_channels=g.shape[0],
        n_positions=int(n_positions),
        eigenvalues=evals,
        eigenvectors=evecs,
        participation_ratio=pr,
        entropy_rank=entropy_rank,
        cumulative_energy=torch.cumsum(p, 0).clamp_max(1.0),
        channel_share=row / row.sum(),
        channel_power=diag / diag.sum(),
    )


@dataclass(frozen=True)
class GramDecomposition:
    """Per-layer Gram spectra of one image (:func:`decompose_gram`).

    Attributes:
        layers: the layers, in the order given.
        spectra: layer -> :class:`LayerSpectrum`.
        normalize: the Gram normalisation (``"seed"``: ``F F^T``; ``"mean"``: divided by M).
        size_hw: (H, W) of the analysed image (None when built from features).
        timings: seconds for ``features`` (when an image was given) and ``decomposition``.
        meta: weights, image description.
    """

    layers: tuple[str, ...]
    spectra: dict[str, LayerSpectrum]
    normalize: str
    size_hw: tuple[int, int] | None
    timings: dict[str, float]
    top_k: tuple[int, ...] = _DEFAULT_TOP_K
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready numbers (eigenvectors left out)."""
        return {
            "layers": list(self.layers),
            "normalize": self.normalize,
            "size_hw": list(self.size_hw) if self.size_hw else None,
            "timings": self.timings,
            "meta": self.meta,
            "spectra": {n: self.spectra[n].to_dict(top_k=self.top_k) for n in self.layers},
        }

    def plot(self, *, ax: Axes | None = None, kind: str = "spectrum") -> GramSpectrumDisplay:
        """Plot normalised spectra (``kind="spectrum"``) or cumulative energy (``"cumulative"``).

        Returns a :class:`~xstyle.explain.plots_style.GramSpectrumDisplay`.
        """
        from xstyle.explain.plots_style import GramSpectrumDisplay

        return GramSpectrumDisplay.from_result(self).plot(ax=ax, kind=kind)


def decompose_features(
    features: Mapping[str, torch.Tensor],
    *,
    normalize: str = "seed",
    top_k: Sequence[int] = _DEFAULT_TOP_K,
) -> GramDecomposition:
    """Decompose the Gram matrix of each feature map in ``features`` (layer -> (1, C, H, W)).

    The Gram comes from :func:`xstyle.losses.gram_matrix` (float32 or wider); eigh runs in float64.
    Use this to reuse features you already have; :func:`decompose_gram` computes them from an image.
    """
    top = _check_top_k(top_k)
    if not features:
        raise ValueError("features must map at least one layer name to a (1, C, H, W) tensor; got {}.")
    t0 = time.perf_counter()
    spectra = {}
    for name, feats in features.items():
        if feats.ndim != 4 or feats.shape[0] != 1:
            raise ValueError(
                f"features[{name!r}] must have shape (1, C, H, W) (one image); got {tuple(feats.shape)}."
            )
        gram = gram_matrix(feats.detach(), normalize=normalize)[0]
        spectra[name] = layer_spectrum(name, gram, feats.shape[-2] * feats.shape[-1])
    return GramDecomposition(
        layers=tuple(features),
        spectra=spectra,
        normalize=normalize,
        size_hw=None,
        timings={"decomposition": time.perf_counter() - t0},
        top_k=top,
    )


def decompose_gram(
    image: ImageLike,
    *,
    layers: Sequence[str] = GATYS_STYLE_LAYERS,
    weights: str = "caffe",
    model: nn.Module | None = None,
    size: int | None = None,
    normalize: str = "seed",
    top_k: Sequence[int] = _DEFAULT_TOP_K,
) -> GramDecomposition:
    """Eigen-decompose the Gram matrices of ``image`` at ``layers``.

    Args:
        image: (1, 3, H, W) or (3, H, W) float RGB in [0, 1], a path or ``sample:NAME``.
        layers: layer names (default: Gatys' style layers relu1_1 .. relu5_1).
        weights: VGG19 weights when ``model`` is None (``"caffe"``, the real default; ``"random"``
            is a control).
        model: a feature extractor to reuse (its training/requires_grad flags are restored).
        size: resize so the long side is ``size`` px (None: keep the image's size).
        normalize: ``"seed"`` (``F F^T``) or ``"mean"`` (divided by M); ratios do not depend on it.
        top_k: the k at which :meth:`LayerSpectrum.energy` is reported in ``to_dict``.

    Returns:
        A :class:`GramDecomposition` with one :class:`LayerSpectrum` per layer.
    """
    top = _check_top_k(top_k)
    if normalize not in ("seed", "mean"):
        raise ValueError(f"normalize must be 'seed' or 'mean'; got {normalize!r}.")
    img = load_single_image(image, size=size, param="image")
    net = _model_for(model, layers, weights=weights, param="layers")
    t0 = time.perf_counter()
    with frozen(net):
        feats = _features(net, img, list(layers))
    t_feat = time.perf_counter() - t0
    result = decompose_features(feats, normalize=normalize, top_k=top)
    return GramDecomposition(
        layers=tuple(layers),
        spectra=result.spectra,
        normalize=normalize,
        size_hw=(int(img.shape[-2]), int(img.shape[-1])),
        timings={"features": t_feat, **result.timings},
        top_k=top,
        meta={"weights": getattr(net, "weights_name", "custom"), "image": describe_image(image)},
    )


# -------------------------------------------------------------------------------------- comparison


@dataclass(frozen=True, eq=False)
class LayerComparison:
    """One layer's style loss between two images, split by Gram entry type.

    ``loss = diagonal + off_diagonal = Σ channel_contribution`` (all weighted by ``w_l`` and the
    seed's ``1/(4 N^2 M^2)``). ``diagonal`` compares channel powers ``G_ii``; ``off_diagonal``
    compares co-activations ``G_ij, i != j``. ``channel_contribution[i] = Σ_j (G_ij - A_ij)^2``
    (scaled): each off-diagonal pair is counted once in row i and once in row j.
    """

    layer: str
    loss: float
    diagonal: float
    off_diagonal: float
    channel_contribution: torch.Tensor

    def to_dict(self) -> dict:
        order = torch.argsort(self.channel_contribution, descending=True)[:10]
        return {
            "loss": self.loss,
            "diagonal": self.diagonal,
            "off_diagonal": self.off_diagonal,
            "diagonal_fraction": self.diagonal / self.loss if self.loss > 0 else None,
            "channel_contribution": [float(v) for v in self.channel_contribution],
            "top_channels": [int(i) for i in order],
        }


@dataclass(frozen=True)
class GramComparison:
    """The seed's style loss of ``image`` against the Gram targets of ``reference``, per layer.

    ``total`` equals :func:`xstyle.losses.style_loss` (features of ``image``, Gram targets of
    ``reference``, the same weights and normalisation).
    """

    layers: tuple[str, ...]
    per_layer: dict[str, LayerComparison]
    total: float
    weights: dict[str, float]
    normalize: str
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "layers": list(self.layers),
            "total": self.total,
            "weights": self.weights,
            "normalize": self.normalize,
            "meta": self.meta,
            "per_layer": {n: self.per_layer[n].to_dict() for n in self.layers},
        }

    def plot(self, *, ax: Axes | None = None) -> GramComparisonDisplay:
        """Stacked bars of diagonal and off-diagonal loss per layer (GramComparisonDisplay)."""
        from xstyle.explain.plots_style import GramComparisonDisplay

        return GramComparisonDisplay.from_result(self).plot(ax=ax)


def compare_feature_grams(
    features: Mapping[str, torch.Tensor],
    reference: Mapping[str, torch.Tensor],
    *,
    weights: Mapping[str, float] | None = None,
    normalize: str = "seed",
) -> GramComparison:
    """:func:`compare_grams` on features you already have (layer -> (1, C, H, W) each)."""
    missing = [n for n in features if n not in reference]
    if missing:
        raise ValueError(f"reference lacks the layers {missing}; give features of the same layers.")
    targets = {n: gram_matrix(reference[n], normalize=normalize) for n in features}
    w = {n: (1.0 / len(features) if weights is None else float(weights[n])) for n in features}
    loss = style_loss(dict(features), targets, weights=w, normalize=normalize)
    per_layer = {}
    for name, feats in features.items():
        _, c, h, wd = feats.shape
        m = h * wd
        scale = w[name] / (4.0 * c * c * (m * m if normalize == "seed" else 1))
        g = gram_matrix(feats, normalize=normalize)[0].double()
        sq = (g - targets[name][0].double()) ** 2
        diag = float(torch.diagonal(sq).sum() * scale)
        contrib = sq.sum(1) * scale
        total = float(loss.per_layer[name].sum())
        per_layer[name] = LayerComparison(
            layer=name,
            loss=total,
            diagonal=diag,
            off_diagonal=float(contrib.sum()) - diag,
            channel_contribution=contrib,
        )
    return GramComparison(
        layers=tuple(features),
        per_layer=per_layer,
        total=float(loss.total.sum()),
        weights=w,
        normalize=normalize,
    )


def compare_grams(
    image: ImageLike,
    reference: ImageLike,
    *,
    layers: Sequence[str] = GATYS_STYLE_LAYERS,
    weights: str = "caffe",
    model: nn.Module | None = None,
    size: int | None = None,
    style_weights: Mapping[str, float] | None = None,
    normalize: str = "seed",
) -> GramComparison:
    """Split the style loss of ``image`` (e.g. a stylised result) against ``reference`` (the style).

    Args:
        image: (1, 3, H, W) float RGB in [0, 1], a path or ``sample:NAME``; its features are ``F``.
        reference: the image whose Gram matrices are the targets ``A`` (same forms).
        layers, weights, model, size, normalize: as in :func:`decompose_gram`.
        style_weights: layer -> ``w_l`` (default 1 / number of layers, as Gatys et al.).

    Note: as in :func:`xstyle.losses.style_loss`, ``M`` is the position count of ``image``; with
    ``normalize="seed"`` the loss is only a fair comparison when both images have the same size.
    """
    img = load_single_image(image, size=size, param="image")
    ref = load_single_image(reference, size=size, param="reference")
    net = _model_for(model, layers, weights=weights, param="layers")
    with frozen(net):
        fa = _features(net, img, list(layers))
        fb = _features(net, ref, list(layers))
    result = compare_feature_grams(fa, fb, weights=style_weights, normalize=normalize)
    meta = {"image": describe_image(image), "reference": describe_image(reference)}
    return GramComparison(
        layers=result.layers,
        per_layer=result.per_layer,
        total=result.total,
        weights=result.weights,
        normalize=normalize,
        meta={"weights": getattr(net, "weights_name", "custom"), **meta},
    )


# ------------------------------------------------------------------------------------- low rank


def truncate_gram(gram: torch.Tensor, k: int | None) -> torch.Tensor:
    """Keep the top ``k`` eigencomponents of a symmetric Gram (..., C, C); same dtype and shape.

    ``k=None`` or ``k >= C`` returns ``gram`` itself (the full target, bit for bit).
    """
    if gram.ndim < 2 or gram.shape[-1] != gram.shape[-2]:
        raise ValueError(f"gram must be square (..., C, C); got shape {tuple(gram.shape)}.")
    if k is not None and (not isinstance(k, (int, np.integer)) or k < 1):
        raise ValueError(f"k must be a whole number >= 1 or None (full); got {k!r}.")
    c = gram.shape[-1]
    if k is None or k >= c:
        return gram
    g = gram.double()
    evals, evecs = torch.linalg.eigh(0.5 * (g + g.transpose(-1, -2)))
    v, lam = evecs[..., -k:], evals[..., -k:]
    return ((v * lam.unsqueeze(-2)) @ v.transpose(-1, -2)).to(gram.dtype)


@dataclass(frozen=True, eq=False)
class LowRankResult:
    """Style transfer with Gram targets truncated to their top-k eigencomponents (one run per k).

    Attributes:
        ranks: the k of each run (None = full target); a layer with C <= k keeps its full target.
        images: one (1, 3, H, W) result in [0, 1] per rank.
        style_loss: style loss of each result against the *full* targets (seed weights).
        content_loss: content loss of each result.
        style_per_layer: per rank, layer -> weighted style loss against the full targets.
        retained_energy: per rank, layer -> fraction of ``trace(A)`` kept by the truncation.
        config: the :class:`~xstyle.transfer.TransferConfig` of every run.
        timings: seconds for ``setup`` and per rank.
    """

    ranks: tuple[int | None, ...]
    images: list[torch.Tensor]
    style_loss: list[float]
    content_loss: list[float]
    style_per_layer: list[dict[str, float]]
    retained_energy: list[dict[str, float]]
    config: TransferConfig
    timings: dict[str, float]
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "ranks": [("full" if k is None else k) for k in self.ranks],
            "style_loss_vs_full_target": self.style_loss,
            "content_loss": self.content_loss,
            "style_per_layer": self.style_per_layer,
            "retained_energy": self.retained_energy,
            "config": self.config.to_dict(),
            "timings": self.timings,
            "meta": self.meta,
        }

    def plot(self, *, ax: Axes | None = None, thumbnails: bool = True) -> LowRankDisplay:
        """Style loss against k with the results as thumbnails (LowRankDisplay)."""
        from xstyle.explain.plots_style import LowRankDisplay

        return LowRankDisplay.from_result(self).plot(ax=ax, thumbnails=thumbnails)


def lowrank_style_sweep(
    content: ImageLike,
    style: ImageLike,
    *,
    ranks: Sequence[int | None] = (1, 4, 16, 64, None),
    config: TransferConfig | None = None,
    model: nn.Module | None = None,
) -> LowRankResult:
    """Stylise ``content`` once per k with every style target truncated to its top-k components.

    Each run is single-scale Gatys (``config.steps`` must have one level) from the same start;
    the content targets, the full Gram targets and their eigen-decompositions are computed once
    and reused by every run. Each result's style loss is measured against the full targets, so the
    curve shows how many components carry the style.

    Args:
        content, style: (1, 3, H, W) float RGB in [0, 1], paths or ``sample:NAME``; both are
            resized so the long side is ``config.size``.
        ranks: the k to try (whole numbers >= 1; None = full targets).
        config: layers, weights, alpha/beta, size, steps; default
            ``TransferConfig(size=128, steps=(40,), optimizer="adam")`` (single-scale L-BFGS from the
            content diverges at >= 128 px with the seed's losses; Adam descends steadily).
        model: a VGG19 extractor to reuse (flags restored afterwards).
    """
    config = config or TransferConfig(size=128, steps=(40,), optimizer="adam")
    if len(config.steps) != 1:
        raise ValueError(
            f"config.steps must have one pyramid level for a low-rank sweep; got {config.steps}. "
            f"Hint: TransferConfig(steps=({sum(config.steps)},))."
        )
    ranks = tuple(ranks)
    if not ranks:
        raise ValueError("ranks must list at least one k (whole numbers >= 1, None for full); got ().")
    for k in ranks:
        if k is not None and (not isinstance(k, (int, np.integer)) or k < 1):
            raise ValueError(f"ranks must be whole numbers >= 1 or None (full); got {k!r}.")
    t0 = time.perf_counter()
    content_img = load_single_image(content, size=config.size, param="content")
    style_img = load_single_image(style, size=config.size, param="style")
    net = (
        model
        if model is not None
        else load_vgg19(config.weights, pooling=config.pooling, last_layer=config.deepest_layer)
    )
    images, s_losses, c_losses, per_layer, energy = [], [], [], [], []
    timings: dict[str, float] = {}
    with frozen(net):
        objective = StyleObjective(net, content_img, style_img, config)
        full = dict(objective.gram_targets)
        spectra = {n: layer_spectrum(n, g[0], 1) for n, g in full.items()}
        start = make_initial_image(
            config.init, content_img, style_img, generator=torch.Generator().manual_seed(config.seed)
        )
        timings["setup"] = time.perf_counter() - t0
        for k in ranks:
            t1 = time.perf_counter()
            targets = {}
            for name, g in full.items():
                sp = spectra[name]
                if k is None or k >= sp.n_channels:
                    targets[name] = g
                else:
                    targets[name] = sp.reconstruct(k).to(g.dtype).unsqueeze(0)
            objective.gram_targets = targets
            image = optimise_image(objective, start, steps=config.steps[0], config=config)
            objective.gram_targets = full
            with torch.no_grad():
                _, c, s = objective(image)
            images.append(image)
            s_losses.append(float(s.total.sum()))
            c_losses.append(float(c.total.sum()))
            per_layer.append(s.as_floats())
            energy.append({n: (1.0 if k is None else spectra[n].energy(k)) for n in full})
            timings["full" if k is None else f"k{k}"] = time.perf_counter() - t1
    return LowRankResult(
        ranks=ranks,
        images=images,
        style_loss=s_losses,
        content_loss=c_losses,
        style_per_layer=per_layer,
        retained_energy=energy,
        config=config,
        timings=timings,
        meta={"content": describe_image(content), "style": describe_image(style)},
    )


# ------------------------------------------------------------------------------ style statistics


def mmd_squared(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    kernel: str = "gaussian",
    degree: int = 2,
    offset: float = 0.0,
    bandwidth: float | None = None,
) -> torch.Tensor:
    """Biased (V-statistic) squared MMD between samples ``x`` (m, d) and ``y`` (n, d).

    ``MMD^2 = mean k(x, x') + mean k(y, y') - 2 mean k(x, y)`` with the kernel

    * ``"linear"``: ``x^T y``;
    * ``"poly"``: ``(x^T y + offset)^degree`` (``degree=2, offset=0`` is Li et al.'s Gram kernel);
    * ``"gaussian"``: ``exp(-||x - y||^2 / (2 bandwidth^2))``; ``bandwidth=None`` takes the
      median heuristic (``bandwidth^2`` = half the median pairwise squared distance of the pooled
      samples).

    Explicit kernel matrices cost O((m + n)^2 d): subsample positions for large feature maps.
    Returns a 0-d tensor in the inputs' dtype.
    """
    if kernel not in _KERNELS:
        raise ValueError(f"kernel must be one of {_KERNELS}; got {kernel!r}.")
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(
            "x and y must be (m, d) and (n, d) samples with the same d; "
            f"got {tuple(x.shape)} and {tuple(y.shape)}."
        )

    def k(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if kernel == "linear":
            return a @ b.T
        if kernel == "poly":
            return (a @ b.T + offset) ** degree
        return torch.exp(-torch.cdist(a, b).pow(2) / (2.0 * bw2))

    if kernel == "gaussian":
        if bandwidth is None:
            pooled = torch.cat([x, y])
            d2 = torch.cdist(pooled, pooled).pow(2)
            med = d2[~torch.eye(len(pooled), dtype=torch.bool)].median()
            bw2 = float(med) / 2.0 if float(med) > 0 else 1.0
        else:
            if bandwidth <= 0:
                raise ValueError(f"bandwidth must be > 0 or None (median heuristic); got {bandwidth}.")
            bw2 = float(bandwidth) ** 2
    return k(x, x).mean() + k(y, y).mean() - 2.0 * k(x, y).mean()


@dataclass(eq=False)
class _Stats:
    """Per-image, per-layer summaries that every style statistic needs (computed once)."""

    mean: torch.Tensor  # (C,)
    std: torch.Tensor  # (C,)
    gram: torch.Tensor  # (C, C) mean-normalised, float64
    sample: torch.Tensor  # (m, C) positions for the Gaussian MMD


def _layer_stats(feats: torch.Tensor, max_positions: int, gen: torch.Generator) -> _Stats:
    f = feats[0].flatten(1).double()  # (C, M)
    m = f.shape[1]
    idx = torch.randperm(m, generator=gen)[:max_positions] if m > max_positions else torch.arange(m)
    return _Stats(
        mean=f.mean(1),
        std=f.std(1, unbiased=False),
        gram=(f @ f.T) / m,
        sample=f[:, idx].T.contiguous(),
    )


def _stat_values(a: _Stats, b: _Stats, bw2: float) -> dict[str, float]:
    n = a.mean.shape[0]
    dmu2 = float(((a.mean - b.mean) ** 2).sum())
    dg2 = float(((a.gram - b.gram) ** 2).sum())

    def kg(u, v):
        return torch.exp(-torch.cdist(u, v).pow(2) / (2.0 * bw2)).mean()

    gauss = kg(a.sample, a.sample) + kg(b.sample, b.sample) - 2 * kg(a.sample, b.sample)
    return {
        # the seed's loss with mean-normalised Grams: equal to 1/(4N^2 M^2)||G - A||^2 for equal M
        "gram": dg2 / (4.0 * n * n),
        "adain": float(((a.mean - b.mean) ** 2).mean() + ((a.std - b.std) ** 2).mean()),
        "mmd_linear": dmu2 / n,
        # kernel (x^T y / N + 1)^2, closed form: ||ΔG/M||^2 / N^2 + 2 ||Δμ||^2 / N
        "mmd_poly": dg2 / (n * n) + 2.0 * dmu2 / n,
        "mmd_gaussian": float(gauss),
    }


def _bandwidths(stats: Sequence[dict[str, _Stats]], layers: Sequence[str]) -> dict[str, float]:
    """Median-heuristic Gaussian bandwidth^2 per layer, from the pooled samples of every image."""
    out = {}
    for name in layers:
        pooled = torch.cat([s[name].sample[:256] for s in stats])
        d2 = torch.cdist(pooled, pooled).pow(2)
        med = float(d2[~torch.eye(len(pooled), dtype=torch.bool)].median())
        out[name] = med / 2.0 if med > 0 else 1.0
    return out


def style_distances(
    features_a: Mapping[str, torch.Tensor],
    features_b: Mapping[str, torch.Tensor],
    *,
    weights: Mapping[str, float] | None = None,
    max_positions: int = 1024,
    generator: torch.Generator | None = None,
) -> dict[str, dict[str, float]]:
    """Distances between two images' styles under every statistic in :data:`STYLE_STATISTICS`.

    Args:
        features_a, features_b: layer -> (1, C, H, W) features (sizes may differ).
        weights: layer -> weight of the ``"total"`` (default 1 / number of layers).
        max_positions: positions subsampled per image for the Gaussian MMD.
        generator: seeds the subsampling (default seed 0).

    Returns:
        statistic -> {layer: value, ..., "total": Σ_l w_l value_l}. Statistics: ``gram`` (the seed's
        loss on mean-normalised Grams ``G/M``), ``adain`` (mean squared difference of channel means
        plus of channel stds), ``mmd_linear`` (``||Δμ||^2 / N``), ``mmd_poly`` (kernel
        ``(x^T y / N + 1)^2``), ``mmd_gaussian`` (median-heuristic bandwidth, subsampled).
    """
    layers = list(features_a)
    gen = generator or torch.Generator().manual_seed(0)
    sa = {n: _layer_stats(features_a[n], max_positions, gen) for n in layers}
    sb = {n: _layer_stats(features_b[n], max_positions, gen) for n in layers}
    bw = _bandwidths([sa, sb], layers)
    return _combine({n: _stat_values(sa[n], sb[n], bw[n]) for n in layers}, weights)


def _combine(per_layer: dict[str, dict[str, float]], weights: Mapping[str, float] | None) -> dict:
    layers = list(per_layer)
    w = {n: (1.0 / len(layers) if weights is None else float(weights[n])) for n in layers}
    out = {}
    for stat in STYLE_STATISTICS:
        values = {n: per_layer[n][stat] for n in layers}
        out[stat] = {**values, "total": sum(w[n] * v for n, v in values.items())}
    return out


@dataclass(frozen=True, eq=False)
class FingerprintResult:
    """Style fingerprints of a set of images: distances under every style statistic and a 2-D map.

    Attributes:
        names: image names; ``kinds``: "photo", "painting", "stylised" or "other" per image.
        distances: statistic -> (n, n) symmetric numpy array of ``"total"`` distances
            (:func:`style_distances`); ``distances["gram"]`` is the Gram fingerprint distance.
        agreement: (S, S) Spearman rank correlation between statistics over the n(n-1)/2 pairs.
        embedding: (n, 2) coordinates (``method``: "pca" of the Gram fingerprint vectors, whose
            squared Euclidean distances equal the Gram distances, or "mds" of sqrt(distance)).
        explained: for PCA the explained variance ratio of the two axes (None for MDS).
    """

    names: list[str]
    kinds: list[str]
    distances: dict[str, np.ndarray]
    agreement: np.ndarray
    embedding: np.ndarray
    method: str
    explained: list[float] | None
    statistics: tuple[str, ...] = STYLE_STATISTICS
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def agreement_dict(self) -> dict[str, dict[str, float | None]]:
        return {
            a: {b: _finite(self.agreement[i, j]) for j, b in enumerate(self.statistics)}
            for i, a in enumerate(self.statistics)
        }

    def to_dict(self) -> dict:
        return {
            "names": self.names,
            "kinds": self.kinds,
            "statistics": list(self.statistics),
            "distances": {s: self.distances[s].tolist() for s in self.statistics},
            "rank_agreement_spearman": self.agreement_dict(),
            "embedding": {"method": self.method, "xy": self.embedding.tolist(), "explained": self.explained},
            "timings": self.timings,
            "meta": self.meta,
        }

    def plot(
        self, *, ax: Axes | None = None, kind: str = "embedding"
    ) -> FingerprintDisplay | StatisticsAgreementDisplay:
        """``kind="embedding"``: the 2-D fingerprint map (FingerprintDisplay); ``"agreement"``:
        the Spearman matrix between statistics (StatisticsAgreementDisplay)."""
        from xstyle.explain.plots_style import FingerprintDisplay, StatisticsAgreementDisplay

        if kind == "embedding":
            return FingerprintDisplay.from_result(self).plot(ax=ax)
        if kind == "agreement":
            return StatisticsAgreementDisplay.from_result(self).plot(ax=ax)
        raise ValueError(f"kind must be 'embedding' or 'agreement'; got {kind!r}.")


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(float(value)) else None


def _mds(dissimilarity: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.manifold import MDS

    params = inspect.signature(MDS).parameters
    if "metric_mds" in params:  # scikit-learn >= 1.8
        mds = MDS(n_components=2, metric="precomputed", init="classical_mds", random_state=seed)
    else:  # pragma: no cover - older scikit-learn
        mds = MDS(n_components=2, dissimilarity="precomputed", random_state=seed, n_init=4)
    return mds.fit_transform(dissimilarity)


def style_fingerprints(
    images: Mapping[str, ImageLike] | None = None,
    *,
    kinds: Mapping[str, str] | None = None,
    layers: Sequence[str] = GATYS_STYLE_LAYERS,
    weights: str = "caffe",
    model: nn.Module | None = None,
    size: int = 128,
    method: str = "pca",
    max_positions: int = 512,
    seed: int = 0,
) -> FingerprintResult:
    """Compare the styles of a set of images under every statistic; map their Gram fingerprints.

    Features are computed once per image and every statistic reuses them.

    Args:
        images: name -> image (paths, ``sample:NAME``, (1, 3, H, W) tensors in [0, 1]); default:
            every sample photo and painting (:func:`xstyle.data.list_samples`).
        kinds: name -> kind label for the plot (default: the sample's kind, else "other").
        layers, weights, model: as in :func:`decompose_gram`.
        size: long side each image is resized to, px.
        method: 2-D embedding: ``"pca"`` (scikit-learn PCA of the fingerprint vectors
            ``concat_l sqrt(w_l)/(2 N_l) vec(G_l / M_l)``, deterministic) or ``"mds"`` (scikit-learn
            metric MDS of ``sqrt(gram distance)``, seeded).
        max_positions: positions per image and layer for the Gaussian MMD (seeded subsample).
        seed: seeds the subsampling and MDS.
    """
    from xstyle.data import list_samples

    if method not in ("pca", "mds"):
        raise ValueError(f"method must be 'pca' or 'mds'; got {method!r}.")
    if images is None:
        samples = list_samples()
        images = {s.name: f"sample:{s.name}" for s in samples}
        kinds = {s.name: s.kind for s in samples} | dict(kinds or {})
    if len(images) < 3:
        raise ValueError(f"images must hold at least 3 images to compare rankings; got {len(images)}.")
    sample_kinds = {s.name: s.kind for s in list_samples()}

    def kind_of(name: str, image: object) -> str:
        if kinds and name in kinds:
            return kinds[name]
        if isinstance(image, str) and image.startswith("sample:"):
            return sample_kinds.get(image[7:], "other")
        return "other"

    names = list(images)
    t0 = time.perf_counter()
    loaded = {n: load_single_image(images[n], size=size, param=f"images[{n!r}]") for n in names}
    net = _model_for(model, layers, weights=weights, param="layers")
    gen = torch.Generator().manual_seed(check_seed(seed))
    stats: list[dict[str, _Stats]] = []
    with frozen(net):
        for n in names:
            feats = _features(net, loaded[n], list(layers))
            stats.append({ly: _layer_stats(feats[ly], max_positions, gen) for ly in layers})
    t_feat = time.perf_counter() - t0
    bw = _bandwidths(stats, layers)
    count = len(names)
    dist = {s: np.zeros((count, count)) for s in STYLE_STATISTICS}
    for i in range(count):
        for j in range(i + 1, count):
            values = _combine({ly: _stat_values(stats[i][ly], stats[j][ly], bw[ly]) for ly in layers}, None)
            for s in STYLE_STATISTICS:
                dist[s][i, j] = dist[s][j, i] = values[s]["total"]
    iu = np.triu_indices(count, 1)
    agreement = np.ones((len(STYLE_STATISTICS),) * 2)
    for a, sa in enumerate(STYLE_STATISTICS):
        for b, sb in enumerate(STYLE_STATISTICS):
            if a < b:
                rho = rank_correlation(dist[sa][iu], dist[sb][iu])
                agreement[a, b] = agreement[b, a] = np.nan if rho is None else rho
    explained = None
    if method == "pca":
        from sklearn.decomposition import PCA

        w = 1.0 / len(layers)
        vectors = np.stack(
            [
                np.concatenate(
                    [
                        (math.sqrt(w) / (2 * st[ly].gram.shape[0]) * st[ly].gram).flatten().numpy()
                        for ly in layers
                    ]
                )
                for st in stats
            ]
        )
        pca = PCA(n_components=2, random_state=seed)
        embedding = pca.fit_transform(vectors)
        explained = [float(v) for v in pca.explained_variance_ratio_]
    else:
        embedding = _mds(np.sqrt(np.clip(dist["gram"], 0, None)), seed)
    return FingerprintResult(
        names=names,
        kinds=[kind_of(n, images[n]) for n in names],
        distances=dist,
        agreement=agreement,
        embedding=np.asarray(embedding, dtype=float),
        method=method,
        explained=explained,
        timings={"features": t_feat, "total": time.perf_counter() - t0},
        meta={"weights": getattr(net, "weights_name", "custom"), "size": size, "layers": list(layers)},
    )
