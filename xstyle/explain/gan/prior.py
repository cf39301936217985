"""Which digit each component of a generator's latent prior became.

A DCGAN trained with a mixture prior (``xstyle gan train --prior mixture:K:R:S``, see
:mod:`xstyle.gan.prior`) draws z from K Gaussians with fixed, separated means. Nothing tells the
generator which component should become which digit; training decides. :func:`prior_components`
asks what it decided: it draws the same number of latents from every component, classifies the
generated digits and reports, per component, the digits it produces and how confidently they are
recognised. A component that became one digit is "pure"; one the generator splits between two
digits produces blends near the split, which is where unconfident samples come from. It also asks
whether confidence falls with the distance of z from its component's mean (if it does, a narrower
prior -- truncation -- would trade diversity for recognisability; if not, it would not help).

For the design's N(0, I) prior (one component at the origin) the same numbers describe the whole
latent space: the class mix, and confidence against ``|z|``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_int, check_seed
from xstyle._json import field_dict
from xstyle._limits import check_memory, gan_eval_bytes
from xstyle._plotting import Plottable
from xstyle.explain.gan._common import generate, latent_dim_of
from xstyle.explain.gan.plots import PriorComponentsDisplay
from xstyle.gan.classifier import DigitClassifier
from xstyle.gan.metrics import CONFIDENT, classifier_outputs
from xstyle.gan.prior import prior_of, with_labels

__all__ = ["PriorComponentsResult", "prior_components"]

#: A component "became" a digit when at least this share of its samples is that digit.
PURE = 0.9


@dataclass(frozen=True, eq=False)
class PriorComponentsResult(Plottable):
    """What each component of the latent prior produces (see the module docstring).

    Attributes:
        prior: the prior's spec, e.g. ``"mixture:10:4:1"`` or ``"normal"``.
        counts: (K, 10) int, generated digits per component and predicted class.
        confident: (K,) share of each component's digits with max class probability >= 0.9.
        distance_edges: (Q + 1,) edges of the quantile bins of ``|z - mean| / scale``
            (the first is 0, the last the largest distance seen).
        confident_by_distance: (Q,) confident share of the samples in each distance bin (equal
            counts), nearest bin first; NaN for a bin left empty by very few samples.
        n_per_component: latents drawn from each component.
        seed: seeds the latents.
    """

    display: ClassVar[type[PriorComponentsDisplay]] = PriorComponentsDisplay

    prior: str
    counts: np.ndarray
    confident: np.ndarray
    distance_edges: np.ndarray
    confident_by_distance: np.ndarray
    n_per_component: int
    seed: int

    @property
    def n_components(self) -> int:
        return int(self.counts.shape[0])

    @property
    def dominant(self) -> np.ndarray:
        """(K,) the digit each component produces most."""
        return self.counts.argmax(axis=1)

    @property
    def purity(self) -> np.ndarray:
        """(K,) share of each component's digits that are its dominant digit, in [0.1, 1]."""
        return self.counts.max(axis=1) / self.counts.sum(axis=1).clip(min=1)

    @property
    def pure(self) -> np.ndarray:
        """(K,) bool: the component became one digit (purity >= 0.9)."""
        return self.purity >= PURE

    @property
    def unowned_digits(self) -> list[int]:
        """Digits that are no component's dominant digit (rare, or only part of others' mixes)."""
        return sorted(set(range(10)) - {int(d) for d in self.dominant})

    def distance_summary(self) -> str:
        """The confident share per distance bin as text, e.g. ``"88.5 %, 86.5 %, 84.7 %, 84.2 %"``."""
        return ", ".join("–" if np.isnan(v) else f"{100 * v:.1f} %" for v in self.confident_by_distance)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers."""
        return field_dict(
            self, dominant=self.dominant, purity=self.purity, unowned_digits=self.unowned_digits
        )


def prior_components(
    generator: nn.Module,
    classifier: DigitClassifier,
    *,
    n_per_component: int = 500,
    seed: int = 0,
    distance_bins: int = 4,
    batch_size: int = 500,
) -> PriorComponentsResult:
    """Draw ``n_per_component`` latents from every component of ``generator``'s prior and classify G(z).

    Args:
        generator: maps z (B, latent_dim) to digits (B, 1, 28, 28) in [-1, 1]; its prior comes from
            :func:`xstyle.gan.prior.prior_of` (N(0, I), one component, when it has none).
        classifier: the digit scorer, e.g. from :func:`xstyle.gan.classifier.load_classifier`.
        n_per_component: latents per component (>= 1).
        seed: seeds a CPU ``torch.Generator`` for the latents (same seed, same numbers).
        distance_bins: quantile bins of the distance to the component mean (>= 1).
        batch_size: digits per forward pass.

    Both models run in eval mode without gradients (:func:`xstyle.explain.gan.probes.generate`); their
    ``training`` flags are restored.

    Returns:
        A :class:`PriorComponentsResult` with K rows, K the prior's number of components (1 for
        N(0, I)).
    """
    check_seed(seed)
    check_int(n_per_component, "n_per_component", 1)
    check_int(distance_bins, "distance_bins", 1)
    check_int(batch_size, "batch_size", 1)
    prior = prior_of(generator)
    n_classes = int(getattr(generator, "n_classes", 0))
    latent_dim = latent_dim_of(generator) - n_classes
    check_memory(  # all K * n latents, digits and scores are kept
        "n_per_component",
        n_per_component,
        lambda n: gan_eval_bytes(n * prior.components),
        what=f"{prior.components} component(s) of generated digits and their scores",
    )
    rng = torch.Generator().manual_seed(seed)
    component = torch.arange(prior.components).repeat_interleave(n_per_component)
    z = prior.component_sample(component, latent_dim, generator=rng)
    distance = ((z - prior.means(latent_dim)[component]).norm(dim=1) / prior.scale).numpy()
    if n_classes:  # a conditional generator: balanced labels, the same for every component
        z = with_labels(z, torch.arange(len(z)) % n_classes, n_classes=n_classes)
    digits, _ = generate(generator, z, batch_size=batch_size)
    probs, _ = classifier_outputs(classifier, digits, batch_size=batch_size)
    confidence, predicted = (t.numpy() for t in probs.max(dim=1))
    confident = confidence >= CONFIDENT
    k = component.numpy()
    counts = np.zeros((prior.components, 10), dtype=np.int64)
    np.add.at(counts, (k, predicted), 1)
    per_component = np.bincount(k, weights=confident, minlength=prior.components) / n_per_component
    edges = np.quantile(distance, np.linspace(0, 1, distance_bins + 1))
    edges[0] = 0.0
    bins = np.clip(np.searchsorted(edges, distance, side="right") - 1, 0, distance_bins - 1)
    by_distance = np.array(
        [confident[bins == b].mean() if (bins == b).any() else np.nan for b in range(distance_bins)]
    )
    return PriorComponentsResult(
        prior=prior.spec,
        counts=counts,
        confident=per_component,
        distance_edges=edges,
        confident_by_distance=by_distance,
        n_per_component=n_per_component,
        seed=seed,
    )
