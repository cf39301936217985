"""Display of a style transfer's result (:class:`~xstyle.transfer.TransferResult`).

See :mod:`xstyle._plotting` for the Display protocol (``from_result`` then ``plot(ax=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from xstyle._plotting import Display, _axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["TransferLossDisplay"]


@dataclass(eq=False)
class TransferLossDisplay(Display):
    """Loss curves of a style transfer: total, alpha*content and beta*style per evaluation.

    Evaluations of all pyramid levels are laid end to end; dotted lines mark level changes.
    ``alpha`` and ``beta`` are the configured weights (:class:`~xstyle.transfer.TransferConfig`), so
    the two weighted terms show which one dominates the objective. With ``normalize="seed"`` the
    objective also multiplies alpha by each coarse level's pixel ratio; there the drawn
    alpha*content is the configured weight's share, and total exceeds alpha*content + beta*style.
    """

    total: np.ndarray
    content: np.ndarray
    style: np.ndarray
    level: np.ndarray
    sizes: list[int]
    alpha: float
    beta: float

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
        ax = _axes(ax, (6, 3.5))
        x = np.arange(len(self.total))
        ax.plot(x, self.total, label="total", color="black")
        ax.plot(x, self.content * self.alpha, label=f"α·content (α={self.alpha:g})", color="tab:blue")
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
        return self._drawn(ax)
