"""Causal channel ablation: remove channels of one VGG19 layer and measure what the losses do.

Attribution says which channels a loss is *sensitive* to; ablation tests whether they *cause* it.
Through :class:`~xstyle.hooks.Intervention`, channels of ``layer`` are replaced by 0 (``"zero"``)
or by their mean activation (``"mean"``: per channel, averaged over the evaluated image, the
content image and the style image), and the Gatys losses of an image are measured again:

* in feature space (always): the targets stay those of the intact network (content features and
  style Grams computed once), the evaluated image passes through the ablated network; the change
  of the content loss and of the style loss is what the removed channels carried;
* optionally by re-running a short transfer (``rerun_steps > 0``) *through* the ablated network
  (targets and optimisation both see it); the result is scored by the intact network and compared
  with an equally short intact run: can the style still be transferred without these channels?

:func:`ablation_curves` removes the top 1, 2, 4, ... channels of several rankings and records the
loss changes (:class:`AblationResult`); built-in rankings are ``"gram"`` (each channel's share of
the style image's Gram energy at the layer, :attr:`xstyle.explain.style.gram.LayerSpectrum.channel_share`),
``"attribution"`` (gradient x activation of the style loss: ``|Σ_xy A ∂L_style/∂A|`` per channel,
a first-order attribution), ``"content_attribution"`` (the same for the content loss) and
``"random"`` (seeded). Pass ``scores`` (name -> (C,) tensor) or ``rankings`` (name -> channel
order) to add or replace rankings, e.g. Captum LayerIntegratedGradients channel scores.

Images are float RGB in [0, 1], shape (1, 3, H, W), or anything :func:`xstyle.data.resolve_image`
takes. Every entry point leaves no hook behind and restores the model's training/requires_grad flags.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._checks import check_seed
from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle._stats import rank_correlation
from xstyle.data import load_single_image
from xstyle.explain.style._sweep import sweep_config, sweep_meta, sweep_start
from xstyle.explain.style.gram import layer_spectrum
from xstyle.explain.style.plots import AblationCurveDisplay
from xstyle.hooks import FeatureTap, Intervention, frozen, resolve_layers
from xstyle.images import ImageLike, resize_image
from xstyle.losses import LossBreakdown, gram_matrix
from xstyle.models.registry import check_network_layers, model_layers
from xstyle.transfer import StyleObjective, TransferConfig, optimise_image

__all__ = [
    "ABLATION_MODES",
    "AblationResult",
    "ChannelAblation",
    "ablate_channels",
    "ablation_curves",
    "channel_scores",
]

ABLATION_MODES: tuple[str, ...] = ("zero", "mean")


def _config(config: TransferConfig | None) -> TransferConfig:
    return sweep_config(config, steps=30, what="ablations")


class _Setup:
    """Everything an ablation needs, computed once: model, clean objective, image, channel means."""

    def __init__(
        self,
        content: ImageLike,
        style: ImageLike,
        *,
        layer: str,
        image: ImageLike | None,
        config: TransferConfig,
        model: nn.Module,
    ) -> None:
        _config(config)
        order = model_layers(model)
        if layer in order and order.index(layer) > order.index(config.deepest_layer):
            raise ValueError(
                f"layer must be at or before the deepest loss layer {config.deepest_layer!r} (ablating "
                f"later layers changes no loss); got {layer!r}."
            )
        resolve_layers(model, [layer], param="layer")
        self.layer, self.config = layer, config
        self.content = load_single_image(content, size=config.size, param="content")
        self.style = load_single_image(style, size=config.size, param="style")
        given = None
        if image is not None:
            given = resize_image(
                load_single_image(image, size=None, param="image"), tuple(self.content.shape[-2:])
            )
        self.model = model
        self.objective = StyleObjective(self.model, self.content, self.style, config)
        self.start = sweep_start(config, self.content, self.style)
        if given is None:  # a short intact stylisation is the image whose losses we perturb
            given = self.transfer(config.steps[0])
        self.image = given
        with torch.no_grad(), FeatureTap(self.model, [layer]) as tap:
            feats = [tap.run(x)[layer] for x in (self.image, self.content, self.style)]
        self.style_features = feats[2]
        self.n_channels = int(feats[0].shape[1])
        self.means = torch.stack([f.mean(dim=(0, 2, 3)) for f in feats]).mean(0)
        with torch.no_grad():
            _, c, s = self.objective(self.image)
        self.before = (c, s)

    def transfer(self, steps: int) -> torch.Tensor:
        """A single-scale run of ``steps`` evaluations with the current network (ablated or not)."""
        return optimise_image(self.objective, self.start, steps=steps, config=self.config)

    def edits(self, channels: Sequence[int], mode: str) -> dict:
        mask = torch.zeros(self.n_channels)
        mask[list(channels)] = 1.0
        value = self.means if mode == "mean" else torch.zeros(self.n_channels)
        return {self.layer: {"mask": mask, "value": value}}

    def evaluate(self, channels: Sequence[int], mode: str) -> tuple[LossBreakdown, LossBreakdown, float]:
        """Losses of the image through the ablated network (intact targets), and the layer's norm."""
        if not channels:
            return (*self.before, self.layer_norm())
        with torch.no_grad(), Intervention(self.model, self.edits(channels, mode)):
            with FeatureTap(self.model, [self.layer]) as tap:
                _, c, s = self.objective(self.image)
            norm = float(tap.features[self.layer].norm())
        return c, s, norm

    def layer_norm(self) -> float:
        with torch.no_grad(), FeatureTap(self.model, [self.layer]) as tap:
            return float(tap.run(self.image)[self.layer].norm())

    def rerun(self, channels: Sequence[int], mode: str, steps: int) -> tuple[float, float]:
        """Transfer through the ablated network, then score the result with the intact objective."""
        clean = self.objective
        if channels:
            with Intervention(self.model, self.edits(channels, mode)):
                self.objective = StyleObjective(self.model, self.content, self.style, self.config)
                try:
                    result = self.transfer(steps)
                finally:
                    self.objective = clean
        else:
            result = self.transfer(steps)
        with torch.no_grad():
            _, c, s = clean(result)
        return float(c.total.sum()), float(s.total.sum())


def _check_mode(mode: str) -> None:
    if mode not in ABLATION_MODES:
        raise ValueError(f"mode must be one of {ABLATION_MODES}; got {mode!r}. Hint: 'zero' or 'mean'.")


def _check_channels(channels: Sequence[int], n: int, *, param: str) -> list[int]:
    out = []
    for ch in channels:
        if not isinstance(ch, (int, np.integer)) or not 0 <= int(ch) < n:
            raise ValueError(f"{param} must be channel indices in 0..{n - 1}; got {ch!r}.")
        out.append(int(ch))
    if len(set(out)) != len(out):
        raise ValueError(f"{param} must not repeat a channel; got {list(channels)!r}.")
    return out


@dataclass(frozen=True)
class ChannelAblation:
    """Losses of one image before and after ablating ``channels`` of ``layer`` (:func:`ablate_channels`).

    Losses are the unweighted totals of :class:`~xstyle.transfer.StyleObjective` (content: ``L_c``
    without alpha; style: ``Σ_l w_l E_l`` without beta); ``*_per_layer`` are their parts.
    ``layer_norm_*`` is the Frobenius norm of the layer's output for the image (0 once every
    channel is zero-ablated). ``rerun`` (when requested) holds the intact-network losses of a short
    transfer through the ablated network and of an intact run of the same length.
    """

    layer: str
    channels: tuple[int, ...]
    mode: str
    content_before: float
    content_after: float
    style_before: float
    style_after: float
    content_per_layer_after: dict[str, float]
    style_per_layer_before: dict[str, float]
    style_per_layer_after: dict[str, float]
    layer_norm_before: float
    layer_norm_after: float
    rerun: dict | None = None

    @property
    def style_change(self) -> float:
        return self.style_after - self.style_before

    @property
    def content_change(self) -> float:
        return self.content_after - self.content_before

    def to_dict(self) -> dict:
        return field_dict(
            self,
            style_relative_change=_relative(self.style_after, self.style_before),
            content_relative_change=_relative(self.content_after, self.content_before),
        )


def _relative(after: float, before: float) -> float | None:
    return (after - before) / before if before > 0 and math.isfinite(after) else None


def ablate_channels(
    content: ImageLike,
    style: ImageLike,
    *,
    layer: str,
    channels: Sequence[int],
    image: ImageLike | None = None,
    mode: str = "zero",
    config: TransferConfig | None = None,
    model: nn.Module | None = None,
    rerun_steps: int = 0,
) -> ChannelAblation:
    """Zero- or mean-ablate ``channels`` of ``layer`` and measure the content and style losses.

    Args:
        content, style: (1, 3, H, W) float RGB in [0, 1], paths or ``sample:NAME``; resized so the
            long side is ``config.size``; they define the (intact) loss targets.
        layer: a VGG19 layer name, at or before the deepest loss layer.
        channels: channel indices of ``layer`` to ablate.
        image: the image whose losses are measured (resized to the content's size); default: a
            short intact stylisation of ``content`` with ``config`` (``config.steps[0]`` evaluations).
        mode: ``"zero"`` (``y_c = 0``) or ``"mean"`` (``y_c`` = the channel's mean over the image,
            content and style).
        config: layers, weights, alpha/beta, size, steps (one level); default
            ``TransferConfig(size=128, steps=(30,), optimizer="adam")`` (single-scale L-BFGS from the
            content diverges at >= 128 px with the seed's losses; Adam descends steadily).
        model: a VGG19 extractor to reuse (flags restored afterwards).
        rerun_steps: if > 0, also transfer for this many evaluations through the ablated network
            and through the intact one, and score both with the intact objective.
    """
    _check_mode(mode)
    config = _config(config)
    net = _model(model, config, layer)
    with frozen(net):
        setup = _Setup(content, style, layer=layer, image=image, config=config, model=net)
        chans = _check_channels(channels, setup.n_channels, param="channels")
        if not chans:
            raise ValueError("channels must name at least one channel index; got [].")
        norm_before = setup.layer_norm()
        c, s, norm = setup.evaluate(chans, mode)
        rerun = None
        if rerun_steps > 0:
            ac, as_ = setup.rerun(chans, mode, rerun_steps)
            ic, is_ = setup.rerun([], mode, rerun_steps)
            rerun = {
                "steps": rerun_steps,
                "ablated": {"content": ac, "style": as_},
                "intact": {"content": ic, "style": is_},
            }
    c0, s0 = setup.before
    return ChannelAblation(
        layer=layer,
        channels=tuple(chans),
        mode=mode,
        content_before=float(c0.total.sum()),
        content_after=float(c.total.sum()),
        style_before=float(s0.total.sum()),
        style_after=float(s.total.sum()),
        content_per_layer_after=c.as_floats(),
        style_per_layer_before=s0.as_floats(),
        style_per_layer_after=s.as_floats(),
        layer_norm_before=norm_before,
        layer_norm_after=norm,
        rerun=rerun,
    )


def _model(model: nn.Module | None, config: TransferConfig, layer: str) -> nn.Module:
    """The caller's model, or VGG19 with ``config``'s weights (checked before anything loads)."""
    if model is not None:
        return model
    _config(config)
    check_network_layers(config.network_name, [layer], param="layer")
    return config.load_network()


def _scores(setup: _Setup) -> dict[str, torch.Tensor]:
    """Built-in channel scores (C,) at the setup's layer: gram, attribution, content_attribution."""
    spectrum = layer_spectrum(setup.layer, gram_matrix(setup.style_features)[0], 1)
    x = setup.image.clone().requires_grad_(True)
    with FeatureTap(setup.model, [setup.layer], detach=False) as tap:
        _, c, s = setup.objective(x)
        act = tap.features[setup.layer]
    out = {"gram": spectrum.channel_share.float()}
    for name, loss in (("attribution", s.total.sum()), ("content_attribution", c.total.sum())):
        grad = None
        if loss.requires_grad:
            (grad,) = torch.autograd.grad(loss, act, retain_graph=True, allow_unused=True)
        if grad is None:
            out[name] = torch.zeros(setup.n_channels)
        else:
            out[name] = (act * grad).sum(dim=(0, 2, 3)).abs().detach().float()
    out["captum_ig"] = _captum_scores(setup)
    return out


def _captum_scores(setup: _Setup) -> torch.Tensor:
    """|LayerIntegratedGradients| of the style loss per channel of the setup's layer (black baseline)."""
    from xstyle.explain.attribution.engine import attribute
    from xstyle.explain.attribution.targets import StyleLossTarget

    objective = setup.objective
    order = model_layers(setup.model)
    if order.index(setup.layer) > max(order.index(n) for n in objective.gram_targets):
        return torch.zeros(setup.n_channels)  # downstream of every style layer: no influence
    target = StyleLossTarget(
        setup.model,
        setup.style,
        layers=list(objective.gram_targets),
        weights=objective.style_weights,
        normalize=setup.config.normalize,
        _grams=objective.gram_targets,
    )
    result = attribute(
        target, setup.image, method="layer_ig", layer=setup.layer, baselines="black", n_steps=16
    )
    return result.channel_scores()[0].abs().float()


def channel_scores(
    content: ImageLike,
    style: ImageLike,
    *,
    layer: str,
    image: ImageLike | None = None,
    config: TransferConfig | None = None,
    model: nn.Module | None = None,
) -> dict[str, torch.Tensor]:
    """Channel scores (each (C,), >= 0) of ``layer`` that :func:`ablation_curves` ranks by.

    * ``"gram"``: the channel's share of the style image's Gram energy at ``layer``;
    * ``"attribution"``: ``|Σ_xy A ∂L_style/∂A|`` at the evaluated image (gradient x activation,
      a first-order attribution of the style loss; Captum's LayerIntegratedGradients scores can be
      passed to :func:`ablation_curves` instead);
    * ``"content_attribution"``: the same for the content loss (0 if no content layer is downstream).

    Arguments as in :func:`ablate_channels`.
    """
    config = _config(config)
    net = _model(model, config, layer)
    with frozen(net):
        setup = _Setup(content, style, layer=layer, image=image, config=config, model=net)
        return _scores(setup)


@dataclass(frozen=True, eq=False)
class AblationResult(Plottable):
    """Ablation curves: the losses after removing the top-``k`` channels of each ranking.

    Attributes:
        layer, mode: where and how channels were removed.
        counts: the numbers of channels removed (x axis).
        orders: ranking name -> channel order (most important first).
        scores: ranking name -> (C,) scores the order came from (absent for orders given directly).
        content_before, style_before: losses of the intact network (unweighted, see ChannelAblation).
        content_after, style_after: ranking name -> one loss per count.
        rerun: ranking name -> {"content": [...], "style": [...]} from re-run transfers, plus
            ``"intact"`` -> {"content", "style"}; None unless ``rerun_steps > 0``.
        rank_correlation: Spearman correlation of the gram and attribution channel scores.
        summary: per ranking and count, relative changes and whether style changed more than content.
    """

    display: ClassVar[type[AblationCurveDisplay]] = AblationCurveDisplay

    layer: str
    mode: str
    counts: tuple[int, ...]
    orders: dict[str, list[int]]
    scores: dict[str, torch.Tensor]
    content_before: float
    style_before: float
    content_after: dict[str, list[float]]
    style_after: dict[str, list[float]]
    rerun: dict | None
    rank_correlation: float | None
    summary: dict
    config: TransferConfig
    timings: dict[str, float]
    image: torch.Tensor | None = None
    meta: dict = field(default_factory=dict)

    def relative(self, loss: str, ranking: str) -> np.ndarray:
        """Relative change ``(after - before) / before`` of ``loss`` ("style" or "content").

        nan where the loss was 0 before."""
        before = self.style_before if loss == "style" else self.content_before
        after = np.asarray((self.style_after if loss == "style" else self.content_after)[ranking])
        return (after - before) / before if before > 0 else np.full(after.shape, np.nan)

    def to_dict(self) -> dict:
        return field_dict(
            self,
            skip=("orders", "scores", "rank_correlation", "image"),
            orders={k: v[: max(self.counts)] for k, v in self.orders.items()},
            rank_correlation_gram_vs_attribution=self.rank_correlation,
        )


def _order_from(scores: torch.Tensor, n: int, name: str) -> list[int]:
    scores = torch.as_tensor(scores).detach().flatten().float()
    if scores.numel() != n:
        raise ValueError(f"scores[{name!r}] must have one value per channel ({n}); got {scores.numel()}.")
    if not torch.isfinite(scores).all():
        raise ValueError(f"scores[{name!r}] contains NaN or infinite values.")
    return [int(i) for i in torch.argsort(scores, descending=True, stable=True)]


def ablation_curves(
    content: ImageLike,
    style: ImageLike,
    *,
    layer: str,
    counts: Sequence[int] | None = None,
    scores: Mapping[str, torch.Tensor] | None = None,
    rankings: Mapping[str, Sequence[int]] | None = None,
    image: ImageLike | None = None,
    mode: str = "zero",
    config: TransferConfig | None = None,
    model: nn.Module | None = None,
    rerun_steps: int = 0,
    seed: int = 0,
) -> AblationResult:
    """Ablate the top 1, 2, 4, ... channels of ``layer`` under several rankings; record the losses.

    The intact targets, the evaluated image, the channel means and the built-in scores are
    computed once and reused for every point of every curve.

    Args:
        content, style, layer, image, mode, config, model, rerun_steps: as in :func:`ablate_channels`
            (``rerun_steps > 0`` runs one short transfer per ranking and count: slow).
        counts: numbers of channels to remove (default 1, 2, 4, ... up to half the layer's channels).
        scores: name -> (C,) channel scores, ranked descending; added to (or replacing) the
            built-in ``gram``, ``attribution`` (gradient x activation of the style loss),
            ``captum_ig`` (Captum LayerIntegratedGradients of the style loss, 16 steps, black
            baseline), ``content_attribution`` and ``random`` rankings.
        rankings: name -> channel order (most important first), used as given.
        seed: seeds the ``random`` ranking.

    Returns:
        An :class:`AblationResult`; its ``summary`` says, per ranking and count, whether removing
        the channels changed the style loss more than the content loss (relative changes), and
        ``rank_correlation`` compares the gram and attribution rankings (Spearman, over channels).
    """
    _check_mode(mode)
    t0 = time.perf_counter()
    config = _config(config)
    net = _model(model, config, layer)
    with frozen(net):
        setup = _Setup(content, style, layer=layer, image=image, config=config, model=net)
        n = setup.n_channels
        if counts is None:
            counts = [2**i for i in range(int(math.log2(max(n // 2, 1))) + 1)]
        counts = tuple(int(k) for k in counts)
        if not counts or any(k < 1 or k > n for k in counts):
            raise ValueError(
                f"counts must be numbers of channels in 1..{n} for layer {layer!r}; got {counts}."
            )
        all_scores = _scores(setup)
        all_scores.update({k: torch.as_tensor(v) for k, v in (scores or {}).items()})
        gen = torch.Generator().manual_seed(check_seed(seed))
        orders = {name: _order_from(sc, n, name) for name, sc in all_scores.items()}
        if "random" not in orders:
            orders["random"] = [int(i) for i in torch.randperm(n, generator=gen)]
        for name, order in (rankings or {}).items():
            orders[name] = _check_channels(order, n, param=f"rankings[{name!r}]")
            if len(orders[name]) < max(counts):
                raise ValueError(
                    f"rankings[{name!r}] must order at least {max(counts)} channels (the largest count); "
                    f"got {len(orders[name])}."
                )
            all_scores.pop(name, None)
        t_setup = time.perf_counter() - t0
        content_after: dict[str, list[float]] = {}
        style_after: dict[str, list[float]] = {}
        rerun: dict | None = None
        if rerun_steps > 0:
            ic, is_ = setup.rerun([], mode, rerun_steps)
            rerun = {"steps": rerun_steps, "intact": {"content": ic, "style": is_}}
        for name, order in orders.items():
            content_after[name], style_after[name] = [], []
            for k in counts:
                c, s, _ = setup.evaluate(order[:k], mode)
                content_after[name].append(float(c.total.sum()))
                style_after[name].append(float(s.total.sum()))
                if rerun is not None:
                    rc, rs = setup.rerun(order[:k], mode, rerun_steps)
                    entry = rerun.setdefault(name, {"content": [], "style": []})
                    entry["content"].append(rc)
                    entry["style"].append(rs)
    c0, s0 = (float(v.total.sum()) for v in setup.before)
    rho = None
    if "gram" in all_scores and "attribution" in all_scores:
        rho = rank_correlation(all_scores["gram"].numpy(), all_scores["attribution"].numpy())
    correlations = {
        f"{a}_vs_{b}": rank_correlation(all_scores[a].numpy(), all_scores[b].numpy())
        for a, b in (("gram", "attribution"), ("gram", "captum_ig"), ("attribution", "captum_ig"))
        if a in all_scores and b in all_scores
    }
    summary = _summary(counts, content_after, style_after, c0, s0)
    return AblationResult(
        layer=layer,
        mode=mode,
        counts=counts,
        orders=orders,
        scores=all_scores,
        content_before=c0,
        style_before=s0,
        content_after=content_after,
        style_after=style_after,
        rerun=rerun,
        rank_correlation=rho,
        summary=summary,
        config=config,
        timings={"setup": t_setup, "total": time.perf_counter() - t0},
        image=setup.image,
        meta={
            **sweep_meta(content, style),
            "n_channels": n,
            "rank_correlations": correlations,
        },
    )


def _summary(counts, content_after, style_after, c0: float, s0: float) -> dict:
    per = {}
    for name in style_after:
        rows = []
        for i, k in enumerate(counts):
            rs, rc = _relative(style_after[name][i], s0), _relative(content_after[name][i], c0)
            rows.append(
                {
                    "count": k,
                    "style_relative_change": rs,
                    "content_relative_change": rc,
                    "style_more_than_content": None if rs is None or rc is None else bool(rs > rc),
                }
            )
        per[name] = rows
    mid = len(counts) // 2
    headline = {"count": counts[mid]}
    if "gram" in per:
        headline["gram_top_change_style_more_than_content"] = per["gram"][mid]["style_more_than_content"]
    if "content_attribution" in per:
        v = per["content_attribution"][mid]["style_more_than_content"]
        headline["content_top_change_content_more_than_style"] = None if v is None else not v
    for name in ("gram", "attribution"):
        if name in per and "random" in per:
            a, r = per[name][mid]["style_relative_change"], per["random"][mid]["style_relative_change"]
            headline[f"{name}_vs_random_style_change"] = (
                a / r if a is not None and r is not None and r != 0 else None
            )
    return {"per_ranking": per, "headline": headline}
