"""Training dynamics of latent probes: when each attribute becomes linearly readable during training.

For every checkpoint saved while a DCGAN trained (on any data set: digits, emoji), :func:`probe_dynamics`
draws the *same* seeded latents, generates and measures the images
(:func:`~xstyle.explain.gan.probes.sample_latents`; the measures of the checkpoints' data set,
:func:`~xstyle.explain.gan.measures.dataset_measures`, unless given) and
builds the layer x attribute probe table (:func:`~xstyle.explain.gan.probes.probe_layers`). Stacked over
the checkpoints' epochs this gives, per attribute and stage, a curve of probe score against epoch.

Probe scores are accuracy for ``class`` (chance: the majority-class share at that epoch) and
cross-validated R² for the other attributes (chance 0). An attribute is called *readable* at a stage
from the first epoch whose chance-normalised score ``(score - chance) / (1 - chance)`` reaches a
threshold (0.5 by default: R² >= 0.5, or accuracy half way from chance to 1) and stays there in
every later checkpoint (:meth:`ProbeDynamicsResult.readable_epochs`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from torch import nn

from xstyle.explain.gan._common import ProbeGrid, by_stage

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from xstyle.explain.gan.plots import ProbeDynamicsDisplay

__all__ = ["ProbeDynamicsResult", "find_checkpoints", "probe_dynamics"]


#: The names ``xstyle gan train`` gives its checkpoints: ``epoch_NNNN.pt`` (four digits or more).
_CHECKPOINT_NAME = re.compile(r"epoch_\d{4,}\.pt")


def find_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """The checkpoints ``epoch_NNNN.pt`` a training run wrote into ``run_dir`` (sorted by name).

    Only files named as the trainer names them count: another ``.pt`` in the folder (a release, a
    copy, ``epoch_best.pt``) is not one of the run's checkpoints and is ignored. Raises ValueError
    when the folder does not exist or holds no checkpoint.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise ValueError(f"run folder {str(folder)!r} does not exist (give the --out of `xstyle gan train`).")
    found = sorted(p for p in folder.glob("epoch_*.pt") if _CHECKPOINT_NAME.fullmatch(p.name) and p.is_file())
    if not found:
        raise ValueError(
            f"run folder {str(folder)!r} holds no .pt checkpoint (expected epoch_NNNN.pt files)."
        )
    return found


@dataclass(frozen=True, eq=False)
class ProbeDynamicsResult(ProbeGrid):
    """Probe scores of each attribute at each generator stage across training checkpoints.

    Attributes:
        epochs: (E,) the checkpoints' epochs, increasing.
        checkpoints: where each checkpoint came from (a path, or ``"<in memory>"``), in epoch order.
        stages: ``"z"`` first, then the tapped generator stages in forward order.
        attributes: the probed attributes.
        metrics: per attribute, ``"accuracy"`` (``class``) or ``"r2"``.
        scores: (A, S, E) mean cross-validated scores (attribute x stage x epoch); NaN where the
            attribute took a single value at that epoch (nothing to probe).
        score_std: (A, S, E) their fold standard deviations.
        chance: (A, E) the score of guessing at each epoch (majority-class share; 0 for R²).
        n_samples, n_components, cv, seed: the setting (the same latents at every epoch).
        timings: seconds per checkpoint, in epoch order.
    """

    epochs: np.ndarray
    checkpoints: tuple[str, ...]
    stages: tuple[str, ...]
    attributes: tuple[str, ...]
    metrics: tuple[str, ...]
    scores: np.ndarray
    score_std: np.ndarray
    chance: np.ndarray
    n_samples: int
    n_components: int | None
    cv: int
    seed: int
    timings: tuple[float, ...]

    def curve(self, attribute: str, stage: str = "z") -> np.ndarray:
        """The (E,) scores of ``attribute`` read from ``stage``, one per epoch."""
        s, a = self._locate(stage, attribute)
        return self.scores[a, s].copy()

    def normalized(self) -> np.ndarray:
        """(A, S, E) chance-normalised scores ``(score - chance) / (1 - chance)``: 0 chance, 1 perfect."""
        chance = self.chance[:, None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(chance < 1, (self.scores - chance) / (1 - chance), np.nan)

    def readable_epochs(self, *, threshold: float = 0.5) -> dict[str, dict[str, int | None]]:
        """stage -> attribute -> the first epoch from which the attribute stays readable.

        Readable: chance-normalised score >= ``threshold`` at that epoch and at every later one.
        ``None`` when it is not readable at the last checkpoint (or was never probed).
        """
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must lie in (0, 1]; got {threshold!r}.")
        norm = self.normalized()
        out: dict[str, dict[str, int | None]] = {}
        for s, stage in enumerate(self.stages):
            out[stage] = {}
            for a, attr in enumerate(self.attributes):
                ok = np.nan_to_num(norm[a, s], nan=-np.inf) >= threshold - 1e-9  # float slack
                first = None
                for e in range(len(self.epochs) - 1, -1, -1):
                    if not ok[e]:
                        break
                    first = int(self.epochs[e])
                out[stage][attr] = first
        return out

    def to_dict(self, *, threshold: float = 0.5) -> dict[str, Any]:
        """Every number as JSON-ready data (NaN -> ``None``); scores as stage -> attribute -> (E,)."""

        def nums(values: np.ndarray) -> list[float | None]:
            return [None if np.isnan(v) else float(v) for v in values]

        return {
            "epochs": [int(e) for e in self.epochs],
            "checkpoints": list(self.checkpoints),
            "stages": list(self.stages),
            "attributes": list(self.attributes),
            "metrics": self._metric_map(),
            "scores": by_stage(self.scores, self.stages, self.attributes, attribute_first=True),
            "score_std": by_stage(self.score_std, self.stages, self.attributes, attribute_first=True),
            "chance": {a: nums(self.chance[j]) for j, a in enumerate(self.attributes)},
            "readable_threshold": threshold,
            "readable_epochs": self.readable_epochs(threshold=threshold),
            "n_samples": self.n_samples,
            "n_components": self.n_components,
            "cv": self.cv,
            "seed": self.seed,
            "timings": list(self.timings),
        }

    def plot(
        self, *, stages: Sequence[str] | None = None, axes: Sequence[Axes] | None = None
    ) -> ProbeDynamicsDisplay:
        """Probe score against epoch, one line per attribute, one panel per stage.

        ``stages``: the panels (default every stage); ``axes``: as many matplotlib axes to draw on.
        Returns a ``ProbeDynamicsDisplay``.
        """
        from xstyle.explain.gan.plots import ProbeDynamicsDisplay

        return ProbeDynamicsDisplay.from_result(self, stages=stages).plot(ax=axes)


def _load(item: Any) -> tuple[nn.Module, int, str, str]:
    """(generator, epoch, label, data set) of a checkpoint path or a loaded ``GANCheckpoint``."""
    from xstyle.gan.train import GANCheckpoint, load_checkpoint

    if isinstance(item, GANCheckpoint):
        label = str(item.path) if item.path else "<in memory>"
        return item.sampler, int(item.epoch), label, str(item.config.dataset)
    ckpt = load_checkpoint(item)
    return ckpt.sampler, int(ckpt.epoch), str(item), str(ckpt.config.dataset)


def _read_epochs(items: list[Any], stages: Sequence[str] | None) -> tuple[dict[int, tuple[str, Any]], str]:
    """epoch -> (label, item) of every checkpoint, and their one data set; one line for a repeated
    epoch, checkpoints of different data sets or a stage the first generator lacks."""
    from xstyle.hooks import resolve_layers

    seen: dict[int, tuple[str, Any]] = {}
    datasets: dict[str, str] = {}
    for item in items:
        generator, epoch, label, dataset = _load(item)
        if stages and not seen:
            resolve_layers(generator, list(stages), param="stages")
        if epoch in seen:
            raise ValueError(
                f"checkpoints {seen[epoch][0]!r} and {label!r} are both from epoch {epoch}; "
                "pass each epoch once."
            )
        seen[epoch] = (label, item)
        datasets.setdefault(dataset, label)
    if len(datasets) > 1:
        named = ", ".join(f"{d} ({label!r})" for d, label in datasets.items())
        raise ValueError(f"checkpoints come from different data sets: {named}; probe one training run's.")
    return seen, next(iter(datasets))


def probe_dynamics(
    checkpoints: Sequence[str | os.PathLike | Any],
    classifier: nn.Module | None,
    *,
    n: int = 1000,
    seed: int = 0,
    stages: Sequence[str] | None = None,
    attributes: Sequence[str] | None = None,
    cv: int = 5,
    n_components: int | None = 128,
    style: bool = False,
    batch_size: int = 250,
    progress: Any = None,
    measures: Any = None,
) -> ProbeDynamicsResult:
    """Probe every attribute at every generator stage, for each training checkpoint.

    Args:
        checkpoints: paths of DCGAN checkpoints of one data set (``epoch_NNNN.pt``, e.g. from
            :func:`find_checkpoints`) or loaded :class:`~xstyle.gan.train.GANCheckpoint` objects, in
            any order; each one's epoch is read from the checkpoint, and the result is sorted by it.
            Paths are loaded (``weights_only=True``) once up front for their epochs, so that bad
            files and repeated epochs fail early, then again one at a time to be probed.
        classifier: the scorer of the images (any module returning logits, e.g. the data set's
            shipped classifier) adding ``class`` and ``confidence`` (``None``: the measures only).
        n: latent samples per checkpoint (>= 2); the same seeded latents at every epoch.
        seed: seeds the latents, folds and PCA: same seed, same numbers.
        stages, attributes, cv, n_components: as in :func:`~xstyle.explain.gan.probes.probe_layers`
            (``stages`` are tapped with :class:`~xstyle.hooks.FeatureTap`; default
            :data:`~xstyle.explain.gan.probes.GENERATOR_STAGES`).
        style: also measure and probe ``gram_energy`` (needs ``classifier``).
        progress: optional callable ``(epoch, seconds)`` called after each checkpoint.
        measures: what to measure (names of :mod:`~xstyle.explain.gan.measures` and/or callables);
            default: the checkpoints' data set's (:func:`~xstyle.explain.gan.measures.dataset_measures`:
            the digit measures for MNIST, colour, shape and skin tone for emoji).

    Every generator is run in eval mode without gradients; a loaded checkpoint's ``training`` flag is
    restored and no hook outlives the call, also when a forward pass raises.

    Raises:
        ValueError: no checkpoint, a missing or invalid file, two checkpoints of the same epoch or
            of different data sets, or bad options (before any checkpoint is probed where it can be
            told up front).
    """
    from xstyle._checks import check_int
    from xstyle.explain.gan.measures import dataset_measures
    from xstyle.explain.gan.probes import probe_layers, sample_latents
    from xstyle.gan.train import GANCheckpoint

    items = list(checkpoints) if not isinstance(checkpoints, (str, os.PathLike)) else [checkpoints]
    if not items:
        raise ValueError("checkpoints is empty; pass at least one checkpoint (.pt) of a training run.")
    for item in items:
        if not isinstance(item, GANCheckpoint) and not Path(item).is_file():
            raise ValueError(
                f"checkpoint {str(item)!r} does not exist (give .pt files written by `xstyle gan train`)."
            )
    check_int(n, "n", 2)
    check_int(cv, "cv", 2)
    if n_components is not None:
        check_int(n_components, "n_components", 1)
    if style and classifier is None:
        raise ValueError("style=True measures the scorer's Gram energy; pass a classifier as well.")
    # a first pass reads every epoch, so that bad files and repeated epochs fail before the long part
    seen, dataset = _read_epochs(items, stages)
    rows: list[tuple[int, str, Any, float]] = []
    for epoch in sorted(seen):
        label, item = seen[epoch]
        t0 = time.perf_counter()
        generator = _load(item)[0]
        if measures is None and dataset != "mnist":  # digits keep their measures exactly as before
            measures = dataset_measures(dataset, channels=int(getattr(generator, "channels", 3) or 3))
        samples = sample_latents(
            generator,
            classifier=classifier,
            n=n,
            seed=seed,
            stages=stages,
            style=style,
            batch_size=batch_size,
            measures=measures,
        )
        table = probe_layers(
            samples, attributes=attributes, cv=cv, n_components=n_components, random_state=seed
        )
        del samples, generator
        seconds = time.perf_counter() - t0
        rows.append((epoch, label, table, seconds))
        if progress is not None:
            progress(epoch, seconds)
    tables = [r[2] for r in rows]
    first = tables[0]
    for t in tables[1:]:
        if t.stages != first.stages or t.attributes != first.attributes:
            raise ValueError(
                "checkpoints differ in their stages or attributes; probe checkpoints of one architecture."
            )
    # (E, S, A) -> (A, S, E)
    scores = np.stack([t.scores for t in tables]).transpose(2, 1, 0).copy()
    stds = np.stack([t.score_std for t in tables]).transpose(2, 1, 0).copy()
    chance = np.stack([t.chance for t in tables]).T.copy()
    return ProbeDynamicsResult(
        epochs=np.array([r[0] for r in rows], dtype=np.int64),
        checkpoints=tuple(r[1] for r in rows),
        stages=first.stages,
        attributes=first.attributes,
        metrics=first.metrics,
        scores=scores,
        score_std=stds,
        chance=chance,
        n_samples=int(n),
        n_components=n_components,
        cv=int(cv),
        seed=int(seed),
        timings=tuple(float(r[3]) for r in rows),
    )
