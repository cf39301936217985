"""Display of a DCGAN run's training history.

See :mod:`xstyle._plotting` for the Display protocol (``from_result`` then ``plot(ax=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from xstyle._plotting import Display

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["GANTrainingDisplay"]


@dataclass(eq=False)
class GANTrainingDisplay(Display):
    """Training curves of a DCGAN run: mean losses per epoch and, where measured, the Fréchet
    distance (classifier-feature analogue of FID) against held-out digits."""

    epochs: np.ndarray
    d_loss: np.ndarray
    g_loss: np.ndarray
    fd_epochs: np.ndarray
    frechet: np.ndarray

    @classmethod
    def from_result(cls, history: list[dict]) -> GANTrainingDisplay:
        """``history``: the trainer's per-epoch summaries (``quality_frechet_distance`` optional)."""
        fd = [(h["epoch"], h["quality_frechet_distance"]) for h in history if "quality_frechet_distance" in h]
        return cls(
            epochs=np.array([h["epoch"] for h in history]),
            d_loss=np.array([h["d_loss"] for h in history]),
            g_loss=np.array([h["g_loss"] for h in history]),
            fd_epochs=np.array([e for e, _ in fd]),
            frechet=np.array([v for _, v in fd]),
        )

    from_history = from_result  # the old name, kept for existing callers

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
        return self._drawn(ax)
