"""Attribution: which inputs carry an objective.

* :mod:`.targets` — the style-transfer and GAN objectives as small Captum targets;
* :mod:`.engine` — :func:`attribute`, one call over Captum's methods, with the method registry;
* :mod:`.sanity` — are the explanations true? deletion/insertion and model randomisation;
* :mod:`.plots` — their Displays.
"""

from xstyle.explain.attribution.engine import (
    INPUT_METHODS,
    LAYER_METHODS,
    METHOD_SPECS,
    METHODS,
    AttributionResult,
    MethodSpec,
    attribute,
    input_methods,
    layer_methods,
    make_baseline,
    register_method,
)
from xstyle.explain.attribution.sanity import (
    DeletionInsertionResult,
    RandomisationResult,
    deletion_insertion,
    randomisation_check,
)
from xstyle.explain.attribution.targets import (
    GATYS_CONTENT_LAYERS,
    GATYS_STYLE_LAYERS,
    ChannelTarget,
    ClassTarget,
    ContentLossTarget,
    DiscriminatorTarget,
    GramEntryTarget,
    ModelTarget,
    ScaledTarget,
    StyleLossTarget,
    SumTarget,
    Target,
)

__all__ = [
    "GATYS_CONTENT_LAYERS",
    "GATYS_STYLE_LAYERS",
    "INPUT_METHODS",
    "LAYER_METHODS",
    "METHODS",
    "METHOD_SPECS",
    "AttributionResult",
    "ChannelTarget",
    "ClassTarget",
    "ContentLossTarget",
    "DeletionInsertionResult",
    "DiscriminatorTarget",
    "GramEntryTarget",
    "MethodSpec",
    "ModelTarget",
    "RandomisationResult",
    "ScaledTarget",
    "StyleLossTarget",
    "SumTarget",
    "Target",
    "attribute",
    "deletion_insertion",
    "input_methods",
    "layer_methods",
    "make_baseline",
    "randomisation_check",
    "register_method",
]
