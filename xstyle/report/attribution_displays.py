"""Re-exports of the attribution ``*Display`` classes, which now live beside their
results in :mod:`xstyle.explain.attribution.plots`, :mod:`xstyle.explain.style.plots` and
:mod:`xstyle.explain.gan.plots`. Kept so ``from xstyle.report.attribution_displays import X``
keeps working.
"""

from xstyle.explain.attribution.plots import (
    AttributionDisplay,
    DeletionInsertionDisplay,
    RandomisationDisplay,
)
from xstyle.explain.gan.plots import DiscriminatorMapsDisplay, LatentClassDisplay
from xstyle.explain.style.plots import ChannelCarriersDisplay, GramEntryDisplay, StyleContentDisplay

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
