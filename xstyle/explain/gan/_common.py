"""What :mod:`xstyle.explain.gan.probes`, :mod:`~xstyle.explain.gan.directions` and
:mod:`~xstyle.explain.gan.traversal` share: measuring generated digits, generating and sampling
latents, fitting one linear probe.

Lives below the three so that directions -> here and traversal -> directions / here, while
:mod:`~xstyle.explain.gan.probes` (the whole analysis) imports them all: no import cycle. Import the
public names from :mod:`xstyle.explain.gan.probes`, which re-exports them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_int, check_matrix, check_seed
from xstyle.explain.gan.measures import digit_measures, measure_images
from xstyle.hooks import FeatureTap, device_of, frozen, resolve_layers

if TYPE_CHECKING:
    pass


#: Generator stages tapped by default (the DCGAN's activations after each block, and its output).
GENERATOR_STAGES = ("act0", "act1", "act2", "tanh")
#: Attributes measured from the pixels alone.
SHAPE_ATTRIBUTES = ("ink", "thickness", "slant", "width", "height")
#: Every attribute :func:`measure_digits` can return (``gram_energy`` only with ``style=True``).
ATTRIBUTES = ("class", "confidence", *SHAPE_ATTRIBUTES, "gram_energy")
_KINDS = ("classification", "regression")
_ESTIMATORS = {"classification": ("logistic", "linear_svc"), "regression": ("ridge",)}


# ------------------------------------------------------------------------------------ attributes


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 1:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must have shape (N, 1, H, W) with values in [-1, 1]; got {shape}.")
    if images.shape[0] == 0:
        raise ValueError("images is empty; pass at least one digit.")
    if not torch.isfinite(images).all():
        raise ValueError("images contain NaN or infinite values; pass finite digits in [-1, 1].")


def _classifier_measures(
    classifier: nn.Module, images: torch.Tensor, *, style: bool, batch_size: int
) -> dict[str, np.ndarray]:
    from xstyle.gan.metrics import classifier_outputs
    from xstyle.losses import gram_matrix

    if tuple(images.shape[1:]) != (1, 28, 28):
        raise ValueError(
            f"images must have shape (N, 1, 28, 28) for the classifier; got {tuple(images.shape)}."
        )
    probs, _ = classifier_outputs(classifier, images, batch_size=batch_size)
    conf, cls = probs.max(dim=1)
    out = {"class": cls.numpy().astype(np.int64), "confidence": conf.double().numpy()}
    if style:
        device = device_of(classifier)
        energies = []
        with (
            frozen(classifier),
            torch.no_grad(),
            FeatureTap(classifier, ["act1"], stop_after_last=True) as tap,
        ):
            for first in range(0, images.shape[0], batch_size):
                x = images[first : first + batch_size].to(device=device, dtype=torch.float32)
                f = tap.run(x)["act1"].double()
                gram = gram_matrix(f, normalize="mean")
                energies.append((gram.flatten(1).norm(dim=1) / f.shape[1]).cpu())
        out["gram_energy"] = torch.cat(energies).numpy()
    return out


def measure_digits(
    images: torch.Tensor,
    *,
    classifier: nn.Module | None = None,
    style: bool = False,
    batch_size: int = 500,
) -> dict[str, np.ndarray]:
    """Measure the attributes of digits (see the module docstring for each one's definition).

    Args:
        images: digits (N, 1, H, W) in [-1, 1] (-1 is background); (N, 1, 28, 28) with a classifier.
        classifier: the scorer (e.g. :func:`xstyle.gan.classifier.load_classifier`); adds ``class``
            and ``confidence``. Its ``training`` flag is restored.
        style: also measure ``gram_energy`` (needs ``classifier``).
        batch_size: digits per pass (memory only; results do not depend on it).

    Returns:
        name -> array (N,): ``class`` int64 in 0..9; ``confidence`` in [0.1, 1]; ``ink`` in [0, H*W];
        ``thickness``, ``width``, ``height`` in pixels (>= 0); ``slant`` (tan of the lean angle);
        ``gram_energy`` >= 0. Floats are float64.
    """
    _check_images(images)
    check_int(batch_size, "batch_size", 1)
    if style and classifier is None:
        raise ValueError("style=True measures the scorer's Gram energy; pass classifier= as well.")
    out: dict[str, np.ndarray] = {}
    if classifier is not None:
        out.update(_classifier_measures(classifier, images.detach(), style=style, batch_size=batch_size))
    out.update(digit_measures(images, batch_size=batch_size))
    order = [a for a in ATTRIBUTES if a in out]
    return {name: out[name] for name in order}


# ------------------------------------------------------------------------------------- sampling


@dataclass(frozen=True, eq=False)
class LatentSamples:
    """Seeded latents, their digits, measured attributes and tapped generator activations.

    Attributes:
        z: latents (N, D), float32, drawn from the generator's prior with
            ``torch.Generator().manual_seed(seed)``.
        images: digits (N, 1, H, W) in [-1, 1], float32, CPU.
        attributes: name -> (N,) arrays from :func:`measure_digits`.
        activations: stage name -> (N, F) float32 CPU tensors (each stage's output, flattened).
        seed: the seed of ``z``.
    """

    z: torch.Tensor
    images: torch.Tensor
    attributes: Mapping[str, np.ndarray]
    activations: Mapping[str, torch.Tensor]
    seed: int

    @property
    def n(self) -> int:
        return int(self.z.shape[0])

    def summary(self) -> dict[str, Any]:
        """Mean, std, min and max of each numeric attribute; class counts (JSON-ready)."""
        out: dict[str, Any] = {"n": self.n, "seed": self.seed, "attributes": {}}
        for name, values in self.attributes.items():
            if name == "class":
                out["class_counts"] = [int(c) for c in np.bincount(values, minlength=10)]
                continue
            v = np.asarray(values, dtype=np.float64)
            out["attributes"][name] = {
                "mean": float(v.mean()),
                "std": float(v.std()),
                "min": float(v.min()),
                "max": float(v.max()),
            }
        return out


def resolve_generator(generator: Any) -> nn.Module:
    """The module an analysis runs: ``generator`` itself (an ``nn.Module``), or the adapted module of
    a :class:`~xstyle.models.generators.GeneratorSpec` or of a spec string (``shipped:NAME``, a
    checkpoint, ``module:callable``; see :func:`~xstyle.models.generators.get_generator`)."""
    from xstyle.models.generators import GeneratorSpec, get_generator

    if isinstance(generator, GeneratorSpec):
        return generator.generator
    if isinstance(generator, str):
        import xstyle.gan  # noqa: F401 - registers shipped:NAME and checkpoints

        return get_generator(generator).generator
    if not isinstance(generator, nn.Module):
        raise TypeError(
            f"generator must be a torch.nn.Module, a GeneratorSpec or a spec string ('shipped:NAME', "
            f"'module:callable'); got {type(generator).__name__}."
        )
    return generator


def latent_dim_of(generator: nn.Module) -> int:
    """The width of ``generator``'s input: z, plus the one-hot label of a conditional generator
    (its ``input_dim`` or ``latent_dim`` attribute, or its first layer's inputs: a Linear's
    ``in_features``, a (transposed) convolution's ``in_channels``)."""
    for name in ("input_dim", "latent_dim"):
        dim = getattr(generator, name, None)
        if isinstance(dim, int) and dim > 0:
            return dim + (int(getattr(generator, "n_classes", 0) or 0) if name == "latent_dim" else 0)
    for module in generator.modules():
        if isinstance(module, nn.Linear):
            return module.in_features
        if isinstance(module, nn.ConvTranspose2d | nn.Conv2d):
            return module.in_channels
    raise ValueError(
        f"cannot tell the latent size of {type(generator).__name__}: give it a latent_dim attribute "
        "(or wrap it with xstyle.models.generators.get_generator)."
    )


def default_stages(generator: nn.Module) -> list[str]:
    """The stages tapped by default: the generator's declared ``stages`` (a GeneratorSpec's), else
    those of :data:`GENERATOR_STAGES` it has."""
    names = {name for name, _ in generator.named_modules()}
    declared = getattr(generator, "stages", None)
    if isinstance(declared, tuple | list) and declared:
        return [s for s in declared if s in names]
    return [s for s in GENERATOR_STAGES if s in names]


def measure(
    images: torch.Tensor,
    *,
    classifier: nn.Module | None = None,
    style: bool = False,
    measures: Any = None,
    batch_size: int = 500,
) -> dict[str, np.ndarray]:
    """The measures of generated images: grey digits with no ``measures`` get :func:`measure_digits`
    (exactly as before); anything else :func:`~xstyle.explain.gan.measures.measure_images`
    (``measures`` names/callables, default per channels; ``style`` is for digits only)."""
    if measures is None and images.ndim == 4 and images.shape[1] == 1:
        return measure_digits(images, classifier=classifier, style=style, batch_size=batch_size)
    if style:
        raise ValueError("style=True (the digit scorer's Gram energy) is for grey digits; leave it off.")
    return measure_images(images, measures, classifier=classifier, batch_size=batch_size)


def generate(
    generator: nn.Module,
    z: torch.Tensor,
    *,
    stages: Sequence[str] = (),
    batch_size: int = 250,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run ``generator`` on latents z (N, D) in eval mode without gradients, tapping ``stages``.

    Returns ``(images (N, C, H, W) float32 CPU, {stage: (N, F) float32 CPU})``. The generator's
    ``training`` flag is restored and no hook outlives the call, also when the forward pass raises.
    """
    check_int(batch_size, "batch_size", 1)
    generator = resolve_generator(generator)
    stages = resolve_layers(generator, stages, param="stages") if stages else []
    device = device_of(generator)
    images, feats = [], {s: [] for s in stages}
    with frozen(generator), torch.no_grad():
        for first in range(0, z.shape[0], batch_size):
            zb = z[first : first + batch_size].to(device=device, dtype=torch.float32)
            with ExitStack() as stack:  # a fresh tap per batch: each batch is one forward pass
                tap = stack.enter_context(FeatureTap(generator, stages)) if stages else None
                out = generator(zb)
                images.append(out.float().cpu())
                for s in stages:
                    feats[s].append(tap.features[s].float().flatten(1).cpu())
    if not images:
        raise ValueError("z is empty; pass at least one latent.")
    x = torch.cat(images)
    if x.ndim != 4 or not 1 <= x.shape[1] <= 4:
        raise ValueError(
            f"generator must return an image batch (B, C, H, W) with C in 1..4; got {tuple(x.shape[1:])} "
            "per sample."
        )
    return x, {s: torch.cat(v) for s, v in feats.items()}


def sample_latents(
    generator: nn.Module,
    *,
    classifier: nn.Module | None = None,
    n: int = 2000,
    seed: int = 0,
    stages: Sequence[str] | None = None,
    style: bool = False,
    batch_size: int = 250,
    labels: torch.Tensor | int | None = None,
    measures: Any = None,
) -> LatentSamples:
    """Generate ``n`` images from seeded latents, tap the generator's stages and measure the images.

    Args:
        generator: z (B, D) -> images (B, C, H, W) in [-1, 1], e.g. :class:`xstyle.gan.dcgan.Generator`,
            or a :class:`~xstyle.models.generators.GeneratorSpec` or spec string.
        classifier: the scorer adding ``class``/``confidence`` (and ``gram_energy`` with ``style``);
            any module returning logits of the images.
        n: number of latents (>= 2).
        seed: seeds z (from the generator's prior, N(0, I) by default) through a CPU
            ``torch.Generator``: same seed, same numbers.
        stages: generator layers to tap (names from ``list_layers``); default: those of
            :data:`GENERATOR_STAGES` the generator has. ``()`` taps nothing.
        style: also measure ``gram_energy``.
        batch_size: latents per forward pass.
        labels: for a conditional generator, the digit(s) to generate (one int or n ints; None:
            balanced, 0..9 in turn; see :func:`xstyle.gan.prior.draw_latents`).
        measures: what to measure (names of :mod:`~xstyle.explain.gan.measures` and/or callables
            images -> (N,)); default: the digit measures for grey images, the colour ones for RGB.
    """
    check_int(n, "n", 2)
    generator = resolve_generator(generator)
    if stages is None:
        stages = default_stages(generator)
    from xstyle.gan.prior import draw_latents

    z = draw_latents(generator, n, generator=torch.Generator().manual_seed(check_seed(seed)), labels=labels)
    images, feats = generate(generator, z, stages=list(stages), batch_size=batch_size)
    attrs = measure(
        images, classifier=classifier, style=style, measures=measures, batch_size=max(batch_size, 500)
    )
    return LatentSamples(z=z, images=images, attributes=attrs, activations=feats, seed=int(seed))


# --------------------------------------------------------------------------------------- probes


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """A cross-validated linear probe: how well a linear model reads ``labels`` from ``features``.

    Attributes:
        kind: ``"classification"`` or ``"regression"``.
        estimator: the estimator's name (``"logistic"``, ``"linear_svc"``, ``"ridge"`` or a class name).
        metric: the cross-validation score (``"accuracy"``, ``"balanced_accuracy"``, ``"r2"``, ...).
        scores: one score per fold (cv,).
        score: mean of ``scores``; ``score_std`` their standard deviation.
        chance: the score of guessing (majority-class share for accuracy, 1/classes for balanced
            accuracy, 0 for R²).
        coef: coefficients in the *unscaled* feature space, (D,) for regression and binary
            classification, (C, D) for C > 2 classes (fitted on all samples).
        intercept: matching intercept(s).
        direction: unit vector (D,): ``coef`` normalised (pointing to larger values / the second
            class); for C > 2 classes the top right-singular vector of the centred class coefficients.
        classes: the class labels (classification) or ``None``.
        n_samples, n_features, cv, random_state: the setting.
    """

    kind: str
    estimator: str
    metric: str
    scores: np.ndarray
    score: float
    score_std: float
    chance: float
    coef: np.ndarray
    intercept: np.ndarray
    direction: np.ndarray
    classes: tuple | None
    n_samples: int
    n_features: int
    cv: int
    random_state: int | None

    def to_dict(self, *, vectors: bool = True) -> dict[str, Any]:
        """JSON-ready numbers; ``vectors=False`` leaves out ``coef``, ``intercept`` and ``direction``."""
        out = {
            "kind": self.kind,
            "estimator": self.estimator,
            "metric": self.metric,
            "score": self.score,
            "score_std": self.score_std,
            "scores": [float(s) for s in self.scores],
            "chance": self.chance,
            "classes": None if self.classes is None else [_jsonable(c) for c in self.classes],
            "n_samples": self.n_samples,
            "n_features": self.n_features,
            "cv": self.cv,
            "random_state": self.random_state,
        }
        if vectors:
            out["coef"] = self.coef.tolist()
            out["intercept"] = self.intercept.tolist()
            out["direction"] = self.direction.tolist()
        return out


class ProbeGrid:
    """Mixin of the probe-table results (fields ``stages``, ``attributes``, ``metrics``, ``scores``
    ...): cell lookup with a one-line error and the attribute -> metric map of their ``to_dict``.

    Used by :class:`~xstyle.explain.gan.probes.ProbeTableResult` and
    :class:`~xstyle.explain.gan.dynamics.ProbeDynamicsResult`, which declare their fields
    themselves (so their field order stays as documented).
    """

    stages: tuple[str, ...]
    attributes: tuple[str, ...]
    metrics: tuple[str, ...]

    def _locate(self, stage: str, attribute: str) -> tuple[int, int]:
        """(stage index, attribute index) of a cell; ValueError for an unknown name."""
        if attribute not in self.attributes:
            raise ValueError(f"attribute must be one of {list(self.attributes)}; got {attribute!r}.")
        if stage not in self.stages:
            raise ValueError(f"stage must be one of {list(self.stages)}; got {stage!r}.")
        return self.stages.index(stage), self.attributes.index(attribute)

    def _metric_map(self) -> dict[str, str]:
        """attribute -> its metric, as the results' ``to_dict`` write it."""
        return dict(zip(self.attributes, self.metrics, strict=True))


def _num(value: float) -> float | None:
    """A float for JSON; ``None`` for NaN (an attribute that was constant and so not probed)."""
    return None if np.isnan(value) else float(value)


def by_stage(
    values: np.ndarray, stages: Sequence[str], attributes: Sequence[str], *, attribute_first: bool = False
) -> dict[str, dict[str, Any]]:
    """``{stage: {attribute: value}}`` of a (stages, attributes, ...) array (``attribute_first``:
    (attributes, stages, ...)); a trailing axis becomes a list; NaN -> ``None``."""
    v = np.asarray(values, dtype=float)
    if attribute_first:
        v = np.swapaxes(v, 0, 1)

    def cell(x: np.ndarray) -> Any:
        return _num(float(x)) if x.ndim == 0 else [_num(float(e)) for e in x]

    return {s: {a: cell(v[i, j]) for j, a in enumerate(attributes)} for i, s in enumerate(stages)}


def _jsonable(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _make_estimator(kind: str, estimator: Any, random_state: int | None):
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.svm import LinearSVC

    if estimator is None:
        estimator = "logistic" if kind == "classification" else "ridge"
    if isinstance(estimator, str):
        if estimator not in _ESTIMATORS[kind]:
            raise ValueError(
                f"estimator must be one of {list(_ESTIMATORS[kind])} for kind={kind!r} "
                f"(or a scikit-learn estimator); got {estimator!r}."
            )
        if estimator == "logistic":
            return "logistic", LogisticRegression(max_iter=2000)
        if estimator == "linear_svc":
            return "linear_svc", LinearSVC(max_iter=20000, random_state=random_state)
        return "ridge", RidgeCV(alphas=np.logspace(-3, 4, 15))
    if not (hasattr(estimator, "fit") and hasattr(estimator, "get_params")):
        raise ValueError(
            f"estimator must be a name or a scikit-learn estimator; got {type(estimator).__name__}."
        )
    return type(estimator).__name__, clone(estimator)


def fit_probe(
    features: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray | Sequence,
    *,
    kind: str = "classification",
    estimator: Any = None,
    cv: int = 5,
    scoring: str | None = None,
    random_state: int | None = 0,
) -> ProbeResult:
    """Fit a linear probe ``labels ~ features`` with seeded k-fold cross-validation (scikit-learn).

    Features are standardised (``StandardScaler``) inside each fold, then read by
    ``LogisticRegression`` (default for classification), ``LinearSVC`` (``"linear_svc"``) or
    ``RidgeCV`` (``"ridge"``, default for regression; its penalty is chosen among 1e-3..1e4 by
    leave-one-out inside each training fold), or any scikit-learn estimator passed in. Folds come from
    ``StratifiedKFold`` (classification) or ``KFold`` (regression), shuffled with ``random_state``.

    Args:
        features: (N, D) finite numbers.
        labels: (N,) class labels (classification) or finite numbers (regression).
        kind: ``"classification"`` or ``"regression"``.
        estimator: ``None``, a name (see above) or a scikit-learn estimator (cloned, not modified).
        cv: folds, 2 <= cv <= N (and, for classification, <= the largest class's size).
        scoring: a scikit-learn scorer name; default ``"accuracy"`` / ``"r2"``.
        random_state: seeds the folds (and ``LinearSVC``): same seed, same numbers.

    Returns:
        A :class:`ProbeResult` (scores per fold, coefficients and the unit direction).
    """
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {list(_KINDS)}; got {kind!r}.")
    x = check_matrix(features, "features")
    y = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"labels must have shape ({x.shape[0]},) to match features {x.shape}; got {y.shape}."
        )
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise ValueError("labels contain NaN or infinite values; drop those samples first.")
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ValueError(f"cv must be an integer >= 2 (number of folds); got {cv!r}.")
    n = x.shape[0]
    if cv > n:
        raise ValueError(f"cv={cv} is too large for {n} samples; use 2 <= cv <= {n}.")
    name, est = _make_estimator(kind, estimator, random_state)
    classes: tuple | None = None
    if kind == "classification":
        classes_arr, counts = np.unique(y, return_counts=True)
        if len(classes_arr) < 2:
            raise ValueError(
                f"labels must hold at least 2 classes for classification; got {len(classes_arr)}."
            )
        if cv > counts.max():
            raise ValueError(
                f"cv={cv} is too large: the largest class has {counts.max()} samples; "
                f"use cv <= {counts.max()}."
            )
        classes = tuple(_jsonable(c) for c in classes_arr)
        splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
        metric = scoring or "accuracy"
        if metric == "balanced_accuracy":
            chance = 1.0 / len(classes_arr)
        else:
            chance = float(counts.max() / n)
    else:
        if y.dtype.kind not in "iuf":
            raise ValueError(f"labels must be numbers for regression; got dtype {y.dtype}.")
        y = y.astype(np.float64)
        splitter = KFold(n_splits=cv, shuffle=True, random_state=random_state)
        metric = scoring or "r2"
        chance = 0.0
    pipe = make_pipeline(StandardScaler(), est)
    # BLAS runs single-threaded here: the matrices are small (e.g. 1600 x 128), and on a busy
    # 2-core machine multi-threaded BLAS made these fits 10-20x slower (threads spin-waiting).
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        cvres = cross_validate(pipe, x, y, cv=splitter, scoring=metric)
        pipe.fit(x, y)
    scores = np.asarray(cvres["test_score"], dtype=np.float64)
    scaler, fitted = pipe[0], pipe[-1]
    raw = getattr(fitted, "coef_", None)
    if raw is None:
        raise ValueError(f"estimator {name} has no coef_ after fitting; use a linear estimator.")
    coef = np.asarray(raw, dtype=np.float64) / scaler.scale_
    if coef.ndim == 2 and coef.shape[0] == 1:
        coef = coef[0]
    intercept = np.atleast_1d(np.asarray(getattr(fitted, "intercept_", 0.0), dtype=np.float64))
    intercept = intercept - np.atleast_2d(coef) @ scaler.mean_
    if coef.ndim == 1:
        direction = coef
    else:
        _, _, vt = np.linalg.svd(coef - coef.mean(axis=0, keepdims=True), full_matrices=False)
        direction = vt[0] * (1.0 if vt[0][np.argmax(np.abs(vt[0]))] >= 0 else -1.0)
    norm = np.linalg.norm(direction)
    direction = direction / norm if norm > 0 else direction
    return ProbeResult(
        kind=kind,
        estimator=name,
        metric=metric,
        scores=scores,
        score=float(scores.mean()),
        score_std=float(scores.std()),
        chance=chance,
        coef=coef,
        intercept=intercept,
        direction=direction,
        classes=classes,
        n_samples=n,
        n_features=x.shape[1],
        cv=int(cv),
        random_state=random_state,
    )
