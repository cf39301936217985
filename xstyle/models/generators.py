"""Generators as data: what every GAN analysis needs from a generator, declared once in a spec.

As GANSpace (``sample_latent``, ``partial_forward``) and InterFaceGAN (``latent_space_dim``,
``resolution``, ``min_val``/``max_val``, ``synthesize``) wrap the generators they explain, a
:class:`GeneratorSpec` declares a generator's latent (size, the shape the module takes, its prior),
its output (range, channels, size), its named stages and, if it is conditional, its labels.
:func:`get_generator` builds one from a spec string, wherever a generator is chosen:

============================ ==========================================================================
``shipped:NAME``             a GAN xstyle ships (``shipped:dcgan``, ``shipped:dcgan-conditional``,
                             ``shipped:emoji-dcgan``; registered by :mod:`xstyle.gan`)
``PATH.pt``                  an xstyle DCGAN checkpoint or release (``xstyle gan train``/``export``)
``pkg.module:callable``      the user's own: ``callable()`` returns an ``nn.Module`` (latents in,
                             images out) or a :class:`GeneratorSpec`; ``weights=FILE`` is loaded with
                             ``torch.load(weights_only=True)`` and checked key by key
``DIR:entry``                the same through a local ``hubconf.py``
an ``nn.Module``             wrapped as it is (:func:`wrap_generator`)
============================ ==========================================================================

Every analysis then sees :attr:`GeneratorSpec.generator`: an ``nn.Module`` that takes flat inputs
(B, latent_dim + n_classes) (z, then the one-hot label of a conditional generator, as
:func:`xstyle.gan.prior.draw_latents` draws them) and returns images (B, C, S, S) in [-1, 1],
whose stages keep the user's own layer names; latent shapes like (B, 128) and (B, 128, 1, 1)
and output ranges like [0, 1] are adapted in it. The user's module is never changed (weights go
into a copy) and its ``training`` flags are restored by every analysis.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "GeneratorError",
    "GeneratorSpec",
    "get_generator",
    "list_generators",
    "register_generator_source",
    "wrap_generator",
]

_LABEL_INPUTS = ("concat", "argument")
_FORMS = (
    "'shipped:NAME', an xstyle checkpoint PATH.pt, 'package.module:callable' or 'DIR:entry' "
    "(a folder with hubconf.py)"
)


class GeneratorError(ValueError):
    """A generator spec, its weights or its output is wrong (one line: what, what is allowed, what to do)."""


@dataclass(frozen=True, eq=False, kw_only=True)
class GeneratorSpec:
    """A generator as data.

    Attributes:
        module: the generator as built (the user's module, or xstyle's DCGAN).
        name: the spec string that named it.
        latent_dim: the size of z (without the label).
        latent_shape: the shape one latent takes as ``module``'s input, e.g. ``(128,)`` or
            ``(128, 1, 1)`` (a conv-first generator); its product is ``latent_dim``.
        n_classes: 0 (unconditional) or the number of labels.
        label_input: how a conditional ``module`` takes its label: ``"concat"`` (the one-hot label
            appended to z along the first axis, as xstyle's DCGAN) or ``"argument"``
            (``module(z, labels)`` with int labels (B,)).
        class_names: the labels' names (``n_classes`` of them), or ``()``.
        output_range: the range of ``module``'s pixels, mapped to [-1, 1] for the analyses.
        channels, image_size: the output's C and S (images are (B, C, S, S)).
        stages: the layer names the stage analyses tap by default (names in ``module``).
        prior: where z comes from: ``"normal"`` or ``"mixture:K:R:S"`` (:mod:`xstyle.gan.prior`).
        discriminator: the GAN's discriminator, when there is one (for the discriminator maps).
        classifier: a module returning class logits of the images (for class probes and quality).
        description: one line for reports.
        card: provenance, training command, measured quality (JSON-ready).
    """

    module: nn.Module
    name: str
    latent_dim: int
    latent_shape: tuple[int, ...] = ()
    n_classes: int = 0
    label_input: str = "concat"
    class_names: tuple[str, ...] = ()
    output_range: tuple[float, float] = (-1.0, 1.0)
    channels: int = 1
    image_size: int = 28
    stages: tuple[str, ...] = ()
    prior: str = "normal"
    discriminator: nn.Module | None = None
    classifier: nn.Module | None = None
    description: str = ""
    card: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.module, nn.Module):
            raise GeneratorError(
                f"generator {self.name!r}: module must be a torch.nn.Module; "
                f"got {type(self.module).__name__}."
            )
        for attr, low in (("latent_dim", 1), ("n_classes", 0), ("channels", 1), ("image_size", 1)):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise GeneratorError(
                    f"generator {self.name!r}: {attr} must be a whole number >= {low}; got {value!r}."
                )
        shape = tuple(int(s) for s in (self.latent_shape or (self.latent_dim,)))
        object.__setattr__(self, "latent_shape", shape)
        if int(torch.tensor(shape).prod()) != self.latent_dim:
            raise GeneratorError(
                f"generator {self.name!r}: latent_shape {shape} does not hold "
                f"latent_dim={self.latent_dim} numbers."
            )
        if self.label_input not in _LABEL_INPUTS:
            raise GeneratorError(
                f"generator {self.name!r}: label_input must be one of {', '.join(_LABEL_INPUTS)}; "
                f"got {self.label_input!r}."
            )
        if self.class_names and len(self.class_names) != self.n_classes:
            raise GeneratorError(
                f"generator {self.name!r}: {len(self.class_names)} class_names for {self.n_classes} classes."
            )
        low, high = (float(v) for v in self.output_range)
        if not low < high:
            raise GeneratorError(
                f"generator {self.name!r}: output_range must be (low, high) with low < high."
            )
        object.__setattr__(self, "output_range", (low, high))
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "class_names", tuple(self.class_names))

    @property
    def conditional(self) -> bool:
        return self.n_classes > 0

    @property
    def input_dim(self) -> int:
        """Width of the flat inputs of :attr:`generator`: z, then the one-hot label."""
        return self.latent_dim + self.n_classes

    @property
    def generator(self) -> nn.Module:
        """The module every analysis runs: flat inputs (B, input_dim) -> images (B, C, S, S) in [-1, 1].

        xstyle's own DCGAN is returned as it is (it already takes and returns those); any other
        module is wrapped in an adapter that reshapes z, passes the label, rescales the output and
        exposes the module's layers under their own names. The same object on every call.
        """
        cached = self.__dict__.get("_generator")
        if cached is None:
            cached = self.module if _is_native(self) else _Adapter(self)
            object.__setattr__(self, "_generator", cached)
        return cached

    def sample_latent(
        self, n: int, *, seed: int = 0, labels: torch.Tensor | int | None = None
    ) -> torch.Tensor:
        """n seeded flat inputs (n, input_dim): z ~ N(0, I), then the one-hot labels of a conditional
        generator (one int for all, n ints, or None: 0, 1, ..., K-1, 0, ... in turn).

        The same numbers as :func:`xstyle.gan.prior.draw_latents` with a generator seeded ``seed``
        (which also draws from the mixture priors of xstyle's DCGANs).
        """
        if self.prior != "normal":
            raise GeneratorError(
                f"generator {self.name!r} has the prior {self.prior!r}; draw from it with "
                "xstyle.gan.prior.draw_latents(spec.generator, n)."
            )
        z = torch.randn(n, self.latent_dim, generator=torch.Generator().manual_seed(int(seed)))
        if not self.n_classes:
            if labels is not None:
                raise GeneratorError(f"generator {self.name!r} is unconditional: it takes no labels.")
            return z
        y = torch.arange(n) % self.n_classes if labels is None else torch.as_tensor(labels).expand(n)
        if y.dtype.is_floating_point or (n and (int(y.min()) < 0 or int(y.max()) >= self.n_classes)):
            raise GeneratorError(f"labels must be whole numbers in 0..{self.n_classes - 1}; got {labels!r}.")
        return torch.cat([z, nn.functional.one_hot(y.long(), self.n_classes).float()], dim=1)

    def synthesize(self, inputs: torch.Tensor) -> torch.Tensor:
        """Images (B, C, S, S) in [-1, 1] of flat inputs (B, input_dim), in eval mode, no gradients."""
        from xstyle.hooks import frozen

        with frozen(self.generator), torch.no_grad():
            return self.generator(inputs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (no modules)."""
        keys = ("name", "latent_dim", "latent_shape", "n_classes", "label_input", "class_names")
        keys += ("output_range", "channels", "image_size", "stages", "prior", "description")
        out = {k: getattr(self, k) for k in keys}
        out.update(
            has_discriminator=self.discriminator is not None,
            has_classifier=self.classifier is not None,
            card=dict(self.card),
        )
        return out


def _is_native(spec: GeneratorSpec) -> bool:
    """Whether ``spec.module`` already is what the analyses run (xstyle's DCGAN): flat inputs, [-1, 1]
    output, labels concatenated, and ``latent_dim``, ``n_classes``, ``channels``, ``image_size``
    attributes that agree with the spec."""
    return (
        spec.latent_shape == (spec.latent_dim,)
        and spec.output_range == (-1.0, 1.0)
        and spec.label_input == "concat"
        and getattr(spec.module, "latent_dim", None) == spec.latent_dim
        and int(getattr(spec.module, "n_classes", 0)) == spec.n_classes
        and getattr(spec.module, "channels", None) == spec.channels
        and getattr(spec.module, "image_size", None) == spec.image_size
    )


class _Adapter(nn.Module):
    """Flat inputs (B, latent_dim + n_classes) -> the user's module -> images in [-1, 1].

    The user's module is the child ``net``; :meth:`named_modules` lists its layers under their own
    names (``"fc"``, not ``"net.fc"``) so stages are addressed as the user names them, and lists
    the module itself as ``"net"`` (so ``modules()``, ``parameters()`` and :func:`~xstyle.hooks.frozen`
    still cover it).
    """

    def __init__(self, spec: GeneratorSpec) -> None:
        super().__init__()
        self.net = spec.module
        self.latent_dim = spec.latent_dim
        self.n_classes = spec.n_classes
        self.input_dim = spec.input_dim
        self.image_size = spec.image_size
        self.channels = spec.channels
        self.stages = spec.stages
        self._shape = spec.latent_shape
        self._label_input = spec.label_input
        self._range = spec.output_range
        self.prior = spec.prior  # a spec string, read by xstyle.gan.prior.prior_of

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, nn.Module]]:
        seen = set() if memo is None else memo
        if self not in seen:
            seen.add(self)
            yield prefix, self
        inner = self.net.named_modules(memo=seen, prefix="", remove_duplicate=remove_duplicate)
        for name, module in inner:
            full = name or "net"
            yield (prefix + "." + full if prefix else full), module

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.ndim != 2 or inputs.shape[1] != self.input_dim:
            raise ValueError(
                f"the generator takes inputs (B, {self.input_dim}) (z, then the one-hot label); "
                f"got {tuple(inputs.shape)}."
            )
        z = inputs[:, : self.latent_dim]
        if self.n_classes and self._label_input == "argument":
            out = self.net(z.reshape(-1, *self._shape), inputs[:, self.latent_dim :].argmax(dim=1))
        elif self.n_classes:
            full = (self.input_dim, *self._shape[1:])
            if len(self._shape) > 1:  # (B, D+K, 1, 1): the label joins z along the channels
                out = self.net(
                    inputs.reshape(-1, self.input_dim, *([1] * (len(self._shape) - 1))).expand(-1, *full)
                )
            else:
                out = self.net(inputs)
        else:
            out = self.net(z.reshape(-1, *self._shape))
        low, high = self._range
        return out if (low, high) == (-1.0, 1.0) else (out - low) / (high - low) * 2 - 1


# ------------------------------------------------------------------------------------ building


def wrap_generator(
    module: nn.Module,
    *,
    latent_dim: int | None = None,
    latent_shape: tuple[int, ...] | None = None,
    name: str | None = None,
    **declared: Any,
) -> GeneratorSpec:
    """A :class:`GeneratorSpec` of a generator module, with what it does not declare inferred.

    ``latent_dim`` defaults to the module's ``latent_dim`` attribute, else its first layer's inputs
    (a ``Linear``'s ``in_features``, a ``ConvTranspose2d``/``Conv2d``'s ``in_channels``);
    ``latent_shape`` to ``(latent_dim,)`` when the first layer is a Linear and ``(latent_dim, 1, 1)``
    when it is a convolution; ``channels`` and ``image_size`` from one seeded forward pass;
    ``stages`` to the module's top-level children after each nonlinearity and its last layer.
    Anything else of :class:`GeneratorSpec` may be given by keyword (``output_range=(0, 1)``,
    ``n_classes=10`` ...). Raises :class:`GeneratorError` when the module does not return an
    image batch (B, C, S, S) with C in 1..4.
    """
    if not isinstance(module, nn.Module):
        raise GeneratorError(f"generator must be a torch.nn.Module; got {type(module).__name__}.")
    name = name or type(module).__name__
    n_classes = int(declared.get("n_classes", getattr(module, "n_classes", 0) or 0))
    first = next(
        (m for m in module.modules() if isinstance(m, nn.Linear | nn.ConvTranspose2d | nn.Conv2d)), None
    )
    if latent_dim is None:
        latent_dim = getattr(module, "latent_dim", None)
        if not isinstance(latent_dim, int):
            if first is None:
                raise GeneratorError(
                    f"generator {name!r}: cannot tell its latent size (no latent_dim attribute, no Linear or "
                    "convolution); pass latent_dim= or return a GeneratorSpec."
                )
            width = first.in_features if isinstance(first, nn.Linear) else first.in_channels
            latent_dim = width - (n_classes if declared.get("label_input", "concat") == "concat" else 0)
    if latent_shape is None:
        conv_first = first is not None and not isinstance(first, nn.Linear)
        latent_shape = (latent_dim, 1, 1) if conv_first else (latent_dim,)
    probe = GeneratorSpec(
        module=module, name=name, latent_dim=int(latent_dim), latent_shape=tuple(latent_shape), **declared
    )
    out = _probe_output(probe)
    stages = declared.get("stages") or _default_stages(module)
    return replace(probe, channels=int(out.shape[1]), image_size=int(out.shape[-1]), stages=tuple(stages))


def _default_stages(module: nn.Module) -> tuple[str, ...]:
    """The top-level children that follow a nonlinearity (the activations), and the last one."""
    names = [n for n, _ in module.named_children()]
    acts = [
        n
        for n, m in module.named_children()
        if isinstance(m, nn.ReLU | nn.LeakyReLU | nn.Tanh | nn.Sigmoid | nn.GELU | nn.SiLU | nn.ELU)
    ]
    return tuple(dict.fromkeys([*acts, *names[-1:]]))


def _probe_output(spec: GeneratorSpec) -> torch.Tensor:
    """Two seeded samples; one line unless they are a finite image batch (2, C, S, S), C in 1..4."""
    from xstyle.hooks import frozen

    z = torch.randn(2, spec.input_dim, generator=torch.Generator().manual_seed(0))
    if spec.n_classes:
        z[:, spec.latent_dim :] = 0
        z[:, spec.latent_dim] = 1
    try:
        with frozen(spec.generator), torch.no_grad():
            out = spec.generator(z)
    except Exception as exc:  # the user's module raised: say what it was given
        shape = (2, *spec.latent_shape)
        raise GeneratorError(
            f"generator {spec.name!r} failed on latents of shape {shape} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); declare latent_dim/latent_shape "
            "(or return a GeneratorSpec)."
        ) from None
    if not isinstance(out, torch.Tensor) or out.ndim != 4 or not 1 <= out.shape[1] <= 4:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise GeneratorError(
            f"generator {spec.name!r} must return an image batch (B, C, H, W) with C in 1..4; got {got}."
        )
    if not torch.isfinite(out).all():
        raise GeneratorError(f"generator {spec.name!r} returned NaN or infinite pixels.")
    return out


#: loaders of other spec forms, e.g. ``shipped:NAME`` and checkpoints (registered by xstyle.gan):
#: each takes the spec string and returns a GeneratorSpec, or None when the spec is not its form
_SOURCES: list[tuple[str, Callable[[str], GeneratorSpec | None], Callable[[], list[str]]]] = []


def register_generator_source(
    name: str, loader: Callable[[str], GeneratorSpec | None], *, names: Callable[[], list[str]] = list
) -> None:
    """Add a loader of generator specs (``loader(spec) -> GeneratorSpec | None``) under ``name``;
    ``names()`` lists the specs it knows (for :func:`list_generators`). Replaces one of that name."""
    _SOURCES[:] = [s for s in _SOURCES if s[0] != name]
    _SOURCES.append((name, loader, names))


def list_generators() -> list[str]:
    """The named generators (``shipped:NAME``) the registered sources know."""
    return [n for _, _, names in _SOURCES for n in names()]


def get_generator(
    spec: str | os.PathLike | nn.Module | GeneratorSpec,
    *,
    weights: str | os.PathLike | None = None,
    **declared: Any,
) -> GeneratorSpec:
    """The :class:`GeneratorSpec` a spec names (the forms are in the module docstring).

    ``weights`` (a state dict file) goes into a copy of the user's module, loaded with
    ``torch.load(weights_only=True)`` and checked key by key; ``declared`` settings (``latent_dim``,
    ``output_range``, ``stages`` ...) complete what a plain module does not say.

    Raises:
        GeneratorError: one line: an unknown name, a callable that returns no module, weights that
            do not fit, a module whose output is not an image batch.
    """
    if isinstance(spec, GeneratorSpec):
        return (
            spec if weights is None else replace(spec, module=_with_weights(spec.module, weights, spec.name))
        )
    if isinstance(spec, nn.Module):
        module = spec if weights is None else _with_weights(spec, weights, type(spec).__name__)
        return wrap_generator(module, **declared)
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str) or not spec:
        raise GeneratorError(f"generator must be {_FORMS}; got {spec!r}.")
    for _, loader, _names in _SOURCES:
        found = loader(spec)
        if found is not None:
            if weights is not None:
                raise GeneratorError(
                    f"--generator-weights are for the user's own module; {spec!r} carries its weights."
                )
            return found
    if spec.startswith("shipped:") or spec.endswith(".pt") or Path(spec).is_file():
        known = ", ".join(list_generators()) or "(import xstyle.gan to register the shipped GANs)"
        raise GeneratorError(
            f"generator {spec!r} is not a shipped GAN or an xstyle checkpoint; shipped: {known}."
        )
    made = _call_user(spec)
    if isinstance(made, GeneratorSpec):
        return get_generator(replace(made, name=spec), weights=weights)
    if not isinstance(made, nn.Module):
        raise GeneratorError(
            f"generator {spec!r} returned a {type(made).__name__}, not a torch.nn.Module or an xstyle "
            "GeneratorSpec; return the generator module."
        )
    module = made if weights is None else _with_weights(made, weights, spec)
    return wrap_generator(module, name=spec, **declared)


def _call_user(spec: str) -> Any:
    from xstyle.models.registry import NetworkError
    from xstyle.models.user import _load

    try:
        return _load(spec)
    except NetworkError as exc:
        raise GeneratorError(str(exc).replace("network ", "generator ", 1)) from None


def _with_weights(module: nn.Module, weights: str | os.PathLike, name: str) -> nn.Module:
    """A copy of ``module`` with the state dict file ``weights`` (weights-only, checked key by key)."""
    from xstyle.models.registry import NetworkError, load_checked_state

    copied = copy.deepcopy(module)  # the user's module is never changed
    try:
        load_checked_state(copied, weights, network=name)
    except NetworkError as exc:
        raise GeneratorError(str(exc).replace("network weights", "generator weights")) from None
    return copied
