"""``*Display`` objects: plots of ``*Result`` data, built lazily; they never call ``plt.show()``.

Pattern from scikit-learn's ``sklearn.inspection`` displays: ``Display.from_result(result)``
collects the data, ``.plot(ax=None)`` draws it and sets ``ax_`` and ``figure_``, returning self.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["GANTrainingDisplay", "TransferLossDisplay"]


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


@dataclass
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

    def plot(self, *, ax=None) -> GANTrainingDisplay:
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
            twin.set_ylabel("Fréchet distance (classifier features)")
            h2, l2 = twin.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        ax.legend(handles, labels, fontsize=8, loc="upper right")
        ax.set_title("DCGAN training")
        self.ax_, self.figure_ = ax, ax.figure
        return self
