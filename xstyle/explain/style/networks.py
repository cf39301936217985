"""Which network carries style, and why: the same pairs through several networks, side by side.

Wang, Li & Vasconcelos (CVPR 2021, "Rethinking and Improving the Robustness of Image Style
Transfer") found that residual networks give poor Gatys transfers because their deep activations
are *peaky* (a few large values, low entropy), and that a softmax over each layer's activations
before the Gram matrix (SWAG) fixes much of it. :func:`compare_networks` measures this on any
registered networks:

* **per depth** (each network's style layers, shallow to deep), on the style images:
  ``max_over_mean`` (largest activation over the mean |activation|), ``activation_entropy``
  (Shannon entropy of the normalised |activations| ``p = |F| / sum|F|``, divided by its maximum
  ``log(C*H*W)``: 1 = flat, 0 = one spike), ``gram_entropy`` (the same of the Gram's |entries|,
  over ``log(C*C)``) and ``participation_ratio`` (``(sum λ)^2 / sum λ^2`` of the Gram spectrum,
  divided by C: the fraction of channels the style's energy spreads over);
* **the transfers**: each network stylises each pair with its own default layers, at a content/style
  balance calibrated per network and pair: ``style_factor`` times the beta/alpha at which the
  content loss of the painting and the style loss of the photo weigh the same
  (:func:`~xstyle.explain.style.tradeoff.balance_ratio`, times the size normalisation), so no
  network wins by the scale of its activations (Gatys et al.'s default on caffe VGG19 sits near
  500 times that balance; the default factor 100 stylises strongly);
* **cross-judging**: every transfer (and the unstylised photo, a reference row) scored by *every*
  network's relative Gram distance to the style, ``mean_l ||G_l(x) - G_l(s)||_F / ||G_l(s)||_F``
  (Grams divided by positions; raw features, no transform), and relative content distance
  ``||F(x) - F(c)|| / ||F(c)||`` at the judge's content layer; so no network judges only itself.

``feature_transform="softmax"`` (with ``feature_temperature``) runs the transfers with SWAG's
transform before the Gram matrices and the content loss; the judging stays on raw features.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle.data import describe_image, load_single_image
from xstyle.explain.style.gram import layer_spectrum
from xstyle.explain.style.networks_plots import NetworkComparisonDisplay
from xstyle.hooks import FeatureTap, frozen
from xstyle.images import resize_image
from xstyle.losses import gram_matrix
from xstyle.models.registry import get_network
from xstyle.transfer import TransferConfig, style_transfer

__all__ = [
    "DEFAULT_NETWORKS",
    "STATISTICS",
    "NetworkComparison",
    "activation_statistics",
    "compare_networks",
    "cross_judge",
]

#: VGG19 as Gatys et al. used it, a real non-VGG network, and a residual control (random weights)
DEFAULT_NETWORKS: tuple[str, ...] = ("vgg19-caffe", "efficientnet-lite0", "resnet18-random")
#: the per-depth statistics, in the order the display draws them
STATISTICS: tuple[str, ...] = ("max_over_mean", "activation_entropy", "gram_entropy", "participation_ratio")
# (networks_plots.py draws them in this order too)
#: the reference row of the judging tables: the content photo itself, unstylised
PHOTO = "photo (no transfer)"


def _normalised_entropy(values: torch.Tensor) -> float:
    """Entropy of ``|values| / sum|values|`` over ``log(n)``: 1 for a flat vector, 0 for one spike."""
    a = values.detach().abs().double().flatten()
    n = a.numel()
    total = float(a.sum())
    if n < 2 or total == 0:
        return 0.0
    p = a / total
    h = -(p[p > 0] * p[p > 0].log()).sum()
    return float(h / math.log(n))


def activation_statistics(features: Mapping[str, torch.Tensor]) -> dict[str, dict[str, float]]:
    """The per-layer statistics (:data:`STATISTICS`) of features (1, C, H, W); see the module docstring.

    Planted answers: a constant layer has ``max_over_mean`` 1 and ``activation_entropy`` 1; a layer
    with one non-zero activation has ``max_over_mean`` C*H*W and ``activation_entropy`` 0.
    """
    out = {}
    for name, f in features.items():
        if f.ndim != 4 or f.shape[0] != 1:
            raise ValueError(f"features[{name!r}] must have shape (1, C, H, W); got {tuple(f.shape)}.")
        a = f.detach().abs().double()
        mean = float(a.mean())
        gram = gram_matrix(f.detach().double(), normalize="mean")[0]
        c, m = f.shape[1], f.shape[2] * f.shape[3]
        spectrum = layer_spectrum(name, gram, m)
        out[name] = {
            "max_over_mean": float(a.max()) / mean if mean > 0 else 0.0,
            "activation_entropy": _normalised_entropy(a),
            "gram_entropy": _normalised_entropy(gram),
            "participation_ratio": float(spectrum.participation_ratio) / c,
        }
    return out


def _taps(model: nn.Module, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
    with torch.no_grad(), frozen(model), FeatureTap(model, list(layers), stop_after_last=True) as tap:
        return tap.run(image)


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


def cross_judge(
    images: Mapping[str, Sequence[torch.Tensor]],
    contents: Sequence[torch.Tensor],
    styles: Sequence[torch.Tensor],
    judges: Mapping[str, nn.Module],
    *,
    layers: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
) -> tuple[dict[str, dict[str, list[float]]], dict[str, dict[str, list[float]]]]:
    """Every image judged by every network: ``(style, content)`` distances, producer -> judge -> per pair.

    Args:
        images: producer name -> one (1, 3, H, W) image per pair, RGB in [0, 1].
        contents, styles: the pairs' images (1, 3, H, W).
        judges: judge name -> network (RGB in [0, 1]).
        layers: judge name -> its ``(content_layers, style_layers)``.

    The style distance is ``mean_l ||G_l(x) - G_l(s)||_F / ||G_l(s)||_F`` (Grams divided by the
    positions, so sizes may differ), the content distance ``mean_l ||F_l(x) - F_l(c)|| / ||F_l(c)||``;
    both are 0 for the image itself (planted).
    """
    style_d: dict[str, dict[str, list[float]]] = {p: {} for p in images}
    content_d: dict[str, dict[str, list[float]]] = {p: {} for p in images}
    for judge, net in judges.items():
        content_layers, style_layers = layers[judge]
        wanted = list(dict.fromkeys((*content_layers, *style_layers)))
        refs = []
        for content, style in zip(contents, styles, strict=True):
            fs = _taps(net, style, style_layers)
            fc = _taps(net, content, content_layers) if content_layers else {}
            refs.append(({n: gram_matrix(fs[n], normalize="mean") for n in style_layers}, fc))
        for producer, produced in images.items():
            s_list, c_list = [], []
            for image, (grams, fc) in zip(produced, refs, strict=True):
                fx = _taps(net, image, wanted)
                s_list.append(
                    float(np.mean([_relative(gram_matrix(fx[n], normalize="mean"), grams[n]) for n in grams]))
                )
                c_list.append(float(np.mean([_relative(fx[n], fc[n]) for n in fc])) if fc else float("nan"))
            style_d[producer][judge] = s_list
            content_d[producer][judge] = c_list
    return style_d, content_d


@dataclass(frozen=True, eq=False)
class NetworkComparison(Plottable):
    """The outcome of :func:`compare_networks`.

    Attributes:
        networks: the compared network specs, in order.
        pairs: ``(content, style)`` descriptions, one per pair.
        layers: network -> its ``(content_layers, style_layers)`` (shallow to deep).
        statistics: network -> style layer -> statistic (:data:`STATISTICS`) -> mean over the
            pairs' style images.
        images: network -> one (1, 3, H, W) transfer in [0, 1] per pair (sizes may differ by pair).
        contents, styles: the pairs, (1, 3, H, W) each, the style resized to its photo's size.
        style_distance, content_distance: producer (each network, then :data:`PHOTO`) -> judge
            network -> mean over the pairs (per pair in ``per_pair``).
        ratios: network -> the beta/alpha of each pair's transfer (``config["balance_on_raw_features"]``
            lists the transfers whose balance was measured without the transform, where a
            saturated softmax left one end of it at 0).
        feature_transform, feature_temperature: the transfers' transform (None: raw features).
        config: the settings; timings: seconds per network (transfers) and judging.
    """

    display: ClassVar[type[NetworkComparisonDisplay]] = NetworkComparisonDisplay

    networks: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    layers: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    statistics: dict[str, dict[str, dict[str, float]]]
    images: dict[str, tuple[torch.Tensor, ...]]
    contents: tuple[torch.Tensor, ...]
    styles: tuple[torch.Tensor, ...]
    style_distance: dict[str, dict[str, float]]
    content_distance: dict[str, dict[str, float]]
    per_pair: dict[str, Any]
    ratios: dict[str, list[float]]
    feature_transform: str | None
    feature_temperature: float
    config: dict
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready: every number (no images)."""
        return field_dict(
            self,
            "networks",
            "pairs",
            "layers",
            "statistics",
            "style_distance",
            "content_distance",
            "per_pair",
            "ratios",
            "feature_transform",
            "feature_temperature",
            "config",
            "timings",
        )

    def table(self, kind: str = "style") -> str:
        """The cross-judging table as Markdown (rows: producers; columns: judges)."""
        table = {"style": self.style_distance, "content": self.content_distance}.get(kind)
        if table is None:
            raise ValueError(f"kind must be 'style' or 'content'; got {kind!r}.")
        judges = list(self.networks)
        head = "| transfer by \\ judged by | " + " | ".join(judges) + " |"
        lines = [head, "|---" * (len(judges) + 1) + "|"]
        for producer, row in table.items():
            lines.append(f"| {producer} | " + " | ".join(f"{row[j]:.3f}" for j in judges) + " |")
        return "\n".join(lines)


def compare_networks(
    pairs: Sequence[tuple[Any, Any]],
    *,
    networks: Sequence[str] = DEFAULT_NETWORKS,
    size: int = 128,
    steps: int = 60,
    style_factor: float = 100.0,
    feature_transform: str | None = None,
    feature_temperature: float = 1.0,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> NetworkComparison:
    """Run the same photo x painting pairs through several networks; measure, transfer, cross-judge.

    Args:
        pairs: ``(content, style)`` images (paths, ``sample:NAME``, (1, 3, H, W) tensors in [0, 1]).
        networks: network specs (:func:`xstyle.models.list_networks`), each with its default layers.
        size: long side of the images and transfers, px.
        steps: L-BFGS evaluations of each (single-scale) transfer.
        style_factor: the style's weight over the balance point, per network and pair (see the module
            docstring).
        feature_transform, feature_temperature: as :class:`~xstyle.transfer.TransferConfig`.
        seed: seeds the transfers.
        progress: called with a short message before each stage.

    Returns:
        A :class:`NetworkComparison`.
    """
    from xstyle.explain.style.tradeoff import balance_ratio

    if not pairs:
        raise ValueError("pairs must hold at least one (content, style) pair.")
    networks = tuple(networks)
    if len(set(networks)) != len(networks) or not networks:
        raise ValueError(f"networks must be one or more distinct network specs; got {networks!r}.")
    if not (math.isfinite(style_factor) and style_factor > 0):
        raise ValueError(f"style_factor must be a positive number; got {style_factor!r}.")
    say = progress or (lambda _msg: None)
    configs = {
        n: TransferConfig(
            network=n,
            size=size,
            steps=(steps,),
            feature_transform=feature_transform,
            feature_temperature=feature_temperature,
            seed=seed,
        )
        for n in networks
    }  # every network and its layers checked before any work
    contents = [load_single_image(c, size=size, param="pairs[i][0]") for c, _ in pairs]
    styles = [load_single_image(s, size=size, param="pairs[i][1]") for _, s in pairs]
    models = {n: get_network(n) for n in networks}
    layers = {n: (configs[n].content_layers, configs[n].style_layers) for n in networks}
    statistics: dict[str, dict[str, dict[str, float]]] = {}
    images: dict[str, list[torch.Tensor]] = {}
    ratios: dict[str, list[float]] = {}
    timings: dict[str, float] = {}
    fallbacks: list[str] = []
    for n in networks:
        say(f"statistics and transfers ({n})")
        t0 = time.perf_counter()
        per_image = [activation_statistics(_taps(models[n], s, layers[n][1])) for s in styles]
        statistics[n] = {
            layer: {k: float(np.mean([p[layer][k] for p in per_image])) for k in STATISTICS}
            for layer in layers[n][1]
        }
        images[n], ratios[n] = [], []
        for content, style in zip(contents, styles, strict=True):
            # both ends weigh the same at beta/alpha = r0 * (effective alpha / alpha); style_factor x that
            try:
                r0 = balance_ratio(content, style, config=configs[n], model=models[n])
            except ValueError:  # a saturated softmax can make one end 0: balance on the raw features
                raw = replace(configs[n], feature_transform=None)
                r0 = balance_ratio(content, style, config=raw, model=models[n])
                fallbacks.append(f"{n}, pair {len(ratios[n])}")
            ratio = style_factor * r0 * configs[n].content_weight() / configs[n].alpha
            config = replace(configs[n], alpha=1.0, beta=ratio)
            result = style_transfer(content, style, config=config, model=models[n])
            images[n].append(result.image)
            ratios[n].append(ratio)
        timings[n] = time.perf_counter() - t0
    say("cross-judging")
    t0 = time.perf_counter()
    produced = {**images, PHOTO: contents}
    style_d, content_d = cross_judge(produced, contents, styles, models, layers=layers)
    timings["judging"] = time.perf_counter() - t0
    return NetworkComparison(
        networks=networks,
        pairs=tuple((describe_image(c), describe_image(s)) for c, s in pairs),
        layers=layers,
        statistics=statistics,
        images={n: tuple(v) for n, v in images.items()},
        contents=tuple(contents),
        styles=tuple(resize_image(s, tuple(c.shape[-2:])) for c, s in zip(contents, styles, strict=True)),
        style_distance={p: {j: float(np.mean(v)) for j, v in row.items()} for p, row in style_d.items()},
        content_distance={p: {j: float(np.mean(v)) for j, v in row.items()} for p, row in content_d.items()},
        per_pair={"style_distance": style_d, "content_distance": content_d},
        ratios=ratios,
        feature_transform=feature_transform,
        feature_temperature=feature_temperature,
        config={
            "size": size,
            "steps": steps,
            "style_factor": style_factor,
            "seed": seed,
            "balance_on_raw_features": fallbacks,
        },
        timings=timings,
    )
