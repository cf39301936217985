"""Where is the style, where is the content? Attribution analyses of a stylised image.

Three questions, each a function returning a frozen Result with a ``plot()``:

1. :func:`style_content_maps` — pixel attributions of the style loss (per layer and total) and of
   the content loss, a signed dominance map, edge-versus-flat mass, and the sanity numbers.
2. :func:`channel_carriers` — per-channel attribution of both objectives at every tapped layer and
   a ranked style-versus-content table.
3. :func:`gram_entry_attribution` — the channel pairs whose Gram entries carry the most style loss
   per layer, with pixel maps of the top pairs.

Reading the signs: the maps explain the *loss* f of the stylised image x against a baseline b
(default ``"filler"``: the content photo for the style maps, the painting resized to x's size for
the content map, the baselines the region test checks; ``"black"`` asks which pixels matter compared
with a black image, ``"blur"`` what the fine detail contributes). :data:`SIGN_CONVENTION` states the
convention every map, region sum and report uses: the evidence is ``-attribution / |f(b) - f(x)|``,
positive where a pixel brings x closer to the target than the baseline, whichever of x and b is
closer; the map sums to +1 when x is closer (case ``"image closer"``) and to -1 when b is
(``"baseline closer"``, e.g. a blur of x, ``baselines="blur"``, can be closer to the photo's content
than x). Positive dominance = the pixel does more for the style than for the content.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from xstyle._plotting import Plottable
from xstyle.explain.attribution import (
    GATYS_CONTENT_LAYERS,
    GATYS_STYLE_LAYERS,
    AttributionResult,
    ContentLossTarget,
    DeletionInsertionResult,
    GramEntryTarget,
    RandomisationResult,
    StyleLossTarget,
    attribute,
    deletion_insertion,
    make_baseline,
    randomisation_check,
)
from xstyle.explain.style.plots import ChannelCarriersDisplay, GramEntryDisplay, StyleContentDisplay
from xstyle.hooks import FeatureTap
from xstyle.images import check_rgb, resize_image
from xstyle.losses import gram_matrix
from xstyle.models.registry import model_layers

__all__ = [
    "SIGN_CONVENTION",
    "ChannelCarriersResult",
    "GramEntryResult",
    "StyleContentResult",
    "channel_carriers",
    "edge_mass",
    "evidence_case",
    "filler_for",
    "gram_entry_attribution",
    "style_content_maps",
]

Progress = Callable[[str], None]

#: the sign of every style/content evidence map, region share and report caption, in one sentence
SIGN_CONVENTION = (
    "Evidence is minus the attribution of the loss divided by |loss at the baseline - loss at the image|: "
    "positive where a pixel brings the image closer to the target (the painting's style, the photo's "
    "content) than the baseline is, negative where it pushes the image away, whichever of the two is "
    "closer (a map sums to +1 when the image is closer, to -1 when the baseline is)."
)


def evidence_case(image_loss: float | None, baseline_loss: float | None) -> str | None:
    """Which of the image and the baseline is closer to the target: ``"image closer"`` (the evidence
    map sums to +1), ``"baseline closer"`` (it sums to -1), ``"equal"``, or None without a baseline."""
    if image_loss is None or baseline_loss is None:
        return None
    if image_loss < baseline_loss:
        return "image closer"
    return "baseline closer" if image_loss > baseline_loss else "equal"


def _check_pair(stylized: torch.Tensor, content: torch.Tensor) -> None:
    for name, img in (("stylized", stylized), ("content", content)):
        check_rgb(img, name=name, single=True)
    if stylized.shape != content.shape:
        raise ValueError(
            f"stylized {tuple(stylized.shape)} and content {tuple(content.shape)} must have the same size; "
            "resize the stylised image to the content image's size."
        )


def _sobel(image: torch.Tensor) -> np.ndarray:
    from skimage.filters import sobel

    gray = image[0].mean(0).detach().double().numpy()
    return sobel(gray)


def edge_mass(evidence: torch.Tensor, image: torch.Tensor, *, bins: int = 4) -> dict[str, Any]:
    """Share of |evidence| on each Sobel-magnitude quantile bin of ``image``, flat to edges.

    Args:
        evidence: (H, W) map.
        image: (1, 3, H, W) in [0, 1]; edges are the Sobel magnitude of its grey level.
        bins: quantile bins (4 = quartiles).
    Returns ``{"shares": [flat ... edges] (sum 1), "edge_to_flat": top-bin share / bottom-bin share}``;
    equal shares (1/bins each) mean the map ignores edges.
    """
    magnitude = _sobel(image).ravel()
    mass = evidence.detach().abs().double().numpy().ravel()
    ranks = np.argsort(np.argsort(magnitude, kind="stable"), kind="stable")
    which = np.minimum(ranks * bins // len(ranks), bins - 1)
    shares = np.bincount(which, weights=mass, minlength=bins)
    shares = shares / max(shares.sum(), 1e-300)
    return {"shares": shares.tolist(), "edge_to_flat": float(shares[-1] / max(shares[0], 1e-12))}


@dataclass(frozen=True, eq=False)
class StyleContentResult(Plottable):
    """Answer 1: pixel attributions of the style and content losses of a stylised image.

    Every map follows :data:`SIGN_CONVENTION`: positive where a pixel brings the image closer to
    the target than the baseline is, whichever of the two is closer.

    Attributes:
        image: (1, 3, H, W) the stylised image in [0, 1]; ``content`` the content photo.
        style_evidence: layer -> (H, W) style evidence, summing to +1 (image closer to the painting's
            style than the baseline) or -1 (baseline closer); ``"total"`` for the weighted sum
            over layers.
        content_evidence: (H, W), the same for the content loss.
        dominance: (H, W) ``style_evidence["total"] - content_evidence``: > 0 where style wins.
        edges: map name -> :func:`edge_mass` summary.
        losses: style (per layer and total) and content loss at the image and at the baseline.
        attribution_totals: map name -> the sum of its attributions (f(x) - f(b) up to the
            completeness error); the maps are divided by its absolute value.
        completeness: map name -> IG completeness error (relative).
        deletion: map name -> deletion/insertion curves; randomisation: map name -> check.
        method, options, seconds.
    """

    display: ClassVar[type[StyleContentDisplay]] = StyleContentDisplay

    image: torch.Tensor
    content: torch.Tensor
    style_evidence: dict[str, torch.Tensor]
    content_evidence: torch.Tensor
    dominance: torch.Tensor
    edges: dict[str, dict[str, Any]]
    losses: dict[str, dict[str, float]]
    completeness: dict[str, float | None]
    deletion: dict[str, DeletionInsertionResult]
    randomisation: dict[str, RandomisationResult]
    method: str
    options: dict[str, Any]
    seconds: float
    attribution_totals: dict[str, float] = field(default_factory=dict)

    @property
    def cases(self) -> dict[str, str | None]:
        """Map name -> which was closer to the target: ``"image closer"`` (the map sums to +1),
        ``"baseline closer"`` (it sums to -1; its positive pixels still pull towards the target)."""
        return {k: evidence_case(v["image"], v["baseline"]) for k, v in self.losses.items()}

    @property
    def style_share(self) -> float:
        """Fraction of pixels where the style wins (dominance > 0)."""
        return float((self.dominance > 0).double().mean())

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "options": self.options,
            "size": list(self.image.shape[-2:]),
            "losses": self.losses,
            "evidence": {
                "sign_convention": SIGN_CONVENTION,
                **{
                    name: {
                        "image_loss": loss["image"],
                        "baseline_loss": loss["baseline"],
                        "case": self.cases[name],
                        "attribution_total": self.attribution_totals.get(name),
                    }
                    for name, loss in self.losses.items()
                },
            },
            "style_wins_fraction": self.style_share,
            "edges": self.edges,
            "completeness_error": self.completeness,
            "deletion_insertion": {k: v.to_dict() for k, v in self.deletion.items()},
            "randomisation": {k: v.to_dict() for k, v in self.randomisation.items()},
            "seconds": self.seconds,
        }


def _evidence(result: AttributionResult) -> torch.Tensor:
    """(H, W) evidence under :data:`SIGN_CONVENTION`: minus the attribution over the absolute
    value of its total; sums to +1 (the input is closer to the target) or -1 (the baseline is)."""
    raw = -result.attributions[0].sum(0).double()
    total = abs(float(raw.sum()))
    return raw if total < 1e-300 else raw / total


def filler_for(
    which: str, *, image: torch.Tensor, content: torch.Tensor, style: torch.Tensor | None = None
) -> torch.Tensor:
    """The filler of the ``which`` test, (1, 3, H, W) in [0, 1]: the content photo for the style
    map (the layout without the style), the painting ``style`` resized to the image's size for the
    content map (the style without the photo's content). Use it as the attribution baseline of the
    maps the test checks. Both are farther from their target than a stylised image normally is, so
    the question is well posed; a blur of the image, the content filler before, is often *closer*
    to the photo's content than the image (docs/evidence.md)."""
    if which not in ("style", "content"):
        raise ValueError(f"which must be 'style' or 'content'; got {which!r}.")
    if which == "style":
        return content.detach().to(image.dtype)
    if style is None:
        raise ValueError("the content filler is the painting: pass style=, the style image (1, 3, H', W').")
    check_rgb(style, name="style", single=True)
    return resize_image(style.detach(), tuple(image.shape[-2:])).to(image.dtype)


def style_content_maps(
    stylized: torch.Tensor,
    *,
    content: torch.Tensor,
    style: torch.Tensor,
    model: nn.Module,
    method: str = "ig",
    style_layers: Sequence[str] = GATYS_STYLE_LAYERS,
    content_layers: Sequence[str] = GATYS_CONTENT_LAYERS,
    baselines: str | torch.Tensor = "filler",
    n_steps: int = 16,
    sanity: bool = True,
    deletion_steps: int = 12,
    seed: int = 0,
    progress: Progress | None = None,
    **attribute_options: Any,
) -> StyleContentResult:
    """Pixel attributions of the style loss (per layer, total) and the content loss of ``stylized``.

    Args:
        stylized: (1, 3, H, W) the stylised image in [0, 1].
        content: (1, 3, H, W) the content photo (same size).
        style: (1, 3, H', W') the style image.
        model: a VGG19 extractor (:func:`xstyle.load_vgg19`, truncated at or after the deepest layer).
        method: an input method of :func:`~xstyle.explain.attribution.engine.attribute` (default IG).
        baselines: ``"filler"`` (default): the style maps against the content photo and the content map
            against the painting resized to ``stylized`` (:func:`filler_for`), the baselines under
            which the region faithfulness test
            (:func:`~xstyle.explain.style.faithfulness.region_faithfulness`) checks the maps and the
            only one that puts the evidence on the planted part of a planted composite
            (docs/measurements.md); a kind of
            :func:`~xstyle.explain.attribution.engine.make_baseline` (``"black"`` asks which pixels
            matter compared with black, another question), or a tensor.
        n_steps: IG steps.
        sanity: also compute deletion/insertion curves (per map) and the randomisation check (total
            style and content maps, one attribution per VGG block each).
        progress: called with a short message before each stage.
    The total style map is the weighted sum of the per-layer maps (attribution is linear in the
    target), so it costs nothing extra and its completeness is that of the parts.

    Signs (:data:`SIGN_CONVENTION`): evidence is ``-attribution / |f(b) - f(x)|``, positive where a
    pixel brings the image closer to the target than the baseline is, whichever of the two is
    closer; ``result.cases`` and ``to_dict()["evidence"]`` say which case held for each map.
    """
    _check_pair(stylized, content)
    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    if isinstance(baselines, str) and baselines == "filler":
        base = {w: filler_for(w, image=stylized, content=content, style=style) for w in ("style", "content")}
    elif isinstance(baselines, str):
        base = dict.fromkeys(("style", "content"), make_baseline(stylized, kind=baselines, seed=seed))
    else:
        base = dict.fromkeys(("style", "content"), baselines)
    style_target = StyleLossTarget(model, style, layers=style_layers)
    content_target = ContentLossTarget(model, content, layers=content_layers)
    opts = dict(method=method, n_steps=n_steps, seed=seed, **attribute_options)
    per_layer: dict[str, AttributionResult] = {}
    for name in style_target.layers:
        say(f"style loss attribution ({name})")
        per_layer[name] = attribute(style_target.layer(name), stylized, baselines=base["style"], **opts)
    say("content loss attribution")
    content_res = attribute(content_target, stylized, baselines=base["content"], **opts)

    total_attr = torch.stack([r.attributions for r in per_layer.values()]).sum(0)
    first = next(iter(per_layer.values()))
    total_res = AttributionResult(
        attributions=total_attr,
        method=method,
        target=style_target.label,
        layer=None,
        options=first.options,
        scores=torch.stack([r.scores for r in per_layer.values()]).sum(0),
        baseline_scores=None
        if first.baseline_scores is None
        else torch.stack([r.baseline_scores for r in per_layer.values()]).sum(0),
        delta=None if first.delta is None else torch.stack([r.delta for r in per_layer.values()]).sum(0),
        seconds=sum(r.seconds for r in per_layer.values()),
    )
    style_evidence = {name: _evidence(r) for name, r in per_layer.items()}
    style_evidence["total"] = _evidence(total_res)
    content_evidence = _evidence(content_res)
    dominance = style_evidence["total"] - content_evidence

    results = {
        **{f"style:{k}": v for k, v in per_layer.items()},
        "style:total": total_res,
        "content": content_res,
    }
    edges = {f"style:{k}": edge_mass(v, content) for k, v in style_evidence.items()}
    edges["content"] = edge_mass(content_evidence, content)
    losses = {
        name: {
            "image": float(r.scores[0]),
            "baseline": None if r.baseline_scores is None else float(r.baseline_scores[0]),
        }
        for name, r in results.items()
    }
    completeness = {name: r.completeness() for name, r in results.items()}
    attribution_totals = {name: float(r.attributions[0].double().sum()) for name, r in results.items()}

    deletion: dict[str, DeletionInsertionResult] = {}
    randomisation: dict[str, RandomisationResult] = {}
    if sanity:
        for name, which, target, evidence in (
            ("style:total", "style", style_target, style_evidence["total"]),
            ("content", "content", content_target, content_evidence),
        ):
            say(f"deletion/insertion ({name})")
            # the curves follow -loss, so "towards the input" is the evidence's direction
            deletion[name] = deletion_insertion(
                -target, stylized, evidence.float(), baseline=base[which], steps=deletion_steps, seed=seed
            )
            say(f"model randomisation ({name})")
            randomisation[name] = randomisation_check(
                target,
                stylized,
                reference=results[name] if name == "content" else total_res,
                baselines=base[which],
                **opts,
            )
    return StyleContentResult(
        image=stylized.detach(),
        content=content.detach(),
        style_evidence=style_evidence,
        content_evidence=content_evidence,
        dominance=dominance,
        edges=edges,
        losses=losses,
        completeness=completeness,
        deletion=deletion,
        randomisation=randomisation,
        method=method,
        options={k: v for k, v in first.options.items()}
        | {"baselines": baselines if isinstance(baselines, str) else "tensor"},
        seconds=time.perf_counter() - start,
        attribution_totals=attribution_totals,
    )


@dataclass(frozen=True, eq=False)
class ChannelCarriersResult(Plottable):
    """Answer 2: which channels carry style and which carry content, per tapped layer.

    Attributes:
        style_scores, content_scores: layer -> (C,) signed channel attributions of the style and
            content losses (spatial sums; negative = the channel lowers the loss vs the baseline).
        score: layer -> (C,) style-vs-content score in [-1, 1]: ``(s - c) / (s + c)`` of the channels'
            shares s = |style|/sum|style|, c = |content|/sum|content| (1 = pure style carrier).
        table: rows sorted by the larger share: dicts with layer, channel, style_share,
            content_share and score.
    """

    display: ClassVar[type[ChannelCarriersDisplay]] = ChannelCarriersDisplay

    style_scores: dict[str, torch.Tensor]
    content_scores: dict[str, torch.Tensor]
    score: dict[str, torch.Tensor]
    table: list[dict[str, Any]]
    method: str
    seconds: float
    options: dict[str, Any] = field(default_factory=dict)

    def top(self, n: int = 10, *, kind: str = "style") -> list[dict[str, Any]]:
        """The ``n`` strongest style (or content) carriers over all layers."""
        if kind not in ("style", "content"):
            raise ValueError(f"kind must be 'style' or 'content'; got {kind!r}.")
        key = f"{kind}_share"
        sign = 1 if kind == "style" else -1
        rows = [r for r in self.table if sign * r["score"] > 0]
        return sorted(rows, key=lambda r: -r[key])[:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "options": self.options,
            "seconds": self.seconds,
            "layers": list(self.score),
            "top_style": self.top(10, kind="style"),
            "top_content": self.top(10, kind="content"),
            "mean_score": {k: float(v.mean()) for k, v in self.score.items()},
        }


def _shares(x: torch.Tensor) -> torch.Tensor:
    a = x.abs().double()
    return a / a.sum() if float(a.sum()) > 0 else a


def channel_carriers(
    stylized: torch.Tensor,
    *,
    content: torch.Tensor,
    style: torch.Tensor,
    model: nn.Module,
    layers: Sequence[str] | None = None,
    method: str = "layer_ig",
    style_layers: Sequence[str] = GATYS_STYLE_LAYERS,
    content_layers: Sequence[str] = GATYS_CONTENT_LAYERS,
    baselines: str | torch.Tensor = "black",
    n_steps: int = 16,
    seed: int = 0,
    progress: Progress | None = None,
    **attribute_options: Any,
) -> ChannelCarriersResult:
    """Per-channel attribution of the style and the content loss at each layer (default: all tapped).

    A layer after the deepest content layer cannot influence the content loss; its content scores
    are zero by construction (no attribution is run).

    Args:
        stylized: the image to explain, (1, 3, H, W) RGB in [0, 1].
        content, style: the pair it was made from, (1, 3, H, W) RGB in [0, 1] (style may differ
            in size: only its Gram matrices are used).
        model: a VGG19 feature extractor reaching the deepest loss layer.
        layers: layers whose channels are scored (default: every style and content layer).
        method: a layer attribution method of :func:`~xstyle.explain.attribute` (``"layer_ig"``...).

    Returns:
        A :class:`ChannelCarriersResult`: per layer, (C,) style and content scores and a (C,)
        style-vs-content score in [-1, 1].
    """
    _check_pair(stylized, content)
    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    style_target = StyleLossTarget(model, style, layers=style_layers)
    content_target = ContentLossTarget(model, content, layers=content_layers)
    layers = (
        list(layers)
        if layers is not None
        else sorted(set(style_target.layers) | set(content_target.layers), key=model_layers(model).index)
    )
    base = make_baseline(stylized, kind=baselines, seed=seed) if isinstance(baselines, str) else baselines
    opts = dict(method=method, baselines=base, n_steps=n_steps, seed=seed, **attribute_options)
    if method == "layer_gradcam":
        opts.pop("baselines")
        opts.pop("n_steps")
    order = {name: i for i, name in enumerate(model_layers(model))}

    def reaches(target_layers: Sequence[str], layer: str) -> bool:
        return order.get(layer, -1) <= max(order.get(t, -1) for t in target_layers)

    style_scores, content_scores, score, table = {}, {}, {}, []
    for layer in layers:
        say(f"channel attribution ({layer})")
        s = (
            attribute(style_target, stylized, layer=layer, **opts).channel_scores()[0]
            if reaches(style_target.layers, layer)
            else None
        )
        c = (
            attribute(content_target, stylized, layer=layer, **opts).channel_scores()[0]
            if reaches(content_target.layers, layer)
            else None
        )
        channels = (s if s is not None else c).shape[0]
        s = s if s is not None else torch.zeros(channels)
        c = c if c is not None else torch.zeros(channels)
        ss, cs = _shares(s), _shares(c)
        sc = (ss - cs) / (ss + cs).clamp_min(1e-300)
        style_scores[layer], content_scores[layer], score[layer] = s, c, sc.float()
        for ch in range(channels):
            table.append(
                {
                    "layer": layer,
                    "channel": ch,
                    "style_share": float(ss[ch]),
                    "content_share": float(cs[ch]),
                    "score": float(sc[ch]),
                }
            )
    table.sort(key=lambda r: -max(r["style_share"], r["content_share"]))
    return ChannelCarriersResult(
        style_scores=style_scores,
        content_scores=content_scores,
        score=score,
        table=table,
        method=method,
        seconds=time.perf_counter() - start,
        options={"n_steps": n_steps, "baselines": baselines if isinstance(baselines, str) else "tensor"},
    )


@dataclass(frozen=True, eq=False)
class GramEntryResult(Plottable):
    """Answer 3: the channel pairs whose Gram entries carry the most style loss, with pixel maps.

    Attributes:
        contributions: layer -> (C, C) each pair's part of the weighted style loss w_l E_l (upper
            triangle incl. diagonal; sums to the layer's part of the loss).
        top_pairs: layer -> list of dicts (i, j, contribution, share of the layer's loss).
        maps: (layer, i, j) -> (H, W) pixel attribution of the pair's loss share (signed; negative =
            the pixel brings G_ij closer to the style's A_ij than the baseline does).
        coactivation: (layer, i, j) -> (h, w) the exact decomposition of G_ij over feature positions,
            F_i * F_j (the entry is its sum).
    """

    display: ClassVar[type[GramEntryDisplay]] = GramEntryDisplay

    contributions: dict[str, torch.Tensor]
    top_pairs: dict[str, list[dict[str, Any]]]
    maps: dict[tuple[str, int, int], torch.Tensor]
    coactivation: dict[tuple[str, int, int], torch.Tensor]
    image: torch.Tensor
    method: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "seconds": self.seconds,
            "layer_loss": {k: float(v.sum()) for k, v in self.contributions.items()},
            "top_pairs": self.top_pairs,
            "top1_share": {k: v[0]["share"] for k, v in self.top_pairs.items() if v},
        }


def gram_entry_attribution(
    stylized: torch.Tensor,
    *,
    style: torch.Tensor,
    model: nn.Module,
    layers: Sequence[str] = GATYS_STYLE_LAYERS,
    top_k: int = 3,
    method: str = "ig",
    baselines: str | torch.Tensor = "black",
    n_steps: int = 8,
    seed: int = 0,
    progress: Progress | None = None,
    **attribute_options: Any,
) -> GramEntryResult:
    """Rank channel pairs by their part of the style loss and attribute the top ``top_k`` to pixels.

    The ranking is exact (the style loss is a sum over Gram entries); the maps use ``method``.

    Args:
        stylized: the image to explain, (1, 3, H, W) RGB in [0, 1].
        style: the style image, (1, 3, H', W') RGB in [0, 1] (only its Gram matrices are used).
        model: a VGG19 feature extractor reaching the deepest of ``layers``.
        top_k: channel pairs per layer to map (>= 1).

    Returns:
        A :class:`GramEntryResult`: per layer a (C, C) contribution matrix, and for each top pair
        an (H, W) signed pixel map and the (h, w) co-activation map F_i * F_j.
    """
    if not isinstance(stylized, torch.Tensor) or stylized.ndim != 4 or stylized.shape[0] != 1:
        raise ValueError("stylized must be one RGB image of shape (1, 3, H, W) in [0, 1].")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise ValueError(f"top_k must be a non-negative integer; got {top_k!r}.")
    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    style_target = StyleLossTarget(model, style, layers=layers)
    with torch.no_grad(), FeatureTap(model, style_target.layers, stop_after_last=True) as tap:
        feats = tap.run(stylized)
    base = make_baseline(stylized, kind=baselines, seed=seed) if isinstance(baselines, str) else baselines
    contributions, top_pairs, maps, coact = {}, {}, {}, {}
    for layer in style_target.layers:
        f = feats[layer]
        _, c, h, w = f.shape
        g = gram_matrix(f)[0]
        diff2 = (g - style_target.grams[layer][0]).pow(2) / (4.0 * c * c * (h * w) ** 2)
        upper = torch.triu(2 * diff2, diagonal=1) + torch.diag(torch.diagonal(diff2))
        contrib = style_target.weights[layer] * upper
        contributions[layer] = contrib
        total = float(contrib.sum())
        values, idx = torch.topk(contrib.flatten(), k=min(top_k, c * (c + 1) // 2))
        rows = []
        for v, flat in zip(values.tolist(), idx.tolist(), strict=True):
            i, j = divmod(flat, c)
            rows.append({"i": i, "j": j, "contribution": v, "share": v / total if total > 0 else 0.0})
            say(f"Gram entry attribution ({layer}[{i},{j}])")
            res = attribute(
                GramEntryTarget(model, layer, i, j, style=style),
                stylized,
                method=method,
                baselines=base,
                n_steps=n_steps,
                seed=seed,
                **attribute_options,
            )
            maps[(layer, i, j)] = res.attributions[0].sum(0)
            coact[(layer, i, j)] = (f[0, i] * f[0, j]).detach()
        top_pairs[layer] = rows
    return GramEntryResult(
        contributions=contributions,
        top_pairs=top_pairs,
        maps=maps,
        coactivation=coact,
        image=stylized.detach(),
        method=method,
        seconds=time.perf_counter() - start,
    )
