"""Displays of the feed-forward stylizer's explanation results (beside :mod:`xstyle.explain.style.stylizer`).

See :mod:`xstyle._plotting` for the Display protocol (``from_result`` then ``plot(ax=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from xstyle._plotting import Display, _figure, _hwc, _signed_limits

if TYPE_CHECKING:
    pass

__all__ = [
    "BlockAblationDisplay",
    "DiscriminatorPatchDisplay",
    "StylizerAttributionDisplay",
    "StylizerComparisonDisplay",
]


@dataclass(eq=False)
class StylizerAttributionDisplay(Display):
    """Input photo, stylised output, and where in the input the output's style and content come from."""

    content: np.ndarray
    output: np.ndarray
    style_evidence: np.ndarray
    content_evidence: np.ndarray
    dominance: np.ndarray
    axes_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> StylizerAttributionDisplay:
        return cls(
            content=_hwc(result.content),
            output=_hwc(result.output),
            style_evidence=result.style_evidence.float().numpy(),
            content_evidence=result.content_evidence.float().numpy(),
            dominance=result.dominance.float().numpy(),
        )

    def plot(self, *, ax: Any = None) -> StylizerAttributionDisplay:
        """``ax``: 5 Axes (photo, output, style evidence, content evidence, dominance)."""
        fig, axes = _figure(1, 5, (13, 3.0), ax=ax)
        axes = axes[0]
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
        return self._drawn(panels=list(axes))


@dataclass(eq=False)
class DiscriminatorPatchDisplay(Display):
    """Each judged image with the discriminator's patch probability of "in style" on top."""

    images: dict
    probability: dict
    mean_probability: dict
    pixel_map: np.ndarray | None
    axes_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, result) -> DiscriminatorPatchDisplay:
        return cls(
            images={k: _hwc(v) for k, v in result.images.items()},
            probability={k: v.float().numpy() for k, v in result.probability.items()},
            mean_probability=dict(result.mean_probability),
            pixel_map=None if result.pixel_map is None else result.pixel_map.float().numpy(),
        )

    def plot(self, *, ax: Any = None) -> DiscriminatorPatchDisplay:
        """``ax``: one Axes per image (output, photo, painting) plus one for the pixel map if any."""
        n = len(self.images) + (self.pixel_map is not None)
        fig, axes = _figure(1, n, (3.1 * n, 3.2), ax=ax)
        axes = list(axes[0])
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
        return self._drawn(panels=axes)


@dataclass(eq=False)
class BlockAblationDisplay(Display):
    """Style- and content-loss change per ablated residual block, the ablated outputs and, where
    measured, the style-loss change per ablated channel."""

    blocks: list
    style_change: np.ndarray
    content_change: np.ndarray
    images: dict
    channels: dict
    axes_: object = field(default=None, init=False)

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

    def plot(self, *, ax: Any = None) -> BlockAblationDisplay:
        """``ax``: a sequence of Axes: the bar chart, one per ablated image, then (when channel
        changes were measured) the channel heatmap."""
        import matplotlib.pyplot as plt

        k = len(self.images)
        rows = 3 if self.channels else 2
        if ax is None:
            fig = plt.figure(figsize=(max(8.0, 2.2 * k), 2.6 * rows), layout="constrained")
            grid = fig.add_gridspec(rows, k)
            panel = lambda spec: fig.add_subplot(grid[spec])  # noqa: E731
        else:
            given = iter(np.asarray(ax, dtype=object).ravel())
            panel = lambda spec: next(given)  # noqa: E731
        ax = panel((0, slice(None)))
        fig = ax.figure
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
            a = panel((1, i))
            a.imshow(img)
            a.set_title(name if name == "intact" else f"without {name}", fontsize=9)
            a.axis("off")
            axes.append(a)
        if self.channels:
            a = panel((2, slice(None)))
            data = np.stack([self.channels[b] for b in self.channels])
            v = _signed_limits(data)
            im = a.imshow(100 * data, aspect="auto", cmap="RdBu_r", vmin=-100 * v, vmax=100 * v)
            a.set_yticks(range(len(self.channels)), list(self.channels))
            a.set_xlabel("channel of the block's residual branch")
            a.set_title("style-loss change when one channel is ablated (%)", fontsize=9)
            fig.colorbar(im, ax=a, shrink=0.8)
            axes.append(a)
        return self._drawn(panels=axes)


@dataclass
class StylizerComparisonDisplay(Display):
    """Side by side per photo: the photo and several stylisations (e.g. stylizer with and without the
    adversarial term, optimisation transfer), each titled with its style loss, content loss and SSIM."""

    photos: dict
    outputs: dict  # method -> {photo: (H, W, 3)}
    numbers: dict  # method -> {photo: {"style", "content", "ssim"}}
    axes_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, photos: dict, outputs: dict, numbers: dict) -> StylizerComparisonDisplay:
        """``photos``: name -> (1, 3, H, W); ``outputs``: method -> name -> image; ``numbers`` alike."""
        return cls(
            photos={k: _hwc(v) for k, v in photos.items()},
            outputs={m: {k: _hwc(v) for k, v in imgs.items()} for m, imgs in outputs.items()},
            numbers=numbers,
        )

    from_images = from_result  # the old name, kept for existing callers

    def plot(self, *, ax: Any = None) -> StylizerComparisonDisplay:
        """``ax``: (photos, 1 + methods) Axes: per photo, the photo then each method's output."""
        names, methods = list(self.photos), list(self.outputs)
        cols = 1 + len(methods)
        _, axes = _figure(len(names), cols, (2.8 * cols, 2.9 * len(names)), ax=ax)
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
        return self._drawn(panels=axes)
