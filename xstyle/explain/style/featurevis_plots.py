"""Displays of the feature visualisations (beside :mod:`xstyle.explain.style.featurevis`).

Each draws a grid of images with a title per image. See :mod:`xstyle._plotting` for the Display
protocol (``from_result`` then ``plot(ax=...)``); matplotlib is imported only when drawing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xstyle._plotting import Display, _figure, _hwc

__all__ = ["ChannelVisualizationDisplay", "GramComponentDisplay"]


def _grid(n: int, ncols: int | None, ax: Any, *, panel: float = 2.2):
    """(figure, list of n Axes): the caller's ``ax`` (exactly n Axes) or a new grid of ``ncols`` columns."""
    if ax is not None:
        axes = np.asarray(ax, dtype=object).ravel()
        if axes.size != n:
            raise ValueError(f"ax must hold {n} Axes (one per image); got {axes.size}.")
        return axes[0].figure, list(axes)
    if ncols is not None and (isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1):
        raise ValueError(f"ncols must be an integer >= 1 or None (automatic); got {ncols!r}.")
    cols = min(n, ncols or 5)
    rows = math.ceil(n / cols)
    figure, grid = _figure(rows, cols, (panel * cols, panel * rows + 0.5))
    axes = list(grid.ravel())
    for extra in axes[n:]:
        extra.set_axis_off()
    return figure, axes[:n]


@dataclass(eq=False)
class _ImageGridDisplay(Display):
    """Images (H, W, 3) in [0, 1], one title each, and a title over the grid."""

    images: list[np.ndarray]
    titles: list[str]
    suptitle: str
    axes_: object = field(default=None, init=False)

    def _draw(self, images: list[np.ndarray], titles: list[str], ax: Any, ncols: int | None):
        figure, axes = _grid(len(images), ncols, ax)
        for a, image, title in zip(axes, images, titles, strict=True):
            a.imshow(image, interpolation="nearest")
            a.set_title(title, fontsize=8)
            a.set_axis_off()
        if ax is None:
            figure.suptitle(self.suptitle, fontsize=10)
        self.axes_, self.ax_, self.figure_ = axes, axes[0], figure
        return self

    @classmethod
    def _collect(cls, result, titles: list[str], heading: str, **extra: Any):
        """The display of ``result.images`` with ``titles``, under ``heading`` followed by the
        optimisation's size, steps and seed (from ``result.config``)."""
        config = result.config
        return cls(
            images=[_hwc(img) for img in result.images],
            titles=titles,
            suptitle=(
                f"{heading} ({config.get('size')} px, {config.get('steps')} steps, seed {config.get('seed')})"
            ),
            **extra,
        )


@dataclass(eq=False)
class ChannelVisualizationDisplay(_ImageGridDisplay):
    """One image per channel: what maximises it (title: the channel and its final mean activation)."""

    @classmethod
    def from_result(cls, result) -> ChannelVisualizationDisplay:
        titles = [
            f"{result.layer} ch {c}\nmean act {a:.3g}"
            for c, a in zip(result.channels, result.activations, strict=True)
        ]
        return cls._collect(result, titles, f"What channels of {result.layer} respond to")

    def plot(self, *, ax: Any = None, ncols: int | None = None) -> ChannelVisualizationDisplay:
        """``ax``: K Axes, one per image (None: a new figure of ``ncols`` columns, default up to 5)."""
        return self._draw(self.images, self.titles, ax, ncols)


@dataclass(eq=False)
class GramComponentDisplay(_ImageGridDisplay):
    """The style image, then one texture per Gram eigencomponent (title: its share of the trace and
    the relative error ``||G − A_k||² / ||A_k||²`` left)."""

    style: np.ndarray | None = None
    style_title: str = "style"

    @classmethod
    def from_result(cls, result) -> GramComponentDisplay:
        titles = [
            f"{result.layer} component {k}\n{100 * s:.1f}% of trace, rel. err {e:.2f}"
            for k, s, e in zip(result.components, result.energy_share, result.relative_errors, strict=True)
        ]
        return cls._collect(
            result,
            titles,
            f"Textures matching one eigencomponent of the style's Gram at {result.layer}",
            style=_hwc(result.style),
            style_title=f"style\n{result.meta.get('style', '')}",
        )

    def plot(
        self, *, ax: Any = None, ncols: int | None = None, show_style: bool = True
    ) -> GramComponentDisplay:
        """``ax``: one Axes per texture, plus one first for the style image when ``show_style``
        (None: a new figure of ``ncols`` columns, default up to 5)."""
        if show_style and self.style is not None:
            return self._draw([self.style, *self.images], [self.style_title, *self.titles], ax, ncols)
        return self._draw(self.images, self.titles, ax, ncols)
