"""What a style is inside VGG19: Gram spectra and Gram loss splits.

Gatys et al. (2016) describe a style by the Gram matrices ``G_l = F_l F_l^T`` of a few VGG19 layers
(``F_l``: N_l channels x M_l positions). This module takes those matrices apart:

* :func:`decompose_gram` / :func:`decompose_features`: per layer the eigenvalues (descending) and
  eigenvectors of ``G_l`` (``torch.linalg.eigh`` in float64), the effective rank (participation
  ratio and entropy), the energy captured by the top-k components and each channel's share of the
  Gram energy (:class:`GramDecomposition`);
* :func:`compare_grams`: the seed's style loss between two images split, per layer, into its
  diagonal (channel power) and off-diagonal (channel co-activation) parts and per-channel
  contributions (:class:`GramComparison`);
* :func:`truncate_gram`: a Gram matrix truncated to its top-k eigencomponents.

Style transfer with truncated Gram targets lives in :mod:`xstyle.explain.style.lowrank`; alternative
style statistics (AdaIN, MMD) and Gram fingerprints in :mod:`xstyle.explain.style.fingerprint`. Both
import the shared helpers below; this module imports neither.

Images are float RGB in [0, 1], shape (1, 3, H, W) (or anything :func:`xstyle.data.resolve_image`
takes: paths, ``sample:NAME``, arrays). No matplotlib is imported here; ``.plot()`` methods
import :mod:`xstyle.explain.style.plots` lazily.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle.data import describe_image, load_single_image
from xstyle.explain.style.plots import GramComparisonDisplay, GramSpectrumDisplay
from xstyle.hooks import FeatureTap, frozen, resolve_layers
from xstyle.images import ImageLike
from xstyle.losses import gram_matrix, style_loss
from xstyle.models.registry import check_network_layers, get_network, layers_for, network_defaults
from xstyle.models.vgg import LAYER_NAMES, check_layer_names, load_vgg19
from xstyle.transfer import GATYS_STYLE_LAYERS

__all__ = [
    "GramComparison",
    "GramDecomposition",
    "LayerComparison",
    "LayerSpectrum",
    "compare_feature_grams",
    "compare_grams",
    "decompose_features",
    "decompose_gram",
    "layer_spectrum",
    "truncate_gram",
]

_DEFAULT_TOP_K = (1, 4, 16, 64)
_ENERGY_LEVELS = (0.5, 0.9, 0.99)


# ------------------------------------------------------------------------------------------ helpers


def _model_for(
    model: nn.Module | None,
    layers: str | Sequence[str],
    *,
    weights: str,
    network: str | None = None,
    pooling: str = "max",
    param: str,
) -> tuple[nn.Module, Any]:
    """``(network, layers)``: the caller's model (layers checked against it), the registered
    ``network``, or a VGG19 with ``weights`` truncated after the deepest layer. Gatys et al.'s
    default layers on another network become that network's defaults."""
    if model is not None:
        layers = layers_for(model, layers, kind="style")
        resolve_layers(model, layers, param=param)
        return model, layers
    if network is not None:
        if layers is GATYS_STYLE_LAYERS:
            layers = network_defaults(network)[1]
        check_network_layers(network, layers, param=param)
        net = get_network(network, pooling=pooling, last_layer=layers if isinstance(layers, str) else None)
        return net, layers
    names = check_layer_names(layers, param=param)
    return load_vgg19(weights, pooling=pooling, last_layer=max(names, key=LAYER_NAMES.index)), layers


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
class GramDecomposition(Plottable):
    """Per-layer Gram spectra of one image (:func:`decompose_gram`).

    Attributes:
        layers: the layers, in the order given.
        spectra: layer -> :class:`LayerSpectrum`.
        normalize: the Gram normalisation (``"seed"``: ``F F^T``; ``"mean"``: divided by M).
        size_hw: (H, W) of the analysed image (None when built from features).
        timings: seconds for ``features`` (when an image was given) and ``decomposition``.
        meta: weights, image description.
    """

    display: ClassVar[type[GramSpectrumDisplay]] = GramSpectrumDisplay

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
    network: str | None = None,
) -> GramDecomposition:
    """Eigen-decompose the Gram matrices of ``image`` at ``layers``.

    Args:
        image: (1, 3, H, W) or (3, H, W) float RGB in [0, 1], a path or ``sample:NAME``.
        layers: layer names (default: Gatys' style layers relu1_1 .. relu5_1).
        weights: VGG19 weights when ``model`` is None (``"caffe"``, the real default; ``"random"``
            is a control).
        model: a feature extractor to reuse (its training/requires_grad flags are restored).
        network: a registered network (:func:`xstyle.models.list_networks`) when ``model`` is
            None, instead of VGG19 with ``weights``; the default layers become its own.
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
    net, layers = _model_for(model, layers, weights=weights, network=network, param="layers")
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
class GramComparison(Plottable):
    """The seed's style loss of ``image`` against the Gram targets of ``reference``, per layer.

    ``total`` equals :func:`xstyle.losses.style_loss` (features of ``image``, Gram targets of
    ``reference``, the same weights and normalisation).
    """

    display: ClassVar[type[GramComparisonDisplay]] = GramComparisonDisplay

    layers: tuple[str, ...]
    per_layer: dict[str, LayerComparison]
    total: float
    weights: dict[str, float]
    normalize: str
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        per_layer = {n: self.per_layer[n] for n in self.layers}
        return field_dict(self, "layers", "total", "weights", "normalize", "meta", per_layer=per_layer)


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
    network: str | None = None,
) -> GramComparison:
    """Split the style loss of ``image`` (e.g. a stylised result) against ``reference`` (the style).

    Args:
        image: (1, 3, H, W) float RGB in [0, 1], a path or ``sample:NAME``; its features are ``F``.
        reference: the image whose Gram matrices are the targets ``A`` (same forms).
        layers, weights, model, network, size, normalize: as in :func:`decompose_gram`.
        style_weights: layer -> ``w_l`` (default 1 / number of layers, as Gatys et al.).

    Note: as in :func:`xstyle.losses.style_loss`, ``M`` is the position count of ``image``; with
    ``normalize="seed"`` the loss is only a fair comparison when both images have the same size.
    """
    img = load_single_image(image, size=size, param="image")
    ref = load_single_image(reference, size=size, param="reference")
    net, layers = _model_for(model, layers, weights=weights, network=network, param="layers")
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
