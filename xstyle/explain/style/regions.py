"""Region-level evidence: where in the picture the style and the content live, region by region.

Per-pixel attribution maps of texture statistics read as speckle: a Gram matrix pools over all
positions, so single pixels carry little of it. :func:`region_evidence` sums a style map and a
content map over regions of the image — superpixels (scikit-image SLIC: compact regions that follow
colour edges) or a regular grid — and returns each region's style share, content share and their
difference (the dominance: > 0 where the style explains the region more than the content does).

The signs are those of the maps (:data:`~xstyle.explain.style.maps.SIGN_CONVENTION`): a region's
share is positive when its pixels bring the image closer to the target than the baseline is, and
the shares sum to +1 when the image is closer, to -1 when the baseline is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from xstyle._checks import check_int
from xstyle._plotting import Plottable
from xstyle.explain.style.plots import RegionEvidenceDisplay
from xstyle.images import check_rgb

__all__ = ["REGION_METHODS", "RegionEvidenceResult", "region_evidence", "segment"]

log = logging.getLogger(__name__)

#: how an image is cut into regions
REGION_METHODS: tuple[str, ...] = ("slic", "grid")


def segment(
    image: torch.Tensor,
    *,
    method: str = "slic",
    n_regions: int = 64,
    compactness: float = 10.0,
) -> torch.Tensor:
    """Region labels (H, W) int64 in 0..K-1 of ``image`` (1, 3, H, W) in [0, 1].

    ``"slic"``: scikit-image's SLIC superpixels (about ``n_regions`` of them; ``compactness`` trades
    colour adherence for square shapes). ``"grid"``: a regular grid of about ``n_regions`` cells
    (rows x columns chosen for square-ish cells). Both are deterministic.
    """
    check_rgb(image, name="image", single=True)
    if method not in REGION_METHODS:
        raise ValueError(f"region method must be one of {', '.join(REGION_METHODS)}; got {method!r}.")
    h, w = image.shape[-2:]
    check_int(n_regions, "n_regions", 1)
    if n_regions > h * w:
        raise ValueError(f"n_regions must be at most the number of pixels ({h * w}); got {n_regions}.")
    if not (isinstance(compactness, int | float) and np.isfinite(compactness) and compactness > 0):
        raise ValueError(f"compactness must be a finite number > 0; got {compactness!r}.")
    if method == "grid":
        rows = max(1, min(h, round((n_regions * h / w) ** 0.5)))
        cols = max(1, min(w, round(n_regions / rows)))
        r = torch.div(torch.arange(h) * rows, h, rounding_mode="floor")
        c = torch.div(torch.arange(w) * cols, w, rounding_mode="floor")
        return (r[:, None] * cols + c[None, :]).to(torch.int64)
    from skimage.segmentation import slic

    rgb = image[0].detach().permute(1, 2, 0).double().clamp(0, 1).numpy()
    labels = slic(rgb, n_segments=n_regions, compactness=float(compactness), start_label=0, channel_axis=-1)
    _, dense = np.unique(labels, return_inverse=True)  # labels 0..K-1 without gaps
    return torch.from_numpy(dense.reshape(h, w).astype(np.int64))


@dataclass(frozen=True, eq=False)
class RegionEvidenceResult(Plottable):
    """Style and content evidence summed over the regions of an image.

    Attributes:
        image: (1, 3, H, W) in [0, 1], the analysed image.
        segments: (H, W) int64 region labels 0..K-1.
        style: (K,) each region's share of the style evidence: its sum over the region divided by
            the absolute value of the map's total, so the shares keep the map's signs and sum to +1
            or -1 (:data:`~xstyle.explain.style.maps.SIGN_CONVENTION`).
        content: (K,) the same for the content evidence.
        area: (K,) each region's share of the pixels.
        method: ``"slic"`` or ``"grid"``; n_regions: the number asked for (K may differ for SLIC).
    """

    display: ClassVar[type[RegionEvidenceDisplay]] = RegionEvidenceDisplay

    image: torch.Tensor
    segments: torch.Tensor
    style: np.ndarray
    content: np.ndarray
    area: np.ndarray
    method: str
    n_regions: int

    @property
    def dominance(self) -> np.ndarray:
        """(K,) style share minus content share: > 0 where the style explains the region more."""
        return self.style - self.content

    def dominance_map(self) -> torch.Tensor:
        """(H, W) float64: every pixel carries its region's dominance."""
        return torch.from_numpy(self.dominance)[self.segments]

    @property
    def style_share(self) -> float:
        """Share of the image's area in regions where the style dominates."""
        return float(self.area[self.dominance > 0].sum())

    def top(self, k: int = 5, *, kind: str = "style") -> list[dict[str, Any]]:
        """The ``k`` regions the style (``kind="style"``) or the content dominates most."""
        if kind not in ("style", "content"):
            raise ValueError(f"kind must be 'style' or 'content'; got {kind!r}.")
        order = np.argsort(-self.dominance if kind == "style" else self.dominance, kind="stable")[:k]
        return [
            {
                "region": int(i),
                "style": float(self.style[i]),
                "content": float(self.content[i]),
                "area": float(self.area[i]),
            }
            for i in order
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n_regions_asked": self.n_regions,
            "n_regions": len(self.style),
            "size": list(self.image.shape[-2:]),
            "style_dominated_area": self.style_share,
            "top_style": self.top(5, kind="style"),
            "top_content": self.top(5, kind="content"),
        }


def region_evidence(
    style_map: torch.Tensor,
    content_map: torch.Tensor,
    image: torch.Tensor,
    *,
    method: str = "slic",
    n_regions: int = 64,
    compactness: float = 10.0,
) -> RegionEvidenceResult:
    """Sum a style and a content evidence map (each (H, W); e.g. a
    :class:`~xstyle.explain.style.maps.StyleContentResult`'s ``style_evidence["total"]`` and
    ``content_evidence``) over the regions of ``image`` (1, 3, H, W) in [0, 1].

    Each map is divided by the absolute value of its total first (each region gets its signed share
    of that loss's evidence; a map that sums to -1 under
    :data:`~xstyle.explain.style.maps.SIGN_CONVENTION` keeps its signs); see :func:`segment` for
    ``method``, ``n_regions`` and ``compactness``. When SLIC
    finds fewer than a quarter of the regions asked for (noise-like images), the grid is used and
    the result's ``method`` says so.
    """
    check_rgb(image, name="image", single=True)
    size = tuple(image.shape[-2:])
    for name, m in (("style_map", style_map), ("content_map", content_map)):
        if not isinstance(m, torch.Tensor) or tuple(m.shape) != size:
            shape = tuple(m.shape) if isinstance(m, torch.Tensor) else type(m).__name__
            raise ValueError(f"{name} must be an (H, W) map of the image's size {size}; got {shape}.")
        if not torch.isfinite(m).all():
            raise ValueError(f"{name} contains NaN or infinite values.")
    segments = segment(image, method=method, n_regions=n_regions, compactness=compactness)
    k = int(segments.max()) + 1
    if method == "slic" and k < max(2, n_regions // 4):
        # SLIC merges noise-like images into a handful of superpixels: use the grid instead
        log.warning("SLIC found %d region(s) of the %d asked for; using a grid", k, n_regions)
        method = "grid"
        segments = segment(image, method="grid", n_regions=n_regions)
        k = int(segments.max()) + 1
    flat = segments.ravel()

    def shares(m: torch.Tensor) -> np.ndarray:
        v = m.detach().double().ravel()
        total = float(v.sum())
        sums = torch.zeros(k, dtype=torch.float64).index_add_(0, flat, v)
        return (sums / abs(total)).numpy() if abs(total) > 1e-300 else sums.numpy()

    area = torch.bincount(flat, minlength=k).double().numpy() / flat.numel()
    return RegionEvidenceResult(
        image=image.detach().cpu(),
        segments=segments,
        style=shares(style_map),
        content=shares(content_map),
        area=area,
        method=method,
        n_regions=n_regions,
    )
