"""Displays of the attribution results (maps over a diverging colormap centred on zero).

See :mod:`xstyle._plotting` for the Display protocol (``from_result`` then ``plot(ax=...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from xstyle._plotting import Display, _show_map

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "AttributionDisplay",
    "DeletionInsertionDisplay",
    "RandomisationDisplay",
]


class AttributionDisplay(Display):
    """One attribution map (channels summed), optionally over its image."""

    def __init__(self, values: torch.Tensor, *, title: str, image: torch.Tensor | None = None) -> None:
        self.values, self.title, self.image = values, title, image

    @classmethod
    def from_result(cls, result, *, image: torch.Tensor | None = None, index: int = 0) -> AttributionDisplay:
        a = result.attributions[index]
        values = a.sum(0) if a.ndim == 3 else a
        title = f"{result.method}: {result.target}" + (f" @ {result.layer}" if result.layer else "")
        if values.ndim == 1:
            values = values[None, :]
        img = image[index : index + 1] if image is not None and values.shape == image.shape[-2:] else None
        return cls(values, title=title, image=img)

    def plot(self, *, ax: Axes | None = None, colorbar: bool = True) -> AttributionDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4, 4), layout="constrained")
        im = _show_map(ax, self.values, title=self.title, image=self.image)
        if colorbar:
            ax.figure.colorbar(im, ax=ax, shrink=0.8)
        return self._drawn(ax)


class DeletionInsertionDisplay(Display):
    """Deletion and insertion curves against their random-order references."""

    def plot(self, *, ax: Axes | None = None, title: str | None = None) -> DeletionInsertionDisplay:
        import matplotlib.pyplot as plt

        r = self.result
        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
        ax.plot(r.fractions, r.deletion, color="C3", label=f"deletion (AUC {r.deletion_auc:.2f})")
        ax.plot(
            r.fractions, r.random_deletion, color="C3", ls="--", label=f"random ({r.random_deletion_auc:.2f})"
        )
        ax.plot(r.fractions, r.insertion, color="C0", label=f"insertion (AUC {r.insertion_auc:.2f})")
        ax.plot(
            r.fractions,
            r.random_insertion,
            color="C0",
            ls="--",
            label=f"random ({r.random_insertion_auc:.2f})",
        )
        ax.set_xlabel("fraction of pixels removed / inserted")
        ax.set_ylabel("target (input = 1, baseline = 0)")
        ax.set_title((title + ": " if title else "") + ("passes" if r.passed else "fails"), fontsize=9)
        ax.legend(fontsize=7)
        return self._drawn(ax)


class RandomisationDisplay(Display):
    """Spearman correlation with the trained map as layers are randomised from the top."""

    def plot(self, *, ax: Axes | None = None) -> RandomisationDisplay:
        import matplotlib.pyplot as plt

        r = self.result
        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
        x = np.arange(len(r.stages))
        ax.plot(x, r.spearman_abs, "o-", label="|map|")
        ax.plot(x, r.spearman, "s--", label="signed map")
        ax.axhline(r.threshold, color="gray", lw=0.8, ls=":")
        ax.set_xticks(x, [f"+{s}" for s in r.stages], rotation=45, fontsize=7)
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel("Spearman with trained map")
        ax.set_title(f"model randomisation ({r.method}): {'passes' if r.passed else 'fails'}", fontsize=9)
        ax.legend(fontsize=7)
        return self._drawn(ax)
