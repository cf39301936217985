"""``*Display`` objects: plots of ``*Result`` data, built lazily; they never call ``plt.show()``.

Pattern from scikit-learn's ``sklearn.inspection`` displays: ``Display.from_result(result)``
collects the data, ``.plot(ax=None)`` draws it and sets ``ax_`` and ``figure_``, returning self.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["TransferLossDisplay"]


@dataclass
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

    def plot(self, *, ax=None, log_scale: bool = True) -> TransferLossDisplay:
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
