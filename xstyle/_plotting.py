"""The Display protocol and the private plotting helpers shared by the ``*Display`` classes.

Pattern from scikit-learn's ``sklearn.inspection`` displays: a picture lives beside its numbers.
Each ``*Result`` has a ``*Display`` in a sibling ``plots`` module (``xstyle/transfer_plots.py``,
``xstyle/gan/plots.py``, ``xstyle/stylizer/plots.py``, ``xstyle/explain/<group>/plots.py``);

* ``Display.from_result(result)`` (classmethod) collects the data it needs from the result (or from
  the raw data the result holds, e.g. a training history);
* ``display.plot(*, ax=None)`` draws it and returns ``self``, with ``figure_`` (the matplotlib Figure)
  and ``ax_`` (the Axes drawn on) set. ``ax`` is one :class:`~matplotlib.axes.Axes` for single-panel
  displays; multi-panel displays take an array (or sequence) of Axes of the documented shape, set
  ``axes_`` to all their Axes and ``ax_`` to the main one. ``ax=None`` creates a new figure.
  ``Result.plot(*, ax=None, ...)`` is ``Display.from_result(result).plot(ax=ax, ...)``.
* ``plot`` never calls ``plt.show()``: the caller decides whether to show, save or close.

matplotlib is imported lazily inside the drawing functions (it is heavy); this module is a leaf
(layer 0) and imports nothing from xstyle.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

__all__ = ["Display"]


class Display:
    """Base of every ``*Display``: ``from_result`` collects, ``plot(ax=...)`` draws and returns self."""

    figure_: Any = None
    ax_: Any = None

    @classmethod
    def from_result(cls, result, **kwargs):
        """Collect what to draw from ``result`` (the Result, or the data it needs).

        Default: ``cls(result, **kwargs)``, for displays that keep the result and read it in ``plot``.
        """
        return cls(result, **kwargs)

    def __init__(self, result: Any) -> None:
        # for displays that read their Result in ``plot``; dataclass displays collect fields instead
        self.result = result

    def _drawn(self, ax: Any = None, *, panels: Any = None):
        """Record what was drawn and return ``self``: ``ax_`` (the main Axes, default the first
        panel), ``figure_`` (its Figure) and, for a multi-panel display, ``axes_`` (all panels)."""
        if panels is not None:
            self.axes_ = panels
            if ax is None:
                ax = np.asarray(panels, dtype=object).flat[0]
        self.ax_, self.figure_ = ax, ax.figure
        return self

    def plot(self, *, ax=None):  # pragma: no cover - overridden
        """Draw on ``ax`` (one Axes, or an array of Axes for multi-panel displays; None: a new
        figure); set ``figure_`` and ``ax_``; return ``self``. Never calls ``plt.show()``."""
        raise NotImplementedError


class Plottable:
    """Mixin for ``*Result`` classes: ``plot`` draws the result with its Display.

    A Result names its Display in the class attribute ``display``; ``result.plot(ax=..., **options)``
    is ``display.from_result(result).plot(ax=ax, **options)`` (the options are the Display's
    ``plot`` keywords, documented there) and returns the Display.
    """

    display: ClassVar[type[Display]]

    def plot(self, *, ax: Any = None, **options: Any) -> Any:
        """Draw this result (on ``ax``, or a new figure) and return the Display."""
        return type(self).display.from_result(self).plot(ax=ax, **options)


CMAP = "RdBu_r"


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    """``ax`` itself, or (``ax`` None) the Axes of a new figure of ``size`` inches (constrained layout)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


class SignedHeatmapDisplay(Display):
    """Base of the Displays of one square matrix of values in [-1, 1] with the same labels on both
    axes: a signed heatmap with a colour bar, its cells annotated (NaN cells read "n/a").

    A subclass is a dataclass with two fields, named in ``_fields`` as (labels, matrix), that
    ``from_result`` reads from the same-named attributes of the Result; its ``plot`` calls
    :meth:`_heatmap` with its title and look.
    """

    #: the names of the (labels, matrix) fields, the same on the Display and on its Result
    _fields: ClassVar[tuple[str, str]]

    @classmethod
    def from_result(cls, result):
        """Collect the labels and the matrix from the same-named attributes of ``result``."""
        labels, matrix = cls._fields
        return cls(
            **{
                labels: list(getattr(result, labels)),
                matrix: np.asarray(getattr(result, matrix), dtype=float),
            }
        )

    def _heatmap(
        self,
        ax: Any,
        *,
        title: str,
        label: str,
        fmt: str | None = "{:.2f}",
        fontsize: tuple[float, float] = (7, 8),
        rotation: int = 45,
        cell: tuple[float, float] = (0.6, 0.5),
    ):
        """Draw the matrix on ``ax`` (None: a new figure of ``2.5 x 2.0`` inches plus ``cell`` per
        label) and return ``self``.

        ``title``: the Axes' title; ``label``: the colour bar's; ``fmt`` formats each cell's
        annotation (None: no annotations); ``fontsize`` is (annotations, tick labels); ``rotation``
        turns the x tick labels (degrees).
        """
        labels, matrix = (getattr(self, name) for name in self._fields)
        k = len(labels)
        ax = _axes(ax, (2.5 + cell[0] * k, 2.0 + cell[1] * k))
        image = ax.imshow(matrix, vmin=-1, vmax=1, cmap=CMAP)
        if fmt is not None:
            for i in range(k):
                for j in range(k):
                    v = matrix[i, j]
                    color = "white" if abs(v) > 0.6 else "black"
                    text = "n/a" if np.isnan(v) else fmt.format(v)
                    ax.text(j, i, text, ha="center", va="center", fontsize=fontsize[0], color=color)
        ax.set_xticks(range(k), labels, rotation=rotation, ha="center" if rotation == 90 else "right")
        ax.set_yticks(range(k), labels)
        ax.tick_params(labelsize=fontsize[1])
        ax.set_title(title, fontsize=10)
        ax.figure.colorbar(image, ax=ax, label=label)
        return self._drawn(ax)


def _np(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return x.detach().double().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=float)


def _rgb(image: torch.Tensor) -> np.ndarray:
    img = image[0] if image.ndim == 4 else image
    return img.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def _show_map(ax, values, *, title: str, image=None, alpha: float = 0.75) -> Any:
    v = _np(values)
    lim = float(np.percentile(np.abs(v), 99)) or 1e-12
    if image is not None:
        ax.imshow(_rgb(image).mean(-1), cmap="gray", alpha=0.35)
    im = ax.imshow(v, cmap=CMAP, vmin=-lim, vmax=lim, alpha=alpha if image is not None else 1.0)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    return im


def _figure(nrows: int, ncols: int, size: tuple[float, float], *, ax=None):
    """(figure, (nrows, ncols) array of Axes) for a multi-panel display.

    ``ax``: the caller's Axes (any array or sequence holding ``nrows * ncols`` of them), used as
    they are; else a new figure of ``size``.
    """
    if ax is not None:
        axes = np.asarray(ax, dtype=object)
        if axes.size != nrows * ncols:
            raise ValueError(f"ax must hold {nrows * ncols} Axes ({nrows} x {ncols}); got {axes.size}.")
        axes = axes.reshape(nrows, ncols)
        return axes.flat[0].figure, axes
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=size, layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False)
    return figure, axes


def _thumb(image) -> np.ndarray:
    """(1, 3, H, W) tensor in [0, 1] -> (H, W, 3) float numpy for imshow."""
    return image[0].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def _thumbnail_figure(
    ax: Any, n: int, *, thumbnails: bool, size: tuple[float, float], width: float = 7.0
) -> tuple[Any, list]:
    """(the curve's Axes, the thumbnails' Axes) of a curve display with ``n`` thumbnail images.

    ``ax`` None and ``thumbnails``: a new figure with one wide Axes on top and ``n`` small image
    Axes below; else ``ax`` (None: a new figure of ``size``) and no thumbnails.
    """
    if ax is not None or not thumbnails:
        return _axes(ax, size), []
    import matplotlib.pyplot as plt

    curve_height = 3.2
    thumb_h = width / max(n, 1) + 0.35
    fig = plt.figure(figsize=(width, curve_height + thumb_h), layout="constrained")
    grid = fig.add_gridspec(2, max(n, 1), height_ratios=[curve_height, thumb_h])
    ax = fig.add_subplot(grid[0, :])
    thumbs = [fig.add_subplot(grid[1, i]) for i in range(n)]
    return ax, thumbs


def _hwc(image) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] -> (H, W, 3) array."""
    t = image[0] if image.ndim == 4 else image
    return t.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def _signed_limits(values: np.ndarray) -> float:
    v = float(np.nanpercentile(np.abs(values), 99)) if values.size else 1.0
    return v if v > 0 else 1.0
