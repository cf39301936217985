"""Are the explanations true? Deletion/insertion curves and the model-randomisation check.

* :func:`deletion_insertion` (Petsiuk et al. 2018): remove (or insert) pixels in the order a map ranks
  them and follow the target; a faithful map moves the target faster than a random order.
* :func:`randomisation_check` (Adebayo et al. 2018, cascading): re-initialise the network's layers from
  the top down and recompute the maps; a method whose maps do not change with the weights explains
  the input, not the model, and fails.
* IG completeness is :meth:`AttributionResult.completeness`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_int, check_seed
from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle._stats import rank_correlation
from xstyle.explain.attribution.engine import AttributionResult, attribute
from xstyle.explain.attribution.plots import DeletionInsertionDisplay, RandomisationDisplay
from xstyle.hooks import frozen
from xstyle.rng import RandomStream

__all__ = [
    "DeletionInsertionResult",
    "RandomisationResult",
    "deletion_insertion",
    "randomisation_check",
]

#: a map passes the randomisation check when the Spearman correlation of its absolute values with
#: the fully randomised network's map falls below this (Adebayo et al. show maps visually; we use a
#: number so that reports can say pass/fail)
RANDOMISATION_THRESHOLD = 0.5


@dataclass(frozen=True, eq=False)
class DeletionInsertionResult(Plottable):
    """Deletion and insertion curves of one map, normalised so the input scores 1 and the baseline 0.

    Attributes:
        fractions: (K,) fraction of pixels removed/inserted, from 0 to 1.
        deletion, insertion: (K,) normalised target along the map's order.
        random_deletion, random_insertion: (K,) the same, averaged over random orders.
        deletion_auc, insertion_auc, random_deletion_auc, random_insertion_auc: areas under the curves.
        passed: deletion falls faster and insertion rises faster than for random orders.
    """

    display: ClassVar[type[DeletionInsertionDisplay]] = DeletionInsertionDisplay

    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    random_deletion: np.ndarray
    random_insertion: np.ndarray
    deletion_auc: float
    insertion_auc: float
    random_deletion_auc: float
    random_insertion_auc: float
    score: float
    baseline_score: float

    @property
    def passed(self) -> bool:
        return self.deletion_auc < self.random_deletion_auc and self.insertion_auc > self.random_insertion_auc

    def to_dict(self) -> dict[str, Any]:
        """Every field (curves as lists), then ``passed``."""
        return field_dict(self, passed=self.passed)


def _auc(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


def _curve(
    target: Callable,
    image: torch.Tensor,
    baseline: torch.Tensor,
    order: torch.Tensor,
    counts: list[int],
    *,
    insert: bool,
    batch_size: int,
) -> torch.Tensor:
    """Target values (K,) for images with the first counts[k] positions of ``order`` swapped."""
    h, w = image.shape[-2:]
    ranks = torch.empty(h * w, dtype=torch.long)
    ranks[order] = torch.arange(h * w)
    values = []
    for first in range(0, len(counts), batch_size):
        chunk = torch.tensor(counts[first : first + batch_size])
        mask = (ranks[None, :] < chunk[:, None]).reshape(-1, 1, h, w).to(image.dtype)
        if insert:
            batch = baseline * (1 - mask) + image * mask
        else:
            batch = image * (1 - mask) + baseline * mask
        with torch.no_grad():
            values.append(target(batch).detach().float())
    return torch.cat(values)


def deletion_insertion(
    target: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    saliency: torch.Tensor,
    *,
    baseline: torch.Tensor,
    steps: int = 16,
    n_random: int = 3,
    seed: int = 0,
    batch_size: int = 8,
) -> DeletionInsertionResult:
    """Deletion and insertion curves of a map for one input.

    Args:
        target: f(inputs (B, C, H, W)) -> (B,).
        image: (1, C, H, W) the explained input.
        saliency: (H, W) map, or (1, H, W) as ``AttributionResult.maps()`` gives for one image;
            pixels are removed/inserted from the highest value down. Pass the map oriented so
            that high means "moves the target from the baseline towards the input".
        baseline: (1, C, H, W) what removed pixels become (and where insertion starts).
        steps: curve points beyond the start (K = steps + 1).
        n_random: random orders averaged for the reference curves (seeded by ``seed``).
    Scores are normalised as (f - f(baseline)) / (f(image) - f(baseline)).
    """
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"image must have shape (1, C, H, W); got {tuple(image.shape)}.")
    if saliency.ndim == 3 and saliency.shape[0] == 1:  # AttributionResult.maps() of one image
        saliency = saliency[0]
    if saliency.shape != image.shape[-2:]:
        raise ValueError(
            f"saliency must be an (H, W) map of the image's size {tuple(image.shape[-2:])}; "
            f"got {tuple(saliency.shape)}."
        )
    check_int(steps, "steps", 2)
    baseline = baseline.to(image.dtype).expand_as(image)
    n = image.shape[-2] * image.shape[-1]
    counts = [round(n * k / steps) for k in range(steps + 1)]
    fractions = np.array(counts, dtype=float) / n
    nets = list(target.networks()) if hasattr(target, "networks") else []
    with frozen(*nets), torch.no_grad():
        f_x = float(target(image.detach())[0])
        f_b = float(target(baseline.detach())[0])
        scale = f_x - f_b if abs(f_x - f_b) > 1e-30 else 1.0
        order = torch.argsort(saliency.detach().flatten().float(), descending=True, stable=True)
        gen = torch.Generator().manual_seed(check_seed(seed))
        curves = {}
        for insert in (False, True):
            main = _curve(target, image, baseline, order, counts, insert=insert, batch_size=batch_size)
            rand = torch.stack(
                [
                    _curve(
                        target,
                        image,
                        baseline,
                        torch.randperm(n, generator=gen),
                        counts,
                        insert=insert,
                        batch_size=batch_size,
                    )
                    for _ in range(max(1, n_random))
                ]
            ).mean(0)
            curves[insert] = (((main - f_b) / scale).numpy(), ((rand - f_b) / scale).numpy())
    (dele, rdel), (ins, rins) = curves[False], curves[True]
    return DeletionInsertionResult(
        fractions=fractions,
        deletion=dele,
        insertion=ins,
        random_deletion=rdel,
        random_insertion=rins,
        deletion_auc=_auc(fractions, dele),
        insertion_auc=_auc(fractions, ins),
        random_deletion_auc=_auc(fractions, rdel),
        random_insertion_auc=_auc(fractions, rins),
        score=f_x,
        baseline_score=f_b,
    )


@dataclass(frozen=True, eq=False)
class RandomisationResult(Plottable):
    """Cascading model randomisation: rank correlation of maps with the trained network's map.

    Attributes:
        stages: names of the layer groups randomised cumulatively, top first.
        spearman_abs: (len(stages),) Spearman correlation of |map| with the trained |map|.
        spearman: the same for signed maps.
        method: the attribution method.
        threshold: pass when ``spearman_abs[-1] < threshold``.
        maps: (len(stages) + 1, H, W) the trained map, then one per stage.
    """

    display: ClassVar[type[RandomisationDisplay]] = RandomisationDisplay

    stages: list[str]
    spearman_abs: np.ndarray
    spearman: np.ndarray
    method: str
    threshold: float
    maps: torch.Tensor

    @property
    def passed(self) -> bool:
        return bool(self.spearman_abs[-1] < self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return field_dict(self, "stages", "spearman_abs", "spearman", "method", "threshold", "passed")


def _block_of(model: nn.Module, name: str) -> str:
    """The block a layer belongs to: VGG19's ``convN_M`` -> ``convN``; else the first item of a
    ``ModuleList``/``Sequential`` on its path (``layer2.0.conv1`` -> ``layer2.0``, ``_blocks.3._bn1``
    -> ``_blocks.3``); a layer outside any such container is its own block."""
    match = re.match(r"^(.*conv\d+)_\d+$", name)
    if match:
        return match.group(1)
    parts = name.split(".")
    module = model
    for i, part in enumerate(parts[:-1]):
        module = module.get_submodule(part)
        if isinstance(module, nn.ModuleList | nn.Sequential):
            return ".".join(parts[: i + 2])
    return name


_NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


def _parametrised_groups(model: nn.Module) -> list[tuple[str, list[nn.Module]]]:
    """Layers with weights grouped by the network's own blocks (:func:`_block_of`), in forward order.

    Convolutions, linear layers and normalisation layers are re-initialised; a normalisation layer
    outside a block joins the group before it (``bn1`` with ``conv1``).
    """
    groups: dict[str, list[nn.Module]] = {}
    last: str | None = None
    for name, module in model.named_modules():
        if not hasattr(module, "reset_parameters"):
            continue
        if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            last = _block_of(model, name)
            groups.setdefault(last, []).append(module)
        elif isinstance(module, _NORMS):
            block = _block_of(model, name)
            key = last if block == name and last is not None else block
            groups.setdefault(key, []).append(module)
    return list(groups.items())


def _spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Rank correlation of two maps; 0 where it is undefined (a constant map)."""
    rho = rank_correlation(a.flatten().double().numpy(), b.flatten().double().numpy())
    return 0.0 if rho is None or not np.isfinite(rho) else rho


def randomisation_check(
    target: Any,
    inputs: torch.Tensor,
    *,
    method: str = "ig",
    seed: int = 0,
    threshold: float = RANDOMISATION_THRESHOLD,
    reference: AttributionResult | None = None,
    **attribute_options: Any,
) -> RandomisationResult:
    """Re-initialise the target's network block by block from the top and compare the maps.

    The target's network is copied (the caller's model is never changed); each stage re-initialises
    one more group of layers (PyTorch default initialisation, seeded) and rebuilds the target on the
    copy with :meth:`Target.with_model` (for the style loss that recomputes the style Gram targets
    on the randomised network too). Maps are attributions of sample 0 summed over channels.

    Args:
        target: an xstyle Target.
        inputs: (1, ...) the explained input.
        method, attribute_options: as :func:`attribute`.
        reference: the trained network's result, if already computed.
    """
    if not hasattr(target, "with_model"):
        raise ValueError("randomisation_check needs an xstyle Target (it must rebuild on a copied network).")

    def as_map(result: AttributionResult) -> torch.Tensor:
        a = result.attributions[0]
        return a.sum(0) if a.ndim == 3 else a

    if reference is None:
        reference = attribute(target, inputs, method=method, seed=seed, **attribute_options)
    trained = as_map(reference)
    model = copy.deepcopy(target.model)
    groups = _parametrised_groups(model)
    if not groups:
        raise ValueError("the target's network has no Conv/Linear layers to randomise.")
    stages, rho_abs, rho, maps = [], [], [], [trained]
    with RandomStream(seed).active():  # the re-initialisations are seeded, the caller's RNG kept
        for name, modules in reversed(groups):
            for module in modules:
                module.reset_parameters()
            result = attribute(
                target.with_model(model), inputs, method=method, seed=seed, **attribute_options
            )
            current = as_map(result)
            stages.append(name)
            rho_abs.append(_spearman(trained.abs(), current.abs()))
            rho.append(_spearman(trained, current))
            maps.append(current)
    return RandomisationResult(
        stages=stages,
        spearman_abs=np.array(rho_abs),
        spearman=np.array(rho),
        method=method,
        threshold=threshold,
        maps=torch.stack(maps),
    )
