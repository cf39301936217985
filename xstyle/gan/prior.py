"""The latent prior a DCGAN samples z from: the standard normal, or a fixed mixture of Gaussians.

The design's DCGAN draws z ~ N(0, I). A continuous generator maps that connected cloud onto ten
separate digit classes, so some of its mass must land between them: blends that look like no digit
(the "no GAN's land" of Tanielian et al., ICML 2020). A mixture of well-separated Gaussians
(DeLiGAN, Gurumurthy et al., CVPR 2017, proposed it for small data sets like the 4,500 digits here)
gives the generator empty space between components where those transitions can hide. The
architecture, losses and optimiser stay the design's; only where z comes from changes.

A prior is written as a short spec, used by ``GANConfig.prior``, the CLI's ``--prior`` and the
checkpoints' JSON:

- ``"normal"``: z ~ N(0, I), the design's default.
- ``"mixture:K:R:S"``: pick one of K components uniformly, then z ~ N(mu_k, S² I). The K means are
  fixed, not learned: Gaussian directions from a seeded generator (seed 1234) scaled to norm R.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from xstyle._checks import check_int
from xstyle._limits import check_memory, latent_bytes
from xstyle.gan.dcgan import LATENT_DIM, N_DIGITS, check_labels, one_hot

__all__ = [
    "MAX_COMPONENTS",
    "NORMAL",
    "LatentPrior",
    "draw_latents",
    "prior_of",
    "split_labels",
    "with_labels",
]

_MEANS_SEED = 1234  # fixes the mixture's means, so a spec names one prior everywhere
#: most mixture components: 1000 means are 400 kB and ten digit classes need ~10, while a spec or
#: checkpoint asking for 10**9 would allocate 400 GB of means (and a cdist as large per call)
MAX_COMPONENTS = 1000


@dataclass(frozen=True, kw_only=True)
class LatentPrior:
    """Where z comes from: ``components == 1`` is N(0, I); more is an equal mixture of Gaussians.

    Attributes:
        components: K, the number of mixture components (1: the standard normal).
        radius: R, the norm of every component mean (0 for the standard normal).
        scale: S, the standard deviation of each component along every axis (1 for the normal).
    """

    components: int = 1
    radius: float = 0.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        check_int(self.components, "prior components", 1)
        if self.components > MAX_COMPONENTS:
            raise ValueError(
                f"prior components must be at most {MAX_COMPONENTS} (each is a fixed mean in memory); "
                f"got {self.components}."
            )
        object.__setattr__(self, "radius", float(self.radius))
        object.__setattr__(self, "scale", float(self.scale))
        if not (
            math.isfinite(self.radius) and self.radius >= 0 and math.isfinite(self.scale) and self.scale > 0
        ):
            raise ValueError(
                f"prior radius must be >= 0 and scale > 0, both finite; got radius={self.radius!r}, "
                f"scale={self.scale!r}."
            )
        if self.components == 1 and (self.radius, self.scale) != (0.0, 1.0):
            raise ValueError("a one-component prior is the standard normal: write 'normal'.")

    @classmethod
    def parse(cls, spec: str) -> LatentPrior:
        """The prior a spec names: ``"normal"`` or ``"mixture:K:R:S"`` (e.g. ``"mixture:10:4:1"``)."""
        if not isinstance(spec, str):
            raise ValueError(f"prior must be a spec string like 'normal' or 'mixture:10:4:1'; got {spec!r}.")
        if spec == "normal":
            return NORMAL
        parts = spec.split(":")
        if len(parts) != 4 or parts[0] != "mixture":
            raise ValueError(
                f"unknown prior {spec!r}; use 'normal' or 'mixture:K:R:S' (K components, mean norm R, "
                f"standard deviation S), e.g. 'mixture:10:4:1'."
            )
        try:
            k, r, s = int(parts[1]), float(parts[2]), float(parts[3])
        except ValueError:
            raise ValueError(
                f"prior {spec!r}: K must be a whole number and R, S numbers, e.g. 'mixture:10:4:1'."
            ) from None
        if k < 2:
            raise ValueError(f"prior {spec!r}: a mixture needs K >= 2 components; for one, write 'normal'.")
        if k > MAX_COMPONENTS:  # here, not only in __post_init__, so the message shows the spec
            raise ValueError(
                f"prior {spec!r}: K must be at most {MAX_COMPONENTS} components (each is a fixed mean "
                f"in memory; ten digit classes need about 10), e.g. 'mixture:10:4:1'."
            )
        return cls(components=k, radius=r, scale=s)

    @property
    def spec(self) -> str:
        """The spec string that :meth:`parse` turns back into this prior."""
        if self.components == 1:
            return "normal"
        return f"mixture:{self.components}:{self.radius:g}:{self.scale:g}"

    def means(self, latent_dim: int = LATENT_DIM) -> torch.Tensor:
        """The component means (K, latent_dim), each of norm ``radius`` (zeros for the normal)."""
        return _means(self.components, self.radius, latent_dim).clone()

    def sample(
        self, n: int, latent_dim: int = LATENT_DIM, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """n latents (n, latent_dim), float32 on the CPU; the same ``generator`` state gives the same z.

        The standard normal draws exactly ``torch.randn(n, latent_dim, generator=generator)``, so
        runs and seeds from before priors existed give the same numbers. A mixture draws the
        components first (``torch.randint``), then the noise.
        """
        if self.components == 1:
            return torch.randn(n, latent_dim, generator=generator)
        component = torch.randint(0, self.components, (n,), generator=generator)
        return self.component_sample(component, latent_dim, generator=generator)

    def component_sample(
        self,
        component: torch.Tensor,
        latent_dim: int = LATENT_DIM,
        *,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Latents (n, latent_dim) from the given components (n,) (integers in [0, K))."""
        noise = torch.randn(len(component), latent_dim, generator=generator)
        return _means(self.components, self.radius, latent_dim)[component] + self.scale * noise

    def component_of(self, z: torch.Tensor) -> torch.Tensor:
        """The component each latent (n, latent_dim) most likely came from (n,), int64 (the nearest mean)."""
        return torch.cdist(z.float(), _means(self.components, self.radius, z.shape[1])).argmin(dim=1)


@lru_cache(maxsize=16)
def _means(components: int, radius: float, latent_dim: int) -> torch.Tensor:
    """The fixed means (K, latent_dim), computed once per prior (the trainer draws z every step)."""
    if components == 1:
        return torch.zeros(1, latent_dim)
    mu = torch.randn(components, latent_dim, generator=torch.Generator().manual_seed(_MEANS_SEED))
    return mu / mu.norm(dim=1, keepdim=True) * radius


NORMAL = LatentPrior()


def prior_of(model: nn.Module) -> LatentPrior:
    """The prior a generator was trained with (its ``prior`` attribute, a :class:`LatentPrior` or a
    spec string such as ``"normal"``; N(0, I) when it has none)."""
    prior = getattr(model, "prior", None)
    if isinstance(prior, str):
        return LatentPrior.parse(prior)
    return prior if isinstance(prior, LatentPrior) else NORMAL


def draw_latents(
    model: nn.Module,
    n: int,
    *,
    generator: torch.Generator | None = None,
    labels: torch.Tensor | int | None = None,
) -> torch.Tensor:
    """n generator inputs from the prior ``model`` was trained with (float32, CPU).

    ``model`` is a generator mapping its input to images; its ``latent_dim`` attribute (else its
    first layer's inputs: a Linear's ``in_features``, a convolution's ``in_channels``, less the
    labels) and ``prior`` attribute (default N(0, I)) are used. For an unconditional generator the
    result is z (n, latent_dim). For a conditional one (``n_classes > 0``) it is cat(z, one-hot
    label), (n, latent_dim + n_classes): ``labels`` is one digit for all, a sequence of n digits,
    or None for balanced labels 0, 1, ..., 9, 0, 1, ... The z part is the same for any labels
    (the same ``generator`` state gives the same z), so two calls that differ only in ``labels``
    write the same handwriting as different digits.
    """
    n_classes = int(getattr(model, "n_classes", 0) or 0)
    latent_dim = _latent_dim(model, n_classes)
    width = latent_dim + n_classes
    check_memory("n", n, lambda v: latent_bytes(v, width), what=f"{width}-dimensional latents")
    if not n_classes and labels is not None:
        raise ValueError(
            "labels are for a conditional generator; this one is unconditional (train one with "
            "`xstyle gan train --conditional`, or drop the labels / --digit)."
        )
    z = prior_of(model).sample(n, latent_dim, generator=generator)
    return with_labels(z, check_labels(labels, n, n_classes), n_classes=n_classes) if n_classes else z


def _latent_dim(model: nn.Module, n_classes: int) -> int:
    """The size of z: ``model.latent_dim``, else its first layer's input width less the labels."""
    dim = getattr(model, "latent_dim", None)
    if isinstance(dim, int) and not isinstance(dim, bool) and dim > 0:
        return dim
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.ConvTranspose2d | nn.Conv2d):
            width = module.in_features if isinstance(module, nn.Linear) else module.in_channels
            if width > n_classes:
                return width - n_classes
            break
    raise ValueError(
        f"cannot tell the latent size of {type(model).__name__}: give it a latent_dim attribute "
        "(or wrap it with xstyle.models.generators.get_generator)."
    )


def with_labels(z: torch.Tensor, labels: torch.Tensor, *, n_classes: int = N_DIGITS) -> torch.Tensor:
    """cat(z (n, latent_dim), one-hot labels (n, n_classes)): the input of a conditional generator."""
    return torch.cat([z, one_hot(labels, n_classes=n_classes).to(z.dtype)], dim=1)


def split_labels(inputs: torch.Tensor, *, n_classes: int = N_DIGITS) -> tuple[torch.Tensor, torch.Tensor]:
    """(z (n, latent_dim), labels (n,) int64) of conditional generator inputs (the argmax of the
    one-hot part)."""
    return inputs[:, :-n_classes], inputs[:, -n_classes:].argmax(dim=1)
