"""GAN quality judged by the digit classifier of :mod:`xstyle.gan.classifier`.

These are the MNIST analogues of the Inception Score and the Fréchet Inception Distance: the scorer is
a small CNN trained on the offline digits (:func:`xstyle.gan.classifier.train_classifier`), not
Inception-v3 on ImageNet, so the numbers are comparable only with numbers computed with the same
classifier weights and sample sizes -- never with published IS / FID values.

* :func:`inception_score` -- ``exp(E_x KL(p(y|x) || p(y)))`` over the classifier's softmax: 1 (every
  sample gets the same prediction) to 10 (confident predictions spread evenly over the 10 digits).
* :func:`frechet_distance` -- the Fréchet distance between Gaussians fitted to the classifier's
  128-d penultimate features of generated and real digits (0 = identical statistics).
* :func:`class_balance` -- how the predicted digits are spread (mode collapse shows as low entropy).
* :func:`evaluate_generator` -- all of the above for a generator, as a :class:`GANQuality`.
* :func:`fill_history_quality` -- those scores for every checkpoint of a run trained without them.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg
import scipy.special
import scipy.stats
import torch
from torch import nn

from xstyle._checks import check_int, check_seed
from xstyle._limits import check_memory, gan_eval_bytes
from xstyle.data import DigitData, ImageData, check_digit_data
from xstyle.gan.classifier import DigitClassifier
from xstyle.gan.prior import draw_latents
from xstyle.hooks import device_of, frozen

__all__ = [
    "CONFIDENT",
    "GANQuality",
    "class_balance",
    "classifier_outputs",
    "evaluate_generator",
    "fill_history_quality",
    "frechet_distance",
    "inception_score",
]

logger = logging.getLogger(__name__)

#: A sample counts as confidently classified when its largest class probability is at least this.
CONFIDENT = 0.9


def classifier_outputs(
    classifier: DigitClassifier, images: torch.Tensor, *, batch_size: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax probabilities and penultimate features of ``images``, without gradients.

    Args:
        classifier: a :class:`DigitClassifier`; run in eval mode, its ``training`` flag is restored.
        images: digits (N, 1, 28, 28) in [-1, 1], N >= 1, on any device (or images (N, C, S, S)
            of the size and channels the classifier reads, e.g. 32x32 RGB emoji).
        batch_size: digits per forward pass.

    Returns:
        ``(probs, features)``: probs (N, 10) float32 on the CPU, rows summing to 1; features (N, 128)
        float32 on the CPU, non-negative.
    """
    check_int(batch_size, "batch_size", 1)
    want = tuple(getattr(classifier, "input_shape", (1, 28, 28)))
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != want:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(
            f"images must have shape (N, {', '.join(map(str, want))}) with values in [-1, 1]; got {shape}."
        )
    if images.shape[0] == 0:
        raise ValueError("images is empty; pass at least one digit.")
    device = device_of(classifier)
    probs, feats = [], []
    with frozen(classifier), torch.no_grad():
        for first in range(0, images.shape[0], batch_size):
            x = images[first : first + batch_size].to(device=device, dtype=torch.float32)
            f = classifier.features(x)
            probs.append(torch.softmax(classifier.head(f), dim=1).cpu())
            feats.append(f.cpu())
    return torch.cat(probs), torch.cat(feats)


def _as_probs(probs: torch.Tensor | np.ndarray) -> np.ndarray:
    p = np.asarray(probs.detach().cpu() if isinstance(probs, torch.Tensor) else probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"probs must have shape (N, C) with N >= 1 and C >= 2; got {p.shape}.")
    if not np.isfinite(p).all() or p.min() < 0 or np.abs(p.sum(axis=1) - 1).max() > 1e-3:
        raise ValueError("probs must be non-negative rows summing to 1 (apply softmax to logits first).")
    return p


def inception_score(probs: torch.Tensor | np.ndarray) -> float:
    """``exp(mean_x KL(p(y|x) || p(y)))`` of class probabilities (N, C), with ``p(y)`` their mean.

    Lies in [1, C] (C = 10 for digits): 1 when every row is the same, C when the rows are one-hot and
    spread evenly over the C classes. Computed in float64 with :func:`scipy.special.rel_entr`
    (0 * log 0 counts as 0).
    """
    p = _as_probs(probs)
    kl = scipy.special.rel_entr(p, p.mean(axis=0, keepdims=True)).sum(axis=1).mean()
    return float(min(max(math.exp(kl), 1.0), float(p.shape[1])))  # clip rounding noise to [1, C]


def _as_features(x: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError(f"{name} must have shape (N, D) with N >= 2 samples; got {a.shape}.")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return a


def frechet_distance(feats_a: torch.Tensor | np.ndarray, feats_b: torch.Tensor | np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N_a, D) and (N_b, D), N >= 2.

    ``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 sqrtm(S_a S_b))`` with unbiased covariances, in float64,
    the matrix square root by :func:`scipy.linalg.sqrtm` (real part). Rank-deficient covariances
    (fewer samples than dimensions, dead ReLU units) are fine; if the root is not finite, it is
    retried with ``1e-6 * I`` added to both covariances. Symmetric up to rounding; tiny negative
    results from rounding are clipped to 0.
    """
    a = _as_features(feats_a, "feats_a")
    b = _as_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"feats_a and feats_b must have the same width D; got {a.shape[1]} and {b.shape[1]}."
        )
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)  # singular products are expected
        root = scipy.linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(root).all():
            logger.warning(
                "frechet_distance: sqrtm not finite; retrying with 1e-6 * I added to the covariances"
            )
            offset = np.eye(cov_a.shape[0]) * 1e-6
            root = scipy.linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    if np.iscomplexobj(root):
        imag = float(np.abs(root.imag).max())
        if imag > 1e-3 * max(1.0, float(np.abs(root.real).max())):
            logger.warning(
                "frechet_distance: sqrtm has an imaginary part up to %.3g; using the real part", imag
            )
        root = root.real
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root))
    return max(value, 0.0)


def class_balance(probs: torch.Tensor | np.ndarray) -> dict[str, Any]:
    """How the predicted classes (argmax of each row of probs (N, C)) are spread.

    Returns:
        ``{"counts": [C ints], "fractions": [C floats summing to 1], "entropy": float}``; ``entropy`` is
        the Shannon entropy of the fractions divided by log C, in [0, 1] (0: one class only, 1: even).
    """
    p = _as_probs(probs)
    n_classes = p.shape[1]
    counts = np.bincount(p.argmax(axis=1), minlength=n_classes)
    fractions = counts / counts.sum()
    entropy = float(scipy.stats.entropy(fractions) / math.log(n_classes))
    return {
        "counts": [int(c) for c in counts],
        "fractions": [float(f) for f in fractions],
        "entropy": min(max(entropy, 0.0), 1.0),
    }


@dataclass(frozen=True)
class GANQuality:
    """Classifier-based quality of generated digits (see the module docstring for what is comparable).

    Attributes:
        n_samples: generated digits scored.
        inception_score: in [1, 10], higher is better.
        frechet_distance: >= 0 between generated and real features, lower is better.
        confident_fraction: share of samples whose largest class probability is >= 0.9, in [0, 1].
        mean_confidence: mean largest class probability, in [0.1, 1].
        class_counts: generated digits predicted as 0..9 (10 ints summing to n_samples).
        balance_entropy: normalised entropy of class_counts, in [0, 1] (1 = evenly spread).
        label_agreement: for a conditional generator, the share of samples the classifier assigns
            to the label they were generated with, in [0, 1]; None for an unconditional one.
    """

    n_samples: int
    inception_score: float
    frechet_distance: float
    confident_fraction: float
    mean_confidence: float
    class_counts: tuple[int, ...]
    balance_entropy: float
    label_agreement: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``class_counts`` as a list)."""
        out = dataclasses.asdict(self)
        out["class_counts"] = list(self.class_counts)
        return out

    def history_fields(self) -> dict[str, float | int]:
        """The scalar metrics as ``quality_*`` keys, as the trainer's per-epoch history stores them."""
        return {
            f"quality_{k}": v for k, v in self.to_dict().items() if not isinstance(v, list) and v is not None
        }


def evaluate_generator(
    generator: nn.Module,
    classifier: DigitClassifier,
    real: DigitData | ImageData,
    *,
    n_samples: int = 1000,
    seed: int = 0,
    batch_size: int = 500,
    labels: torch.Tensor | int | None = None,
) -> GANQuality:
    """Score ``n_samples`` digits from ``generator`` against the ``real`` digits with ``classifier``.

    Latents z (n_samples, latent_dim) come from the generator's prior (:func:`xstyle.gan.prior.draw_latents`:
    N(0, I) unless it was trained with another) and a CPU ``torch.Generator`` seeded with ``seed``
    (so a fixed seed gives the same samples and scores); images are generated in eval mode without
    gradients, and both models' ``training`` flags are restored afterwards.

    Args:
        generator: maps z (B, latent_dim) to digits (B, 1, 28, 28) in [-1, 1], e.g.
            :class:`xstyle.gan.dcgan.Generator` (``latent_dim`` attribute, default 100).
        classifier: the scorer, e.g. from :func:`xstyle.gan.classifier.load_classifier`.
        real: the reference digits, typically ``load_digits("heldout")`` (N >= 2).
        n_samples: generated digits to score (>= 2).
        seed: seeds the latents.
        batch_size: digits per forward pass.
        labels: for a conditional generator, the digit(s) to generate (one int, or ``n_samples``
            ints; None: balanced, 0..9 in turn); an unconditional generator refuses them.
    """
    check_int(batch_size, "batch_size", 1)
    check_int(n_samples, "n_samples", 2)
    check_memory("n_samples", n_samples, gan_eval_bytes, what="the generated digits and their scores")
    if isinstance(real, ImageData):
        shape = tuple(real.images.shape[1:])
    else:
        check_digit_data(real, name="real")
        shape = (1, 28, 28)
    if len(real) < 2:
        raise ValueError(f"{real.source}: need at least 2 real digits to compare with; got {len(real)}.")
    z = draw_latents(
        generator, n_samples, generator=torch.Generator().manual_seed(check_seed(seed)), labels=labels
    )
    device = device_of(generator)
    fakes = []
    with frozen(generator), torch.no_grad():
        for first in range(0, n_samples, batch_size):
            fakes.append(generator(z[first : first + batch_size].to(device)).float().cpu())
    fake = torch.cat(fakes)
    if tuple(fake.shape) != (n_samples, *shape):
        raise ValueError(
            f"generator must return images (B, {', '.join(map(str, shape))}) like the real ones; "
            f"got {tuple(fake.shape[1:])} per batch."
        )
    fake_probs, fake_feats = classifier_outputs(classifier, fake, batch_size=batch_size)
    _, real_feats = classifier_outputs(classifier, real.images, batch_size=batch_size)
    confidence = fake_probs.max(dim=1).values
    balance = class_balance(fake_probs)
    quality = GANQuality(
        n_samples=n_samples,
        inception_score=inception_score(fake_probs),
        frechet_distance=frechet_distance(fake_feats, real_feats),
        confident_fraction=float((confidence >= CONFIDENT).float().mean()),
        mean_confidence=float(confidence.mean()),
        class_counts=tuple(balance["counts"]),
        balance_entropy=balance["entropy"],
        label_agreement=_label_agreement(generator, z, fake_probs),
    )
    logger.info("GAN quality: %s", quality)
    return quality


def _label_agreement(generator: nn.Module, inputs: torch.Tensor, probs: torch.Tensor) -> float | None:
    """Share of a conditional generator's samples classified as the label they were drawn with."""
    n_classes = int(getattr(generator, "n_classes", 0))
    if not n_classes:
        return None
    requested = inputs[:, -n_classes:].argmax(dim=1)
    return float((probs.argmax(dim=1) == requested).float().mean())


def fill_history_quality(
    checkpoint: str | Path,
    classifier: DigitClassifier,
    real: DigitData,
    *,
    n_samples: int = 1000,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """The training history of ``checkpoint`` with the per-checkpoint quality a run skipped, measured now.

    A run trained with ``--no-metrics`` (``xstyle gan train``) has no ``quality_*`` entries in its
    history. This measures them afterwards as training would have: for every history entry without
    ``quality_frechet_distance`` whose epoch has a checkpoint -- ``checkpoint`` itself or an
    ``epoch_NNNN.pt`` beside it -- it scores that checkpoint's sampling generator (the moving average
    when the run kept one) with :func:`evaluate_generator` (``n_samples`` latents seeded with ``seed``;
    training uses 1000 and 0) and adds :meth:`GANQuality.history_fields`. Training scores against
    the held-out digits of the data it trained on, so pass those as ``real`` (the offline sample's
    for ``--data sample``).

    A checkpoint beside ``checkpoint`` counts only if it belongs to the same run: its history is the
    start of ``checkpoint``'s and its seed, batch size, learning rates, betas, moving-average decay
    and prior are the same. Others (left over from an earlier run in the same folder) are skipped
    with a logged warning. Entries without such a checkpoint and entries already measured are
    returned unchanged; no file is modified.

    Args:
        checkpoint: a trainer checkpoint (``epoch_NNNN.pt``).
        classifier, real: the scorer and the real digits, as for :func:`evaluate_generator`.
        progress: called with ``(done, total)`` after each checkpoint is measured or skipped.

    Returns:
        A new list of new dicts, one per history entry, in the same order.
    """
    from xstyle.gan.train import load_checkpoint

    checkpoint = Path(checkpoint)
    source = load_checkpoint(checkpoint)
    same = ("seed", "batch_size", "lr_g", "lr_d", "betas", "ema_decay", "prior", "conditional")
    settings = {k: source.config.to_dict()[k] for k in same}
    history = [dict(entry) for entry in source.history]
    todo = []
    for entry in history:
        epoch = int(entry.get("epoch", -1))
        path = checkpoint if epoch == source.epoch else checkpoint.with_name(f"epoch_{epoch:04d}.pt")
        if "quality_frechet_distance" not in entry and path.is_file():
            todo.append((entry, path))
    for done, (entry, path) in enumerate(todo, start=1):
        sampler = source.sampler
        if path != checkpoint:
            sibling = load_checkpoint(path)
            ours = sibling.history == source.history[: len(sibling.history)] and settings == {
                k: sibling.config.to_dict()[k] for k in same
            }
            sampler = sibling.sampler if ours else None
            if not ours:
                logger.warning(
                    "%s is not from the run of %s (other history or settings); skipped", path, checkpoint
                )
        if sampler is not None:
            quality = evaluate_generator(sampler, classifier, real, n_samples=n_samples, seed=seed)
            entry.update(quality.history_fields())
        if progress is not None:
            progress(done, len(todo))
    return history
