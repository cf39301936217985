"""The direction stages of :func:`~xstyle.explain.gan.gan_style.gan_style`: per-label InterFaceGAN,
GANSpace and SeFa directions in z, how alike they are across labels, and walks along them at fixed
labels (what each direction changes, and how often the requested class survives)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from xstyle.explain.gan._common import generate
from xstyle.explain.gan.directions import first_layer, ganspace_directions, layer_matrix
from xstyle.hooks import frozen

if TYPE_CHECKING:
    from xstyle.explain.gan.gan_style import _Grid, _Run

__all__: list[str] = []


def _class_probs(classifier: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Softmax probabilities (N, 10) of ``images`` (eval mode, no gradients, flags restored)."""
    with frozen(classifier), torch.no_grad():
        return torch.cat([classifier(images[i : i + 500]).softmax(dim=1) for i in range(0, len(images), 500)])


def _fit_direction(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """InterFaceGAN for a continuous measure: the unit normal of a ridge fit of y on z."""
    from sklearn.linear_model import Ridge

    coef = Ridge(alpha=1.0).fit(z, y).coef_
    norm = np.linalg.norm(coef)
    return coef / norm if norm > 0 else coef


def _walk(
    generator: nn.Module,
    classifier: nn.Module,
    z: torch.Tensor,
    labels: torch.Tensor,
    direction: np.ndarray,
    steps: np.ndarray,
    n_classes: int,
    measure_fn: Callable[[torch.Tensor], dict[str, np.ndarray]],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Walk z (n, D) along ``direction`` by ``steps`` at fixed labels; returns the measures
    (S, n) and the classifier's predicted classes (S, n)."""
    from xstyle.gan.prior import with_labels

    v = torch.as_tensor(direction, dtype=torch.float32)
    walked = z[None] + torch.as_tensor(steps, dtype=torch.float32)[:, None, None] * v
    s, n = walked.shape[:2]
    inputs = with_labels(walked.reshape(s * n, -1), labels.repeat(s), n_classes=n_classes)
    images, _ = generate(generator, inputs)
    measures = measure_fn(images)
    predicted = _class_probs(classifier, images).argmax(dim=1).numpy().reshape(s, n)
    return {k: np.asarray(v).reshape(s, n) for k, v in measures.items()}, predicted


def _per_label_samples(
    run: _Run, zd: torch.Tensor, *, first: str | None, ganspace_components: int
) -> tuple[dict[int, dict[str, np.ndarray]], dict[int, list[np.ndarray]]]:
    """Stage 6a: the latents zd (n, D) written as every label: the measures per label and, when
    asked, each label's GANSpace components of the first stage carried back to z."""
    from xstyle.gan.prior import with_labels

    per_label: dict[int, dict[str, np.ndarray]] = {}
    pcs: dict[int, list[np.ndarray]] = {}
    n = zd.shape[0]
    for j in range(run.n_classes):
        imgs, feats = generate(
            run.generator,
            with_labels(zd, torch.full((n,), j), n_classes=run.n_classes),
            stages=(first,) if ganspace_components and first is not None else (),
        )
        per_label[j] = run.measure(imgs)
        if ganspace_components and first is not None:
            found = ganspace_directions(feats[first], zd, n_components=ganspace_components)
            pcs[j] = [np.asarray(d.vector, dtype=np.float64) for d in found]
    return per_label, pcs


def _cosine_entry(dirs: np.ndarray) -> dict[str, Any]:
    """Cosines (C, C) between unit directions (C, D), and their mean off the diagonal."""
    cos = dirs @ dirs.T
    return {"cosine": cos, "mean_cosine": float(cos[~np.eye(len(dirs), dtype=bool)].mean())}


def _directions_to_walk(
    run: _Run,
    zd: torch.Tensor,
    per_label: dict[int, dict[str, np.ndarray]],
    pcs: dict[int, list[np.ndarray]],
    *,
    ganspace_components: int,
    sefa_components: int,
) -> tuple[dict[str, dict[str, Any]], list[tuple[str, np.ndarray, dict[str, Any]]]]:
    """Stage 6b: per measure the per-label InterFaceGAN directions and the pooled one, the GANSpace
    components aligned across labels, SeFa's top directions; returns the entries and what to walk."""
    c = run.n_classes
    directions: dict[str, dict[str, Any]] = {}
    to_walk: list[tuple[str, np.ndarray, dict[str, Any]]] = []
    zn = zd.double().numpy()
    for m in run.names:
        dirs = np.stack([_fit_direction(zn, np.asarray(per_label[j][m], dtype=np.float64)) for j in range(c)])
        pooled = _fit_direction(np.tile(zn, (c, 1)), np.concatenate([per_label[j][m] for j in range(c)]))
        directions[m] = _cosine_entry(dirs)
        to_walk.append((m, pooled, directions[m]))
    for k in range(ganspace_components):
        dirs = np.stack([pcs[j][k] for j in range(c)])
        dirs *= np.sign(dirs @ dirs[0])[:, None]  # a component's sign is arbitrary: align with label 0
        pooled = dirs.mean(axis=0)
        directions[f"ganspace_{k}"] = _cosine_entry(dirs)
        to_walk.append(
            (f"ganspace_{k}", pooled / max(np.linalg.norm(pooled), 1e-12), directions[f"ganspace_{k}"])
        )
    if sefa_components:
        w = layer_matrix(first_layer(run.generator)[0]).double()[:, : run.latent_dim]
        _, vecs = torch.linalg.eigh(w.T @ w)
        for k in range(min(sefa_components, run.latent_dim)):
            directions[f"sefa_{k}"] = {}
            to_walk.append((f"sefa_{k}", vecs[:, -1 - k].numpy(), directions[f"sefa_{k}"]))
    return directions, to_walk


def _walk_entries(
    run: _Run, to_walk: list[tuple[str, np.ndarray, dict[str, Any]]], *, n_walk: int, walk: float
) -> None:
    """Stage 6c: walk ``n_walk`` prior latents per label from -walk to +walk along each direction;
    fills each entry's ``measure`` (its own, or the one that moves most), ``slope`` (C,) and
    ``flip_rate`` (C,)."""
    c = run.n_classes
    steps = np.array([-walk, 0.0, walk])
    zw = run.prior.sample(n_walk, run.latent_dim, generator=run.torch_rng)
    walk_labels = torch.arange(c).repeat_interleave(n_walk)
    zw_all = zw.repeat(c, 1)
    start = int(np.flatnonzero(steps == 0)[0])
    for m, vector, entry in to_walk:
        walked, predicted = _walk(
            run.generator, run.classifier, zw_all, walk_labels, vector, steps, c, run.measure
        )
        by_label = lambda a: a.reshape(a.shape[0], c, n_walk)  # noqa: E731
        measure = (
            m
            if m in run.names
            else max(
                run.names,
                key=lambda k: np.abs(walked[k][-1] - walked[k][0]).mean() / (walked[k].std() + 1e-12),
            )
        )
        values = by_label(walked[measure])
        entry["measure"] = measure
        entry["slope"] = (values[-1] - values[0]).mean(axis=1) / (2 * walk)
        flipped = by_label((predicted[[0, -1]] != predicted[start]).astype(np.float64))
        entry["flip_rate"] = flipped.mean(axis=(0, 2))


def _style_directions(
    run: _Run,
    grid: _Grid,
    *,
    n_direction: int,
    n_walk: int,
    walk: float,
    sefa_components: int,
    ganspace_components: int,
) -> dict[str, dict[str, Any]]:
    """Stage 6: the style directions at a fixed label (fit per label, compared, walked)."""
    zd = run.prior.sample(n_direction, run.latent_dim, generator=run.torch_rng)
    first = grid.stage_names[0] if grid.stage_names else None
    per_label, pcs = _per_label_samples(run, zd, first=first, ganspace_components=ganspace_components)
    directions, to_walk = _directions_to_walk(
        run, zd, per_label, pcs, ganspace_components=ganspace_components, sefa_components=sefa_components
    )
    _walk_entries(run, to_walk, n_walk=n_walk, walk=walk)
    return directions
