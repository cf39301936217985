"""The style report's network section: which feature network the report ran on, and how its
activations behave per depth on this style image.

On the default network (VGG19 with the caffe weights, Gatys et al.'s) the section is a card (the
spec, licence, citation and layers) and costs nothing: its statistics are the reference that
``xstyle explain networks`` compares other networks with, and the default report keeps its stages
and figures. On any other network the report also measures the per-depth activation statistics of
Wang et al. (2021) on the style image with :func:`xstyle.explain.style.networks.activation_statistics`
(the numbers ``compare_networks`` gives for the same network and image) and draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xstyle._json import field_dict
from xstyle.report._common import _Page
from xstyle.report.captions import text
from xstyle.report.writer import Table

if TYPE_CHECKING:
    from xstyle.report.style import StyleReportConfig
    from xstyle.report.style_stages import StyleRun

__all__ = ["NetworkCard", "measures_network", "network_card", "network_section"]


@dataclass(frozen=True)
class NetworkCard:
    """The feature network of a style report.

    Attributes:
        name: its spec (``"efficientnet-lite0"``, ``"pkg.module:callable"``); family, description,
            license, citation: from its :class:`~xstyle.models.registry.NetworkSpec`.
        content_layers, style_layers: the layers the transfer used (style layers shallow to deep).
        statistics: style layer -> statistic (:data:`~xstyle.explain.style.networks.STATISTICS`)
            -> value on the style image; None on the default network (not measured).
    """

    name: str
    family: str
    description: str
    license: str
    citation: str
    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    statistics: dict[str, dict[str, float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field."""
        return field_dict(self)


def measures_network(c: StyleReportConfig) -> bool:
    """Whether the report measures its network (anything but the default VGG19 with caffe weights)."""
    from xstyle.models.registry import DEFAULT_NETWORK

    return c._transfer_config().network_name != DEFAULT_NETWORK


def network_card(config: Any, *, model: Any = None, style: Any = None) -> NetworkCard:
    """The card of ``config``'s network (a :class:`~xstyle.transfer.TransferConfig`); with ``model``
    (that network, built) and ``style`` (1, 3, H, W) in [0, 1], its style layers' statistics too."""
    from xstyle.models.registry import get_network_spec

    spec = get_network_spec(config.network_name)
    statistics = None
    if model is not None:
        statistics = _style_layer_statistics(model, style, config.style_layers)
    return NetworkCard(
        name=config.network_name,
        family=spec.family,
        description=spec.description,
        license=spec.license,
        citation=spec.citation,
        content_layers=tuple(config.content_layers),
        style_layers=tuple(config.style_layers),
        statistics=statistics,
    )


def _style_layer_statistics(model: Any, style: Any, layers: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """:func:`~xstyle.explain.style.networks.activation_statistics` of ``layers`` on ``style``, tapped
    as ``compare_networks`` taps them (no gradients, the model's flags restored, stopped after the
    deepest layer)."""
    import torch

    from xstyle.explain.style.networks import activation_statistics
    from xstyle.hooks import FeatureTap, frozen

    with torch.no_grad(), frozen(model), FeatureTap(model, list(layers), stop_after_last=True) as tap:
        features = tap.run(style)
    return activation_statistics(features)


def _card_text(card: NetworkCard) -> str:
    """The section's opening paragraph: the network, its provenance and the layers used."""
    what = f" ({card.description})" if card.description else ""
    return (
        f"The transfer and every analysis ran on the feature network {card.name}{what}, family "
        f"{card.family}. Licence: {card.license}. Citation: {card.citation}. Content layers: "
        f"{', '.join(card.content_layers) or 'none'}; style layers, shallow to deep: "
        f"{', '.join(card.style_layers)}."
    )


def network_section(page: _Page, run: StyleRun) -> None:
    """Section "The feature network": its card; on a network other than the default, its per-depth
    activation statistics on the style image (a figure and a table)."""
    card = run.network
    s = page.report.section("The feature network", _card_text(card))
    if card.statistics is None:
        s.text(
            "This is the default network, Gatys et al.'s VGG19: its per-depth activation statistics "
            "are the reference other networks are compared with (`xstyle explain networks`), so the "
            "report does not measure them again; on another network (`--network`) this section shows "
            "them for the style image."
        )
        return
    save, r = page.save, _reading(card.statistics)
    s.figure(
        save(
            _statistics_figure(card),
            "network_statistics",
            "style.network_statistics",
            network=card.name,
            peak_layer=r.peaky,
            peak=r.peak,
            fold=r.fold,
            flat=r.flat,
            low=r.low,
            entropy=r.entropy,
            narrow=r.narrow,
            narrow_share=r.narrow_share,
            wide=r.wide,
            wide_share=r.wide_share,
        )
    )
    s.table(
        Table(
            columns=(
                "style layer",
                "max / mean",
                "activation entropy",
                "Gram entropy",
                "participation ratio",
            ),
            rows=tuple(
                (
                    layer,
                    v["max_over_mean"],
                    v["activation_entropy"],
                    v["gram_entropy"],
                    v["participation_ratio"],
                )
                for layer, v in card.statistics.items()
            ),
            **text("style.table_network_statistics"),
        )
    )


def _statistics_figure(card: NetworkCard) -> Any:
    """The statistics drawn by the network comparison's display (one network, its style layers)."""
    from types import SimpleNamespace

    from xstyle.explain.style.networks_plots import NetworkComparisonDisplay

    one = SimpleNamespace(
        networks=(card.name,),
        layers={card.name: (card.content_layers, card.style_layers)},
        statistics={card.name: card.statistics},
        feature_transform=None,
        feature_temperature=1.0,
    )
    return NetworkComparisonDisplay.from_result(one).plot(kind="statistics")


@dataclass(frozen=True)
class _Reading:
    """What the statistics figure says, for its caption: the peakiest style layer (largest
    max/mean, ``fold`` times the flattest's), the lowest activation entropy, and the layers whose
    Gram energy spreads over the fewest and the most channels (participation ratio, % of C)."""

    peaky: str
    peak: float
    fold: float
    flat: str
    low: str
    entropy: float
    narrow: str
    narrow_share: float
    wide: str
    wide_share: float


def _reading(stats: dict[str, dict[str, float]]) -> _Reading:
    def by(key: str) -> list[str]:
        return sorted(stats, key=lambda layer: stats[layer][key])

    mom, entropy, share = by("max_over_mean"), by("activation_entropy"), by("participation_ratio")
    return _Reading(
        peaky=mom[-1],
        peak=stats[mom[-1]]["max_over_mean"],
        fold=stats[mom[-1]]["max_over_mean"] / max(stats[mom[0]]["max_over_mean"], 1e-30),
        flat=mom[0],
        low=entropy[0],
        entropy=stats[entropy[0]]["activation_entropy"],
        narrow=share[0],
        narrow_share=100 * stats[share[0]]["participation_ratio"],
        wide=share[-1],
        wide_share=100 * stats[share[-1]]["participation_ratio"],
    )
