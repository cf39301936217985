"""Style: what a style is inside the network.

* :mod:`.maps` — where style and content live: pixel maps, carrier channels, Gram entries;
* :mod:`.regions` — the pixel maps summed over superpixels or a grid (region-level evidence);
* :mod:`.faithfulness` — insertion of regions into a filler, in evidence order against random orders;
* :mod:`.summary` — the answer in one place: regions, layers, channels, Gram components, checks;
* :mod:`.gram`, :mod:`.lowrank`, :mod:`.fingerprint` — Gram spectra, low-rank styles, style statistics;
* :mod:`.ablation` — causal channel ablation; :mod:`.tradeoff` — choosing alpha and beta;
* :mod:`.featurevis` — see the carriers: what a channel, or one Gram eigencomponent, looks like;
* :mod:`.stylizer` — the feed-forward stylizer explained (pixel maps, patches, block ablation);
* :mod:`.plots`, :mod:`.stylizer_plots`, :mod:`.featurevis_plots` — their Displays.
"""

from xstyle.explain.style.ablation import (
    ABLATION_MODES,
    AblationResult,
    ChannelAblation,
    ablate_channels,
    ablation_curves,
    channel_scores,
)
from xstyle.explain.style.faithfulness import (
    RegionExplanation,
    RegionFaithfulnessResult,
    explain_regions,
    filler_for,
    region_faithfulness,
)
from xstyle.explain.style.featurevis import (
    ChannelVisualization,
    GramComponentVisualization,
    visualize_channels,
    visualize_gram_components,
)
from xstyle.explain.style.featurevis_plots import ChannelVisualizationDisplay, GramComponentDisplay
from xstyle.explain.style.fingerprint import (
    STYLE_STATISTICS,
    FingerprintResult,
    mmd_squared,
    style_distances,
    style_fingerprints,
)
from xstyle.explain.style.gram import (
    GramComparison,
    GramDecomposition,
    LayerComparison,
    LayerSpectrum,
    compare_feature_grams,
    compare_grams,
    decompose_features,
    decompose_gram,
    layer_spectrum,
    truncate_gram,
)
from xstyle.explain.style.lowrank import (
    LowRankResult,
    lowrank_style_sweep,
)
from xstyle.explain.style.maps import (
    ChannelCarriersResult,
    GramEntryResult,
    StyleContentResult,
    channel_carriers,
    edge_mass,
    gram_entry_attribution,
    style_content_maps,
)
from xstyle.explain.style.networks import NetworkComparison, compare_networks
from xstyle.explain.style.networks_plots import NetworkComparisonDisplay
from xstyle.explain.style.regions import REGION_METHODS, RegionEvidenceResult, region_evidence, segment
from xstyle.explain.style.stylizer import (
    BlockAblationResult,
    DiscriminatorPatchResult,
    PatchDiscriminatorTarget,
    StylizedLossTarget,
    StylizerAttributionResult,
    StylizerEvaluation,
    StylizerExplanation,
    ablate_blocks,
    discriminator_patch_maps,
    evaluate_stylizer,
    explain_stylizer,
    image_losses,
    stylizer_pixel_maps,
)
from xstyle.explain.style.summary import StyleSummary, summarise_style
from xstyle.explain.style.tradeoff import (
    AUTO_GRID,
    TradeoffResult,
    balance_ratio,
    find_knee,
    tradeoff_sweep,
)

__all__ = [
    "ABLATION_MODES",
    "AUTO_GRID",
    "REGION_METHODS",
    "STYLE_STATISTICS",
    "AblationResult",
    "BlockAblationResult",
    "ChannelAblation",
    "ChannelCarriersResult",
    "ChannelVisualization",
    "ChannelVisualizationDisplay",
    "DiscriminatorPatchResult",
    "FingerprintResult",
    "GramComparison",
    "GramComponentDisplay",
    "GramComponentVisualization",
    "GramDecomposition",
    "GramEntryResult",
    "LayerComparison",
    "LayerSpectrum",
    "LowRankResult",
    "NetworkComparison",
    "NetworkComparisonDisplay",
    "PatchDiscriminatorTarget",
    "RegionEvidenceResult",
    "RegionExplanation",
    "RegionFaithfulnessResult",
    "StyleContentResult",
    "StyleSummary",
    "StylizedLossTarget",
    "StylizerAttributionResult",
    "StylizerEvaluation",
    "StylizerExplanation",
    "TradeoffResult",
    "ablate_blocks",
    "ablate_channels",
    "ablation_curves",
    "balance_ratio",
    "channel_carriers",
    "channel_scores",
    "compare_feature_grams",
    "compare_grams",
    "compare_networks",
    "decompose_features",
    "decompose_gram",
    "discriminator_patch_maps",
    "edge_mass",
    "evaluate_stylizer",
    "explain_regions",
    "explain_stylizer",
    "filler_for",
    "find_knee",
    "gram_entry_attribution",
    "image_losses",
    "layer_spectrum",
    "lowrank_style_sweep",
    "mmd_squared",
    "region_evidence",
    "region_faithfulness",
    "segment",
    "style_content_maps",
    "style_distances",
    "style_fingerprints",
    "stylizer_pixel_maps",
    "summarise_style",
    "tradeoff_sweep",
    "truncate_gram",
    "visualize_channels",
    "visualize_gram_components",
]
