"""Re-exports of the attribution ``*Display`` classes, which now live in
:mod:`xstyle.explain.plots_attribution` (and :mod:`xstyle.explain.plots_latent` for
``LatentClassDisplay``). Kept so ``from xstyle.report.attribution_displays import X`` keeps working.
"""

from xstyle.explain.plots_attribution import (
    AttributionDisplay,
    ChannelCarriersDisplay,
    DeletionInsertionDisplay,
    DiscriminatorMapsDisplay,
    GramEntryDisplay,
    RandomisationDisplay,
    StyleContentDisplay,
)
from xstyle.explain.plots_latent import LatentClassDisplay

__all__ = [
    "AttributionDisplay",
    "ChannelCarriersDisplay",
    "DeletionInsertionDisplay",
    "DiscriminatorMapsDisplay",
    "GramEntryDisplay",
    "LatentClassDisplay",
    "RandomisationDisplay",
    "StyleContentDisplay",
]
