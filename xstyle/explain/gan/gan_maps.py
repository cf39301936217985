"""Attribution for the GAN: what the discriminator looks at, and which latent dimensions decide the digit.

* :func:`discriminator_maps` — pixel attributions of the discriminator's real/fake logit on real and
  generated digits, with stroke-versus-background mass and deletion/insertion curves.
* :func:`latent_class_attribution` — IG of a classifier's logit of G(z) (the digit scorer, the emoji
  classifier, any module returning logits) to the latent dimensions, per predicted class, and a causal
  check: moving z along a class's top dimensions raises that class's logit more than moving it along
  random dimensions. For a conditional generator G(z, y) only z is attributed (the label stays).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_int, check_seed
from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle.explain.attribution.engine import attribute
from xstyle.explain.attribution.sanity import DeletionInsertionResult, deletion_insertion, randomisation_check
from xstyle.explain.attribution.targets import DiscriminatorTarget, Target
from xstyle.explain.gan._common import resolve_generator
from xstyle.explain.gan.plots import DiscriminatorMapsDisplay, LatentClassDisplay
from xstyle.hooks import frozen

__all__ = [
    "DiscriminatorMapsResult",
    "LatentClassResult",
    "discriminator_maps",
    "latent_class_attribution",
]

Progress = Callable[[str], None]


def _check_digits(digits: torch.Tensor, name: str) -> None:
    if not isinstance(digits, torch.Tensor) or digits.ndim != 4 or not 1 <= digits.shape[1] <= 4:
        shape = tuple(digits.shape) if isinstance(digits, torch.Tensor) else type(digits).__name__
        raise ValueError(
            f"{name} must be digits (N, 1, 28, 28) or images (N, C, H, W) in [-1, 1]; got {shape}."
        )
    if len(digits) < 1:
        raise ValueError(f"{name} must hold at least one digit.")


@dataclass(frozen=True, eq=False)
class DiscriminatorMapsResult(Plottable):
    """Discriminator attributions on real and generated digits (baseline: an empty, all -1 canvas).

    Attributes:
        real, fake: (N, 1, 28, 28) the digits; real_maps, fake_maps: (N, 28, 28) attributions of
            the logit (positive = pushes towards "real").
        real_logits, fake_logits: (N,).
        stroke_share: {"real", "fake"} -> mean share of |attribution| on ink pixels (value > 0).
        ink_fraction: {"real", "fake"} -> mean fraction of ink pixels (the share a map blind to
            strokes would give).
        deletion: {"real", "fake"} -> curves of the first digit of each set.
        completeness: {"real", "fake"} -> IG completeness error.
        randomisation: Spearman of the first real digit's map after randomising D's layers.
    """

    display: ClassVar[type[DiscriminatorMapsDisplay]] = DiscriminatorMapsDisplay

    real: torch.Tensor
    fake: torch.Tensor
    real_maps: torch.Tensor
    fake_maps: torch.Tensor
    real_logits: torch.Tensor
    fake_logits: torch.Tensor
    stroke_share: dict[str, float]
    ink_fraction: dict[str, float]
    deletion: dict[str, DeletionInsertionResult]
    completeness: dict[str, float | None]
    randomisation: Any
    method: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n": [len(self.real), len(self.fake)],
            "mean_logit": {"real": float(self.real_logits.mean()), "fake": float(self.fake_logits.mean())},
            "stroke_share": self.stroke_share,
            "ink_fraction": self.ink_fraction,
            "completeness_error": self.completeness,
            "deletion_insertion": {k: v.to_dict() for k, v in self.deletion.items()},
            "randomisation": None if self.randomisation is None else self.randomisation.to_dict(),
            "seconds": self.seconds,
        }


def discriminator_maps(
    discriminator: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    method: str = "ig",
    n_steps: int = 32,
    sanity: bool = True,
    seed: int = 0,
    progress: Progress | None = None,
    label: int | None = None,
    **attribute_options: Any,
) -> DiscriminatorMapsResult:
    """Pixel attributions of D's logit for real (N, 1, 28, 28) and generated digits, both in [-1, 1].

    Any discriminator and image size work: images (N, C, H, W) in [-1, 1], the maps summed over the
    channels. The baseline is the empty canvas: -1 for grey digits, else the median colour of the
    real images' border pixels (white for the emoji); "stroke" pixels are the digits' ink (> 0), or
    the pixels farther than 0.2 from that background. A conditional discriminator ``D(x, labels)``
    is judged at one ``label`` for all images.
    """
    _check_digits(real, "real")
    _check_digits(fake, "fake")
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(
            f"real and fake must have one shape; got {tuple(real.shape)} and {tuple(fake.shape)}."
        )
    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    if label is not None:
        discriminator = _AtLabel(discriminator, label)
    target = DiscriminatorTarget(discriminator)
    grey = real.shape[1] == 1
    border = torch.cat([real[:, :, 0], real[:, :, -1], real[:, :, :, 0], real[:, :, :, -1]], dim=2)
    background = -1.0 if grey else border.transpose(0, 1).flatten(1).median(dim=1).values[None, :, None, None]
    out: dict[str, Any] = {}
    for name, digits in (("real", real), ("fake", fake)):
        say(f"discriminator attribution ({name})")
        base = torch.full_like(digits, -1.0) if grey else torch.zeros_like(digits) + background
        res = attribute(
            target, digits, method=method, baselines=base, n_steps=n_steps, seed=seed, **attribute_options
        )
        maps = res.attributions.sum(dim=1)
        ink = digits[:, 0] > 0 if grey else (digits - background).abs().amax(dim=1) > 0.2
        mass = maps.abs()
        share = (mass * ink).flatten(1).sum(1) / mass.flatten(1).sum(1).clamp_min(1e-30)
        out[name] = (maps, res.scores, float(share.mean()), float(ink.double().mean()), res.completeness())
        if sanity:
            say(f"deletion/insertion ({name})")
            out[name + "_curve"] = deletion_insertion(
                target, digits[:1], maps[0], baseline=base[:1], seed=seed
            )
    rand = None
    if sanity:
        say("model randomisation (discriminator)")
        rand = randomisation_check(
            target,
            real[:1],
            method=method,
            n_steps=n_steps,
            seed=seed,
            baselines=torch.full_like(real[:1], -1.0) if grey else torch.zeros_like(real[:1]) + background,
            **attribute_options,
        )
    return DiscriminatorMapsResult(
        real=real.detach(),
        fake=fake.detach(),
        real_maps=out["real"][0],
        fake_maps=out["fake"][0],
        real_logits=out["real"][1],
        fake_logits=out["fake"][1],
        stroke_share={"real": out["real"][2], "fake": out["fake"][2]},
        ink_fraction={"real": out["real"][3], "fake": out["fake"][3]},
        deletion={k: out[k + "_curve"] for k in ("real", "fake") if k + "_curve" in out},
        completeness={"real": out["real"][4], "fake": out["fake"][4]},
        randomisation=rand,
        method=method,
        seconds=time.perf_counter() - start,
    )


class _AtLabel(nn.Module):
    """A conditional discriminator judged at one label: ``D(x, label for every image)``."""

    def __init__(self, discriminator: nn.Module, label: int) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.label = int(label)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(x, torch.full((x.shape[0],), self.label, dtype=torch.long, device=x.device))


@dataclass(frozen=True, eq=False)
class LatentClassResult(Plottable):
    """Which latent dimensions decide the class of G(z) (a digit, an emoji category, ...).

    Attributes:
        attribution: (K, latent_dim) mean IG attribution of the class logit to each z dimension,
            over the samples predicted as that class (NaN rows for classes never predicted); K is
            the classifier's number of classes.
        counts: (K,) samples per predicted class.
        top_dims: class -> the ``top`` dimensions by mean |attribution|.
        causal: class -> {"top": mean logit change when each sample's z moves by ``step`` further
            along its top dimensions (away from the baseline where the attribution is positive,
            back towards it where negative), "random": the same for random dimensions}; a
            faithful ranking has top > random.
        completeness: IG completeness error (max over samples).
    """

    display: ClassVar[type[LatentClassDisplay]] = LatentClassDisplay

    attribution: np.ndarray
    abs_attribution: np.ndarray
    counts: np.ndarray
    top_dims: dict[int, list[int]]
    causal: dict[int, dict[str, float]]
    completeness: float | None
    method: str
    seconds: float

    @property
    def causal_passed(self) -> float:
        """Fraction of predicted classes whose top dimensions beat random ones in the causal check."""
        if not self.causal:
            return float("nan")
        return float(np.mean([v["top"] > v["random"] for v in self.causal.values()]))

    def to_dict(self) -> dict[str, Any]:
        return field_dict(
            self,
            *("method", "counts", "top_dims", "causal"),
            causal_passed_fraction=self.causal_passed,
            completeness_error=self.completeness,
            seconds=self.seconds,
        )


class _LogitOfG(Target):
    """The classifier's logit of class ``k`` of G(w), as a function of G's input w (N, D [+ C]) -> (N,)."""

    deeplift_ok = True

    def __init__(self, generator: nn.Module, classifier: nn.Module, k: int) -> None:
        super().__init__()
        self.model = generator
        self.classifier = classifier
        self.k = int(k)

    @property
    def label(self) -> str:
        return f"class {self.k} logit of G(z)"

    def networks(self) -> list[nn.Module]:
        return [self.model, self.classifier]

    def with_model(self, model: nn.Module) -> _LogitOfG:
        return _LogitOfG(model, self.classifier, self.k)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.model(w))[:, self.k]


def _class_inputs(
    generator: nn.Module, classifier: nn.Module, n: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Seeded inputs w (n, D [+ C]) from the generator's prior (a conditional generator's labels
    balanced), the classes (n,) the classifier predicts for G(w), and its number of classes K."""
    from xstyle.gan.prior import draw_latents

    w = draw_latents(generator, n, generator=gen)
    with frozen(generator, classifier), torch.no_grad():
        logits = classifier(generator(w))
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != n:
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"the classifier must return logits (N, K) of the generated images; got {got}.")
    return w, logits.argmax(1), int(logits.shape[1])


def _causal_gain(
    target: Target, members: torch.Tensor, attributions: torch.Tensor, dims: list[int], step: float
) -> float:
    """Mean change of ``target`` when each member's chosen z dimensions move ``step`` further from
    the baseline 0 where their attribution is positive (back towards it where negative)."""
    # IG credits the move from the baseline 0 to z; continuing that move along a dimension with
    # positive attribution (and back along one with negative) should raise the logit
    direction = torch.sign(attributions) * torch.sign(members)
    with frozen(target.model, target.classifier), torch.no_grad():
        moved = members.clone()
        moved[:, dims] += step * direction[:, dims].to(moved.dtype)
        return float((target(moved) - target(members)).mean())


def latent_class_attribution(
    generator: Any,
    classifier: nn.Module | None,
    *,
    n: int = 200,
    method: str = "ig",
    n_steps: int = 32,
    top: int = 5,
    step: float = 0.5,
    seed: int = 0,
    progress: Progress | None = None,
    **attribute_options: Any,
) -> LatentClassResult:
    """Attribute each sample's predicted-class logit to z (baseline z = 0) and check it causally.

    Args:
        generator: z (N, latent_dim) -> images (N, C, H, W) in [-1, 1] (a module, a
            :class:`~xstyle.models.generators.GeneratorSpec` or a spec string); a conditional one
            takes cat(z, one-hot y), its labels drawn balanced and kept on the baseline, so only z
            is attributed.
        classifier: images -> logits (N, K), any K; None: the spec's classifier.
        n: latent samples (z from the generator's prior, N(0, I) by default, seeded with ``seed``).
        top: dimensions per class reported and moved in the causal check.
        step: how far each of those coordinates moves (in units of the prior's standard deviation).
    """
    check_int(n, "n", 1)
    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    if isinstance(generator, str):  # a spec string: its spec, which may carry a classifier
        import xstyle.gan  # noqa: F401 - registers shipped:NAME and checkpoints
        from xstyle.models.generators import get_generator

        generator = get_generator(generator)
    classifier = classifier if classifier is not None else getattr(generator, "classifier", None)
    if classifier is None:
        raise ValueError(
            "latent_class_attribution needs a classifier (the generator's spec has none); pass one."
        )
    generator = resolve_generator(generator)
    latent_dim = int(getattr(generator, "latent_dim", 100))
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= latent_dim // 2:
        raise ValueError(f"top must be an integer in [1, {latent_dim // 2}]; got {top!r}.")
    gen = torch.Generator().manual_seed(check_seed(seed))
    w, predicted, k = _class_inputs(generator, classifier, n, gen)
    attribution = np.full((k, latent_dim), np.nan)
    abs_attr = np.full((k, latent_dim), np.nan)
    counts = np.bincount(predicted.numpy(), minlength=k)
    top_dims: dict[int, list[int]] = {}
    causal: dict[int, dict[str, float]] = {}
    errors = []
    for cls in range(k):
        members = w[predicted == cls]
        if len(members) == 0:
            continue
        say(f"latent attribution (class {cls}, {len(members)} samples)")
        target = _LogitOfG(generator, classifier, cls)
        baseline: Any = "zeros"
        if members.shape[1] > latent_dim:  # conditional: the label part stays on the baseline
            baseline = torch.cat([torch.zeros_like(members[:, :latent_dim]), members[:, latent_dim:]], 1)
        res = attribute(
            target,
            members,
            method=method,
            baselines=baseline,
            n_steps=n_steps,
            seed=seed,
            **attribute_options,
        )
        a = res.attributions.double()[:, :latent_dim]
        attribution[cls] = a.mean(0).numpy()
        abs_attr[cls] = a.abs().mean(0).numpy()
        if res.completeness() is not None:
            errors.append(res.completeness())
        dims = np.argsort(-abs_attr[cls], kind="stable")[:top].tolist()
        top_dims[cls] = dims
        others = [d for d in torch.randperm(latent_dim, generator=gen).tolist() if d not in dims]
        gains = [
            _causal_gain(target, members, res.attributions, chosen, step) for chosen in (dims, others[:top])
        ]
        causal[cls] = {"top": gains[0], "random": gains[1]}
    return LatentClassResult(
        attribution=attribution,
        abs_attribution=abs_attr,
        counts=counts,
        top_dims=top_dims,
        causal=causal,
        completeness=max(errors) if errors else None,
        method=method,
        seconds=time.perf_counter() - start,
    )
