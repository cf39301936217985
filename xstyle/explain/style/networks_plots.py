"""The display of :func:`xstyle.explain.style.networks.compare_networks` (beside its result).

``kind="statistics"``: one panel per statistic, each network's style layers from shallow to deep;
``kind="transfers"``: the pairs (rows) and each network's transfer (columns); ``kind="judging"``:
the cross-judging table as a heat map (rows: who made the image, columns: who judged it).
Matplotlib is imported only when drawing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xstyle._plotting import Display, _figure, _hwc

__all__ = ["NetworkComparisonDisplay"]

_TITLES = {
    "max_over_mean": "max / mean |activation|",
    "activation_entropy": "entropy of |activations| (normalised)",
    "gram_entropy": "entropy of |Gram| (normalised)",
    "participation_ratio": "Gram participation ratio / C",
}


class NetworkComparisonDisplay(Display):
    """Draws a :class:`~xstyle.explain.style.networks.NetworkComparison`."""

    def plot(self, *, ax: Any = None, kind: str = "statistics", judged: str = "style"):
        """Draw ``kind`` (``"statistics"``, ``"transfers"`` or ``"judging"``; ``judged``: ``"style"``
        or ``"content"`` distances for the table); returns self."""
        r = self.result
        if kind == "statistics":
            stats = tuple(_TITLES)  # networks.STATISTICS, in the same order
            figure, axes = _figure(1, len(stats), (4.0 * len(stats), 3.4), ax=ax)
            for panel, stat in zip(axes.ravel(), stats, strict=True):
                for net in r.networks:
                    values = [r.statistics[net][layer][stat] for layer in r.layers[net][1]]
                    depth = np.linspace(0, 1, len(values)) if len(values) > 1 else np.zeros(1)
                    panel.plot(depth, values, marker="o", label=net)
                panel.set_title(_TITLES[stat], fontsize=9)
                panel.set_xlabel("style layer, shallow (0) to deep (1)")
                if stat == "max_over_mean":
                    panel.set_yscale("log")
            axes.ravel()[0].legend(fontsize=8)
            title = "activation statistics per depth"
            if r.feature_transform:
                title += f" (transfers with {r.feature_transform}, T={r.feature_temperature:g})"
            figure.suptitle(title)
            return self._drawn(panels=axes)
        if kind == "transfers":
            n_pairs, cols = len(r.contents), 2 + len(r.networks)
            figure, axes = _figure(n_pairs, cols, (2.2 * cols, 2.3 * n_pairs + 0.4), ax=ax)
            axes = np.asarray(axes).reshape(n_pairs, cols)
            for i in range(n_pairs):
                row = [("photo", r.contents[i]), ("painting", r.styles[i])]
                row += [(net, r.images[net][i]) for net in r.networks]
                for panel, (title, image) in zip(axes[i], row, strict=True):
                    panel.imshow(_hwc(image))
                    panel.set_axis_off()
                    if i == 0:
                        panel.set_title(title, fontsize=8)
            return self._drawn(panels=axes)
        if kind == "judging":
            table = r.style_distance if judged == "style" else r.content_distance
            producers = list(table)
            values = np.array([[table[p][j] for j in r.networks] for p in producers])
            figure, axes = _figure(1, 1, (1.8 + 1.6 * len(r.networks), 1.0 + 0.5 * len(producers)), ax=ax)
            panel = axes.ravel()[0]
            image = panel.imshow(values, cmap="viridis_r", aspect="auto")
            panel.set_xticks(range(len(r.networks)), r.networks, rotation=20, fontsize=8)
            panel.set_yticks(range(len(producers)), producers, fontsize=8)
            for (i, j), v in np.ndenumerate(values):
                panel.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=8, color="white")
            panel.set_xlabel("judged by")
            panel.set_ylabel("transfer by")
            panel.set_title(f"relative {judged} distance (lower is closer)", fontsize=9)
            figure.colorbar(image, ax=panel)
            return self._drawn(panel)
        raise ValueError(f"kind must be 'statistics', 'transfers' or 'judging'; got {kind!r}.")
