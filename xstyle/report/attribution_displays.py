"""Displays for the attribution results (scikit-learn style: ``plot(...) -> self``; never ``plt.show()``).

Each display draws one result; it sets ``figure_`` and ``ax_`` (or ``axes_``) after ``plot``.
Maps use a diverging colormap centred on zero with a symmetric range (the 99th percentile of |map|),
so colour intensity compares within a figure but not across figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "AttributionDisplay",
    "ChannelCarriersDisplay",
    "DeletionInsertionDisplay",
    "DiscriminatorMapsDisplay",
    "GramEntryDisplay",
    "LatentClassDisplay",
    "RandomisationDisplay",
    "StyleContentDisplay",
]

CMAP = "RdBu_r"


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


def _figure(figure, nrows: int, ncols: int, size: tuple[float, float]):
    import matplotlib.pyplot as plt

    if figure is None:
        figure = plt.figure(figsize=size, layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False)
    return figure, axes


class AttributionDisplay:
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


class DeletionInsertionDisplay:
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


class RandomisationDisplay:
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


class StyleContentDisplay:
    """Image, content, per-layer style evidence, total style, content and dominance maps."""

    def __init__(self, result) -> None:
        self.result = result

    def plot(self, *, figure: Figure | None = None) -> StyleContentDisplay:
        r = self.result
        layers = [k for k in r.style_evidence if k != "total"]
        ncols = max(4, len(layers))
        figure, axes = _figure(figure, 2, ncols, (2.3 * ncols, 5))
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


class ChannelCarriersDisplay:
    """Per layer: each channel's style share against its content share (log-log scatter)."""

    def __init__(self, result) -> None:
        self.result = result

    def plot(self, *, figure: Figure | None = None) -> ChannelCarriersDisplay:
        r = self.result
        layers = list(r.score)
        figure, axes = _figure(figure, 1, len(layers), (2.8 * len(layers), 2.9))
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


class GramEntryDisplay:
    """Per layer: the loss-share matrix and the pixel maps of its top pair."""

    def __init__(self, result) -> None:
        self.result = result

    def plot(self, *, figure: Figure | None = None) -> GramEntryDisplay:
        r = self.result
        layers = list(r.contributions)
        figure, axes = _figure(figure, 3, len(layers), (2.5 * len(layers), 7.2))
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


class DiscriminatorMapsDisplay:
    """Real and generated digits with their discriminator attributions."""

    def __init__(self, result) -> None:
        self.result = result

    def plot(self, *, figure: Figure | None = None, n: int = 6) -> DiscriminatorMapsDisplay:
        r = self.result
        n = max(1, min(n, len(r.real), len(r.fake)))
        figure, axes = _figure(figure, 4, n, (1.4 * n, 6))
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


class LatentClassDisplay:
    """Heatmap: mean attribution of each class logit to each latent dimension."""

    def __init__(self, result) -> None:
        self.result = result

    def plot(self, *, ax: Axes | None = None) -> LatentClassDisplay:
        import matplotlib.pyplot as plt

        r = self.result
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 3.2), layout="constrained")
        a = np.nan_to_num(r.attribution)
        lim = float(np.abs(a).max()) or 1.0
        im = ax.imshow(a, aspect="auto", cmap=CMAP, vmin=-lim, vmax=lim)
        ax.set_yticks(range(10), [f"{d} (n={c})" for d, c in enumerate(r.counts)], fontsize=7)
        ax.set_xlabel("latent dimension")
        ax.set_title("Which latent dimensions decide the class (mean IG of the class logit)", fontsize=9)
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
        self.ax_, self.figure_ = ax, ax.figure
        return self
