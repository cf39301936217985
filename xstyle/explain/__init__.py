"""Explainers: attribution (Captum), Gram decompositions, ablation and latent-space probes.

Each analysis returns a frozen ``*Result`` dataclass with ``to_dict()`` (JSON-able numbers) and
``plot()`` (a matplotlib Display from :mod:`xstyle.report`); nothing here draws at import time.

* targets / attribute: turn the style-transfer and GAN objectives into Captum targets;
* style_content_maps, channel_carriers, gram_entry_attribution: where style and content live;
* discriminator_maps, latent_class_attribution: attribution for the GAN;
* deletion_insertion, randomisation_check: are the explanations true?
* decompose_gram, compare_grams, lowrank_style_sweep, style_fingerprints: what a style is;
* ablate_channels, ablation_curves: causal tests; tradeoff_sweep: choosing alpha and beta;
* sample_latents, probe_layers, fit_probe, *_directions, traverse, probe_dynamics: latent probes;
* prior_components: which digit each component of a mixture latent prior became.
"""

from xstyle.explain.ablation import AblationResult, ChannelAblation, ablate_channels, ablation_curves
from xstyle.explain.attribution import METHODS, AttributionResult, attribute, make_baseline
from xstyle.explain.directions import (
    Direction,
    DirectionComparison,
    compare_directions,
    conditional_direction,
    ganspace_directions,
    interfacegan_directions,
    sefa_directions,
)
from xstyle.explain.dynamics import ProbeDynamicsResult, find_checkpoints, probe_dynamics
from xstyle.explain.fingerprint import FingerprintResult, mmd_squared, style_distances, style_fingerprints
from xstyle.explain.gan_attribution import (
    DiscriminatorMapsResult,
    LatentClassResult,
    discriminator_maps,
    latent_class_attribution,
)
from xstyle.explain.gram import GramComparison, GramDecomposition, compare_grams, decompose_gram
from xstyle.explain.latent import (
    ATTRIBUTES,
    LatentResult,
    ProbeResult,
    ProbeTableResult,
    explain_latent,
    find_directions,
    fit_probe,
    measure_digits,
    probe_layers,
    sample_latents,
)
from xstyle.explain.latent_prior import PriorComponentsResult, prior_components
from xstyle.explain.lowrank import LowRankResult, lowrank_style_sweep
from xstyle.explain.sanity import (
    DeletionInsertionResult,
    RandomisationResult,
    deletion_insertion,
    randomisation_check,
)
from xstyle.explain.style_attribution import (
    ChannelCarriersResult,
    GramEntryResult,
    StyleContentResult,
    channel_carriers,
    gram_entry_attribution,
    style_content_maps,
)
from xstyle.explain.targets import (
    ChannelTarget,
    ClassTarget,
    ContentLossTarget,
    DiscriminatorTarget,
    GramEntryTarget,
    StyleLossTarget,
    Target,
)
from xstyle.explain.tradeoff import TradeoffResult, tradeoff_sweep
from xstyle.explain.traversal import TraversalResult, traverse

__all__ = [
    "ATTRIBUTES",
    "METHODS",
    "AblationResult",
    "AttributionResult",
    "ChannelAblation",
    "ChannelCarriersResult",
    "ChannelTarget",
    "ClassTarget",
    "ContentLossTarget",
    "DeletionInsertionResult",
    "Direction",
    "DirectionComparison",
    "DiscriminatorMapsResult",
    "DiscriminatorTarget",
    "FingerprintResult",
    "GramComparison",
    "GramDecomposition",
    "GramEntryResult",
    "GramEntryTarget",
    "LatentClassResult",
    "LatentResult",
    "LowRankResult",
    "PriorComponentsResult",
    "ProbeDynamicsResult",
    "ProbeResult",
    "ProbeTableResult",
    "RandomisationResult",
    "StyleContentResult",
    "StyleLossTarget",
    "Target",
    "TradeoffResult",
    "TraversalResult",
    "ablate_channels",
    "ablation_curves",
    "attribute",
    "channel_carriers",
    "compare_directions",
    "compare_grams",
    "conditional_direction",
    "decompose_gram",
    "deletion_insertion",
    "discriminator_maps",
    "explain_latent",
    "find_checkpoints",
    "find_directions",
    "fit_probe",
    "ganspace_directions",
    "gram_entry_attribution",
    "interfacegan_directions",
    "latent_class_attribution",
    "lowrank_style_sweep",
    "make_baseline",
    "measure_digits",
    "mmd_squared",
    "prior_components",
    "probe_dynamics",
    "probe_layers",
    "randomisation_check",
    "sample_latents",
    "sefa_directions",
    "style_content_maps",
    "style_distances",
    "style_fingerprints",
    "tradeoff_sweep",
    "traverse",
]
