"""Targets: small callables that turn the style-transfer and GAN objectives into one score per sample.

Captum explains a function ``f(inputs) -> (N,)``. A target is such a function, built on
:class:`~xstyle.hooks.FeatureTap` (hooks live only during each call), so every Captum method explains
it unchanged::

    style = StyleLossTarget(vgg, style_image)            # images (N, 3, H, W) in [0, 1] -> (N,)
    content = ContentLossTarget(vgg, content_image)
    both = 1e4 * style + content                          # targets compose: sum, scale, negate
    both(image)                                           # -> (N,) the Gatys total loss

Image targets take RGB in [0, 1], shape (N, 3, H, W); :class:`DiscriminatorTarget` takes digits
(N, 1, 28, 28) in [-1, 1]; :class:`ClassTarget` takes latents z (N, latent_dim).
Targets are ``nn.Module`` s (Captum's DeepLift needs one); they never change the networks they wrap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from xstyle.hooks import FeatureTap, resolve_layers
from xstyle.images import check_rgb
from xstyle.losses import content_loss, gram_matrix, style_loss
from xstyle.models.registry import layers_for

__all__ = [
    "GATYS_CONTENT_LAYERS",
    "GATYS_STYLE_LAYERS",
    "ChannelTarget",
    "ClassTarget",
    "ContentLossTarget",
    "DiscriminatorTarget",
    "GramEntryTarget",
    "ModelTarget",
    "ScaledTarget",
    "StyleLossTarget",
    "SumTarget",
    "Target",
]

GATYS_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
GATYS_CONTENT_LAYERS = ("relu4_2",)


def _check_image(image: torch.Tensor, name: str) -> torch.Tensor:
    if isinstance(image, torch.Tensor) and image.ndim == 3:
        image = image.unsqueeze(0)
    check_rgb(image, name=name)
    return image


class Target(nn.Module):
    """Base class: ``target(inputs) -> scores (N,)``, one score per sample of the batch.

    Subclasses set :attr:`model` (the network whose layers the target taps; layer attribution
    methods look layers up there) and implement :meth:`forward`. Targets compose with ``+``, ``-``
    and multiplication by a number. :meth:`with_model` rebuilds the target on another network of the
    same architecture (used by the model-randomisation sanity check).
    """

    #: whether Captum's DeepLift rules cover every non-linearity of the target
    deeplift_ok: bool = False
    model: nn.Module

    @property
    def label(self) -> str:
        """A short human-readable name, used in results and figures."""
        return type(self).__name__

    def networks(self) -> list[nn.Module]:
        """Every network the target runs (their modes are set to eval during attribution)."""
        return [self.model]

    def with_model(self, model: nn.Module) -> Target:  # pragma: no cover - abstract
        raise NotImplementedError

    def __add__(self, other: Target) -> Target:
        if not isinstance(other, Target):
            return NotImplemented
        return SumTarget([self, other])

    def __sub__(self, other: Target) -> Target:
        if not isinstance(other, Target):
            return NotImplemented
        return SumTarget([self, ScaledTarget(other, -1.0)])

    def __mul__(self, factor: float) -> Target:
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            return NotImplemented
        return ScaledTarget(self, float(factor))

    __rmul__ = __mul__

    def __neg__(self) -> Target:
        return ScaledTarget(self, -1.0)


class SumTarget(Target):
    """The sum of several targets over the same inputs."""

    def __init__(self, parts: Sequence[Target]) -> None:
        super().__init__()
        flat: list[Target] = []
        for part in parts:
            flat.extend(part.parts if isinstance(part, SumTarget) else [part])
        if not flat:
            raise ValueError("SumTarget needs at least one target.")
        self.parts = nn.ModuleList(flat)
        self.model = flat[0].model
        self.deeplift_ok = all(p.deeplift_ok for p in flat)

    @property
    def label(self) -> str:
        return " + ".join(p.label for p in self.parts)

    def networks(self) -> list[nn.Module]:
        seen: dict[int, nn.Module] = {}
        for part in self.parts:
            for net in part.networks():
                seen.setdefault(id(net), net)
        return list(seen.values())

    def with_model(self, model: nn.Module) -> Target:
        return SumTarget([p.with_model(model) for p in self.parts])

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.stack([p(inputs) for p in self.parts]).sum(0)


class ScaledTarget(Target):
    """``factor * target``."""

    def __init__(self, target: Target, factor: float) -> None:
        super().__init__()
        self.inner = target
        self.factor = float(factor)
        self.model = target.model
        self.deeplift_ok = target.deeplift_ok

    @property
    def label(self) -> str:
        return f"{self.factor:g} * {self.inner.label}"

    def networks(self) -> list[nn.Module]:
        return self.inner.networks()

    def with_model(self, model: nn.Module) -> Target:
        return ScaledTarget(self.inner.with_model(model), self.factor)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.factor * self.inner(inputs)


class StyleLossTarget(Target):
    """The Gatys style loss ``sum_l w_l E_l`` of images against a style image's Gram matrices.

    Args:
        model: a VGG19 feature extractor (:func:`xstyle.load_vgg19`).
        style: (1, 3, H, W) style image in [0, 1]; its Gram matrices are computed once.
        layers: style layers (default Gatys: relu1_1 ... relu5_1).
        weights: layer -> w_l (default 1 / number of layers, as Gatys et al.).
        normalize: ``"seed"`` (1/(4 N^2 M^2)) or ``"mean"``, as :func:`xstyle.style_loss`.

    ``target(images)`` returns (N,) non-negative losses. :meth:`layer` gives one layer's weighted
    part; the parts of all layers sum to the total.
    """

    def __init__(
        self,
        model: nn.Module,
        style: torch.Tensor,
        *,
        layers: str | Sequence[str] = GATYS_STYLE_LAYERS,
        weights: Mapping[str, float] | None = None,
        normalize: str = "seed",
        _grams: Mapping[str, torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.style = _check_image(style, "style")[:1].detach()
        layers = layers_for(model, layers, kind="style")  # another network's defaults are its own
        self.layers = resolve_layers(model, layers, param="layers")
        if weights is None:
            weights = {name: 1.0 / len(self.layers) for name in self.layers}
        missing = [n for n in self.layers if n not in weights]
        if missing:
            raise ValueError(f"weights must give a weight for every layer; missing {missing}.")
        self.weights = {n: float(weights[n]) for n in self.layers}
        self.normalize = normalize
        if _grams is None:
            with torch.no_grad(), FeatureTap(model, self.layers, stop_after_last=True) as tap:
                feats = tap.run(self.style)
            _grams = {n: gram_matrix(feats[n], normalize=normalize) for n in self.layers}
        self.grams = {n: _grams[n] for n in self.layers}

    @property
    def label(self) -> str:
        if len(self.layers) == 1:
            return f"style loss ({self.layers[0]})"
        return "style loss"

    def layer(self, name: str) -> StyleLossTarget:
        """The weighted style loss of one layer ``name`` (w_l E_l), as a target."""
        (name,) = resolve_layers(self.model, [name], param="name")
        if name not in self.layers:
            raise ValueError(f"name must be one of this target's layers {self.layers}; got {name!r}.")
        return StyleLossTarget(
            self.model,
            self.style,
            layers=[name],
            weights={name: self.weights[name]},
            normalize=self.normalize,
            _grams=self.grams,
        )

    def with_model(self, model: nn.Module) -> StyleLossTarget:
        return StyleLossTarget(
            model, self.style, layers=self.layers, weights=self.weights, normalize=self.normalize
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        with FeatureTap(self.model, self.layers, detach=False, stop_after_last=True) as tap:
            feats = tap.run(images)
        return style_loss(feats, self.grams, weights=self.weights, normalize=self.normalize).total


class ContentLossTarget(Target):
    """The Gatys content loss ``1/2 sum (F - P)^2`` of images against a content image.

    Args:
        model: a VGG19 feature extractor.
        content: (1, 3, H, W) content image in [0, 1]; the images explained must have its size.
        layers: content layers (default Gatys: relu4_2).
    """

    def __init__(
        self,
        model: nn.Module,
        content: torch.Tensor,
        *,
        layers: str | Sequence[str] = GATYS_CONTENT_LAYERS,
        normalize: str = "seed",
    ) -> None:
        super().__init__()
        self.model = model
        self.content = _check_image(content, "content")[:1].detach()
        layers = layers_for(model, layers, kind="content")  # another network's defaults are its own
        self.layers = resolve_layers(model, layers, param="layers")
        self.normalize = normalize
        with torch.no_grad(), FeatureTap(model, self.layers, stop_after_last=True) as tap:
            self.targets = dict(tap.run(self.content))

    @property
    def label(self) -> str:
        return "content loss"

    def with_model(self, model: nn.Module) -> ContentLossTarget:
        return ContentLossTarget(model, self.content, layers=self.layers, normalize=self.normalize)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-2:] != self.content.shape[-2:]:
            raise ValueError(
                f"images must have the content image's size {tuple(self.content.shape[-2:])}; "
                f"got {tuple(images.shape[-2:])}. Resize them to match."
            )
        with FeatureTap(self.model, self.layers, detach=False, stop_after_last=True) as tap:
            feats = tap.run(images)
        return content_loss(feats, self.targets, normalize=self.normalize).total


class GramEntryTarget(Target):
    """One Gram entry G_ij of one layer, or that entry's share of the layer's style loss.

    Args:
        model: a VGG19 feature extractor.
        layer: the layer (e.g. ``"relu3_1"``).
        i, j: channel indices (0 <= i, j < C).
        style: without it the score is G_ij (``normalize`` as the losses); with a style image (1, 3, H, W)
            it is the pair's part of the unweighted layer style loss,
            ``k (G_ij - A_ij)^2 / (4 N^2 M^2)`` with k = 2 for i != j (the entry and its mirror) and
            k = 1 on the diagonal, so the parts over all pairs i <= j sum to the layer's loss E_l.
    """

    def __init__(
        self,
        model: nn.Module,
        layer: str,
        i: int,
        j: int,
        *,
        style: torch.Tensor | None = None,
        normalize: str = "seed",
    ) -> None:
        super().__init__()
        self.model = model
        (self.layer_name,) = resolve_layers(model, [layer], param="layer")
        self.normalize = normalize
        self.style = None if style is None else _check_image(style, "style")[:1].detach()
        with torch.no_grad(), FeatureTap(model, [self.layer_name], stop_after_last=True) as tap:
            probe = tap.run(self.style if self.style is not None else torch.zeros(1, 3, 32, 32))
        channels = probe[self.layer_name].shape[1]
        for name, value in (("i", i), ("j", j)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < channels:
                raise ValueError(f"{name} must be a channel index in [0, {channels}); got {value!r}.")
        self.i, self.j = i, j
        self.reference = None
        if self.style is not None:
            self.reference = gram_matrix(probe[self.layer_name], normalize=normalize)[0, i, j]

    @property
    def label(self) -> str:
        kind = "loss share" if self.style is not None else "entry"
        return f"Gram {kind} {self.layer_name}[{self.i},{self.j}]"

    def with_model(self, model: nn.Module) -> GramEntryTarget:
        return GramEntryTarget(
            model, self.layer_name, self.i, self.j, style=self.style, normalize=self.normalize
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        with FeatureTap(self.model, [self.layer_name], detach=False, stop_after_last=True) as tap:
            f = tap.run(images)[self.layer_name]
        b, c, h, w = f.shape
        flat = f.reshape(b, c, h * w).float()
        entry = (flat[:, self.i] * flat[:, self.j]).sum(-1)
        if self.normalize == "mean":
            entry = entry / (h * w)
        if self.reference is None:
            return entry
        k = 1.0 if self.i == self.j else 2.0
        m = 1 if self.normalize == "mean" else h * w
        return k * (entry - self.reference).pow(2) / (4.0 * c * c * m * m)


class ChannelTarget(Target):
    """The spatial mean activation of one channel of one layer, (N,)."""

    deeplift_ok = True

    def __init__(self, model: nn.Module, layer: str, channel: int) -> None:
        super().__init__()
        self.model = model
        (self.layer_name,) = resolve_layers(model, [layer], param="layer")
        if isinstance(channel, bool) or not isinstance(channel, int) or channel < 0:
            raise ValueError(f"channel must be a non-negative integer; got {channel!r}.")
        self.channel = channel

    @property
    def label(self) -> str:
        return f"channel {self.layer_name}[{self.channel}]"

    def with_model(self, model: nn.Module) -> ChannelTarget:
        return ChannelTarget(model, self.layer_name, self.channel)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        with FeatureTap(self.model, [self.layer_name], detach=False, stop_after_last=True) as tap:
            f = tap.run(images)[self.layer_name]
        if self.channel >= f.shape[1]:
            raise ValueError(
                f"channel must be in [0, {f.shape[1]}) for layer {self.layer_name!r}; got {self.channel}."
            )
        return f[:, self.channel].flatten(1).mean(1)


class ModelTarget(Target):
    """Base class of a target that runs one network and takes no other setting.

    ``Subclass(model)`` builds it and :meth:`with_model` rebuilds the same kind of target on another
    network; subclasses give :attr:`label` and :meth:`forward`.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def with_model(self, model: nn.Module) -> Target:
        return type(self)(model)


class DiscriminatorTarget(ModelTarget):
    """The discriminator's real/fake logit of digits (N, 1, 28, 28) in [-1, 1] -> (N,) (positive = real)."""

    deeplift_ok = True

    @property
    def label(self) -> str:
        return "discriminator logit"

    def forward(self, digits: torch.Tensor) -> torch.Tensor:
        return self.model(digits).reshape(digits.shape[0], -1)[:, 0]


class ClassTarget(Target):
    """The digit scorer's logit for class ``digit`` of the generated image G(z), as a function of z.

    Args:
        generator: maps z (N, latent_dim) to digits (N, 1, 28, 28) in [-1, 1].
        classifier: maps digits to logits (N, 10).
        digit: the class, 0-9.
    ``target(z)`` -> (N,) logits. :attr:`model` is the generator (layer methods look layers up there).
    """

    deeplift_ok = True

    def __init__(self, generator: nn.Module, classifier: nn.Module, digit: int) -> None:
        super().__init__()
        if isinstance(digit, bool) or not isinstance(digit, int) or not 0 <= digit <= 9:
            raise ValueError(f"digit must be an integer class in 0-9; got {digit!r}.")
        self.model = generator
        self.classifier = classifier
        self.digit = digit

    @property
    def label(self) -> str:
        return f"class {self.digit} logit of G(z)"

    def networks(self) -> list[nn.Module]:
        return [self.model, self.classifier]

    def with_model(self, model: nn.Module) -> ClassTarget:
        return ClassTarget(model, self.classifier, self.digit)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.model(z))[:, self.digit]
