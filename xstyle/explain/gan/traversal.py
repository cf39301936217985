"""Traversals: walk latents along a direction from -3 sigma to +3 sigma and measure what changes.

For a unit direction v and latents z ~ N(0, I), the steps are ``z + alpha * v``; since z's projection
on any unit vector has standard deviation 1, ``alpha`` is in units of sigma. (Under a mixture prior,
:mod:`xstyle.gan.prior`, sigma is the components' own standard deviation S; a direction that runs
between component means also crosses the gaps between them.) At every step the digits
are measured (:func:`xstyle.explain.gan.probes.measure_digits`) and summarised by:

* **slope** -- change of each attribute per unit step (least squares over the steps, per latent,
  averaged over latents), in the attribute's own units;
* **change** -- ``|slope|`` divided by the attribute's standard deviation over the sampled digits
  (``scales``), so that attributes in different units compare;
* **class-flip rate** -- the share of traversed digits (steps other than 0) whose scorer class differs
  from the class at alpha = 0;
* **disentanglement** -- the intended attribute's change as a share of all attributes' summed change,
  ``c_t / (c_t + sum_others c_o)``, in [0, 1] (1: only the intended attribute moves). The intended
  attribute is the direction's source attribute (the moved one for a conditional direction); for
  unsupervised directions, the attribute that changes most (``dominant``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_int, check_seed
from xstyle.explain.gan._common import generate, latent_dim_of, measure, resolve_generator
from xstyle.explain.gan.directions import Direction

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from xstyle.explain.gan.plots import TraversalDisplay

__all__ = ["TraversalResult", "traverse"]

DEFAULT_ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)


@dataclass(frozen=True, eq=False)
class TraversalResult:
    """The measured effects of moving latents along one direction.

    Attributes:
        direction: the :class:`~xstyle.explain.gan.directions.Direction` walked.
        alphas: (S,) steps in units of sigma.
        means: attribute -> (S,) mean value at each step (``class`` excluded).
        slopes: attribute -> change per unit step, in the attribute's units.
        changes: attribute -> ``|slope| / scale`` (standard deviations per sigma).
        target: the intended attribute (from the direction's source) or ``None``.
        dominant: the attribute with the largest change.
        disentanglement: ``changes[t] / sum(changes)`` for t = ``target`` or else ``dominant``, in [0, 1].
        flip_rate: share of traversed digits (alpha != 0) whose class differs from alpha = 0
            (``None`` without a classifier); ``flip_rate_per_step`` (S,) the same per step.
        images: (R, S, 1, H, W) digits in [-1, 1] of the first R latents (for the grid figure).
        n_samples: latents walked; seed: their seed.
    """

    direction: Direction
    alphas: np.ndarray
    means: Mapping[str, np.ndarray]
    slopes: Mapping[str, float]
    changes: Mapping[str, float]
    target: str | None
    dominant: str | None
    disentanglement: float
    flip_rate: float | None
    flip_rate_per_step: np.ndarray | None
    images: torch.Tensor
    n_samples: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction.label,
            "method": self.direction.method,
            "source": self.direction.source,
            "alphas": self.alphas.tolist(),
            "means": {k: v.tolist() for k, v in self.means.items()},
            "slopes": dict(self.slopes),
            "changes": dict(self.changes),
            "target": self.target,
            "dominant": self.dominant,
            "disentanglement": self.disentanglement,
            "flip_rate": self.flip_rate,
            "flip_rate_per_step": (
                None if self.flip_rate_per_step is None else self.flip_rate_per_step.tolist()
            ),
            "n_samples": self.n_samples,
            "seed": self.seed,
        }

    def plot(self, *, ax: Axes | None = None, rows: int | None = None) -> TraversalDisplay:
        """The grid of digits (latents x steps); returns a ``TraversalDisplay``."""
        from xstyle.explain.gan.plots import TraversalDisplay

        return TraversalDisplay.from_result(self, rows=rows).plot(ax=ax)


def traverse(
    generator: nn.Module,
    direction: Direction,
    *,
    classifier: nn.Module | None = None,
    z: torch.Tensor | None = None,
    n: int = 24,
    seed: int = 0,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    scales: Mapping[str, float] | None = None,
    style: bool = False,
    rows: int = 8,
    batch_size: int = 250,
    labels: torch.Tensor | int | None = None,
    measures: Any = None,
) -> TraversalResult:
    """Walk ``n`` latents along ``direction`` and measure the digits at every step.

    Args:
        generator: z (B, D) -> digits (B, 1, H, W) in [-1, 1]; run in eval mode without gradients,
            its ``training`` flag restored, no hook left behind.
        direction: a unit direction of size D.
        classifier: the scorer (adds ``confidence`` and the class-flip rate).
        z: the latents (n, D) to start from; default ``n`` drawn from the generator's prior with ``seed``.
        alphas: steps in units of sigma (>= 2 distinct values; 0 need not be among them).
        scales: attribute -> standard deviation used to compare changes across attributes
            (e.g. over a :class:`~xstyle.explain.gan.probes.LatentSamples`); default: the standard
            deviation over the ``n`` latents at alpha = 0 (too few latents make this noisy).
        style: measure ``gram_energy`` too.
        rows: latents kept as images for the grid.
        labels: for a conditional generator when ``z`` is drawn: the digit(s) to write (None:
            balanced).
        measures: what to measure (see :func:`~xstyle.explain.gan.probes.sample_latents`).
    """
    generator = resolve_generator(generator)
    if not isinstance(direction, Direction):
        raise ValueError(f"direction must be a Direction; got {type(direction).__name__}.")
    dim = latent_dim_of(generator)
    if direction.vector.shape[0] != dim:
        raise ValueError(
            f"direction has {direction.vector.shape[0]} entries but the generator's latent size is {dim}."
        )
    steps = np.asarray(list(alphas), dtype=np.float64)
    if steps.ndim != 1 or len(np.unique(steps)) < 2 or not np.isfinite(steps).all():
        raise ValueError(f"alphas must hold at least 2 distinct finite steps; got {list(alphas)!r}.")
    if z is None:
        check_int(n, "n", 1)
        from xstyle.gan.prior import draw_latents

        z = draw_latents(
            generator, n, generator=torch.Generator().manual_seed(check_seed(seed)), labels=labels
        )
    elif not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != dim or z.shape[0] < 1:
        shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(f"z must have shape (n, {dim}); got {shape}.")
    z = z.detach().float().cpu()
    n = z.shape[0]
    check_int(rows, "rows", 1)
    v = torch.tensor(direction.vector, dtype=torch.float32)
    with_zero = np.concatenate([steps, [0.0]]) if 0.0 not in steps else steps
    walked = z[None] + torch.from_numpy(with_zero).float()[:, None, None] * v  # (S', n, D)
    images, _ = generate(generator, walked.reshape(-1, dim), batch_size=batch_size)
    attrs = measure(images, classifier=classifier, style=style, measures=measures)
    s_all = len(with_zero)
    zero = int(np.flatnonzero(with_zero == 0.0)[0])
    per = {k: np.asarray(a).reshape(s_all, n) for k, a in attrs.items()}
    keep = slice(0, len(steps))
    numeric = [k for k in per if k != "class"]
    centred = steps - steps.mean()
    slopes, changes, means = {}, {}, {}
    for k in numeric:
        vals = per[k][keep]  # (S, n)
        slope = float(np.mean(centred @ (vals - vals.mean(axis=0)) / (centred @ centred)))
        scale = float(scales[k]) if scales is not None and k in scales else float(per[k][zero].std())
        slopes[k] = slope
        changes[k] = abs(slope) / scale if scale > 1e-12 else 0.0
        means[k] = vals.mean(axis=1)
    flip_rate = flip_per_step = None
    if "class" in per:
        flips = per["class"][keep] != per["class"][zero][None]
        flip_per_step = flips.mean(axis=1)
        moved = steps != 0.0
        flip_rate = float(flips[moved].mean()) if moved.any() else 0.0
    dominant = max(changes, key=changes.get) if changes else None
    source = direction.source.split("|")[0]
    target = source if source in changes else None
    total = sum(changes.values())
    focus = target or dominant
    disentanglement = float(changes[focus] / total) if focus is not None and total > 0 else 0.0
    rows = min(rows, n)
    grid = images.reshape(s_all, n, *images.shape[1:])[keep, :rows].transpose(0, 1).contiguous()
    return TraversalResult(
        direction=direction,
        alphas=steps,
        means=means,
        slopes=slopes,
        changes=changes,
        target=target,
        dominant=dominant,
        disentanglement=disentanglement,
        flip_rate=flip_rate,
        flip_rate_per_step=flip_per_step,
        images=grid,
        n_samples=n,
        seed=int(seed),
    )
