"""Low-rank styles: style transfer with every Gram target truncated to its top-k eigencomponents.

:func:`lowrank_style_sweep` runs one style transfer per k; each result's style loss is measured
against the *full* target (:class:`LowRankResult`), so the curve shows how many components carry
the style. The eigen-decompositions come from :func:`xstyle.explain.style.gram.layer_spectrum`.

Images are float RGB in [0, 1], shape (1, 3, H, W) (or anything :func:`xstyle.data.resolve_image`
takes: paths, ``sample:NAME``, arrays). No matplotlib is imported here; ``.plot()`` methods
import :mod:`xstyle.explain.style.plots` lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle.explain.style._sweep import sweep_config, sweep_runs
from xstyle.explain.style.gram import layer_spectrum
from xstyle.explain.style.plots import LowRankDisplay
from xstyle.images import ImageLike
from xstyle.transfer import TransferConfig

__all__ = ["LowRankResult", "lowrank_style_sweep"]


@dataclass(frozen=True, eq=False)
class LowRankResult(Plottable):
    """Style transfer with Gram targets truncated to their top-k eigencomponents (one run per k).

    Attributes:
        ranks: the k of each run (None = full target); a layer with C <= k keeps its full target.
        images: one (1, 3, H, W) result in [0, 1] per rank.
        style_loss: style loss of each result against the *full* targets (seed weights).
        content_loss: content loss of each result.
        style_per_layer: per rank, layer -> weighted style loss against the full targets.
        retained_energy: per rank, layer -> fraction of ``trace(A)`` kept by the truncation.
        config: the :class:`~xstyle.transfer.TransferConfig` of every run.
        timings: seconds for ``setup``, per rank and ``total``.
    """

    display: ClassVar[type[LowRankDisplay]] = LowRankDisplay

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
        ranks = ["full" if k is None else int(k) for k in self.ranks]
        out = field_dict(
            self, skip=("ranks", "images", "style_loss"), style_loss_vs_full_target=self.style_loss
        )
        return {"ranks": ranks, **out}


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
    config = sweep_config(config, steps=40, what="a low-rank sweep")
    ranks = tuple(ranks)
    if not ranks:
        raise ValueError("ranks must list at least one k (whole numbers >= 1, None for full); got ().")
    for k in ranks:
        if k is not None and (not isinstance(k, (int, np.integer)) or k < 1):
            raise ValueError(f"ranks must be whole numbers >= 1 or None (full); got {k!r}.")
    per_layer, energy = [], []
    with sweep_runs(content, style, config, model) as runs:
        full = runs.objective.gram_targets
        spectra = {n: layer_spectrum(n, g[0], 1) for n, g in full.items()}
        for k in ranks:
            targets = dict(full)  # a layer with C <= k keeps its full target
            for name, sp in spectra.items():
                if k is not None and k < sp.n_channels:
                    targets[name] = sp.reconstruct(k).to(full[name].dtype).unsqueeze(0)
            _, s = runs.run("full" if k is None else f"k{k}", gram_targets=targets)
            per_layer.append(s.as_floats())
            energy.append({n: (1.0 if k is None else spectra[n].energy(k)) for n in full})
    return LowRankResult(ranks=ranks, style_per_layer=per_layer, retained_energy=energy, **runs.fields())
