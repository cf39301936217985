"""Displays of the GAN explanations: discriminator maps, probes, traversals, directions, dynamics, prior.

See :mod:`xstyle._plotting` for the Display protocol (``from_result`` then ``plot(ax=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from xstyle._plotting import CMAP, Display, SignedHeatmapDisplay, _figure, _np, _show_map

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes

__all__ = [
    "AnalogyDisplay",
    "DirectionSimilarityDisplay",
    "DiscriminatorMapsDisplay",
    "GanStyleDisplay",
    "LatentClassDisplay",
    "PriorComponentsDisplay",
    "ProbeDynamicsDisplay",
    "ProbeTableDisplay",
    "TraversalDisplay",
]


@dataclass(eq=False)
class ProbeTableDisplay(Display):
    """Heatmap of linear-probe scores: rows are z and the generator's stages, columns attributes.

    ``class`` shows accuracy (chance in its label), the other attributes cross-validated R²; the
    colour scale runs from 0 to 1, so negative R² (worse than guessing the mean) shows as 0.
    """

    stages: list[str]
    attributes: list[str]
    metrics: list[str]
    scores: np.ndarray
    chance: np.ndarray

    @classmethod
    def from_result(cls, result) -> ProbeTableDisplay:
        """Collect the table of a :class:`~xstyle.explain.gan.probes.ProbeTableResult`."""
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
        return self._drawn(ax)


@dataclass(eq=False)
class TraversalDisplay(Display):
    """A grid of generated digits: one row per latent, one column per step along a direction."""

    images: np.ndarray  # (R, S, H, W) in [-1, 1]
    alphas: np.ndarray
    title: str

    @classmethod
    def from_result(cls, result, *, rows: int | None = None) -> TraversalDisplay:
        """Collect the digits of a :class:`~xstyle.explain.gan.traversal.TraversalResult`."""
        images = result.images[:rows] if rows else result.images
        d = result.direction
        parts = [f"{d.label} (score {d.score:.2f})"]
        if result.dominant:
            parts.append(f"moves {result.dominant} most ({result.changes[result.dominant]:.2f} sd/σ)")
        if result.flip_rate is not None:
            parts.append(f"class flips {result.flip_rate:.0%}")
        return cls(
            images=_pixels(images),
            alphas=np.asarray(result.alphas, dtype=float),
            title="; ".join(parts),
        )

    def plot(self, *, ax: Axes | None = None) -> TraversalDisplay:
        import matplotlib.pyplot as plt

        r, s, h, w = self.images.shape[:4]
        if ax is None:
            _, ax = plt.subplots(figsize=(0.6 * s + 0.6, 0.6 * r + 0.8), layout="constrained")
        import textwrap

        pad = 2
        canvas = np.full((r * (h + pad) - pad, s * (w + pad) - pad, *self.images.shape[4:]), 0.5)  # grey gaps
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
        return self._drawn(ax)


@dataclass(eq=False)
class DirectionSimilarityDisplay(SignedHeatmapDisplay):
    """Heatmap of signed cosine similarities between latent directions of several methods
    (``from_result``: a :class:`~xstyle.explain.gan.directions.DirectionComparison`)."""

    labels: list[str]
    cosine: np.ndarray

    _fields = ("labels", "cosine")

    def plot(self, *, ax: Axes | None = None) -> DirectionSimilarityDisplay:
        """Draw the matrix (cells annotated up to 24 directions)."""
        return self._heatmap(
            ax,
            title="Cosine similarity of latent directions",
            label="cos",
            fmt="{:.1f}" if len(self.labels) <= 24 else None,
            fontsize=(6, 7),
            rotation=90,
            cell=(0.38, 0.34),
        )


@dataclass(eq=False)
class ProbeDynamicsDisplay(Display):
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

    @classmethod
    def from_result(cls, result, *, stages=None) -> ProbeDynamicsDisplay:
        """Collect a :class:`~xstyle.explain.gan.dynamics.ProbeDynamicsResult` (``stages``: the panels)."""
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

    def plot(self, *, ax: Sequence[Axes] | None = None) -> ProbeDynamicsDisplay:
        """``ax``: one Axes per stage (a sequence or array)."""
        import matplotlib.pyplot as plt

        axes = ax

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
        return self._drawn(panels=axes)


@dataclass(eq=False)
class PriorComponentsDisplay(Display):
    """Heatmap: share of each prior component's digits (rows) predicted as each digit (columns).

    Row labels give the component's confident share; a pure component is one bright cell per row,
    a component split between two digits shows two cells.
    """

    result: object

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
        return self._drawn(ax)


class LatentClassDisplay(Display):
    """Heatmap: mean attribution of each class logit to each latent dimension."""

    def plot(self, *, ax: Axes | None = None) -> LatentClassDisplay:
        import matplotlib.pyplot as plt

        r = self.result
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 3.2), layout="constrained")
        a = np.nan_to_num(r.attribution)
        lim = float(np.abs(a).max()) or 1.0
        im = ax.imshow(a, aspect="auto", cmap=CMAP, vmin=-lim, vmax=lim)
        ax.set_yticks(range(len(r.counts)), [f"{d} (n={c})" for d, c in enumerate(r.counts)], fontsize=7)
        ax.set_xlabel("latent dimension")
        ax.set_title("Which latent dimensions decide the class (mean IG of the class logit)", fontsize=9)
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
        return self._drawn(ax)


class DiscriminatorMapsDisplay(Display):
    """Real and generated digits with their discriminator attributions."""

    def plot(self, *, ax: Any = None, n: int = 6) -> DiscriminatorMapsDisplay:
        r = self.result
        n = max(1, min(n, len(r.real), len(r.fake)))
        figure, axes = _figure(4, n, (1.4 * n, 6), ax=ax)
        for k in range(n):
            for row, (digits, maps, logits, name) in enumerate(
                ((r.real, r.real_maps, r.real_logits, "real"), (r.fake, r.fake_maps, r.fake_logits, "fake"))
            ):
                ax = axes[2 * row, k]
                ax.imshow((_pixels(digits[k]) + 1) / 2, cmap="gray", vmin=0, vmax=1)
                ax.set_title(f"{name} D={float(logits[k]):.1f}", fontsize=7)
                ax.set_axis_off()
                _show_map(axes[2 * row + 1, k], maps[k], title="")
        figure.suptitle("Discriminator attributions (red: looks real, blue: looks fake)", fontsize=9)
        return self._drawn(panels=axes)


def _pixels(images: Any) -> np.ndarray:
    """(..., C, H, W) images -> (..., H, W) for one channel, (..., H, W, 3) for colour (numpy)."""
    a = _np(images)
    return a[..., 0, :, :] if a.shape[-3] == 1 else np.moveaxis(a[..., :3, :, :], -3, -1)


def _digit_canvas(digits: np.ndarray, pad: int = 2) -> np.ndarray:
    """(R, C, 28, 28) digits (or (R, C, H, W, 3) colour images) in [-1, 1] -> one image in [0, 1],
    white gaps."""
    r, c, h, w = digits.shape[:4]
    canvas = np.ones((r * (h + pad) - pad, c * (w + pad) - pad, *digits.shape[4:]))
    for i in range(r):
        for j in range(c):
            canvas[i * (h + pad) : i * (h + pad) + h, j * (w + pad) : j * (w + pad) + w] = (
                digits[i, j] + 1
            ) / 2
    return canvas


@dataclass(eq=False)
class AnalogyDisplay(Display):
    """One z per row written as every digit (the label carries the content, z the handwriting),
    and the reverse: one digit written with many z."""

    analogies: np.ndarray  # (R, C, 28, 28) in [-1, 1]
    reverse: np.ndarray  # (M, 28, 28)
    reverse_digit: int

    @classmethod
    def from_result(cls, result, *, rows: int | None = None) -> AnalogyDisplay:
        """Collect the digits of a :class:`~xstyle.explain.gan.gan_style.GanStyleResult`."""
        a = _pixels(result.analogies)
        return cls(
            analogies=a[:rows] if rows else a,
            reverse=_pixels(result.reverse),
            reverse_digit=result.reverse_digit,
        )

    def plot(self, *, ax: Any = None) -> AnalogyDisplay:
        """``ax``: two Axes (the grid, the reverse row)."""
        r, c = self.analogies.shape[:2]
        m = len(self.reverse)
        if ax is None:
            import matplotlib.pyplot as plt

            figure = plt.figure(figsize=(0.42 * max(c, m / 2) + 1.2, 0.42 * r + 1.6), layout="constrained")
            axes = np.asarray(figure.subplots(2, 1, height_ratios=(r, max(1, m // c + 1))), dtype=object)
        else:
            axes = np.asarray(ax, dtype=object).ravel()
            figure = axes[0].figure
        grid = axes[0]
        grid.imshow(_digit_canvas(self.analogies), cmap="gray", vmin=0, vmax=1)
        step = self.analogies.shape[3] + 2
        grid.set_xticks([j * step + step // 2 for j in range(c)], [str(j) for j in range(c)])
        grid.set_yticks([i * step + step // 2 for i in range(r)], [f"z{i + 1}" for i in range(r)], fontsize=7)
        grid.set_xlabel("label (the content)")
        grid.set_ylabel("latent z (the style)")
        grid.set_title("Analogies: each row keeps its z, each column its label", fontsize=10)
        per_row = max(c, 1)
        rows = -(-m // per_row)
        pad_to = np.full((rows, per_row, *self.reverse.shape[1:]), 1.0)
        pad_to.reshape(-1, *self.reverse.shape[1:])[:m] = self.reverse
        axes[1].imshow(_digit_canvas(pad_to), cmap="gray", vmin=0, vmax=1)
        axes[1].set_axis_off()
        axes[1].set_title(f"The digit {self.reverse_digit} written with {m} latents", fontsize=9)
        return self._drawn(grid, panels=axes)


@dataclass(eq=False)
class GanStyleDisplay(Display):
    """Style versus content in a conditional DCGAN: variance shares, attribution shares, content
    control, the Gram ratio and where the generator mixes the two inputs."""

    measures: list[str]
    variance: dict[str, dict[str, Any]]
    attribution: dict[str, dict[str, Any]]
    agreement: np.ndarray
    gram: dict[str, dict[str, Any]]
    mixing: dict[str, dict[str, float]]

    @classmethod
    def from_result(cls, result) -> GanStyleDisplay:
        """Collect the numbers of a :class:`~xstyle.explain.gan.gan_style.GanStyleResult`."""
        return cls(
            measures=list(result.variance),
            variance=result.variance,
            attribution=result.attribution,
            agreement=np.asarray(result.agreement, dtype=float),
            gram=result.gram,
            mixing=result.mixing,
        )

    def plot(self, *, ax: Any = None) -> GanStyleDisplay:
        """``ax``: five Axes (variance, attribution, agreement, Gram, mixing)."""
        _, axes = _figure(1, 5, (19, 3.6), ax=ax)
        axes = axes[0]
        x = np.arange(len(self.measures))
        for offset, key, colour in ((-0.2, "z", "tab:purple"), (0.2, "label", "tab:orange")):
            vals = np.array([self.variance[m][key] for m in self.measures])
            ci = np.array([self.variance[m][f"{key}_ci"] for m in self.measures]).T
            axes[0].bar(
                x + offset,
                vals,
                0.4,
                color=colour,
                label=f"explained by {key}",
                yerr=np.abs(ci - vals),
                capsize=2,
            )
        axes[0].set_xticks(x, self.measures, rotation=30)
        axes[0].set_ylim(0, 1)
        axes[0].set_title("Variance of each measure: z or label?", fontsize=10)
        axes[0].legend(fontsize=7)
        names = list(self.attribution)
        share = np.array([self.attribution[n]["label_share"] for n in names])
        axes[1].bar(np.arange(len(names)), share, color="tab:orange")
        axes[1].bar(np.arange(len(names)), 1 - share, bottom=share, color="tab:purple")
        axes[1].set_xticks(np.arange(len(names)), names, rotation=30)
        axes[1].set_ylim(0, 1)
        axes[1].set_title("IG attribution: label (orange) vs z (purple)", fontsize=10)
        axes[2].bar(np.arange(len(self.agreement)), 100 * self.agreement, color="tab:green")
        axes[2].set_xticks(np.arange(len(self.agreement)))
        axes[2].set_ylim(0, 100)
        axes[2].set_xlabel("requested digit")
        axes[2].set_title("Classified as the requested digit, %", fontsize=10)
        layers = list(self.gram)
        for offset, key, colour, label in (
            (-0.2, "ratio", "tab:red", "Gram"),
            (0.2, "feature_ratio", "tab:gray", "features"),
        ):
            vals = np.array([self.gram[layer][key] for layer in layers])
            ci = np.array([self.gram[layer][f"{key}_ci"] for layer in layers]).T
            axes[3].bar(
                np.arange(len(layers)) + offset,
                vals,
                0.4,
                color=colour,
                label=label,
                yerr=np.abs(ci - vals),
                capsize=2,
            )
        axes[3].axhline(1, color="black", lw=0.8)
        axes[3].set_xticks(np.arange(len(layers)), layers)
        axes[3].set_title("distance same z / same label (<1: style)", fontsize=10)
        axes[3].legend(fontsize=7)
        stages = list(self.mixing)
        for key, colour in (("z", "tab:purple"), ("label", "tab:orange"), ("interaction", "tab:gray")):
            axes[4].plot(stages, [self.mixing[s][key] for s in stages], "o-", color=colour, label=key)
        axes[4].set_ylim(0, 1)
        axes[4].set_title("Share of each generator stage's variation", fontsize=10)
        axes[4].legend(fontsize=7)
        return self._drawn(panels=axes)
