"""Style versus content in a class-conditional DCGAN: the label should carry the digit, z the handwriting.

:func:`gan_style` measures that split on a generator G(z, y) (``Generator(n_classes=10)``, whose
input is cat(z, one-hot y)) in seven ways, on one seeded grid of ``n_z`` latents z times the ten
labels (every z written as every digit):

1. **Analogies** — the grid itself (one z per row, digits 0-9 as columns) and one digit written
   with many z.
2. **Content control** — the share of the grid the digit classifier reads as the requested label,
   per digit.
3. **Style carried by z** — for each digit measure (slant, thickness, width, height, ink), a two-way
   decomposition of its variance over the grid (no replication): the share explained by z (rows),
   by the label (columns) and by their interaction, with bootstrap intervals over the z rows.
4. **Attribution** — Captum integrated gradients of the classifier's logit for the requested label
   and of each differentiable measure (ink, slant, width, height) with respect to G's input, from
   the baseline (z = 0, label part = 0); the share of the attribution on the ten label inputs
   against the 100 z inputs, and IG's completeness error.
5. **Gram view** — Gram matrices of the classifier's convolutional features: the mean distance
   between digits with the same z and different labels over the mean distance between digits with
   the same label and different z (< 1: the Gram statistic groups by handwriting; > 1: by identity),
   and the same ratio for the flattened features as a reference, with bootstrap intervals.
6. **Style directions at a fixed label** — per label, an InterFaceGAN direction in z (a linear fit
   of the measure on z) for every measure and GANSpace directions (principal components of the first
   stage carried back to z by :func:`~xstyle.explain.gan.directions.ganspace_directions`); the
   cosine between the per-label directions, and walking each label's digits along the pooled
   direction: the measure's slope per label and the class-flip rate. SeFa's
   closed-form directions of the z columns of the first layer are walked the same way.
7. **Where G mixes them** — the same two-way decomposition of every unit of every generator stage
   (summed): how much of each stage's variation comes from z, from the label, from both; and linear
   probes at every stage of the class and of each measure, fed only the variation z causes (within a
   label) or only the variation the label causes (within a z).

Every random draw comes from ``seed``; the models' ``training`` flags are restored and no hook
outlives the call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_int, check_seed
from xstyle._plotting import Plottable
from xstyle.explain.attribution.engine import attribute
from xstyle.explain.attribution.targets import Target
from xstyle.explain.gan._common import default_stages, generate, resolve_generator
from xstyle.explain.gan._common import measure as measure_of
from xstyle.explain.gan.gan_style_directions import _class_probs, _style_directions
from xstyle.explain.gan.measures import COLOUR_MEASURES, _moments
from xstyle.explain.gan.plots import AnalogyDisplay, GanStyleDisplay
from xstyle.hooks import FeatureTap, frozen
from xstyle.losses import gram_matrix

__all__ = [
    "GAN_STYLE_MEASURES",
    "GanStyleResult",
    "MeasureTarget",
    "RequestedClassTarget",
    "gan_style",
    "two_way_shares",
]

#: the digit measures whose variance is split between z and the label
GAN_STYLE_MEASURES: tuple[str, ...] = ("slant", "thickness", "width", "height", "ink")
#: the measures with a differentiable definition (attributed with IG); thickness is a distance
#: transform of the binarised strokes, which has no useful gradient
DIFFERENTIABLE: tuple[str, ...] = ("ink", "slant", "width", "height")
#: classifier layers whose Gram matrices are compared
GRAM_LAYERS: tuple[str, ...] = ("act1", "act2")

Progress = Callable[[str], None]


# ----------------------------------------------------------------------------------- statistics


def two_way_shares(values: np.ndarray) -> dict[str, float]:
    """Two-way decomposition without replication of ``values`` (rows: z, columns: labels).

    For values (R, C) (or (R, C, F): summed over the F units) the total sum of squares about the
    grand mean splits exactly into rows (z), columns (label) and their interaction (residual).
    Returns the three shares, each in [0, 1] and summing to 1 (all 0 when nothing varies).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 2:
        v = v[..., None]
    if v.ndim != 3 or v.shape[0] < 2 or v.shape[1] < 2:
        raise ValueError(f"values must be (rows >= 2, columns >= 2[, units]); got shape {v.shape}.")
    grand = v.mean(axis=(0, 1), keepdims=True)
    rows = v.mean(axis=1, keepdims=True) - grand
    cols = v.mean(axis=0, keepdims=True) - grand
    total = float(((v - grand) ** 2).sum())
    if total <= 0:
        return {"z": 0.0, "label": 0.0, "interaction": 0.0}
    ss_rows = float((rows**2).sum()) * v.shape[1]
    ss_cols = float((cols**2).sum()) * v.shape[0]
    return {
        "z": ss_rows / total,
        "label": ss_cols / total,
        "interaction": max(0.0, 1.0 - (ss_rows + ss_cols) / total),
    }


def _bootstrap_rows(
    stat: Callable[[np.ndarray], float], n_rows: int, *, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    """95 % percentile interval of ``stat(rows)`` over bootstrap resamples of the row indices."""
    draws = [stat(rng.integers(0, n_rows, n_rows)) for _ in range(n_boot)]
    lo, hi = np.percentile(np.asarray(draws, dtype=np.float64), [2.5, 97.5])
    return float(lo), float(hi)


# -------------------------------------------------------------------------------------- targets


def _check_conditional(generator: nn.Module) -> int:
    n_classes = int(getattr(generator, "n_classes", 0))
    if n_classes < 2:
        raise ValueError(
            "this analysis needs a class-conditional DCGAN (G(z, y)); the generator is unconditional. "
            "Use shipped:dcgan-conditional or train one with `xstyle gan train --conditional`."
        )
    return n_classes


class RequestedClassTarget(Target):
    """The classifier's logit for the label each input asks for: w = cat(z, y) (N, D + C) -> (N,).

    The requested label is the argmax of the label part of w, so along an integrated-gradients path
    from a baseline whose label part is 0 it stays the label of the input.
    """

    deeplift_ok = True

    def __init__(self, generator: nn.Module, classifier: nn.Module) -> None:
        super().__init__()
        self.model = generator
        self.classifier = classifier
        self.n_classes = _check_conditional(generator)

    @property
    def label(self) -> str:
        return "logit of the requested digit"

    def networks(self) -> list[nn.Module]:
        return [self.model, self.classifier]

    def with_model(self, model: nn.Module) -> RequestedClassTarget:
        return RequestedClassTarget(model, self.classifier)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        requested = w[:, -self.n_classes :].argmax(dim=1, keepdim=True)
        return self.classifier(self.model(w)).gather(1, requested)[:, 0]


class MeasureTarget(Target):
    """A differentiable digit measure of G(w): ``ink``, ``slant``, ``width`` or ``height`` (N,)."""

    def __init__(self, generator: nn.Module, measure: str) -> None:
        super().__init__()
        if measure not in DIFFERENTIABLE:
            raise ValueError(f"measure must be one of {', '.join(DIFFERENTIABLE)}; got {measure!r}.")
        self.model = generator
        self.measure = measure

    @property
    def label(self) -> str:
        return f"{self.measure} of G(z, y)"

    def with_model(self, model: nn.Module) -> MeasureTarget:
        return MeasureTarget(model, self.measure)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        p = ((self.model(w) + 1) / 2).clamp(0, 1)[:, 0]
        if self.measure == "ink":
            return p.sum(dim=(1, 2))
        return _moments(p)[self.measure].to(w.dtype)


# --------------------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class GanStyleResult(Plottable):
    """Which inputs of a conditional DCGAN carry the style (z) and which the content (the label).

    Attributes:
        analogies: (n_rows, C, 1, 28, 28) in [-1, 1]: row i is one z written as every digit.
        reverse: (n_reverse, 1, 28, 28) in [-1, 1]: ``reverse_digit`` written with n_reverse z.
        reverse_digit: the digit of ``reverse``.
        agreement: (C,) share of the grid's digits of each label the classifier reads as that label.
        confidence: (C,) the classifier's mean probability of the requested label, per label.
        variance: measure -> {"z", "label", "interaction": shares in [0, 1], "z_ci", "label_ci":
            95 % bootstrap intervals over z rows}.
        attribution: target -> {"label_share": mean share of |attribution| on the label inputs,
            "label_share_ci", "completeness": largest IG completeness error (relative)}.
        gram: layer -> {"same_z": mean distance between digits with one z and different labels,
            "same_label": ... one label and different z, "ratio": same_z / same_label, "ratio_ci",
            "feature_ratio", "feature_ratio_ci": the same for the flattened features}.
        directions: measure -> {"cosine": (C, C) cosines of per-label InterFaceGAN directions,
            "mean_cosine": their mean off the diagonal, "slope": (C,) change of the measure per unit
            step along the pooled direction, per label, "flip_rate": (C,) share of digits the
            classifier reads as another class at the walk's ends than at its start}; plus
            "ganspace_<k>" entries (per-label principal components of the first generator stage, as
            z directions: cosines across labels, slope and flip rate) and "sefa_<k>" entries with
            "slope" and "flip_rate" for SeFa's directions (their "measure" is the one that moves most).
        mixing: stage -> {"z", "label", "interaction"} shares of the stage's activations.
        probes: stage -> measure -> {"z": cross-validated R² of a linear probe reading the measure's
            z-driven part (within each label) from the stage's z-driven activations, "label": the same
            for the label-driven parts (within each z)}; ``"class"`` -> {"label": probe accuracy of the
            label from the stage's label-driven activations}.
        config: the settings used.
        timings: seconds per part.
    """

    analogies: torch.Tensor
    reverse: torch.Tensor
    reverse_digit: int
    agreement: np.ndarray
    confidence: np.ndarray
    variance: dict[str, dict[str, Any]]
    attribution: dict[str, dict[str, Any]]
    gram: dict[str, dict[str, Any]]
    directions: dict[str, dict[str, Any]]
    mixing: dict[str, dict[str, float]]
    probes: dict[str, dict[str, dict[str, float]]]
    config: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)

    display: ClassVar[type[GanStyleDisplay]] = GanStyleDisplay

    def z_shares(self) -> dict[str, float]:
        """measure -> share of its variance explained by z (the handwriting)."""
        return {m: v["z"] for m, v in self.variance.items()}

    def plot_analogies(self, *, ax: Any = None, rows: int | None = None) -> AnalogyDisplay:
        """The analogy grid (one z per row, digits as columns); returns an AnalogyDisplay."""
        return AnalogyDisplay.from_result(self, rows=rows).plot(ax=ax)

    def to_dict(self) -> dict[str, Any]:
        """Every number, JSON-ready (no images; undefined values, such as the R² of a constant
        measure, are None)."""

        def plain(value: Any) -> Any:
            if isinstance(value, np.ndarray):
                return plain(value.tolist())
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            if isinstance(value, np.floating | np.integer):
                value = value.item()
            if isinstance(value, float) and not np.isfinite(value):
                return None  # undefined (e.g. a probe on a constant measure): null in the JSON
            return value

        return plain(
            {
                "reverse_digit": self.reverse_digit,
                "agreement": self.agreement,
                "confidence": self.confidence,
                "variance": self.variance,
                "attribution": self.attribution,
                "gram": self.gram,
                "directions": self.directions,
                "mixing": self.mixing,
                "probes": self.probes,
                "config": self.config,
                "timings": self.timings,
            }
        )


# ------------------------------------------------------------------------------------- analysis


def _grid_inputs(z: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(R, D) latents -> (R * C, D + C) inputs, row-major: every z as label 0, 1, ..., C - 1."""
    from xstyle.gan.prior import with_labels

    r = z.shape[0]
    labels = torch.arange(n_classes).repeat(r)
    return with_labels(z.repeat_interleave(n_classes, dim=0), labels, n_classes=n_classes)


def _classifier_taps(
    classifier: nn.Module, images: torch.Tensor, layers: Sequence[str]
) -> dict[str, torch.Tensor]:
    """Activations of ``layers`` of the classifier, (N, C, H, W) float64 CPU (eval mode, no grad)."""
    out: dict[str, list[torch.Tensor]] = {layer: [] for layer in layers}
    with frozen(classifier), torch.no_grad(), FeatureTap(classifier, list(layers)) as tap:
        for first in range(0, images.shape[0], 500):
            tap.features = {}
            classifier(images[first : first + 500])
            for layer in layers:
                out[layer].append(tap.features[layer].double().cpu())
    return {layer: torch.cat(v) for layer, v in out.items()}


def _distance_ratio(
    flat: torch.Tensor, r: int, c: int, *, n_boot: int, rng: np.random.Generator
) -> tuple[float, float, float, tuple[float, float]]:
    """(same_z, same_label, ratio, ratio_ci) of vectors flat (R * C, F) laid out row-major."""
    v = flat.reshape(r, c, -1)
    # same z, different labels: distances within each row; same label, different z: within columns
    within_rows = torch.cdist(v, v)  # (R, C, C)
    within_cols = torch.cdist(v.transpose(0, 1), v.transpose(0, 1))  # (C, R, R)
    off_c = ~torch.eye(c, dtype=torch.bool)
    off_r = ~torch.eye(r, dtype=torch.bool)
    row_means = within_rows[:, off_c].mean(dim=1).numpy()  # (R,) per z
    col_pairs = within_cols[:, off_r]  # (C, R * (R - 1))

    def stat(rows: np.ndarray) -> float:
        idx = torch.as_tensor(rows)
        sub = within_cols[:, idx][:, :, idx]
        keep = idx[:, None] != idx[None, :]
        return float(row_means[rows].mean() / sub[:, keep].mean().clamp_min(1e-12))

    same_z, same_label = float(row_means.mean()), float(col_pairs.mean())
    ratio = same_z / max(same_label, 1e-12)
    return same_z, same_label, ratio, _bootstrap_rows(stat, r, n_boot=n_boot, rng=rng)


def _stage_probes(
    stages: dict[str, torch.Tensor],
    measures: dict[str, np.ndarray],
    r: int,
    c: int,
    *,
    seed: int,
    names: Sequence[str] = GAN_STYLE_MEASURES,
) -> dict[str, dict[str, dict[str, float]]]:
    """Linear probes per stage, fed z's variation alone or the label's (see the result's ``probes``).

    Activations (R * C, F) of the row-major grid are centred within each label (what z changes) or
    within each z (what the label changes), reduced to at most 20 principal components and read with
    a 5-fold cross-validated ridge regression (measures, R²) or logistic regression (the label).
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import KFold, cross_val_score

    folds = KFold(n_splits=min(5, r * c), shuffle=True, random_state=seed)
    labels = np.tile(np.arange(c), r)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for stage, acts in stages.items():
        x = acts.double().numpy().reshape(r, c, -1)
        entry: dict[str, dict[str, float]] = {}
        for side, axis in (("z", 1), ("label", 0)):  # centre over the other input's axis
            feats = (x - x.mean(axis=1 - axis, keepdims=True)).reshape(r * c, -1)
            k = max(1, min(20, feats.shape[0] - 1, feats.shape[1]))
            comps = PCA(n_components=k, random_state=seed).fit_transform(feats)
            for m in names:
                y = np.asarray(measures[m], dtype=np.float64).reshape(r, c)
                y = (y - y.mean(axis=1 - axis, keepdims=True)).ravel()
                score = cross_val_score(Ridge(alpha=1.0), comps, y, cv=folds, scoring="r2").mean()
                entry.setdefault(m, {})[side] = float(score)
            if side == "label":
                model = LogisticRegression(max_iter=1000)
                entry["class"] = {"label": float(cross_val_score(model, comps, labels, cv=folds).mean())}
        out[stage] = entry
    return out


@dataclass(frozen=True, eq=False)  # compared by identity: it holds models and random streams
class _Run:
    """What every stage of :func:`gan_style` shares: the models, the measures and the seeded streams.

    ``rng`` (NumPy) draws the attributed inputs and every bootstrap resample, ``torch_rng`` every
    latent; the stages consume them in a fixed order (grid, attribution, Gram view, directions), so
    one seed gives one result.
    """

    generator: nn.Module
    classifier: nn.Module
    n_classes: int
    digits: bool  # grey digits: the digit measures, and IG of the differentiable ones
    names: list[Any]  # the measures whose variance is split (names or callables)
    measures: Sequence[Any] | None  # what the caller asked for (None: chosen per image kind)
    prior: Any
    latent_dim: int
    n_boot: int
    seed: int
    rng: np.random.Generator
    torch_rng: torch.Generator

    def measure(self, images: torch.Tensor) -> dict[str, np.ndarray]:
        """The measures of ``images`` (N, C, H, W) in [-1, 1]: name -> (N,)."""
        return measure_of(images) if self.digits else measure_of(images, measures=self.names)

    def ci(self, stat: Callable[[np.ndarray], float], n_rows: int) -> tuple[float, float]:
        """95 % bootstrap interval of ``stat`` over ``n_rows`` resampled rows (draws from ``rng``)."""
        return _bootstrap_rows(stat, n_rows, n_boot=self.n_boot, rng=self.rng)


@dataclass(frozen=True, eq=False)
class _Grid:
    """The z x label grid (R rows of z, C labels, row-major) and what was read off it."""

    r: int
    inputs: torch.Tensor  # (R * C, D + C) cat(z, one-hot y)
    images: torch.Tensor  # (R * C, ch, H, W) in [-1, 1]
    stages: dict[str, torch.Tensor]  # stage -> (R * C, F)
    stage_names: tuple[str, ...]
    measured: dict[str, np.ndarray]  # measure -> (R * C,)


def _check_options(
    counts: dict[str, tuple[int, int]], *, reverse_digit: Any, n_classes: int, walk: Any
) -> None:
    """Refuse a count below its minimum (``counts``: name -> (value, minimum)), a reverse digit
    outside 0..C - 1 or a walk that is not a finite number > 0, in one line each."""
    for name, (value, low) in counts.items():
        check_int(value, name, low)
    if (
        isinstance(reverse_digit, bool)
        or not isinstance(reverse_digit, int)
        or not 0 <= reverse_digit < n_classes
    ):
        raise ValueError(f"reverse_digit must be a digit in 0..{n_classes - 1}; got {reverse_digit!r}.")
    if not (isinstance(walk, int | float) and np.isfinite(walk) and walk > 0):
        raise ValueError(f"walk must be a finite number > 0; got {walk!r}.")


def _setup(
    generator: Any, classifier: nn.Module, *, measures: Sequence[Any] | None, n_boot: int, seed: int
) -> _Run:
    """Resolve the generator, choose the measures per image kind and seed both random streams."""
    from xstyle.gan.prior import prior_of

    check_seed(seed)
    generator = resolve_generator(generator)
    n_classes = _check_conditional(generator)
    digits = measures is None and int(getattr(generator, "channels", 1) or 1) == 1
    names = list(GAN_STYLE_MEASURES) if digits else list(COLOUR_MEASURES if measures is None else measures)
    return _Run(
        generator=generator,
        classifier=classifier,
        n_classes=n_classes,
        digits=digits,
        names=names,
        measures=measures,
        prior=prior_of(generator),
        latent_dim=int(generator.latent_dim),
        n_boot=n_boot,
        seed=seed,
        rng=np.random.default_rng(seed),
        torch_rng=torch.Generator().manual_seed(seed),
    )


def _run_grid(run: _Run, n_z: int) -> _Grid:
    """Stage 1: every one of ``n_z`` prior latents written with every label; images, stages, measures."""
    z = run.prior.sample(n_z, run.latent_dim, generator=run.torch_rng)
    inputs = _grid_inputs(z, run.n_classes)
    stage_names = tuple(default_stages(run.generator))
    images, stages = generate(run.generator, inputs, stages=stage_names)
    return _Grid(
        r=n_z,
        inputs=inputs,
        images=images,
        stages=stages,
        stage_names=stage_names,
        measured=run.measure(images),
    )


def _content_control(run: _Run, grid: _Grid) -> tuple[np.ndarray, np.ndarray]:
    """Stage 2: per label (C,), the share of the grid read as the requested label, and the
    classifier's mean probability of it."""
    r, c = grid.r, run.n_classes
    probs = _class_probs(run.classifier, grid.images)
    labels = torch.arange(c).repeat(r)
    hit = (probs.argmax(dim=1) == labels).double().reshape(r, c)
    confidence = probs.gather(1, labels[:, None])[:, 0].double().reshape(r, c).mean(dim=0).numpy()
    return hit.mean(dim=0).numpy(), confidence


def _variance_split(run: _Run, grid: _Grid) -> dict[str, dict[str, Any]]:
    """Stage 3: per measure, the z / label / interaction shares with bootstrap intervals over z rows."""
    r, c = grid.r, run.n_classes
    variance: dict[str, dict[str, Any]] = {}
    for m in run.names:
        values = np.asarray(grid.measured[m], dtype=np.float64).reshape(r, c)
        shares: dict[str, Any] = dict(two_way_shares(values))
        shares["z_ci"] = run.ci(lambda rows, g=values: two_way_shares(g[rows])["z"], r)
        shares["label_ci"] = run.ci(lambda rows, g=values: two_way_shares(g[rows])["label"], r)
        variance[m] = shares
    return variance


def _reverse_analogy(run: _Run, *, n_reverse: int, reverse_digit: int) -> torch.Tensor:
    """Stage 1b: ``reverse_digit`` written with ``n_reverse`` prior latents, (n, ch, H, W) in [-1, 1]."""
    from xstyle.gan.prior import with_labels

    z = run.prior.sample(n_reverse, run.latent_dim, generator=run.torch_rng)
    labels = torch.full((n_reverse,), reverse_digit)
    images, _ = generate(run.generator, with_labels(z, labels, n_classes=run.n_classes))
    return images


def _attribution_split(
    run: _Run, grid: _Grid, *, n_attribution: int, n_steps: int
) -> tuple[dict[str, dict[str, Any]], int]:
    """Stage 4: IG from (z = 0, label part = 0) of the requested class (and, for digits, of the
    differentiable measures); the share on the label inputs per target. Returns it and the count."""
    r, c = grid.r, run.n_classes
    pick = torch.as_tensor(np.sort(run.rng.choice(r * c, size=min(n_attribution, r * c), replace=False)))
    inputs = grid.inputs[pick]
    baseline = torch.zeros_like(inputs)  # z at the prior's centre, no label switched on
    targets: dict[str, Target] = {"class": RequestedClassTarget(run.generator, run.classifier)}
    if run.digits:
        targets.update({m: MeasureTarget(run.generator, m) for m in DIFFERENTIABLE})
    attribution: dict[str, dict[str, Any]] = {}
    for name, target in targets.items():
        res = attribute(target, inputs, method="ig", baselines=baseline, n_steps=n_steps, seed=run.seed)
        a = res.attributions.double()
        on_label = a[:, -c:].sum(dim=1).abs()
        on_z = a[:, :-c].sum(dim=1).abs()
        share = (on_label / (on_label + on_z).clamp_min(1e-12)).numpy()
        attribution[name] = {
            "label_share": float(share.mean()),
            "label_share_ci": run.ci(lambda rows, s=share: float(s[rows].mean()), len(share)),
            "completeness": res.completeness(),
        }
    return attribution, len(pick)


def _gram_view(run: _Run, grid: _Grid) -> dict[str, dict[str, Any]]:
    """Stage 5: same-z over same-label distances of the classifier's Gram matrices and features
    (empty when the classifier has no ``act1``/``act2`` layers)."""
    classifier, r, c = run.classifier, grid.r, run.n_classes
    has_layers = set(GRAM_LAYERS) <= {name for name, _ in classifier.named_modules()}
    taps = _classifier_taps(classifier, grid.images, GRAM_LAYERS) if has_layers else {}
    gram: dict[str, dict[str, Any]] = {}
    for layer, feats in taps.items():
        same_z, same_label, ratio, ci = _distance_ratio(
            gram_matrix(feats, normalize="mean").flatten(1), r, c, n_boot=run.n_boot, rng=run.rng
        )
        _, _, f_ratio, f_ci = _distance_ratio(feats.flatten(1), r, c, n_boot=run.n_boot, rng=run.rng)
        gram[layer] = {
            "same_z": same_z,
            "same_label": same_label,
            "ratio": ratio,
            "ratio_ci": ci,
            "feature_ratio": f_ratio,
            "feature_ratio_ci": f_ci,
        }
    return gram


def gan_style(
    generator: nn.Module,
    classifier: nn.Module,
    *,
    n_z: int = 50,
    n_reverse: int = 16,
    reverse_digit: int = 7,
    n_attribution: int = 30,
    n_steps: int = 32,
    n_direction: int = 300,
    n_walk: int = 24,
    walk: float = 2.0,
    sefa_components: int = 3,
    ganspace_components: int = 2,
    n_boot: int = 200,
    seed: int = 0,
    progress: Progress | None = None,
    measures: Sequence[str] | None = None,
) -> GanStyleResult:
    """Measure how a conditional DCGAN splits content (the label) from style (z).

    Any conditional generator works (a :class:`~xstyle.models.generators.GeneratorSpec`, a spec
    string or a module with ``latent_dim`` and ``n_classes`` taking cat(z, one-hot y)), with any
    classifier returning logits of its images. Grey digits are measured with the digit measures
    (:data:`GAN_STYLE_MEASURES`) and attributed through the differentiable ones; other images with
    ``measures`` (default: the colour measures), without the measure attribution. The Gram view
    needs the classifier's layers ``act1`` and ``act2`` (xstyle's classifiers) and is skipped
    (empty) otherwise; SeFa reads the generator's first Linear or (transposed) convolution.

    Args:
        generator: a conditional generator (``n_classes`` > 0), mapping cat(z, one-hot y)
            (N, D + C) to digits (N, 1, 28, 28) in [-1, 1]; z comes from its prior.
        classifier: the digit scorer (logits (N, 10)), e.g. the shipped one.
        n_z: latents of the z x label grid (rows; each is written as every digit), >= 2.
        n_reverse, reverse_digit: the reverse analogy: ``reverse_digit`` written with n_reverse z.
        n_attribution: grid inputs attributed with IG (spread over the labels); n_steps: IG steps.
        n_direction: latents per label for the per-label directions; n_walk: latents walked per label.
        walk: the walk goes from -walk to +walk along each unit direction (z ~ N(0, I) has unit
            spread along any direction).
        sefa_components: SeFa directions walked (0: none).
        ganspace_components: GANSpace directions per label (principal components of the first
            generator stage carried back to z), compared across labels and walked (0: none).
        n_boot: bootstrap resamples of the z rows for the intervals.
        seed: seeds every latent and resample.
        progress: called with a short message before each part.
        measures: for non-digit images, the measures whose variance is split (names or callables
            of :mod:`~xstyle.explain.gan.measures`); default: the colour measures.
    """
    run = _setup(generator, classifier, measures=measures, n_boot=n_boot, seed=seed)
    counts = {
        "n_z": (n_z, 2),
        "n_reverse": (n_reverse, 1),
        "n_attribution": (n_attribution, 1),
        "n_steps": (n_steps, 1),
        "n_direction": (n_direction, 10),
        "n_walk": (n_walk, 1),
        "sefa_components": (sefa_components, 0),
        "ganspace_components": (ganspace_components, 0),
        "n_boot": (n_boot, 10),
    }
    _check_options(counts, reverse_digit=reverse_digit, n_classes=run.n_classes, walk=walk)
    say = progress or (lambda message: None)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    say("z x label grid")
    grid = _run_grid(run, n_z)
    agreement, confidence = _content_control(run, grid)
    variance = _variance_split(run, grid)
    mixing = {
        s: two_way_shares(a.double().reshape(n_z, run.n_classes, -1).numpy()) for s, a in grid.stages.items()
    }
    probes = _stage_probes(grid.stages, grid.measured, n_z, run.n_classes, seed=seed, names=run.names)
    reverse = _reverse_analogy(run, n_reverse=n_reverse, reverse_digit=reverse_digit)
    timings["grid"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say("integrated gradients")
    attribution, n_attributed = _attribution_split(run, grid, n_attribution=n_attribution, n_steps=n_steps)
    timings["attribution"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say("Gram view")
    gram = _gram_view(run, grid)
    timings["gram"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say("directions per label")
    if not grid.stage_names:  # GANSpace reads the first stage
        ganspace_components = 0
    directions = _style_directions(
        run,
        grid,
        n_direction=n_direction,
        n_walk=n_walk,
        walk=walk,
        sefa_components=sefa_components,
        ganspace_components=ganspace_components,
    )
    timings["directions"] = time.perf_counter() - t0

    config = {
        "n_z": n_z,
        "n_classes": run.n_classes,
        "n_reverse": n_reverse,
        "n_attribution": n_attributed,
        "n_steps": n_steps,
        "n_direction": n_direction,
        "n_walk": n_walk,
        "walk": float(walk),
        "sefa_components": sefa_components,
        "ganspace_components": ganspace_components,
        "n_boot": n_boot,
        "seed": seed,
        "prior": run.prior.spec,
        "baseline": "z = 0, label part = 0",
        "measures": [m if isinstance(m, str) else getattr(m, "__name__", "measure") for m in run.names],
    }
    return GanStyleResult(
        analogies=grid.images.reshape(n_z, run.n_classes, *grid.images.shape[1:]),
        reverse=reverse,
        reverse_digit=reverse_digit,
        agreement=agreement,
        confidence=confidence,
        variance=variance,
        attribution=attribution,
        gram=gram,
        directions=directions,
        mixing=mixing,
        probes=probes,
        config=config,
        timings=timings,
    )
