"""Statistics helpers shared across xstyle (numpy / torch only; scipy and scikit-image lazily).

* :func:`rank_correlation`: Spearman rank correlation, None where it is undefined;
* :func:`ssim`: structural similarity of two RGB images in [0, 1] (scikit-image).

Private: the public homes of these numbers are the results that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["rank_correlation", "ssim"]


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rank correlation, or None where it is undefined (constant input, < 3 points)."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)


def ssim(image: torch.Tensor, reference: torch.Tensor) -> float:
    """Structural similarity (scikit-image, RGB, data range 1) of two (1, 3, H, W) images in [0, 1]."""
    from skimage.metrics import structural_similarity

    if image.shape != reference.shape:
        raise ValueError(
            f"images must have the same shape; got {tuple(image.shape)} and {tuple(reference.shape)}."
        )
    a = image[0].permute(1, 2, 0).detach().double().numpy()
    b = reference[0].permute(1, 2, 0).detach().double().numpy()
    return float(structural_similarity(a, b, channel_axis=2, data_range=1.0))
