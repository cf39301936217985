"""Displays of the attribution results (maps over a diverging colormap centred on zero).

See :mod:`xstyle._plotting` for the Display protocol (``from_result`` then ``plot(ax=...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from xstyle._plotting import CMAP, Display, _figure, _np, _rgb, _show_map

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "AttributionDisplay",
    "ChannelCarriersDisplay",
    "DeletionInsertionDisplay",
    "DiscriminatorMapsDisplay",
    "GramEntryDisplay",
    "RandomisationDisplay",
    "StyleContentDisplay",
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
        self.ax_, self.figure_ = ax, ax.figure
        return self


class DeletionInsertionDisplay(Display):
    """Deletion and insertion curves against their random-order references."""

    def __init__(self, result) -> None:
        self.result = result

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
        self.ax_, self.figure_ = ax, ax.figure
        return self


class RandomisationDisplay(Display):
    """Spearman correlation with the trained map as layers are randomised from the top."""

    def __init__(self, result) -> None:
        self.result = result

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
        self.ax_, self.figure_ = ax, ax.figure
        return self


class StyleContentDisplay(Display):
    """Image, content, per-layer style evidence, total style, content and dominance maps."""

    def __init__(self, result) -> None:
        self.result = result

    def plot(self, *, ax: Any = None, figure: Figure | None = None) -> StyleContentDisplay:
        r = self.result
        layers = [k for k in r.style_evidence if k != "total"]
        ncols = max(4, len(layers))
        figure, axes = _figure(figure, 2, ncols, (2.3 * ncols, 5), ax=ax)
        for ax in axes.flat:
            ax.set_axis_off()
        axes[0, 0].imshow(_rgb(r.image))
        axes[0, 0].set_title("stylised image", fontsize=9)
        _show_map(axes[0, 1], r.style_evidence["total"], title="style evidence (total)", image=r.image)
        _show_map(axes[0, 2], r.content_evidence, title="content evidence", image=r.image)
        _show_map(axes[0, 3], r.dominance, title="dominance: red style, blue content")
        for ax, name in zip(axes[1], layers, strict=False):
            _show_map(ax, r.style_evidence[name], title=f"style {name}", image=r.image)
        figure.suptitle(f"Where the style and the content live ({r.method})", fontsize=10)
        self.axes_, self.figure_ = axes, figure
        return self


class ChannelCarriersDisplay(Display):
    """Per layer: each channel's style share against its content share (log-log scatter)."""

    def __init__(self, result) -> None:
        self.result = result

    def plot(self, *, ax: Any = None, figure: Figure | None = None) -> ChannelCarriersDisplay:
        r = self.result
        layers = list(r.score)
        figure, axes = _figure(figure, 1, len(layers), (2.8 * len(layers), 2.9), ax=ax)
        for ax, layer in zip(axes[0], layers, strict=True):
            rows = [t for t in r.table if t["layer"] == layer]
            s = np.array([t["style_share"] for t in rows]) + 1e-6
            c = np.array([t["content_share"] for t in rows]) + 1e-6
            sc = np.array([t["score"] for t in rows])
            ax.scatter(c, s, c=sc, cmap=CMAP, vmin=-1, vmax=1, s=8)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("content share", fontsize=8)
            ax.set_ylabel("style share", fontsize=8)
            ax.set_title(layer, fontsize=9)
            lo = min(s.min(), c.min())
            ax.plot([lo, 1], [lo, 1], color="gray", lw=0.7)
        figure.suptitle("Channel carriers: above the diagonal = style carrier", fontsize=10)
        self.axes_, self.figure_ = axes, figure
        return self


class GramEntryDisplay(Display):
    """Per layer: the loss-share matrix and the pixel maps of its top pair."""

    def __init__(self, result) -> None:
        self.result = result

    def plot(self, *, ax: Any = None, figure: Figure | None = None) -> GramEntryDisplay:
        r = self.result
        layers = list(r.contributions)
        figure, axes = _figure(figure, 3, len(layers), (2.5 * len(layers), 7.2), ax=ax)
        for col, layer in enumerate(layers):
            m = _np(r.contributions[layer])
            ax = axes[0, col]
            ax.imshow(np.log10(m + m.max() * 1e-6), cmap="magma")
            ax.set_title(f"{layer}: log pair loss", fontsize=8)
            ax.set_axis_off()
            axes[1, col].set_axis_off()
            axes[2, col].set_axis_off()
            if r.top_pairs[layer]:
                p = r.top_pairs[layer][0]
                key = (layer, p["i"], p["j"])
                _show_map(
                    axes[1, col],
                    r.maps[key],
                    title=f"pixels of [{p['i']},{p['j']}] ({100 * p['share']:.1f}%)",
                    image=r.image,
                )
                axes[2, col].imshow(_np(r.coactivation[key]), cmap="viridis")
                axes[2, col].set_title("F_i * F_j (feature map)", fontsize=8)
        figure.suptitle(f"Gram entries that carry the style loss ({r.method})", fontsize=10)
        self.axes_, self.figure_ = axes, figure
        return self


class DiscriminatorMapsDisplay(Display):
    """Real and generated digits with their discriminator attributions."""

    def __init__(self, result) -> None:
        self.result = result

    def plot(self, *, ax: Any = None, figure: Figure | None = None, n: int = 6) -> DiscriminatorMapsDisplay:
        r = self.result
        n = max(1, min(n, len(r.real), len(r.fake)))
        figure, axes = _figure(figure, 4, n, (1.4 * n, 6), ax=ax)
        for k in range(n):
            for row, (digits, maps, logits, name) in enumerate(
                ((r.real, r.real_maps, r.real_logits, "real"), (r.fake, r.fake_maps, r.fake_logits, "fake"))
            ):
                ax = axes[2 * row, k]
                ax.imshow(_np(digits[k, 0]), cmap="gray", vmin=-1, vmax=1)
                ax.set_title(f"{name} D={float(logits[k]):.1f}", fontsize=7)
                ax.set_axis_off()
                _show_map(axes[2 * row + 1, k], maps[k], title="")
        figure.suptitle("Discriminator attributions (red: looks real, blue: looks fake)", fontsize=9)
        self.axes_, self.figure_ = axes, figure
        return self
