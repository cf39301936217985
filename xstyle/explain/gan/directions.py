"""Directions in a GAN's latent space, found three ways, and compared.

* **InterFaceGAN** (Shen et al. 2020): for an attribute, label the samples with the highest and the
  lowest values, fit a linear boundary (``LinearSVC``) on z; its unit normal is the direction.
  :func:`conditional_direction` moves one attribute while holding others by projecting their normals
  out: ``n1 - (n1 . n2) n2`` (generalised to several conditions by an orthogonal projection).
* **GANSpace** (Härkönen et al. 2020), for models without a style space: PCA of the first stage's
  activations over many samples; each sample's PCA coordinates are regressed onto its latent
  (``z ~ U x``), and the columns of ``U`` carry the principal axes back to latent space.
* **SeFa** (Shen & Zhou 2021): closed form, the eigenvectors of ``W^T W`` of the generator's first
  layer (``torch.linalg.eigh``), largest eigenvalue first. A conv-first generator (DCGAN-64,
  PGGAN: z as (B, D, 1, 1)) has its first (transposed) convolution's weight flattened into the
  matrix (out * kH * kW, D) that maps z to the first feature map, as SeFa's own code does for PGGAN.

Every direction is a :class:`Direction`: a unit vector (D,) in latent space, its method, its source
(attribute or component) and a score. :func:`compare_directions` tabulates their cosine similarities
and which unsupervised direction lines up with which named attribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_int, check_matrix
from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle.explain.gan.plots import DirectionSimilarityDisplay

__all__ = [
    "Direction",
    "DirectionComparison",
    "compare_directions",
    "conditional_direction",
    "first_layer",
    "ganspace_directions",
    "interfacegan_directions",
    "layer_matrix",
    "sefa_directions",
]

#: Methods that find directions without attribute labels.
UNSUPERVISED = ("ganspace", "sefa")


def _orient(v: np.ndarray) -> np.ndarray:
    """Flip the sign of a vector of arbitrary sign so that its largest-magnitude entry is positive."""
    return v if v[np.argmax(np.abs(v))] >= 0 else -v


@dataclass(frozen=True, eq=False)
class Direction:
    """A unit direction in latent space.

    Attributes:
        vector: (D,) float64, unit length (normalised on construction).
        method: ``"interfacegan"``, ``"interfacegan-conditional"``, ``"ganspace"``, ``"sefa"`` (or
            any name for directions made by hand).
        source: what it stands for: an attribute (``"ink"``), ``"class=3"``, a moved|held pair
            (``"thickness|ink"``), a principal component (``"pc0"``) or an eigenvector (``"eig0"``).
        score: InterFaceGAN -- cross-validated accuracy of the boundary (0.5 = chance);
            GANSpace -- explained-variance ratio of the component at the tapped stage;
            SeFa -- the eigenvalue's share of the trace of ``W^T W``; conditional -- the norm left
            after projecting out the conditions (1 = orthogonal to them already, 0 = parallel).
    """

    vector: np.ndarray
    method: str
    source: str
    score: float

    def __post_init__(self) -> None:
        v = self.vector.detach().cpu().numpy() if isinstance(self.vector, torch.Tensor) else self.vector
        v = np.array(v, dtype=np.float64)
        if v.ndim != 1 or v.size == 0 or not np.isfinite(v).all():
            raise ValueError(f"vector must be a finite 1-D array; got shape {v.shape}.")
        norm = np.linalg.norm(v)
        if norm < 1e-12:
            raise ValueError("vector must not be zero; a direction needs a length to normalise.")
        v = v / norm
        v.flags.writeable = False
        object.__setattr__(self, "vector", v)
        object.__setattr__(self, "score", float(self.score))

    @property
    def label(self) -> str:
        """``method:source``, e.g. ``"interfacegan:ink"``."""
        return f"{self.method}:{self.source}"

    def to_dict(self) -> dict[str, Any]:
        return field_dict(self, "label", "method", "source", "score", "vector")


def _as_latents(z: Any) -> np.ndarray:
    a = z.detach().cpu().numpy() if isinstance(z, torch.Tensor) else np.asarray(z)
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 1:
        raise ValueError(f"z must have shape (N, D) with N >= 2; got {a.shape}.")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError("z contains NaN or infinite values.")
    return a


def interfacegan_directions(
    z: torch.Tensor | np.ndarray,
    attributes: Mapping[str, np.ndarray],
    *,
    names: Sequence[str] | None = None,
    digits: Sequence[int] = (),
    fraction: float = 0.25,
    cv: int = 5,
    random_state: int | None = 0,
) -> list[Direction]:
    """InterFaceGAN boundary normals in latent space, one per attribute (and per digit in ``digits``).

    For a numeric attribute the ``fraction`` of samples with the lowest values (label 0) and the
    ``fraction`` with the highest (label 1) are separated by a ``LinearSVC`` on z; the unit normal
    points towards larger values. For ``digits``, one-vs-rest boundaries on the scorer's ``class``
    (balanced class weights, scored by balanced accuracy) point towards that digit.

    Args:
        z: latents (N, D).
        attributes: name -> (N,) values, e.g. ``LatentSamples.attributes``.
        names: numeric attributes to use; default every one except ``class``.
        digits: digits for one-vs-rest class boundaries (needs ``attributes["class"]``).
        fraction: share of samples at each end, in (0, 0.5].
        cv, random_state: cross-validation of each boundary (see
            :func:`~xstyle.explain.gan.probes.fit_probe`).

    Returns:
        Directions with method ``"interfacegan"``, source the attribute (or ``"class=d"``), score the
        boundary's cross-validated accuracy.
    """
    from sklearn.svm import LinearSVC

    from xstyle.explain.gan._common import fit_probe

    x = _as_latents(z)
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must lie in (0, 0.5]; got {fraction!r}.")
    names = [a for a in attributes if a != "class"] if names is None else list(names)
    unknown = [a for a in names if a not in attributes or a == "class"]
    if unknown:
        known = [a for a in attributes if a != "class"]
        raise ValueError(f"names must be numeric attributes from {known}; got {unknown!r}.")
    out = []
    for name in names:
        values = np.asarray(attributes[name], dtype=np.float64)
        if values.shape != (x.shape[0],):
            raise ValueError(f"attributes[{name!r}] must have shape ({x.shape[0]},); got {values.shape}.")
        if not np.isfinite(values).all():
            raise ValueError(f"attributes[{name!r}] contains NaN or infinite values.")
        k = max(round(fraction * len(values)), cv)
        order = np.argsort(values, kind="stable")
        low, high = order[:k], order[-k:]
        if 2 * k > len(values) or values[high].min() <= values[low].max():
            raise ValueError(
                f"attribute {name!r} does not separate into {k} low and {k} high samples "
                "(too few samples or constant values); draw more samples."
            )
        idx = np.concatenate([low, high])
        labels = np.r_[np.zeros(k, dtype=int), np.ones(k, dtype=int)]
        probe = fit_probe(x[idx], labels, estimator="linear_svc", cv=cv, random_state=random_state)
        out.append(Direction(probe.direction, "interfacegan", name, probe.score))
    if digits:
        if "class" not in attributes:
            raise ValueError("digits needs attributes['class']; measure the digits with a classifier.")
        cls = np.asarray(attributes["class"])
        for d in digits:
            labels = (cls == d).astype(int)
            if labels.sum() < cv:
                raise ValueError(f"only {labels.sum()} samples are digit {d}; need at least cv={cv}.")
            svc = LinearSVC(class_weight="balanced", max_iter=20000, random_state=random_state)
            probe = fit_probe(
                x, labels, estimator=svc, cv=cv, scoring="balanced_accuracy", random_state=random_state
            )
            out.append(Direction(probe.direction, "interfacegan", f"class={d}", probe.score))
    return out


def conditional_direction(primary: Direction, *conditions: Direction) -> Direction:
    """Move ``primary``'s attribute while holding the ``conditions``' attributes (InterFaceGAN).

    Projects the conditions' normals out of ``primary``'s: for one condition ``n1 - (n1 . n2) n2``,
    for several the projection onto the orthogonal complement of their span. The result is
    orthogonal to every condition; its score is the norm left before normalising.

    Raises:
        ValueError: no condition, mismatched sizes, or ``primary`` lies in the conditions' span.
    """
    if not conditions:
        raise ValueError("conditional_direction needs at least one condition direction.")
    v = primary.vector
    if any(c.vector.shape != v.shape for c in conditions):
        raise ValueError(
            f"directions must have the same size; got {v.shape[0]} and "
            f"{[c.vector.shape[0] for c in conditions]}."
        )
    basis, _ = np.linalg.qr(np.stack([c.vector for c in conditions], axis=1))
    rest = v - basis @ (basis.T @ v)
    norm = float(np.linalg.norm(rest))
    if norm < 1e-8:
        raise ValueError(
            f"{primary.label} lies in the span of the conditions; nothing is left to move independently."
        )
    source = "|".join([primary.source, *(c.source for c in conditions)])
    return Direction(rest, "interfacegan-conditional", source, norm)


def ganspace_directions(
    activations: torch.Tensor | np.ndarray,
    z: torch.Tensor | np.ndarray,
    *,
    n_components: int = 10,
    random_state: int | None = 0,
) -> list[Direction]:
    """GANSpace for a generator without a style space: PCA at a stage, regressed back to z.

    Args:
        activations: (N, F) activations of one generator stage (e.g. ``LatentSamples.activations["act0"]``).
        z: the (N, D) latents that produced them.
        n_components: principal components to carry back (<= min(N, F)).
        random_state: seeds the randomized PCA solver.

    Returns:
        ``n_components`` directions, method ``"ganspace"``, source ``"pc0"``, ``"pc1"``, ...; score
        the component's explained-variance ratio. Each is the column of ``U`` in the least-squares
        fit ``z ~ U x + c`` (x: a sample's PCA coordinates), normalised; its sign follows the PCA axis.
        Components without variance (a stage of lower rank than ``n_components``) are left out.
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression

    y = check_matrix(activations, "activations")
    x = _as_latents(z)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"activations and z must have the same N; got {y.shape[0]} and {x.shape[0]}.")
    check_int(n_components, "n_components", 1)
    if n_components > min(y.shape):
        raise ValueError(
            f"n_components={n_components} is too large for {y.shape[0]} samples of {y.shape[1]} "
            f"features; use at most {min(y.shape)}."
        )
    solver = "full" if min(y.shape) <= 500 else "randomized"
    pca = PCA(n_components=n_components, svd_solver=solver, random_state=random_state)
    coords = pca.fit_transform(y)
    u = LinearRegression().fit(coords, x).coef_  # (D, k): z ~ U coords + c
    # a component without variance (the stage has lower rank than n_components) has no direction
    return [
        Direction(u[:, k], "ganspace", f"pc{k}", float(pca.explained_variance_ratio_[k]))
        for k in range(n_components)
        if np.linalg.norm(u[:, k]) > 1e-12
    ]


def first_layer(model: nn.Module) -> tuple[nn.Module, nn.Module | None]:
    """The first Linear or (transposed) convolution of ``model`` and the module after it."""
    modules = list(model.modules())
    for i, m in enumerate(modules):
        if isinstance(m, nn.Linear | nn.ConvTranspose2d | nn.Conv2d):
            nxt = modules[i + 1] if i + 1 < len(modules) else None
            return m, nxt
    raise ValueError(
        f"{type(model).__name__} has no nn.Linear or convolution for SeFa; pass the weight matrix (out, D)."
    )


def layer_matrix(layer: nn.Module) -> torch.Tensor:
    """The matrix (out, D) by which a first layer maps z (D,) to its (flattened) output.

    ``nn.Linear``: its weight. ``nn.ConvTranspose2d`` (weight (D, C, kH, kW)) on z as (D, 1, 1):
    output[c, i, j] = sum_d z[d] w[d, c, i, j], so the matrix is ``w.reshape(D, -1).T``
    (C * kH * kW, D). ``nn.Conv2d`` (weight (C, D, kH, kW)): ``w.permute(0, 2, 3, 1).reshape(-1, D)``.
    """
    w = layer.weight.detach()
    if isinstance(layer, nn.ConvTranspose2d):
        return w.reshape(w.shape[0], -1).T
    if isinstance(layer, nn.Conv2d):
        return w.permute(0, 2, 3, 1).reshape(-1, w.shape[1])
    return w


def sefa_directions(
    model: nn.Module | torch.Tensor,
    *,
    n_components: int = 10,
    fold_batchnorm: bool = False,
) -> list[Direction]:
    """SeFa's closed-form directions: eigenvectors of ``W^T W``, largest eigenvalue first.

    Args:
        model: a generator (its first ``nn.Linear`` or (transposed) convolution is used, see
            :func:`layer_matrix`; the DCGAN's ``fc``, 12544 x 100), such a layer, or a weight matrix
            (out, D).
        n_components: eigenvectors kept (<= D).
        fold_batchnorm: scale W's rows by the following ``BatchNorm1d``'s ``weight / sqrt(var + eps)``
            (the DCGAN's ``bn0`` in eval mode), so the directions are those of the layer the
            activation actually sees. The paper uses W alone (the default).

    Returns:
        Directions with method ``"sefa"``, source ``"eig0"``, ``"eig1"``, ...; score the eigenvalue's
        share of the trace. These are W's top right-singular vectors; each sign is fixed so that its
        largest-magnitude entry is positive.
    """
    bn = None
    if isinstance(model, torch.Tensor):
        w = model.detach()
    elif isinstance(model, nn.Linear | nn.ConvTranspose2d | nn.Conv2d):
        w = layer_matrix(model)
    elif isinstance(model, nn.Module):
        layer, nxt = first_layer(model)
        w = layer_matrix(layer)
        bn = nxt if isinstance(nxt, nn.BatchNorm1d) and nxt.num_features == w.shape[0] else None
    else:
        raise ValueError(f"model must be an nn.Module or a weight tensor; got {type(model).__name__}.")
    if w.ndim != 2:
        raise ValueError(f"the weight must be a matrix (out, D); got shape {tuple(w.shape)}.")
    w = w.to("cpu", torch.float64)
    if not torch.isfinite(w).all():
        raise ValueError("the weight contains NaN or infinite values.")
    if fold_batchnorm:
        if bn is None:
            raise ValueError(
                "fold_batchnorm=True needs a BatchNorm1d right after the generator's first Linear."
            )
        scale = bn.weight.detach().double().cpu() / (bn.running_var.detach().double().cpu() + bn.eps).sqrt()
        w = w * scale[:, None]
    check_int(n_components, "n_components", 1)
    if n_components > w.shape[1]:
        raise ValueError(f"n_components={n_components} exceeds the latent size {w.shape[1]}.")
    evals, evecs = torch.linalg.eigh(w.T @ w)  # ascending
    evals, evecs = evals.flip(0).clamp_min(0), evecs.flip(1)
    total = float(evals.sum()) or 1.0
    return [
        Direction(_orient(evecs[:, k].numpy()), "sefa", f"eig{k}", float(evals[k]) / total)
        for k in range(n_components)
    ]


@dataclass(frozen=True, eq=False)
class DirectionComparison(Plottable):
    """Cosine similarities between directions, and the best named match of each unsupervised one.

    Attributes:
        labels: ``method:source`` of each direction, in order.
        methods: each direction's method.
        cosine: (K, K) signed cosine similarities (directions are unit vectors).
        matches: for each GANSpace/SeFa direction, the named (InterFaceGAN) direction with the
            largest ``|cos|``: ``{"direction", "attribute", "cosine"}`` (empty without named ones).
        cross_method: for each pair of methods, the pair of their directions with the largest
            ``|cos|``: ``{"methods", "a", "b", "cosine"}``.
    """

    display: ClassVar[type[DirectionSimilarityDisplay]] = DirectionSimilarityDisplay

    labels: tuple[str, ...]
    methods: tuple[str, ...]
    cosine: np.ndarray
    matches: tuple[dict, ...]
    cross_method: tuple[dict, ...]

    def to_dict(self) -> dict[str, Any]:
        return field_dict(self, "labels", "cosine", "matches", "cross_method")


def compare_directions(directions: Sequence[Direction]) -> DirectionComparison:
    """Cosine similarity between every pair of ``directions`` (all of the same size, K >= 1)."""
    dirs = list(directions)
    if not dirs:
        raise ValueError("directions is empty; pass at least one Direction.")
    sizes = {d.vector.shape[0] for d in dirs}
    if len(sizes) > 1:
        raise ValueError(f"directions must all have the same size; got sizes {sorted(sizes)}.")
    v = np.stack([d.vector for d in dirs])
    cos = np.clip(v @ v.T, -1.0, 1.0)
    named = [i for i, d in enumerate(dirs) if d.method == "interfacegan"]
    matches = []
    for i, d in enumerate(dirs):
        if d.method in UNSUPERVISED and named:
            j = max(named, key=lambda j: abs(cos[i, j]))
            matches.append({"direction": d.label, "attribute": dirs[j].source, "cosine": float(cos[i, j])})
    methods = list(dict.fromkeys(d.method for d in dirs))
    cross = []
    for a_i, a in enumerate(methods):
        for b in methods[a_i + 1 :]:
            ia = [i for i, d in enumerate(dirs) if d.method == a]
            ib = [i for i, d in enumerate(dirs) if d.method == b]
            i, j = max(((i, j) for i in ia for j in ib), key=lambda p: abs(cos[p]))
            cross.append(
                {"methods": [a, b], "a": dirs[i].label, "b": dirs[j].label, "cosine": float(cos[i, j])}
            )
    return DirectionComparison(
        labels=tuple(d.label for d in dirs),
        methods=tuple(d.method for d in dirs),
        cosine=cos,
        matches=tuple(matches),
        cross_method=tuple(cross),
    )
