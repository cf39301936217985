"""Displays of the style explanations: style/content maps, carrier channels, Gram
entries, Gram spectra, low-rank styles, fingerprints, ablation, trade-off.

See :mod:`xstyle._plotting` for the Display protocol (``from_result`` then ``plot(ax=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from xstyle._plotting import (
    CMAP,
    Display,
    SignedHeatmapDisplay,
    _axes,
    _figure,
    _np,
    _rgb,
    _show_map,
    _thumb,
    _thumbnail_figure,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "AblationCurveDisplay",
    "ChannelCarriersDisplay",
    "FingerprintDisplay",
    "GramComparisonDisplay",
    "GramEntryDisplay",
    "GramSpectrumDisplay",
    "LowRankDisplay",
    "RegionEvidenceDisplay",
    "RegionExplanationDisplay",
    "RegionFaithfulnessDisplay",
    "StatisticsAgreementDisplay",
    "StyleContentDisplay",
    "StyleSummaryDisplay",
    "TradeoffDisplay",
]


@dataclass(eq=False)
class GramSpectrumDisplay(Display):
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

    @classmethod
    def from_result(cls, result) -> GramSpectrumDisplay:
        """Collect the spectra of a :class:`~xstyle.explain.style.gram.GramDecomposition`."""
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
        if kind not in ("spectrum", "cumulative"):
            raise ValueError(f"kind must be 'spectrum' or 'cumulative'; got {kind!r}.")
        ax = _axes(ax, (6, 3.8))
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
        return self._drawn(ax)


@dataclass(eq=False)
class GramComparisonDisplay(Display):
    """Style loss per layer split into channel power (diagonal) and co-activation (off-diagonal)."""

    layers: list[str]
    diagonal: np.ndarray
    off_diagonal: np.ndarray

    @classmethod
    def from_result(cls, result) -> GramComparisonDisplay:
        """Collect the parts of a :class:`~xstyle.explain.style.gram.GramComparison`."""
        per = result.per_layer
        return cls(
            layers=list(result.layers),
            diagonal=np.array([per[n].diagonal for n in result.layers]),
            off_diagonal=np.array([per[n].off_diagonal for n in result.layers]),
        )

    def plot(self, *, ax: Axes | None = None) -> GramComparisonDisplay:
        ax = _axes(ax, (6, 3.5))
        x = np.arange(len(self.layers))
        ax.bar(x, self.diagonal, label="diagonal (channel power)", color="tab:orange")
        ax.bar(
            x, self.off_diagonal, bottom=self.diagonal, label="off-diagonal (co-activation)", color="tab:blue"
        )
        ax.set_xticks(x, self.layers)
        ax.set_ylabel("weighted style loss")
        ax.set_title("Style loss by Gram entry type")
        ax.legend(fontsize=8)
        return self._drawn(ax)


@dataclass(eq=False)
class LowRankDisplay(Display):
    """Style loss (against the full target) of transfers whose Gram targets kept only k components."""

    labels: list[str]
    style_loss: np.ndarray
    content_loss: np.ndarray
    images: list[np.ndarray]

    @classmethod
    def from_result(cls, result) -> LowRankDisplay:
        """Collect a :class:`~xstyle.explain.style.lowrank.LowRankResult`."""
        return cls(
            labels=["full" if k is None else str(k) for k in result.ranks],
            style_loss=np.asarray(result.style_loss),
            content_loss=np.asarray(result.content_loss),
            images=[_thumb(im) for im in result.images],
        )

    def plot(self, *, ax: Axes | None = None, thumbnails: bool = True) -> LowRankDisplay:
        ax, thumbs = _thumbnail_figure(ax, len(self.labels), thumbnails=thumbnails, size=(6, 3.5))
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
        return self._drawn(ax)


_KIND_COLOURS = {"painting": "tab:red", "photo": "tab:blue", "stylised": "tab:purple", "other": "tab:grey"}


@dataclass(eq=False)
class FingerprintDisplay(Display):
    """2-D map of the images' Gram fingerprints (PCA or MDS of the Gram style distances)."""

    names: list[str]
    kinds: list[str]
    xy: np.ndarray
    method: str

    @classmethod
    def from_result(cls, result) -> FingerprintDisplay:
        """Collect a :class:`~xstyle.explain.style.fingerprint.FingerprintResult`."""
        return cls(
            names=list(result.names),
            kinds=list(result.kinds),
            xy=np.asarray(result.embedding),
            method=result.method,
        )

    def plot(self, *, ax: Axes | None = None) -> FingerprintDisplay:
        ax = _axes(ax, (6, 4.5))
        for kind in dict.fromkeys(self.kinds):
            idx = [i for i, k in enumerate(self.kinds) if k == kind]
            ax.scatter(self.xy[idx, 0], self.xy[idx, 1], color=_KIND_COLOURS.get(kind, "black"), label=kind)
        for (x, y), name in zip(self.xy, self.names, strict=True):
            ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(f"{self.method.upper()} 1")
        ax.set_ylabel(f"{self.method.upper()} 2")
        ax.set_title("Style fingerprints (Gram distances)", fontsize=10)
        ax.legend(fontsize=8)
        return self._drawn(ax)


@dataclass(eq=False)
class StatisticsAgreementDisplay(SignedHeatmapDisplay):
    """Spearman rank correlation between style statistics, over the distances of all image pairs
    (``from_result``: a :class:`~xstyle.explain.style.fingerprint.FingerprintResult`)."""

    statistics: list[str]
    agreement: np.ndarray

    _fields = ("statistics", "agreement")

    def plot(self, *, ax: Axes | None = None) -> StatisticsAgreementDisplay:
        """Draw the matrix, each cell annotated."""
        return self._heatmap(ax, title="Agreement of style statistics (Spearman)", label="ρ")


@dataclass(eq=False)
class AblationCurveDisplay(Display):
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

    @classmethod
    def from_result(cls, result) -> AblationCurveDisplay:
        """Collect the curves of a :class:`~xstyle.explain.style.ablation.AblationResult`."""
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
        return self._drawn(panels=axes) if len(axes) > 1 else self._drawn(axes[0])


@dataclass(eq=False)
class TradeoffDisplay(Display):
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

    @classmethod
    def from_result(cls, result) -> TradeoffDisplay:
        """Collect a :class:`~xstyle.explain.style.tradeoff.TradeoffResult`."""
        return cls(
            ratios=np.asarray(result.ratios),
            content=np.asarray(result.content_loss),
            style=np.asarray(result.style_loss),
            ssim=np.asarray(result.ssim),
            knee=result.knee,
            images=[_thumb(im) for im in result.images],
        )

    def plot(self, *, ax: Axes | None = None, thumbnails: bool = True) -> TradeoffDisplay:
        ax, thumbs = _thumbnail_figure(ax, len(self.ratios), thumbnails=thumbnails, size=(6, 3.8), width=8.0)
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
        return self._drawn(ax)


class StyleContentDisplay(Display):
    """Image, content, per-layer style evidence, total style, content and dominance maps."""

    def plot(self, *, ax: Any = None) -> StyleContentDisplay:
        r = self.result
        layers = [k for k in r.style_evidence if k != "total"]
        ncols = max(4, len(layers))
        figure, axes = _figure(2, ncols, (2.3 * ncols, 5), ax=ax)
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
        return self._drawn(panels=axes)


class ChannelCarriersDisplay(Display):
    """Per layer: each channel's style share against its content share (log-log scatter)."""

    def plot(self, *, ax: Any = None) -> ChannelCarriersDisplay:
        r = self.result
        layers = list(r.score)
        figure, axes = _figure(1, len(layers), (2.8 * len(layers), 2.9), ax=ax)
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
        return self._drawn(panels=axes)


class GramEntryDisplay(Display):
    """Per layer: the loss-share matrix and the pixel maps of its top pair."""

    def plot(self, *, ax: Any = None) -> GramEntryDisplay:
        r = self.result
        layers = list(r.contributions)
        figure, axes = _figure(3, len(layers), (2.5 * len(layers), 7.2), ax=ax)
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
        return self._drawn(panels=axes)


@dataclass(eq=False)
class RegionEvidenceDisplay(Display):
    """The image with its regions outlined and coloured by which loss explains each more: red where
    the style's share of its evidence exceeds the content's, blue where the content's does."""

    image: np.ndarray  # (H, W, 3) in [0, 1]
    segments: np.ndarray  # (H, W) int
    dominance: np.ndarray  # (K,)
    method: str

    @classmethod
    def from_result(cls, result) -> RegionEvidenceDisplay:
        """Collect a :class:`~xstyle.explain.style.regions.RegionEvidenceResult`."""
        return cls(
            image=_rgb(result.image),
            segments=result.segments.numpy(),
            dominance=np.asarray(result.dominance, dtype=float),
            method=result.method,
        )

    def plot(self, *, ax: Axes | None = None) -> RegionEvidenceDisplay:
        from skimage.segmentation import find_boundaries

        h, w = self.segments.shape
        ax = _axes(ax, (4.8, 4.2 * h / w))
        per_pixel = self.dominance[self.segments]
        lim = float(np.abs(self.dominance).max()) or 1e-12
        ax.imshow(self.image.mean(-1), cmap="gray", vmin=0, vmax=1)
        overlay = ax.imshow(per_pixel, cmap=CMAP, vmin=-lim, vmax=lim, alpha=0.6)
        edges = np.ma.masked_where(~find_boundaries(self.segments, mode="inner"), np.ones_like(per_pixel))
        ax.imshow(edges, cmap="gray_r", vmin=0, vmax=1, alpha=0.5)
        ax.set_axis_off()
        ax.set_title(
            f"Where the style lives, by region ({len(self.dominance)} {self.method} regions)", fontsize=9
        )
        bar = ax.figure.colorbar(overlay, ax=ax, shrink=0.85)
        bar.set_label(
            "style share − content share of the region's evidence\n(red: style, blue: content)", fontsize=8
        )
        return self._drawn(ax)


@dataclass(eq=False)
class RegionFaithfulnessDisplay(Display):
    """Normalised loss against the share of the image inserted: the map's order and random orders."""

    which: str
    filler: str
    fractions: np.ndarray
    curve: np.ndarray
    random_fractions: np.ndarray
    random: np.ndarray
    gain: float
    gain_ci: tuple[float, float]
    passed: bool

    @classmethod
    def from_result(cls, result) -> RegionFaithfulnessDisplay:
        """Collect a :class:`~xstyle.explain.style.faithfulness.RegionFaithfulnessResult`."""
        return cls(
            which=result.which,
            filler=result.filler,
            fractions=np.asarray(result.fractions),
            curve=np.asarray(result.curve),
            random_fractions=np.asarray(result.random_fractions),
            random=np.asarray(result.random),
            gain=result.gain,
            gain_ci=tuple(result.gain_ci),
            passed=result.passed,
        )

    def plot(self, *, ax: Axes | None = None) -> RegionFaithfulnessDisplay:
        ax = _axes(ax, (4.6, 3.2))
        for i, (f, v) in enumerate(zip(self.random_fractions, self.random, strict=True)):
            ax.plot(f, v, color="0.7", lw=0.8, label="random orders" if i == 0 else None)
        ax.plot(
            self.fractions, self.curve, "o-", color="tab:red", lw=1.8, ms=3, label=f"{self.which} map order"
        )
        ax.set_xlabel("share of the stylised image inserted (by area)")
        ax.set_ylabel(f"{self.which} loss (1: {self.filler}, 0: image)", fontsize=8)
        verdict = "passes" if self.passed else "fails"
        lo, hi = self.gain_ci
        ax.set_title(
            f"{self.which.capitalize()} map {verdict}: gain {self.gain:.3f} ({lo:.3f}–{hi:.3f})", fontsize=9
        )
        ax.legend(fontsize=7)
        return self._drawn(ax)


class RegionExplanationDisplay(Display):
    """The region overlay beside the style map's and the content map's faithfulness curves."""

    def plot(self, *, ax: Any = None) -> RegionExplanationDisplay:
        """``ax``: three Axes (regions, style test, content test)."""
        r = self.result
        figure, axes = _figure(1, 3, (14.5, 4.4), ax=ax)
        r.regions.plot(ax=axes[0, 0])
        r.style_test.plot(ax=axes[0, 1])
        r.content_test.plot(ax=axes[0, 2])
        verdict = ", ".join(f"{k} map {'passes' if v else 'fails'}" for k, v in r.passed.items())
        figure.suptitle(f"Where the style and the content live, and whether the maps are faithful: {verdict}")
        return self._drawn(panels=axes)


class StyleSummaryDisplay(Display):
    """Where the style lives, in four panels: regions, layers, channels, Gram components."""

    def plot(self, *, ax: Any = None) -> StyleSummaryDisplay:
        """``ax``: four Axes (regions, layers, channels, Gram components)."""
        r = self.result
        figure, axes = _figure(1, 4, (17.0, 4.2), ax=ax)
        axes = axes[0]
        r.regions.regions.plot(ax=axes[0])
        s = r.regions.style_test
        axes[0].set_title(
            f"Regions (style map {'passes' if s.passed else 'fails'} the insertion test)", fontsize=9
        )
        _bars(axes[1], r.layer_share, "share of the style loss's drop", "Layers", fmt="{:.0%}")
        _bars(
            axes[2],
            r.channel_share,
            f"share held by the top {r.top_k} channels",
            "Channels: how concentrated the style is",
            fmt="{:.0%}",
        )
        _bars(
            axes[3],
            {k: float(v) for k, v in r.components_90.items()},
            "eigencomponents for 90 % of the Gram energy",
            "Gram components",
            fmt="{:.0f}",
            labels={k: f"of {r.n_channels.get(k, '?')}" for k in r.components_90},
        )
        figure.suptitle("Where this style lives", fontsize=11)
        return self._drawn(panels=axes)


def _bars(ax, values: dict, xlabel: str, title: str, *, fmt: str, labels: dict | None = None) -> None:
    """Horizontal bars, one per key, each annotated with its value (and ``labels[key]``)."""
    names = list(values)
    v = np.array([values[k] for k in names], dtype=float)
    ax.barh(range(len(names)), v, color=["tab:red" if x >= 0 else "tab:blue" for x in v])
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    for i, (k, x) in enumerate(zip(names, v, strict=True)):
        extra = f" {labels[k]}" if labels and k in labels else ""
        ax.annotate(
            fmt.format(x) + extra,
            (max(x, 0), i),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    ax.set_xlim(min(0.0, float(v.min()) * 1.1), float(max(v.max(), 0)) * 1.35 or 1.0)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_title(title, fontsize=9)
