"""A faithfulness test for region-level style and content evidence that suits texture statistics.

Pixel deletion curves do not suit a Gram matrix: a half-deleted image has statistics far from both
ends. :func:`region_faithfulness` works with regions and a filler that keeps the statistics
meaningful. It starts from the filler and *inserts* the stylised image's regions, in the order of a
map's evidence (most first), measuring the loss that map explains after each step:

* the **style** map: the filler is the content photo (it has the layout but not the style), and
  the curve is the style loss against the painting's Gram matrices;
* the **content** map: the filler is the painting resized to the image (the style without the
  photo's shapes), and the curve is the content loss against the photo's ``relu4_2`` features.

A faithful map moves the loss from the filler's value to the image's sooner than random orders of
the same regions. Each curve is normalised (1 at the filler, 0 at the full stylised image); the
score is the random orders' mean area minus the map order's area (> 0: better than random), with a
bootstrap interval over the random orders; the map passes when the interval's lower end is above 0.

The test follows the change from the filler to the image, whichever way it goes: when the image's
loss is below the filler's, the regions with the most positive evidence
(:data:`~xstyle.explain.style.maps.SIGN_CONVENTION`: they bring the image closer to the target) go
first; when it is above (rare with these fillers; a blur of the image, say, can be closer to the
photo's content than the image), the most negative ones do. Each result also says whether the map
*can* answer (:attr:`verdict`):
``"localised"`` (the map passes), ``"uniform"`` (it does not, and neither does the best order any
map could give — the regions sorted by the loss change each causes alone — so the loss falls alike
whatever is inserted first: the picture is evenly stylised, a fact about the image), or ``"failed"``
(that order passes by at least :data:`UNIFORM_GAIN` and the map does not — the regions differ and the
map missed them — or the map's order is worse than random, its interval below 0).

The maps must explain the step the test takes: compute them with the fillers as attribution
baselines (``style_content_maps(..., baselines="filler")``, the default; :func:`filler_for`).
Maps against a black baseline say which pixels matter compared with black, which is another
question: on a planted image (left half a crop of the painting, right half the photo, 16 grid
regions) the black-baseline style map *fails* this test (gain −0.33) while the photo-baseline map
passes (gain 0.14, interval 0.03–0.23) and its inverse fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_int, check_seed
from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle.explain.attribution.targets import ContentLossTarget, StyleLossTarget
from xstyle.explain.style.maps import SIGN_CONVENTION, StyleContentResult, filler_for
from xstyle.explain.style.plots import RegionExplanationDisplay, RegionFaithfulnessDisplay
from xstyle.explain.style.regions import RegionEvidenceResult, region_evidence
from xstyle.hooks import frozen
from xstyle.images import check_rgb

__all__ = [
    "UNIFORM_GAIN",
    "VERDICTS",
    "RegionExplanation",
    "RegionFaithfulnessResult",
    "explain_regions",
    "filler_for",
    "region_faithfulness",
]

#: what a map's region test says about it (see the module docstring)
VERDICTS: tuple[str, ...] = ("localised", "uniform", "failed")
#: the gain over random below which the best order of the regions counts as no better than random
UNIFORM_GAIN = 0.05


@dataclass(frozen=True, eq=False)
class RegionFaithfulnessResult(Plottable):
    """Insertion curves of one map's regions against random orders.

    Attributes:
        which: ``"style"`` or ``"content"``; filler: what the curve starts from.
        fractions: (S + 1,) share of the image's area inserted at each point, 0 to 1.
        curve: (S + 1,) the normalised loss along the map's order (1 at the filler, 0 at the image).
        random: (R, S + 1) the same for R random orders; random_fractions: (R, S + 1) their x.
        area: the map order's area under the curve (trapezoid over ``fractions``); random_area: the
            random orders' mean.
        gain: random_area - area (> 0: the map finds the regions that carry its loss sooner);
            gain_ci: 95 % bootstrap interval over the random orders; passed: gain_ci[0] > 0.
        losses: {"filler": raw loss at the filler, "image": at the stylised image}.
        best_gain, best_gain_ci: the same for the best order a map could give (regions sorted by
            their share of the filler-to-image change per area: the mean of the change each causes
            inserted alone into the filler and removed alone from the image);
            spread: the standard deviation of the random orders' areas.
        verdict: ``"localised"``, ``"uniform"`` or ``"failed"`` (module docstring).
    """

    display: ClassVar[type[RegionFaithfulnessDisplay]] = RegionFaithfulnessDisplay

    which: str
    filler: str
    fractions: np.ndarray
    curve: np.ndarray
    random: np.ndarray
    random_fractions: np.ndarray
    area: float
    random_area: float
    gain: float
    gain_ci: tuple[float, float]
    passed: bool
    losses: dict[str, float] = field(default_factory=dict)
    best_gain: float = float("nan")
    best_gain_ci: tuple[float, float] = (float("nan"), float("nan"))
    spread: float = float("nan")

    @property
    def verdict(self) -> str:
        """``"localised"`` (passes), ``"uniform"`` (no order of the regions beats random by
        :data:`UNIFORM_GAIN`: the map cannot answer on this image) or ``"failed"``."""
        if self.passed:
            return "localised"
        worse_than_random = self.gain_ci[1] < 0
        if worse_than_random or (self.best_gain_ci[0] > 0 and self.best_gain >= UNIFORM_GAIN):
            return "failed"
        return "uniform"

    def verdict_line(self) -> str:
        """One line a reader can act on, e.g. ``"style map: localised (gain +0.14, ...)"``."""
        lo, hi = self.gain_ci
        numbers = (
            f"gain over random {self.gain:+.3f} (95 % CI {lo:+.3f} to {hi:+.3f}); best order of the "
            f"regions {self.best_gain:+.3f}, random orders' spread {self.spread:.3f}"
        )
        meaning = {
            "localised": "the map finds the regions that carry its loss",
            "uniform": "the loss is spread evenly over the picture, no map can beat random here",
            "failed": "the map does not find the regions that carry its loss",
        }[self.verdict]
        return f"{self.which} map: {self.verdict}, {meaning}: {numbers}"

    def to_dict(self) -> dict[str, Any]:
        return field_dict(
            self,
            skip=("fractions", "curve", "random", "random_fractions"),
            n_random=int(self.random.shape[0]),
            steps=len(self.fractions) - 1,
            verdict=self.verdict,
        )


def _curve(
    order: np.ndarray,
    segments: torch.Tensor,
    area: np.ndarray,
    image: torch.Tensor,
    filler: torch.Tensor,
    loss: nn.Module,
    steps: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(fractions (S + 1,), raw losses (S + 1,)) inserting regions in ``order`` in ``steps`` groups."""
    cuts = np.unique(np.linspace(0, len(order), steps + 1).round().astype(int))
    batch, fractions = [], []
    for cut in cuts:
        mask = torch.isin(segments, torch.as_tensor(order[:cut], dtype=torch.int64)).to(image.dtype)
        batch.append(filler * (1 - mask) + image * mask)
        fractions.append(float(area[order[:cut]].sum()))
    with torch.no_grad():
        values = loss(torch.cat(batch)).double().numpy()
    return np.asarray(fractions), values


def region_faithfulness(
    regions: RegionEvidenceResult,
    *,
    model: nn.Module,
    content: torch.Tensor,
    style: torch.Tensor,
    which: str = "style",
    steps: int = 8,
    n_random: int = 20,
    n_boot: int = 1000,
    seed: int = 0,
) -> RegionFaithfulnessResult:
    """Insert the stylised image's regions into a filler, most evident first, against random orders.

    Args:
        regions: the region evidence of the stylised image (its ``image`` is the one tested).
        model: the VGG19 extractor of the losses (flags restored afterwards).
        content, style: (1, 3, H, W) in [0, 1]: the photo (the style test's filler and the content
            loss's target) and the painting (the style loss's target).
        which: ``"style"`` (style map, content photo as filler, style loss) or ``"content"``
            (content map, the painting resized to the image as filler, content loss).
        steps: points of each curve after the start (regions inserted in groups).
        n_random: random orders; n_boot: bootstrap resamples of them; seed: seeds both.
    """
    if which not in ("style", "content"):
        raise ValueError(f"which must be 'style' or 'content'; got {which!r}.")
    check_int(steps, "steps", 1)
    check_int(n_random, "n_random", 2)
    check_int(n_boot, "n_boot", 10)
    check_seed(seed)
    image = regions.image
    check_rgb(content, name="content", single=True)
    check_rgb(style, name="style", single=True)
    if content.shape != image.shape:
        raise ValueError(
            f"content {tuple(content.shape)} must have the stylised image's size {tuple(image.shape)}."
        )
    filler = filler_for(which, image=image, content=content, style=style)
    if which == "style":
        filler_name, loss, shares = "content photo", StyleLossTarget(model, style), regions.style
    else:
        filler_name, loss, shares = (
            "painting",
            ContentLossTarget(model, content),
            regions.content,
        )
    k = len(shares)
    steps = min(steps, k)
    rng = np.random.default_rng(seed)
    segments = regions.segments
    with frozen(model):
        # the loss at the filler, at the image, with each region inserted alone into the filler
        # and with each region removed alone from the image
        masks = [(segments == r).to(image.dtype) for r in range(k)]
        singles = torch.cat(
            [
                filler,
                image,
                *(filler * (1 - m) + image * m for m in masks),
                *(image * (1 - m) + filler * m for m in masks),
            ]
        )
        with torch.no_grad():
            alone = torch.cat([loss(chunk) for chunk in singles.split(16)]).double().numpy()
        start, end = float(alone[0]), float(alone[1])
        # the change the test follows, filler -> image: a fall (evidence > 0 first) or a rise
        direction = 1.0 if start >= end else -1.0
        order = np.argsort(-direction * shares, kind="stable")
        # each region's part of that change, the mean of its effect at both ends of the path
        effect = 0.5 * ((alone[2 : 2 + k] - start) + (end - alone[2 + k :]))
        change = effect / (end - start if abs(end - start) > 1e-30 else 1.0)
        best = np.argsort(-change / np.maximum(regions.area, 1e-12), kind="stable")
        fractions, raw = _curve(order, segments, regions.area, image, filler, loss, steps)
        best_fractions, best_raw = _curve(best, segments, regions.area, image, filler, loss, steps)
        randoms = [
            _curve(rng.permutation(k), segments, regions.area, image, filler, loss, steps)
            for _ in range(n_random)
        ]
    span = start - end if abs(start - end) > 1e-30 else 1.0

    def normalise(values: np.ndarray) -> np.ndarray:
        return (values - end) / span

    curve = normalise(raw)
    rand = np.stack([normalise(v) for _, v in randoms])
    area = float(np.trapezoid(curve, fractions))
    best_area = float(np.trapezoid(normalise(best_raw), best_fractions))
    rand_areas = np.array([np.trapezoid(v, f) for (f, _), v in zip(randoms, rand, strict=True)])
    gains = rand_areas.mean() - area
    boot_means = np.array([rng.choice(rand_areas, size=len(rand_areas)).mean() for _ in range(n_boot)])
    lo, hi = (float(x) for x in np.percentile(boot_means - area, [2.5, 97.5]))
    best_lo, best_hi = (float(x) for x in np.percentile(boot_means - best_area, [2.5, 97.5]))
    return RegionFaithfulnessResult(
        which=which,
        filler=filler_name,
        fractions=fractions,
        curve=curve,
        random=rand,
        random_fractions=np.stack([f for f, _ in randoms]),
        area=area,
        random_area=float(rand_areas.mean()),
        gain=float(gains),
        gain_ci=(lo, hi),
        passed=bool(lo > 0),
        losses={"filler": float(start), "image": float(end)},
        best_gain=float(rand_areas.mean() - best_area),
        best_gain_ci=(best_lo, best_hi),
        spread=float(rand_areas.std(ddof=1)),
    )


@dataclass(frozen=True, eq=False)
class RegionExplanation(Plottable):
    """Where the style and the content of a stylised image live, region by region, with the
    faithfulness test of each map.

    Attributes:
        regions: the style and content evidence summed over the image's regions.
        style_test, content_test: :func:`region_faithfulness` of the style map (content photo as
            filler, style loss) and of the content map (the painting as filler, content loss).
        baselines: the attribution baselines of the maps (``"filler"`` is the one the test checks).
    """

    display: ClassVar[type[RegionExplanationDisplay]] = RegionExplanationDisplay

    regions: RegionEvidenceResult
    style_test: RegionFaithfulnessResult
    content_test: RegionFaithfulnessResult
    baselines: str

    @property
    def passed(self) -> dict[str, bool]:
        """{"style": ..., "content": ...}: whether each map beat random orders on its own loss."""
        return {"style": self.style_test.passed, "content": self.content_test.passed}

    @property
    def verdict(self) -> dict[str, str]:
        """{"style": ..., "content": ...}: ``"localised"``, ``"uniform"`` or ``"failed"`` per map."""
        return {"style": self.style_test.verdict, "content": self.content_test.verdict}

    def verdict_lines(self) -> list[str]:
        """One line per map: its verdict, what it means and the measured numbers."""
        return [self.style_test.verdict_line(), self.content_test.verdict_line()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "regions": self.regions.to_dict(),
            "baselines": self.baselines,
            "sign_convention": SIGN_CONVENTION,
            "faithfulness": {"style": self.style_test.to_dict(), "content": self.content_test.to_dict()},
            "passed": self.passed,
            "verdict": self.verdict,
        }


def explain_regions(
    maps: StyleContentResult,
    *,
    model: nn.Module,
    style: torch.Tensor,
    method: str = "slic",
    n_regions: int = 64,
    steps: int = 8,
    n_random: int = 20,
    n_boot: int = 1000,
    seed: int = 0,
) -> RegionExplanation:
    """Region-level style and content evidence of ``maps``, and the faithfulness test of both.

    Args:
        maps: :func:`~xstyle.explain.style.maps.style_content_maps` of the stylised image, best with
            ``baselines="filler"`` (the maps then explain the step the test takes; black-baseline
            maps answer another question and can fail it).
        model: the VGG19 extractor of the losses (flags restored afterwards).
        style: (1, 3, H', W') the painting in [0, 1] (the style loss's target).
        method, n_regions: the regions (:func:`~xstyle.explain.style.regions.segment`).
        steps, n_random, n_boot, seed: the test (:func:`region_faithfulness`), for both maps.
    """
    regions = region_evidence(
        maps.style_evidence["total"], maps.content_evidence, maps.image, method=method, n_regions=n_regions
    )
    test = dict(model=model, content=maps.content, style=style, steps=steps, n_random=n_random)
    return RegionExplanation(
        regions=regions,
        style_test=region_faithfulness(regions, which="style", n_boot=n_boot, seed=seed, **test),
        content_test=region_faithfulness(regions, which="content", n_boot=n_boot, seed=seed, **test),
        baselines=str(maps.options.get("baselines", "unknown")),
    )
