"""Display of the feed-forward stylizer's training losses (its explanations' Displays sit beside
:mod:`xstyle.explain.style.stylizer`).

See :mod:`xstyle._plotting` for the Display protocol (``from_result`` then ``plot(ax=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from xstyle._plotting import Display

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes

__all__ = ["StylizerTrainingDisplay"]


@dataclass(eq=False)
class StylizerTrainingDisplay(Display):
    """Loss curves of a stylizer run: content, style, TV and adversarial losses, and D's outputs,
    per step (thin) with a moving average (thick)."""

    step: np.ndarray
    curves: dict
    d_real: np.ndarray
    d_fake: np.ndarray
    window: int = 20
    axes_: object = field(default=None, init=False)

    @classmethod
    def from_result(cls, steps: list[dict], *, window: int = 20) -> StylizerTrainingDisplay:
        """Collect the curves from a trainer's per-step history (``StylizerTrainer.steps``)."""
        if not steps:
            raise ValueError("steps is empty: the run has no recorded step.")
        get = lambda k: np.array([s.get(k, np.nan) for s in steps], dtype=float)  # noqa: E731
        curves = {k: get(k) for k in ("content", "style", "tv", "adversarial", "d_loss")}
        return cls(step=get("step"), curves=curves, d_real=get("d_real"), d_fake=get("d_fake"), window=window)

    from_steps = from_result  # the old name, kept for existing callers

    def _smooth(self, y: np.ndarray) -> np.ndarray:
        """Trailing mean over up to ``window`` steps (fewer at the start)."""
        c = np.concatenate([[0.0], np.cumsum(y)])
        idx = np.arange(1, len(y) + 1)
        lo = np.maximum(0, idx - max(1, self.window))
        return (c[idx] - c[lo]) / (idx - lo)

    def plot(self, *, ax: Sequence[Axes] | None = None) -> StylizerTrainingDisplay:
        """``ax``: 3 Axes (losses, adversarial terms, D's outputs)."""
        import matplotlib.pyplot as plt

        axes = ax

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
        return self._drawn(panels=axes)
