"""The style/content trade-off: how to choose alpha and beta (the seed's open question).

:func:`tradeoff_sweep` stylises one content photo once per ratio ``β/α`` on a log grid and records,
for each result, the content loss, the style loss (both unweighted, so results are comparable
across ratios) and the SSIM to the content photo (scikit-image). :func:`find_knee` locates the
knee of the resulting curve.

How to read the curve (:meth:`TradeoffResult.plot`): each point is one result, x = content loss,
y = style loss; ``β/α`` grows along the curve from the top left (faithful to the photo, little
style) to the bottom right (strongly stylised, content fading). Where the curve is steep, a larger
``β/α`` buys a lot of style for little content; past the knee (the point farthest from the chord
between the end points, both axes scaled to [0, 1]) each further step costs much content for
little style. The knee is a sensible default; go left of it to keep faces and text legible (SSIM,
printed under each thumbnail, stays high), right of it for a painterly look. The seed's content
loss grows with the pixel count and its style loss does not, so the useful β/α moves with the
image size: sweep at the size you will render (the default grid is centred on the pair's
:func:`balance_ratio`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle._stats import ssim
from xstyle.explain.style._sweep import sweep_config, sweep_inputs, sweep_runs
from xstyle.explain.style.plots import TradeoffDisplay
from xstyle.hooks import frozen
from xstyle.images import ImageLike
from xstyle.transfer import StyleObjective, TransferConfig

__all__ = ["AUTO_GRID", "TradeoffResult", "balance_ratio", "find_knee", "tradeoff_sweep"]

#: Default grid, in decades around the balance ratio r0 (:func:`balance_ratio`): r0 * 10**AUTO_GRID.
AUTO_GRID: tuple[float, ...] = (-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0)


def find_knee(x: Sequence[float], y: Sequence[float], *, log: bool = False) -> int:
    """Index of the knee of a monotone trade-off curve given as points in sweep order.

    Both coordinates are (log10-transformed if ``log``, then) scaled to [0, 1]; the knee is the
    point farthest from the straight line through the first and last points (the "Kneedle" idea,
    Satopää et al. 2011). Needs at least 3 points; with ``log`` all values must be > 0.
    :func:`tradeoff_sweep` uses linear coordinates: runs that start from the content photo have
    content losses near 0 at small β/α, which a log axis would stretch over many decades.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1 or xa.size < 3:
        raise ValueError(
            f"x and y must be 1-D sequences of the same length >= 3; got {xa.shape} and {ya.shape}."
        )
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise ValueError("x and y must be finite numbers.")
    if log:
        if (xa <= 0).any() or (ya <= 0).any():
            raise ValueError("x and y must be > 0 with log=True; pass log=False for linear coordinates.")
        xa, ya = np.log10(xa), np.log10(ya)

    def unit(v: np.ndarray) -> np.ndarray:
        span = np.ptp(v)
        return (v - v.min()) / span if span > 0 else np.zeros_like(v)

    xa, ya = unit(xa), unit(ya)
    p0 = np.array([xa[0], ya[0]])
    chord = np.array([xa[-1], ya[-1]]) - p0
    norm = np.hypot(*chord)
    if norm == 0:
        return 0
    dist = np.abs(chord[0] * (ya - p0[1]) - chord[1] * (xa - p0[0])) / norm
    return int(np.argmax(dist))


@dataclass(frozen=True, eq=False)
class TradeoffResult(Plottable):
    """One stylisation per ratio β/α and its losses (:func:`tradeoff_sweep`).

    Attributes:
        ratios: β/α of each run, ascending; ``alpha`` is fixed and β = ratio * alpha.
        content_loss, style_loss: unweighted losses of each result (content: Σ 1/2 (F-P)^2;
            style: Σ_l w_l E_l), so different ratios are comparable.
        ssim: SSIM of each result to the content photo (1 = identical structure).
        images: each result, (1, 3, H, W) float RGB in [0, 1].
        knee: index of the knee of the (content loss, style loss) curve (:func:`find_knee`,
            linear coordinates); None with fewer than 3 ratios.
        balance: the balance ratio r0 of the pair (:func:`balance_ratio`).
    """

    display: ClassVar[type[TradeoffDisplay]] = TradeoffDisplay

    ratios: tuple[float, ...]
    alpha: float
    content_loss: list[float]
    style_loss: list[float]
    ssim: list[float]
    images: list[torch.Tensor]
    knee: int | None
    balance: float
    config: TransferConfig
    timings: dict[str, float]
    meta: dict = field(default_factory=dict)

    @property
    def knee_ratio(self) -> float | None:
        return None if self.knee is None else self.ratios[self.knee]

    def to_dict(self) -> dict:
        return field_dict(
            self,
            skip=("images", "knee", "balance"),
            knee_index=self.knee,
            knee_ratio=self.knee_ratio,
            balance_ratio=self.balance,
        )


def _balance(objective: StyleObjective, content: torch.Tensor, style: torch.Tensor) -> float:
    from xstyle.images import resize_image

    with torch.no_grad():
        _, c_of_style, _ = objective(resize_image(style, tuple(content.shape[-2:])))
        _, _, s_of_content = objective(content)
    c, s = float(c_of_style.total.sum()), float(s_of_content.total.sum())
    if not (c > 0 and s > 0 and math.isfinite(c / s)):
        raise ValueError(
            "the balance ratio is undefined for these images (the style image has the content's "
            "features or the content photo has the style's Grams); pass ratios explicitly."
        )
    return c / s


def balance_ratio(
    content: ImageLike,
    style: ImageLike,
    *,
    config: TransferConfig | None = None,
    model: nn.Module | None = None,
) -> float:
    """The β/α at which both ends of the trade-off weigh the same: ``L_c(style) / L_s(content)``.

    ``L_c(style)`` is the content loss of the style image (resized to the content's size) and
    ``L_s(content)`` the style loss of the content photo. With the seed's losses the content loss
    grows with the pixel count and the style loss does not, so the useful β/α range moves with
    the image size; it lies within a few decades of this ratio (the default sweep spans
    ``r0 * 10**AUTO_GRID``).
    """
    config = config or TransferConfig(size=128, steps=(30,), optimizer="adam")
    content_img, style_img, net = sweep_inputs(content, style, config, model)
    with frozen(net):
        return _balance(StyleObjective(net, content_img, style_img, config), content_img, style_img)


def tradeoff_sweep(
    content: ImageLike,
    style: ImageLike,
    *,
    ratios: Sequence[float] | None = None,
    config: TransferConfig | None = None,
    model: nn.Module | None = None,
) -> TradeoffResult:
    """Stylise ``content`` once per ``β/α`` in ``ratios``; record losses, SSIM and the knee.

    The content targets and style Gram targets are computed once and shared by every run (only
    α and β change); every run is single-scale, starts from ``config.init`` with ``config.seed``
    and takes ``config.steps[0]`` evaluations.

    Args:
        content, style: (1, 3, H, W) float RGB in [0, 1], paths or ``sample:NAME``; resized so the
            long side is ``config.size``.
        ratios: β/α values (> 0), sorted ascending; default ``r0 * 10**AUTO_GRID`` (half decades
            from r0/100 to 10 r0) around the pair's :func:`balance_ratio` r0.
        config: layers, weights, alpha (> 0), size, steps (one level); its beta is ignored.
            Default ``TransferConfig(size=128, steps=(30,), optimizer="adam")`` (single-scale L-BFGS
            from the content diverges at >= 128 px with the seed's losses; Adam descends steadily).
        model: a VGG19 extractor to reuse (flags restored afterwards).
    """
    config = sweep_config(config, steps=30, what="a trade-off sweep")
    if not config.alpha > 0:
        raise ValueError(f"config.alpha must be > 0 (the sweep varies β/α); got {config.alpha}.")
    values = None
    if ratios is not None:
        values = [float(r) for r in ratios]
        if not values or any(not math.isfinite(r) or r <= 0 for r in values):
            raise ValueError(
                f"ratios must be one or more finite numbers > 0 (β/α), e.g. 1e-2,1,1e2; got {ratios!r}. "
                "Hint: ratios=None sweeps around the pair's balance ratio."
            )
        values = sorted(set(values))
    # the ratios are beta/alpha of the paper's own losses (the balance ratio is defined on them):
    # the sweep runs and records normalize="seed", whatever the config's default weighting
    config = replace(config, normalize="seed")
    scores = []
    with sweep_runs(content, style, config, model) as runs:
        r0 = _balance(runs.objective, runs.content, runs.style)
        if values is None:
            values = [r0 * 10.0**e for e in AUTO_GRID]
        for ratio in values:
            runs.objective.alpha, runs.objective.beta = config.alpha, ratio * config.alpha
            image, _ = runs.run(f"ratio_{ratio:.3g}")
            scores.append(ssim(image, runs.content))
    knee = find_knee(runs.content_loss, runs.style_loss) if len(values) >= 3 else None
    return TradeoffResult(
        ratios=tuple(values), alpha=config.alpha, ssim=scores, knee=knee, balance=r0, **runs.fields()
    )
