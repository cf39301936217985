"""The collection report's figures: the contact sheet, the style atlas, the consensus bars and the
checkpoint curves.

Drawing only: each function takes the labels, numbers and thumbnails that
:mod:`xstyle.report.collection` read from the batch folder and computed, and returns a matplotlib
figure, which the report saves (:func:`~xstyle.report.writer.save_figure`) with its caption.
matplotlib and numpy are imported only when a figure is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["checkpoint_curves", "consensus_bars", "contact_sheet", "style_atlas"]

#: how a contact-sheet cell without a picture looks, by its item's state: (note, background)
_SHEET_EMPTY = {
    "done": ("unreadable", "#d9d9d9"),
    "failed": ("failed", "#9e9e9e"),
    "not run": ("not run", "#eeeeee"),
}


def contact_sheet(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    cells: Mapping[tuple[int, int], tuple[str, Any]],
) -> Any:
    """A grid of thumbnails: contents (rows) x styles (columns).

    Args:
        row_labels, col_labels: the labels of the rows (contents) and columns (styles).
        cells: ``(row, column) -> (state, thumbnail)`` for the cells that have an item, in the
            items' order; ``state`` is ``"done"``, ``"failed"`` or ``"not run"`` and the thumbnail an
            RGB array or None. Cells without a thumbnail are framed and say why; they take the shape
            of the first thumbnail (square without one). Cells without an item stay blank.
    """
    import matplotlib.pyplot as plt

    n_rows, n_cols = len(row_labels), len(col_labels)
    cell = min(1.8, max(0.8, 11.0 / max(n_cols, n_rows, 1)))
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(1.2 + n_cols * cell, 0.5 + n_rows * cell),
        squeeze=False,
        layout="constrained",
    )
    fontsize = 8 if cell >= 1.2 else 6
    shapes = [image.shape for _, image in cells.values() if image is not None]
    ratio = shapes[0][0] / shapes[0][1] if shapes else 1.0  # empty cells take the images' shape
    for r in range(n_rows):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            state, image = cells.get((r, c), (None, None))
            if image is not None:
                ax.imshow(image)
            else:
                note, colour = _SHEET_EMPTY.get(state, ("", "white"))
                ax.set_box_aspect(ratio)
                ax.set_facecolor(colour)
                ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=fontsize, transform=ax.transAxes)
            for spine in ax.spines.values():
                spine.set_visible(image is None and state is not None)
                spine.set_color("#777777")
            if r == 0:
                ax.set_title(col_labels[c], fontsize=fontsize)
            if c == 0:
                ax.set_ylabel(row_labels[r], fontsize=fontsize)
    return fig


def style_atlas(
    coords: Any,
    clusters: Any,
    k: int,
    thumbnails: Sequence[Any],
    labels: Sequence[str],
    explained: Sequence[float],
) -> Any:
    """The paintings on their first two principal components, as thumbnails framed in their
    cluster's colour.

    Args:
        coords: ``(n, 2)`` positions (the second column zeros when there is one component).
        clusters: ``(n,)`` cluster of each painting, ``0 .. k-1``; k: the number of clusters (1: one
            colour, no clustering).
        thumbnails: each painting's RGB array, or None (a dot and its label only).
        labels: each painting's label, as shown.
        explained: the variance ratio of each component (one or two).
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(7.5, 6), layout="constrained")
    for c in range(k):
        members = clusters == c
        ax.scatter(
            coords[members, 0],
            coords[members, 1],
            s=30,
            color=colours(c % 10),
            label=f"cluster {c}" if k > 1 else "paintings",
            zorder=1,
        )
    spans = [float(np.ptp(coords[:, d])) for d in (0, 1)]
    spans = [x if x > 1e-9 else max(*spans, 1.0) for x in spans]  # a flat axis gets the other's span
    for j, (thumb, label) in enumerate(zip(thumbnails, labels, strict=True)):
        x, y = float(coords[j, 0]), float(coords[j, 1])
        if thumb is not None:
            box = AnnotationBbox(
                OffsetImage(thumb, zoom=40 / max(thumb.shape[:2])),
                (x, y),
                frameon=True,
                pad=0.15,
                bboxprops={"edgecolor": colours(int(clusters[j]) % 10), "linewidth": 2},
                zorder=2,
            )
            ax.add_artist(box)
        ax.annotate(
            label,
            (x, y),
            xytext=(0, -26 if thumb is not None else -10),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
    ax.set_xlim(coords[:, 0].min() - 0.15 * spans[0], coords[:, 0].max() + 0.15 * spans[0])
    ax.set_ylim(coords[:, 1].min() - 0.25 * spans[1], coords[:, 1].max() + 0.2 * spans[1])
    ax.set_xlabel(f"principal component 1 ({100 * explained[0]:.0f} % of the variance)")
    ax.set_ylabel(
        f"principal component 2 ({100 * explained[1]:.0f} % of the variance)"
        if len(explained) > 1
        else "(none)"
    )
    ax.legend(fontsize=7, loc="best")
    return fig


def consensus_bars(counts: Mapping[str, Mapping[int, int]], *, n: int, threshold: int) -> Any:
    """One bar chart per layer: in how many of the ``n`` paintings' top carriers each channel is.

    ``counts`` is layer -> channel -> paintings, most common first (the first 30 are drawn); bars
    at or over ``threshold`` (the dashed line) are red, channels of one painting alone blue.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(counts), 1, figsize=(8, 0.6 + 1.7 * len(counts)), squeeze=False, layout="constrained"
    )
    for ax, (layer, per_channel) in zip(axes[:, 0], counts.items(), strict=True):
        channels = list(per_channel)[:30]
        values = [per_channel[ch] for ch in channels]
        colour = ["tab:red" if v >= threshold else "tab:blue" if v == 1 else "tab:gray" for v in values]
        ax.bar(range(len(channels)), values, color=colour)
        ax.axhline(threshold, color="black", linestyle="--", linewidth=0.8)
        ax.set_xticks(range(len(channels)))
        ax.set_xticklabels([str(ch) for ch in channels], fontsize=6, rotation=90)
        ax.set_ylim(0, n + 0.5)
        ax.set_ylabel("paintings", fontsize=8)
        more = (
            f" (the {len(channels)} most common of {len(per_channel)})"
            if len(per_channel) > len(channels)
            else ""
        )
        ax.set_title(f"{layer}: channel{more}", fontsize=8, loc="left")
    return fig


def checkpoint_curves(
    epochs: Sequence[float | None],
    panels: Sequence[tuple[str, Sequence[float | None]]],
    probes: Mapping[str, Sequence[float | None]],
) -> Any:
    """One panel per ``(title, values)`` of ``panels`` over the checkpoints' ``epochs``, and a last
    one with the class probe accuracy of every stage of ``probes`` (none when it is empty).
    Points whose epoch or value is None are left out."""
    import matplotlib.pyplot as plt

    n_panels = len(panels) + (1 if probes else 0)
    fig, axes = plt.subplots(
        1, n_panels, figsize=(3.1 * n_panels, 3), squeeze=False, sharex=True, layout="constrained"
    )

    def draw(ax: Any, values: Sequence[float | None], label: str | None = None) -> None:
        points = [(e, v) for e, v in zip(epochs, values, strict=True) if e is not None and v is not None]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=label)

    for ax, (label, values) in zip(axes[0], panels, strict=False):
        draw(ax, values)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    if probes:
        ax = axes[0, -1]
        for stage, values in probes.items():
            draw(ax, values, stage)
        ax.set_title("class probe accuracy per stage", fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig
