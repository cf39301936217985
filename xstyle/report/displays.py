"""Re-exports of the ``*Display`` classes, which now live beside their results.

Kept so ``from xstyle.report.displays import X`` keeps working; new code imports from the sibling
plots modules (:mod:`xstyle.transfer_plots`, :mod:`xstyle.gan.plots`, :mod:`xstyle.stylizer.plots`,
:mod:`xstyle.explain.style.plots`, :mod:`xstyle.explain.gan.plots`). The Display protocol is
documented in :mod:`xstyle._plotting`.
"""

from xstyle.explain.gan.plots import (
    DirectionSimilarityDisplay,
    PriorComponentsDisplay,
    ProbeDynamicsDisplay,
    ProbeTableDisplay,
    TraversalDisplay,
)
from xstyle.explain.style.plots import (
    AblationCurveDisplay,
    FingerprintDisplay,
    GramComparisonDisplay,
    GramSpectrumDisplay,
    LowRankDisplay,
    StatisticsAgreementDisplay,
    TradeoffDisplay,
)
from xstyle.explain.style.stylizer_plots import (
    BlockAblationDisplay,
    DiscriminatorPatchDisplay,
    StylizerAttributionDisplay,
    StylizerComparisonDisplay,
)
from xstyle.gan.plots import GANTrainingDisplay
from xstyle.stylizer.plots import StylizerTrainingDisplay
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
