"""Re-exports of the ``*Display`` classes, which now live beside their results.

Kept so ``from xstyle.report.displays import X`` keeps working; new code imports from the sibling
plots modules (:mod:`xstyle.transfer_plots`, :mod:`xstyle.gan.plots`, :mod:`xstyle.stylizer.plots`,
:mod:`xstyle.explain.plots_style`, :mod:`xstyle.explain.plots_latent`). The Display protocol is
documented in :mod:`xstyle._plotting`.
"""

from xstyle.explain.plots_latent import (
    DirectionSimilarityDisplay,
    PriorComponentsDisplay,
    ProbeDynamicsDisplay,
    ProbeTableDisplay,
    TraversalDisplay,
)
from xstyle.explain.plots_style import (
    AblationCurveDisplay,
    FingerprintDisplay,
    GramComparisonDisplay,
    GramSpectrumDisplay,
    LowRankDisplay,
    StatisticsAgreementDisplay,
    TradeoffDisplay,
)
from xstyle.gan.plots import GANTrainingDisplay
from xstyle.stylizer.plots import (
    BlockAblationDisplay,
    DiscriminatorPatchDisplay,
    StylizerAttributionDisplay,
    StylizerComparisonDisplay,
    StylizerTrainingDisplay,
)
from xstyle.transfer_plots import TransferLossDisplay

__all__ = [
    "AblationCurveDisplay",
    "BlockAblationDisplay",
    "DirectionSimilarityDisplay",
    "DiscriminatorPatchDisplay",
    "FingerprintDisplay",
    "GANTrainingDisplay",
    "GramComparisonDisplay",
    "GramSpectrumDisplay",
    "LowRankDisplay",
    "PriorComponentsDisplay",
    "ProbeDynamicsDisplay",
    "ProbeTableDisplay",
    "StatisticsAgreementDisplay",
    "StylizerAttributionDisplay",
    "StylizerComparisonDisplay",
    "StylizerTrainingDisplay",
    "TradeoffDisplay",
    "TransferLossDisplay",
    "TraversalDisplay",
]
