"""``*Display`` objects: plots of ``*Result`` data, built lazily; they never call ``plt.show()``.

Pattern from scikit-learn's ``sklearn.inspection`` displays: ``Display.from_result(result)``
collects the data, ``.plot(ax=None)`` draws it and sets ``ax_`` and ``figure_``, returning self.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["GANTrainingDisplay", "TransferLossDisplay"]


@dataclass(eq=False)
class TransferLossDisplay:
    """Loss curves of a style transfer: total, alpha*content and beta*style per evaluation.

    Evaluations of all pyramid levels are laid end to end; dotted lines mark level changes.
    """

    total: np.ndarray
    content: np.ndarray
    style: np.ndarray
    level: np.ndarray
    sizes: list[int]
    alpha: float
    beta: float
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> TransferLossDisplay:
        """Collect the curves of a :class:`~xstyle.transfer.TransferResult`."""
        hist = result.history
        return cls(
            total=np.array([h.total for h in hist]),
            content=np.array([h.content for h in hist]),
            style=np.array([h.style for h in hist]),
            level=np.array([h.level for h in hist]),
            sizes=list(result.config.level_sizes),
            alpha=result.config.alpha,
            beta=result.config.beta,
        )

    def plot(self, *, ax: Axes | None = None, log_scale: bool = True) -> TransferLossDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
        x = np.arange(len(self.total))
        ax.plot(x, self.total, label="total", color="black")
        ax.plot(x, self.content * 1.0, label="content loss (unweighted)", color="tab:blue")
        ax.plot(x, self.style * self.beta, label=f"β·style (β={self.beta:g})", color="tab:red")
        for i in np.flatnonzero(np.diff(self.level)) + 1:
            ax.axvline(i - 0.5, color="grey", linestyle=":", linewidth=1)
            ax.text(i, ax.get_ylim()[1], f"{self.sizes[self.level[i]]} px", fontsize=7, va="top")
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel("optimiser evaluation (all pyramid levels)")
        ax.set_ylabel("loss")
        ax.set_title("Style transfer losses")
        ax.legend(fontsize=8)
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass(eq=False)
class GANTrainingDisplay:
    """Training curves of a DCGAN run: mean losses per epoch and, where measured, the Fréchet
    distance (classifier-feature analogue of FID) against held-out digits."""

    epochs: np.ndarray
    d_loss: np.ndarray
    g_loss: np.ndarray
    fd_epochs: np.ndarray
    frechet: np.ndarray
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_history(cls, history: list[dict]) -> GANTrainingDisplay:
        """``history``: the trainer's per-epoch summaries (``quality_frechet_distance`` optional)."""
        fd = [(h["epoch"], h["quality_frechet_distance"]) for h in history if "quality_frechet_distance" in h]
        return cls(
            epochs=np.array([h["epoch"] for h in history]),
            d_loss=np.array([h["d_loss"] for h in history]),
            g_loss=np.array([h["g_loss"] for h in history]),
            fd_epochs=np.array([e for e, _ in fd]),
            frechet=np.array([v for _, v in fd]),
        )

    def plot(self, *, ax: Axes | None = None) -> GANTrainingDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
        ax.plot(self.epochs, self.d_loss, label="discriminator loss", color="tab:red")
        ax.plot(self.epochs, self.g_loss, label="generator loss", color="tab:blue")
        ax.set_xlabel("epoch")
        ax.set_ylabel("BCE loss (epoch mean)")
        handles, labels = ax.get_legend_handles_labels()
        if len(self.frechet):
            twin = ax.twinx()
            twin.plot(self.fd_epochs, self.frechet, "o-", color="black", label="Fréchet distance (held-out)")
            positive = self.frechet[self.frechet > 0]
            log = len(positive) == len(self.frechet) and positive.max() > 10 * positive.min()
            if log:  # a fall over decades: show the late part too
                twin.set_yscale("log")
            twin.set_ylabel("Fréchet distance (classifier features" + (", log scale)" if log else ")"))
            h2, l2 = twin.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        ax.legend(handles, labels, fontsize=8, loc="upper right")
        ax.set_title("DCGAN training")
        self.ax_, self.figure_ = ax, ax.figure
        return self


# ------------------------------------------------------------------------ latent probes (issue 6)


@dataclass(eq=False)
class ProbeTableDisplay:
    """Heatmap of linear-probe scores: rows are z and the generator's stages, columns attributes.

    ``class`` shows accuracy (chance in its label), the other attributes cross-validated R²; the
    colour scale runs from 0 to 1, so negative R² (worse than guessing the mean) shows as 0.
    """

    stages: list[str]
    attributes: list[str]
    metrics: list[str]
    scores: np.ndarray
    chance: np.ndarray
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> ProbeTableDisplay:
        """Collect the table of a :class:`~xstyle.explain.latent.ProbeTableResult`."""
        return cls(
            stages=list(result.stages),
            attributes=list(result.attributes),
            metrics=list(result.metrics),
            scores=np.asarray(result.scores, dtype=float),
            chance=np.asarray(result.chance, dtype=float),
        )

    def plot(self, *, ax: Axes | None = None) -> ProbeTableDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(
                figsize=(1.2 + 1.05 * len(self.attributes), 1.0 + 0.5 * len(self.stages)),
                layout="constrained",
            )
        image = ax.imshow(np.clip(self.scores, 0, 1), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for i in range(self.scores.shape[0]):
            for j in range(self.scores.shape[1]):
                value = self.scores[i, j]
                ax.text(
                    j,
                    i,
                    "n/a" if np.isnan(value) else f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if value < 0.6 else "black",
                )
        labels = [
            f"{a}\n({m}, chance {c:.2f})" if m != "r2" else f"{a}\n(R²)"
            for a, m, c in zip(self.attributes, self.metrics, self.chance, strict=True)
        ]
        ax.set_xticks(range(len(self.attributes)), labels, fontsize=7)
        ax.set_yticks(range(len(self.stages)), self.stages)
        ax.set_ylabel("probe input (z, then stages)")
        ax.set_title("Linear probes: how readable is each attribute?")
        ax.figure.colorbar(image, ax=ax, label="cross-validated score")
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass(eq=False)
class TraversalDisplay:
    """A grid of generated digits: one row per latent, one column per step along a direction."""

    images: np.ndarray  # (R, S, H, W) in [-1, 1]
    alphas: np.ndarray
    title: str
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result, *, rows: int | None = None) -> TraversalDisplay:
        """Collect the digits of a :class:`~xstyle.explain.traversal.TraversalResult`."""
        images = result.images[:rows] if rows else result.images
        d = result.direction
        parts = [f"{d.label} (score {d.score:.2f})"]
        if result.dominant:
            parts.append(f"moves {result.dominant} most ({result.changes[result.dominant]:.2f} sd/σ)")
        if result.flip_rate is not None:
            parts.append(f"class flips {result.flip_rate:.0%}")
        return cls(
            images=images[:, :, 0].detach().cpu().numpy(),
            alphas=np.asarray(result.alphas, dtype=float),
            title="; ".join(parts),
        )

    def plot(self, *, ax: Axes | None = None) -> TraversalDisplay:
        import matplotlib.pyplot as plt

        r, s, h, w = self.images.shape
        if ax is None:
            _, ax = plt.subplots(figsize=(0.6 * s + 0.6, 0.6 * r + 0.8), layout="constrained")
        import textwrap

        pad = 2
        canvas = np.full((r * (h + pad) - pad, s * (w + pad) - pad), 0.5)  # grey gaps
        for i in range(r):
            for j in range(s):  # white ink on black, as MNIST and the sample grids
                canvas[i * (h + pad) : i * (h + pad) + h, j * (w + pad) : j * (w + pad) + w] = (
                    self.images[i, j] + 1
                ) / 2
        ax.imshow(canvas, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([j * (w + pad) + w / 2 for j in range(s)], [f"{a:+g}σ" for a in self.alphas])
        ax.set_yticks([])
        ax.set_xlabel("step along the direction")
        width_chars = max(30, int(ax.figure.get_figwidth() * 13))  # about 13 characters per inch at 8 pt
        ax.set_title(textwrap.fill(self.title, width_chars), fontsize=8)
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass(eq=False)
class DirectionSimilarityDisplay:
    """Heatmap of signed cosine similarities between latent directions of several methods."""

    labels: list[str]
    cosine: np.ndarray
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> DirectionSimilarityDisplay:
        """Collect the matrix of a :class:`~xstyle.explain.directions.DirectionComparison`."""
        return cls(labels=list(result.labels), cosine=np.asarray(result.cosine, dtype=float))

    def plot(self, *, ax: Axes | None = None) -> DirectionSimilarityDisplay:
        import matplotlib.pyplot as plt

        k = len(self.labels)
        if ax is None:
            _, ax = plt.subplots(figsize=(2.5 + 0.38 * k, 2.0 + 0.34 * k), layout="constrained")
        _signed_heatmap(
            ax,
            self.cosine,
            self.labels,
            fmt="{:.1f}" if k <= 24 else None,
            fontsize=(6, 7),
            rotation=90,
            title="Cosine similarity of latent directions",
            label="cos",
        )
        self.ax_, self.figure_ = ax, ax.figure
        return self


def _signed_heatmap(ax, matrix, labels, *, fmt, fontsize, rotation, title, label) -> None:
    """Draw a square matrix of values in [-1, 1] with ``labels`` on both axes and a colour bar.

    ``fmt`` formats each cell's annotation (None: no annotations; NaN cells read "n/a");
    ``fontsize`` is (annotations, tick labels).
    """
    k = len(labels)
    image = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
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


__all__ += ["DirectionSimilarityDisplay", "ProbeTableDisplay", "TraversalDisplay"]


# ----------------------------------------------------- Gram decompositions and ablation (issue 5)


def _thumb(image) -> np.ndarray:
    """(1, 3, H, W) tensor in [0, 1] -> (H, W, 3) float numpy for imshow."""
    return image[0].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def _thumbnail_figure(n: int, *, width: float = 7.0, curve_height: float = 3.2):
    """A figure with one wide axes on top and ``n`` small image axes below."""
    import matplotlib.pyplot as plt

    thumb_h = width / max(n, 1) + 0.35
    fig = plt.figure(figsize=(width, curve_height + thumb_h), layout="constrained")
    grid = fig.add_gridspec(2, max(n, 1), height_ratios=[curve_height, thumb_h])
    ax = fig.add_subplot(grid[0, :])
    thumbs = [fig.add_subplot(grid[1, i]) for i in range(n)]
    return ax, thumbs


@dataclass(eq=False)
class GramSpectrumDisplay:
    """Eigenvalue spectra of Gram matrices, one line per layer, normalised to sum to 1.

    ``kind="spectrum"``: ``λ_i / Σλ`` against i (log-log); a flat line means many components
    carry the layer's energy, a steep drop a low-rank style. ``kind="cumulative"``: the energy
    captured by the top k components, with the 90 % level dotted.
    """

    layers: list[str]
    spectra: dict[str, np.ndarray]
    participation_ratio: dict[str, float]
    entropy_rank: dict[str, float]
    title: str = "Gram spectra"
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> GramSpectrumDisplay:
        """Collect the spectra of a :class:`~xstyle.explain.gram.GramDecomposition`."""
        spectra, pr, er = {}, {}, {}
        for name in result.layers:
            sp = result.spectra[name]
            lam = sp.eigenvalues.clamp_min(0).numpy()
            spectra[name] = lam / lam.sum()
            pr[name], er[name] = sp.participation_ratio, sp.entropy_rank
        image = result.meta.get("image")
        title = f"Gram spectra of {image}" if image else "Gram spectra"
        return cls(
            layers=list(result.layers), spectra=spectra, participation_ratio=pr, entropy_rank=er, title=title
        )

    def plot(self, *, ax: Axes | None = None, kind: str = "spectrum") -> GramSpectrumDisplay:
        import matplotlib.pyplot as plt

        if kind not in ("spectrum", "cumulative"):
            raise ValueError(f"kind must be 'spectrum' or 'cumulative'; got {kind!r}.")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
        for name in self.layers:
            p = self.spectra[name]
            k = np.arange(1, len(p) + 1)
            pr, er = self.participation_ratio[name], self.entropy_rank[name]
            label = f"{name}: PR {pr:.1f}, erank {er:.0f} of {len(p)}"
            if kind == "spectrum":
                ax.loglog(k, np.clip(p, 1e-12, None), label=label)
            else:
                ax.semilogx(k, np.cumsum(p), label=label)
        if kind == "spectrum":
            ax.set_ylabel("eigenvalue / trace")
        else:
            ax.axhline(0.9, color="grey", linestyle=":", linewidth=1)
            ax.set_ylabel("energy of the top k components")
            ax.set_ylim(0, 1.02)
        ax.set_xlabel("component k")
        ax.set_title(self.title, fontsize=10)
        ax.legend(fontsize=7)
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass(eq=False)
class GramComparisonDisplay:
    """Style loss per layer split into channel power (diagonal) and co-activation (off-diagonal)."""

    layers: list[str]
    diagonal: np.ndarray
    off_diagonal: np.ndarray
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> GramComparisonDisplay:
        """Collect the parts of a :class:`~xstyle.explain.gram.GramComparison`."""
        per = result.per_layer
        return cls(
            layers=list(result.layers),
            diagonal=np.array([per[n].diagonal for n in result.layers]),
            off_diagonal=np.array([per[n].off_diagonal for n in result.layers]),
        )

    def plot(self, *, ax: Axes | None = None) -> GramComparisonDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
        x = np.arange(len(self.layers))
        ax.bar(x, self.diagonal, label="diagonal (channel power)", color="tab:orange")
        ax.bar(
            x, self.off_diagonal, bottom=self.diagonal, label="off-diagonal (co-activation)", color="tab:blue"
        )
        ax.set_xticks(x, self.layers)
        ax.set_ylabel("weighted style loss")
        ax.set_title("Style loss by Gram entry type")
        ax.legend(fontsize=8)
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass(eq=False)
class LowRankDisplay:
    """Style loss (against the full target) of transfers whose Gram targets kept only k components."""

    labels: list[str]
    style_loss: np.ndarray
    content_loss: np.ndarray
    images: list[np.ndarray]
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> LowRankDisplay:
        """Collect a :class:`~xstyle.explain.gram.LowRankResult`."""
        return cls(
            labels=["full" if k is None else str(k) for k in result.ranks],
            style_loss=np.asarray(result.style_loss),
            content_loss=np.asarray(result.content_loss),
            images=[_thumb(im) for im in result.images],
        )

    def plot(self, *, ax: Axes | None = None, thumbnails: bool = True) -> LowRankDisplay:
        import matplotlib.pyplot as plt

        thumbs = []
        if ax is None and thumbnails:
            ax, thumbs = _thumbnail_figure(len(self.labels))
        elif ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
        x = np.arange(len(self.labels))
        ax.semilogy(x, self.style_loss, "o-", color="tab:red", label="style loss vs full target")
        if "full" in self.labels:
            ax.axhline(self.style_loss[self.labels.index("full")], color="grey", linestyle=":", linewidth=1)
        ax.set_xticks(x, self.labels)
        ax.set_xlabel("eigencomponents kept per layer (k)")
        ax.set_ylabel("style loss")
        ax.set_title("How many Gram components carry the style", fontsize=10)
        ax.legend(fontsize=8)
        for t, img, label in zip(thumbs, self.images, self.labels, strict=False):
            t.imshow(img)
            t.set_title(f"k={label}", fontsize=8)
            t.axis("off")
        self.ax_, self.figure_ = ax, ax.figure
        return self


_KIND_COLOURS = {"painting": "tab:red", "photo": "tab:blue", "stylised": "tab:purple", "other": "tab:grey"}


@dataclass(eq=False)
class FingerprintDisplay:
    """2-D map of the images' Gram fingerprints (PCA or MDS of the Gram style distances)."""

    names: list[str]
    kinds: list[str]
    xy: np.ndarray
    method: str
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> FingerprintDisplay:
        """Collect a :class:`~xstyle.explain.gram.FingerprintResult`."""
        return cls(
            names=list(result.names),
            kinds=list(result.kinds),
            xy=np.asarray(result.embedding),
            method=result.method,
        )

    def plot(self, *, ax: Axes | None = None) -> FingerprintDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
        for kind in dict.fromkeys(self.kinds):
            idx = [i for i, k in enumerate(self.kinds) if k == kind]
            ax.scatter(self.xy[idx, 0], self.xy[idx, 1], color=_KIND_COLOURS.get(kind, "black"), label=kind)
        for (x, y), name in zip(self.xy, self.names, strict=True):
            ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(f"{self.method.upper()} 1")
        ax.set_ylabel(f"{self.method.upper()} 2")
        ax.set_title("Style fingerprints (Gram distances)", fontsize=10)
        ax.legend(fontsize=8)
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass(eq=False)
class StatisticsAgreementDisplay:
    """Spearman rank correlation between style statistics, over the distances of all image pairs."""

    statistics: list[str]
    agreement: np.ndarray
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> StatisticsAgreementDisplay:
        """Collect a :class:`~xstyle.explain.gram.FingerprintResult`."""
        return cls(statistics=list(result.statistics), agreement=np.asarray(result.agreement, dtype=float))

    def plot(self, *, ax: Axes | None = None) -> StatisticsAgreementDisplay:
        import matplotlib.pyplot as plt

        k = len(self.statistics)
        if ax is None:
            _, ax = plt.subplots(figsize=(2.5 + 0.6 * k, 2.0 + 0.5 * k), layout="constrained")
        _signed_heatmap(
            ax,
            self.agreement,
            self.statistics,
            fmt="{:.2f}",
            fontsize=(7, 8),
            rotation=45,
            title="Agreement of style statistics (Spearman)",
            label="ρ",
        )
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass(eq=False)
class AblationCurveDisplay:
    """Relative change of the style and content losses against the number of channels removed.

    One line per ranking. Two panels by default (style, content); given one Axes, style is drawn
    solid and content dashed on it. Where a loss was 0 before, the absolute loss is plotted.
    """

    layer: str
    mode: str
    counts: np.ndarray
    style: dict[str, np.ndarray]
    content: dict[str, np.ndarray]
    relative: dict[str, bool]
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> AblationCurveDisplay:
        """Collect the curves of a :class:`~xstyle.explain.ablation.AblationResult`."""
        rel = {"style": result.style_before > 0, "content": result.content_before > 0}
        style, content = {}, {}
        for name in result.style_after:
            style[name] = (
                result.relative("style", name) if rel["style"] else np.asarray(result.style_after[name])
            )
            content[name] = (
                result.relative("content", name) if rel["content"] else np.asarray(result.content_after[name])
            )
        return cls(
            layer=result.layer,
            mode=result.mode,
            counts=np.asarray(result.counts),
            style=style,
            content=content,
            relative=rel,
        )

    def plot(self, *, ax: Axes | None = None) -> AblationCurveDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, axes = plt.subplots(1, 2, figsize=(8.5, 3.5), layout="constrained")
        elif isinstance(ax, (list, tuple, np.ndarray)):
            axes = list(ax)
        else:
            axes = [ax]
        colours = {
            "gram": "tab:red",
            "attribution": "tab:orange",
            "content_attribution": "tab:blue",
            "captum_ig": "tab:green",
            "captum_style": "tab:purple",
            "random": "grey",
        }
        panels = [("style", self.style), ("content", self.content)]
        for i, (loss, curves) in enumerate(panels):
            target = axes[min(i, len(axes) - 1)]
            style = "-" if i == 0 or len(axes) > 1 else "--"
            for name, values in curves.items():
                label = name if len(axes) > 1 else f"{name} ({loss})"
                target.plot(
                    self.counts, values, style, marker="o", ms=3, label=label, color=colours.get(name)
                )
            target.set_xscale("log", base=2)
            target.set_xlabel(f"channels of {self.layer} {self.mode}-ablated")
            what = "relative change" if self.relative[loss] else "value"
            target.set_ylabel(f"{loss} loss, {what}" if len(axes) > 1 else "relative loss change")
            if len(axes) > 1:
                target.set_title(f"{loss.capitalize()} loss", fontsize=10)
            target.axhline(0, color="black", linewidth=0.6)
        axes[0].legend(fontsize=7)
        self.ax_ = axes if len(axes) > 1 else axes[0]
        self.figure_ = axes[0].figure
        return self


@dataclass(eq=False)
class TradeoffDisplay:
    """The style/content trade-off: style loss against content loss over β/α, knee marked.

    Read from the top left (small β/α: the photo) to the bottom right (large β/α: stylised); the
    knee (red ring) is where extra style weight starts to cost much content for little style.
    Axes are linear, as the knee is found in linear coordinates.
    """

    ratios: np.ndarray
    content: np.ndarray
    style: np.ndarray
    ssim: np.ndarray
    knee: int | None
    images: list[np.ndarray]
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> TradeoffDisplay:
        """Collect a :class:`~xstyle.explain.tradeoff.TradeoffResult`."""
        return cls(
            ratios=np.asarray(result.ratios),
            content=np.asarray(result.content_loss),
            style=np.asarray(result.style_loss),
            ssim=np.asarray(result.ssim),
            knee=result.knee,
            images=[_thumb(im) for im in result.images],
        )

    def plot(self, *, ax: Axes | None = None, thumbnails: bool = True) -> TradeoffDisplay:
        import matplotlib.pyplot as plt

        thumbs = []
        if ax is None and thumbnails:
            ax, thumbs = _thumbnail_figure(len(self.ratios), width=8.0)
        elif ax is None:
            _, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
        ax.plot(self.content, self.style, "o-", color="black")
        for x, y, r in zip(self.content, self.style, self.ratios, strict=True):
            ax.annotate(f"β/α={r:.2g}", (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
        if self.knee is not None:
            ax.plot(
                self.content[self.knee],
                self.style[self.knee],
                "o",
                ms=14,
                mfc="none",
                mec="red",
                mew=2,
                label="knee",
            )
            ax.legend(fontsize=8)
        ax.ticklabel_format(style="sci", scilimits=(-3, 3))
        ax.set_xlabel("content loss (unweighted)")
        ax.set_ylabel("style loss (unweighted)")
        ax.set_title("Style/content trade-off over β/α", fontsize=10)
        for i, (t, img) in enumerate(zip(thumbs, self.images, strict=False)):
            t.imshow(img)
            mark = " (knee)" if i == self.knee else ""
            t.set_title(
                f"β/α={self.ratios[i]:.2g}{mark}\nSSIM {self.ssim[i]:.2f}",
                fontsize=7,
                color="red" if mark else "black",
            )
            t.axis("off")
        self.ax_, self.figure_ = ax, ax.figure
        return self


__all__ += [
    "AblationCurveDisplay",
    "FingerprintDisplay",
    "GramComparisonDisplay",
    "GramSpectrumDisplay",
    "LowRankDisplay",
    "StatisticsAgreementDisplay",
    "TradeoffDisplay",
]


# ------------------------------------------------------------ probe training dynamics (issue 6)


@dataclass(eq=False)
class ProbeDynamicsDisplay:
    """Probe score against training epoch: one panel per generator stage, one line per attribute.

    ``class`` shows accuracy (its chance level dashed in the same colour), the other attributes
    cross-validated R²; the y axis runs from 0 to 1, so negative R² shows at the bottom edge.
    """

    epochs: np.ndarray
    stages: list[str]
    attributes: list[str]
    metrics: list[str]
    scores: np.ndarray  # (A, S, E) for the stages shown
    chance: np.ndarray  # (A, E)
    axes_: object = field(default=None, init=False)
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result, *, stages=None) -> ProbeDynamicsDisplay:
        """Collect a :class:`~xstyle.explain.dynamics.ProbeDynamicsResult` (``stages``: the panels)."""
        names = list(result.stages) if stages is None else list(stages)
        bad = [s for s in names if s not in result.stages]
        if bad or not names:
            raise ValueError(f"stages must be a non-empty subset of {list(result.stages)}; got {names!r}.")
        idx = [list(result.stages).index(s) for s in names]
        return cls(
            epochs=np.asarray(result.epochs),
            stages=names,
            attributes=list(result.attributes),
            metrics=list(result.metrics),
            scores=np.asarray(result.scores, dtype=float)[:, idx],
            chance=np.asarray(result.chance, dtype=float),
        )

    def plot(self, *, axes: Sequence[Axes] | None = None) -> ProbeDynamicsDisplay:
        import matplotlib.pyplot as plt

        k = len(self.stages)
        if axes is None:
            _, axes = plt.subplots(
                1, k, figsize=(0.6 + 2.9 * k, 3.4), sharey=True, layout="constrained", squeeze=False
            )
            axes = list(axes[0])
        else:
            axes = list(np.atleast_1d(axes))
            if len(axes) != k:
                raise ValueError(f"axes must hold {k} axes, one per stage; got {len(axes)}.")
        colors = plt.get_cmap("tab10")
        for s, (ax, stage) in enumerate(zip(axes, self.stages, strict=True)):
            for a, (attr, metric) in enumerate(zip(self.attributes, self.metrics, strict=True)):
                label = f"{attr} (accuracy)" if metric != "r2" else f"{attr} (R²)"
                values = np.clip(self.scores[a, s], -0.02, 1.0)
                ax.plot(self.epochs, values, "o-", ms=3, color=colors(a % 10), label=label)
                if metric != "r2":  # chance level of the accuracy, dotted, where it was probed
                    chance = np.where(np.isfinite(self.scores[a, s]), self.chance[a], np.nan)
                    ax.plot(self.epochs, chance, ":", lw=1, color=colors(a % 10))
            ax.set_ylim(-0.05, 1.02)
            ax.set_xlabel("epoch")
            ax.set_title(f"read from {stage}", fontsize=9)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("cross-validated probe score")
        axes[-1].legend(fontsize=7, loc="best")
        axes[0].figure.suptitle("When does each attribute become linearly readable?", fontsize=10)
        self.axes_, self.ax_, self.figure_ = axes, axes[0], axes[0].figure
        return self


__all__ += ["ProbeDynamicsDisplay"]


# ---------------------------------------------------------------- latent prior components (GAN)


@dataclass(eq=False)
class PriorComponentsDisplay:
    """Heatmap: share of each prior component's digits (rows) predicted as each digit (columns).

    Row labels give the component's confident share; a pure component is one bright cell per row,
    a component split between two digits shows two cells.
    """

    result: object
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    def plot(self, *, ax: Axes | None = None) -> PriorComponentsDisplay:
        import matplotlib.pyplot as plt

        r = self.result
        counts = np.asarray(r.counts, dtype=float)
        shares = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
        k = shares.shape[0]
        if ax is None:
            _, ax = plt.subplots(figsize=(5.2, 0.9 + 0.32 * k), layout="constrained")
        im = ax.imshow(shares, aspect="auto", cmap="Blues", vmin=0, vmax=1)
        for (i, j), share in np.ndenumerate(shares):
            if share >= 0.1:
                ax.text(
                    j,
                    i,
                    f"{share:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if share > 0.6 else "black",
                )
        ax.set_xticks(range(10))
        ax.set_xlabel("predicted digit")
        labels = [f"{i} ({100 * c:.0f} % conf.)" for i, c in enumerate(np.asarray(r.confident))]
        ax.set_yticks(range(k), labels, fontsize=7)
        ax.set_ylabel("prior component")
        ax.set_title(f"Which digit each component of the prior {r.prior!r} became", fontsize=9)
        ax.figure.colorbar(im, ax=ax, shrink=0.8, label="share of the component's digits")
        self.ax_, self.figure_ = ax, ax.figure
        return self


__all__ += ["PriorComponentsDisplay"]


# ---------------------------------------------------------------------------- stylizer (issue 8)


def _hwc(image) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] -> (H, W, 3) array."""
    t = image[0] if image.ndim == 4 else image
    return t.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def _signed_limits(values: np.ndarray) -> float:
    v = float(np.nanpercentile(np.abs(values), 99)) if values.size else 1.0
    return v if v > 0 else 1.0


@dataclass(eq=False)
class StylizerTrainingDisplay:
    """Loss curves of a stylizer run: content, style, TV and adversarial losses, and D's outputs,
    per step (thin) with a moving average (thick)."""

    step: np.ndarray
    curves: dict
    d_real: np.ndarray
    d_fake: np.ndarray
    window: int = 20
    axes_: object = field(default=None, init=False)
    ax_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_steps(cls, steps: list[dict], *, window: int = 20) -> StylizerTrainingDisplay:
        """Collect the curves from a trainer's per-step history (``StylizerTrainer.steps``)."""
        if not steps:
            raise ValueError("steps is empty: the run has no recorded step.")
        get = lambda k: np.array([s.get(k, np.nan) for s in steps], dtype=float)  # noqa: E731
        curves = {k: get(k) for k in ("content", "style", "tv", "adversarial", "d_loss")}
        return cls(step=get("step"), curves=curves, d_real=get("d_real"), d_fake=get("d_fake"), window=window)

    def _smooth(self, y: np.ndarray) -> np.ndarray:
        """Trailing mean over up to ``window`` steps (fewer at the start)."""
        c = np.concatenate([[0.0], np.cumsum(y)])
        idx = np.arange(1, len(y) + 1)
        lo = np.maximum(0, idx - max(1, self.window))
        return (c[idx] - c[lo]) / (idx - lo)

    def plot(self, *, axes: Sequence[Axes] | None = None) -> StylizerTrainingDisplay:
        import matplotlib.pyplot as plt

        if axes is None:
            _, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
        axes = list(np.atleast_1d(axes))
        if len(axes) != 3:
            raise ValueError(f"axes must hold 3 axes; got {len(axes)}.")
        titles = (("content", "content loss"), ("style", "style loss"))
        for ax, (key, title) in zip(axes[:2], titles, strict=True):
            y = self.curves[key]
            ax.plot(self.step, y, color="tab:blue" if key == "content" else "tab:red", alpha=0.3, lw=0.8)
            ax.plot(self.step, self._smooth(y), color="tab:blue" if key == "content" else "tab:red", lw=1.8)
            ax.set_yscale("log")
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("step")
        ax = axes[2]
        if np.nanmax(np.abs(self.curves["adversarial"])) > 0:
            ax.plot(self.step, self._smooth(self.curves["adversarial"]), label="G: BCE(D(fake), 1)")
            ax.plot(self.step, self._smooth(self.curves["d_loss"]), label="D loss")
            ax.plot(self.step, self._smooth(self.d_real), ":", label="D(real patch)")
            ax.plot(self.step, self._smooth(self.d_fake), ":", label="D(stylised patch)")
            ax.legend(fontsize=7)
            ax.set_title("adversarial term", fontsize=10)
        else:
            ax.text(
                0.5,
                0.5,
                "no adversarial term\n(adv_weight = 0)",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            ax.set_title("adversarial term", fontsize=10)
        ax.set_xlabel("step")
        self.axes_, self.ax_, self.figure_ = axes, axes[0], axes[0].figure
        return self


@dataclass(eq=False)
class StylizerAttributionDisplay:
    """Input photo, stylised output, and where in the input the output's style and content come from."""

    content: np.ndarray
    output: np.ndarray
    style_evidence: np.ndarray
    content_evidence: np.ndarray
    dominance: np.ndarray
    axes_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> StylizerAttributionDisplay:
        return cls(
            content=_hwc(result.content),
            output=_hwc(result.output),
            style_evidence=result.style_evidence.float().numpy(),
            content_evidence=result.content_evidence.float().numpy(),
            dominance=result.dominance.float().numpy(),
        )

    def plot(self, *, figure: Figure | None = None) -> StylizerAttributionDisplay:
        import matplotlib.pyplot as plt

        fig = figure or plt.figure(figsize=(13, 3.0), layout="constrained")
        axes = fig.subplots(1, 5)
        panels = (
            (self.content, "input photo", None),
            (self.output, "stylizer output", None),
            (self.style_evidence, "style-loss evidence\n(input pixels)", "RdBu_r"),
            (self.content_evidence, "content-loss evidence\n(input pixels)", "RdBu_r"),
            (self.dominance, "style − content\n(red: style wins)", "RdBu_r"),
        )
        for ax, (data, title, cmap) in zip(axes, panels, strict=True):
            if cmap is None:
                ax.imshow(data)
            else:
                v = _signed_limits(data)
                im = ax.imshow(data, cmap=cmap, vmin=-v, vmax=v)
                fig.colorbar(im, ax=ax, shrink=0.7)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        self.axes_, self.figure_ = list(axes), fig
        return self


@dataclass(eq=False)
class DiscriminatorPatchDisplay:
    """Each judged image with the discriminator's patch probability of "in style" on top."""

    images: dict
    probability: dict
    mean_probability: dict
    pixel_map: np.ndarray | None
    axes_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> DiscriminatorPatchDisplay:
        return cls(
            images={k: _hwc(v) for k, v in result.images.items()},
            probability={k: v.float().numpy() for k, v in result.probability.items()},
            mean_probability=dict(result.mean_probability),
            pixel_map=None if result.pixel_map is None else result.pixel_map.float().numpy(),
        )

    def plot(self, *, figure: Figure | None = None) -> DiscriminatorPatchDisplay:
        import matplotlib.pyplot as plt

        n = len(self.images) + (self.pixel_map is not None)
        fig = figure or plt.figure(figsize=(3.1 * n, 3.2), layout="constrained")
        axes = list(np.atleast_1d(fig.subplots(1, n)))
        names = {"output": "stylizer output", "content": "photo", "style": "painting"}
        for ax, (key, img) in zip(axes, self.images.items(), strict=False):
            h, w = img.shape[:2]
            ax.imshow(img)
            im = ax.imshow(
                self.probability[key],
                cmap="viridis",
                vmin=0,
                vmax=1,
                alpha=0.55,
                extent=(0, w, h, 0),
                interpolation="nearest",
            )
            ax.set_title(f"{names.get(key, key)}\nP(in style) = {self.mean_probability[key]:.2f}", fontsize=9)
            ax.axis("off")
        fig.colorbar(im, ax=axes[: len(self.images)], shrink=0.7, label="D: P(patch of the painting)")
        if self.pixel_map is not None:
            ax = axes[-1]
            v = _signed_limits(self.pixel_map)
            im2 = ax.imshow(self.pixel_map, cmap="RdBu_r", vmin=-v, vmax=v)
            ax.set_title("IG of D's mean logit\n(red: looks like the painting)", fontsize=9)
            ax.axis("off")
            fig.colorbar(im2, ax=ax, shrink=0.7)
        self.axes_, self.figure_ = axes, fig
        return self


@dataclass(eq=False)
class BlockAblationDisplay:
    """Style- and content-loss change per ablated residual block, the ablated outputs and, where
    measured, the style-loss change per ablated channel."""

    blocks: list
    style_change: np.ndarray
    content_change: np.ndarray
    images: dict
    channels: dict
    axes_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> BlockAblationDisplay:
        blocks = list(result.blocks)
        return cls(
            blocks=blocks,
            style_change=np.array([result.blocks[b]["style_change"] for b in blocks]),
            content_change=np.array([result.blocks[b]["content_change"] for b in blocks]),
            images={k: _hwc(v) for k, v in result.images.items()},
            channels={k: v.float().numpy() for k, v in result.channel_style_change.items()},
        )

    def plot(self, *, figure: Figure | None = None) -> BlockAblationDisplay:
        import matplotlib.pyplot as plt

        k = len(self.images)
        rows = 3 if self.channels else 2
        fig = figure or plt.figure(figsize=(max(8.0, 2.2 * k), 2.6 * rows), layout="constrained")
        grid = fig.add_gridspec(rows, k)
        ax = fig.add_subplot(grid[0, :])
        x = np.arange(len(self.blocks))
        ax.bar(x - 0.2, 100 * self.style_change, 0.4, color="tab:red", label="style loss")
        ax.bar(x + 0.2, 100 * self.content_change, 0.4, color="tab:blue", label="content loss")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(x, [f"{b} ablated" for b in self.blocks])
        ax.set_ylabel("change, %")
        ax.set_title("Which residual block carries the style? (branch zero-ablated)", fontsize=10)
        ax.legend(fontsize=8)
        axes = [ax]
        for i, (name, img) in enumerate(self.images.items()):
            a = fig.add_subplot(grid[1, i])
            a.imshow(img)
            a.set_title(name if name == "intact" else f"without {name}", fontsize=9)
            a.axis("off")
            axes.append(a)
        if self.channels:
            a = fig.add_subplot(grid[2, :])
            data = np.stack([self.channels[b] for b in self.channels])
            v = _signed_limits(data)
            im = a.imshow(100 * data, aspect="auto", cmap="RdBu_r", vmin=-100 * v, vmax=100 * v)
            a.set_yticks(range(len(self.channels)), list(self.channels))
            a.set_xlabel("channel of the block's residual branch")
            a.set_title("style-loss change when one channel is ablated (%)", fontsize=9)
            fig.colorbar(im, ax=a, shrink=0.8)
            axes.append(a)
        self.axes_, self.figure_ = axes, fig
        return self


@dataclass
class StylizerComparisonDisplay:
    """Side by side per photo: the photo and several stylisations (e.g. stylizer with and without the
    adversarial term, optimisation transfer), each titled with its style loss, content loss and SSIM."""

    photos: dict
    outputs: dict  # method -> {photo: (H, W, 3)}
    numbers: dict  # method -> {photo: {"style", "content", "ssim"}}
    axes_: object = field(default=None, init=False)
    figure_: object = field(default=None, init=False)

    @classmethod
    def from_images(cls, photos: dict, outputs: dict, numbers: dict) -> StylizerComparisonDisplay:
        """``photos``: name -> (1, 3, H, W); ``outputs``: method -> name -> image; ``numbers`` alike."""
        return cls(
            photos={k: _hwc(v) for k, v in photos.items()},
            outputs={m: {k: _hwc(v) for k, v in imgs.items()} for m, imgs in outputs.items()},
            numbers=numbers,
        )

    def plot(self, *, figure: Figure | None = None) -> StylizerComparisonDisplay:
        import matplotlib.pyplot as plt

        names, methods = list(self.photos), list(self.outputs)
        cols = 1 + len(methods)
        fig = figure or plt.figure(figsize=(2.8 * cols, 2.9 * len(names)), layout="constrained")
        axes = np.atleast_2d(fig.subplots(len(names), cols, squeeze=False))
        for r, name in enumerate(names):
            axes[r, 0].imshow(self.photos[name])
            axes[r, 0].set_title(f"{name} (photo)", fontsize=8)
            for c, method in enumerate(methods, start=1):
                axes[r, c].imshow(self.outputs[method][name])
                n = self.numbers.get(method, {}).get(name, {})
                label = method
                if n:
                    label += f"\nstyle {n['style']:.3g}  content {n['content']:.3g}  SSIM {n['ssim']:.2f}"
                axes[r, c].set_title(label, fontsize=7)
        for a in axes.ravel():
            a.axis("off")
        self.axes_, self.figure_ = axes, fig
        return self


__all__ += [
    "BlockAblationDisplay",
    "DiscriminatorPatchDisplay",
    "StylizerAttributionDisplay",
    "StylizerComparisonDisplay",
    "StylizerTrainingDisplay",
]
