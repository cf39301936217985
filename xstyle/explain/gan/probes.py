"""Latent-space probes: what a GAN's generated digits look like, and where in the generator it is decided.

For N seeded latents z from the generator's prior (:func:`xstyle.gan.prior.draw_latents`; N(0, I) by
default) the generator's digits are measured (:func:`measure_digits`):

* ``class`` and ``confidence`` -- the scorer's argmax class and its softmax probability;
* ``ink`` -- ink mass, the sum of pixel intensities mapped to [0, 1] (in pixels; a 3x10 bar has 30);
* ``thickness`` -- stroke thickness in pixels from a Euclidean distance transform: twice the mean
  distance to the background along the stroke's ridge (a bar of width w measures w);
* ``slant`` -- horizontal shear from second image moments, ``-mu_rc / mu_rr``; positive when the digit
  leans right (its top lies right of its bottom), 0 for upright digits; ``tan`` of the lean angle;
* ``width`` / ``height`` -- ``sqrt(12 * variance)`` of the ink along columns (after removing the slant)
  and rows: the extent of a uniform band with the same spread (a w-wide upright bar measures w);
* ``gram_energy`` (optional) -- the style statistic of the digit: Frobenius norm of the
  mean-normalised Gram matrix of the scorer's first ReLU layer (``act1``), divided by its 32 channels.

:func:`sample_latents` generates the digits, taps the generator's stages with
:class:`~xstyle.hooks.FeatureTap` and measures them; :func:`fit_probe` fits one cross-validated linear
probe (scikit-learn); :func:`probe_layers` builds the layer x attribute table -- how well each attribute
can be read linearly from z and from each generator stage, i.e. where in the generator it is decided.
:func:`explain_latent` runs the whole analysis (probes, directions, traversals, comparison).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_int, check_matrix
from xstyle._plotting import Plottable
from xstyle.explain.gan._common import (
    ATTRIBUTES,
    GENERATOR_STAGES,
    LatentSamples,
    ProbeGrid,
    ProbeResult,
    by_stage,
    fit_probe,
    generate,  # noqa: F401 - re-exported (benchmarks/bench_latent.py)
    measure_digits,
    resolve_generator,
    sample_latents,
)
from xstyle.explain.gan.measures import default_measures
from xstyle.explain.gan.plots import ProbeTableDisplay
from xstyle.rng import RandomStream

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from xstyle.explain.gan.directions import Direction, DirectionComparison
    from xstyle.explain.gan.plots import DirectionSimilarityDisplay
    from xstyle.explain.gan.traversal import TraversalResult

__all__ = [
    "ATTRIBUTES",
    "GENERATOR_STAGES",
    "LatentResult",
    "LatentSamples",
    "ProbeResult",
    "ProbeTableResult",
    "default_attributes",
    "explain_latent",
    "find_directions",
    "fit_probe",
    "measure_digits",
    "probe_layers",
    "sample_latents",
    "traversal_alignment",
]


@dataclass(frozen=True, eq=False)
class ProbeTableResult(ProbeGrid, Plottable):
    """How well each attribute is read linearly from z and from each generator stage.

    Attributes:
        stages: row names, ``"z"`` first, then the tapped stages in forward order.
        attributes: column names.
        metrics: per attribute, ``"accuracy"`` (``class``) or ``"r2"`` (the others).
        scores: (S, A) mean cross-validated scores; ``score_std`` (S, A) their fold standard deviation;
            NaN (``None`` in JSON) for an attribute that took a single value (nothing to probe).
        chance: (A,) the score of guessing (majority-class share; 0 for R²).
        n_features: per stage, the features the probes saw (after PCA).
        n_samples, n_components, cv, random_state: the setting.
    """

    display: ClassVar[type[ProbeTableDisplay]] = ProbeTableDisplay

    stages: tuple[str, ...]
    attributes: tuple[str, ...]
    metrics: tuple[str, ...]
    scores: np.ndarray
    score_std: np.ndarray
    chance: np.ndarray
    n_features: tuple[int, ...]
    n_samples: int
    n_components: int | None
    cv: int
    random_state: int | None

    def score_of(self, stage: str, attribute: str) -> float:
        """The mean cross-validated score of ``attribute`` read from ``stage``."""
        return float(self.scores[self._locate(stage, attribute)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": list(self.stages),
            "attributes": list(self.attributes),
            "metrics": self._metric_map(),
            "chance": {a: float(c) for a, c in zip(self.attributes, self.chance, strict=True)},
            "scores": by_stage(self.scores, self.stages, self.attributes),
            "score_std": by_stage(self.score_std, self.stages, self.attributes),
            "n_features": dict(zip(self.stages, self.n_features, strict=True)),
            "n_samples": self.n_samples,
            "n_components": self.n_components,
            "cv": self.cv,
            "random_state": self.random_state,
        }


def _pca_scores(x: torch.Tensor | np.ndarray, k: int, *, seed: int) -> np.ndarray:
    """Scores (N, k) of x (N, F) on its top-k principal axes (randomized SVD, float32, seeded).

    ``torch.svd_lowrank`` with two power iterations: several times faster than scikit-learn's
    randomized PCA in float64 on (2000, 12544) activations, and accurate enough to span the
    high-variance subspace that the probes read. The caller's torch RNG is left untouched.
    """
    t = torch.as_tensor(x).detach().float().cpu()
    if t.ndim != 2 or not torch.isfinite(t).all():
        raise ValueError(f"activations must be finite (N, F) numbers; got shape {tuple(t.shape)}.")
    t = t - t.mean(dim=0, keepdim=True)
    with RandomStream(seed).active():
        u, s, _ = torch.svd_lowrank(t, q=min(k + 10, min(t.shape)), niter=2)
    return (u[:, :k] * s[:k]).double().numpy()


def probe_layers(
    samples: LatentSamples,
    *,
    attributes: Sequence[str] | None = None,
    stages: Sequence[str] | None = None,
    cv: int = 5,
    n_components: int | None = 128,
    random_state: int | None = 0,
) -> ProbeTableResult:
    """The layer x attribute table: cross-validated linear probes of each attribute on each stage.

    ``class`` is probed by logistic regression (accuracy), the other attributes by ridge regression
    (R²). Stages wider than ``n_components`` are first reduced to their top principal components,
    computed on all samples without their labels (no attribute information leaks into the folds),
    which keeps the probes cheap and comparable across stages; ``z`` (100-d) is probed as is.
    ``n_components=None`` skips the reduction.

    Args:
        samples: from :func:`sample_latents`.
        attributes: columns; default every attribute in ``samples``.
        stages: rows besides ``"z"``; default every tapped stage.
        cv, random_state: as in :func:`fit_probe`.
    """
    names = list(samples.attributes) if attributes is None else list(attributes)
    unknown = [a for a in names if a not in samples.attributes]
    if unknown or not names:
        raise ValueError(
            f"attributes must be names from {sorted(samples.attributes)}; got {unknown or names!r}."
        )
    rows = list(samples.activations) if stages is None else list(stages)
    bad = [s for s in rows if s not in samples.activations and s != "z"]
    if bad:
        raise ValueError(f"stages must be tapped stages {sorted(samples.activations)} (or 'z'); got {bad!r}.")
    if n_components is not None:
        check_int(n_components, "n_components", 1)
    rows = ["z", *[s for s in rows if s != "z"]]
    scores = np.zeros((len(rows), len(names)))
    stds = np.zeros_like(scores)
    chance = np.zeros(len(names))
    n_features = []
    for i, stage in enumerate(rows):
        raw = samples.z if stage == "z" else samples.activations[stage]
        if n_components is not None and raw.shape[1] > n_components and stage != "z":
            x = _pca_scores(raw, min(n_components, raw.shape[0] - 1), seed=random_state or 0)
        else:
            x = check_matrix(raw, f"activations[{stage!r}]")
        n_features.append(int(x.shape[1]))
        for j, attr in enumerate(names):
            kind = "classification" if attr == "class" else "regression"
            y = np.asarray(samples.attributes[attr])
            if np.unique(y).size < 2:  # one class / a constant: nothing to read, recorded as NaN
                scores[i, j] = stds[i, j] = np.nan
                chance[j] = 1.0 if kind == "classification" else 0.0
                continue
            res = fit_probe(x, y, kind=kind, cv=cv, random_state=random_state)
            scores[i, j], stds[i, j], chance[j] = res.score, res.score_std, res.chance
    return ProbeTableResult(
        stages=tuple(rows),
        attributes=tuple(names),
        metrics=tuple("accuracy" if a == "class" else "r2" for a in names),
        scores=scores,
        score_std=stds,
        chance=chance,
        n_features=tuple(n_features),
        n_samples=samples.n,
        n_components=n_components,
        cv=int(cv),
        random_state=random_state,
    )


# ------------------------------------------------------------------------------- whole analysis


def traversal_alignment(traversals: Sequence[TraversalResult]) -> list[dict[str, Any]]:
    """Per traversal: its direction, the attribute it changes most (in attribute standard
    deviations), its target, disentanglement and flip rate (:meth:`LatentResult.alignment`)."""
    return [
        {
            "direction": t.direction.label,
            "dominant_attribute": t.dominant,
            "change": t.changes[t.dominant] if t.dominant else 0.0,
            "target": t.target,
            "disentanglement": t.disentanglement,
            "flip_rate": t.flip_rate,
        }
        for t in traversals
    ]


@dataclass(frozen=True, eq=False)
class LatentResult:
    """Everything :func:`explain_latent` measured.

    Attributes:
        samples: the measured samples (``activations`` dropped to save memory).
        probes: the layer x attribute table.
        directions: every direction found (InterFaceGAN, conditional, GANSpace, SeFa).
        traversals: one traversal per direction, in the same order.
        comparison: cosine similarities between the directions and the best matches.
        config: the options of the run; timings: seconds per phase.
    """

    samples: LatentSamples
    probes: ProbeTableResult
    directions: tuple[Direction, ...]
    traversals: tuple[TraversalResult, ...]
    comparison: DirectionComparison
    config: Mapping[str, Any]
    timings: Mapping[str, float]

    def alignment(self) -> list[dict[str, Any]]:
        """Per direction: the attribute its traversal changes most (in attribute standard deviations)."""
        return traversal_alignment(self.traversals)

    def to_dict(self) -> dict[str, Any]:
        """Every number as JSON-ready data."""
        return {
            "config": dict(self.config),
            "samples": self.samples.summary(),
            "probes": self.probes.to_dict(),
            "directions": [d.to_dict() for d in self.directions],
            "traversals": [t.to_dict() for t in self.traversals],
            "comparison": self.comparison.to_dict(),
            "alignment": self.alignment(),
            "timings": dict(self.timings),
        }

    def plot(
        self, *, kind: str = "probes", ax: Axes | None = None
    ) -> ProbeTableDisplay | DirectionSimilarityDisplay:
        """``kind="probes"``: the probe heatmap; ``"similarity"``: the direction cosine heatmap."""
        if kind == "probes":
            return self.probes.plot(ax=ax)
        if kind == "similarity":
            return self.comparison.plot(ax=ax)
        raise ValueError(f"kind must be 'probes' or 'similarity'; got {kind!r}.")


METHODS = ("interfacegan", "ganspace", "sefa")


def _check_direction_options(
    methods: Sequence[str],
    attributes: Sequence[str],
    conditional: Sequence[tuple[str, str]],
    n_components: int,
    style: bool,
    allowed: Sequence[str] | None = None,
) -> list[str]:
    methods = list(methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"methods must be a non-empty subset of {list(METHODS)}; got {methods!r}.")
    check_int(n_components, "n_components", 1)
    wanted = [*attributes, *(a for pair in conditional for a in pair)]
    if allowed is None:  # the digit attributes (other measures are checked against the samples)
        allowed = [a for a in ATTRIBUTES if a != "class" and (style or a != "gram_energy")]
        bad = [a for a in wanted if a == "class" or (a in ATTRIBUTES and a not in allowed) or not a]
    else:
        bad = [a for a in wanted if a not in allowed]
    if bad:
        raise ValueError(f"attributes must be names from {list(allowed)}; got {bad!r}.")
    return methods


#: the digit generator's default InterFaceGAN attributes and conditional pair
DIGIT_ATTRIBUTES = ("confidence", "ink", "thickness", "slant", "width")
DIGIT_CONDITIONAL = (("thickness", "ink"),)


def default_attributes(
    generator: nn.Module,
    attributes: Sequence[str] | None,
    conditional: Sequence[tuple[str, str]] | None,
    *,
    classifier: bool = True,
    measures: Any = None,
    samples: LatentSamples | None = None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """The attributes and conditional pairs to use where None is given: for grey digits measured
    by default, the digit ones (``confidence``, ``ink``, ``thickness``, ``slant``, ``width``;
    thickness holding ink); otherwise every measured number (``confidence`` with a classifier,
    then the measures) and no conditional pair."""
    if samples is not None:
        numeric = [a for a in samples.attributes if a != "class"]
        digits = samples.images.shape[1] == 1 and set(DIGIT_ATTRIBUTES[1:]) <= set(samples.attributes)
    else:
        channels = int(getattr(generator, "channels", 1) or 1)
        digits = measures is None and channels == 1
        names = default_measures(channels) if measures is None else _measure_names(measures)
        numeric = (["confidence"] if classifier else []) + [n for n in names if n != "class"]
    if attributes is None:
        attributes = list(DIGIT_ATTRIBUTES) if digits else numeric
        if not classifier and samples is None:
            attributes = [a for a in attributes if a != "confidence"]
    if conditional is None:
        conditional = list(DIGIT_CONDITIONAL) if digits else []
    return list(attributes), [tuple(p) for p in conditional]


def _measure_names(measures: Any) -> list[str]:
    if isinstance(measures, str):
        return [measures]
    if isinstance(measures, Mapping):
        return list(measures)
    return [m if isinstance(m, str) else getattr(m, "__name__", type(m).__name__) for m in measures]


def find_directions(
    generator: nn.Module,
    samples: LatentSamples,
    *,
    methods: Sequence[str] = METHODS,
    attributes: Sequence[str] | None = None,
    conditional: Sequence[tuple[str, str]] | None = None,
    n_components: int = 5,
    style: bool = False,
    cv: int = 5,
    random_state: int | None = 0,
) -> list[Direction]:
    """Latent directions of ``generator`` by each method, from measured ``samples``.

    InterFaceGAN boundaries (one per attribute, then the ``(moved, held)`` conditional directions)
    are fitted on ``samples.z`` and ``samples.attributes``; GANSpace reads the first tapped stage of
    ``samples.activations``; SeFa reads the generator's first Linear layer. Options as in
    :func:`explain_latent` (``style`` allows ``"gram_energy"`` among the attributes).

    ``attributes``/``conditional`` None: the defaults for the generator's images
    (:func:`default_attributes`).

    Returns:
        The directions in method order (InterFaceGAN, conditional, GANSpace, SeFa).
    """
    generator = resolve_generator(generator)
    attributes, conditional = default_attributes(generator, attributes, conditional, samples=samples)
    from xstyle.explain.gan.directions import (
        conditional_direction,
        ganspace_directions,
        interfacegan_directions,
        sefa_directions,
    )

    methods = _check_direction_options(methods, attributes, conditional, n_components, style)
    wanted = [*attributes, *(a for pair in conditional for a in pair)]
    directions: list[Direction] = []
    if "interfacegan" in methods:
        missing = [a for a in dict.fromkeys(wanted) if a not in samples.attributes]
        if missing:
            raise ValueError(
                f"samples lack the attributes {missing}; measure them (classifier=, style=True) "
                "in sample_latents."
            )
        named = interfacegan_directions(
            samples.z, samples.attributes, names=list(dict.fromkeys(wanted)), cv=cv, random_state=random_state
        )
        by_name = {d.source: d for d in named}
        directions += [d for d in named if d.source in attributes]
        directions += [conditional_direction(by_name[a], by_name[b]) for a, b in conditional]
    if "ganspace" in methods:
        first = next(iter(samples.activations), None)
        if first is None:
            raise ValueError(
                "ganspace needs a tapped generator stage; the generator declares none and has none of "
                f"{list(GENERATOR_STAGES)} (declare its stages in a GeneratorSpec, or pass stages=)."
            )
        directions += ganspace_directions(
            samples.activations[first], samples.z, n_components=n_components, random_state=random_state
        )
    if "sefa" in methods:
        directions += sefa_directions(generator, n_components=n_components)
    return directions


def explain_latent(
    generator: nn.Module,
    classifier: nn.Module,
    *,
    n: int = 2000,
    seed: int = 0,
    methods: Sequence[str] = METHODS,
    attributes: Sequence[str] | None = None,
    conditional: Sequence[tuple[str, str]] | None = None,
    n_components: int = 5,
    style: bool = False,
    cv: int = 5,
    n_traverse: int = 24,
    alphas: Sequence[float] = (-3, -2, -1, 0, 1, 2, 3),
    batch_size: int = 250,
    labels: torch.Tensor | int | None = None,
    measures: Any = None,
) -> LatentResult:
    """The whole latent analysis of a generator: attributes, probes, directions, traversals, comparison.

    Args:
        generator: z (B, D) -> digits (B, 1, 28, 28) in [-1, 1]; ``training`` restored, no hook left.
        classifier: the digit scorer.
        n: seeded latent samples to measure and probe.
        seed: seeds everything (latents, folds, PCA, traversal latents): same seed, same numbers.
        methods: any of ``"interfacegan"``, ``"ganspace"``, ``"sefa"``.
        attributes: InterFaceGAN boundaries are fitted for these (``"gram_energy"`` needs ``style``).
        conditional: ``(moved, held)`` pairs for InterFaceGAN's conditional directions.
        n_components: GANSpace principal components and SeFa eigenvectors kept.
        style: measure the Gram energy as well.
        cv: folds of every probe.
        n_traverse: latents per traversal; alphas: steps in units of sigma (z's std along a unit vector).
        labels: for a conditional generator, the digit(s) its latents write (None: balanced).
        measures: what to measure (default: the digit measures for grey images, the colour ones
            for RGB; see :mod:`~xstyle.explain.gan.measures`); ``attributes``/``conditional``
            None: :func:`default_attributes`.

    ``generator`` may also be a :class:`~xstyle.models.generators.GeneratorSpec` or a spec string,
    and ``classifier`` None (then ``class``/``confidence`` are not measured).
    """
    from xstyle.explain.gan.directions import compare_directions
    from xstyle.explain.gan.traversal import traverse

    generator = resolve_generator(generator)
    chosen = attributes is None
    attributes, conditional = default_attributes(
        generator, attributes, conditional, classifier=classifier is not None, measures=measures
    )
    channels = int(getattr(generator, "channels", 1) or 1)
    names = default_measures(channels) if measures is None else _measure_names(measures)
    if measures is None and channels == 1:
        names = [a for a in ATTRIBUTES if a not in ("class", "confidence", "gram_energy")]
    allowed = [
        *(["confidence"] if classifier is not None else []),
        *names,
        *(["gram_energy"] if style else []),
    ]
    methods = _check_direction_options(methods, attributes, conditional, n_components, style, allowed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    samples = sample_latents(
        generator,
        classifier=classifier,
        n=n,
        seed=seed,
        style=style,
        batch_size=batch_size,
        labels=labels,
        measures=measures,
    )
    timings["sample_and_measure"] = time.perf_counter() - t0
    if chosen:  # default attributes that do not vary over these samples have no boundary: left out
        varies = [a for a in attributes if np.ptp(np.asarray(samples.attributes[a], dtype=float)) > 1e-9]
        conditional = [p for p in conditional if p[0] in varies and p[1] in varies]
        attributes = varies
    t0 = time.perf_counter()
    probes = probe_layers(samples, cv=cv, random_state=seed)
    timings["probes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    directions = find_directions(
        generator,
        samples,
        methods=methods,
        attributes=attributes,
        conditional=conditional,
        n_components=n_components,
        style=style,
        cv=cv,
        random_state=seed,
    )
    timings["directions"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    scales = {k: float(np.std(v)) for k, v in samples.attributes.items() if k != "class"}
    traversals = tuple(
        traverse(
            generator,
            d,
            classifier=classifier,
            n=n_traverse,
            seed=seed + 1,
            alphas=alphas,
            scales=scales,
            style=style,
            batch_size=batch_size,
            labels=labels,
            measures=measures,
        )
        for d in directions
    )
    timings["traversals"] = time.perf_counter() - t0
    comparison = compare_directions(directions)
    config = {
        "n": n,
        "seed": seed,
        "methods": methods,
        "attributes": list(attributes),
        "conditional": [list(p) for p in conditional],
        "n_components": n_components,
        "style": style,
        "cv": cv,
        "n_traverse": n_traverse,
        "alphas": [float(a) for a in alphas],
        "stages": list(samples.activations),
    }
    return LatentResult(
        samples=dataclasses.replace(samples, activations={}),
        probes=probes,
        directions=tuple(directions),
        traversals=traversals,
        comparison=comparison,
        config=config,
        timings=timings,
    )
