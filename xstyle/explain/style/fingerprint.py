"""Style statistics and fingerprints: Gram loss next to AdaIN and MMD, and a 2-D map of styles.

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
import :mod:`xstyle.explain.style.plots` lazily.
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
from xstyle.data import load_single_image
from xstyle.explain.style.gram import _features, _model_for
from xstyle.hooks import frozen
from xstyle.images import ImageLike
from xstyle.transfer import GATYS_STYLE_LAYERS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from xstyle.explain.style.plots import FingerprintDisplay, StatisticsAgreementDisplay

__all__ = [
    "STYLE_STATISTICS",
    "FingerprintResult",
    "mmd_squared",
    "style_distances",
    "style_fingerprints",
]

#: The style statistics :func:`style_distances` computes, in this order.
STYLE_STATISTICS: tuple[str, ...] = ("gram", "adain", "mmd_linear", "mmd_poly", "mmd_gaussian")
_KERNELS = ("linear", "poly", "gaussian")


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
        from xstyle.explain.style.plots import FingerprintDisplay, StatisticsAgreementDisplay

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
    network: str | None = None,
) -> FingerprintResult:
    """Compare the styles of a set of images under every statistic; map their Gram fingerprints.

    Features are computed once per image and every statistic reuses them.

    Args:
        images: name -> image (paths, ``sample:NAME``, (1, 3, H, W) tensors in [0, 1]); default:
            every sample photo and painting (:func:`xstyle.data.list_samples`).
        kinds: name -> kind label for the plot (default: the sample's kind, else "other").
        layers, weights, model, network: as in :func:`xstyle.explain.style.gram.decompose_gram`.
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
    net, layers = _model_for(model, layers, weights=weights, network=network, param="layers")
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
